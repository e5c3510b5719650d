//===- AmxKernel.cpp - prefill tern.linear tiles with x86 AMX-INT8 --------===//
//
// On CPUs with AMX (Sapphire Rapids and later) a prefill linear runs on the
// tile unit: one `tdpbusd` multiplies a 16 x 64 tile of u8 codes (the
// weights t + 1 of 16 rows) by a 64 x 16 tile of s8 activations (16 tokens)
// into 16 x 16 int32 sums, 16384 products per instruction where `vpdpbusd`
// does 64. The sums are exact, so the outputs are the bits the vpdpbusd
// kernels give (sum(c * a) - sum(a), then the same epilogue).
//
// Per unit of 32 rows the codes are unpacked once into a stack buffer, one
// byte a weight, row-major (each tile row is 64 consecutive weights of one
// output row: the A operand as it is). The activations are repacked once
// per op into the B operand's layout (four consecutive k of a token in one
// dword, 16 tokens a tile row). Every 2 x 2 (or 2 x 1) block of C tiles
// (32 rows x 32 or 16 tokens) walks K in a function shared by every weight
// of its shape, with the K loop unrolled so that the C tiles stay in tile
// registers: MLIR 19 has no tile type that could cross a block. The C
// tiles are rows x tokens; the epilogue transposes each to tokens x rows
// and hands it to vectorFinish() like any vpdpbusd tile. The tile function
// is shared with lut5's prefill (AmxLookupKernel.cpp), whose weights are the
// B operand (AmxForm).
//
//===----------------------------------------------------------------------===//

#include "ternc/Conversion/Passes.h"

#include "LinearKernels.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::tern;
using namespace mlir::tern::detail;

namespace {

/// Rows of every tile (A: weight rows, B: k quads, C: weight rows) and bytes
/// of each tile row (A: 64 weights, B and C: 16 tokens x 4 bytes).
constexpr int64_t kTileRows = kAmxTileRows, kTileBytes = kAmxTileBytes;
constexpr int64_t kTileSize = kTileRows * kTileBytes;
/// Weight tiles per unit: 2 x 2 C tiles, 2 A and 2 B tiles fill the eight
/// tile registers.
constexpr int64_t kRowTiles = 2;
/// K steps (64 weights each) unrolled in one straight block; longer rows
/// keep C in memory between blocks.
constexpr int64_t kMaxUnrolledSteps = 128;

Type tileType(ImplicitLocOpBuilder &b, Type elem, int64_t lanes) {
  return LLVM::LLVMArrayType::get(VectorType::get({lanes}, elem), kTileRows);
}

} // namespace

Value mlir::tern::detail::amxPointerAt(ImplicitLocOpBuilder &b, Value memref,
                                       Value offset) {
  Value base = b.create<memref::ExtractAlignedPointerAsIndexOp>(memref);
  Value at = b.create<arith::IndexCastOp>(
      b.getI64Type(), b.create<arith::AddIOp>(base, offset));
  return b.create<LLVM::IntToPtrOp>(LLVM::LLVMPointerType::get(b.getContext()),
                                    at);
}

namespace {

Value offsetPointer(ImplicitLocOpBuilder &b, Value ptr, int64_t bytes) {
  if (!bytes)
    return ptr;
  return b.create<LLVM::GEPOp>(ptr.getType(), b.getI8Type(), ptr,
                               ArrayRef<LLVM::GEPArg>{int32_t(bytes)});
}

/// The transpose of 16 vectors of 16 lanes: four rounds that swap the
/// off-diagonal blocks of 8, 4, 2 and 1 lanes, 64 two-source shuffles.
SmallVector<Value> transpose16(ImplicitLocOpBuilder &b, SmallVector<Value> x) {
  const int64_t L = x.size();
  for (int64_t bs = L / 2; bs >= 1; bs /= 2) {
    SmallVector<int64_t> lo, hi;
    for (int64_t l = 0; l < L; ++l) {
      const bool low = (l & bs) == 0;
      lo.push_back(low ? l : L + l - bs);
      hi.push_back(low ? l + bs : L + l);
    }
    SmallVector<Value> next(x);
    for (int64_t i = 0; i < L; ++i)
      if ((i & bs) == 0) {
        next[i] = b.create<vector::ShuffleOp>(x[i], x[i + bs], lo);
        next[i + bs] = b.create<vector::ShuffleOp>(x[i], x[i + bs], hi);
      }
    x = next;
  }
  return x;
}

} // namespace

