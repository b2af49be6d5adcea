// The model configuration of a BERT encoder, read from Hugging Face's config.json.
#pragma once

#include <cstdint>
#include <string>

namespace logclf::encoder::e5 {

struct BertConfig {
  int vocab_size = 30522;
  int hidden_size = 384;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 1536;
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  int pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";

  // Parses config.json text; throws Error naming `name` and the field when a value is missing, of the
  // wrong type or unsupported (only BERT with absolute positions and erf GELU is supported).
  static BertConfig parse(const std::string& json_text, const std::string& name);
  static BertConfig load(const std::string& path);
  // E5-small-v2's shape (what `logclf model random --like e5-small-v2` writes).
  static BertConfig e5_small_v2();
  std::string to_json() const;
};

}  // namespace logclf::encoder::e5
