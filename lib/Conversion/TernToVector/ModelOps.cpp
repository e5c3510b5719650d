//===- ModelOps.cpp - lower tern model ops to scf loops -------------------===//
//
// The ops around the ternary matmuls: embedding, RMSNorm, RoPE, attention,
// gated units, residual adds and the dense LM head. They are lowered to
// plain loops whose floating-point sums run in index order, exactly as each
// op documents, so that a scalar reference (and the reference runners of
// the models) reproduce results bit for bit. Faster, reassociating versions
// belong to the kernel-selection work and must stay opt-in where they change
// results.
//
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"

#include "LoweringUtils.h"
#include "Prefetch.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

namespace {

using BodyFn = function_ref<void(ImplicitLocOpBuilder &, Value, ValueRange)>;

/// scf.for from `lb` to `ub` (index values) with `inits`; returns results.
ValueRange loop(ImplicitLocOpBuilder &b, Value lb, Value ub, ValueRange inits,
                BodyFn body, bool parallel = false) {
  Value one = b.create<arith::ConstantIndexOp>(1);
  auto op = b.create<scf::ForOp>(
      lb, ub, one, inits,
      [&](OpBuilder &nb, Location loc, Value iv, ValueRange args) {
        ImplicitLocOpBuilder ib(loc, nb);
        body(ib, iv, args);
      });
  // Iterations write disjoint outputs: tern-outline-parallel may split
  // them across the runtime's threads.
  if (parallel)
    op->setAttr(kParallelAttrName, b.getUnitAttr());
  return op.getResults();
}

/// body(b, i) where `index` holds i, for i in [0, n) known at compile time:
/// an scf.index_switch with a case for each i but the last, its default.
void switchOn(ImplicitLocOpBuilder &b, Value index, int64_t n,
              function_ref<void(ImplicitLocOpBuilder &, int64_t)> body) {
  if (n == 1) {
    body(b, 0);
    return;
  }
  auto cases = llvm::to_vector(llvm::seq<int64_t>(0, n - 1));
  auto op = b.create<scf::IndexSwitchOp>(TypeRange{}, index, cases, n - 1);
  OpBuilder::InsertionGuard guard(b);
  for (int64_t i = 0; i < n; ++i) {
    b.createBlock(i + 1 < n ? &op.getCaseRegions()[i] : &op.getDefaultRegion());
    body(b, i);
    b.create<scf::YieldOp>();
  }
}

/// Loads `memref[indices]` as f32, widening f16/bf16. bf16 is widened with
/// integer operations (its bits are the high half of an f32): exact, and
/// every backend can select them, where some (32-bit ARM) cannot select a
/// bf16 extension.
Value loadF32(ImplicitLocOpBuilder &b, Value memref, ValueRange indices) {
  Value v = b.create<memref::LoadOp>(memref, indices);
  if (v.getType().isBF16()) {
    Value bits = b.create<arith::BitcastOp>(b.getI16Type(), v);
    Value wide = b.create<arith::ExtUIOp>(b.getI32Type(), bits);
    Value high = b.create<arith::ShLIOp>(
        wide, b.create<arith::ConstantOp>(b.getI32IntegerAttr(16)));
    return b.create<arith::BitcastOp>(b.getF32Type(), high);
  }
  if (v.getType().isInteger(8))
    return b.create<arith::SIToFPOp>(b.getF32Type(), v);
  if (!v.getType().isF32())
    v = b.create<arith::ExtFOp>(b.getF32Type(), v);
  return v;
}
void yield(ImplicitLocOpBuilder &b, ValueRange values = {}) {
  b.create<scf::YieldOp>(values);
}

struct EmbeddingLowering : public OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value table = adaptor.getTable(), ids = adaptor.getIds(),
          out = adaptor.getOutput();
    Value c0 = indexConst(b, 0), vocab = dimOf(b, table, 0),
          d = dimOf(b, table, 1);
    Value last = b.create<arith::SubIOp>(vocab, indexConst(b, 1));
    loop(b, c0, dimOf(b, out, 0), {}, [&](auto &ib, Value m, ValueRange) {
      Value id = ib.template create<arith::IndexCastOp>(
          ib.getIndexType(), ib.template create<memref::LoadOp>(ids, m));
      // Clamp into [0, V): generated code never reads out of bounds.
      id = ib.template create<arith::MaxSIOp>(id, c0);
      id = ib.template create<arith::MinSIOp>(id, last);
      loop(ib, c0, d, {}, [&](auto &jb, Value j, ValueRange) {
        jb.template create<memref::StoreOp>(loadF32(jb, table, {id, j}), out,
                                            ValueRange{m, j});
        yield(jb);
      });
      yield(ib);
    });
    rewriter.eraseOp(op);
    return success();
  }
};

struct RMSNormLowering : public OpConversionPattern<RMSNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RMSNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getInput(), w = adaptor.getWeight(),
          y = adaptor.getOutput();
    int64_t dsize = op.getInput().getType().getDimSize(1);
    Value c0 = indexConst(b, 0), d = indexConst(b, dsize);
    Value eps = b.create<arith::ConstantOp>(op.getEpsAttr());
    Value n = f32Const(b, float(dsize)), one = f32Const(b, 1.0f);
    loop(b, c0, dimOf(b, x, 0), {}, [&](auto &ib, Value m, ValueRange) {
      Value ss = sumOfSquares(ib, x, m, dsize, op.getLanes());
      // r = 1 / sqrt(ss / D + eps)
      Value mean = ib.template create<arith::DivFOp>(ss, n);
      Value r = ib.template create<arith::DivFOp>(
          one, ib.template create<math::SqrtOp>(
                   ib.template create<arith::AddFOp>(mean, eps)));
      loop(ib, c0, d, {}, [&](auto &jb, Value j, ValueRange) {
        Value v = jb.template create<memref::LoadOp>(x, ValueRange{m, j});
        Value o = jb.template create<arith::MulFOp>(r, v);
        if (w)
          o = jb.template create<arith::MulFOp>(
              jb.template create<memref::LoadOp>(w, j), o);
        jb.template create<memref::StoreOp>(o, y, ValueRange{m, j});
        yield(jb);
      });
      yield(ib);
    });
    rewriter.eraseOp(op);
    return success();
  }
};

