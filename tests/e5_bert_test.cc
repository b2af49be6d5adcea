// The BERT forward pass against an independent PyTorch implementation (shared/golden/tiny-bert), batching
// invariance, weight dtypes and names, and the errors of bad weight files.
#include "encoder/e5/bert.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "encoder/e5/kernels.h"
#include "encoder/e5/random_weights.h"
#include "logclf/types.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf::encoder::e5 {
namespace {

using testing::TempDir;

struct Golden {
  std::vector<std::vector<std::int32_t>> ids;
  std::vector<std::vector<float>> pooled, embedding;
};

const Golden& golden(const std::filesystem::path& dir) {
  static const Golden g = [&] {
    Golden out;
    std::ifstream in(dir / "golden.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      const auto doc = nlohmann::json::parse(line);
      out.ids.push_back(doc.at("ids").get<std::vector<std::int32_t>>());
      out.pooled.push_back(doc.at("pooled").get<std::vector<float>>());
      out.embedding.push_back(doc.at("embedding").get<std::vector<float>>());
    }
    return out;
  }();
  return g;
}

#define TINY_BERT_OR_SKIP(dir)                                                                        \
  const std::filesystem::path dir = testing::shared_file("golden/tiny-bert/golden.jsonl").parent_path(); \
  if (dir.empty()) GTEST_SKIP() << "shared/golden/tiny-bert is absent: the golden BERT test cannot run"

std::vector<std::span<const std::int32_t>> spans(const std::vector<std::vector<std::int32_t>>& ids, std::size_t begin,
                                                  std::size_t end) {
  std::vector<std::span<const std::int32_t>> out;
  for (std::size_t i = begin; i < end; ++i) out.emplace_back(ids[i]);
  return out;
}

// Each text alone: the rows of a 498 × hidden matrix.
std::vector<float> embed_one_by_one(const BertModel& model, const std::vector<std::vector<std::int32_t>>& ids,
                                    bool normalize) {
  const std::size_t h = static_cast<std::size_t>(model.config().hidden_size);
  std::vector<float> out(ids.size() * h);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::span<const std::int32_t> one(ids[i]);
    model.embed(std::span(&one, 1), out.data() + i * h, normalize);
  }
  return out;
}

double largest_difference(const std::vector<float>& got, const std::vector<std::vector<float>>& want) {
  double worst = 0.0;
  const std::size_t h = want[0].size();
  for (std::size_t i = 0; i < want.size(); ++i)
    for (std::size_t j = 0; j < h; ++j) worst = std::max(worst, std::abs(static_cast<double>(got[i * h + j]) - want[i][j]));
  return worst;
}

TEST(E5Bert, MatchesPyTorchOnGoldenTexts) {
  TINY_BERT_OR_SKIP(dir);
  const Golden& g = golden(dir);
  ASSERT_EQ(g.ids.size(), 498u);
  const auto model = BertModel::load(dir.string());
  ASSERT_EQ(model->config().hidden_size, 32);
  const double pooled = largest_difference(embed_one_by_one(*model, g.ids, false), g.pooled);
  const double embedding = largest_difference(embed_one_by_one(*model, g.ids, true), g.embedding);
  EXPECT_LT(pooled, 1e-4);
  EXPECT_LT(embedding, 1e-4);
  std::printf("tiny-bert, %s kernels: largest difference to PyTorch: pooled %.2g, embedding %.2g\n",
              std::string(to_string(best_isa())).c_str(), pooled, embedding);
}

// The fallback for CPUs without AVX2 gives the same results (the embeddings: the pooled vectors differ
// from them only by the normalisation checked above).
TEST(E5Bert, PortableKernelsMatchPyTorch) {
  TINY_BERT_OR_SKIP(dir);
  const Golden& g = golden(dir);
  BertOptions options;
  options.portable = true;
  const auto model = BertModel::load(dir.string(), options);
  const double embedding = largest_difference(embed_one_by_one(*model, g.ids, true), g.embedding);
  EXPECT_LT(embedding, 1e-4);
  std::printf("tiny-bert, portable kernels: largest difference to PyTorch: embedding %.2g\n", embedding);
}

