//===- HeadScreenTest.cpp - the screened LM head's bound and selection ----===//
//
// The bound the blob writer stores for each row of an int8 screening copy
// (screenBound), and the rows the runtime keeps from it (screenRows),
// against logits computed here from the ops' definitions: the exact top
// rows must always be kept, and few others.
//
//===----------------------------------------------------------------------===//

#include "HeadScreen.h"
#include "ternc/Import/WeightStore.h"
#include "ternc/Target/WeightBlob.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace ternc::rt;

namespace {

constexpr int64_t kDim = 320, kVocab = 1500, kLanes = 16;

/// sum_k x[k] * w[k] in f32 as tern.matmul defines it with 16 lanes:
/// lane j adds k = j, j + 16, ... in order, then the lanes in order.
float laneDot(const float *x, const float *w, int64_t n) {
  float lane[kLanes] = {};
  for (int64_t k = 0; k < n; ++k)
    lane[k % kLanes] += x[k] * w[k];
  float sum = 0.0f;
  for (float v : lane)
    sum += v;
  return sum;
}

struct Head {
  std::vector<float> w;      // [vocab, dim], f16 values
  std::vector<float> q;      // the int8 copy, as floats
  std::vector<float> scales; // per row
  std::vector<float> bounds; // per row: the weight bounds, then the copy's
  std::vector<float> copyBounds;
};

/// A head of f16 weights, with the int8 copy as tern.param defines it:
/// scale = absmax / 127 (1 for a zero row), q = round half even (w / scale).
Head makeHead(std::mt19937 &rng) {
  Head h;
  std::normal_distribution<float> normal(0.0f, 0.02f);
  h.w.resize(kVocab * kDim);
  for (int64_t r = 0; r < kVocab; ++r)
    for (int64_t k = 0; k < kDim; ++k) {
      float v = normal(rng);
      if (r % 7 == 3 && k == r % kDim)
        v = 0.9f; // one large weight: a coarse scale for the rest
      if (r == 5)
        v = 0.0f; // a zero row
      h.w[r * kDim + k] = ternc::halfToFloat(ternc::floatToHalf(v));
    }
  h.q.resize(h.w.size());
  for (int64_t r = 0; r < kVocab; ++r) {
    const float *row = &h.w[r * kDim];
    float absmax = 0.0f;
    for (int64_t k = 0; k < kDim; ++k)
      absmax = std::max(absmax, std::fabs(row[k]));
    float scale = absmax > 0.0f ? absmax / 127.0f : 1.0f;
    std::vector<int8_t> q(kDim);
    for (int64_t k = 0; k < kDim; ++k) {
      q[k] = int8_t(std::nearbyint(row[k] / scale));
      h.q[r * kDim + k] = q[k];
    }
    h.scales.push_back(scale);
    ternc::ScreenBound b = ternc::screenBound(llvm::ArrayRef<float>(row, kDim),
                                              llvm::ArrayRef<int8_t>(q), scale);
    h.bounds.push_back(b.weight);
    h.copyBounds.push_back(b.copy);
  }
  h.bounds.insert(h.bounds.end(), h.copyBounds.begin(), h.copyBounds.end());
  return h;
}

/// The screening copy's scores, as tern.matmul defines them: with `int8`
/// of the input quantized in two parts by quantizeInTwo() (int8 rows q0,
/// q1 with scales s0, s1), part m being (f32(sum qm Q) / sm) * scale, the
/// sum exact (`parts` gets the second part); else of x itself, in 16
/// lanes. Sets `inputError` to the bound on |x - x'|.
std::vector<float> scoresOf(const Head &h, const std::vector<float> &x,
                            bool int8, std::vector<float> &parts,
                            float &inputError) {
  std::vector<float> scores(kVocab);
  parts.assign(kVocab, 0.0f);
  inputError = 0.0f;
  std::vector<int8_t> xq(2 * kDim);
  float xs[2];
  if (int8)
    inputError = quantizeInTwo(x.data(), kDim, xq.data(), xs);
  for (int64_t r = 0; r < kVocab; ++r) {
    const float *q = &h.q[r * kDim];
    if (!int8) {
      scores[r] = laneDot(x.data(), q, kDim) * h.scales[r];
      continue;
    }
    float *out[2] = {&scores[r], &parts[r]};
    for (int m = 0; m < 2; ++m) {
      int32_t sum = 0;
      for (int64_t k = 0; k < kDim; ++k)
        sum += int32_t(xq[m * kDim + k]) * int32_t(q[k]);
      *out[m] = (float(sum) / xs[m]) * h.scales[r];
    }
  }
  return scores;
}

/// An input like a final norm's output, with two outliers.
std::vector<float> makeInput(std::mt19937 &rng, float magnitude) {
  std::normal_distribution<float> normal(0.0f, magnitude);
  std::vector<float> x(kDim);
  for (float &v : x)
    v = normal(rng);
  x[3] *= 20.0f;
  x[100] *= -12.0f;
  return x;
}

TEST(HeadScreen, BoundHoldsForEveryRowAndInput) {
  std::mt19937 rng(11);
  Head h = makeHead(rng);
  for (bool int8 : {false, true})
    for (float magnitude : {1e-3f, 1.0f, 30.0f}) {
      std::vector<float> x = makeInput(rng, magnitude);
      double norm = 0;
      for (float v : x)
        norm += double(v) * v;
      norm = std::sqrt(norm);
      std::vector<float> parts;
      float inputError;
      std::vector<float> scores = scoresOf(h, x, int8, parts, inputError);
      double worst = 0; // largest error / bound
      for (int64_t r = 0; r < kVocab; ++r) {
        float exact = laneDot(x.data(), &h.w[r * kDim], kDim);
        double allowed =
            norm * h.bounds[r] + inputError * h.bounds[kVocab + r] +
            0x1p-22 * (std::fabs(double(scores[r])) + std::fabs(parts[r]));
        double err = std::fabs(double(exact) - (double(scores[r]) + parts[r]));
        ASSERT_LE(err, allowed)
            << "row " << r << ", |x| " << norm << ", int8 " << int8;
        if (r != 5)
          worst = std::max(worst, err / allowed);
      }
      // Not vacuous: some row comes within a factor of 20 of its bound
      // (Cauchy-Schwarz is tight only for aligned errors).
      EXPECT_GT(worst, 0.05) << "|x| " << norm << ", int8 " << int8;
    }
  // The zero row's copy is exact: only the rounding terms remain.
  EXPECT_EQ(h.bounds[5], 0.0f);
  EXPECT_EQ(h.bounds[kVocab + 5], 0.0f);
  std::vector<float> bad = {1.0f, NAN};
  std::vector<int8_t> q = {1, 0};
  EXPECT_EQ(ternc::screenBound(bad, q, 1.0f).weight, INFINITY);
}

TEST(HeadScreen, TwoPartQuantizationAndItsBound) {
  std::mt19937 rng(3);
  for (float magnitude : {1e-7f, 1e-2f, 1.0f, 500.0f}) {
    std::vector<float> x = makeInput(rng, magnitude);
    std::vector<int8_t> q(2 * kDim);
    float s[2];
    const float bound = quantizeInTwo(x.data(), kDim, q.data(), s);
    double err = 0, norm = 0;
    for (int64_t k = 0; k < kDim; ++k) {
      double d =
          double(x[k]) - q[k] / double(s[0]) - q[kDim + k] / double(s[1]);
      err += d * d;
      norm += double(x[k]) * x[k];
    }
    EXPECT_GE(double(bound), std::sqrt(err)) << magnitude;
    EXPECT_LE(double(bound), std::sqrt(err) * 1.001) << magnitude;
    // Two parts: about a 250th of one part's error (an outlier of 20
    // sigma sets the steps: 1.2e-4 |x| here, where the copy's weights
    // are 1% off).
    EXPECT_LT(double(bound), std::sqrt(norm) * 3e-4) << magnitude;
  }
  std::vector<float> bad(kDim, 1.0f);
  bad[7] = INFINITY;
  std::vector<int8_t> q(2 * kDim);
  float s[2];
  EXPECT_EQ(quantizeInTwo(bad.data(), kDim, q.data(), s), INFINITY);
}

TEST(HeadScreen, KeepsTheTopRowsAndFewOthers) {
  std::mt19937 rng(5);
  Head h = makeHead(rng);
  for (int trial = 0; trial < 6; ++trial) {
    const bool int8 = trial % 2;
    std::vector<float> x = makeInput(rng, 1.0f);
    std::vector<float> exact(kVocab);
    for (int64_t r = 0; r < kVocab; ++r)
      exact[r] = laneDot(x.data(), &h.w[r * kDim], kDim);
    std::vector<float> parts;
    float inputError;
    std::vector<float> scores = scoresOf(h, x, int8, parts, inputError);
    const float norm = normUpperBound(x.data(), kDim);
    for (int64_t keep : {1, 5, 40}) {
      std::vector<int32_t> rows;
      screenRows(scores.data(), int8 ? parts.data() : nullptr, h.bounds.data(),
                 kVocab, norm, inputError, keep, rows);
      ASSERT_TRUE(std::is_sorted(rows.begin(), rows.end()));
      // Every row whose logit reaches the keep-th largest (ties too).
      std::vector<float> sorted = exact;
      std::sort(sorted.begin(), sorted.end(), std::greater<float>());
      const float kth = sorted[size_t(keep - 1)];
      for (int64_t r = 0; r < kVocab; ++r)
        if (exact[r] >= kth)
          EXPECT_TRUE(std::binary_search(rows.begin(), rows.end(), r))
              << "row " << r << " (logit " << exact[r] << ", keep " << keep
              << ") was screened out";
      // Few others (this vocabulary is small: keep 40 is 2.7% of it).
      EXPECT_LT(int64_t(rows.size()), kVocab / 4)
          << "keep " << keep << ", int8 " << int8;
      EXPECT_GE(int64_t(rows.size()), keep);
    }
  }
}

TEST(HeadScreen, NonFiniteScoresAndNormsKeepRows) {
  std::vector<float> scores = {1.0f, 5.0f, NAN, 0.5f, -INFINITY};
  std::vector<float> bounds = {0.01f, 0.01f, 0.01f, INFINITY, 0.01f,
                               0.0f,  0.0f,  0.0f,  0.0f,     0.0f};
  std::vector<int32_t> rows;
  screenRows(scores.data(), nullptr, bounds.data(), 5, 1.0f, 0.0f, 1, rows);
  EXPECT_EQ(rows, (std::vector<int32_t>{1, 2, 3, 4}));
  screenRows(scores.data(), nullptr, bounds.data(), 5, INFINITY, 0.0f, 1, rows);
  EXPECT_EQ(rows.size(), 5u);
  // keep past the vocabulary: all rows.
  std::vector<float> two = {0.01f, 0.01f, 0.0f, 0.0f};
  screenRows(scores.data(), nullptr, two.data(), 2, 1.0f, 0.0f, 9, rows);
  EXPECT_EQ(rows, (std::vector<int32_t>{0, 1}));
  // An upper bound, by a hair.
  const float norm = normUpperBound(scores.data(), 2);
  EXPECT_GE(double(norm), std::sqrt(26.0));
  EXPECT_LE(double(norm), std::sqrt(26.0) * (1 + 1e-5));
}

} // namespace

