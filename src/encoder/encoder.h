// The encoder stage: turns a message into a feature vector for the head. Every encoder (the lexical one
// owned by the project, the E5 sentence encoder) implements this interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace logclf::encoder {

// A sparse vector: value[i] is the weight of feature index[i]. Indices are unique.
struct Features {
  std::vector<std::uint32_t> index;
  std::vector<float> value;
  void clear() {
    index.clear();
    value.clear();
  }
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual std::string_view kind() const = 0;
  virtual std::size_t dim() const = 0;
  // Thread-safe: may be called concurrently on one encoder.
  virtual void encode(std::string_view text, Features& out) const = 0;
  // Encodes many texts at once into out[0 .. texts.size()); encoders that gain from batching (a neural
  // encoder runs its matrix products over the whole batch) override it.
  virtual void encode_batch(std::span<const std::string_view> texts, std::vector<Features>& out) const {
    out.resize(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) encode(texts[i], out[i]);
  }
  // Whether a call's cost is mostly per call rather than per text, so that callers should gather texts into
  // batches (and may make a line wait for others): true for encoders that override encode_batch.
  virtual bool batches() const { return false; }
};

}  // namespace logclf::encoder
