//===- LinearLowering.cpp - tern.linear to vector kernels -----------------===//
//
// One parameterised lowering for every target: a `tern.linear` over
// `interleaved<B>` weights becomes register tiles of R rows x T tokens that
// walk the row's chunks, unpack each bit plane of codes with a shift and a
// mask, and accumulate exact int32 products with the int8 activations
// through the target's int8 dot product (the "kernel family"). The integer
// sums are the same whatever the family and tiling, and the f32 epilogue
// follows the op's documented order, so every target and thread count gives
// the same bits.
//
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/KernelChoice.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"

#include "LinearKernels.h"
#include "LoweringUtils.h"
#include "Prefetch.h"

#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/DialectConversion.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

namespace {

/// Row groups per block of a prefill weight (rowBlock), at most: 64 rows of
/// 4 x 4 tiles, 40 KB of codes at K = 2560 and 110 KB at K = 6912, read
/// from L2 once per tile of tokens (4, 16 and 64 measured alike on Zen 5).
constexpr int64_t kBlockGroups = 16;
/// Blocks a prefill weight is cut into, at least (while it has as many row
/// groups): iterations for the thread pool to share out.
constexpr int64_t kMinBlocks = 16;

/// Chooses the kernel family for bit planes of `part` weights on `target`.
DotKernel selectKernel(Operation *op, TargetAttr target, int64_t part,
                       bool perBlock) {
  DotKernel k;
  k.accLanes = part;
  auto module = op->getParentOfType<ModuleOp>();
  auto family = module
                    ? module->getAttrOfType<StringAttr>(kKernelFamilyAttrName)
                    : StringAttr();
  if (!target || (family && family.getValue() == "portable"))
    return k;
  StringRef triple = target.getTriple();
  if (triple.starts_with("aarch64") && target.has("dotprod") && part == 16) {
    k.family = DotKernel::Sdot;
    k.accLanes = 4;
    k.mmla = target.has("i8mm");
    return k;
  }
  // sum(a) per token covers a whole row; per-block scales would need it per
  // block, so they keep the portable kernel.
  if (!triple.starts_with("x86_64") || perBlock)
    return k;
  if (part == 64 && target.has("avx512vnni")) {
    k.dpbusd = "llvm.x86.avx512.vpdpbusd.512";
    k.amx = target.has("amx-int8");
  } else if (part == 64 && target.has("avx512bw")) {
    k.maddubs = "llvm.x86.avx512.pmaddubs.w.512";
    k.maddwd = "llvm.x86.avx512.pmaddw.d.512";
  } else if (part == 32 && target.has("avxvnni")) {
    k.dpbusd = "llvm.x86.avx512.vpdpbusd.256"; // VEX-encoded with AVX-VNNI
  } else if (part == 32 && target.has("avx2")) {
    k.maddubs = "llvm.x86.avx2.pmadd.ub.sw";
    k.maddwd = "llvm.x86.avx2.pmadd.wd";
  } else {
    return k;
  }
  k.family = DotKernel::U8S8;
  k.accLanes = part / 4;
  return k;
}

struct LinearLowering : public OpConversionPattern<LinearOp> {
  LinearLowering(MLIRContext *ctx, bool mcaMarkers)
      : OpConversionPattern(ctx), mcaMarkers(mcaMarkers) {}
  bool mcaMarkers;

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override;
};

} // namespace

/// Byte offset of row `n`'s first chunk among an interleaved weight's codes
/// (TernaryType::getRowCodeOffset): its row group's start plus its place in
/// the group's chunks. R is a power of two, so the division is a shift.
Value mlir::tern::detail::rowCodeOffset(ImplicitLocOpBuilder &b,
                                        const TernaryType &wt, Value n) {
  const int64_t R = wt.getRowGroup();
  if (R == 1)
    return b.create<arith::MulIOp>(n, indexConst(b, wt.getRowBytes()));
  Value cR = indexConst(b, R);
  return b.create<arith::AddIOp>(
      b.create<arith::MulIOp>(b.create<arith::DivUIOp>(n, cR),
                              indexConst(b, R * wt.getRowBytes())),
      b.create<arith::MulIOp>(b.create<arith::RemUIOp>(n, cR),
                              indexConst(b, wt.getChunk() / 4)));
}

/// Byte offsets of rows [n0, n0 + rc) and indices of tokens [m0, m0 + tc)
/// of a register tile.
static void tileIndices(ImplicitLocOpBuilder &b, const TernaryType &wt,
                        Value n0, int64_t rc, Value m0, int64_t tc,
                        SmallVectorImpl<Value> &rowBase,
                        SmallVectorImpl<Value> &tokens) {
  for (int64_t r = 0; r < rc; ++r)
    rowBase.push_back(
        rowCodeOffset(b, wt, b.create<arith::AddIOp>(n0, indexConst(b, r))));
  for (int64_t t = 0; t < tc; ++t)
    tokens.push_back(b.create<arith::AddIOp>(m0, indexConst(b, t)));
}

SmallVector<Value> mlir::tern::detail::loadCodes(ImplicitLocOpBuilder &b,
                                                 const WeightPlan &p,
                                                 ArrayRef<Value> rowBase,
                                                 Value off) {
  auto vCodes = VectorType::get({p.part}, b.getI8Type());
  SmallVector<Value> codes;
  for (Value base : rowBase)
    codes.push_back(b.create<vector::LoadOp>(
        vCodes, p.data, ValueRange{b.create<arith::AddIOp>(base, off)}));
  return codes;
}

Value mlir::tern::detail::bitPlane(ImplicitLocOpBuilder &b, Value codes, int j,
                                   Value mask3) {
  auto type = cast<VectorType>(codes.getType());
  return b.create<arith::AndIOp>(
      b.create<arith::ShRUIOp>(codes, splat(b, type, 2 * j)), mask3);
}

/// The lane sums of N vectors of L lanes (N, L powers of two), in order:
/// one vector of N lanes when N <= L, else N / L vectors of L lanes. Each
/// level adds the halves of every lane group of a pair of vectors, so the
/// N reductions take about 2N shuffles and N adds instead of N log2(L) of
/// each.
static SmallVector<Value> reduceLanes(ImplicitLocOpBuilder &b,
                                      SmallVector<Value> vecs) {
  const int64_t L = cast<VectorType>(vecs[0].getType()).getNumElements();
  // Lanes [g*W, g*W + W) of a vector hold the partial sums of one output.
  int64_t W = L;
  auto halves = [&](Value x, Value y, int64_t lanes) {
    SmallVector<int64_t> lo, hi;
    for (int64_t base : {int64_t(0), lanes})
      for (int64_t g = 0; g < lanes / W; ++g)
        for (int64_t i = 0; i < W / 2; ++i) {
          lo.push_back(base + g * W + i);
          hi.push_back(base + g * W + W / 2 + i);
        }
    if (x == y) { // one vector: its own halves, half as many lanes
      lo.resize(lo.size() / 2);
      hi.resize(hi.size() / 2);
    }
    return b.create<arith::AddIOp>(b.create<vector::ShuffleOp>(x, y, lo),
                                   b.create<vector::ShuffleOp>(x, y, hi));
  };
  for (; W > 1 && vecs.size() > 1; W /= 2) {
    SmallVector<Value> next;
    for (size_t i = 0; i < vecs.size(); i += 2)
      next.push_back(halves(vecs[i], vecs[i + 1], L));
    vecs = next;
  }
  for (int64_t lanes = L; W > 1; W /= 2, lanes /= 2)
    vecs[0] = halves(vecs[0], vecs[0], lanes);
  return vecs;
}