TEST(E5Bert, BatchesGiveEachTextItsOwnResult) {
  TINY_BERT_OR_SKIP(dir);
  const Golden& g = golden(dir);
  BertOptions options;
  options.threads = 2;
  const auto model = BertModel::load(dir.string(), options);
  const std::size_t h = 32;
  const std::vector<float> single = embed_one_by_one(*model, g.ids, true);
  // Batches of 32 in file order (mixed lengths, 2 to 512 tokens), of 7, and all 498 at once (34,712 tokens,
  // more than one forward pass).
  for (const std::size_t batch : {std::size_t{32}, std::size_t{7}, g.ids.size()}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::vector<float> out(g.ids.size() * h);
    for (std::size_t begin = 0; begin < g.ids.size(); begin += batch) {
      const std::size_t end = std::min(g.ids.size(), begin + batch);
      const auto b = spans(g.ids, begin, end);
      model->embed(b, out.data() + begin * h, true);
    }
    double worst = 0.0;
    for (std::size_t i = 0; i < out.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(out[i]) - single[i]));
    EXPECT_LT(worst, 1e-5);
    std::printf("batches of %zu: largest difference to one text at a time %.2g\n", batch, worst);
  }
}

TEST(E5Bert, ConcurrentCallsAreSafe) {
  TINY_BERT_OR_SKIP(dir);
  const Golden& g = golden(dir);
  const auto model = BertModel::load(dir.string());
  const std::size_t n = 64, h = 32;
  const auto b = spans(g.ids, 0, n);
  std::vector<float> expected(n * h), first(n * h), second(n * h);
  model->embed(b, expected.data(), true);
  std::thread other([&] { model->embed(b, first.data(), true); });
  model->embed(b, second.data(), true);
  other.join();
  EXPECT_EQ(first, expected);
  EXPECT_EQ(second, expected);
}

