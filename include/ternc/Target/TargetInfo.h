//===- TargetInfo.h - triple + CPU + features -> ISA capabilities -*- C++
//-*-===//
//
// The one place that asks LLVM what a target can do. Everything downstream
// (passes, cost models) reads the resulting #tern.target attribute, so the
// IR alone says what it was compiled for.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_TARGET_TARGETINFO_H
#define TERNC_TARGET_TARGETINFO_H

#include "ternc/Dialect/Tern/IR/TernAttrs.h"

#include "llvm/Support/CodeGen.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>
#include <vector>

namespace ternc {

/// A resolved compilation target.
struct TargetInfo {
  /// Normalised LLVM triple, e.g. "x86_64-unknown-linux-gnu".
  std::string triple;
  /// Concrete LLVM CPU name (never "native").
  std::string cpu;
  /// LLVM feature string ("+a,-b"), possibly empty.
  std::string features;
  /// Capabilities the kernels care about, e.g. "avx2", "avx512vnni", "neon",
  /// "dotprod".
  std::vector<std::string> isa;
  /// Widest integer vector the kernels should use, in bits.
  int64_t vectorBits = 128;
  /// True when the CPU was not named and a baseline was chosen.
  bool cpuDefaulted = false;

  /// Resolves `triple` (empty: the host's), `cpu` ("native": the host CPU and
  /// its features; empty: the architecture's baseline, reported through
  /// `cpuDefaulted`) and `features`. Unknown triples, CPUs and features are
  /// errors.
  static llvm::Expected<TargetInfo> resolve(llvm::StringRef triple,
                                            llvm::StringRef cpu,
                                            llvm::StringRef features);

  bool has(llvm::StringRef capability) const;

  /// One line for the user: triple, CPU, capabilities, vector width.
  std::string describe() const;

  /// The attribute passes read.
  mlir::tern::TargetAttr toAttr(mlir::MLIRContext *ctx) const;

  /// Rebuilds a TargetInfo from an attribute (e.g. from a .mlir file).
  static TargetInfo fromAttr(mlir::tern::TargetAttr attr);

  /// An LLVM TargetMachine for this target (PIC, so objects link into
  /// position-independent executables).
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
  createTargetMachine(llvm::CodeGenOptLevel opt) const;
};

/// The baseline CPU used when none is named.
std::string baselineCPU(llvm::StringRef triple);

} // namespace ternc

#endif // TERNC_TARGET_TARGETINFO_H
