//===- Report.h - what ternc chose, and what it should cost ------*- C++
//-*-===//

#ifndef TERNC_TARGET_REPORT_H
#define TERNC_TARGET_REPORT_H

#include "ternc/Target/Boards.h"
#include "ternc/Target/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace ternc {

/// Prints, for a module after tern-transform: per ternary linear the kernel,
/// its layout, the bytes it reads per token and an estimate of its cycles
/// per token from LLVM's scheduling model of the target CPU (llvm-mca over
/// the kernel's inner loop); then the bytes per token and, given a board,
/// the estimated decode tokens/s bounded by its clock and memory bandwidth.
/// Everything but the byte counts is an estimate and is labelled so.
llvm::Error printReport(mlir::ModuleOp module, const TargetInfo &target,
                        const Board *board, llvm::raw_ostream &os);

} // namespace ternc

#endif // TERNC_TARGET_REPORT_H
