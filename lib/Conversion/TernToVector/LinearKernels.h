//===- LinearKernels.h - the tern.linear lowering's shared state -*- C++
//-*-===//
//
// What LinearLowering.cpp (the dot-product and portable kernels, the op's
// parallel loop) and LookupKernel.cpp (the table-lookup kernels) share.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_LIB_CONVERSION_TERNTOVECTOR_LINEARKERNELS_H
#define TERNC_LIB_CONVERSION_TERNTOVECTOR_LINEARKERNELS_H

#include "ternc/Dialect/Tern/IR/TernOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::tern::detail {

/// The int8 dot product one kernel step uses: a bit plane of `part` codes
/// times `part` activations added into an i32 accumulator.
struct DotKernel {
  enum Family {
    /// Portable vector code: widen t = c - 1 and a to i32, multiply, add.
    Generic,
    /// AArch64 dotprod: `sdot` (s8 x s8) of t and a into 4 i32 lanes.
    Sdot,
    /// x86: the codes c = t + 1 in {0, 1, 2} as u8 times a as s8, with
    /// `vpdpbusd` (VNNI) or `vpmaddubsw` + `vpmaddwd` (AVX2, AVX-512BW);
    /// the exact sum is sum(c * a) - sum(a), sum(a) once per token.
    U8S8,
  } family = Generic;
  /// U8S8: the LLVM intrinsics; `dpbusd` empty means maddubs + maddwd.
  StringRef dpbusd, maddubs, maddwd;
  /// Sdot with i8mm: prefill tiles of even rows and tokens use `smmla`
  /// (a 2x8 by 8x2 int8 product per instruction) instead.
  bool mmla = false;
  /// U8S8 with AMX-INT8: prefill runs in units of amxUnitRows() rows on
  /// the tile unit (`tdpbusd`, AmxKernel.cpp); decode and the tokens past
  /// the last tile of 16 keep vpdpbusd. Also set on a lut5 plan whose
  /// prefill runs on the tiles (`tdpbssd`, AmxLookupKernel.cpp).
  bool amx = false;
  /// i32 lanes of the accumulator.
  int64_t accLanes = 0;
};

/// The runtime's thread count and the calling thread's index in it
/// (ternc_thread_count(), ternc_thread_index()), as index values.
/// `anchor` is an op of the module (their declarations are added to it).
Value threadCount(ImplicitLocOpBuilder &b, Operation *anchor);
Value threadIndex(ImplicitLocOpBuilder &b, Operation *anchor);

/// Rows of one AMX unit, and the fewest tokens that use the tiles.
int64_t amxUnitRows();
int64_t amxMinTokens();

/// AMX tiles: 16 rows of 64 bytes.
constexpr int64_t kAmxTileRows = 16, kAmxTileBytes = 64;

/// Where the tiles of one operand of an AMX tile loop sit: tile i (of 16
/// weight rows or of 16 tokens) of K step s at i * tile + s * step bytes
/// from the operand's base, tile rows `stride` bytes apart.
struct AmxOperand {
  int64_t tile, step, stride;
};

/// The geometry of one AMX tile loop. The dot layout's codes are the A
/// operand (u8 c = t + 1, rows of 64 weights: tdpbusd) and the activations
/// B; lut5's unpacked weights are B (s8 t, four k of a row a dword:
/// tdpbssd) and the activations A, so its C tiles come out tokens x rows.
struct AmxForm {
  bool weightsAsB;
  AmxOperand weights, tokens;
  /// K steps of 64 bytes: a multiple of 4.
  int64_t steps;
};

/// The tile loop of 2 row tiles by `tokenTiles` token tiles over `form`'s
/// K steps as a function of the module, shared by every weight of its
/// shape: (weights, activations, cbuf), C tile i * tokenTiles + t at
/// 1 KiB each in cbuf (AmxKernel.cpp).
func::FuncOp amxTileFunction(ImplicitLocOpBuilder &b, Operation *anchor,
                             const AmxForm &form, int64_t tokenTiles);

/// The address of byte `offset` of a buffer the lowering allocated (offset
/// 0, identity layout), as an LLVM pointer.
Value amxPointerAt(ImplicitLocOpBuilder &b, Value memref, Value offset);

/// Byte offset of row `n`'s first chunk among an interleaved weight's codes.
Value rowCodeOffset(ImplicitLocOpBuilder &b, const TernaryType &wt, Value n);
struct WeightPlan;

/// The code bytes of one chunk (at byte `off` past each row's first chunk)
/// of every row of `rowBase` (byte offsets from rowCodeOffset()).
SmallVector<Value> loadCodes(ImplicitLocOpBuilder &b, const WeightPlan &p,
                             ArrayRef<Value> rowBase, Value off);
