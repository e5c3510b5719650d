//===- KernelChoice.cpp - the kernel cost model ---------------------------===//
//
// Instruction counts per step of each kernel family as the lowering emits
// it (LinearLowering.cpp, LookupKernel.cpp), over a per-architecture issue
// width; weights cost 2 bits each (1.67 in lut3, 1.6 in lut5), and the memory
// term only decides when decoding is bandwidth-bound. Coarse on purpose: it has
// to rank the families, not predict times (`ternc --report` asks llvm-mca for
// cycles).
//
//===----------------------------------------------------------------------===//

#include "ternc/Dialect/Tern/Transforms/KernelChoice.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::tern;

StringRef mlir::tern::stringifyKernelFamily(KernelFamily family) {
  switch (family) {
  case KernelFamily::Portable:
    return "portable";
  case KernelFamily::Dot:
    return "dot";
  case KernelFamily::Lookup:
    return "lut";
  case KernelFamily::Lookup3:
    return "lut3";
  case KernelFamily::Lookup4:
    return "lut4";
  case KernelFamily::Lookup5:
    return "lut5";
  }
  return "";
}

std::optional<KernelFamily> mlir::tern::symbolizeKernelFamily(StringRef name) {
  for (KernelFamily f :
       {KernelFamily::Portable, KernelFamily::Dot, KernelFamily::Lookup,
        KernelFamily::Lookup3, KernelFamily::Lookup4, KernelFamily::Lookup5})
    if (stringifyKernelFamily(f) == name)
      return f;
  return std::nullopt;
}

static bool isX86(TargetAttr t) {
  return StringRef(t.getTriple()).starts_with("x86_64");
}
static bool isAArch64(TargetAttr t) {
  return StringRef(t.getTriple()).starts_with("aarch64");
}
static bool isARM32(TargetAttr t) {
  StringRef triple = t.getTriple();
  return triple.starts_with("arm") || triple.starts_with("thumb");
}

int64_t mlir::tern::lookupVectorBytes(TargetAttr target) {
  if (!target)
    return 0;
  if (isX86(target)) {
    if (target.getVectorBits() >= 512 &&
        (target.has("avx512bw") || target.has("avx512vbmi")))
      return 64;
    if (target.has("avx2"))
      return 32;
    return target.has("ssse3") ? 16 : 0;
  }
  if (isAArch64(target))
    return target.has("neon") ? 16 : 0;
  if (isARM32(target))
    return target.has("neon") ? 8 : 0;
  return 0;
}

int64_t mlir::tern::int8DotBytes(TargetAttr target) {
  if (!target)
    return 0;
  if (isX86(target)) {
    if (target.has("avx512vnni") ||
        (target.getVectorBits() >= 512 && target.has("avx512bw")))
      return 64;
    return target.has("avxvnni") || target.has("avx2") ? 32 : 0;
  }
  if (isAArch64(target))
    return target.has("dotprod") ? 16 : 0;
  return 0;
}

int64_t mlir::tern::lookup5Rows(TargetAttr target) {
  return target && isX86(target) && target.getVectorBits() >= 512 &&
                 target.has("avx512vbmi")
             ? 64
             : 0;
}

int64_t mlir::tern::lookup4Rows(TargetAttr target) {
  if (!target)
    return 0;
  if (isAArch64(target))
    return target.has("neon") ? 16 : 0;
  return lookup5Rows(target);
}

/// Bytes of the dot family's vectors (a bit plane), 0 without the family.
static int64_t dotVectorBytes(TargetAttr target) {
  if (!target)
    return 0;
  if (isAArch64(target) && target.has("dotprod"))
    return 16;
  if (!isX86(target))
    return 0;
  if (target.getVectorBits() >= 512 &&
      (target.has("avx512bw") || target.has("avx512vnni")))
    return 64;
  return target.getVectorBits() >= 256 && target.has("avx2") ? 32 : 0;
}

