//===- LookupKernel.cpp - tern.linear as table lookups --------------------===//
//
// The lookup family (T-MAC's idea, made exact): for every pair of
// activations (a0, a1) a token gets a 16-entry table of the nine sums
// w0*a0 + w1*a1, w in {-1, 0, 1}^2, as int16 split into a table of low and
// a table of high bytes. A lut<R> weight stores, per row, the index
// 3*(w0+1) + (w1+1) of each pair in a nibble, R rows side by side, so one
// byte shuffle of the target (pshufb, vpermb, tbl, vtbl) looks up one pair
// of R rows at once: that replaces two multiply-adds per row with a lookup
// shared by R rows. Low and high bytes are zipped back into int16 lanes
// and summed in int16 for at most 64 pairs (|sum| <= 64 * 256), then in
// int32: the sums are exact, so the results are the bits of every other
// family.
//
// lut5<64> (AVX-512 VBMI) groups five weights: a byte holds the group's
// balanced-ternary value v = sum_i t_i 3^i as |v| (0..121) and its sign.
// A token's table per group holds the 128 int16 sums S(m) = sum_i t_i(m)
// a_i of the digits of m, low and high bytes each a 128-byte table that
// `vpermi2b` looks up with bits 0-6 of the index byte. The sign s (0 or -1
// per row) flips the result as S ^ s = -S - 1, so a run sums S * sign - n
// and adds back n, the count of negative groups (kept in i8 lanes).
//
// lut4<R> (AVX-512 VBMI `vpermb`, AArch64 `tbl` with four registers) is
// lut5 with groups of four: |v| <= 40 indexes a 64-entry table, one
// register on x86, four on AArch64.
//
// lut3<R> (every byte shuffle) groups three weights the same way: |v|
// (0..13) is a nibble index into a 16-entry table, looked up exactly as a
// pair's, and the sign comes from a byte of eight groups' sign bits: 24
// weights in five bytes, 1.67 bits a weight, where pairs take 2.
//
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/KernelChoice.h"

#include "LinearKernels.h"
#include "LoweringUtils.h"
#include "Prefetch.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

/// Bytes of one pair's tables: 16 low bytes, then 16 high bytes.
static constexpr int64_t kTableBytes = 32;
/// Weight-index bytes (two pairs each) summed in int16 before widening:
/// 2 * 32 pairs of |sum| <= 256 stay below 2^15.
static constexpr int64_t kInt16Steps = 32;
/// lut3 column blocks (eight groups) summed in int16 before widening:
/// 8 * 8 of |S ^ s| <= 382, plus the count of negative groups (<= 64),
/// stay below 2^15.
static constexpr int64_t kTriInt16Steps = 8;
/// lut4 and lut5 index bytes summed in int16 (the layout's slice): 48 of
/// |S ^ s| <= 641, plus the count of negative groups (<= 48), stay below
/// 2^15.
static constexpr int64_t kSignedInt16Steps = TernaryType::kLookupSlice;

/// Groups of one token whose tables one piece of the parallel build
/// writes: 8 pieces for 2560 columns in lut5, 20 in pairs.
static constexpr int64_t kTableGroups = 64;

/// Entries of a group's table: 16 for pairs and triples (9 and 14 used),
/// 64 for quads (41), 128 for quints (122); its bytes are twice that (low
/// then high).
static int64_t tableEntries(int64_t group) {
  return group == 5 ? 128 : group == 4 ? 64 : 16;
}

static int64_t pow3(int64_t n) { return n == 0 ? 1 : 3 * pow3(n - 1); }

/// Digit i (-1, 0 or 1) of m in balanced ternary: m = sum_i t_i 3^i.
static int balancedDigit(int m, int i) {
  for (int d = 0;; ++d) {
    int r = m % 3;
    int t = r == 2 ? -1 : r;
    if (d == i)
      return t;
    m = (m - t) / 3;
  }
}

