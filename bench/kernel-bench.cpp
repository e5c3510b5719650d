//===- kernel-bench.cpp - Google Benchmark of ternc's kernels -------------===//
//
// Times the functions ternc compiled from bench/kernels.mlir (the 2B4T layer
// shapes) on one thread. Each benchmark reports the weight bytes it streams
// per second (GB/s = 10^9 B/s) and, when TERNC_BANDWIDTH_GBS gives the
// machine's measured read bandwidth for one thread (bench/run.sh sets it),
// the percentage of that roofline; the prefill-sized linear also reports
// tokens per second.
//
// Decode streams every weight from memory once per token, so the decode
// shapes are timed cold: before each timed call a buffer twice the size of
// the largest cache is read (untimed), as the model's other layers would.
// The prefill shape is compute-bound and timed warm. Cold benchmarks run a
// fixed number of iterations (the eviction is not timed but takes time).
//
// usage: kernel-bench WEIGHTS [google benchmark flags]
//
//===----------------------------------------------------------------------===//

#include "ternc/abi.h"

#include "CpuFeatures.h"
#include "HugePages.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <random>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

const uint8_t *ternc_weights = nullptr;

// One thread: the kernels' row loops run in order.
void ternc_parallel_for(ternc_body_fn body, void *ctx, int64_t begin,
                        int64_t end) {
  body(ctx, begin, end);
}
int32_t ternc_thread_count(void) { return 1; }
int32_t ternc_thread_index(void) { return 0; }
void ternc_prefetch_next(int64_t, int64_t, int64_t, int64_t) {}

extern "C" {
void bench_quantize_2560(const float *x, int8_t *q, float *s);
void bench_linear_q(const int8_t *q, const float *s, float *y);
void bench_linear_k(const int8_t *q, const float *s, float *y);
void bench_linear_o(const int8_t *q, const float *s, float *y);
void bench_linear_gate(const int8_t *q, const float *s, float *y);
void bench_linear_down(const int8_t *q, const float *s, float *y);
void bench_linear_gate_m128(const int8_t *q, const float *s, float *y);
void bench_head(const float *x, float *y);
void bench_screen(const float *x, float *y);
void bench_screen_int8(const int8_t *q, const float *qs, float *y);
}

namespace {

double bandwidthGBs() {
  const char *v = std::getenv("TERNC_BANDWIDTH_GBS");
  return v ? std::atof(v) : 0.0;
}

template <typename T> std::vector<T> randomVector(size_t n, int lo, int hi) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(n);
  for (T &x : v)
    x = T(d(rng));
  return v;
}

void report(benchmark::State &state, double bytes) {
  using benchmark::Counter;
  state.counters["GB/s"] =
      Counter(bytes / 1e9, Counter::kIsIterationInvariantRate);
  if (double bw = bandwidthGBs(); bw > 0)
    state.counters["%roofline"] =
        Counter(bytes / 1e9 / bw * 100.0, Counter::kIsIterationInvariantRate);
}

/// Bytes to read between cold calls: twice the largest cache the C library
/// reports (Linux: from CPUID or sysfs), at least 64 MiB. A fixed 64 MiB
/// left a layer's weights in the 480 MiB L3 a Sapphire Rapids class VM
/// reports, and the cold decode shapes read faster than DRAM.
size_t evictionBytes() {
  long largest = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
  for (int name :
       {_SC_LEVEL2_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE, _SC_LEVEL4_CACHE_SIZE})
    largest = std::max(largest, sysconf(name));
#endif
  return std::max<size_t>(size_t(64) << 20, 2 * size_t(largest));
}

/// Reads evictionBytes(): evicts the weights of the previous call from the
/// caches.
void evictCaches() {
  static std::vector<uint64_t> buffer(evictionBytes() / 8, 1);
  uint64_t sum = 0;
  for (size_t i = 0; i < buffer.size(); i += 8) // one read per cache line
    sum += buffer[i];
  benchmark::DoNotOptimize(sum);
}