bool mlir::tern::hasDotKernel(TargetAttr target) {
  return dotVectorBytes(target) != 0;
}

int64_t mlir::tern::interleavedChunk(TargetAttr target, bool portable) {
  if (!portable && hasDotKernel(target))
    return 4 * dotVectorBytes(target);
  // One vector of i32 accumulators holds a quarter of a chunk, so a chunk
  // of vector_bits/8 weights fills the widest vector exactly.
  return std::max<int64_t>(16, target ? target.getVectorBits() / 8 : 16);
}

int64_t mlir::tern::interleavedRowGroup(TargetAttr target, bool portable) {
  if (portable || !hasDotKernel(target))
    return 1;
  return target.getVectorBits() >= 512 || isAArch64(target) ? 4 : 2;
}

namespace {
/// What one core of the architecture sustains, roughly: vector
/// instructions per cycle and DRAM bytes per cycle.
struct Machine {
  double issue, bytesPerCycle;
};

Machine machineOf(TargetAttr target) {
  if (isX86(target))
    return {3.0, 8.0};
  if (isAArch64(target))
    return {2.0, 4.0};
  return {1.0, 2.0};
}

/// Instructions per weight and token of a prefill on AMX-INT8 tiles: a
/// tdpbusd or tdpbssd (16384 products) about every 16 cycles, plus
/// unpacking the weights, `unpack` instructions a weight, once per tile of
/// 16 tokens or more.
double amxPrefill(double unpack, const Machine &m) {
  return m.issue * (16.0 / 16384) + unpack / 16;
}
} // namespace

