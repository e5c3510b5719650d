//===- TernAttrs.td - tern enums and attributes -------------*- tablegen -*-===//

#ifndef TERNC_DIALECT_TERN_IR_TERNATTRS_TD
#define TERNC_DIALECT_TERN_IR_TERNATTRS_TD

include "ternc/Dialect/Tern/IR/TernBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def Tern_ScaleGranularity : I32EnumAttr<"ScaleGranularity",
    "how many f32 scales a ternary weight matrix carries", [
      I32EnumAttrCase<"PerTensor", 0, "per_tensor">,
      I32EnumAttrCase<"PerRow", 1, "per_row">,
      I32EnumAttrCase<"PerBlock", 2, "block">
    ]> {
  let cppNamespace = "::mlir::tern";
  let genSpecializedAttr = 0;
}

def Tern_WeightLayout : I32EnumAttr<"WeightLayout",
    "how the 2-bit weight codes are laid out in memory", [
      // Row-major, 4 codes per byte, element k of a row in bits 2*(k%4),
      // rows padded to whole bytes: the import layout.
      I32EnumAttrCase<"Canonical", 0, "canonical">,
      // Rows cut into chunks of B elements stored in B/4 bytes; byte p of a
      // chunk holds elements p + j*B/4 in bits 2j (j = 0..3), so unpacking is
      // four shift-and-mask operations on one vector with no shuffle. With
      // `interleaved<B, R>` rows sit in groups of R (the last padded with
      // zero weights), chunk c of each of the R rows in turn: a kernel
      // that computes the R rows together reads one sequential stream.
      I32EnumAttrCase<"Interleaved", 1, "interleaved">,
      // For table-lookup kernels: rows in blocks of R (the bytes of the
      // target's lookup vector), columns padded to a multiple of 4. Byte
      // j*R + l of block b holds, for row b*R + l, the table index of the
      // weight pair (4j, 4j+1) in its low nibble and of (4j+2, 4j+3) in its
      // high nibble; the index of a pair with codes (c0, c1) is 3*c0 + c1.
      // One byte load then gives the indices of R rows for one lookup.
      I32EnumAttrCase<"Lookup", 2, "lut">,
      // For the five-weight table lookup (AVX-512 VBMI `vpermi2b`): rows in
      // blocks of R = 64, columns padded to a multiple of 20 and cut into
      // blocks of 20; group j (0..3) of column block c holds the columns
      // 20c + 4i + j, i = 0..4. Byte g*R + l of row block b holds, for row
      // b*R + l, group g = 4c + j as one byte: v = sum_i t_i * 3^i (the
      // group's balanced-ternary value, -121..121) as |v| in bits 0-6 and
      // the sign of v in bit 7: 1.6 bits per weight. A table of the 122
      // sums of |v| patterns holds every group's sum up to the sign.
      // Blocks are stored G at a time (getLookupBlockGroup), in slices of
      // 48 index bytes: slice s of the G blocks, block by block, then slice
      // s + 1, so that the kernel, which passes each slice's tables over G
      // blocks, reads its weights as one sequential stream.
      I32EnumAttrCase<"Lookup5", 3, "lut5">,
      // For the three-weight table lookup (T-MAC/TL2's sign-symmetric
      // groups, every byte shuffle): rows in blocks of R (as lut<R>),
      // columns padded to a multiple of 24 and cut into blocks of 24, eight
      // groups of three consecutive columns each. A group's balanced-ternary
      // value v = sum_i t_i * 3^i (-13..13) is stored as |v| (a 4-bit table
      // index) and a sign bit. Per column block c, bytes (5c + b)*R + l
      // (b = 0..3) hold for row l of the block |v| of group 2b in the low
      // nibble and of group 2b + 1 in the high nibble, and byte
      // (5c + 4)*R + l holds the eight groups' signs (bit h: group h):
      // 5 bytes per 24 weights, 1.67 bits per weight.
      I32EnumAttrCase<"Lookup3", 4, "lut3">,
      // For the four-weight table lookup (a 64-byte table: AVX-512 VBMI
      // `vpermb`, AArch64 `tbl` with four registers): rows in blocks of R
      // (64 or 16), columns padded to a multiple of 4; group g holds the
      // columns 4g + i, i = 0..3, as one byte: |v| (0..40) in bits 0-5 and
      // the sign of v in bit 7, v = sum_i t_i * 3^i. Byte g*R + l of row
      // block b holds group g of row b*R + l: 2 bits per weight, as pairs,
      // with one lookup per four weights instead of two. Blocks are grouped
      // and stored slice by slice as in lut5.
      I32EnumAttrCase<"Lookup4", 5, "lut4">
    ]> {
  let cppNamespace = "::mlir::tern";
  let genSpecializedAttr = 0;
}

def Tern_GluActivation : I32EnumAttr<"GluActivation",
    "the gate activation of a gated linear unit", [
      I32EnumAttrCase<"SiLU", 0, "silu">,
      I32EnumAttrCase<"ReLU2", 1, "relu2">
    ]> {
  let cppNamespace = "::mlir::tern";
}

def Tern_RopeStyle : I32EnumAttr<"RopeStyle",
    "which features rotary embeddings rotate together", [
      // Pairs (j, j + head_dim/2) within a head (GPT-NeoX, BitNet 2B4T).
      I32EnumAttrCase<"HalfSplit", 0, "half_split">,
      // Pairs (2i, 2i + 1) (llama2.c).
      I32EnumAttrCase<"Interleaved", 1, "interleaved">
    ]> {
  let cppNamespace = "::mlir::tern";
}

def Tern_QuantScheme : I32EnumAttr<"QuantScheme",
    "how a BitLinear quantizes its input and scales its output", [
      // BitNet b1.58: s = 127/max(absmax, 1e-5), round half to even, clamp;
      // y = (acc / s) * w.
      I32EnumAttrCase<"BitNet", 0, "bitnet">,
      // bitllama2.c: x is first divided by rms(x) * K (no eps), then
      // a = absmax/127, q = round_half_away(x * (1/a)) without clamp;
      // y = acc * (w * a).
      I32EnumAttrCase<"BitLlama2c", 1, "bitllama2c">
    ]> {
  let cppNamespace = "::mlir::tern";
}

def Tern_TargetAttr : AttrDef<Tern_Dialect, "Target"> {
  let mnemonic = "target";
  let summary = "the machine the module is compiled for";
  let description = [{
    Set once by the driver from `--target`, `--cpu` and `--features` (or
    written by hand in tests). `isa` lists the capabilities that passes
    query (e.g. "avx2", "avx512bw", "avx512vbmi", "avx512vnni", "neon",
    "dotprod", "i8mm", "sve"); `vector_bits` is the widest integer vector
    width the kernels should use.

    ```mlir
    #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver5",
                 features = "", isa = ["avx2", "avx512bw"], vector_bits = 512>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"LLVM target triple">:$triple,
    StringRefParameter<"LLVM CPU name">:$cpu,
    StringRefParameter<"extra LLVM feature string", "\"\"">:$features,
    "ArrayAttr":$isa,
    "int64_t":$vector_bits
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True when `isa` lists `capability`.
    bool has(llvm::StringRef capability) const;
    /// The attribute name under which the driver stores the target on the
    /// module.
    static constexpr llvm::StringLiteral kModuleAttrName = "tern.target";
    /// The target of the module enclosing `op`, or null.
    static TargetAttr lookup(Operation *op);
  }];
}

#endif // TERNC_DIALECT_TERN_IR_TERNATTRS_TD