std::optional<LookupKernel>
mlir::tern::detail::selectLookup(TargetAttr target, WeightLayout layout,
                                 int64_t rows) {
  if (!target)
    return std::nullopt;
  StringRef triple = target.getTriple();
  LookupKernel k;
  k.rows = rows;
  if (layout == WeightLayout::Lookup4) {
    if (rows != lookup4Rows(target))
      return std::nullopt;
    k.group = 4;
    if (triple.starts_with("aarch64")) {
      k.instr = LookupKernel::Tbl4;
      k.intrinsic = "llvm.aarch64.neon.tbl4.v16i8";
    } else {
      k.instr = LookupKernel::Vpermb;
      k.intrinsic = "llvm.x86.avx512.permvar.qi.512";
    }
    return k;
  }
  if (layout == WeightLayout::Lookup5) {
    if (rows != lookup5Rows(target))
      return std::nullopt;
    k.instr = LookupKernel::Vpermi2b;
    k.intrinsic = "llvm.x86.avx512.vpermi2var.qi.512";
    k.group = 5;
    return k;
  }
  if (layout != WeightLayout::Lookup && layout != WeightLayout::Lookup3)
    return std::nullopt;
  // Triples look up 16-entry tables as pairs do (a nibble index each).
  k.group = layout == WeightLayout::Lookup3 ? 3 : 2;
  if (triple.starts_with("x86_64")) {
    const bool zmm = target.getVectorBits() >= 512;
    if (rows == 64 && zmm && target.has("avx512vbmi")) {
      k.instr = LookupKernel::Vpermb;
      k.intrinsic = "llvm.x86.avx512.permvar.qi.512";
    } else if (rows == 64 && zmm && target.has("avx512bw")) {
      k.intrinsic = "llvm.x86.avx512.pshuf.b.512";
    } else if (rows == 32 && target.has("avx2")) {
      k.intrinsic = "llvm.x86.avx2.pshuf.b";
    } else if (rows == 16 && target.has("ssse3")) {
      k.intrinsic = "llvm.x86.ssse3.pshuf.b.128";
    } else {
      return std::nullopt;
    }
    return k;
  }
  if (triple.starts_with("aarch64") && rows == 16 && target.has("neon")) {
    k.instr = LookupKernel::Tbl;
    k.intrinsic = "llvm.aarch64.neon.tbl1.v16i8";
    return k;
  }
  if ((triple.starts_with("arm") || triple.starts_with("thumb")) && rows == 8 &&
      target.has("neon")) {
    k.instr = LookupKernel::Vtbl2;
    k.intrinsic = "llvm.arm.neon.vtbl2";
    return k;
  }
  return std::nullopt;
}

/// The tables of one group, token m, into `tables` at `at`: pairs (3*c0 +
/// c1 -> w0*a0 + w1*a1) or larger groups (|v| -> S(|v|)), low bytes then
/// high.
static void emitGroupTables(ImplicitLocOpBuilder &b, Value tables, Value at,
                            ArrayRef<Value> acts) {
  Type i8 = b.getI8Type(), i16 = b.getI16Type();
  const int64_t group = acts.size();
  const int64_t entries = tableEntries(group);
  auto v16 = VectorType::get({entries}, i16);
  auto v8 = VectorType::get({entries}, i8);
  Value sums;
  for (int64_t i = 0; i < group; ++i) {
    // The weight of activation i in entry e; entries never indexed are 0.
    SmallVector<int16_t> w(entries, 0);
    for (int64_t e = 0; e < entries; ++e) {
      if (group == 2 && e < 9)
        w[e] = int16_t(i == 0 ? e / 3 - 1 : e % 3 - 1);
      // |v| <= (3^group - 1) / 2 for the sign-symmetric groups.
      if (group > 2 && 2 * e < pow3(group))
        w[e] = int16_t(balancedDigit(e, i));
    }
    Value weights = b.create<arith::ConstantOp>(
        v16, DenseElementsAttr::get(v16, ArrayRef<int16_t>(w)));
    Value term = b.create<arith::MulIOp>(
        b.create<vector::BroadcastOp>(v16,
                                      b.create<arith::ExtSIOp>(i16, acts[i])),
        weights);
    sums = sums ? b.create<arith::AddIOp>(sums, term).getResult() : term;
  }
  Value lo = b.create<arith::TruncIOp>(v8, sums);
  Value hi = b.create<arith::TruncIOp>(
      v8, b.create<arith::ShRSIOp>(sums, splat(b, v16, 8)));
  b.create<vector::StoreOp>(lo, tables, ValueRange{at});
  b.create<vector::StoreOp>(
      hi, tables,
      ValueRange{b.create<arith::AddIOp>(at, indexConst(b, entries))});
}

/// A call of the runtime's `name`, an i32 function without arguments, as an
/// index value (its declaration added to the module once).
static Value callRuntimeIndex(ImplicitLocOpBuilder &b, Operation *anchor,
                              StringRef name) {
  func::FuncOp fn =
      runtimeFunction(b, anchor, name, b.getFunctionType({}, {b.getI32Type()}));
  Value v = b.create<func::CallOp>(fn, ValueRange{}).getResult(0);
  return b.create<arith::IndexCastOp>(b.getIndexType(), v);
}

Value mlir::tern::detail::threadCount(ImplicitLocOpBuilder &b,
                                      Operation *anchor) {
  return callRuntimeIndex(b, anchor, "ternc_thread_count");
}

