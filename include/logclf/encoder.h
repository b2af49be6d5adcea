// Sentence encoders: which one a model uses and where its weights are, and sentence vectors on their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace logclf {

// The encoders logclf knows.
inline constexpr std::string_view kLexicalEncoder = "lexical";   // the project's own, trained with the head
inline constexpr std::string_view kE5Encoder = "e5-small-v2";    // pretrained BERT sentence encoder

// The arithmetic of the E5 encoder's Linear layers (LayerNorm, softmax, GELU, residuals and attention stay
// in fp32): fp32, or int8 (symmetric scales per block of 64 inputs: the weights' per output channel, taken
// at load time, whose fp32 copy is not kept; the activations' per token, at each call), or auto: int8 where
// the CPU has AVX2 or AVX-512 VNNI, else fp32.
enum class Precision { fp32, int8, auto_ };
std::string_view to_string(Precision precision);
// "fp32", "int8" or "auto"; nullopt for anything else.
std::optional<Precision> parse_precision(std::string_view text);

struct EncoderOptions {
  // Training: the encoder to use (empty = lexical). Loading a model: empty accepts the model's own
  // encoder; a name is checked against it.
  std::string kind;
  // E5 weights: a directory with config.json, model.safetensors and vocab.txt / tokenizer.json. Empty:
  // $LOGCLF_E5_DIR, then the Hugging Face cache (docs/FORMATS.md).
  std::string dir;
  int threads = 0;  // threads of the E5 forward pass; 0 = all cores
  Precision precision = Precision::fp32;
  // The int8 Linear layers' kernel: empty = the fastest this CPU has; "avx512-vnni", "avx2" or "portable"
  // to compare them (an Error when this CPU or build lacks it).
  std::string int8_kernel = {};
};

namespace detail {
class SentenceEncoderImpl;
}

// Sentence vectors from the pretrained encoder (what `logclf embed` prints).
class SentenceEncoder {
 public:
  // Finds and loads the weights; throws Error saying where it looked when there are none.
  static SentenceEncoder open(const EncoderOptions& options);

  std::size_t dim() const;
  // Where the weights were found (directory and how: --encoder-dir, $LOGCLF_E5_DIR or the cache).
  std::string location() const;
  // A checksum of the weights (model bundles record it to refuse other weights).
  const std::string& fingerprint() const;
  // L2-normalised mean-pooled vectors, one per text, texts taken exactly as given (no prefix added).
  std::vector<std::vector<float>> embed(std::span<const std::string_view> texts) const;

  // The two steps of embed() apart, for a program that batches by itself or measures the forward pass
  // (`logclf bench encoder`): the WordPiece ids of a text ([CLS] … [SEP], cut at shape().max_length), and
  // one forward pass over a batch of them, shape().hidden floats per sequence into `out`.
  std::vector<std::int32_t> tokenize(std::string_view text) const;
  void embed_tokens(std::span<const std::span<const std::int32_t>> batch, float* out) const;
  struct Shape {
    int layers = 0, hidden = 0, heads = 0, intermediate = 0, max_length = 0;
  };
  Shape shape() const;
  int threads() const;         // of the forward pass
  Precision precision() const;  // of the Linear layers and attention scores, auto resolved
  // The kernels the forward pass runs, e.g. "int8 Linear layers and attention scores (int8 avx2 kernel),
  // avx2+fma kernels for the rest".
  std::string kernels() const;

  explicit SentenceEncoder(std::shared_ptr<const detail::SentenceEncoderImpl> impl);

 private:
  std::shared_ptr<const detail::SentenceEncoderImpl> impl_;
};

}  // namespace logclf
