//===- Boards.cpp - named board presets -----------------------------------===//

#include "ternc/Target/Boards.h"

using namespace ternc;

// Bandwidths: typical measured single-socket read bandwidth (STREAM-like),
// rounded, and the big cores' peak clocks; they only scale the estimates of
// --report.
static const Board kBoards[] = {
    {"rpi5", "Raspberry Pi 5 (BCM2712, 4x Cortex-A76, LPDDR4X)",
     "aarch64-linux-gnu", "cortex-a76", "", 17.0, 2.4},
    {"rpi4", "Raspberry Pi 4 (BCM2711, 4x Cortex-A72, no dotprod)",
     "aarch64-linux-gnu", "cortex-a72", "", 4.5, 1.8},
    {"rpi3", "Raspberry Pi 3 (BCM2837, 4x Cortex-A53)", "aarch64-linux-gnu",
     "cortex-a53", "", 2.2, 1.2},
    {"rpizero2", "Raspberry Pi Zero 2 W (RP3A0, 4x Cortex-A53)",
     "aarch64-linux-gnu", "cortex-a53", "", 2.0, 1.0},
    {"rpi4-32", "Raspberry Pi 4 with 32-bit Raspberry Pi OS (ARMv7 NEON)",
     "armv7-linux-gnueabihf", "cortex-a72", "", 4.5, 1.8},
    {"jetson-orin", "NVIDIA Jetson AGX Orin (Cortex-A78AE CPU)",
     "aarch64-linux-gnu", "cortex-a78", "", 60.0, 2.2},
    {"rk3588", "Rockchip RK3588 (4x Cortex-A76 + 4x A55)", "aarch64-linux-gnu",
     "cortex-a76", "", 20.0, 2.4},
    {"graviton3", "AWS Graviton3 (Neoverse V1, SVE, one core's share)",
     "aarch64-linux-gnu", "neoverse-v1", "", 30.0, 2.6},
    {"apple-m1", "Apple M1 under Linux (Asahi)", "aarch64-linux-gnu",
     "apple-m1", "", 60.0, 3.2},
};

llvm::ArrayRef<Board> ternc::boards() { return kBoards; }

const Board *ternc::findBoard(llvm::StringRef name) {
  for (const Board &b : kBoards)
    if (name == b.name)
      return &b;
  return nullptr;
}
