//===- LoweringUtils.h - small builders shared by the tern lowerings ------===//

#ifndef TERNC_LIB_CONVERSION_TERNTOVECTOR_LOWERINGUTILS_H
#define TERNC_LIB_CONVERSION_TERNTOVECTOR_LOWERINGUTILS_H

#include "ternc/Dialect/Tern/IR/TernAttrs.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::tern::detail {

inline Value indexConst(ImplicitLocOpBuilder &b, int64_t v) {
  return b.create<arith::ConstantIndexOp>(v);
}

/// scf.if without results: `then` and `otherwise` build the two branches
/// (their yields are added here).
inline void ifElse(ImplicitLocOpBuilder &b, Value cond,
                   function_ref<void(ImplicitLocOpBuilder &)> then,
                   function_ref<void(ImplicitLocOpBuilder &)> otherwise) {
  auto branch = [](function_ref<void(ImplicitLocOpBuilder &)> body) {
    return [body](OpBuilder &ob, Location loc) {
      ImplicitLocOpBuilder ib(loc, ob);
      body(ib);
      ib.create<scf::YieldOp>();
    };
  };
  b.create<scf::IfOp>(cond, branch(then), branch(otherwise));
}

/// The module's function `name` of `type`, one the runtime defines:
/// declared (private, at the module's end) on first use.
func::FuncOp runtimeFunction(OpBuilder &b, Operation *anchor, StringRef name,
                             FunctionType type);

inline Value f32Const(ImplicitLocOpBuilder &b, float v) {
  return b.create<arith::ConstantOp>(b.getF32FloatAttr(v));
}

/// Dimension `i` of a memref as an index value (constant when static).
inline Value dimOf(ImplicitLocOpBuilder &b, Value memref, unsigned i) {
  auto type = cast<MemRefType>(memref.getType());
  if (!type.isDynamicDim(i))
    return indexConst(b, type.getDimSize(i));
  return b.create<memref::DimOp>(memref, i);
}

/// A splat constant of `value` with the shape of `type`.
inline Value splat(ImplicitLocOpBuilder &b, VectorType type, double value) {
  Type elem = type.getElementType();
  TypedAttr scalar = isa<FloatType>(elem)
                         ? TypedAttr(b.getFloatAttr(elem, value))
                         : TypedAttr(b.getIntegerAttr(elem, int64_t(value)));
  return b.create<arith::ConstantOp>(type,
                                     SplatElementsAttr::get(type, scalar));
}

/// The in_bounds of a 1-D vector.transfer_read: all lanes in bounds when
/// `whole` (the read needs no mask), else none given (masked at the end).
inline std::optional<ArrayRef<bool>> inBoundsIf(bool whole) {
  static const bool kTrue[] = {true};
  if (!whole)
    return std::nullopt;
  return ArrayRef<bool>(kTrue);
}

/// Number of f32 lanes for the module's target (128-bit vectors without one).
inline int64_t floatLanes(Operation *op) {
  TargetAttr target = TargetAttr::lookup(op);
  int64_t bits = target ? target.getVectorBits() : 128;
  return std::max<int64_t>(4, bits / 32);
}

/// Whether the last dimension of a memref is contiguous (vector.store needs
/// it; a transposed operand, such as the key cache, has not).
inline bool unitInnerStride(Value memref) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(getStridesAndOffset(cast<MemRefType>(memref.getType()),
                                       strides, offset)) &&
         strides.back() == 1;
}

/// The sum of squares of row m of `x` (D = `d` columns) as tern.rms_norm
/// defines it for `lanes`: in order (1, a scalar loop), or in `lanes`
/// interleaved partial sums (a vector loop; reads past D are masked to 0,
/// adding exact zeros) then added in order.
Value sumOfSquares(ImplicitLocOpBuilder &b, Value x, Value m, int64_t d,
                   int64_t lanes);

/// Whether a loop over the rows (tokens) of `memref` is worth the thread
/// pool: unless it has a static single row (decode), where the hand-off
/// would cost more than the row.
inline bool rowsWorthThreads(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  return type.isDynamicDim(0) || type.getDimSize(0) > 1;
}

