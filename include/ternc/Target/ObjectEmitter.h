//===- ObjectEmitter.h - LLVM-dialect module -> IR/asm/object ---*- C++ -*-===//

#ifndef TERNC_TARGET_OBJECTEMITTER_H
#define TERNC_TARGET_OBJECTEMITTER_H

#include "ternc/Target/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace ternc {

enum class EmitKind { LLVMIR, Assembly, Object };

/// Translates a module in the LLVM dialect to LLVM IR, optimises it for
/// `target` at `optLevel` (0-3) and writes LLVM IR, assembly or an object
/// file to `os`.
llvm::Error emitModule(mlir::ModuleOp module, const TargetInfo &target,
                       EmitKind kind, unsigned optLevel,
                       llvm::raw_pwrite_stream &os);

} // namespace ternc

#endif // TERNC_TARGET_OBJECTEMITTER_H
