// The E5 encoder inside the pipeline: sentence vectors against the golden outputs of an independent
// implementation (tokenizer + forward pass together), training on it, bundles that refuse other weights.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encoder/e5/safetensors.h"
#include "logclf/classifier.h"
#include "logclf/encoder.h"
#include "logclf/io.h"
#include "logclf/train.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf {
namespace {

namespace fs = std::filesystem;
using testing::shared_file;
using testing::TempDir;

struct GoldenText {
  std::string text;
  std::vector<float> embedding;
};

std::vector<GoldenText> golden_texts(const fs::path& file) {
  std::vector<GoldenText> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto doc = nlohmann::json::parse(line);
    out.push_back({doc["text"].get<std::string>(), doc["embedding"].get<std::vector<float>>()});
  }
  return out;
}

// A complete small model directory (tiny-bert) or a skip.
#define TINY_BERT_OR_SKIP(dir)                                                                     \
  const fs::path dir = shared_file("golden/tiny-bert/model.safetensors").parent_path();           \
  if (dir.empty()) GTEST_SKIP() << "SKIPPED: ../shared/golden/tiny-bert is absent"

TEST(E5Pipeline, SentenceVectorsMatchTheGoldenEmbeddings) {
  TINY_BERT_OR_SKIP(dir);
  const auto golden = golden_texts(dir / "golden.jsonl");
  ASSERT_EQ(golden.size(), 498u);
  const SentenceEncoder encoder = SentenceEncoder::open({.kind = "", .dir = dir.string(), .threads = 2});
  ASSERT_EQ(encoder.dim(), 32u);
  std::vector<std::string_view> texts;
  for (const auto& g : golden) texts.push_back(g.text);
  const auto vectors = encoder.embed(texts);
  double worst = 0;
  std::size_t worst_text = 0;
  for (std::size_t i = 0; i < golden.size(); ++i)
    for (std::size_t k = 0; k < 32; ++k) {
      const double diff = std::fabs(vectors[i][k] - golden[i].embedding[k]);
      if (diff > worst) worst = diff, worst_text = i;
    }
  EXPECT_LT(worst, 1e-4) << "largest difference on: " << golden[worst_text].text.substr(0, 200);
}

TEST(E5Pipeline, EmbedCommandPrintsOneVectorPerTextInOrder) {
  TINY_BERT_OR_SKIP(dir);
  const auto golden = golden_texts(dir / "golden.jsonl");
  TempDir tmp;
  {
    // JSON lines, so that a text may hold a newline; the first three golden texts.
    std::ofstream out(tmp / "texts.jsonl");
    for (int i = 0; i < 3; ++i) out << nlohmann::json{{"text", golden[i].text}}.dump() << "\n";
  }
  // fp32, to compare with the golden vectors (the CLI's default is int8 where the CPU has it).
  const auto r = testing::run(testing::cli() + " embed --precision fp32 --encoder-dir " + dir.string() +
                              " --format jsonl " + (tmp / "texts.jsonl") + " 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  std::istringstream lines(r.output);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto v = nlohmann::json::parse(line).get<std::vector<float>>();
    ASSERT_EQ(v.size(), 32u);
    for (std::size_t k = 0; k < 32; ++k) EXPECT_NEAR(v[k], golden[n].embedding[k], 1e-4);
    ++n;
  }
  EXPECT_EQ(n, 3);

  // --prefix is put before every plain line: "passage: " + the text without it gives the same vector.
  const std::string first = golden[0].text.substr(std::string("passage: ").size());
  {
    std::ofstream out(tmp / "texts.txt");
    out << first << "\n";
  }
  const auto p = testing::run(testing::cli() + " embed --precision fp32 --encoder-dir " + dir.string() +
                              " --prefix 'passage: ' " + (tmp / "texts.txt") + " 2>/dev/null");
  ASSERT_EQ(p.status, 0) << p.output;
  const auto v = nlohmann::json::parse(p.output).get<std::vector<float>>();
  for (std::size_t k = 0; k < 32; ++k) EXPECT_NEAR(v[k], golden[0].embedding[k], 1e-4);

  const auto bad = testing::run(testing::cli() + " embed --encoder-dir " + dir.string() + " --format jsonl " +
                                (tmp / "texts.txt"));
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("texts.txt:1"), std::string::npos) << bad.output;
}

