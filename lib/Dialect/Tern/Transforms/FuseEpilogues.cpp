//===- FuseEpilogues.cpp - fold what follows a linear into its kernel -----===//
//
// The output projection and the FFN's down projection are each followed by
// the residual add h = h + y. Done in the linear's epilogue, while y is in
// a register, the add needs no pass of its own over y and h on the serial
// path between two parallel linears.
//
// The fused gate/up linear is followed by the gated linear unit m =
// act(g) * u. Folded into the linear, each row block's m is computed by
// the thread that computed its g and u, while they are in its cache,
// instead of in a pass of its own (a serial one in decode, one token).
//
//===----------------------------------------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"

#include "FusionUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNFUSEEPILOGUES
#include "ternc/Dialect/Tern/Transforms/Passes.h.inc"
} // namespace mlir::tern

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

namespace {

/// `tern.add %h, %y into %h` right after the single-weight linear writing
/// %y becomes that linear's residual(%h).
struct FuseResidualAdd : public OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    Value h = add.getLhs(), y = add.getRhs();
    if (add.getOutput() != h || h == y)
      return rewriter.notifyMatchFailure(add, "not an in-place h = h + y");
    // Anything with memory effects between may read or change h or y.
    auto linear = neighbourAcrossPureOps<LinearOp>(add, /*backwards=*/true);
    if (!linear || linear.getOutputs().size() != 1 ||
        linear.getOutputs()[0] != y || linear.getResidual())
      return rewriter.notifyMatchFailure(add, "y is not a linear's output");
    // The linear's operands must not be h itself (it reads them while it
    // updates h).
    if (linear.getInput() == h || linear.getInputScale() == h)
      return rewriter.notifyMatchFailure(add, "the linear reads h");
    rewriter.modifyOpInPlace(linear,
                             [&] { linear.getResidualMutable().assign(h); });
    rewriter.eraseOp(add);
    return success();
  }
};

/// `tern.glu act %g, %u into %m` right after the gate/up linear writing
/// %g and %u becomes that linear's glu act(%m).
struct FuseGlu : public OpRewritePattern<GluOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GluOp glu,
                                PatternRewriter &rewriter) const override {
    Value m = glu.getOutput();
    auto linear = neighbourAcrossPureOps<LinearOp>(glu, /*backwards=*/true);
    if (!linear || linear.getOutputs().size() != 2 || linear.getResidual() ||
        linear.getGluOutput() || linear.getOutputs()[0] != glu.getGate() ||
        linear.getOutputs()[1] != glu.getUp())
      return rewriter.notifyMatchFailure(glu, "gate and up are not the two "
                                              "outputs of one linear");
    // The kernel writes m row block by row block while it reads the input
    // and writes g and u: m must be none of them.
    if (llvm::is_contained({glu.getGate(), glu.getUp(), linear.getInput(),
                            linear.getInputScale()},
                           m))
      return rewriter.notifyMatchFailure(glu, "the glu writes an operand");
    rewriter.modifyOpInPlace(linear, [&] {
      linear.setGluAttr(
          GluActivationAttr::get(getContext(), glu.getActivation()));
      linear.getGluOutputMutable().assign(m);
    });
    rewriter.eraseOp(glu);
    return success();
  }
};

struct FuseEpiloguesPass
    : public tern::impl::TernFuseEpiloguesBase<FuseEpiloguesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseResidualAdd, FuseGlu>(&getContext());
    if (failed(applyFusionPatterns(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
