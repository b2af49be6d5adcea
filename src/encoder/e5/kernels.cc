#include "encoder/e5/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

namespace logclf::encoder::e5 {

namespace {

// Row blocks of A: a block (kGemmRowBlock × kGemmDepthBlock floats) stays in L2 while the panels of B pass
// by, each panel slice (kGemmDepthBlock × kPanelCols floats) in L1 while it meets every tile of the block.
constexpr int kGemmRowBlock = 96;
constexpr int kGemmDepthBlock = 384;
static_assert(kGemmRowBlock % kTileRows == 0);

// ---- portable kernels: plain loops the compiler may vectorise for the baseline ISA -----------------------

void epilogue_row_portable(float* c, int n, const float* bias, bool gelu, const float* residual);

// Half a panel at a time: 6 × 8 accumulators fit the 16 registers of baseline x86-64 (SSE2).
void tile_portable(int kc, const float* a, const float* b, float* c, std::size_t ldc, bool accumulate,
                   const detail::TileEpilogue* epilogue) {
  constexpr int kHalf = kPanelCols / 2;
  for (int half = 0; half < 2; ++half) {
    float acc[kTileRows][kHalf] = {};
    const float* ak = a;
    const float* bk = b + half * kHalf;
    for (int k = 0; k < kc; ++k, ak += kTileRows, bk += kPanelCols)
      for (int r = 0; r < kTileRows; ++r)
        for (int j = 0; j < kHalf; ++j) acc[r][j] += ak[r] * bk[j];
    float* ch = c + half * kHalf;
    for (int r = 0; r < kTileRows; ++r)
      for (int j = 0; j < kHalf; ++j) ch[r * ldc + j] = accumulate ? ch[r * ldc + j] + acc[r][j] : acc[r][j];
  }
  if (epilogue != nullptr)
    for (int r = 0; r < kTileRows; ++r)
      epilogue_row_portable(c + r * ldc, kPanelCols, epilogue->bias, epilogue->gelu,
                            epilogue->residual == nullptr ? nullptr : epilogue->residual + r * epilogue->residual_stride);
}

float gelu_scalar(float x) { return 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2))); }

void epilogue_row_portable(float* c, int n, const float* bias, bool gelu, const float* residual) {
  for (int j = 0; j < n; ++j) {
    float v = c[j];
    if (bias != nullptr) v += bias[j];
    if (gelu) v = gelu_scalar(v);
    if (residual != nullptr) v += residual[j];
    c[j] = v;
  }
}

void layer_norm_portable(const float* x, float* y, int n, const float* gamma, const float* beta, float eps) {
  float sum = 0.0f;
  for (int j = 0; j < n; ++j) sum += x[j];
  const float mean = sum / static_cast<float>(n);
  float squares = 0.0f;
  for (int j = 0; j < n; ++j) squares += (x[j] - mean) * (x[j] - mean);
  const float rstd = 1.0f / std::sqrt(squares / static_cast<float>(n) + eps);
  for (int j = 0; j < n; ++j) y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j];
}

void gelu_portable(float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) x[i] = gelu_scalar(x[i]);
}

void softmax_portable(float* x, int n, float scale) {
  const float top = *std::max_element(x, x + n);
  float sum = 0.0f;
  for (int j = 0; j < n; ++j) {
    x[j] = std::exp((x[j] - top) * scale);
    sum += x[j];
  }
  const float inv = 1.0f / sum;
  for (int j = 0; j < n; ++j) x[j] *= inv;
}

const detail::IsaKernels kPortable{tile_portable, epilogue_row_portable, layer_norm_portable, gelu_portable,
                                   softmax_portable};

const detail::IsaKernels& kernels_for(Isa isa) {
  if (isa == Isa::avx2 && detail::avx2_kernels() != nullptr) return *detail::avx2_kernels();
  return kPortable;
}

// Packs rows [0, rows) × columns [k0, k0 + kc) of A into row tiles of kTileRows (zero past `rows`): tile t
// holds, for each k, the values of its rows at k.
void pack_a(const float* a, std::size_t lda, int rows, int k0, int kc, float* dst) {
  for (int t = 0; t < rows; t += kTileRows) {
    const int valid = std::min(kTileRows, rows - t);
    for (int r = 0; r < kTileRows; ++r) {
      float* out = dst + r;
      if (r < valid) {
        const float* in = a + static_cast<std::size_t>(t + r) * lda + k0;
        for (int k = 0; k < kc; ++k) out[k * kTileRows] = in[k];
      } else {
        for (int k = 0; k < kc; ++k) out[k * kTileRows] = 0.0f;
      }
    }
    dst += static_cast<std::size_t>(kTileRows) * kc;
  }
}

struct RowEpilogue {
  const float* bias;
  bool gelu;
  const float* residual;  // at the block's first row
  std::size_t residual_stride;
  bool any() const { return bias != nullptr || gelu || residual != nullptr; }
};

