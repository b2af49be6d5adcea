#include "encoder/e5/config.h"

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "io/regular_file.h"
#include "logclf/types.h"

namespace logclf::encoder::e5 {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& name, const std::string& field, const std::string& what) {
  throw Error(name + ": field '" + field + "' " + what);
}

// An integer field >= `minimum`; when absent, `fallback` if given, else an error.
int integer_field(const json& doc, const std::string& name, const std::string& field, int minimum,
                  std::optional<int> fallback = std::nullopt) {
  const auto it = doc.find(field);
  if (it == doc.end()) {
    if (fallback) return *fallback;
    fail(name, field, "is missing");
  }
  if (!it->is_number_integer()) fail(name, field, "must be an integer, not " + it->dump());
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<int>::max());
  const bool too_large = it->is_number_unsigned() && it->get<std::uint64_t>() > kMax;
  const std::int64_t value = too_large ? std::numeric_limits<std::int64_t>::max() : it->get<std::int64_t>();
  if (value < minimum || value > std::numeric_limits<int>::max())
    fail(name, field, "must be an integer in [" + std::to_string(minimum) + ", " +
                          std::to_string(std::numeric_limits<int>::max()) + "], not " + it->dump());
  return static_cast<int>(value);
}

// A string field that must equal one of the supported values; absent means `fallback`.
std::string string_field(const json& doc, const std::string& name, const std::string& field,
                         std::optional<std::string> fallback, const std::string& supported) {
  const auto it = doc.find(field);
  if (it == doc.end()) {
    if (fallback) return *fallback;
    fail(name, field, "is missing");
  }
  if (!it->is_string()) fail(name, field, "must be a string, not " + it->dump());
  const std::string value = it->get<std::string>();
  if (value != supported) fail(name, field, "is '" + value + "'; only '" + supported + "' is supported");
  return value;
}

}  // namespace

BertConfig BertConfig::parse(const std::string& json_text, const std::string& name) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    throw Error(name + ": invalid JSON: " + e.what());
  }
  if (!doc.is_object()) throw Error(name + ": not a JSON object");

  BertConfig c;
  // model_type and the shape are required; the other fields fall back to Hugging Face BertConfig's
  // defaults, as transformers does when they are absent.
  string_field(doc, name, "model_type", std::nullopt, "bert");
  c.hidden_act = string_field(doc, name, "hidden_act", "gelu", "gelu");  // transformers' "gelu" is the erf form
  string_field(doc, name, "position_embedding_type", "absolute", "absolute");
  c.vocab_size = integer_field(doc, name, "vocab_size", 1);
  c.hidden_size = integer_field(doc, name, "hidden_size", 1);
  c.num_hidden_layers = integer_field(doc, name, "num_hidden_layers", 1);
  c.num_attention_heads = integer_field(doc, name, "num_attention_heads", 1);
  c.intermediate_size = integer_field(doc, name, "intermediate_size", 1);
  c.max_position_embeddings = integer_field(doc, name, "max_position_embeddings", 1);
  c.type_vocab_size = integer_field(doc, name, "type_vocab_size", 1, 2);
  c.pad_token_id = integer_field(doc, name, "pad_token_id", 0, 0);
  if (c.pad_token_id >= c.vocab_size)
    fail(name, "pad_token_id", std::to_string(c.pad_token_id) + " is not below vocab_size " + std::to_string(c.vocab_size));
  if (c.hidden_size % c.num_attention_heads != 0)
    fail(name, "hidden_size", std::to_string(c.hidden_size) + " is not a multiple of num_attention_heads " +
                                  std::to_string(c.num_attention_heads));
  if (const auto it = doc.find("layer_norm_eps"); it != doc.end()) {
    if (!it->is_number()) fail(name, "layer_norm_eps", "must be a number, not " + it->dump());
    c.layer_norm_eps = it->get<double>();
    if (!(c.layer_norm_eps > 0.0 && c.layer_norm_eps < 1.0))
      fail(name, "layer_norm_eps", "must be in (0, 1), not " + it->dump());
  } else {
    c.layer_norm_eps = 1e-12;
  }
  return c;
}

BertConfig BertConfig::load(const std::string& path) {
  return parse(io::read_regular_file(path, io::FileSize(io::kMaxTextFileBytes)), path);
}

BertConfig BertConfig::e5_small_v2() {
  BertConfig c;
  c.vocab_size = 30522;
  c.hidden_size = 384;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.intermediate_size = 1536;
  c.max_position_embeddings = 512;
  c.type_vocab_size = 2;
  c.pad_token_id = 0;
  c.layer_norm_eps = 1e-12;
  c.hidden_act = "gelu";
  return c;
}

std::string BertConfig::to_json() const {
  // The fields transformers writes for a BertModel (keys sorted, as it does); the dropout and
  // initializer values are its defaults and do not affect inference.
  const json doc = {
      {"architectures", {"BertModel"}},
      {"attention_probs_dropout_prob", 0.1},
      {"classifier_dropout", nullptr},
      {"hidden_act", hidden_act},
      {"hidden_dropout_prob", 0.1},
      {"hidden_size", hidden_size},
      {"initializer_range", 0.02},
      {"intermediate_size", intermediate_size},
      {"layer_norm_eps", layer_norm_eps},
      {"max_position_embeddings", max_position_embeddings},
      {"model_type", "bert"},
      {"num_attention_heads", num_attention_heads},
      {"num_hidden_layers", num_hidden_layers},
      {"pad_token_id", pad_token_id},
      {"position_embedding_type", "absolute"},
      {"torch_dtype", "float32"},
      {"type_vocab_size", type_vocab_size},
      {"use_cache", true},
      {"vocab_size", vocab_size},
  };
  return doc.dump(2) + "\n";
}

}  // namespace logclf::encoder::e5
