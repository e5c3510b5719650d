//===- TernOps.cpp - tern operations --------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::tern;

#define GET_OP_CLASSES
#include "ternc/Dialect/Tern/IR/TernOps.cpp.inc"

/// True when two dimensions may be equal (either is dynamic or both match).
static bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? "?" : std::to_string(d);
}

/// Checks that the M dimension agrees between the activation operands.
static LogicalResult verifyRows(Operation *op, MemRefType input,
                                MemRefType scale, StringRef scaleName) {
  if (!compatible(input.getDimSize(0), scale.getDimSize(0)))
    return op->emitOpError()
           << "has " << dimStr(input.getDimSize(0)) << " input rows but "
           << scaleName << " has " << dimStr(scale.getDimSize(0)) << " entries";
  return success();
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getSource().empty())
    return emitOpError() << "needs the name of its weight-store entry";
  if (std::optional<int64_t> offset = getOffset()) {
    if (*offset < 0 || *offset % TernaryType::kEntryAlign != 0)
      return emitOpError() << "offset " << *offset
                           << " must be a non-negative multiple of "
                           << TernaryType::kEntryAlign;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  MemRefType in = getInput().getType();
  MemRefType out = getOutput().getType();
  if (ShapedType::isDynamic(in.getDimSize(1)))
    return emitOpError() << "needs a static K (columns) dimension";
  if (!compatible(in.getDimSize(0), out.getDimSize(0)) ||
      in.getDimSize(1) != out.getDimSize(1))
    return emitOpError() << "input shape [" << dimStr(in.getDimSize(0)) << ", "
                         << in.getDimSize(1) << "] and output shape ["
                         << dimStr(out.getDimSize(0)) << ", "
                         << dimStr(out.getDimSize(1)) << "] differ";
  return verifyRows(*this, in, getScale().getType(), "scale");
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  MemRefType in = getInput().getType();
  MemRefType out = getOutput().getType();
  if (ShapedType::isDynamic(in.getDimSize(1)) ||
      ShapedType::isDynamic(out.getDimSize(1)))
    return emitOpError() << "needs static K (input columns) and N (output "
                            "columns)";
  if (!compatible(in.getDimSize(0), out.getDimSize(0)))
    return emitOpError() << "has " << dimStr(in.getDimSize(0))
                         << " input rows but " << dimStr(out.getDimSize(0))
                         << " output rows";
  return verifyRows(*this, in, getInputScale().getType(), "input_scale");
}

/// Looks up the tern.weight named by `op`'s `weight` attribute.
static FailureOr<WeightOp> lookupWeight(Operation *op, FlatSymbolRefAttr symbol,
                                        SymbolTableCollection &symbolTable) {
  auto weight = symbolTable.lookupNearestSymbolFrom<WeightOp>(op, symbol);
  if (!weight)
    return op->emitOpError()
           << "references " << symbol << ", which is not a tern.weight";
  return weight;
}

LogicalResult LinearOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FailureOr<WeightOp> weight =
      lookupWeight(*this, getWeightAttr(), symbolTable);
  if (failed(weight))
    return failure();
  TernaryType type = weight->getTernaryType();
  int64_t k = getInput().getType().getDimSize(1);
  int64_t n = getOutput().getType().getDimSize(1);
  if (type.getRows() != n || type.getCols() != k)
    return emitOpError() << "computes [M, " << k << "] x [" << k << ", " << n
                         << "] but " << getWeightAttr() << " is "
                         << type.getRows() << "x" << type.getCols()
                         << " (N x K)";
  return success();
}

//===----------------------------------------------------------------------===//
// WeightDataOp
//===----------------------------------------------------------------------===//

LogicalResult
WeightDataOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FailureOr<WeightOp> weight =
      lookupWeight(*this, getWeightAttr(), symbolTable);
  if (failed(weight))
    return failure();
  if (!weight->getOffset())
    return emitOpError() << getWeightAttr()
                         << " has no blob offset: run tern-pack-weights first";
  int64_t bytes = weight->getTernaryType().getPackedBytes();
  MemRefType type = getData().getType();
  if (type.getRank() != 1 || type.getDimSize(0) != bytes)
    return emitOpError() << "result must be memref<" << bytes
                         << "xi8>, the packed size of " << getWeightAttr();
  return success();
}