/// freq_i = 1 / theta^(2i / head_dim) in f32 for i in [0, head_dim/2),
/// into a stack buffer: once per op for all its rows (a prefill chunk's
/// 128 rows computed each 128 times otherwise).
Value ropeFrequencies(ImplicitLocOpBuilder &b, int64_t hd,
                      FloatAttr thetaAttr) {
  Value c0 = indexConst(b, 0), c2 = indexConst(b, 2);
  Value theta = b.create<arith::ConstantOp>(thetaAttr);
  Value hdF = f32Const(b, float(hd)), one = f32Const(b, 1.0f);
  Value freqs =
      b.create<memref::AllocaOp>(MemRefType::get({hd / 2}, b.getF32Type()));
  loop(b, c0, indexConst(b, hd / 2), {}, [&](auto &fb, Value i, ValueRange) {
    Value twoIF = fb.template create<arith::UIToFPOp>(
        fb.getF32Type(),
        fb.template create<arith::IndexCastOp>(
            fb.getI64Type(), fb.template create<arith::MulIOp>(i, c2)));
    fb.template create<memref::StoreOp>(
        fb.template create<arith::DivFOp>(
            one, fb.template create<math::PowFOp>(
                     theta, fb.template create<arith::DivFOp>(twoIF, hdF))),
        freqs, i);
    yield(fb);
  });
  return freqs;
}

/// The cos and sin of pair i's angle at position start + m: angle = pos *
/// freq_i, in f32.
std::pair<Value, Value> ropeCosSin(ImplicitLocOpBuilder &b, Value freqs,
                                   Value start, Value m, Value i) {
  Value pos = b.create<arith::UIToFPOp>(
      b.getF32Type(), b.create<arith::IndexCastOp>(
                          b.getI64Type(), b.create<arith::AddIOp>(start, m)));
  Value angle =
      b.create<arith::MulFOp>(pos, b.create<memref::LoadOp>(freqs, i));
  return {b.create<math::CosOp>(angle), b.create<math::SinOp>(angle)};
}

struct RopeTableLowering : public OpConversionPattern<RopeTableOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RopeTableOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value table = adaptor.getTable(), start = adaptor.getStart();
    const int64_t hd = op.getHeadDim();
    Value freqs = ropeFrequencies(b, hd, op.getThetaAttr());
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
    // Rows (a prefill chunk's positions) on the pool, as tern.rope's.
    loop(
        b, c0, dimOf(b, table, 0), {},
        [&](ImplicitLocOpBuilder &rb, Value m, ValueRange) {
          loop(rb, c0, indexConst(rb, hd / 2), {},
               [&](ImplicitLocOpBuilder &ib, Value i, ValueRange) {
                 auto [cs, sn] = ropeCosSin(ib, freqs, start, m, i);
                 ib.create<memref::StoreOp>(cs, table, ValueRange{m, i, c0});
                 ib.create<memref::StoreOp>(sn, table, ValueRange{m, i, c1});
                 yield(ib);
               });
          yield(rb);
        },
        rowsWorthThreads(table));
    rewriter.eraseOp(op);
    return success();
  }
};

struct RopeLowering : public OpConversionPattern<RopeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RopeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getData(), start = adaptor.getStart(),
          table = adaptor.getTable();
    int64_t hd = op.getHeadDim();
    int64_t heads = op.getData().getType().getDimSize(1) / hd;
    bool interleaved = op.getStyle() == RopeStyle::Interleaved;
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1), c2 = indexConst(b, 2);
    Value pairs = indexConst(b, hd / 2);
    // Without a table, the frequencies once for all the op's rows.
    Value freqs = table ? Value() : ropeFrequencies(b, hd, op.getThetaAttr());
    // Rotates pair i of every head of token row m.
    auto rotate = [&](ImplicitLocOpBuilder &pb, Value m, Value i) {
      Value twoI = pb.create<arith::MulIOp>(i, c2);
      Value cs, sn;
      if (table) {
        cs = pb.create<memref::LoadOp>(table, ValueRange{m, i, c0});
        sn = pb.create<memref::LoadOp>(table, ValueRange{m, i, c1});
      } else {
        std::tie(cs, sn) = ropeCosSin(pb, freqs, start, m, i);
      }
      Value ia = interleaved ? twoI : i;
      Value ib2 =
          interleaved
              ? pb.create<arith::AddIOp>(twoI, c1).getResult()
              : pb.create<arith::AddIOp>(i, indexConst(pb, hd / 2)).getResult();
      loop(
          pb, c0, indexConst(pb, heads), {},
          [&](auto &hb, Value h, ValueRange) {
            Value base =
                hb.template create<arith::MulIOp>(h, indexConst(hb, hd));
            Value ja = hb.template create<arith::AddIOp>(base, ia);
            Value jb = hb.template create<arith::AddIOp>(base, ib2);
            Value va = hb.template create<memref::LoadOp>(x, ValueRange{m, ja});
            Value vb = hb.template create<memref::LoadOp>(x, ValueRange{m, jb});
            Value ra = hb.template create<arith::SubFOp>(
                hb.template create<arith::MulFOp>(va, cs),
                hb.template create<arith::MulFOp>(vb, sn));
            Value rb = hb.template create<arith::AddFOp>(
                hb.template create<arith::MulFOp>(va, sn),
                hb.template create<arith::MulFOp>(vb, cs));
            hb.template create<memref::StoreOp>(ra, x, ValueRange{m, ja});
            hb.template create<memref::StoreOp>(rb, x, ValueRange{m, jb});
            yield(hb);
          });
    };
    // Token rows on the pool for a row-major operand: each thread writes
    // whole rows. For a transposed one (a row per feature, as the key cache
    // was before its tiles) the pairs go on the pool instead, so each
    // thread writes its own features: threads taking tokens would share the
    // cache lines of adjacent positions (2B4T pp128 at 2 threads: RoPE of
    // such keys took 8.5% of the prefill, 3.8% at 1). The same operations
    // per element, in another order.
    const bool pairsOuter = !unitInnerStride(x);
    Value rows = dimOf(b, x, 0);
    loop(
        b, c0, pairsOuter ? pairs : rows, {},
        [&](auto &ob, Value outer, ValueRange) {
          loop(ob, c0, pairsOuter ? rows : pairs, {},
               [&](auto &ib, Value inner, ValueRange) {
                 rotate(ib, pairsOuter ? inner : outer,
                        pairsOuter ? outer : inner);
                 yield(ib);
               });
          yield(ob);
        },
        rowsWorthThreads(x));
    rewriter.eraseOp(op);
    return success();
  }
};

