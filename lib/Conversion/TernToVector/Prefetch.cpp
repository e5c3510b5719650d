//===- Prefetch.cpp - software prefetch of the weights, per CPU -----------===//

#include "Prefetch.h"
#include "LinearKernels.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include "llvm/ADT/StringRef.h"

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

namespace {

enum class Vendor { Intel, Amd, Unknown };

/// The x86 vendor of the target's CPU, from LLVM's CPU name: AMD's names
/// are few; generic levels (x86-64, x86-64-v2...) belong to no one.
Vendor x86Vendor(TargetAttr target) {
  llvm::StringRef cpu = target.getCpu();
  for (llvm::StringRef amd : {"znver", "bdver", "btver", "amdfam", "k8",
                              "athlon", "opteron", "barcelona"})
    if (cpu.starts_with(amd))
      return Vendor::Amd;
  if (cpu.empty() || cpu.starts_with("x86-64") || cpu == "generic")
    return Vendor::Unknown;
  return Vendor::Intel;
}

bool isX86(TargetAttr target) {
  return target && llvm::StringRef(target.getTriple()).starts_with("x86");
}

} // namespace

std::optional<int>
mlir::tern::detail::decodePrefetchLocality(TargetAttr target,
                                           DecodeKernel kernel) {
  // Intel (a Sapphire Rapids class server, 2B4T tg64 at one thread):
  // prefetchnta keeps the lines out of L2 and away from its streamer, so it
  // lost (vpmaddubsw 11.1 tok/s with prefetcht1, 8.3 with prefetchnta);
  // prefetcht1 4 KiB ahead of every line helped each kernel (vpdpbusd 10.1
  // -> 12.3, 18.7 -> 22.8 at two threads).
  if (isX86(target) && x86Vendor(target) == Vendor::Intel)
    return 2;
  switch (kernel) {
  case DecodeKernel::Dpbusd:
    // Zen 4: with one line 4 KiB ahead the row groups read 25-28 GB/s
    // instead of 33-35.
    return std::nullopt;
  case DecodeKernel::PairSum:
    // Zen 3: 2B4T tg64 12.6 -> 13.7 tok/s at one thread (8 KiB: 13.0).
  case DecodeKernel::Lookup:
    // Zen 4: lut3 and lut4 from DRAM within the noise either way.
    return 0;
  }
  return std::nullopt;
}

std::optional<HeadPrefetch>
mlir::tern::detail::headPrefetch(TargetAttr target) {
  if (!isX86(target))
    return std::nullopt;
  // Zen 3 (one thread, 2B4T: head 14.9-15.9 -> 16.3-16.7 GB/s, tg64 13.4 ->
  // 14.5 tok/s; 2 KiB ahead less) and Zen 5 gained with prefetchnta 1 KiB
  // ahead; Zen 4 lost (30.6 -> 27.7 GB/s).
  llvm::StringRef cpu = target.getCpu();
  if (cpu == "znver3" || cpu == "znver5")
    return HeadPrefetch{1024, 0};
  // The Sapphire Rapids class host: prefetchnta lost a quarter of the tg64
  // (9.9 -> 7.6 tok/s); prefetcht1 4 KiB ahead gained (interleaved runs,
  // one thread 12.1 -> 13.0, two 19.6 -> 20.8; 1 KiB: 12.2, 8 KiB and
  // prefetcht2 alike).
  if (x86Vendor(target) == Vendor::Intel)
    return HeadPrefetch{4096, 2};
  return std::nullopt;
}

void mlir::tern::detail::prefetchAhead(ImplicitLocOpBuilder &b, Value data,
                                       Value at, int locality) {
  b.create<memref::PrefetchOp>(data,
                               ValueRange{b.create<arith::AddIOp>(
                                   at, indexConst(b, kDecodePrefetchBytes))},
                               /*isWrite=*/false, locality,
                               /*isDataCache=*/true);
}
