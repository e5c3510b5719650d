//===- Prefetch.h - software prefetch of the weights, per CPU ---*- C++ -*-===//
//
// Decode and the LM head stream their weights from DRAM once a token;
// whether a software prefetch ahead of the hardware's helps depends on the
// CPU, so each choice here is one that was measured (docs/performance.md).
// Unmeasured CPUs keep the choice of the nearest measured one, or none.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_LIB_CONVERSION_TERNTOVECTOR_PREFETCH_H
#define TERNC_LIB_CONVERSION_TERNTOVECTOR_PREFETCH_H

#include "ternc/Dialect/Tern/IR/TernOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <optional>

namespace mlir::tern::detail {

/// The decode kernels that stream weights.
enum class DecodeKernel {
  /// vpdpbusd row groups (AVX-512 VNNI, AVX-VNNI).
  Dpbusd,
  /// vpmaddubsw row groups (AVX2, AVX-512BW).
  PairSum,
  /// Table lookups (every target).
  Lookup,
};

/// How a decode kernel prefetches its weights: kDecodePrefetchBytes ahead
/// of each load, with this locality hint (memref.prefetch: 0 is
/// prefetchnta, 2 prefetcht1), or not at all.
std::optional<int> decodePrefetchLocality(TargetAttr target,
                                          DecodeKernel kernel);

/// Prefetches byte `at` + kDecodePrefetchBytes of the weights `data` (a
/// decode kernel's next lines) with `locality`.
void prefetchAhead(ImplicitLocOpBuilder &b, Value data, Value at, int locality);

/// How the LM head prefetches its rows, if it does: bytes ahead of each
/// load and the locality hint.
struct HeadPrefetch {
  int64_t bytes;
  int locality;
};
std::optional<HeadPrefetch> headPrefetch(TargetAttr target);

} // namespace mlir::tern::detail

#endif // TERNC_LIB_CONVERSION_TERNTOVECTOR_PREFETCH_H