void LinearEmitter::packAmxActivations(ImplicitLocOpBuilder &b,
                                       const WeightPlan &p) {
  const int64_t Kp = p.wt.getPaddedCols(), steps = Kp / kTileBytes;
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value cT = indexConst(b, kTileRows);
  Value m16 = b.create<arith::MulIOp>(b.create<arith::DivUIOp>(cM, cT), cT);
  // Token tile m0 / 16, K step s: 1 KiB at m0 * Kp + s * 1024, row kq
  // holding k = 64 s + 4 kq + [0, 4) of its 16 tokens.
  amxActivations = b.create<memref::AllocOp>(
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type()),
      ValueRange{b.create<arith::MulIOp>(m16, indexConst(b, Kp))},
      b.getI64IntegerAttr(kTileBytes));
  auto v16 = VectorType::get({kTileRows}, b.getI32Type());
  auto vBytes = VectorType::get({kTileBytes}, b.getI8Type());
  // One iteration per token tile, shared by the threads.
  auto tiles = b.create<scf::ForOp>(
      c0, b.create<arith::DivUIOp>(cM, cT), c1, ValueRange{},
      [&](OpBuilder &mb, Location ml, Value tile, ValueRange) {
        ImplicitLocOpBuilder tb(ml, mb);
        Value m0 = tb.create<arith::MulIOp>(tile, cT);
        tb.create<scf::ForOp>(
            c0, indexConst(tb, steps), c1, ValueRange{},
            [&](OpBuilder &sb, Location sl, Value s, ValueRange) {
              ImplicitLocOpBuilder kb(sl, sb);
              Value k = kb.create<arith::MulIOp>(s, indexConst(kb, kTileBytes));
              SmallVector<Value> tokens;
              for (int64_t i = 0; i < kTileRows; ++i)
                tokens.push_back(kb.create<vector::BitCastOp>(
                    v16,
                    loadActivations(
                        kb, p, kb.create<arith::AddIOp>(m0, indexConst(kb, i)),
                        k)));
              Value at = kb.create<arith::AddIOp>(
                  kb.create<arith::MulIOp>(m0, indexConst(kb, Kp)),
                  kb.create<arith::MulIOp>(s, indexConst(kb, kTileSize)));
              for (auto [kq, row] : llvm::enumerate(transpose16(kb, tokens)))
                kb.create<vector::StoreOp>(
                    kb.create<vector::BitCastOp>(vBytes, row), amxActivations,
                    ValueRange{kb.create<arith::AddIOp>(
                        at, indexConst(kb, kq * kTileBytes))});
              kb.create<scf::YieldOp>();
            });
        tb.create<scf::YieldOp>();
      });
  tiles->setAttr(kParallelAttrName, b.getUnitAttr());
}

