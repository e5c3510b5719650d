//===- ModelBuilder.cpp - ModelDescription -> tern IR ---------------------===//

#include "ternc/Model/ModelBuilder.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tern;
using ternc::BuildOptions;
using ternc::ModelDescription;

namespace {

std::string symbolOf(StringRef name);

/// The symbol of an int8 LM head (a separate entry: the embedding it may be
/// tied to keeps its own precision).
constexpr llvm::StringLiteral headSymbol = "p_lm_head_int8";
/// The symbol of the int8 copy of a native LM head that screens its rows
/// (`ternc_head_screen`).
constexpr llvm::StringLiteral screenSymbol = "p_lm_head_screen";

/// The lanes of the LM head's and the norms' sums of squares: 16
/// interleaved lanes (vector code, the same result on every target),
/// except for bitllama2.c, whose reference runner sums in order and whose
/// greedy generations ternc reproduces.
int64_t sumLanes(const ModelDescription &md) {
  return md.scheme == ternc::LinearScheme::BitLlama2c ? 1 : 16;
}

/// Emits the forward pass for up to `rows` tokens into one function.
class ForwardEmitter {
public:
  /// With `optionalHead` (a screened head) a null `logits` skips the LM
  /// head but not the final norm, whose output is the screened head's
  /// input; else a pass of several rows skips both.
  ForwardEmitter(ImplicitLocOpBuilder &b, const ModelDescription &md,
                 int64_t rows, int64_t context, Value scratch,
                 bool optionalHead = false)
      : b(b), md(md), rows(rows), context(context), scratch(scratch),
        optionalHead(optionalHead) {}

  /// Scratch bytes a forward pass of `rows` tokens needs.
  static int64_t scratchBytes(const ModelDescription &md, int64_t rows,
                              int64_t context) {
    ScratchPlan plan(md, rows, context);
    return plan.total;
  }
  /// Scratch offset of the final norm's output (of the last row, at row
  /// 0) of a pass of `rows` rows: the LM head's input.
  static int64_t headInputOffset(const ModelDescription &md, int64_t rows,
                                 int64_t context) {
    return ScratchPlan(md, rows, context).x;
  }

  /// tokens: memref<rows x i32>; n: valid rows; pos: first position.
  void emit(Value tokens, Value n, Value pos, Value kc, Value vc, Value logits);

private:
  /// Byte offsets of the scratch buffers for `rows` tokens.
  struct ScratchPlan {
    int64_t h, x, q, k, att, y, gate, up, mid, qi8, qs, scores, total;
    ScratchPlan(const ModelDescription &md, int64_t rows, int64_t context) {
      int64_t off = 0;
      auto take = [&](int64_t bytes) {
        int64_t at = off;
        off = llvm::alignTo(off + bytes, 64);
        return at;
      };
      int64_t d = md.dim, f = md.hiddenDim;
      h = take(4 * rows * d);
      x = take(4 * rows * d);
      q = take(4 * rows * d);
      k = take(4 * rows * md.kvDim());
      att = take(4 * rows * d);
      y = take(4 * rows * d);
      gate = take(4 * rows * f);
      up = take(4 * rows * f);
      mid = take(4 * rows * f);
      qi8 = take(rows * std::max(d, f));
      qs = take(4 * rows);
      // Attention scores: rows per head (the heads run in parallel), one
      // per query of a block in prefill.
      scores = take(4 * md.heads * scoreRows(rows) * scoresLen(context));
      total = off;
    }
  };

  Value idx(int64_t v) { return b.create<arith::ConstantIndexOp>(v); }
  /// Workspace rows per head: blocks of queries in prefill.
  static int64_t scoreRows(int64_t rows) {
    return rows > 1 ? kAttentionQueryRows : 1;
  }
  /// Scores per head: the cache length rounded up to whole vectors.
  static int64_t scoresLen(int64_t context) {
    return llvm::alignTo(context, 64);
  }

