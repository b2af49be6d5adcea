// The int8 GEMM's micro-kernels for AVX2 and AVX-512 VNNI, each function with its own target attribute (why
// in kernels_avx2.cc). Both compute the exact integer sums of the portable kernel: no step can overflow or
// saturate for the unsigned-byte activations and 7-bit weights of QuantizedMatrix.
#include "encoder/e5/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#define LOGCLF_AVX2 __attribute__((target("avx2")))
#define LOGCLF_VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

#include "encoder/e5/kernels_int8_vnni.h"

namespace logclf::encoder::e5 {

namespace {

static_assert(kInt8TileRows == 4 && kPanelCols == 16 && kInt8Group == 4,
              "the tiles are 4 rows × 16 columns of 32-bit lanes, each summing 4 byte products");

// Per group and row: vpmaddubsw sums byte products in pairs (at most 2 · 255 · 63, no saturation), vpmaddwd
// by ones sums the pairs into the column's 32-bit lane, vpaddd adds that to the row's sums c<row><half>
// (the tile's 4 rows × 16 columns), which start at what the caller gives.
//
// The loop is written in assembly because GCC 12, given the same steps as intrinsics, keeps one of the
// eight sums on the stack (a load and a store on its chain every group) and groups the multiplies so that
// more temporaries are live than the 16 registers hold. Measured on Zen 3, one tile's blocks of 64 k and
// their float accumulation in a loop of their own: 69 against 83 billion multiply-adds per second per core. The assembly is the
// intrinsics' steps in their order, in fixed registers: 8 sums, the panel's two halves, the broadcast
// activations, one temporary and the ones. groups ≥ 1.
LOGCLF_AVX2 inline __attribute__((always_inline)) void avx2_sums(int groups, const std::uint8_t* const* a,
                                                                const std::int8_t* panel, __m256i& c00, __m256i& c01,
                                                                __m256i& c10, __m256i& c11, __m256i& c20,
                                                                __m256i& c21, __m256i& c30, __m256i& c31) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i b0, b1, x, t;
  std::intptr_t k = 0;
  const std::intptr_t end = static_cast<std::intptr_t>(groups) * kInt8Group;
#define LOGCLF_ROW(row, lo, hi)                                                                        \
  "vpbroadcastd (%[" row "],%[k]), %[x]\n\t"                                                           \
  "vpmaddubsw %[b0], %[x], %[t]\n\tvpmaddwd %[ones], %[t], %[t]\n\tvpaddd %[t], %[" lo "], %[" lo "]\n\t" \
  "vpmaddubsw %[b1], %[x], %[t]\n\tvpmaddwd %[ones], %[t], %[t]\n\tvpaddd %[t], %[" hi "], %[" hi "]\n\t"
  __asm__(
      ".p2align 6\n"
      "1:\n\t"
      "vmovdqu (%[panel]), %[b0]\n\t"
      "vmovdqu 32(%[panel]), %[b1]\n\t"
      LOGCLF_ROW("a0", "c00", "c01") LOGCLF_ROW("a1", "c10", "c11") LOGCLF_ROW("a2", "c20", "c21")
      LOGCLF_ROW("a3", "c30", "c31")
      "add $64, %[panel]\n\t"
      "add $4, %[k]\n\t"
      "cmp %[end], %[k]\n\t"
      "jl 1b"
      : [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11), [c20] "+x"(c20), [c21] "+x"(c21),
        [c30] "+x"(c30), [c31] "+x"(c31), [b0] "=&x"(b0), [b1] "=&x"(b1), [x] "=&x"(x),
        [t] "=&x"(t), [panel] "+r"(panel), [k] "+r"(k)
      : [a0] "r"(a[0]), [a1] "r"(a[1]), [a2] "r"(a[2]), [a3] "r"(a[3]), [ones] "x"(ones), [end] "r"(end)
      : "cc", "memory");
#undef LOGCLF_ROW
  static_assert(kInt8Group * kPanelCols == 64 && kInt8Group == 4, "the loop's steps");
}

LOGCLF_AVX2 void avx2_tile(int groups, const std::uint8_t* const* a, const std::int8_t* panel, std::int32_t* c) {
  if (groups <= 0) {
    std::fill_n(c, kInt8TileRows * kPanelCols, 0);
    return;
  }
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  avx2_sums(groups, a, panel, c00, c01, c10, c11, c20, c21, c30, c31);
  const __m256i rows[] = {c00, c01, c10, c11, c20, c21, c30, c31};
  for (int i = 0; i < 8; ++i) _mm256_storeu_si256(reinterpret_cast<__m256i*>(c) + i, rows[i]);
}

// sums += d · (row scale · column scales) for one row of 16 lanes, d = acc - offsets: the float operations of
// the portable accumulation, in its order (no FMA: the same roundings).
LOGCLF_AVX2 inline __attribute__((always_inline)) void avx2_accumulate_row(__m256i d0, __m256i d1, __m256 s,
                                                                          __m256 c0, __m256 c1, float* sums) {
  const __m256 x0 = _mm256_cvtepi32_ps(d0);
  const __m256 x1 = _mm256_cvtepi32_ps(d1);
  _mm256_storeu_ps(sums, _mm256_add_ps(_mm256_loadu_ps(sums), _mm256_mul_ps(x0, _mm256_mul_ps(s, c0))));
  _mm256_storeu_ps(sums + 8, _mm256_add_ps(_mm256_loadu_ps(sums + 8), _mm256_mul_ps(x1, _mm256_mul_ps(s, c1))));
}

// The sums start at -offsets, so that they end as acc - offsets with no step of their own (exact: integers).
LOGCLF_AVX2 void avx2_tile_blocks(const detail::Int8TileJob& job) {
  alignas(32) float sums[kInt8TileRows * kPanelCols] = {};
  const __m256i zero = _mm256_setzero_si256();
  for (int b = 0; b < detail::int8_blocks(job); ++b) {
    const detail::Int8TileBlock block = detail::int8_block(job, b);
    const __m256i o0 = _mm256_sub_epi32(zero, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.offsets)));
    const __m256i o1 =
        _mm256_sub_epi32(zero, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.offsets + 8)));
    __m256i c00 = o0, c01 = o1, c10 = o0, c11 = o1, c20 = o0, c21 = o1, c30 = o0, c31 = o1;
    avx2_sums(block.groups, block.a, block.panel, c00, c01, c10, c11, c20, c21, c30, c31);
    const __m256 s0 = _mm256_loadu_ps(block.column_scales), s1 = _mm256_loadu_ps(block.column_scales + 8);
    const float* rs = block.row_scales;
    const std::size_t step = job.row_stride;
    avx2_accumulate_row(c00, c01, _mm256_set1_ps(rs[0]), s0, s1, sums);
    avx2_accumulate_row(c10, c11, _mm256_set1_ps(rs[step]), s0, s1, sums + kPanelCols);
    avx2_accumulate_row(c20, c21, _mm256_set1_ps(rs[2 * step]), s0, s1, sums + 2 * kPanelCols);
    avx2_accumulate_row(c30, c31, _mm256_set1_ps(rs[3 * step]), s0, s1, sums + 3 * kPanelCols);
  }
  for (int r = 0; r < kInt8TileRows; ++r)
    for (int h = 0; h < kPanelCols; h += 8) {
      __m256 v = _mm256_load_ps(sums + r * kPanelCols + h);
      if (job.bias != nullptr) v = _mm256_add_ps(v, _mm256_loadu_ps(job.bias + h));
      if (job.residual != nullptr) v = _mm256_add_ps(v, _mm256_loadu_ps(job.residual + r * job.residual_stride + h));
      _mm256_storeu_ps(job.out + r * job.out_stride + h, v);
    }
}