/// One function per shape instead of a copy per layer: the unrolled K loop
/// of 2B4T's 210 linears took LLVM minutes and doubled the program.
func::FuncOp mlir::tern::detail::amxTileFunction(ImplicitLocOpBuilder &outer,
                                                 Operation *anchor,
                                                 const AmxForm &form,
                                                 int64_t tokenTiles) {
  auto module = anchor->getParentOfType<ModuleOp>();
  std::string name = (Twine(form.weightsAsB ? "__tern_amx_lut5_tiles_k"
                                            : "__tern_amx_tiles_k") +
                      Twine(form.steps * kTileBytes) + "_t" + Twine(tokenTiles))
                         .str();
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  OpBuilder::InsertionGuard guard(outer);
  outer.setInsertionPointToEnd(module.getBody());
  auto ptr = LLVM::LLVMPointerType::get(outer.getContext());
  auto fn = outer.create<func::FuncOp>(
      name, outer.getFunctionType({ptr, ptr, ptr}, {}));
  fn.setPrivate();
  // Called once per 32 x 16 or 32 x 32 outputs (thousands of tdpbusd
  // cycles): inlining it into every linear would undo the sharing.
  fn->setAttr("passthrough",
              outer.getArrayAttr({outer.getStringAttr("noinline")}));
  Block *entry = fn.addEntryBlock();
  outer.setInsertionPointToStart(entry);
  ImplicitLocOpBuilder &b = outer;
  Value weights = entry->getArgument(0), acts = entry->getArgument(1),
        cPtr = entry->getArgument(2);

  const int64_t steps = form.steps;
  // Steps per block: all of them, else the largest divisor of steps up to
  // half the unroll limit (steps is a multiple of 4).
  int64_t unroll = steps;
  if (steps > kMaxUnrolledSteps)
    for (unroll = kMaxUnrolledSteps / 2; steps % unroll; --unroll) {
    }
  const int64_t blocks = steps / unroll;
  const int64_t cTiles = kRowTiles * tokenTiles;
  Type cType = tileType(b, b.getI32Type(), kTileRows);
  Type abType = tileType(b, b.getI8Type(), kTileBytes);
  auto i16 = [&](ImplicitLocOpBuilder &kb, int64_t v) -> Value {
    return kb.create<arith::ConstantOp>(kb.getI16IntegerAttr(v));
  };
  auto i64 = [&](ImplicitLocOpBuilder &kb, int64_t v) -> Value {
    return kb.create<arith::ConstantOp>(kb.getI64IntegerAttr(v));
  };
  auto storeC = [&](ImplicitLocOpBuilder &kb, ArrayRef<Value> tiles) {
    for (auto [c, tile] : llvm::enumerate(tiles))
      kb.create<amx::x86_amx_tilestored64>(
          TypeRange{}, ValueRange{i16(kb, kTileRows), i16(kb, kTileBytes),
                                  offsetPointer(kb, cPtr, c * kTileSize),
                                  i64(kb, kTileBytes), tile});
  };
  // `unroll` steps from the weights at wPtr and the activations at tPtr.
  auto run = [&](ImplicitLocOpBuilder &kb, Value wPtr, Value tPtr,
                 SmallVector<Value> acc) {
    Value r16 = i16(kb, kTileRows), b64 = i16(kb, kTileBytes);
    auto load = [&](Value base, const AmxOperand &o, int64_t i, int64_t s) {
      return kb
          .create<amx::x86_amx_tileloadd64>(
              abType,
              ValueRange{r16, b64,
                         offsetPointer(kb, base, i * o.tile + s * o.step),
                         i64(kb, o.stride)})
          .getResult();
    };
    for (int64_t s = 0; s < unroll; ++s) {
      SmallVector<Value> w, t;
      for (int64_t i = 0; i < kRowTiles; ++i)
        w.push_back(load(wPtr, form.weights, i, s));
      for (int64_t j = 0; j < tokenTiles; ++j)
        t.push_back(load(tPtr, form.tokens, j, s));
      for (int64_t i = 0; i < kRowTiles; ++i)
        for (int64_t j = 0; j < tokenTiles; ++j) {
          Value &c = acc[i * tokenTiles + j];
          if (form.weightsAsB)
            c = kb.create<amx::x86_amx_tdpbssd>(
                cType, ValueRange{r16, b64, b64, c, t[j], w[i]});
          else
            c = kb.create<amx::x86_amx_tdpbusd>(
                cType, ValueRange{r16, b64, b64, c, w[i], t[j]});
        }
    }
    return acc;
  };
  SmallVector<Value> zeros;
  for (int64_t c = 0; c < cTiles; ++c)
    zeros.push_back(b.create<amx::x86_amx_tilezero>(
        cType, ValueRange{i16(b, kTileRows), i16(b, kTileBytes)}));
  if (blocks == 1) {
    storeC(b, run(b, weights, acts, zeros));
  } else {
    // C goes through memory between blocks: MLIR 19 has no tile type that
    // could be a loop-carried value.
    storeC(b, zeros);
    Value c0 = indexConst(b, 0);
    b.create<scf::ForOp>(
        c0, indexConst(b, blocks), indexConst(b, 1), ValueRange{},
        [&](OpBuilder &ob, Location ol, Value blk, ValueRange) {
          ImplicitLocOpBuilder kb(ol, ob);
          SmallVector<Value> acc;
          for (int64_t c = 0; c < cTiles; ++c)
            acc.push_back(kb.create<amx::x86_amx_tileloadd64>(
                cType, ValueRange{i16(kb, kTileRows), i16(kb, kTileBytes),
                                  offsetPointer(kb, cPtr, c * kTileSize),
                                  i64(kb, kTileBytes)}));
          auto step = [&](Value base, int64_t bytes) {
            Value off = kb.create<arith::IndexCastOp>(
                kb.getI64Type(),
                kb.create<arith::MulIOp>(blk, indexConst(kb, bytes)));
            return kb.create<LLVM::GEPOp>(ptr, kb.getI8Type(), base,
                                          ValueRange{off});
          };
          storeC(kb, run(kb, step(weights, unroll * form.weights.step),
                         step(acts, unroll * form.tokens.step), acc));
          kb.create<scf::YieldOp>();
        });
  }
  b.create<func::ReturnOp>();
  return fn;
}

