#include "encoder/e5/safetensors.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "logclf/types.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf::encoder::e5 {
namespace {

using testing::TempDir;

// A safetensors image: 8-byte little-endian header length, the header text, then `data`.
std::vector<std::byte> image(const std::string& header, const std::vector<std::uint8_t>& data = {}) {
  std::vector<std::byte> out(8 + header.size() + data.size());
  const std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

// The message of the Error `parse` throws on `bytes`, or "" when it succeeds.
std::string parse_error(const std::vector<std::byte>& bytes) {
  try {
    SafeTensors::parse(bytes, "x.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<std::uint8_t> le16(const std::vector<std::uint16_t>& values) {
  std::vector<std::uint8_t> out;
  for (const std::uint16_t v : values) {
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  return out;
}

std::uint32_t bits(float f) { return std::bit_cast<std::uint32_t>(f); }

TEST(E5SafeTensors, ReadsTinyBertLikeAnIndependentReader) {
  const auto path = testing::shared_file("golden/tiny-bert/model.safetensors");
  if (path.empty()) GTEST_SKIP() << "SKIPPED: ../shared/golden/tiny-bert/model.safetensors is absent";
  const SafeTensors st = SafeTensors::open(path.string());
  EXPECT_EQ(st.path(), path.string());
  // 39 tensors (embeddings 5, 16 per layer x 2, pooler 2) and the metadata PyTorch writes.
  EXPECT_EQ(st.tensors().size(), 39u);
  EXPECT_EQ(st.metadata().size(), 1u);
  EXPECT_EQ(st.metadata().at("format"), "pt");
  const TensorView& words = st.tensor("embeddings.word_embeddings.weight");
  EXPECT_EQ(words.dtype, DType::f32);
  EXPECT_EQ(words.dtype_name, "F32");
  EXPECT_EQ(words.shape, (std::vector<std::int64_t>{30522, 32}));
  EXPECT_EQ(words.elements(), 30522u * 32u);
  EXPECT_EQ(words.bytes.size(), 3906816u);
  // Values read with Python's struct module from the same file.
  const std::vector<float> w = words.to_f32();
  EXPECT_EQ(w[0], -0.4811510443687439f);
  EXPECT_EQ(w[1], 0.01922997459769249f);
  EXPECT_EQ(w[2], 0.22226738929748535f);
  EXPECT_EQ(w[30521 * 32 + 30], 0.8283441066741943f);
  EXPECT_EQ(w[30521 * 32 + 31], -0.26184266805648804f);
  const auto ln = st.tensor("encoder.layer.1.output.LayerNorm.weight").to_f32();
  EXPECT_EQ(ln[0], 1.230169653892517f);
  EXPECT_EQ(ln[1], 0.9526145458221436f);
  EXPECT_EQ(st.tensor("encoder.layer.0.output.dense.weight").shape, (std::vector<std::int64_t>{32, 64}));
  EXPECT_TRUE(st.contains("pooler.dense.bias"));
  EXPECT_FALSE(st.contains("bert.pooler.dense.bias"));
}

TEST(E5SafeTensors, MissingTensorIsNamed) {
  const auto bytes = image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", {0, 0, 128, 63});
  const SafeTensors st = SafeTensors::parse(bytes, "m.safetensors");
  EXPECT_EQ(st.tensor("a").to_f32(), std::vector<float>{1.0f});
  try {
    st.tensor("b");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "m.safetensors: tensor 'b' is missing");
  }
}

TEST(E5SafeTensors, F16ConvertsExactly) {
  // Hand-computed binary16 values: normals, the largest finite, signed zeros, subnormals, inf, NaN.
  const std::vector<std::uint16_t> halves = {0x3c00, 0xc000, 0x3555, 0x7bff, 0x0400, 0x03ff, 0x0001,
                                             0x8001, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3bff};
  const std::string header = R"({"h":{"dtype":"F16","shape":[2,7],"data_offsets":[0,28]}})";
  const auto bytes = image(header, le16(halves));
  const SafeTensors st = SafeTensors::parse(bytes, "h.safetensors");
  const TensorView& t = st.tensor("h");
  EXPECT_EQ(t.dtype, DType::f16);
  const std::vector<float> f = t.to_f32();
  ASSERT_EQ(f.size(), 14u);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], -2.0f);
  EXPECT_EQ(f[2], 0.333251953125f);          // (1 + 341/1024) / 4
  EXPECT_EQ(f[3], 65504.0f);                 // largest finite half
  EXPECT_EQ(f[4], std::ldexp(1.0f, -14));    // smallest normal
  EXPECT_EQ(f[5], 1023.0f * std::ldexp(1.0f, -24));  // largest subnormal
  EXPECT_EQ(f[6], std::ldexp(1.0f, -24));    // smallest subnormal, 5.96e-8
  EXPECT_EQ(f[7], -std::ldexp(1.0f, -24));
  EXPECT_EQ(bits(f[8]), 0x00000000u);
  EXPECT_EQ(bits(f[9]), 0x80000000u);        // negative zero keeps its sign
  EXPECT_EQ(f[10], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f[11], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f[12]));
  EXPECT_EQ(f[13], 0.99951171875f);          // 1 - 2^-11
}

TEST(E5SafeTensors, BF16ConvertsExactly) {
  const std::vector<std::uint16_t> values = {0x3f80, 0xc040, 0x3e80, 0x4049, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc0};
  const auto bytes = image(R"({"b":{"dtype":"BF16","shape":[9],"data_offsets":[0,18]}})", le16(values));
  const std::vector<float> f = SafeTensors::parse(bytes, "b").tensor("b").to_f32();
  ASSERT_EQ(f.size(), 9u);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], -3.0f);
  EXPECT_EQ(f[2], 0.25f);
  EXPECT_EQ(f[3], 3.140625f);               // 1.5703125 * 2
  EXPECT_EQ(f[4], std::ldexp(1.0f, -133));  // smallest bfloat16 subnormal
  EXPECT_EQ(bits(f[5]), 0x80000000u);
  EXPECT_EQ(f[6], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f[7], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f[8]));
}