  /// A [rows, cols] f32 (or i8) view of the scratch at `offset`, cut to the
  /// first `n` rows.
  Value view(int64_t offset, int64_t cols, Value n, Type elem) {
    auto full = MemRefType::get({rows, cols}, elem);
    Value v =
        b.create<memref::ViewOp>(full, scratch, idx(offset), ValueRange{});
    return cutRows(v, n);
  }
  Value cutRows(Value v, Value n) {
    auto type = cast<MemRefType>(v.getType());
    if (rows == 1)
      return v;
    SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {n, b.getIndexAttr(type.getDimSize(1))};
    SmallVector<OpFoldResult> strides = {b.getIndexAttr(1), b.getIndexAttr(1)};
    return b.create<memref::SubViewOp>(v, offsets, sizes, strides);
  }
  Value vec(int64_t offset, Value n) {
    auto full = MemRefType::get({rows}, b.getF32Type());
    Value v =
        b.create<memref::ViewOp>(full, scratch, idx(offset), ValueRange{});
    if (rows == 1)
      return v;
    return b.create<memref::SubViewOp>(
        v, ArrayRef<OpFoldResult>{b.getIndexAttr(0)}, ArrayRef<OpFoldResult>{n},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  }
  /// Rows [start, start + n) of layer `layer` of a cache
  /// [layers, context, kv_dim], as a 2-D memref.
  Value cacheSlice(Value cache, int64_t layer, Value start, OpFoldResult n) {
    auto src = cast<MemRefType>(cache.getType());
    SmallVector<OpFoldResult> offsets = {b.getIndexAttr(layer), start,
                                         b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), n,
                                       b.getIndexAttr(md.kvDim())};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    std::optional<int64_t> staticN = getConstantIntValue(n);
    SmallVector<int64_t> shape = {staticN ? *staticN : ShapedType::kDynamic,
                                  md.kvDim()};
    auto type = memref::SubViewOp::inferRankReducedResultType(
        shape, src, offsets, sizes, strides);
    return b.create<memref::SubViewOp>(cast<MemRefType>(type), cache, offsets,
                                       sizes, strides);
  }

  /// Layer `layer` of a key cache in tiles [layers, tiles, kv_dim, 16], as
  /// [tiles, kv_dim, 16].
  Value keyLayer(Value cache, int64_t layer) {
    auto src = cast<MemRefType>(cache.getType());
    const int64_t tiles = src.getDimSize(1);
    SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0));
    offsets[0] = b.getIndexAttr(layer);
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(tiles),
                                       b.getIndexAttr(md.kvDim()),
                                       b.getIndexAttr(kKeyTile)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    auto type = memref::SubViewOp::inferRankReducedResultType(
        {tiles, md.kvDim(), kKeyTile}, src, offsets, sizes, strides);
    return b.create<memref::SubViewOp>(cast<MemRefType>(type), cache, offsets,
                                       sizes, strides);
  }

  /// The run-time memref of a declared parameter (its declared type).
  Value param(StringRef name) {
    auto module = b.getBlock()->getParentOp()->getParentOfType<ModuleOp>();
    auto decl = module.lookupSymbol<ParamOp>(symbolFor(name));
    return b.create<GetParamOp>(
        decl.getMemRefType(),
        SymbolRefAttr::get(b.getContext(), symbolFor(name)));
  }
  std::string symbolFor(StringRef storeName) { return symbolOf(storeName); }

  /// Quantizes `input` [n, K] into the shared int8 scratch.
  std::pair<Value, Value> quantize(Value input, int64_t k, Value n) {
    Value q = view(plan.qi8, k, n, b.getI8Type());
    Value s = vec(plan.qs, n);
    b.create<QuantizeOp>(QuantSchemeAttr::get(b.getContext(), scheme()), input,
                         q, s);
    return {q, s};
  }
  void linear(StringRef name, std::pair<Value, Value> qs, Value out) {
    b.create<LinearOp>(QuantSchemeAttr::get(b.getContext(), scheme()),
                       FlatSymbolRefAttr::get(b.getContext(), symbolFor(name)),
                       qs.first, qs.second, out);
  }
  int64_t sumLanes() const { return ::sumLanes(md); }
  QuantScheme scheme() const {
    return md.scheme == ternc::LinearScheme::BitLlama2c
               ? QuantScheme::BitLlama2c
               : QuantScheme::BitNet;
  }
  /// RMSNorm with the named weight, or the identity when there is none.
  Value norm(StringRef weight, Value input, Value out) {
    if (weight.empty())
      return input;
    b.create<RMSNormOp>(input, param(weight), out,
                        b.getF32FloatAttr(md.normEps),
                        b.getI64IntegerAttr(sumLanes()));
    return out;
  }

  ImplicitLocOpBuilder &b;
  const ModelDescription &md;
  int64_t rows, context;
  Value scratch;
  bool optionalHead;
  ScratchPlan plan{md, rows, context};
};

