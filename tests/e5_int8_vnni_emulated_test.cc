// The AVX-512 VNNI int8 tile compiled with SIMDe's portable versions of its intrinsics, against the portable
// kernel: it runs on every CPU, so the VNNI code's own logic (the order of its operands, the two accumulators
// per row, the odd last group, the float accumulation) is checked on machines where
// E5Int8.Avx512VnniPathEqualsPortableExactly, which runs the real instructions, can only skip. What it cannot
// check is the CPU's instructions themselves; that test does, where the CPU has them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#define LOGCLF_VNNI_TARGET
#include "encoder/e5/kernels_int8_vnni.h"

namespace logclf::encoder::e5 {
namespace {

struct TileOperands {
  std::vector<std::uint8_t> a;
  std::vector<std::int8_t> panel;
  const std::uint8_t* rows[kInt8TileRows];
};

// Round 0: every product at its largest; 1: alternating signs of the largest; 2: random.
TileOperands tile_operands(int groups, int round, std::mt19937& rng) {
  std::uniform_int_distribution<int> bytes(0, 255), weights(-kInt8WeightMax, kInt8WeightMax);
  TileOperands t;
  t.a.resize(static_cast<std::size_t>(kInt8TileRows) * groups * kInt8Group);
  t.panel.resize(static_cast<std::size_t>(groups) * kInt8Group * kPanelCols);
  for (std::size_t i = 0; i < t.a.size(); ++i)
    t.a[i] = static_cast<std::uint8_t>(round == 0 ? 255 : round == 1 ? (i % 2 ? 0 : 255) : bytes(rng));
  for (std::size_t i = 0; i < t.panel.size(); ++i)
    t.panel[i] = static_cast<std::int8_t>(round == 0   ? kInt8WeightMax
                                          : round == 1 ? -kInt8WeightMax
                                                       : weights(rng));
  for (int r = 0; r < kInt8TileRows; ++r) t.rows[r] = t.a.data() + static_cast<std::size_t>(r) * groups * kInt8Group;
  return t;
}

TEST(E5Int8, EmulatedVnniTileEqualsPortableExactly) {
  std::mt19937 rng(17);
  for (int groups : {1, 2, 3, 15, 16, 17, 96, 384}) {
    for (int round = 0; round < 3; ++round) {
      const TileOperands t = tile_operands(groups, round, rng);
      std::vector<std::int32_t> want(kInt8TileRows * kPanelCols), got(want.size(), -1);
      detail::int8_tile(Int8Isa::portable)(groups, t.rows, t.panel.data(), want.data());
      vnni::tile(groups, t.rows, t.panel.data(), got.data());
      EXPECT_EQ(got, want) << groups << " groups, round " << round;
    }
  }
}

// A tile's whole product, block by block (one to three blocks of 16 groups, the last one possibly shorter),
// against the portable one: the same floats bit for bit.
TEST(E5Int8, EmulatedVnniTileBlocksEqualPortableExactly) {
  std::mt19937 rng(19);
  std::uniform_real_distribution<float> scale(1e-4f, 0.05f);
  std::uniform_int_distribution<int> offset(-200000, 200000);
  for (int groups : {1, 7, 16, 17, 40, 48}) {
    for (int round = 0; round < 3; ++round) {
      const TileOperands t = tile_operands(groups, round, rng);
      const int blocks = (groups + 15) / 16;
      const std::size_t block_stride = 2 * kPanelCols;  // as for a matrix of two panels
      std::vector<float> row_scales(static_cast<std::size_t>(kInt8TileRows) * blocks);
      std::vector<float> column_scales(block_stride * blocks);
      std::vector<std::int32_t> offsets(column_scales.size());
      for (float& s : row_scales) s = scale(rng);
      for (float& s : column_scales) s = scale(rng);
      for (std::int32_t& o : offsets) o = offset(rng);
      detail::Int8TileJob job;
      job.groups = groups;
      std::copy_n(t.rows, kInt8TileRows, job.a);
      job.panel = t.panel.data();
      job.offsets = offsets.data();
      job.column_scales = column_scales.data();
      job.block_stride = block_stride;
      job.row_scales = row_scales.data();
      job.row_stride = static_cast<std::size_t>(blocks);
      std::vector<float> want(kInt8TileRows * kPanelCols, -1.0f), got(want.size(), -2.0f);
      job.sums = want.data();
      detail::int8_tile_blocks(Int8Isa::portable)(job);
      job.sums = got.data();
      vnni::tile_blocks(job);
      EXPECT_EQ(got, want) << groups << " groups, round " << round;
      EXPECT_NE(want, std::vector<float>(want.size(), -1.0f)) << "the portable path wrote nothing";
    }
  }
}

}  // namespace
}  // namespace logclf::encoder::e5
