// Options more than one verb takes: the encoder, the model, the message cache.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/encoder.h"

namespace logclf::cli {

// The E5 options of a command line before its flags: the precision defaults to auto.
inline EncoderOptions cli_encoder_options() {
  EncoderOptions options;
  options.precision = Precision::auto_;
  return options;
}

// --precision of the E5 encoder's Linear layers.
inline CLI::Option* add_precision_option(CLI::App* app, Precision& precision) {
  return app
      ->add_option_function<std::string>(
          "--precision", [&precision](const std::string& value) { precision = *parse_precision(value); },
          "arithmetic of the E5 encoder's Linear layers: fp32, int8 (weights quantized at load time) or auto "
          "(int8 where the CPU has AVX2 or AVX-512 VNNI, else fp32); default: " +
              std::string(to_string(precision)))
      ->check(CLI::IsMember({"fp32", "int8", "auto"}));
}

// --encoder, --encoder-dir and --threads: which encoder and where the E5 weights are.
struct EncoderArgs {
  EncoderOptions options = cli_encoder_options();
  void add_to(CLI::App* app, bool training) {
    app->add_option("--encoder", options.kind,
                    training ? "encoder: lexical (default, trained with the head) or e5-small-v2 (pretrained)"
                             : "require the model's encoder to be this one (lexical or e5-small-v2)")
        ->check(CLI::IsMember({std::string(kLexicalEncoder), std::string(kE5Encoder)}));
    app->add_option("--encoder-dir", options.dir,
                    "directory of the E5 weights (config.json, model.safetensors, vocab.txt); default: "
                    "$LOGCLF_E5_DIR, then the Hugging Face cache");
    app->add_option("--threads", options.threads, "threads of the E5 encoder (default: all cores)")
        ->check(CLI::NonNegativeNumber);
    add_precision_option(app, options.precision);
  }
};

inline Classifier load_model(const std::string& model_dir, const EncoderArgs& encoder = {}) {
  if (!model_dir.empty()) return Classifier::load(model_dir, encoder.options);
  return Classifier::load_default(encoder.options);
}

// --cache and --cache-size.
struct CacheArgs {
  std::string mode = "exact";
  std::size_t size = CacheOptions{}.capacity;
  double min_confidence = CacheOptions{}.template_min_confidence;
  void add_to(CLI::App* app, std::string_view default_mode) {
    mode = default_mode;
    app->add_option("--cache", mode,
                    "message cache: exact (same source and message, same result), template (numbers, ids, "
                    "paths masked; rules still see every line) or off")
        ->capture_default_str()
        ->check(CLI::IsMember({"off", "exact", "template"}));
    app->add_option("--cache-size", size, "results the cache keeps")->capture_default_str()->check(CLI::Range(1, 1 << 30));
    app->add_option("--cache-min-confidence", min_confidence,
                    "template cache: share a model answer with its template's other lines only at this top "
                    "probability or above; a less sure answer is reused for exact repeats only (0: share all)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
  }
  CacheOptions options() const {
    CacheOptions o{*parse_cache_mode(mode), size};
    o.template_min_confidence = min_confidence;
    return o;
  }
  std::unique_ptr<MessageCache> make() const {
    const CacheOptions o = options();
    return o.mode == CacheMode::off ? nullptr : std::make_unique<MessageCache>(o);
  }
};

}  // namespace logclf::cli
