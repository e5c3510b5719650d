//===- TernTypes.h - tern types ---------------------------------*- C++ -*-===//

#ifndef TERNC_DIALECT_TERN_IR_TERNTYPES_H
#define TERNC_DIALECT_TERN_IR_TERNTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"
#include "ternc/Dialect/Tern/IR/TernAttrs.h"

#define GET_TYPEDEF_CLASSES
#include "ternc/Dialect/Tern/IR/TernOpsTypes.h.inc"

#endif // TERNC_DIALECT_TERN_IR_TERNTYPES_H