/// Vectors over positions (scores) and over features (outputs), each lane
/// summing in order exactly as the scalar definition: the same bits.
///
/// Prefill runs blocks of queries of a head together: each key and value
/// vector loaded (from L2 in long prompts) serves every query of the block,
/// where one query at a time read 1 KB from L2 per position and query and
/// waited on it (2B4T, 1500-token prompt: attention 58% of the time).
struct AttentionLowering : public OpConversionPattern<AttentionOp> {
  using OpConversionPattern::OpConversionPattern;

  /// Positions of one piece of decode's scores: a multiple of the
  /// positions a step of the scores loop takes (kPositionVecs vectors of
  /// at most 16 f32); 128 KB of 2B4T's keys for a KV group.
  static constexpr int64_t kPositionChunk = 256;

  /// Queries a block holds: its accumulators (4 position vectors, a group
  /// of feature vectors per query) stay in 32 vector registers (AVX-512,
  /// AArch64) for 4 queries, in 16 for 2.
  static int64_t queryBlock(TargetAttr target) {
    const bool wide =
        target && (target.getVectorBits() >= 512 ||
                   StringRef(target.getTriple()).starts_with("aarch64"));
    return wide ? 4 : 2;
  }

  LogicalResult
  matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value q = adaptor.getQuery(), kT = adaptor.getKeys(),
          v = adaptor.getValues(), out = adaptor.getOutput(),
          start = adaptor.getStart(), ws = adaptor.getScores();
    const int64_t hd = op.getHeadDim(), heads = op.getHeads();
    const int64_t group = heads / op.getKvHeads();
    const int64_t L = floatLanes(op);
    auto f32 = b.getF32Type();
    auto vF = VectorType::get({L}, f32);
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
    Value cHd = indexConst(b, hd), cGroup = indexConst(b, group);
    Value zero = f32Const(b, 0.0f), vZero = splat(b, vF, 0.0);
    Value sqrtHd = b.create<math::SqrtOp>(f32Const(b, float(hd)));
    Value sqrtHdV = b.create<vector::BroadcastOp>(vF, sqrtHd);
    Value cTile = indexConst(b, kKeyTile);
    Value lastTile = b.create<arith::SubIOp>(dimOf(b, kT, 0), c1);
    // Features of a head in vectors of L (the last one masked).
    const int64_t featureVecs = (hd + L - 1) / L;
    // A value row read whole, unmasked, when the head is whole vectors.
    const std::optional<ArrayRef<bool>> vInBounds = inBoundsIf(hd % L == 0);
    auto wsType = cast<MemRefType>(ws.getType());
    // Workspace rows per head: one per query of a block.
    const int64_t wsRows = wsType.getDimSize(0) / heads;
    const int64_t block = std::min(wsRows, queryBlock(TargetAttr::lookup(op)));
    Value cWsRows = indexConst(b, wsRows);
    const std::optional<AttentionPrefetch> ahead =
        attentionPrefetch(TargetAttr::lookup(op));
    Value lastPosition = b.create<arith::SubIOp>(dimOf(b, v, 0), c1);

    // One block of Q queries that share a KV head: query i is row ms[i] of
    // head hs[i], its scores in workspace row wsRow[i]; their lengths
    // ascend (the queries of one head at consecutive rows, or one row of
    // the heads of a KV group: all alike). The scores, the softmax and the
    // output of a block are three steps (below), which decode runs as
    // three parallel loops.
    struct QueryBlock {
      SmallVector<Value> ms, lens, scores, qBases;
      Value kvBase;
      // Positions every query of the block attends to, and the last
      // query's (the longest).
      Value lenMin, lenMax;
    };
    auto blockOf = [&](ImplicitLocOpBuilder &hb, ArrayRef<Value> hs,
                       ArrayRef<Value> ms, ArrayRef<Value> wsRow) {
      const int64_t Q = ms.size();
      QueryBlock blk;
      blk.ms.assign(ms.begin(), ms.end());
      SmallVector<Value> &lens = blk.lens, &scores = blk.scores,
                         &qBases = blk.qBases;
      for (int64_t i = 0; i < Q; ++i) {
        // One row for every head of a KV group: one length.
        lens.push_back(i && ms[i] == ms[i - 1]
                           ? lens.back()
                           : hb.create<arith::AddIOp>(
                                 hb.create<arith::AddIOp>(start, ms[i]), c1));
        qBases.push_back(hb.create<arith::MulIOp>(hs[i], cHd));
        Value row = wsRow[i];
        Value view = hb.create<memref::SubViewOp>(
            ws, ArrayRef<OpFoldResult>{row, hb.getIndexAttr(0)},
            ArrayRef<OpFoldResult>{hb.getIndexAttr(1),
                                   hb.getIndexAttr(wsType.getDimSize(1))},
            ArrayRef<OpFoldResult>{hb.getIndexAttr(1), hb.getIndexAttr(1)});
        scores.push_back(hb.create<memref::CollapseShapeOp>(
            view, ArrayRef<ReassociationIndices>{{0, 1}}));
      }
      blk.kvBase = hb.create<arith::MulIOp>(
          hb.create<arith::DivUIOp>(hs[0], cGroup), cHd);
      blk.lenMin = lens.front();
      blk.lenMax = lens.back();
      return blk;
    };

