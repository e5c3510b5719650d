//===- HeadScreen.cpp - the rows of an LM head that can matter ------------===//

#include "HeadScreen.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

/// std::nearbyint for |v| < 2^51 in the default rounding (to nearest, ties
/// to even), without its library call (5120 a token, half of what this
/// file took): 1.5 * 2^52 + v has no fraction bits, so the addition
/// rounds; the subtraction is exact.
static double roundToInteger(double v) {
  constexpr double kShift = 0x1.8p52;
  return (v + kShift) - kShift;
}

/// Quantizes v[0..n) (f64) to q with one absmax scale, returned; sets
/// steps[q + 127] = q / scale for every int8 q (a table instead of one
/// division an element: the same quotients).
static float quantizePart(const double *v, int64_t n, int8_t *q,
                          double *steps) {
  // In four chains (the maximum is the same in any order).
  double m[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; ++j)
      m[j] = std::max(m[j], std::fabs(v[i + j]));
  for (; i < n; ++i)
    m[0] = std::max(m[0], std::fabs(v[i]));
  const double absmax = std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
  // Below 2^-100 the part is left out (zeros): its error stays in the
  // bound.
  const float s = absmax > 0x1p-100 ? float(127 / absmax) : 1.0f;
  // |v s| <= 127 and a hair: well inside roundToInteger's range.
  for (i = 0; i < n; ++i)
    q[i] = int8_t(
        std::max(-127.0, std::min(127.0, roundToInteger(v[i] * double(s)))));
  for (int k = -127; k <= 127; ++k)
    steps[k + 127] = double(k) / double(s);
  return s;
}

float ternc::rt::quantizeInTwo(const float *x, int64_t n, int8_t *q, float *s) {
  if (!std::all_of(x, x + n, [](float v) { return std::isfinite(v); })) {
    std::fill(q, q + 2 * n, int8_t(0));
    s[0] = s[1] = 1.0f;
    return INFINITY;
  }
  // Kept from one call to the next (one a decoded token).
  thread_local std::vector<double> r;
  r.assign(x, x + n);
  double steps[255];
  s[0] = quantizePart(r.data(), n, q, steps);
  for (int64_t i = 0; i < n; ++i)
    r[size_t(i)] = double(x[i]) - steps[q[i] + 127];
  s[1] = quantizePart(r.data(), n, q + n, steps);
  double err = 0;
  for (int64_t i = 0; i < n; ++i) {
    double e = r[size_t(i)] - steps[q[n + i] + 127];
    err += e * e;
  }
  // f64 rounding of these few operations is far below the factor.
  return float(std::sqrt(err) * (1 + 0x1p-30)) * (1 + 0x1p-20f);
}

namespace {
/// Four lanes of f32 (GCC's vector extension: SSE2 on x86-64, NEON on
/// AArch64, scalar code where neither exists), and their masks.
typedef float Lanes __attribute__((vector_size(16)));
typedef int32_t LaneMask __attribute__((vector_size(16)));

/// Lanes from p[0 .. n), n <= 4; the rest 0.
Lanes loadLanes(const float *p, int64_t n) {
  Lanes v = {0.0f, 0.0f, 0.0f, 0.0f};
  if (n == 4) // one load; a copy of n floats costs a call
    std::memcpy(&v, p, sizeof(v));
  else
    for (int64_t l = 0; l < n; ++l)
      v[l] = p[l];
  return v;
}

/// x where m, else y.
Lanes select(LaneMask m, Lanes x, Lanes y) {
  return Lanes((LaneMask(x) & m) | (LaneMask(y) & ~m));
}

/// Finite lanes: x - x is 0 for them, NaN for infinities and NaN.
LaneMask finite(Lanes x) { return (x - x) == Lanes{}; }

Lanes abs(Lanes x) { return Lanes(LaneMask(x) & 0x7fffffff); }

/// [lo, hi] around the scores of rows i .. i + n (n <= 4; the other lanes
/// are not rows). The margin is widened by 2^-20 (relative) and 2^-20
/// |score| instead of 2^-22: room for the f32 roundings of these few
/// operations. A score or margin that is not finite gives [-inf, +inf]:
/// the row is always computed. Lane by lane the operations of the scalar
/// formula, in its order.
struct Intervals {
  Lanes lo, hi;
  Intervals(const float *scores, const float *parts, const float *bounds,
            int64_t vocab, int64_t i, int64_t n, float norm, float inputError) {
    Lanes s0 = loadLanes(scores + i, n);
    Lanes s1 = parts ? loadLanes(parts + i, n) : Lanes{};
    Lanes score = s0 + s1;
    Lanes margin = (norm * loadLanes(bounds + i, n) +
                    inputError * loadLanes(bounds + vocab + i, n)) *
                       (1 + 0x1p-20f) +
                   (abs(s0) + abs(s1)) * 0x1p-20f;
    LaneMask ok = finite(score) & finite(margin);
    const Lanes inf = {INFINITY, INFINITY, INFINITY, INFINITY};
    lo = select(ok, score - margin, -inf);
    hi = select(ok, score + margin, inf);
  }
};

/// Whether any lane of m is set.
bool any(LaneMask m) {
#if defined(__SSE__)
  return __builtin_ia32_movmskps(Lanes(m)) != 0;
#else
  return (m[0] | m[1] | m[2] | m[3]) != 0;
#endif
}

/// Rows of one block of the selection: 32 blocks for 2B4T's 128256, each
/// a few microseconds of work; a multiple of the lanes.
constexpr int64_t kBlockRows = 4096;
} // namespace

