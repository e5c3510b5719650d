//===- ThreadPoolTest.cpp - ternc_parallel_for's claims -------------------===//

#include "ThreadPool.h"
#include "ternc/abi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

// The weight blob the pool's hinted prefetches read (ternc_prefetch_next):
// the runtime's main defines it in a program.
alignas(64) static uint8_t gBlob[1 << 20];
const uint8_t *ternc_weights = gBlob;

namespace {

/// Counts how often each iteration of [begin, begin + n) ran, and which
/// thread ran it.
struct Counts {
  int64_t begin;
  std::unique_ptr<std::atomic<int>[]> runs;
  std::vector<std::thread::id> by;
  bool slowFirst = false; // iteration `begin` sleeps
  Counts(int64_t begin, int64_t n)
      : begin(begin), runs(new std::atomic<int>[n]), by(n) {
    for (int64_t i = 0; i < n; ++i)
      runs[i] = 0;
  }
  static void body(void *ctx, int64_t lo, int64_t hi) {
    auto *c = static_cast<Counts *>(ctx);
    for (int64_t i = lo; i < hi; ++i) {
      if (c->slowFirst && i == c->begin)
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      c->runs[i - c->begin].fetch_add(1);
      c->by[i - c->begin] = std::this_thread::get_id();
    }
  }
};

struct PoolTest : ::testing::Test {
  void TearDown() override { ASSERT_EQ(ternc::rt::setThreadCount(1), ""); }
};

/// Records the thread index each thread reports inside a body.
struct Indices {
  std::mutex mutex;
  std::vector<std::pair<std::thread::id, int32_t>> seen;
  static void body(void *ctx, int64_t lo, int64_t hi) {
    auto *c = static_cast<Indices *>(ctx);
    for (int64_t i = lo; i < hi; ++i) {
      // Slow enough that every thread takes some claims.
      std::this_thread::sleep_for(std::chrono::microseconds(20));
      std::lock_guard<std::mutex> lock(c->mutex);
      c->seen.emplace_back(std::this_thread::get_id(), ternc_thread_index());
    }
  }
};

// Generated code keeps a buffer per thread (a decoded token's lookup
// tables), indexed by ternc_thread_index: each thread keeps one index below
// ternc_thread_count, no two threads share one, and the calling thread's
// is 0.
TEST_F(PoolTest, ThreadIndicesAreDistinctAndBelowTheCount) {
  EXPECT_EQ(ternc_thread_count(), 1);
  EXPECT_EQ(ternc_thread_index(), 0);
  for (int threads : {1, 2, 3, 5}) {
    ASSERT_EQ(ternc::rt::setThreadCount(threads), "");
    EXPECT_EQ(ternc_thread_count(), threads);
    Indices c;
    ternc_parallel_for(&Indices::body, &c, 0, 400);
    ASSERT_EQ(c.seen.size(), 400u);
    std::vector<std::pair<std::thread::id, int32_t>> pairs = c.seen;
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    std::vector<int32_t> indices;
    for (size_t i = 0; i < pairs.size(); ++i) {
      EXPECT_GE(pairs[i].second, 0);
      EXPECT_LT(pairs[i].second, threads);
      if (i > 0)
        EXPECT_NE(pairs[i].first, pairs[i - 1].first)
            << "a thread reported two indices";
      if (pairs[i].first == std::this_thread::get_id())
        EXPECT_EQ(pairs[i].second, 0);
      indices.push_back(pairs[i].second);
    }
    std::sort(indices.begin(), indices.end());
    EXPECT_EQ(std::unique(indices.begin(), indices.end()), indices.end())
        << "two threads reported one index";
    EXPECT_EQ(ternc_thread_index(), 0);
  }
}

TEST_F(PoolTest, EveryIterationOnceForAnyThreadsAndLength) {
  for (int threads : {1, 2, 3, 4, 7}) {
    ASSERT_EQ(ternc::rt::setThreadCount(threads), "");
    EXPECT_EQ(ternc::rt::threadCount(), threads);
    for (int64_t n : {0, 1, 2, 3, 5, 16, 17, 63, 100, 1000, 100003}) {
      for (int64_t begin : {int64_t(0), int64_t(-7), int64_t(1) << 40}) {
        Counts c(begin, n);
        ternc_parallel_for(&Counts::body, &c, begin, begin + n);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(c.runs[i].load(), 1) << threads << " threads, [" << begin
                                         << ", +" << n << "), iteration " << i;
      }
    }
  }
}

TEST_F(PoolTest, AnEmptyOrReversedRangeRunsNothing) {
  ASSERT_EQ(ternc::rt::setThreadCount(2), "");
  Counts c(0, 1);
  ternc_parallel_for(&Counts::body, &c, 5, 5);
  ternc_parallel_for(&Counts::body, &c, 9, 3);
  EXPECT_EQ(c.runs[0].load(), 0);
}

TEST_F(PoolTest, AThreadDoneTakesTheBackOfAnotherShare) {
  // Two threads, 64 iterations: the caller owns [0, 32), the worker
  // [32, 64). The caller's first iteration sleeps; the worker finishes its
  // own share meanwhile and takes the caller's from the back, so the
  // caller runs only its first claim (a quarter of its share: 8).
  ASSERT_EQ(ternc::rt::setThreadCount(2), "");
  Counts c(0, 64);
  c.slowFirst = true;
  ternc_parallel_for(&Counts::body, &c, 0, 64);
  const std::thread::id caller = std::this_thread::get_id();
  int byCaller = 0;
  for (int64_t i = 0; i < 64; ++i) {
    ASSERT_EQ(c.runs[i].load(), 1) << i;
    byCaller += c.by[i] == caller;
  }
  EXPECT_EQ(c.by[0], caller);
  EXPECT_EQ(byCaller, 8);
  EXPECT_NE(c.by[31], caller);
  EXPECT_NE(c.by[63], caller);
}

/// Records the ranges a body is given and which thread ran each, with some
/// work per iteration that varies, so that the threads finish unevenly.
struct Claims {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> byCaller, byWorker;
  std::thread::id caller = std::this_thread::get_id();
  static void body(void *ctx, int64_t lo, int64_t hi) {
    auto *c = static_cast<Claims *>(ctx);
    volatile uint64_t sink = 0;
    for (int64_t i = lo; i < hi; ++i)
      for (int64_t k = 0; k < 200 + (i * 7919) % 1000; ++k)
        sink = sink + k;
    std::lock_guard<std::mutex> lock(c->mutex);
    (std::this_thread::get_id() == c->caller ? c->byCaller : c->byWorker)
        .push_back({lo, hi});
  }
};

/// Whether the sorted `ranges` are one contiguous run [from, to).
bool isRun(std::vector<std::pair<int64_t, int64_t>> ranges, int64_t from,
           int64_t to) {
  std::sort(ranges.begin(), ranges.end());
  for (auto [lo, hi] : ranges) {
    if (lo != from || hi <= lo)
      return false;
    from = hi;
  }
  return from == to;
}

TEST_F(PoolTest, EachThreadRunsItsShareInOrderAndStealsFromTheBack) {
  // With two threads, whatever the timing: the caller ran a prefix of its
  // share [0, n/2) and a suffix of the worker's [n/2, n), and the worker
  // the rest (so each thread's weight stream runs on from one claim to the
  // next).
  ASSERT_EQ(ternc::rt::setThreadCount(2), "");
  for (int64_t n : {2, 9, 64, 1000, 4097}) {
    for (int round = 0; round < 5; ++round) {
      Claims c;
      ternc_parallel_for(&Claims::body, &c, 0, n);
      std::vector<std::pair<int64_t, int64_t>> own, stolen;
      for (auto r : c.byCaller)
        (r.first < n / 2 ? own : stolen).push_back(r);
      int64_t ownEnd = 0, stolenBegin = n;
      for (auto [lo, hi] : own)
        ownEnd = std::max(ownEnd, hi);
      for (auto [lo, hi] : stolen)
        stolenBegin = std::min(stolenBegin, lo);
      EXPECT_TRUE(isRun(own, 0, ownEnd)) << n;
      EXPECT_TRUE(isRun(stolen, stolenBegin, n)) << n;
      // The worker: the rest of the caller's share and the front of its own.
      EXPECT_TRUE(isRun(c.byWorker, ownEnd, stolenBegin)) << n;
    }
  }
}

/// Records the ranges a body is given without running them.
struct Ranges {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> seen;
  static void body(void *ctx, int64_t lo, int64_t hi) {
    auto *r = static_cast<Ranges *>(ctx);
    std::lock_guard<std::mutex> lock(r->mutex);
    r->seen.push_back({lo, hi});
  }
};

TEST_F(PoolTest, RangesLongerThan32BitsAreCoveredExactly) {
  for (int threads : {1, 2, 3}) {
    ASSERT_EQ(ternc::rt::setThreadCount(threads), "");
    const int64_t begin = 11, end = begin + (int64_t(1) << 32) + 5;
    Ranges r;
    ternc_parallel_for(&Ranges::body, &r, begin, end);
    std::sort(r.seen.begin(), r.seen.end());
    ASSERT_FALSE(r.seen.empty());
    int64_t at = begin;
    for (auto [lo, hi] : r.seen) {
      ASSERT_EQ(lo, at) << threads << " threads";
      ASSERT_LT(lo, hi);
      at = hi;
    }
    EXPECT_EQ(at, end);
  }
}

/// Runs a small job (so the workers are spinning, not asleep), hints the
/// ranges, and returns the bytes the workers then prefetch, once they reach
/// `expect` or 50 ms have passed; tried up to 50 times until they are
/// exactly `expect` (a worker descheduled for over its 200 us of spinning,
/// likely with more threads than cores, sleeps and skips the hint).
int64_t prefetchedFor(int64_t offset0, int64_t bytes0, int64_t offset1,
                      int64_t bytes1, int64_t expect) {
  int64_t got = 0;
  for (int attempt = 0; attempt < 50 && got != expect; ++attempt) {
    Counts warm(0, 100);
    ternc_parallel_for(&Counts::body, &warm, 0, 100);
    const int64_t before = ternc::rt::hintBytesPrefetched();
    ternc_prefetch_next(offset0, bytes0, offset1, bytes1);
    auto start = std::chrono::steady_clock::now();
    while (ternc::rt::hintBytesPrefetched() - before < expect &&
           std::chrono::steady_clock::now() - start <
               std::chrono::milliseconds(50))
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    got = ternc::rt::hintBytesPrefetched() - before;
  }
  return got;
}

// Waiting workers prefetch the start of their own share of the hinted
// ranges (each split evenly by thread, at most 128 KiB in all), once per
// hint; the caller prefetches nothing. The next job consumes the hint.
TEST_F(PoolTest, WaitingWorkersPrefetchTheStartOfTheirShareOfAHint) {
  ASSERT_EQ(ternc::rt::setThreadCount(2), "");
  // One range of 64 KiB: the worker's share is its second half.
  EXPECT_EQ(prefetchedFor(0, 64 << 10, 0, 0, 32 << 10), 32 << 10);
  // Two ranges (a glu's gate and up): half of the 128 KiB for each.
  EXPECT_EQ(prefetchedFor(0, 512 << 10, 512 << 10, 512 << 10, 128 << 10),
            128 << 10);
  // Three threads: each worker its own share.
  ASSERT_EQ(ternc::rt::setThreadCount(3), "");
  EXPECT_EQ(prefetchedFor(0, 96 << 10, 0, 0, 64 << 10), 64 << 10);
  // A job consumes the hint: nothing is prefetched for it after.
  ASSERT_EQ(ternc::rt::setThreadCount(2), "");
  Counts c(0, 1000);
  ternc_prefetch_next(0, 64 << 10, 0, 0);
  ternc_parallel_for(&Counts::body, &c, 0, 1000);
  const int64_t before = ternc::rt::hintBytesPrefetched();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(ternc::rt::hintBytesPrefetched(), before);
  for (int64_t i = 0; i < 1000; ++i)
    ASSERT_EQ(c.runs[i].load(), 1) << "iteration " << i;
}

// A hint never changes what a job runs: each iteration once, for hints
// that the job interrupts at once and for hints at one thread.
TEST_F(PoolTest, HintsDoNotChangeTheJobs) {
  for (int threads : {1, 2, 3}) {
    ASSERT_EQ(ternc::rt::setThreadCount(threads), "");
    for (int round = 0; round < 50; ++round) {
      ternc_prefetch_next(0, sizeof gBlob, 4096, 8192);
      Counts c(0, 777);
      ternc_parallel_for(&Counts::body, &c, 0, 777);
      for (int64_t i = 0; i < 777; ++i)
        ASSERT_EQ(c.runs[i].load(), 1)
            << threads << " threads, round " << round << ", iteration " << i;
    }
  }
}

} // namespace
