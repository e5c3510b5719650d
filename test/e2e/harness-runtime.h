//===- harness-runtime.h - the runtime symbols a harness provides ---------===//
//
// The symbols an object from ternc needs of the runtime, for the test
// harnesses that link one directly: `ternc_weights` (null until the harness
// loads a blob, if it has one), a `ternc_parallel_for` that runs the range
// on the calling thread in grains of HARNESS_GRAIN iterations (odd grains
// hand the iterations out unevenly, as threads would), and
// `ternc_thread_count` / `ternc_thread_index` for that one thread, and a
// `ternc_prefetch_next` that ignores its hint. Define
// HARNESS_GRAIN before including it, in one file of the program.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_TEST_E2E_HARNESS_RUNTIME_H
#define TERNC_TEST_E2E_HARNESS_RUNTIME_H

#include "ternc/abi.h"

#ifndef HARNESS_GRAIN
#error "define HARNESS_GRAIN before including harness-runtime.h"
#endif

const uint8_t *ternc_weights = nullptr;

void ternc_parallel_for(ternc_body_fn body, void *ctx, int64_t begin,
                        int64_t end) {
  for (int64_t b = begin; b < end; b += HARNESS_GRAIN)
    body(ctx, b, b + HARNESS_GRAIN < end ? b + HARNESS_GRAIN : end);
}

// The calling thread is the only one; it has nothing to prefetch for.
int32_t ternc_thread_count(void) { return 1; }
int32_t ternc_thread_index(void) { return 0; }
void ternc_prefetch_next(int64_t, int64_t, int64_t, int64_t) {}

#endif // TERNC_TEST_E2E_HARNESS_RUNTIME_H
