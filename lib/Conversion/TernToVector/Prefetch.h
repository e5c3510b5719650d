//===- Prefetch.h - software prefetch of the weights, per CPU ---*- C++ -*-===//
//
// Decode and the LM head stream their weights from DRAM once a token, and
// attention its key and value caches; whether a software prefetch ahead of
// the hardware's helps depends on the CPU, so each choice here is one that was
// measured (docs/performance.md). Unmeasured CPUs keep the choice of the
// nearest measured one, or none.
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
  /// lut5's vpermi2b lookups (AVX-512 VBMI), measured apart.
  Lookup5,
};

/// One software prefetch of streamed weights: `bytes` ahead of each load,
/// with memref.prefetch's locality hint (0 is prefetchnta, 2 prefetcht1,
/// 3 prefetcht0).
struct PrefetchStage {
  int64_t bytes;
  int locality;
};

/// How a decode kernel prefetches each line of its weights: no stage, one,
/// or a far one into L2 and a near one into L1.
SmallVector<PrefetchStage, 2> decodePrefetch(TargetAttr target,
                                             DecodeKernel kernel);

/// Prefetches the weights `data` at byte `at` plus each stage's distance (a
/// decode kernel's next lines).
void prefetchAhead(ImplicitLocOpBuilder &b, Value data, Value at,
                   ArrayRef<PrefetchStage> stages);

/// How the LM head prefetches its rows, if it does: ahead of every vector
/// of weights, or of the first vector of each 64-byte line.
struct HeadPrefetch {
  PrefetchStage stage;
  bool oncePerLine;
};
std::optional<HeadPrefetch> headPrefetch(TargetAttr target);

/// How tern.attention prefetches its key and value caches (read from DRAM
/// when the context is long), if it does: each key line `keyPositions`
/// positions ahead of the scores loop, each value line `valuePositions`
/// positions ahead of the output loop, with memref.prefetch's locality.
struct AttentionPrefetch {
  int64_t keyPositions;
  int64_t valuePositions;
  int locality;
};
std::optional<AttentionPrefetch> attentionPrefetch(TargetAttr target);

/// After a decode linear: calls the runtime's ternc_prefetch_next with the
/// blob ranges of the next tern.linear in the block (if any), so the
/// threads waiting while this one runs the ops between the two (norms,
/// RoPE) prefetch the start of their shares.
void hintNextLinear(ImplicitLocOpBuilder &b, LinearOp op);

} // namespace mlir::tern::detail

#endif // TERNC_LIB_CONVERSION_TERNTOVECTOR_PREFETCH_H
