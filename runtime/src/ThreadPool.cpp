//===- ThreadPool.cpp - the threads generated code runs on ----------------===//
//
// ternc_parallel_for is the only function generated code calls. The caller
// and the workers claim iterations of a range in grains from an atomic
// counter. Every index is computed by the same code whichever thread runs
// it, so results do not depend on the thread count. A decoded token makes a few
// hundred calls (one per linear), microseconds apart: waking a sleeping thread
// costs tens of microseconds, so workers and the caller first spin for a while
// (kSpin) on atomics, and only then sleep on a condition variable.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "ternc/abi.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace ternc::rt;

namespace {

/// How long a thread spins for the next job or for the others to finish
/// before it sleeps.
constexpr std::chrono::microseconds kSpin(200);

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

struct Pool {
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake, done;
  // The current job: written by the caller before `generation` is bumped
  // (release), read by workers after they see it (acquire).
  ternc_body_fn fn = nullptr;
  void *ctx = nullptr;
  int64_t begin = 0, end = 0, grain = 1;
  // The next unclaimed iteration: threads claim `grain` at a time, so one
  // slowed down (by another process on its core, say) leaves its share to
  // the others instead of holding everyone at the barrier. Which thread
  // computes an iteration never changes its result.
  std::atomic<int64_t> next{0};
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  bool stopping = false; // guarded by mutex

  void work() {
    for (;;) {
      int64_t lo = next.fetch_add(grain, std::memory_order_relaxed);
      if (lo >= end)
        return;
      fn(ctx, lo, std::min(lo + grain, end));
    }
  }

  void worker() {
    uint64_t seen = 0;
    for (;;) {
      if (!spinUntil([&] {
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
      work();
      if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex);
        done.notify_one();
      }
    }
  }

  void run(ternc_body_fn f, void *c, int64_t b, int64_t e) {
    int threads = int(workers.size()) + 1;
    if (threads == 1 || e - b < 2) {
      if (b < e)
        f(c, b, e);
      return;
    }
    fn = f;
    ctx = c;
    begin = b;
    end = e;
    // About 4 claims per thread: fine enough to even out (a thread held up
    // delays the others by at most an eighth of the op at two threads), few
    // enough that the atomic and the per-call setup of the body stay
    // negligible. Each claim starts a new stream of weights whose first
    // lines nothing prefetched: at 8 claims a thread 2B4T tg64 at two
    // threads was 3% slower (24.2 vs 24.9 tok/s, interleaved runs on the
    // Sapphire Rapids class host; pp128 alike).
    grain = std::max<int64_t>(1, (e - b) / (4 * threads));
    next.store(b, std::memory_order_relaxed);
    pending.store(threads - 1, std::memory_order_relaxed);
    {
      // Under the mutex, so a worker between its check and its wait cannot
      // miss the wake-up.
      std::lock_guard<std::mutex> lock(mutex);
      generation.fetch_add(1, std::memory_order_release);
    }
    wake.notify_all();
    work();
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
    for (int i = 1; i < threads; ++i)
      workers.emplace_back([this] { worker(); });
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

extern "C" void ternc_parallel_for(ternc_body_fn fn, void *ctx, int64_t begin,
                                   int64_t end) {
  pool().run(fn, ctx, begin, end);
}
