// The int8 GEMM's micro-kernels for AVX2 and AVX-512 VNNI, each function with its own target attribute (why
// in kernels_avx2.cc). Both compute the exact integer sums of the portable kernel: no step can overflow or
// saturate for the unsigned-byte activations and 7-bit weights of QuantizedMatrix.
#include "encoder/e5/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <cstring>

#define LOGCLF_AVX2 __attribute__((target("avx2")))
#define LOGCLF_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

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
// by ones sums the pairs into the column's 32-bit lane.
LOGCLF_AVX2 void avx2_tile(int groups, const std::uint8_t* const* a, const std::int8_t* panel, std::int32_t* c) {
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
  auto* out = reinterpret_cast<__m256i*>(c);
  _mm256_storeu_si256(out + 0, c00), _mm256_storeu_si256(out + 1, c01);
  _mm256_storeu_si256(out + 2, c10), _mm256_storeu_si256(out + 3, c11);
  _mm256_storeu_si256(out + 4, c20), _mm256_storeu_si256(out + 5, c21);
  _mm256_storeu_si256(out + 6, c30), _mm256_storeu_si256(out + 7, c31);
}

// vpdpbusd: the four byte products of each lane summed into it in one instruction, exactly.
LOGCLF_AVX512_VNNI void vnni_tile(int groups, const std::uint8_t* const* a, const std::int8_t* panel,
                                  std::int32_t* c) {
  __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0;
  const std::uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
  for (int g = 0; g < groups; ++g, panel += kInt8Group * kPanelCols) {
    const __m512i b = _mm512_loadu_si512(panel);
    const int k = g * kInt8Group;
    c0 = _mm512_dpbusd_epi32(c0, _mm512_set1_epi32(load_group(a0 + k)), b);
    c1 = _mm512_dpbusd_epi32(c1, _mm512_set1_epi32(load_group(a1 + k)), b);
    c2 = _mm512_dpbusd_epi32(c2, _mm512_set1_epi32(load_group(a2 + k)), b);
    c3 = _mm512_dpbusd_epi32(c3, _mm512_set1_epi32(load_group(a3 + k)), b);
  }
  _mm512_storeu_si512(c, c0);
  _mm512_storeu_si512(c + 16, c1);
  _mm512_storeu_si512(c + 32, c2);
  _mm512_storeu_si512(c + 48, c3);
}

// The float operations of the portable accumulation, eight columns at a time (no FMA: the same roundings).
LOGCLF_AVX2 void avx2_accumulate(const std::int32_t* acc, const std::int32_t* offsets, const float* row_scales,
                                 std::size_t row_stride, const float* column_scales, float* sums) {
  const __m256i o0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets));
  const __m256i o1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets + 8));
  const __m256 c0 = _mm256_loadu_ps(column_scales), c1 = _mm256_loadu_ps(column_scales + 8);
  for (int r = 0; r < kInt8TileRows; ++r, acc += kPanelCols, sums += kPanelCols) {
    const __m256 s = _mm256_set1_ps(row_scales[static_cast<std::size_t>(r) * row_stride]);
    const __m256 x0 = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc)), o0));
    const __m256 x1 =
        _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + 8)), o1));
    _mm256_storeu_ps(sums, _mm256_add_ps(_mm256_loadu_ps(sums), _mm256_mul_ps(x0, _mm256_mul_ps(s, c0))));
    _mm256_storeu_ps(sums + 8, _mm256_add_ps(_mm256_loadu_ps(sums + 8), _mm256_mul_ps(x1, _mm256_mul_ps(s, c1))));
  }
}

}  // namespace

detail::Int8Accumulate detail::int8_accumulate_avx2() { return avx2_accumulate; }
detail::Int8Tile detail::int8_tile_avx2() { return avx2_tile; }
detail::Int8Tile detail::int8_tile_avx512vnni() { return vnni_tile; }

}  // namespace logclf::encoder::e5

#else

namespace logclf::encoder::e5 {
detail::Int8Tile detail::int8_tile_avx2() { return nullptr; }
detail::Int8Tile detail::int8_tile_avx512vnni() { return nullptr; }
detail::Int8Accumulate detail::int8_accumulate_avx2() { return nullptr; }
}  // namespace logclf::encoder::e5

#endif
