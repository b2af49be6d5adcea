#include "encoder/e5/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "logclf/types.h"

namespace logclf::encoder::e5 {

namespace {

// Row blocks of A: the block's rows (kGemmRowBlock × kGemmDepthBlock floats) stay in L2 while the panels
// of B pass by, each panel slice (kGemmDepthBlock × kPanelCols floats) in L1 while it meets every tile of
// the block.
constexpr int kGemmRowBlock = 96;
constexpr int kGemmDepthBlock = 384;
static_assert(kGemmRowBlock % kTileRows == 0);

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// ---- portable kernels: plain loops the compiler may vectorise for the baseline ISA -----------------------

void epilogue_row_portable(const float* in, float* out, int n, const float* bias, bool gelu, const float* residual);
void quantize_weights_row(const float* w, int k, std::int8_t* q, float* scales, std::int32_t* sums);

// Half a panel at a time: 6 × 8 accumulators fit the 16 registers of baseline x86-64 (SSE2).
void tile_portable(int kc, const float* const* a, const float* b, float* c, std::size_t ldc, bool accumulate,
                   const detail::TileEpilogue* epilogue) {
  constexpr int kHalf = kPanelCols / 2;
  for (int half = 0; half < 2; ++half) {
    float acc[kTileRows][kHalf] = {};
    const float* bk = b + half * kHalf;
    for (int k = 0; k < kc; ++k, bk += kPanelCols)
      for (int r = 0; r < kTileRows; ++r)
        for (int j = 0; j < kHalf; ++j) acc[r][j] += a[r][k] * bk[j];
    float* ch = c + half * kHalf;
    for (int r = 0; r < kTileRows; ++r)
      for (int j = 0; j < kHalf; ++j) ch[r * ldc + j] = accumulate ? ch[r * ldc + j] + acc[r][j] : acc[r][j];
  }
  if (epilogue != nullptr)
    for (int r = 0; r < kTileRows; ++r)
      epilogue_row_portable(c + r * ldc, c + r * ldc, kPanelCols, epilogue->bias, epilogue->gelu,
                            epilogue->residual == nullptr ? nullptr : epilogue->residual + r * epilogue->residual_stride);
}

float gelu_scalar(float x) { return 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2))); }