double mlir::tern::estimateCyclesPerWeight(KernelFamily family,
                                           TargetAttr target, int64_t rows,
                                           int64_t cols) {
  (void)cols;
  if (!target)
    return family == KernelFamily::Portable ? 1.0 : 1e9;
  const Machine m = machineOf(target);
  double memory = 0.25 / m.bytesPerCycle; // 2-bit codes
  double decode = 0, prefill = 0;         // instructions per weight
  switch (family) {
  case KernelFamily::Portable: {
    // Per bit plane of V/4 weights: shift, mask, subtract 1, load, two
    // widenings, multiply, add; one code load per chunk. No register tile.
    double v = interleavedChunk(target, /*portable=*/true);
    decode = prefill = 33.0 / v;
    break;
  }
  case KernelFamily::Dot: {
    double v = dotVectorBytes(target);
    if (v == 0)
      return 1e9;
    const bool vnni = isAArch64(target) || target.has("avx512vnni") ||
                      (v == 32 && target.has("avxvnni"));
    // Decode, a chunk of 4V weights: one code load, per plane shift, mask,
    // activation load and dot (vpmaddubsw: + an i16 add per plane, one
    // vpmaddwd and add per chunk).
    decode = (vnni ? 17.0 : 23.0) / (4 * v);
    // Prefill, an R x T register tile (4 x 4 with 32 registers, 2 x 4 with
    // AVX2's 16): R code loads, 8R unpacks, 4T activation loads and 4RT
    // dots (vpmaddubsw: twice that, plus 2RT for the widening) per chunk.
    const double r = (v == 32 && isX86(target)) ? 2 : 4, t = 4;
    const double perChunk = r + 8 * r + 4 * t + 4 * r * t * (vnni ? 1.0 : 2.0) +
                            (vnni ? 0 : 2 * r * t);
    prefill = perChunk / (4 * v * r * t);
    // With AMX (AmxKernel.cpp) prefill runs on the tiles: per 256 weights
    // a load, four shift-and-masks and four stores unpack the codes.
    if (v == 64 && vnni && target.has("amx-int8"))
      prefill = amxPrefill(13.0 / 256, m);
    break;
  }
  case KernelFamily::Lookup: {
    double r = lookupVectorBytes(target);
    if (r == 0)
      return 1e9;
    // Per byte vector (4R weights): a load, three index operations, four
    // table loads, four lookups, four lo/hi interleaves, four adds; the
    // tables cost ~6 instructions per column and token, shared by the rows.
    decode = prefill =
        20.0 / (4 * r) + 6.0 / double(std::max<int64_t>(rows, 1));
    break;
  }
  case KernelFamily::Lookup3: {
    double r = lookupVectorBytes(target);
    if (r == 0)
      return 1e9;
    // Per column block (24R weights): five loads, eight nibble extractions,
    // per group of three a sign test (two), two table loads, two lookups,
    // two sign flips, a count, two interleaves and two adds (13); the
    // tables cost ~4 instructions per column and token.
    decode = prefill = (5.0 + 8.0 + 8 * 13.0) / (24 * r) +
                       4.0 / double(std::max<int64_t>(rows, 1));
    // Calibrated on x86, where the counts rank the triples first but they
    // ran slower than the pairs: 2B4T tg64 11.2 vs 14.9 tok/s with
    // `vpshufb` ymm (--cpu haswell code on a Zen 4, one thread), prefill
    // level; llvm-mca's x86-64-v2 model also puts them 23% above.
    if (isX86(target))
      decode = prefill = decode * 1.33;
    memory = 5.0 / 24 / m.bytesPerCycle; // 1.67 bits a weight
    break;
  }
  case KernelFamily::Lookup4: {
    double r = lookup4Rows(target);
    if (r == 0)
      return 1e9;
    // Per index vector (4R weights): a load, two sign operations, two
    // table loads, two vpermb, two sign flips, a count, two interleaves,
    // two adds (14); AArch64 also masks the index and loads and looks up
    // four-register tables (~27). The tables cost ~8 instructions per
    // column and token.
    decode = prefill = (isAArch64(target) ? 27.0 : 14.0) / (4 * r) +
                       8.0 / double(std::max<int64_t>(rows, 1));
    break;
  }
  case KernelFamily::Lookup5: {
    double r = lookup5Rows(target);
    if (r == 0)
      return 1e9;
    // Per index vector (5R weights): a load, two sign operations, four
    // table loads, two vpermi2b, two sign flips, a count, two interleaves,
    // two adds; the tables cost ~12 instructions per column and token.
    decode = 16.0 / (5 * r) + 12.0 / double(std::max<int64_t>(rows, 1));
    memory = 0.2 / m.bytesPerCycle; // 1.6 bits a weight
    // With AMX (AmxLookupKernel.cpp) prefill runs on the tiles: per 640
    // weights four loads, four interleaves, two sign tests, ten vpermi2b
    // and ten negations and stores unpack the weights.
    if (target.has("amx-int8"))
      return std::max(decode / m.issue, memory) +
             amxPrefill(40.0 / 640, m) / m.issue;
    // Otherwise a prefill token runs the same steps, but its 256 bytes of
    // tables per index vector come from L2 (a chunk's tables outgrow L1),
    // at about 32 bytes a cycle.
    return std::max(decode / m.issue, memory) +
           std::max(decode / m.issue, 256.0 / (5 * r) / 32.0);
  }
  }
  return std::max(decode / m.issue, memory) + prefill / m.issue;
}

KernelFamily mlir::tern::chooseKernelFamily(TargetAttr target, int64_t rows,
                                            int64_t cols) {
  if (!target)
    return KernelFamily::Portable;
  KernelFamily best = KernelFamily::Portable;
  double bestCost =
      estimateCyclesPerWeight(KernelFamily::Portable, target, rows, cols);
  for (KernelFamily f :
       {KernelFamily::Dot, KernelFamily::Lookup, KernelFamily::Lookup3,
        KernelFamily::Lookup4, KernelFamily::Lookup5}) {
    double cost = estimateCyclesPerWeight(f, target, rows, cols);
    if (cost < bestCost) {
      best = f;
      bestCost = cost;
    }
  }
  return best;
}
