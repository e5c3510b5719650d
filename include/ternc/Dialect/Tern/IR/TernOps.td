//===- TernOps.td - tern operations --------------------------*- tablegen -*-===//

#ifndef TERNC_DIALECT_TERN_IR_TERNOPS_TD
#define TERNC_DIALECT_TERN_IR_TERNOPS_TD

include "ternc/Dialect/Tern/IR/TernBase.td"
include "ternc/Dialect/Tern/IR/TernAttrs.td"
include "ternc/Dialect/Tern/IR/TernInterfaces.td"
include "ternc/Dialect/Tern/IR/TernTypes.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Tern_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tern_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Weight store
//===----------------------------------------------------------------------===//

def Tern_WeightOp : Tern_Op<"weight", [Symbol, IsolatedFromAbove,
    DeclareOpInterfaceMethods<Tern_BlobEntryOpInterface>]> {
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

def Tern_ParamOp : Tern_Op<"param", [Symbol, IsolatedFromAbove,
    DeclareOpInterfaceMethods<Tern_BlobEntryOpInterface>]> {
  let summary = "declares one dense parameter of the weight store";
  let description = [{
    A dense array the model needs besides its ternary matrices: an
    embedding table, norm weights, a full-precision LM head. `type` is the
    static, contiguous memref it is read as at run time (f32, f16 or bf16
    elements); the blob writer converts the store's data to that element
    type. An i8 matrix [N, K] (`row_scales`) is the store's matrix quantized
    per row: `scale[n] = max_k |w[n, k]| / 127` (1 for an all-zero row),
    `q = round_half_even(w / scale)`; its N f32 scales follow the codes in
    the entry, 64-byte aligned (`tern.get_param_scales`). With `row_bounds`
    2N f32 error bounds follow the scales, 64-byte aligned
    (`tern.get_param_bounds`): `bound[n] = |w[n] - scale[n] q[n]| +
    g (|w[n]| + scale[n] |q[n]|)` (Euclidean norms of rows, `g = (K + 2) u
    / (1 - (K + 2) u)`, `u = 2^-24`), then `bound[N + n] = scale[n]
    |q[n]|`, computed in f64 and rounded up. For any f32 row x, any x'
    and any order of summation in f32, `sum_k x[k] w[n, k]` and `scale[n]
    * sum_k x'[k] q[n, k]` then differ by at most `|x| bound[n] + |x - x'|
    bound[N + n] + 4 u |the second|` (Cauchy-Schwarz and the classical
    bound on a rounded dot product): the int8 copy of an LM head can
    screen the rows whose exact logits can matter, with its input in f32
    or quantized.
    `offset` is set by `tern-pack-weights`.

    ```mlir
    tern.param @embed : memref<512x128xf32> from "tok_embeddings"
    tern.param @head : memref<128256x2560xf16> from "token_embd.weight" at 409664
    tern.param @head8 : memref<128256x2560xi8> from "token_embd.weight" row_scales
    tern.param @screen : memref<128256x2560xi8> from "token_embd.weight" row_scales row_bounds
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<StaticShapeMemRefOf<[F32, F16, BF16, I8]>>:$type,
    StrAttr:$source,
    UnitAttr:$row_scales,
    UnitAttr:$row_bounds,
    OptionalAttr<I64Attr>:$offset
  );
  let assemblyFormat = [{
    $sym_name `:` $type `from` $source (`row_scales` $row_scales^)?
    (`row_bounds` $row_bounds^)? (`at` $offset^)? attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MemRefType getMemRefType() { return ::llvm::cast<MemRefType>(getType()); }
    /// Bytes of the elements (before any row scales).
    int64_t getDataBytes();
    /// Offset of the row scales inside the entry (`row_scales` only).
    int64_t getScalesOffset();
    /// Offset of the row bounds inside the entry (`row_bounds` only).
    int64_t getBoundsOffset();
  }];
}

def Tern_GetParamOp : Tern_Op<"get_param",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the run-time memref of a dense parameter";
  let description = [{
    ```mlir
    %embed = tern.get_param @embed : memref<512x128xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param);
  let results = (outs AnyStaticShapeMemRef:$data);
  let assemblyFormat = "$param attr-dict `:` type($data)";
  let extraClassDeclaration = [{
    FlatSymbolRefAttr getSymbolAttr() { return getParamAttr(); }
  }];
}

def Tern_GetParamScalesOp : Tern_Op<"get_param_scales",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the per-row scales of an int8 dense parameter";
  let description = [{
    ```mlir
    %s = tern.get_param_scales @head8 : memref<128256xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param);
  let results = (outs StaticShapeMemRefOf<[F32]>:$data);
  let assemblyFormat = "$param attr-dict `:` type($data)";
  let extraClassDeclaration = [{
    FlatSymbolRefAttr getSymbolAttr() { return getParamAttr(); }
  }];
}

def Tern_GetParamBoundsOp : Tern_Op<"get_param_bounds",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the per-row error bounds of an int8 dense parameter";
  let description = [{
    ```mlir
    %b = tern.get_param_bounds @screen : memref<256512xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param);
  let results = (outs StaticShapeMemRefOf<[F32]>:$data);
  let assemblyFormat = "$param attr-dict `:` type($data)";
  let extraClassDeclaration = [{
    FlatSymbolRefAttr getSymbolAttr() { return getParamAttr(); }
  }];
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Tern_QuantizeOp : Tern_Op<"quantize"> {
  let summary = "per-row absmax quantization of f32 activations to int8";
  let description = [{
    For each row m of `input` [M, K], with `scheme`:
    - `bitnet` (default): `scale[m] = 127 / max(max_k |input[m, k]|, 1e-5)`
      and `output[m, k] = clamp(round_half_to_even(input[m, k] * scale[m]),
      -128, 127)`, all in f32.
    - `bitllama2c`: `r = (1 / sqrt(ss / K)) / K` with `ss` the sum of
      squares in order, `x = input * r`, `a = max_k |x[k]| / 127`,
      `output = round_half_away_from_zero(x * (1 / a))` (no clamp is
      needed), `scale[m] = a`.

    ```mlir
    tern.quantize %x into %q, %s : memref<1x2560xf32>, memref<1x2560xi8>, memref<1xf32>
    tern.quantize bitllama2c %x into %q, %s : memref<1x128xf32>, memref<1x128xi8>, memref<1xf32>
    ```
  }];
  let arguments = (ins
    DefaultValuedAttr<Tern_QuantScheme, "::mlir::tern::QuantScheme::BitNet">:$scheme,
    Arg<MemRefRankOf<[F32], [2]>, "activations [M, K]", [MemRead]>:$input,
    Arg<MemRefRankOf<[I8], [2]>, "quantized [M, K]", [MemWrite]>:$output,
    Arg<MemRefRankOf<[F32], [1]>, "per-row scales [M]", [MemWrite]>:$scale
  );
  let assemblyFormat = [{
    custom<Scheme>($scheme) $input `into` $output `,` $scale attr-dict `:`
    type($input) `,` type($output) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Tern_LinearOp : Tern_Op<"linear",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>,
     AttrSizedOperandSegments]> {
  let summary = "int8 activations times one or more ternary weight matrices";
  let description = [{
    `outputs[i][m, n]` for int8 `input` [M, K] with per-row scales
    `input_scale` [M] (as produced by `tern.quantize`) and the ternary
    matrix `weights[i]` [N_i, K] with scales w. The integer sums are exact
    in int32:
    `acc[m, n, b] = sum over k in block b of T[n, k] * input[m, k]`.
    With `scheme` `bitnet` (default): per tensor or per row (one block),
    `output = (f32(acc) / input_scale[m]) * w`; per block,
    `output = (sum_b f32(acc_b) * w_b) / input_scale[m]`, blocks summed in
    order. With `bitllama2c` (per-tensor scales only):
    `output = f32(acc) * (w * input_scale[m])`. The scheme must match the
    `tern.quantize` that produced the input.

    Several weights mean several linears that share the input (Q, K and V;
    gate and up), as `tern-fuse-linears` makes them: one op, one pass of the
    thread pool over all their rows, each result written to its own output.
    Every output element is computed exactly as a single linear would.

    With `residual` (one weight only), each output element is also added
    to the residual stream in the same step: `residual[m, n] =
    residual[m, n] + output[m, n]`, as the `tern.add` that
    `tern-fuse-epilogues` folds in did.

    With `glu` (two weights of the same shape, gate and up), the gated
    linear unit of the two outputs is also written, row block by row block
    as soon as both are computed: `glu_output[m, n] = act(outputs[0][m, n])
    * outputs[1][m, n]`, exactly the `tern.glu` that `tern-fuse-epilogues`
    folds in; the two outputs are written as before.

    ```mlir
    tern.linear @wq(%q, %s) into %y : memref<1x2560xi8>, memref<1xf32>, memref<1x640xf32>
    tern.linear bitllama2c @wq(%q, %s) into %y : memref<1x128xi8>, memref<1xf32>, memref<1x128xf32>
    tern.linear @wq, @wk, @wv(%q, %s) into %yq, %yk, %yv : memref<1x128xi8>, memref<1xf32>, memref<1x128xf32>, memref<1x32xf32>, memref<1x32xf32>
    tern.linear @wo(%q, %s) into %y residual(%h : memref<1x128xf32>) : memref<1x128xi8>, memref<1xf32>, memref<1x128xf32>
    tern.linear @wg, @wu(%q, %s) into %g, %u glu silu(%m : memref<1x512xf32>) : memref<1x128xi8>, memref<1xf32>, memref<1x512xf32>, memref<1x512xf32>
    ```
  }];
  let arguments = (ins
    DefaultValuedAttr<Tern_QuantScheme, "::mlir::tern::QuantScheme::BitNet">:$scheme,
    FlatSymbolRefArrayAttr:$weights,
    Arg<MemRefRankOf<[I8], [2]>, "quantized activations [M, K]", [MemRead]>:$input,
    Arg<MemRefRankOf<[F32], [1]>, "activation scales [M]", [MemRead]>:$input_scale,
    Arg<Variadic<MemRefRankOf<[F32], [2]>>, "results [M, N_i], one per weight",
        [MemWrite]>:$outputs,
    Arg<Optional<MemRefRankOf<[F32], [2]>>, "residual stream [M, N]",
        [MemRead, MemWrite]>:$residual,
    OptionalAttr<Tern_GluActivation>:$glu,
    Arg<Optional<MemRefRankOf<[F32], [2]>>, "gated linear unit [M, N]",
        [MemWrite]>:$glu_output
  );
  let assemblyFormat = [{
    custom<Scheme>($scheme) custom<WeightList>($weights) `(` $input `,`
    $input_scale `)` `into` $outputs
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    (`glu` $glu^ `(` $glu_output `:` type($glu_output) `)`)? attr-dict `:`
    type($input) `,` type($input_scale) `,` type($outputs)
  }];
  let builders = [
    // A single linear.
    OpBuilder<(ins "::mlir::tern::QuantSchemeAttr":$scheme,
                   "::mlir::FlatSymbolRefAttr":$weight, "::mlir::Value":$input,
                   "::mlir::Value":$input_scale, "::mlir::Value":$output), [{
      build($_builder, $_state, scheme, $_builder.getArrayAttr({weight}),
            input, input_scale, ::mlir::ValueRange{output},
            /*residual=*/::mlir::Value(), /*glu=*/nullptr,
            /*glu_output=*/::mlir::Value());
    }]>
  ];
  let extraClassDeclaration = [{
    /// The symbol of weights[i].
    ::mlir::FlatSymbolRefAttr getWeight(unsigned i) {
      return ::llvm::cast<::mlir::FlatSymbolRefAttr>(getWeights()[i]);
    }
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Model ops (f32 activations, destination-passing style)
//===----------------------------------------------------------------------===//

def Tern_EmbeddingOp : Tern_Op<"embedding"> {
  let summary = "gathers rows of an embedding table";
  let description = [{
    `output[m, :] = f32(table[ids[m], :])`. Ids outside [0, V) are clamped
    into range (the runtime rejects them before calling).

    ```mlir
    tern.embedding %table[%ids] into %h : memref<512x128xf32>, memref<1xi32>, memref<1x128xf32>
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32, F16, BF16], [2]>, "table [V, D]", [MemRead]>:$table,
    Arg<MemRefRankOf<[I32], [1]>, "token ids [M]", [MemRead]>:$ids,
    Arg<MemRefRankOf<[F32], [2]>, "rows [M, D]", [MemWrite]>:$output
  );
  let assemblyFormat = [{
    $table `[` $ids `]` `into` $output attr-dict `:`
    type($table) `,` type($ids) `,` type($output)
  }];
  let hasVerifier = 1;
}

def Tern_RMSNormOp : Tern_Op<"rms_norm"> {
  let summary = "root-mean-square normalisation of each row";
  let description = [{
    `output[m, :] = input[m, :] * (1 / sqrt(mean(input[m, :]^2) + eps)) * weight`
    with the statistics in f32; without `weight` the product with it is
    left out. The order of the sum of squares is part of the definition, as
    `tern.matmul`'s: with `lanes = 1` (default) d runs in order; with
    `lanes = L`, partial sum j (j < L) adds the squares of d = j, j + L,
    j + 2L, ... in order, and the L partial sums are then added in order of
    j. The same on every target for a given `lanes`; L vector lanes need no
    chain of D dependent additions.

    ```mlir
    tern.rms_norm %x weight(%w : memref<128xf32>) into %y {eps = 1.0e-05 : f32} : memref<1x128xf32>, memref<1x128xf32>
    tern.rms_norm %x into %y {eps = 1.0e-05 : f32, lanes = 16 : i64} : memref<1x128xf32>, memref<1x128xf32>
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [2]>, "rows [M, D]", [MemRead]>:$input,
    Arg<Optional<MemRefRankOf<[F32], [1]>>, "weight [D]", [MemRead]>:$weight,
    Arg<MemRefRankOf<[F32], [2]>, "rows [M, D]", [MemWrite]>:$output,
    F32Attr:$eps,
    DefaultValuedAttr<I64Attr, "1">:$lanes
  );
  let assemblyFormat = [{
    $input (`weight` `(` $weight^ `:` type($weight) `)`)? `into` $output
    attr-dict `:` type($input) `,` type($output)
  }];
  let hasVerifier = 1;
}

def Tern_RMSNormQuantizeOp : Tern_Op<"rms_norm_quantize"> {
  let summary = "tern.rms_norm and the tern.quantize of its result, in one";
  let description = [{
    Computes `output` exactly as `tern.rms_norm` does (with the same
    `lanes`), then `quantized` and
    `scale` from it exactly as `tern.quantize` (`bitnet` scheme) does, in
    one pass over each row: the absmax is taken while the normalised row
    is written. `tern-fuse-norm-quantize` makes it from the two ops.

    ```mlir
    tern.rms_norm_quantize %x weight(%w : memref<128xf32>) into %y, %q, %s {eps = 1.0e-05 : f32}
        : memref<1x128xf32>, memref<1x128xf32>, memref<1x128xi8>, memref<1xf32>
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [2]>, "rows [M, D]", [MemRead]>:$input,
    Arg<Optional<MemRefRankOf<[F32], [1]>>, "weight [D]", [MemRead]>:$weight,
    Arg<MemRefRankOf<[F32], [2]>, "normalised rows [M, D]", [MemWrite]>:$output,
    Arg<MemRefRankOf<[I8], [2]>, "quantized rows [M, D]", [MemWrite]>:$quantized,
    Arg<MemRefRankOf<[F32], [1]>, "per-row scales [M]", [MemWrite]>:$scale,
    F32Attr:$eps,
    DefaultValuedAttr<I64Attr, "1">:$lanes
  );
  let assemblyFormat = [{
    $input (`weight` `(` $weight^ `:` type($weight) `)`)? `into` $output `,`
    $quantized `,` $scale attr-dict `:` type($input) `,` type($output) `,`
    type($quantized) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Tern_RopeOp : Tern_Op<"rope"> {
  let summary = "rotary position embedding, in place";
  let description = [{
    Row m holds heads of `head_dim` features at position `start + m`. For
    pair index i in [0, head_dim/2): `freq = 1 / theta^(2i/head_dim)` and
    `angle = position * freq`, each step rounded to f32 in that order; the pair (a, b) of features becomes
    `(a*cos - b*sin, a*sin + b*cos)`. `half_split` pairs features (i,
    i + head_dim/2); `interleaved` pairs (2i, 2i + 1).

    With a `table` (`tern.rope_table` at the same start, head_dim and
    theta, one row per row of `data`) the op reads each pair's cos and sin
    from it instead of computing them: the same bits.

    ```mlir
    tern.rope interleaved %q at %pos {head_dim = 16 : i64, theta = 1.0e+04 : f32} : memref<1x128xf32>
    tern.rope half_split %k at %pos table(%t : memref<1x8x2xf32>) {head_dim = 16 : i64, theta = 1.0e+04 : f32} : memref<1x64xf32>
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [2]>, "rows [M, H*head_dim]", [MemRead, MemWrite]>:$data,
    Index:$start,
    Arg<Optional<MemRefRankOf<[F32], [3]>>, "cos and sin [M, head_dim/2, 2]",
        [MemRead]>:$table,
    I64Attr:$head_dim,
    F32Attr:$theta,
    Tern_RopeStyle:$style
  );
  let assemblyFormat = [{
    $style $data `at` $start (`table` `(` $table^ `:` type($table) `)`)?
    attr-dict `:` type($data)
  }];
  let hasVerifier = 1;
}

def Tern_RopeTableOp : Tern_Op<"rope_table"> {
  let summary = "the cos and sin of rotary embedding's angles";
  let description = [{
    `table[m, i] = (cos(angle), sin(angle))` with `angle` the angle of pair
    i at position `start + m`, computed as `tern.rope` defines it. Every
    `tern.rope` of a decoder step rotates the same positions with the same
    angles (the queries and keys of each layer): one table serves them all
    (`tern-share-rope-tables`), where each computed its own cos and sin.

    ```mlir
    tern.rope_table at %pos into %t {head_dim = 128 : i64, theta = 5.0e+05 : f32} : memref<1x64x2xf32>
    ```
  }];
  let arguments = (ins
    Index:$start,
    Arg<MemRefRankOf<[F32], [3]>, "cos and sin [M, head_dim/2, 2]",
        [MemWrite]>:$table,
    I64Attr:$head_dim,
    F32Attr:$theta
  );
  let assemblyFormat = [{
    `at` $start `into` $table attr-dict `:` type($table)
  }];
  let hasVerifier = 1;
}

def Tern_AttentionOp : Tern_Op<"attention"> {
  let summary = "causal grouped-query attention over a KV cache";
  let description = [{
    Query row m sits at position `start + m` and attends to cache positions
    [0, start + m]. Query head h reads KV head `h / (heads / kv_heads)`.
    `scores[t] = dot(q, k[t]) / sqrt(head_dim)`, softmax in f32 (max
    subtracted), `output = sum_t p[t] * v[t]`; sums in order.

    The key cache is stored in tiles of 16 positions: `keys[t / 16, f,
    t % 16]` is feature f of position t, so the dot products of a query
    with 16 consecutive positions read consecutive memory (one vector load
    per feature, every sum still in order), and the keys of a few new
    tokens fill a few contiguous tiles (`tern.store_keys`) rather than a
    strided column of every feature. The value cache has one row per
    position. `scores` is a workspace of `rows` rows per query head (head
    h's are rows [h * rows, (h + 1) * rows)), each at least as long as the
    cache: the heads are independent, and the lowering runs them on the
    thread pool; with several rows a head it computes blocks of up to that
    many queries together (each key and value loaded once for the block).

    ```mlir
    tern.attention %q, %kc, %vc at %pos into %o using %ws {head_dim = 16 : i64, heads = 8 : i64, kv_heads = 4 : i64}
        : memref<1x128xf32>, memref<32x64x16xf32>, memref<512x64xf32>, memref<1x128xf32>, memref<8x512xf32>
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [2]>, "queries [M, heads*head_dim]", [MemRead]>:$query,
    Arg<MemRefRankOf<[F32], [3]>, "key cache in tiles [S/16, kv_heads*head_dim, 16]", [MemRead]>:$keys,
    Arg<MemRefRankOf<[F32], [2]>, "value cache [S, kv_heads*head_dim]", [MemRead]>:$values,
    Index:$start,
    Arg<MemRefRankOf<[F32], [2]>, "output [M, heads*head_dim]", [MemWrite]>:$output,
    Arg<MemRefRankOf<[F32], [2]>, "workspace [heads * rows, >= S]", [MemRead, MemWrite]>:$scores,
    I64Attr:$heads,
    I64Attr:$kv_heads,
    I64Attr:$head_dim
  );
  let assemblyFormat = [{
    $query `,` $keys `,` $values `at` $start `into` $output `using` $scores
    attr-dict `:` type($query) `,` type($keys) `,` type($values) `,`
    type($output) `,` type($scores)
  }];
  let hasVerifier = 1;
}

def Tern_StoreKeysOp : Tern_Op<"store_keys"> {
  let summary = "write the keys of new tokens into a tiled key cache";
  let description = [{
    Row m of `keys` (the keys of the token at position `start + m`) goes to
    `cache[(start + m) / 16, f, (start + m) % 16]` for every feature f: the
    layout `tern.attention` reads.

    ```mlir
    tern.store_keys %k into %kc at %pos : memref<?x64xf32>, memref<32x64x16xf32>
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [2]>, "keys [M, F]", [MemRead]>:$keys,
    Arg<MemRefRankOf<[F32], [3]>, "key cache [S/16, F, 16]", [MemWrite]>:$cache,
    Index:$start
  );
  let assemblyFormat = [{
    $keys `into` $cache `at` $start attr-dict `:` type($keys) `,` type($cache)
  }];
  let hasVerifier = 1;
}

def Tern_GluOp : Tern_Op<"glu"> {
  let summary = "gated linear unit: act(gate) * up, elementwise";
  let description = [{
    `silu`: `gate / (1 + exp(-gate)) * up`; `relu2`: `max(gate, 0)^2 * up`.

    ```mlir
    tern.glu silu %g, %u into %m : memref<1x256xf32>, memref<1x256xf32>, memref<1x256xf32>
    ```
  }];
  let arguments = (ins
    Tern_GluActivation:$activation,
    Arg<MemRefRankOf<[F32], [2]>, "gate [M, F]", [MemRead]>:$gate,
    Arg<MemRefRankOf<[F32], [2]>, "up [M, F]", [MemRead]>:$up,
    Arg<MemRefRankOf<[F32], [2]>, "output [M, F]", [MemWrite]>:$output
  );
  let assemblyFormat = [{
    $activation $gate `,` $up `into` $output attr-dict `:`
    type($gate) `,` type($up) `,` type($output)
  }];
  let hasVerifier = 1;
}

def Tern_AddOp : Tern_Op<"add"> {
  let summary = "elementwise sum (residual connections)";
  let description = [{
    ```mlir
    tern.add %h, %y into %h : memref<1x128xf32>, memref<1x128xf32>, memref<1x128xf32>
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [2]>, "lhs [M, D]", [MemRead]>:$lhs,
    Arg<MemRefRankOf<[F32], [2]>, "rhs [M, D]", [MemRead]>:$rhs,
    Arg<MemRefRankOf<[F32], [2]>, "output [M, D]", [MemWrite]>:$output
  );
  let assemblyFormat = [{
    $lhs `,` $rhs `into` $output attr-dict `:`
    type($lhs) `,` type($rhs) `,` type($output)
  }];
  let hasVerifier = 1;
}

def Tern_MatmulOp : Tern_Op<"matmul", [AttrSizedOperandSegments]> {
  let summary = "dense x times a dense weight matrix, transposed (LM head)";
  let description = [{
    `output[m, n] = sum_k input[m, k] * f32(weight[r, k])` in f32, where
    `r = n`, or `r = rows[n]` with `rows` (the chosen rows of the weight, in
    any order: the LM head's exact logits of screened candidates); with
    `weight_scales` (required for an i8 weight) the sum is then multiplied
    by `weight_scales[r]`. The order of the sum is part of the definition:
    with `lanes = 1` (default) k runs in order; with `lanes = L`, partial
    sum j (j < L) adds the products of k = j, j + L, j + 2L, ... in order,
    and the L partial sums are then added in order of j. Results are thus
    the same on every target for a given `lanes`.

    An i8 input (a static number of rows: the LM head's screening copy
    takes an input quantized in two parts, x ~ q0 / s0 + q1 / s1) needs its
    `input_scales` and an i8 weight: `output[m, n] = (f32(sum_k input[m, k]
    * weight[r, k]) / input_scales[m]) * weight_scales[r]`, the sum exact in
    i32 (`lanes` plays no part), computed with the target's int8 dot
    product, each weight row read once for all input rows. The weights must
    lie in [-127, 127], as the copy's absmax quantization writes them: the
    `vpmaddubsw` lowering negates them by the input's sign.

    ```mlir
    tern.matmul %h, %w into %logits : memref<1x128xf32>, memref<512x128xf32>, memref<1x512xf32>
    tern.matmul %h, %w8 scaled(%s : memref<512xf32>) into %logits : memref<1x128xf32>, memref<512x128xi8>, memref<1x512xf32>
    tern.matmul %h, %w rows(%r : memref<?xi32>) into %some : memref<1x128xf32>, memref<512x128xf16>, memref<1x?xf32>
    tern.matmul %q, %w8 input_scaled(%qs : memref<2xf32>) scaled(%s : memref<512xf32>) into %scores : memref<2x128xi8>, memref<512x128xi8>, memref<2x512xf32>
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32, I8], [2]>, "input [M, K]", [MemRead]>:$input,
    Arg<MemRefRankOf<[F32, F16, BF16, I8], [2]>, "weight [R, K]", [MemRead]>:$weight,
    Arg<Optional<MemRefRankOf<[I32], [1]>>, "weight rows to use [N]", [MemRead]>:$rows,
    Arg<Optional<MemRefRankOf<[F32], [1]>>, "per-row input scales [M] (i8 input)", [MemRead]>:$input_scales,
    Arg<Optional<MemRefRankOf<[F32], [1]>>, "per-row weight scales [R]", [MemRead]>:$weight_scales,
    Arg<MemRefRankOf<[F32], [2]>, "output [M, N]", [MemWrite]>:$output,
    DefaultValuedAttr<I64Attr, "1">:$lanes
  );
  let assemblyFormat = [{
    $input `,` $weight (`rows` `(` $rows^ `:` type($rows) `)`)?
    (`input_scaled` `(` $input_scales^ `:` type($input_scales) `)`)?
    (`scaled` `(` $weight_scales^ `:` type($weight_scales) `)`)?
    `into` $output attr-dict `:`
    type($input) `,` type($weight) `,` type($output)
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
  let extraClassDeclaration = [{
    FlatSymbolRefAttr getSymbolAttr() { return getWeightAttr(); }
  }];
}

#endif // TERNC_DIALECT_TERN_IR_TERNOPS_TD