/// An llvm-mca region marker as an assembly comment of the target.
void mlir::tern::detail::mcaMarker(ImplicitLocOpBuilder &b, Operation *op,
                                   StringRef what) {
  TargetAttr target = TargetAttr::lookup(op);
  StringRef triple = target ? target.getTriple() : "";
  // llvm-mca reads its markers from comments: '@' on 32-bit ARM, '#'
  // elsewhere (AArch64's lexer takes '#' comments too).
  StringRef comment =
      (triple.starts_with("arm") || triple.starts_with("thumb")) ? "@" : "#";
  b.create<LLVM::InlineAsmOp>(
      TypeRange{}, ValueRange{},
      (comment + " LLVM-MCA-" + what + " tern_chunk").str(), "",
      /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::AsmDialectAttr(), ArrayAttr());
}

Value LinearEmitter::loadActivations(ImplicitLocOpBuilder &b,
                                     const WeightPlan &p, Value m,
                                     Value k) const {
  auto vCodes = VectorType::get({p.part}, b.getI8Type());
  if (p.wt.getPaddedCols() == p.wt.getCols())
    return b.create<vector::LoadOp>(vCodes, q, ValueRange{m, k});
  // Past K the activations read as 0 (masked), whatever the padding codes
  // hold.
  Value zero = b.create<arith::ConstantOp>(b.getI8IntegerAttr(0));
  return b.create<vector::TransferReadOp>(vCodes, q, ValueRange{m, k}, zero);
}

Value LinearEmitter::step(ImplicitLocOpBuilder &b, const WeightPlan &p,
                          Value acc, Value plane, Value a) const {
  const DotKernel &k = p.kernel;
  auto i32 = b.getI32Type();
  auto vAcc = VectorType::get({k.accLanes}, i32);
  if (k.family == DotKernel::U8S8) {
    if (!k.dpbusd.empty())
      return b
          .create<LLVM::CallIntrinsicOp>(
              TypeRange{vAcc}, b.getStringAttr(k.dpbusd),
              ValueRange{acc, b.create<vector::BitCastOp>(vAcc, plane),
                         b.create<vector::BitCastOp>(vAcc, a)})
          .getResult(0);
    // vpmaddubsw kernels add the planes' pair sums in i16 first:
    // pairSumTile() emits them; per-block scales never use u8 x s8.
    llvm_unreachable("vpmaddubsw steps are emitted by pairSumTile()");
  }
  auto vCodes = VectorType::get({p.part}, b.getI8Type());
  Value t = b.create<arith::SubIOp>(plane, splat(b, vCodes, 1));
  if (k.family == DotKernel::Sdot)
    return b.create<arm_neon::SdotOp>(vAcc, acc, t, a);
  Value prod = b.create<arith::MulIOp>(b.create<arith::ExtSIOp>(vAcc, t),
                                       b.create<arith::ExtSIOp>(vAcc, a));
  return b.create<arith::AddIOp>(acc, prod);
}

/// Chunks whose vpmaddubsw sums pairSumTile() adds up in int16 before it
/// widens them. A pair sum is at most 2 * 2 * 128 = 512 in magnitude (codes
/// 0-2, activations in [-128, 127]). One token: each chunk adds at most
/// 4 * 2 * 512 = 4096 to the accumulator of the planes masked in place
/// (codes times 4), and 8 * 4096 = 32768 is the most int16 holds (-32768;
/// the positive side ends at 8 * 4 * 2 * 2 * 2 * 127 = 32512). Several
/// tokens: each chunk adds at most 4 * 512 (four planes shifted down), 16
/// chunks 32768 likewise.
constexpr int64_t kPairSumChunksDecode = 8;
constexpr int64_t kPairSumChunksTile = 16;

