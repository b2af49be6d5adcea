// The int8 GEMM's micro-kernels for AVX2 and AVX-512 VNNI, each function with its own target attribute (why
// in kernels_avx2.cc). Both compute the exact integer sums of the portable kernel: no step can overflow or
// saturate for the unsigned-byte activations and 7-bit weights of QuantizedMatrix.
#include "encoder/e5/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#define LOGCLF_AVX2 __attribute__((target("avx2")))
#define LOGCLF_VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

#include "encoder/e5/kernels_int8_vnni.h"

namespace logclf::encoder::e5 {

namespace {

static_assert(kInt8TileRows == 4 && kPanelCols == 16 && kInt8Group == 4,
              "the tiles are 4 rows × 16 columns of 32-bit lanes, each summing 4 byte products");

inline std::int32_t load_group(const std::uint8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Per group and row: vpmaddubsw sums byte products in pairs (at most 2 · 255 · 63, no saturation), vpmaddwd
// by ones sums the pairs into the column's 32-bit lane. c<row><half>: the sums of the tile's 4 × 16 lanes.
LOGCLF_AVX2 inline __attribute__((always_inline)) void avx2_sums(int groups, const std::uint8_t* const* a,
                                                                const std::int8_t* panel, __m256i (&c)[8]) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const std::uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
  for (int g = 0; g < groups; ++g, panel += kInt8Group * kPanelCols) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + 32));
    const int k = g * kInt8Group;
    __m256i x = _mm256_set1_epi32(load_group(a0 + k));
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones));
    x = _mm256_set1_epi32(load_group(a1 + k));
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones));
    x = _mm256_set1_epi32(load_group(a2 + k));
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones));
    x = _mm256_set1_epi32(load_group(a3 + k));
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones));
  }
  c[0] = c00, c[1] = c01, c[2] = c10, c[3] = c11, c[4] = c20, c[5] = c21, c[6] = c30, c[7] = c31;
}

LOGCLF_AVX2 void avx2_tile(int groups, const std::uint8_t* const* a, const std::int8_t* panel, std::int32_t* c) {
  __m256i sums[8];
  avx2_sums(groups, a, panel, sums);
  for (int i = 0; i < 8; ++i) _mm256_storeu_si256(reinterpret_cast<__m256i*>(c) + i, sums[i]);
}

// sums += (acc - offsets) · (row scale · column scales) for one row of 16 lanes: the float operations of the
// portable accumulation, in its order (no FMA: the same roundings).
LOGCLF_AVX2 inline __attribute__((always_inline)) void avx2_accumulate_row(__m256i acc0, __m256i acc1, __m256i o0,
                                                                          __m256i o1, __m256 s, __m256 c0, __m256 c1,
                                                                          float* sums) {
  const __m256 x0 = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc0, o0));
  const __m256 x1 = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc1, o1));
  _mm256_storeu_ps(sums, _mm256_add_ps(_mm256_loadu_ps(sums), _mm256_mul_ps(x0, _mm256_mul_ps(s, c0))));
  _mm256_storeu_ps(sums + 8, _mm256_add_ps(_mm256_loadu_ps(sums + 8), _mm256_mul_ps(x1, _mm256_mul_ps(s, c1))));
}

LOGCLF_AVX2 void avx2_tile_accumulate(int groups, const std::uint8_t* const* a, const std::int8_t* panel,
                                      const std::int32_t* offsets, const float* row_scales, std::size_t row_stride,
                                      const float* column_scales, float* sums) {
  __m256i acc[8];
  avx2_sums(groups, a, panel, acc);
  const __m256i o0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets));
  const __m256i o1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets + 8));
  const __m256 c0 = _mm256_loadu_ps(column_scales), c1 = _mm256_loadu_ps(column_scales + 8);
  for (int r = 0; r < kInt8TileRows; ++r)
    avx2_accumulate_row(acc[2 * r], acc[2 * r + 1], o0, o1,
                        _mm256_set1_ps(row_scales[static_cast<std::size_t>(r) * row_stride]), c0, c1,
                        sums + r * kPanelCols);
}

