// Randomly initialised BERT weights in Hugging Face's layout: for tests, benchmarks and trying the E5
// encoder's plumbing where the real weights cannot be downloaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "encoder/e5/config.h"
#include "encoder/e5/safetensors.h"

namespace logclf::encoder::e5 {

// Every tensor of Hugging Face's BertModel (names as it writes them, without a "bert." prefix, pooler
// included), initialised as BertPreTrainedModel does: weights normal(0, 0.02) with the padding token's
// embedding row zero, biases 0, LayerNorm weight 1 and bias 0. The same seed gives the same tensors.
std::vector<TensorData> random_bert_tensors(const BertConfig& config, std::uint64_t seed);

// Writes a complete model directory `dir` (created if needed): config.json, model.safetensors and the
// tokenizer files found in `tokenizer_dir` (vocab.txt, tokenizer.json, tokenizer_config.json,
// special_tokens_map.json; vocab.txt or tokenizer.json is required). Each file is written atomically.
void write_random_model(const std::string& dir, const BertConfig& config, std::uint64_t seed,
                        const std::string& tokenizer_dir);

}  // namespace logclf::encoder::e5
