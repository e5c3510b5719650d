//===- TernDialect.cpp - tern dialect registration ------------------------===//

#include "ternc/Dialect/Tern/IR/TernDialect.h"
#include "ternc/Dialect/Tern/IR/TernAttrs.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/IR/TernTypes.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tern;

#include "ternc/Dialect/Tern/IR/TernOpsDialect.cpp.inc"

void TernDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ternc/Dialect/Tern/IR/TernOps.cpp.inc"
      >();
  registerTypes();
  registerAttributes();
}
