//===- TernToVector.cpp - lower tern compute ops to scf + vector ----------===//
//
// The pass that lowers tern's compute ops to scf loops over vector code, and
// tern.quantize: an absmax reduction and a scaling loop. tern.linear is in
// LinearLowering.cpp, the model ops (norms, attention, ...) in ModelOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"

#include "LinearKernels.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
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

func::FuncOp mlir::tern::detail::runtimeFunction(OpBuilder &b,
                                                 Operation *anchor,
                                                 StringRef name,
                                                 FunctionType type) {
  auto module = anchor->getParentOfType<ModuleOp>();
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  auto fn = b.create<func::FuncOp>(anchor->getLoc(), name, type);
  fn.setPrivate();
  return fn;
}

Value mlir::tern::detail::sumOfSquares(ImplicitLocOpBuilder &b, Value x,
                                       Value m, int64_t d, int64_t lanes) {
  Value c0 = indexConst(b, 0), cD = indexConst(b, d);
  if (lanes == 1)
    return b
        .create<scf::ForOp>(
            c0, cD, indexConst(b, 1), ValueRange{f32Const(b, 0.0f)},
            [&](OpBuilder &lb, Location l, Value k, ValueRange acc) {
              ImplicitLocOpBuilder ib(l, lb);
              Value v = ib.create<memref::LoadOp>(x, ValueRange{m, k});
              ib.create<scf::YieldOp>(ValueRange{ib.create<arith::AddFOp>(
                  acc[0], ib.create<arith::MulFOp>(v, v))});
            })
        .getResult(0);
  auto vf = VectorType::get({lanes}, b.getF32Type());
  // Whole vectors need no mask.
  const std::optional<ArrayRef<bool>> inBounds = inBoundsIf(d % lanes == 0);
  Value zero = f32Const(b, 0.0f);
  Value partial =
      b.create<scf::ForOp>(
           c0, cD, indexConst(b, lanes), ValueRange{splat(b, vf, 0.0)},
           [&](OpBuilder &lb, Location l, Value k, ValueRange acc) {
             ImplicitLocOpBuilder ib(l, lb);
             Value v = ib.create<vector::TransferReadOp>(
                 vf, x, ValueRange{m, k}, zero, inBounds);
             ib.create<scf::YieldOp>(ValueRange{ib.create<arith::AddFOp>(
                 acc[0], ib.create<arith::MulFOp>(v, v))});
           })
          .getResult(0);
  // Without reassociation flags: the lanes added in order.
  return b.create<vector::ReductionOp>(vector::CombiningKind::ADD, partial);
}