/// rc rows x tc tokens with vpmaddubsw (AVX2, AVX-512BW), the pair sums
/// added in int16 accumulators that one vpmaddwd widens every few chunks
/// (instead of one vpmaddwd and one add per chunk and output).
///
/// One token (decode): per chunk and row one shift (codes >> 4) and four
/// masks give the planes 0 and 2 as codes c and the planes 1 and 3 in place,
/// 4c; their pair sums go to two accumulators (planes 0 + 2, planes 1 + 3 at
/// 4 times their value), widened by 4 and by 1, so the int32 sums hold 4
/// times the dot product, shifted back exactly at the end: 13 vector
/// operations a row chunk instead of 16 (llvm-mca, Zen 3: 7.8 -> 9.8 bytes
/// a cycle). Several tokens: the planes shifted down (their extraction
/// serves tc tokens), one accumulator per output.
SmallVector<Value> LinearEmitter::pairSumTile(ImplicitLocOpBuilder &b,
                                              const WeightPlan &p,
                                              ArrayRef<Value> rowBase,
                                              ArrayRef<Value> tokens) const {
  const TernaryType &wt = p.wt;
  const int64_t chunk = wt.getChunk(), rc = rowBase.size(), tc = tokens.size();
  const int64_t chunks = wt.getPaddedCols() / chunk;
  // Accumulators per output: scaled planes (decode) keep two.
  const bool scaled = tc == 1;
  const int64_t S = scaled ? 2 : 1;
  const DotKernel &kern = p.kernel;
  auto vCodes = VectorType::get({p.part}, b.getI8Type());
  auto v16 = VectorType::get({p.part / 2}, b.getI16Type());
  auto vAcc = VectorType::get({kern.accLanes}, b.getI32Type());
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value cGroup =
      indexConst(b, scaled ? kPairSumChunksDecode : kPairSumChunksTile);
  Value cChunks = indexConst(b, chunks);
  Value cStride = indexConst(b, wt.getChunkStride());
  Value cChunk = indexConst(b, chunk);
  auto maddubs = [&](ImplicitLocOpBuilder &cb, Value codes, Value a) {
    return cb
        .create<LLVM::CallIntrinsicOp>(TypeRange{v16},
                                       cb.getStringAttr(kern.maddubs),
                                       ValueRange{codes, a})
        .getResult(0);
  };
  auto maddwd = [&](ImplicitLocOpBuilder &cb, Value pairs, int64_t by) {
    return cb
        .create<LLVM::CallIntrinsicOp>(TypeRange{vAcc},
                                       cb.getStringAttr(kern.maddwd),
                                       ValueRange{pairs, splat(cb, v16, by)})
        .getResult(0);
  };
  SmallVector<Value> inits(rc * tc, splat(b, vAcc, 0));
  auto outer = b.create<scf::ForOp>(
      c0, cChunks, cGroup, inits,
      [&](OpBuilder &ob, Location ol, Value g, ValueRange acc32) {
        ImplicitLocOpBuilder gb(ol, ob);
        Value end = gb.create<arith::MinUIOp>(
            gb.create<arith::AddIOp>(g, cGroup), cChunks);
        SmallVector<Value> inits16(rc * tc * S, splat(gb, v16, 0));
        auto inner = gb.create<scf::ForOp>(
            g, end, c1, inits16,
            [&](OpBuilder &lb, Location l, Value c, ValueRange acc16) {
              ImplicitLocOpBuilder cb(l, lb);
              Value offC = cb.create<arith::MulIOp>(c, cStride);
              SmallVector<Value> codes = loadCodes(cb, p, rowBase, offC);
              // Decode streams the weights once: prefetch ahead where it
              // was measured to help (Prefetch.cpp); the row group's chunk
              // is one line.
              if (singleToken)
                prefetchAhead(cb, p.data,
                              cb.create<arith::AddIOp>(rowBase[0], offC),
                              decodePrefetch(TargetAttr::lookup(op),
                                             DecodeKernel::PairSum));
              // plane[r][j]: bit plane j of row r (j = 1, 3 times 4 when
              // scaled: 0 and 1 in the low, 2 and 3 in the high nibble).
              SmallVector<std::array<Value, 4>> plane(rc);
              for (int64_t r = 0; r < rc; ++r) {
                if (!scaled) {
                  for (int j = 0; j < 4; ++j)
                    plane[r][j] =
                        bitPlane(cb, codes[r], j, splat(cb, vCodes, 3));
                  continue;
                }
                Value high =
                    cb.create<arith::ShRUIOp>(codes[r], splat(cb, vCodes, 4));
                for (int j = 0; j < 4; ++j)
                  plane[r][j] = cb.create<arith::AndIOp>(
                      j < 2 ? codes[r] : high,
                      splat(cb, vCodes, j % 2 ? 12 : 3));
              }
              Value kBase = cb.create<arith::MulIOp>(c, cChunk);
              SmallVector<Value> sums(acc16.begin(), acc16.end());
              for (int64_t t = 0; t < tc; ++t) {
                Value a[4];
                for (int j = 0; j < 4; ++j)
                  a[j] =
                      loadActivations(cb, p, tokens[t],
                                      cb.create<arith::AddIOp>(
                                          kBase, indexConst(cb, j * p.part)));
                for (int64_t r = 0; r < rc; ++r) {
                  Value *acc = &sums[(t * rc + r) * S];
                  if (!scaled) {
                    for (int j = 0; j < 4; ++j)
                      acc[0] = cb.create<arith::AddIOp>(
                          acc[0], maddubs(cb, plane[r][j], a[j]));
                    continue;
                  }
                  Value ones =
                      cb.create<arith::AddIOp>(maddubs(cb, plane[r][0], a[0]),
                                               maddubs(cb, plane[r][2], a[2]));
                  Value fours =
                      cb.create<arith::AddIOp>(maddubs(cb, plane[r][1], a[1]),
                                               maddubs(cb, plane[r][3], a[3]));
                  acc[0] = cb.create<arith::AddIOp>(acc[0], ones);
                  acc[1] = cb.create<arith::AddIOp>(acc[1], fours);
                }
              }
              cb.create<scf::YieldOp>(sums);
            });
        SmallVector<Value> next;
        for (int64_t i = 0; i < rc * tc; ++i) {
          Value wide = scaled ? gb.create<arith::AddIOp>(
                                    maddwd(gb, inner.getResult(2 * i), 4),
                                    maddwd(gb, inner.getResult(2 * i + 1), 1))
                              : maddwd(gb, inner.getResult(i), 1);
          next.push_back(gb.create<arith::AddIOp>(acc32[i], wide));
        }
        gb.create<scf::YieldOp>(next);
      });
  SmallVector<Value> partials(outer.getResults());
  if (scaled) // every lane a multiple of 4: exact
    for (Value &v : partials)
      v = b.create<arith::ShRSIOp>(v, splat(b, vAcc, 2));
  return partials;
}

