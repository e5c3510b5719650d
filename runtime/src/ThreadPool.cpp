//===- ThreadPool.cpp - the threads generated code runs on ----------------===//
//
// ternc_parallel_for is the function generated code calls (with
// ternc_thread_count and ternc_thread_index, which tell a body's thread
// apart for its own buffers). The caller and the workers each own a
// contiguous share of the range, claim it from its front, and then take
// claims from the back of the shares not yet done. Every index is computed by
// the same code whichever thread runs it, so results do not depend on the
// thread count. A decoded token makes a few hundred calls (one per linear),
// microseconds apart: waking a sleeping thread costs tens of microseconds, so
// workers and the caller first spin for a while (kSpin) on atomics, and only
// then sleep on a condition variable. While they spin, workers prefetch the
// start of their share of the weights that generated code says the next
// call streams (ternc_prefetch_next): decoding, the calling thread runs the
// norms and RoPE between two linears alone, a few microseconds each time,
// in which memory would otherwise be idle.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "ternc/abi.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace ternc::rt;

// Weak: the unit tests link the pool without a blob.
extern "C" const uint8_t *ternc_weights __attribute__((weak));

namespace {

/// The calling thread's index in the pool (ternc_thread_index): worker t
/// sets t; every other thread, the one calling ternc_parallel_for
/// included, is 0.
thread_local int tThreadIndex = 0;

/// How long a thread spins for the next job or for the others to finish
/// before it sleeps.
constexpr std::chrono::microseconds kSpin(200);

/// The most bytes of its share a waiting worker prefetches for the next job:
/// what a gap between two linears leaves time for at one thread's rate
/// (a few microseconds), well inside L2.
constexpr int64_t kHintBytes = 128 << 10;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield");
#endif
}

/// Spins until `ready()` or kSpin has passed; true if ready.
template <typename Ready> bool spinUntil(Ready ready) {
  auto start = std::chrono::steady_clock::now();
  for (unsigned i = 1;; ++i) {
    if (ready())
      return true;
    cpuRelax();
    // Every 64 rounds: check the clock, and let other threads of an
    // oversubscribed machine (more threads than cores) run.
    if (i % 64 == 0) {
      if (std::chrono::steady_clock::now() - start > kSpin)
        return false;
      std::this_thread::yield();
    }
  }
}

/// One thread's share of the current job: [lo, hi) relative to its
/// first iteration, packed in one word so that its owner (from the front)
/// and a thief (from the back) claim with one compare-and-swap.
struct alignas(64) Share {
  std::atomic<uint64_t> range{0};

  static uint64_t pack(uint32_t lo, uint32_t hi) {
    return uint64_t(hi) << 32 | lo;
  }
  void set(uint32_t lo, uint32_t hi) {
    range.store(pack(lo, hi), std::memory_order_relaxed);
  }
  /// Claims a quarter of what is left, at least `grain` iterations, from
  /// the front (owner) or the back (thief) into [lo, hi); false when the
  /// share is empty.
  bool claim(uint32_t grain, bool front, uint32_t &lo, uint32_t &hi) {
    uint64_t v = range.load(std::memory_order_relaxed);
    for (;;) {
      uint32_t l = uint32_t(v), h = uint32_t(v >> 32);
      if (l >= h)
        return false;
      uint32_t n = std::min(std::max(grain, (h - l) / 4), h - l);
      uint64_t rest = front ? pack(l + n, h) : pack(l, h - n);
      if (range.compare_exchange_weak(v, rest, std::memory_order_relaxed)) {
        lo = front ? l : h - n;
        hi = front ? l + n : h;
        return true;
      }
    }
  }
};

