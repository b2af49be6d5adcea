// The AVX-512 VNNI int8 tile, in a header of its own so that two translation units compile it:
// kernels_int8_x86.cc with the real intrinsics (<immintrin.h>, LOGCLF_VNNI_TARGET the target attribute), and
// a test with SIMDe's portable versions of the same intrinsics, which runs this code on CPUs without AVX-512
// (where the test of the real path can only skip). Include it after one of the two, with LOGCLF_VNNI_TARGET
// defined, inside no namespace.
#ifndef LOGCLF_ENCODER_E5_KERNELS_INT8_VNNI_H
#define LOGCLF_ENCODER_E5_KERNELS_INT8_VNNI_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "encoder/e5/kernels.h"

// GCC 12 warns, wrongly, on its own AVX-512 intrinsics that start from an undefined register (GCC bug
// 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Internal linkage: the two translation units' versions differ and must not be merged by the linker.
namespace logclf::encoder::e5::vnni {
namespace {

static_assert(kInt8TileRows == 4 && kPanelCols == 16 && kInt8Group == 4,
              "the tile is 4 rows × 16 columns of 32-bit lanes, each summing 4 byte products");

inline std::int32_t load_group(const std::uint8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The exact int32 sums of the tile: vpdpbusd adds the four byte products of each lane to it in one
// instruction. Each row has two accumulators, for the even and the odd groups, added at the end: with one
// per row the four dependency chains would hold vpdpbusd (latency 5 on Intel's cores) to 0.8 instructions
// per cycle, below the one or two the cores issue. Integer sums: the order does not change them.
// The sums start at `start` (zeros, or -offsets for tile_blocks). Always inlined, so that a caller passing
// a constant `groups` gets the loop unrolled whole.
LOGCLF_VNNI_TARGET inline __attribute__((always_inline)) void tile_sums(int groups, const std::uint8_t* const* a,
                                                                       const std::int8_t* panel, __m512i start,
                                                                       __m512i (&c)[kInt8TileRows]) {
  constexpr int kStep = kInt8Group * kPanelCols;
  __m512i c0 = start, c1 = start, c2 = start, c3 = start;
  __m512i d0 = _mm512_setzero_si512(), d1 = d0, d2 = d0, d3 = d0;
  const std::uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
  int g = 0;
#pragma GCC unroll 8
  for (; g + 1 < groups; g += 2) {
    const __m512i b = _mm512_loadu_si512(panel + g * kStep), b_next = _mm512_loadu_si512(panel + (g + 1) * kStep);
    const int k = g * kInt8Group, k_next = k + kInt8Group;
    c0 = _mm512_dpbusd_epi32(c0, _mm512_set1_epi32(load_group(a0 + k)), b);
    c1 = _mm512_dpbusd_epi32(c1, _mm512_set1_epi32(load_group(a1 + k)), b);
    c2 = _mm512_dpbusd_epi32(c2, _mm512_set1_epi32(load_group(a2 + k)), b);
    c3 = _mm512_dpbusd_epi32(c3, _mm512_set1_epi32(load_group(a3 + k)), b);
    d0 = _mm512_dpbusd_epi32(d0, _mm512_set1_epi32(load_group(a0 + k_next)), b_next);
    d1 = _mm512_dpbusd_epi32(d1, _mm512_set1_epi32(load_group(a1 + k_next)), b_next);
    d2 = _mm512_dpbusd_epi32(d2, _mm512_set1_epi32(load_group(a2 + k_next)), b_next);
    d3 = _mm512_dpbusd_epi32(d3, _mm512_set1_epi32(load_group(a3 + k_next)), b_next);
  }
  if (g < groups) {
    const __m512i b = _mm512_loadu_si512(panel + g * kStep);
    const int k = g * kInt8Group;
    c0 = _mm512_dpbusd_epi32(c0, _mm512_set1_epi32(load_group(a0 + k)), b);
    c1 = _mm512_dpbusd_epi32(c1, _mm512_set1_epi32(load_group(a1 + k)), b);
    c2 = _mm512_dpbusd_epi32(c2, _mm512_set1_epi32(load_group(a2 + k)), b);
    c3 = _mm512_dpbusd_epi32(c3, _mm512_set1_epi32(load_group(a3 + k)), b);
  }
  c[0] = _mm512_add_epi32(c0, d0);
  c[1] = _mm512_add_epi32(c1, d1);
  c[2] = _mm512_add_epi32(c2, d2);
  c[3] = _mm512_add_epi32(c3, d3);
}

// The 16 int32 lanes as floats. SIMDe 0.7, which the emulated test compiles this with, has no
// _mm512_cvtepi32_ps: there the two 8-lane halves are converted.
LOGCLF_VNNI_TARGET inline __m512 to_float(__m512i x) {
#ifdef LOGCLF_VNNI_EMULATED
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_cvtepi32_ps(_mm512_castsi512_si256(x))),
                            _mm256_cvtepi32_ps(_mm512_extracti64x4_epi64(x, 1)), 1);
#else
  return _mm512_cvtepi32_ps(x);
#endif
}

// An Int8Tile: the sums stored, 16 per row.
LOGCLF_VNNI_TARGET inline void tile(int groups, const std::uint8_t* const* a, const std::int8_t* panel,
                                    std::int32_t* c) {
  __m512i sums[kInt8TileRows];
  tile_sums(groups, a, panel, _mm512_setzero_si512(), sums);
  for (int r = 0; r < kInt8TileRows; ++r) _mm512_storeu_si512(c + r * kPanelCols, sums[r]);
}

// An Int8TileBlocks. Each block's sums start at -offsets, so that they end as acc - offsets; then each row
// adds (acc - offsets) · (row scale · column scales) to its float sums, the portable accumulation's float
// operations in its order (no FMA: the file is compiled without contraction). The 64 float sums stay in
// 4 registers over the blocks and are stored once at the end. Full blocks take tile_sums with a constant
// group count, and the float steps run on whole 16-lane registers: the two together made the tile 10% faster
// than a loop of variable length and 8-lane float steps (measured on Zen 4; either alone gained nothing).
// The float sums + bias + residual (where given) stored as the job says.
LOGCLF_VNNI_TARGET inline __attribute__((always_inline)) void store(const detail::Int8TileJob& job,
                                                                   __m512 (&sums)[kInt8TileRows]) {
  const __m512 bias = job.bias != nullptr ? _mm512_loadu_ps(job.bias) : _mm512_setzero_ps();
  for (int r = 0; r < kInt8TileRows; ++r) {
    __m512 v = sums[r];
    if (job.bias != nullptr) v = _mm512_add_ps(v, bias);
    if (job.residual != nullptr) v = _mm512_add_ps(v, _mm512_loadu_ps(job.residual + r * job.residual_stride));
    _mm512_storeu_ps(job.out + r * job.out_stride, v);
  }
}

// A job of one block of `groups` groups (k ≤ kInt8Block), straight through: no loop over blocks, no float sums
// kept across them (which GCC keeps on the stack). For the attention's scores, whose k is a head's 32 values.
template <int groups>
LOGCLF_VNNI_TARGET inline __attribute__((always_inline)) void tile_one_block(const detail::Int8TileJob& job) {
  __m512i acc[kInt8TileRows];
  tile_sums(groups, job.a, job.panel, _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(job.offsets)), acc);
  const __m512 column_scales = _mm512_loadu_ps(job.column_scales);
  __m512 sums[kInt8TileRows];
  for (int r = 0; r < kInt8TileRows; ++r) {
    const __m512 s = _mm512_set1_ps(job.row_scales[static_cast<std::size_t>(r) * job.row_stride]);
    // 0 + x, as the accumulation from zero: -0 becomes +0 on every path.
    sums[r] = _mm512_add_ps(_mm512_setzero_ps(), _mm512_mul_ps(to_float(acc[r]), _mm512_mul_ps(s, column_scales)));
  }
  store(job, sums);
}