TEST(E5Bert, RejectsBadTokenSequences) {
  TINY_BERT_OR_SKIP(dir);
  const auto model = BertModel::load(dir.string());
  std::vector<float> out(32);
  const auto error_of = [&](const std::vector<std::int32_t>& ids) -> std::string {
    const std::span<const std::int32_t> one(ids);
    try {
      model->embed(std::span(&one, 1), out.data(), true);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of({101, 30522, 102}).find("token id 30522 at position 1 is outside the vocabulary"),
            std::string::npos);
  EXPECT_NE(error_of({101, -1, 102}).find("token id -1"), std::string::npos);
  EXPECT_NE(error_of({}).find("has 0 tokens"), std::string::npos);
  EXPECT_NE(error_of(std::vector<std::int32_t>(513, 1000)).find("has 513 tokens; the model takes 1 to 512"),
            std::string::npos);
  EXPECT_EQ(error_of(std::vector<std::int32_t>(512, 1000)), "");
}

// ---- weight files ------------------------------------------------------------------------------------

// A complete small model directory with random weights and the given tensor list.
BertConfig tiny_config() {
  BertConfig c;
  c.vocab_size = 40;
  c.hidden_size = 8;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 16;
  c.max_position_embeddings = 16;
  return c;
}

void write_model(const TempDir& dir, const BertConfig& config, const std::vector<TensorData>& tensors) {
  std::ofstream(dir / "config.json") << config.to_json();
  write_safetensors(dir / "model.safetensors", tensors);
}

std::string load_error(const TempDir& dir) {
  try {
    BertModel::load(dir.path().string());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<float> embed_probe(const BertModel& model) {
  const std::vector<std::int32_t> ids = {1, 7, 3, 39, 2};
  const std::span<const std::int32_t> one(ids);
  std::vector<float> out(static_cast<std::size_t>(model.config().hidden_size));
  model.embed(std::span(&one, 1), out.data(), false);
  return out;
}

TEST(E5Bert, ReportsMissingTensorsByName) {
  TempDir dir;
  auto tensors = random_bert_tensors(tiny_config(), 1);
  std::erase_if(tensors, [](const TensorData& t) { return t.name == "encoder.layer.0.attention.self.key.bias"; });
  write_model(dir, tiny_config(), tensors);
  const std::string error = load_error(dir);
  EXPECT_NE(error.find("model.safetensors"), std::string::npos) << error;
  EXPECT_NE(error.find("'encoder.layer.0.attention.self.key.bias' is missing"), std::string::npos) << error;
}

TEST(E5Bert, ReportsWrongShapes) {
  TempDir dir;
  auto tensors = random_bert_tensors(tiny_config(), 1);
  for (TensorData& t : tensors)
    if (t.name == "encoder.layer.0.intermediate.dense.weight") t.shape = {8, 16};  // transposed: 16 × 8 expected
  write_model(dir, tiny_config(), tensors);
  const std::string error = load_error(dir);
  EXPECT_NE(error.find("model.safetensors: tensor 'encoder.layer.0.intermediate.dense.weight' has shape [8, 16]; "
                       "the configuration implies [16, 8]"),
            std::string::npos)
      << error;
  // A configuration that does not fit the weights is reported the same way.
  TempDir other;
  BertConfig wider = tiny_config();
  wider.hidden_size = 12;
  write_model(other, wider, random_bert_tensors(tiny_config(), 1));
  EXPECT_NE(load_error(other).find("tensor 'embeddings.word_embeddings.weight' has shape [40, 8]; the configuration "
                                   "implies [40, 12]"),
            std::string::npos);
}

TEST(E5Bert, ReportsWrongDtypes) {
  TempDir dir;
  auto tensors = random_bert_tensors(tiny_config(), 1);
  for (TensorData& t : tensors)
    if (t.name == "embeddings.LayerNorm.bias") {
      t.dtype = "I64";
      std::fill(t.values.begin(), t.values.end(), 0.0f);
    }
  write_model(dir, tiny_config(), tensors);
  const std::string error = load_error(dir);
  EXPECT_NE(error.find("model.safetensors: tensor 'embeddings.LayerNorm.bias' has dtype I64; expected F32, F16 or BF16"),
            std::string::npos)
      << error;
}

TEST(E5Bert, AcceptsBertPrefixAndIgnoresPooler) {
  const auto tensors = random_bert_tensors(tiny_config(), 3);
  TempDir plain, prefixed, no_pooler;
  write_model(plain, tiny_config(), tensors);
  auto renamed = tensors;
  for (TensorData& t : renamed) t.name = "bert." + t.name;
  write_model(prefixed, tiny_config(), renamed);
  auto stripped = tensors;
  std::erase_if(stripped, [](const TensorData& t) { return t.name.rfind("pooler.", 0) == 0; });
  ASSERT_LT(stripped.size(), tensors.size());
  write_model(no_pooler, tiny_config(), stripped);
  const auto expected = embed_probe(*BertModel::load(plain.path().string()));
  EXPECT_EQ(embed_probe(*BertModel::load(prefixed.path().string())), expected);
  EXPECT_EQ(embed_probe(*BertModel::load(no_pooler.path().string())), expected);
  // Neither name present: the bare name is reported.
  TempDir neither;
  auto without = tensors;
  std::erase_if(without, [](const TensorData& t) { return t.name == "embeddings.word_embeddings.weight"; });
  write_model(neither, tiny_config(), without);
  EXPECT_NE(load_error(neither).find("'embeddings.word_embeddings.weight' is missing"), std::string::npos);
}

// The golden model converted to F16 and BF16 is computed in F32 from the converted weights, so it differs
// from PyTorch's F32 results only by the weights' rounding: up to 2^-9 (0.2%) of each value for BF16, 2^-11
// for F16. On the 498 texts that moves the unit-length embeddings by at most 2.3e-3 (BF16) and 3.1e-4
// (F16) per component, cosine at least 0.999989 and 0.9999997; the bounds leave 3-4 times that headroom.
TEST(E5Bert, AcceptsHalfPrecisionWeights) {
  TINY_BERT_OR_SKIP(dir);
  const Golden& g = golden(dir);
  const SafeTensors source = SafeTensors::open((dir / "model.safetensors").string());
  struct Case {
    std::string dtype;
    double max_difference, min_cosine;
  };
  for (const Case& c : {Case{"BF16", 1e-2, 0.9999}, Case{"F16", 1e-3, 0.999999}}) {
    SCOPED_TRACE(c.dtype);
    std::vector<TensorData> tensors;
    for (const auto& [name, view] : source.tensors()) tensors.push_back({name, view.shape, view.to_f32(), c.dtype});
    TempDir converted;
    std::filesystem::copy_file(dir / "config.json", converted / "config.json");
    write_safetensors(converted / "model.safetensors", tensors);
    const auto model = BertModel::load(converted.path().string());
    const std::vector<float> got = embed_one_by_one(*model, g.ids, true);
    double worst = 0.0, lowest_cosine = 1.0;
    for (std::size_t i = 0; i < g.ids.size(); ++i) {
      double dot = 0.0;
      for (std::size_t j = 0; j < 32; ++j) {
        worst = std::max(worst, std::abs(static_cast<double>(got[i * 32 + j]) - g.embedding[i][j]));
        dot += static_cast<double>(got[i * 32 + j]) * g.embedding[i][j];
      }
      lowest_cosine = std::min(lowest_cosine, dot);
    }
    EXPECT_LT(worst, c.max_difference);
    EXPECT_GT(lowest_cosine, c.min_cosine);
    std::printf("tiny-bert in %s: largest difference %.2g, lowest cosine %.8f\n", c.dtype.c_str(), worst,
                lowest_cosine);
  }
}

}  // namespace
}  // namespace logclf::encoder::e5
