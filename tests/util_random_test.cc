#include <gtest/gtest.h>

#include <vector>

#include "util/random.h"

namespace logclf::util {
namespace {

TEST(Random, MatchesTheSplitmix64ReferenceSequence) {
  // The first outputs of the reference splitmix64.c (Vigna) seeded with 1234567.
  Random random(1234567);
  EXPECT_EQ(random.next(), 6457827717110365317ULL);
  EXPECT_EQ(random.next(), 3203168211198807973ULL);
  EXPECT_EQ(random.next(), 9817491932198370423ULL);
  EXPECT_EQ(random.next(), 4593380528125082431ULL);
  EXPECT_EQ(random.next(), 16408922859458223821ULL);
}

TEST(Random, BoundedDrawsAreUniformAndInRange) {
  Random random(9);
  std::vector<int> histogram(6);
  for (int i = 0; i < 60000; ++i) ++histogram[random.below(6)];
  for (const int n : histogram) EXPECT_NEAR(n, 10000, 400);
  for (int i = 0; i < 1000; ++i) {
    const auto v = random.between(-3, 3);
    EXPECT_GE(v, -3);
    EXPECT_LE(v, 3);
  }
  EXPECT_EQ(random.below(1), 0u);
}

TEST(Random, ShuffleIsAPermutationAndDeterministic) {
  std::vector<int> a(100), b(100);
  for (int i = 0; i < 100; ++i) a[i] = b[i] = i;
  Random(5).shuffle(a);
  Random(5).shuffle(b);
  EXPECT_EQ(a, b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(a, sorted);
}

}  // namespace
}  // namespace logclf::util