    constexpr int64_t kPositionVecs = 4;
    auto scoresOf = [&](ImplicitLocOpBuilder &hb, const QueryBlock &blk,
                        Value first, Value last) {
      const int64_t Q = blk.ms.size();
      ArrayRef<Value> ms = blk.ms, scores = blk.scores, qBases = blk.qBases;
      Value kvBase = blk.kvBase;
      // scores_i[t0 + l] = (sum_j q_i[j] * kT[j, t0 + l], j in order) /
      // sqrt(hd) for L positions at a time; lanes past the cache read 0.
      // kPositionVecs vectors of positions side by side: each lane's sum is
      // a chain of dependent adds, and independent chains hide the add
      // latency (prefill pp128 on Zen 5: the scores took 3x the time with
      // one). Positions up to the longest query's for all: a shorter
      // query's scores past its own length are never read. [first, last):
      // a range of positions, first a multiple of kPositionVecs * L.
      hb.create<scf::ForOp>(
          first, last, indexConst(hb, kPositionVecs * L), ValueRange{},
          [&](OpBuilder &tb0, Location tl, Value t0, ValueRange) {
            ImplicitLocOpBuilder tb(tl, tb0);
            // Position vector u starts at ts[u], in key tile tiles[u] at
            // lane lanes[u] (the lanes never straddle two tiles: L divides
            // kKeyTile). Past the cache's last tile the last one is read
            // again: those lanes are past the query's positions and their
            // scores never used.
            SmallVector<Value> ts, tiles, lanes;
            for (int64_t u = 0; u < kPositionVecs; ++u) {
              ts.push_back(tb.create<arith::AddIOp>(t0, indexConst(tb, u * L)));
              tiles.push_back(tb.create<arith::MinUIOp>(
                  tb.create<arith::DivUIOp>(ts[u], cTile), lastTile));
              lanes.push_back(tb.create<arith::RemUIOp>(ts[u], cTile));
            }
            // The tile of each key line `keyPositions` ahead (each line
            // once: the position vectors that start a tile), clamped to
            // the cache.
            SmallVector<Value> tilesAhead;
            if (ahead)
              for (int64_t u = 0; u < kPositionVecs; ++u)
                if (u * L % kKeyTile == 0)
                  tilesAhead.push_back(tb.create<arith::MinUIOp>(
                      tb.create<arith::DivUIOp>(
                          tb.create<arith::AddIOp>(
                              ts[u], indexConst(tb, ahead->keyPositions)),
                          cTile),
                      lastTile));
            auto dot = tb.create<scf::ForOp>(
                c0, cHd, c1, SmallVector<Value>(Q * kPositionVecs, vZero),
                [&](OpBuilder &jb0, Location jl, Value j, ValueRange acc) {
                  ImplicitLocOpBuilder jb(jl, jb0);
                  Value row = jb.create<arith::AddIOp>(kvBase, j);
                  SmallVector<Value> kv;
                  for (int64_t u = 0; u < kPositionVecs; ++u)
                    kv.push_back(jb.create<vector::LoadOp>(
                        vF, kT, ValueRange{tiles[u], row, lanes[u]}));
                  for (Value tile : tilesAhead)
                    jb.create<memref::PrefetchOp>(
                        kT, ValueRange{tile, row, c0}, /*isWrite=*/false,
                        ahead->locality, /*isDataCache=*/true);
                  SmallVector<Value> sums;
                  for (int64_t i = 0; i < Q; ++i) {
                    Value col = jb.create<arith::AddIOp>(qBases[i], j);
                    Value qv = jb.create<vector::BroadcastOp>(
                        vF,
                        jb.create<memref::LoadOp>(q, ValueRange{ms[i], col}));
                    for (int64_t u = 0; u < kPositionVecs; ++u)
                      sums.push_back(jb.create<arith::AddFOp>(
                          acc[i * kPositionVecs + u],
                          jb.create<arith::MulFOp>(qv, kv[u])));
                  }
                  jb.create<scf::YieldOp>(sums);
                });
            // Lanes past the workspace row are not written.
            for (int64_t i = 0; i < Q; ++i)
              for (int64_t u = 0; u < kPositionVecs; ++u)
                tb.create<vector::TransferWriteOp>(
                    tb.create<arith::DivFOp>(
                        dot.getResult(i * kPositionVecs + u), sqrtHdV),
                    scores[i], ValueRange{ts[u]});
            tb.create<scf::YieldOp>();
          });
    };

