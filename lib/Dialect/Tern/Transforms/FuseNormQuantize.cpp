//===- FuseNormQuantize.cpp - quantize inside the RMSNorm producing it ----===//
//
// Every BitNet linear reads int8 activations quantized from an RMSNorm's
// output (the block norms and the sub-norms). Quantizing while normalising
// saves a pass over the row and an op on the serial path between two
// parallel linears.
//
//===----------------------------------------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"

#include "FusionUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNFUSENORMQUANTIZE
#include "ternc/Dialect/Tern/Transforms/Passes.h.inc"
} // namespace mlir::tern

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

namespace {

struct FuseQuantizeIntoNorm : public OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeOp quantize,
                                PatternRewriter &rewriter) const override {
    if (quantize.getScheme() != QuantScheme::BitNet)
      return rewriter.notifyMatchFailure(quantize, "not the bitnet scheme");
    // Anything with memory effects between may change the normalised row.
    auto norm = neighbourAcrossPureOps<RMSNormOp>(quantize, /*backwards=*/true);
    if (!norm || norm.getOutput() != quantize.getInput())
      return rewriter.notifyMatchFailure(quantize, "not a norm's result");
    // At the quantize: its outputs may be views made after the norm.
    rewriter.setInsertionPoint(quantize);
    rewriter.create<RMSNormQuantizeOp>(
        rewriter.getFusedLoc({norm.getLoc(), quantize.getLoc()}),
        norm.getInput(), norm.getWeight(), norm.getOutput(),
        quantize.getOutput(), quantize.getScale(), norm.getEpsAttr(),
        norm.getLanesAttr());
    rewriter.eraseOp(quantize);
    rewriter.eraseOp(norm);
    return success();
  }
};

struct FuseNormQuantizePass
    : public tern::impl::TernFuseNormQuantizeBase<FuseNormQuantizePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseQuantizeIntoNorm>(&getContext());
    if (failed(applyFusionPatterns(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