/// Outputs [n0, n0 + rc) x [m0, m0 + tc) of one weight. Per chunk the codes
/// of rc rows are loaded once and tc activation vectors once for rc * tc
/// kernel steps: in prefill this reuse makes the linear a GEMM rather than
/// a loop of GEMVs.
void LinearEmitter::tile(ImplicitLocOpBuilder &b, const WeightPlan &p, Value n0,
                         int64_t rc, Value m0, int64_t tc) const {
  if (p.kernel.mmla && rc % 2 == 0 && tc % 2 == 0)
    return mmlaTile(b, p, n0, rc, m0, tc);
  if (mcaMarkers)
    mcaMarker(b, op, "BEGIN");
  const TernaryType &wt = p.wt;
  const int64_t chunk = wt.getChunk();
  Type i8 = b.getI8Type();
  auto vCodes = VectorType::get({p.part}, i8);
  auto vAcc = VectorType::get({p.kernel.accLanes}, b.getI32Type());
  Value mask2 = splat(b, vCodes, 3);
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value cStride = indexConst(b, wt.getChunkStride());
  Value cChunk = indexConst(b, chunk);

  SmallVector<Value> rowBase, mIdx;
  tileIndices(b, wt, n0, rc, m0, tc, rowBase, mIdx);
  // The partial sums of output (r, t), in the order of the output rows:
  // token-major, so each token's rc outputs are adjacent.
  SmallVector<Value> partials;
  const DotKernel &kern = p.kernel;
  if (kern.family == DotKernel::U8S8 && kern.dpbusd.empty()) {
    // vpmaddubsw: int16 pair sums, widened every few chunks.
    partials = pairSumTile(b, p, rowBase, mIdx);
  } else {
    // A small tile splits each output over P accumulators (one per bit
    // plane): otherwise every step waits for the previous one's multiply-add
    // latency. vpdpbusd decode tiles (one token, up to 4 rows: at most 16
    // accumulators) keep one per plane for the scaled planes below.
    const bool dpbusd = kern.family == DotKernel::U8S8;
    const int64_t P =
        dpbusd && tc == 1 && rc <= 4 ? 4 : std::max<int64_t>(1, 4 / (rc * tc));
    // With one accumulator per plane and vpdpbusd (u8 codes, no i16 sums),
    // plane j is masked in place, codes & (3 << 2j) = 4^j * c: its sums are
    // 4^j times the plane's, shifted back exactly at the end. That saves the
    // three shifts of a decode chunk: on Zen 4, one thread, 2560 x 2560 from
    // L3 29 -> 35 GB/s (bench/kernels.sh warm); from DRAM no change.
    const bool scaledPlanes = P == 4 && dpbusd;
    SmallVector<PrefetchStage, 2> prefetch;
    if (singleToken && dpbusd)
      prefetch = decodePrefetch(TargetAttr::lookup(op), DecodeKernel::Dpbusd);
    SmallVector<Value> inits(rc * tc * P, splat(b, vAcc, 0));
    auto loop = b.create<scf::ForOp>(
        c0, indexConst(b, wt.getPaddedCols() / chunk), c1, inits,
        [&](OpBuilder &lb, Location l, Value c, ValueRange acc) {
          ImplicitLocOpBuilder cb(l, lb);
          Value off = cb.create<arith::MulIOp>(c, cStride);
          SmallVector<Value> codes = loadCodes(cb, p, rowBase, off);
          // Decode: where measured to help (Intel), each row's line of the
          // group prefetched ahead (Prefetch.cpp).
          for (Value base : rowBase)
            prefetchAhead(cb, p.data, cb.create<arith::AddIOp>(base, off),
                          prefetch);
          Value kBase = cb.create<arith::MulIOp>(c, cChunk);
          SmallVector<Value> sums(acc.begin(), acc.end());
          for (int j = 0; j < 4; ++j) {
            // Bit plane j holds elements kBase + j*part + [0, part).
            SmallVector<Value> planes;
            for (int64_t r = 0; r < rc; ++r)
              planes.push_back(
                  scaledPlanes
                      ? cb.create<arith::AndIOp>(
                              codes[r], splat(cb, vCodes, 3 << (2 * j)))
                            .getResult()
                      : bitPlane(cb, codes[r], j, mask2));
            Value k =
                cb.create<arith::AddIOp>(kBase, indexConst(cb, j * p.part));
            for (int64_t t = 0; t < tc; ++t) {
              Value a = loadActivations(cb, p, mIdx[t], k);
              for (int64_t r = 0; r < rc; ++r) {
                Value &sum = sums[(r * tc + t) * P + j % P];
                sum = step(cb, p, sum, planes[r], a);
              }
            }
          }
          cb.create<scf::YieldOp>(sums);
        });
    for (int64_t t = 0; t < tc; ++t)
      for (int64_t r = 0; r < rc; ++r) {
        Value partial = loop.getResult((r * tc + t) * P);
        for (int64_t i = 1; i < P; ++i) {
          Value plane = loop.getResult((r * tc + t) * P + i);
          if (scaledPlanes) // exact: a multiple of 4^i
            plane = b.create<arith::ShRSIOp>(plane, splat(b, vAcc, 2 * i));
          partial = b.create<arith::AddIOp>(partial, plane);
        }
        partials.push_back(partial);
      }
  }
  if (rc * tc > 1 && llvm::isPowerOf2_64(rc) && llvm::isPowerOf2_64(tc) &&
      llvm::isPowerOf2_64(p.kernel.accLanes)) {
    vectorFinish(b, p, reduceLanes(b, partials), n0, rc, m0, tc);
  } else {
    for (int64_t t = 0; t < tc; ++t)
      for (int64_t r = 0; r < rc; ++r) {
        Value n = b.create<arith::AddIOp>(n0, indexConst(b, r));
        Value total = b.create<vector::ReductionOp>(vector::CombiningKind::ADD,
                                                    partials[t * rc + r]);
        if (p.kernel.family == DotKernel::U8S8)
          total = b.create<arith::SubIOp>(
              total, b.create<memref::LoadOp>(sumA, ValueRange{mIdx[t]}));
        finish(b, p, total, mIdx[t], n);
      }
  }
  if (mcaMarkers)
    mcaMarker(b, op, "END");
}

/// finish() for a whole tile at once: `totals` (reduceLanes) hold the int32
/// dot products of outputs t * rc + r in order. The same operations per
/// element as finish(), on vectors; each token's rc outputs are stored
/// together.
void LinearEmitter::vectorFinish(ImplicitLocOpBuilder &b, const WeightPlan &p,
                                 ArrayRef<Value> totals, Value n0, int64_t rc,
                                 Value m0, int64_t tc) const {
  Type f32 = b.getF32Type();
  const int64_t V = cast<VectorType>(totals[0].getType()).getNumElements();
  // Per-token operands as vectors of tc, per-row ones of rc, spread over
  // the lanes of one totals vector by a shuffle.
  auto spread = [&](Value v, int64_t first, bool perToken) {
    SmallVector<int64_t> mask;
    for (int64_t i = first; i < first + V; ++i)
      mask.push_back(perToken ? i / rc : i % rc);
    return b.create<vector::ShuffleOp>(v, v, mask).getResult();
  };
  auto vTokensI = VectorType::get({tc}, b.getI32Type());
  auto vTokensF = VectorType::get({tc}, f32);
  Value sumAs;
  if (p.kernel.family == DotKernel::U8S8)
    sumAs = b.create<vector::LoadOp>(vTokensI, sumA, ValueRange{m0});
  Value sxs = b.create<vector::LoadOp>(vTokensF, sx, ValueRange{m0});
  auto vRows = VectorType::get({rc}, f32);
  Value ws;
  if (p.wt.getScale() == ScaleGranularity::PerRow)
    ws = b.create<vector::LoadOp>(vRows, p.scales, ValueRange{n0});
  else
    ws = b.create<vector::SplatOp>(
        vRows,
        b.create<memref::LoadOp>(p.scales, ValueRange{indexConst(b, 0)}));
  // vector.store needs contiguous output rows (the residual stream always
  // is).
  const bool denseRows = unitInnerStride(p.output);
  for (auto [j, sums] : llvm::enumerate(totals)) {
    const int64_t first = j * V;
    Value total = sums;
    if (sumAs)
      total = b.create<arith::SubIOp>(total, spread(sumAs, first, true));
    Value acc = b.create<arith::SIToFPOp>(VectorType::get({V}, f32), total);
    Value sxm = spread(sxs, first, true), w = spread(ws, first, false);
    Value out = scale(b, acc, w, sxm);
    for (int64_t t = first / rc; t < (first + V) / rc; ++t) {
      Value m = b.create<arith::AddIOp>(m0, indexConst(b, t));
      if (!denseRows) {
        // A transposed output (the K/V cache): element by element.
        for (int64_t r = 0; r < rc; ++r)
          storeOutput(b, p,
                      b.create<vector::ExtractOp>(
                          out, ArrayRef<int64_t>{t * rc + r - first}),
                      m, b.create<arith::AddIOp>(n0, indexConst(b, r)));
        continue;
      }
      storeOutput(b, p,
                  b.create<vector::ExtractStridedSliceOp>(
                      out, ArrayRef<int64_t>{t * rc - first},
                      ArrayRef<int64_t>{rc}, ArrayRef<int64_t>{1}),
                  m, n0);
    }
  }
}