// C (rows × b.n(), row stride ldc) = (or +=, when accumulate) packed A (row tiles of depth kc) · rows
// [k0, k0 + kc) of B, then the row epilogue when given: in the micro-kernel's registers for whole tiles,
// on the copied values for the partial tiles at the edges, which go through `tmp`.
void multiply(const detail::IsaKernels& kernels, const float* ap, int rows, int kc, const PackedMatrix& b, int k0,
              float* c, std::size_t ldc, bool accumulate, const RowEpilogue* epilogue, float* tmp) {
  const int n = b.n();
  for (int p = 0; p < b.panels(); ++p) {
    const float* bp = b.panel(p) + static_cast<std::size_t>(k0) * kPanelCols;
    const int j0 = p * kPanelCols;
    const int cols = std::min(kPanelCols, n - j0);
    const float* bias = epilogue == nullptr || epilogue->bias == nullptr ? nullptr : epilogue->bias + j0;
    for (int i0 = 0; i0 < rows; i0 += kTileRows) {
      const float* at = ap + static_cast<std::size_t>(i0) * kc;
      float* ct = c + static_cast<std::size_t>(i0) * ldc + j0;
      const float* residual = epilogue == nullptr || epilogue->residual == nullptr
                                  ? nullptr
                                  : epilogue->residual + i0 * epilogue->residual_stride + j0;
      const int valid = std::min(kTileRows, rows - i0);
      if (valid == kTileRows && cols == kPanelCols) {
        const detail::TileEpilogue tile_epilogue{bias, epilogue != nullptr && epilogue->gelu, residual,
                                                 epilogue == nullptr ? 0 : epilogue->residual_stride};
        kernels.tile(kc, at, bp, ct, ldc, accumulate, epilogue != nullptr ? &tile_epilogue : nullptr);
        continue;
      }
      kernels.tile(kc, at, bp, tmp, kPanelCols, false, nullptr);
      for (int r = 0; r < valid; ++r) {
        for (int j = 0; j < cols; ++j)
          ct[r * ldc + j] = accumulate ? ct[r * ldc + j] + tmp[r * kPanelCols + j] : tmp[r * kPanelCols + j];
        if (epilogue != nullptr)
          kernels.epilogue_row(ct + r * ldc, cols, bias, epilogue->gelu,
                               residual == nullptr ? nullptr : residual + r * epilogue->residual_stride);
      }
    }
  }
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

}  // namespace

namespace detail {
const IsaKernels& portable_kernels() { return kPortable; }
}  // namespace detail

Isa best_isa() { return isa_supported(Isa::avx2) ? Isa::avx2 : Isa::portable; }