void ForwardEmitter::emit(Value tokens, Value n, Value pos, Value kc, Value vc,
                          Value logits) {
  const int64_t d = md.dim, f = md.hiddenDim;
  Value h = view(plan.h, d, n, b.getF32Type());
  Value x = view(plan.x, d, n, b.getF32Type());
  Value qv = view(plan.q, d, n, b.getF32Type());
  Value att = view(plan.att, d, n, b.getF32Type());
  Value y = view(plan.y, d, n, b.getF32Type());
  Value g = view(plan.gate, f, n, b.getF32Type());
  Value u = view(plan.up, f, n, b.getF32Type());
  Value mid = view(plan.mid, f, n, b.getF32Type());
  Value scores = b.create<memref::ViewOp>(
      MemRefType::get({md.heads * scoreRows(rows), scoresLen(context)},
                      b.getF32Type()),
      scratch, idx(plan.scores), ValueRange{});
  Value ids = tokens;
  if (rows != 1)
    ids = b.create<memref::SubViewOp>(
        tokens, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{n}, ArrayRef<OpFoldResult>{b.getIndexAttr(1)});

  b.create<EmbeddingOp>(param(md.embedding), ids, h);
  OpFoldResult nFold =
      rows == 1 ? OpFoldResult(b.getIndexAttr(1)) : OpFoldResult(n);
  auto rope = [&](Value data) {
    b.create<RopeOp>(
        data, pos, /*table=*/Value(), md.headDim(), APFloat(md.ropeTheta),
        md.rope == ternc::RopeKind::Interleaved ? RopeStyle::Interleaved
                                                : RopeStyle::HalfSplit);
  };

  for (int64_t l = 0; l < md.layers; ++l) {
    const ternc::LayerNames &ln = md.layerNames[l];
    // Attention block.
    Value xin = norm(ln.attnNorm, h, x);
    auto qx = quantize(xin, d, n);
    // The new keys go through the scratch (rotated there, row-major) into
    // their tiles of the cache; the values straight into their rows.
    Value kNew = view(plan.k, md.kvDim(), n, b.getF32Type());
    Value vNew = cacheSlice(vc, l, pos, nFold);
    linear(ln.wq, qx, qv);
    linear(ln.wk, qx, kNew);
    linear(ln.wv, qx, vNew);
    rope(qv);
    rope(kNew);
    Value kAll = keyLayer(kc, l);
    b.create<StoreKeysOp>(kNew, kAll, pos);
    Value vAll = cacheSlice(vc, l, idx(0), b.getIndexAttr(context));
    b.create<AttentionOp>(
        qv, kAll, vAll, pos, att, scores, b.getI64IntegerAttr(md.heads),
        b.getI64IntegerAttr(md.kvHeads), b.getI64IntegerAttr(md.headDim()));
    Value ao = norm(ln.attnSubNorm, att, x);
    linear(ln.wo, quantize(ao, d, n), y);
    b.create<AddOp>(h, y, h);

    // Feed-forward block.
    Value fin = norm(ln.ffnNorm, h, x);
    auto qf = quantize(fin, d, n);
    linear(ln.gate, qf, g);
    linear(ln.up, qf, u);
    b.create<GluOp>(md.gate == ternc::GateActivation::SiLU
                        ? GluActivation::SiLU
                        : GluActivation::ReLU2,
                    g, u, mid);
    Value mo = mid;
    if (!ln.ffnSubNorm.empty()) {
      b.create<RMSNormOp>(mid, param(ln.ffnSubNorm), g,
                          b.getF32FloatAttr(md.normEps),
                          b.getI64IntegerAttr(sumLanes()));
      mo = g;
    }
    linear(ln.down, quantize(mo, f, n), y);
    b.create<AddOp>(h, y, h);
  }

  // Final norm and LM head on the last row only. A prefill chunk whose
  // logits are not read (every chunk of a prompt but its last) passes a
  // null `logits` and skips them: the head is the largest weight (657 MB
  // of f16 for 2B4T), read in full for one row. With a screened head a
  // null `logits` skips only the head: the norm's output is the input of
  // the screened head (ternc_head_screen), one row either way.
  std::optional<OpBuilder::InsertionGuard> headOnly;
  auto onlyWithLogits = [&] {
    Value wanted = b.create<arith::CmpIOp>(
        arith::CmpIPredicate::ne,
        b.create<memref::ExtractAlignedPointerAsIndexOp>(logits), idx(0));
    auto ifOp = b.create<scf::IfOp>(wanted, /*withElseRegion=*/false);
    headOnly.emplace(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  };
  if (rows != 1 && !optionalHead)
    onlyWithLogits();
  Value last = h;
  Value lastX = x;
  if (rows != 1) {
    Value lastRow = b.create<arith::SubIOp>(n, idx(1));
    SmallVector<OpFoldResult> offsets = {lastRow, b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(d)};
    SmallVector<OpFoldResult> strides = {b.getIndexAttr(1), b.getIndexAttr(1)};
    last = b.create<memref::SubViewOp>(h, offsets, sizes, strides);
    lastX = b.create<memref::SubViewOp>(
        x, ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)}, sizes,
        strides);
  }
  b.create<RMSNormOp>(last, param(md.finalNorm), lastX,
                      b.getF32FloatAttr(md.normEps),
                      b.getI64IntegerAttr(sumLanes()));
  if (optionalHead)
    onlyWithLogits();
  auto module = b.getBlock()->getParentOp()->getParentOfType<ModuleOp>();
  if (auto head8 = module.lookupSymbol<ParamOp>(headSymbol)) {
    auto sym = SymbolRefAttr::get(b.getContext(), headSymbol);
    Value w = b.create<GetParamOp>(head8.getMemRefType(), sym);
    Value s = b.create<GetParamScalesOp>(
        MemRefType::get({md.vocab}, b.getF32Type()), sym);
    b.create<MatmulOp>(lastX, w, Value(), Value(), s, logits, sumLanes());
  } else {
    b.create<MatmulOp>(lastX, param(md.head), Value(), Value(), Value(), logits,
                       sumLanes());
  }
}

