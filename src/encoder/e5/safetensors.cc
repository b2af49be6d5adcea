#include "encoder/e5/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "io/atomic_file.h"
#include "logclf/types.h"

namespace logclf::encoder::e5 {

// safetensors is little-endian; tensors are read and written by copying bytes.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

// Larger headers are refused before parsing (the Rust reference implementation uses the same limit).
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeInfo {
  std::string_view name;
  DType dtype;
  std::size_t size;
};

// Every dtype of the safetensors specification; only F32/F16/BF16 convert, the others are validated.
constexpr DTypeInfo kDTypes[] = {
    {"F32", DType::f32, 4},     {"F16", DType::f16, 2},     {"BF16", DType::bf16, 2},   {"F64", DType::other, 8},
    {"I64", DType::other, 8},   {"I32", DType::other, 4},   {"I16", DType::other, 2},   {"I8", DType::other, 1},
    {"U64", DType::other, 8},   {"U32", DType::other, 4},   {"U16", DType::other, 2},   {"U8", DType::other, 1},
    {"BOOL", DType::other, 1},  {"F8_E4M3", DType::other, 1}, {"F8_E5M2", DType::other, 1},
};

const DTypeInfo* find_dtype(std::string_view name) {
  for (const DTypeInfo& d : kDTypes)
    if (d.name == name) return &d;
  return nullptr;
}

// IEEE binary16 to binary32 by bit manipulation: C++20 has no half type and every half value is exactly
// representable as a float, so the conversion is exact.
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu;
  const std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf, or NaN keeping its payload
  } else if (exponent != 0) {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  } else {
    // Zero or subnormal: mantissa * 2^-24, a product of a small integer and a power of two, exact in F32.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    bits = sign | std::bit_cast<std::uint32_t>(magnitude);
  }
  return std::bit_cast<float>(bits);
}

// binary32 to binary16, rounded to nearest with ties to even (IEEE's default, as PyTorch's .half()):
// values from 65520 up become inf, NaN stays a (quiet) NaN, values below 2^-14 become subnormals or zero.
std::uint16_t float_to_half(float f) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
  if (magnitude >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // 65520: halfway to inf
  // The result's bits before rounding, and how many low bits of the binary32 significand are cut off.
  std::uint32_t significand, shift;
  if (magnitude >= 0x38800000u) {  // 2^-14 and up: a normal half, exponent rebiased from 127 to 15
    significand = magnitude - (112u << 23);
    shift = 13;
  } else {
    const std::uint32_t exponent = magnitude >> 23;
    if (exponent < 102) return sign;  // below 2^-25, half the smallest subnormal: zero
    significand = (magnitude & 0x7fffffu) | 0x800000u;
    shift = 126 - exponent;  // 14 to 24: the value in units of 2^-24
  }
  std::uint32_t half = significand >> shift;
  const std::uint32_t rest = significand & ((1u << shift) - 1);
  const std::uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (half & 1u))) ++half;  // a carry moves into the exponent, as it should
  return static_cast<std::uint16_t>(sign | half);
}

// binary32 to bfloat16 (its upper half), rounded to nearest with ties to even; NaN stays a (quiet) NaN.
std::uint16_t float_to_bf16(float f) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);
  return static_cast<std::uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

std::uint64_t read_le64(const std::byte* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// A non-negative JSON integer that fits in int64, or nullopt.
std::optional<std::int64_t> non_negative(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return v.get<std::int64_t>();
  return std::nullopt;
}

// A read-only private mapping of a whole file, unmapped on destruction.
struct Mapping {
  void* address = nullptr;
  std::size_t size = 0;
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (address != nullptr) ::munmap(address, size);
  }
};

}  // namespace

std::string_view to_string(DType dtype) {
  switch (dtype) {
    case DType::f32: return "F32";
    case DType::f16: return "F16";
    case DType::bf16: return "BF16";
    case DType::other: break;
  }
  return "other";
}

