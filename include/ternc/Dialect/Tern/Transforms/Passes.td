//===- Passes.td - tern transformation passes ----------------*- tablegen -*-===//

#ifndef TERNC_DIALECT_TERN_TRANSFORMS_PASSES_TD
#define TERNC_DIALECT_TERN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TernFuseLinears : Pass<"tern-fuse-linears", "::mlir::func::FuncOp"> {
  let summary = "fuse tern.linear ops that share their input";
  let description = [{
    Two `tern.linear` ops of a block with the same input, input scales and
    scheme, with nothing between them but ops free of memory effects (views,
    constants, index arithmetic), become one `tern.linear` with the weights
    and outputs of both, in order, at the place of the later one. Applied
    until nothing changes, a layer's Q, K and V projections become one op,
    and so do the FFN's gate and up projections: the thread pool then runs
    once for them instead of three or two times, and every output element
    is still computed exactly as before. Outputs are distinct buffers in
    the IR the importers build; the pass does not check for overlap.
  }];
  let dependentDialects = ["::mlir::tern::TernDialect"];
}

def TernFuseNormQuantize : Pass<"tern-fuse-norm-quantize", "::mlir::func::FuncOp"> {
  let summary = "fuse activation quantization into the RMSNorm producing it";
  let description = [{
    A `tern.quantize` (`bitnet` scheme) of the result of the `tern.rms_norm`
    just before it (only ops free of memory effects between) becomes one
    `tern.rms_norm_quantize`: the absmax is found while the normalised row
    is written, so the row is read once less. The normalised row is still
    written (other ops may read it); the results are the same bits.
  }];
  let dependentDialects = ["::mlir::tern::TernDialect"];
}

def TernShareRopeTables : Pass<"tern-share-rope-tables", "::mlir::func::FuncOp"> {
  let summary = "compute rotary embedding's cos and sin once for the ropes that share them";
  let description = [{
    The `tern.rope` ops of one block without a table that rotate the same
    positions (the same start value and static row count) with the same
    head_dim and theta get one `tern.rope_table`, written into a stack
    buffer just before the first of them, which each then reads: a decoder
    step's 2 x layers ropes compute their 64 cos/sin pairs (2B4T) once
    instead of once each, on the calling thread between two linears. A
    rope alone keeps computing its own. The results are the same bits.
  }];
  let dependentDialects = ["::mlir::tern::TernDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TernFuseEpilogues : Pass<"tern-fuse-epilogues", "::mlir::func::FuncOp"> {
  let summary = "fold the residual add and the gated linear unit after a "
                "linear into its epilogue";
  let description = [{
    `tern.add %h, %y into %h` right after the single-weight `tern.linear`
    that writes %y (only ops free of memory effects between) is removed and
    the linear gets `residual(%h)`: each output element is added to the
    residual stream as soon as it is computed, by the same thread. %y is
    still written, so later readers of it see the same values; h gets the
    same bits (h + y, in that order).

    `tern.glu act %g, %u into %m` right after the two-weight (gate, up)
    linear that writes %g and %u, in that order, is removed and the linear
    gets `glu act(%m)`: each iteration of its parallel loop computes a row
    block of gate and of up and then their glu, while they are in the
    thread's cache, instead of a pass of its own over g and u after the
    linear (serial in decode). %g and %u are still written; %m gets the
    same bits (the same operations). %m must not be an operand of the
    linear.
  }];
  let dependentDialects = ["::mlir::tern::TernDialect"];
}

def TernSelectLayout : Pass<"tern-select-layout", "::mlir::ModuleOp"> {
  let summary = "choose the storage layout of every weight for the target";
  let description = [{
    Chooses the kernel family of every canonical `tern.weight` and rewrites
    it to the layout that family consumes. The cost model
    (`KernelChoice.h`) counts each family's instructions per weight for the
    module's `#tern.target` (vector width, table lookup and dot
    instructions, issue width, bytes per cycle) and keeps the cheapest:

    - `dot`: the target's int8 dot product on bit planes of an
      `interleaved<B>` layout, B making a bit plane fill one vector: 256
      with AVX-512BW or AVX-512 VNNI (`vpdpbusd`/`vpmaddubsw` on zmm), 128
      with AVX2 (ymm), 64 with AArch64 dotprod (`sdot`);
    - `lut`: `lut<R>` for tables looked up with the target's byte shuffle,
      R its bytes: 64 (AVX-512BW `vpshufb` zmm, VBMI `vpermb`), 32 (AVX2),
      16 (SSSE3, AArch64 `tbl`), 8 (ARMv7 NEON `vtbl`); per-tensor and
      per-row scales only;
    - `lut3`: `lut3<R>` (R as for `lut`) for tables of groups of three
      weights, sign-symmetric, looked up with the same byte shuffles (1.67
      bits a weight); per-tensor and per-row scales only;
    - `lut4`: `lut4<R>` for tables of groups of four weights in 64 bytes,
      looked up with AVX-512 VBMI `vpermb` (R = 64) or AArch64 `tbl` with
      four registers (R = 16); 2 bits a weight; per-tensor and per-row
      scales only;
    - `lut5`: `lut5<64>` for tables of groups of five weights looked up
      with AVX-512 VBMI `vpermi2b` (1.6 bits a weight); per-tensor and
      per-row scales only;
    - `portable`: `interleaved<B>`, B = `vector_bits / 8` (at least 16).

    On the targets ternc knows this gives `dot` wherever an int8 dot product
    exists, `lut3` on AArch64 without dotprod and ARMv7 NEON, `lut` on
    SSSE3-only x86,
    `portable` elsewhere. A row that B would pad by more than 1/8 takes
    B / 4 (down to 64); with block scales B halves until it divides the
    block. Dot weights store their rows in groups of R
    (`interleaved<B, R>`), the rows one decode tile computes together: 4
    with 32 vector registers, 2 with AVX2's 16, 1 for `portable`, a B
    smaller than the dot kernel's and block scales; the tile then reads one
    sequential stream (see docs/passes.md).
    `kernel=dot|lut|lut3|lut4|lut5|portable` forces a family (an error if
    the target lacks it); `portable` is also recorded as the module's
    `tern.kernel_family = "portable"`, which `convert-tern-to-vector`
    follows. `chunk` forces `interleaved<chunk, rows>` everywhere (`rows`
    1 unless given); `rows` alone replaces the target's R.
  }];
  let options = [
    Option<"chunk", "chunk", "int64_t", /*default=*/"0",
           "weights per interleaved chunk (0: derive from the target)">,
    Option<"rows", "rows", "int64_t", /*default=*/"0",
           "rows per interleaved row group (0: derive from the target, 1 "
           "with an explicit chunk)">,
    Option<"kernel", "kernel", "std::string", /*default=*/"\"auto\"",
           "kernel family: auto (the cost model), dot, lut, lut3, lut4, lut5 or "
           "portable">
  ];
}

def TernPackWeights : Pass<"tern-pack-weights", "::mlir::ModuleOp"> {
  let summary = "assign every weight its offset in the run-time weight blob";
  let description = [{
    Lays out the weight blob: each `tern.weight` and `tern.param`, in module
    order, gets the `offset` of its packed entry (for a weight: codes then
    scales; for a parameter: its elements), 64-byte aligned. The
    module gets `tern.weights_size`, the blob's total size in bytes, which the
    driver uses to write the blob and the runtime to check it.
  }];
}

#endif // TERNC_DIALECT_TERN_TRANSFORMS_PASSES_TD