// max |x| over n values, eight at a time (exact in any order).
LOGCLF_AVX2 inline __attribute__((always_inline)) float avx2_abs_max(const float* x, int n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const int full = n / 8 * 8;
  __m256 top8 = _mm256_setzero_ps();
  for (int i = 0; i < full; i += 8) top8 = _mm256_max_ps(top8, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
  __m128 t = _mm_max_ps(_mm256_castps256_ps128(top8), _mm256_extractf128_ps(top8, 1));
  t = _mm_max_ps(t, _mm_movehl_ps(t, t));
  t = _mm_max_ss(t, _mm_movehdup_ps(t));
  float top = _mm_cvtss_f32(t);
  for (int i = full; i < n; ++i) top = std::max(top, std::fabs(x[i]));
  return top;
}

// Eight values times `inverse`, rounded to the nearest integer and clamped to [low, high].
LOGCLF_AVX2 inline __attribute__((always_inline)) __m256i avx2_round_clamp(const float* x, __m256 inverse,
                                                                          __m256i low, __m256i high) {
  return _mm256_min_epi32(high, _mm256_max_epi32(low, _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), inverse))));
}

// quantize_row with the same results, 32 values at a time: vcvtps2dq rounds to the nearest, ties to even, as
// the portable kernel's adding and subtracting of 1.5 · 2^23 does, and clamping the integers clamps as the
// floats would. The bytes are packed with signed saturation (none: |q| ≤ 127), put back in order across the
// two 128-bit lanes, and q + 128 is q with its sign bit flipped.
LOGCLF_AVX2 void avx2_quantize_row(const float* x, int k, std::uint8_t* out, int padded, float* scales) {
  std::fill(out + k, out + padded, std::uint8_t{128});
  const __m256i high = _mm256_set1_epi32(127), low = _mm256_set1_epi32(-127);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int b0 = 0; b0 < k; b0 += kInt8Block) {
    const int n = std::min(kInt8Block, k - b0);
    const float* xb = x + b0;
    std::uint8_t* ob = out + b0;
    const float top = avx2_abs_max(xb, n);
    *scales++ = top / 127.0f;
    if (top == 0.0f) {
      std::fill(ob, ob + n, std::uint8_t{128});
      continue;
    }
    const float inverse = 127.0f / top;
    const __m256 inv = _mm256_set1_ps(inverse);
    int i = 0;
    for (; i + 32 <= n; i += 32) {
      const __m256i words =
          _mm256_packs_epi16(_mm256_packs_epi32(avx2_round_clamp(xb + i, inv, low, high),
                                                avx2_round_clamp(xb + i + 8, inv, low, high)),
                             _mm256_packs_epi32(avx2_round_clamp(xb + i + 16, inv, low, high),
                                                avx2_round_clamp(xb + i + 24, inv, low, high)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(ob + i),
                          _mm256_xor_si256(_mm256_permutevar8x32_epi32(words, order), flip));
    }
    for (; i + 8 <= n; i += 8) {
      const __m256i v = avx2_round_clamp(xb + i, inv, low, high);
      const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(ob + i),
                       _mm_xor_si128(_mm_packs_epi16(words, words), _mm256_castsi256_si128(flip)));
    }
    constexpr float kRound = 12582912.0f;
    for (; i < n; ++i) {
      const float q = std::min(127.0f, std::max(-127.0f, (xb[i] * inverse + kRound) - kRound));
      ob[i] = static_cast<std::uint8_t>(static_cast<int>(q) + 128);
    }
  }
}

