// The lexical encoder: hashed word unigrams and bigrams and character n-grams of words, weighted by
// sublinear TF-IDF and L2-normalised. Needs no download; its vocabulary (feature hashes seen at least
// min_df times in training) and document frequencies are fitted on the training messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "encoder/encoder.h"

namespace logclf::encoder {

struct LexicalOptions {
  int char_min = 3;         // character n-gram lengths, over words padded with '<' and '>'
  int char_max = 5;
  bool word_bigrams = true;
  int min_df = 2;           // features seen in fewer training messages are dropped
  // L2 norm of every encoded vector. Above 1 so that a head fitted with C = 1 on a few thousand lines is
  // confident enough for the 0.5 threshold (norm s acts like C * s^2 on unit vectors); measured on
  // generated corpora of 3,000 lines: norm 1 left 34% of unseen in-distribution lines Uncertain, 3 left 4%,
  // while lines unlike any label (Loghub's Linux sample) stay Uncertain about as often.
  float norm = 3.0f;
};

class LexicalEncoder final : public Encoder {
 public:
  static constexpr std::string_view kKind = "lexical";

  static LexicalEncoder fit(std::span<const std::string_view> texts, const LexicalOptions& options);
  // Rebuilds an encoder from its saved parameters and vocabulary file contents.
  static LexicalEncoder load(const nlohmann::json& params, std::string_view vocabulary,
                             const std::string& name);

  std::string_view kind() const override { return kKind; }
  std::size_t dim() const override { return hashes_.size(); }
  void encode(std::string_view text, Features& out) const override;

  nlohmann::json params() const;
  std::string vocabulary() const;  // binary file contents, see docs/FORMATS.md
  // The size of a vocabulary file of this many features; nullopt for more than a feature index can tell.
  static std::optional<std::uint64_t> vocabulary_size(std::uint64_t features);

  // The raw hashed features of a message before the vocabulary is applied (exposed for tests).
  struct RawFeature {
    std::uint64_t hash;
    std::uint8_t group;  // 0 = word unigram/bigram, 1 = character n-gram
  };
  void extract(std::string_view text, std::vector<RawFeature>& out) const;

 private:
  LexicalEncoder() = default;
  void build_index();
  std::int64_t lookup(std::uint64_t hash) const;

  LexicalOptions options_;
  std::uint64_t documents_ = 0;
  std::vector<std::uint64_t> hashes_;  // sorted; position = feature index
  std::vector<float> idf_;
  std::vector<std::uint8_t> group_;
  // Open-addressing table hash -> index+1 (0 = empty), sized to a power of two at least twice dim().
  std::vector<std::uint64_t> table_keys_;
  std::vector<std::uint32_t> table_values_;
};

}  // namespace logclf::encoder