/// The entry points of a screened LM head (see abi.h): the int8 copy's
/// scores, the exact logits of chosen rows, and the copy's row bounds.
void emitScreenedHead(OpBuilder &ob, Location loc, const ModelDescription &md,
                      bool int8Input) {
  MLIRContext *ctx = ob.getContext();
  auto f32 = ob.getF32Type();
  auto inputType = MemRefType::get({1, md.dim}, f32);
  auto outType = MemRefType::get({1, md.vocab}, f32);
  auto screen = SymbolRefAttr::get(ctx, screenSymbol);
  auto rowsType = MemRefType::get({md.vocab}, ob.getI32Type());
  auto vocabF32 = MemRefType::get({md.vocab}, f32);
  auto boundsType = MemRefType::get({2 * md.vocab}, f32);
  auto makeFn = [&](StringRef name, FunctionType type) {
    auto fn = ob.create<func::FuncOp>(loc, name, type);
    auto b = ImplicitLocOpBuilder::atBlockBegin(loc, fn.addEntryBlock());
    return std::make_pair(fn, b);
  };
  auto getParam = [&](ImplicitLocOpBuilder &b, FlatSymbolRefAttr sym) -> Value {
    auto decl = cast<ParamOp>(
        SymbolTable::lookupSymbolIn(ob.getBlock()->getParentOp(), sym));
    return b.create<GetParamOp>(decl.getMemRefType(), sym);
  };
  // ternc_head_screen(x, scores), or with an int8 input
  // ternc_head_screen_int8(xq, xs, scores): two rows, x in two parts.
  {
    constexpr int64_t parts = 2;
    auto qType = MemRefType::get({parts, md.dim}, ob.getI8Type());
    auto qsType = MemRefType::get({parts}, f32);
    auto scoresType = MemRefType::get({parts, md.vocab}, f32);
    auto [fn, b] =
        int8Input ? makeFn("ternc_head_screen_int8",
                           ob.getFunctionType({qType, qsType, scoresType}, {}))
                  : makeFn("ternc_head_screen",
                           ob.getFunctionType({inputType, outType}, {}));
    Value inputScales = int8Input ? fn.getArgument(1) : Value();
    b.create<MatmulOp>(fn.getArgument(0), getParam(b, screen), Value(),
                       inputScales,
                       b.create<GetParamScalesOp>(vocabF32, screen),
                       fn.getArguments().back(), sumLanes(md));
    b.create<func::ReturnOp>();
  }
  // ternc_head_rows(x, rows, n, out): out[0, j] = logit of rows[j], j < n.
  {
    auto [fn, b] =
        makeFn("ternc_head_rows",
               ob.getFunctionType(
                   {inputType, rowsType, ob.getIndexType(), outType}, {}));
    Value w = getParam(b, SymbolRefAttr::get(ctx, symbolOf(md.head)));
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    Value n = fn.getArgument(2);
    Value rows = b.create<memref::SubViewOp>(
        fn.getArgument(1), ArrayRef<OpFoldResult>{zero},
        ArrayRef<OpFoldResult>{n}, ArrayRef<OpFoldResult>{one});
    Value out = b.create<memref::SubViewOp>(
        fn.getArgument(3), ArrayRef<OpFoldResult>{zero, zero},
        ArrayRef<OpFoldResult>{one, n}, ArrayRef<OpFoldResult>{one, one});
    b.create<MatmulOp>(fn.getArgument(0), w, rows, Value(), Value(), out,
                       sumLanes(md));
    b.create<func::ReturnOp>();
  }
  // ternc_head_bounds() -> the copy's row bounds
  {
    ImplicitLocOpBuilder b =
        makeFn("ternc_head_bounds", ob.getFunctionType({}, {boundsType}))
            .second;
    b.create<func::ReturnOp>(
        ValueRange{b.create<GetParamBoundsOp>(boundsType, screen)});
  }
}