Value mlir::tern::detail::threadIndex(ImplicitLocOpBuilder &b,
                                      Operation *anchor) {
  return callRuntimeIndex(b, anchor, "ternc_thread_index");
}

void LinearEmitter::buildTokenTables(ImplicitLocOpBuilder &b, TernaryType wt,
                                     int64_t group, Value tables, Value base,
                                     Value m, Value groupBegin,
                                     Value groupEnd) const {
  const int64_t cols = wt.getCols();
  const int64_t bytesPerGroup = 2 * tableEntries(group);
  Value cK = indexConst(b, cols), cLast = indexConst(b, cols - 1);
  Value zero8 = b.create<arith::ConstantOp>(b.getI8IntegerAttr(0));
  // Activation k of token m; past K (the padding to whole index bytes) 0.
  auto act = [&](ImplicitLocOpBuilder &ab, Value k) -> Value {
    if (cols == wt.getPaddedCols())
      return ab.create<memref::LoadOp>(q, ValueRange{m, k});
    Value a = ab.create<memref::LoadOp>(
        q, ValueRange{m, ab.create<arith::MinUIOp>(k, cLast)});
    Value inside = ab.create<arith::CmpIOp>(arith::CmpIPredicate::ult, k, cK);
    return ab.create<arith::SelectOp>(inside, a, zero8);
  };
  b.create<scf::ForOp>(
      groupBegin, groupEnd, indexConst(b, 1), ValueRange{},
      [&](OpBuilder &gb, Location gl, Value g, ValueRange) {
        ImplicitLocOpBuilder eb(gl, gb);
        SmallVector<Value> acts;
        if (group == 5) {
          // Group g = 4c + j: columns 20c + 4i + j.
          Value first = eb.create<arith::AddIOp>(
              eb.create<arith::MulIOp>(
                  eb.create<arith::DivUIOp>(g, indexConst(eb, 4)),
                  indexConst(eb, TernaryType::kLookup5Block)),
              eb.create<arith::RemUIOp>(g, indexConst(eb, 4)));
          for (int64_t i = 0; i < 5; ++i)
            acts.push_back(act(
                eb, eb.create<arith::AddIOp>(first, indexConst(eb, 4 * i))));
        } else {
          // Group g: columns group*g + i (a triple's or a pair's).
          Value k0 = eb.create<arith::MulIOp>(g, indexConst(eb, group));
          for (int64_t i = 0; i < group; ++i)
            acts.push_back(
                act(eb, eb.create<arith::AddIOp>(k0, indexConst(eb, i))));
        }
        emitGroupTables(eb, tables,
                        eb.create<arith::AddIOp>(
                            base, eb.create<arith::MulIOp>(
                                      g, indexConst(eb, bytesPerGroup))),
                        acts);
        eb.create<scf::YieldOp>();
      });
}

void LinearEmitter::buildTables(ImplicitLocOpBuilder &b, TernaryType wt,
                                int64_t group) {
  // Groups of consecutive columns for pairs, triples and quads; lut5's
  // groups take every fourth column, but there are as many.
  const int64_t groups = wt.getPaddedCols() / group;
  const int64_t bytesPerGroup = 2 * tableEntries(group);
  Tables &t = tablesOf(group);
  t.groups = groups;
  Type i8 = b.getI8Type();
  Value perToken = indexConst(b, groups * bytesPerGroup);
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  if (singleToken) {
    // Decode: a set of tables per thread, which each thread builds when it
    // first needs them (lookupUnit()).
    Value threads = threadCount(b, op);
    t.data = b.create<memref::AllocOp>(
        MemRefType::get({ShapedType::kDynamic}, i8),
        ValueRange{b.create<arith::MulIOp>(threads, perToken)},
        b.getI64IntegerAttr(64));
    t.builtBy =
        b.create<memref::AllocOp>(MemRefType::get({ShapedType::kDynamic}, i8),
                                  ValueRange{threads}, b.getI64IntegerAttr(64));
    Value zero8 = b.create<arith::ConstantOp>(b.getI8IntegerAttr(0));
    b.create<scf::ForOp>(c0, threads, c1, ValueRange{},
                         [&](OpBuilder &zb, Location zl, Value i, ValueRange) {
                           zb.create<memref::StoreOp>(zl, zero8, t.builtBy, i);
                           zb.create<scf::YieldOp>(zl);
                         });
    return;
  }
  t.data = b.create<memref::AllocOp>(
      MemRefType::get({ShapedType::kDynamic}, i8),
      ValueRange{b.create<arith::MulIOp>(cM, perToken)},
      b.getI64IntegerAttr(64));
  Value tables = t.data;
  // Pieces of kTableGroups groups of a token, in parallel: a prefill
  // chunk's tables are otherwise the largest serial part of a linear. Each
  // piece writes its own tables.
  const int64_t pieces = llvm::divideCeil(groups, kTableGroups);
  Value cPieces = indexConst(b, pieces);
  auto loop = b.create<scf::ForOp>(
      c0, b.create<arith::MulIOp>(cM, cPieces), c1, ValueRange{},
      [&](OpBuilder &mb, Location ml, Value piece, ValueRange) {
        ImplicitLocOpBuilder tb(ml, mb);
        Value m = tb.create<arith::DivUIOp>(piece, cPieces);
        Value groupBegin =
            tb.create<arith::MulIOp>(tb.create<arith::RemUIOp>(piece, cPieces),
                                     indexConst(tb, kTableGroups));
        Value groupEnd = tb.create<arith::MinUIOp>(
            tb.create<arith::AddIOp>(groupBegin, indexConst(tb, kTableGroups)),
            indexConst(tb, groups));
        buildTokenTables(tb, wt, group, tables,
                         tb.create<arith::MulIOp>(m, perToken), m, groupBegin,
                         groupEnd);
        tb.create<scf::YieldOp>();
      });
  loop->setAttr(kParallelAttrName, b.getUnitAttr());
}

