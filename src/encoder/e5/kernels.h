// The numeric kernels of the BERT forward pass: a packed-panel GEMM with fused epilogues (bias, GELU,
// residual, LayerNorm), multi-head attention over packed sequences, and the row kernels (LayerNorm, GELU,
// softmax). Each has a portable implementation and an AVX2+FMA one chosen at run time, so one binary runs on
// any x86-64 and uses the vector units where the CPU has them.
//
// Hand-written rather than calling OpenBLAS or oneDNN: on the encoder's shapes their sgemm runs no faster
// than this micro-kernel (all three measured at 75-80 GFLOP/s per core on the project's AVX2 machine), but
// they repack the weights on every call and leave bias, GELU, residual and LayerNorm to separate passes
// over the activations, which this GEMM applies to each tile while it is in registers or in cache.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "encoder/e5/thread_pool.h"

namespace logclf::encoder::e5 {

// Instruction sets with an implementation; best_isa() is the fastest one this CPU supports.
enum class Isa { portable, avx2 };
Isa best_isa();
bool isa_supported(Isa isa);
std::string_view to_string(Isa isa);

// The micro-kernel computes a tile of kTileRows rows of A times one panel of kPanelCols columns of B.
inline constexpr int kTileRows = 6;
inline constexpr int kPanelCols = 16;

// Float storage aligned to 64 bytes that only grows, so that warm kernels do not allocate.
class FloatBuffer {
 public:
  // At least n floats; the contents are undefined after growing.
  float* reserve(std::size_t n);
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> data_;
  std::size_t capacity_ = 0;
};

// The right-hand operand B (k × n) of C = A · B in the micro-kernel's layout: ceil(n / kPanelCols) panels,
// panel p holding for each of the k rows of B its columns [p·kPanelCols, (p+1)·kPanelCols), zero past n.
class PackedMatrix {
 public:
  // B = Wᵀ where W has n rows of k values with row stride ldw: a Linear layer's weight (out × in) or the
  // keys of an attention head.
  void pack_transposed(const float* w, std::size_t ldw, int n, int k);
  // B = Wᵀ where row j of W (k values) is rows[j]: a Linear layer split over several tensors (the queries',
  // keys' and values' weights packed as one).
  void pack_transposed(std::span<const float* const> rows, int k);
  // B from its own k rows of n values with row stride ldb: the values of an attention head.
  void pack(const float* b, std::size_t ldb, int k, int n);

  int k() const { return k_; }
  int n() const { return n_; }
  int panels() const { return (n_ + kPanelCols - 1) / kPanelCols; }
  const float* panel(int p) const { return data_.data() + static_cast<std::size_t>(p) * k_ * kPanelCols; }
  std::size_t bytes() const { return static_cast<std::size_t>(panels()) * k_ * kPanelCols * sizeof(float); }

 private:
  int k_ = 0, n_ = 0;
  FloatBuffer data_;
};

// What gemm applies to each output value, in this order.
struct Epilogue {
  const float* bias = nullptr;      // n values added to every row
  bool gelu = false;                // GELU, erf form
  const float* residual = nullptr;  // m × n values added, row stride residual_stride
  std::size_t residual_stride = 0;
  const float* ln_gamma = nullptr;  // LayerNorm of each row of n values when set
  const float* ln_beta = nullptr;
  float ln_eps = 1e-12f;
};

// The threads and per-thread scratch memory the parallel kernels use.
class Compute {
 public:
  Compute(int threads, Isa isa);
  Isa isa() const { return isa_; }
  int threads() const { return pool_.size(); }
  ThreadPool& pool() { return pool_; }

  struct Scratch {
    FloatBuffer zeros, scores, tile, context;
    PackedMatrix keys, values;
  };
  Scratch& scratch(int thread) { return scratch_[static_cast<std::size_t>(thread)]; }

 private:
  Isa isa_;
  ThreadPool pool_;
  std::vector<Scratch> scratch_;
};

// C (m × n, row stride ldc) = epilogue(A · B) where A is m × k with row stride lda and B = b (k × n). Row
// blocks are spread over the threads. C must not overlap A or the residual.
void gemm(Compute& compute, const float* a, std::size_t lda, int m, const PackedMatrix& b, float* c,
          std::size_t ldc, const Epilogue& epilogue = {});

// Multi-head self-attention over sequences packed without padding: sequence s is rows [offsets[s],
// offsets[s+1]) of qkv, whose row holds the token's queries, keys and values (3 × heads × head_dim values,
// row stride ldqkv; head h at h·head_dim within each). Row r of ctx (row stride ldctx) receives, per head,
// softmax(q·kᵀ / √head_dim)·v over the keys of r's own sequence.
void attention(Compute& compute, const float* qkv, std::size_t ldqkv, std::span<const int> offsets, int heads,
               int head_dim, float* ctx, std::size_t ldctx);

// Row kernels.
// y = (x - mean) / sqrt(var + eps) · gamma + beta over n values (biased variance); y may be x.
void layer_norm(Isa isa, const float* x, float* y, int n, const float* gamma, const float* beta, float eps);
// x ← x · Φ(x) = x/2 · (1 + erf(x/√2)).
void gelu(Isa isa, float* x, std::size_t n);
// x ← softmax(scale · x) over n > 0 values.
void softmax(Isa isa, float* x, int n, float scale);

namespace detail {
// The bias, GELU and residual parts of an Epilogue for one tile: bias at the tile's first column, residual
// at its first row and column.
struct TileEpilogue {
  const float* bias;
  bool gelu;
  const float* residual;
  std::size_t residual_stride;
};

// One instruction set's implementations of the innermost loops.
struct IsaKernels {
  // c (kTileRows × kPanelCols, row stride ldc) = a·b, or c += a·b when accumulate, then the epilogue when
  // not null; a holds the kTileRows rows of A (kc values each, read in place), b a packed panel (kc steps
  // of kPanelCols values).
  void (*tile)(int kc, const float* const* a, const float* b, float* c, std::size_t ldc, bool accumulate,
               const TileEpilogue* epilogue);
  // The bias, GELU and residual parts of an Epilogue on n values of one row (each pointer may be null).
  void (*epilogue_row)(float* c, int n, const float* bias, bool gelu, const float* residual);
  void (*layer_norm)(const float* x, float* y, int n, const float* gamma, const float* beta, float eps);
  void (*gelu)(float* x, std::size_t n);
  void (*softmax)(float* x, int n, float scale);
};
const IsaKernels& portable_kernels();
// Null when this build has no AVX2 code (not an x86-64 compiler).
const IsaKernels* avx2_kernels();
}  // namespace detail

}  // namespace logclf::encoder::e5
