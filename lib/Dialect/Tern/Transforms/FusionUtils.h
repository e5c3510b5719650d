//===- FusionUtils.h - what the tern fusion passes share -------*- C++ -*-===//
//
// The fusion passes merge neighbouring ops of a block. Neighbours may have
// ops free of memory effects (views, constants, index arithmetic) between
// them, but nothing that reads or writes memory: that could observe or
// change the buffers the fused op reads and writes at another time.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_LIB_DIALECT_TERN_TRANSFORMS_FUSIONUTILS_H
#define TERNC_LIB_DIALECT_TERN_TRANSFORMS_FUSIONUTILS_H

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tern::detail {

/// The nearest OpTy after `from` (or before it, with `backwards`) in its
/// block with only memory-effect-free ops between; null if there is none.
template <typename OpTy>
OpTy neighbourAcrossPureOps(Operation *from, bool backwards = false) {
  for (Operation *op = backwards ? from->getPrevNode() : from->getNextNode();
       op; op = backwards ? op->getPrevNode() : op->getNextNode()) {
    if (auto found = dyn_cast<OpTy>(op))
      return found;
    if (!isMemoryEffectFree(op))
      return nullptr;
  }
  return nullptr;
}

/// Applies a fusion pass's patterns to `root` until nothing changes,
/// leaving the control flow as it is.
inline LogicalResult applyFusionPatterns(Operation *root,
                                         RewritePatternSet &&patterns) {
  GreedyRewriteConfig config;
  config.enableRegionSimplification = GreedySimplifyRegionLevel::Disabled;
  return applyPatternsAndFoldGreedily(root, std::move(patterns), config);
}

} // namespace mlir::tern::detail

#endif // TERNC_LIB_DIALECT_TERN_TRANSFORMS_FUSIONUTILS_H
