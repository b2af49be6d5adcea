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

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "encoder/e5/thread_pool.h"

namespace logclf::encoder::e5 {

// Instruction sets with an implementation; best_isa() is the fastest one this CPU supports.
enum class Isa { portable, avx2 };
Isa best_isa();
bool isa_supported(Isa isa);
std::string_view to_string(Isa isa);

// Int8 GEMM implementations, chosen separately from Isa: their integer results are identical on every path
// (see QuantizedMatrix), so only speed differs.
enum class Int8Isa { portable, avx2, avx512vnni };
Int8Isa best_int8_isa();
bool int8_isa_supported(Int8Isa isa);
std::string_view to_string(Int8Isa isa);  // "int8 avx2", ...
// "avx512-vnni", "avx2" or "portable"; nullopt for anything else.
std::optional<Int8Isa> parse_int8_isa(std::string_view name);

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
  // keys of an attention head (packed for every head of every layer: `isa`'s kernel transposes them).
  void pack_transposed(const float* w, std::size_t ldw, int n, int k, Isa isa = Isa::portable);
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

// The right-hand operand B = Wᵀ of an int8 GEMM, quantized once from float. Both operands are quantized
// symmetrically per block of kInt8Block consecutive k: the weights per output channel (row of W) and block,
// the activations (A) per row (token) and block at each call. BERT's hidden states have a few channels far
// larger than the rest, which with one scale per row would leave the others a few levels only; the exact
// integer sum of each block is scaled by its two scales and the blocks summed in float. Weights use 7 bits
// and activations are stored as unsigned bytes (q + 128), so that AVX2's vpmaddubsw never saturates its
// 16-bit pair sums (2 · 255 · 63 < 32767) and every path, VNNI's vpdpbusd included, gives the same exact
// int32 sums; the +128 is taken back with offset(block, j) = 128 · Σ_{k in block} q_jk.
//
// Layout: ceil(n / kPanelCols) panels; panel p holds, for each group of kInt8Group consecutive k, the
// kPanelCols columns' kInt8Group bytes (one 32-bit lane per column), zero past n and past k.
inline constexpr int kInt8WeightMax = 63;
inline constexpr int kInt8Group = 4;
inline constexpr int kInt8Block = 64;
inline constexpr int kInt8TileRows = 4;
static_assert(kInt8Block % kInt8Group == 0);

class QuantizedMatrix {
 public:
  // As PackedMatrix::pack_transposed.
  void quantize_transposed(const float* w, std::size_t ldw, int n, int k);
  void quantize_transposed(std::span<const float* const> rows, int k);
  // As quantize_transposed(w, ldw, n, k), each row of W quantized by `isa`'s kernel (the same bytes and
  // scales): for the attention's keys, quantized per head on every pass.
  void quantize_transposed(const float* w, std::size_t ldw, int n, int k, Int8Isa isa);

  int k() const { return k_; }
  int n() const { return n_; }
  int groups() const { return (k_ + kInt8Group - 1) / kInt8Group; }
  int blocks() const { return (k_ + kInt8Block - 1) / kInt8Block; }
  int panels() const { return (n_ + kPanelCols - 1) / kPanelCols; }
  const std::int8_t* panel(int p) const {
    return data_.data() + static_cast<std::size_t>(p) * groups() * kInt8Group * kPanelCols;
  }
  // Per column of block `block` of k (panels() · kPanelCols values, 0 past n): the scale and 128 · Σ q.
  const float* scales(int block) const {
    return scales_.data() + static_cast<std::size_t>(block) * panels() * kPanelCols;
  }
  const std::int32_t* offsets(int block) const {
    return offsets_.data() + static_cast<std::size_t>(block) * panels() * kPanelCols;
  }
  std::size_t bytes() const {
    return data_.size() + scales_.size() * sizeof(float) + offsets_.size() * sizeof(std::int32_t);
  }