void epilogue_row_portable(const float* in, float* out, int n, const float* bias, bool gelu, const float* residual) {
  for (int j = 0; j < n; ++j) {
    float v = in[j];
    if (bias != nullptr) v += bias[j];
    if (gelu) v = gelu_scalar(v);
    if (residual != nullptr) v += residual[j];
    out[j] = v;
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

void softmax_portable(float* rows, int count, int n, std::size_t stride, float scale) {
  for (int r = 0; r < count; ++r) {
    float* x = rows + r * stride;
    const float top = *std::max_element(x, x + n);
    float sum = 0.0f;
    for (int j = 0; j < n; ++j) {
      x[j] = std::exp((x[j] - top) * scale);
      sum += x[j];
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < n; ++j) x[j] *= inv;
    std::fill(x + n, x + round_up(static_cast<std::size_t>(n), kSoftmaxPadding), 0.0f);
  }
}

void pack_transposed_portable(const float* w, std::size_t ldw, int n, int k, float* dst);

const detail::IsaKernels kPortable{tile_portable, epilogue_row_portable, layer_norm_portable, gelu_portable,
                                   softmax_portable, pack_transposed_portable};

const detail::IsaKernels& kernels_for(Isa isa) {
  if (isa == Isa::avx2 && detail::avx2_kernels() != nullptr) return *detail::avx2_kernels();
  return kPortable;
}

struct RowEpilogue {
  const float* bias;
  bool gelu;
  const float* residual;  // at the block's first row
  std::size_t residual_stride;
  bool any() const { return bias != nullptr || gelu || residual != nullptr; }
};

// Scratch for multiply: a tile of C for the partial tiles at the edges, and kc zeros standing in for the
// rows of A past the last.
struct TileScratch {
  float* tile;
  const float* zeros;
};

// C (rows × b.n(), row stride ldc) = (or +=, when accumulate) columns [k0, k0 + kc) of A (rows of stride
// lda, read in place) · rows [k0, k0 + kc) of B, then the row epilogue when given: in the micro-kernel's
// registers for whole tiles, on the copied values for the partial tiles at the edges. With `padded`, C has
// room for whole tiles (rows rounded up to kTileRows, columns to kPanelCols) and the edge tiles are written
// whole too, what lies past the edges being of no use.
void multiply(const detail::IsaKernels& kernels, const float* a, std::size_t lda, int rows, int k0, int kc,
              const PackedMatrix& b, float* c, std::size_t ldc, bool accumulate, const RowEpilogue* epilogue,
              const TileScratch& scratch, bool padded = false) {
  const int n = b.n();
  float* tmp = scratch.tile;
  for (int p = 0; p < b.panels(); ++p) {
    const float* bp = b.panel(p) + static_cast<std::size_t>(k0) * kPanelCols;
    const int j0 = p * kPanelCols;
    const int cols = std::min(kPanelCols, n - j0);
    const float* bias = epilogue == nullptr || epilogue->bias == nullptr ? nullptr : epilogue->bias + j0;
    for (int i0 = 0; i0 < rows; i0 += kTileRows) {
      const int valid = std::min(kTileRows, rows - i0);
      const float* at[kTileRows];
      for (int r = 0; r < kTileRows; ++r)
        at[r] = r < valid ? a + static_cast<std::size_t>(i0 + r) * lda + k0 : scratch.zeros;
      float* ct = c + static_cast<std::size_t>(i0) * ldc + j0;
      const float* residual = epilogue == nullptr || epilogue->residual == nullptr
                                  ? nullptr
                                  : epilogue->residual + i0 * epilogue->residual_stride + j0;
      if (padded || (valid == kTileRows && cols == kPanelCols)) {
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
          kernels.epilogue_row(ct + r * ldc, ct + r * ldc, cols, bias, epilogue->gelu,
                               residual == nullptr ? nullptr : residual + r * epilogue->residual_stride);
      }
    }
  }
}

// Plain integer arithmetic: the reference the vector paths must equal exactly.
void int8_tile_portable(int groups, const std::uint8_t* const* a, const std::int8_t* panel, std::int32_t* c) {
  std::int32_t acc[kInt8TileRows][kPanelCols] = {};
  for (int g = 0; g < groups; ++g, panel += kInt8Group * kPanelCols)
    for (int r = 0; r < kInt8TileRows; ++r) {
      const std::uint8_t* ar = a[r] + g * kInt8Group;
      for (int j = 0; j < kPanelCols; ++j)
        for (int t = 0; t < kInt8Group; ++t) acc[r][j] += ar[t] * panel[j * kInt8Group + t];
    }
  std::memcpy(c, acc, sizeof acc);
}

void int8_accumulate_portable(const std::int32_t* acc, const std::int32_t* offsets, const float* row_scales,
                              std::size_t row_stride, const float* column_scales, float* sums) {
  for (int r = 0; r < kInt8TileRows; ++r) {
    const float row_scale = row_scales[static_cast<std::size_t>(r) * row_stride];
    for (int j = 0; j < kPanelCols; ++j)
      sums[r * kPanelCols + j] +=
          static_cast<float>(acc[r * kPanelCols + j] - offsets[j]) * (row_scale * column_scales[j]);
  }
}

void int8_tile_blocks_portable(const detail::Int8TileJob& job) {
  float sums[kInt8TileRows * kPanelCols] = {};
  std::int32_t acc[kInt8TileRows * kPanelCols];
  for (int b = 0; b < detail::int8_blocks(job); ++b) {
    const detail::Int8TileBlock block = detail::int8_block(job, b);
    int8_tile_portable(block.groups, block.a, block.panel, acc);
    int8_accumulate_portable(acc, block.offsets, block.row_scales, job.row_stride, block.column_scales, sums);
  }
  for (int r = 0; r < kInt8TileRows; ++r)
    for (int j = 0; j < kPanelCols; ++j) {
      float v = sums[r * kPanelCols + j];
      if (job.bias != nullptr) v += job.bias[j];
      if (job.residual != nullptr) v += job.residual[r * job.residual_stride + j];
      job.out[r * job.out_stride + j] = v;
    }
}

}  // namespace

namespace detail {
const IsaKernels& portable_kernels() { return kPortable; }

Int8Tile int8_tile(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::portable: return int8_tile_portable;
    case Int8Isa::avx2: return int8_tile_avx2();
    case Int8Isa::avx512vnni: return int8_tile_avx512vnni();
  }
  return nullptr;
}

Int8Accumulate int8_accumulate_portable() { return e5::int8_accumulate_portable; }

Int8TileBlocks int8_tile_blocks(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::portable: return int8_tile_blocks_portable;
    case Int8Isa::avx2: return int8_tile_blocks_avx2();
    case Int8Isa::avx512vnni: return int8_tile_blocks_avx512vnni();
  }
  return nullptr;
}

Int8Quantize int8_quantize(Int8Isa isa) { return isa == Int8Isa::portable ? quantize_row : int8_quantize_avx2(); }
Int8QuantizeWeights int8_quantize_weights(Int8Isa isa) {
  return isa == Int8Isa::portable ? quantize_weights_row : int8_quantize_weights_avx2();
}
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

std::optional<Int8Isa> parse_int8_isa(std::string_view name) {
  for (Int8Isa isa : {Int8Isa::avx512vnni, Int8Isa::avx2, Int8Isa::portable})
    if ("int8 " + std::string(name) == to_string(isa)) return isa;
  return std::nullopt;
}

Int8Isa best_int8_isa() {
  for (Int8Isa isa : {Int8Isa::avx512vnni, Int8Isa::avx2})
    if (int8_isa_supported(isa)) return isa;
  return Int8Isa::portable;
}

