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

void ternc::rt::screenRows(const float *scores, const float *parts,
                           const float *bounds, int64_t vocab, float inputNorm,
                           float inputError, int64_t keep,
                           std::vector<int32_t> &rows) {
  rows.clear();
  auto interval = [&](int64_t i) {
    return Interval(scores[i], parts ? parts[i] : 0.0f, bounds, vocab, i,
                    inputNorm, inputError);
  };
  keep = std::max<int64_t>(1, std::min(keep, vocab));
  // The keep-th largest lower bound: at least `keep` logits reach it, so
  // a row whose upper bound is below it is not among the `keep` largest.
  float threshold;
  if (keep == 1) {
    threshold = -INFINITY;
    for (int64_t i = 0; i < vocab; ++i)
      threshold = std::max(threshold, interval(i).lo);
  } else {
    // A min-heap of the largest `keep` lower bounds so far.
    std::vector<float> heap;
    heap.reserve(size_t(keep));
    for (int64_t i = 0; i < vocab; ++i) {
      float lo = interval(i).lo;
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
    if (interval(i).hi >= threshold)
      rows.push_back(int32_t(i));
}