 private:
  int k_ = 0, n_ = 0;
  std::vector<std::int8_t> data_;
  std::vector<float> scales_;
  std::vector<std::int32_t> offsets_;
};

// Rows of an int8 GEMM's A quantized ahead, as quantize_row quantizes them: what one int8 GEMM writes for the
// next to read (a quarter of the floats' bytes, and no second pass over them). Whole tiles from any row: the
// kInt8TileRows - 1 rows past the last are zeros (bytes of 128, scales 0).
class QuantizedRows {
 public:
  void resize(int rows, int k);
  int rows() const { return rows_; }
  int k() const { return k_; }
  std::size_t stride() const { return static_cast<std::size_t>((k_ + kInt8Group - 1) / kInt8Group) * kInt8Group; }
  int blocks() const { return (k_ + kInt8Block - 1) / kInt8Block; }
  std::uint8_t* row(int r) { return bytes_.data() + static_cast<std::size_t>(r) * stride(); }
  const std::uint8_t* row(int r) const { return bytes_.data() + static_cast<std::size_t>(r) * stride(); }
  // Row r's scales, one per block of k.
  float* scales(int r) { return scales_.data() + static_cast<std::size_t>(r) * blocks(); }
  const float* scales(int r) const { return scales_.data() + static_cast<std::size_t>(r) * blocks(); }

 private:
  int rows_ = 0, k_ = 0;
  std::vector<std::uint8_t> bytes_;
  std::vector<float> scales_;
};

// Quantizes k values, each block of kInt8Block (the last one possibly shorter) to q = round(x / s) with
// s = max |x| / 127 over the block, into `out` of `padded` ≥ k bytes as q + 128 (128, a zero, past k), and
// the blocks' scales into `scales`.
void quantize_row(const float* x, int k, std::uint8_t* out, int padded, float* scales);

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
  // `int8`: the int8 GEMM's path (the best this CPU has unless isa is portable, when not given).
  Compute(int threads, Isa isa);
  Compute(int threads, Isa isa, Int8Isa int8);
  Isa isa() const { return isa_; }
  Int8Isa int8_isa() const { return int8_isa_; }
  int threads() const { return pool_.size(); }
  ThreadPool& pool() { return pool_; }

  struct Scratch {
    FloatBuffer zeros, scores, tile, context;
    PackedMatrix keys, values;
    QuantizedMatrix quantized_keys;       // the attention's, with int8 scores
    std::vector<std::uint8_t> quantized;  // the int8 GEMM's rows of A
    std::vector<float> row_scales;
  };
  Scratch& scratch(int thread) { return scratch_[static_cast<std::size_t>(thread)]; }

 private:
  Isa isa_;
  Int8Isa int8_isa_;
  ThreadPool pool_;
  std::vector<Scratch> scratch_;
};

// C (m × n, row stride ldc) = epilogue(A · B) where A is m × k with row stride lda and B = b (k × n). Row
// blocks are spread over the threads. C must not overlap A or the residual.
void gemm(Compute& compute, const float* a, std::size_t lda, int m, const PackedMatrix& b, float* c,
          std::size_t ldc, const Epilogue& epilogue = {});

// As gemm, with A quantized per row on the fly and B quantized: C = epilogue(dequantized A_q · B_q).
void gemm(Compute& compute, const float* a, std::size_t lda, int m, const QuantizedMatrix& b, float* c,
          std::size_t ldc, const Epilogue& epilogue = {});

// As the int8 gemm, with C = epilogue(A_q · B_q) (bias, GELU and residual only) written quantized into `c`
// (m rows of b.n() values), which holds the same bytes and scales as quantizing the float C row by row
// would give.
void gemm(Compute& compute, const float* a, std::size_t lda, int m, const QuantizedMatrix& b, QuantizedRows& c,
          const Epilogue& epilogue = {});
// A float C in column blocks: row i's columns [q·width, (q+1)·width) at c + q·stride + i·ldc, width a positive
// multiple of kPanelCols. For the queries', keys' and values' GEMM: attention() then reads each head's rows
// contiguously (QkvLayout's head-major form), not 128 bytes out of every 4.5 KB row.
struct ColumnBlocks {
  int width;
  std::size_t stride;
};
// As the int8 gemm, C in column blocks (the epilogue without LayerNorm).
void gemm(Compute& compute, const float* a, std::size_t lda, int m, const QuantizedMatrix& b, float* c,
          std::size_t ldc, const ColumnBlocks& blocks, const Epilogue& epilogue = {});
