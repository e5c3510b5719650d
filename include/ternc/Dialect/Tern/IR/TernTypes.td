//===- TernTypes.td - tern types -----------------------------*- tablegen -*-===//

#ifndef TERNC_DIALECT_TERN_IR_TERNTYPES_TD
#define TERNC_DIALECT_TERN_IR_TERNTYPES_TD

include "ternc/Dialect/Tern/IR/TernBase.td"
include "mlir/IR/AttrTypeBase.td"

def Tern_TernaryType : TypeDef<Tern_Dialect, "Ternary"> {
  let mnemonic = "ternary";
  let summary = "a ternary weight matrix: shape, scales and storage layout";
  let description = [{
    A matrix T of shape [rows, cols] = [N, K] with entries in {-1, 0, +1},
    times f32 scales: one per tensor, one per output row, or one per block of
    G consecutive elements along K. `layout` tells how the 2-bit codes
    (code = value + 1) sit in memory.

    ```mlir
    !tern.ternary<640x2560, per_tensor, canonical>
    !tern.ternary<640x2560, per_row, interleaved<64>>
    !tern.ternary<640x2560, block<128>, interleaved<64>>
    !tern.ternary<640x2560, per_row, lut<32>>
    ```
  }];
  let parameters = (ins
    "int64_t":$rows,
    "int64_t":$cols,
    "::mlir::tern::ScaleGranularity":$scale,
    // G for `block<G>`; 0 otherwise.
    "int64_t":$groupSize,
    "::mlir::tern::WeightLayout":$layout,
    // B for `interleaved<B>`, R for `lut<R>`; 0 otherwise.
    "int64_t":$chunk
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of f32 scales the matrix carries.
    int64_t getNumScales() const;
    /// Number of scale blocks along one row (1 unless `block<G>`).
    int64_t getBlocksPerRow() const;
    /// Elements of one row as stored, including padding.
    int64_t getPaddedCols() const;
    /// Rows as stored, including the padding of a `lut<R>` row block.
    int64_t getPaddedRows() const;
    /// Bytes of 2-bit codes for one row.
    int64_t getRowBytes() const;
    /// Bytes of 2-bit codes for the whole matrix.
    int64_t getCodeBytes() const { return getPaddedRows() * getRowBytes(); }
    /// Byte offset of the f32 scales inside the packed entry (codes first,
    /// scales aligned to kEntryAlign).
    int64_t getScaleOffset() const;
    /// Total bytes of the packed entry: codes, alignment padding, scales.
    int64_t getPackedBytes() const;
    /// The same matrix in another layout.
    TernaryType withLayout(WeightLayout layout, int64_t chunk) const;

    /// Alignment of every packed entry and of its scales in the weight blob.
    static constexpr int64_t kEntryAlign = 64;
  }];
}

#endif // TERNC_DIALECT_TERN_IR_TERNTYPES_TD
