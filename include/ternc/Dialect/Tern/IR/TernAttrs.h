//===- TernAttrs.h - tern enums and attributes ------------------*- C++ -*-===//

#ifndef TERNC_DIALECT_TERN_IR_TERNATTRS_H
#define TERNC_DIALECT_TERN_IR_TERNATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"

#include "ternc/Dialect/Tern/IR/TernEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ternc/Dialect/Tern/IR/TernAttrs.h.inc"

#endif // TERNC_DIALECT_TERN_IR_TERNATTRS_H