struct Pool {
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake, done;
  // The current job: written by the caller before `generation` is bumped
  // (release), read by workers after they see it (acquire).
  ternc_body_fn fn = nullptr;
  void *ctx = nullptr;
  int64_t begin = 0;
  uint32_t grain = 1;
  // Thread t owns a contiguous t-th of the range and claims it from the
  // front, a quarter of what is left at a time: its claims follow each
  // other in memory, so
  // the weight stream it reads (and the lines the kernel prefetched ahead)
  // runs on from one claim to the next. A thread done with its own share
  // takes claims from the back of the others': one slowed down (by another
  // process on its core, say) leaves its work to the others instead of
  // holding everyone at the barrier. Which thread computes an iteration
  // never changes its result.
  std::unique_ptr<Share[]> shares;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  // The next job's weight ranges (ternc_prefetch_next), or none: blob
  // offsets and sizes, which the caller writes while hintGeneration is odd.
  // A worker copies them, then checks that the generation was even and did
  // not move meanwhile.
  std::atomic<int64_t> hintOffset[2] = {}, hintBytes[2] = {};
  std::atomic<uint64_t> hintGeneration{0};
  // Bytes the workers prefetched for hints (hintBytesPrefetched()).
  std::atomic<int64_t> prefetched{0};
  bool stopping = false; // guarded by mutex

  int threads() const { return int(workers.size()) + 1; }

  void work(int self) {
    uint32_t lo, hi;
    while (shares[self].claim(grain, /*front=*/true, lo, hi))
      fn(ctx, begin + lo, begin + hi);
    for (int i = 1, n = threads(); i < n; ++i) {
      Share &other = shares[(self + i) % n];
      while (other.claim(grain, /*front=*/false, lo, hi))
        fn(ctx, begin + lo, begin + hi);
    }
  }