void LinearEmitter::freeTables(ImplicitLocOpBuilder &b) const {
  for (const Tables &t : groupTables) {
    if (t.data)
      b.create<memref::DeallocOp>(t.data);
    if (t.builtBy)
      b.create<memref::DeallocOp>(t.builtBy);
  }
}

namespace {
/// Emits the lookups of one row block.
struct LookupSteps {
  const LookupKernel &k;
  Value tables;
  Type i8;

  Value call(ImplicitLocOpBuilder &b, VectorType type, ValueRange args) const {
    return b
        .create<LLVM::CallIntrinsicOp>(TypeRange{type},
                                       b.getStringAttr(k.intrinsic), args)
        .getResult(0);
  }

  /// A 16-byte table at `at`, repeated to fill `lanes` bytes (pshufb looks
  /// up within each 128-bit lane).
  Value table16(ImplicitLocOpBuilder &b, Value at, int64_t lanes) const {
    Value t = b.create<vector::LoadOp>(VectorType::get({16}, i8), tables,
                                       ValueRange{at});
    if (lanes == 16)
      return t;
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < lanes; ++i)
      mask.push_back(i % 16);
    return b.create<vector::ShuffleOp>(t, t, mask);
  }

  /// Low and high bytes of pair `s` (0 or 1) of index byte `jj` for R rows;
  /// `idx` holds that pair's indices, `tb` is the token's first table byte.
  std::pair<Value, Value> lookup(ImplicitLocOpBuilder &b, Value tb, Value jj,
                                 int s, Value idx) const {
    const int64_t r = k.rows;
    auto vR = VectorType::get({r}, i8);
    // Pair 2*jj + s: its low table, then its high table.
    Value at = b.create<arith::AddIOp>(
        tb, b.create<arith::MulIOp>(jj, indexConst(b, 2 * kTableBytes)));
    if (k.instr == LookupKernel::Vpermb) {
      // Both pairs' four tables are one zmm; the index picks the quarter.
      Value both = b.create<vector::LoadOp>(vR, tables, ValueRange{at});
      Value loIdx =
          s ? b.create<arith::OrIOp>(idx, splat(b, vR, 32)).getResult() : idx;
      Value hiIdx = b.create<arith::OrIOp>(loIdx, splat(b, vR, 16));
      return {call(b, vR, {both, loIdx}), call(b, vR, {both, hiIdx})};
    }
    at = b.create<arith::AddIOp>(at, indexConst(b, s * kTableBytes));
    Value atHi = b.create<arith::AddIOp>(at, indexConst(b, 16));
    if (k.instr == LookupKernel::Vtbl2) {
      // vtbl with a two-register (16-byte) table, 8 rows.
      auto v8 = VectorType::get({8}, i8);
      auto half = [&](Value from, int64_t off) -> Value {
        return b.create<vector::LoadOp>(
            v8, tables,
            ValueRange{b.create<arith::AddIOp>(from, indexConst(b, off))});
      };
      return {call(b, v8, {half(at, 0), half(at, 8), idx}),
              call(b, v8, {half(atHi, 0), half(atHi, 8), idx})};
    }
    return {call(b, vR, {table16(b, at, r), idx}),
            call(b, vR, {table16(b, atHi, r), idx})};
  }

