// Options more than one verb takes: the input, the encoder, the model, the message cache.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/encoder.h"
#include "logclf/io.h"

namespace logclf::cli {

// The E5 options of a command line before its flags: the precision defaults to auto.
inline EncoderOptions cli_encoder_options() {
  EncoderOptions options;
  options.precision = Precision::auto_;
  return options;
}

// --precision of the E5 encoder's Linear layers and attention scores.
inline CLI::Option* add_precision_option(CLI::App* app, Precision& precision) {
  return app
      ->add_option_function<std::string>(
          "--precision", [&precision](const std::string& value) { precision = *parse_precision(value); },
          "arithmetic of the E5 encoder's Linear layers and attention scores: fp32, int8 (weights quantized at "
          "load time) or auto (int8 where the CPU has AVX2 or AVX-512 VNNI, else fp32); default: " +
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

// --format, --strict and the column options of every verb that reads records.
struct InputOptions {
  std::string format;  // empty: by extension
  bool strict = false;
  std::string message_column;  // comma-separated names; empty: default_message_fields() of the input's format
  std::string source_column = "source";
  std::string label_column = "target_label";

  void add_to(CLI::App* app, bool with_label) {
    app->add_option("--format", format,
                    "input format: csv, jsonl (json: the same) or lines (default: by extension, else csv)")
        ->check(CLI::IsMember({"csv", "jsonl", "ndjson", "json", "lines", "text", "txt"}));
    app->add_flag("--strict", strict, "reject invalid UTF-8 instead of replacing it with U+FFFD");
    app->add_option("--message-column", message_column,
                    "column / field holding the message, or a comma-separated list: the first present is used "
                    "(default: log_message; for JSON lines log_message,message,log,msg; in JSON a dotted name such as "
                    "event.original is also a path into nested objects)")
        ->check(CLI::Validator(
            [](std::string& v) {
              return v.empty() || v.front() == ',' || v.back() == ',' || v.find(",,") != v.npos
                         ? std::string("an empty name in '") + v + "'"
                         : std::string();
            },
            "NAME[,NAME...]"));
    app->add_option("--source-column", source_column, "column / field holding the source")->capture_default_str();
    if (with_label)
      app->add_option("--label-column", label_column, "column / field holding the true label")->capture_default_str();
  }

  ReadOptions read_options(const std::string& path, bool require_label) const {
    ReadOptions o;
    o.format = format.empty() ? format_from_path(path, Format::csv) : *parse_format(format);
    o.strict_utf8 = strict;
    o.message_fields = default_message_fields(o.format);
    if (!message_column.empty()) {
      o.message_fields.clear();
      for (std::size_t begin = 0, end; begin <= message_column.size(); begin = end + 1) {
        end = std::min(message_column.find(',', begin), message_column.size());
        o.message_fields.push_back(message_column.substr(begin, end - begin));
      }
    }
    o.source_field = source_column;
    o.label_field = label_column;
    o.require_label = require_label;
    return o;
  }
};

}  // namespace logclf::cli
