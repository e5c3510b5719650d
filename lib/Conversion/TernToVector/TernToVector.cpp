//===- TernToVector.cpp - lower tern compute ops to scf + vector ----------===//
//
// The first, portable lowering: plain vector code that LLVM maps onto each
// ISA (AVX2/AVX-512 on x86, NEON on AArch64). It is exact: integer sums are
// accumulated in int32 and the f32 epilogue follows the op's documented
// order of operations, so a scalar reference can match it bit for bit.
//
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"

#include "LoweringUtils.h"

#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::tern {
#define GEN_PASS_DEF_CONVERTTERNTOVECTOR
#include "ternc/Conversion/Passes.h.inc"
} // namespace mlir::tern

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

namespace {

/// Number of f32 lanes for the module's target (128-bit vectors without one).
int64_t floatLanes(Operation *op) {
  TargetAttr target = TargetAttr::lookup(op);
  int64_t bits = target ? target.getVectorBits() : 128;
  return std::max<int64_t>(4, bits / 32);
}

//===----------------------------------------------------------------------===//
// tern.quantize
//===----------------------------------------------------------------------===//

struct QuantizeLowering : public OpConversionPattern<QuantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getInput(), q = adaptor.getOutput(),
          s = adaptor.getScale();
    int64_t k = op.getInput().getType().getDimSize(1);
    int64_t lanes = floatLanes(op);
    auto f32 = b.getF32Type();
    auto vf = VectorType::get({lanes}, f32);
    auto vi8 = VectorType::get({lanes}, b.getI8Type());

    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
    Value cK = indexConst(b, k), cStep = indexConst(b, lanes);
    Value zero = b.create<arith::ConstantOp>(b.getF32FloatAttr(0.0f));

