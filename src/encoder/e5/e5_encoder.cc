#include "encoder/e5/e5_encoder.h"

#include <algorithm>
#include <numeric>
#include <nlohmann/json.hpp>

#include "encoder/e5/config.h"
#include "encoder/e5/kernels.h"
#include "encoder/e5/model_files.h"
#include "logclf/e5.h"
#include "logclf/encoder.h"
#include "logclf/types.h"

namespace logclf::encoder::e5 {

std::shared_ptr<E5Encoder> E5Encoder::open(const EncoderOptions& encoder, std::string prefix) {
  const ModelLocation location = locate_model(encoder.dir);
  std::shared_ptr<E5Encoder> e(new E5Encoder());
  e->dir_ = location.dir;
  e->found_by_ = location.found_by;
  e->prefix_ = std::move(prefix);
  e->tokenizer_ = std::make_unique<WordPieceTokenizer>(WordPieceTokenizer::load(location.dir));
  BertOptions options;
  options.threads = encoder.threads;
  options.precision = encoder.precision;
  if (!encoder.int8_kernel.empty()) {
    options.int8_isa = parse_int8_isa(encoder.int8_kernel);
    if (!options.int8_isa)
      throw Error("unknown int8 kernel '" + encoder.int8_kernel + "'; expected avx512-vnni, avx2 or portable");
  }
  e->model_ = BertModel::load(location.dir, options);
  const BertConfig& config = e->model_->config();
  if (static_cast<std::size_t>(config.vocab_size) < e->tokenizer_->vocab_size())
    throw Error(location.dir + ": the tokenizer has " + std::to_string(e->tokenizer_->vocab_size()) +
                " tokens but config.json's vocab_size is " + std::to_string(config.vocab_size));
  return e;
}

std::size_t E5Encoder::dim() const { return static_cast<std::size_t>(model_->config().hidden_size); }

void E5Encoder::embed(std::span<const std::string_view> texts, std::span<float> out, bool with_prefix) const {
  const std::size_t d = dim();
  if (out.size() != texts.size() * d) throw Error("embedding buffer has the wrong size");
  const std::size_t max_length = static_cast<std::size_t>(model_->config().max_position_embeddings);
  std::vector<std::vector<std::int32_t>> ids(texts.size());
  std::string buffer;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (with_prefix) {
      buffer.assign(prefix_);
      buffer.append(texts[i]);
      tokenizer_->encode(buffer, ids[i], max_length);
    } else {
      tokenizer_->encode(texts[i], ids[i], max_length);
    }
  }
  // Batches of similar length: the forward pass cost follows the tokens actually present.
  std::vector<std::size_t> order(texts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return ids[a].size() < ids[b].size(); });
  std::vector<std::span<const std::int32_t>> batch;
  std::vector<float> vectors(kBatchSize * d);
  for (std::size_t start = 0; start < order.size(); start += kBatchSize) {
    const std::size_t n = std::min(kBatchSize, order.size() - start);
    batch.clear();
    for (std::size_t k = 0; k < n; ++k) batch.emplace_back(ids[order[start + k]]);
    model_->embed(batch, vectors.data(), true);
    for (std::size_t k = 0; k < n; ++k)
      std::copy_n(vectors.data() + k * d, d, out.data() + order[start + k] * d);
  }
}

void E5Encoder::encode(std::string_view text, Features& out) const {
  std::vector<Features> one;
  encode_batch(std::span<const std::string_view>(&text, 1), one);
  out = std::move(one[0]);
}

void E5Encoder::encode_batch(std::span<const std::string_view> texts, std::vector<Features>& out) const {
  const std::size_t d = dim();
  std::vector<float> vectors(texts.size() * d);
  embed(texts, vectors, true);
  out.resize(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    Features& f = out[i];
    f.index.resize(d);
    std::iota(f.index.begin(), f.index.end(), std::uint32_t{0});
    f.value.assign(vectors.begin() + static_cast<std::ptrdiff_t>(i * d),
                   vectors.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
  }
}

nlohmann::json E5Encoder::params() const {
  const BertConfig& c = model_->config();
  return {{"repo", "intfloat/e5-small-v2"},
          {"prefix", prefix_},
          {"pooling", "mean"},
          {"normalize", true},
          {"max_length", c.max_position_embeddings},
          {"hidden_size", c.hidden_size},
          {"layers", c.num_hidden_layers},
          {"fingerprint", fingerprint()},
          {"precision", to_string(precision())}};
}

}  // namespace logclf::encoder::e5