std::size_t TensorView::elements() const {
  std::size_t n = 1;
  for (const std::int64_t d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

std::vector<float> TensorView::to_f32() const {
  std::vector<float> out(elements());
  to_f32(0, out.size(), out.data());
  return out;
}

void TensorView::to_f32(std::size_t begin, std::size_t count, float* out) const {
  if (dtype == DType::other)
    throw Error("tensor '" + name + "': dtype " + dtype_name + " cannot be converted to F32");
  if (begin > elements() || count > elements() - begin)
    throw Error("tensor '" + name + "': elements " + std::to_string(begin) + " to " + std::to_string(begin + count) +
                " are beyond its " + std::to_string(elements()));
  if (count == 0) return;
  switch (dtype) {
    case DType::f32:
      std::memcpy(out, bytes.data() + 4 * begin, count * sizeof(float));
      break;
    case DType::f16:
      for (std::size_t i = 0; i < count; ++i) {
        std::uint16_t h;
        std::memcpy(&h, bytes.data() + 2 * (begin + i), 2);
        out[i] = half_to_float(h);
      }
      break;
    case DType::bf16:
      // bfloat16 is the upper half of a binary32.
      for (std::size_t i = 0; i < count; ++i) {
        std::uint16_t h;
        std::memcpy(&h, bytes.data() + 2 * (begin + i), 2);
        out[i] = std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
      }
      break;
    case DType::other:
      break;
  }
}

namespace {

struct Contents {
  std::map<std::string, TensorView, std::less<>> tensors;
  std::map<std::string, std::string, std::less<>> metadata;
};

}  // namespace

struct SafeTensors::Impl {
  std::string path;
  Mapping mapping;
  Contents contents;
};

SafeTensors::SafeTensors(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafeTensors::SafeTensors(SafeTensors&&) noexcept = default;
SafeTensors& SafeTensors::operator=(SafeTensors&&) noexcept = default;
SafeTensors::~SafeTensors() = default;

const std::string& SafeTensors::path() const { return impl_->path; }
bool SafeTensors::contains(std::string_view name) const { return impl_->contents.tensors.contains(name); }
const std::map<std::string, TensorView, std::less<>>& SafeTensors::tensors() const { return impl_->contents.tensors; }
const std::map<std::string, std::string, std::less<>>& SafeTensors::metadata() const { return impl_->contents.metadata; }

void SafeTensors::release_pages() const {
  if (impl_->mapping.address != nullptr) ::madvise(impl_->mapping.address, impl_->mapping.size, MADV_DONTNEED);
}

const TensorView& SafeTensors::tensor(std::string_view name) const {
  const auto it = impl_->contents.tensors.find(name);
  if (it == impl_->contents.tensors.end()) throw Error(impl_->path + ": tensor '" + std::string(name) + "' is missing");
  return it->second;
}

namespace {

void parse_into(const std::string& file, std::span<const std::byte> data, Contents& contents) {
  if (data.size() < 8) throw Error(file + ": not a safetensors file (shorter than its 8-byte header length)");
  const std::uint64_t header_size = read_le64(data.data());
  if (header_size > kMaxHeaderBytes)
    throw Error(file + ": header length " + std::to_string(header_size) + " exceeds the 100 MB limit");
  if (header_size > data.size() - 8)
    throw Error(file + ": header length " + std::to_string(header_size) + " exceeds the file size " +
                std::to_string(data.size()));
  const auto* header_begin = reinterpret_cast<const char*>(data.data() + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_size);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file + ": invalid JSON header: " + e.what());
  }
  if (!header.is_object()) throw Error(file + ": the header is not a JSON object");

  const std::span<const std::byte> buffer = data.subspan(8 + header_size);
  struct Range {
    std::uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Range> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw Error(file + ": __metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) throw Error(file + ": __metadata__ value of '" + key + "' is not a string");
        contents.metadata.emplace(key, value.get<std::string>());
      }
      continue;
    }
    const std::string where = file + ": tensor '" + name + "'";
    if (!entry.is_object()) throw Error(where + ": entry is not an object");
    const auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end() || !dtype_it->is_string()) throw Error(where + ": missing or non-string dtype");
    const std::string dtype_name = dtype_it->get<std::string>();
    const DTypeInfo* info = find_dtype(dtype_name);
    if (info == nullptr) throw Error(where + ": unknown dtype '" + dtype_name + "'");

    const auto shape_it = entry.find("shape");
    if (shape_it == entry.end() || !shape_it->is_array()) throw Error(where + ": missing or non-array shape");
    TensorView view;
    view.name = name;
    view.dtype = info->dtype;
    view.dtype_name = dtype_name;
    std::uint64_t bytes = info->size;
    for (const auto& dim : *shape_it) {
      const auto d = non_negative(dim);
      if (!d) throw Error(where + ": shape has an entry that is not a non-negative integer: " + dim.dump());
      view.shape.push_back(*d);
      if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(*d), &bytes))
        throw Error(where + ": shape " + shape_it->dump() + " overflows the byte size");
    }

    const auto offsets_it = entry.find("data_offsets");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2)
      throw Error(where + ": data_offsets must be an array [begin, end]");
    const auto begin = non_negative((*offsets_it)[0]);
    const auto end = non_negative((*offsets_it)[1]);
    if (!begin || !end) throw Error(where + ": data_offsets must be non-negative integers");
    const auto b = static_cast<std::uint64_t>(*begin);
    const auto e = static_cast<std::uint64_t>(*end);
    if (b > e) throw Error(where + ": data_offsets begin " + std::to_string(b) + " is after end " + std::to_string(e));
    if (e > buffer.size())
      throw Error(where + ": data_offsets end " + std::to_string(e) + " is beyond the data size " +
                  std::to_string(buffer.size()));
    if (e - b != bytes)
      throw Error(where + ": data_offsets " + offsets_it->dump() + " span " + std::to_string(e - b) +
                  " bytes, but " + dtype_name + " with shape " + shape_it->dump() + " needs " + std::to_string(bytes));
    view.bytes = buffer.subspan(b, e - b);
    const auto [it, inserted] = contents.tensors.emplace(name, std::move(view));
    ranges.push_back({b, e, &it->first});
  }

  std::sort(ranges.begin(), ranges.end(),
            [](const Range& x, const Range& y) { return x.begin != y.begin ? x.begin < y.begin : x.end < y.end; });
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[i - 1].end)
      throw Error(file + ": tensors '" + *ranges[i - 1].name + "' and '" + *ranges[i].name + "' overlap");
  }
}

}  // namespace

