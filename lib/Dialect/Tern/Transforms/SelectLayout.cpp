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
/// The layout a lookup family reads on a target: R = 0 where the target
/// lacks the family's lookup, which `needs` then names.
struct LookupLayout {
  WeightLayout layout;
  int64_t rows;
  StringRef needs;
};

/// The lookup layout of `family`, or none for the other families.
std::optional<LookupLayout> lookupLayout(KernelFamily family,
                                         TargetAttr target) {
  constexpr StringLiteral kShuffle = "a byte table lookup (x86 "
                                     "SSSE3/AVX2/AVX-512BW, AArch64 or ARMv7 "
                                     "NEON)";
  switch (family) {
  case KernelFamily::Lookup:
    return LookupLayout{WeightLayout::Lookup, lookupVectorBytes(target),
                        kShuffle};
  case KernelFamily::Lookup3:
    return LookupLayout{WeightLayout::Lookup3, lookupVectorBytes(target),
                        kShuffle};
  case KernelFamily::Lookup4:
    return LookupLayout{WeightLayout::Lookup4, lookup4Rows(target),
                        "a 64-byte table lookup (AVX-512 VBMI vpermb, "
                        "AArch64 NEON tbl)"};
  case KernelFamily::Lookup5:
    return LookupLayout{WeightLayout::Lookup5, lookup5Rows(target),
                        "AVX-512 VBMI (vpermi2b on zmm)"};
  default:
    return std::nullopt;
  }
}

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
    // A forced lookup family the target cannot look up is an error.
    if (chunk == 0 && forced)
      if (std::optional<LookupLayout> l = lookupLayout(*forced, target);
          l && l->rows == 0) {
        module.emitError() << "kernel family '" << kernel << "' needs "
                           << l->needs << "; " << target.getCpu()
                           << " has none";
        return signalPassFailure();
      }
    const int64_t preferred =
        chunk ? int64_t(chunk)
              : interleavedChunk(target, forced == KernelFamily::Portable);
    const int64_t preferredRows =
        rows    ? int64_t(rows)
        : chunk ? 1
                : interleavedRowGroup(target, forced == KernelFamily::Portable);

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
      if (std::optional<LookupLayout> l = lookupLayout(family, target);
          lutAllowed && l && l->rows != 0) {
        weight.setTypeAttr(TypeAttr::get(type.withLayout(l->layout, l->rows)));
        return;
      }
      int64_t b = preferred;
      // Rows are padded to whole chunks: a short row takes the smaller
      // chunk when the large one would pad it by more than 1/8 over it.
      auto padded = [&](int64_t c) { return (type.getCols() + c - 1) / c * c; };
      while (chunk == 0 && b > 64 && padded(b) * 8 > padded(b / 4) * 9)
        b /= 4;
      // A smaller chunk than the dot kernel's leaves the weight to the
      // portable kernel, and block scales are applied one row at a time:
      // neither has a row tile.
      int64_t rowGroup = b == preferred || chunk ? preferredRows : 1;
      // A chunk must not straddle two scale blocks.
      if (type.getScale() == ScaleGranularity::PerBlock) {
        rowGroup = 1;
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
          WeightLayout::Interleaved, b, rowGroup);
      if (!newType)
        return signalPassFailure();
      weight.setTypeAttr(TypeAttr::get(newType));
    });
  }
};
} // namespace