LOGCLF_VNNI_TARGET inline void tile_blocks(const detail::Int8TileJob& job) {
  constexpr int kGroupsPerBlock = kInt8Block / kInt8Group;
  if (job.groups == kGroupsPerBlock / 2) return tile_one_block<kGroupsPerBlock / 2>(job);
  __m512 sums[kInt8TileRows];
  for (int r = 0; r < kInt8TileRows; ++r) sums[r] = _mm512_setzero_ps();
  for (int b = 0; b < detail::int8_blocks(job); ++b) {
    const detail::Int8TileBlock block = detail::int8_block(job, b);
    const __m512i start = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(block.offsets));
    __m512i acc[kInt8TileRows];
    if (block.groups == kGroupsPerBlock)
      tile_sums(kGroupsPerBlock, block.a, block.panel, start, acc);
    else
      tile_sums(block.groups, block.a, block.panel, start, acc);
    const __m512 column_scales = _mm512_loadu_ps(block.column_scales);
    for (int r = 0; r < kInt8TileRows; ++r) {
      const __m512 s = _mm512_set1_ps(block.row_scales[static_cast<std::size_t>(r) * job.row_stride]);
      sums[r] = _mm512_add_ps(sums[r], _mm512_mul_ps(to_float(acc[r]), _mm512_mul_ps(s, column_scales)));
    }
  }
  store(job, sums);
}

}  // namespace
}  // namespace logclf::encoder::e5::vnni

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
