//===- Session.h - a model instance: caches, scratch, calls -----*- C++ -*-===//

#ifndef TERNC_RUNTIME_SESSION_H
#define TERNC_RUNTIME_SESSION_H

#include "HeadScreen.h"
#include "HugePages.h"

#include <cstdint>
#include <vector>

namespace ternc::rt {

/// The compiled model's configuration (from ternc_config).
struct ModelConfig {
  int64_t dim, layers, kvDim, context, vocab, prefill, scratch;
  /// Scratch offset of the screened LM head's input; -1 without one.
  int64_t headInput;
  /// The same after a prefill chunk; -1 without a screened head.
  int64_t prefillHeadInput;
  int32_t bos, eos;
  static ModelConfig fromGenerated();
};

/// KV caches, scratch and logits of one conversation.
class Session {
public:
  explicit Session(int64_t contextLimit = 0);
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;
  const ModelConfig &config() const { return cfg_; }
  /// False when the caches or the scratch could not be allocated.
  bool ok() const { return keys() && values() && scratch(); }
  /// Tokens the caches hold so far.
  int64_t position() const { return pos_; }
  /// Usable context (the compiled one, or less if asked).
  int64_t context() const { return context_; }

  /// Feeds `tokens` (prefill in chunks); returns the logits after the last
  /// (`keep` as for step()). The caller checks that they fit in the
  /// context.
  const float *feed(const int32_t *tokens, int64_t count, int64_t keep = 0);
  /// Feeds one token (decode). With `keep` > 0 and a screened head only
  /// the logits that can be among the `keep` largest are computed (the
  /// same values); the others are -inf.
  const float *step(int32_t token, int64_t keep = 0);
  /// When the last logits (feed(), step()) came from a screened head: the
  /// rows it computed, increasing; every other logit is -inf. Else null.
  const std::vector<int32_t> *computedRows() const {
    return sparse_ ? &rows_ : nullptr;
  }
  /// Decoded tokens whose head was screened, and the rows they computed.
  int64_t screenedSteps() const { return screenedSteps_; }
  int64_t screenedRows() const { return screenedRows_; }
  /// Forgets everything (position 0).
  void reset() { pos_ = 0; }

private:
  ModelConfig cfg_;
  int64_t context_;
  int64_t pos_ = 0;
  float *keys() const { return static_cast<float *>(kcache_.get()); }
  float *values() const { return static_cast<float *>(vcache_.get()); }
  uint8_t *scratch() const { return static_cast<uint8_t *>(scratch_.get()); }
  /// The logits of a screened head whose input is at `inputOffset` in the
  /// scratch (see step()).
  const float *screenHead(int64_t inputOffset, int64_t keep);

  ZeroedMemory kcache_, vcache_, scratch_;
  std::vector<float> logits_;
  std::vector<int32_t> chunk_;
  // Screened head: the int8 copy's scores, the chosen rows, their logits.
  // While sparse_, logits_ is -inf but at rows_: the next screened step
  // resets those rows only, not 2B4T's 128256 logits (0.04 ms).
  bool screened_ = false, sparse_ = false;
  std::vector<float> scores_, exact_;
  std::vector<int32_t> rows_;
  std::vector<int8_t> quantized_;
  // The rows' selection, on the thread pool.
  RowScreen screen_{ternc_parallel_for};
  int64_t screenedSteps_ = 0, screenedRows_ = 0;
};

} // namespace ternc::rt

#endif // TERNC_RUNTIME_SESSION_H
