#include "encoder/e5/random_weights.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>

#include "logclf/io.h"
#include "logclf/types.h"
#include "util/random.h"

namespace logclf::encoder::e5 {
namespace fs = std::filesystem;
namespace {

// transformers' BertConfig.initializer_range default, also what BertConfig::to_json writes.
constexpr double kInitializerRange = 0.02;

// The tokenizer files a model directory carries; the first two are the alternatives one of which is needed.
constexpr const char* kTokenizerFiles[] = {"vocab.txt", "tokenizer.json", "tokenizer_config.json",
                                           "special_tokens_map.json"};

class Normal {
 public:
  explicit Normal(std::uint64_t seed) : random_(seed) {}
  // Box-Muller on util::Random (std::normal_distribution's algorithm differs between standard libraries).
  float next(double stddev) {
    if (has_spare_) {
      has_spare_ = false;
      return static_cast<float>(spare_ * stddev);
    }
    const double u1 = 1.0 - random_.uniform();  // (0, 1]: log stays finite
    const double u2 = random_.uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * std::numbers::pi * u2);
    has_spare_ = true;
    return static_cast<float>(r * std::cos(2.0 * std::numbers::pi * u2) * stddev);
  }

 private:
  util::Random random_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error("cannot read '" + path.string() + "'");
  return text.str();
}

}  // namespace

std::vector<TensorData> random_bert_tensors(const BertConfig& config, std::uint64_t seed) {
  // BertConfig::parse guarantees these; a configuration built in code may not.
  if (config.pad_token_id < 0 || config.pad_token_id >= config.vocab_size || config.hidden_size <= 0 ||
      config.intermediate_size <= 0 || config.max_position_embeddings <= 0 || config.type_vocab_size <= 0)
    throw Error("random BERT weights: invalid configuration (sizes must be positive, pad_token_id < vocab_size)");
  Normal normal(seed);
  std::vector<TensorData> tensors;
  const std::int64_t h = config.hidden_size;
  const std::int64_t inter = config.intermediate_size;
  auto weight = [&](std::string name, std::int64_t rows, std::int64_t cols) {
    TensorData t{std::move(name), {rows, cols}, std::vector<float>(static_cast<std::size_t>(rows * cols))};
    for (float& v : t.values) v = normal.next(kInitializerRange);
    tensors.push_back(std::move(t));
  };
  auto constant = [&](std::string name, std::int64_t size, float value) {
    tensors.push_back({std::move(name), {size}, std::vector<float>(static_cast<std::size_t>(size), value)});
  };
  auto layer_norm = [&](const std::string& prefix) {
    constant(prefix + ".weight", h, 1.0f);
    constant(prefix + ".bias", h, 0.0f);
  };
  auto linear = [&](const std::string& prefix, std::int64_t out, std::int64_t in) {
    weight(prefix + ".weight", out, in);  // PyTorch's Linear stores [out_features, in_features]
    constant(prefix + ".bias", out, 0.0f);
  };

  weight("embeddings.word_embeddings.weight", config.vocab_size, h);
  // nn.Embedding(padding_idx=pad_token_id): transformers zeroes that row after the normal init.
  auto& words = tensors.back().values;
  std::fill_n(words.begin() + config.pad_token_id * h, h, 0.0f);
  weight("embeddings.position_embeddings.weight", config.max_position_embeddings, h);
  weight("embeddings.token_type_embeddings.weight", config.type_vocab_size, h);
  layer_norm("embeddings.LayerNorm");
  for (int i = 0; i < config.num_hidden_layers; ++i) {
    const std::string layer = "encoder.layer." + std::to_string(i);
    linear(layer + ".attention.self.query", h, h);
    linear(layer + ".attention.self.key", h, h);
    linear(layer + ".attention.self.value", h, h);
    linear(layer + ".attention.output.dense", h, h);
    layer_norm(layer + ".attention.output.LayerNorm");
    linear(layer + ".intermediate.dense", inter, h);
    linear(layer + ".output.dense", h, inter);
    layer_norm(layer + ".output.LayerNorm");
  }
  linear("pooler.dense", h, h);
  return tensors;
}

void write_random_model(const std::string& dir, const BertConfig& config, std::uint64_t seed,
                        const std::string& tokenizer_dir) {
  // Everything is checked before anything is written.
  std::vector<std::pair<std::string, std::string>> tokenizer;  // file name, content
  for (const char* name : kTokenizerFiles) {
    const fs::path source = fs::path(tokenizer_dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(source, ec)) tokenizer.emplace_back(name, read_file(source));
  }
  const bool has_vocab = std::any_of(tokenizer.begin(), tokenizer.end(), [](const auto& f) {
    return f.first == "vocab.txt" || f.first == "tokenizer.json";
  });
  if (!has_vocab) throw Error("tokenizer directory " + tokenizer_dir + " holds neither vocab.txt nor tokenizer.json");
  for (const auto& [name, text] : tokenizer) {
    if (name != "vocab.txt") continue;
    const auto tokens = std::count(text.begin(), text.end(), '\n') + (!text.empty() && text.back() != '\n');
    if (tokens > config.vocab_size)
      throw Error(tokenizer_dir + "/vocab.txt has " + std::to_string(tokens) + " tokens, more than vocab_size " +
                  std::to_string(config.vocab_size));
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create directory '" + dir + "': " + ec.message());
  for (const auto& [name, text] : tokenizer) write_file_atomic((fs::path(dir) / name).string(), text);
  write_file_atomic((fs::path(dir) / "config.json").string(), config.to_json());
  write_safetensors((fs::path(dir) / "model.safetensors").string(), random_bert_tensors(config, seed),
                    {{"format", "pt"}});
}

}  // namespace logclf::encoder::e5
