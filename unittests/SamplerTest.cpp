//===- SamplerTest.cpp - the runtime's greedy choice ----------------------===//

#include "Sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using ternc::rt::argmax;

namespace {

/// The definition: scan in order, keep the first strictly larger logit.
int32_t firstLargest(const std::vector<float> &v) {
  int32_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best])
      best = int32_t(i);
  return best;
}

TEST(Argmax, MatchesTheScanOnRandomLogits) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  // Lengths around the 16 lanes and the 2B4T vocabulary.
  for (size_t n : {1, 2, 15, 16, 17, 31, 33, 100, 128256}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> v(n);
      for (float &x : v)
        x = normal(rng);
      EXPECT_EQ(argmax(v.data(), int64_t(n)), firstLargest(v)) << n;
    }
  }
}

TEST(Argmax, TiesGiveTheFirst) {
  // Rounded logits: many ties, the largest in several lanes and the tail.
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> small(-3, 3);
  for (size_t n : {5, 16, 40, 1001}) {
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<float> v(n);
      for (float &x : v)
        x = float(small(rng));
      EXPECT_EQ(argmax(v.data(), int64_t(n)), firstLargest(v)) << n;
    }
  }
  std::vector<float> equal(37, 1.5f);
  EXPECT_EQ(argmax(equal.data(), 37), 0);
}

TEST(Argmax, LargestInTheTailOrTheLastLane) {
  std::vector<float> v(35, 0.0f);
  v[34] = 1.0f; // past the last whole group of 16
  EXPECT_EQ(argmax(v.data(), 35), 34);
  v[31] = 2.0f; // the last lane of the second group
  EXPECT_EQ(argmax(v.data(), 35), 31);
}

TEST(Argmax, NaNsAndSignedZeros) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {1.0f, nan, 3.0f, nan, 2.0f};
  EXPECT_EQ(argmax(v.data(), 5), 2);
  EXPECT_EQ(argmax(v.data(), 5), firstLargest(v));
  // A NaN first: nothing compares larger, so the scan keeps 0.
  std::vector<float> first(40, 1.0f);
  first[0] = nan;
  first[20] = 5.0f;
  EXPECT_EQ(argmax(first.data(), 40), 0);
  EXPECT_EQ(firstLargest(first), 0);
  // -0 and +0 are equal: the first wins.
  std::vector<float> zeros(20, -inf);
  zeros[3] = -0.0f;
  zeros[18] = 0.0f;
  EXPECT_EQ(argmax(zeros.data(), 20), 3);
  EXPECT_EQ(firstLargest(zeros), 3);
  std::vector<float> negInf(18, -inf);
  EXPECT_EQ(argmax(negInf.data(), 18), 0);
}

} // namespace