namespace {

/// The running absmax of a row as the bits of |v| (the sign cleared) and
/// their unsigned maximum: for floats that are not negative the integer
/// order is the float order, and a NaN's bits are above every number's, so
/// the maximum is arith.maximumf's (a NaN if any). One integer instruction
/// a vector with one cycle of latency, where maximumf's NaN and signed-zero
/// rules took six on x86 (a chain of about ten cycles a vector, the
/// longest part of a decode step's norm and quantization).
Value absBitsMax(ImplicitLocOpBuilder &b, Value acc, Value v) {
  auto vi = cast<VectorType>(v.getType()).clone(b.getI32Type());
  Value bits = b.create<arith::AndIOp>(b.create<arith::BitcastOp>(vi, v),
                                       splat(b, vi, 0x7fffffff));
  return b.create<arith::MaxUIOp>(acc, bits);
}

/// The float absmax of absBitsMax's accumulator.
Value absmaxOf(ImplicitLocOpBuilder &b, Value acc) {
  return b.create<arith::BitcastOp>(
      b.getF32Type(),
      b.create<vector::ReductionOp>(vector::CombiningKind::MAXUI, acc));
}

//===----------------------------------------------------------------------===//
// tern.quantize
//===----------------------------------------------------------------------===//

/// The bitnet rounding of row m: q = clamp(roundeven(x * scale), -128, 127)
/// in vectors of `vf`, masked at the K tail; `normalised` maps each vector
/// read first (bitllama2.c's prescaling, else identity), and `bitllama`
/// rounds half away from zero without a clamp instead.
void storeQuantizedRow(
    ImplicitLocOpBuilder &rb, Value x, Value m, int64_t k, VectorType vf,
    Value scaleVec, Value q, bool bitllama,
    function_ref<Value(ImplicitLocOpBuilder &, Value)> normalised) {
  auto vi8 = VectorType::get(vf.getShape(), rb.getI8Type());
  Value zero = f32Const(rb, 0.0f);
  Value lo = splat(rb, vf, -128.0), hi = splat(rb, vf, 127.0);
  const std::optional<ArrayRef<bool>> inBounds =
      inBoundsIf(k % vf.getDimSize(0) == 0);
  rb.create<scf::ForOp>(
      indexConst(rb, 0), indexConst(rb, k), indexConst(rb, vf.getDimSize(0)),
      ValueRange{}, [&](OpBuilder &lb, Location l, Value kk, ValueRange) {
        ImplicitLocOpBuilder ib(l, lb);
        Value v = normalised(ib, ib.create<vector::TransferReadOp>(
                                     vf, x, ValueRange{m, kk}, zero, inBounds));
        Value p = ib.create<arith::MulFOp>(v, scaleVec);
        // Round half to even as (p + 1.5*2^23) - 1.5*2^23: exact for
        // |p| < 2^22 (here |p| <= 127) in the default rounding mode, and
        // selectable on every ISA (32-bit ARM has no vector roundeven).
        Value r;
        if (bitllama) {
          r = ib.create<math::RoundOp>(p);
        } else {
          Value magic = splat(ib, vf, 12582912.0);
          r = ib.create<arith::SubFOp>(ib.create<arith::AddFOp>(p, magic),
                                       magic);
        }
        // maxnumf and minnumf: a NaN (a NaN or infinite row) clamps to
        // -128 instead of reaching the conversion (poison). With a bound
        // that is never NaN each is one x86 instruction (vmaxps returns
        // its second operand when either is NaN), where maximumf and
        // minimumf took six.
        Value c =
            ib.create<arith::MinNumFOp>(ib.create<arith::MaxNumFOp>(r, lo), hi);
        Value i = ib.create<arith::FPToSIOp>(vi8, c);
        ib.create<vector::TransferWriteOp>(i, q, ValueRange{m, kk}, inBounds);
        ib.create<scf::YieldOp>();
      });
}

/// 127 / max(absmax, 1e-5), the bitnet scale.
Value bitnetScale(ImplicitLocOpBuilder &b, Value absmax) {
  return b.create<arith::DivFOp>(
      f32Const(b, 127.0f),
      b.create<arith::MaximumFOp>(absmax, f32Const(b, 1e-5f)));
}

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
    auto vi32 = vf.clone(b.getI32Type());
    const std::optional<ArrayRef<bool>> inBounds = inBoundsIf(k % lanes == 0);

    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
    Value cK = indexConst(b, k), cStep = indexConst(b, lanes);
    Value zero = b.create<arith::ConstantOp>(b.getF32FloatAttr(0.0f));

