//===- PackWeights.cpp - lay out the run-time weight blob -----------------===//
//
// Every weight gets a fixed place in one blob so that generated code reaches
// it with a constant offset from a single base pointer, whether the runtime
// mmaps the blob from a file or it is embedded in the executable.
//
//===----------------------------------------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNPACKWEIGHTS
#include "ternc/Dialect/Tern/Transforms/Passes.h.inc"
} // namespace mlir::tern

using namespace mlir;
using namespace mlir::tern;

namespace {
struct PackWeightsPass
    : public tern::impl::TernPackWeightsBase<PackWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(module.getContext());
    int64_t offset = 0;
    for (auto entry : module.getOps<BlobEntryOpInterface>()) {
      entry.setBlobOffset(offset);
      offset += entry.getEntryBytes();
    }
    module->setAttr(kWeightsSizeAttrName, b.getI64IntegerAttr(offset));
  }
};
} // namespace
