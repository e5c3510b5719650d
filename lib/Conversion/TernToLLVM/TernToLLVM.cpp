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
static constexpr llvm::StringLiteral kBlobChecksum = "ternc_weights_checksum";

namespace {

/// A memref of static shape `type` over `ternc_weights + offset`.
Value blobView(ConversionPatternRewriter &rewriter, Location loc,
               const LLVMTypeConverter &converter, MemRefType type,
               int64_t offset) {
  auto ptrType = LLVM::LLVMPointerType::get(rewriter.getContext());
  Value addr = rewriter.create<LLVM::AddressOfOp>(loc, ptrType, kBlobPointer);
  Value base = rewriter.create<LLVM::LoadOp>(loc, ptrType, addr);
  // The offset may exceed int32: build it as an i64 constant.
  Value off = rewriter.create<LLVM::ConstantOp>(
      loc, rewriter.getI64Type(), rewriter.getI64IntegerAttr(offset));
  Value entry = rewriter.create<LLVM::GEPOp>(loc, ptrType, rewriter.getI8Type(),
                                             base, ValueRange{off});
  return MemRefDescriptor::fromStaticShape(rewriter, loc, converter, type,
                                           entry);
}

/// Lowers an op that names a blob entry (`weight_data`, `get_param`).
template <typename OpTy>
struct BlobAccessLowering : public ConvertOpToLLVMPattern<OpTy> {
  using ConvertOpToLLVMPattern<OpTy>::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto entry = SymbolTable::lookupNearestSymbolFrom<BlobEntryOpInterface>(
        op, op.getSymbolAttr());
    if (!entry || !entry.getBlobOffset())
      return rewriter.notifyMatchFailure(op, "blob entry is not laid out");
    int64_t offset = *entry.getBlobOffset();
    // The row scales of an int8 parameter follow its codes, its row bounds
    // its scales.
    if constexpr (std::is_same_v<OpTy, GetParamScalesOp>)
      offset += cast<ParamOp>(entry.getOperation()).getScalesOffset();
    if constexpr (std::is_same_v<OpTy, GetParamBoundsOp>)
      offset += cast<ParamOp>(entry.getOperation()).getBoundsOffset();
    rewriter.replaceOp(op, blobView(rewriter, op.getLoc(),
                                    *this->getTypeConverter(),
                                    op.getData().getType(), offset));
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

    bool usesBlob = !module.getOps<BlobEntryOpInterface>().empty();
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
    if (auto sum =
            module->getAttrOfType<IntegerAttr>(kWeightsChecksumAttrName)) {
      if (!module.lookupSymbol(kBlobChecksum))
        b.create<LLVM::GlobalOp>(module.getLoc(), b.getI64Type(),
                                 /*isConstant=*/true, LLVM::Linkage::External,
                                 kBlobChecksum,
                                 b.getI64IntegerAttr(sum.getInt()));
    }

    LLVMTypeConverter converter(ctx);
    RewritePatternSet patterns(ctx);
    populateTernToLLVMPatterns(converter, patterns);
    ConversionTarget target(*ctx);
    target.addLegalDialect<LLVM::LLVMDialect>();
    target.addIllegalOp<WeightDataOp, GetParamOp, GetParamScalesOp,
                        GetParamBoundsOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    // The declarations have served: offsets are now constants in the code.
    for (auto entry :
         llvm::make_early_inc_range(module.getOps<BlobEntryOpInterface>()))
      entry->erase();
    module->removeAttr(kWeightsSizeAttrName);
    module->removeAttr(kWeightsChecksumAttrName);
  }
};

} // namespace

void mlir::tern::populateTernToLLVMPatterns(LLVMTypeConverter &converter,
                                            RewritePatternSet &patterns) {
  patterns.add<BlobAccessLowering<WeightDataOp>, BlobAccessLowering<GetParamOp>,
               BlobAccessLowering<GetParamScalesOp>,
               BlobAccessLowering<GetParamBoundsOp>>(converter);
}
