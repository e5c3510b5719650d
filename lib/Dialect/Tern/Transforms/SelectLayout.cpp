//===- SelectLayout.cpp - choose weight layouts for the target ------------===//
//
// The kernel that consumes a weight decides how its codes should sit in
// memory. This pass makes that choice per weight, from the module's target,
// so the packing step and the lowering agree on one layout.
//
//===----------------------------------------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/KernelChoice.h"
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
    std::optional<KernelFamily> forced;
    if (kernel != "auto") {
      forced = symbolizeKernelFamily(kernel);
      if (!forced) {
        module.emitError()
            << "tern-select-layout: unknown kernel family '" << kernel
            << "' (auto, dot, lut, lut3, lut4, lut5 or portable)";
        return signalPassFailure();
      }
    }
    if (forced == KernelFamily::Portable)
      module->setAttr(kKernelFamilyAttrName,
                      StringAttr::get(&getContext(), "portable"));
    TargetAttr target = TargetAttr::lookup(module);
    if (chunk == 0 && !target) {
      module.emitError() << "tern-select-layout needs a #tern.target in the "
                            "module's '"
                         << TargetAttr::kModuleAttrName
                         << "' attribute, or an explicit chunk option";
      return signalPassFailure();
    }
    if (chunk == 0 && forced == KernelFamily::Dot && !hasDotKernel(target)) {
      module.emitError() << "kernel family 'dot' needs an int8 dot product "
                            "(AArch64 dotprod, x86 AVX2 or AVX-512); "
                         << target.getCpu() << " has none";
      return signalPassFailure();
    }
    const int64_t lutRows = target ? lookupVectorBytes(target) : 0;
    if (chunk == 0 &&
        (forced == KernelFamily::Lookup || forced == KernelFamily::Lookup3) &&
        lutRows == 0) {
      module.emitError() << "kernel family '" << kernel
                         << "' needs a byte table lookup "
                            "(x86 SSSE3/AVX2/AVX-512BW, AArch64 or ARMv7 "
                            "NEON); "
                         << target.getCpu() << " has none";
      return signalPassFailure();
    }
    const int64_t lut4Rows = target ? lookup4Rows(target) : 0;
    if (chunk == 0 && forced == KernelFamily::Lookup4 && lut4Rows == 0) {
      module.emitError() << "kernel family 'lut4' needs a 64-byte table "
                            "lookup (AVX-512 VBMI vpermb, AArch64 NEON tbl); "
                         << target.getCpu() << " has none";
      return signalPassFailure();
    }
    const int64_t lut5Rows = target ? lookup5Rows(target) : 0;
    if (chunk == 0 && forced == KernelFamily::Lookup5 && lut5Rows == 0) {
      module.emitError() << "kernel family 'lut5' needs AVX-512 VBMI "
                            "(vpermi2b on zmm); "
                         << target.getCpu() << " has none";
      return signalPassFailure();
    }
    const int64_t preferred =
        chunk ? int64_t(chunk)
              : interleavedChunk(target, forced == KernelFamily::Portable);

    module.walk([&](WeightOp weight) {
      TernaryType type = weight.getTernaryType();
      if (type.getLayout() != WeightLayout::Canonical)
        return;
      // Table lookups take per-tensor or per-row scales only.
      const bool lutAllowed =
          chunk == 0 && type.getScale() != ScaleGranularity::PerBlock;
      const KernelFamily family =
          forced ? *forced
                 : chooseKernelFamily(target, type.getRows(), type.getCols());
      if (lutAllowed && lutRows != 0 && family == KernelFamily::Lookup) {
        weight.setTypeAttr(
            TypeAttr::get(type.withLayout(WeightLayout::Lookup, lutRows)));
        return;
      }
      if (lutAllowed && lutRows != 0 && family == KernelFamily::Lookup3) {
        weight.setTypeAttr(
            TypeAttr::get(type.withLayout(WeightLayout::Lookup3, lutRows)));
        return;
      }
      if (lutAllowed && lut4Rows != 0 && family == KernelFamily::Lookup4) {
        weight.setTypeAttr(
            TypeAttr::get(type.withLayout(WeightLayout::Lookup4, lut4Rows)));
        return;
      }
      if (lutAllowed && lut5Rows != 0 && family == KernelFamily::Lookup5) {
        weight.setTypeAttr(
            TypeAttr::get(type.withLayout(WeightLayout::Lookup5, lut5Rows)));
        return;
      }
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