namespace logclf {

std::string_view to_string(Precision precision) {
  switch (precision) {
    case Precision::fp32: return "fp32";
    case Precision::int8: return "int8";
    case Precision::auto_: return "auto";
  }
  return "?";
}

std::optional<Precision> parse_precision(std::string_view text) {
  for (Precision p : {Precision::fp32, Precision::int8, Precision::auto_})
    if (text == to_string(p)) return p;
  return std::nullopt;
}

ComputeKernels compute_kernels() {
  using namespace encoder::e5;
  ComputeKernels k;
  k.fp32 = "fp32 " + std::string(to_string(best_isa()));
  k.int8 = std::string(to_string(best_int8_isa()));
  k.automatic = resolve_precision(Precision::auto_);
  // __builtin_cpu_supports takes string literals only.
#if defined(__x86_64__) || defined(__i386__)
  const bool has[] = {__builtin_cpu_supports("avx2") != 0, __builtin_cpu_supports("fma") != 0,
                      __builtin_cpu_supports("avx512f") != 0, __builtin_cpu_supports("avx512vnni") != 0,
                      __builtin_cpu_supports("avx512bf16") != 0};
#else
  const bool has[5] = {};
#endif
  const char* const names[] = {"AVX2", "FMA", "AVX-512F", "AVX512-VNNI", "AVX512-BF16"};
  for (std::size_t i = 0; i < std::size(names); ++i) k.cpu_features.emplace_back(names[i], has[i]);
  return k;
}

namespace detail {
class SentenceEncoderImpl {
 public:
  std::shared_ptr<encoder::e5::E5Encoder> encoder;
};
}  // namespace detail

SentenceEncoder::SentenceEncoder(std::shared_ptr<const detail::SentenceEncoderImpl> impl) : impl_(std::move(impl)) {}

SentenceEncoder SentenceEncoder::open(const EncoderOptions& options) {
  if (!options.kind.empty() && options.kind != kE5Encoder)
    throw Error("encoder '" + options.kind + "' gives no sentence vectors on its own; use " + std::string(kE5Encoder));
  auto impl = std::make_shared<detail::SentenceEncoderImpl>();
  impl->encoder = encoder::e5::E5Encoder::open(options, "");
  return SentenceEncoder(std::move(impl));
}

std::size_t SentenceEncoder::dim() const { return impl_->encoder->dim(); }

std::string SentenceEncoder::location() const {
  return impl_->encoder->dir() + " (" + impl_->encoder->found_by() + ")";
}

const std::string& SentenceEncoder::fingerprint() const { return impl_->encoder->fingerprint(); }

std::vector<std::vector<float>> SentenceEncoder::embed(std::span<const std::string_view> texts) const {
  const std::size_t d = dim();
  std::vector<float> flat(texts.size() * d);
  impl_->encoder->embed(texts, flat, false);
  std::vector<std::vector<float>> out(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i)
    out[i].assign(flat.begin() + static_cast<std::ptrdiff_t>(i * d),
                  flat.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
  return out;
}

std::vector<std::int32_t> SentenceEncoder::tokenize(std::string_view text) const {
  std::vector<std::int32_t> ids;
  impl_->encoder->tokenizer().encode(text, ids, static_cast<std::size_t>(shape().max_length));
  return ids;
}

void SentenceEncoder::embed_tokens(std::span<const std::span<const std::int32_t>> batch, float* out) const {
  impl_->encoder->model().embed(batch, out, true);
}

SentenceEncoder::Shape SentenceEncoder::shape() const {
  const encoder::e5::BertConfig& c = impl_->encoder->model().config();
  return {c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.intermediate_size, c.max_position_embeddings};
}

int SentenceEncoder::threads() const { return impl_->encoder->model().threads(); }

Precision SentenceEncoder::precision() const { return impl_->encoder->precision(); }

std::string SentenceEncoder::kernels() const {
  using namespace encoder::e5;
  const std::string rest(to_string(best_isa()));
  if (precision() == Precision::int8)
    return "int8 Linear layers and attention scores (" +
           std::string(to_string(impl_->encoder->model().int8_isa())) + " kernel), " + rest + " kernels for the rest";
  return "fp32, " + rest + " kernels";
}

}  // namespace logclf
