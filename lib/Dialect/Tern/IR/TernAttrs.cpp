//===- TernAttrs.cpp - tern enums and attributes --------------------------===//

#include "ternc/Dialect/Tern/IR/TernAttrs.h"
#include "ternc/Dialect/Tern/IR/TernDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tern;

#include "ternc/Dialect/Tern/IR/TernEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "ternc/Dialect/Tern/IR/TernAttrs.cpp.inc"

void TernDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ternc/Dialect/Tern/IR/TernAttrs.cpp.inc"
      >();
}

LogicalResult TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef triple, StringRef cpu,
                                 StringRef features, ArrayAttr isa,
                                 int64_t vectorBits) {
  if (triple.empty())
    return emitError() << "target triple must not be empty";
  if (cpu.empty())
    return emitError() << "target cpu must not be empty (name the CPU; "
                          "ternc never picks a generic one silently)";
  for (Attribute a : isa)
    if (!llvm::isa_and_nonnull<StringAttr>(a))
      return emitError() << "target isa entries must be strings, got " << a;
  if (vectorBits != 64 && vectorBits != 128 && vectorBits != 256 &&
      vectorBits != 512)
    return emitError() << "target vector_bits must be 64, 128, 256 or 512, "
                          "got "
                       << vectorBits;
  return success();
}

bool TargetAttr::has(StringRef capability) const {
  return llvm::any_of(getIsa(), [&](Attribute a) {
    return llvm::cast<StringAttr>(a).getValue() == capability;
  });
}

TargetAttr TargetAttr::lookup(Operation *op) {
  for (Operation *cur = op; cur; cur = cur->getParentOp())
    if (auto attr = cur->getAttrOfType<TargetAttr>(kModuleAttrName))
      return attr;
  return {};
}
