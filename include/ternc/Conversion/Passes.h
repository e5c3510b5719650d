//===- Passes.h - tern conversion passes ------------------------*- C++ -*-===//

#ifndef TERNC_CONVERSION_PASSES_H
#define TERNC_CONVERSION_PASSES_H

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
class LLVMTypeConverter;

namespace tern {

/// Marks an scf.for whose iterations write disjoint outputs, so that
/// tern-outline-parallel may run them on the runtime's threads.
inline constexpr llvm::StringLiteral kParallelAttrName = "tern.parallel";

/// Patterns lowering tern.quantize and tern.linear to scf + vector;
/// `mcaMarkers` brackets the chunk loop body with llvm-mca markers.
void populateTernToVectorPatterns(RewritePatternSet &patterns,
                                  bool mcaMarkers = false);

/// Patterns lowering the model ops (embedding, norms, RoPE, attention, gated
/// units, adds, dense matmul) to scf loops.
void populateTernModelOpsToLoopsPatterns(RewritePatternSet &patterns);

/// Patterns lowering tern.weight_data and tern.weight to the LLVM dialect.
void populateTernToLLVMPatterns(LLVMTypeConverter &converter,
                                RewritePatternSet &patterns);

#define GEN_PASS_DECL
#include "ternc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ternc/Conversion/Passes.h.inc"

} // namespace tern
} // namespace mlir

#endif // TERNC_CONVERSION_PASSES_H