TEST(E5SafeTensors, UnalignedDataAndOtherDtypes) {
  // A header of odd length puts the F32 data at an unaligned address; an I64 tensor validates but does
  // not convert; an empty tensor is allowed.
  const std::string header =
      R"({"f":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"i":{"dtype":"I64","shape":[1],)"
      R"("data_offsets":[4,12]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[12,12]}})";
  ASSERT_NE(header.size() % 4, 0u);
  const auto bytes = image(header, {0, 0, 0, 0xc0, 7, 0, 0, 0, 0, 0, 0, 0});
  const SafeTensors st = SafeTensors::parse(bytes, "u");
  EXPECT_EQ(st.tensor("f").to_f32(), std::vector<float>{-2.0f});
  EXPECT_EQ(st.tensor("i").dtype, DType::other);
  EXPECT_EQ(st.tensor("i").dtype_name, "I64");
  EXPECT_THROW(st.tensor("i").to_f32(), Error);
  EXPECT_TRUE(st.tensor("e").to_f32().empty());
  EXPECT_TRUE(st.metadata().empty());
}

TEST(E5SafeTensors, BadFilesGiveErrorsNamingFileAndTensor) {
  struct Case {
    std::vector<std::byte> bytes;
    std::string expected;  // substring of the message
  };
  const std::vector<std::uint8_t> four = {0, 0, 0, 0};
  std::vector<std::byte> huge_length(16);
  const std::uint64_t n = 200'000'000;
  std::memcpy(huge_length.data(), &n, 8);
  std::vector<std::byte> beyond = image("{}");
  beyond[0] = std::byte{9};
  const std::vector<Case> cases = {
      {{}, "x.safetensors: not a safetensors file"},
      {std::vector<std::byte>(5), "x.safetensors: not a safetensors file"},
      {huge_length, "exceeds the 100 MB limit"},
      {beyond, "header length 9 exceeds the file size 10"},
      {image("{\"a\":"), "x.safetensors: invalid JSON header"},
      {image("[1,2]"), "x.safetensors: the header is not a JSON object"},
      {image(R"({"t":[]})"), "x.safetensors: tensor 't': entry is not an object"},
      {image(R"({"t":{"shape":[1],"data_offsets":[0,4]}})", four), "tensor 't': missing or non-string dtype"},
      {image(R"({"t":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})", four), "tensor 't': unknown dtype 'Q4'"},
      {image(R"({"t":{"dtype":"F32","data_offsets":[0,4]}})", four), "tensor 't': missing or non-array shape"},
      {image(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four), "tensor 't': shape has an entry"},
      {image(R"({"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", four), "tensor 't': shape has an entry"},
      {image(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", four),
       "tensor 't': shape [4294967296,4294967296] overflows"},
      {image(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", four), "tensor 't': data_offsets must be"},
      {image(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", four), "tensor 't': data_offsets must be"},
      {image(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", four), "tensor 't': data_offsets begin 4"},
      {image(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", four),
       "tensor 't': data_offsets end 8 is beyond the data size 4"},
      {image(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", four),
       "tensor 't': data_offsets [0,4] span 4 bytes, but F32 with shape [2] needs 8"},
      {image(R"({"t":{"dtype":"F16","shape":[2],"data_offsets":[0,2]}})", four), "needs 4"},
      {image(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1],)"
             R"("data_offsets":[2,4]}})", four),
       "x.safetensors: tensors 'a' and 'b' overlap"},
      {image(R"({"__metadata__":{"format":1}})"), "x.safetensors: __metadata__ value of 'format' is not a string"},
      {image(R"({"__metadata__":[]})"), "x.safetensors: __metadata__ is not an object"},
  };
  for (const Case& c : cases) {
    const std::string message = parse_error(c.bytes);
    EXPECT_NE(message.find(c.expected), std::string::npos) << "expected '" << c.expected << "', got '" << message << "'";
  }
}

TEST(E5SafeTensors, OpenNamesTheFile) {
  TempDir dir;
  try {
    SafeTensors::open(dir / "absent.safetensors");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir / "absent.safetensors"), std::string::npos) << e.what();
  }
  { std::ofstream(dir / "empty.safetensors"); }
  try {
    SafeTensors::open(dir / "empty.safetensors");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "empty.safetensors") + ": not a safetensors file (shorter than its 8-byte "
                                                                    "header length)");
  }
  EXPECT_THROW(SafeTensors::open(dir.path().string()), Error);  // a directory
}

TEST(E5SafeTensors, WriteMatchesHuggingFaceLayoutAndRoundTrips) {
  TempDir dir;
  const std::string path = dir / "w.safetensors";
  const std::vector<TensorData> tensors = {
      {"b", {2}, {1.5f, -0.0f}},
      {"a", {1, 3}, {std::numeric_limits<float>::infinity(), 1e-45f, 3.0f}},
  };
  write_safetensors(path, tensors, {{"format", "pt"}});
  const std::string text = testing::read_text(path);
  // The exact bytes Hugging Face's safetensors writes for this content: metadata first, tensors in data
  // order, the header padded with spaces to a multiple of 8.
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"F32","shape":[1,3],"data_offsets":[8,20]}})";
  const std::size_t padded = (header.size() + 7) / 8 * 8;
  ASSERT_EQ(text.size(), 8 + padded + 20);
  std::uint64_t length;
  std::memcpy(&length, text.data(), 8);
  EXPECT_EQ(length, padded);
  EXPECT_EQ(text.substr(8, header.size()), header);
  EXPECT_EQ(text.substr(8 + header.size(), padded - header.size()), std::string(padded - header.size(), ' '));
  // Only the file itself is left in the directory (the temporary file was renamed).
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);

  const SafeTensors st = SafeTensors::open(path);
  EXPECT_EQ(st.metadata().at("format"), "pt");
  ASSERT_EQ(st.tensors().size(), 2u);
  for (const TensorData& t : tensors) {
    const TensorView& v = st.tensor(t.name);
    EXPECT_EQ(v.shape, t.shape);
    const auto values = v.to_f32();
    ASSERT_EQ(values.size(), t.values.size());
    for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(bits(values[i]), bits(t.values[i])) << t.name << i;
  }
}

// The raw 16-bit values of a tensor written as F16 or BF16.
std::vector<std::uint16_t> written_halves(const std::string& path, const std::vector<float>& values,
                                          const std::string& dtype) {
  write_safetensors(path, {{"h", {static_cast<std::int64_t>(values.size())}, values, dtype}});
  const SafeTensors st = SafeTensors::open(path);
  const TensorView& t = st.tensor("h");
  EXPECT_EQ(t.dtype_name, dtype);
  std::vector<std::uint16_t> out(values.size());
  std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
  return out;
}

// Against binary16's definition: every finite half is written as itself, the midpoint of two neighbours as
// the one whose last bit is even, anything nearer one of them as that one; from 65520 up: inf.
TEST(E5SafeTensors, WritesF16RoundedToNearestEven) {
  const auto value = [](std::uint32_t h) {  // h < 0x7c00; 0x7c00 as 65536, where rounding meets inf
    const int exponent = static_cast<int>(h >> 10), mantissa = static_cast<int>(h & 0x3ff);
    return exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
  };
  std::vector<float> values;
  std::vector<std::uint16_t> expected;
  const auto add = [&](double v, std::uint32_t h) {
    values.push_back(static_cast<float>(v));
    expected.push_back(static_cast<std::uint16_t>(h));
  };
  for (std::uint32_t h = 0; h < 0x7c00; ++h) {
    // The midpoint has 12 significant bits: exact in a float.
    const double low = value(h), high = value(h + 1), mid = (low + high) / 2;
    for (const std::uint32_t sign : {0u, 0x8000u}) {
      const double s = sign != 0 ? -1.0 : 1.0;
      add(std::copysign(low, s), h | sign);
      add(s * mid, ((h & 1) != 0 ? h + 1 : h) | sign);
      add(std::nextafter(static_cast<float>(s * mid), 0.0f), h | sign);
      add(std::nextafter(static_cast<float>(s * mid), static_cast<float>(s * 1e9)), (h + 1) | sign);
    }
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (const auto& [v, h] : std::vector<std::pair<float, std::uint32_t>>{
           {inf, 0x7c00}, {-inf, 0xfc00}, {1e10f, 0x7c00}, {1e-30f, 0}, {-1e-45f, 0x8000}, {0x1p-25f, 0}})
    add(v, h);
  values.push_back(std::numeric_limits<float>::quiet_NaN());
  TempDir dir;
  const auto got = written_halves(dir / "f16.safetensors", values, "F16");
  std::size_t wrong = 0;
  for (std::size_t i = 0; i + 1 < values.size(); ++i)
    if (got[i] != expected[i] && ++wrong <= 5)
      ADD_FAILURE() << "value " << values[i] << " written as 0x" << std::hex << got[i] << ", expected 0x" << expected[i];
  EXPECT_EQ(wrong, 0u);
  EXPECT_TRUE((got.back() & 0x7c00) == 0x7c00 && (got.back() & 0x3ff) != 0) << "NaN written as " << got.back();
}

// Against the definition: of the two bfloat16 values around a float, the nearer (in double arithmetic); at a
// tie the one whose last bit is even; past the largest finite, inf.
TEST(E5SafeTensors, WritesBF16RoundedToNearestEven) {
  std::mt19937 random(7);
  std::vector<float> values;
  while (values.size() < 200000) {
    std::uint32_t b = static_cast<std::uint32_t>(random());
    if (values.size() % 4 == 0) b = (b & 0xffff0000u) | 0x8000u;  // a tie
    if ((b & 0x7f800000u) != 0x7f800000u) values.push_back(std::bit_cast<float>(b));
  }
  values.push_back(std::numeric_limits<float>::max());
  TempDir dir;
  const auto got = written_halves(dir / "bf16.safetensors", values, "BF16");
  const auto value = [](std::uint32_t b) {  // the largest exponent's first value read as 2^128, not inf
    return (b & 0x7fffffffu) == 0x7f800000u ? std::copysign(std::ldexp(1.0, 128), std::bit_cast<float>(b))
                                            : static_cast<double>(std::bit_cast<float>(b));
  };
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint32_t low = bits(values[i]) & 0xffff0000u, high = low + 0x10000u;
    const double below = std::abs(values[i] - value(low)), above = std::abs(value(high) - values[i]);
    const std::uint32_t want = (below < above || (below == above && (low & 0x10000u) == 0) ? low : high) >> 16;
    if (got[i] != want && ++wrong <= 5)
      ADD_FAILURE() << "value " << values[i] << " written as 0x" << std::hex << got[i] << ", expected 0x" << want;
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(got.back(), 0x7f80u);  // FLT_MAX is nearer 2^128 than the largest finite bfloat16: inf
}

TEST(E5SafeTensors, WritesI64WholeNumbersAndRefusesOtherDtypes) {
  TempDir dir;
  const std::string path = dir / "i64.safetensors";
  write_safetensors(path, {{"embeddings.position_ids", {1, 4}, {0, 1, 2, 511}, "I64"}, {"f", {1}, {2.5f}}});
  const SafeTensors st = SafeTensors::open(path);
  const TensorView& ids = st.tensor("embeddings.position_ids");
  EXPECT_EQ(ids.dtype_name, "I64");
  EXPECT_EQ(ids.shape, (std::vector<std::int64_t>{1, 4}));
  std::vector<std::int64_t> got(4);
  ASSERT_EQ(ids.bytes.size(), 32u);
  std::memcpy(got.data(), ids.bytes.data(), 32);
  EXPECT_EQ(got, (std::vector<std::int64_t>{0, 1, 2, 511}));
  EXPECT_EQ(st.tensor("f").to_f32(), std::vector<float>{2.5f});
  EXPECT_THROW(write_safetensors(dir / "x", {{"a", {1}, {0.5f}, "I64"}}), Error);
  EXPECT_THROW(write_safetensors(dir / "x", {{"a", {1}, {1.0f}, "F64"}}), Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "x"));
}

TEST(E5SafeTensors, WriteRefusesInconsistentTensors) {
  TempDir dir;
  const std::string path = dir / "bad.safetensors";
  EXPECT_THROW(write_safetensors(path, {{"a", {2, 2}, {1, 2, 3}}}), Error);
  EXPECT_THROW(write_safetensors(path, {{"a", {1}, {1}}, {"a", {1}, {2}}}), Error);
  EXPECT_THROW(write_safetensors(path, {{"__metadata__", {1}, {1}}}), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace logclf::encoder::e5