SafeTensors SafeTensors::parse(std::span<const std::byte> data, const std::string& name) {
  auto impl = std::make_unique<Impl>();
  impl->path = name;
  parse_into(name, data, impl->contents);
  return SafeTensors(std::move(impl));
}

SafeTensors SafeTensors::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  // O_NONBLOCK: a FIFO in the weights' place is refused below instead of blocking the open.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw Error("cannot stat '" + path + "': " + std::strerror(error));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > 0) {
    void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int error = errno;
    ::close(fd);
    if (address == MAP_FAILED) throw Error("cannot map '" + path + "': " + std::strerror(error));
    impl->mapping.address = address;
    impl->mapping.size = size;
  } else {
    ::close(fd);
  }
  parse_into(path, {static_cast<const std::byte*>(impl->mapping.address), impl->mapping.size}, impl->contents);
  return SafeTensors(std::move(impl));
}

namespace {

// The bytes of a tensor to write as F16, BF16 or I64 (checked by write_safetensors), one tensor at a time.
std::string encode_values(const TensorData& t) {
  std::string out;
  const auto append = [&out](const auto& value) { out.append(reinterpret_cast<const char*>(&value), sizeof value); };
  if (t.dtype == "I64") {
    out.reserve(8 * t.values.size());
    for (const float v : t.values) append(static_cast<std::int64_t>(v));
  } else {
    out.reserve(2 * t.values.size());
    for (const float v : t.values) append(t.dtype == "F16" ? float_to_half(v) : float_to_bf16(v));
  }
  return out;
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps __metadata__ first and the tensors in file order, as Hugging Face writes them.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string_view> names;
  std::uint64_t offset = 0;
  for (const TensorData& t : tensors) {
    const std::string where = path + ": tensor '" + t.name + "'";
    if (t.name == "__metadata__" || t.name.empty())
      throw Error(path + ": invalid tensor name '" + t.name + "'");
    if (!names.insert(t.name).second) throw Error(where + " appears twice");
    if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16" && t.dtype != "I64")
      throw Error(where + ": cannot write dtype '" + t.dtype + "' (F32, F16, BF16 or I64)");
    std::uint64_t elements = 1;
    for (const std::int64_t d : t.shape) {
      if (d < 0) throw Error(where + " has a negative dimension");
      elements *= static_cast<std::uint64_t>(d);
    }
    if (elements != t.values.size())
      throw Error(where + " has " + std::to_string(t.values.size()) + " values but its shape holds " +
                  std::to_string(elements));
    if (t.dtype == "I64")
      for (const float v : t.values)
        if (!(std::trunc(v) == v && std::abs(v) < 0x1p63f))  // whole, so it converts exactly
          throw Error(where + " is I64 but holds the value " + std::to_string(v));
    const std::uint64_t bytes = elements * find_dtype(t.dtype)->size;
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  // Hugging Face pads the header with spaces so that the tensor data starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::uint64_t header_size = text.size();
  char length[8];
  std::memcpy(length, &header_size, 8);

  io::AtomicFile file(path);
  file.write(std::string_view(length, 8));
  file.write(text);
  for (const TensorData& t : tensors) {
    if (t.dtype == "F32")
      file.write(std::string_view(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float)));
    else
      file.write(encode_values(t));
  }
  file.commit();
}

}  // namespace logclf::encoder::e5
