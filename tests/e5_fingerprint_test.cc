// The fingerprint of the E5 weights identifies the values the forward pass reads, not the file holding them:
// variants of shared/golden/tiny-bert as a Hugging Face download may differ (tensor order, pooler.*,
// position_ids, a "bert." prefix, F16/BF16 storage) keep it, a one-ulp change of any value read does not;
// and a model bundle loads with the former and refuses the latter.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "encoder/e5/bert.h"
#include "encoder/e5/safetensors.h"
#include "logclf/classifier.h"
#include "logclf/io.h"
#include "logclf/train.h"
#include "logclf/types.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf::encoder::e5 {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

#define TINY_BERT_OR_SKIP(dir)                                                                        \
  const fs::path dir = testing::shared_file("golden/tiny-bert/model.safetensors").parent_path();      \
  if (dir.empty())                                                                                    \
  GTEST_SKIP() << "SKIPPED: " << (testing::shared_dir() / "golden/tiny-bert/model.safetensors").string() \
               << " is absent: the fingerprint tests cannot run"

// tiny-bert's tensors (F32, pooler.* included) in name order.
std::vector<TensorData> tiny_bert_tensors(const fs::path& dir) {
  const SafeTensors weights = SafeTensors::open((dir / "model.safetensors").string());
  std::vector<TensorData> out;
  for (const auto& [name, t] : weights.tensors()) out.push_back({name, t.shape, t.to_f32()});
  return out;
}

// A model directory: tiny-bert's configuration and vocabulary, and these tensors.
fs::path write_variant(const fs::path& source, const fs::path& dir, const std::vector<TensorData>& tensors) {
  fs::create_directories(dir);
  for (const char* file : {"config.json", "vocab.txt"}) fs::copy_file(source / file, dir / file);
  write_safetensors((dir / "model.safetensors").string(), tensors);
  return dir;
}

std::unique_ptr<BertModel> load(const fs::path& dir) { return BertModel::load(dir.string(), {.threads = 1}); }
std::string fingerprint_of(const fs::path& dir) { return load(dir)->fingerprint(); }

TensorData& find(std::vector<TensorData>& tensors, const std::string& name) {
  for (TensorData& t : tensors)
    if (t.name == name) return t;
  throw Error("no tensor " + name);
}

// Each tensor stored as `dtype` and read back: its values rounded to that dtype, as F32.
std::vector<TensorData> rounded_to(const std::vector<TensorData>& tensors, const std::string& dtype,
                                   const TempDir& tmp) {
  std::vector<TensorData> stored = tensors;
  for (TensorData& t : stored) t.dtype = dtype;
  write_safetensors(tmp / "rounded.safetensors", stored);
  const SafeTensors read = SafeTensors::open(tmp / "rounded.safetensors");
  std::vector<TensorData> out;
  for (const TensorData& t : tensors) out.push_back({t.name, t.shape, read.tensor(t.name).to_f32()});
  return out;
}

std::vector<float> embed_probe(const BertModel& model) {
  const std::vector<std::int32_t> ids = {101, 7592, 2088, 1029, 102};
  const std::span<const std::int32_t> one(ids);
  std::vector<float> out(static_cast<std::size_t>(model.config().hidden_size));
  model.embed(std::span(&one, 1), out.data(), false);
  return out;
}

// Bundles record the fingerprint: it changes only on purpose, with a new version tag (src/encoder/e5/bert.cc).
TEST(E5Fingerprint, IsAVersionedDigestOfTheValues) {
  TINY_BERT_OR_SKIP(dir);
  EXPECT_EQ(fingerprint_of(dir), "xxh3-128:71a53cd66373e733e4d5c90657ccc037");
}

