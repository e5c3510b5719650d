//===- ThreadPool.cpp - the threads generated code runs on ----------------===//
//
// ternc_parallel_for is the only function generated code calls. A range is
// cut into one contiguous part per thread; the caller runs the first part.
// Every index is computed by the same code whatever the split, so results
// do not depend on the thread count. Workers wait on a condition variable
// between calls; a call is a few microseconds of synchronisation.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "ternc/abi.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace ternc::rt;

namespace {

struct Pool {
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake, done;
  // The current job.
  ternc_body_fn fn = nullptr;
  void *ctx = nullptr;
  int64_t begin = 0, end = 0;
  int parts = 1;
  uint64_t generation = 0;
  int pending = 0;
  bool stopping = false;

  void part(int i) {
    int64_t n = end - begin;
    int64_t lo = begin + n * i / parts, hi = begin + n * (i + 1) / parts;
    if (lo < hi)
      fn(ctx, lo, hi);
  }

  void worker(int index) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return stopping || generation != seen; });
        if (stopping)
          return;
        seen = generation;
      }
      part(index);
      std::lock_guard<std::mutex> lock(mutex);
      if (--pending == 0)
        done.notify_one();
    }
  }

  void run(ternc_body_fn f, void *c, int64_t b, int64_t e) {
    int threads = int(workers.size()) + 1;
    if (threads == 1 || e - b < 2) {
      if (b < e)
        f(c, b, e);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      fn = f;
      ctx = c;
      begin = b;
      end = e;
      parts = threads;
      pending = threads - 1;
      ++generation;
    }
    wake.notify_all();
    part(0);
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] { return pending == 0; });
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
    generation = 0;
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

extern "C" void ternc_parallel_for(ternc_body_fn fn, void *ctx, int64_t begin,
                                   int64_t end) {
  pool().run(fn, ctx, begin, end);
}