// As the int8 gemm, with A already quantized (a.rows() rows of a.k() == b.k() values).
void gemm(Compute& compute, const QuantizedRows& a, const QuantizedMatrix& b, float* c, std::size_t ldc,
          const Epilogue& epilogue = {});

// Where attention() finds the tokens' queries, keys and values: head h's queries of token t at
// data + t · row_stride + h · head_stride, its keys heads · head_stride further, its values 2 · heads ·
// head_stride further. Token-major (a GEMM's rows of 3 × heads × head_dim values): row_stride 3 · heads ·
// head_dim, head_stride head_dim. Head-major (a GEMM's output in column blocks of head_dim, see
// ColumnBlocks): row_stride head_dim, head_stride tokens · head_dim, so that a head's rows are contiguous.
struct QkvLayout {
  const float* data;
  std::size_t row_stride;
  std::size_t head_stride;
};

// Multi-head self-attention over sequences packed without padding: sequence s is tokens [offsets[s],
// offsets[s+1]) of qkv. Row r of ctx (row stride ldctx) receives, per head at h·head_dim,
// softmax(q·kᵀ / √head_dim)·v over the keys of r's own sequence. With int8_scores, q·kᵀ is computed by
// the int8 GEMM on compute's int8 path: each token's queries quantized as a GEMM's rows, its keys as a
// weight's row (per token and head); the softmax and the product with the values stay in fp32.
void attention(Compute& compute, const QkvLayout& qkv, std::span<const int> offsets, int heads, int head_dim,
               float* ctx, std::size_t ldctx, bool int8_scores = false);

// Row kernels.
// y = (x - mean) / sqrt(var + eps) · gamma + beta over n values (biased variance); y may be x.
void layer_norm(Isa isa, const float* x, float* y, int n, const float* gamma, const float* beta, float eps);
// x ← x · Φ(x) = x/2 · (1 + erf(x/√2)).
void gelu(Isa isa, float* x, std::size_t n);
// Each of `rows` rows of x (row stride `stride`) ← softmax(scale · row) over its first n > 0 values. A row
// holds n rounded up to a multiple of kSoftmaxPadding: the values past n become zeros (so that the vector
// kernels need no masked loads and stores).
inline constexpr int kSoftmaxPadding = 8;
void softmax(Isa isa, float* x, int rows, int n, std::size_t stride, float scale);

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
  // out = the bias, GELU and residual parts of an Epilogue on the n values of one row in `in` (each of
  // bias, residual may be null); out may be in.
  void (*epilogue_row)(const float* in, float* out, int n, const float* bias, bool gelu, const float* residual);
  void (*layer_norm)(const float* x, float* y, int n, const float* gamma, const float* beta, float eps);
  void (*gelu)(float* x, std::size_t n);
  void (*softmax)(float* x, int rows, int n, std::size_t stride, float scale);  // as softmax()
  // dst = Wᵀ in PackedMatrix's layout (panels() · k · kPanelCols floats), W having n rows of k values with
  // row stride ldw.
  void (*pack_transposed)(const float* w, std::size_t ldw, int n, int k, float* dst);
};
const IsaKernels& portable_kernels();

// c (kInt8TileRows × kPanelCols int32, row-major) = Σ over `groups` groups of kInt8Group k of a[r][k] ·
// panel[k][j], a holding unsigned bytes, the panel signed ones in QuantizedMatrix's layout.
using Int8Tile = void (*)(int groups, const std::uint8_t* const* a, const std::int8_t* panel, std::int32_t* c);
// sums[r][j] += (acc[r][j] - offsets[j]) · (row_scales[r · row_stride] · column_scales[j]) over a tile
// (kInt8TileRows × kPanelCols, row-major), in this order of float operations on every path: the same floats.
using Int8Accumulate = void (*)(const std::int32_t* acc, const std::int32_t* offsets, const float* row_scales,
                                std::size_t row_stride, const float* column_scales, float* sums);