// quantize_row with the same float operations, eight values at a time (the maximum is exact in any order).
LOGCLF_AVX2 void avx2_quantize_row(const float* x, int k, std::uint8_t* out, int padded, float* scales) {
  std::fill(out + k, out + padded, std::uint8_t{128});
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int b0 = 0; b0 < k; b0 += kInt8Block) {
    const int n = std::min(kInt8Block, k - b0);
    const int full = n / 8 * 8;
    const float* xb = x + b0;
    std::uint8_t* ob = out + b0;
    __m256 top8 = _mm256_setzero_ps();
    for (int i = 0; i < full; i += 8) top8 = _mm256_max_ps(top8, _mm256_andnot_ps(sign, _mm256_loadu_ps(xb + i)));
    __m128 t = _mm_max_ps(_mm256_castps256_ps128(top8), _mm256_extractf128_ps(top8, 1));
    t = _mm_max_ps(t, _mm_movehl_ps(t, t));
    t = _mm_max_ss(t, _mm_movehdup_ps(t));
    float top = _mm_cvtss_f32(t);
    for (int i = full; i < n; ++i) top = std::max(top, std::fabs(xb[i]));
    *scales++ = top / 127.0f;
    if (top == 0.0f) {
      std::fill(ob, ob + n, std::uint8_t{128});
      continue;
    }
    const float inverse = 127.0f / top;
    constexpr float kRound = 12582912.0f;
    const __m256 inv = _mm256_set1_ps(inverse), round = _mm256_set1_ps(kRound);
    const __m256 high = _mm256_set1_ps(127.0f), low = _mm256_set1_ps(-127.0f);
    const __m256i bias = _mm256_set1_epi32(128);
    for (int i = 0; i < full; i += 8) {
      __m256 q = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(xb + i), inv), round), round);
      q = _mm256_min_ps(high, _mm256_max_ps(low, q));
      const __m256i v = _mm256_add_epi32(_mm256_cvtps_epi32(q), bias);
      const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(ob + i), _mm_packus_epi16(words, words));
    }
    for (int i = full; i < n; ++i) {
      const float q = std::min(127.0f, std::max(-127.0f, (xb[i] * inverse + kRound) - kRound));
      ob[i] = static_cast<std::uint8_t>(static_cast<int>(q) + 128);
    }
  }
}

// The portable accumulation's float operations on int32 sums in memory.
LOGCLF_AVX2 void avx2_accumulate(const std::int32_t* acc, const std::int32_t* offsets, const float* row_scales,
                                 std::size_t row_stride, const float* column_scales, float* sums) {
  const __m256i o0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets));
  const __m256i o1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets + 8));
  const __m256 c0 = _mm256_loadu_ps(column_scales), c1 = _mm256_loadu_ps(column_scales + 8);
  for (int r = 0; r < kInt8TileRows; ++r)
    avx2_accumulate_row(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + r * kPanelCols)),
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + r * kPanelCols + 8)), o0, o1,
                        _mm256_set1_ps(row_scales[static_cast<std::size_t>(r) * row_stride]), c0, c1,
                        sums + r * kPanelCols);
}

}  // namespace

detail::Int8Accumulate detail::int8_accumulate_avx2() { return avx2_accumulate; }
detail::Int8TileAccumulate detail::int8_tile_accumulate_avx2() { return avx2_tile_accumulate; }
detail::Int8Quantize detail::int8_quantize_avx2() { return avx2_quantize_row; }
detail::Int8Tile detail::int8_tile_avx2() { return avx2_tile; }
detail::Int8Tile detail::int8_tile_avx512vnni() { return vnni::tile; }
detail::Int8TileAccumulate detail::int8_tile_accumulate_avx512vnni() { return vnni::tile_accumulate; }

}  // namespace logclf::encoder::e5

#else

namespace logclf::encoder::e5 {
detail::Int8Tile detail::int8_tile_avx2() { return nullptr; }
detail::Int8Tile detail::int8_tile_avx512vnni() { return nullptr; }
detail::Int8Accumulate detail::int8_accumulate_avx2() { return nullptr; }
detail::Int8TileAccumulate detail::int8_tile_accumulate_avx2() { return nullptr; }
detail::Int8TileAccumulate detail::int8_tile_accumulate_avx512vnni() { return nullptr; }
detail::Int8Quantize detail::int8_quantize_avx2() { return nullptr; }
}  // namespace logclf::encoder::e5

#endif
