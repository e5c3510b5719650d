//===- bandwidth.cpp - memory read bandwidth, STREAM-style ----------------===//
//
// Measures what decode is bound by: the rate at which T threads can read a
// buffer much larger than the caches. Each thread sums its own contiguous
// slice of 64-bit words (the compiler vectorises the loop with -O3
// -march=native), plainly, prefetching 4 KiB ahead with prefetchnta (as
// the lookup kernels do on AMD) and with prefetcht1 (as the decode kernels
// do on Intel), and in two stages, prefetcht1 2 KiB and prefetcht0 1 KiB
// ahead; the highest median counts: on Zen 4 the plain read is the
// fastest (one thread 29-32 vs 19-21 GB/s), on Zen 5 the prefetching one
// was, on a Sapphire Rapids class host prefetchnta read at 40% of the
// plain rate and the two stages 3-4% above prefetcht1 alone (one thread
// 18.1-18.3 GB/s); the buffer is in 2 MiB transparent huge pages, as the
// programs' weights are (runtime/src/HugePages.cpp: with 4 KiB pages this
// VM's TLB misses read below what the programs then decode at), and
// written once first so every page is resident. Prints, per thread count,
// the median and range over the repetitions in GB/s (10^9 bytes per
// second):
//
//   bandwidth threads=1 median=31.6 min=30.9 max=32.0 GB/s (plain; plain
//   31.6, prefetchnta 19.4, prefetcht1 30.2, two-stage 30.9)
//
// usage: bandwidth [--mib N (default 2048)] [--reps R (default 7)] T...
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <thread>
#include <vector>

/// Locality < 0: no prefetch; else __builtin_prefetch's hint (0: nta,
/// 2: t1) `Ahead` words ahead of each line, and with Near, prefetcht0 half
/// as far ahead too.
template <int Locality, int Ahead = 512, bool Near = false>
static uint64_t sumSlice(const uint64_t *p, size_t n) {
  // Four accumulators so the adds do not serialise on one register.
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    if constexpr (Locality >= 0)
      if (i % 8 == 0) {
        __builtin_prefetch(p + i + Ahead, 0, Locality);
        if constexpr (Near)
          __builtin_prefetch(p + i + Ahead / 2, 0, 3);
      }
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i)
    a += p[i];
  return a + b + c + d;
}

int main(int argc, char **argv) {
  size_t mib = 2048;
  int reps = 7;
  std::vector<int> threads;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--mib") && i + 1 < argc)
      mib = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else if (std::atoi(argv[i]) > 0)
      threads.push_back(std::atoi(argv[i]));
    else {
      std::fprintf(stderr,
                   "usage: bandwidth [--mib N] [--reps R] THREADS...\n");
      return 1;
    }
  }
  if (threads.empty())
    threads.push_back(1);
  if (mib == 0 || reps <= 0) {
    std::fprintf(stderr, "bandwidth: --mib and --reps must be positive\n");
    return 1;
  }
  const size_t words = mib * (size_t(1) << 20) / 8;
  constexpr size_t kHuge = size_t(2) << 20;
  const size_t bytes = (words * 8 + kHuge - 1) / kHuge * kHuge;
  auto *data = static_cast<uint64_t *>(std::aligned_alloc(kHuge, bytes));
  if (!data) {
    std::fprintf(stderr, "bandwidth: cannot allocate %zu MiB\n", mib);
    return 1;
  }
#ifdef MADV_HUGEPAGE
  madvise(data, bytes, MADV_HUGEPAGE);
#endif
  for (size_t i = 0; i < words; ++i)
    data[i] = i * 0x9E3779B97F4A7C15ull;

  volatile uint64_t sink = 0;
  // The sorted GB/s of `reps` reads with t threads.
  auto measure = [&](int t, int variant) {
    std::vector<double> gbs;
    for (int r = 0; r < reps; ++r) {
      std::vector<uint64_t> sums(t);
      std::vector<std::thread> pool;
      auto t0 = std::chrono::steady_clock::now();
      for (int k = 0; k < t; ++k)
        pool.emplace_back([&, k] {
          size_t begin = words * k / t, end = words * (k + 1) / t;
          const uint64_t *slice = data + begin;
          sums[k] = variant == 0   ? sumSlice<-1>(slice, end - begin)
                    : variant == 1 ? sumSlice<0>(slice, end - begin)
                    : variant == 2 ? sumSlice<2>(slice, end - begin)
                                   : sumSlice<2, 256, true>(slice, end - begin);
        });
      for (std::thread &th : pool)
        th.join();
      auto t1 = std::chrono::steady_clock::now();
      for (uint64_t s : sums)
        sink = sink + s;
      double sec = std::chrono::duration<double>(t1 - t0).count();
      gbs.push_back(double(words * 8) / sec / 1e9);
    }
    std::sort(gbs.begin(), gbs.end());
    return gbs;
  };
  const char *names[] = {"plain", "prefetchnta", "prefetcht1", "two-stage"};
  for (int t : threads) {
    std::vector<double> runs[4], medians(4);
    int best = 0;
    for (int v = 0; v < 4; ++v) {
      runs[v] = measure(t, v);
      medians[v] = runs[v][runs[v].size() / 2];
      if (medians[v] > medians[best])
        best = v;
    }
    std::printf("bandwidth threads=%d median=%.1f min=%.1f max=%.1f GB/s "
                "(%s; plain %.1f, prefetchnta %.1f, prefetcht1 %.1f, "
                "two-stage %.1f)\n",
                t, medians[best], runs[best].front(), runs[best].back(),
                names[best], medians[0], medians[1], medians[2], medians[3]);
    std::fflush(stdout);
  }
  std::free(data);
  return 0;
}