/// exp(x) with the bits of the C library's expf but without its underflow
/// call: below -0x1.9fe368p6 (log 2^-150) expf returns +0 through a slow
/// path that raises the underflow flag, and softmax meets such arguments
/// often (2.5% of a 2B4T prefill). The argument is clamped there and the
/// result selected to +0.
inline Value expNoUnderflowCall(ImplicitLocOpBuilder &b, Value x) {
  Value limit = f32Const(b, -0x1.9fe368p6f);
  Value e = b.create<math::ExpOp>(b.create<arith::MaximumFOp>(x, limit));
  Value under = b.create<arith::CmpFOp>(arith::CmpFPredicate::OLT, x, limit);
  return b.create<arith::SelectOp>(under, f32Const(b, 0.0f), e);
}

/// f16 to f32 with integer operations, for targets without a conversion
/// instruction (x86 without F16C: LLVM calls __extendhfsf2 per element).
/// Exact, the conversion's bits for every input: |h| << 13 rebiases the
/// exponent by 112; an infinity or NaN (exponent 31) by 112 more; a zero or
/// subnormal h = m * 2^-24 is renormalised as (1 + m / 1024) * 2^-14 - 2^-14
/// (exact: the two are within a factor of two). The sign goes back last.
inline Value extendHalfExact(ImplicitLocOpBuilder &b, Value half) {
  auto type = cast<VectorType>(half.getType());
  auto i16 = type.clone(b.getI16Type()), i32 = type.clone(b.getI32Type());
  auto f32 = type.clone(b.getF32Type());
  auto c = [&](int64_t v) { return splat(b, i32, double(v)); };
  Value h =
      b.create<arith::ExtUIOp>(i32, b.create<arith::BitcastOp>(i16, half));
  Value o =
      b.create<arith::ShLIOp>(b.create<arith::AndIOp>(h, c(0x7fff)), c(13));
  Value exp = b.create<arith::AndIOp>(o, c(0x7c00 << 13));
  o = b.create<arith::AddIOp>(o, c((127 - 15) << 23));
  Value special = b.create<arith::AddIOp>(o, c((128 - 16) << 23));
  Value tiny = b.create<arith::BitcastOp>(
      i32,
      b.create<arith::SubFOp>(b.create<arith::BitcastOp>(
                                  f32, b.create<arith::AddIOp>(o, c(1 << 23))),
                              splat(b, f32, 0x1p-14)));
  o = b.create<arith::SelectOp>(
      b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, exp, c(0x7c00 << 13)),
      special,
      b.create<arith::SelectOp>(
          b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, exp, c(0)), tiny,
          o));
  Value sign =
      b.create<arith::ShLIOp>(b.create<arith::AndIOp>(h, c(0x8000)), c(16));
  return b.create<arith::BitcastOp>(f32, b.create<arith::OrIOp>(o, sign));
}

/// One element of tern.glu: act(g) * u, for the op and for tern.linear's
/// glu epilogue alike (the same operations, so the same bits).
inline Value gluElement(ImplicitLocOpBuilder &b, GluActivation act, Value g,
                        Value u) {
  Value one = f32Const(b, 1.0f), zero = f32Const(b, 0.0f);
  if (act == GluActivation::SiLU) {
    // (g * (1 / (1 + exp(-g)))) * u
    Value sig = b.create<arith::DivFOp>(
        one, b.create<arith::AddFOp>(
                 one, expNoUnderflowCall(b, b.create<arith::NegFOp>(g))));
    return b.create<arith::MulFOp>(b.create<arith::MulFOp>(g, sig), u);
  }
  // (max(g, 0) * max(g, 0)) * u
  Value p = b.create<arith::MaximumFOp>(g, zero);
  return b.create<arith::MulFOp>(b.create<arith::MulFOp>(p, p), u);
}

/// tern.linear to vector kernels (LinearLowering.cpp).
void populateLinearLoweringPatterns(RewritePatternSet &patterns,
                                    bool mcaMarkers);

/// tern.matmul with an i8 input (Int8MatmulLowering.cpp).
void populateInt8MatmulPatterns(RewritePatternSet &patterns);

} // namespace mlir::tern::detail

#endif // TERNC_LIB_CONVERSION_TERNTOVECTOR_LOWERINGUTILS_H