TEST(E5Pipeline, NoWeightsFoundSaysWhereItLooked) {
  TempDir tmp;
  const auto r = testing::run("LOGCLF_E5_DIR= HF_HOME=" + (tmp / "hf") + " HF_HUB_CACHE= " + testing::cli() +
                              " embed " + (tmp / "none.txt"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("model download"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(tmp / "hf"), std::string::npos) << r.output;
}

// Seed rows, or a skip.
std::vector<LabeledLine> seed_rows() {
  const fs::path path = shared_file("data/synthetic_logs.csv");
  if (path.empty()) return {};
  ReadOptions o;
  o.require_label = true;
  return read_labeled(path.string(), o);
}

TEST(E5Pipeline, TrainSaveLoadAndRefuseOtherWeights) {
  TINY_BERT_OR_SKIP(dir);
  const auto rows = seed_rows();
  if (rows.empty()) GTEST_SKIP() << "SKIPPED: ../shared/data/synthetic_logs.csv is absent";
  TrainOptions options;
  options.encoder = {.kind = std::string(kE5Encoder), .dir = dir.string(), .threads = 2};
  options.exclude_sources = {"LegacyCRM"};
  const TrainResult result = train(rows, options);
  ASSERT_TRUE(result.classifier);
  EXPECT_EQ(result.classifier->encoder_kind(), kE5Encoder);
  EXPECT_TRUE(result.classifier->encoder_batches());  // the micro-batcher and the stream batch for it
  ASSERT_TRUE(result.held_out);
  // A random 2-layer BERT carries little meaning, but it separates these templated labels far above chance.
  EXPECT_GT(result.held_out->accuracy(), 0.5);

  TempDir tmp;
  const std::string model = tmp / "model";
  result.classifier->save(model);
  EXPECT_FALSE(fs::exists(fs::path(model) / "encoder.bin"));
  const auto meta = nlohmann::json::parse(testing::read_text(fs::path(model) / "logclf-model.json"));
  EXPECT_EQ(meta["encoder"]["kind"], "e5-small-v2");
  EXPECT_EQ(meta["encoder"]["params"]["prefix"], "passage: ");
  EXPECT_EQ(meta["encoder"]["params"]["fingerprint"].get<std::string>().rfind("xxh3-128:", 0), 0u);

  const Classifier loaded = Classifier::load(model, {.kind = "", .dir = dir.string(), .threads = 1});
  std::vector<LogLine> lines;
  for (std::size_t i = 0; i < 200; ++i) lines.push_back({rows[i].message, rows[i].source});
  const auto batch = loaded.classify_batch(lines, true);
  const auto original = result.classifier->classify_batch(lines, true);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Prediction single = loaded.classify(lines[i].message, lines[i].source);
    EXPECT_EQ(batch[i].label, original[i].label) << lines[i].message;
    EXPECT_EQ(single.label, batch[i].label) << lines[i].message;
    EXPECT_NEAR(single.confidence, batch[i].confidence, 1e-5) << lines[i].message;
  }

  // Other weights of the same shape (one value changed) are refused, naming both fingerprints.
  const std::string other = tmp / "other";
  fs::create_directories(other);
  for (const char* f : {"config.json", "vocab.txt"}) fs::copy_file(dir / f, fs::path(other) / f);
  {
    const auto weights = encoder::e5::SafeTensors::open((dir / "model.safetensors").string());
    std::vector<encoder::e5::TensorData> tensors;
    for (const auto& [name, t] : weights.tensors()) tensors.push_back({name, t.shape, t.to_f32()});
    for (auto& t : tensors)
      if (t.name.find("pooler.") == std::string::npos) {
        t.values[0] += 0.5f;  // pooler.* is not used, so not fingerprinted: change a used tensor
        break;
      }
    encoder::e5::write_safetensors(other + "/model.safetensors", tensors);
  }
  try {
    Classifier::load(model, {.kind = "", .dir = other, .threads = 1});
    FAIL() << "other weights were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fingerprint"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(other), std::string::npos) << e.what();
  }
  // The model's encoder kind is checked when the caller names one.
  EXPECT_THROW(Classifier::load(model, {.kind = "lexical", .dir = dir.string(), .threads = 1}), Error);

  // The CLI: classify with the weights directory, and model info without the weights.
  const auto r = testing::run(testing::cli() + " classify -q -m " + model + " --encoder-dir " + dir.string() +
                              " " + (testing::source_dir() / "examples/example.csv").string() + " -o " +
                              (tmp / "out.csv"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(testing::read_text(tmp / "out.csv").find("predicted_label"), std::string::npos);
  const auto info = testing::run("LOGCLF_E5_DIR= " + testing::cli() + " model info -m " + model);
  ASSERT_EQ(info.status, 0) << info.output;
  EXPECT_NE(info.output.find("e5-small-v2"), std::string::npos);
}

}  // namespace
}  // namespace logclf
