//===- SamplerTest.cpp - the runtime's greedy choice ----------------------===//

#include "Sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using ternc::rt::argmax;
using ternc::rt::Sampler;
using ternc::rt::SamplerOptions;

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

TEST(Argmax, OnComputedRowsMatchesTheFullScan) {
  // A screened head's logits: -inf but at the computed rows, whose values
  // tie, are NaN or infinite now and then; row 0 among them or not.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> small(-2, 2), special(0, 9);
  for (size_t n : {1, 2, 17, 300}) {
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<float> v(n, -inf);
      std::vector<int32_t> rows;
      for (size_t i = 0; i < n; ++i) {
        if (rng() % 3)
          continue;
        rows.push_back(int32_t(i));
        const int kind = special(rng);
        v[i] = kind == 0   ? nan
               : kind == 1 ? -inf
               : kind == 2 ? inf
                           : float(small(rng));
      }
      EXPECT_EQ(argmax(v.data(), int64_t(n), rows.data(), int64_t(rows.size())),
                argmax(v.data(), int64_t(n)))
          << n << " " << trial;
      Sampler greedy(SamplerOptions{0.0f, 0, 1.0f, 0});
      EXPECT_EQ(greedy.sample(v.data(), int64_t(n), &rows),
                argmax(v.data(), int64_t(n)));
    }
  }
  // No rows at all: every logit -inf, so 0.
  std::vector<float> none(9, -inf);
  EXPECT_EQ(argmax(none.data(), 9, nullptr, 0), 0);
}

/// The definition of sampling: every logit sorted (larger first, the
/// smaller id on ties), the first k kept, softmax of logit / temperature
/// over them in order, top-p's smallest prefix of mass p renormalised, then the
/// first candidate whose running sum passes a uniform draw of xorshift64*
/// (state seed * 0x9E3779B97F4A7C15 + 1, the top 24 bits of the product).
struct ReferenceSampler {
  SamplerOptions opt;
  uint64_t state;
  explicit ReferenceSampler(const SamplerOptions &o)
      : opt(o), state(o.seed * 0x9E3779B97F4A7C15ull + 1) {}
  float uniform() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return float((state * 0x2545F4914F6CDD1Dull) >> 40) / float(1u << 24);
  }
  int32_t sample(const std::vector<float> &logits) {
    std::vector<std::pair<float, int32_t>> c;
    for (size_t i = 0; i < logits.size(); ++i)
      c.push_back({logits[i], int32_t(i)});
    std::sort(c.begin(), c.end(), [](const auto &a, const auto &b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    if (opt.topK > 0 && size_t(opt.topK) < c.size())
      c.resize(size_t(opt.topK));
    float mx = c[0].first / opt.temperature, sum = 0.0f;
    for (auto &x : c) {
      x.first = std::exp(x.first / opt.temperature - mx);
      sum += x.first;
    }
    for (auto &x : c)
      x.first /= sum;
    if (opt.topP < 1.0f) {
      float mass = 0.0f;
      size_t n = 0;
      while (n < c.size()) {
        mass += c[n++].first;
        if (mass >= opt.topP)
          break;
      }
      c.resize(n);
      for (auto &x : c)
        x.first /= mass;
    }
    float r = uniform(), acc = 0.0f;
    for (const auto &x : c) {
      acc += x.first;
      if (r < acc)
        return x.second;
    }
    return c.back().second;
  }
};

TEST(Sampler, MatchesTheDefinition) {
  // Top-k on (one pass over the logits) and off (all sorted), with and
  // without top-p, on logits with many ties; 60 draws each.
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(3001);
  for (float &x : logits)
    x = std::round(normal(rng) * 8.0f) / 8.0f; // ties
  for (int topK : {0, 1, 40, 3001, 4000}) {
    for (float topP : {1.0f, 0.9f}) {
      for (float temperature : {0.8f, 1.0f, 2.5f}) {
        SamplerOptions o;
        o.temperature = temperature;
        o.topK = topK;
        o.topP = topP;
        o.seed = 17;
        Sampler fast(o);
        ReferenceSampler slow(o);
        for (int draw = 0; draw < 60; ++draw) {
          ASSERT_EQ(fast.sample(logits.data(), int64_t(logits.size())),
                    slow.sample(logits))
              << "top-k " << topK << ", top-p " << topP << ", temperature "
              << temperature << ", draw " << draw;
          // Move the logits a little between draws, as a decode does.
          logits[size_t(draw * 7919) % logits.size()] += 0.25f;
        }
      }
    }
  }
}

} // namespace