  /// lut4, lut5: low and high bytes of S(|v|) for the index bytes `idx`
  /// (|v| | sign << 7) of group `jj`.
  std::pair<Value, Value> lookupSigned(ImplicitLocOpBuilder &b, Value tb,
                                       Value jj, Value idx) const {
    const int64_t entries = tableEntries(k.group);
    auto v64 = VectorType::get({64}, i8);
    Value at = b.create<arith::AddIOp>(
        tb, b.create<arith::MulIOp>(jj, indexConst(b, 2 * entries)));
    auto load = [&](VectorType type, int64_t off) -> Value {
      return b.create<vector::LoadOp>(
          type, tables,
          ValueRange{b.create<arith::AddIOp>(at, indexConst(b, off))});
    };
    if (k.instr == LookupKernel::Vpermb) // lut4: one zmm a table, bits 0-5
      return {call(b, v64, {load(v64, 0), idx}),
              call(b, v64, {load(v64, entries), idx})};
    if (k.instr == LookupKernel::Tbl4) {
      // lut4: four q registers a table; tbl gives 0 for an index past 63,
      // so the sign bit goes first.
      auto v16 = VectorType::get({16}, i8);
      Value mag = b.create<arith::AndIOp>(idx, splat(b, v16, 63));
      auto lookup64 = [&](int64_t off) -> Value {
        return call(b, v16,
                    {load(v16, off), load(v16, off + 16), load(v16, off + 32),
                     load(v16, off + 48), mag});
      };
      return {lookup64(0), lookup64(entries)};
    }
    // lut5: a 128-byte table in two zmm, looked up with vpermi2b.
    auto lookup128 = [&](int64_t off) -> Value {
      auto quarter = [&](int64_t q) -> Value {
        return b.create<vector::LoadOp>(
            v64, tables,
            ValueRange{b.create<arith::AddIOp>(at, indexConst(b, off + q))});
      };
      return call(b, v64, {quarter(0), idx, quarter(64)});
    };
    return {lookup128(0), lookup128(entries)};
  }
};

/// Row (within the block) of lane e of the zipped int16 half h: zipping
/// low with high bytes works within 16-byte lanes (punpck*bw, zip1/zip2),
/// so half 0 takes the first 8 rows of each such lane, half 1 the rest.
int64_t rowOfLane(int64_t r, int h, int64_t e) {
  const int64_t lane = std::min<int64_t>(r, 16), halfLane = lane / 2;
  return (e / halfLane) * lane + h * halfLane + e % halfLane;
}
} // namespace