    // Query i's scores become its attention weights.
    auto softmaxOf = [&](ImplicitLocOpBuilder &hb, const QueryBlock &blk,
                         int64_t i) {
      ArrayRef<Value> lens = blk.lens, scores = blk.scores;
      // p_i[t] = exp(scores_i[t] - max), summed in order, then normalised.
      // The maximum and the division are exact whatever the order: they
      // run on vectors (lanes past the query's positions are -inf for the
      // maximum; the division writes them too, and nothing reads them).
      Value negInf = f32Const(hb, -std::numeric_limits<float>::infinity());
      Value vNegInf = hb.create<vector::BroadcastOp>(vF, negInf);
      Value cL = indexConst(hb, L);
      auto vMask = VectorType::get({L}, hb.getI1Type());
      auto maxLanes = hb.create<scf::ForOp>(
          c0, lens[i], cL, ValueRange{vNegInf},
          [&](OpBuilder &tb0, Location tl, Value t, ValueRange acc) {
            ImplicitLocOpBuilder tb(tl, tb0);
            Value mine = tb.create<vector::CreateMaskOp>(
                vMask, ValueRange{tb.create<arith::SubIOp>(lens[i], t)});
            Value sv = tb.create<arith::SelectOp>(
                mine,
                tb.create<vector::TransferReadOp>(vF, scores[i], ValueRange{t},
                                                  negInf),
                vNegInf);
            tb.create<scf::YieldOp>(
                ValueRange{tb.create<arith::MaximumFOp>(acc[0], sv)});
          });
      Value maxScore = hb.create<vector::ReductionOp>(
          vector::CombiningKind::MAXIMUMF, maxLanes.getResult(0));
      Value sum =
          loop(hb, c0, lens[i], {zero}, [&](auto &tb, Value t, ValueRange acc) {
            Value e = expNoUnderflowCall(
                tb, tb.template create<arith::SubFOp>(
                        tb.template create<memref::LoadOp>(scores[i], t),
                        maxScore));
            tb.template create<memref::StoreOp>(e, scores[i], t);
            yield(tb, {tb.template create<arith::AddFOp>(acc[0], e)});
          })[0];
      Value vSum = hb.create<vector::BroadcastOp>(vF, sum);
      hb.create<scf::ForOp>(
          c0, lens[i], cL, ValueRange{},
          [&](OpBuilder &tb0, Location tl, Value t, ValueRange) {
            ImplicitLocOpBuilder tb(tl, tb0);
            Value p = tb.create<arith::DivFOp>(
                tb.create<vector::TransferReadOp>(vF, scores[i], ValueRange{t},
                                                  zero),
                vSum);
            tb.create<vector::TransferWriteOp>(p, scores[i], ValueRange{t});
            tb.create<scf::YieldOp>();
          });
    };

