//===- AmxLookupKernel.cpp - prefill lut5 weights on x86 AMX-INT8 ---------===//
//
// A lut5<64> weight decodes one token with vpermi2b tables
// (LookupKernel.cpp): 1.6 bits a weight read, a fifth less than the dot
// layout. A prefill token would look the tables up again, ten times slower
// than the dot layout's AMX tiles; with AMX the prefill instead unpacks each
// unit of 32 rows once into s8 weights and multiplies them by every token
// on the tile unit (`tdpbssd`, the activations as A, the weights as B).
//
// The layout already suits the B operand: groups j = 0..3 of column block c
// hold columns 20c + 4i + j, so digit i of a row's four groups is the dword
// of k = 4 (5c + i) + [0, 4) that a B tile row holds for that row. The
// unpack interleaves the four index vectors of 32 rows (four bytes a row)
// and decodes each balanced-ternary digit with one vpermi2b of a 128-byte
// table of digits, negated where the byte's sign bit is set: 10 lookups and
// 4 shuffles per 640 weights, no transpose. The C tiles come out tokens x
// rows, the order vectorFinish() takes.
//
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"

#include "LinearKernels.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

namespace {

/// Rows of a unit: two tiles of 16, half a lut5 row block.
constexpr int64_t kUnitRows = 2 * kAmxTileRows;
/// k quads (dwords of a row) of one K step, and the bytes a k quad of the
/// unit's rows takes in the unpacked buffer.
constexpr int64_t kStepQuads = kAmxTileBytes / 4;
constexpr int64_t kQuadBytes = kUnitRows * 4;

/// K steps of the tiles: the k quads padded to whole steps, the steps to a
/// multiple of 4 (the tile loop's unroll takes a divisor of them).
int64_t amxSteps(const TernaryType &wt) {
  return llvm::alignTo(llvm::divideCeil(wt.getPaddedCols() / 4, kStepQuads), 4);
}

/// Digit i (t_i in -1..1) of the balanced-ternary m = sum_i t_i 3^i, for the
/// table entries m = [64 half, 64 half + 64) (past 121, unused: 0).
Value digitTable(ImplicitLocOpBuilder &b, int digit, int half) {
  SmallVector<int8_t> bytes;
  for (int m = 64 * half; m < 64 * half + 64; ++m) {
    int v = m, t = 0;
    for (int i = 0; i <= digit; ++i) {
      t = (v + 1) % 3 - 1;
      v = (v - t) / 3;
    }
    bytes.push_back(m <= 121 ? int8_t(t) : 0);
  }
  auto type = VectorType::get({kAmxTileBytes}, b.getI8Type());
  return b.create<arith::ConstantOp>(
      type, DenseElementsAttr::get(type, ArrayRef<int8_t>(bytes)));
}

/// The tokens `m` padded to whole tiles of 16 (arith.ceildivui has no LLVM
/// lowering of its own).
Value tokenTilesOf(ImplicitLocOpBuilder &b, Value m) {
  Value cT = indexConst(b, kAmxTileRows);
  return b.create<arith::MulIOp>(
      b.create<arith::DivUIOp>(
          b.create<arith::AddIOp>(m, indexConst(b, kAmxTileRows - 1)), cT),
      cT);
}

} // namespace

void LinearEmitter::packAmxTokenRows(ImplicitLocOpBuilder &b,
                                     const WeightPlan &p) {
  const int64_t KA = amxSteps(p.wt) * kAmxTileBytes;
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value m16 = tokenTilesOf(b, cM);
  amxTokenRows = b.create<memref::AllocOp>(
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type()),
      ValueRange{b.create<arith::MulIOp>(m16, indexConst(b, KA))},
      b.getI64IntegerAttr(kAmxTileBytes));
  auto vBytes = VectorType::get({kAmxTileBytes}, b.getI8Type());
  Value zero = b.create<arith::ConstantOp>(b.getI8IntegerAttr(0));
  Value last = b.create<arith::SubIOp>(cM, c1);
  // Row m of the tiles holds token min(m, M - 1): the padding tokens'
  // sums are never stored. Past K the activations read as 0. One
  // iteration per token, shared by the threads.
  auto rows = b.create<scf::ForOp>(
      c0, m16, c1, ValueRange{},
      [&](OpBuilder &mb, Location ml, Value m, ValueRange) {
        ImplicitLocOpBuilder tb(ml, mb);
        Value src = tb.create<arith::MinUIOp>(m, last);
        Value row = tb.create<arith::MulIOp>(m, indexConst(tb, KA));
        tb.create<scf::ForOp>(
            c0, indexConst(tb, KA), indexConst(tb, kAmxTileBytes), ValueRange{},
            [&](OpBuilder &kb0, Location kl, Value k, ValueRange) {
              ImplicitLocOpBuilder kb(kl, kb0);
              Value v = kb.create<vector::TransferReadOp>(
                  vBytes, q, ValueRange{src, k}, zero);
              kb.create<vector::StoreOp>(
                  v, amxTokenRows,
                  ValueRange{kb.create<arith::AddIOp>(row, k)});
              kb.create<scf::YieldOp>();
            });
        tb.create<scf::YieldOp>();
      });
  rows->setAttr(kParallelAttrName, b.getUnitAttr());
}

