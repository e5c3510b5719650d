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
    G consecutive elements along K. `layout` tells how the weights sit in
    memory: 2-bit codes (code = value + 1) or, in lut5, five weights a byte
    (lut3: 24 weights in five bytes).

    ```mlir
    !tern.ternary<640x2560, per_tensor, canonical>
    !tern.ternary<640x2560, per_row, interleaved<64>>
    !tern.ternary<640x2560, per_row, interleaved<256, 4>>
    !tern.ternary<640x2560, block<128>, interleaved<64>>
    !tern.ternary<640x2560, per_row, lut<32>>
    !tern.ternary<640x2560, per_row, lut3<32>>
    !tern.ternary<640x2560, per_row, lut5<64>>
    ```
  }];
  let parameters = (ins
    "int64_t":$rows,
    "int64_t":$cols,
    "::mlir::tern::ScaleGranularity":$scale,
    // G for `block<G>`; 0 otherwise.
    "int64_t":$groupSize,
    "::mlir::tern::WeightLayout":$layout,
    // B for `interleaved<B>`, R for the lookup layouts (`lut<R>`, `lut3<R>`, `lut4<R>`, `lut5<R>`); 0 otherwise.
    "int64_t":$chunk,
    // R for `interleaved<B, R>` (rows stored in groups of R, chunk by
    // chunk; 1 when omitted); 0 for the other layouts.
    "int64_t":$rowGroup
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
    /// Rows as stored, including the padding of a lookup layout's
    /// row block or of an interleaved layout's row group.
    int64_t getPaddedRows() const;
    /// Bytes of codes for one row.
    int64_t getRowBytes() const;
    /// Whether the layout is one of the table-lookup layouts (row blocks).
    bool isLookup() const {
      return getLayout() == ::mlir::tern::WeightLayout::Lookup ||
             getLayout() == ::mlir::tern::WeightLayout::Lookup3 ||
             getLayout() == ::mlir::tern::WeightLayout::Lookup4 ||
             getLayout() == ::mlir::tern::WeightLayout::Lookup5;
    }
    /// Bytes of codes for the whole matrix.
    int64_t getCodeBytes() const { return getPaddedRows() * getRowBytes(); }
    /// Byte offset of the f32 scales inside the packed entry (codes first,
    /// scales aligned to kEntryAlign).
    int64_t getScaleOffset() const;
    /// Total bytes of the packed entry: codes, alignment padding, scales.
    int64_t getPackedBytes() const;
    /// The same matrix in another layout (`rowGroup`: interleaved only).
    TernaryType withLayout(WeightLayout layout, int64_t chunk,
                           int64_t rowGroup = 0) const;
    /// Byte offset of chunk 0 of row `row` among the codes (interleaved):
    /// its row group's start plus the row's place inside each chunk.
    int64_t getRowCodeOffset(int64_t row) const {
      const int64_t g = getRowGroup();
      return row / g * g * getRowBytes() + row % g * (getChunk() / 4);
    }
    /// Bytes from one chunk of a row to its next (interleaved): the chunk's
    /// bytes times the rows of a group.
    int64_t getChunkStride() const { return getRowGroup() * getChunk() / 4; }

    /// Alignment of every packed entry and of its scales in the weight blob.
    static constexpr int64_t kEntryAlign = 64;
    /// Columns of one lut5 column block: four groups of five weights.
    static constexpr int64_t kLookup5Block = 20;
    /// Columns of one lut3 column block: eight groups of three weights,
    /// stored in five bytes a row (four of magnitudes, one of signs).
    static constexpr int64_t kLookup3Block = 24;
    static constexpr int64_t kLookup3BlockBytes = 5;
    /// lut4, lut5: index bytes of a row block per slice (the kernel's int16
    /// run: 48 sums of |S| <= 641 stay below 2^15).
    static constexpr int64_t kLookupSlice = 48;
    /// Lookup layouts: columns of one step of the kernel (the weights of a
    /// row in one index vector of R bytes: 4 in lut and lut4, 5 in lut5; 24 in lut3,
    /// whose step is five vectors) and the steps of a row.
    int64_t getLookupStepCols() const {
      return getLookupStepCols(getLayout());
    }
    static int64_t getLookupStepCols(::mlir::tern::WeightLayout layout);
    int64_t getLookupSteps() const {
      return getPaddedCols() / getLookupStepCols();
    }
    /// lut4, lut5: row blocks of R rows stored slice by slice together (one
    /// iteration of the kernel): about 8 iterations a weight, 32 blocks at
    /// most; 1 for the other layouts.
    int64_t getLookupBlockGroup() const;
  }];
}

#endif // TERNC_DIALECT_TERN_IR_TERNTYPES_TD