/// Runs `call` once per iteration, cold (caches evicted before, untimed) or
/// warm.
template <typename Call>
void timeCalls(benchmark::State &state, bool cold, Call call) {
  for (auto _ : state) {
    if (cold)
      evictCaches();
    auto t0 = std::chrono::steady_clock::now();
    call();
    benchmark::ClobberMemory();
    auto t1 = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
}

using LinearFn = void (*)(const int8_t *, const float *, float *);

/// Decode shapes (m == 1) are timed cold (weights from DRAM), unless `warm`:
/// then the weights come from the last-level cache, which shows the kernel's
/// compute ceiling next to its DRAM speed.
void linear(benchmark::State &state, LinearFn fn, int64_t m, int64_t n,
            int64_t k, bool warm = false) {
  std::vector<int8_t> q = randomVector<int8_t>(size_t(m * k), -127, 127);
  std::vector<float> s(size_t(m), 0.01f), y(size_t(m * n));
  timeCalls(state, /*cold=*/m == 1 && !warm, [&] {
    fn(q.data(), s.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  });
  report(state, double(n) * double(k) / 4.0); // 2 bits per weight
  if (m > 1)
    state.counters["tok/s"] = benchmark::Counter(
        double(m), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_quantize_2560(benchmark::State &state) {
  std::vector<float> x = randomVector<float>(2560, -1000, 1000), s(1);
  std::vector<int8_t> q(2560);
  for (auto _ : state) {
    bench_quantize_2560(x.data(), q.data(), s.data());
    benchmark::DoNotOptimize(q.data());
    benchmark::ClobberMemory();
  }
}

void BM_head_f16(benchmark::State &state) {
  std::vector<float> x = randomVector<float>(2560, -8, 8), y(128256);
  timeCalls(state, /*cold=*/true, [&] {
    bench_head(x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  });
  report(state, 128256.0 * 2560.0 * 2.0);
}

void BM_head_screen_i8(benchmark::State &state) {
  std::vector<float> x = randomVector<float>(2560, -8, 8), y(128256);
  timeCalls(state, /*cold=*/true, [&] {
    bench_screen(x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  });
  report(state, 128256.0 * 2560.0);
}

/// The copy with its input in two int8 parts, as a screened program on a
/// target with an int8 dot product runs it.
void BM_head_screen_i8_input_i8(benchmark::State &state) {
  std::vector<int8_t> q = randomVector<int8_t>(2 * 2560, -127, 127);
  std::vector<float> qs = {20.0f, 5000.0f}, y(2 * 128256);
  timeCalls(state, /*cold=*/true, [&] {
    bench_screen_int8(q.data(), qs.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  });
  report(state, 128256.0 * 2560.0);
}

} // namespace

BENCHMARK(BM_quantize_2560);
BENCHMARK_CAPTURE(linear, q_2560x2560, bench_linear_q, 1, 2560, 2560)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK_CAPTURE(linear, k_640x2560, bench_linear_k, 1, 640, 2560)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK_CAPTURE(linear, o_2560x2560, bench_linear_o, 1, 2560, 2560)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK_CAPTURE(linear, gate_6912x2560, bench_linear_gate, 1, 6912, 2560)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK_CAPTURE(linear, down_2560x6912, bench_linear_down, 1, 2560, 6912)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK_CAPTURE(linear, gate_6912x2560_warm, bench_linear_gate, 1, 6912, 2560,
                  /*warm=*/true)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK_CAPTURE(linear, gate_6912x2560_m128, bench_linear_gate_m128, 128,
                  6912, 2560)
    ->UseManualTime();
BENCHMARK(BM_head_f16)->UseManualTime()->Iterations(20);
BENCHMARK(BM_head_screen_i8)->UseManualTime()->Iterations(20);
BENCHMARK(BM_head_screen_i8_input_i8)->UseManualTime()->Iterations(20);

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr, "usage: kernel-bench WEIGHTS [benchmark flags]\n");
    return 1;
  }
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 ||
      uint64_t(st.st_size) != ternc_weights_size) {
    std::fprintf(stderr,
                 "kernel-bench: %s: missing, or not the %llu-byte "
                 "weight file of these kernels\n",
                 argv[1], (unsigned long long)ternc_weights_size);
    return 1;
  }
  // As the programs do (runtime/src/HugePages.cpp): huge pages, else a
  // file mapping.
  size_t length = 0;
  std::string error;
  void *p = ternc::rt::readIntoHugePages(fd, size_t(st.st_size), length, error);
  if (!p && !error.empty()) {
    std::fprintf(stderr, "kernel-bench: %s: %s\n", argv[1], error.c_str());
    return 1;
  }
  if (!p)
    p = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) {
    std::perror("kernel-bench: mmap");
    return 1;
  }
  close(fd);
  ternc_weights = static_cast<const uint8_t *>(p);
  // The prefill-sized linear runs on AMX tiles where the target has them:
  // Linux grants the tile state on request only (else SIGILL).
  std::string amx = ternc::rt::enableAmx(ternc_target_features);
  if (!amx.empty()) {
    std::fprintf(stderr, "kernel-bench: the kernels use AMX tiles: %s\n",
                 amx.c_str());
    return 1;
  }
  argv[1] = argv[0];
  --argc;
  ++argv;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
