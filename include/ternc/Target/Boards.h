//===- Boards.h - named board presets ----------------------------*- C++
//-*-===//
//
// `ternc --board NAME` stands for a triple, a CPU and features. The memory
// bandwidth is the board's published or commonly measured DRAM read
// bandwidth, used only for estimates (no ARM hardware is at hand here).
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_TARGET_BOARDS_H
#define TERNC_TARGET_BOARDS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace ternc {

struct Board {
  const char *name;
  const char *description;
  const char *triple;
  const char *cpu;
  const char *features;
  /// DRAM read bandwidth in GB/s, for estimates only.
  double bandwidthGBs;
  /// Peak clock of the cores ternc targets, in GHz, for estimates only.
  double ghz;
};

llvm::ArrayRef<Board> boards();
/// The preset called `name`, or null.
const Board *findBoard(llvm::StringRef name);

} // namespace ternc

#endif // TERNC_TARGET_BOARDS_H