/// Outputs [n0, n0 + rc) x [m0, m0 + tc) with AArch64 i8mm: per bit plane
/// (16 weights) and pair of rows, the weights t = c - 1 of both rows as two
/// 2x8 matrices (weights 0-7, 8-15), times the same halves of two tokens'
/// activations, by `smmla` into a 2x2 block of int32 sums: twice the
/// products of an `sdot` per instruction.
void LinearEmitter::mmlaTile(ImplicitLocOpBuilder &b, const WeightPlan &p,
                             Value n0, int64_t rc, Value m0, int64_t tc) const {
  if (mcaMarkers)
    mcaMarker(b, op, "BEGIN");
  const TernaryType &wt = p.wt;
  const int64_t chunk = wt.getChunk(), rp = rc / 2, tp = tc / 2;
  Type i8 = b.getI8Type();
  auto vCodes = VectorType::get({p.part}, i8);
  auto vAcc = VectorType::get({4}, b.getI32Type());
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value cStride = indexConst(b, wt.getChunkStride());
  Value cChunk = indexConst(b, chunk);
  SmallVector<Value> rowBase, mIdx;
  tileIndices(b, wt, n0, rc, m0, tc, rowBase, mIdx);
  // Halves h of two 16-byte vectors as one: [x[8h..8h+8), y[8h..8h+8)].
  auto pairHalf = [](ImplicitLocOpBuilder &cb, Value x, Value y, int h) {
    SmallVector<int64_t> mask;
    for (int i = 0; i < 8; ++i)
      mask.push_back(8 * h + i);
    for (int i = 0; i < 8; ++i)
      mask.push_back(16 + 8 * h + i);
    return cb.create<vector::ShuffleOp>(x, y, mask).getResult();
  };
  SmallVector<Value> inits(rp * tp, splat(b, vAcc, 0));
  auto loop = b.create<scf::ForOp>(
      c0, indexConst(b, wt.getPaddedCols() / chunk), c1, inits,
      [&](OpBuilder &lb, Location l, Value c, ValueRange acc) {
        ImplicitLocOpBuilder cb(l, lb);
        Value off = cb.create<arith::MulIOp>(c, cStride);
        SmallVector<Value> codes = loadCodes(cb, p, rowBase, off);
        Value kBase = cb.create<arith::MulIOp>(c, cChunk);
        SmallVector<Value> sums(acc.begin(), acc.end());
        for (int j = 0; j < 4; ++j) {
          SmallVector<Value> t;
          for (int64_t r = 0; r < rc; ++r)
            t.push_back(cb.create<arith::SubIOp>(
                bitPlane(cb, codes[r], j, splat(cb, vCodes, 3)),
                splat(cb, vCodes, 1)));
          Value k = cb.create<arith::AddIOp>(kBase, indexConst(cb, j * p.part));
          SmallVector<Value> a;
          for (int64_t m = 0; m < tc; ++m)
            a.push_back(loadActivations(cb, p, mIdx[m], k));
          for (int h = 0; h < 2; ++h) {
            // Each pair of tokens' half once (at first use), for every pair
            // of rows.
            SmallVector<Value> x(tp);
            for (int64_t i = 0; i < rp; ++i) {
              Value w = pairHalf(cb, t[2 * i], t[2 * i + 1], h);
              for (int64_t q = 0; q < tp; ++q) {
                if (!x[q])
                  x[q] = pairHalf(cb, a[2 * q], a[2 * q + 1], h);
                Value &sum = sums[i * tp + q];
                sum = cb.create<arm_neon::SmmlaOp>(vAcc, sum, w, x[q]);
              }
            }
          }
        }
        cb.create<scf::YieldOp>(sums);
      });
  // Lane 2*di + dj of block (i, q) is row 2i + di, token 2q + dj.
  for (int64_t i = 0; i < rp; ++i)
    for (int64_t q = 0; q < tp; ++q)
      for (int64_t lane = 0; lane < 4; ++lane) {
        Value total = b.create<vector::ExtractOp>(loop.getResult(i * tp + q),
                                                  ArrayRef<int64_t>{lane});
        Value n = b.create<arith::AddIOp>(n0, indexConst(b, 2 * i + lane / 2));
        finish(b, p, total, mIdx[2 * q + lane % 2], n);
      }
  if (mcaMarkers)
    mcaMarker(b, op, "END");
}

void LinearEmitter::finish(ImplicitLocOpBuilder &b, const WeightPlan &p,
                           Value total, Value m, Value n) const {
  Value w = b.create<memref::LoadOp>(
      p.scales, ValueRange{p.wt.getScale() == ScaleGranularity::PerRow
                               ? n
                               : indexConst(b, 0)});
  Value acc = b.create<arith::SIToFPOp>(b.getF32Type(), total);
  Value sxm = b.create<memref::LoadOp>(sx, ValueRange{m});
  storeOutput(b, p, scale(b, acc, w, sxm), m, n);
}

Value LinearEmitter::scale(ImplicitLocOpBuilder &b, Value acc, Value w,
                           Value sxm) const {
  // bitllama2.c: acc * (w * a); BitNet: (acc / s) * w.
  if (op.getScheme() == QuantScheme::BitLlama2c)
    return b.create<arith::MulFOp>(acc, b.create<arith::MulFOp>(w, sxm));
  return b.create<arith::MulFOp>(b.create<arith::DivFOp>(acc, sxm), w);
}

/// Writes output element (m, n), or a vector of them from (m, n) on, and
/// adds it to the residual stream, if any (residual + output, the operand
/// order of the tern.add it replaces).
void LinearEmitter::storeOutput(ImplicitLocOpBuilder &b, const WeightPlan &p,
                                Value out, Value m, Value n) const {
  SmallVector<Value, 2> at{m, n};
  if (auto type = dyn_cast<VectorType>(out.getType())) {
    // Outputs (m, n), (m, n + 1), ...
    b.create<vector::StoreOp>(out, p.output, at);
    if (p.residual) {
      Value h = b.create<vector::LoadOp>(type, p.residual, at);
      b.create<vector::StoreOp>(b.create<arith::AddFOp>(h, out), p.residual,
                                at);
    }
    return;
  }
  b.create<memref::StoreOp>(out, p.output, at);
  if (p.residual) {
    Value h = b.create<memref::LoadOp>(p.residual, at);
    b.create<memref::StoreOp>(b.create<arith::AddFOp>(h, out), p.residual, at);
  }
}

/// Every token of rows [n0, n0 + rc): whole tiles, then one token at a time.
void LinearEmitter::tokens(ImplicitLocOpBuilder &b, const WeightPlan &p,
                           Value n0, int64_t rc, Value from) const {
  const int64_t T = p.tileTokens;
  Value c0 = from ? from : indexConst(b, 0), c1 = indexConst(b, 1);
  Value mTiles = c0;
  if (T > 1) {
    // Whole tiles of [c0, M), then one token at a time.
    Value cT = indexConst(b, T);
    mTiles = b.create<arith::AddIOp>(
        c0,
        b.create<arith::MulIOp>(
            b.create<arith::DivUIOp>(b.create<arith::SubIOp>(cM, c0), cT), cT));
    b.create<scf::ForOp>(c0, mTiles, cT, ValueRange{},
                         [&](OpBuilder &mb, Location ml, Value m0, ValueRange) {
                           ImplicitLocOpBuilder tb(ml, mb);
                           tile(tb, p, n0, rc, m0, T);
                           tb.create<scf::YieldOp>();
                         });
  }
  b.create<scf::ForOp>(mTiles, cM, c1, ValueRange{},
                       [&](OpBuilder &mb, Location ml, Value m, ValueRange) {
                         ImplicitLocOpBuilder tb(ml, mb);
                         tile(tb, p, n0, rc, m, 1);
                         tb.create<scf::YieldOp>();
                       });
}

