//===- Passes.h - tern transformation passes --------------------*- C++ -*-===//

#ifndef TERNC_DIALECT_TERN_TRANSFORMS_PASSES_H
#define TERNC_DIALECT_TERN_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::tern {

/// Name of the module attribute holding the weight blob size in bytes.
inline constexpr llvm::StringLiteral kWeightsSizeAttrName = "tern.weights_size";

#define GEN_PASS_DECL
#include "ternc/Dialect/Tern/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ternc/Dialect/Tern/Transforms/Passes.h.inc"

} // namespace mlir::tern

#endif // TERNC_DIALECT_TERN_TRANSFORMS_PASSES_H