    // out_i[j] = sum_t p_i[t] * v[t, j], t in order, for the feature
    // vectors f0 .. f0 + fn: the positions every query has for the whole
    // block (each value vector loaded once for Q queries), then each
    // query's own last positions.
    auto valuesOf = [&](ImplicitLocOpBuilder &hb, const QueryBlock &blk,
                        int64_t f0, int64_t groupVecs) {
      const int64_t Q = blk.ms.size();
      ArrayRef<Value> ms = blk.ms, lens = blk.lens, scores = blk.scores,
                      qBases = blk.qBases;
      Value kvBase = blk.kvBase, lenMin = blk.lenMin;
      const int64_t fn = std::min(groupVecs, featureVecs - f0);
      // p_i[t] * v[t, features f0 .. f0 + fn) added to sums[i * fn + f]
      // for the queries `which`.
      auto accumulate = [&](ImplicitLocOpBuilder &tb, Value t,
                            ArrayRef<int64_t> which, ValueRange s) {
        SmallVector<Value> vv;
        if (ahead) {
          // Each line of the value row `valuePositions` ahead (a vector
          // of 16 f32 is one line; narrower ones repeat a line, which
          // costs a prefetch, not a read), clamped to the cache.
          Value tAhead = tb.create<arith::MinUIOp>(
              tb.create<arith::AddIOp>(t,
                                       indexConst(tb, ahead->valuePositions)),
              lastPosition);
          for (int64_t f = 0; f < fn; ++f)
            tb.create<memref::PrefetchOp>(
                v,
                ValueRange{tAhead, tb.create<arith::AddIOp>(
                                       kvBase, indexConst(tb, (f0 + f) * L))},
                /*isWrite=*/false, ahead->locality, /*isDataCache=*/true);
        }
        for (int64_t f = 0; f < fn; ++f)
          vv.push_back(tb.create<vector::TransferReadOp>(
              vF, v,
              ValueRange{t, tb.create<arith::AddIOp>(
                                kvBase, indexConst(tb, (f0 + f) * L))},
              zero, vInBounds));
        SmallVector<Value> next;
        for (auto [k, i] : llvm::enumerate(which)) {
          Value p = tb.create<vector::BroadcastOp>(
              vF, tb.create<memref::LoadOp>(scores[i], t));
          for (int64_t f = 0; f < fn; ++f)
            next.push_back(tb.create<arith::AddFOp>(
                s[k * fn + f], tb.create<arith::MulFOp>(p, vv[f])));
        }
        return next;
      };
      SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, Q));
      auto shared = hb.create<scf::ForOp>(
          c0, lenMin, c1, SmallVector<Value>(Q * fn, vZero),
          [&](OpBuilder &tb0, Location tl, Value t, ValueRange s) {
            ImplicitLocOpBuilder tb(tl, tb0);
            tb.create<scf::YieldOp>(accumulate(tb, t, all, s));
          });
      for (int64_t i = 0; i < Q; ++i) {
        SmallVector<Value> sums(shared.getResults().begin() + i * fn,
                                shared.getResults().begin() + (i + 1) * fn);
        if (lens[i] != lenMin) {
          int64_t only[] = {i};
          auto own = hb.create<scf::ForOp>(
              lenMin, lens[i], c1, sums,
              [&](OpBuilder &tb0, Location tl, Value t, ValueRange s) {
                ImplicitLocOpBuilder tb(tl, tb0);
                tb.create<scf::YieldOp>(accumulate(tb, t, only, s));
              });
          sums.assign(own.getResults().begin(), own.getResults().end());
        }
        for (int64_t f = 0; f < fn; ++f) {
          Value col =
              hb.create<arith::AddIOp>(qBases[i], indexConst(hb, (f0 + f) * L));
          const int64_t lanesLeft = std::min(L, hd - (f0 + f) * L);
          if (lanesLeft == L) {
            hb.create<vector::StoreOp>(sums[f], out, ValueRange{ms[i], col});
            continue;
          }
          // The last vector of a head narrower than L lanes is masked.
          Value mask = hb.create<vector::CreateMaskOp>(
              VectorType::get({L}, hb.getI1Type()),
              ValueRange{indexConst(hb, lanesLeft)});
          hb.create<vector::MaskedStoreOp>(out, ValueRange{ms[i], col}, mask,
                                           sums[f]);
        }
      }
    };

    // The group size of valuesOf(): accumulators of fn vectors for each
    // of Q queries in 16 registers.
    auto featureGroup = [&](int64_t Q) {
      return std::min<int64_t>(featureVecs, 16 / Q);
    };
    auto allSteps = [&](ImplicitLocOpBuilder &hb, const QueryBlock &blk) {
      scoresOf(hb, blk, c0, blk.lenMax);
      for (int64_t i = 0; i < int64_t(blk.ms.size()); ++i)
        softmaxOf(hb, blk, i);
      const int64_t groupVecs = featureGroup(blk.ms.size());
      for (int64_t f0 = 0; f0 < featureVecs; f0 += groupVecs)
        valuesOf(hb, blk, f0, groupVecs);
    };

    // Query i of a block of Q at rows [m0, m0 + Q) of head h: its row,
    // and workspace row h * wsRows + i.
    auto rowBlock = [&](ImplicitLocOpBuilder &mb, Value h, Value m0,
                        int64_t Q) {
      SmallVector<Value> hs(Q, h), ms, wsRow;
      Value first = mb.create<arith::MulIOp>(h, cWsRows);
      for (int64_t i = 0; i < Q; ++i) {
        ms.push_back(i ? mb.create<arith::AddIOp>(m0, indexConst(mb, i)) : m0);
        wsRow.push_back(i ? mb.create<arith::AddIOp>(first, indexConst(mb, i))
                          : first);
      }
      allSteps(mb, blockOf(mb, hs, ms, wsRow));
    };
    Value rows = dimOf(b, q, 0);
    auto qType = cast<MemRefType>(q.getType());
    const int64_t headBlock =
        std::min(group, queryBlock(TargetAttr::lookup(op)));
    if (!qType.isDynamicDim(0) && qType.getDimSize(0) == 1 && headBlock > 1) {
      // One query a head (decode): the heads of a KV group in blocks, so
      // each key and value vector loaded serves the block's heads. Heads
      // one at a time read the group's keys and values once each from L2
      // or beyond (2B4T, 1500 positions: attention as long as the LM
      // head). Past kPositionChunk positions the three steps each run in
      // parallel over pieces that do not depend on the thread count, so
      // that every thread has work even with few KV groups (2B4T has 5:
      // with 2 threads one did 3, and the 1500-token decode waited on it):
      // the scores over KV groups x ranges of kPositionChunk positions,
      // the softmax over heads, the outputs over KV groups x groups of
      // feature vectors. Each score, sum and output is computed by the
      // same operations in the same order either way: the same bits.
      auto kvGroupBlocks = [&](ImplicitLocOpBuilder &gb, Value g,
                               function_ref<void(const QueryBlock &)> step) {
        Value h0 = gb.create<arith::MulIOp>(g, cGroup);
        for (int64_t k = 0; k < group; k += headBlock) {
          const int64_t Q = std::min(headBlock, group - k);
          SmallVector<Value> hs, ms(Q, c0), wsRow;
          for (int64_t i = 0; i < Q; ++i) {
            hs.push_back(gb.create<arith::AddIOp>(h0, indexConst(gb, k + i)));
            wsRow.push_back(gb.create<arith::MulIOp>(hs.back(), cWsRows));
          }
          step(blockOf(gb, hs, ms, wsRow));
        }
      };
      Value kvHeads = indexConst(b, op.getKvHeads());
      Value len = b.create<arith::AddIOp>(start, c1);
      Value cChunk = indexConst(b, kPositionChunk);
      // ceil(len / kPositionChunk) (arith.ceildivui has no LLVM lowering).
      Value chunks = b.create<arith::DivUIOp>(
          b.create<arith::AddIOp>(len, indexConst(b, kPositionChunk - 1)),
          cChunk);
      // Up to kPositionChunk positions (tg64's) the KV groups in one
      // parallel loop, each with the three steps: a step's extra dispatch
      // and wait would cost more than the threads idle in the groups'
      // imbalance saves.
      auto byKvGroup = [&](ImplicitLocOpBuilder &ib) {
        loop(
            ib, c0, kvHeads, {},
            [&](ImplicitLocOpBuilder &gb, Value g, ValueRange) {
              kvGroupBlocks(gb, g,
                            [&](const QueryBlock &blk) { allSteps(gb, blk); });
              yield(gb);
            },
            /*parallel=*/true);
      };
      auto bySteps = [&](ImplicitLocOpBuilder &ib) {
        loop(
            ib, c0, ib.create<arith::MulIOp>(kvHeads, chunks), {},
            [&](ImplicitLocOpBuilder &gb, Value piece, ValueRange) {
              Value first = gb.create<arith::MulIOp>(
                  gb.create<arith::RemUIOp>(piece, chunks), cChunk);
              Value last = gb.create<arith::MinUIOp>(
                  gb.create<arith::AddIOp>(first, cChunk), len);
              kvGroupBlocks(gb, gb.create<arith::DivUIOp>(piece, chunks),
                            [&](const QueryBlock &blk) {
                              scoresOf(gb, blk, first, last);
                            });
              yield(gb);
            },
            /*parallel=*/true);
        loop(
            ib, c0, indexConst(ib, heads), {},
            [&](ImplicitLocOpBuilder &hb, Value h, ValueRange) {
              softmaxOf(hb,
                        blockOf(hb, {h}, {c0},
                                {hb.create<arith::MulIOp>(h, cWsRows)}),
                        0);
              yield(hb);
            },
            /*parallel=*/true);
        // Blocks of fewer heads than headBlock (a group that headBlock does
        // not divide) take the same feature groups: their accumulators fit.
        const int64_t groupVecs = featureGroup(std::min(headBlock, group));
        const int64_t featureGroups = llvm::divideCeil(featureVecs, groupVecs);
        Value cFeatureGroups = indexConst(ib, featureGroups);
        loop(
            ib, c0, ib.create<arith::MulIOp>(kvHeads, cFeatureGroups), {},
            [&](ImplicitLocOpBuilder &gb, Value piece, ValueRange) {
              Value fg = gb.create<arith::RemUIOp>(piece, cFeatureGroups);
              kvGroupBlocks(
                  gb, gb.create<arith::DivUIOp>(piece, cFeatureGroups),
                  [&](const QueryBlock &blk) {
                    switchOn(gb, fg, featureGroups,
                             [&](ImplicitLocOpBuilder &cb, int64_t i) {
                               valuesOf(cb, blk, i * groupVecs, groupVecs);
                             });
                  });
              yield(gb);
            },
            /*parallel=*/true);
      };
      b.create<scf::IfOp>(
          b.create<arith::CmpIOp>(arith::CmpIPredicate::ugt, len, cChunk),
          [&](OpBuilder &tb, Location l) {
            ImplicitLocOpBuilder ib(l, tb);
            bySteps(ib);
            yield(ib);
          },
          [&](OpBuilder &eb, Location l) {
            ImplicitLocOpBuilder ib(l, eb);
            byKvGroup(ib);
            yield(ib);
          });
      rewriter.eraseOp(op);
      return success();
    }
    // Heads in parallel, each with its own rows of the workspace for its
    // scores; the queries of a head in blocks, in order, then one at a
    // time.
    loop(
        b, c0, indexConst(b, heads), {},
        [&](ImplicitLocOpBuilder &hb, Value h, ValueRange) {
          Value blocked = c0;
          if (block > 1) {
            Value cBlock = indexConst(hb, block);
            blocked = hb.create<arith::MulIOp>(
                hb.create<arith::DivUIOp>(rows, cBlock), cBlock);
            hb.create<scf::ForOp>(
                c0, blocked, cBlock, ValueRange{},
                [&](OpBuilder &mb0, Location ml, Value m0, ValueRange) {
                  ImplicitLocOpBuilder mb(ml, mb0);
                  rowBlock(mb, h, m0, block);
                  mb.create<scf::YieldOp>();
                });
          }
          hb.create<scf::ForOp>(
              blocked, rows, c1, ValueRange{},
              [&](OpBuilder &mb0, Location ml, Value m, ValueRange) {
                ImplicitLocOpBuilder mb(ml, mb0);
                rowBlock(mb, h, m, 1);
                mb.create<scf::YieldOp>();
              });
          yield(hb);
        },
        /*parallel=*/true);
    rewriter.eraseOp(op);
    return success();
  }
};