/// Per-block scales: one row, every token, one output element at a time,
/// `sum_b acc_b * w[n, b]` over blocks in order, then / sx. The row's
/// weights stay in L1 across the tokens of a prefill chunk.
void LinearEmitter::perBlockRow(ImplicitLocOpBuilder &b, const WeightPlan &p,
                                Value n) const {
  const TernaryType &wt = p.wt;
  const int64_t chunk = wt.getChunk(), blocks = wt.getBlocksPerRow();
  const int64_t chunksPerBlock = wt.getPaddedCols() / chunk / blocks;
  auto vCodes = VectorType::get({p.part}, b.getI8Type());
  auto vAcc = VectorType::get({p.kernel.accLanes}, b.getI32Type());
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value cBlocks = indexConst(b, blocks);
  Value cChunksPerBlock = indexConst(b, chunksPerBlock);
  Value rowBase = rowCodeOffset(b, wt, n);
  Value zeroF = f32Const(b, 0.0f);
  b.create<scf::ForOp>(
      c0, cM, c1, ValueRange{},
      [&](OpBuilder &mb, Location ml, Value m, ValueRange) {
        ImplicitLocOpBuilder ib(ml, mb);
        if (mcaMarkers)
          mcaMarker(ib, op, "BEGIN");
        Value scaleBase = ib.create<arith::MulIOp>(n, cBlocks);
        auto blockLoop = ib.create<scf::ForOp>(
            c0, cBlocks, c1, ValueRange{zeroF},
            [&](OpBuilder &bb, Location bl, Value blk, ValueRange facc) {
              ImplicitLocOpBuilder kb(bl, bb);
              Value first = kb.create<arith::MulIOp>(blk, cChunksPerBlock);
              Value last = kb.create<arith::AddIOp>(first, cChunksPerBlock);
              auto dot = kb.create<scf::ForOp>(
                  first, last, c1, ValueRange{splat(kb, vAcc, 0)},
                  [&](OpBuilder &lb, Location l, Value c, ValueRange acc) {
                    ImplicitLocOpBuilder cb(l, lb);
                    Value codes = cb.create<vector::LoadOp>(
                        vCodes, p.data,
                        ValueRange{cb.create<arith::AddIOp>(
                            rowBase,
                            cb.create<arith::MulIOp>(
                                c, indexConst(cb, wt.getChunkStride())))});
                    Value kBase =
                        cb.create<arith::MulIOp>(c, indexConst(cb, chunk));
                    Value sum = acc[0];
                    for (int j = 0; j < 4; ++j) {
                      Value plane =
                          bitPlane(cb, codes, j, splat(cb, vCodes, 3));
                      Value k = cb.create<arith::AddIOp>(
                          kBase, indexConst(cb, j * p.part));
                      sum =
                          step(cb, p, sum, plane, loadActivations(cb, p, m, k));
                    }
                    cb.create<scf::YieldOp>(ValueRange{sum});
                  });
              Value acc = kb.create<arith::SIToFPOp>(
                  kb.getF32Type(),
                  kb.create<vector::ReductionOp>(vector::CombiningKind::ADD,
                                                 dot.getResult(0)));
              Value w = kb.create<memref::LoadOp>(
                  p.scales,
                  ValueRange{kb.create<arith::AddIOp>(scaleBase, blk)});
              kb.create<scf::YieldOp>(ValueRange{kb.create<arith::AddFOp>(
                  facc[0], kb.create<arith::MulFOp>(acc, w))});
            });
        Value sxm = ib.create<memref::LoadOp>(sx, ValueRange{m});
        storeOutput(
            ib, p, ib.create<arith::DivFOp>(blockLoop.getResult(0), sxm), m, n);
        if (mcaMarkers)
          mcaMarker(ib, op, "END");
        ib.create<scf::YieldOp>();
      });
}

/// Iteration `u` of a prefill weight's share of the parallel loop: a block
/// of blockGroups row groups, every token, tokens outside: each tile of
/// tokens' activations (T x K bytes) stays in L1 while the block's rows
/// (from L2) go past it, where rows outside and tokens inside streamed all
/// the tokens' activations from L2 for every row group (4 times the L2
/// traffic per dot product; 2B4T pp128 on Zen 5: see docs/performance.md).
/// The block holding the N % tileRows rows left over also runs them.
void LinearEmitter::rowBlock(ImplicitLocOpBuilder &b, const WeightPlan &p,
                             Value u) const {
  const int64_t R = p.tileRows, G = p.blockGroups, T = p.tileTokens;
  const int64_t groups = p.wt.getRows() / R, rest = p.wt.getRows() % R;
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value g0 = b.create<arith::MulIOp>(u, indexConst(b, G));
  Value gEnd = b.create<arith::MinUIOp>(
      b.create<arith::AddIOp>(g0, indexConst(b, G)), indexConst(b, groups));
  Value hasRest;
  if (rest)
    hasRest = b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, u,
                                      indexConst(b, groups / G));
  // Every row group of the block for tokens [m0, m0 + tc).
  auto rows = [&](ImplicitLocOpBuilder &tb, Value m0, int64_t tc) {
    tb.create<scf::ForOp>(g0, gEnd, c1, ValueRange{},
                          [&](OpBuilder &gb, Location gl, Value g, ValueRange) {
                            ImplicitLocOpBuilder rb(gl, gb);
                            tile(rb, p,
                                 rb.create<arith::MulIOp>(g, indexConst(rb, R)),
                                 R, m0, tc);
                            rb.create<scf::YieldOp>();
                          });
    if (!rest)
      return;
    tb.create<scf::IfOp>(hasRest, [&](OpBuilder &ib, Location il) {
      ImplicitLocOpBuilder rb(il, ib);
      tile(rb, p, indexConst(rb, groups * R), rest, m0, tc);
      rb.create<scf::YieldOp>();
    });
  };
  Value mTiles = b.create<arith::MulIOp>(
      b.create<arith::DivUIOp>(cM, indexConst(b, T)), indexConst(b, T));
  b.create<scf::ForOp>(c0, mTiles, indexConst(b, T), ValueRange{},
                       [&](OpBuilder &mb, Location ml, Value m0, ValueRange) {
                         ImplicitLocOpBuilder tb(ml, mb);
                         rows(tb, m0, T);
                         tb.create<scf::YieldOp>();
                       });
  b.create<scf::ForOp>(mTiles, cM, c1, ValueRange{},
                       [&](OpBuilder &mb, Location ml, Value m, ValueRange) {
                         ImplicitLocOpBuilder tb(ml, mb);
                         rows(tb, m, 1);
                         tb.create<scf::YieldOp>();
                       });
}