bool int8_isa_supported(Int8Isa isa) {
  if (detail::int8_tile(isa) == nullptr) return false;
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case Int8Isa::portable: return true;
    case Int8Isa::avx2: return __builtin_cpu_supports("avx2");
    case Int8Isa::avx512vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Int8Isa::portable;
#endif
}

std::string_view to_string(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::portable: return "int8 portable";
    case Int8Isa::avx2: return "int8 avx2";
    case Int8Isa::avx512vnni: return "int8 avx512-vnni";
  }
  return "?";
}

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

namespace {
// Packs B = Wᵀ into `dst` where row(j) gives row j of W (k values), j < n.
template <class Row>
void pack_transposed_into(float* dst, int n, int k, Row row) {
  const int panels = (n + kPanelCols - 1) / kPanelCols;
  for (int p = 0; p < panels; ++p) {
    for (int j = 0; j < kPanelCols; ++j) {
      const int col = p * kPanelCols + j;
      float* out = dst + static_cast<std::size_t>(p) * k * kPanelCols + j;
      if (col < n) {
        const float* w = row(col);
        for (int i = 0; i < k; ++i) out[i * kPanelCols] = w[i];
      } else {
        for (int i = 0; i < k; ++i) out[i * kPanelCols] = 0.0f;
      }
    }
  }
}

void pack_transposed_portable(const float* w, std::size_t ldw, int n, int k, float* dst) {
  pack_transposed_into(dst, n, k, [&](int j) { return w + static_cast<std::size_t>(j) * ldw; });
}
}  // namespace

void PackedMatrix::pack_transposed(const float* w, std::size_t ldw, int n, int k, Isa isa) {
  n_ = n;
  k_ = k;
  kernels_for(isa).pack_transposed(w, ldw, n, k, data_.reserve(static_cast<std::size_t>(panels()) * k * kPanelCols));
}

void PackedMatrix::pack_transposed(std::span<const float* const> rows, int k) {
  n_ = static_cast<int>(rows.size());
  k_ = k;
  pack_transposed_into(data_.reserve(static_cast<std::size_t>(panels()) * k * kPanelCols), n_, k,
                       [&](int j) { return rows[static_cast<std::size_t>(j)]; });
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
      if (cols == kPanelCols) {
        std::memcpy(out, b + i * ldb + j0, kPanelCols * sizeof(float));  // a constant size: inlined, not a call
        continue;
      }
      std::memcpy(out, b + i * ldb + j0, static_cast<std::size_t>(cols) * sizeof(float));
      std::fill(out + cols, out + kPanelCols, 0.0f);
    }
  }
}

namespace {
// The portable Int8QuantizeWeights: per block, s = max |w| / kInt8WeightMax and q = round(w / s) (ties to
// even, the rounding mode's), as the multiply by kInt8WeightMax / max |w|.
void quantize_weights_row(const float* w, int k, std::int8_t* q, float* scales, std::int32_t* sums) {
  std::fill(q + k, q + round_up(static_cast<std::size_t>(k), kInt8Group), std::int8_t{0});
  for (int b0 = 0; b0 < k; b0 += kInt8Block) {
    const int kb = std::min(kInt8Block, k - b0);
    float top = 0.0f;
    for (int i = b0; i < b0 + kb; ++i) top = std::max(top, std::fabs(w[i]));
    const float inverse = top > 0.0f ? kInt8WeightMax / top : 0.0f;
    std::int32_t sum = 0;
    for (int i = b0; i < b0 + kb; ++i) {
      const int v = std::clamp(static_cast<int>(std::nearbyint(w[i] * inverse)), -kInt8WeightMax, kInt8WeightMax);
      q[i] = static_cast<std::int8_t>(v);
      sum += v;
    }
    *scales++ = top / kInt8WeightMax;
    *sums++ = sum;
  }
}

// Quantizes B = Wᵀ where row(j) gives row j of W (k values), j < n, into QuantizedMatrix's layout, each row
// by `quantize`.
template <class Row>
void quantize_transposed_into(std::vector<std::int8_t>& data, std::vector<float>& scales,
                              std::vector<std::int32_t>& offsets, int n, int k, Row row,
                              detail::Int8QuantizeWeights quantize) {
  const int panels = (n + kPanelCols - 1) / kPanelCols;
  const int groups = (k + kInt8Group - 1) / kInt8Group;
  const int blocks = (k + kInt8Block - 1) / kInt8Block;
  const std::size_t panel_bytes = static_cast<std::size_t>(groups) * kInt8Group * kPanelCols;
  const std::size_t columns = static_cast<std::size_t>(panels) * kPanelCols;
  data.assign(static_cast<std::size_t>(panels) * panel_bytes, 0);
  scales.assign(columns * static_cast<std::size_t>(blocks), 0.0f);
  offsets.assign(scales.size(), 0);
  // One row's bytes, scales and sums, then spread over the panel: a group of kInt8Group bytes per 32-bit lane.
  std::vector<std::int8_t> q(static_cast<std::size_t>(groups) * kInt8Group);
  std::vector<float> row_scales(static_cast<std::size_t>(blocks));
  std::vector<std::int32_t> sums(static_cast<std::size_t>(blocks));
  for (int col = 0; col < n; ++col) {
    quantize(row(col), k, q.data(), row_scales.data(), sums.data());
    std::int8_t* out = data.data() + static_cast<std::size_t>(col / kPanelCols) * panel_bytes +
                       static_cast<std::size_t>(col % kPanelCols) * kInt8Group;
    for (int g = 0; g < groups; ++g)
      std::memcpy(out + static_cast<std::size_t>(g) * kInt8Group * kPanelCols, q.data() + g * kInt8Group,
                  kInt8Group);
    for (int b = 0; b < blocks; ++b) {
      const std::size_t at = static_cast<std::size_t>(b) * columns + static_cast<std::size_t>(col);
      scales[at] = row_scales[static_cast<std::size_t>(b)];
      offsets[at] = 128 * sums[static_cast<std::size_t>(b)];
    }
  }
}
}  // namespace