/// The symbol of a store entry.
std::string symbolOf(StringRef name) {
  std::string s = name.str();
  std::replace(s.begin(), s.end(), '.', '_');
  return "p_" + s;
}

Type elementType(OpBuilder &b, ternc::DenseType t) {
  switch (t) {
  case ternc::DenseType::F16:
    return b.getF16Type();
  case ternc::DenseType::BF16:
    return b.getBF16Type();
  default:
    return b.getF32Type();
  }
}

/// Declares every blob entry the forward pass reads. Ternary scales follow
/// the store (per tensor, or per block for TQ files with varying block
/// scales); the embedding and the LM head keep the checkpoint's precision.
llvm::Error declareWeights(OpBuilder &b, Location loc,
                           const ModelDescription &md, bool int8Head,
                           bool screenHead) {
  llvm::StringSet<llvm::MallocAllocator> seen;
  auto dense = [&](StringRef name, ArrayRef<int64_t> shape, bool native) {
    if (name.empty() || !seen.insert(name).second)
      return;
    Type elem =
        native ? elementType(b, md.store->nativeType(name)) : b.getF32Type();
    b.create<ParamOp>(loc, b.getStringAttr(symbolOf(name)),
                      TypeAttr::get(MemRefType::get(shape, elem)),
                      b.getStringAttr(name), UnitAttr(), UnitAttr(),
                      IntegerAttr());
  };
  auto ternary = [&](StringRef name, int64_t rows,
                     int64_t cols) -> llvm::Error {
    auto tensor = md.store->ternary(name, rows, cols);
    if (!tensor)
      return tensor.takeError();
    ScaleGranularity scale = ScaleGranularity::PerTensor;
    int64_t group = 0;
    switch ((*tensor)->scaleKind()) {
    case ternc::ScaleKind::PerTensor:
      break;
    case ternc::ScaleKind::PerRow:
      scale = ScaleGranularity::PerRow;
      break;
    case ternc::ScaleKind::PerBlock:
      scale = ScaleGranularity::PerBlock;
      group = (*tensor)->groupSize();
      break;
    }
    // Probing the scales may have read the whole tensor (TQ block scales,
    // master weights): let its pages go until the blob writer needs them.
    md.store->release(name);
    auto type = TernaryType::get(b.getContext(), rows, cols, scale, group,
                                 WeightLayout::Canonical, 0, 0);
    b.create<WeightOp>(loc, b.getStringAttr(symbolOf(name)),
                       TypeAttr::get(type), b.getStringAttr(name),
                       IntegerAttr());
    return llvm::Error::success();
  };
  dense(md.embedding, {md.vocab, md.dim}, /*native=*/true);
  dense(md.finalNorm, {md.dim}, false);
  auto int8Copy = [&](StringRef symbol, bool bounds) {
    b.create<ParamOp>(
        loc, b.getStringAttr(symbol),
        TypeAttr::get(MemRefType::get({md.vocab, md.dim}, b.getI8Type())),
        b.getStringAttr(md.head), b.getUnitAttr(),
        bounds ? b.getUnitAttr() : UnitAttr(), IntegerAttr());
  };
  if (int8Head) {
    int8Copy(headSymbol, false);
  } else {
    dense(md.head, {md.vocab, md.dim}, /*native=*/true);
    if (screenHead)
      int8Copy(screenSymbol, true);
  }
  for (const ternc::LayerNames &ln : md.layerNames) {
    dense(ln.attnNorm, {md.dim}, false);
    dense(ln.ffnNorm, {md.dim}, false);
    dense(ln.attnSubNorm, {md.dim}, false);
    dense(ln.ffnSubNorm, {md.hiddenDim}, false);
    struct {
      const std::string &name;
      int64_t rows, cols;
    } lin[] = {{ln.wq, md.dim, md.dim},         {ln.wk, md.kvDim(), md.dim},
               {ln.wv, md.kvDim(), md.dim},     {ln.wo, md.dim, md.dim},
               {ln.gate, md.hiddenDim, md.dim}, {ln.up, md.hiddenDim, md.dim},
               {ln.down, md.dim, md.hiddenDim}};
    for (auto &x : lin)
      if (llvm::Error e = ternary(x.name, x.rows, x.cols))
        return e;
  }
  return llvm::Error::success();
}

} // namespace

