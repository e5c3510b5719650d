//===- Sampler.h - choose the next token ------------------------*- C++ -*-===//

#ifndef TERNC_RUNTIME_SAMPLER_H
#define TERNC_RUNTIME_SAMPLER_H

#include <cstdint>
#include <vector>

namespace ternc::rt {

struct SamplerOptions {
  float temperature = 0.8f; // 0: greedy
  int topK = 40;            // 0: off
  float topP = 0.95f;       // 1: off
  uint64_t seed = 0;
};

/// Greedy, or temperature + top-k + top-p sampling with a seeded generator
/// (the same seed gives the same tokens on every machine).
class Sampler {
public:
  explicit Sampler(const SamplerOptions &options);
  /// With `computed` (Session::computedRows()), every logit but those is
  /// -inf: greedy reads only them (the same token).
  int32_t sample(const float *logits, int64_t vocab,
                 const std::vector<int32_t> *computed = nullptr);
  /// How many of the largest logits a sample depends on (their values and
  /// ids; the others may be anything smaller): 1 for greedy, top-k, or 0
  /// for all of them.
  int64_t logitsUsed() const {
    return opt_.temperature <= 0.0f ? 1 : opt_.topK > 0 ? opt_.topK : 0;
  }

private:
  float uniform(); // [0, 1)
  SamplerOptions opt_;
  uint64_t state_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

/// The index of the largest logit (the first on ties).
int32_t argmax(const float *logits, int64_t vocab);

/// argmax(logits, vocab) where every logit but those of rows[0..n)
/// (increasing) is -inf, reading only those: a screened head's 40 or so
/// instead of 2B4T's 128256 (0.03 ms a token).
int32_t argmax(const float *logits, int64_t vocab, const int32_t *rows,
               int64_t n);

} // namespace ternc::rt

#endif // TERNC_RUNTIME_SAMPLER_H