/// C tiles [rows 16 i] x [tokens m0 + 16 t] of the 32 rows unpacked in
/// `codes`, over all of K, into `cbuf`, then their outputs.
static void amxBlock(const LinearEmitter &e, ImplicitLocOpBuilder &b,
                     const WeightPlan &p, Value codes, Value cbuf, Value n0,
                     Value m0, int64_t tokenTiles) {
  const int64_t Kp = p.wt.getPaddedCols();
  Type i32 = b.getI32Type();
  // Codes: row i of 64 weights a step; activations: 1 KiB a step, Kp * 16
  // a token tile.
  const AmxForm form{/*weightsAsB=*/false,
                     {kTileRows * Kp, kTileBytes, Kp},
                     {kTileRows * Kp, kTileSize, kTileBytes},
                     Kp / kTileBytes};
  func::FuncOp fn = amxTileFunction(b, e.op, form, tokenTiles);
  Value c0 = indexConst(b, 0);
  b.create<func::CallOp>(
      fn,
      ValueRange{amxPointerAt(b, codes, c0),
                 amxPointerAt(b, e.amxActivations,
                              b.create<arith::MulIOp>(m0, indexConst(b, Kp))),
                 amxPointerAt(b, cbuf, c0)});
  // The epilogue: each C tile (16 rows x 16 tokens) transposed to the
  // token-major order vectorFinish() takes; one copy in a loop over the
  // tiles (an epilogue is 64 shuffles and 16 stores).
  auto v16 = VectorType::get({kTileRows}, i32);
  Value cT = indexConst(b, kTileRows);
  b.create<scf::ForOp>(
      c0, indexConst(b, kRowTiles * tokenTiles), indexConst(b, 1), ValueRange{},
      [&](OpBuilder &fb, Location fl, Value c, ValueRange) {
        ImplicitLocOpBuilder eb(fl, fb);
        Value tt = indexConst(eb, tokenTiles);
        Value i = eb.create<arith::DivUIOp>(c, tt);
        Value t = eb.create<arith::RemUIOp>(c, tt);
        Value first =
            eb.create<arith::MulIOp>(c, indexConst(eb, kTileSize / 4));
        SmallVector<Value> rows;
        for (int64_t r = 0; r < kTileRows; ++r)
          rows.push_back(eb.create<vector::LoadOp>(
              v16, cbuf,
              ValueRange{eb.create<arith::AddIOp>(
                  first, indexConst(eb, r * kTileRows))}));
        e.vectorFinish(
            eb, p, transpose16(eb, rows),
            eb.create<arith::AddIOp>(n0, eb.create<arith::MulIOp>(i, cT)),
            kTileRows,
            eb.create<arith::AddIOp>(m0, eb.create<arith::MulIOp>(t, cT)),
            kTileRows);
        eb.create<scf::YieldOp>();
      });
}

