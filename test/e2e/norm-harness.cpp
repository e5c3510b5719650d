//===- norm-harness.cpp - tern.rms_norm's sum order, bit for bit ----------===//
//
// Linked with the object ternc emits for norm.mlir.in: tern.rms_norm with
// lanes = 16 and lanes = 1, tern.rms_norm_quantize with lanes = 16 and
// tern.quantize, of 3 rows of D = 100 and 2560, compared bit for bit with a
// scalar reference written from the ops' definitions: the sum of squares in
// `lanes` interleaved partial sums (lane j: d = j, j + lanes, ... in order),
// the partial sums then in order; r = 1 / sqrt(ss / D + eps); y = w * (r * x);
// the bitnet quantization of y. Each operation rounded as written
// (-ffp-contract=off). Rows of very different magnitudes make the two orders
// give different sums, which the output must reflect: the harness also
// counts the rows where lanes = 16 and in-order references differ.
// tern.quantize's rows hold the absmax's edge cases: it at a negative
// value beside -0.0 and a tie to round to even, and an infinity (the scale
// 0, that element -128).
// Prints "N wrong" per op and "orders differ in N rows".
//
// usage: norm-harness
//
//===----------------------------------------------------------------------===//

#include "ternc/abi.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

// Grains of 2: rows handed out unevenly.
#define HARNESS_GRAIN 2
#include "harness-runtime.h"

extern "C" {
void norm16_100(const float *x, const float *w, float *y);
void norm1_100(const float *x, const float *w, float *y);
void normq16_100(const float *x, const float *w, float *y, int8_t *q, float *s);
void norm16_2560(const float *x, const float *w, float *y);
void norm1_2560(const float *x, const float *w, float *y);
void normq16_2560(const float *x, const float *w, float *y, int8_t *q,
                  float *s);
void quantize_100(const float *x, int8_t *q, float *s);
void quantize_2560(const float *x, int8_t *q, float *s);
}

constexpr int M = 3;
constexpr float kEps = 1.0e-05f;

static float sumOfSquares(const float *x, int d, int lanes) {
  std::vector<float> partial(lanes, 0.0f);
  for (int k = 0; k < d; ++k)
    partial[k % lanes] = partial[k % lanes] + x[k] * x[k];
  float ss = 0.0f;
  for (float p : partial)
    ss = ss + p;
  return ss;
}

static void referenceNorm(const float *x, const float *w, int d, int lanes,
                          float *y) {
  for (int m = 0; m < M; ++m) {
    const float *row = x + size_t(m) * d;
    float r = 1.0f / std::sqrt(sumOfSquares(row, d, lanes) / float(d) + kEps);
    for (int k = 0; k < d; ++k)
      y[size_t(m) * d + k] = w[k] * (r * row[k]);
  }
}

static void referenceQuantize(const float *y, int d, int8_t *q, float *s) {
  for (int m = 0; m < M; ++m) {
    float absmax = 0.0f;
    for (int k = 0; k < d; ++k)
      absmax = std::fmax(absmax, std::fabs(y[size_t(m) * d + k]));
    float scale = 127.0f / std::fmax(absmax, 1e-5f);
    s[m] = scale;
    for (int k = 0; k < d; ++k) {
      float r = std::nearbyint(y[size_t(m) * d + k] * scale); // ties to even
      q[size_t(m) * d + k] = int8_t(std::fmin(std::fmax(r, -128.0f), 127.0f));
    }
  }
}

static int differ(const void *a, const void *b, size_t n, size_t size) {
  int wrong = 0;
  for (size_t i = 0; i < n; ++i)
    wrong += std::memcmp(static_cast<const char *>(a) + i * size,
                         static_cast<const char *>(b) + i * size, size) != 0;
  return wrong;
}

/// A float from the generator's raw bits (the distributions' algorithms
/// are not fixed by the standard): uniform in [-1, 1) times 2^e.
static float draw(std::mt19937 &rng, int e) {
  return std::ldexp(float(int32_t(rng() >> 8) - (1 << 23)) / float(1 << 23), e);
}

static void run(int d, void (*norm16)(const float *, const float *, float *),
                void (*norm1)(const float *, const float *, float *),
                void (*normq16)(const float *, const float *, float *, int8_t *,
                                float *),
                void (*quantize)(const float *, int8_t *, float *)) {
  std::mt19937 rng(11 + d);
  std::vector<float> x(size_t(M) * d), w(d);
  for (int m = 0; m < M; ++m)
    for (int k = 0; k < d; ++k)
      // A few large features among small ones: the partial sums' order
      // shows in the last bits.
      x[size_t(m) * d + k] = draw(rng, k % 37 == 5 ? 6 : m - 1);
  for (float &v : w)
    v = draw(rng, 0);

  std::vector<float> want16(x.size()), want1(x.size()), got(x.size());
  referenceNorm(x.data(), w.data(), d, 16, want16.data());
  referenceNorm(x.data(), w.data(), d, 1, want1.data());
  int orders = 0;
  for (int m = 0; m < M; ++m)
    orders += differ(want16.data() + size_t(m) * d,
                     want1.data() + size_t(m) * d, d, sizeof(float)) != 0;
  std::printf("D = %d: orders differ in %d rows\n", d, orders);

  norm16(x.data(), w.data(), got.data());
  std::printf("D = %d: rms_norm lanes 16: %d wrong\n", d,
              differ(got.data(), want16.data(), got.size(), sizeof(float)));
  norm1(x.data(), w.data(), got.data());
  std::printf("D = %d: rms_norm lanes 1: %d wrong\n", d,
              differ(got.data(), want1.data(), got.size(), sizeof(float)));

  std::vector<int8_t> wantQ(x.size()), gotQ(x.size());
  std::vector<float> wantS(M), gotS(M);
  referenceQuantize(want16.data(), d, wantQ.data(), wantS.data());
  normq16(x.data(), w.data(), got.data(), gotQ.data(), gotS.data());
  std::printf("D = %d: rms_norm_quantize lanes 16: %d wrong\n", d,
              differ(got.data(), want16.data(), got.size(), sizeof(float)) +
                  differ(gotQ.data(), wantQ.data(), gotQ.size(), 1) +
                  differ(gotS.data(), wantS.data(), M, sizeof(float)));

  // tern.quantize of x itself: row 0 as drawn; row 1's absmax at a
  // negative value, -127 / 32 (the scale 32 exactly), with -0.0 and the
  // ties 2.5 / 32 (to 2) and 3.5 / 32 (to 4) beside it; row 2 with +inf.
  x[size_t(1) * d + 3] = -127.0f / 32;
  x[size_t(1) * d + 4] = -0.0f;
  x[size_t(1) * d + 5] = 2.5f / 32;
  x[size_t(1) * d + 6] = 3.5f / 32;
  for (int k = 7; k < d; ++k)
    x[size_t(1) * d + k] = std::fmod(x[size_t(1) * d + k], 1.0f);
  x[size_t(2) * d + d / 2] = INFINITY;
  referenceQuantize(x.data(), d, wantQ.data(), wantS.data());
  quantize(x.data(), gotQ.data(), gotS.data());
  std::printf("D = %d: quantize: %d wrong\n", d,
              differ(gotQ.data(), wantQ.data(), gotQ.size(), 1) +
                  differ(gotS.data(), wantS.data(), M, sizeof(float)));
}

int main() {
  run(100, norm16_100, norm1_100, normq16_100, quantize_100);
  run(2560, norm16_2560, norm1_2560, normq16_2560, quantize_2560);
  return 0;
}