  void hint(int64_t offset0, int64_t bytes0, int64_t offset1, int64_t bytes1) {
    if (workers.empty())
      return;
    // A sequence lock: odd while the ranges are being written.
    const uint64_t g = hintGeneration.load(std::memory_order_relaxed);
    hintGeneration.store(g + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    hintOffset[0].store(offset0, std::memory_order_relaxed);
    hintBytes[0].store(bytes0, std::memory_order_relaxed);
    hintOffset[1].store(offset1, std::memory_order_relaxed);
    hintBytes[1].store(bytes1, std::memory_order_relaxed);
    hintGeneration.store(g + 2, std::memory_order_release);
  }

  /// Prefetches (into L2) the start of thread `self`'s share of the ranges
  /// of hint generation `g`, until the job after `seen` arrives. True when
  /// done (or there was nothing to do), false when the job interrupted it
  /// or the hint changed.
  bool prefetchShare(int self, uint64_t seen, uint64_t g) {
    if (!&ternc_weights || !ternc_weights)
      return true;
    if (g % 2)
      return false; // being written: look again
    int64_t offset[2], bytes[2];
    for (int r = 0; r < 2; ++r) {
      offset[r] = hintOffset[r].load(std::memory_order_relaxed);
      bytes[r] = hintBytes[r].load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (hintGeneration.load(std::memory_order_relaxed) != g)
      return false;
    const int n = threads();
    const int64_t ranges = (bytes[0] > 0) + (bytes[1] > 0);
    for (int r = 0; r < 2; ++r) {
      if (bytes[r] <= 0)
        continue;
      const int64_t begin = offset[r] + bytes[r] * self / n;
      const int64_t len = std::min(bytes[r] / n, kHintBytes / ranges);
      const char *p = reinterpret_cast<const char *>(ternc_weights) +
                      (begin & ~int64_t(63));
      for (int64_t i = 0; i < len; i += 64) {
        if (i % 4096 == 0 &&
            generation.load(std::memory_order_relaxed) != seen) {
          prefetched.fetch_add(i, std::memory_order_relaxed);
          return false;
        }
        __builtin_prefetch(p + i, 0, 2);
      }
      prefetched.fetch_add(len, std::memory_order_relaxed);
    }
    return true;
  }

  void worker(int self) {
    tThreadIndex = self;
    uint64_t seen = 0, hinted = 0;
    for (;;) {
      if (!spinUntil([&] {
            if (generation.load(std::memory_order_acquire) != seen)
              return true;
            // A hint not acted on yet: prefetch, then go on waiting.
            uint64_t h = hintGeneration.load(std::memory_order_acquire);
            if (h != hinted && prefetchShare(self, seen, h))
              hinted = h;
            return generation.load(std::memory_order_acquire) != seen;
          })) {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] {
          return stopping || generation.load(std::memory_order_acquire) != seen;
        });
        if (stopping)
          return;
      }
      seen = generation.load(std::memory_order_acquire);
      work(self);
      if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex);
        done.notify_one();
      }
    }
  }

  /// [b, e) with e - b < 2^32 (ternc_parallel_for splits longer ranges).
  void run(ternc_body_fn f, void *c, int64_t b, int64_t e) {
    const int n = threads();
    if (n == 1 || e - b < 2) {
      if (b < e)
        f(c, b, e);
      return;
    }
    // A hint is for this job at the latest: none is left for later ones.
    if (hintBytes[0].load(std::memory_order_relaxed) ||
        hintBytes[1].load(std::memory_order_relaxed))
      hint(0, 0, 0, 0);
    fn = f;
    ctx = c;
    begin = b;
    const uint64_t len = uint64_t(e - b);
    for (int t = 0; t < n; ++t)
      shares[t].set(uint32_t(len * t / n), uint32_t(len * (t + 1) / n));
    // Claims shrink to `grain`, 1/256 of a share, so a thread that finishes
    // first waits for at most that much of another's work (the LM head's
    // share is tens of milliseconds). A share takes about 19 claims: claims
    // in order cost only the body's setup; a stolen one starts a new stream
    // that nothing prefetched, but only at the end of a job.
    grain = uint32_t(std::max<uint64_t>(1, len / (256 * uint64_t(n))));
    pending.store(n - 1, std::memory_order_relaxed);
    {
      // Under the mutex, so a worker between its check and its wait cannot
      // miss the wake-up.
      std::lock_guard<std::mutex> lock(mutex);
      generation.fetch_add(1, std::memory_order_release);
    }
    wake.notify_all();
    work(0);
    if (!spinUntil(
            [&] { return pending.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mutex);
      done.wait(lock,
                [&] { return pending.load(std::memory_order_acquire) == 0; });
    }
  }

  void resize(int threads) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &t : workers)
      t.join();
    workers.clear();
    stopping = false;
    generation.store(0);
    shares = std::make_unique<Share[]>(threads);
    for (int i = 1; i < threads; ++i)
      workers.emplace_back([this, i] { worker(i); });
  }

  /// resize, or the reason it failed (with the pool back at one thread).
  std::string tryResize(int threads) {
    try {
      resize(threads);
      return "";
    } catch (const std::system_error &e) {
      std::string why = e.what();
      resize(1);
      return why;
    }
  }

  ~Pool() { resize(1); }
};

Pool &pool() {
  static Pool p;
  return p;
}

} // namespace

std::string ternc::rt::setThreadCount(int threads) {
  std::string why = pool().tryResize(threads < 1 ? 1 : threads);
  if (why.empty())
    return "";
  return "cannot start " + std::to_string(threads) + " threads: " + why;
}

int ternc::rt::threadCount() { return int(pool().workers.size()) + 1; }

int64_t ternc::rt::hintBytesPrefetched() {
  return pool().prefetched.load(std::memory_order_relaxed);
}

extern "C" void ternc_parallel_for(ternc_body_fn fn, void *ctx, int64_t begin,
                                   int64_t end) {
  // Shares hold 32-bit offsets: a longer range (none in a model) runs in
  // parts.
  constexpr int64_t kPart = int64_t(1) << 31;
  for (int64_t b = begin; b < end; b += std::min(end - b, kPart))
    pool().run(fn, ctx, b, b + std::min(end - b, kPart));
}

extern "C" void ternc_prefetch_next(int64_t offset0, int64_t bytes0,
                                    int64_t offset1, int64_t bytes1) {
  pool().hint(offset0, bytes0, offset1, bytes1);
}

extern "C" int32_t ternc_thread_count(void) { return pool().threads(); }

extern "C" int32_t ternc_thread_index(void) { return tThreadIndex; }
