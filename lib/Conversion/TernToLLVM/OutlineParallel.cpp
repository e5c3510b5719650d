//===- OutlineParallel.cpp - marked loops onto the runtime's threads -----===//
//
// The generated code has one callback into the runtime, ternc_parallel_for
// (see runtime/include/ternc/abi.h). This pass turns each loop marked
// `tern.parallel` into a call of it with an outlined body.
//
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNOUTLINEPARALLEL
#include "ternc/Conversion/Passes.h.inc"
} // namespace mlir::tern

using namespace mlir;
using namespace mlir::tern;

static constexpr llvm::StringLiteral kParallelFor = "ternc_parallel_for";

namespace {

/// Whether `v` can be recomputed inside the outlined function: a constant,
/// or a pure, region-free op of such values (weight views, subviews of
/// them), up to a small depth.
bool rematerializable(Value v, int depth = 0) {
  Operation *def = v.getDefiningOp();
  if (!def || depth > 4 || def->getNumRegions() != 0 || !isPure(def))
    return false;
  return llvm::all_of(def->getOperands(), [&](Value operand) {
    return rematerializable(operand, depth + 1);
  });
}

/// Clones the definition of `v` (and its operands) into `b`'s block.
Value rematerialize(OpBuilder &b, Value v, IRMapping &map) {
  if (Value known = map.lookupOrNull(v))
    return known;
  Operation *def = v.getDefiningOp();
  for (Value operand : def->getOperands())
    rematerialize(b, operand, map);
  Operation *clone = b.clone(*def, map);
  return clone->getResult(cast<OpResult>(v).getResultNumber());
}

struct OutlineParallelPass
    : public tern::impl::TernOutlineParallelBase<OutlineParallelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<scf::ForOp> loops;
    module.walk([&](scf::ForOp loop) {
      if (loop->hasAttr(kParallelAttrName) && loop.getNumResults() == 0)
        loops.push_back(loop);
    });
    if (loops.empty())
      return;

    LLVMTypeConverter converter(ctx);
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto bodyType = FunctionType::get(ctx, {ptrType, i64, i64}, {});
    OpBuilder top(ctx);
    top.setInsertionPointToEnd(module.getBody());
    auto parallelFor = module.lookupSymbol<func::FuncOp>(kParallelFor);
    if (!parallelFor) {
      parallelFor = top.create<func::FuncOp>(
          module.getLoc(), kParallelFor,
          FunctionType::get(ctx, {bodyType, ptrType, i64, i64}, {}));
      parallelFor.setPrivate();
    }

    unsigned counter = 0;
    for (scf::ForOp loop : loops) {
      Location loc = loop.getLoc();
      SetVector<Value> used;
      getUsedValuesDefinedAbove(loop.getRegion(), used);
      SmallVector<Value> captured, recomputed;
      for (Value v : used)
        (rematerializable(v) ? recomputed : captured).push_back(v);
      SmallVector<Type> fields;
      for (Value v : captured) {
        Type t = converter.convertType(v.getType());
        if (!t) {
          loop.emitOpError() << "cannot pass a value of type " << v.getType()
                             << " to a parallel loop body";
          return signalPassFailure();
        }
        fields.push_back(t);
      }
      auto structType = LLVM::LLVMStructType::getLiteral(ctx, fields);

      // The outlined body: unpack the context, run [begin, end).
      top.setInsertionPointToEnd(module.getBody());
      auto fn = top.create<func::FuncOp>(
          loc, "__tern_parallel_" + std::to_string(counter++), bodyType);
      fn.setPrivate();
      Block *entry = fn.addEntryBlock();
      OpBuilder b = OpBuilder::atBlockBegin(entry);
      IRMapping map;
      for (auto [i, v] : llvm::enumerate(captured)) {
        Value field = b.create<LLVM::GEPOp>(
            loc, ptrType, structType, entry->getArgument(0),
            ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
        Value loaded = b.create<LLVM::LoadOp>(loc, fields[i], field);
        if (loaded.getType() != v.getType())
          loaded =
              b.create<UnrealizedConversionCastOp>(loc, v.getType(), loaded)
                  .getResult(0);
        map.map(v, loaded);
      }
      for (Value v : recomputed)
        rematerialize(b, v, map);
      Value begin = b.create<arith::IndexCastOp>(loc, b.getIndexType(),
                                                 entry->getArgument(1));
      Value end = b.create<arith::IndexCastOp>(loc, b.getIndexType(),
                                               entry->getArgument(2));
      if (!rematerializable(loop.getStep())) {
        loop.emitOpError() << "a parallel loop needs a constant step";
        return signalPassFailure();
      }
      rematerialize(b, loop.getStep(), map);
      // The bounds are set after cloning: mapping their values would also
      // rewrite other uses of the same constants inside the body.
      auto clone = cast<scf::ForOp>(b.clone(*loop.getOperation(), map));
      clone.setLowerBound(begin);
      clone.setUpperBound(end);
      clone->removeAttr(kParallelAttrName);
      // Stack buffers of the body (static memref.alloca) belong to the
      // thread: one per call, at the entry, not one per iteration (an
      // alloca run in a loop grows the stack every time).
      clone.walk([&](memref::AllocaOp alloca) {
        if (alloca->getNumOperands() == 0)
          alloca->moveBefore(clone);
      });
      b.create<func::ReturnOp>(loc);

      // The call site: the context lives in the caller's entry block.
      auto caller = loop->getParentOfType<func::FuncOp>();
      OpBuilder entryBuilder =
          OpBuilder::atBlockBegin(&caller.getBody().front());
      Value one = entryBuilder.create<LLVM::ConstantOp>(loc, i64, int64_t(1));
      Value context =
          entryBuilder.create<LLVM::AllocaOp>(loc, ptrType, structType, one);
      OpBuilder cb(loop);
      for (auto [i, v] : llvm::enumerate(captured)) {
        Value bridged =
            v.getType() == fields[i]
                ? v
                : cb.create<UnrealizedConversionCastOp>(loc, fields[i], v)
                      .getResult(0);
        Value field = cb.create<LLVM::GEPOp>(
            loc, ptrType, structType, context,
            ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
        cb.create<LLVM::StoreOp>(loc, bridged, field);
      }
      Value body = cb.create<func::ConstantOp>(
          loc, bodyType, FlatSymbolRefAttr::get(fn.getSymNameAttr()));
      Value lb = cb.create<arith::IndexCastOp>(loc, i64, loop.getLowerBound());
      Value ub = cb.create<arith::IndexCastOp>(loc, i64, loop.getUpperBound());
      cb.create<func::CallOp>(loc, parallelFor,
                              ValueRange{body, context, lb, ub});
      loop.erase();
    }
  }
};

} // namespace
