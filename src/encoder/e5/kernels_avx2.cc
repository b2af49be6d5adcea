// The AVX2+FMA kernels. Every function carries its own target attribute instead of the file being built
// with -mavx2: no inline function of a shared header is then compiled for AVX2 here, so none can be picked
// by the linker for code that runs on CPUs without it.
#include "encoder/e5/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#define LOGCLF_AVX2 __attribute__((target("avx2,fma")))

namespace logclf::encoder::e5 {

namespace {

static_assert(kTileRows == 6 && kPanelCols == 16, "the AVX2 tile is 6 rows × two 8-float vectors");

// Lanes [0, n) of a vector (n < 8) for masked loads and stores of row tails.
LOGCLF_AVX2 __m256i tail_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

LOGCLF_AVX2 float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

LOGCLF_AVX2 float horizontal_max(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// erf as a rational function of x on [-4, 4] (the form of Eigen's and XLA's float erf; outside, erf is ±1
// to float precision): absolute error below 4e-7.
LOGCLF_AVX2 inline __attribute__((always_inline)) __m256 erf_avx2(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-4.0f)), _mm256_set1_ps(4.0f));
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.77068142495902e-08f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.10102402082508e-06f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-5.69250639462346e-05f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-7.34990630326855e-04f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.95459980854025e-03f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.60960333262415e-02f));
  p = _mm256_mul_ps(p, x);
  __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-2.13374055278905e-04f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.68282697438203e-03f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-7.37332916720468e-03f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.42647390514189e-02f));
  // p / q through the reciprocal estimate and one Newton step (relative error ~1e-7): a division would take
  // as long as the rest of the function.
  __m256 r = _mm256_rcp_ps(q);
  r = _mm256_fmadd_ps(r, _mm256_fnmadd_ps(q, r, _mm256_set1_ps(1.0f)), r);
  return _mm256_mul_ps(p, r);
}