/// Bit plane j of a vector of code bytes: (codes >> 2j) & 3.
Value bitPlane(ImplicitLocOpBuilder &b, Value codes, int j, Value mask3);

/// An llvm-mca region marker ("LLVM-MCA-BEGIN/END tern_chunk") as an
/// assembly comment of the target, around one step of a kernel's loop.
void mcaMarker(ImplicitLocOpBuilder &b, Operation *op, StringRef what);

/// The table lookup of one kernel step: a vector of R indices into a table
/// (the low or high bytes of exact int16 sums: 16 for weight pairs, 128 for
/// groups of five) gives R bytes, one per row.
struct LookupKernel {
  enum Instr {
    /// x86 `pshufb` on xmm (SSSE3), ymm (AVX2) or zmm (AVX-512BW): the
    /// 16-byte table repeated in every 128-bit lane.
    Pshufb,
    /// AVX-512 VBMI `vpermb`: one zmm holds the low and high tables of two
    /// weight pairs (64 bytes), indexed across the whole register.
    Vpermb,
    /// AArch64 `tbl` with a one-register table.
    Tbl,
    /// ARMv7 NEON `vtbl` with the table in two d-registers.
    Vtbl2,
    /// AVX-512 VBMI `vpermi2b`: a 128-byte table in two zmm, indexed by
    /// bits 0-6 of each byte (lut5: bit 7, the sign, is ignored).
    Vpermi2b,
    /// AArch64 `tbl` with a four-register (64-byte) table (lut4).
    Tbl4,
  } instr = Pshufb;
  StringRef intrinsic;
  /// R: bytes (rows) per lookup vector.
  int64_t rows = 0;
  /// Weights per table: 2 (lut<R>, two indices a byte), 3 (lut3<R>, two
  /// indices a byte and a byte of signs per eight), 4 or 5 (lut4<R>,
  /// lut5<R>, one index and its sign a byte).
  int64_t group = 2;
};

/// The lookup kernel for `layout` (lut, lut3, lut4 or lut5) with R = `rows` on
/// `target`, or none.
std::optional<LookupKernel> selectLookup(TargetAttr target, WeightLayout layout,
                                         int64_t rows);

/// Everything the lowering knows about one weight of the op.
struct WeightPlan {
  TernaryType wt;
  Value output;
  /// The residual stream the outputs are also added to, or null.
  Value residual;
  DotKernel kernel;
  /// Set for lut<R> weights.
  std::optional<LookupKernel> lookup;
  int64_t part = 0;
  /// Register tile: rows x tokens.
  int64_t tileRows = 1, tileTokens = 1;
  /// Row groups (of tileRows rows) per iteration of the parallel loop, run
  /// with the tokens outside (prefill), or 1: one group, tokens inside.
  /// Lookup kernels: row blocks (of R rows) per iteration, K slices
  /// outside.
  int64_t blockGroups = 1;
  /// Iterations of the shared parallel loop that this weight takes.
  int64_t units = 0;
  Value data, scales;
};

/// The state of one tern.linear lowering.
struct LinearEmitter {
  mutable LinearOp op;
  bool mcaMarkers = false;
  /// One token, statically (decode): weights are streamed once.
  bool singleToken = false;
  Value q, sx, cM, sumA;
  /// AMX: the activations of every full tile of 16 tokens in the layout of
  /// the tiles' B operand (packAmxActivations()), freed after the loop.
  Value amxActivations;
  /// AMX with lut5 weights: every token's activations as A tiles, rows of
  /// whole K steps, the tokens padded to 16 (packAmxTokenRows()).
  Value amxTokenRows;
  /// Lookup kernels: the tables of every token (buildTables()), one set
  /// per group size.
  struct Tables {
    Value data;
    /// Weight groups (tables) per token row of `data`.
    int64_t groups = 0;
    /// Decode: `data` holds a set of tables per thread, and this one byte
    /// per thread, set once the thread has built its set.
    Value builtBy;
  };
  /// Indexed by the group size (2 to 5).
  Tables groupTables[6];
  Tables &tablesOf(int64_t group) { return groupTables[group]; }
  const Tables &tablesOf(int64_t group) const { return groupTables[group]; }