void QuantizedMatrix::quantize_transposed(const float* w, std::size_t ldw, int n, int k) {
  quantize_transposed(w, ldw, n, k, Int8Isa::portable);
}

void QuantizedMatrix::quantize_transposed(const float* w, std::size_t ldw, int n, int k, Int8Isa isa) {
  n_ = n;
  k_ = k;
  quantize_transposed_into(
      data_, scales_, offsets_, n, k, [&](int j) { return w + static_cast<std::size_t>(j) * ldw; },
      detail::int8_quantize_weights(isa));
}

void QuantizedMatrix::quantize_transposed(std::span<const float* const> rows, int k) {
  n_ = static_cast<int>(rows.size());
  k_ = k;
  quantize_transposed_into(
      data_, scales_, offsets_, n_, k, [&](int j) { return rows[static_cast<std::size_t>(j)]; },
      quantize_weights_row);
}

void quantize_row(const float* x, int k, std::uint8_t* out, int padded, float* scales) {
  std::fill(out + k, out + padded, std::uint8_t{128});
  for (int b0 = 0; b0 < k; b0 += kInt8Block) {
    const int n = std::min(kInt8Block, k - b0);
    const float* xb = x + b0;
    std::uint8_t* ob = out + b0;
    float top = 0.0f;
    for (int i = 0; i < n; ++i) top = std::max(top, std::fabs(xb[i]));
    *scales++ = top / 127.0f;
    if (top == 0.0f) {
      std::fill(ob, ob + n, std::uint8_t{128});
      continue;
    }
    const float inverse = 127.0f / top;
    // Adding 1.5 · 2^23 rounds to the nearest integer (ties to even) in the float's own arithmetic, which
    // the compiler vectorises where std::nearbyint would be a call per value; |x · inverse| ≤ 127 (+ rounding).
    constexpr float kRound = 12582912.0f;
    for (int i = 0; i < n; ++i) {
      const float q = std::min(127.0f, std::max(-127.0f, (xb[i] * inverse + kRound) - kRound));
      ob[i] = static_cast<std::uint8_t>(static_cast<int>(q) + 128);
    }
  }
}

Compute::Compute(int threads, Isa isa)
    : Compute(threads, isa, isa_supported(isa) && isa != Isa::portable ? best_int8_isa() : Int8Isa::portable) {}

Compute::Compute(int threads, Isa isa, Int8Isa int8)
    : isa_(isa_supported(isa) ? isa : Isa::portable),
      int8_isa_(int8_isa_supported(int8) ? int8 : Int8Isa::portable), pool_(std::max(1, threads)),
      scratch_(static_cast<std::size_t>(pool_.size())) {}

namespace {
// Rows per block of a GEMM over m rows: at most kGemmRowBlock, as many blocks as a multiple of the threads
// and at least two per thread, all of the same size but the last: with 96-row blocks a batch of short
// messages (640 rows: 7 blocks) would leave one thread idle for a seventh of the time.
int gemm_block_rows(int m, int threads) {
  int blocks = (m + kGemmRowBlock - 1) / kGemmRowBlock;
  if (threads > 1) blocks = static_cast<int>(round_up(static_cast<std::size_t>(std::max(blocks, 2 * threads)),
                                                      static_cast<std::size_t>(threads)));
  return static_cast<int>(round_up(static_cast<std::size_t>((m + blocks - 1) / blocks), kTileRows));
}
}  // namespace

