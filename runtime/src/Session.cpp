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

static uint8_t *alignedBytes(int64_t n) {
  size_t size = (size_t(n) + TERNC_WEIGHTS_ALIGN - 1) / TERNC_WEIGHTS_ALIGN *
                TERNC_WEIGHTS_ALIGN;
  return static_cast<uint8_t *>(
      std::aligned_alloc(TERNC_WEIGHTS_ALIGN, size ? size : 64));
}

Session::Session(int64_t contextLimit)
    : cfg_(ModelConfig::fromGenerated()),
      context_(contextLimit > 0 ? std::min(contextLimit, cfg_.context)
                                : cfg_.context),
      kcache_(nullptr, std::free), vcache_(nullptr, std::free),
      scratch_(alignedBytes(cfg_.scratch), std::free) {
  // The generated code indexes the caches with the compiled context.
  // calloc: large blocks come from the kernel already zero, page by page
  // as they are first written, rather than filled here up front (629 MB
  // for 2B4T at its 4096-token context).
  size_t cache = size_t(cfg_.layers) * cfg_.context * cfg_.kvDim;
  kcache_.reset(static_cast<float *>(std::calloc(cache ? cache : 1, 4)));
  vcache_.reset(static_cast<float *>(std::calloc(cache ? cache : 1, 4)));
  logits_.assign(size_t(cfg_.vocab), 0.0f);
  chunk_.assign(size_t(cfg_.prefill), 0);
}

const float *Session::feed(const int32_t *tokens, int64_t count) {
  int64_t done = 0;
  while (done < count) {
    int64_t n = std::min(cfg_.prefill, count - done);
    if (n == 1) {
      step(tokens[done]);
      ++done;
      continue;
    }
    std::copy(tokens + done, tokens + done + n, chunk_.begin());
    ternc_prefill(chunk_.data(), n, pos_, kcache_.get(), vcache_.get(),
                  scratch_.get(), logits_.data());
    pos_ += n;
    done += n;
  }
  return logits_.data();
}

const float *Session::step(int32_t token) {
  ternc_decode(token, pos_, kcache_.get(), vcache_.get(), scratch_.get(),
               logits_.data());
  ++pos_;
  return logits_.data();
}
