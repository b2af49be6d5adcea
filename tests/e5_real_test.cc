// Parity on the real intfloat/e5-small-v2 weights (shared/models/e5-small-v2): the token ids and sentence
// vectors of the 2,515 texts of shared/golden/e5_real.jsonl against ONNX Runtime, Hugging Face's own values
// for one query, and the fingerprint a model bundle records for these weights. CTest label: e5-real.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "encoder/e5/wordpiece.h"
#include "logclf/encoder.h"
#include "support/paths.h"

namespace logclf {
namespace {

namespace fs = std::filesystem;

// The forward pass runs about ten times slower under the sanitizers (and slower still unoptimised): there
// every 20th text and the longest one are embedded (all texts are still tokenized).
#if defined(LOGCLF_SANITIZE)
constexpr const char* kSubsetReason = "this is the AddressSanitizer + UndefinedBehaviorSanitizer build";
#elif !defined(__OPTIMIZE__)
constexpr const char* kSubsetReason = "this build is not optimised";
#else
constexpr const char* kSubsetReason = nullptr;
#endif
constexpr std::size_t kSubsetStride = 20;

constexpr double kMaxDifference = 1e-4;
constexpr double kMinCosine = 0.99999;

struct GoldenText {
  std::string text;
  std::vector<std::int32_t> ids;
  std::vector<float> embedding;
};

// The real model directory and the golden file, or the first of them that is absent.
struct Inputs {
  fs::path model_dir, golden;
  std::string missing;
};

Inputs inputs() {
  const std::string weights = "models/e5-small-v2/model.safetensors", golden = "golden/e5_real.jsonl";
  Inputs in;
  for (const std::string& file : {weights, golden})
    if (testing::shared_file(file).empty()) {
      in.missing = (testing::shared_dir() / file).string();
      return in;
    }
  in.model_dir = testing::shared_file(weights).parent_path();
  in.golden = testing::shared_file(golden);
  return in;
}

#define E5_REAL_OR_SKIP(in)   \
  const Inputs in = inputs(); \
  if (!in.missing.empty())    \
    GTEST_SKIP() << "SKIPPED: " << in.missing << " is absent: the parity test on the real e5-small-v2 cannot run"

std::vector<GoldenText> golden_texts(const fs::path& file) {
  std::vector<GoldenText> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto doc = nlohmann::json::parse(line);
    out.push_back({doc.at("text").get<std::string>(), doc.at("ids").get<std::vector<std::int32_t>>(),
                   doc.at("embedding").get<std::vector<float>>()});
  }
  return out;
}

// The encoder on the real weights, loaded once for the tests of this file.
const SentenceEncoder& real_encoder(const fs::path& model_dir) {
  static const std::unique_ptr<SentenceEncoder> encoder =
      std::make_unique<SentenceEncoder>(SentenceEncoder::open(
      {.kind = "", .dir = model_dir.string(), .threads = 0, .precision = Precision::fp32}));
  return *encoder;
}

std::string excerpt(const std::string& text) {
  return text.size() <= 120 ? text : text.substr(0, 120) + "… (" + std::to_string(text.size()) + " bytes)";
}

TEST(E5Real, TokenIdsAndVectorsMatchOnnxRuntime) {
  E5_REAL_OR_SKIP(in);
  const std::vector<GoldenText> golden = golden_texts(in.golden);
  ASSERT_EQ(golden.size(), 2515u);

  // Token ids of every text, truncated as sentence-transformers does (the first 511 ids, then [SEP]).
  const auto tokenizer = encoder::e5::WordPieceTokenizer::load(in.model_dir.string());
  std::size_t wrong_ids = 0, longest = 0, longest_tokens = 0;
  std::vector<std::int32_t> ids;
  for (std::size_t i = 0; i < golden.size(); ++i) {
    tokenizer.encode(golden[i].text, ids, 512);
    if (ids != golden[i].ids && ++wrong_ids <= 5)
      ADD_FAILURE() << "token ids differ on text #" << i << ": " << excerpt(golden[i].text);
    tokenizer.encode(golden[i].text, ids, 0);  // untruncated, to find the longest text
    if (ids.size() > longest_tokens) longest = i, longest_tokens = ids.size();
  }
  EXPECT_EQ(wrong_ids, 0u) << "texts whose token ids differ from the golden ids";

  std::vector<std::size_t> checked;
  for (std::size_t i = 0; i < golden.size(); ++i)
    if (kSubsetReason == nullptr || i % kSubsetStride == 0 || i == longest) checked.push_back(i);
  const std::string scope =
      kSubsetReason == nullptr
          ? "all " + std::to_string(golden.size()) + " texts"
          : std::to_string(checked.size()) + " of " + std::to_string(golden.size()) + " texts (every " +
                std::to_string(kSubsetStride) + "th and the longest, " + std::to_string(longest_tokens) +
                " tokens) because " + kSubsetReason;
  std::cout << "[ E5 REAL  ] embedding " << scope << std::endl;
  RecordProperty("texts_checked", static_cast<int>(checked.size()));
  RecordProperty("scope", scope);

  const SentenceEncoder& encoder = real_encoder(in.model_dir);
  ASSERT_EQ(encoder.dim(), 384u);
  std::vector<std::string_view> texts;
  for (const std::size_t i : checked) texts.push_back(golden[i].text);
  const auto start = std::chrono::steady_clock::now();
  const auto vectors = encoder.embed(texts);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(vectors.size(), texts.size());

  // Every text within the bounds; the worst of each measure is named.
  std::size_t failures = 0, worst_difference_at = 0, lowest_cosine_at = 0;
  double worst_difference = 0.0, lowest_cosine = 1.0;
  for (std::size_t k = 0; k < checked.size(); ++k) {
    const std::vector<float>& got = vectors[k];
    const std::vector<float>& want = golden[checked[k]].embedding;
    ASSERT_EQ(want.size(), got.size()) << "text #" << checked[k];
    double difference = 0.0, dot = 0.0, got_norm = 0.0, want_norm = 0.0;
    for (std::size_t j = 0; j < got.size(); ++j) {
      difference = std::max(difference, std::abs(static_cast<double>(got[j]) - want[j]));
      dot += static_cast<double>(got[j]) * want[j];
      got_norm += static_cast<double>(got[j]) * got[j];
      want_norm += static_cast<double>(want[j]) * want[j];
    }
    const double cosine = dot / std::sqrt(got_norm * want_norm);
    if (!(difference <= kMaxDifference && cosine >= kMinCosine)) ++failures;
    if (difference > worst_difference) worst_difference = difference, worst_difference_at = checked[k];
    if (cosine < lowest_cosine) lowest_cosine = cosine, lowest_cosine_at = checked[k];
  }
  EXPECT_EQ(failures, 0u) << "texts outside max |difference| " << kMaxDifference << " or cosine " << kMinCosine;
  EXPECT_LE(worst_difference, kMaxDifference)
      << "worst text #" << worst_difference_at << ": " << excerpt(golden[worst_difference_at].text);
  EXPECT_GE(lowest_cosine, kMinCosine)
      << "worst text #" << lowest_cosine_at << ": " << excerpt(golden[lowest_cosine_at].text);
  std::printf("[ E5 REAL  ] %zu texts in %.1f s (%.0f texts/s): largest difference %.2g (text #%zu), lowest "
              "cosine 1 - %.2g (text #%zu)\n",
              checked.size(), seconds, static_cast<double>(checked.size()) / seconds, worst_difference,
              worst_difference_at, 1.0 - lowest_cosine, lowest_cosine_at);
}

// The values Hugging Face's Python transformers gives (quoted by an independent project's test).
TEST(E5Real, MatchesHuggingFaceOnAQuery) {
  E5_REAL_OR_SKIP(in);
  const std::string_view text = "query: I love transformers.";
  const auto v = real_encoder(in.model_dir).embed(std::span(&text, 1)).at(0);
  ASSERT_EQ(v.size(), 384u);
  EXPECT_NEAR(v[0], -0.0663562790, 1e-6);
  EXPECT_NEAR(v[1], 0.0153982891, 1e-6);
  EXPECT_NEAR(v[382], -0.0412562378, 1e-6);
  EXPECT_NEAR(v[383], -0.0130311009, 1e-6);
}

// Bundles trained on the real weights record this value: a change refuses every one of them (see the
// fingerprint's version tag in src/encoder/e5/bert.cc).
TEST(E5Real, FingerprintOfTheRealWeights) {
  E5_REAL_OR_SKIP(in);
  EXPECT_EQ(real_encoder(in.model_dir).fingerprint(), "xxh3-128:5a79104aeebd762fd4488b900236fe0e");
}

}  // namespace
}  // namespace logclf
