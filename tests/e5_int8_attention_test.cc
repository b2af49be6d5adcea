// Attention with its scores q·kᵀ on the int8 GEMM, against a reference in double computed from the queries
// and keys as the quantizers leave them (dequantized by hand): the int8 path must compute exactly that
// product, then the fp32 softmax and values; the same on every int8 path this CPU has.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "e5_attention_reference.h"
#include "encoder/e5/kernels.h"

namespace logclf::encoder::e5 {
namespace {

std::vector<float> random_values(std::size_t n, std::uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// x as quantize_row (queries) or the weights' quantizer (keys) leave it: q · s per block.
std::vector<double> dequantized_query(const float* x, int k) {
  const int padded = (k + kInt8Group - 1) / kInt8Group * kInt8Group;
  std::vector<std::uint8_t> q(static_cast<std::size_t>(padded));
  std::vector<float> scales(static_cast<std::size_t>((k + kInt8Block - 1) / kInt8Block));
  quantize_row(x, k, q.data(), padded, scales.data());
  std::vector<double> out(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) out[static_cast<std::size_t>(i)] = (q[static_cast<std::size_t>(i)] - 128.0) * scales[static_cast<std::size_t>(i / kInt8Block)];
  return out;
}

std::vector<double> dequantized_key(const float* x, int k) {
  std::vector<std::int8_t> q(static_cast<std::size_t>((k + kInt8Group - 1) / kInt8Group * kInt8Group));
  std::vector<float> scales(static_cast<std::size_t>((k + kInt8Block - 1) / kInt8Block));
  std::vector<std::int32_t> sums(scales.size());
  detail::int8_quantize_weights(Int8Isa::portable)(x, k, q.data(), scales.data(), sums.data());
  std::vector<double> out(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) out[static_cast<std::size_t>(i)] = q[static_cast<std::size_t>(i)] * static_cast<double>(scales[static_cast<std::size_t>(i / kInt8Block)]);
  return out;
}

TEST(E5Int8, AttentionWithInt8ScoresComputesTheQuantizedProduct) {
  const std::vector<int> lengths = {1, 5, 17, 40, 2};
  std::vector<int> offsets{0};
  for (const int len : lengths) offsets.push_back(offsets.back() + len);
  const int tokens = offsets.back();
  std::vector<Int8Isa> paths;
  for (const Int8Isa isa : {Int8Isa::portable, Int8Isa::avx2, Int8Isa::avx512vnni})
    if (int8_isa_supported(isa))
      paths.push_back(isa);
    else
      std::cerr << "SKIPPED: the " << to_string(isa) << " path is not available on this CPU (or build): its "
                << "int8 attention scores are not checked here" << std::endl;
  // Head sizes under, at and over one block of k; values up to 3 in size, so that quantization moves the
  // scores by far more than the tolerance (checked below against the fp32 attention).
  for (const int head_dim : {20, 32, 64, 70}) {
    const int heads = 2, hidden = heads * head_dim;
    const std::size_t ld = 3 * static_cast<std::size_t>(hidden) + 1;
    const auto qkv = random_values(static_cast<std::size_t>(tokens) * ld, 50 + head_dim, 3.0f);
    const std::vector<double> ref =
        testing_attention::reference(qkv, ld, offsets, heads, head_dim, dequantized_query, dequantized_key);
    const std::size_t ldctx = static_cast<std::size_t>(hidden) + 3;
    std::vector<float> first;
    for (const Int8Isa isa : paths)
      for (const int threads : {1, 2}) {
        SCOPED_TRACE(std::string(to_string(isa)) + ", " + std::to_string(threads) + " threads, head_dim " +
                     std::to_string(head_dim));
        Compute compute(threads, best_isa(), isa);
        std::vector<float> ctx(static_cast<std::size_t>(tokens) * ldctx, 7.0f);
        attention(compute, QkvLayout{qkv.data(), ld, static_cast<std::size_t>(head_dim)}, offsets, heads, head_dim, ctx.data(), ldctx, true);
        for (int i = 0; i < tokens; ++i) {
          for (int j = 0; j < hidden; ++j)
            ASSERT_NEAR(ctx[i * ldctx + j], ref[static_cast<std::size_t>(i) * hidden + j], 2e-5) << i << "," << j;
          for (std::size_t j = static_cast<std::size_t>(hidden); j < ldctx; ++j) ASSERT_EQ(ctx[i * ldctx + j], 7.0f);
        }
        // The int8 sums are exact and the float steps the same on every path: the same vectors bit for bit.
        if (first.empty()) first = ctx;
        EXPECT_EQ(ctx, first);
        // The int8 scores were used: the fp32 ones give other vectors, by more than the tolerance.
        std::vector<float> fp32(ctx.size(), 7.0f);
        attention(compute, QkvLayout{qkv.data(), ld, static_cast<std::size_t>(head_dim)}, offsets, heads, head_dim, fp32.data(), ldctx, false);
        double largest = 0.0;
        for (std::size_t i = 0; i < ctx.size(); ++i) largest = std::max(largest, std::fabs(double(fp32[i]) - ctx[i]));
        EXPECT_GT(largest, 1e-3);
        // The same queries, keys and values head by head (each head's rows contiguous, as the int8 encoder's
        // GEMM writes them): the same vectors bit for bit, with int8 and with fp32 scores.
        const auto d = static_cast<std::size_t>(head_dim), m = static_cast<std::size_t>(tokens);
        std::vector<float> head_major(3 * static_cast<std::size_t>(heads) * m * d);
        for (std::size_t t = 0; t < m; ++t)
          for (std::size_t col = 0; col < 3 * static_cast<std::size_t>(hidden); ++col)
            head_major[col / d * m * d + t * d + col % d] = qkv[t * ld + col];
        const QkvLayout by_head{head_major.data(), d, m * d};
        for (const bool int8_scores : {true, false}) {
          std::vector<float> again(ctx.size(), 7.0f);
          attention(compute, by_head, offsets, heads, head_dim, again.data(), ldctx, int8_scores);
          EXPECT_EQ(again, int8_scores ? ctx : fp32) << (int8_scores ? "int8" : "fp32") << " scores, head-major";
        }
      }
  }
}

}  // namespace
}  // namespace logclf::encoder::e5
