//===- TernOps.h - tern operations ------------------------------*- C++ -*-===//

#ifndef TERNC_DIALECT_TERN_IR_TERNOPS_H
#define TERNC_DIALECT_TERN_IR_TERNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "ternc/Dialect/Tern/IR/TernAttrs.h"
#include "ternc/Dialect/Tern/IR/TernDialect.h"
#include "ternc/Dialect/Tern/IR/TernInterfaces.h.inc"
#include "ternc/Dialect/Tern/IR/TernTypes.h"

#define GET_OP_CLASSES
#include "ternc/Dialect/Tern/IR/TernOps.h.inc"

namespace mlir::tern {
/// Positions per tile of the key cache (tern.attention, tern.store_keys;
/// TERNC_KEY_TILE in runtime/include/ternc/abi.h): a multiple of every
/// target's f32 vector lanes, so a vector of positions never straddles two
/// tiles.
inline constexpr int64_t kKeyTile = 16;
/// Scores workspace rows a query head gets in a module with prefill: the
/// most queries tern.attention's lowering computes together.
inline constexpr int64_t kAttentionQueryRows = 4;
} // namespace mlir::tern

#endif // TERNC_DIALECT_TERN_IR_TERNOPS_H