void LinearEmitter::amxLookupUnit(ImplicitLocOpBuilder &b, const WeightPlan &p,
                                  Value u) const {
  const TernaryType &wt = p.wt;
  const int64_t R = p.lookup->rows, N = wt.getRows();
  const int64_t steps = wt.getLookupSteps(), G = wt.getLookupBlockGroup();
  const int64_t blocks = wt.getPaddedRows() / R,
                slice = TernaryType::kLookupSlice;
  const int64_t S = amxSteps(wt), KA = S * kAmxTileBytes;
  const int64_t quads = wt.getPaddedCols() / 4;
  assert(R == 2 * kUnitRows && steps % 4 == 0 && slice % 4 == 0 &&
         p.lookup->instr == LookupKernel::Vpermi2b &&
         "lut5<64>: two units a row block, four groups a column block");
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  auto vHalf = VectorType::get({kUnitRows}, i8);
  auto vBytes = VectorType::get({kAmxTileBytes}, i8);
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value n0 = b.create<arith::MulIOp>(u, indexConst(b, kUnitRows));

  // Stack buffers (the outlined body's entry, OutlineParallel): the unit's
  // weights, k quad q's 32 rows x 4 bytes at q * 128, and the C tiles.
  Value weights = b.create<memref::AllocaOp>(
      MemRefType::get({S * kStepQuads * kQuadBytes}, i8),
      b.getI64IntegerAttr(kAmxTileBytes));
  Value cbuf = b.create<memref::AllocaOp>(
      MemRefType::get({2 * 2 * kAmxTileRows * kAmxTileRows}, i32),
      b.getI64IntegerAttr(kAmxTileBytes));

  // The row block's index bytes: block `block` of its group of G blocks,
  // stored slice by slice (lookupUnit's layout); this unit reads bytes
  // [32 half, 32 half + 32) of each index vector.
  Value cR = indexConst(b, R);
  Value block = b.create<arith::DivUIOp>(u, indexConst(b, 2));
  Value half = b.create<arith::RemUIOp>(u, indexConst(b, 2));
  Value cG = indexConst(b, G);
  Value firstBlock =
      b.create<arith::MulIOp>(b.create<arith::DivUIOp>(block, cG), cG);
  Value g = b.create<arith::SubIOp>(block, firstBlock);
  Value inGroup = b.create<arith::MinUIOp>(
      cG, b.create<arith::SubIOp>(indexConst(b, blocks), firstBlock));
  Value base = b.create<arith::AddIOp>(
      b.create<arith::MulIOp>(firstBlock, indexConst(b, R * wt.getRowBytes())),
      b.create<arith::MulIOp>(half, indexConst(b, kUnitRows)));

  // Interleave masks: rows r of two vectors as byte pairs, then two pair
  // vectors as dwords (rows 0-15, 16-31).
  SmallVector<int64_t> pairs, quadMask[2];
  for (int64_t r = 0; r < kUnitRows; ++r) {
    pairs.push_back(r);
    pairs.push_back(kUnitRows + r);
  }
  for (int h = 0; h < 2; ++h)
    for (int64_t r = 16 * h; r < 16 * h + 16; ++r)
      for (int64_t x :
           {2 * r, 2 * r + 1, 2 * kUnitRows + 2 * r, 2 * kUnitRows + 2 * r + 1})
        quadMask[h].push_back(x);
  SmallVector<Value> tables;
  for (int i = 0; i < 5; ++i)
    for (int h = 0; h < 2; ++h)
      tables.push_back(digitTable(b, i, h));
  Value zeros = splat(b, vBytes, 0);
  b.create<scf::ForOp>(
      c0, indexConst(b, steps / 4), c1, ValueRange{},
      [&](OpBuilder &cb0, Location cl, Value c, ValueRange) {
        ImplicitLocOpBuilder cb(cl, cb0);
        // Steps j0 = 4c .. 4c + 3 lie in one slice [first, last).
        Value j0 = cb.create<arith::MulIOp>(c, indexConst(cb, 4));
        Value first = cb.create<arith::MulIOp>(
            cb.create<arith::DivUIOp>(j0, indexConst(cb, slice)),
            indexConst(cb, slice));
        Value last = cb.create<arith::MinUIOp>(
            cb.create<arith::AddIOp>(first, indexConst(cb, slice)),
            indexConst(cb, steps));
        Value at = cb.create<arith::AddIOp>(
            base, cb.create<arith::MulIOp>(
                      cb.create<arith::AddIOp>(
                          cb.create<arith::AddIOp>(
                              cb.create<arith::MulIOp>(first, inGroup),
                              cb.create<arith::MulIOp>(
                                  g, cb.create<arith::SubIOp>(last, first))),
                          cb.create<arith::SubIOp>(j0, first)),
                      cR));
        SmallVector<Value> idx;
        for (int64_t j = 0; j < 4; ++j)
          idx.push_back(cb.create<vector::LoadOp>(
              vHalf, p.data,
              ValueRange{cb.create<arith::AddIOp>(at, indexConst(cb, j * R))}));
        Value p01 = cb.create<vector::ShuffleOp>(idx[0], idx[1], pairs);
        Value p23 = cb.create<vector::ShuffleOp>(idx[2], idx[3], pairs);
        Value quad0 = cb.create<arith::MulIOp>(c, indexConst(cb, 5));
        for (int h = 0; h < 2; ++h) {
          Value x = cb.create<vector::ShuffleOp>(p01, p23, quadMask[h]);
          Value neg =
              cb.create<arith::CmpIOp>(arith::CmpIPredicate::slt, x, zeros);
          for (int i = 0; i < 5; ++i) {
            // Bits 0-6 index the table; bit 7, the sign, is ignored.
            Value d =
                cb.create<LLVM::CallIntrinsicOp>(
                      TypeRange{vBytes}, cb.getStringAttr(p.lookup->intrinsic),
                      ValueRange{tables[2 * i], x, tables[2 * i + 1]})
                    .getResult(0);
            Value t = cb.create<arith::SelectOp>(
                neg, cb.create<arith::SubIOp>(zeros, d), d);
            Value quad = cb.create<arith::AddIOp>(quad0, indexConst(cb, i));
            cb.create<vector::StoreOp>(
                t, weights,
                ValueRange{cb.create<arith::AddIOp>(
                    cb.create<arith::MulIOp>(quad, indexConst(cb, kQuadBytes)),
                    indexConst(cb, h * kAmxTileBytes))});
          }
        }
        cb.create<scf::YieldOp>();
      });
  // The k quads past K to the last step: zero weights.
  b.create<scf::ForOp>(
      indexConst(b, quads * kQuadBytes),
      indexConst(b, S * kStepQuads * kQuadBytes), indexConst(b, kAmxTileBytes),
      ValueRange{}, [&](OpBuilder &zb, Location zl, Value at, ValueRange) {
        zb.create<vector::StoreOp>(zl, zeros, weights, ValueRange{at});
        zb.create<scf::YieldOp>(zl);
      });

  // Row tile i of step s at 64 i + s * 16 quads; token tile t at 16 t rows
  // of KA bytes.
  const AmxForm form{/*weightsAsB=*/true,
                     {kAmxTileBytes, kStepQuads * kQuadBytes, kQuadBytes},
                     {kAmxTileRows * KA, kAmxTileBytes, KA},
                     S};
  auto v16 = VectorType::get({kAmxTileRows}, i32);
  Value cT = indexConst(b, kAmxTileRows), c2T = indexConst(b, 2 * kAmxTileRows);
  Value cN = indexConst(b, N);
  auto tiles = [&](ImplicitLocOpBuilder &tb, Value m0, int64_t tokenTiles) {
    func::FuncOp fn = amxTileFunction(tb, op, form, tokenTiles);
    tb.create<func::CallOp>(
        fn, ValueRange{
                amxPointerAt(tb, weights, c0),
                amxPointerAt(tb, amxTokenRows,
                             tb.create<arith::MulIOp>(m0, indexConst(tb, KA))),
                amxPointerAt(tb, cbuf, c0)});
    // C tile c = i * tokenTiles + t: row m of it is token m0 + 16 t + m,
    // rows n0 + 16 i + [0, 16) of the weight.
    tb.create<scf::ForOp>(
        c0, indexConst(tb, 2 * tokenTiles), c1, ValueRange{},
        [&](OpBuilder &fb, Location fl, Value ct, ValueRange) {
          ImplicitLocOpBuilder eb(fl, fb);
          Value tt = indexConst(eb, tokenTiles);
          Value n = eb.create<arith::AddIOp>(
              n0,
              eb.create<arith::MulIOp>(eb.create<arith::DivUIOp>(ct, tt), cT));
          Value mt = eb.create<arith::AddIOp>(
              m0,
              eb.create<arith::MulIOp>(eb.create<arith::RemUIOp>(ct, tt), cT));
          Value count =
              eb.create<arith::MinUIOp>(cT, eb.create<arith::SubIOp>(cM, mt));
          Value tile = eb.create<arith::MulIOp>(
              ct, indexConst(eb, kAmxTileRows * kAmxTileRows));
          eb.create<scf::ForOp>(
              c0, count, c1, ValueRange{},
              [&](OpBuilder &xb, Location xl, Value m, ValueRange) {
                ImplicitLocOpBuilder ob(xl, xb);
                Value row = ob.create<arith::AddIOp>(
                    tile, ob.create<arith::MulIOp>(m, cT));
                Value token = ob.create<arith::AddIOp>(mt, m);
                auto vector = [&](ImplicitLocOpBuilder &vb) {
                  vectorFinish(vb, p,
                               {vb.create<vector::LoadOp>(v16, cbuf, row)}, n,
                               kAmxTileRows, token, 1);
                };
                if (N % kAmxTileRows == 0) {
                  vector(ob);
                } else {
                  // The weight's last rows: one output at a time.
                  Value whole = ob.create<arith::CmpIOp>(
                      arith::CmpIPredicate::ule,
                      ob.create<arith::AddIOp>(n, cT), cN);
                  ifElse(ob, whole, vector, [&](ImplicitLocOpBuilder &sb) {
                    sb.create<scf::ForOp>(
                        n, cN, c1, ValueRange{},
                        [&](OpBuilder &rb0, Location rl, Value r, ValueRange) {
                          ImplicitLocOpBuilder rb(rl, rb0);
                          Value total = rb.create<memref::LoadOp>(
                              cbuf, ValueRange{rb.create<arith::AddIOp>(
                                        row, rb.create<arith::SubIOp>(r, n))});
                          finish(rb, p, total, token, r);
                          rb.create<scf::YieldOp>();
                        });
                  });
                }
                ob.create<scf::YieldOp>();
              });
          eb.create<scf::YieldOp>();
        });
  };
  // Pairs of token tiles, then the last tile (the tokens padded to 16).
  Value m16 = tokenTilesOf(b, cM);
  Value m32 = b.create<arith::MulIOp>(b.create<arith::DivUIOp>(m16, c2T), c2T);
  b.create<scf::ForOp>(c0, m32, c2T, ValueRange{},
                       [&](OpBuilder &mb, Location ml, Value m0, ValueRange) {
                         ImplicitLocOpBuilder tb(ml, mb);
                         tiles(tb, m0, 2);
                         tb.create<scf::YieldOp>();
                       });
  b.create<scf::IfOp>(
      b.create<arith::CmpIOp>(arith::CmpIPredicate::ne, m16, m32),
      [&](OpBuilder &ob, Location ol) {
        ImplicitLocOpBuilder tb(ol, ob);
        tiles(tb, m32, 1);
        tb.create<scf::YieldOp>();
      });
}