void LinearEmitter::lookupUnit(ImplicitLocOpBuilder &b, const WeightPlan &p,
                               Value u) const {
  const LookupKernel &k = *p.lookup;
  const int64_t r = k.rows, steps = p.wt.getLookupSteps();
  // G blocks of R rows per iteration (p.blockGroups, the layout's), every
  // run of index vectors (a slice of K) passing over all G: the slice's
  // tables stay in L1 while they are looked up G times (a lut5 token's
  // tables, 51 bytes a column, are an L2 read per block otherwise).
  const int64_t G = p.blockGroups;
  const int64_t blocks = p.wt.getPaddedRows() / r;
  Type i8 = b.getI8Type();
  auto vR = VectorType::get({r}, i8);
  auto v16 = VectorType::get({r / 2}, b.getI16Type());
  auto v32 = VectorType::get({r / 2}, b.getI32Type());
  const Tables &t = tablesOf(k.group);
  LookupSteps ls{k, t.data, i8};
  // lut4 and lut5: one group and its sign a byte.
  const bool signedBytes = k.group >= 4, triple = k.group == 3;
  // Sign-symmetric groups: tables up to the sign, and a count of negative
  // groups per row.
  const bool signs = signedBytes || triple;
  const int64_t int16Steps = signedBytes ? kSignedInt16Steps
                             : triple    ? kTriInt16Steps
                                         : kInt16Steps;
  // Bytes of a step per row: a lut3 column block is five index vectors.
  const int64_t stepBytes = triple ? TernaryType::kLookup3BlockBytes : 1;
  SmallVector<int64_t> zipMask[2], rowOrder(r);
  for (int h = 0; h < 2; ++h)
    for (int64_t e = 0; e < r / 2; ++e) {
      zipMask[h].push_back(rowOfLane(r, h, e));
      zipMask[h].push_back(r + rowOfLane(r, h, e));
      rowOrder[rowOfLane(r, h, e)] = h * (r / 2) + e;
    }

  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value cR = indexConst(b, r), cSteps = indexConst(b, steps);
  Value cStep = indexConst(b, r * stepBytes);
  Value cG = indexConst(b, G);
  // The int32 sums of the G blocks, in the zipped lane order: a stack
  // buffer of the thread (tern-outline-parallel puts it at the outlined
  // body's entry).
  auto sumsType = MemRefType::get({G * r}, b.getI32Type());
  Value sums32 = b.create<memref::AllocaOp>(sumsType, b.getI64IntegerAttr(64));
  // Blocks [u*G, u*G + inGroup) (the last iteration may have fewer).
  Value firstBlock = b.create<arith::MulIOp>(u, cG);
  Value inGroup =
      blocks % G
          ? b.create<arith::MinUIOp>(
                 cG, b.create<arith::SubIOp>(indexConst(b, blocks), firstBlock))
                .getResult()
          : cG;
  Value groupBase = b.create<arith::MulIOp>(
      firstBlock, indexConst(b, r * p.wt.getRowBytes()));
  auto blockOf = [&](ImplicitLocOpBuilder &bb, Value g) -> Value {
    return bb.create<arith::AddIOp>(firstBlock, g);
  };
  // The layout stores slice [first, last) of the group's blocks together,
  // block by block (lut4, lut5; one slice, the whole row, when G = 1): step j
  // of block g is at base + (j - first) * R * stepBytes.
  auto baseOf = [&](ImplicitLocOpBuilder &bb, Value g, Value first,
                    Value last) -> Value {
    Value slice = bb.create<arith::MulIOp>(
        bb.create<arith::MulIOp>(first, inGroup), cStep);
    Value block = bb.create<arith::MulIOp>(
        bb.create<arith::MulIOp>(g, bb.create<arith::SubIOp>(last, first)),
        cStep);
    return bb.create<arith::SubIOp>(
        bb.create<arith::AddIOp>(groupBase,
                                 bb.create<arith::AddIOp>(slice, block)),
        bb.create<arith::MulIOp>(first, cStep));
  };
  auto sumsAt = [&](ImplicitLocOpBuilder &bb, Value g, int h) -> Value {
    return bb.create<arith::AddIOp>(bb.create<arith::MulIOp>(g, cR),
                                    indexConst(bb, h * (r / 2)));
  };
  Value perToken = indexConst(b, t.groups * 2 * tableEntries(k.group));
  // Decode: this thread's tables, built the first time it runs a unit of
  // the op (one token's, a few microseconds): no pass over the pool
  // before the lookups, and no table read from another core's cache.
  Value threadTables;
  if (t.builtBy) {
    Value thread = threadIndex(b, op);
    threadTables = b.create<arith::MulIOp>(thread, perToken);
    Value built = b.create<memref::LoadOp>(t.builtBy, ValueRange{thread});
    Value fresh = b.create<arith::CmpIOp>(
        arith::CmpIPredicate::eq, built,
        b.create<arith::ConstantOp>(b.getI8IntegerAttr(0)));
    b.create<scf::IfOp>(fresh, [&](OpBuilder &ob, Location ol) {
      ImplicitLocOpBuilder fb(ol, ob);
      buildTokenTables(fb, p.wt, k.group, t.data, threadTables, c0, c0,
                       indexConst(fb, t.groups));
      fb.create<memref::StoreOp>(
          fb.create<arith::ConstantOp>(fb.getI8IntegerAttr(1)), t.builtBy,
          ValueRange{thread});
      fb.create<scf::YieldOp>();
    });
  }
  b.create<scf::ForOp>(
      c0, cM, c1, ValueRange{},
      [&](OpBuilder &mb, Location ml, Value m, ValueRange) {
        ImplicitLocOpBuilder tb(ml, mb);
        Value tableBase =
            threadTables ? threadTables
                         : tb.create<arith::MulIOp>(m, perToken).getResult();
        // Index vectors [first, last) of the block at `base` summed in
        // int16, then added to its int32 sums.
        auto int16Run = [&](ImplicitLocOpBuilder &bb, Value base, Value first,
                            Value last,
                            ValueRange acc32) -> SmallVector<Value> {
          Value zero16 = splat(bb, v16, 0);
          SmallVector<Value> init = {zero16, zero16};
          if (signs) // the count of negative groups, per row
            init.push_back(splat(bb, vR, 0));
          auto inner = bb.create<scf::ForOp>(
              first, last, c1, init,
              [&](OpBuilder &ib, Location il, Value jj, ValueRange acc) {
                ImplicitLocOpBuilder cb(il, ib);
                // llvm-mca: one step (the per-row epilogue, a few divides
                // per R rows, would hide it in a short sample).
                if (mcaMarkers)
                  mcaMarker(cb, op, "BEGIN");
                Value at = cb.create<arith::AddIOp>(
                    base, cb.create<arith::MulIOp>(jj, cStep));
                Value bytes =
                    cb.create<vector::LoadOp>(vR, p.data, ValueRange{at});
                // Decode streams the weights once: prefetch ahead, with
                // the CPU's locality (Prefetch.cpp).
                if (singleToken)
                  prefetchAhead(cb, p.data, at,
                                decodePrefetch(TargetAttr::lookup(op),
                                               k.group == 5
                                                   ? DecodeKernel::Lookup5
                                                   : DecodeKernel::Lookup));
                SmallVector<Value> sums(acc.begin(), acc.end());
                auto add = [&](Value lo, Value hi) {
                  for (int h = 0; h < 2; ++h) {
                    Value zipped =
                        cb.create<vector::ShuffleOp>(lo, hi, zipMask[h]);
                    sums[h] = cb.create<arith::AddIOp>(
                        sums[h], cb.create<vector::BitCastOp>(v16, zipped));
                  }
                };
                if (signedBytes) {
                  // s = -1 where v < 0: S ^ s = -S - 1, counted in sums[2].
                  Value sign = cb.create<arith::ExtSIOp>(
                      vR, cb.create<arith::CmpIOp>(arith::CmpIPredicate::slt,
                                                   bytes, splat(cb, vR, 0)));
                  auto [lo, hi] = ls.lookupSigned(cb, tableBase, jj, bytes);
                  add(cb.create<arith::XOrIOp>(lo, sign),
                      cb.create<arith::XOrIOp>(hi, sign));
                  sums[2] = cb.create<arith::SubIOp>(sums[2], sign);
                } else if (triple) {
                  // Index vectors 4jj + q (q = 0..3) of the column block
                  // hold groups 8jj + 2q + s (s = 0, 1) in nibble s; bit
                  // 2q + s of the fifth vector is that group's sign.
                  Value signBits = cb.create<vector::LoadOp>(
                      vR, p.data,
                      ValueRange{
                          cb.create<arith::AddIOp>(at, indexConst(cb, 4 * r))});
                  for (int64_t q = 0; q < 4; ++q) {
                    Value idxBytes =
                        q == 0 ? bytes
                               : cb.create<vector::LoadOp>(
                                       vR, p.data,
                                       ValueRange{cb.create<arith::AddIOp>(
                                           at, indexConst(cb, q * r))})
                                     .getResult();
                    Value idx[2] = {
                        cb.create<arith::AndIOp>(idxBytes, splat(cb, vR, 15)),
                        cb.create<arith::ShRUIOp>(idxBytes, splat(cb, vR, 4))};
                    Value pairOfGroups = cb.create<arith::AddIOp>(
                        cb.create<arith::MulIOp>(jj, indexConst(cb, 4)),
                        indexConst(cb, q));
                    for (int s = 0; s < 2; ++s) {
                      const int64_t bit = int64_t(1) << (2 * q + s);
                      Value sign = cb.create<arith::ExtSIOp>(
                          vR, cb.create<arith::CmpIOp>(
                                  arith::CmpIPredicate::ne,
                                  cb.create<arith::AndIOp>(signBits,
                                                           splat(cb, vR, bit)),
                                  splat(cb, vR, 0)));
                      auto [lo, hi] =
                          ls.lookup(cb, tableBase, pairOfGroups, s, idx[s]);
                      add(cb.create<arith::XOrIOp>(lo, sign),
                          cb.create<arith::XOrIOp>(hi, sign));
                      sums[2] = cb.create<arith::SubIOp>(sums[2], sign);
                    }
                  }
                } else {
                  Value idx[2] = {
                      cb.create<arith::AndIOp>(bytes, splat(cb, vR, 15)),
                      cb.create<arith::ShRUIOp>(bytes, splat(cb, vR, 4))};
                  for (int s = 0; s < 2; ++s) {
                    auto [lo, hi] = ls.lookup(cb, tableBase, jj, s, idx[s]);
                    add(lo, hi);
                  }
                }
                if (mcaMarkers)
                  mcaMarker(cb, op, "END");
                cb.create<scf::YieldOp>(sums);
              });
          SmallVector<Value> wide;
          for (int h = 0; h < 2; ++h) {
            Value run = inner.getResult(h);
            if (signs) // + the count, zipped with 0 into the rows' lanes
              run = bb.create<arith::AddIOp>(
                  run, bb.create<vector::BitCastOp>(
                           v16, bb.create<vector::ShuffleOp>(inner.getResult(2),
                                                             splat(bb, vR, 0),
                                                             zipMask[h])));
            wide.push_back(bb.create<arith::AddIOp>(
                acc32[h], bb.create<arith::ExtSIOp>(v32, run)));
          }
          return wide;
        };
        // Every block's run over [first, last), its int32 sums from and
        // back to the buffer; the first run starts them from 0.
        auto slice = [&](ImplicitLocOpBuilder &sb, Value first, Value last,
                         bool firstRun) {
          sb.create<scf::ForOp>(
              c0, inGroup, c1, ValueRange{},
              [&](OpBuilder &gb, Location gl, Value g, ValueRange) {
                ImplicitLocOpBuilder bb(gl, gb);
                SmallVector<Value> acc32;
                for (int h = 0; h < 2; ++h)
                  acc32.push_back(firstRun ? splat(bb, v32, 0)
                                           : bb.create<vector::LoadOp>(
                                                   v32, sums32,
                                                   ValueRange{sumsAt(bb, g, h)})
                                                 .getResult());
                SmallVector<Value> out = int16Run(
                    bb, baseOf(bb, g, first, last), first, last, acc32);
                for (int h = 0; h < 2; ++h)
                  bb.create<vector::StoreOp>(out[h], sums32,
                                             ValueRange{sumsAt(bb, g, h)});
                bb.create<scf::YieldOp>();
              });
        };
        const int64_t runs = llvm::divideCeil(steps, int16Steps);
        if (runs == 1) {
          // One run with static bounds (short rows; the cost model's
          // samples, which llvm-mca needs unrolled).
          slice(tb, c0, cSteps, /*firstRun=*/true);
        } else {
          slice(tb, c0, indexConst(tb, int16Steps), /*firstRun=*/true);
          tb.create<scf::ForOp>(
              c1, indexConst(tb, runs), c1, ValueRange{},
              [&](OpBuilder &ob, Location ol, Value run, ValueRange) {
                ImplicitLocOpBuilder bb(ol, ob);
                Value first =
                    bb.create<arith::MulIOp>(run, indexConst(bb, int16Steps));
                Value last = bb.create<arith::MinUIOp>(
                    bb.create<arith::AddIOp>(first, indexConst(bb, int16Steps)),
                    cSteps);
                slice(bb, first, last, /*firstRun=*/false);
                bb.create<scf::YieldOp>();
              });
        }
        tb.create<scf::ForOp>(
            c0, inGroup, c1, ValueRange{},
            [&](OpBuilder &gb, Location gl, Value g, ValueRange) {
              ImplicitLocOpBuilder bb(gl, gb);
              Value totals[2];
              for (int h = 0; h < 2; ++h)
                totals[h] = bb.create<vector::LoadOp>(
                    v32, sums32, ValueRange{sumsAt(bb, g, h)});
              finishBlock(bb, p, totals, blockOf(bb, g), m, rowOrder);
              bb.create<scf::YieldOp>();
            });
        tb.create<scf::YieldOp>();
      });
}

