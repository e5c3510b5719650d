//===- Passes.h - tern transformation passes --------------------*- C++ -*-===//

#ifndef TERNC_DIALECT_TERN_TRANSFORMS_PASSES_H
#define TERNC_DIALECT_TERN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::tern {

/// Name of the module attribute holding the weight blob size in bytes.
inline constexpr llvm::StringLiteral kWeightsSizeAttrName = "tern.weights_size";
/// Set by the weight-blob writer: the blob's checksum (see
/// runtime/include/ternc/checksum.h), which the program verifies.
inline constexpr llvm::StringLiteral kWeightsChecksumAttrName =
    "tern.weights_checksum";

/// Set by tern-select-layout when a kernel family is forced (e.g.
/// "portable"); the lowering follows it.
inline constexpr llvm::StringLiteral kKernelFamilyAttrName =
    "tern.kernel_family";

#define GEN_PASS_DECL
#include "ternc/Dialect/Tern/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ternc/Dialect/Tern/Transforms/Passes.h.inc"

} // namespace mlir::tern

#endif // TERNC_DIALECT_TERN_TRANSFORMS_PASSES_H