/// Keys of new tokens into their tiles: the features on the pool (each
/// thread writes its own cache lines), the tokens inside, so consecutive
/// positions are consecutive stores.
struct StoreKeysLowering : public OpConversionPattern<StoreKeysOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(StoreKeysOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value keys = adaptor.getKeys(), cache = adaptor.getCache(),
          start = adaptor.getStart();
    Value c0 = indexConst(b, 0), cTile = indexConst(b, kKeyTile);
    loop(
        b, c0, dimOf(b, keys, 1), {},
        [&](auto &fb, Value f, ValueRange) {
          loop(fb, c0, dimOf(fb, keys, 0), {},
               [&](auto &mb, Value m, ValueRange) {
                 Value pos = mb.template create<arith::AddIOp>(start, m);
                 Value k =
                     mb.template create<memref::LoadOp>(keys, ValueRange{m, f});
                 mb.template create<memref::StoreOp>(
                     k, cache,
                     ValueRange{
                         mb.template create<arith::DivUIOp>(pos, cTile), f,
                         mb.template create<arith::RemUIOp>(pos, cTile)});
                 yield(mb);
               });
          yield(fb);
        },
        rowsWorthThreads(keys));
    rewriter.eraseOp(op);
    return success();
  }
};

/// Elementwise ops over [M, D] memrefs.
template <typename OpTy>
struct ElementwiseLowering : public OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value lhs = adaptor.getOperands()[0], rhs = adaptor.getOperands()[1],
          out = adaptor.getOutput();
    Value c0 = indexConst(b, 0);
    loop(
        b, c0, dimOf(b, out, 0), {},
        [&](auto &ib, Value m, ValueRange) {
          loop(ib, c0, dimOf(ib, out, 1), {},
               [&](auto &jb, Value j, ValueRange) {
                 Value a =
                     jb.template create<memref::LoadOp>(lhs, ValueRange{m, j});
                 Value c =
                     jb.template create<memref::LoadOp>(rhs, ValueRange{m, j});
                 Value r;
                 if constexpr (std::is_same_v<OpTy, AddOp>)
                   r = jb.template create<arith::AddFOp>(a, c);
                 else
                   r = gluElement(jb, op.getActivation(), a, c);
                 jb.template create<memref::StoreOp>(r, out, ValueRange{m, j});
                 yield(jb);
               });
          yield(ib);
        },
        rowsWorthThreads(out));
    rewriter.eraseOp(op);
    return success();
  }
};

