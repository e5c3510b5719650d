//===- CpuFeatures.h - does this CPU run the compiled code? ------*- C++
//-*-===//
//
// ternc records the instruction-set extensions it compiled for in the
// program (`ternc_target_features`); a CPU without one of them would stop
// with SIGILL somewhere in the first token. The runtime asks the CPU first.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_RUNTIME_CPUFEATURES_H
#define TERNC_RUNTIME_CPUFEATURES_H

#include <string>
#include <vector>

namespace ternc::rt {

/// The features of `list` (LLVM's names, comma-separated) that this CPU
/// lacks, in the order of `list`, among those the runtime can ask the CPU
/// about (x86's instruction-set extensions; other names, and every name on
/// other architectures, are taken as present).
std::vector<std::string> missingCpuFeatures(const char *list);

/// Asks Linux for the AMX tile data state when `list` holds "amx-tile":
/// the kernel refuses AMX instructions (SIGILL) to a process that has not
/// asked. Returns an empty string on success or when the program uses no
/// AMX, else why the request failed.
std::string enableAmx(const char *list);

} // namespace ternc::rt

#endif // TERNC_RUNTIME_CPUFEATURES_H
