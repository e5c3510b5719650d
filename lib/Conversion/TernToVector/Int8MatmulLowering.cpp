//===- Int8MatmulLowering.cpp - tern.matmul with an i8 input --------------===//
//
// The LM head's screening copy: int8 weights times the quantized head
// input, an exact i32 sum per output, with the target's int8 dot product
// (x86 VNNI `vpdpbusd`, x86 AVX2 and AVX-512BW `vpmaddubsw`, AArch64
// `sdot`, else widening vector code). With
// f32 inputs the copy's conversions (int8 -> i32 -> f32, then a multiply
// and an add per weight) bound it at 12-14 GB/s a thread on the Intel
// host; one `vpdpbusd` takes 64 weights.
//
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/KernelChoice.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"

#include "LoweringUtils.h"
#include "Prefetch.h"

#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

namespace {

/// One step of the sum: `part` bytes of input and of weight into an i32
/// accumulator of `accLanes`.
struct Int8Dot {
  enum Kind {
    /// Widen both to i32, multiply, add (any target).
    Generic,
    /// x86 VNNI: the weights as u8 (q + 128, a flipped sign bit) times the
    /// input as s8; the sum is then less 128 times the input's sum.
    Vpdpbusd,
    /// x86 without VNNI: |input| as u8 times the weights with the input's
    /// sign as s8, pairs of products added in i16 (`vpmaddubsw`), then
    /// pairs of those in i32 (`vpmaddwd` by ones). Exact: the copy's
    /// weights are in [-127, 127] (WeightBlob.cpp), so a pair is at most
    /// 2 * 128 * 127 < 2^15 and never saturates.
    Pmaddubsw,
    /// AArch64 dotprod: s8 times s8 into 4 lanes.
    Sdot,
  } kind = Generic;
  /// The step's intrinsic; for Pmaddubsw also the widening one and, where
  /// the ISA has it (AVX2 `vpsignb`), the one that gives q a's sign.
  StringRef intrinsic, widen, sign;
  int64_t part = 16, accLanes = 16;
};

Int8Dot selectInt8Dot(Operation *op, TargetAttr target) {
  auto module = op->getParentOfType<ModuleOp>();
  auto family = module
                    ? module->getAttrOfType<StringAttr>(kKernelFamilyAttrName)
                    : StringAttr();
  if (family && family.getValue() == "portable")
    return {};
  const int64_t bytes = int8DotBytes(target);
  if (StringRef(target ? target.getTriple() : "").starts_with("aarch64"))
    return bytes ? Int8Dot{Int8Dot::Sdot, "", "", "", 16, 4} : Int8Dot{};
  switch (bytes) {
  case 64:
    if (target.has("avx512vnni"))
      return {
          Int8Dot::Vpdpbusd, "llvm.x86.avx512.vpdpbusd.512", "", "", 64, 16};
    return {Int8Dot::Pmaddubsw,
            "llvm.x86.avx512.pmaddubs.w.512",
            "llvm.x86.avx512.pmaddw.d.512",
            "",
            64,
            16};
  case 32:
    if (target.has("avxvnni")) // VEX-encoded vpdpbusd
      return {Int8Dot::Vpdpbusd, "llvm.x86.avx512.vpdpbusd.256", "", "", 32, 8};
    return {Int8Dot::Pmaddubsw,
            "llvm.x86.avx2.pmadd.ub.sw",
            "llvm.x86.avx2.pmadd.wd",
            "llvm.x86.avx2.psign.b",
            32,
            8};
  default:
    return {};
  }
}

struct Int8MatmulLowering : public OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!op.getInput().getType().getElementType().isInteger(8))
      return rewriter.notifyMatchFailure(op, "f32 input");
    if (op.getInput().getType().isDynamicDim(0))
      return rewriter.notifyMatchFailure(op, "dynamic input rows");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value x = adaptor.getInput(), w = adaptor.getWeight(),
          y = adaptor.getOutput(), rows = adaptor.getRows(),
          inScales = adaptor.getInputScales(),
          wScales = adaptor.getWeightScales();
    TargetAttr target = TargetAttr::lookup(op);
    const Int8Dot dot = selectInt8Dot(op, target);
    const int64_t cols = op.getInput().getType().getDimSize(1);
    auto i8 = b.getI8Type(), i32 = b.getI32Type();
    auto vB = VectorType::get({dot.part}, i8);
    auto vAcc = VectorType::get({dot.accLanes}, i32);
    // Reads past K are masked to 0 on both sides: they add nothing (the
    // flipped padding weight, 128, times an input of 0).
    const std::optional<ArrayRef<bool>> inBounds =
        inBoundsIf(cols % dot.part == 0);
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
    Value zero8 = b.create<arith::ConstantOp>(b.getI8IntegerAttr(0));
    Value accZero = splat(b, vAcc, 0);
    Value kDim = indexConst(b, cols), step = indexConst(b, dot.part);
    // The head streams its copy once a token: the f16 head's prefetch,
    // at the same distance in bytes.
    std::optional<HeadPrefetch> ahead = headPrefetch(target);
    Value cAhead = ahead ? indexConst(b, ahead->stage.bytes) : Value();
    // Every input row (a static few: the screen's input and its residual)
    // against each weight row as it streams by, once.
    const int64_t inputRows = op.getInput().getType().getDimSize(0);
    // vpdpbusd: the sums of the input rows, once.
    SmallVector<Value> inputSums;
    if (dot.kind == Int8Dot::Vpdpbusd)
      for (int64_t m = 0; m < inputRows; ++m) {
        Value cm = indexConst(b, m);
        auto sumLoop = b.create<scf::ForOp>(
            c0, kDim, c1,
            ValueRange{b.create<arith::ConstantOp>(b.getI32IntegerAttr(0))},
            [&](OpBuilder &lb, Location l, Value k, ValueRange s) {
              ImplicitLocOpBuilder kb(l, lb);
              Value a = kb.create<arith::ExtSIOp>(
                  i32, kb.create<memref::LoadOp>(x, ValueRange{cm, k}));
              kb.create<scf::YieldOp>(
                  ValueRange{kb.create<arith::AddIOp>(s[0], a)});
            });
        inputSums.push_back(sumLoop.getResult(0));
      }
    // vpmaddwd's second operand: pairs of i16 summed into i32.
    auto vPairs = VectorType::get({dot.part / 2}, b.getI16Type());
    Value ones = dot.kind == Int8Dot::Pmaddubsw ? splat(b, vPairs, 1) : Value();
    auto colsLoop = b.create<scf::ForOp>(c0, dimOf(b, y, 1), c1);
    // Outputs are independent: the pool may split them.
    colsLoop->setAttr(kParallelAttrName, b.getUnitAttr());
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(colsLoop.getBody());
      Value col = colsLoop.getInductionVar();
      Value n = col;
      if (rows)
        n = b.create<arith::IndexCastOp>(b.getIndexType(),
                                         b.create<memref::LoadOp>(rows, col));
      SmallVector<Value> inits(inputRows, accZero);
      auto kLoop = b.create<scf::ForOp>(
          c0, kDim, step, inits,
          [&](OpBuilder &lb, Location l, Value k, ValueRange s) {
            ImplicitLocOpBuilder kb(l, lb);
            if (ahead)
              kb.create<memref::PrefetchOp>(
                  w, ValueRange{n, kb.create<arith::AddIOp>(k, cAhead)},
                  /*isWrite=*/false, ahead->stage.locality,
                  /*isDataCache=*/true);
            Value q = kb.create<vector::TransferReadOp>(vB, w, ValueRange{n, k},
                                                        zero8, inBounds);
            Value flipped, qWide;
            if (dot.kind == Int8Dot::Vpdpbusd)
              flipped = kb.create<vector::BitCastOp>(
                  vAcc, kb.create<arith::XOrIOp>(q, splat(kb, vB, -128)));
            if (dot.kind == Int8Dot::Generic)
              qWide = kb.create<arith::ExtSIOp>(vAcc, q);
            SmallVector<Value> accs;
            for (int64_t m = 0; m < inputRows; ++m) {
              Value a = kb.create<vector::TransferReadOp>(
                  vB, x, ValueRange{indexConst(kb, m), k}, zero8, inBounds);
              Value acc = s[m];
              switch (dot.kind) {
              case Int8Dot::Vpdpbusd:
                acc = kb.create<LLVM::CallIntrinsicOp>(
                            TypeRange{vAcc}, kb.getStringAttr(dot.intrinsic),
                            ValueRange{acc, flipped,
                                       kb.create<vector::BitCastOp>(vAcc, a)})
                          .getResult(0);
                break;
              case Int8Dot::Pmaddubsw: {
                // q * a = |a| * (q with a's sign); a = 0 adds 0 either way.
                // AVX2 has that sign in one instruction (`vpsignb`), where
                // the compare, xor and subtract of the select took three;
                // AVX-512 has none (a compare into a mask, a masked
                // subtract).
                Value signedQ;
                if (!dot.sign.empty()) {
                  signedQ = kb.create<LLVM::CallIntrinsicOp>(
                                  TypeRange{vB}, kb.getStringAttr(dot.sign),
                                  ValueRange{q, a})
                                .getResult(0);
                } else {
                  Value negative = kb.create<arith::CmpIOp>(
                      arith::CmpIPredicate::slt, a, splat(kb, vB, 0));
                  signedQ = kb.create<arith::SelectOp>(
                      negative, kb.create<arith::SubIOp>(splat(kb, vB, 0), q),
                      q);
                }
                Value pairs =
                    kb.create<LLVM::CallIntrinsicOp>(
                          TypeRange{vPairs}, kb.getStringAttr(dot.intrinsic),
                          ValueRange{kb.create<math::AbsIOp>(a), signedQ})
                        .getResult(0);
                Value quads =
                    kb.create<LLVM::CallIntrinsicOp>(
                          TypeRange{vAcc}, kb.getStringAttr(dot.widen),
                          ValueRange{pairs, ones})
                        .getResult(0);
                acc = kb.create<arith::AddIOp>(acc, quads);
                break;
              }
              case Int8Dot::Sdot:
                acc = kb.create<arm_neon::SdotOp>(vAcc, acc, q, a);
                break;
              case Int8Dot::Generic:
                acc = kb.create<arith::AddIOp>(
                    acc, kb.create<arith::MulIOp>(
                             qWide, kb.create<arith::ExtSIOp>(vAcc, a)));
                break;
              }
              accs.push_back(acc);
            }
            kb.create<scf::YieldOp>(accs);
          });
      Value wScale = b.create<memref::LoadOp>(wScales, n);
      for (int64_t m = 0; m < inputRows; ++m) {
        // Integer sums: exact in any order.
        Value total = b.create<vector::ReductionOp>(vector::CombiningKind::ADD,
                                                    kLoop.getResult(m));
        if (!inputSums.empty())
          total = b.create<arith::SubIOp>(
              total, b.create<arith::MulIOp>(inputSums[m],
                                             b.create<arith::ConstantOp>(
                                                 b.getI32IntegerAttr(128))));
        Value cm = indexConst(b, m);
        Value out = b.create<arith::MulFOp>(
            b.create<arith::DivFOp>(
                b.create<arith::SIToFPOp>(b.getF32Type(), total),
                b.create<memref::LoadOp>(inScales, cm)),
            wScale);
        b.create<memref::StoreOp>(out, y, ValueRange{cm, col});
      }
    }
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void mlir::tern::detail::populateInt8MatmulPatterns(
    RewritePatternSet &patterns) {
  patterns.add<Int8MatmulLowering>(patterns.getContext());
}
