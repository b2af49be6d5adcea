#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "encoder/lexical.h"
#include "logclf/types.h"

namespace logclf::encoder {
namespace {

LexicalEncoder fit(std::vector<std::string_view> texts, int min_df = 1) {
  LexicalOptions options;
  options.min_df = min_df;
  options.norm = 1.0f;
  return LexicalEncoder::fit(texts, options);
}

double norm(const Features& f) {
  double s = 0;
  for (float v : f.value) s += double(v) * v;
  return std::sqrt(s);
}

TEST(LexicalEncoder, UnitNormAndDeterministic) {
  const auto enc = fit({"Disk quota exceeded on host db-3", "User alice logged in", "disk full"});
  Features a, b;
  enc.encode("disk quota exceeded", a);
  enc.encode("disk quota exceeded", b);
  EXPECT_NEAR(norm(a), 1.0, 1e-6);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(std::set<std::uint32_t>(a.index.begin(), a.index.end()).size(), a.index.size());
}

TEST(LexicalEncoder, IdentifiersAreMasked) {
  // Numbers, long hex ids and digit runs inside words do not change the features.
  const auto enc = fit({"x"});
  std::vector<LexicalEncoder::RawFeature> a, b;
  enc.extract("User User265 request 54fadb412c4e40cd failed after 3 tries", a);
  enc.extract("User User9 request 0123456789abcdef failed after 17 tries", b);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].hash, b[i].hash);
  enc.extract("User User265", a);
  enc.extract("User Userx", b);
  ASSERT_EQ(a.size(), b.size());
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) differs |= a[i].hash != b[i].hash;
  EXPECT_TRUE(differs);  // "user0" is not "userx"
}

TEST(LexicalEncoder, CaseAndPunctuationFolded) {
  const auto enc = fit({"x"});
  std::vector<LexicalEncoder::RawFeature> a, b;
  enc.extract("Backup FAILED: disk", a);
  enc.extract("backup failed disk", b);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].hash, b[i].hash);
}

TEST(LexicalEncoder, FeatureCountsByHand) {
  // "ab cd": unigrams ab, cd; one bigram; char n-grams of "<ab>" (3: <ab, ab>; 4: <ab>) and of "<cd>"
  // likewise: 2 + 1 + 3 + 3 = 9 raw features.
  const auto enc = fit({"x"});
  std::vector<LexicalEncoder::RawFeature> raw;
  enc.extract("ab cd", raw);
  EXPECT_EQ(raw.size(), 9u);
  int chars = 0;
  for (const auto& f : raw) chars += f.group;
  EXPECT_EQ(chars, 6);
}

TEST(LexicalEncoder, MinDfPrunesRareFeaturesAndUnknownTextIsEmpty) {
  const auto enc = fit({"alpha beta", "alpha gamma"}, 2);
  Features f;
  enc.encode("beta gamma", f);  // each seen in one document only
  EXPECT_TRUE(f.index.empty());
  enc.encode("alpha", f);
  EXPECT_FALSE(f.index.empty());
  EXPECT_NEAR(norm(f), 1.0, 1e-6);
}

TEST(LexicalEncoder, SimilarMessagesAreCloserThanUnrelatedOnes) {
  const auto enc = fit({"replication of shard 3 failed", "shard 9 replication task failed",
                        "user bob logged in", "cpu usage at 93 percent", "replication failed for shard 12"});
  auto cosine = [&](std::string_view x, std::string_view y) {
    Features a, b;
    enc.encode(x, a);
    enc.encode(y, b);
    double dot = 0;
    for (std::size_t i = 0; i < a.index.size(); ++i)
      for (std::size_t j = 0; j < b.index.size(); ++j)
        if (a.index[i] == b.index[j]) dot += double(a.value[i]) * b.value[j];
    return dot;
  };
  EXPECT_GT(cosine("shard 5 replication failed", "replication of shard 7 failed"),
            cosine("shard 5 replication failed", "user carol logged in"));
}

TEST(LexicalEncoder, VectorsHaveTheConfiguredNorm) {
  LexicalOptions options;
  options.min_df = 1;
  const auto enc = LexicalEncoder::fit(std::vector<std::string_view>{"disk full on host", "disk ok"}, options);
  Features f;
  enc.encode("disk full", f);
  EXPECT_NEAR(norm(f), 3.0, 1e-5);  // the default
}

TEST(LexicalEncoder, SaveLoadRoundTrip) {
  const auto enc = fit({"Disk quota exceeded on host db-3", "User alice logged in", "disk full"});
  const auto copy = LexicalEncoder::load(enc.params(), enc.vocabulary(), "encoder.bin");
  EXPECT_EQ(copy.dim(), enc.dim());
  Features a, b;
  enc.encode("disk quota on host", a);
  copy.encode("disk quota on host", b);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.value, b.value);
  std::string bad = enc.vocabulary();
  bad.resize(bad.size() - 1);
  EXPECT_THROW(LexicalEncoder::load(enc.params(), bad, "encoder.bin"), Error);
  EXPECT_THROW(LexicalEncoder::load(nlohmann::json::object(), enc.vocabulary(), "encoder.bin"), Error);
}

TEST(LexicalEncoder, PathologicalInputIsBounded) {
  const auto enc = fit({"x"});
  std::vector<LexicalEncoder::RawFeature> raw;
  enc.extract(std::string(10'000'000, 'a'), raw);  // one 10 MB word
  EXPECT_LT(raw.size(), 200u);
  enc.extract(std::string(1'000'000, ' ') + "\xff\xfe", raw);
  EXPECT_TRUE(raw.empty());  // past the first 8 KiB nothing is read
}

}  // namespace
}  // namespace logclf::encoder
