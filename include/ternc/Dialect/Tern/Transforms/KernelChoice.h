//===- KernelChoice.h - which kernel family a ternary linear uses -*- C++
//-*-===//
//
// What the target offers each kernel family of tern.linear, and the cost
// model that picks one. tern-select-layout makes the choice (it decides the
// weight layout); the lowering asks the same functions for the instructions.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_DIALECT_TERN_TRANSFORMS_KERNELCHOICE_H
#define TERNC_DIALECT_TERN_TRANSFORMS_KERNELCHOICE_H

#include "ternc/Dialect/Tern/IR/TernAttrs.h"

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir::tern {

/// The kernel families of tern.linear.
enum class KernelFamily {
  /// Plain vector code: widen weights and activations to i32, multiply, add.
  Portable,
  /// The target's int8 dot product on bit planes of an interleaved<B>
  /// layout: AArch64 `sdot`, x86 `vpdpbusd` or `vpmaddubsw` + `vpmaddwd`.
  Dot,
  /// Tables of the exact sums of every weight pair, looked up with the
  /// target's byte shuffle (`vpshufb`, `vpermb`, `tbl`, `vtbl`) on a lut<R>
  /// layout.
  Lookup,
  /// Tables of the exact sums of every group of three weights (14 up to the
  /// sign), looked up with the same byte shuffles on a lut3<R> layout, the
  /// signs from a bit plane: 1.67 bits per weight.
  Lookup3,
  /// Tables of the exact sums of every group of four weights (41 up to the
  /// sign) in 64 bytes, looked up with AVX-512 VBMI `vpermb` or AArch64
  /// `tbl` (four registers) on a lut4<R> layout: 2 bits per weight.
  Lookup4,
  /// Tables of the exact sums of every group of five weights (122 up to the
  /// sign), looked up with AVX-512 VBMI `vpermi2b` on a lut5<64> layout:
  /// 1.6 bits per weight.
  Lookup5,
};

llvm::StringRef stringifyKernelFamily(KernelFamily family);
std::optional<KernelFamily> symbolizeKernelFamily(llvm::StringRef name);

/// Bytes of the target's table-lookup vector: 64 (AVX-512BW `vpshufb` zmm,
/// AVX-512 VBMI `vpermb`), 32 (AVX2 `vpshufb` ymm), 16 (SSSE3 `pshufb`,
/// AArch64 `tbl`), 8 (ARMv7 NEON `vtbl`); 0 without one.
int64_t lookupVectorBytes(TargetAttr target);

/// Bytes of the target's s8 x s8 (or u8 x s8) dot-product step into i32
/// lanes, for int8 x int8 sums (the LM head's screening copy): 64 (AVX-512
/// VNNI `vpdpbusd` zmm, else AVX-512BW `vpmaddubsw` zmm), 32 (AVX-VNNI
/// `vpdpbusd` ymm, else AVX2 `vpmaddubsw` ymm), 16 (AArch64 dotprod
/// `sdot`); 0 without one.
int64_t int8DotBytes(TargetAttr target);

/// Rows of the five-weight lookup (R of lut5<R>): 64 with AVX-512 VBMI
/// (`vpermi2b` zmm, a 128-byte table in two registers), 0 without it.
int64_t lookup5Rows(TargetAttr target);

/// Rows of the four-weight lookup (R of lut4<R>): 64 with AVX-512 VBMI
/// (`vpermb` zmm on a 64-byte table), 16 with AArch64 NEON (`tbl` with a
/// four-register table), 0 otherwise.
int64_t lookup4Rows(TargetAttr target);

/// Whether the target has an int8 dot-product kernel (sdot, vpdpbusd,
/// vpmaddubsw).
bool hasDotKernel(TargetAttr target);

/// B of interleaved<B> for the dot family (or for the portable kernel when
/// `portable` or the target has no dot kernel).
int64_t interleavedChunk(TargetAttr target, bool portable);

/// R of interleaved<B, R> for the dot family: the rows a decode tile
/// computes together, 4 where 32 vector registers hold their accumulators
/// (AVX-512, AArch64), 2 with 16 (AVX2); 1 for the portable kernel (one
/// row at a time).
int64_t interleavedRowGroup(TargetAttr target, bool portable);

/// Estimated cycles per weight and token of `family` for an N x K linear:
/// instructions per step over the issue width, or the bytes per weight over
/// the bytes per cycle the memory delivers when that is slower, for one
/// decoded token plus one token of a prefill tile. A coarse model: counts,
/// not measurements (see docs/passes.md).
double estimateCyclesPerWeight(KernelFamily family, TargetAttr target,
                               int64_t rows, int64_t cols);

/// The family of least estimated cost that the target can run.
KernelFamily chooseKernelFamily(TargetAttr target, int64_t rows, int64_t cols);

} // namespace mlir::tern

#endif // TERNC_DIALECT_TERN_TRANSFORMS_KERNELCHOICE_H