  Value loadActivations(ImplicitLocOpBuilder &b, const WeightPlan &p, Value m,
                        Value k) const;
  Value step(ImplicitLocOpBuilder &b, const WeightPlan &p, Value acc,
             Value plane, Value a) const;
  void tile(ImplicitLocOpBuilder &b, const WeightPlan &p, Value n0, int64_t rc,
            Value m0, int64_t tc) const;
  /// The int32 lane sums of the rows at byte offsets `rowBase` times
  /// `tokens`, with vpmaddubsw, one vector per output, token-major.
  SmallVector<Value> pairSumTile(ImplicitLocOpBuilder &b, const WeightPlan &p,
                                 ArrayRef<Value> rowBase,
                                 ArrayRef<Value> tokens) const;
  /// tile() with `smmla` (even rc and tc).
  void mmlaTile(ImplicitLocOpBuilder &b, const WeightPlan &p, Value n0,
                int64_t rc, Value m0, int64_t tc) const;
  /// Tokens [from, M) (from 0 when null) of rows [n0, n0 + rc).
  void tokens(ImplicitLocOpBuilder &b, const WeightPlan &p, Value n0,
              int64_t rc, Value from = {}) const;
  void perBlockRow(ImplicitLocOpBuilder &b, const WeightPlan &p, Value n) const;
  void rowBlock(ImplicitLocOpBuilder &b, const WeightPlan &p, Value u) const;
  /// The scaled output (m, n) of an exact int32 dot product `total`.
  void finish(ImplicitLocOpBuilder &b, const WeightPlan &p, Value total,
              Value m, Value n) const;
  /// finish() of a whole rc x tc tile from reduced lane sums, on vectors.
  void vectorFinish(ImplicitLocOpBuilder &b, const WeightPlan &p,
                    ArrayRef<Value> totals, Value n0, int64_t rc, Value m0,
                    int64_t tc) const;
  /// The f32 output of f32 sums `acc`, row scale `w`, token scale `sxm`
  /// (scalars or vectors alike), in the op's scheme's order.
  Value scale(ImplicitLocOpBuilder &b, Value acc, Value w, Value sxm) const;
  /// Writes output (m, n), or a vector of outputs from (m, n) on, and adds
  /// it to the residual stream, if any.
  void storeOutput(ImplicitLocOpBuilder &b, const WeightPlan &p, Value out,
                   Value m, Value n) const;
  void unit(ImplicitLocOpBuilder &b, const WeightPlan &p, Value u) const;
  /// The glu epilogue of iteration `u` of a gate/up linear: act(g) * u for
  /// every token and the rows the unit of `p` (either weight) computed.
  void gluUnit(ImplicitLocOpBuilder &b, const WeightPlan &p, Value u,
               GluActivation act, Value gate, Value up, Value out) const;

  /// AmxKernel.cpp: amxActivations, before the parallel loop.
  void packAmxActivations(ImplicitLocOpBuilder &b, const WeightPlan &p);
  /// Unit u of an AMX weight: rows [u * amxUnitRows(), ...), every token.
  void amxUnit(ImplicitLocOpBuilder &b, const WeightPlan &p, Value u) const;
  void amxRows(ImplicitLocOpBuilder &b, const WeightPlan &p, Value n0) const;

  /// AmxLookupKernel.cpp: amxTokenRows, before the parallel loop.
  void packAmxTokenRows(ImplicitLocOpBuilder &b, const WeightPlan &p);
  /// Unit u of a lut5 weight on AMX: rows [32 u, 32 u + 32) (of N), every
  /// token.
  void amxLookupUnit(ImplicitLocOpBuilder &b, const WeightPlan &p,
                     Value u) const;

  /// LookupKernel.cpp: the tables of every token for the weights `wt`
  /// (K columns, groups of `group`), before the parallel loop (freed by
  /// freeTables() after it).
  void buildTables(ImplicitLocOpBuilder &b, TernaryType wt, int64_t group);
  /// The tables of groups [groupBegin, groupEnd) of token m at byte `base`
  /// of `tables`.
  void buildTokenTables(ImplicitLocOpBuilder &b, TernaryType wt, int64_t group,
                        Value tables, Value base, Value m, Value groupBegin,
                        Value groupEnd) const;
  void freeTables(ImplicitLocOpBuilder &b) const;
  /// Row blocks [u*G, u*G + G) (R rows each, G = p.blockGroups) of a
  /// lut<R> or lut5<R> weight, every token.
  void lookupUnit(ImplicitLocOpBuilder &b, const WeightPlan &p, Value u) const;
  /// The outputs of token m, row block `block`, from the two int16-zipped
  /// halves of its int32 sums (lane e of half h is row rowOrder^-1).
  void finishBlock(ImplicitLocOpBuilder &b, const WeightPlan &p,
                   ArrayRef<Value> totals, Value block, Value m,
                   ArrayRef<int64_t> rowOrder) const;
};

} // namespace mlir::tern::detail

#endif // TERNC_LIB_CONVERSION_TERNTOVECTOR_LINEARKERNELS_H
