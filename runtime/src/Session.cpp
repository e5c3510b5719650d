//===- Session.cpp - a model instance: caches, scratch, calls -------------===//

#include "Session.h"
#include "ternc/abi.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

using namespace ternc::rt;

ModelConfig ModelConfig::fromGenerated() {
  ModelConfig c;
  c.dim = ternc_config[TERNC_CONFIG_DIM];
  c.layers = ternc_config[TERNC_CONFIG_LAYERS];
  c.kvDim = ternc_config[TERNC_CONFIG_KV_DIM];
  c.context = ternc_config[TERNC_CONFIG_CONTEXT];
  c.vocab = ternc_config[TERNC_CONFIG_VOCAB];
  c.prefill = ternc_config[TERNC_CONFIG_PREFILL];
  c.scratch = ternc_config[TERNC_CONFIG_SCRATCH];
  c.bos = int32_t(ternc_config[TERNC_CONFIG_BOS]);
  c.eos = int32_t(ternc_config[TERNC_CONFIG_EOS]);
  c.headInput = ternc_config[TERNC_CONFIG_HEAD_INPUT];
  c.prefillHeadInput = ternc_config[TERNC_CONFIG_PREFILL_HEAD_INPUT];
  return c;
}

/// Bytes of the value cache of every layer; with `tiled`, of the key
/// cache (whole tiles of TERNC_KEY_TILE positions).
static size_t cacheBytes(const ModelConfig &c, bool tiled) {
  size_t positions = size_t(c.context);
  if (tiled)
    positions =
        (positions + TERNC_KEY_TILE - 1) / TERNC_KEY_TILE * TERNC_KEY_TILE;
  return size_t(c.layers) * positions * size_t(c.kvDim) * 4;
}

Session::Session(int64_t contextLimit)
    : cfg_(ModelConfig::fromGenerated()),
      context_(contextLimit > 0 ? std::min(contextLimit, cfg_.context)
                                : cfg_.context),
      kcache_(cacheBytes(cfg_, true)), vcache_(cacheBytes(cfg_, false)),
      scratch_(size_t(cfg_.scratch)) {
  // The generated code indexes the caches with the compiled context; their
  // pages are zeroed by the kernel as they are first written rather than
  // filled here (629 MB for 2B4T at its 4096-token context), and are 2 MiB
  // pages where the system has them: fewer faults and TLB misses (a
  // 128-token prefill writes a 40 KB key tile per 16 positions and layer).
  logits_.assign(size_t(cfg_.vocab), 0.0f);
  chunk_.assign(size_t(cfg_.prefill), 0);
  screened_ = cfg_.headInput >= 0 &&
              (ternc_head_screen || ternc_head_screen_int8) &&
              ternc_head_rows && ternc_head_bounds;
  if (screened_) {
    // Two rows of scores for an int8 input in two parts.
    scores_.assign(size_t(2 * cfg_.vocab), 0.0f);
    exact_.assign(size_t(cfg_.vocab), 0.0f);
    rows_.reserve(size_t(cfg_.vocab));
    quantized_.assign(size_t(2 * cfg_.dim), 0);
  }
}

const float *Session::feed(const int32_t *tokens, int64_t count, int64_t keep) {
  int64_t done = 0;
  while (done < count) {
    int64_t n = std::min(cfg_.prefill, count - done);
    const bool last = done + n == count;
    if (n == 1) {
      step(tokens[done], last ? keep : 0);
      ++done;
      continue;
    }
    std::copy(tokens + done, tokens + done + n, chunk_.begin());
    // Only the last chunk's logits are read: the others skip the LM head,
    // and with a screened head the last one too.
    const bool screen = last && screened_ && keep > 0;
    if (last && !screen)
      sparse_ = false;
    ternc_prefill(chunk_.data(), n, pos_, keys(), values(), scratch(),
                  last && !screen ? logits_.data() : nullptr);
    pos_ += n;
    done += n;
    if (screen)
      screenHead(cfg_.prefillHeadInput, keep);
  }
  return logits_.data();
}

const float *Session::step(int32_t token, int64_t keep) {
  if (!screened_ || keep <= 0) {
    sparse_ = false;
    ternc_decode(token, pos_, keys(), values(), scratch(), logits_.data());
    ++pos_;
    return logits_.data();
  }
  ternc_decode(token, pos_, keys(), values(), scratch(), nullptr);
  ++pos_;
  return screenHead(cfg_.headInput, keep);
}

const float *Session::screenHead(int64_t inputOffset, int64_t keep) {
  // The int8 copy scores every row (about half the native head's bytes);
  // the native head computes only the rows that can be among the `keep`
  // largest, as the full head would have (HeadScreen.h).
  const float *x = reinterpret_cast<const float *>(scratch() + inputOffset);
  const float *parts = nullptr;
  float inputError = 0.0f;
  if (ternc_head_screen_int8) {
    float scales[2];
    inputError = quantizeInTwo(x, cfg_.dim, quantized_.data(), scales);
    ternc_head_screen_int8(quantized_.data(), scales, scores_.data());
    parts = scores_.data() + cfg_.vocab;
  } else {
    ternc_head_screen(x, scores_.data());
  }
  if (sparse_)
    for (int32_t r : rows_)
      logits_[size_t(r)] = -INFINITY;
  else
    std::fill(logits_.begin(), logits_.end(), -INFINITY);
  sparse_ = true;
  screen_(scores_.data(), parts, ternc_head_bounds(), cfg_.vocab,
          normUpperBound(x, cfg_.dim), inputError, keep, rows_);
  const int64_t n = int64_t(rows_.size());
  ternc_head_rows(x, rows_.data(), n, exact_.data());
  for (int64_t j = 0; j < n; ++j)
    logits_[size_t(rows_[j])] = exact_[size_t(j)];
  ++screenedSteps_;
  screenedRows_ += n;
  return logits_.data();
}