void gemm(Compute& compute, const float* a, std::size_t lda, int m, const PackedMatrix& b, float* c,
          std::size_t ldc, const Epilogue& epilogue) {
  const detail::IsaKernels& kernels = kernels_for(compute.isa());
  const int k = b.k();
  const int n = b.n();
  const int block_rows = gemm_block_rows(m, compute.threads());
  const int blocks = (m + block_rows - 1) / block_rows;
  compute.pool().parallel_for(blocks, [&](int block, int thread) {
    Compute::Scratch& scratch = compute.scratch(thread);
    const int i0 = block * block_rows;
    const int rows = std::min(block_rows, m - i0);
    float* zeros = scratch.zeros.reserve(kGemmDepthBlock);
    std::fill_n(zeros, kGemmDepthBlock, 0.0f);
    const TileScratch tiles{scratch.tile.reserve(kTileRows * kPanelCols), zeros};
    float* cb = c + static_cast<std::size_t>(i0) * ldc;
    const RowEpilogue row_epilogue{epilogue.bias, epilogue.gelu,
                                   epilogue.residual == nullptr ? nullptr
                                                                : epilogue.residual + i0 * epilogue.residual_stride,
                                   epilogue.residual_stride};
    for (int k0 = 0; k0 < k || k0 == 0; k0 += kGemmDepthBlock) {
      const int kc = std::min(kGemmDepthBlock, k - k0);
      const bool last = k0 + kc >= k;
      multiply(kernels, a + static_cast<std::size_t>(i0) * lda, lda, rows, k0, kc, b, cb, ldc, k0 > 0,
               last && row_epilogue.any() ? &row_epilogue : nullptr, tiles);
    }
    if (epilogue.ln_gamma != nullptr)
      for (int r = 0; r < rows; ++r)
        kernels.layer_norm(cb + r * ldc, cb + r * ldc, n, epilogue.ln_gamma, epilogue.ln_beta, epilogue.ln_eps);
  });
}

