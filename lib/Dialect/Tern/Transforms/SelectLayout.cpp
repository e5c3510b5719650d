//===- SelectLayout.cpp - choose weight layouts for the target ------------===//
//
// The kernel that consumes a weight decides how its codes should sit in
// memory. This pass makes that choice per weight, from the module's target,
// so the packing step and the lowering agree on one layout.
//
//===----------------------------------------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNSELECTLAYOUT
#include "ternc/Dialect/Tern/Transforms/Passes.h.inc"
} // namespace mlir::tern

using namespace mlir;
using namespace mlir::tern;

namespace {
struct SelectLayoutPass
    : public tern::impl::TernSelectLayoutBase<SelectLayoutPass> {
  using TernSelectLayoutBase::TernSelectLayoutBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (kernel != "auto" && kernel != "portable") {
      module.emitError() << "tern-select-layout: unknown kernel family '"
                         << kernel << "' (auto or portable)";
      return signalPassFailure();
    }
    const bool portable = kernel == "portable";
    if (portable)
      module->setAttr(kKernelFamilyAttrName,
                      StringAttr::get(&getContext(), "portable"));
    int64_t preferred = chunk;
    if (preferred == 0) {
      TargetAttr target = TargetAttr::lookup(module);
      if (!target) {
        module.emitError() << "tern-select-layout needs a #tern.target in the "
                              "module's '"
                           << TargetAttr::kModuleAttrName
                           << "' attribute, or an explicit chunk option";
        return signalPassFailure();
      }
      // One vector of i32 accumulators holds a quarter of a chunk, so a
      // chunk of vector_bits/8 weights fills the widest vector exactly.
      preferred = std::max<int64_t>(16, target.getVectorBits() / 8);
      // AArch64 dotprod: bit planes of 16 weights feed `sdot` whole.
      if (!portable && target.has("dotprod") &&
          StringRef(target.getTriple()).starts_with("aarch64"))
        preferred = 64;
      // x86 u8 x s8 kernels (vpdpbusd, vpmaddubsw): a bit plane fills a
      // whole vector of bytes, 64 weights with AVX-512BW, 32 with AVX2 (per
      // weight below: only where the padding costs little).
      StringRef triple = target.getTriple();
      if (!portable && triple.starts_with("x86_64")) {
        if (target.getVectorBits() >= 512 &&
            (target.has("avx512bw") || target.has("avx512vnni")))
          preferred = 256;
        else if (target.getVectorBits() >= 256 && target.has("avx2"))
          preferred = 128;
      }
    }

    module.walk([&](WeightOp weight) {
      TernaryType type = weight.getTernaryType();
      if (type.getLayout() != WeightLayout::Canonical)
        return;
      int64_t b = preferred;
      // Rows are padded to whole chunks: a short row takes the smaller
      // chunk when the large one would pad it by more than 1/8 over it.
      auto padded = [&](int64_t c) { return (type.getCols() + c - 1) / c * c; };
      while (chunk == 0 && b > 64 && padded(b) * 8 > padded(b / 4) * 9)
        b /= 4;
      // A chunk must not straddle two scale blocks.
      if (type.getScale() == ScaleGranularity::PerBlock) {
        if (type.getGroupSize() % 16 != 0) {
          weight.emitOpError()
              << "has block<" << type.getGroupSize()
              << "> scales: the vector kernels need a block size that is a "
                 "multiple of 16";
          return signalPassFailure();
        }
        while (b > 16 && type.getGroupSize() % b != 0)
          b /= 2;
      }
      auto newType = TernaryType::getChecked(
          [&] { return weight.emitOpError(); }, type.getContext(),
          type.getRows(), type.getCols(), type.getScale(), type.getGroupSize(),
          WeightLayout::Interleaved, b);
      if (!newType)
        return signalPassFailure();
      weight.setTypeAttr(TypeAttr::get(newType));
    });
  }
};
} // namespace