struct MatmulLowering : public OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // An i8 input is Int8MatmulLowering's.
    if (op.getInput().getType().getElementType().isInteger(8))
      return rewriter.notifyMatchFailure(op, "i8 input");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getInput(), w = adaptor.getWeight(),
          y = adaptor.getOutput();
    Value c0 = indexConst(b, 0), zero = f32Const(b, 0.0f);
    Value kDim = dimOf(b, x, 1);
    const int64_t lanes = op.getLanes();
    Type wElem = cast<MemRefType>(w.getType()).getElementType();
    auto vW = VectorType::get({lanes}, wElem);
    auto vF = VectorType::get({lanes}, b.getF32Type());
    Value wPad = b.create<arith::ConstantOp>(b.getZeroAttr(wElem));
    // x86 without F16C has no f16 conversion: LLVM would call a library
    // function per weight (2B4T's f16 head at 0.55 tok/s on x86-64-v2).
    TargetAttr target = TargetAttr::lookup(op);
    const bool softHalf = wElem.isF16() && target &&
                          StringRef(target.getTriple()).starts_with("x86") &&
                          !target.has("f16c");
    Value vZero = b.create<arith::ConstantOp>(b.getZeroAttr(vF));
    // The head streams 2B4T's 657 MB once a token: software prefetch ahead
    // where it was measured to help (Prefetch.cpp).
    std::optional<HeadPrefetch> ahead;
    Value cAhead; // in elements of the row
    const int64_t elemBytes =
        std::max<int64_t>(1, wElem.getIntOrFloatBitWidth() / 8);
    if (lanes > 1)
      ahead = headPrefetch(target);
    if (ahead)
      cAhead = indexConst(b, ahead->stage.bytes / elemBytes);
    // Widens a vector of weights to f32 like loadF32 does for scalars.
    auto widen = [&](ImplicitLocOpBuilder &kb, Value v) -> Value {
      if (wElem.isBF16()) {
        auto vI16 = VectorType::get({lanes}, kb.getI16Type());
        auto vI32 = VectorType::get({lanes}, kb.getI32Type());
        Value bits = kb.create<arith::BitcastOp>(vI16, v);
        Value high = kb.create<arith::ShLIOp>(
            kb.create<arith::ExtUIOp>(vI32, bits),
            kb.create<arith::ConstantOp>(
                DenseElementsAttr::get(vI32, kb.getI32IntegerAttr(16))));
        return kb.create<arith::BitcastOp>(vF, high);
      }
      if (wElem.isInteger(8))
        return kb.create<arith::SIToFPOp>(vF, v);
      if (softHalf)
        return extendHalfExact(kb, v);
      if (!wElem.isF32())
        return kb.create<arith::ExtFOp>(vF, v);
      return v;
    };
    Value rows = adaptor.getRows();
    loop(b, c0, dimOf(b, x, 0), {}, [&](auto &ib, Value m, ValueRange) {
      loop(
          ib, c0, dimOf(ib, y, 1), {},
          [&](auto &nb, Value col, ValueRange) {
            // The weight row of output column `col`.
            Value n = col;
            if (rows)
              n = nb.template create<arith::IndexCastOp>(
                  nb.getIndexType(),
                  nb.template create<memref::LoadOp>(rows, col));
            Value acc;
            if (lanes == 1) {
              acc = loop(
                  nb, c0, kDim, {zero}, [&](auto &kb, Value k, ValueRange s) {
                    Value wv = loadF32(kb, w, {n, k});
                    Value xv =
                        kb.template create<memref::LoadOp>(x, ValueRange{m, k});
                    yield(kb, {kb.template create<arith::AddFOp>(
                                  s[0],
                                  kb.template create<arith::MulFOp>(wv, xv))});
                  })[0];
            } else {
              // `lanes` interleaved partial sums (reads past K are masked
              // to 0, adding exact zeros), then an in-order reduction.
              // When K is a multiple of `lanes` no read is masked.
              const bool whole =
                  !ShapedType::isDynamic(
                      cast<MemRefType>(x.getType()).getDimSize(1)) &&
                  cast<MemRefType>(x.getType()).getDimSize(1) % lanes == 0;
              const std::optional<ArrayRef<bool>> inBounds = inBoundsIf(whole);
              // Prefetching once a line: a step of `perLine` vectors, one
              // 64-byte line of weights, added in order (the sums of one
              // vector a step).
              int64_t perLine = 1;
              const int64_t vecBytes = lanes * elemBytes;
              if (ahead && ahead->oncePerLine && whole && vecBytes < 64 &&
                  64 % vecBytes == 0 &&
                  cast<MemRefType>(x.getType()).getDimSize(1) %
                          (lanes * (64 / vecBytes)) ==
                      0)
                perLine = 64 / vecBytes;
              Value partial =
                  nb.template create<scf::ForOp>(
                        c0, kDim, indexConst(nb, lanes * perLine),
                        ValueRange{vZero},
                        [&](OpBuilder &lb, Location l, Value k0, ValueRange s) {
                          ImplicitLocOpBuilder kb(l, lb);
                          if (ahead)
                            kb.create<memref::PrefetchOp>(
                                w,
                                ValueRange{
                                    n, kb.create<arith::AddIOp>(k0, cAhead)},
                                /*isWrite=*/false, ahead->stage.locality,
                                /*isDataCache=*/true);
                          Value sum = s[0];
                          for (int64_t j = 0; j < perLine; ++j) {
                            Value k = j ? kb.create<arith::AddIOp>(
                                              k0, indexConst(kb, j * lanes))
                                        : k0;
                            Value wv =
                                widen(kb, kb.create<vector::TransferReadOp>(
                                              vW, w, ValueRange{n, k}, wPad,
                                              inBounds));
                            Value xv = kb.create<vector::TransferReadOp>(
                                vF, x, ValueRange{m, k}, zero, inBounds);
                            sum = kb.create<arith::AddFOp>(
                                sum, kb.create<arith::MulFOp>(wv, xv));
                          }
                          kb.create<scf::YieldOp>(ValueRange{sum});
                        })
                      .getResult(0);
              acc = nb.template create<vector::ReductionOp>(
                  vector::CombiningKind::ADD, partial);
            }
            if (Value scales = adaptor.getWeightScales())
              acc = nb.template create<arith::MulFOp>(
                  acc, nb.template create<memref::LoadOp>(scales, n));
            nb.template create<memref::StoreOp>(acc, y, ValueRange{m, col});
            yield(nb);
          },
          /*parallel=*/true);
      yield(ib);
    });
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void mlir::tern::populateTernModelOpsToLoopsPatterns(
    RewritePatternSet &patterns) {
  patterns
      .add<EmbeddingLowering, RMSNormLowering, RopeLowering, RopeTableLowering,
           AttentionLowering, StoreKeysLowering, ElementwiseLowering<GluOp>,
           ElementwiseLowering<AddOp>, MatmulLowering>(patterns.getContext());
  detail::populateInt8MatmulPatterns(patterns);
}
