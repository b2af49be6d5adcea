#include "encoder/e5/bert.h"

#include <sched.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "encoder/e5/kernels.h"
#include "logclf/types.h"
#include "util/hash.h"

namespace logclf::encoder::e5 {

namespace {

// A forward pass covers whole sequences of the batch up to this many tokens (more when one sequence is
// longer): enough rows for the GEMMs to run at full speed while the activations stay small (E5: 37 MB).
constexpr int kTokensPerPass = 4096;

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Reads the tensors of one checkpoint, checking each against the shape the configuration implies, and
// records what the forward pass reads of each: the loading code below is the one list of those tensors,
// in the order the fingerprint takes them.
class TensorReader {
 public:
  explicit TensorReader(const SafeTensors& weights) : weights_(weights) {
    // Checkpoints saved from BertModel have bare names; from a task model (BertForMaskedLM, ...) "bert.".
    if (!weights.contains("embeddings.word_embeddings.weight") &&
        weights.contains("bert.embeddings.word_embeddings.weight"))
      prefix_ = "bert.";
  }

  // `rows`: how many leading rows the forward pass reads, when not all.
  const TensorView& check(const std::string& name, const std::vector<std::int64_t>& shape,
                          std::optional<std::int64_t> rows = {}) {
    const std::string full = prefix_ + name;
    const TensorView& t = weights_.tensor(full);
    if (t.dtype != DType::f32 && t.dtype != DType::f16 && t.dtype != DType::bf16)
      throw Error(weights_.path() + ": tensor '" + full + "' has dtype " + t.dtype_name +
                  "; expected F32, F16 or BF16");
    if (t.shape != shape)
      throw Error(weights_.path() + ": tensor '" + full + "' has shape " + shape_string(t.shape) +
                  "; the configuration implies " + shape_string(shape));
    const std::size_t row = t.elements() / static_cast<std::size_t>(shape[0]);  // shape[0] > 0: configuration
    used_.push_back({name, &t, rows ? static_cast<std::size_t>(*rows) * row : t.elements()});
    return t;
  }

  std::vector<float> read(const std::string& name, const std::vector<std::int64_t>& shape,
                          std::optional<std::int64_t> rows = {}) {
    const TensorView& t = check(name, shape, rows);
    std::vector<float> values(used_.back().elements);
    t.to_f32(0, values.size(), values.data());
    return values;
  }

  // Digests a version tag, then for each tensor read: its name without the prefix, its shape and the values
  // read as little-endian F32 (F16 and BF16 widen exactly), never the dtype or the file's order.
  std::string fingerprint() const {
    util::Xxh128 digest;
    digest.update(kFingerprintTag.data(), kFingerprintTag.size() + 1);
    std::vector<float> chunk;
    for (const Used& u : used_) {
      digest.update(u.name.data(), u.name.size() + 1);
      const std::vector<std::int64_t>& shape = u.view->shape;
      const std::array<std::uint64_t, 2> sizes = {shape.size(), u.elements};
      digest.update(sizes.data(), sizeof sizes);
      digest.update(shape.data(), shape.size() * sizeof(std::int64_t));
      if (u.view->dtype == DType::f32) {
        digest.update(u.view->bytes.data(), u.elements * sizeof(float));  // already those bytes: no copy
        continue;
      }
      constexpr std::size_t kChunk = 16384;
      chunk.resize(kChunk);
      for (std::size_t begin = 0; begin < u.elements; begin += kChunk) {
        const std::size_t n = std::min(kChunk, u.elements - begin);
        u.view->to_f32(begin, n, chunk.data());
        digest.update(chunk.data(), n * sizeof(float));
      }
    }
    return digest.hex();
  }

 private:
  // Changing what is digested changes every fingerprint, and so refuses every bundle: give it a new tag.
  static constexpr std::string_view kFingerprintTag = "e5-values-v1";
  struct Used {
    std::string name;  // without the prefix
    const TensorView* view;
    std::size_t elements;  // read from the first
  };
  const SafeTensors& weights_;
  std::string prefix_;
  std::vector<Used> used_;
};

// A checked tensor's values: read in place when they are aligned F32 in the mapping (no copy of the 133 MB
// of E5 before packing), else converted into `storage`.
const float* values_of(const TensorView& t, std::vector<float>& storage) {
  if (t.dtype == DType::f32 && reinterpret_cast<std::uintptr_t>(t.bytes.data()) % alignof(float) == 0)
    return reinterpret_cast<const float*>(t.bytes.data());
  storage = t.to_f32();
  return storage.data();
}

// A Linear layer's weight, packed for the fp32 GEMM or quantized for the int8 one (only the one in use).
struct Linear {
  PackedMatrix f32;
  QuantizedMatrix int8;