llvm::Expected<OwningOpRef<ModuleOp>>
ternc::buildModel(MLIRContext *ctx, const ModelDescription &md,
                  const BuildOptions &options) {
  ctx->loadDialect<TernDialect, arith::ArithDialect, func::FuncDialect,
                   memref::MemRefDialect, LLVM::LLVMDialect, scf::SCFDialect>();
  Location loc = FileLineColLoc::get(ctx, md.path, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder ob(ctx);
  ob.setInsertionPointToEnd(module->getBody());
  const bool screened = options.screenHead && !options.int8Head;
  if (llvm::Error e = declareWeights(ob, loc, md, options.int8Head, screened))
    return std::move(e);

  const int64_t context = options.context ? options.context : md.context;
  const int64_t p = std::max<int64_t>(1, options.prefillTokens);
  const int64_t scratchBytes =
      std::max(ForwardEmitter::scratchBytes(md, 1, context),
               ForwardEmitter::scratchBytes(md, p, context));
  auto f32 = ob.getF32Type();
  // Keys in tiles of kKeyTile positions (see tern.attention), values one
  // row per position.
  auto keyCacheType =
      MemRefType::get({md.layers, int64_t(llvm::divideCeil(context, kKeyTile)),
                       md.kvDim(), kKeyTile},
                      f32);
  auto cacheType = MemRefType::get({md.layers, context, md.kvDim()}, f32);
  auto scratchType = MemRefType::get({scratchBytes}, ob.getI8Type());
  auto logitsType = MemRefType::get({1, md.vocab}, f32);

  // ternc_decode(token, pos, kc, vc, scratch, logits)
  {
    auto type =
        ob.getFunctionType({ob.getI32Type(), ob.getIndexType(), keyCacheType,
                            cacheType, scratchType, logitsType},
                           {});
    auto fn = ob.create<func::FuncOp>(loc, "ternc_decode", type);
    Block *entry = fn.addEntryBlock();
    ImplicitLocOpBuilder b(loc, ctx);
    b.setInsertionPointToStart(entry);
    // The token goes to a one-element buffer on the stack.
    Value tokens =
        b.create<memref::AllocaOp>(MemRefType::get({1}, b.getI32Type()));
    b.create<memref::StoreOp>(entry->getArgument(0), tokens,
                              ValueRange{b.create<arith::ConstantIndexOp>(0)});
    ForwardEmitter fe(b, md, 1, context, entry->getArgument(4), screened);
    fe.emit(tokens, b.create<arith::ConstantIndexOp>(1), entry->getArgument(1),
            entry->getArgument(2), entry->getArgument(3),
            entry->getArgument(5));
    b.create<func::ReturnOp>();
  }
  // ternc_prefill(tokens[P], n, pos, kc, vc, scratch, logits)
  {
    auto type = ob.getFunctionType(
        {MemRefType::get({p}, ob.getI32Type()), ob.getIndexType(),
         ob.getIndexType(), keyCacheType, cacheType, scratchType, logitsType},
        {});
    auto fn = ob.create<func::FuncOp>(loc, "ternc_prefill", type);
    Block *entry = fn.addEntryBlock();
    ImplicitLocOpBuilder b(loc, ctx);
    b.setInsertionPointToStart(entry);
    ForwardEmitter fe(b, md, p, context, entry->getArgument(5), screened);
    fe.emit(entry->getArgument(0), entry->getArgument(1), entry->getArgument(2),
            entry->getArgument(3), entry->getArgument(4),
            entry->getArgument(6));
    b.create<func::ReturnOp>();
  }

  if (screened)
    emitScreenedHead(ob, loc, md, options.screenInt8);

  // The configuration the runtime reads (see ConfigIndex).
  SmallVector<int64_t> config(kConfigCount, 0);
  config[kConfigVersion] = kConfigFormatVersion;
  config[kConfigDim] = md.dim;
  config[kConfigLayers] = md.layers;
  config[kConfigKvDim] = md.kvDim();
  config[kConfigContext] = context;
  config[kConfigVocab] = md.vocab;
  config[kConfigPrefillTokens] = p;
  config[kConfigScratchBytes] = scratchBytes;
  config[kConfigBos] = md.bos;
  config[kConfigEos] = md.eos;
  config[kConfigHeadInput] =
      screened ? ForwardEmitter::headInputOffset(md, 1, context) : -1;
  config[kConfigPrefillHeadInput] =
      screened ? ForwardEmitter::headInputOffset(md, p, context) : -1;
  if (screened)
    config[kConfigHeadRowBytes] =
        md.dim * (elementType(ob, md.store->nativeType(md.head))
                      .getIntOrFloatBitWidth() /
                  8);
  auto arrayType = LLVM::LLVMArrayType::get(ob.getI64Type(), kConfigCount);
  ob.create<LLVM::GlobalOp>(
      loc, arrayType, /*isConstant=*/true, LLVM::Linkage::External,
      "ternc_config",
      DenseElementsAttr::get(
          RankedTensorType::get({kConfigCount}, ob.getI64Type()),
          ArrayRef<int64_t>(config)));
  if (failed(mlir::verify(*module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the built module does not verify");
  return std::move(module);
}

void ternc::attachTokenizer(ModuleOp module, StringRef serialized) {
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  auto type = LLVM::LLVMArrayType::get(b.getI8Type(), serialized.size());
  b.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/true,
                           LLVM::Linkage::External, "ternc_tokenizer",
                           b.getStringAttr(serialized), /*alignment=*/8);
  b.create<LLVM::GlobalOp>(loc, b.getI64Type(), /*isConstant=*/true,
                           LLVM::Linkage::External, "ternc_tokenizer_size",
                           b.getI64IntegerAttr(serialized.size()));
}