/// Iteration `u` of this weight's share of the parallel loop: a group of
/// tileRows rows (the last group takes the N % tileRows left), or one row
/// with per-block scales.
void LinearEmitter::unit(ImplicitLocOpBuilder &b, const WeightPlan &p,
                         Value u) const {
  if (p.lookup)
    return p.kernel.amx ? amxLookupUnit(b, p, u) : lookupUnit(b, p, u);
  if (p.wt.getScale() == ScaleGranularity::PerBlock)
    return perBlockRow(b, p, u);
  if (p.kernel.amx)
    return amxUnit(b, p, u);
  if (p.blockGroups > 1)
    return rowBlock(b, p, u);
  const int64_t R = p.tileRows;
  const int64_t groups = p.wt.getRows() / R, rest = p.wt.getRows() % R;
  Value n0 = b.create<arith::MulIOp>(u, indexConst(b, R));
  if (!rest)
    return tokens(b, p, n0, R);
  Value full = b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, u,
                                       indexConst(b, groups));
  ifElse(
      b, full, [&](ImplicitLocOpBuilder &ib) { tokens(ib, p, n0, R); },
      [&](ImplicitLocOpBuilder &ib) { tokens(ib, p, n0, rest); });
}

void LinearEmitter::gluUnit(ImplicitLocOpBuilder &b, const WeightPlan &p,
                            Value u, GluActivation act, Value gate, Value up,
                            Value out) const {
  // Unit u holds rows [u * G * R, (u + 1) * G * R) of N (R rows a group or
  // lookup block, G of them a unit; the last unit also the N % R rest), or
  // amxUnitRows() rows on AMX.
  const int64_t R = p.kernel.amx ? amxUnitRows()
                    : p.lookup   ? p.lookup->rows
                                 : p.tileRows;
  const int64_t span = p.kernel.amx ? R : R * p.blockGroups;
  Value r0 = b.create<arith::MulIOp>(u, indexConst(b, span));
  Value r1 =
      b.create<arith::MinUIOp>(b.create<arith::AddIOp>(r0, indexConst(b, span)),
                               indexConst(b, p.wt.getRows()));
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  b.create<scf::ForOp>(
      c0, cM, c1, ValueRange{},
      [&](OpBuilder &mb, Location ml, Value m, ValueRange) {
        mb.create<scf::ForOp>(
            ml, r0, r1, c1, ValueRange{},
            [&](OpBuilder &nb, Location nl, Value n, ValueRange) {
              ImplicitLocOpBuilder eb(nl, nb);
              Value g = eb.create<memref::LoadOp>(gate, ValueRange{m, n});
              Value v = eb.create<memref::LoadOp>(up, ValueRange{m, n});
              eb.create<memref::StoreOp>(gluElement(eb, act, g, v), out,
                                         ValueRange{m, n});
              eb.create<scf::YieldOp>();
            });
        mb.create<scf::YieldOp>(ml);
      });
}

namespace {

/// The static bound of a token count: the static row count of `v` or of
/// the buffer it is a view of.
std::optional<int64_t> tokenBound(Value v) {
  auto bound = [](Value x) -> std::optional<int64_t> {
    auto type = dyn_cast<MemRefType>(x.getType());
    if (type && !type.isDynamicDim(0))
      return type.getDimSize(0);
    return std::nullopt;
  };
  if (std::optional<int64_t> b = bound(v))
    return b;
  if (auto view = v.getDefiningOp<memref::SubViewOp>())
    return bound(view.getSource());
  return std::nullopt;
}

LogicalResult
LinearLowering::matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const {
  TargetAttr target = TargetAttr::lookup(op);
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  LinearEmitter e;
  e.op = op;
  e.mcaMarkers = mcaMarkers;
  e.q = adaptor.getInput();
  e.sx = adaptor.getInputScale();
  e.cM = dimOf(b, e.q, 0);
  auto qType = cast<MemRefType>(e.q.getType());
  // Decode (a static single token) computes the R rows of a row group of
  // interleaved<B, R> together: the group's chunks are adjacent, so the tile
  // reads one sequential stream and each activation load serves R rows.
  // Zen 4, one thread, 2B4T shapes from DRAM (bench/kernels.sh): 1 row
  // 22-25 GB/s, 4 rows of a group 33-35 (4 rows of the row-major layout,
  // four streams 640 bytes apart: 8-11). Prefill tiles are 4 x 4 (2 x 4
  // with 16 registers) whatever R is: 1.5x over 1 x 1.
  const bool singleToken = !qType.isDynamicDim(0) && qType.getDimSize(0) == 1;
  e.singleToken = singleToken;
  const std::optional<int64_t> maxTokens = tokenBound(e.q);

  SmallVector<WeightPlan> plans;
  bool needSumA = false;
  for (auto [i, output] : llvm::enumerate(adaptor.getOutputs())) {
    auto weight =
        SymbolTable::lookupNearestSymbolFrom<WeightOp>(op, op.getWeight(i));
    if (!weight)
      return rewriter.notifyMatchFailure(op, "weight symbol not found");
    WeightPlan p;
    p.wt = weight.getTernaryType();
    p.output = output;
    p.residual = adaptor.getResidual();
    auto dataType = MemRefType::get({p.wt.getPackedBytes()}, b.getI8Type());
    if (p.wt.isLookup()) {
      p.lookup = selectLookup(target, p.wt.getLayout(), p.wt.getChunk());
      if (!p.lookup) // checked before the conversion starts
        return rewriter.notifyMatchFailure(op, "no table lookup for the "
                                               "weight's lut layout");
      p.units = p.wt.getPaddedRows() / p.wt.getChunk();
      // Row blocks that share each slice's tables, as the layout groups
      // them.
      p.blockGroups = p.wt.getLookupBlockGroup();
      p.units = llvm::divideCeil(p.units, p.blockGroups);
      // Prefill with AMX-INT8: units of 32 rows unpacked once and run on
      // the tile unit for every token (AmxLookupKernel.cpp).
      if (p.wt.getLayout() == WeightLayout::Lookup5 && target &&
          target.has("amx-int8") && !singleToken && !mcaMarkers) {
        p.kernel.amx = true;
        p.units = llvm::divideCeil(p.wt.getRows(), amxUnitRows());
      }
      p.data = b.create<WeightDataOp>(dataType, op.getWeight(i));
      p.scales = b.create<memref::ViewOp>(
          MemRefType::get({p.wt.getNumScales()}, b.getF32Type()), p.data,
          indexConst(b, p.wt.getScaleOffset()), ValueRange{});
      plans.push_back(p);
      continue;
    }
    if (p.wt.getLayout() != WeightLayout::Interleaved)
      return rewriter.notifyMatchFailure(op, "weight is not laid out");
    p.part = p.wt.getChunk() / 4;
    const bool perBlock = p.wt.getScale() == ScaleGranularity::PerBlock;
    p.kernel = selectKernel(op, target, p.part, perBlock);
    // u8 x s8 needs sum(a) per token in a stack buffer sized by the static
    // bound of the token count; without one, the portable kernel.
    if (p.kernel.family == DotKernel::U8S8 && !maxTokens) {
      p.kernel = DotKernel();
      p.kernel.accLanes = p.part;
    }
    // AMX tiles serve prefill only, with tiles of 16 tokens possible.
    if (p.kernel.amx &&
        (singleToken || perBlock || mcaMarkers || *maxTokens < amxMinTokens()))
      p.kernel.amx = false;
    needSumA |= p.kernel.family == DotKernel::U8S8;
    if (!perBlock && !mcaMarkers && p.kernel.family != DotKernel::Generic) {
      // Prefill: 32 vector registers (AVX-512, AArch64) hold a 4 x 4 tile
      // of accumulators beside the codes, 16 (AVX2) 2 x 4: the rows of the
      // target's row group, whatever the weight's own.
      p.tileRows = singleToken
                       ? p.wt.getRowGroup()
                       : interleavedRowGroup(target, /*portable=*/false);
      p.tileTokens = singleToken ? 1 : 4;
    }
    p.units = perBlock ? p.wt.getRows()
                       : (p.wt.getRows() + p.tileRows - 1) / p.tileRows;
    // Prefill tiles run in blocks of row groups, tokens outside (rowBlock),
    // of at most kBlockGroups groups and at least kMinBlocks blocks a weight
    // (the thread pool's share); small weights keep one group a unit.
    if (p.kernel.amx) {
      // Units of amxUnitRows() rows (blockGroups groups of tileRows, which
      // gluUnit() spans), the tail rows in the last unit.
      p.blockGroups = amxUnitRows() / p.tileRows;
      p.units = llvm::divideCeil(p.wt.getRows(), amxUnitRows());
    } else if (p.tileTokens > 1) {
      p.blockGroups =
          std::clamp<int64_t>(p.units / kMinBlocks, 1, kBlockGroups);
      p.units = llvm::divideCeil(p.units, p.blockGroups);
    }
    p.data = b.create<WeightDataOp>(dataType, op.getWeight(i));
    p.scales = b.create<memref::ViewOp>(
        MemRefType::get({p.wt.getNumScales()}, b.getF32Type()), p.data,
        indexConst(b, p.wt.getScaleOffset()), ValueRange{});
    plans.push_back(p);
  }

  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  if (needSumA) {
    // sum(a) of every token row, once per op, into a buffer at the
    // function's entry (an alloca inside the loops would grow the stack).
    auto func = op->getParentOfType<func::FuncOp>();
    if (!func)
      return rewriter.notifyMatchFailure(op, "not inside a function");
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(&func.getBody().front());
      e.sumA = rewriter.create<memref::AllocaOp>(
          op.getLoc(), MemRefType::get({*maxTokens}, b.getI32Type()));
    }
    const WeightPlan &p = *llvm::find_if(plans, [](const WeightPlan &p) {
      return !p.lookup && p.kernel.family == DotKernel::U8S8;
    });
    auto vWide = VectorType::get({p.part}, b.getI32Type());
    b.create<scf::ForOp>(
        c0, e.cM, c1, ValueRange{},
        [&](OpBuilder &sb, Location sl, Value m, ValueRange) {
          ImplicitLocOpBuilder mb(sl, sb);
          auto loop = mb.create<scf::ForOp>(
              c0, indexConst(mb, p.wt.getPaddedCols()), indexConst(mb, p.part),
              ValueRange{splat(mb, vWide, 0)},
              [&](OpBuilder &lb, Location l, Value k, ValueRange acc) {
                ImplicitLocOpBuilder kb(l, lb);
                Value a = kb.create<arith::ExtSIOp>(
                    vWide, e.loadActivations(kb, p, m, k));
                kb.create<scf::YieldOp>(
                    ValueRange{kb.create<arith::AddIOp>(acc[0], a)});
              });
          mb.create<memref::StoreOp>(
              mb.create<vector::ReductionOp>(vector::CombiningKind::ADD,
                                             loop.getResult(0)),
              e.sumA, ValueRange{m});
          mb.create<scf::YieldOp>();
        });
  }

