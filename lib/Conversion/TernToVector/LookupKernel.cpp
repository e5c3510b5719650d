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
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"

#include "LinearKernels.h"
#include "LoweringUtils.h"

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

std::optional<LookupKernel> mlir::tern::detail::selectLookup(TargetAttr target,
                                                             int64_t rows) {
  if (!target)
    return std::nullopt;
  StringRef triple = target.getTriple();
  LookupKernel k;
  k.rows = rows;
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

void LinearEmitter::buildTables(ImplicitLocOpBuilder &b, int64_t cols) {
  const int64_t groups = llvm::alignTo(cols, 4) / 2;
  tableGroups = groups;
  Type i8 = b.getI8Type(), i16 = b.getI16Type();
  auto v16 = VectorType::get({16}, i16);
  auto v8 = VectorType::get({16}, i8);
  // Entry e = 3*c0 + c1 of a pair with codes c = w + 1 holds w0*a0 + w1*a1;
  // entries 9..15 are never indexed.
  SmallVector<int16_t> w0(16, 0), w1(16, 0);
  for (int e = 0; e < 9; ++e) {
    w0[e] = int16_t(e / 3 - 1);
    w1[e] = int16_t(e % 3 - 1);
  }
  Value cW0 = b.create<arith::ConstantOp>(
      v16, DenseElementsAttr::get(v16, ArrayRef<int16_t>(w0)));
  Value cW1 = b.create<arith::ConstantOp>(
      v16, DenseElementsAttr::get(v16, ArrayRef<int16_t>(w1)));
  Value perToken = indexConst(b, groups * kTableBytes);
  tables = b.create<memref::AllocOp>(
      MemRefType::get({ShapedType::kDynamic}, i8),
      ValueRange{b.create<arith::MulIOp>(cM, perToken)},
      b.getI64IntegerAttr(64));
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value cK = indexConst(b, cols), cLast = indexConst(b, cols - 1);
  Value zero8 = b.create<arith::ConstantOp>(b.getI8IntegerAttr(0));
  // Activation k of token m; past K (the padding to whole index bytes) 0.
  auto act = [&](ImplicitLocOpBuilder &ab, Value m, Value k) -> Value {
    if (cols % 4 == 0)
      return ab.create<memref::LoadOp>(q, ValueRange{m, k});
    Value a = ab.create<memref::LoadOp>(
        q, ValueRange{m, ab.create<arith::MinUIOp>(k, cLast)});
    Value inside = ab.create<arith::CmpIOp>(arith::CmpIPredicate::ult, k, cK);
    return ab.create<arith::SelectOp>(inside, a, zero8);
  };
  // Tokens in parallel: a prefill chunk's tables are its largest serial
  // part otherwise.
  auto tokens = b.create<scf::ForOp>(
      c0, cM, c1, ValueRange{},
      [&](OpBuilder &mb, Location ml, Value m, ValueRange) {
        ImplicitLocOpBuilder tb(ml, mb);
        Value base = tb.create<arith::MulIOp>(m, perToken);
        tb.create<scf::ForOp>(
            c0, indexConst(tb, groups), c1, ValueRange{},
            [&](OpBuilder &gb, Location gl, Value g, ValueRange) {
              ImplicitLocOpBuilder eb(gl, gb);
              Value k0 = eb.create<arith::MulIOp>(g, indexConst(eb, 2));
              Value k1 = eb.create<arith::AddIOp>(k0, c1);
              auto widen = [&](Value a) -> Value {
                return eb.create<vector::BroadcastOp>(
                    v16, eb.create<arith::ExtSIOp>(i16, a));
              };
              Value sums = eb.create<arith::AddIOp>(
                  eb.create<arith::MulIOp>(widen(act(eb, m, k0)), cW0),
                  eb.create<arith::MulIOp>(widen(act(eb, m, k1)), cW1));
              Value lo = eb.create<arith::TruncIOp>(v8, sums);
              Value hi = eb.create<arith::TruncIOp>(
                  v8, eb.create<arith::ShRSIOp>(sums, splat(eb, v16, 8)));
              Value at = eb.create<arith::AddIOp>(
                  base,
                  eb.create<arith::MulIOp>(g, indexConst(eb, kTableBytes)));
              eb.create<vector::StoreOp>(lo, tables, ValueRange{at});
              eb.create<vector::StoreOp>(
                  hi, tables,
                  ValueRange{eb.create<arith::AddIOp>(at, indexConst(eb, 16))});
              eb.create<scf::YieldOp>();
            });
        tb.create<scf::YieldOp>();
      });
  tokens->setAttr(kParallelAttrName, b.getUnitAttr());
}

void LinearEmitter::freeTables(ImplicitLocOpBuilder &b) const {
  b.create<memref::DeallocOp>(tables);
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
  const int64_t r = k.rows, steps = p.wt.getRowBytes();
  Type i8 = b.getI8Type();
  auto vR = VectorType::get({r}, i8);
  auto v16 = VectorType::get({r / 2}, b.getI16Type());
  auto v32 = VectorType::get({r / 2}, b.getI32Type());
  LookupSteps ls{k, tables, i8};
  SmallVector<int64_t> zipMask[2];
  for (int h = 0; h < 2; ++h)
    for (int64_t e = 0; e < r / 2; ++e) {
      zipMask[h].push_back(rowOfLane(r, h, e));
      zipMask[h].push_back(r + rowOfLane(r, h, e));
    }

  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value cR = indexConst(b, r), cSteps = indexConst(b, steps);
  Value base = b.create<arith::MulIOp>(u, indexConst(b, r * steps));
  Value n0 = b.create<arith::MulIOp>(u, cR);
  Value perToken = indexConst(b, tableGroups * kTableBytes);
  b.create<scf::ForOp>(
      c0, cM, c1, ValueRange{},
      [&](OpBuilder &mb, Location ml, Value m, ValueRange) {
        ImplicitLocOpBuilder tb(ml, mb);
        Value tableBase = tb.create<arith::MulIOp>(m, perToken);
        // Index vectors [first, last) summed in int16, then added to the
        // int32 sums.
        auto int16Run = [&](ImplicitLocOpBuilder &bb, Value first, Value last,
                            ValueRange acc32) -> SmallVector<Value> {
          Value zero16 = splat(bb, v16, 0);
          auto inner = bb.create<scf::ForOp>(
              first, last, c1, ValueRange{zero16, zero16},
              [&](OpBuilder &ib, Location il, Value jj, ValueRange acc) {
                ImplicitLocOpBuilder cb(il, ib);
                // llvm-mca: one step (the per-row epilogue, a few divides
                // per R rows, would hide it in a short sample).
                if (mcaMarkers)
                  mcaMarker(cb, op, "BEGIN");
                Value bytes = cb.create<vector::LoadOp>(
                    vR, p.data,
                    ValueRange{cb.create<arith::AddIOp>(
                        base, cb.create<arith::MulIOp>(jj, cR))});
                Value idx[2] = {
                    cb.create<arith::AndIOp>(bytes, splat(cb, vR, 15)),
                    cb.create<arith::ShRUIOp>(bytes, splat(cb, vR, 4))};
                SmallVector<Value> sums(acc.begin(), acc.end());
                for (int s = 0; s < 2; ++s) {
                  auto [lo, hi] = ls.lookup(cb, tableBase, jj, s, idx[s]);
                  for (int h = 0; h < 2; ++h) {
                    Value zipped =
                        cb.create<vector::ShuffleOp>(lo, hi, zipMask[h]);
                    sums[h] = cb.create<arith::AddIOp>(
                        sums[h], cb.create<vector::BitCastOp>(v16, zipped));
                  }
                }
                if (mcaMarkers)
                  mcaMarker(cb, op, "END");
                cb.create<scf::YieldOp>(sums);
              });
          SmallVector<Value> wide;
          for (int h = 0; h < 2; ++h)
            wide.push_back(bb.create<arith::AddIOp>(
                acc32[h], bb.create<arith::ExtSIOp>(v32, inner.getResult(h))));
          return wide;
        };
        Value zero32 = splat(tb, v32, 0);
        SmallVector<Value> totals;
        if (steps <= kInt16Steps) {
          // One run with static bounds (short rows; the cost model's
          // samples, which llvm-mca needs unrolled).
          totals = int16Run(tb, c0, cSteps, ValueRange{zero32, zero32});
        } else {
          auto blocks = tb.create<scf::ForOp>(
              c0, indexConst(tb, (steps + kInt16Steps - 1) / kInt16Steps), c1,
              ValueRange{zero32, zero32},
              [&](OpBuilder &ob, Location ol, Value blk, ValueRange acc32) {
                ImplicitLocOpBuilder bb(ol, ob);
                Value first =
                    bb.create<arith::MulIOp>(blk, indexConst(bb, kInt16Steps));
                Value last = bb.create<arith::MinUIOp>(
                    bb.create<arith::AddIOp>(first,
                                             indexConst(bb, kInt16Steps)),
                    cSteps);
                bb.create<scf::YieldOp>(int16Run(bb, first, last, acc32));
              });
          totals.assign(blocks.getResults().begin(), blocks.getResults().end());
        }
        // The block's rows; those past N (the last block's padding) are
        // skipped.
        const int64_t rows = p.wt.getRows();
        for (int h = 0; h < 2; ++h)
          for (int64_t e = 0; e < r / 2; ++e) {
            const int64_t row = rowOfLane(r, h, e);
            Value n = tb.create<arith::AddIOp>(n0, indexConst(tb, row));
            Value total =
                tb.create<vector::ExtractOp>(totals[h], ArrayRef<int64_t>{e});
            if (rows % r == 0 || row < rows % r) {
              finish(tb, p, total, m, n);
              continue;
            }
            Value inside = tb.create<arith::CmpIOp>(arith::CmpIPredicate::ult,
                                                    n, indexConst(tb, rows));
            tb.create<scf::IfOp>(inside, [&](OpBuilder &ib, Location il) {
              ImplicitLocOpBuilder xb(il, ib);
              finish(xb, p, total, m, n);
              xb.create<scf::YieldOp>();
            });
          }
        tb.create<scf::YieldOp>();
      });
}
