//===- TernDialect.h - tern dialect -----------------------------*- C++ -*-===//

#ifndef TERNC_DIALECT_TERN_IR_TERNDIALECT_H
#define TERNC_DIALECT_TERN_IR_TERNDIALECT_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Dialect.h"

#include "ternc/Dialect/Tern/IR/TernOpsDialect.h.inc"

#endif // TERNC_DIALECT_TERN_IR_TERNDIALECT_H
