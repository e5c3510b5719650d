//===- WeightBlob.h - write the run-time weight blob ------------*- C++ -*-===//
//
// After tern-pack-weights, every tern.weight has an offset and a layout.
// This step streams each matrix from the weight store, row by row, into that
// layout at that offset: the one time weights are copied.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_TARGET_WEIGHTBLOB_H
#define TERNC_TARGET_WEIGHTBLOB_H

#include "ternc/Dialect/Tern/IR/TernTypes.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace ternc {

class WeightStore;

/// Packs one row of values in {-1, 0, +1} (`type.getCols()` of them) into
/// `type.getRowBytes()` bytes of `type`'s layout.
void packTernaryRow(mlir::tern::TernaryType type, const int8_t *values,
                    uint8_t *out);

/// Packs one block of a lookup layout (`lut<R>`, `lut3<R>`, `lut4<R>`,
/// `lut5<R>`) or one row group of `interleaved<B, R>`: `rows` (<= R) rows of
/// `type.getCols()` values, row-major, into R * `type.getRowBytes()` bytes
/// (missing rows are zero weights).
void packTernaryRowBlock(mlir::tern::TernaryType type, const int8_t *values,
                         int64_t rows, uint8_t *out);

/// The error bounds of one row of an int8 screening copy (`tern.param`'s
/// `row_bounds`), rounded up to f32: `weight` = |w - scale q| + g (|w| +
/// scale |q|) (Euclidean norms, g = (K + 2) u / (1 - (K + 2) u), u =
/// 2^-24), +inf for a row with a non-finite weight; `copy` = scale |q|.
struct ScreenBound {
  float weight, copy;
};
ScreenBound screenBound(llvm::ArrayRef<float> w, llvm::ArrayRef<int8_t> q,
                        float scale);

/// Writes the blob of a packed module (see tern-pack-weights) to `os`.
llvm::Error writeWeightBlob(mlir::ModuleOp module, const WeightStore &store,
                            llvm::raw_ostream &os);

} // namespace ternc

#endif // TERNC_TARGET_WEIGHTBLOB_H