    b.create<scf::ForOp>(
        c0, dimOf(b, x, 0), c1, ValueRange{},
        [&](OpBuilder &nb, Location loc, Value m, ValueRange) {
          ImplicitLocOpBuilder rb(loc, nb);
          const bool bitllama = op.getScheme() == QuantScheme::BitLlama2c;
          // bitllama2.c first divides the row by rms(x) * K; its sum of
          // squares runs in order, so it is a scalar loop.
          Value rowScale, rowScaleVec;
          if (bitllama) {
            auto ssLoop = rb.create<scf::ForOp>(
                c0, cK, c1, ValueRange{zero},
                [&](OpBuilder &lb, Location l, Value kk, ValueRange acc) {
                  ImplicitLocOpBuilder ib(l, lb);
                  Value v = ib.create<memref::LoadOp>(x, ValueRange{m, kk});
                  ib.create<scf::YieldOp>(ValueRange{ib.create<arith::AddFOp>(
                      acc[0], ib.create<arith::MulFOp>(v, v))});
                });
            Value kF = rb.create<arith::ConstantOp>(rb.getF32FloatAttr(k));
            Value one = rb.create<arith::ConstantOp>(rb.getF32FloatAttr(1.0f));
            Value rms = rb.create<math::SqrtOp>(
                rb.create<arith::DivFOp>(ssLoop.getResult(0), kF));
            rowScale = rb.create<arith::DivFOp>(
                rb.create<arith::DivFOp>(one, rms), kF);
            rowScaleVec = rb.create<vector::BroadcastOp>(vf, rowScale);
          }
          auto normalised = [&](ImplicitLocOpBuilder &ib, Value v) {
            return bitllama ? ib.create<arith::MulFOp>(v, rowScaleVec) : v;
          };

          // Pass 1: absmax of the row. Reads past K are masked and padded
          // with 0, which never raises the maximum.
          auto absLoop = rb.create<scf::ForOp>(
              c0, cK, cStep, ValueRange{splat(rb, vf, 0.0)},
              [&](OpBuilder &lb, Location l, Value kk, ValueRange acc) {
                ImplicitLocOpBuilder ib(l, lb);
                Value v = normalised(ib, ib.create<vector::TransferReadOp>(
                                             vf, x, ValueRange{m, kk}, zero));
                Value a = ib.create<math::AbsFOp>(v);
                ib.create<scf::YieldOp>(
                    ValueRange{ib.create<arith::MaximumFOp>(acc[0], a)});
              });
          Value absmax = rb.create<vector::ReductionOp>(
              vector::CombiningKind::MAXIMUMF, absLoop.getResult(0));
          Value c127 = rb.create<arith::ConstantOp>(rb.getF32FloatAttr(127.0f));
          Value scale, mulBy;
          if (bitllama) {
            // a = absmax / 127 is the stored scale; q = round(x * (1 / a)).
            scale = rb.create<arith::DivFOp>(absmax, c127);
            Value one = rb.create<arith::ConstantOp>(rb.getF32FloatAttr(1.0f));
            mulBy = rb.create<arith::DivFOp>(one, scale);
          } else {
            Value floor =
                rb.create<arith::ConstantOp>(rb.getF32FloatAttr(1e-5f));
            scale = rb.create<arith::DivFOp>(
                c127, rb.create<arith::MaximumFOp>(absmax, floor));
            mulBy = scale;
          }
          rb.create<memref::StoreOp>(scale, s, ValueRange{m});

          // Pass 2: q = clamp(roundeven(x * scale), -128, 127), or for
          // bitllama2.c round half away from zero (|x/a| <= 127 already).
          Value scaleVec = rb.create<vector::BroadcastOp>(vf, mulBy);
          Value lo = splat(rb, vf, -128.0), hi = splat(rb, vf, 127.0);
          rb.create<scf::ForOp>(
              c0, cK, cStep, ValueRange{},
              [&](OpBuilder &lb, Location l, Value kk, ValueRange) {
                ImplicitLocOpBuilder ib(l, lb);
                Value v = normalised(ib, ib.create<vector::TransferReadOp>(
                                             vf, x, ValueRange{m, kk}, zero));
                Value p = ib.create<arith::MulFOp>(v, scaleVec);
                // Round half to even as (p + 1.5*2^23) - 1.5*2^23: exact
                // for |p| < 2^22 (here |p| <= 127) in the default rounding
                // mode, and selectable on every ISA (32-bit ARM has no
                // vector roundeven).
                Value r;
                if (bitllama) {
                  r = ib.create<math::RoundOp>(p);
                } else {
                  Value magic = splat(ib, vf, 12582912.0);
                  r = ib.create<arith::SubFOp>(
                      ib.create<arith::AddFOp>(p, magic), magic);
                }
                Value c = ib.create<arith::MinimumFOp>(
                    ib.create<arith::MaximumFOp>(r, lo), hi);
                Value i = ib.create<arith::FPToSIOp>(vi8, c);
                ib.create<vector::TransferWriteOp>(i, q, ValueRange{m, kk});
                ib.create<scf::YieldOp>();
              });
          rb.create<scf::YieldOp>();
        });
    rewriter.eraseOp(op);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// tern.linear
//===----------------------------------------------------------------------===//

/// An llvm-mca region marker as an assembly comment of the target.
void mcaMarker(ImplicitLocOpBuilder &b, Operation *op, StringRef what) {
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

struct LinearLowering : public OpConversionPattern<LinearOp> {
  LinearLowering(MLIRContext *ctx, bool mcaMarkers)
      : OpConversionPattern(ctx), mcaMarkers(mcaMarkers) {}
  bool mcaMarkers;

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto weight =
        SymbolTable::lookupNearestSymbolFrom<WeightOp>(op, op.getWeightAttr());
    if (!weight)
      return rewriter.notifyMatchFailure(op, "weight symbol not found");
    TernaryType wt = weight.getTernaryType();
    if (wt.getLayout() != WeightLayout::Interleaved)
      return rewriter.notifyMatchFailure(op, "weight is not interleaved");

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value q = adaptor.getInput(), sx = adaptor.getInputScale(),
          y = adaptor.getOutput();
    const int64_t chunk = wt.getChunk();
    const int64_t part = chunk / 4; // elements per bit plane of a chunk
    const int64_t rowBytes = wt.getRowBytes();
    const int64_t blocks = wt.getBlocksPerRow();
    const int64_t chunksPerBlock = wt.getPaddedCols() / chunk / blocks;
    const bool perBlock = wt.getScale() == ScaleGranularity::PerBlock;

    auto i8 = b.getI8Type(), i32 = b.getI32Type();
    auto f32 = b.getF32Type();
    auto vCodes = VectorType::get({part}, i8);
    // The kernel family, from the target (tern-select-layout chose the chunk
    // to match):
    //  - AArch64 dotprod: 16 weights of a bit plane times 16 activations go
    //    through one `sdot` (s8 x s8) into 4 i32 lanes;
    //  - x86 AVX-512 VNNI: 64 codes c = t + 1 in {0, 1, 2} (u8) times 64
    //    activations (s8) through one `vpdpbusd` into 16 i32 lanes; the
    //    exact sum is then sum(c * a) - sum(a), sum(a) once per token;
    //  - otherwise portable vector code: widen to i32, multiply, add.
    enum class Kernel { Generic, Sdot, Vnni512 };
    TargetAttr target = TargetAttr::lookup(op);
    Kernel kernel = Kernel::Generic;
    if (target && target.has("dotprod") &&
        StringRef(target.getTriple()).starts_with("aarch64") && part == 16)
      kernel = Kernel::Sdot;
    else if (target && target.has("avx512vnni") && part == 64 && !perBlock)
      kernel =
          Kernel::Vnni512; // (per-block scales would need sum(a) per block)
    auto vAcc = VectorType::get({kernel == Kernel::Sdot      ? 4
                                 : kernel == Kernel::Vnni512 ? 16
                                                             : part},
                                i32);
    // Activations need no masking when K fills whole chunks.
    const bool exactChunks = wt.getPaddedCols() == wt.getCols();

    auto dataType = MemRefType::get({wt.getPackedBytes()}, i8);
    Value data = b.create<WeightDataOp>(dataType, op.getWeightAttr());
    Value scales = b.create<memref::ViewOp>(
        MemRefType::get({wt.getNumScales()}, f32), data,
        indexConst(b, wt.getScaleOffset()), ValueRange{});

    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
    Value cM = dimOf(b, q, 0);
    Value cN = indexConst(b, wt.getRows());
    Value cRowBytes = indexConst(b, rowBytes);
    Value cPart = indexConst(b, part), cChunk = indexConst(b, chunk);
    Value cBlocks = indexConst(b, blocks);
    Value cChunksPerBlock = indexConst(b, chunksPerBlock);
    Value zeroI8 = b.create<arith::ConstantOp>(b.getI8IntegerAttr(0));
    Value zeroF = b.create<arith::ConstantOp>(b.getF32FloatAttr(0.0f));
    Value mask2 = splat(b, vCodes, 3), one = splat(b, vCodes, 1);
    Value shifts[4] = {splat(b, vCodes, 0), splat(b, vCodes, 2),
                       splat(b, vCodes, 4), splat(b, vCodes, 6)};

    auto loadActivations = [&](ImplicitLocOpBuilder &cb, Value m,
                               Value k) -> Value {
      if (exactChunks)
        return cb.create<vector::LoadOp>(vCodes, q, ValueRange{m, k});
      // Past K the activations read as 0 (masked), whatever the padding
      // codes hold.
      return cb.create<vector::TransferReadOp>(vCodes, q, ValueRange{m, k},
                                               zeroI8);
    };

    // VNNI: sum(a) of every token row, once per op, in a stack buffer at
    // the function's entry, sized by the static bound of the token count
    // (the static row count of the activations or of the buffer they are a
    // view of). Without a bound the portable kernel is used.
    Value sumA;
    if (kernel == Kernel::Vnni512) {
      std::optional<int64_t> maxRows;
      auto rowBound = [](Value v) -> std::optional<int64_t> {
        auto type = dyn_cast<MemRefType>(v.getType());
        if (type && !type.isDynamicDim(0))
          return type.getDimSize(0);
        return std::nullopt;
      };
      maxRows = rowBound(q);
      if (!maxRows)
        if (auto view = q.getDefiningOp<memref::SubViewOp>())
          maxRows = rowBound(view.getSource());
      auto func = op->getParentOfType<func::FuncOp>();
      if (!maxRows || !func) {
        kernel = Kernel::Generic;
        vAcc = VectorType::get({part}, i32);
      } else {
        OpBuilder::InsertionGuard guard(rewriter);
        rewriter.setInsertionPointToStart(&func.getBody().front());
        sumA = rewriter.create<memref::AllocaOp>(
            op.getLoc(), MemRefType::get({*maxRows}, i32));
      }
    }
    if (kernel == Kernel::Vnni512) {
      auto vWide = VectorType::get({part}, i32);
      Value cK = indexConst(b, wt.getPaddedCols());
      b.create<scf::ForOp>(
          c0, cM, c1, ValueRange{},
          [&](OpBuilder &sb, Location sl, Value m, ValueRange) {
            ImplicitLocOpBuilder mb(sl, sb);
            auto loop = mb.create<scf::ForOp>(
                c0, cK, cPart, ValueRange{splat(mb, vWide, 0)},
                [&](OpBuilder &lb, Location l, Value k, ValueRange acc) {
                  ImplicitLocOpBuilder kb(l, lb);
                  Value a = kb.create<arith::ExtSIOp>(
                      vWide, loadActivations(kb, m, k));
                  kb.create<scf::YieldOp>(
                      ValueRange{kb.create<arith::AddIOp>(acc[0], a)});
                });
            Value total = mb.create<vector::ReductionOp>(
                vector::CombiningKind::ADD, loop.getResult(0));
            mb.create<memref::StoreOp>(total, sumA, ValueRange{m});
            mb.create<scf::YieldOp>();
          });
    }

    // One kernel step: a bit plane of codes times activations into `acc`.
    auto step = [&](ImplicitLocOpBuilder &cb, Value acc, Value plane,
                    Value a) -> Value {
      if (kernel == Kernel::Vnni512) {
        auto v16 = VectorType::get({16}, i32);
        return cb
            .create<LLVM::CallIntrinsicOp>(
                TypeRange{vAcc},
                cb.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
                ValueRange{acc, cb.create<vector::BitCastOp>(v16, plane),
                           cb.create<vector::BitCastOp>(v16, a)})
            .getResult(0);
      }
      Value t = cb.create<arith::SubIOp>(plane, one);
      if (kernel == Kernel::Sdot)
        return cb.create<arm_neon::SdotOp>(vAcc, acc, t, a);
      Value prod = cb.create<arith::MulIOp>(cb.create<arith::ExtSIOp>(vAcc, t),
                                            cb.create<arith::ExtSIOp>(vAcc, a));
      return cb.create<arith::AddIOp>(acc, prod);
    };

    // Exact int32 dot product of one row of T with the activations of row m,
    // over chunks [first, first + count).
    auto dotChunks = [&](ImplicitLocOpBuilder &ib, Value m, Value rowBase,
                         Value first) -> Value {
      Value last = ib.create<arith::AddIOp>(first, cChunksPerBlock);
      auto loop = ib.create<scf::ForOp>(
          first, last, c1, ValueRange{splat(ib, vAcc, 0)},
          [&](OpBuilder &lb, Location l, Value c, ValueRange acc) {
            ImplicitLocOpBuilder cb(l, lb);
            Value byteOff = cb.create<arith::AddIOp>(
                rowBase, cb.create<arith::MulIOp>(c, cPart));
            Value codes =
                cb.create<vector::LoadOp>(vCodes, data, ValueRange{byteOff});
            Value kBase = cb.create<arith::MulIOp>(c, cChunk);
            Value sum = acc[0];
            for (int j = 0; j < 4; ++j) {
              // Bit plane j holds elements kBase + j*part + [0, part).
              Value plane = cb.create<arith::AndIOp>(
                  cb.create<arith::ShRUIOp>(codes, shifts[j]), mask2);
              Value k = cb.create<arith::AddIOp>(
                  kBase, cb.create<arith::ConstantIndexOp>(j * part));
              sum = step(cb, sum, plane, loadActivations(cb, m, k));
            }
            cb.create<scf::YieldOp>(ValueRange{sum});
          });
      Value total = ib.create<vector::ReductionOp>(vector::CombiningKind::ADD,
                                                   loop.getResult(0));
      return total;
    };
    // The row's exact sum over its chunks [first, first + chunksPerBlock).
    auto rowDot = [&](ImplicitLocOpBuilder &ib, Value m, Value rowBase,
                      Value first) -> Value {
      return ib.create<arith::SIToFPOp>(f32, dotChunks(ib, m, rowBase, first));
    };

    // Without per-block scales: register tiles of R rows x T tokens. Per
    // chunk, the codes of R rows are unpacked once and T activation vectors
    // loaded once for R * T kernel steps into R * T accumulators; in
    // prefill this reuse is what makes the linear a GEMM rather than a loop
    // of GEMVs; leftover tokens run R x 1. The sums are the same exact
    // integers whatever the tiling.
    if (!perBlock) {
      // Decode (a static single token) keeps 1 x 1: measured on Zen 5,
      // four rows side by side decode slower than one row at a time
      // (17 vs 22 tok/s on the 2B4T shape), while prefill gains 1.5x.
      auto qType = cast<MemRefType>(q.getType());
      const bool singleToken =
          !qType.isDynamicDim(0) && qType.getDimSize(0) == 1;
      const int64_t R =
          kernel == Kernel::Vnni512 && !mcaMarkers && !singleToken ? 4 : 1;
      const int64_t T = R;
      const int64_t chunks = wt.getPaddedCols() / chunk;
      Value cChunks = indexConst(b, chunks);
      // Outputs [n0, n0 + rc) x [m0, m0 + tc).
      auto tile = [&](ImplicitLocOpBuilder &ib, Value n0, int64_t rc, Value m0,
                      int64_t tc) {
        if (mcaMarkers)
          mcaMarker(ib, op, "BEGIN");
        SmallVector<Value> rowBase, mIdx;
        for (int64_t r = 0; r < rc; ++r)
          rowBase.push_back(ib.create<arith::MulIOp>(
              ib.create<arith::AddIOp>(n0, indexConst(ib, r)), cRowBytes));
        for (int64_t t = 0; t < tc; ++t)
          mIdx.push_back(ib.create<arith::AddIOp>(m0, indexConst(ib, t)));
        SmallVector<Value> inits(rc * tc, splat(ib, vAcc, 0));
        auto loop = ib.create<scf::ForOp>(
            c0, cChunks, c1, inits,
            [&](OpBuilder &lb, Location l, Value c, ValueRange acc) {
              ImplicitLocOpBuilder cb(l, lb);
              Value off = cb.create<arith::MulIOp>(c, cPart);
              SmallVector<Value> codes;
              for (int64_t r = 0; r < rc; ++r)
                codes.push_back(cb.create<vector::LoadOp>(
                    vCodes, data,
                    ValueRange{cb.create<arith::AddIOp>(rowBase[r], off)}));
              Value kBase = cb.create<arith::MulIOp>(c, cChunk);
              SmallVector<Value> sums(acc.begin(), acc.end());
              for (int j = 0; j < 4; ++j) {
                // Bit plane j holds elements kBase + j*part + [0, part).
                SmallVector<Value> planes;
                for (int64_t r = 0; r < rc; ++r)
                  planes.push_back(cb.create<arith::AndIOp>(
                      cb.create<arith::ShRUIOp>(codes[r], shifts[j]), mask2));
                Value k = cb.create<arith::AddIOp>(
                    kBase, cb.create<arith::ConstantIndexOp>(j * part));
                for (int64_t t = 0; t < tc; ++t) {
                  Value a = loadActivations(cb, mIdx[t], k);
                  for (int64_t r = 0; r < rc; ++r)
                    sums[r * tc + t] = step(cb, sums[r * tc + t], planes[r], a);
                }
              }
              cb.create<scf::YieldOp>(sums);
            });
        for (int64_t r = 0; r < rc; ++r) {
          Value n = ib.create<arith::AddIOp>(n0, indexConst(ib, r));
          Value w = ib.create<memref::LoadOp>(
              scales,
              ValueRange{wt.getScale() == ScaleGranularity::PerRow ? n : c0});
          for (int64_t t = 0; t < tc; ++t) {
            Value total = ib.create<vector::ReductionOp>(
                vector::CombiningKind::ADD, loop.getResult(r * tc + t));
            if (kernel == Kernel::Vnni512)
              total = ib.create<arith::SubIOp>(
                  total, ib.create<memref::LoadOp>(sumA, ValueRange{mIdx[t]}));
            Value acc = ib.create<arith::SIToFPOp>(f32, total);
            Value sxm = ib.create<memref::LoadOp>(sx, ValueRange{mIdx[t]});
            // bitllama2.c: acc * (w * a); BitNet: (acc / s) * w.
            Value out = op.getScheme() == QuantScheme::BitLlama2c
                            ? ib.create<arith::MulFOp>(
                                  acc, ib.create<arith::MulFOp>(w, sxm))
                            : ib.create<arith::MulFOp>(
                                  ib.create<arith::DivFOp>(acc, sxm), w);
            ib.create<memref::StoreOp>(out, y, ValueRange{mIdx[t], n});
          }
        }
        if (mcaMarkers)
          mcaMarker(ib, op, "END");
      };
      // Tokens of one group of rows: whole tiles, then one token at a time.
      auto tokens = [&](ImplicitLocOpBuilder &ib, Value n0, int64_t rc) {
        Value mTiles = ib.create<arith::MulIOp>(
            ib.create<arith::DivUIOp>(cM, indexConst(ib, T)),
            indexConst(ib, T));
        if (T > 1)
          ib.create<scf::ForOp>(
              c0, mTiles, indexConst(ib, T), ValueRange{},
              [&](OpBuilder &mb, Location ml, Value m0, ValueRange) {
                ImplicitLocOpBuilder tb(ml, mb);
                tile(tb, n0, rc, m0, T);
                tb.create<scf::YieldOp>();
              });
        ib.create<scf::ForOp>(
            T > 1 ? mTiles : c0, cM, c1, ValueRange{},
            [&](OpBuilder &mb, Location ml, Value m, ValueRange) {
              ImplicitLocOpBuilder tb(ml, mb);
              tile(tb, n0, rc, m, 1);
              tb.create<scf::YieldOp>();
            });
      };
      // Groups of R rows (threads share them), then the last N % R rows.
      const int64_t groups = wt.getRows() / R, rest = wt.getRows() % R;
      auto rowGroups = b.create<scf::ForOp>(
          c0, indexConst(b, groups), c1, ValueRange{},
          [&](OpBuilder &nb, Location nl, Value g, ValueRange) {
            ImplicitLocOpBuilder gb(nl, nb);
            tokens(gb, gb.create<arith::MulIOp>(g, indexConst(gb, R)), R);
            gb.create<scf::YieldOp>();
          });
      rowGroups->setAttr(kParallelAttrName, b.getUnitAttr());
      if (rest) {
        auto tail = b.create<scf::ForOp>(
            indexConst(b, groups * R), cN, c1, ValueRange{},
            [&](OpBuilder &nb, Location nl, Value n, ValueRange) {
              ImplicitLocOpBuilder gb(nl, nb);
              tokens(gb, n, 1);
              gb.create<scf::YieldOp>();
            });
        tail->setAttr(kParallelAttrName, b.getUnitAttr());
      }
      rewriter.eraseOp(op);
      return success();
    }

    // Per-block scales: rows outside, tokens inside (a row's weights are
    // read from memory once and stay in L1 for every token of a prefill
    // chunk), one output element at a time, blocks in order.
    auto rows = b.create<scf::ForOp>(
        c0, cN, c1, ValueRange{},
        [&](OpBuilder &nb, Location nl, Value n, ValueRange) {
          ImplicitLocOpBuilder nbb(nl, nb);
          Value rowBase = nbb.create<arith::MulIOp>(n, cRowBytes);
          nbb.create<scf::ForOp>(
              c0, cM, c1, ValueRange{},
              [&](OpBuilder &mb, Location ml, Value m, ValueRange) {
                ImplicitLocOpBuilder ib(ml, mb);
                if (mcaMarkers)
                  mcaMarker(ib, op, "BEGIN");
                Value sxm = ib.create<memref::LoadOp>(sx, ValueRange{m});
                // sum_b acc_b * w[n, b], blocks in order, then / sx.
                {
                  Value scaleBase = ib.create<arith::MulIOp>(n, cBlocks);
                  auto blockLoop = ib.create<scf::ForOp>(
                      c0, cBlocks, c1, ValueRange{zeroF},
                      [&](OpBuilder &bb, Location bl, Value blk,
                          ValueRange facc) {
                        ImplicitLocOpBuilder kb(bl, bb);
                        Value first =
                            kb.create<arith::MulIOp>(blk, cChunksPerBlock);
                        Value acc = rowDot(kb, m, rowBase, first);
                        Value w = kb.create<memref::LoadOp>(
                            scales, ValueRange{kb.create<arith::AddIOp>(
                                        scaleBase, blk)});
                        Value next = kb.create<arith::AddFOp>(
                            facc[0], kb.create<arith::MulFOp>(acc, w));
                        kb.create<scf::YieldOp>(ValueRange{next});
                      });
                  Value out =
                      ib.create<arith::DivFOp>(blockLoop.getResult(0), sxm);
                  ib.create<memref::StoreOp>(out, y, ValueRange{m, n});
                }
                if (mcaMarkers)
                  mcaMarker(ib, op, "END");
                ib.create<scf::YieldOp>();
              });
          nbb.create<scf::YieldOp>();
        });
    rows->setAttr(kParallelAttrName, b.getUnitAttr());
    rewriter.eraseOp(op);
    return success();
  }
};

struct ConvertTernToVectorPass
    : public tern::impl::ConvertTernToVectorBase<ConvertTernToVectorPass> {
  using ConvertTernToVectorBase::ConvertTernToVectorBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Diagnose what the patterns cannot lower before converting, so the user
    // learns which pass is missing rather than "failed to legalize".
    bool ok = true;
    module.walk([&](LinearOp op) {
      auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(
          op, op.getWeightAttr());
      if (!weight)
        return;
      if (weight.getTernaryType().getLayout() != WeightLayout::Interleaved) {
        op.emitOpError() << "weight " << op.getWeightAttr()
                         << " still has the canonical layout: run "
                            "tern-select-layout before lowering";
        ok = false;
      } else if (!weight.getOffset()) {
        op.emitOpError() << "weight " << op.getWeightAttr()
                         << " has no blob offset: run tern-pack-weights "
                            "before lowering";
        ok = false;
      }
    });
    if (!ok)
      return signalPassFailure();

    ConversionTarget target(getContext());
    target.addLegalDialect<arith::ArithDialect, arm_neon::ArmNeonDialect,
                           LLVM::LLVMDialect, math::MathDialect,
                           memref::MemRefDialect, scf::SCFDialect,
                           vector::VectorDialect, TernDialect>();
    target.addIllegalOp<QuantizeOp, LinearOp, EmbeddingOp, RMSNormOp, RopeOp,
                        AttentionOp, GluOp, AddOp, MatmulOp>();
    RewritePatternSet patterns(&getContext());
    populateTernToVectorPatterns(patterns, mcaMarkers);
    populateTernModelOpsToLoopsPatterns(patterns);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::tern::populateTernToVectorPatterns(RewritePatternSet &patterns,
                                              bool mcaMarkers) {
  patterns.add<QuantizeLowering>(patterns.getContext());
  patterns.add<LinearLowering>(patterns.getContext(), mcaMarkers);
}
