//===- ThreadPool.h - the threads generated code runs on ---------*- C++
//-*-===//

#ifndef TERNC_RUNTIME_THREADPOOL_H
#define TERNC_RUNTIME_THREADPOOL_H

#include <cstdint>
#include <string>

namespace ternc::rt {

/// Sets the number of threads ternc_parallel_for uses (1 = the calling
/// thread only). Call before the first model call. Returns "" or why the
/// threads could not be started (the pool then has one thread).
std::string setThreadCount(int threads);
int threadCount();
/// Bytes of weights the waiting threads have prefetched so far for the
/// hints of ternc_prefetch_next (each at most the start of its share).
int64_t hintBytesPrefetched();

} // namespace ternc::rt

#endif // TERNC_RUNTIME_THREADPOOL_H