namespace {
// A tile job over B, its sums into `sums` (kInt8TileRows × kPanelCols); the caller sets the rows and the panel.
detail::Int8TileJob tile_job(const QuantizedMatrix& b, float* sums) {
  detail::Int8TileJob job;
  job.groups = b.groups();
  job.block_stride = static_cast<std::size_t>(b.panels()) * kPanelCols;
  job.row_stride = static_cast<std::size_t>(b.blocks());
  job.out = sums;
  return job;
}

void set_panel(detail::Int8TileJob& job, const QuantizedMatrix& b, int p) {
  job.panel = b.panel(p);
  job.offsets = b.offsets(0) + p * kPanelCols;
  job.column_scales = b.scales(0) + p * kPanelCols;
}

// C (rows × b.n(), row stride ldc, in column blocks when given) = the bias, GELU and residual parts of an
// epilogue on A_q · B_q, A_q being rows quantized A rows (as many more as complete the last tile) of `stride`
// bytes at qa with their scales per block in row_scales (row r's block k at [r · b.blocks() + k]).
void multiply_int8(const detail::IsaKernels& kernels, detail::Int8TileBlocks tile_blocks, const std::uint8_t* qa,
                   std::size_t stride, const float* row_scales, int rows, const QuantizedMatrix& b, float* c,
                   std::size_t ldc, const ColumnBlocks* column_blocks, const float* bias, bool gelu,
                   const float* residual, std::size_t residual_stride) {
  const int n = b.n();
  const int blocks_k = b.blocks();
  const bool any = bias != nullptr || gelu || residual != nullptr;
  alignas(64) float sums[kInt8TileRows][kPanelCols];
  detail::Int8TileJob job = tile_job(b, &sums[0][0]);
  for (int p = 0; p < b.panels(); ++p) {
    const int j0 = p * kPanelCols;
    const int cols = std::min(kPanelCols, n - j0);
    // The panel's first column in row 0.
    float* cb = column_blocks == nullptr ? c + j0
                                         : c + static_cast<std::size_t>(j0 / column_blocks->width) * column_blocks->stride +
                                               j0 % column_blocks->width;
    set_panel(job, b, p);
    for (int t0 = 0; t0 < rows; t0 += kInt8TileRows) {
      const int valid = std::min(kInt8TileRows, rows - t0);
      // The exact integer sum of each block, scaled by the rows' scales of that block, summed in float.
      for (int r = 0; r < kInt8TileRows; ++r) job.a[r] = qa + (t0 + r) * stride;
      job.row_scales = row_scales + static_cast<std::size_t>(t0) * blocks_k;
      if (!gelu && valid == kInt8TileRows && cols == kPanelCols) {
        // A whole tile without GELU: written into C with its bias and residual by the tile itself, not through
        // a buffer and the epilogue's pass (measured on Zen 4, 1,280 rows on one core: the queries', keys' and
        // values' GEMM 3.5% faster, the attention output's 9%).
        job.bias = bias == nullptr ? nullptr : bias + j0;
        job.residual = residual == nullptr ? nullptr : residual + t0 * residual_stride + j0;
        job.residual_stride = residual_stride;
        job.out = cb + static_cast<std::size_t>(t0) * ldc;
        job.out_stride = ldc;
        tile_blocks(job);
        continue;
      }
      job.bias = job.residual = nullptr;
      job.out = &sums[0][0];
      job.out_stride = kPanelCols;
      tile_blocks(job);
      for (int r = 0; r < valid; ++r) {
        float* cr = cb + static_cast<std::size_t>(t0 + r) * ldc;
        // The epilogue reads the sums where the tile left them, not from a copy in C: a copy's stores
        // would not forward to the epilogue's loads (measured: the copy and the epilogue took 17% of an
        // int8 run on AVX-512 VNNI, 10% without it).
        if (any)
          kernels.epilogue_row(sums[r], cr, cols, bias == nullptr ? nullptr : bias + j0, gelu,
                               residual == nullptr ? nullptr : residual + (t0 + r) * residual_stride + j0);
        else if (cols == kPanelCols)
          std::memcpy(cr, sums[r], sizeof sums[r]);  // a constant size: inlined, not a call per row
        else
          for (int j = 0; j < cols; ++j) cr[j] = sums[r][j];
      }
    }
  }
}

constexpr int kPanelsPerInt8Block = kInt8Block / kPanelCols;
static_assert(kInt8Block % kPanelCols == 0);

// C (rows × b.n()) = the bias, GELU and residual parts of an epilogue on A_q · B_q, written quantized: the
// panels of each block of kInt8Block columns in turn for a tile of rows, then each row's block quantized from
// the tile's floats (the same floats, so the same bytes and scales, as quantizing the float C's rows).
void multiply_int8_quantized(const detail::IsaKernels& kernels, detail::Int8TileBlocks tile_blocks,
                             detail::Int8Quantize quantize, const std::uint8_t* qa, std::size_t stride,
                             const float* row_scales, int rows, const QuantizedMatrix& b, QuantizedRows& c, int i0,
                             const float* bias, bool gelu, const float* residual, std::size_t residual_stride) {
  const int n = b.n();
  const int blocks_k = b.blocks();
  alignas(64) float sums[kInt8TileRows][kPanelCols];
  alignas(64) float tile[kInt8TileRows][kInt8Block];
  detail::Int8TileJob job = tile_job(b, &sums[0][0]);
  const auto out_stride = static_cast<int>(c.stride());
  for (int p0 = 0; p0 < b.panels(); p0 += kPanelsPerInt8Block) {
    const int j0 = p0 * kPanelCols;
    const int width = std::min(kInt8Block, n - j0);
    const int p_end = std::min(b.panels(), p0 + kPanelsPerInt8Block);
    for (int t0 = 0; t0 < rows; t0 += kInt8TileRows) {
      const int valid = std::min(kInt8TileRows, rows - t0);
      for (int r = 0; r < kInt8TileRows; ++r) job.a[r] = qa + (t0 + r) * stride;
      job.row_scales = row_scales + static_cast<std::size_t>(t0) * blocks_k;
      for (int p = p0; p < p_end; ++p) {
        const int jp = p * kPanelCols;
        set_panel(job, b, p);
        tile_blocks(job);
        const int cols = std::min(kPanelCols, n - jp);
        for (int r = 0; r < valid; ++r)
          kernels.epilogue_row(sums[r], tile[r] + (jp - j0), cols, bias == nullptr ? nullptr : bias + jp, gelu,
                               residual == nullptr ? nullptr : residual + (t0 + r) * residual_stride + jp);
      }
      for (int r = 0; r < valid; ++r)
        quantize(tile[r], width, c.row(i0 + t0 + r) + j0, std::min(kInt8Block, out_stride - j0),
                 c.scales(i0 + t0 + r) + j0 / kInt8Block);
    }
  }
}

// The int8 GEMMs' loop over row blocks: A from floats (quantized block by block into the thread's scratch) or
// quantized ahead; C as floats (then the LayerNorm when asked) or quantized.
void gemm_int8(Compute& compute, const float* a, std::size_t lda, const QuantizedRows* a_quantized, int m,
               const QuantizedMatrix& b, float* c, std::size_t ldc, const ColumnBlocks* column_blocks,
               QuantizedRows* c_quantized, const Epilogue& epilogue) {
  const detail::IsaKernels& kernels = kernels_for(compute.isa());
  const detail::Int8TileBlocks tile_blocks = detail::int8_tile_blocks(compute.int8_isa());
  const detail::Int8Quantize quantize = detail::int8_quantize(compute.int8_isa());
  const int n = b.n();
  const int blocks_k = b.blocks();
  const auto stride = static_cast<std::size_t>(b.groups()) * kInt8Group;
  const int block_rows = gemm_block_rows(m, compute.threads());
  const int blocks = (m + block_rows - 1) / block_rows;
  compute.pool().parallel_for(blocks, [&](int block, int thread) {
    Compute::Scratch& scratch = compute.scratch(thread);
    const int i0 = block * block_rows;
    const int rows = std::min(block_rows, m - i0);
    const std::uint8_t* qa;
    const float* row_scales;  // row r's block k at [r · blocks_k + k]
    if (a_quantized != nullptr) {
      // Rows past the block's are the next block's or the zero rows past the last.
      qa = a_quantized->row(i0);
      row_scales = a_quantized->scales(i0);
    } else {
      // The block's rows quantized, then as many rows of zeros (bytes of 128, scales 0) as complete the last
      // tile: whole tiles are computed, what lies past the last row is not stored.
      const std::size_t height = round_up(static_cast<std::size_t>(rows), kInt8TileRows);
      scratch.quantized.resize(height * stride);
      scratch.row_scales.assign(height * blocks_k, 0.0f);
      std::uint8_t* bytes = scratch.quantized.data();
      for (int r = 0; r < rows; ++r)
        quantize(a + static_cast<std::size_t>(i0 + r) * lda, b.k(), bytes + r * stride, static_cast<int>(stride),
                 scratch.row_scales.data() + static_cast<std::size_t>(r) * blocks_k);
      std::fill(bytes + rows * stride, bytes + scratch.quantized.size(), std::uint8_t{128});
      qa = bytes;
      row_scales = scratch.row_scales.data();
    }
    const float* residual =
        epilogue.residual == nullptr ? nullptr : epilogue.residual + i0 * epilogue.residual_stride;
    if (c_quantized != nullptr) {
      multiply_int8_quantized(kernels, tile_blocks, quantize, qa, stride, row_scales, rows, b, *c_quantized, i0,
                              epilogue.bias, epilogue.gelu, residual, epilogue.residual_stride);
      return;
    }
    float* cb = c + static_cast<std::size_t>(i0) * ldc;
    multiply_int8(kernels, tile_blocks, qa, stride, row_scales, rows, b, cb, ldc, column_blocks, epilogue.bias,
                  epilogue.gelu, residual, epilogue.residual_stride);
    if (epilogue.ln_gamma != nullptr)
      for (int r = 0; r < rows; ++r)
        kernels.layer_norm(cb + r * ldc, cb + r * ldc, n, epilogue.ln_gamma, epilogue.ln_beta, epilogue.ln_eps);
  });
}
}  // namespace

