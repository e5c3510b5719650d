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

#endif // TERNC_DIALECT_TERN_IR_TERNOPS_H
