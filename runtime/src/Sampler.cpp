//===- Sampler.cpp - choose the next token --------------------------------===//

#include "Sampler.h"

#include <algorithm>
#include <cmath>

using namespace ternc::rt;

/// The first index of the largest logit, NaNs never chosen (unless the
/// first logit is one: then 0, as a scan that keeps the first strictly
/// larger value gives). In two passes: the largest value, in 16 lanes that
/// compile to vector maximums, then its first index. The one scan with the
/// index in its dependency chain took 0.36 ms for 128256 logits (1% of a
/// 2B4T decode step at two threads), the two passes 0.05 ms. Comparisons
/// only, so the maximum is exact in any order; +0 and -0 compare equal in
/// both forms.
int32_t ternc::rt::argmax(const float *logits, int64_t vocab) {
  if (vocab < 1 || std::isnan(logits[0]))
    return 0;
  constexpr int kLanes = 16;
  float lane[kLanes];
  std::fill(lane, lane + kLanes, logits[0]);
  int64_t i = 0;
  for (; i + kLanes <= vocab; i += kLanes)
    for (int j = 0; j < kLanes; ++j)
      lane[j] = logits[i + j] > lane[j] ? logits[i + j] : lane[j];
  float best = logits[0];
  for (float v : lane)
    best = v > best ? v : best;
  for (; i < vocab; ++i)
    best = logits[i] > best ? logits[i] : best;
  for (i = 0; logits[i] != best; ++i)
    ;
  return int32_t(i);
}

int32_t ternc::rt::argmax(const float *logits, int64_t vocab,
                          const int32_t *rows, int64_t n) {
  if (vocab < 1)
    return 0;
  // Only row 0 can make logits[0] a NaN.
  if (n > 0 && rows[0] == 0 && std::isnan(logits[0]))
    return 0;
  // The first strictly larger: the first of the rows on ties, which is
  // the first index, the others being -inf.
  float best = -INFINITY;
  int32_t first = 0;
  for (int64_t j = 0; j < n; ++j)
    if (logits[rows[j]] > best) {
      best = logits[rows[j]];
      first = rows[j];
    }
  // None above -inf: then logits[0] is the largest (-inf), as the full
  // scan finds.
  return best > -INFINITY ? first : 0;
}

Sampler::Sampler(const SamplerOptions &options)
    : opt_(options), state_(options.seed * 0x9E3779B97F4A7C15ull + 1) {}

float Sampler::uniform() {
  // xorshift64*: small, fast, and identical on every platform.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  uint64_t r = state_ * 0x2545F4914F6CDD1Dull;
  return float(r >> 40) / float(1u << 24);
}

int32_t Sampler::sample(const float *logits, int64_t vocab,
                        const std::vector<int32_t> *computed) {
  if (opt_.temperature <= 0.0f)
    return computed ? argmax(logits, vocab, computed->data(),
                             int64_t(computed->size()))
                    : argmax(logits, vocab);
  // The candidates in order: larger logit first, on ties the smaller id.
  // Ranked by the logits themselves, not divided by the temperature (which
  // can round two of them to one value): the top k are then exactly the
  // logits a screened head computes (Session::step).
  auto byLogit = [](const std::pair<float, int32_t> &a,
                    const std::pair<float, int32_t> &b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  // The best `keep` (top-k, else all) in one pass: a heap of the best so
  // far, its worst on top, which almost every logit fails to beat (one
  // comparison), then sorted: the same candidates in the same order as
  // sorting all of them (the order is total), 0.85 -> 0.18 ms for 2B4T's
  // 128256 logits and k = 40.
  const size_t keep =
      opt_.topK > 0 && opt_.topK < vocab ? size_t(opt_.topK) : size_t(vocab);
  candidates_.clear();
  for (int64_t i = 0; i < vocab; ++i) {
    std::pair<float, int32_t> c{logits[i], int32_t(i)};
    if (candidates_.size() < keep) {
      candidates_.push_back(c);
      if (candidates_.size() == keep)
        std::make_heap(candidates_.begin(), candidates_.end(), byLogit);
    } else if (byLogit(c, candidates_.front())) {
      std::pop_heap(candidates_.begin(), candidates_.end(), byLogit);
      candidates_.back() = c;
      std::push_heap(candidates_.begin(), candidates_.end(), byLogit);
    }
  }
  std::sort(candidates_.begin(), candidates_.end(), byLogit);
  // Softmax of logit / temperature over the kept candidates, in order.
  float maxLogit = candidates_[0].first / opt_.temperature, sum = 0.0f;
  for (auto &c : candidates_) {
    c.first = std::exp(c.first / opt_.temperature - maxLogit);
    sum += c.first;
  }
  for (auto &c : candidates_)
    c.first /= sum;
  // Top-p: the smallest prefix whose mass reaches p.
  if (opt_.topP < 1.0f) {
    float mass = 0.0f;
    size_t n = 0;
    while (n < candidates_.size()) {
      mass += candidates_[n++].first;
      if (mass >= opt_.topP)
        break;
    }
    candidates_.resize(n);
    for (auto &c : candidates_)
      c.first /= mass;
  }
  float r = uniform(), acc = 0.0f;
  for (const auto &c : candidates_) {
    acc += c.first;
    if (r < acc)
      return c.second;
  }
  return candidates_.back().second;
}
