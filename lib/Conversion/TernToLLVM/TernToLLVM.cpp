//===- TernToLLVM.cpp - lower weight access to the run-time blob ----------===//
//
// Generated code reaches every weight through one pointer, `ternc_weights`,
// that the runtime sets before the first call. One indirection keeps the
// object independent of where the blob lives: mmapped from a sidecar file or
// embedded in the executable.
//
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"

#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/Pattern.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::tern {
#define GEN_PASS_DEF_CONVERTTERNTOLLVM
#include "ternc/Conversion/Passes.h.inc"
} // namespace mlir::tern

using namespace mlir;
using namespace mlir::tern;

/// Symbols of the run-time ABI (see runtime/include/ternc/abi.h).
static constexpr llvm::StringLiteral kBlobPointer = "ternc_weights";
static constexpr llvm::StringLiteral kBlobSize = "ternc_weights_size";

namespace {

struct WeightDataLowering : public ConvertOpToLLVMPattern<WeightDataOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(WeightDataOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto weight =
        SymbolTable::lookupNearestSymbolFrom<WeightOp>(op, op.getWeightAttr());
    if (!weight || !weight.getOffset())
      return rewriter.notifyMatchFailure(op, "weight is not packed");
    Location loc = op.getLoc();
    auto ptrType = LLVM::LLVMPointerType::get(rewriter.getContext());
    Value addr = rewriter.create<LLVM::AddressOfOp>(loc, ptrType, kBlobPointer);
    Value base = rewriter.create<LLVM::LoadOp>(loc, ptrType, addr);
    // The offset may exceed int32: build it as an i64 constant.
    Value offset = rewriter.create<LLVM::ConstantOp>(
        loc, rewriter.getI64Type(),
        rewriter.getI64IntegerAttr(*weight.getOffset()));
    Value entry = rewriter.create<LLVM::GEPOp>(
        loc, ptrType, rewriter.getI8Type(), base, ValueRange{offset});
    Value desc = MemRefDescriptor::fromStaticShape(
        rewriter, loc, *getTypeConverter(), op.getData().getType(), entry);
    rewriter.replaceOp(op, desc);
    return success();
  }
};

struct ConvertTernToLLVMPass
    : public tern::impl::ConvertTernToLLVMBase<ConvertTernToLLVMPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    b.setInsertionPointToStart(module.getBody());
    auto ptrType = LLVM::LLVMPointerType::get(ctx);

    bool usesBlob = !module.getOps<WeightOp>().empty();
    if (usesBlob && !module.lookupSymbol(kBlobPointer))
      b.create<LLVM::GlobalOp>(module.getLoc(), ptrType, /*isConstant=*/false,
                               LLVM::Linkage::External, kBlobPointer,
                               Attribute());
    if (auto size = module->getAttrOfType<IntegerAttr>(kWeightsSizeAttrName)) {
      if (!module.lookupSymbol(kBlobSize))
        b.create<LLVM::GlobalOp>(module.getLoc(), b.getI64Type(),
                                 /*isConstant=*/true, LLVM::Linkage::External,
                                 kBlobSize, b.getI64IntegerAttr(size.getInt()));
    }

    LLVMTypeConverter converter(ctx);
    RewritePatternSet patterns(ctx);
    populateTernToLLVMPatterns(converter, patterns);
    ConversionTarget target(*ctx);
    target.addLegalDialect<LLVM::LLVMDialect>();
    target.addIllegalOp<WeightDataOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    // The declarations have served: offsets are now constants in the code.
    for (WeightOp weight :
         llvm::make_early_inc_range(module.getOps<WeightOp>()))
      weight.erase();
    module->removeAttr(kWeightsSizeAttrName);
  }
};

} // namespace

void mlir::tern::populateTernToLLVMPatterns(LLVMTypeConverter &converter,
                                            RewritePatternSet &patterns) {
  patterns.add<WeightDataLowering>(converter);
}