LOGCLF_AVX2 inline __attribute__((always_inline)) __m256 gelu_avx2(__m256 x) {
  const __m256 e = erf_avx2(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// The 6 × 16 tile: twelve accumulators, two panel vectors and one broadcast fill 15 of the 16 registers;
// per step 12 FMAs against 8 loads keep both FMA pipes of a core busy.
LOGCLF_AVX2 void tile_avx2(int kc, const float* const* a, const float* b, float* c, std::size_t ldc,
                           bool accumulate, const detail::TileEpilogue* epilogue) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k, b += 16) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 x = _mm256_broadcast_ss(a0 + k);
    c00 = _mm256_fmadd_ps(x, b0, c00);
    c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a1 + k);
    c10 = _mm256_fmadd_ps(x, b0, c10);
    c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a2 + k);
    c20 = _mm256_fmadd_ps(x, b0, c20);
    c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a3 + k);
    c30 = _mm256_fmadd_ps(x, b0, c30);
    c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a4 + k);
    c40 = _mm256_fmadd_ps(x, b0, c40);
    c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a5 + k);
    c50 = _mm256_fmadd_ps(x, b0, c50);
    c51 = _mm256_fmadd_ps(x, b1, c51);
  }
  if (accumulate) {
    c00 = _mm256_add_ps(c00, _mm256_loadu_ps(c));
    c01 = _mm256_add_ps(c01, _mm256_loadu_ps(c + 8));
    c10 = _mm256_add_ps(c10, _mm256_loadu_ps(c + ldc));
    c11 = _mm256_add_ps(c11, _mm256_loadu_ps(c + ldc + 8));
    c20 = _mm256_add_ps(c20, _mm256_loadu_ps(c + 2 * ldc));
    c21 = _mm256_add_ps(c21, _mm256_loadu_ps(c + 2 * ldc + 8));
    c30 = _mm256_add_ps(c30, _mm256_loadu_ps(c + 3 * ldc));
    c31 = _mm256_add_ps(c31, _mm256_loadu_ps(c + 3 * ldc + 8));
    c40 = _mm256_add_ps(c40, _mm256_loadu_ps(c + 4 * ldc));
    c41 = _mm256_add_ps(c41, _mm256_loadu_ps(c + 4 * ldc + 8));
    c50 = _mm256_add_ps(c50, _mm256_loadu_ps(c + 5 * ldc));
    c51 = _mm256_add_ps(c51, _mm256_loadu_ps(c + 5 * ldc + 8));
  }
  if (epilogue != nullptr) {
    // In registers: twelve independent GELUs keep the vector units busy where one at a time would wait
    // on its own long chain of dependent operations.
    if (epilogue->bias != nullptr) {
      const __m256 b0 = _mm256_loadu_ps(epilogue->bias), b1 = _mm256_loadu_ps(epilogue->bias + 8);
      c00 = _mm256_add_ps(c00, b0), c01 = _mm256_add_ps(c01, b1), c10 = _mm256_add_ps(c10, b0);
      c11 = _mm256_add_ps(c11, b1), c20 = _mm256_add_ps(c20, b0), c21 = _mm256_add_ps(c21, b1);
      c30 = _mm256_add_ps(c30, b0), c31 = _mm256_add_ps(c31, b1), c40 = _mm256_add_ps(c40, b0);
      c41 = _mm256_add_ps(c41, b1), c50 = _mm256_add_ps(c50, b0), c51 = _mm256_add_ps(c51, b1);
    }
    if (epilogue->gelu) {
      c00 = gelu_avx2(c00), c01 = gelu_avx2(c01), c10 = gelu_avx2(c10), c11 = gelu_avx2(c11);
      c20 = gelu_avx2(c20), c21 = gelu_avx2(c21), c30 = gelu_avx2(c30), c31 = gelu_avx2(c31);
      c40 = gelu_avx2(c40), c41 = gelu_avx2(c41), c50 = gelu_avx2(c50), c51 = gelu_avx2(c51);
    }
    if (const float* r = epilogue->residual; r != nullptr) {
      const std::size_t rs = epilogue->residual_stride;
      c00 = _mm256_add_ps(c00, _mm256_loadu_ps(r)), c01 = _mm256_add_ps(c01, _mm256_loadu_ps(r + 8));
      c10 = _mm256_add_ps(c10, _mm256_loadu_ps(r + rs)), c11 = _mm256_add_ps(c11, _mm256_loadu_ps(r + rs + 8));
      c20 = _mm256_add_ps(c20, _mm256_loadu_ps(r + 2 * rs)), c21 = _mm256_add_ps(c21, _mm256_loadu_ps(r + 2 * rs + 8));
      c30 = _mm256_add_ps(c30, _mm256_loadu_ps(r + 3 * rs)), c31 = _mm256_add_ps(c31, _mm256_loadu_ps(r + 3 * rs + 8));
      c40 = _mm256_add_ps(c40, _mm256_loadu_ps(r + 4 * rs)), c41 = _mm256_add_ps(c41, _mm256_loadu_ps(r + 4 * rs + 8));
      c50 = _mm256_add_ps(c50, _mm256_loadu_ps(r + 5 * rs)), c51 = _mm256_add_ps(c51, _mm256_loadu_ps(r + 5 * rs + 8));
    }
  }
  _mm256_storeu_ps(c, c00);
  _mm256_storeu_ps(c + 8, c01);
  _mm256_storeu_ps(c + ldc, c10);
  _mm256_storeu_ps(c + ldc + 8, c11);
  _mm256_storeu_ps(c + 2 * ldc, c20);
  _mm256_storeu_ps(c + 2 * ldc + 8, c21);
  _mm256_storeu_ps(c + 3 * ldc, c30);
  _mm256_storeu_ps(c + 3 * ldc + 8, c31);
  _mm256_storeu_ps(c + 4 * ldc, c40);
  _mm256_storeu_ps(c + 4 * ldc + 8, c41);
  _mm256_storeu_ps(c + 5 * ldc, c50);
  _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}


