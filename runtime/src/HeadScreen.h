//===- HeadScreen.h - the rows of an LM head that can matter ----*- C++ -*-===//
//
// A screened head (abi.h) gives each row's score from an int8 copy and a
// bound on how far the native logit can be from it. Only rows whose upper
// bound reaches the `keep`-th largest lower bound can be among the `keep`
// largest logits (with their ties); the others are never computed.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_RUNTIME_HEADSCREEN_H
#define TERNC_RUNTIME_HEADSCREEN_H

#include "ternc/abi.h"

#include <cstdint>
#include <vector>

namespace ternc::rt {

/// An upper bound on the Euclidean norm of x[0..n) (+inf or NaN when x
/// holds either).
float normUpperBound(const float *x, int64_t n);

/// x[0..n) as x' = q[0..n) / s[0] + q[n..2n) / s[1]: absmax int8
/// quantization, then of what it left. Returns an upper bound on |x - x'|
/// (+inf when x is not finite); the second part makes it about 1/250 of
/// one part's.
float quantizeInTwo(const float *x, int64_t n, int8_t *q, float *s);

/// Sets `rows` to, in increasing order, every i < vocab whose logit can be
/// among the `keep` (>= 1) largest, given |logit[i] - score[i]| <=
/// inputNorm * bounds[i] + inputError * bounds[vocab + i] + 2^-22 (|s0| +
/// |s1|) (tern.param's row_bounds), score[i] = s0 + s1 = scores[i] +
/// (parts ? parts[i] : 0). A row whose score or margin is not finite is
/// always kept (all rows, for a norm that is not).
void screenRows(const float *scores, const float *parts, const float *bounds,
                int64_t vocab, float inputNorm, float inputError, int64_t keep,
                std::vector<int32_t> &rows);

/// screenRows over blocks of rows that `parallelFor` (ternc_parallel_for,
/// or null for the calling thread) may spread over threads: each block's
/// `keep` largest lower bounds and its rows that reach the `keep`-th
/// largest lower bound seen so far in it, then those of them that reach
/// the `keep`-th largest of all. The blocks, not the threads, decide what
/// each bar sees, so the rows are the same for any thread count; the
/// buffers stay from one call to the next (one a decoded token).
class RowScreen {
public:
  using ParallelFor = void (*)(ternc_body_fn body, void *ctx, int64_t begin,
                               int64_t end);
  explicit RowScreen(ParallelFor parallelFor = nullptr)
      : parallelFor_(parallelFor) {}
  void operator()(const float *scores, const float *parts, const float *bounds,
                  int64_t vocab, float inputNorm, float inputError,
                  int64_t keep, std::vector<int32_t> &rows);

private:
  struct Job;
  static void runBlocks(void *job, int64_t begin, int64_t end);

  ParallelFor parallelFor_;
  // A row whose upper bound reached its block's bar (runBlocks).
  struct Candidate {
    int32_t row;
    float hi;
  };
  // Per block: the `keep` largest lower bounds, the rows that reached.
  std::vector<std::vector<float>> tops_;
  std::vector<std::vector<Candidate>> candidates_;
  std::vector<float> lows_;
};

} // namespace ternc::rt

#endif // TERNC_RUNTIME_HEADSCREEN_H
