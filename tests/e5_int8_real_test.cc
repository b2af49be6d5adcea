// The int8 encoder on the real intfloat/e5-small-v2 weights (shared/models/e5-small-v2) against the fp32
// vectors of shared/golden/e5_real.jsonl (ONNX Runtime fp32, which the fp32 encoder matches to 3e-7): the
// accuracy the int8 Linear layers keep. CTest label: e5-real.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "logclf/encoder.h"
#include "logclf/types.h"
#include "support/paths.h"

namespace logclf {
namespace {

// As in e5_real_test.cc: the forward pass is about ten times slower under the sanitizers or unoptimised,
// and there every 20th text is embedded.
#if defined(LOGCLF_SANITIZE)
constexpr const char* kSubsetReason = "this is the AddressSanitizer + UndefinedBehaviorSanitizer build";
#elif !defined(__OPTIMIZE__)
constexpr const char* kSubsetReason = "this build is not optimised";
#else
constexpr const char* kSubsetReason = nullptr;
#endif
constexpr std::size_t kSubsetStride = 20;

constexpr double kMinMedianCosine = 0.999;
constexpr double kMinCosine = 0.99;

TEST(E5Real, Int8KeepsTheFp32Vectors) {
  const auto weights = testing::shared_file("models/e5-small-v2/model.safetensors");
  const auto golden_file = testing::shared_file("golden/e5_real.jsonl");
  if (weights.empty() || golden_file.empty())
    GTEST_SKIP() << "SKIPPED: " << (testing::shared_dir() / (weights.empty() ? "models/e5-small-v2/model.safetensors"
                                                                               : "golden/e5_real.jsonl"))
                 << " is absent: the int8 accuracy test on the real e5-small-v2 cannot run";

  std::vector<std::string> texts;
  std::vector<std::vector<float>> expected;
  std::ifstream in(golden_file);
  std::string line;
  for (std::size_t i = 0; std::getline(in, line); ++i) {
    if (kSubsetReason != nullptr && i % kSubsetStride != 0) continue;
    const auto doc = nlohmann::json::parse(line);
    texts.push_back(doc.at("text").get<std::string>());
    expected.push_back(doc.at("embedding").get<std::vector<float>>());
  }
  ASSERT_FALSE(texts.empty());
  std::cout << "[ E5 INT8  ] embedding " << texts.size() << " texts"
            << (kSubsetReason != nullptr ? std::string(" (every 20th) because ") + kSubsetReason : std::string())
            << std::endl;

  const SentenceEncoder encoder = SentenceEncoder::open(
      {.kind = "", .dir = weights.parent_path().string(), .threads = 0, .precision = Precision::int8});
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  const auto start = std::chrono::steady_clock::now();
  const auto vectors = encoder.embed(views);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(vectors.size(), texts.size());

  std::vector<double> cosines;
  std::size_t lowest_at = 0;
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    double dot = 0.0, na = 0.0, nb = 0.0;
    for (std::size_t j = 0; j < vectors[i].size(); ++j) {
      dot += static_cast<double>(vectors[i][j]) * expected[i][j];
      na += static_cast<double>(vectors[i][j]) * vectors[i][j];
      nb += static_cast<double>(expected[i][j]) * expected[i][j];
    }
    cosines.push_back(dot / std::sqrt(na * nb));
    if (cosines.back() < cosines[lowest_at]) lowest_at = i;
  }
  const double lowest = cosines[lowest_at];
  std::vector<double> sorted = cosines;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::cout << "[ E5 INT8  ] cosine to fp32: median " << median << ", minimum " << lowest << " (text #"
            << lowest_at << "), 1st percentile " << sorted[sorted.size() / 100] << "; " << seconds << " s"
            << std::endl;
  RecordProperty("median_cosine", std::to_string(median));
  RecordProperty("min_cosine", std::to_string(lowest));
  EXPECT_GE(median, kMinMedianCosine);
  EXPECT_GE(lowest, kMinCosine) << "lowest on: " << texts[lowest_at].substr(0, 200);
}

// The int8 kernels' integer sums are identical and their float steps the same operations in the same order,
// so each kernel this CPU runs gives the portable one's vectors bit for bit, through the whole model.
TEST(E5Real, EveryInt8KernelGivesThePortableVectors) {
  const auto weights = testing::shared_file("models/e5-small-v2/model.safetensors");
  const auto golden_file = testing::shared_file("golden/e5_real.jsonl");
  if (weights.empty() || golden_file.empty())
    GTEST_SKIP() << "SKIPPED: the real e5-small-v2 or its golden texts are absent under " << testing::shared_dir();
  std::vector<std::string> texts;
  std::ifstream in(golden_file);
  std::string line;
  for (std::size_t i = 0; std::getline(in, line) && texts.size() < 24; ++i)
    if (i % 50 == 0) texts.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  const auto embed = [&](const std::string& kernel) {
    return SentenceEncoder::open({.kind = "",
                                  .dir = weights.parent_path().string(),
                                  .threads = 2,
                                  .precision = Precision::int8,
                                  .int8_kernel = kernel})
        .embed(views);
  };
  const auto portable = embed("portable");
  std::vector<std::string> skipped;
  for (const std::string kernel : {"avx2", "avx512-vnni"}) {
    std::vector<std::vector<float>> vectors;
    try {
      vectors = embed(kernel);
    } catch (const Error& e) {
      ASSERT_NE(std::string(e.what()).find("not available on this CPU"), std::string::npos) << e.what();
      skipped.push_back(kernel);
      continue;
    }
    ASSERT_EQ(vectors.size(), portable.size());
    for (std::size_t i = 0; i < vectors.size(); ++i)
      for (std::size_t j = 0; j < vectors[i].size(); ++j)
        ASSERT_EQ(vectors[i][j], portable[i][j]) << kernel << ", text " << i << ", value " << j;
  }
  try {
    embed("avx3");
    ADD_FAILURE() << "an unknown kernel was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown int8 kernel 'avx3'"), std::string::npos) << e.what();
  }
  if (!skipped.empty()) {
    std::string names;
    for (const std::string& k : skipped) names += " " + k;
    GTEST_SKIP() << "SKIPPED: the int8 kernel(s)" << names << " are not available on this CPU; the others matched";
  }
}

}  // namespace
}  // namespace logclf
