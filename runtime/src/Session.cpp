//===- Session.cpp - a model instance: caches, scratch, calls -------------===//

#include "Session.h"
#include "ternc/abi.h"

#include <algorithm>
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
  return c;
}

/// Bytes of one cache (keys or values) of every layer.
static size_t cacheBytes(const ModelConfig &c) {
  return size_t(c.layers) * size_t(c.context) * size_t(c.kvDim) * 4;
}

Session::Session(int64_t contextLimit)
    : cfg_(ModelConfig::fromGenerated()),
      context_(contextLimit > 0 ? std::min(contextLimit, cfg_.context)
                                : cfg_.context),
      kcache_(cacheBytes(cfg_)), vcache_(cacheBytes(cfg_)),
      scratch_(size_t(cfg_.scratch)) {
  // The generated code indexes the caches with the compiled context; their
  // pages are zeroed by the kernel at first touch rather than filled here
  // (629 MB for 2B4T at its 4096-token context), and are 2 MiB pages where
  // the system has them: the key cache is transposed (a row per feature,
  // see tern.attention), so the linear that writes a token's keys and the
  // attention that reads them stride across the rows, a 4 KiB page each
  // (2B4T pp128 on Zen 5, interleaved runs: 118-121 vs 102-113 tok/s).
  // For the same reason any first token touches every page of the key
  // cache: a thread touches them now, while the caller loads the weights,
  // instead of the first prompt paying for it.
  if (kcache_.mapped())
    faultKeys_ =
        std::thread([p = static_cast<volatile uint8_t *>(kcache_.get()),
                     n = cacheBytes(cfg_)] {
          for (size_t i = 0; i < n; i += 4096)
            p[i] = 0;
        });
  logits_.assign(size_t(cfg_.vocab), 0.0f);
  chunk_.assign(size_t(cfg_.prefill), 0);
}

Session::~Session() { settle(); }

void Session::settle() {
  if (faultKeys_.joinable())
    faultKeys_.join();
}

const float *Session::feed(const int32_t *tokens, int64_t count) {
  settle();
  int64_t done = 0;
  while (done < count) {
    int64_t n = std::min(cfg_.prefill, count - done);
    if (n == 1) {
      step(tokens[done]);
      ++done;
      continue;
    }
    std::copy(tokens + done, tokens + done + n, chunk_.begin());
    ternc_prefill(chunk_.data(), n, pos_, keys(), values(), scratch(),
                  logits_.data());
    pos_ += n;
    done += n;
  }
  return logits_.data();
}

const float *Session::step(int32_t token) {
  settle();
  ternc_decode(token, pos_, keys(), values(), scratch(), logits_.data());
  ++pos_;
  return logits_.data();
}