    auto rows = b.create<scf::ForOp>(
        c0, dimOf(b, x, 0), c1, ValueRange{},
        [&](OpBuilder &nb, Location loc, Value m, ValueRange) {
          ImplicitLocOpBuilder rb(loc, nb);
          const bool bitllama = op.getScheme() == QuantScheme::BitLlama2c;
          // bitllama2.c first divides the row by rms(x) * K; its sum of
          // squares runs in order, so it is a scalar loop.
          Value rowScale, rowScaleVec;
          if (bitllama) {
            Value ss = sumOfSquares(rb, x, m, k, /*lanes=*/1);
            Value kF = rb.create<arith::ConstantOp>(rb.getF32FloatAttr(k));
            Value one = rb.create<arith::ConstantOp>(rb.getF32FloatAttr(1.0f));
            Value rms =
                rb.create<math::SqrtOp>(rb.create<arith::DivFOp>(ss, kF));
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
              c0, cK, cStep, ValueRange{splat(rb, vi32, 0)},
              [&](OpBuilder &lb, Location l, Value kk, ValueRange acc) {
                ImplicitLocOpBuilder ib(l, lb);
                Value v = normalised(
                    ib, ib.create<vector::TransferReadOp>(
                            vf, x, ValueRange{m, kk}, zero, inBounds));
                ib.create<scf::YieldOp>(ValueRange{absBitsMax(ib, acc[0], v)});
              });
          Value absmax = absmaxOf(rb, absLoop.getResult(0));
          Value c127 = rb.create<arith::ConstantOp>(rb.getF32FloatAttr(127.0f));
          Value scale, mulBy;
          if (bitllama) {
            // a = absmax / 127 is the stored scale; q = round(x * (1 / a)).
            scale = rb.create<arith::DivFOp>(absmax, c127);
            Value one = rb.create<arith::ConstantOp>(rb.getF32FloatAttr(1.0f));
            mulBy = rb.create<arith::DivFOp>(one, scale);
          } else {
            scale = bitnetScale(rb, absmax);
            mulBy = scale;
          }
          rb.create<memref::StoreOp>(scale, s, ValueRange{m});

          // Pass 2: q = clamp(roundeven(x * scale), -128, 127), or for
          // bitllama2.c round half away from zero (|x/a| <= 127 already).
          storeQuantizedRow(rb, x, m, k, vf,
                            rb.create<vector::BroadcastOp>(vf, mulBy), q,
                            bitllama, normalised);
          rb.create<scf::YieldOp>();
        });
    // Rows are independent (prefill): the thread pool takes them.
    if (rowsWorthThreads(x))
      rows->setAttr(kParallelAttrName, b.getUnitAttr());
    rewriter.eraseOp(op);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// tern.rms_norm_quantize
//===----------------------------------------------------------------------===//

/// Per row: the sum of squares (as tern.rms_norm, sumOfSquares()), then one
/// vector pass that writes the normalised row and tracks its absmax, then
/// the rounding pass of tern.quantize over the row just written (in L1).
struct RMSNormQuantizeLowering : public OpConversionPattern<RMSNormQuantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RMSNormQuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getInput(), w = adaptor.getWeight(),
          y = adaptor.getOutput(), q = adaptor.getQuantized(),
          s = adaptor.getScale();
    const int64_t d = op.getInput().getType().getDimSize(1);
    const int64_t lanes = floatLanes(op);
    auto vf = VectorType::get({lanes}, b.getF32Type());
    const std::optional<ArrayRef<bool>> inBounds = inBoundsIf(d % lanes == 0);
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
    Value cD = indexConst(b, d), cStep = indexConst(b, lanes);
    Value zero = f32Const(b, 0.0f);
    Value eps = b.create<arith::ConstantOp>(op.getEpsAttr());
    auto rows = b.create<scf::ForOp>(
        c0, dimOf(b, x, 0), c1, ValueRange{},
        [&](OpBuilder &nb, Location loc, Value m, ValueRange) {
          ImplicitLocOpBuilder rb(loc, nb);
          Value ss = sumOfSquares(rb, x, m, d, op.getLanes());
          // r = 1 / sqrt(ss / D + eps), as tern.rms_norm.
          Value mean = rb.create<arith::DivFOp>(ss, f32Const(rb, float(d)));
          Value r = rb.create<arith::DivFOp>(
              f32Const(rb, 1.0f),
              rb.create<math::SqrtOp>(rb.create<arith::AddFOp>(mean, eps)));
          Value rVec = rb.create<vector::BroadcastOp>(vf, r);
          // y = w * (r * x), and its absmax; lanes past D read 0 (which
          // never raises the maximum) and are not written.
          auto pass = rb.create<scf::ForOp>(
              c0, cD, cStep,
              ValueRange{splat(rb, vf.clone(rb.getI32Type()), 0)},
              [&](OpBuilder &lb, Location l, Value j, ValueRange acc) {
                ImplicitLocOpBuilder ib(l, lb);
                Value v = ib.create<vector::TransferReadOp>(
                    vf, x, ValueRange{m, j}, zero, inBounds);
                Value o = ib.create<arith::MulFOp>(rVec, v);
                if (w)
                  o = ib.create<arith::MulFOp>(
                      ib.create<vector::TransferReadOp>(vf, w, ValueRange{j},
                                                        zero, inBounds),
                      o);
                ib.create<vector::TransferWriteOp>(o, y, ValueRange{m, j},
                                                   inBounds);
                ib.create<scf::YieldOp>(ValueRange{absBitsMax(ib, acc[0], o)});
              });
          Value scale = bitnetScale(rb, absmaxOf(rb, pass.getResult(0)));
          rb.create<memref::StoreOp>(scale, s, ValueRange{m});
          storeQuantizedRow(rb, y, m, d, vf,
                            rb.create<vector::BroadcastOp>(vf, scale), q,
                            /*bitllama=*/false,
                            [](ImplicitLocOpBuilder &, Value v) { return v; });
          rb.create<scf::YieldOp>();
        });
    // Rows are independent (prefill): the thread pool takes them.
    if (rowsWorthThreads(x))
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
      // The glu epilogue runs unit u of gate and of up together: the two
      // weights must be laid out alike.
      if (op.getGluOutput()) {
        auto typeOf = [&](unsigned i) -> Type {
          auto w = SymbolTable::lookupNearestSymbolFrom<WeightOp>(
              op, op.getWeight(i));
          return w ? Type(w.getTernaryType()) : Type();
        };
        if (typeOf(0) != typeOf(1)) {
          op.emitOpError() << "has a glu, but its gate and up weights differ: "
                           << typeOf(0) << " and " << typeOf(1);
          ok = false;
        }
      }
      for (Attribute symbol : op.getWeights()) {
        auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(
            op, cast<FlatSymbolRefAttr>(symbol));
        if (!weight)
          continue;
        if (weight.getTernaryType().getLayout() == WeightLayout::Canonical) {
          op.emitOpError() << "weight " << symbol
                           << " still has the canonical layout: run "
                              "tern-select-layout before lowering";
          ok = false;
        } else if (TernaryType t = weight.getTernaryType();
                   t.isLookup() &&
                   !tern::detail::selectLookup(TargetAttr::lookup(op),
                                               t.getLayout(), t.getChunk())) {
          op.emitOpError() << "weight " << symbol << " has layout "
                           << stringifyWeightLayout(t.getLayout()) << "<"
                           << t.getChunk()
                           << ">, but the target has no table lookup of that "
                              "width";
          ok = false;
        } else if (!weight.getOffset()) {
          op.emitOpError() << "weight " << symbol
                           << " has no blob offset: run tern-pack-weights "
                              "before lowering";
          ok = false;
        }
      }
    });
    if (!ok)
      return signalPassFailure();

    ConversionTarget target(getContext());
    // func: the AMX lowering adds shared tile functions and calls.
    target.addLegalDialect<amx::AMXDialect, arith::ArithDialect,
                           arm_neon::ArmNeonDialect, func::FuncDialect,
                           LLVM::LLVMDialect, math::MathDialect,
                           memref::MemRefDialect, scf::SCFDialect,
                           vector::VectorDialect, TernDialect>();
    target.addIllegalOp<QuantizeOp, RMSNormQuantizeOp, LinearOp, EmbeddingOp,
                        RMSNormOp, RopeOp, RopeTableOp, AttentionOp,
                        StoreKeysOp, GluOp, AddOp, MatmulOp>();
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
  patterns.add<QuantizeLowering, RMSNormQuantizeLowering>(
      patterns.getContext());
  detail::populateLinearLoweringPatterns(patterns, mcaMarkers);
}