  void pack(bool quantize, const float* w, std::size_t ldw, int n, int k) {
    if (quantize)
      int8.quantize_transposed(w, ldw, n, k);
    else
      f32.pack_transposed(w, ldw, n, k);
  }
  void pack(bool quantize, std::span<const float* const> rows, int k) {
    if (quantize)
      int8.quantize_transposed(rows, k);
    else
      f32.pack_transposed(rows, k);
  }
};

struct Layer {
  Linear qkv, output, intermediate, ffn_output;
  std::vector<float> qkv_bias, output_bias, attention_ln_gamma, attention_ln_beta;
  std::vector<float> intermediate_bias, ffn_output_bias, output_ln_gamma, output_ln_beta;
};

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

struct BertModel::Impl {
  BertConfig config;
  std::string fingerprint;
  // The word embeddings: in place in `mapped` when read there, else in `word_copy`.
  const float* word_embeddings = nullptr;
  std::unique_ptr<SafeTensors> mapped;
  std::vector<float> word_copy;
  std::vector<float> position_embeddings, token_type_embedding, embedding_ln_gamma,
      embedding_ln_beta;
  std::vector<Layer> layers;

  // The forward pass's state: one pass at a time.
  std::mutex mutex;
  Compute compute;
  FloatBuffer hidden, attended, scratch;
  QuantizedRows ffn_int8;  // int8: the FFN's intermediate activations
  std::vector<int> offsets;
  std::vector<double> pooled;

  bool int8;

  Impl(const BertConfig& c, int threads, Isa isa, Int8Isa int8_isa, bool int8)
      : config(c), compute(threads, isa, int8_isa), int8(int8) {}

  void linear(const float* a, std::size_t lda, int m, const Linear& w, float* c, std::size_t ldc,
              const Epilogue& epilogue) {
    if (int8)
      gemm(compute, a, lda, m, w.int8, c, ldc, epilogue);
    else
      gemm(compute, a, lda, m, w.f32, c, ldc, epilogue);
  }