void QuantizedRows::resize(int rows, int k) {
  rows_ = rows;
  k_ = k;
  // A GEMM's row blocks start at multiples of their own size, not of kInt8TileRows: a tile may start at any
  // row and read kInt8TileRows - 1 past it.
  const std::size_t height = static_cast<std::size_t>(rows) + kInt8TileRows - 1;
  bytes_.resize(height * stride());
  scales_.resize(height * static_cast<std::size_t>(blocks()));
  std::fill(bytes_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(rows) * stride()), bytes_.end(),
            std::uint8_t{128});
  std::fill(scales_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(rows) * blocks()), scales_.end(),
            0.0f);
}

void gemm(Compute& compute, const float* a, std::size_t lda, int m, const QuantizedMatrix& b, float* c,
          std::size_t ldc, const Epilogue& epilogue) {
  gemm_int8(compute, a, lda, nullptr, m, b, c, ldc, nullptr, nullptr, epilogue);
}

void gemm(Compute& compute, const float* a, std::size_t lda, int m, const QuantizedMatrix& b, float* c,
          std::size_t ldc, const ColumnBlocks& blocks, const Epilogue& epilogue) {
  if (epilogue.ln_gamma != nullptr) throw Error("an int8 GEMM with C in column blocks takes no LayerNorm");
  if (blocks.width <= 0 || blocks.width % kPanelCols != 0)
    throw Error("int8 GEMM: column blocks of " + std::to_string(blocks.width) + " columns; a positive multiple of " +
                std::to_string(kPanelCols) + " is needed");
  gemm_int8(compute, a, lda, nullptr, m, b, c, ldc, &blocks, nullptr, epilogue);
}

void gemm(Compute& compute, const float* a, std::size_t lda, int m, const QuantizedMatrix& b, QuantizedRows& c,
          const Epilogue& epilogue) {
  if (epilogue.ln_gamma != nullptr) throw Error("an int8 GEMM with quantized output takes no LayerNorm");
  c.resize(m, b.n());
  gemm_int8(compute, a, lda, nullptr, m, b, nullptr, 0, nullptr, &c, epilogue);
}

void gemm(Compute& compute, const QuantizedRows& a, const QuantizedMatrix& b, float* c, std::size_t ldc,
          const Epilogue& epilogue) {
  if (a.k() != b.k())
    throw Error("int8 GEMM: A has rows of " + std::to_string(a.k()) + " values, B " + std::to_string(b.k()));
  gemm_int8(compute, nullptr, 0, &a, a.rows(), b, c, ldc, nullptr, nullptr, epilogue);
}