TEST(E5Fingerprint, SameValuesInAnotherFileKeepIt) {
  TINY_BERT_OR_SKIP(dir);
  const std::vector<TensorData> tensors = tiny_bert_tensors(dir);
  const auto original = load(dir);
  TempDir tmp;

  // A download as transformers saves it: tensors in another order, no pooler.*, position_ids (I64) beside.
  std::vector<TensorData> reordered(tensors.rbegin(), tensors.rend());
  const auto pooler_count = std::erase_if(reordered, [](const TensorData& t) { return t.name.starts_with("pooler."); });
  ASSERT_GT(pooler_count, 0u);
  TensorData positions{"embeddings.position_ids", {1, 512}, std::vector<float>(512), "I64"};
  std::iota(positions.values.begin(), positions.values.end(), 0.0f);
  reordered.insert(reordered.begin() + 3, positions);
  EXPECT_EQ(fingerprint_of(write_variant(dir, tmp.path() / "reordered", reordered)), original->fingerprint());

  // The names of a task model's checkpoint (BertForMaskedLM, ...).
  std::vector<TensorData> prefixed = tensors;
  for (TensorData& t : prefixed) t.name = "bert." + t.name;
  EXPECT_EQ(fingerprint_of(write_variant(dir, tmp.path() / "prefixed", prefixed)), original->fingerprint());

  // Values the forward pass never reads: the pooler, and the token type embeddings past type 0.
  std::vector<TensorData> unread = tensors;
  find(unread, "pooler.dense.weight").values[5] += 1.0f;
  TensorData& types = find(unread, "embeddings.token_type_embeddings.weight");
  types.values.back() = std::nextafter(types.values.back(), std::numeric_limits<float>::infinity());
  const auto other = load(write_variant(dir, tmp.path() / "unread", unread));
  EXPECT_EQ(other->fingerprint(), original->fingerprint());
  EXPECT_EQ(embed_probe(*other), embed_probe(*original));
}

TEST(E5Fingerprint, HalfPrecisionValuesGiveTheFingerprintOfTheirF32Values) {
  TINY_BERT_OR_SKIP(dir);
  const std::vector<TensorData> tensors = tiny_bert_tensors(dir);
  const std::string original = fingerprint_of(dir);
  TempDir tmp;
  for (const std::string dtype : {"BF16", "F16"}) {
    SCOPED_TRACE(dtype);
    // The values rounded to the dtype, stored as F32; the same values stored as the dtype.
    const fs::path widened = write_variant(dir, tmp.path() / (dtype + "-as-f32"), rounded_to(tensors, dtype, tmp));
    std::vector<TensorData> half = tensors;
    for (TensorData& t : half) t.dtype = dtype;
    const fs::path stored = write_variant(dir, tmp.path() / dtype, half);
    EXPECT_EQ(fingerprint_of(stored), fingerprint_of(widened));
    EXPECT_NE(fingerprint_of(stored), original);  // the rounding changed values
  }
}

// A one-ulp change of the last value read of each tensor read (and the first of the largest) changes the
// fingerprint, each to a different one.
TEST(E5Fingerprint, AnyChangedValueReadChangesIt) {
  TINY_BERT_OR_SKIP(dir);
  const std::vector<TensorData> tensors = tiny_bert_tensors(dir);
  const int hidden = load(dir)->config().hidden_size;
  std::set<std::string> seen = {fingerprint_of(dir)};
  TempDir tmp;
  int variants = 0;
  const auto check = [&](const std::string& name, std::size_t index) {
    SCOPED_TRACE(name + "[" + std::to_string(index) + "]");
    std::vector<TensorData> changed = tensors;
    float& value = find(changed, name).values.at(index);
    value = std::nextafter(value, std::numeric_limits<float>::infinity());
    const fs::path variant = write_variant(dir, tmp.path() / std::to_string(variants++), changed);
    EXPECT_TRUE(seen.insert(fingerprint_of(variant)).second);
    fs::remove_all(variant);
  };
  for (const TensorData& t : tensors) {
    if (t.name.starts_with("pooler.")) continue;
    // Of the token type embeddings only row 0 (type 0) is read.
    check(t.name, t.name == "embeddings.token_type_embeddings.weight" ? static_cast<std::size_t>(hidden) - 1
                                                                      : t.values.size() - 1);
  }
  check("embeddings.word_embeddings.weight", 0);
  EXPECT_EQ(variants, 5 + 16 * 2 + 1);  // the 5 embedding tensors, 16 in each of 2 layers, and one more
}