  void forward(std::span<const std::span<const std::int32_t>> sequences, float* out, bool normalize);
};

BertModel::BertModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BertModel::~BertModel() = default;

const BertConfig& BertModel::config() const { return impl_->config; }
const std::string& BertModel::fingerprint() const { return impl_->fingerprint; }
int BertModel::threads() const { return impl_->compute.threads(); }
Precision BertModel::precision() const { return impl_->int8 ? Precision::int8 : Precision::fp32; }
Int8Isa BertModel::int8_isa() const { return impl_->compute.int8_isa(); }

Precision resolve_precision(Precision precision) {
  if (precision != Precision::auto_) return precision;
  return best_int8_isa() != Int8Isa::portable ? Precision::int8 : Precision::fp32;
}

std::unique_ptr<BertModel> BertModel::load(const std::string& dir, const BertOptions& options) {
  const BertConfig config = BertConfig::load(dir + "/config.json");
  auto weights = std::make_unique<SafeTensors>(SafeTensors::open(dir + "/model.safetensors"));
  const SafeTensors& view = *weights;
  return load(config, view, options, std::move(weights));
}

std::unique_ptr<BertModel> BertModel::load(const BertConfig& config, const SafeTensors& weights,
                                           const BertOptions& options) {
  return load(config, weights, options, nullptr);
}

std::unique_ptr<BertModel> BertModel::load(const BertConfig& config, const SafeTensors& weights,
                                           const BertOptions& options, std::unique_ptr<SafeTensors> owned) {
  const std::int64_t h = config.hidden_size;
  const std::int64_t inter = config.intermediate_size;
  if (h <= 0 || inter <= 0 || config.num_attention_heads <= 0 || config.num_hidden_layers <= 0 ||
      config.vocab_size <= 0 || config.max_position_embeddings <= 0 || config.type_vocab_size <= 0 ||
      h % config.num_attention_heads != 0)
    throw Error(weights.path() + ": unusable BERT configuration (hidden_size " + std::to_string(h) + ", " +
                std::to_string(config.num_attention_heads) + " attention heads, " +
                std::to_string(config.num_hidden_layers) + " layers)");
  const int threads = options.threads > 0 ? options.threads : available_cores();
  const bool int8 = resolve_precision(options.precision) == Precision::int8;
  if (options.int8_isa && !int8_isa_supported(*options.int8_isa))
    throw Error("the " + std::string(to_string(*options.int8_isa)) + " kernel is not available on this CPU or in this build");
  const Isa isa = options.portable ? Isa::portable : best_isa();
  const Int8Isa int8_isa = options.int8_isa        ? *options.int8_isa
                           : isa == Isa::portable ? Int8Isa::portable
                                                  : best_int8_isa();
  auto impl = std::make_unique<Impl>(config, threads, isa, int8_isa, int8);
  TensorReader reader(weights);

  const TensorView& words = reader.check("embeddings.word_embeddings.weight", {config.vocab_size, h});
  impl->position_embeddings = reader.read("embeddings.position_embeddings.weight", {config.max_position_embeddings, h});
  // Every token has type 0: only the first row is read.
  impl->token_type_embedding =
      reader.read("embeddings.token_type_embeddings.weight", {config.type_vocab_size, h}, 1);
  impl->embedding_ln_gamma = reader.read("embeddings.LayerNorm.weight", {h});
  impl->embedding_ln_beta = reader.read("embeddings.LayerNorm.bias", {h});

  // Every tensor is checked before the large ones are packed on the model's threads, which cannot report.
  struct Matrices {
    const TensorView *query, *key, *value, *output, *intermediate, *ffn_output;
  };
  std::vector<Matrices> matrices(static_cast<std::size_t>(config.num_hidden_layers));
  impl->layers.resize(matrices.size());
  for (int i = 0; i < config.num_hidden_layers; ++i) {
    Layer& layer = impl->layers[static_cast<std::size_t>(i)];
    Matrices& m = matrices[static_cast<std::size_t>(i)];
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    m.query = &reader.check(p + "attention.self.query.weight", {h, h});
    m.key = &reader.check(p + "attention.self.key.weight", {h, h});
    m.value = &reader.check(p + "attention.self.value.weight", {h, h});
    for (const char* part : {"query", "key", "value"}) {
      const std::vector<float> b = reader.read(p + "attention.self." + part + ".bias", {h});
      layer.qkv_bias.insert(layer.qkv_bias.end(), b.begin(), b.end());
    }
    m.output = &reader.check(p + "attention.output.dense.weight", {h, h});
    layer.output_bias = reader.read(p + "attention.output.dense.bias", {h});
    layer.attention_ln_gamma = reader.read(p + "attention.output.LayerNorm.weight", {h});
    layer.attention_ln_beta = reader.read(p + "attention.output.LayerNorm.bias", {h});
    m.intermediate = &reader.check(p + "intermediate.dense.weight", {inter, h});
    layer.intermediate_bias = reader.read(p + "intermediate.dense.bias", {inter});
    m.ffn_output = &reader.check(p + "output.dense.weight", {h, inter});
    layer.ffn_output_bias = reader.read(p + "output.dense.bias", {h});
    layer.output_ln_gamma = reader.read(p + "output.LayerNorm.weight", {h});
    layer.output_ln_beta = reader.read(p + "output.LayerNorm.bias", {h});
  }

  impl->fingerprint = reader.fingerprint();

  // One task per layer (queries, keys and values packed as one matrix: one GEMM with three times the
  // columns), and one for the word embeddings.
  std::vector<std::exception_ptr> failures(matrices.size() + 1);
  impl->compute.pool().parallel_for(static_cast<int>(failures.size()), [&](int task, int) {
    try {
      std::vector<float> s1, s2, s3;
      if (static_cast<std::size_t>(task) == matrices.size()) {
        const float* w = values_of(words, s1);
        if (owned != nullptr && w == reinterpret_cast<const float*>(words.bytes.data())) {
          impl->word_embeddings = w;  // 47 MB for E5, of which a pass touches the rows of its tokens
        } else {
          impl->word_copy.assign(w, w + words.elements());
          impl->word_embeddings = impl->word_copy.data();
        }
        return;
      }
      const Matrices& m = matrices[static_cast<std::size_t>(task)];
      Layer& layer = impl->layers[static_cast<std::size_t>(task)];
      const auto hs = static_cast<std::size_t>(h);
      const float* q = values_of(*m.query, s1);
      const float* k = values_of(*m.key, s2);
      const float* v = values_of(*m.value, s3);
      std::vector<const float*> rows;
      for (const float* w : {q, k, v})
        for (std::size_t r = 0; r < hs; ++r) rows.push_back(w + r * hs);
      layer.qkv.pack(int8, rows, static_cast<int>(h));
      layer.output.pack(int8, values_of(*m.output, s1), hs, static_cast<int>(h), static_cast<int>(h));
      layer.intermediate.pack(int8, values_of(*m.intermediate, s1), hs, static_cast<int>(inter),
                              static_cast<int>(h));
      layer.ffn_output.pack(int8, values_of(*m.ffn_output, s1), static_cast<std::size_t>(inter),
                            static_cast<int>(h), static_cast<int>(inter));
    } catch (...) {
      failures[static_cast<std::size_t>(task)] = std::current_exception();
    }
  });
  for (const std::exception_ptr& failure : failures)
    if (failure) std::rethrow_exception(failure);
  // The rest of the file was read into the model's own layout: only the word embeddings' pages that the
  // tokens touch need to stay.
  if (impl->word_copy.empty()) {
    owned->release_pages();
    impl->mapped = std::move(owned);
  }
  return std::unique_ptr<BertModel>(new BertModel(std::move(impl)));
}

void BertModel::embed(std::span<const std::span<const std::int32_t>> batch, float* out, bool normalize) const {
  const BertConfig& c = impl_->config;
  for (std::size_t s = 0; s < batch.size(); ++s) {
    const auto& ids = batch[s];
    if (ids.empty() || ids.size() > static_cast<std::size_t>(c.max_position_embeddings))
      throw Error("sequence " + std::to_string(s) + " of the batch has " + std::to_string(ids.size()) +
                  " tokens; the model takes 1 to " + std::to_string(c.max_position_embeddings));
    for (std::size_t t = 0; t < ids.size(); ++t)
      if (ids[t] < 0 || ids[t] >= c.vocab_size)
        throw Error("sequence " + std::to_string(s) + " of the batch: token id " + std::to_string(ids[t]) +
                    " at position " + std::to_string(t) + " is outside the vocabulary of " +
                    std::to_string(c.vocab_size) + " tokens");
  }
  const std::lock_guard lock(impl_->mutex);
  std::size_t begin = 0;
  while (begin < batch.size()) {
    std::size_t end = begin;
    std::size_t tokens = 0;
    while (end < batch.size() && (end == begin || tokens + batch[end].size() <= kTokensPerPass))
      tokens += batch[end++].size();
    impl_->forward(batch.subspan(begin, end - begin), out + begin * static_cast<std::size_t>(c.hidden_size),
                   normalize);
    begin = end;
  }
}

void BertModel::Impl::forward(std::span<const std::span<const std::int32_t>> sequences, float* out,
                              bool normalize) {
  const int h = config.hidden_size;
  const int heads = config.num_attention_heads;
  const int inter = config.intermediate_size;
  const auto hs = static_cast<std::size_t>(h);
  offsets.assign(1, 0);
  for (const auto& ids : sequences) offsets.push_back(offsets.back() + static_cast<int>(ids.size()));
  const int tokens = offsets.back();
  const auto rows = static_cast<std::size_t>(tokens);

  float* x = hidden.reserve(rows * hs);
  float* y = attended.reserve(rows * hs);
  // The query/key/value and context rows are dead once the attention output is computed, so the FFN's
  // intermediate activations reuse their memory.
  const std::size_t wide = std::max<std::size_t>(4 * hs, static_cast<std::size_t>(inter));
  float* qkv = scratch.reserve(rows * wide);
  float* ctx = qkv + rows * 3 * hs;
  float* ffn = qkv;

  // Embeddings: word + position + token type 0, then LayerNorm.
  const Isa isa = compute.isa();
  constexpr int kRowsPerTask = 64;
  compute.pool().parallel_for((tokens + kRowsPerTask - 1) / kRowsPerTask, [&](int task, int) {
    const int end = std::min(tokens, (task + 1) * kRowsPerTask);
    std::size_t s = static_cast<std::size_t>(std::upper_bound(offsets.begin(), offsets.end(), task * kRowsPerTask) -
                                             offsets.begin() - 1);
    for (int t = task * kRowsPerTask; t < end; ++t) {
      while (t >= offsets[s + 1]) ++s;
      const int position = t - offsets[s];
      const float* word = word_embeddings + static_cast<std::size_t>(sequences[s][position]) * hs;
      const float* pos = position_embeddings.data() + static_cast<std::size_t>(position) * hs;
      float* row = x + static_cast<std::size_t>(t) * hs;
      for (int j = 0; j < h; ++j) row[j] = word[j] + pos[j] + token_type_embedding[j];
      layer_norm(isa, row, row, h, embedding_ln_gamma.data(), embedding_ln_beta.data(),
                 static_cast<float>(config.layer_norm_eps));
    }
  });

  const auto eps = static_cast<float>(config.layer_norm_eps);
  const int head_dim = h / heads;
  const auto head_size = static_cast<std::size_t>(head_dim);
  // int8: the queries, keys and values written head by head (each head's rows contiguous), where a head is
  // whole panels of the GEMM; else as the GEMM's rows.
  const bool head_major = int8 && head_dim % kPanelCols == 0;
  const QkvLayout layout = head_major ? QkvLayout{qkv, head_size, rows * head_size} : QkvLayout{qkv, 3 * hs, head_size};
  for (const Layer& layer : layers) {
    const Epilogue qkv_bias{.bias = layer.qkv_bias.data()};
    if (head_major)
      gemm(compute, x, hs, tokens, layer.qkv.int8, qkv, head_size, ColumnBlocks{head_dim, rows * head_size}, qkv_bias);
    else
      linear(x, hs, tokens, layer.qkv, qkv, 3 * hs, qkv_bias);
    attention(compute, layout, offsets, heads, head_dim, ctx, hs, int8);
    linear(ctx, hs, tokens, layer.output, y, hs,
         Epilogue{.bias = layer.output_bias.data(), .residual = x, .residual_stride = hs,
                  .ln_gamma = layer.attention_ln_gamma.data(), .ln_beta = layer.attention_ln_beta.data(),
                  .ln_eps = eps});
    const Epilogue up{.bias = layer.intermediate_bias.data(), .gelu = true};
    const Epilogue down{.bias = layer.ffn_output_bias.data(), .residual = y, .residual_stride = hs,
                        .ln_gamma = layer.output_ln_gamma.data(), .ln_beta = layer.output_ln_beta.data(),
                        .ln_eps = eps};
    if (int8) {
      // The intermediate activations go from one GEMM to the next quantized: a quarter of the bytes through
      // memory, quantized as the second GEMM would have.
      gemm(compute, y, hs, tokens, layer.intermediate.int8, ffn_int8, up);
      gemm(compute, ffn_int8, layer.ffn_output.int8, x, hs, down);
    } else {
      linear(y, hs, tokens, layer.intermediate, ffn, static_cast<std::size_t>(inter), up);
      linear(ffn, static_cast<std::size_t>(inter), tokens, layer.ffn_output, x, hs, down);
    }
  }

  // Mean pooling over each sequence (sentence-transformers' Pooling), in double so the order of the
  // additions does not matter at float precision, then optionally L2 normalisation (its Normalize).
  std::vector<double>& sum = pooled;
  sum.resize(hs);
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int t = offsets[s]; t < offsets[s + 1]; ++t) {
      const float* row = x + static_cast<std::size_t>(t) * hs;
      for (std::size_t j = 0; j < hs; ++j) sum[j] += row[j];
    }
    const double count = offsets[s + 1] - offsets[s];
    double norm = 0.0;
    for (std::size_t j = 0; j < hs; ++j) {
      sum[j] /= count;
      norm += sum[j] * sum[j];
    }
    // torch.nn.functional.normalize divides by max(norm, 1e-12).
    const double scale = normalize ? 1.0 / std::max(std::sqrt(norm), 1e-12) : 1.0;
    for (std::size_t j = 0; j < hs; ++j) out[s * hs + j] = static_cast<float>(sum[j] * scale);
  }
}

}  // namespace logclf::encoder::e5
