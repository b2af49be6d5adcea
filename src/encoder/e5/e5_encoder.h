// The E5 sentence encoder as a pipeline stage: WordPiece tokenizer + BERT forward pass + mean pooling +
// L2 normalisation, with the weights found by locate_model and identified by the model's fingerprint.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "encoder/e5/bert.h"
#include "encoder/e5/wordpiece.h"
#include "encoder/encoder.h"
#include "logclf/encoder.h"

namespace logclf::encoder::e5 {

class E5Encoder final : public Encoder {
 public:
  static constexpr std::string_view kKind = "e5-small-v2";
  // E5 was trained with this prefix on passages (documents); queries use "query: ".
  static constexpr std::string_view kPassagePrefix = "passage: ";
  // Texts are embedded in batches of this many, grouped by token count so that little work is padding.
  static constexpr std::size_t kBatchSize = 32;

  // Finds the weights (options.dir, $LOGCLF_E5_DIR, Hugging Face cache), loads tokenizer and model with
  // options.threads and options.precision. `prefix` is put before every text the pipeline encodes.
  static std::shared_ptr<E5Encoder> open(const EncoderOptions& options,
                                         std::string prefix = std::string(kPassagePrefix));

  std::string_view kind() const override { return kKind; }
  std::size_t dim() const override;
  void encode(std::string_view text, Features& out) const override;
  void encode_batch(std::span<const std::string_view> texts, std::vector<Features>& out) const override;
  bool batches() const override { return true; }

  // Dense vectors for `texts` (prefix added when `with_prefix`) into out (texts.size() × dim()).
  void embed(std::span<const std::string_view> texts, std::span<float> out, bool with_prefix) const;

  const std::string& fingerprint() const { return model_->fingerprint(); }
  const WordPieceTokenizer& tokenizer() const { return *tokenizer_; }
  const BertModel& model() const { return *model_; }
  // fp32 or int8 (auto resolved).
  Precision precision() const { return model_->precision(); }
  const std::string& dir() const { return dir_; }
  const std::string& found_by() const { return found_by_; }
  const std::string& prefix() const { return prefix_; }
  // What a model bundle records about the encoder (kind-specific parameters, the fingerprint and the
  // precision).
  nlohmann::json params() const;

 private:
  E5Encoder() = default;

  std::string dir_, found_by_, prefix_;
  std::unique_ptr<WordPieceTokenizer> tokenizer_;
  std::unique_ptr<BertModel> model_;
};

}  // namespace logclf::encoder::e5
