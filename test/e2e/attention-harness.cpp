//===- attention-harness.cpp - tern.attention against the formula ---------===//
//
// Linked with the object ternc emits for attention.mlir.in: causal
// grouped-query attention of 13 queries (4 heads of 64 features, 2 KV
// heads) over a 608-position cache, lowered with a workspace of 4 rows a
// head (blocks of queries, as prefill runs) and of 1 (one query at a time).
// Also one query row (decode) of 8 and of 6 heads over 2 KV heads, the
// heads of a KV group in blocks, up to 256 positions in one loop over the
// KV groups and past them in three (scores over ranges of positions,
// softmax, outputs over feature groups). All are compared bit for bit with a
// scalar reference written from the op's definition (every sum in order, exp as
// the C library's expf, each operation rounded as written: compiled with
// -ffp-contract=off), for several first positions. Prints "N wrong" per
// lowering.
//
// usage: attention-harness
//
//===----------------------------------------------------------------------===//

#include "ternc/abi.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

// Grains of 3, so the heads are handed out unevenly.
#define HARNESS_GRAIN 3
#include "harness-runtime.h"

constexpr int M = 13, H = 4, KvH = 2, Hd = 64, S = 608, Tile = 16;
constexpr int D = H * Hd, Kv = KvH * Hd;

extern "C" void attention_blocked(const float *q, const float *k,
                                  const float *v, int64_t start, float *o,
                                  float *ws);
extern "C" void attention_single(const float *q, const float *k, const float *v,
                                 int64_t start, float *o, float *ws);
extern "C" void attention_decode4(const float *q, const float *k,
                                  const float *v, int64_t start, float *o,
                                  float *ws);
extern "C" void attention_decode3(const float *q, const float *k,
                                  const float *v, int64_t start, float *o,
                                  float *ws);

// keys[t / 16][f][t % 16] is feature f of position t.
static float key(const std::vector<float> &k, int t, int f) {
  return k[(size_t(t / Tile) * Kv + f) * Tile + t % Tile];
}

/// `rows` queries of `heads` heads (rows of heads * Hd features) over the
/// KvH KV heads.
static void reference(const std::vector<float> &q, const std::vector<float> &k,
                      const std::vector<float> &v, int start,
                      std::vector<float> &o, int heads = H, int rows = M) {
  const float limit = -0x1.9fe368p6f; // log 2^-150: expf is +0 below
  const int width = heads * Hd;
  for (int h = 0; h < heads; ++h) {
    const int kvb = h / (heads / KvH) * Hd;
    for (int m = 0; m < rows; ++m) {
      const int len = start + m + 1;
      std::vector<float> p(len);
      float mx = -INFINITY;
      for (int t = 0; t < len; ++t) {
        float s = 0.0f;
        for (int j = 0; j < Hd; ++j)
          s += q[size_t(m) * width + h * Hd + j] * key(k, t, kvb + j);
        p[t] = s / std::sqrt(float(Hd));
        mx = std::fmax(mx, p[t]);
      }
      float sum = 0.0f;
      for (int t = 0; t < len; ++t) {
        const float x = p[t] - mx;
        p[t] = x < limit ? 0.0f : std::exp(x);
        sum += p[t];
      }
      for (int t = 0; t < len; ++t)
        p[t] = p[t] / sum;
      for (int j = 0; j < Hd; ++j) {
        float acc = 0.0f;
        for (int t = 0; t < len; ++t)
          acc += p[t] * v[size_t(t) * Kv + kvb + j];
        o[size_t(m) * width + h * Hd + j] = acc;
      }
    }
  }
}

int main() {
  std::mt19937 rng(7);
  // Scores of a few units: softmax weights spread over many positions.
  std::normal_distribution<float> normal(0.0f, 0.35f);
  std::vector<float> q(size_t(M) * D), k(size_t(S) * Kv), v(size_t(S) * Kv);
  for (float &x : q)
    x = normal(rng);
  for (float &x : k)
    x = normal(rng);
  for (float &x : v)
    x = normal(rng);
  int bad[2] = {0, 0};
  for (int start : {0, 3, 50, 83}) {
    std::vector<float> want(size_t(M) * D);
    reference(q, k, v, start, want);
    for (int which = 0; which < 2; ++which) {
      std::vector<float> got(size_t(M) * D, NAN);
      std::vector<float> ws(size_t(which ? H : 4 * H) * S, NAN);
      (which ? attention_single : attention_blocked)(
          q.data(), k.data(), v.data(), start, got.data(), ws.data());
      for (size_t i = 0; i < got.size(); ++i)
        if (std::memcmp(&got[i], &want[i], 4) != 0 && ++bad[which] <= 5)
          std::fprintf(stderr,
                       "%s, start %d, query %zu feature %zu: want %a, "
                       "got %a\n",
                       which ? "single" : "blocked", start, i / D, i % D,
                       want[i], got[i]);
    }
  }
  // Decode: one query row, the heads of a KV group in blocks; 255 is the
  // last start of one loop, 256 the first of three (a second range of one
  // position); the last start fills the cache.
  int badDecode = 0;
  for (int heads : {8, 6}) {
    std::vector<float> qd(size_t(heads) * Hd);
    for (float &x : qd)
      x = normal(rng);
    for (int start : {0, 3, 50, 255, 256, 300, S - 1}) {
      std::vector<float> want(qd.size()), got(qd.size(), NAN);
      std::vector<float> ws(size_t(heads) * S, NAN);
      reference(qd, k, v, start, want, heads, 1);
      (heads == 8 ? attention_decode4 : attention_decode3)(
          qd.data(), k.data(), v.data(), start, got.data(), ws.data());
      for (size_t i = 0; i < got.size(); ++i)
        if (std::memcmp(&got[i], &want[i], 4) != 0 && ++badDecode <= 5)
          std::fprintf(stderr,
                       "decode, %d heads, start %d, feature %zu: want %a, "
                       "got %a\n",
                       heads, start, i, want[i], got[i]);
    }
  }
  std::printf("blocked: %d wrong\nsingle: %d wrong\ndecode: %d wrong\n", bad[0],
              bad[1], badDecode);
  return bad[0] + bad[1] + badDecode != 0;
}
