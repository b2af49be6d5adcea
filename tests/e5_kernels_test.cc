// The encoder's kernels, each against a plain double-precision implementation written here, for every
// instruction set this CPU runs and on one and two threads.
#include "e5_attention_reference.h"
#include "encoder/e5/kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace logclf::encoder::e5 {
namespace {

std::vector<Isa> isas() {
  std::vector<Isa> out{Isa::portable};
  if (isa_supported(Isa::avx2)) out.push_back(Isa::avx2);
  return out;
}

std::vector<float> random_values(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

double gelu_reference(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

void layer_norm_reference(const double* x, double* y, int n, const float* gamma, const float* beta, double eps) {
  double mean = 0.0;
  for (int j = 0; j < n; ++j) mean += x[j];
  mean /= n;
  double var = 0.0;
  for (int j = 0; j < n; ++j) var += (x[j] - mean) * (x[j] - mean);
  var /= n;
  for (int j = 0; j < n; ++j) y[j] = (x[j] - mean) / std::sqrt(var + eps) * gamma[j] + beta[j];
}

struct GemmCase {
  int m, n, k;
};

// C = epilogue(A · Wᵀ) in double, A m × k (stride lda), W n × k.
std::vector<double> gemm_reference(const GemmCase& g, const std::vector<float>& a, std::size_t lda,
                                   const std::vector<float>& w, const Epilogue& e) {
  std::vector<double> c(static_cast<std::size_t>(g.m) * g.n);
  for (int i = 0; i < g.m; ++i) {
    double* row = c.data() + static_cast<std::size_t>(i) * g.n;
    for (int j = 0; j < g.n; ++j) {
      double s = 0.0;
      for (int p = 0; p < g.k; ++p) s += static_cast<double>(a[i * lda + p]) * w[static_cast<std::size_t>(j) * g.k + p];
      if (e.bias != nullptr) s += e.bias[j];
      if (e.gelu) s = gelu_reference(s);
      if (e.residual != nullptr) s += e.residual[i * e.residual_stride + j];
      row[j] = s;
    }
    if (e.ln_gamma != nullptr) layer_norm_reference(row, row, g.n, e.ln_gamma, e.ln_beta, e.ln_eps);
  }
  return c;
}

TEST(E5Kernels, GemmMatchesReferenceOnEdgeSizes) {
  // Sizes that are and are not multiples of the 6 × 16 tile, depths below and above the 384-deep block,
  // one row block and several.
  const std::vector<GemmCase> cases = {{1, 1, 1},   {5, 15, 3},     {6, 16, 8},     {7, 17, 33},
                                       {13, 33, 385}, {100, 48, 64}, {193, 40, 800}, {97, 130, 384}};
  for (const Isa isa : isas()) {
    for (const int threads : {1, 2}) {
      Compute compute(threads, isa);
      for (const GemmCase& g : cases) {
        SCOPED_TRACE(std::string(to_string(isa)) + " threads " + std::to_string(threads) + " m " +
                     std::to_string(g.m) + " n " + std::to_string(g.n) + " k " + std::to_string(g.k));
        // Strided A and C: lda = k + 3, ldc = n + 5.
        const std::size_t lda = static_cast<std::size_t>(g.k) + 3, ldc = static_cast<std::size_t>(g.n) + 5;
        const auto a = random_values(g.m * lda, 1);
        const auto w = random_values(static_cast<std::size_t>(g.n) * g.k, 2);
        PackedMatrix b;
        b.pack_transposed(w.data(), static_cast<std::size_t>(g.k), g.n, g.k);
        ASSERT_EQ(b.k(), g.k);
        ASSERT_EQ(b.n(), g.n);
        std::vector<float> c(g.m * ldc, 7.0f);
        gemm(compute, a.data(), lda, g.m, b, c.data(), ldc);
        const auto ref = gemm_reference(g, a, lda, w, {});
        double worst = 0.0;
        for (int i = 0; i < g.m; ++i)
          for (int j = 0; j < g.n; ++j)
            worst = std::max(worst, std::abs(c[i * ldc + j] - ref[static_cast<std::size_t>(i) * g.n + j]));
        EXPECT_LT(worst, 2e-5 * std::sqrt(static_cast<double>(g.k)) + 1e-6);
        // The padding columns of C are left alone.
        for (int i = 0; i < g.m; ++i)
          for (std::size_t j = static_cast<std::size_t>(g.n); j < ldc; ++j) ASSERT_EQ(c[i * ldc + j], 7.0f);
      }
    }
  }
}

TEST(E5Kernels, GemmEpiloguesMatchReference) {
  const GemmCase g{29, 40, 500};  // two depth blocks: the epilogue follows the accumulation
  const auto a = random_values(static_cast<std::size_t>(g.m) * g.k, 3);
  const auto w = random_values(static_cast<std::size_t>(g.n) * g.k, 4, 0.1f);
  const auto bias = random_values(g.n, 5);
  const auto residual = random_values(static_cast<std::size_t>(g.m) * (g.n + 2), 6);
  const auto gamma = random_values(g.n, 7);
  const auto beta = random_values(g.n, 8);
  PackedMatrix b;
  b.pack_transposed(w.data(), static_cast<std::size_t>(g.k), g.n, g.k);
  const std::vector<Epilogue> epilogues = {
      {.bias = bias.data()},
      {.bias = bias.data(), .gelu = true},
      {.residual = residual.data(), .residual_stride = static_cast<std::size_t>(g.n) + 2},
      {.bias = bias.data(), .residual = residual.data(), .residual_stride = static_cast<std::size_t>(g.n) + 2,
       .ln_gamma = gamma.data(), .ln_beta = beta.data(), .ln_eps = 1e-12f},
  };
  for (const Isa isa : isas()) {
    Compute compute(2, isa);
    for (std::size_t e = 0; e < epilogues.size(); ++e) {
      SCOPED_TRACE(std::string(to_string(isa)) + " epilogue " + std::to_string(e));
      std::vector<float> c(static_cast<std::size_t>(g.m) * g.n);
      gemm(compute, a.data(), static_cast<std::size_t>(g.k), g.m, b, c.data(), static_cast<std::size_t>(g.n),
           epilogues[e]);
      const auto ref = gemm_reference(g, a, static_cast<std::size_t>(g.k), w, epilogues[e]);
      for (std::size_t i = 0; i < c.size(); ++i) ASSERT_NEAR(c[i], ref[i], 1e-4) << "element " << i;
    }
  }
}

TEST(E5Kernels, PackFromRowsEqualsPackTransposed) {
  // B given as k rows of n values equals B given as its transpose, on every instruction set's transpose:
  // shapes with whole 8 × 8 blocks (an attention head's keys: k 64), partial half-panels and tails of k.
  for (const Isa isa : isas()) {
    for (const auto& [k, n] : std::vector<std::pair<int, int>>{{21, 37}, {64, 78}, {64, 16}, {8, 8}, {17, 9}, {3, 1}}) {
      SCOPED_TRACE(std::string(to_string(isa)) + " k " + std::to_string(k) + " n " + std::to_string(n));
      const std::size_t ldw = static_cast<std::size_t>(k) + 3;
      const auto bt = random_values(static_cast<std::size_t>(n) * ldw, 9);  // n × k, stride k + 3
      std::vector<float> rows(static_cast<std::size_t>(k) * (n + 4));     // k × n, stride n + 4
      for (int i = 0; i < k; ++i)
        for (int j = 0; j < n; ++j) rows[i * (n + 4) + j] = bt[static_cast<std::size_t>(j) * ldw + i];
      PackedMatrix p1, p2;
      p1.pack_transposed(bt.data(), ldw, n, k, isa);
      p2.pack(rows.data(), n + 4, k, n);
      ASSERT_EQ(p1.panels(), (n + kPanelCols - 1) / kPanelCols);
      for (int p = 0; p < p1.panels(); ++p)
        for (int i = 0; i < k * kPanelCols; ++i) ASSERT_EQ(p1.panel(p)[i], p2.panel(p)[i]) << "panel " << p << " " << i;
      // Columns past n are zero; the values are B's, by hand at two places.
      if (n % kPanelCols != 0) {
        EXPECT_EQ(p1.panel(p1.panels() - 1)[(k - 1) * kPanelCols + kPanelCols - 1], 0.0f);
      }
      EXPECT_EQ(p1.panel(0)[0], bt[0]);
      EXPECT_EQ(p1.panel(0)[(k - 1) * kPanelCols + std::min(n, kPanelCols) - 1],
                bt[static_cast<std::size_t>(std::min(n, kPanelCols) - 1) * ldw + k - 1]);
    }
  }
}

TEST(E5Kernels, LayerNormMatchesReference) {
  for (const Isa isa : isas()) {
    for (const int n : {1, 7, 8, 9, 33, 384}) {
      SCOPED_TRACE(std::string(to_string(isa)) + " n " + std::to_string(n));
      auto x = random_values(n, 10 + n, 3.0f);
      for (float& v : x) v += 5.0f;  // a large mean: the variance is computed around it
      const auto gamma = random_values(n, 11);
      const auto beta = random_values(n, 12);
      std::vector<double> xd(x.begin(), x.end()), ref(n);
      layer_norm_reference(xd.data(), ref.data(), n, gamma.data(), beta.data(), 1e-5);
      std::vector<float> y(n);
      layer_norm(isa, x.data(), y.data(), n, gamma.data(), beta.data(), 1e-5f);
      for (int j = 0; j < n; ++j) ASSERT_NEAR(y[j], ref[j], 2e-5) << j;
      layer_norm(isa, x.data(), x.data(), n, gamma.data(), beta.data(), 1e-5f);  // in place
      for (int j = 0; j < n; ++j) ASSERT_EQ(x[j], y[j]) << j;
    }
  }
}

TEST(E5Kernels, GeluMatchesErfForm) {
  std::vector<float> x;
  for (int i = -12000; i <= 12000; ++i) x.push_back(static_cast<float>(i) * 1e-3f);  // [-12, 12], 24001 values
  for (const Isa isa : isas()) {
    SCOPED_TRACE(std::string(to_string(isa)));
    std::vector<float> y = x;
    gelu(isa, y.data(), y.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double ref = gelu_reference(x[i]);
      worst = std::max(worst, std::abs(y[i] - ref) / std::max(1.0, std::abs(ref)));
    }
    // Near x = -5.5, 1 + erf(x/√2) cancels: erf's absolute error (below 4e-7) times x/2 is what remains.
    EXPECT_LT(worst, 2e-6);
    // Hand-checked values: GELU(0) = 0, GELU(1) = Φ(1) = 0.8413447, GELU(-3) = -3·Φ(-3) = -0.0040497.
    float v[3] = {0.0f, 1.0f, -3.0f};
    gelu(isa, v, 3);
    EXPECT_EQ(v[0], 0.0f);
    EXPECT_NEAR(v[1], 0.8413447f, 1e-6);
    EXPECT_NEAR(v[2], -0.0040497f, 1e-6);
  }
}

// Rows of several lengths, 1 to 6 at a time (the AVX2 kernel takes four side by side, then one by one), each
// against a double-precision softmax; every row's padding holds anything (here NaN and infinities), takes no
// part and becomes zeros, and nothing past the padding changes.
TEST(E5Kernels, SoftmaxMatchesReference) {
  for (const Isa isa : isas()) {
    for (const int n : {1, 3, 8, 13, 77, 300}) {
      for (const int rows : {1, 4, 6}) {
        SCOPED_TRACE(std::string(to_string(isa)) + " n " + std::to_string(n) + ", rows " + std::to_string(rows));
        const int padded = (n + kSoftmaxPadding - 1) / kSoftmaxPadding * kSoftmaxPadding;
        const int stride = padded + 8;
        std::vector<float> x(static_cast<std::size_t>(rows) * stride, 5.0f);
        for (int r = 0; r < rows; ++r) {
          const auto values = random_values(n, 20 + n + 100 * r, 30.0f);
          float* row = x.data() + r * stride;
          std::copy(values.begin(), values.end(), row);
          row[r % n] = -1e4f;  // a very small score gets weight zero, not NaN
          for (int j = n; j < padded; ++j)
            row[j] = j % 3 == 0 ? std::numeric_limits<float>::quiet_NaN()
                                : (j % 3 == 1 ? 1.0f : -1.0f) * std::numeric_limits<float>::infinity();
        }
        const std::vector<float> before = x;
        const float scale = 0.17677669f;  // 1/√32
        softmax(isa, x.data(), rows, n, static_cast<std::size_t>(stride), scale);
        for (int r = 0; r < rows; ++r) {
          const float* in = before.data() + r * stride;
          const float* out = x.data() + r * stride;
          double top = -1e300, sum = 0.0;
          std::vector<double> ref(static_cast<std::size_t>(n));
          for (int j = 0; j < n; ++j) top = std::max(top, static_cast<double>(in[j]));
          for (int j = 0; j < n; ++j) sum += ref[static_cast<std::size_t>(j)] = std::exp((in[j] - top) * scale);
          double total = 0.0;
          for (int j = 0; j < n; ++j) {
            ASSERT_NEAR(out[j], ref[static_cast<std::size_t>(j)] / sum, 1e-6) << "row " << r << ", " << j;
            total += out[j];
          }
          EXPECT_NEAR(total, 1.0, 1e-5) << "row " << r;
          for (int j = n; j < padded; ++j) EXPECT_EQ(out[j], 0.0f) << "row " << r << ", " << j;
          for (int j = padded; j < stride; ++j) EXPECT_EQ(out[j], 5.0f) << "row " << r << ", " << j;
        }
      }
    }
  }
}

TEST(E5Kernels, AttentionMatchesReference) {
  // Packed sequences of several lengths; head sizes that are and are not multiples of the vector width.
  const std::vector<int> lengths = {1, 5, 17, 40, 2};
  std::vector<int> offsets{0};
  for (const int len : lengths) offsets.push_back(offsets.back() + len);
  const int tokens = offsets.back();
  for (const int head_dim : {8, 20, 32}) {
    const int heads = 3;
    const int hidden = heads * head_dim;
    const std::size_t ld = 3 * static_cast<std::size_t>(hidden) + 1;
    const auto qkv = random_values(tokens * ld, 30 + head_dim, 2.0f);
    const std::vector<double> ref = testing_attention::reference(qkv, ld, offsets, heads, head_dim,
                                                                 testing_attention::as_doubles,
                                                                 testing_attention::as_doubles);
    for (const Isa isa : isas()) {
      for (const int threads : {1, 2}) {
        SCOPED_TRACE(std::string(to_string(isa)) + " threads " + std::to_string(threads) + " head_dim " +
                     std::to_string(head_dim));
        Compute compute(threads, isa);
        const std::size_t ldctx = static_cast<std::size_t>(hidden) + 3;
        std::vector<float> ctx(tokens * ldctx, 7.0f);
        attention(compute, QkvLayout{qkv.data(), ld, static_cast<std::size_t>(head_dim)}, offsets, heads, head_dim, ctx.data(), ldctx);
        for (int i = 0; i < tokens; ++i) {
          for (int j = 0; j < hidden; ++j)
            ASSERT_NEAR(ctx[i * ldctx + j], ref[static_cast<std::size_t>(i) * hidden + j], 1e-5) << i << "," << j;
          for (std::size_t j = static_cast<std::size_t>(hidden); j < ldctx; ++j) ASSERT_EQ(ctx[i * ldctx + j], 7.0f);
        }
      }
    }
  }
}

TEST(E5Kernels, ThreadPoolRunsEveryTaskOnce) {
  for (const int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (const int tasks : {0, 1, 2, 1000}) {
      std::vector<std::atomic<int>> runs(static_cast<std::size_t>(tasks));
      std::atomic<bool> bad_thread{false};
      pool.parallel_for(tasks, [&](int task, int thread) {
        runs[static_cast<std::size_t>(task)].fetch_add(1);
        if (thread < 0 || thread >= threads) bad_thread = true;
      });
      for (int t = 0; t < tasks; ++t) ASSERT_EQ(runs[static_cast<std::size_t>(t)].load(), 1) << t;
      EXPECT_FALSE(bad_thread);
    }
  }
}

TEST(E5Kernels, IsaSelection) {
  EXPECT_TRUE(isa_supported(Isa::portable));
  EXPECT_TRUE(isa_supported(best_isa()));
#if defined(__x86_64__)
  EXPECT_EQ(isa_supported(Isa::avx2), __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#endif
  // An unsupported request falls back to the portable kernels rather than faulting.
  Compute compute(1, Isa::avx2);
  EXPECT_TRUE(isa_supported(compute.isa()));
}

}  // namespace
}  // namespace logclf::encoder::e5