void LinearEmitter::finishBlock(ImplicitLocOpBuilder &b, const WeightPlan &p,
                                ArrayRef<Value> totals, Value block, Value m,
                                ArrayRef<int64_t> rowOrder) const {
  const int64_t r = p.lookup->rows, rows = p.wt.getRows();
  const int64_t blocks = p.wt.getPaddedRows() / r, full = rows / r;
  Value n0 = b.create<arith::MulIOp>(block, indexConst(b, r));
  // A whole block of rows: the sums back in row order, scaled on vectors.
  auto whole = [&](ImplicitLocOpBuilder &wb) {
    Value sums = wb.create<vector::ShuffleOp>(totals[0], totals[1], rowOrder);
    vectorFinish(wb, p, {sums}, n0, r, m, 1);
  };
  // The last block of N % R rows: row by row.
  auto partial = [&](ImplicitLocOpBuilder &pb) {
    for (int h = 0; h < 2; ++h)
      for (int64_t e = 0; e < r / 2; ++e) {
        const int64_t row = rowOfLane(r, h, e);
        if (row >= rows % r)
          continue;
        finish(pb, p,
               pb.create<vector::ExtractOp>(totals[h], ArrayRef<int64_t>{e}), m,
               pb.create<arith::AddIOp>(n0, indexConst(pb, row)));
      }
  };
  if (full == blocks)
    return whole(b);
  // Only the last block can be partial.
  Value isFull = b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, block,
                                         indexConst(b, full));
  ifElse(
      b, isFull, [&](ImplicitLocOpBuilder &ib) { whole(ib); },
      [&](ImplicitLocOpBuilder &ib) { partial(ib); });
}