// ---- end to end: a bundle trained on tiny-bert ----------------------------------------------------------

TEST(E5Fingerprint, ABundleLoadsWithTheSameValuesAndRefusesOthers) {
  TINY_BERT_OR_SKIP(dir);
  const fs::path seed = testing::shared_file("data/synthetic_logs.csv");
  if (seed.empty())
    GTEST_SKIP() << "SKIPPED: " << (testing::shared_dir() / "data/synthetic_logs.csv").string() << " is absent";
  ReadOptions read;
  read.require_label = true;
  const std::vector<LabeledLine> rows = read_labeled(seed.string(), read);
  TrainOptions options;
  options.encoder = {.kind = std::string(kE5Encoder), .dir = dir.string(), .threads = 2};
  options.test_size = 0;
  options.C = 1.0;
  options.calibrate = false;
  const TrainResult result = train(rows, options);
  ASSERT_TRUE(result.classifier);
  TempDir tmp;
  const std::string model = tmp / "model";
  result.classifier->save(model);
  const std::string recorded =
      nlohmann::json::parse(testing::read_text(fs::path(model) / "logclf-model.json"))["encoder"]["params"]["fingerprint"];

  std::vector<LogLine> lines;
  for (std::size_t i = 0; i < 300; ++i) lines.push_back({rows[i].message, rows[i].source});
  const auto expected = Classifier::load(model, {.kind = "", .dir = dir.string(), .threads = 1}).classify_batch(lines, true);

  // The same values in a file as transformers saves it: loads, and classifies identically.
  std::vector<TensorData> tensors = tiny_bert_tensors(dir);
  std::vector<TensorData> reordered(tensors.rbegin(), tensors.rend());
  TensorData positions{"embeddings.position_ids", {1, 512}, std::vector<float>(512), "I64"};
  std::iota(positions.values.begin(), positions.values.end(), 0.0f);
  reordered.push_back(positions);
  const fs::path same = write_variant(dir, tmp.path() / "same", reordered);
  const auto got = Classifier::load(model, {.kind = "", .dir = same.string(), .threads = 1}).classify_batch(lines, true);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].label, expected[i].label) << lines[i].message;
    EXPECT_EQ(got[i].confidence, expected[i].confidence) << lines[i].message;
    EXPECT_EQ(got[i].probabilities, expected[i].probabilities) << lines[i].message;
  }

  // One value one ulp away: refused, naming both fingerprints and the directory.
  float& value = find(tensors, "encoder.layer.1.output.dense.weight").values[7];
  value = std::nextafter(value, std::numeric_limits<float>::infinity());
  const fs::path changed = write_variant(dir, tmp.path() / "changed", tensors);
  const std::string changed_fingerprint = fingerprint_of(changed);
  try {
    Classifier::load(model, {.kind = "", .dir = changed.string(), .threads = 1});
    FAIL() << "weights with a changed value were accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(recorded), std::string::npos) << message;
    EXPECT_NE(message.find(changed_fingerprint), std::string::npos) << message;
    EXPECT_NE(message.find(changed.string()), std::string::npos) << message;
  }
  // The same through the command line's --encoder-dir.
  const auto r = testing::run(testing::cli() + " classify -q -m " + model + " --encoder-dir " + changed.string() + " " +
                              (testing::source_dir() / "examples/example.csv").string() + " -o " + (tmp / "out.csv"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(changed_fingerprint), std::string::npos) << r.output;
}

}  // namespace
}  // namespace logclf::encoder::e5
