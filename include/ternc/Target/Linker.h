//===- Linker.h - object + runtime -> executable ----------------*- C++ -*-===//

#ifndef TERNC_TARGET_LINKER_H
#define TERNC_TARGET_LINKER_H

#include "ternc/Target/TargetInfo.h"

#include "llvm/Support/Error.h"

#include <string>

namespace ternc {

struct LinkOptions {
  /// The compiled model object.
  std::string object;
  /// The weight blob to embed; empty to leave it beside the program.
  std::string embedBlob;
  /// The executable to write.
  std::string output;
  /// Directory holding <triple-dir>/libternc_runtime.a (see runtimeDir()).
  std::string runtimeRoot;
  /// The compiler driver to link with; empty: chosen for the triple.
  std::string driver;
};

/// The runtime archive directory name for a triple, e.g. "aarch64-linux-gnu".
std::string runtimeTripleDir(const TargetInfo &target);

/// The C++ driver that links for the triple (g++ on the host, the Debian
/// cross g++ otherwise).
std::string defaultLinkDriver(const TargetInfo &target);

/// Links a static executable. The output appears only on success.
llvm::Error linkExecutable(const TargetInfo &target,
                           const LinkOptions &options);

} // namespace ternc

#endif // TERNC_TARGET_LINKER_H
