//===- half-harness.cpp - every f16 value through the f16 matmul ----------===//
//
// Linked with the object ternc emits for half-head.mlir: a tern.matmul of
// x = [1] by a 65536 x 1 f16 weight holding every f16 bit pattern, the
// shape of an LM head. Each output is act(w) * 1 + padding zeros, so it
// must be the f16 value itself: compared with a reference conversion
// written from the format (sign, 5-bit exponent, 10-bit mantissa), bit for
// bit except the sign of zero (-0 + 0 is +0) and NaN payloads.
//
// usage: half-harness half-head.o.weights
//
//===----------------------------------------------------------------------===//

#include "ternc/abi.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#define HARNESS_GRAIN 7
#include "harness-runtime.h"

extern "C" void half_head(const float *x, float *y);

static float reference(uint16_t h) {
  const int exponent = (h >> 10) & 31, mantissa = h & 1023;
  float v;
  if (exponent == 0)
    v = std::ldexp(float(mantissa), -24);
  else if (exponent == 31)
    v = mantissa ? NAN : INFINITY;
  else
    v = std::ldexp(float(1024 + mantissa), exponent - 25);
  return h >> 15 ? -v : v;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: half-harness WEIGHTS\n");
    return 2;
  }
  FILE *f = std::fopen(argv[1], "rb");
  if (!f) {
    std::fprintf(stderr, "half-harness: cannot open %s\n", argv[1]);
    return 2;
  }
  auto *blob =
      static_cast<uint8_t *>(std::aligned_alloc(TERNC_WEIGHTS_ALIGN, 1 << 20));
  size_t n = std::fread(blob, 1, 1 << 20, f);
  std::fclose(f);
  if (n != ternc_weights_size) {
    std::fprintf(stderr,
                 "half-harness: blob has %zu bytes, code expects %llu\n", n,
                 (unsigned long long)ternc_weights_size);
    return 1;
  }
  ternc_weights = blob;
  const float x[1] = {1.0f};
  std::vector<float> y(65536);
  half_head(x, y.data());
  int bad = 0, nans = 0, subnormals = 0;
  for (uint32_t h = 0; h < 65536; ++h) {
    const float want = reference(uint16_t(h)), got = y[h];
    if (std::isnan(want)) {
      nans += std::isnan(got);
      bad += !std::isnan(got);
      continue;
    }
    subnormals += ((h >> 10) & 31) == 0 && (h & 1023) != 0 && got == want;
    uint32_t a, b;
    std::memcpy(&a, &want, 4);
    std::memcpy(&b, &got, 4);
    if (a != b && !(want == 0 && got == 0)) {
      if (++bad <= 5)
        std::fprintf(stderr, "f16 0x%04x: want %a, got %a\n", h, want, got);
    }
  }
  std::printf("%d wrong, %d NaNs, %d subnormals exact\n", bad, nans,
              subnormals);
  return bad != 0;
}