  // AMX: the activations in the tiles' layout, shared by every weight.
  for (const WeightPlan &p : plans) {
    if (p.kernel.amx && !p.lookup && !e.amxActivations)
      e.packAmxActivations(b, p);
    if (p.kernel.amx && p.lookup && !e.amxTokenRows)
      e.packAmxTokenRows(b, p);
  }

  // Lookup kernels: the tables of every token, shared by all the weights
  // of one group size.
  for (const WeightPlan &p : plans)
    if (p.lookup && !p.kernel.amx && !e.tablesOf(p.lookup->group).data)
      e.buildTables(b, p.wt, p.lookup->group);

  // One parallel loop over the units of every weight, so the thread pool
  // runs once per op; iteration u dispatches to the weight whose range
  // holds it. With a glu, iteration u runs unit u of gate and of up (the
  // same rows: the same layout) and then their glu.
  Value gluOut = adaptor.getGluOutput();
  int64_t total = 0;
  for (const WeightPlan &p : plans)
    total += p.units;
  if (gluOut) {
    // The pass's check: gate and up have one type, hence one plan.
    assert(plans[0].wt == plans[1].wt && plans[0].units == plans[1].units &&
           "glu: gate and up laid out differently");
    total = plans[0].units;
  }
  auto loop = b.create<scf::ForOp>(
      c0, indexConst(b, total), c1, ValueRange{},
      [&](OpBuilder &lb, Location l, Value u, ValueRange) {
        ImplicitLocOpBuilder ib(l, lb);
        if (gluOut) {
          e.unit(ib, plans[0], u);
          e.unit(ib, plans[1], u);
          e.gluUnit(ib, plans[0], u, *op.getGlu(), plans[0].output,
                    plans[1].output, gluOut);
          ib.create<scf::YieldOp>();
          return;
        }
        std::function<void(ImplicitLocOpBuilder &, size_t, int64_t)> dispatch =
            [&](ImplicitLocOpBuilder &db, size_t i, int64_t first) {
              Value local =
                  first ? db.create<arith::SubIOp>(u, indexConst(db, first))
                        : u;
              if (i + 1 == plans.size())
                return e.unit(db, plans[i], local);
              Value here = db.create<arith::CmpIOp>(
                  arith::CmpIPredicate::ult, u,
                  indexConst(db, first + plans[i].units));
              ifElse(
                  db, here,
                  [&](ImplicitLocOpBuilder &xb) {
                    e.unit(xb, plans[i], local);
                  },
                  [&](ImplicitLocOpBuilder &xb) {
                    dispatch(xb, i + 1, first + plans[i].units);
                  });
            };
        dispatch(ib, 0, 0);
        ib.create<scf::YieldOp>();
      });
  loop->setAttr(kParallelAttrName, b.getUnitAttr());
  // Decode: the threads that wait while this one runs the norms and RoPE
  // before the next linear prefetch its weights.
  if (singleToken)
    hintNextLinear(b, op);
  e.freeTables(b);
  if (e.amxActivations)
    b.create<memref::DeallocOp>(e.amxActivations);
  if (e.amxTokenRows)
    b.create<memref::DeallocOp>(e.amxTokenRows);
  rewriter.eraseOp(op);
  return success();
}

} // namespace

void mlir::tern::detail::populateLinearLoweringPatterns(
    RewritePatternSet &patterns, bool mcaMarkers) {
  patterns.add<LinearLowering>(patterns.getContext(), mcaMarkers);
}
