//===- HeadScreen.cpp - the rows of an LM head that can matter ------------===//

#include "HeadScreen.h"

#include <algorithm>
#include <cmath>
#include <functional>

using namespace ternc::rt;

float ternc::rt::normUpperBound(const float *x, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += double(x[i]) * x[i];
  // f64 sums of f32 squares are exact to ~n 2^-53; the factor covers that
  // and the rounding to f32 many times over.
  return float(std::sqrt(sum) * (1 + 0x1p-30)) * (1 + 0x1p-20f);
}

/// Quantizes v[0..n) (f64) to q with one absmax scale, returned.
static float quantizePart(const double *v, int64_t n, int8_t *q) {
  double absmax = 0;
  for (int64_t i = 0; i < n; ++i)
    absmax = std::max(absmax, std::fabs(v[i]));
  // Below 2^-100 the part is left out (zeros): its error stays in the
  // bound.
  const float s = absmax > 0x1p-100 ? float(127 / absmax) : 1.0f;
  for (int64_t i = 0; i < n; ++i)
    q[i] = int8_t(
        std::max(-127.0, std::min(127.0, std::nearbyint(v[i] * double(s)))));
  return s;
}

float ternc::rt::quantizeInTwo(const float *x, int64_t n, int8_t *q, float *s) {
  if (!std::all_of(x, x + n, [](float v) { return std::isfinite(v); })) {
    std::fill(q, q + 2 * n, int8_t(0));
    s[0] = s[1] = 1.0f;
    return INFINITY;
  }
  std::vector<double> r(x, x + n);
  s[0] = quantizePart(r.data(), n, q);
  for (int64_t i = 0; i < n; ++i)
    r[size_t(i)] = double(x[i]) - double(q[i]) / double(s[0]);
  s[1] = quantizePart(r.data(), n, q + n);
  double err = 0;
  for (int64_t i = 0; i < n; ++i) {
    double e = r[size_t(i)] - double(q[n + i]) / double(s[1]);
    err += e * e;
  }
  // f64 rounding of these few operations is far below the factor.
  return float(std::sqrt(err) * (1 + 0x1p-30)) * (1 + 0x1p-20f);
}

namespace {
/// [lo, hi] around a score. The margin is widened by 2^-20 (relative) and
/// 2^-20 |score| instead of 2^-22: room for the f32 roundings of these
/// few operations. A score or margin that is not finite gives
/// [-inf, +inf]: the row is always computed.
struct Interval {
  float lo, hi;
  Interval(float s0, float s1, const float *bounds, int64_t vocab, int64_t i,
           float norm, float inputError) {
    float score = s0 + s1;
    float margin =
        (norm * bounds[i] + inputError * bounds[vocab + i]) * (1 + 0x1p-20f) +
        (std::fabs(s0) + std::fabs(s1)) * 0x1p-20f;
    if (std::isfinite(score) && std::isfinite(margin)) {
      lo = score - margin;
      hi = score + margin;
    } else {
      lo = -INFINITY;
      hi = INFINITY;
    }
  }
};
} // namespace

namespace {
/// Rows of one block of the selection: 32 blocks for 2B4T's 128256, each
/// a few microseconds of work.
constexpr int64_t kBlockRows = 4096;
} // namespace

struct ternc::rt::RowScreen::Job {
  RowScreen &self;
  const float *scores, *parts, *bounds;
  int64_t vocab;
  float inputNorm, inputError;
  int64_t keep;
  // Step 2 (picks) once set; step 1 (tops) before.
  bool select = false;
  float threshold = -INFINITY;

  Interval interval(int64_t i) const {
    return Interval(scores[i], parts ? parts[i] : 0.0f, bounds, vocab, i,
                    inputNorm, inputError);
  }
};

void ternc::rt::RowScreen::runBlocks(void *ctx, int64_t begin, int64_t end) {
  Job &job = *static_cast<Job *>(ctx);
  for (int64_t b = begin; b < end; ++b) {
    const int64_t first = b * kBlockRows,
                  last = std::min(job.vocab, first + kBlockRows);
    if (job.select) {
      std::vector<int32_t> &picks = job.self.picks_[size_t(b)];
      picks.clear();
      for (int64_t i = first; i < last; ++i)
        if (job.interval(i).hi >= job.threshold)
          picks.push_back(int32_t(i));
      continue;
    }
    // The block's `keep` largest lower bounds: a min-heap, or the
    // maximum alone for keep 1 (greedy).
    std::vector<float> &top = job.self.tops_[size_t(b)];
    top.clear();
    if (job.keep == 1) {
      float best = -INFINITY;
      for (int64_t i = first; i < last; ++i)
        best = std::max(best, job.interval(i).lo);
      top.push_back(best);
      continue;
    }
    for (int64_t i = first; i < last; ++i) {
      float lo = job.interval(i).lo;
      if (int64_t(top.size()) < job.keep) {
        top.push_back(lo);
        std::push_heap(top.begin(), top.end(), std::greater<float>());
      } else if (lo > top.front()) {
        std::pop_heap(top.begin(), top.end(), std::greater<float>());
        top.back() = lo;
        std::push_heap(top.begin(), top.end(), std::greater<float>());
      }
    }
  }
}

void ternc::rt::RowScreen::operator()(const float *scores, const float *parts,
                                      const float *bounds, int64_t vocab,
                                      float inputNorm, float inputError,
                                      int64_t keep,
                                      std::vector<int32_t> &rows) {
  rows.clear();
  if (vocab <= 0)
    return;
  keep = std::max<int64_t>(1, std::min(keep, vocab));
  const int64_t blocks = (vocab + kBlockRows - 1) / kBlockRows;
  tops_.resize(size_t(blocks));
  picks_.resize(size_t(blocks));
  Job job{*this, scores, parts, bounds, vocab, inputNorm, inputError, keep};
  auto run = [&] {
    if (parallelFor_)
      parallelFor_(runBlocks, &job, 0, blocks);
    else
      runBlocks(&job, 0, blocks);
  };
  run();
  // The keep-th largest lower bound: at least `keep` logits reach it, so
  // a row whose upper bound is below it is not among the `keep` largest.
  // Every block kept its own `keep` largest, which hold the keep largest
  // of all.
  lows_.clear();
  for (const std::vector<float> &top : tops_)
    lows_.insert(lows_.end(), top.begin(), top.end());
  std::nth_element(lows_.begin(), lows_.begin() + (keep - 1), lows_.end(),
                   std::greater<float>());
  job.threshold = lows_[size_t(keep - 1)];
  job.select = true;
  run();
  for (const std::vector<int32_t> &picks : picks_)
    rows.insert(rows.end(), picks.begin(), picks.end());
}

void ternc::rt::screenRows(const float *scores, const float *parts,
                           const float *bounds, int64_t vocab, float inputNorm,
                           float inputError, int64_t keep,
                           std::vector<int32_t> &rows) {
  RowScreen()(scores, parts, bounds, vocab, inputNorm, inputError, keep, rows);
}
