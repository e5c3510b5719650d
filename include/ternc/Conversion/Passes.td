//===- Passes.td - tern conversion passes --------------------*- tablegen -*-===//

#ifndef TERNC_CONVERSION_PASSES_TD
#define TERNC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTernToVector : Pass<"convert-tern-to-vector", "::mlir::ModuleOp"> {
  let summary = "lower tern compute ops to scf loops over vector code";
  let description = [{
    `tern.quantize` becomes a vectorised absmax reduction and a scaling loop;
    `tern.linear` over `interleaved<B>` weights becomes, per output element,
    a loop over chunks that loads B/4 code bytes as one vector, unpacks them
    with four shift-and-mask steps and accumulates exact int32 products with
    the int8 activations. Weights are read through `tern.weight_data`.
    The f32 vector width comes from the module's `#tern.target`.
    `mca-markers` brackets the computation of each output element of
    `tern.linear` with llvm-mca region markers (inline assembly comments)
    for cost estimates; it changes scheduling, so it is for analysis only.
  }];
  let options = [
    Option<"mcaMarkers", "mca-markers", "bool", /*default=*/"false",
           "mark each output element as an llvm-mca code region">
  ];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect", "::mlir::amx::AMXDialect",
    "::mlir::arm_neon::ArmNeonDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertTernToLLVM : Pass<"convert-tern-to-llvm", "::mlir::ModuleOp"> {
  let summary = "lower weight access to the run-time blob pointer";
  let description = [{
    `tern.weight_data @w` becomes a memref over `ternc_weights + offset(@w)`,
    where `ternc_weights` is a pointer the runtime sets to the (mmapped or
    embedded) blob. The `tern.weight` declarations are removed and the blob
    size is emitted as the constant `ternc_weights_size` so the runtime can
    check the blob it is given.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def TernOutlineParallel : Pass<"tern-outline-parallel", "::mlir::ModuleOp"> {
  let summary = "run marked loops on the runtime's thread pool";
  let description = [{
    Every `scf.for` marked `tern.parallel` (its iterations write disjoint
    outputs, e.g. the rows of a `tern.linear`) is outlined into a function
    `(ctx, begin, end)` that runs iterations [begin, end), and replaced by a
    call `ternc_parallel_for(fn, ctx, lb, ub)` to the runtime, which splits
    the range across its threads. Values the loop uses are passed in a
    stack struct `ctx` (memrefs as their LLVM descriptors, bridged with
    unrealized casts that the LLVM conversions remove); constants and pure
    values computable from them are recomputed inside instead. Every
    output element is computed by the same code whatever the split, so
    results are bit-identical for any thread count.
  }];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect", "::mlir::func::FuncDialect",
    "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect"
  ];
}

#endif // TERNC_CONVERSION_PASSES_TD