struct ternc::rt::RowScreen::Job {
  RowScreen &self;
  const float *scores, *parts, *bounds;
  int64_t vocab;
  float inputNorm, inputError;
  int64_t keep;

  /// Rows i .. i + n, n <= 4.
  Intervals intervals(int64_t i, int64_t n) const {
    return Intervals(scores, parts, bounds, vocab, i, n, inputNorm, inputError);
  }
};

void ternc::rt::RowScreen::runBlocks(void *ctx, int64_t begin, int64_t end) {
  Job &job = *static_cast<Job *>(ctx);
  for (int64_t b = begin; b < end; ++b) {
    const int64_t first = b * kBlockRows,
                  last = std::min(job.vocab, first + kBlockRows);
    // The block's `keep` largest lower bounds, and the rows whose upper
    // bound reaches the keep-th largest lower bound seen so far: it is at
    // most the final threshold (the keep-th largest of all rows), so every
    // row that reaches the threshold is among them, with few others. One
    // pass, and no second one over all the upper bounds.
    std::vector<float> &top = job.self.tops_[size_t(b)];
    std::vector<Candidate> &reached = job.self.candidates_[size_t(b)];
    top.clear();
    reached.clear();
    if (job.keep == 1) {
      // Greedy: the bar is the block's largest lower bound so far (a
      // row's own included: its upper bound reaches it), raised when a
      // lane passes it, which is rare once a block is under way.
      float bar = -INFINITY;
      auto rowsAt = [&](int64_t i, int64_t n) {
        const Intervals in = job.intervals(i, n);
        Lanes lo = in.lo;
        // Lanes past the rows stay -inf.
        for (int64_t l = n; l < 4; ++l)
          lo[l] = -INFINITY;
        if (any(lo > Lanes{} + bar))
          bar = std::max(
              bar, std::max(std::max(lo[0], lo[1]), std::max(lo[2], lo[3])));
        const LaneMask reach = in.hi >= Lanes{} + bar;
        if (any(reach))
          for (int64_t l = 0; l < n; ++l)
            if (reach[l])
              reached.push_back({int32_t(i + l), in.hi[l]});
      };
      int64_t i = first;
      for (; i + 4 <= last; i += 4)
        rowsAt(i, 4);
      if (i < last)
        rowsAt(i, last - i);
      top.push_back(bar);
      continue;
    }
    // A min-heap of the largest lower bounds; the bar is its least once
    // it holds `keep`.
    for (int64_t i = first; i < last; i += 4) {
      const int64_t n = std::min<int64_t>(4, last - i);
      const Intervals in = job.intervals(i, n);
      // Most groups change nothing once the heap is full: no lower bound
      // above its least, no upper bound reaching it.
      if (int64_t(top.size()) == job.keep && n == 4) {
        const Lanes bar = Lanes{} + top.front();
        if (!any((in.lo > bar) | (in.hi >= bar)))
          continue;
      }
      for (int64_t l = 0; l < n; ++l) {
        if (int64_t(top.size()) < job.keep) {
          top.push_back(in.lo[l]);
          std::push_heap(top.begin(), top.end(), std::greater<float>());
        } else if (in.lo[l] > top.front()) {
          std::pop_heap(top.begin(), top.end(), std::greater<float>());
          top.back() = in.lo[l];
          std::push_heap(top.begin(), top.end(), std::greater<float>());
        }
        const float bar =
            int64_t(top.size()) < job.keep ? -INFINITY : top.front();
        if (in.hi[l] >= bar)
          reached.push_back({int32_t(i + l), in.hi[l]});
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
  candidates_.resize(size_t(blocks));
  Job job{*this, scores, parts, bounds, vocab, inputNorm, inputError, keep};
  if (parallelFor_)
    parallelFor_(runBlocks, &job, 0, blocks);
  else
    runBlocks(&job, 0, blocks);
  // The keep-th largest lower bound: at least `keep` logits reach it, so
  // a row whose upper bound is below it is not among the `keep` largest.
  // Every block kept its own `keep` largest, which hold the keep largest
  // of all.
  lows_.clear();
  for (const std::vector<float> &top : tops_)
    lows_.insert(lows_.end(), top.begin(), top.end());
  std::nth_element(lows_.begin(), lows_.begin() + (keep - 1), lows_.end(),
                   std::greater<float>());
  const float threshold = lows_[size_t(keep - 1)];
  for (const std::vector<Candidate> &reached : candidates_)
    for (const Candidate &c : reached)
      if (c.hi >= threshold)
        rows.push_back(c.row);
}

void ternc::rt::screenRows(const float *scores, const float *parts,
                           const float *bounds, int64_t vocab, float inputNorm,
                           float inputError, int64_t keep,
                           std::vector<int32_t> &rows) {
  RowScreen()(scores, parts, bounds, vocab, inputNorm, inputError, keep, rows);
}