// quantize_weights_row with the same float operations, eight values at a time: vcvtps2dq rounds to the
// nearest, ties to even, as nearbyint does in the default rounding mode.
LOGCLF_AVX2 void avx2_quantize_weights(const float* w, int k, std::int8_t* q, float* scales, std::int32_t* sums) {
  std::fill(q + k, q + (k + kInt8Group - 1) / kInt8Group * kInt8Group, std::int8_t{0});
  for (int b0 = 0; b0 < k; b0 += kInt8Block) {
    const int n = std::min(kInt8Block, k - b0);
    const int full = n / 8 * 8;
    const float* wb = w + b0;
    std::int8_t* qb = q + b0;
    const float top = avx2_abs_max(wb, n);
    const float inverse = top > 0.0f ? kInt8WeightMax / top : 0.0f;
    const __m256 inv = _mm256_set1_ps(inverse);
    const __m256i high = _mm256_set1_epi32(kInt8WeightMax), low = _mm256_set1_epi32(-kInt8WeightMax);
    __m256i sum8 = _mm256_setzero_si256();
    for (int i = 0; i < full; i += 8) {
      const __m256i v = avx2_round_clamp(wb + i, inv, low, high);
      sum8 = _mm256_add_epi32(sum8, v);
      const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(qb + i), _mm_packs_epi16(words, words));
    }
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum8), _mm256_extracti128_si256(sum8, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
    std::int32_t sum = _mm_cvtsi128_si32(s4);
    for (int i = full; i < n; ++i) {
      const int v = std::clamp(static_cast<int>(std::nearbyint(wb[i] * inverse)), -kInt8WeightMax, kInt8WeightMax);
      qb[i] = static_cast<std::int8_t>(v);
      sum += v;
    }
    *scales++ = top / kInt8WeightMax;
    *sums++ = sum;
  }
}

}  // namespace

detail::Int8QuantizeWeights detail::int8_quantize_weights_avx2() { return avx2_quantize_weights; }
detail::Int8TileBlocks detail::int8_tile_blocks_avx2() { return avx2_tile_blocks; }
detail::Int8Quantize detail::int8_quantize_avx2() { return avx2_quantize_row; }
detail::Int8Tile detail::int8_tile_avx2() { return avx2_tile; }
detail::Int8Tile detail::int8_tile_avx512vnni() { return vnni::tile; }
detail::Int8TileBlocks detail::int8_tile_blocks_avx512vnni() { return vnni::tile_blocks; }

}  // namespace logclf::encoder::e5

#else

namespace logclf::encoder::e5 {
detail::Int8Tile detail::int8_tile_avx2() { return nullptr; }
detail::Int8Tile detail::int8_tile_avx512vnni() { return nullptr; }
detail::Int8TileBlocks detail::int8_tile_blocks_avx2() { return nullptr; }
detail::Int8TileBlocks detail::int8_tile_blocks_avx512vnni() { return nullptr; }
detail::Int8Quantize detail::int8_quantize_avx2() { return nullptr; }
detail::Int8QuantizeWeights detail::int8_quantize_weights_avx2() { return nullptr; }
}  // namespace logclf::encoder::e5

#endif