namespace {
/// ternc_parallel_for as a pool with uneven claims would run it: grains of
/// 3 blocks, the last grain first.
void backwardsInThrees(ternc_body_fn body, void *ctx, int64_t begin,
                       int64_t end) {
  for (int64_t last = end; last > begin; last -= 3)
    body(ctx, std::max(begin, last - 3), last);
}
} // namespace

TEST(HeadScreen, BlocksGiveTheRowsOfTheDefinition) {
  // A vocabulary of several selection blocks (4096 rows each, in groups
  // of 4 lanes, the last group short), with a
  // cluster of near-top scores across block edges and repeated values.
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t vocab = 20003; // a last group of 3 rows
  std::vector<float> scores(vocab), parts(vocab), bounds(2 * vocab);
  for (int64_t i = 0; i < vocab; ++i) {
    scores[i] = normal(rng);
    parts[i] = 0.01f * normal(rng);
    bounds[i] = 0.02f * std::fabs(normal(rng));
    bounds[vocab + i] = 0.1f * std::fabs(normal(rng));
  }
  for (int64_t i : {4095, 4096, 8191, 12000, 20002})
    scores[i] = 4.0f + 0.001f * float(i % 7);
  scores[777] = scores[4096];
  const float norm = 1.5f, inputError = 0.01f;
  // The definition, row by row: [lo, hi] = score -+ margin (HeadScreen.h),
  // the keep-th largest lo, every row whose hi reaches it.
  auto reference = [&](int64_t keep) {
    std::vector<float> lo(vocab), hi(vocab);
    for (int64_t i = 0; i < vocab; ++i) {
      const float s0 = scores[i], s1 = parts[i];
      const float margin =
          (norm * bounds[i] + inputError * bounds[vocab + i]) * (1 + 0x1p-20f) +
          (std::fabs(s0) + std::fabs(s1)) * 0x1p-20f;
      lo[i] = (s0 + s1) - margin;
      hi[i] = (s0 + s1) + margin;
    }
    std::vector<float> sorted = lo;
    std::sort(sorted.begin(), sorted.end(), std::greater<float>());
    const float kth = sorted[size_t(keep - 1)];
    std::vector<int32_t> rows;
    for (int64_t i = 0; i < vocab; ++i)
      if (hi[i] >= kth)
        rows.push_back(int32_t(i));
    return rows;
  };
  RowScreen serial, spread(backwardsInThrees);
  for (int64_t keep : {1, 3, 40, 5000}) {
    const std::vector<int32_t> want = reference(keep);
    std::vector<int32_t> a, b, c;
    serial(scores.data(), parts.data(), bounds.data(), vocab, norm, inputError,
           keep, a);
    // The same object again: its buffers from the last call are reused.
    spread(scores.data(), parts.data(), bounds.data(), vocab, norm, inputError,
           keep, b);
    spread(scores.data(), parts.data(), bounds.data(), vocab, norm, inputError,
           keep, b);
    screenRows(scores.data(), parts.data(), bounds.data(), vocab, norm,
               inputError, keep, c);
    EXPECT_EQ(a, want) << "keep " << keep;
    EXPECT_EQ(b, want) << "keep " << keep;
    EXPECT_EQ(c, want) << "keep " << keep;
    EXPECT_GE(int64_t(want.size()), keep);
  }
}
