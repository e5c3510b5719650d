//===- TernBase.td - tern dialect definition ---------------*- tablegen -*-===//
//
// The `tern` dialect describes ternary-weight (BitNet b1.58) inference:
// activation quantization, ternary linear layers whose weights live in an
// external weight store, and the target description the passes consult.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_DIALECT_TERN_IR_TERNBASE_TD
#define TERNC_DIALECT_TERN_IR_TERNBASE_TD

include "mlir/IR/OpBase.td"

def Tern_Dialect : Dialect {
  let name = "tern";
  let cppNamespace = "::mlir::tern";
  let summary = "Ternary-weight inference operations";
  let description = [{
    Ops, types and attributes for compiling BitNet b1.58 style models.
    Weights never appear inline: a `tern.weight` symbol names an entry of the
    weight store (a checkpoint or blob read by the driver) and gives its
    logical shape, scale granularity and storage layout.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
  let extraClassDeclaration = [{
    // Defined next to the storage classes they need.
    void registerTypes();
    void registerAttributes();
  }];
}

#endif // TERNC_DIALECT_TERN_IR_TERNBASE_TD