bool isa_supported(Isa isa) {
  if (isa == Isa::portable) return true;
#if defined(__x86_64__) || defined(__i386__)
  return detail::avx2_kernels() != nullptr && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

std::string_view to_string(Isa isa) { return isa == Isa::avx2 ? "avx2+fma" : "portable"; }

void FloatBuffer::Free::operator()(float* p) const { std::free(p); }

float* FloatBuffer::reserve(std::size_t n) {
  if (n <= capacity_) return data_.get();
  const std::size_t bytes = round_up(std::max<std::size_t>(n, 16) * sizeof(float), 64);
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (p == nullptr) throw std::bad_alloc();
  data_.reset(p);
  capacity_ = bytes / sizeof(float);
  return p;
}

void PackedMatrix::pack_transposed(const float* w, std::size_t ldw, int n, int k) {
  n_ = n;
  k_ = k;
  float* dst = data_.reserve(static_cast<std::size_t>(panels()) * k * kPanelCols);
  for (int p = 0; p < panels(); ++p) {
    for (int j = 0; j < kPanelCols; ++j) {
      const int col = p * kPanelCols + j;
      float* out = dst + static_cast<std::size_t>(p) * k * kPanelCols + j;
      if (col < n) {
        const float* row = w + static_cast<std::size_t>(col) * ldw;
        for (int i = 0; i < k; ++i) out[i * kPanelCols] = row[i];
      } else {
        for (int i = 0; i < k; ++i) out[i * kPanelCols] = 0.0f;
      }
    }
  }
}

void PackedMatrix::pack(const float* b, std::size_t ldb, int k, int n) {
  n_ = n;
  k_ = k;
  float* dst = data_.reserve(static_cast<std::size_t>(panels()) * k * kPanelCols);
  for (int p = 0; p < panels(); ++p) {
    const int j0 = p * kPanelCols;
    const int cols = std::min(kPanelCols, n - j0);
    for (int i = 0; i < k; ++i) {
      float* out = dst + (static_cast<std::size_t>(p) * k + i) * kPanelCols;
      std::memcpy(out, b + i * ldb + j0, static_cast<std::size_t>(cols) * sizeof(float));
      std::fill(out + cols, out + kPanelCols, 0.0f);
    }
  }
}

Compute::Compute(int threads, Isa isa)
    : isa_(isa_supported(isa) ? isa : Isa::portable), pool_(std::max(1, threads)),
      scratch_(static_cast<std::size_t>(pool_.size())) {}

void gemm(Compute& compute, const float* a, std::size_t lda, int m, const PackedMatrix& b, float* c,
          std::size_t ldc, const Epilogue& epilogue) {
  const detail::IsaKernels& kernels = kernels_for(compute.isa());
  const int k = b.k();
  const int n = b.n();
  const int blocks = (m + kGemmRowBlock - 1) / kGemmRowBlock;
  compute.pool().parallel_for(blocks, [&](int block, int thread) {
    Compute::Scratch& scratch = compute.scratch(thread);
    const int i0 = block * kGemmRowBlock;
    const int rows = std::min(kGemmRowBlock, m - i0);
    float* ap = scratch.a.reserve(static_cast<std::size_t>(kGemmRowBlock) * kGemmDepthBlock);
    float* tmp = scratch.tile.reserve(kTileRows * kPanelCols);
    float* cb = c + static_cast<std::size_t>(i0) * ldc;
    const RowEpilogue row_epilogue{epilogue.bias, epilogue.gelu,
                                   epilogue.residual == nullptr ? nullptr
                                                                : epilogue.residual + i0 * epilogue.residual_stride,
                                   epilogue.residual_stride};
    for (int k0 = 0; k0 < k || k0 == 0; k0 += kGemmDepthBlock) {
      const int kc = std::min(kGemmDepthBlock, k - k0);
      pack_a(a + static_cast<std::size_t>(i0) * lda, lda, rows, k0, kc, ap);
      const bool last = k0 + kc >= k;
      multiply(kernels, ap, rows, kc, b, k0, cb, ldc, k0 > 0, last && row_epilogue.any() ? &row_epilogue : nullptr,
               tmp);
    }
    if (epilogue.ln_gamma != nullptr)
      for (int r = 0; r < rows; ++r)
        kernels.layer_norm(cb + r * ldc, cb + r * ldc, n, epilogue.ln_gamma, epilogue.ln_beta, epilogue.ln_eps);
  });
}

void attention(Compute& compute, const float* qkv, std::size_t ldqkv, std::span<const int> offsets, int heads,
               int head_dim, float* ctx, std::size_t ldctx) {
  const detail::IsaKernels& kernels = kernels_for(compute.isa());
  const int sequences = static_cast<int>(offsets.size()) - 1;
  const int hidden = heads * head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  compute.pool().parallel_for(sequences * heads, [&](int task, int thread) {
    Compute::Scratch& scratch = compute.scratch(thread);
    const int s = task / heads;
    const int h = task % heads;
    const int len = offsets[s + 1] - offsets[s];
    const float* rows = qkv + static_cast<std::size_t>(offsets[s]) * ldqkv + h * head_dim;
    const std::size_t tiles_rows = round_up(static_cast<std::size_t>(len), kTileRows);
    const std::size_t width = round_up(static_cast<std::size_t>(len), kPanelCols);
    float* tmp = scratch.tile.reserve(kTileRows * kPanelCols);
    // Scores q·kᵀ for the whole sequence, then softmax, then times the values.
    scratch.keys.pack_transposed(rows + hidden, ldqkv, len, head_dim);
    float* packed = scratch.a.reserve(tiles_rows * std::max<std::size_t>(width, head_dim));
    pack_a(rows, ldqkv, len, 0, head_dim, packed);
    float* scores = scratch.scores.reserve(tiles_rows * width);
    multiply(kernels, packed, static_cast<int>(tiles_rows), head_dim, scratch.keys, 0, scores, width, false, nullptr,
             tmp);
    for (int r = 0; r < len; ++r) kernels.softmax(scores + r * width, len, scale);
    scratch.values.pack(rows + 2 * hidden, ldqkv, len, head_dim);
    pack_a(scores, width, len, 0, len, packed);
    multiply(kernels, packed, len, len, scratch.values, 0, ctx + static_cast<std::size_t>(offsets[s]) * ldctx + h * head_dim,
             ldctx, false, nullptr, tmp);
  });
}

void layer_norm(Isa isa, const float* x, float* y, int n, const float* gamma, const float* beta, float eps) {
  kernels_for(isa).layer_norm(x, y, n, gamma, beta, eps);
}

void gelu(Isa isa, float* x, std::size_t n) { kernels_for(isa).gelu(x, n); }

void softmax(Isa isa, float* x, int n, float scale) { kernels_for(isa).softmax(x, n, scale); }

}  // namespace logclf::encoder::e5
