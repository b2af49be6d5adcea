#include "encoder/e5/model_files.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "encoder/e5/config.h"
#include "encoder/e5/random_weights.h"
#include "encoder/e5/safetensors.h"
#include "logclf/types.h"
#include "support/env.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf::encoder::e5 {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

using testing::ScopedEnv;

void touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "x";
}

// A directory with the files locate_model looks for (their contents are not read).
void make_model_dir(const fs::path& dir, bool weights = true, const char* tokenizer = "vocab.txt") {
  touch(dir / "config.json");
  if (weights) touch(dir / "model.safetensors");
  if (tokenizer != nullptr) touch(dir / tokenizer);
}

std::string locate_error(const std::string& explicit_dir) {
  try {
    locate_model(explicit_dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Isolates a test from the machine's own LOGCLF_E5_DIR and Hugging Face cache.
struct Isolated {
  TempDir home;
  ScopedEnv e5{"LOGCLF_E5_DIR", std::nullopt};
  ScopedEnv hub{"HF_HUB_CACHE", home / "hub"};
  ScopedEnv hf_home{"HF_HOME", std::nullopt};
  fs::path repo() const { return fs::path(home / "hub") / "models--intfloat--e5-small-v2"; }
};

TEST(E5ModelFiles, ExplicitDirectoryMustQualifyWithoutFallback) {
  Isolated iso;
  TempDir good, bad;
  make_model_dir(good.path(), true, "tokenizer.json");
  const ModelLocation found = locate_model(good.path().string());
  EXPECT_EQ(found.dir, good.path().string());
  EXPECT_EQ(found.found_by, "--encoder-dir");

  make_model_dir(bad.path(), false);
  const ScopedEnv env("LOGCLF_E5_DIR", good.path().string());  // would qualify, but is not consulted
  EXPECT_EQ(locate_error(bad.path().string()),
            "encoder directory " + bad.path().string() + " is not a model directory: missing model.safetensors");
  EXPECT_NE(locate_error(bad / "nope").find("does not exist"), std::string::npos);
  fs::remove(bad / "vocab.txt");
  fs::remove(bad / "config.json");
  EXPECT_NE(locate_error(bad.path().string())
                .find("missing config.json, model.safetensors, vocab.txt or tokenizer.json"),
            std::string::npos);
}

TEST(E5ModelFiles, EnvironmentComesBeforeTheCache) {
  Isolated iso;
  TempDir env_dir;
  make_model_dir(env_dir.path());
  make_model_dir(iso.repo() / "snapshots" / "abc");
  {
    const ScopedEnv env("LOGCLF_E5_DIR", env_dir.path().string());
    const ModelLocation found = locate_model("");
    EXPECT_EQ(found.dir, env_dir.path().string());
    EXPECT_EQ(found.found_by, "$LOGCLF_E5_DIR");
  }
  // An incomplete $LOGCLF_E5_DIR falls through to the cache.
  fs::remove(env_dir / "model.safetensors");
  const ScopedEnv env("LOGCLF_E5_DIR", env_dir.path().string());
  EXPECT_EQ(locate_model("").dir, (iso.repo() / "snapshots" / "abc").string());
}

TEST(E5ModelFiles, CachePrefersRefsMainThenTheNewestCompleteSnapshot) {
  Isolated iso;
  const fs::path snapshots = iso.repo() / "snapshots";
  make_model_dir(snapshots / "old");
  make_model_dir(snapshots / "main-commit");
  make_model_dir(snapshots / "newest", false);  // incomplete
  const auto now = fs::file_time_type::clock::now();
  fs::last_write_time(snapshots / "old", now - std::chrono::hours(3));
  fs::last_write_time(snapshots / "main-commit", now - std::chrono::hours(2));
  fs::last_write_time(snapshots / "newest", now - std::chrono::hours(1));

  fs::create_directories(iso.repo() / "refs");
  std::ofstream(iso.repo() / "refs" / "main") << "main-commit";
  ModelLocation found = locate_model("");
  EXPECT_EQ(found.dir, (snapshots / "main-commit").string());
  EXPECT_EQ(found.found_by, "Hugging Face cache (refs/main)");

  // refs/main names an incomplete snapshot: the newest complete one.
  fs::remove(snapshots / "main-commit" / "model.safetensors");
  make_model_dir(snapshots / "mid");
  fs::last_write_time(snapshots / "mid", now - std::chrono::minutes(90));
  found = locate_model("");
  EXPECT_EQ(found.dir, (snapshots / "mid").string());
  EXPECT_EQ(found.found_by, "Hugging Face cache (newest snapshot)");

  // A dangling blob symlink counts as missing.
  fs::remove_all(snapshots / "mid");
  fs::remove_all(snapshots / "old");
  fs::remove(snapshots / "newest" / "config.json");
  make_model_dir(snapshots / "newest", false);
  fs::create_symlink("../../blobs/absent", snapshots / "newest" / "model.safetensors");
  const std::string message = locate_error("");
  EXPECT_NE(message.find((snapshots / "newest").string() + " (newest snapshot): missing model.safetensors"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find((snapshots / "main-commit").string() + " (refs/main): missing model.safetensors"),
            std::string::npos)
      << message;
}

TEST(E5ModelFiles, NothingFoundListsEveryPlaceAndHowToGetTheWeights) {
  Isolated iso;
  std::string message = locate_error("");
  EXPECT_NE(message.find("no e5-small-v2 model found"), std::string::npos) << message;
  EXPECT_NE(message.find("$LOGCLF_E5_DIR: not set"), std::string::npos) << message;
  EXPECT_NE(message.find("Hugging Face cache " + iso.repo().string() + ": absent"), std::string::npos) << message;
  EXPECT_NE(message.find("logclf model download e5-small-v2"), std::string::npos) << message;
  EXPECT_NE(message.find("--encoder-dir DIR"), std::string::npos) << message;

  TempDir env_dir;
  make_model_dir(env_dir.path(), true, nullptr);
  fs::create_directories(iso.repo() / "snapshots");
  const ScopedEnv env("LOGCLF_E5_DIR", env_dir.path().string());
  message = locate_error("");
  EXPECT_NE(message.find("$LOGCLF_E5_DIR=" + env_dir.path().string() + ": missing vocab.txt or tokenizer.json"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find((iso.repo() / "snapshots").string() + ": no snapshot"), std::string::npos) << message;
}

TEST(E5ModelFiles, HuggingFaceCacheDirectoryRule) {
  const ScopedEnv home("HOME", "/home/someone");
  {
    const ScopedEnv hub("HF_HUB_CACHE", "/data/hub");
    const ScopedEnv hf("HF_HOME", "/data/hf");
    EXPECT_EQ(default_hf_cache_dir(), "/data/hub");
  }
  const ScopedEnv hub("HF_HUB_CACHE", std::nullopt);
  {
    const ScopedEnv hf("HF_HOME", "~/hf");
    EXPECT_EQ(default_hf_cache_dir(), "/home/someone/hf/hub");
  }
  const ScopedEnv hf("HF_HOME", std::nullopt);
  {
    const ScopedEnv xdg("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(default_hf_cache_dir(), "/xdg/huggingface/hub");
  }
  const ScopedEnv xdg("XDG_CACHE_HOME", std::nullopt);
  EXPECT_EQ(default_hf_cache_dir(), "/home/someone/.cache/huggingface/hub");
  EXPECT_EQ(hf_repo_cache_dir("/c", "intfloat/e5-small-v2"), "/c/models--intfloat--e5-small-v2");
}

TEST(E5ModelFiles, TokenizerFromEnvironmentOrCache) {
  Isolated iso;
  EXPECT_FALSE(locate_tokenizer_dir());
  make_model_dir(iso.repo() / "snapshots" / "abc", false, "tokenizer.json");
  EXPECT_EQ(locate_tokenizer_dir(), (iso.repo() / "snapshots" / "abc").string());
  TempDir env_dir;
  make_model_dir(env_dir.path(), false);
  const ScopedEnv env("LOGCLF_E5_DIR", env_dir.path().string());
  EXPECT_EQ(locate_tokenizer_dir(), env_dir.path().string());
}

// ---- random weights --------------------------------------------------------------------------------

BertConfig tiny_config() {
  BertConfig c;
  c.vocab_size = 30522;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 64;
  c.pad_token_id = 0;
  return c;
}

TEST(E5RandomWeights, SameTensorsAsHuggingFaceBertModel) {
  // tiny-bert's model.safetensors was written by PyTorch from transformers' BertModel with this shape.
  const auto reference = testing::shared_file("golden/tiny-bert/model.safetensors");
  if (reference.empty()) GTEST_SKIP() << "SKIPPED: ../shared/golden/tiny-bert/model.safetensors is absent";
  const SafeTensors hf = SafeTensors::open(reference.string());
  const std::vector<TensorData> ours = random_bert_tensors(tiny_config(), 7);
  ASSERT_EQ(ours.size(), hf.tensors().size());
  for (const TensorData& t : ours) {
    ASSERT_TRUE(hf.contains(t.name)) << t.name;
    EXPECT_EQ(t.shape, hf.tensor(t.name).shape) << t.name;
    EXPECT_EQ(t.values.size(), hf.tensor(t.name).elements()) << t.name;
  }
}

TEST(E5RandomWeights, InitialisedLikeTransformersAndDeterministic) {
  BertConfig c = tiny_config();
  c.pad_token_id = 3;
  const std::vector<TensorData> a = random_bert_tensors(c, 42);
  const std::vector<TensorData> b = random_bert_tensors(c, 42);
  const std::vector<TensorData> other = random_bert_tensors(c, 43);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].values, b[i].values) << a[i].name;
  EXPECT_NE(a[0].values, other[0].values);

  for (const TensorData& t : a) {
    const bool layer_norm = t.name.find("LayerNorm") != std::string::npos;
    const bool bias = t.name.ends_with(".bias");
    if (layer_norm || bias) {
      const float expected = layer_norm && !bias ? 1.0f : 0.0f;
      for (const float v : t.values) ASSERT_EQ(v, expected) << t.name;
      continue;
    }
    // normal(0, 0.02): mean and standard deviation within a few standard errors.
    double sum = 0, squares = 0;
    for (const float v : t.values) {
      sum += v;
      squares += static_cast<double>(v) * v;
    }
    const double n = static_cast<double>(t.values.size());
    const double mean = sum / n;
    const double stddev = std::sqrt(squares / n - mean * mean);
    EXPECT_NEAR(mean, 0.0, 5 * 0.02 / std::sqrt(n)) << t.name;
    EXPECT_NEAR(stddev, 0.02, 5 * 0.02 / std::sqrt(2 * n)) << t.name;
  }
  // The padding token's embedding row is zero, as nn.Embedding(padding_idx) is initialised.
  const TensorData& words = a[0];
  ASSERT_EQ(words.name, "embeddings.word_embeddings.weight");
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(words.values[3 * 32 + j], 0.0f);
    EXPECT_NE(words.values[2 * 32 + j], 0.0f);
  }
  c.pad_token_id = c.vocab_size;
  EXPECT_THROW(random_bert_tensors(c, 1), Error);
}

TEST(E5RandomWeights, WritesACompleteModelDirectory) {
  const auto tokenizer = testing::shared_file("golden/tiny-bert/vocab.txt");
  if (tokenizer.empty()) GTEST_SKIP() << "SKIPPED: ../shared/golden/tiny-bert is absent";
  const fs::path tokenizer_dir = tokenizer.parent_path();
  TempDir dir;
  const std::string model = dir / "model";
  write_random_model(model, tiny_config(), 5, tokenizer_dir.string());
  EXPECT_TRUE(missing_model_files(model).empty());
  EXPECT_EQ(locate_model(model).dir, model);
  for (const char* name : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_EQ(testing::read_text(fs::path(model) / name), testing::read_text(tokenizer_dir / name)) << name;
  const BertConfig back = BertConfig::load(model + "/config.json");
  EXPECT_EQ(back.hidden_size, 32);
  EXPECT_EQ(back.num_hidden_layers, 2);
  const SafeTensors st = SafeTensors::open(model + "/model.safetensors");
  EXPECT_EQ(st.metadata().at("format"), "pt");
  const auto expected = random_bert_tensors(tiny_config(), 5);
  ASSERT_EQ(st.tensors().size(), expected.size());
  for (const TensorData& t : expected) EXPECT_EQ(st.tensor(t.name).to_f32(), t.values) << t.name;

  // Without a vocabulary nothing is written.
  TempDir empty;
  EXPECT_THROW(write_random_model(dir / "other", tiny_config(), 5, empty.path().string()), Error);
  EXPECT_FALSE(fs::exists(dir / "other"));
  // A vocabulary larger than the configuration's is refused.
  BertConfig small = tiny_config();
  small.vocab_size = 100;
  EXPECT_THROW(write_random_model(dir / "small", small, 5, tokenizer_dir.string()), Error);
}

// ---- the command line ------------------------------------------------------------------------------

TEST(E5ModelCli, RandomLikeE5WritesTheRealShape) {
  const auto tokenizer = testing::shared_file("models/e5-small-v2/vocab.txt");
  if (tokenizer.empty()) GTEST_SKIP() << "SKIPPED: ../shared/models/e5-small-v2 is absent";
  TempDir dir;
  const std::string model = dir / "e5-random";
  const auto r = testing::run(testing::cli() + " model random --like e5-small-v2 " + model + " --seed 3 --tokenizer-dir " +
                              tokenizer.parent_path().string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(locate_model(model).dir, model);
  const BertConfig config = BertConfig::load(model + "/config.json");
  const SafeTensors st = SafeTensors::open(model + "/model.safetensors");
  EXPECT_EQ(st.tensors().size(), 5u + 16u * 12u + 2u);
  EXPECT_EQ(st.tensor("embeddings.word_embeddings.weight").shape, (std::vector<std::int64_t>{30522, 384}));
  EXPECT_EQ(st.tensor("embeddings.position_embeddings.weight").shape, (std::vector<std::int64_t>{512, 384}));
  EXPECT_EQ(st.tensor("encoder.layer.11.intermediate.dense.weight").shape, (std::vector<std::int64_t>{1536, 384}));
  EXPECT_EQ(st.tensor("encoder.layer.11.output.dense.weight").shape, (std::vector<std::int64_t>{384, 1536}));
  EXPECT_EQ(st.tensor("pooler.dense.weight").shape, (std::vector<std::int64_t>{384, 384}));
  EXPECT_EQ(config.hidden_size, 384);
  EXPECT_EQ(config.num_hidden_layers, 12);
  // 33,360,000 parameters (hand-counted: embeddings 11,918,592, 12 layers of 1,774,464, pooler 147,840) as
  // F32; the real e5-small-v2 file is these bytes plus its 22,128-byte header.
  std::uint64_t bytes = 0;
  for (const auto& [name, tensor] : st.tensors()) bytes += tensor.bytes.size();
  EXPECT_EQ(bytes, 133'440'000u);

  // A non-empty directory that is not a model is not overwritten.
  const std::string other = dir / "notes";
  fs::create_directories(other);
  std::ofstream(other + "/keep.txt") << "mine";
  const auto refused = testing::run(testing::cli() + " model random --like e5-small-v2 " + other +
                                    " --tokenizer-dir " + tokenizer.parent_path().string());
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.output.find(other + " is not empty and is not a model directory"), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(other + "/model.safetensors"));
}

}  // namespace
}  // namespace logclf::encoder::e5
