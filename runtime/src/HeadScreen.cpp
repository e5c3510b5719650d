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

namespace {
/// [lo, hi] around a score. The margin is widened by 2^-20 (relative) and
/// 2^-20 |score| instead of 2^-23: room for the f32 roundings of these
/// few operations. A score or margin that is not finite gives
/// [-inf, +inf]: the row is always computed.
struct Interval {
  float lo, hi;
  Interval(float score, float bound, float norm) {
    float margin =
        norm * bound * (1 + 0x1p-20f) + std::fabs(score) * 0x1p-20f;
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

void ternc::rt::screenRows(const float *scores, const float *bounds,
                           int64_t vocab, float inputNorm, int64_t keep,
                           std::vector<int32_t> &rows) {
  rows.clear();
  keep = std::max<int64_t>(1, std::min(keep, vocab));
  // The keep-th largest lower bound: at least `keep` logits reach it, so
  // a row whose upper bound is below it is not among the `keep` largest.
  float threshold;
  if (keep == 1) {
    threshold = -INFINITY;
    for (int64_t i = 0; i < vocab; ++i)
      threshold = std::max(threshold, Interval(scores[i], bounds[i],
                                               inputNorm).lo);
  } else {
    // A min-heap of the largest `keep` lower bounds so far.
    std::vector<float> heap;
    heap.reserve(size_t(keep));
    for (int64_t i = 0; i < vocab; ++i) {
      float lo = Interval(scores[i], bounds[i], inputNorm).lo;
      if (int64_t(heap.size()) < keep) {
        heap.push_back(lo);
        std::push_heap(heap.begin(), heap.end(), std::greater<float>());
      } else if (lo > heap.front()) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<float>());
        heap.back() = lo;
        std::push_heap(heap.begin(), heap.end(), std::greater<float>());
      }
    }
    threshold = heap.front();
  }
  for (int64_t i = 0; i < vocab; ++i)
    if (Interval(scores[i], bounds[i], inputNorm).hi >= threshold)
      rows.push_back(int32_t(i));
}
