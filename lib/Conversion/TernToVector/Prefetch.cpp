//===- Prefetch.cpp - software prefetch of the weights, per CPU -----------===//

#include "Prefetch.h"
#include "LinearKernels.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include "llvm/ADT/DenseMap.h"
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

/// How far ahead of its loads a decode kernel prefetches its weights into
/// L2 (where it does).
constexpr int64_t kDecodePrefetchBytes = 4096;

bool isX86(TargetAttr target) {
  return target && llvm::StringRef(target.getTriple()).starts_with("x86");
}

} // namespace

SmallVector<PrefetchStage, 2>
mlir::tern::detail::decodePrefetch(TargetAttr target, DecodeKernel kernel) {
  // Intel (a Sapphire Rapids class server, 2B4T tg64 at one thread):
  // prefetchnta keeps the lines out of L2 and away from its streamer, so it
  // lost (vpmaddubsw 11.1 tok/s with prefetcht1, 8.3 with prefetchnta);
  // prefetcht1 4 KiB ahead of every line helped each kernel (vpdpbusd 10.1
  // -> 12.3, 18.7 -> 22.8 at two threads). For vpdpbusd a second prefetch,
  // prefetcht0 2 KiB ahead, moves the line from L2 to L1 before the load
  // needs it (2B4T tg64 with the head's change below: 12.8 -> 13.7 tok/s,
  // 23.7 -> 24.9 at two threads; a row-group loop from DRAM 14.1 -> 15.8
  // GB/s; prefetcht1 further than 4 KiB lost: 8 KiB 13.6). The lookup
  // loops lost with it (lut3 10.8-11.0 -> 10.2), vpmaddubsw was within the
  // noise (11.9-12.0 -> 12.0-12.2).
  // lut5 gained with a near prefetcht0 1 KiB ahead (2B4T tg64, three
  // interleaved rounds: one thread 17.6-17.9 -> 18.0-18.3 tok/s; two
  // threads about 1-2%, within the noise; 8 KiB alone 17.5-17.7, 2 KiB
  // 16.9-17.1).
  if (isX86(target) && x86Vendor(target) == Vendor::Intel) {
    if (kernel == DecodeKernel::Dpbusd)
      return {{kDecodePrefetchBytes, 2}, {kDecodePrefetchBytes / 2, 3}};
    if (kernel == DecodeKernel::Lookup5)
      return {{kDecodePrefetchBytes, 2}, {kDecodePrefetchBytes / 4, 3}};
    return {{kDecodePrefetchBytes, 2}};
  }
  switch (kernel) {
  case DecodeKernel::Dpbusd:
    // Zen 5 (2B4T tg64, eleven interleaved rounds): prefetcht1 4 KiB ahead
    // of every line, median 1.03x at one thread and 1.05x at two (a loop
    // of ~10 instructions a line holds only ~3 KiB of loads in flight, less
    // than this VM's DRAM needs); 6 KiB alike, 8 KiB + prefetcht0 2 KiB
    // 1.01x / 1.04x, a second stage prefetcht0 1 KiB ahead 0.92x.
    if (isX86(target) && target.getCpu() == "znver5")
      return {{kDecodePrefetchBytes, 2}};
    // Zen 4: with one line 4 KiB ahead the row groups read 25-28 GB/s
    // instead of 33-35.
    return {};
  case DecodeKernel::PairSum:
    // Zen 3: 2B4T tg64 12.6 -> 13.7 tok/s at one thread (8 KiB: 13.0).
  case DecodeKernel::Lookup:
  case DecodeKernel::Lookup5:
    // Zen 4: lut3 and lut4 from DRAM within the noise either way.
    return {{kDecodePrefetchBytes, 0}};
  }
  return {};
}

