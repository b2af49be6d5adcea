// The BERT forward pass of the E5 encoder (Hugging Face BertModel in eval mode) with sentence-transformers'
// mean pooling and L2 normalisation on the CPU, in F32 or with int8 Linear layers and attention scores.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "encoder/e5/config.h"
#include "encoder/e5/kernels.h"
#include "encoder/e5/safetensors.h"
#include "logclf/encoder.h"

namespace logclf::encoder::e5 {

struct BertOptions {
  int threads = 0;        // 0: every core the process may run on
  bool portable = false;  // the portable kernels even where the CPU has faster ones (to compare them)
  Precision precision = Precision::fp32;
  std::optional<Int8Isa> int8_isa = {};  // the int8 kernel when not the best (an Error if this CPU lacks it)
};

// fp32 or int8: what `precision` means on this CPU (auto: int8 where there are int8 vector kernels).
Precision resolve_precision(Precision precision);

class BertModel {
 public:
  // `dir` holds config.json and model.safetensors (Hugging Face layout). Every expected tensor is checked
  // for presence, dtype (F32, F16 or BF16; computed in F32) and shape against the config; an Error names the
  // file and the tensor at fault. Tensor names may carry a "bert." prefix; pooler.* is ignored.
  // The file stays mapped for the word embeddings, read in place (pages of the rows in use only).
  static std::unique_ptr<BertModel> load(const std::string& dir, const BertOptions& options = {});
  // The weights are copied into the model's own layout: `weights` may be closed afterwards.
  static std::unique_ptr<BertModel> load(const BertConfig& config, const SafeTensors& weights,
                                         const BertOptions& options = {});
  ~BertModel();

  const BertConfig& config() const;
  int threads() const;
  // fp32 or int8 (auto resolved), and the int8 GEMM's path when int8.
  Precision precision() const;
  Int8Isa int8_isa() const;
  // "xxh3-128:<hex>" of exactly the values the forward pass reads: each tensor it reads, in the order it
  // reads them, by name (without "bert."), shape and values as F32 (of the token type embeddings only row 0,
  // the one it reads). So another tensor order, dtype holding the same values (F16/BF16 widen exactly) or
  // unread tensors (pooler.*, position_ids) keep it; any change of a value read changes it.
  const std::string& fingerprint() const;

  // For each sequence of token ids ([CLS] … [SEP], 1 ≤ length ≤ max_position_embeddings, 0 ≤ id <
  // vocab_size; an Error otherwise): the mean of the last hidden states over the sequence, L2-normalised
  // when `normalize`. `out` receives batch.size() × hidden_size floats. A sequence's result does not depend
  // on the rest of its batch. Thread-safe: concurrent calls run one after another.
  void embed(std::span<const std::span<const std::int32_t>> batch, float* out, bool normalize) const;

 private:
  struct Impl;
  explicit BertModel(std::unique_ptr<Impl> impl);
  // With `owned`, the model keeps the file mapped and reads the word embeddings in place when they are F32.
  static std::unique_ptr<BertModel> load(const BertConfig& config, const SafeTensors& weights,
                                         const BertOptions& options, std::unique_ptr<SafeTensors> owned);
  std::unique_ptr<Impl> impl_;
};

}  // namespace logclf::encoder::e5