// One tile's whole product: for each block of kInt8Block k, the exact sums of an Int8Tile over its groups
// (the last block's possibly fewer), then an Int8Accumulate of them into float sums that start at zero;
// then, in this order of float additions, + bias[j] and + residual[r · residual_stride + j] where given (an
// Epilogue's parts without GELU, as epilogue_row adds them), stored at out + r · out_stride. One call per
// tile, so that the blocks' loop, not each block, pays for the call and the setting up; and a tile of C
// written in place, with its bias and residual, needs no second pass over it.
struct Int8TileJob {
  int groups = 0;                                 // of the whole k
  const std::uint8_t* a[kInt8TileRows] = {};      // the tile's rows, from k = 0
  const std::int8_t* panel = nullptr;             // the panel, from k = 0
  const std::int32_t* offsets = nullptr;          // block 0's, from the panel's first column;
  const float* column_scales = nullptr;           //   block b's at + b · block_stride
  std::size_t block_stride = 0;
  const float* row_scales = nullptr;              // row r's scale of block b at [r · row_stride + b]
  std::size_t row_stride = 0;
  const float* bias = nullptr;                    // from the panel's first column, or null
  const float* residual = nullptr;                // from the tile's first row and the panel's first column,
  std::size_t residual_stride = 0;                //   or null
  float* out = nullptr;                           // kInt8TileRows rows of kPanelCols: the result,
  std::size_t out_stride = kPanelCols;            //   row r at + r · out_stride
};
using Int8TileBlocks = void (*)(const Int8TileJob& job);
// Block b of a job, for the paths' loops over blocks.
struct Int8TileBlock {
  int groups;
  const std::uint8_t* a[kInt8TileRows];
  const std::int8_t* panel;
  const std::int32_t* offsets;
  const float* column_scales;
  const float* row_scales;
};
inline int int8_blocks(const Int8TileJob& job) { return (job.groups * kInt8Group + kInt8Block - 1) / kInt8Block; }
inline Int8TileBlock int8_block(const Int8TileJob& job, int b) {
  constexpr int kGroupsPerBlock = kInt8Block / kInt8Group;
  const int g0 = b * kGroupsPerBlock;
  Int8TileBlock block{std::min(kGroupsPerBlock, job.groups - g0), {}, job.panel + g0 * kInt8Group * kPanelCols,
                      job.offsets + b * job.block_stride, job.column_scales + b * job.block_stride,
                      job.row_scales + b};
  for (int r = 0; r < kInt8TileRows; ++r) block.a[r] = job.a[r] + g0 * kInt8Group;
  return block;
}
// As quantize_row, with the same results.
using Int8Quantize = void (*)(const float* x, int k, std::uint8_t* out, int padded, float* scales);
// One row of a weight (k values) quantized as QuantizedMatrix quantizes it: q (k values, then zeros to a
// whole group), and per block of kInt8Block its scale and Σ q.
using Int8QuantizeWeights = void (*)(const float* w, int k, std::int8_t* q, float* scales, std::int32_t* sums);
// Null when the path is not compiled into this build.
Int8Tile int8_tile(Int8Isa isa);
Int8QuantizeWeights int8_quantize_weights(Int8Isa isa);
Int8QuantizeWeights int8_quantize_weights_avx2();
Int8Accumulate int8_accumulate_portable();
Int8TileBlocks int8_tile_blocks(Int8Isa isa);
Int8Quantize int8_quantize(Int8Isa isa);
Int8Tile int8_tile_avx2();
Int8Tile int8_tile_avx512vnni();
Int8TileBlocks int8_tile_blocks_avx2();
Int8TileBlocks int8_tile_blocks_avx512vnni();
Int8Quantize int8_quantize_avx2();
// Null when this build has no AVX2 code (not an x86-64 compiler).
const IsaKernels* avx2_kernels();
}  // namespace detail

}  // namespace logclf::encoder::e5
