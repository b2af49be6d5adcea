// The int8 micro-kernel's operands at their extremes and at random, and the check of a tile kernel against
// the portable one, shared by the test of the real paths (e5_int8_test.cc) and of the emulated VNNI code
// (e5_int8_vnni_emulated_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "encoder/e5/kernels.h"

namespace logclf::encoder::e5::testing_int8 {

struct TileOperands {
  std::vector<std::uint8_t> a;
  std::vector<std::int8_t> panel;
  const std::uint8_t* rows[kInt8TileRows];
};

// Round 0: every product at its largest (where vpmaddubsw would saturate with 8-bit weights); 1: alternating
// signs of the largest; 2: random.
inline std::vector<float> random_floats(int n, std::mt19937& rng) {
  std::uniform_real_distribution<float> value(-4.0f, 4.0f);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = value(rng);
  return v;
}

inline TileOperands tile_operands(int groups, int round, std::mt19937& rng) {
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

// `tile` against the portable micro-kernel: the same int32 sums, on odd and even group counts.
inline void expect_tile_equals_portable(detail::Int8Tile tile, const std::string& name) {
  std::mt19937 rng(7);
  for (int groups : {1, 2, 3, 15, 16, 17, 96, 384}) {
    for (int round = 0; round < 3; ++round) {
      const TileOperands t = tile_operands(groups, round, rng);
      std::vector<std::int32_t> want(kInt8TileRows * kPanelCols), got(want.size(), -1);
      detail::int8_tile(Int8Isa::portable)(groups, t.rows, t.panel.data(), want.data());
      tile(groups, t.rows, t.panel.data(), got.data());
      EXPECT_EQ(got, want) << name << ", " << groups << " groups, round " << round;
    }
  }
}

}  // namespace logclf::encoder::e5::testing_int8