/// Rows [n0, n0 + 32), every token: the tiles of 16 tokens on AMX, the
/// tokens past the last tile with vpdpbusd (tokens()).
void LinearEmitter::amxRows(ImplicitLocOpBuilder &b, const WeightPlan &p,
                            Value n0) const {
  const TernaryType &wt = p.wt;
  const int64_t Kp = wt.getPaddedCols(), rows = kRowTiles * kTileRows;
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value cT = indexConst(b, kTileRows), c2T = indexConst(b, 2 * kTileRows);
  Value m16 = b.create<arith::MulIOp>(b.create<arith::DivUIOp>(cM, cT), cT);
  Value m32 = b.create<arith::MulIOp>(b.create<arith::DivUIOp>(cM, c2T), c2T);
  Value any = b.create<arith::CmpIOp>(arith::CmpIPredicate::ne, m16, c0);
  b.create<scf::IfOp>(any, [&](OpBuilder &ib, Location il) {
    ImplicitLocOpBuilder sb(il, ib);
    // Stack buffers: the parallel loop's outlining gives each call one
    // (OutlineParallel moves static allocas to its entry).
    {
      Value codes = sb.create<memref::AllocaOp>(
          MemRefType::get({rows * Kp}, sb.getI8Type()),
          sb.getI64IntegerAttr(kTileBytes));
      Value cbuf = sb.create<memref::AllocaOp>(
          MemRefType::get({kRowTiles * 2 * kTileRows * kTileRows},
                          sb.getI32Type()),
          sb.getI64IntegerAttr(kTileBytes));
      // Unpack: byte k of row r is weight k's code c = t + 1 (bit plane j
      // of chunk ch holds k = 256 ch + 64 j + [0, 64)).
      auto vCodes = VectorType::get({p.part}, sb.getI8Type());
      Value mask3 = splat(sb, vCodes, 3);
      sb.create<scf::ForOp>(
          c0, indexConst(sb, rows), c1, ValueRange{},
          [&](OpBuilder &rb, Location rl, Value r, ValueRange) {
            ImplicitLocOpBuilder ub(rl, rb);
            Value rowBase =
                rowCodeOffset(ub, wt, ub.create<arith::AddIOp>(n0, r));
            Value rowOut = ub.create<arith::MulIOp>(r, indexConst(ub, Kp));
            ub.create<scf::ForOp>(
                c0, indexConst(ub, Kp / wt.getChunk()), c1, ValueRange{},
                [&](OpBuilder &cb0, Location cl, Value ch, ValueRange) {
                  ImplicitLocOpBuilder cb(cl, cb0);
                  Value bytes = loadCodes(
                      cb, p, rowBase,
                      cb.create<arith::MulIOp>(
                          ch, indexConst(cb, wt.getChunkStride())))[0];
                  Value out = cb.create<arith::AddIOp>(
                      rowOut, cb.create<arith::MulIOp>(
                                  ch, indexConst(cb, wt.getChunk())));
                  for (int j = 0; j < 4; ++j)
                    cb.create<vector::StoreOp>(
                        bitPlane(cb, bytes, j, mask3), codes,
                        ValueRange{cb.create<arith::AddIOp>(
                            out, indexConst(cb, j * p.part))});
                  cb.create<scf::YieldOp>();
                });
            ub.create<scf::YieldOp>();
          });
      sb.create<scf::ForOp>(
          c0, m32, c2T, ValueRange{},
          [&](OpBuilder &mb, Location ml, Value m0, ValueRange) {
            ImplicitLocOpBuilder tb(ml, mb);
            amxBlock(*this, tb, p, codes, cbuf, n0, m0, 2);
            tb.create<scf::YieldOp>();
          });
      Value odd = sb.create<arith::CmpIOp>(arith::CmpIPredicate::ne, m16, m32);
      sb.create<scf::IfOp>(odd, [&](OpBuilder &ob, Location ol) {
        ImplicitLocOpBuilder tb(ol, ob);
        amxBlock(*this, tb, p, codes, cbuf, n0, m32, 1);
        tb.create<scf::YieldOp>();
      });
    }
    sb.create<scf::YieldOp>();
  });
  // One copy of the vpdpbusd tiles in a loop over the row groups.
  b.create<scf::ForOp>(
      c0, indexConst(b, rows), indexConst(b, p.tileRows), ValueRange{},
      [&](OpBuilder &gb, Location gl, Value r, ValueRange) {
        ImplicitLocOpBuilder rb(gl, gb);
        tokens(rb, p, rb.create<arith::AddIOp>(n0, r), p.tileRows, m16);
        rb.create<scf::YieldOp>();
      });
}

/// Unit u of an AMX weight: rows [32 u, 32 u + 32); the last unit of a
/// weight whose rows are not a multiple of 32 takes the rest with
/// vpdpbusd.
void LinearEmitter::amxUnit(ImplicitLocOpBuilder &b, const WeightPlan &p,
                            Value u) const {
  const int64_t rows = kRowTiles * kTileRows, N = p.wt.getRows();
  const int64_t full = N / rows, rest = N % rows;
  Value n0 = b.create<arith::MulIOp>(u, indexConst(b, rows));
  if (!rest)
    return amxRows(b, p, n0);
  Value isFull = b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, u,
                                         indexConst(b, full));
  ifElse(
      b, isFull, [&](ImplicitLocOpBuilder &ib) { amxRows(ib, p, n0); },
      [&](ImplicitLocOpBuilder &ib) {
        // Whole row groups in a loop, then the rows left.
        const int64_t R = p.tileRows, whole = rest / R * R;
        Value first = indexConst(ib, full * rows);
        ib.create<scf::ForOp>(
            indexConst(ib, 0), indexConst(ib, whole), indexConst(ib, R),
            ValueRange{}, [&](OpBuilder &gb, Location gl, Value r, ValueRange) {
              ImplicitLocOpBuilder rb(gl, gb);
              tokens(rb, p, rb.create<arith::AddIOp>(first, r), R);
              rb.create<scf::YieldOp>();
            });
        if (rest > whole)
          tokens(ib, p, indexConst(ib, full * rows + whole), rest - whole);
      });
}

int64_t mlir::tern::detail::amxUnitRows() { return kRowTiles * kTileRows; }
int64_t mlir::tern::detail::amxMinTokens() { return kTileRows; }