// 2^t for t ≤ 0 (the softmax's exponent after subtracting the maximum, in base 2): t = n + f with
// |f| ≤ 1/2, 2^f = 1 + f·P(f) with Cephes' exp2f polynomial (relative error about 1.5e-7), 2^n through the
// exponent bits. Below -126 (2^t < 1.2e-38) t is taken as -126. Five fewer steps than e^x through n·ln2.
LOGCLF_AVX2 inline __attribute__((always_inline)) __m256 exp2_nonpositive_avx2(__m256 t) {
  t = _mm256_max_ps(t, _mm256_set1_ps(-126.0f));
  const __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(t, n);
  __m256 p = _mm256_set1_ps(1.535336188319500e-4f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.339887440266574e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.618437357674640e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550332471162809e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402264791363012e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931472028550421e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

LOGCLF_AVX2 inline __attribute__((always_inline)) __m256 epilogue_vector(__m256 v, const float* bias, bool gelu, const float* residual, __m256i mask,
                                   bool masked) {
  if (bias != nullptr) v = _mm256_add_ps(v, masked ? _mm256_maskload_ps(bias, mask) : _mm256_loadu_ps(bias));
  if (gelu) v = gelu_avx2(v);
  if (residual != nullptr)
    v = _mm256_add_ps(v, masked ? _mm256_maskload_ps(residual, mask) : _mm256_loadu_ps(residual));
  return v;
}

LOGCLF_AVX2 void epilogue_row_avx2(const float* in, float* out, int n, const float* bias, bool gelu,
                                   const float* residual) {
  const __m256i none = _mm256_setzero_si256();
  int j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(out + j, epilogue_vector(_mm256_loadu_ps(in + j), bias == nullptr ? nullptr : bias + j, gelu,
                                            residual == nullptr ? nullptr : residual + j, none, false));
  if (j < n) {
    const __m256i mask = tail_mask(n - j);
    _mm256_maskstore_ps(out + j, mask,
                        epilogue_vector(_mm256_maskload_ps(in + j, mask), bias == nullptr ? nullptr : bias + j, gelu,
                                        residual == nullptr ? nullptr : residual + j, mask, true));
  }
}

LOGCLF_AVX2 void layer_norm_avx2(const float* x, float* y, int n, const float* gamma, const float* beta,
                                 float eps) {
  const int full = n / 8 * 8;
  const __m256i mask = tail_mask(n - full);
  __m256 sum = _mm256_setzero_ps();
  for (int j = 0; j < full; j += 8) sum = _mm256_add_ps(sum, _mm256_loadu_ps(x + j));
  if (full < n) sum = _mm256_add_ps(sum, _mm256_maskload_ps(x + full, mask));
  const float mean = horizontal_sum(sum) / static_cast<float>(n);
  const __m256 m = _mm256_set1_ps(mean);
  __m256 squares = _mm256_setzero_ps();
  for (int j = 0; j < full; j += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + j), m);
    squares = _mm256_fmadd_ps(d, d, squares);
  }
  if (full < n) {
    const __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + full, mask), m), _mm256_castsi256_ps(mask));
    squares = _mm256_fmadd_ps(d, d, squares);
  }
  const __m256 rstd =
      _mm256_set1_ps(1.0f / std::sqrt(horizontal_sum(squares) / static_cast<float>(n) + eps));
  for (int j = 0; j < full; j += 8) {
    const __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), m), rstd);
    _mm256_storeu_ps(y + j, _mm256_fmadd_ps(d, _mm256_loadu_ps(gamma + j), _mm256_loadu_ps(beta + j)));
  }
  if (full < n) {
    const __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + full, mask), m), rstd);
    _mm256_maskstore_ps(y + full, mask,
                        _mm256_fmadd_ps(d, _mm256_maskload_ps(gamma + full, mask),
                                        _mm256_maskload_ps(beta + full, mask)));
  }
}

LOGCLF_AVX2 void gelu_avx2_array(float* x, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu_avx2(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i mask = tail_mask(static_cast<int>(n - i));
    _mm256_maskstore_ps(x + i, mask, gelu_avx2(_mm256_maskload_ps(x + i, mask)));
  }
}

// Rows rows at once, each padded (kernels.h: kSoftmaxPadding), so that the last vector is loaded and stored
// whole: AMD's masked stores (vmaskmovps) are microcoded, and two per row took a third of the softmax on
// Zen 4. The lanes past n are kept out of the maximum and the sum and stored as zeros. A row's steps form a
// chain (maximum, exponentials, sum, scaling), too short for a row of the attention's scores to keep the
// core busy: four rows side by side made the softmax 2.3 times faster in an attention of 70 tokens.
template <int rows>
LOGCLF_AVX2 inline __attribute__((always_inline)) void softmax_rows_avx2(float* x, int n, std::size_t stride,
                                                                        float scale) {
  static_assert(kSoftmaxPadding == 8);
  const int full = n / 8 * 8;
  const __m256 mask = _mm256_castsi256_ps(tail_mask(n - full));
  // e^(scale · (x - max)) = 2^((x - max) · scale · log2 e)
  const __m256 s = _mm256_set1_ps(scale * 1.44269504088896341f);
  float* row[rows];
  __m256 m[rows], sum[rows];
  for (int r = 0; r < rows; ++r) {
    row[r] = x + r * stride;
    m[r] = _mm256_set1_ps(row[r][0]);
    sum[r] = _mm256_setzero_ps();
  }
  for (int j = 0; j < full; j += 8)
    for (int r = 0; r < rows; ++r) m[r] = _mm256_max_ps(m[r], _mm256_loadu_ps(row[r] + j));
  if (full < n)
    for (int r = 0; r < rows; ++r) m[r] = _mm256_max_ps(m[r], _mm256_blendv_ps(m[r], _mm256_loadu_ps(row[r] + full), mask));
  for (int r = 0; r < rows; ++r) m[r] = _mm256_set1_ps(horizontal_max(m[r]));
  for (int j = 0; j < full; j += 8)
    for (int r = 0; r < rows; ++r) {
      const __m256 e = exp2_nonpositive_avx2(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row[r] + j), m[r]), s));
      _mm256_storeu_ps(row[r] + j, e);
      sum[r] = _mm256_add_ps(sum[r], e);
    }
  if (full < n)
    for (int r = 0; r < rows; ++r) {
      const __m256 e = _mm256_and_ps(
          exp2_nonpositive_avx2(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row[r] + full), m[r]), s)), mask);
      _mm256_storeu_ps(row[r] + full, e);
      sum[r] = _mm256_add_ps(sum[r], e);
    }
  for (int r = 0; r < rows; ++r) sum[r] = _mm256_set1_ps(1.0f / horizontal_sum(sum[r]));
  for (int j = 0; j < n; j += 8)
    for (int r = 0; r < rows; ++r) _mm256_storeu_ps(row[r] + j, _mm256_mul_ps(_mm256_loadu_ps(row[r] + j), sum[r]));
}

