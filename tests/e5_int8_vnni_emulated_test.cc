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
#define LOGCLF_VNNI_EMULATED
#include "e5_int8_tiles.h"
#include "encoder/e5/kernels_int8_vnni.h"

namespace logclf::encoder::e5 {
namespace {

TEST(E5Int8, EmulatedVnniTileEqualsPortableExactly) {
  testing_int8::expect_tile_equals_portable(vnni::tile, "emulated avx512-vnni");
}

// A tile's whole product, block by block (one to three blocks of 16 groups, the last one possibly shorter;
// 8 groups, a head of 32 values, take the one-block path), against the portable one: the same floats bit
// for bit.
TEST(E5Int8, EmulatedVnniTileBlocksEqualPortableExactly) {
  std::mt19937 rng(19);
  std::uniform_real_distribution<float> scale(1e-4f, 0.05f);
  std::uniform_int_distribution<int> offset(-200000, 200000);
  for (int groups : {1, 7, 8, 16, 17, 40, 48}) {
    for (int round = 0; round < 3; ++round) {
      const testing_int8::TileOperands t = testing_int8::tile_operands(groups, round, rng);
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
      job.out = want.data();
      detail::int8_tile_blocks(Int8Isa::portable)(job);
      job.out = got.data();
      vnni::tile_blocks(job);
      EXPECT_EQ(got, want) << groups << " groups, round " << round;
      EXPECT_NE(want, std::vector<float>(want.size(), -1.0f)) << "the portable path wrote nothing";
      // With a bias and a residual, into rows 24 apart (what lies between them untouched).
      const std::vector<float> bias = testing_int8::random_floats(kPanelCols, rng);
      const std::vector<float> residual = testing_int8::random_floats(kInt8TileRows * 20, rng);
      job.bias = bias.data();
      job.residual = residual.data();
      job.residual_stride = 20;
      job.out_stride = 24;
      std::vector<float> want_parts(kInt8TileRows * 24, -1.0f), got_parts(want_parts);
      job.out = want_parts.data();
      detail::int8_tile_blocks(Int8Isa::portable)(job);
      job.out = got_parts.data();
      vnni::tile_blocks(job);
      EXPECT_EQ(got_parts, want_parts) << groups << " groups, round " << round << ", with bias and residual";
      for (int r = 0; r < kInt8TileRows; ++r)
        for (int j = 0; j < kPanelCols; ++j)
          EXPECT_EQ(want_parts[static_cast<std::size_t>(r) * 24 + j],
                    (want[static_cast<std::size_t>(r) * kPanelCols + j] + bias[static_cast<std::size_t>(j)]) +
                        residual[static_cast<std::size_t>(r) * 20 + j]);
    }
  }
}

}  // namespace
}  // namespace logclf::encoder::e5
