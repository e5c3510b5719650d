//===- FuseLinears.cpp - fuse tern.linear ops sharing their input --------===//
//
// Q/K/V and gate/up read the same quantized activations. One tern.linear
// with all their weights is lowered to one parallel loop over all their
// rows: fewer trips through the thread pool (each costs a wake-up and a
// barrier), and a better balance of rows across threads.
//
//===----------------------------------------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"

#include "FusionUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNFUSELINEARS
#include "ternc/Dialect/Tern/Transforms/Passes.h.inc"
} // namespace mlir::tern

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

namespace {

/// Fuses `first` with the next tern.linear of its block when both read the
/// same activations and only memory-effect-free ops lie between them.
struct FuseWithNextLinear : public OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp first,
                                PatternRewriter &rewriter) const override {
    // Anything with memory effects between could observe the first op's
    // outputs before they are written, or change the input.
    auto second = neighbourAcrossPureOps<LinearOp>(first);
    if (!second)
      return rewriter.notifyMatchFailure(first, "no later tern.linear next");
    if (first.getResidual() || second.getResidual())
      return rewriter.notifyMatchFailure(first, "has a residual epilogue");
    if (second.getInput() != first.getInput() ||
        second.getInputScale() != first.getInputScale() ||
        second.getScheme() != first.getScheme())
      return rewriter.notifyMatchFailure(first, "different activations");

    SmallVector<Attribute> weights(first.getWeights().begin(),
                                   first.getWeights().end());
    llvm::append_range(weights, second.getWeights());
    SmallVector<Value> outputs(first.getOutputs());
    llvm::append_range(outputs, second.getOutputs());
    // At the later op: every operand of the earlier one dominates it.
    rewriter.setInsertionPoint(second);
    auto fused = rewriter.create<LinearOp>(
        rewriter.getFusedLoc({first.getLoc(), second.getLoc()}),
        first.getSchemeAttr(), rewriter.getArrayAttr(weights), first.getInput(),
        first.getInputScale(), outputs,
        /*residual=*/Value(), /*glu=*/nullptr, /*glu_output=*/Value());
    fused->setDiscardableAttrs(first->getDiscardableAttrDictionary());
    rewriter.eraseOp(first);
    rewriter.eraseOp(second);
    return success();
  }
};

struct FuseLinearsPass
    : public tern::impl::TernFuseLinearsBase<FuseLinearsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseWithNextLinear>(&getContext());
    if (failed(applyFusionPatterns(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