std::optional<HeadPrefetch>
mlir::tern::detail::headPrefetch(TargetAttr target) {
  if (!isX86(target))
    return std::nullopt;
  // Zen 3 (one thread, 2B4T: head 14.9-15.9 -> 16.3-16.7 GB/s, tg64 13.4 ->
  // 14.5 tok/s; 2 KiB ahead less) gained with prefetchnta 1 KiB ahead;
  // Zen 4 lost (30.6 -> 27.7 GB/s). Zen 5 gained with prefetchnta 1 KiB
  // too, and more with prefetcht1 4 KiB ahead: the screened head's int8
  // copy against the gate/up linear of the same runs (a ratio the
  // machine's bandwidth swings do not move), three interleaved runs each,
  // 0.86-0.89 -> 0.88-0.91 at two threads, 0.85-0.87 -> 0.87-0.89 at one;
  // 2 KiB ahead no better than 1.
  llvm::StringRef cpu = target.getCpu();
  if (cpu == "znver3")
    return HeadPrefetch{{1024, 0}, /*oncePerLine=*/false};
  if (cpu == "znver5")
    return HeadPrefetch{{4096, 2}, /*oncePerLine=*/false};
  // The Sapphire Rapids class host: prefetchnta lost a quarter of the tg64
  // (9.9 -> 7.6 tok/s); prefetcht1 4 KiB ahead gained (interleaved runs,
  // one thread 12.1 -> 13.0, two 19.6 -> 20.8; 1 KiB: 12.2, 8 KiB and
  // prefetcht2 alike). Once a line with AVX-512 (its 16 f16 weights a
  // vector, 32 bytes): tg64 12.4-13.1 -> 13.0-13.7 tok/s at one thread (a loop
  // from DRAM: 16.6 -> 17.6 GB/s, two threads 33.5 -> 35.4); with AVX2 (two
  // conversions a vector) it lost (12.4-12.9 -> 11.6-11.9).
  if (x86Vendor(target) == Vendor::Intel)
    return HeadPrefetch{{4096, 2}, /*oncePerLine=*/target.has("avx512f")};
  return std::nullopt;
}

std::optional<AttentionPrefetch>
mlir::tern::detail::attentionPrefetch(TargetAttr target) {
  // The Sapphire Rapids class host, 2B4T after a 1500-token prompt: the
  // caches (f32, 230 MB a token there) read at about half the weights'
  // rate, the keys in 4 streams of tiles 40 KB apart, the values in rows
  // 2.5 KB apart. Keys 64 positions and values 16 ahead, prefetcht0:
  // decode 9.5-9.7 -> 10.7-10.8 tok/s at one thread, 17.8-18.4 -> 19.7-19.9
  // at two; the prompt 149-154 -> 158 and 288-291 -> 305 tok/s (32 and 8,
  // 128 and 32 positions alike; tg64 and pp128 within the noise).
  if (isX86(target) && x86Vendor(target) == Vendor::Intel)
    return AttentionPrefetch{64, 16, 3};
  return std::nullopt;
}

void mlir::tern::detail::prefetchAhead(ImplicitLocOpBuilder &b, Value data,
                                       Value at,
                                       ArrayRef<PrefetchStage> stages) {
  for (const PrefetchStage &stage : stages)
    b.create<memref::PrefetchOp>(
        data,
        ValueRange{b.create<arith::AddIOp>(at, indexConst(b, stage.bytes))},
        /*isWrite=*/false, stage.locality,
        /*isDataCache=*/true);
}

void mlir::tern::detail::hintNextLinear(ImplicitLocOpBuilder &b, LinearOp op) {
  LinearOp next;
  for (Operation *o = op->getNextNode(); o && !next; o = o->getNextNode())
    next = dyn_cast<LinearOp>(o);
  if (!next)
    return;
  // The ranges each thread's share is an even part of: with a glu, each
  // weight (iteration u runs unit u of both); else the weights' units one
  // after the other, which is one range when their entries are adjacent in
  // the blob (the projections of one layer are).
  SmallVector<std::pair<int64_t, int64_t>> ranges;
  for (Attribute symbol : next.getWeights()) {
    auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(
        next, cast<FlatSymbolRefAttr>(symbol));
    if (!weight || !weight.getBlobOffset())
      return;
    const int64_t offset = *weight.getBlobOffset();
    const int64_t bytes = weight.getEntryBytes();
    if (!next.getGluOutput() && !ranges.empty() &&
        ranges.back().first + ranges.back().second == offset)
      ranges.back().second += bytes;
    else
      ranges.push_back({offset, bytes});
  }
  if (ranges.empty() || ranges.size() > 2)
    return;
  ranges.resize(2, {0, 0});

  Type i64 = b.getI64Type();
  func::FuncOp fn =
      runtimeFunction(b, op, "ternc_prefetch_next",
                      b.getFunctionType({i64, i64, i64, i64}, {}));
  SmallVector<Value> args;
  llvm::SmallDenseMap<int64_t, Value> constants;
  for (int64_t v :
       {ranges[0].first, ranges[0].second, ranges[1].first, ranges[1].second}) {
    Value &c = constants[v];
    if (!c)
      c = b.create<arith::ConstantOp>(b.getI64IntegerAttr(v));
    args.push_back(c);
  }
  b.create<func::CallOp>(fn, args);
}
