//===- TernInterfaces.td - tern op interfaces ----------------*- tablegen -*-===//

#ifndef TERNC_DIALECT_TERN_IR_TERNINTERFACES_TD
#define TERNC_DIALECT_TERN_IR_TERNINTERFACES_TD

include "mlir/IR/OpBase.td"

def Tern_BlobEntryOpInterface : OpInterface<"BlobEntryOpInterface"> {
  let cppNamespace = "::mlir::tern";
  let description = [{
    A declaration whose data lives in the run-time weight blob: a ternary
    matrix (`tern.weight`) or a dense parameter (`tern.param`). The blob
    layout pass and the blob writer treat all entries alike through this
    interface.
  }];
  let methods = [
    InterfaceMethod<"Bytes the entry occupies in the blob (64-byte aligned).",
                    "int64_t", "getEntryBytes">,
    InterfaceMethod<"The name of the entry in the weight store.",
                    "::llvm::StringRef", "getStoreName">,
    InterfaceMethod<"Byte offset in the blob, once laid out.",
                    "std::optional<int64_t>", "getBlobOffset">,
    InterfaceMethod<"Sets the byte offset in the blob.", "void",
                    "setBlobOffset", (ins "int64_t":$offset)>,
  ];
}

#endif // TERNC_DIALECT_TERN_IR_TERNINTERFACES_TD