namespace {
// A head's scores q·kᵀ (len × len, row stride ldscores) on the int8 GEMM: the keys quantized as a weight's
// rows, the queries as a GEMM's A (as many rows of zeros past the last as complete the last tile).
void int8_scores_of_head(const detail::IsaKernels& kernels, Int8Isa isa, const float* queries,
                         const float* key_rows, std::size_t ldqkv, int len, int head_dim, Compute::Scratch& scratch,
                         float* scores, std::size_t ldscores) {
  QuantizedMatrix& keys = scratch.quantized_keys;
  keys.quantize_transposed(key_rows, ldqkv, len, head_dim, isa);
  const auto stride = static_cast<std::size_t>(keys.groups()) * kInt8Group;
  const std::size_t height = round_up(static_cast<std::size_t>(len), kInt8TileRows);
  scratch.quantized.resize(height * stride);
  scratch.row_scales.assign(height * static_cast<std::size_t>(keys.blocks()), 0.0f);
  const detail::Int8Quantize quantize = detail::int8_quantize(isa);
  for (int r = 0; r < len; ++r)
    quantize(queries + r * ldqkv, head_dim, scratch.quantized.data() + r * stride, static_cast<int>(stride),
             scratch.row_scales.data() + static_cast<std::size_t>(r) * keys.blocks());
  std::fill(scratch.quantized.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(len) * stride),
            scratch.quantized.end(), std::uint8_t{128});
  multiply_int8(kernels, detail::int8_tile_blocks(isa), scratch.quantized.data(), stride, scratch.row_scales.data(),
                len, keys, scores, ldscores, nullptr, nullptr, false, nullptr, 0);
}
}  // namespace

void attention(Compute& compute, const QkvLayout& qkv, std::span<const int> offsets, int heads, int head_dim,
               float* ctx, std::size_t ldctx, bool int8_scores) {
  const detail::IsaKernels& kernels = kernels_for(compute.isa());
  const Int8Isa int8_isa = compute.int8_isa();
  const int sequences = static_cast<int>(offsets.size()) - 1;
  const std::size_t ldqkv = qkv.row_stride;
  const std::size_t to_keys = static_cast<std::size_t>(heads) * qkv.head_stride;  // from a head's queries
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  compute.pool().parallel_for(sequences * heads, [&](int task, int thread) {
    Compute::Scratch& scratch = compute.scratch(thread);
    const int s = task / heads;
    const int h = task % heads;
    const int len = offsets[s + 1] - offsets[s];
    const float* rows = qkv.data + static_cast<std::size_t>(offsets[s]) * ldqkv + h * qkv.head_stride;
    // The scores and the head's context are computed into buffers padded to whole tiles, so that no tile
    // takes the slow path for the edges (a sequence's length is rarely a multiple of the tile's sides).
    const std::size_t height = round_up(static_cast<std::size_t>(len), kTileRows);
    const std::size_t width = round_up(static_cast<std::size_t>(len), kPanelCols);  // softmax's padding too
    static_assert(kPanelCols % kSoftmaxPadding == 0);
    const std::size_t head_width = round_up(static_cast<std::size_t>(head_dim), kPanelCols);
    const std::size_t depth = std::max(static_cast<std::size_t>(len), static_cast<std::size_t>(head_dim));
    float* zeros = scratch.zeros.reserve(depth);
    std::fill_n(zeros, depth, 0.0f);
    const TileScratch tiles{scratch.tile.reserve(kTileRows * kPanelCols), zeros};
    // Scores q·kᵀ for the whole sequence, then softmax, then times the values.
    float* scores = scratch.scores.reserve(height * width);
    if (int8_scores)
      int8_scores_of_head(kernels, int8_isa, rows, rows + to_keys, ldqkv, len, head_dim, scratch, scores, width);
    else {
      scratch.keys.pack_transposed(rows + to_keys, ldqkv, len, head_dim, compute.isa());
      multiply(kernels, rows, ldqkv, len, 0, head_dim, scratch.keys, scores, width, false, nullptr, tiles, true);
    }
    kernels.softmax(scores, len, len, width, scale);
    scratch.values.pack(rows + 2 * to_keys, ldqkv, len, head_dim);
    float* context = scratch.context.reserve(height * head_width);
    multiply(kernels, scores, width, len, 0, len, scratch.values, context, head_width, false, nullptr, tiles, true);
    float* out = ctx + static_cast<std::size_t>(offsets[s]) * ldctx + h * head_dim;
    // By whole panels where they fit: copies of a constant size are inlined, not a call per row.
    const int whole = head_dim / kPanelCols * kPanelCols;
    for (int r = 0; r < len; ++r) {
      const float* from = context + r * head_width;
      float* to = out + r * ldctx;
      for (int j = 0; j < whole; j += kPanelCols) std::memcpy(to + j, from + j, kPanelCols * sizeof(float));
      if (whole < head_dim) std::memcpy(to + whole, from + whole, static_cast<std::size_t>(head_dim - whole) * sizeof(float));
    }
  });
}

void layer_norm(Isa isa, const float* x, float* y, int n, const float* gamma, const float* beta, float eps) {
  kernels_for(isa).layer_norm(x, y, n, gamma, beta, eps);
}

void gelu(Isa isa, float* x, std::size_t n) { kernels_for(isa).gelu(x, n); }

void softmax(Isa isa, float* x, int rows, int n, std::size_t stride, float scale) {
  kernels_for(isa).softmax(x, rows, n, stride, scale);
}

}  // namespace logclf::encoder::e5
