// The int8 GEMM: quantization by hand on a small case, every int8 path this CPU has against the portable
// one (bit-identical int32 sums, on ragged shapes), and the dequantized product against the float one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "e5_int8_tiles.h"
#include "encoder/e5/kernels.h"
#include "logclf/types.h"

namespace logclf::encoder::e5 {
namespace {

// Skips the test, loudly, when this CPU (or build) lacks the path.
#define REQUIRE_PATH(isa)                                                                                 \
  if (!int8_isa_supported(isa)) {                                                                         \
    std::cerr << "SKIPPED: the " << to_string(isa) << " path is not available on this CPU (or build): it " \
              << "is not compared with the portable path here" << std::endl;                              \
    GTEST_SKIP() << "SKIPPED: " << to_string(isa) << " not available on this CPU";                         \
  }

std::vector<float> random_values(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

TEST(E5Int8, QuantizeRowByHand) {
  const float x[] = {1.0f, -0.5f, 0.25f, 0.0f, 1.0f / 127.0f};
  std::uint8_t q[8];
  float scale = 0.0f;
  quantize_row(x, 5, q, 8, &scale);
  EXPECT_FLOAT_EQ(scale, 1.0f / 127.0f);
  // 127, -63.5 → -64 (ties to even), 31.75 → 32, 0, 1; each + 128; 128 (zero) past k.
  const std::vector<std::uint8_t> expected = {255, 64, 160, 128, 129, 128, 128, 128};
  EXPECT_EQ(std::vector<std::uint8_t>(q, q + 8), expected);

  const float zeros[3] = {};
  quantize_row(zeros, 3, q, 4, &scale);
  EXPECT_EQ(scale, 0.0f);
  EXPECT_EQ(std::vector<std::uint8_t>(q, q + 4), std::vector<std::uint8_t>(4, 128));
}

TEST(E5Int8, QuantizeRowPerBlock) {
  // Two blocks: k = kInt8Block + 3, each with its own scale (the first block's 2.0 leaves the second's
  // small values their 8 bits).
  std::vector<float> x(kInt8Block + 3, 0.0f);
  x[0] = 2.0f;
  x[1] = -1.0f;                 // -63.5 → -64
  x[kInt8Block] = 0.25f;        // 127
  x[kInt8Block + 1] = -0.125f;  // -63.5 → -64
  x[kInt8Block + 2] = 0.0625f;  // 31.75 → 32
  std::vector<std::uint8_t> q(kInt8Block + 4);
  float scales[2];
  quantize_row(x.data(), kInt8Block + 3, q.data(), kInt8Block + 4, scales);
  EXPECT_FLOAT_EQ(scales[0], 2.0f / 127.0f);
  EXPECT_FLOAT_EQ(scales[1], 0.25f / 127.0f);
  EXPECT_EQ(q[0], 255);
  EXPECT_EQ(q[1], 64);
  for (int i = 2; i < kInt8Block; ++i) EXPECT_EQ(q[static_cast<std::size_t>(i)], 128) << i;
  EXPECT_EQ(q[kInt8Block], 255);
  EXPECT_EQ(q[kInt8Block + 1], 64);
  EXPECT_EQ(q[kInt8Block + 2], 160);
  EXPECT_EQ(q[kInt8Block + 3], 128);  // padding
}

TEST(E5Int8, QuantizeWeightsAndMultiplyByHand) {
  // W: 2 output channels × 3 inputs. Row 0: scale 2/63; 63, -31.5 → -32, 15.75 → 16. Row 1: all zero.
  const float w[] = {2.0f, -1.0f, 0.5f, 0.0f, 0.0f, 0.0f};
  QuantizedMatrix b;
  b.quantize_transposed(w, 3, 2, 3);
  ASSERT_EQ(b.n(), 2);
  ASSERT_EQ(b.k(), 3);
  ASSERT_EQ(b.groups(), 1);
  ASSERT_EQ(b.panels(), 1);
  ASSERT_EQ(b.blocks(), 1);
  EXPECT_FLOAT_EQ(b.scales(0)[0], 2.0f / 63.0f);
  EXPECT_EQ(b.scales(0)[1], 0.0f);
  EXPECT_EQ(b.offsets(0)[0], 128 * (63 - 32 + 16));
  EXPECT_EQ(b.offsets(0)[1], 0);
  const std::int8_t* p = b.panel(0);
  EXPECT_EQ(std::vector<int>(p, p + 8), (std::vector<int>{63, -32, 16, 0, 0, 0, 0, 0}));
  for (int i = 8; i < kInt8Group * kPanelCols; ++i) EXPECT_EQ(p[i], 0) << "byte " << i << " past n";

  // A = [1, -0.5, 0.25] → 127, -64, 32: the dot product with row 0 is 127·63 + 64·32 + 32·16 = 10561.
  const float a[] = {1.0f, -0.5f, 0.25f};
  const float bias[] = {0.5f, -1.0f};
  for (Int8Isa isa : {Int8Isa::portable, Int8Isa::avx2, Int8Isa::avx512vnni}) {
    if (!int8_isa_supported(isa)) continue;
    Compute compute(1, Isa::portable, isa);
    float c[2] = {};
    gemm(compute, a, 3, 1, b, c, 2, Epilogue{.bias = bias});
    EXPECT_FLOAT_EQ(c[0], 10561.0f * ((1.0f / 127.0f) * (2.0f / 63.0f)) + 0.5f) << to_string(isa);
    EXPECT_EQ(c[1], -1.0f) << to_string(isa);
  }
}

struct Shape {
  int m, n, k;
};

// Shapes not multiples of the tile (4 rows), the panel (16 columns), the group (4 k) or the block (64 k), and
// the encoder's own.
const std::vector<Shape> kShapes = {{1, 1, 1},     {3, 5, 7},       {5, 17, 13},     {13, 33, 63},
                                    {97, 50, 385}, {200, 1152, 384}, {130, 384, 1536}};

struct Operands {
  std::vector<float> a, w;
  QuantizedMatrix b;
};

Operands operands(const Shape& s) {
  Operands o{random_values(static_cast<std::size_t>(s.m) * s.k, 11 + s.m, 3.0f),
             random_values(static_cast<std::size_t>(s.n) * s.k, 13 + s.n, 0.1f), {}};
  // A few large channels, as BERT's hidden states have.
  for (int i = 0; i < s.m; ++i) o.a[static_cast<std::size_t>(i) * s.k + static_cast<std::size_t>(s.k / 2)] *= 20.0f;
  o.b.quantize_transposed(o.w.data(), static_cast<std::size_t>(s.k), s.n, s.k);
  return o;
}

// With `epilogue`, a bias and a residual: the tiles of C that the tile writes with them itself, and the edges
// that the epilogue's pass adds them to.
std::vector<float> int8_gemm(const Operands& o, const Shape& s, Int8Isa isa, int threads, bool epilogue = false) {
  Compute compute(threads, Isa::portable, isa);
  std::vector<float> c(static_cast<std::size_t>(s.m) * s.n, -1.0f);
  const std::vector<float> bias = random_values(static_cast<std::size_t>(s.n), 17, 2.0f);
  const std::vector<float> residual = random_values(static_cast<std::size_t>(s.m) * (s.n + 3), 19, 5.0f);
  const Epilogue parts{.bias = bias.data(), .residual = residual.data(),
                       .residual_stride = static_cast<std::size_t>(s.n) + 3};
  gemm(compute, o.a.data(), static_cast<std::size_t>(s.k), s.m, o.b, c.data(), static_cast<std::size_t>(s.n),
       epilogue ? parts : Epilogue{});
  return c;
}

// The whole GEMM on `isa` against the portable one: equal integer sums, dequantized by the same float
// operations, give the same floats bit for bit. With a bias and a residual, C is the product plus the bias,
// plus the residual, in that order of float additions, whichever way each tile takes.
void expect_gemm_equals_portable(Int8Isa isa) {
  for (const Shape& s : kShapes) {
    const Operands o = operands(s);
    const std::vector<float> want = int8_gemm(o, s, Int8Isa::portable, 1);
    std::vector<float> with_parts(want.size());
    const std::vector<float> bias = random_values(static_cast<std::size_t>(s.n), 17, 2.0f);
    const std::vector<float> residual = random_values(static_cast<std::size_t>(s.m) * (s.n + 3), 19, 5.0f);
    for (int i = 0; i < s.m; ++i)
      for (int j = 0; j < s.n; ++j)
        with_parts[static_cast<std::size_t>(i) * s.n + j] =
            (want[static_cast<std::size_t>(i) * s.n + j] + bias[static_cast<std::size_t>(j)]) +
            residual[static_cast<std::size_t>(i) * (s.n + 3) + j];
    for (int threads : {1, 2}) {
      EXPECT_EQ(int8_gemm(o, s, isa, threads), want) << to_string(isa) << ", " << threads << " threads, " << s.m
                                                     << "×" << s.n << "×" << s.k;
      EXPECT_EQ(int8_gemm(o, s, isa, threads, true), with_parts)
          << to_string(isa) << " with bias and residual, " << threads << " threads, " << s.m << "×" << s.n << "×" << s.k;
    }
  }
}

// The path's row quantization against quantize_row: the same bytes and scales, ties (x / s = n + 0.5)
// included, on rows of every length up to three blocks.
void expect_quantize_equals_portable(Int8Isa isa) {
  const detail::Int8Quantize quantize = detail::int8_quantize(isa);
  for (int k = 1; k <= 3 * kInt8Block; ++k) {
    std::vector<float> x = random_values(static_cast<std::size_t>(k), 100 + k, 2.0f);
    x[0] = 127.0f;  // scale 1 in the first block: the values below are exact ties
    for (int i = 1; i < std::min(k, 8); ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i) - 3.5f;
    const int blocks = (k + kInt8Block - 1) / kInt8Block, padded = (k + 3) / 4 * 4;
    std::vector<std::uint8_t> want(static_cast<std::size_t>(padded)), got(want.size(), 7);
    std::vector<float> want_scales(static_cast<std::size_t>(blocks)), got_scales(want_scales.size(), -1.0f);
    quantize_row(x.data(), k, want.data(), padded, want_scales.data());
    quantize(x.data(), k, got.data(), padded, got_scales.data());
    EXPECT_EQ(got, want) << to_string(isa) << ", k = " << k;
    EXPECT_EQ(got_scales, want_scales) << to_string(isa) << ", k = " << k;
  }
}

// The path's quantization of a weight's row against the portable one: the same bytes, scales and sums, ties
// (w / s = n + 0.5) and an all-zero block included, on rows of every length up to three blocks; and a
// QuantizedMatrix quantized by the path holds the portable one's panels, scales and offsets.
void expect_quantize_weights_equals_portable(Int8Isa isa) {
  const detail::Int8QuantizeWeights portable = detail::int8_quantize_weights(Int8Isa::portable);
  const detail::Int8QuantizeWeights quantize = detail::int8_quantize_weights(isa);
  for (int k = 1; k <= 3 * kInt8Block; ++k) {
    std::vector<float> w = random_values(static_cast<std::size_t>(k), 300 + k, 2.0f);
    w[0] = static_cast<float>(kInt8WeightMax);  // scale 1 in the first block: the values below are exact ties
    for (int i = 1; i < std::min(k, 8); ++i) w[static_cast<std::size_t>(i)] = static_cast<float>(i) - 3.5f;
    if (k > 2 * kInt8Block) std::fill(w.begin() + kInt8Block, w.begin() + 2 * kInt8Block, 0.0f);
    const int blocks = (k + kInt8Block - 1) / kInt8Block, padded = (k + 3) / 4 * 4;
    std::vector<std::int8_t> want(static_cast<std::size_t>(padded)), got(want.size(), 7);
    std::vector<float> want_scales(static_cast<std::size_t>(blocks)), got_scales(want_scales.size(), -1.0f);
    std::vector<std::int32_t> want_sums(want_scales.size()), got_sums(want_scales.size(), -1);
    portable(w.data(), k, want.data(), want_scales.data(), want_sums.data());
    quantize(w.data(), k, got.data(), got_scales.data(), got_sums.data());
    EXPECT_EQ(got, want) << to_string(isa) << ", k = " << k;
    EXPECT_EQ(got_scales, want_scales) << to_string(isa) << ", k = " << k;
    EXPECT_EQ(got_sums, want_sums) << to_string(isa) << ", k = " << k;
  }
  for (const int k : {32, 70}) {
    const int n = 37;
    const std::vector<float> w = random_values(static_cast<std::size_t>(n) * (k + 3), 7, 3.0f);
    QuantizedMatrix want, got;
    want.quantize_transposed(w.data(), static_cast<std::size_t>(k) + 3, n, k);
    got.quantize_transposed(w.data(), static_cast<std::size_t>(k) + 3, n, k, isa);
    for (int p = 0; p < want.panels(); ++p)
      ASSERT_TRUE(std::equal(want.panel(p), want.panel(p) + want.groups() * kInt8Group * kPanelCols, got.panel(p)))
          << to_string(isa) << ", k = " << k << ", panel " << p;
    const std::size_t columns = static_cast<std::size_t>(want.panels()) * kPanelCols;
    for (int b = 0; b < want.blocks(); ++b) {
      EXPECT_TRUE(std::equal(want.scales(b), want.scales(b) + columns, got.scales(b))) << k << ", block " << b;
      EXPECT_TRUE(std::equal(want.offsets(b), want.offsets(b) + columns, got.offsets(b))) << k << ", block " << b;
    }
  }
}

// C in column blocks holds the plain C's values, block by block, on every path; the GEMM refuses blocks that
// are not whole panels, and a LayerNorm (which needs whole rows).
TEST(E5Int8, GemmWritesColumnBlocks) {
  const Shape s{37, 96, 70};
  const Operands o = operands(s);
  const std::vector<float> bias = random_values(static_cast<std::size_t>(s.n), 23, 1.0f);
  const Epilogue with_bias{.bias = bias.data()};
  for (const Int8Isa isa : {Int8Isa::portable, Int8Isa::avx2, Int8Isa::avx512vnni}) {
    if (!int8_isa_supported(isa)) continue;
    for (const int width : {16, 32, 96}) {
      SCOPED_TRACE(std::string(to_string(isa)) + ", blocks of " + std::to_string(width));
      Compute compute(2, Isa::portable, isa);
      std::vector<float> plain(static_cast<std::size_t>(s.m) * s.n);
      gemm(compute, o.a.data(), static_cast<std::size_t>(s.k), s.m, o.b, plain.data(), static_cast<std::size_t>(s.n),
           with_bias);
      const std::size_t ldc = static_cast<std::size_t>(width) + 5, stride = static_cast<std::size_t>(s.m) * ldc + 3;
      std::vector<float> blocked(static_cast<std::size_t>(s.n / width) * stride, -9.0f);
      gemm(compute, o.a.data(), static_cast<std::size_t>(s.k), s.m, o.b, blocked.data(), ldc,
           ColumnBlocks{width, stride}, with_bias);
      std::size_t written = 0;
      for (int i = 0; i < s.m; ++i)
        for (int j = 0; j < s.n; ++j, ++written)
          ASSERT_EQ(blocked[static_cast<std::size_t>(j / width) * stride + i * ldc + j % width],
                    plain[static_cast<std::size_t>(i) * s.n + j])
              << i << "," << j;
      EXPECT_EQ(static_cast<std::size_t>(std::count(blocked.begin(), blocked.end(), -9.0f)), blocked.size() - written)
          << "values written outside the blocks' columns";
    }
  }
  Compute compute(1, Isa::portable, Int8Isa::portable);
  std::vector<float> c(static_cast<std::size_t>(s.m) * s.n), gamma(static_cast<std::size_t>(s.n), 1.0f), beta(gamma.size());
  EXPECT_THROW(gemm(compute, o.a.data(), static_cast<std::size_t>(s.k), s.m, o.b, c.data(), 24,
                    ColumnBlocks{24, static_cast<std::size_t>(s.m) * 24}),
               Error);
  EXPECT_THROW(gemm(compute, o.a.data(), static_cast<std::size_t>(s.k), s.m, o.b, c.data(), 32,
                    ColumnBlocks{32, static_cast<std::size_t>(s.m) * 32},
                    Epilogue{.ln_gamma = gamma.data(), .ln_beta = beta.data()}),
               Error);
}

TEST(E5Int8, PortablePathAddsBiasAndResidualAfterTheProduct) { expect_gemm_equals_portable(Int8Isa::portable); }

TEST(E5Int8, Avx2PathEqualsPortableExactly) {
  REQUIRE_PATH(Int8Isa::avx2);
  expect_quantize_equals_portable(Int8Isa::avx2);
  expect_quantize_weights_equals_portable(Int8Isa::avx2);
  testing_int8::expect_tile_equals_portable(detail::int8_tile(Int8Isa::avx2), "int8 avx2");
  expect_gemm_equals_portable(Int8Isa::avx2);
}

TEST(E5Int8, Avx512VnniPathEqualsPortableExactly) {
  REQUIRE_PATH(Int8Isa::avx512vnni);
  expect_quantize_equals_portable(Int8Isa::avx512vnni);
  expect_quantize_weights_equals_portable(Int8Isa::avx512vnni);
  testing_int8::expect_tile_equals_portable(detail::int8_tile(Int8Isa::avx512vnni), "int8 avx512-vnni");
  expect_gemm_equals_portable(Int8Isa::avx512vnni);
}

// The dequantized product is close to the float one: the error of 7-bit weights and 8-bit activations,
// each per block of 64 k.
TEST(E5Int8, GemmIsCloseToFloat) {
  for (const Shape& s : kShapes) {
    const Operands o = operands(s);
    const std::vector<float> got = int8_gemm(o, s, Int8Isa::portable, 2);
    double error = 0.0, norm = 0.0;
    for (int i = 0; i < s.m; ++i)
      for (int j = 0; j < s.n; ++j) {
        double exact = 0.0;
        for (int p = 0; p < s.k; ++p)
          exact += static_cast<double>(o.a[static_cast<std::size_t>(i) * s.k + p]) * o.w[static_cast<std::size_t>(j) * s.k + p];
        const double d = got[static_cast<std::size_t>(i) * s.n + j] - exact;
        error += d * d;
        norm += exact * exact;
      }
    EXPECT_LT(std::sqrt(error / std::max(norm, 1e-30)), 0.02) << s.m << "×" << s.n << "×" << s.k;
  }
}

// The FFN's pair of GEMMs with the intermediate quantized (int8 gemm into QuantizedRows, then from them)
// against the same pair through floats: the rows hold exactly what quantize_row makes of the float rows, and
// the second GEMM's output is the same bit for bit; on every int8 path this CPU has, with m not a multiple of
// a tile's rows, an intermediate width not a multiple of a block, and one or two threads.
TEST(E5Int8, QuantizedIntermediateEqualsTheFloatPath) {
  std::vector<Int8Isa> paths;
  for (const Int8Isa isa : {Int8Isa::portable, Int8Isa::avx2, Int8Isa::avx512vnni})
    if (int8_isa_supported(isa)) paths.push_back(isa);
    else std::cerr << "SKIPPED here: the " << to_string(isa) << " path is not available on this CPU" << std::endl;
  struct Case {
    int m, k, inter;
  };
  // 131 rows on one thread: two blocks of 66 and 65 rows, whose last tile reads past round_up(131, 4).
  for (const Case& t : {Case{37, 96, 100}, Case{8, 64, 128}, Case{130, 48, 200}, Case{131, 32, 64}}) {
    const auto a = random_values(static_cast<std::size_t>(t.m) * t.k, 70 + t.m, 2.0f);
    const auto w1 = random_values(static_cast<std::size_t>(t.inter) * t.k, 71, 0.2f);
    const auto w2 = random_values(static_cast<std::size_t>(t.k) * t.inter, 72, 0.1f);
    const auto bias = random_values(static_cast<std::size_t>(t.inter), 73, 0.5f);
    const auto residual = random_values(static_cast<std::size_t>(t.m) * t.k, 74);
    QuantizedMatrix up, down;
    up.quantize_transposed(w1.data(), static_cast<std::size_t>(t.k), t.inter, t.k);
    down.quantize_transposed(w2.data(), static_cast<std::size_t>(t.inter), t.k, t.inter);
    const Epilogue e_up{.bias = bias.data(), .gelu = true};
    const Epilogue e_down{.residual = residual.data(), .residual_stride = static_cast<std::size_t>(t.k)};
    for (const Int8Isa isa : paths) {
      for (const int threads : {1, 2}) {
        SCOPED_TRACE(std::string(to_string(isa)) + ", " + std::to_string(threads) + " threads, m " + std::to_string(t.m));
        Compute compute(threads, best_isa(), isa);
        std::vector<float> middle(static_cast<std::size_t>(t.m) * t.inter), expected(static_cast<std::size_t>(t.m) * t.k);
        gemm(compute, a.data(), static_cast<std::size_t>(t.k), t.m, up, middle.data(), static_cast<std::size_t>(t.inter), e_up);
        gemm(compute, middle.data(), static_cast<std::size_t>(t.inter), t.m, down, expected.data(), static_cast<std::size_t>(t.k), e_down);
        QuantizedRows rows;
        gemm(compute, a.data(), static_cast<std::size_t>(t.k), t.m, up, rows, e_up);
        ASSERT_EQ(rows.rows(), t.m);
        ASSERT_EQ(rows.k(), t.inter);
        std::vector<std::uint8_t> bytes(rows.stride());
        std::vector<float> scales(static_cast<std::size_t>(rows.blocks()));
        for (int r = 0; r < t.m; ++r) {
          quantize_row(middle.data() + static_cast<std::size_t>(r) * t.inter, t.inter, bytes.data(),
                       static_cast<int>(rows.stride()), scales.data());
          for (std::size_t j = 0; j < bytes.size(); ++j) ASSERT_EQ(rows.row(r)[j], bytes[j]) << r << "," << j;
          for (int b = 0; b < rows.blocks(); ++b) ASSERT_EQ(rows.scales(r)[b], scales[static_cast<std::size_t>(b)]) << r;
        }
        std::vector<float> got(expected.size(), -1.0f);
        gemm(compute, rows, down, got.data(), static_cast<std::size_t>(t.k), e_down);
        for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i]) << i;
      }
    }
  }
}

TEST(E5Int8, QuantizedRowsRefuseWhatTheyCannotHold) {
  Compute compute(1, Isa::portable);
  const auto w = random_values(64 * 32, 80);
  QuantizedMatrix b;
  b.quantize_transposed(w.data(), 32, 64, 32);
  const auto a = random_values(4 * 32, 81);
  const float gamma[64] = {}, beta[64] = {};
  QuantizedRows rows;
  EXPECT_THROW(gemm(compute, a.data(), 32, 4, b, rows, Epilogue{.ln_gamma = gamma, .ln_beta = beta}), Error);
  gemm(compute, a.data(), 32, 4, b, rows);  // rows of 64 values: not B's k of 32
  std::vector<float> c(4 * 64);
  EXPECT_THROW(gemm(compute, rows, b, c.data(), 64), Error);
}

}  // namespace
}  // namespace logclf::encoder::e5