LOGCLF_AVX2 void softmax_avx2(float* x, int rows, int n, std::size_t stride, float scale) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) softmax_rows_avx2<4>(x + r * stride, n, stride, scale);
  for (; r < rows; ++r) softmax_rows_avx2<1>(x + r * stride, n, stride, scale);
}

// Wᵀ into panels by 8 × 8 blocks transposed in registers: each block is 8 loads and 8 stores where the
// element-by-element copy makes 64 of each (it took 6% of an int8 run, packing every attention head's keys).
LOGCLF_AVX2 void pack_transposed_avx2(const float* w, std::size_t ldw, int n, int k, float* dst) {
  constexpr int kHalf = kPanelCols / 2;
  const int panels = (n + kPanelCols - 1) / kPanelCols;
  for (int p = 0; p < panels; ++p) {
    for (int half = 0; half < 2; ++half) {
      const int j0 = p * kPanelCols + half * kHalf;
      float* out = dst + static_cast<std::size_t>(p) * k * kPanelCols + half * kHalf;
      const int cols = std::max(0, std::min(kHalf, n - j0));
      int i = 0;
      if (cols == kHalf) {
        const float* r = w + static_cast<std::size_t>(j0) * ldw;
        for (; i + 8 <= k; i += 8) {
          const __m256 r0 = _mm256_loadu_ps(r + i), r1 = _mm256_loadu_ps(r + ldw + i);
          const __m256 r2 = _mm256_loadu_ps(r + 2 * ldw + i), r3 = _mm256_loadu_ps(r + 3 * ldw + i);
          const __m256 r4 = _mm256_loadu_ps(r + 4 * ldw + i), r5 = _mm256_loadu_ps(r + 5 * ldw + i);
          const __m256 r6 = _mm256_loadu_ps(r + 6 * ldw + i), r7 = _mm256_loadu_ps(r + 7 * ldw + i);
          // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves: row t's value i + d
          // ends in lane t of vector d.
          const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
          const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
          const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
          const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
          const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
          const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
          const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
          const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
          float* o = out + static_cast<std::size_t>(i) * kPanelCols;
          _mm256_storeu_ps(o + 0 * kPanelCols, _mm256_permute2f128_ps(u0, u4, 0x20));
          _mm256_storeu_ps(o + 1 * kPanelCols, _mm256_permute2f128_ps(u1, u5, 0x20));
          _mm256_storeu_ps(o + 2 * kPanelCols, _mm256_permute2f128_ps(u2, u6, 0x20));
          _mm256_storeu_ps(o + 3 * kPanelCols, _mm256_permute2f128_ps(u3, u7, 0x20));
          _mm256_storeu_ps(o + 4 * kPanelCols, _mm256_permute2f128_ps(u0, u4, 0x31));
          _mm256_storeu_ps(o + 5 * kPanelCols, _mm256_permute2f128_ps(u1, u5, 0x31));
          _mm256_storeu_ps(o + 6 * kPanelCols, _mm256_permute2f128_ps(u2, u6, 0x31));
          _mm256_storeu_ps(o + 7 * kPanelCols, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
      }
      // What is left (the last values of k, the columns of a partial half-panel, zeros past n), one by one.
      for (; i < k; ++i)
        for (int t = 0; t < kHalf; ++t)
          out[static_cast<std::size_t>(i) * kPanelCols + t] =
              t < cols ? w[static_cast<std::size_t>(j0 + t) * ldw + i] : 0.0f;
    }
  }
}

const detail::IsaKernels kAvx2{tile_avx2,          epilogue_row_avx2, layer_norm_avx2, gelu_avx2_array,
                               softmax_avx2, pack_transposed_avx2};

}  // namespace

const detail::IsaKernels* detail::avx2_kernels() { return &kAvx2; }

}  // namespace logclf::encoder::e5

#else

namespace logclf::encoder::e5 {
const detail::IsaKernels* detail::avx2_kernels() { return nullptr; }
}  // namespace logclf::encoder::e5

#endif
