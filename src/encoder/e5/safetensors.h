// Reading and writing the safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
// header mapping tensor names to {dtype, shape, data_offsets}, then the raw tensor bytes. Files are
// memory-mapped; tensors are views into the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace logclf::encoder::e5 {

enum class DType { f32, f16, bf16, other };
std::string_view to_string(DType dtype);

struct TensorView {
  std::string name;
  DType dtype = DType::other;
  std::string dtype_name;              // as written in the header ("F32", "BF16", "I64", ...)
  std::vector<std::int64_t> shape;
  std::span<const std::byte> bytes;    // raw little-endian data inside the mapping
  std::size_t elements() const;
  // The tensor converted to F32 (F32, F16 and BF16 only; throws Error otherwise).
  std::vector<float> to_f32() const;
  // Elements [begin, begin + count) converted the same way into `out`, for a large tensor in chunks.
  void to_f32(std::size_t begin, std::size_t count, float* out) const;
};

class SafeTensors {
 public:
  // Memory-maps `path` and validates the header: every tensor's offsets inside the file, no overlap,
  // byte size = product(shape) * dtype size. Throws Error naming the file and the tensor at fault.
  static SafeTensors open(const std::string& path);
  // Parses an in-memory file (used by the fuzz target and tests); `data` must outlive the object.
  static SafeTensors parse(std::span<const std::byte> data, const std::string& name);

  const std::string& path() const;
  bool contains(std::string_view name) const;
  // Throws Error "<file>: tensor '<name>' is missing" when absent.
  const TensorView& tensor(std::string_view name) const;
  const std::map<std::string, TensorView, std::less<>>& tensors() const;
  const std::map<std::string, std::string, std::less<>>& metadata() const;  // "__metadata__"
  // Drops the mapping's pages from the process (they are read again from the file where touched later): for
  // a file of which only a few parts stay in use after loading.
  void release_pages() const;

  SafeTensors(SafeTensors&&) noexcept;
  SafeTensors& operator=(SafeTensors&&) noexcept;
  ~SafeTensors();

 private:
  struct Impl;
  explicit SafeTensors(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A tensor to write: its values, stored as `dtype`: "F32"; "F16" or "BF16", rounded to the nearest value
// (ties to even) as PyTorch's .half() and .bfloat16() do; or "I64", for whole numbers (e.g. position ids).
struct TensorData {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> values;
  std::string dtype = "F32";
};
// Writes a safetensors file atomically (temp file + rename), tensors in the given order.
void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace logclf::encoder::e5
