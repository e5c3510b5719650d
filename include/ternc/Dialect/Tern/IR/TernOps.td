//===- TernOps.td - tern operations --------------------------*- tablegen -*-===//

#ifndef TERNC_DIALECT_TERN_IR_TERNOPS_TD
#define TERNC_DIALECT_TERN_IR_TERNOPS_TD

include "ternc/Dialect/Tern/IR/TernBase.td"
include "ternc/Dialect/Tern/IR/TernTypes.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Tern_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tern_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Weight store
//===----------------------------------------------------------------------===//

def Tern_WeightOp : Tern_Op<"weight", [Symbol, IsolatedFromAbove]> {
  let summary = "declares one ternary matrix of the weight store";
  let description = [{
    Names a weight matrix that lives outside the IR: `source` is the name of
    the entry in the weight store the driver reads (a checkpoint tensor or a
    blob entry). The type gives its logical shape, scale granularity and
    storage layout. After `tern-pack-weights`, `offset` is the byte offset of
    the packed entry (codes then scales, see `!tern.ternary`) inside the
    weight blob the generated code reads at run time.

    ```mlir
    tern.weight @wq : !tern.ternary<640x2560, per_tensor, canonical> from "blk.0.attn_q.weight"
    tern.weight @wk : !tern.ternary<640x2560, per_row, interleaved<64>> from "wk" at 4096
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<Tern_TernaryType>:$type,
    StrAttr:$source,
    OptionalAttr<I64Attr>:$offset
  );
  let assemblyFormat = [{
    $sym_name `:` $type `from` $source (`at` $offset^)? attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    TernaryType getTernaryType() { return ::llvm::cast<TernaryType>(getType()); }
  }];
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Tern_QuantizeOp : Tern_Op<"quantize"> {
  let summary = "per-row absmax quantization of f32 activations to int8";
  let description = [{
    For each row m of `input` [M, K]:
    `scale[m] = 127 / max(max_k |input[m, k]|, 1e-5)` and
    `output[m, k] = clamp(round_half_to_even(input[m, k] * scale[m]), -128, 127)`,
    all in f32.

    ```mlir
    tern.quantize %x into %q, %s : memref<1x2560xf32>, memref<1x2560xi8>, memref<1xf32>
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [2]>, "activations [M, K]", [MemRead]>:$input,
    Arg<MemRefRankOf<[I8], [2]>, "quantized [M, K]", [MemWrite]>:$output,
    Arg<MemRefRankOf<[F32], [1]>, "per-row scales [M]", [MemWrite]>:$scale
  );
  let assemblyFormat = [{
    $input `into` $output `,` $scale attr-dict `:`
    type($input) `,` type($output) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Tern_LinearOp : Tern_Op<"linear",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "int8 activations times a ternary weight matrix";
  let description = [{
    `output[m, n]` for int8 `input` [M, K] with per-row scales `input_scale`
    [M] (as produced by `tern.quantize`) and the ternary matrix `weight`
    [N, K] with scales w. The integer sums are exact in int32:
    `acc[m, n, b] = sum over k in block b of T[n, k] * input[m, k]`.
    Per tensor or per row (one block): `output = (f32(acc) / input_scale[m]) * w`.
    Per block: `output = (sum_b f32(acc_b) * w_b) / input_scale[m]`,
    blocks summed in order.

    ```mlir
    tern.linear @wq(%q, %s) into %y : memref<1x2560xi8>, memref<1xf32>, memref<1x640xf32>
    ```
  }];
  let arguments = (ins
    FlatSymbolRefAttr:$weight,
    Arg<MemRefRankOf<[I8], [2]>, "quantized activations [M, K]", [MemRead]>:$input,
    Arg<MemRefRankOf<[F32], [1]>, "activation scales [M]", [MemRead]>:$input_scale,
    Arg<MemRefRankOf<[F32], [2]>, "result [M, N]", [MemWrite]>:$output
  );
  let assemblyFormat = [{
    $weight `(` $input `,` $input_scale `)` `into` $output attr-dict `:`
    type($input) `,` type($input_scale) `,` type($output)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Low-level access (produced by convert-tern-to-vector)
//===----------------------------------------------------------------------===//

def Tern_WeightDataOp : Tern_Op<"weight_data",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the packed bytes of a weight inside the run-time blob";
  let description = [{
    A view of the packed entry of a packed `tern.weight` (codes, then scales
    at `getScaleOffset()`) inside the weight blob the runtime provides
    through the `ternc_weights` pointer. `convert-tern-to-llvm` turns it into
    that pointer plus the weight's offset.

    ```mlir
    %bytes = tern.weight_data @wq : memref<409664xi8>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$weight);
  let results = (outs StaticShapeMemRefOf<[I8]>:$data);
  let assemblyFormat = "$weight attr-dict `:` type($data)";
}

#endif // TERNC_DIALECT_TERN_IR_TERNOPS_TD
