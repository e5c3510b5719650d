//===- harness.cpp - run a compiled case against a scalar reference -------===//
//
// Linked with the object ternc emits for case.mlir, on the target (natively
// or under qemu): harness ref.bin case.weights
//
// Runs the generated tern_quantize and tern_linear and compares them, bit for
// bit, with a scalar C++ implementation of the ops' documented semantics.
// Build with -ffp-contract=off so the reference rounds exactly as specified.
//
//===----------------------------------------------------------------------===//

#include "ternc/abi.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

// The harness plays the runtime: it owns the blob pointer and runs parallel
// loops in pieces on one thread (the split must not change any result).
#define HARNESS_GRAIN 3
#include "harness-runtime.h"

extern "C" {
void tern_quantize(const float *x, int8_t *q, float *s);
void tern_linear(const int8_t *q, const float *s, float *y);
}

static std::vector<uint8_t> readFile(const char *path) {
  FILE *f = std::fopen(path, "rb");
  if (!f) {
    std::fprintf(stderr, "harness: cannot open %s\n", path);
    std::exit(2);
  }
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    bytes.insert(bytes.end(), buf, buf + n);
  std::fclose(f);
  return bytes;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: harness ref.bin case.weights\n");
    return 2;
  }
#if defined(__linux__) && defined(__x86_64__)
  // As the runtime does for programs with AMX (CpuFeatures.cpp): Linux
  // grants the tile state on request only. Harmless on other CPUs.
  syscall(SYS_arch_prctl, 0x1023 /*ARCH_REQ_XCOMP_PERM*/,
          18 /*XFEATURE_XTILEDATA*/);
#endif
  std::vector<uint8_t> ref = readFile(argv[1]);
  std::vector<uint8_t> blobFile = readFile(argv[2]);
  if (blobFile.size() != ternc_weights_size) {
    std::fprintf(stderr, "harness: blob has %zu bytes, code expects %llu\n",
                 blobFile.size(), (unsigned long long)ternc_weights_size);
    return 1;
  }
  // The blob must be 64-byte aligned, as the runtime guarantees.
  size_t alloc = (blobFile.size() + TERNC_WEIGHTS_ALIGN - 1) /
                 TERNC_WEIGHTS_ALIGN * TERNC_WEIGHTS_ALIGN;
  auto *blob = static_cast<uint8_t *>(std::aligned_alloc(
      TERNC_WEIGHTS_ALIGN, alloc ? alloc : TERNC_WEIGHTS_ALIGN));
  std::memcpy(blob, blobFile.data(), blobFile.size());
  ternc_weights = blob;

  int64_t hdr[5];
  std::memcpy(hdr, ref.data(), sizeof hdr);
  const int64_t m = hdr[0], n = hdr[1], k = hdr[2], scale = hdr[3],
                group = hdr[4];
  const int64_t blocks = scale == 2 ? k / group : 1;
  const int64_t numScales = scale == 0 ? 1 : scale == 1 ? n : n * blocks;
  const uint8_t *p = ref.data() + sizeof hdr;
  std::vector<float> x(m * k), w(numScales);
  std::vector<int8_t> t(n * k);
  std::memcpy(x.data(), p, x.size() * 4);
  p += x.size() * 4;
  std::memcpy(t.data(), p, t.size());
  p += t.size();
  std::memcpy(w.data(), p, w.size() * 4);

  // Generated code.
  std::vector<int8_t> q(m * k);
  std::vector<float> s(m), y(m * n);
  tern_quantize(x.data(), q.data(), s.data());
  tern_linear(q.data(), s.data(), y.data());

  // Scalar reference, from the op definitions.
  int errors = 0;
  for (int64_t r = 0; r < m; ++r) {
    float absmax = 0.0f;
    for (int64_t c = 0; c < k; ++c)
      absmax = std::max(absmax, std::fabs(x[r * k + c]));
    float sr = 127.0f / std::max(absmax, 1e-5f);
    if (std::memcmp(&sr, &s[r], 4) != 0 && errors++ < 5)
      std::fprintf(stderr, "scale[%lld]: got %a want %a\n", (long long)r, s[r],
                   sr);
    for (int64_t c = 0; c < k; ++c) {
      float v = std::nearbyint(x[r * k + c] * sr);
      int8_t qr = int8_t(std::min(127.0f, std::max(-128.0f, v)));
      if (qr != q[r * k + c] && errors++ < 5)
        std::fprintf(stderr, "q[%lld,%lld]: got %d want %d\n", (long long)r,
                     (long long)c, q[r * k + c], qr);
    }
  }
  // The linear reference uses the generated q and s, so that it checks the
  // linear op on its own.
  for (int64_t r = 0; r < m; ++r)
    for (int64_t o = 0; o < n; ++o) {
      float out;
      if (scale == 2) {
        float f = 0.0f;
        for (int64_t b = 0; b < blocks; ++b) {
          int32_t acc = 0;
          for (int64_t c = b * group; c < (b + 1) * group; ++c)
            acc += int32_t(t[o * k + c]) * q[r * k + c];
          f += float(acc) * w[o * blocks + b];
        }
        out = f / s[r];
      } else {
        int32_t acc = 0;
        for (int64_t c = 0; c < k; ++c)
          acc += int32_t(t[o * k + c]) * q[r * k + c];
        out = (float(acc) / s[r]) * w[scale == 1 ? o : 0];
      }
      if (std::memcmp(&out, &y[r * n + o], 4) != 0 && errors++ < 5)
        std::fprintf(stderr, "y[%lld,%lld]: got %a want %a\n", (long long)r,
                     (long long)o, y[r * n + o], out);
    }
  std::free(blob);
  if (errors) {
    std::printf("FAIL M=%lld N=%lld K=%lld: %d mismatches\n", (long long)m,
                (long long)n, (long long)k, errors);
    return 1;
  }
  std::printf("PASS M=%lld N=%lld K=%lld\n", (long long)m, (long long)n,
              (long long)k);
  return 0;
}
