//===- TernOps.cpp - tern operations --------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tern;

/// The quantization scheme, printed only when it is not the default.
static ParseResult parseScheme(OpAsmParser &parser, QuantSchemeAttr &scheme) {
  StringRef word;
  if (succeeded(parser.parseOptionalKeyword(&word, {"bitnet", "bitllama2c"}))) {
    scheme =
        QuantSchemeAttr::get(parser.getContext(), *symbolizeQuantScheme(word));
    return success();
  }
  scheme = QuantSchemeAttr::get(parser.getContext(), QuantScheme::BitNet);
  return success();
}

static void printScheme(OpAsmPrinter &printer, Operation *,
                        QuantSchemeAttr scheme) {
  if (scheme && scheme.getValue() != QuantScheme::BitNet)
    printer << stringifyQuantScheme(scheme.getValue());
}

/// A comma-separated list of weight symbols: `@wq, @wk, @wv`.
static ParseResult parseWeightList(OpAsmParser &parser, ArrayAttr &weights) {
  SmallVector<Attribute> symbols;
  auto parseOne = [&]() -> ParseResult {
    FlatSymbolRefAttr symbol;
    if (parser.parseAttribute(symbol))
      return failure();
    symbols.push_back(symbol);
    return success();
  };
  if (parser.parseCommaSeparatedList(parseOne))
    return failure();
  weights = parser.getBuilder().getArrayAttr(symbols);
  return success();
}

static void printWeightList(OpAsmPrinter &printer, Operation *,
                            ArrayAttr weights) {
  llvm::interleaveComma(weights, printer,
                        [&](Attribute a) { printer.printAttribute(a); });
}

#define GET_OP_CLASSES
#include "ternc/Dialect/Tern/IR/TernOps.cpp.inc"

/// True when two dimensions may be equal (either is dynamic or both match).
static bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? "?" : std::to_string(d);
}

/// Checks that the M dimension agrees between the activation operands.
static LogicalResult verifyRows(Operation *op, MemRefType input,
                                MemRefType scale, StringRef scaleName) {
  if (!compatible(input.getDimSize(0), scale.getDimSize(0)))
    return op->emitOpError()
           << "has " << dimStr(input.getDimSize(0)) << " input rows but "
           << scaleName << " has " << dimStr(scale.getDimSize(0)) << " entries";
  return success();
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getSource().empty())
    return emitOpError() << "needs the name of its weight-store entry";
  if (std::optional<int64_t> offset = getOffset()) {
    if (*offset < 0 || *offset % TernaryType::kEntryAlign != 0)
      return emitOpError() << "offset " << *offset
                           << " must be a non-negative multiple of "
                           << TernaryType::kEntryAlign;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  MemRefType in = getInput().getType();
  MemRefType out = getOutput().getType();
  if (ShapedType::isDynamic(in.getDimSize(1)))
    return emitOpError() << "needs a static K (columns) dimension";
  if (!compatible(in.getDimSize(0), out.getDimSize(0)) ||
      in.getDimSize(1) != out.getDimSize(1))
    return emitOpError() << "input shape [" << dimStr(in.getDimSize(0)) << ", "
                         << in.getDimSize(1) << "] and output shape ["
                         << dimStr(out.getDimSize(0)) << ", "
                         << dimStr(out.getDimSize(1)) << "] differ";
  return verifyRows(*this, in, getScale().getType(), "scale");
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  MemRefType in = getInput().getType();
  if (getWeights().empty())
    return emitOpError() << "needs at least one weight";
  if (getWeights().size() != getOutputs().size())
    return emitOpError() << "has " << getWeights().size() << " weights but "
                         << getOutputs().size() << " outputs";
  if (ShapedType::isDynamic(in.getDimSize(1)))
    return emitOpError() << "needs static K (input columns)";
  for (Value output : getOutputs()) {
    auto out = cast<MemRefType>(output.getType());
    if (ShapedType::isDynamic(out.getDimSize(1)))
      return emitOpError() << "needs static N (output columns)";
    if (!compatible(in.getDimSize(0), out.getDimSize(0)))
      return emitOpError() << "has " << dimStr(in.getDimSize(0))
                           << " input rows but " << dimStr(out.getDimSize(0))
                           << " output rows";
  }
  if (Value residual = getResidual()) {
    if (getOutputs().size() != 1)
      return emitOpError() << "takes a residual with one weight only";
    auto r = cast<MemRefType>(residual.getType());
    auto out = cast<MemRefType>(getOutputs()[0].getType());
    if (!compatible(r.getDimSize(0), out.getDimSize(0)) ||
        r.getDimSize(1) != out.getDimSize(1))
      return emitOpError() << "residual and output shapes differ";
  }
  if (Value glu = getGluOutput()) {
    if (getOutputs().size() != 2 || getResidual())
      return emitOpError() << "takes a glu with two weights (gate, up) and "
                              "no residual";
    auto m = cast<MemRefType>(glu.getType());
    for (Value output : getOutputs()) {
      auto out = cast<MemRefType>(output.getType());
      if (!compatible(m.getDimSize(0), out.getDimSize(0)) ||
          m.getDimSize(1) != out.getDimSize(1))
        return emitOpError() << "glu output and output shapes differ";
    }
  }
  return verifyRows(*this, in, getInputScale().getType(), "input_scale");
}

/// Looks up the tern.weight named by `op`'s `weight` attribute.
static FailureOr<WeightOp> lookupWeight(Operation *op, FlatSymbolRefAttr symbol,
                                        SymbolTableCollection &symbolTable) {
  auto weight = symbolTable.lookupNearestSymbolFrom<WeightOp>(op, symbol);
  if (!weight)
    return op->emitOpError()
           << "references " << symbol << ", which is not a tern.weight";
  return weight;
}

LogicalResult LinearOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  int64_t k = getInput().getType().getDimSize(1);
  for (auto [i, output] : llvm::enumerate(getOutputs())) {
    FlatSymbolRefAttr symbol = getWeight(i);
    FailureOr<WeightOp> weight = lookupWeight(*this, symbol, symbolTable);
    if (failed(weight))
      return failure();
    TernaryType type = weight->getTernaryType();
    int64_t n = cast<MemRefType>(output.getType()).getDimSize(1);
    if (getScheme() == QuantScheme::BitLlama2c &&
        type.getScale() != ScaleGranularity::PerTensor)
      return emitOpError() << "the bitllama2c scheme needs per_tensor weight "
                              "scales, but "
                           << symbol << " has "
                           << stringifyScaleGranularity(type.getScale());
    if (type.getRows() != n || type.getCols() != k)
      return emitOpError() << "computes [M, " << k << "] x [" << k << ", " << n
                           << "] but " << symbol << " is " << type.getRows()
                           << "x" << type.getCols() << " (N x K)";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// WeightDataOp
//===----------------------------------------------------------------------===//

LogicalResult
WeightDataOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FailureOr<WeightOp> weight =
      lookupWeight(*this, getWeightAttr(), symbolTable);
  if (failed(weight))
    return failure();
  if (!weight->getOffset())
    return emitOpError() << getWeightAttr()
                         << " has no blob offset: run tern-pack-weights first";
  int64_t bytes = weight->getTernaryType().getPackedBytes();
  MemRefType type = getData().getType();
  if (type.getRank() != 1 || type.getDimSize(0) != bytes)
    return emitOpError() << "result must be memref<" << bytes
                         << "xi8>, the packed size of " << getWeightAttr();
  return success();
}

//===----------------------------------------------------------------------===//
// BlobEntryOpInterface
//===----------------------------------------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernInterfaces.cpp.inc"

int64_t WeightOp::getEntryBytes() { return getTernaryType().getPackedBytes(); }
StringRef WeightOp::getStoreName() { return getSource(); }
std::optional<int64_t> WeightOp::getBlobOffset() { return getOffset(); }
void WeightOp::setBlobOffset(int64_t offset) {
  setOffsetAttr(Builder(getContext()).getI64IntegerAttr(offset));
}

int64_t ParamOp::getDataBytes() {
  MemRefType type = getMemRefType();
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

int64_t ParamOp::getScalesOffset() {
  return llvm::alignTo(getDataBytes(), TernaryType::kEntryAlign);
}

int64_t ParamOp::getBoundsOffset() {
  return llvm::alignTo(getScalesOffset() + 4 * getMemRefType().getDimSize(0),
                       TernaryType::kEntryAlign);
}

int64_t ParamOp::getEntryBytes() {
  int64_t bytes = getDataBytes();
  if (getRowScales())
    bytes = getScalesOffset() + 4 * getMemRefType().getDimSize(0);
  if (getRowBounds())
    bytes = getBoundsOffset() + 8 * getMemRefType().getDimSize(0);
  return llvm::alignTo(bytes, TernaryType::kEntryAlign);
}
StringRef ParamOp::getStoreName() { return getSource(); }
std::optional<int64_t> ParamOp::getBlobOffset() { return getOffset(); }
void ParamOp::setBlobOffset(int64_t offset) {
  setOffsetAttr(Builder(getContext()).getI64IntegerAttr(offset));
}

//===----------------------------------------------------------------------===//
// ParamOp, GetParamOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getSource().empty())
    return emitOpError() << "needs the name of its weight-store entry";
  if (!getMemRefType().getLayout().isIdentity())
    return emitOpError() << "must be a contiguous (identity layout) memref";
  bool isI8 = getMemRefType().getElementType().isInteger(8);
  if (isI8 != bool(getRowScales()) || (isI8 && getMemRefType().getRank() != 2))
    return emitOpError() << "an i8 parameter is a [N, K] matrix with "
                            "row_scales, and only it has them";
  if (getRowBounds() && !getRowScales())
    return emitOpError() << "row_bounds needs row_scales";
  if (std::optional<int64_t> offset = getOffset())
    if (*offset < 0 || *offset % TernaryType::kEntryAlign != 0)
      return emitOpError() << "offset " << *offset
                           << " must be a non-negative multiple of "
                           << TernaryType::kEntryAlign;
  return success();
}

LogicalResult GetParamOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto param =
      symbolTable.lookupNearestSymbolFrom<ParamOp>(*this, getParamAttr());
  if (!param)
    return emitOpError() << "references " << getParamAttr()
                         << ", which is not a tern.param";
  if (param.getMemRefType() != getData().getType())
    return emitOpError() << "result type " << getData().getType()
                         << " differs from " << getParamAttr() << "'s "
                         << param.getMemRefType();
  return success();
}

/// A per-row array of an int8 parameter (scales or bounds): the named
/// parameter must have it, and the result is f32 [N].
template <typename OpTy>
static LogicalResult verifyRowArray(OpTy op, SymbolTableCollection &symbols,
                                    bool (*has)(ParamOp), StringRef what,
                                    int64_t perRow) {
  auto param = symbols.lookupNearestSymbolFrom<ParamOp>(op, op.getParamAttr());
  if (!param || !has(param))
    return op.emitOpError() << "references " << op.getParamAttr()
                            << ", which is not a tern.param with " << what;
  int64_t rows = perRow * param.getMemRefType().getDimSize(0);
  if (op.getData().getType() !=
      MemRefType::get({rows}, Float32Type::get(op.getContext())))
    return op.emitOpError() << "result must be memref<" << rows << "xf32>";
  return success();
}

LogicalResult
GetParamScalesOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyRowArray(
      *this, symbolTable, [](ParamOp p) { return bool(p.getRowScales()); },
      "row_scales", 1);
}

LogicalResult
GetParamBoundsOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyRowArray(
      *this, symbolTable, [](ParamOp p) { return bool(p.getRowBounds()); },
      "row_bounds", 2);
}

//===----------------------------------------------------------------------===//
// Model ops
//===----------------------------------------------------------------------===//

/// Checks that `b` has the shape of `a` (dimensions equal where static) and
/// that the column dimension is static.
static LogicalResult verifySameRows(Operation *op, Value a, Value b,
                                    StringRef aName, StringRef bName) {
  auto ta = cast<MemRefType>(a.getType()), tb = cast<MemRefType>(b.getType());
  if (!compatible(ta.getDimSize(0), tb.getDimSize(0)) ||
      !compatible(ta.getDimSize(1), tb.getDimSize(1)))
    return op->emitOpError() << aName << " [" << dimStr(ta.getDimSize(0))
                             << ", " << dimStr(ta.getDimSize(1)) << "] and "
                             << bName << " [" << dimStr(tb.getDimSize(0))
                             << ", " << dimStr(tb.getDimSize(1)) << "] differ";
  return success();
}

static LogicalResult verifyStaticCols(Operation *op, Value v, StringRef name) {
  if (cast<MemRefType>(v.getType()).isDynamicDim(1))
    return op->emitOpError() << "needs a static column count for " << name;
  return success();
}

LogicalResult EmbeddingOp::verify() {
  MemRefType table = getTable().getType(), out = getOutput().getType();
  if (failed(verifyStaticCols(*this, getTable(), "table")))
    return failure();
  if (table.getDimSize(1) != out.getDimSize(1))
    return emitOpError() << "table rows have " << table.getDimSize(1)
                         << " features but output rows "
                         << dimStr(out.getDimSize(1));
  if (!compatible(getIds().getType().getDimSize(0), out.getDimSize(0)))
    return emitOpError() << "has " << dimStr(getIds().getType().getDimSize(0))
                         << " ids but " << dimStr(out.getDimSize(0))
                         << " output rows";
  return success();
}

/// What tern.rms_norm and tern.rms_norm_quantize require of their input,
/// output, eps and optional weight.
static LogicalResult verifyNorm(Operation *op, TypedValue<MemRefType> input,
                                Value output, Value weight, APFloat eps,
                                int64_t lanes) {
  if (failed(verifyStaticCols(op, input, "input")) ||
      failed(verifySameRows(op, input, output, "input", "output")))
    return failure();
  if (eps.convertToFloat() < 0.0f)
    return op->emitOpError() << "eps must not be negative";
  if (lanes < 1 || lanes > 64 || (lanes & (lanes - 1)))
    return op->emitOpError()
           << "lanes must be a power of two in [1, 64], got " << lanes;
  int64_t d = input.getType().getDimSize(1);
  if (weight && cast<MemRefType>(weight.getType()).getDimSize(0) != d)
    return op->emitOpError()
           << "weight has "
           << dimStr(cast<MemRefType>(weight.getType()).getDimSize(0))
           << " entries for rows of " << d;
  return success();
}

LogicalResult RMSNormOp::verify() {
  return verifyNorm(*this, getInput(), getOutput(), getWeight(), getEps(),
                    getLanes());
}

LogicalResult RMSNormQuantizeOp::verify() {
  if (failed(verifyNorm(*this, getInput(), getOutput(), getWeight(), getEps(),
                        getLanes())))
    return failure();
  int64_t d = getInput().getType().getDimSize(1);
  MemRefType q = getQuantized().getType();
  if (!compatible(q.getDimSize(0), getInput().getType().getDimSize(0)) ||
      q.getDimSize(1) != d)
    return emitOpError() << "quantized rows must have the input's shape";
  return verifyRows(*this, q, getScale().getType(), "scale");
}

LogicalResult RopeOp::verify() {
  if (failed(verifyStaticCols(*this, getData(), "data")))
    return failure();
  int64_t d = getData().getType().getDimSize(1), hd = getHeadDim();
  if (hd < 2 || hd % 2 != 0 || d % hd != 0)
    return emitOpError() << "head_dim " << hd << " must be even and divide the "
                         << d << " features of a row";
  if (!(getTheta().convertToFloat() > 0.0f))
    return emitOpError() << "theta must be positive";
  if (Value table = getTable()) {
    auto type = cast<MemRefType>(table.getType());
    int64_t rows = getData().getType().getDimSize(0);
    if (type.getDimSize(1) != hd / 2 || type.getDimSize(2) != 2 ||
        type.getDimSize(0) != rows)
      return emitOpError() << "table must be [" << dimStr(rows) << ", "
                           << hd / 2 << ", 2] (a row's cos and sin for each "
                           << "of head_dim/2 pairs), not ["
                           << dimStr(type.getDimSize(0)) << ", "
                           << dimStr(type.getDimSize(1)) << ", "
                           << dimStr(type.getDimSize(2)) << "]";
  }
  return success();
}

LogicalResult RopeTableOp::verify() {
  auto type = getTable().getType();
  int64_t hd = getHeadDim();
  if (hd < 2 || hd % 2 != 0)
    return emitOpError() << "head_dim " << hd << " must be even";
  if (type.getDimSize(1) != hd / 2 || type.getDimSize(2) != 2)
    return emitOpError() << "table must be [rows, " << hd / 2
                         << ", 2] (cos and sin for each of head_dim/2 pairs), "
                            "not [rows, "
                         << dimStr(type.getDimSize(1)) << ", "
                         << dimStr(type.getDimSize(2)) << "]";
  if (!(getTheta().convertToFloat() > 0.0f))
    return emitOpError() << "theta must be positive";
  return success();
}

/// A key cache [S/kKeyTile, features, kKeyTile] (tern.attention,
/// tern.store_keys).
static LogicalResult verifyKeyTiles(Operation *op, MemRefType cache) {
  if (cache.getDimSize(2) == kKeyTile)
    return success();
  return op->emitOpError() << "the key cache must be in tiles of " << kKeyTile
                           << " positions ([S/" << kKeyTile << ", features, "
                           << kKeyTile << "]), not "
                           << dimStr(cache.getDimSize(2));
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getHeads(), kvHeads = getKvHeads(), hd = getHeadDim();
  if (heads < 1 || kvHeads < 1 || hd < 1 || heads % kvHeads != 0)
    return emitOpError() << "heads (" << heads
                         << ") must be a positive multiple of kv_heads ("
                         << kvHeads << ")";
  for (Value v : {getQuery(), getKeys(), getValues(), getOutput()})
    if (failed(verifyStaticCols(*this, v, "every operand")))
      return failure();
  if (getQuery().getType().getDimSize(1) != heads * hd)
    return emitOpError() << "queries have "
                         << getQuery().getType().getDimSize(1)
                         << " features, not heads * head_dim = " << heads * hd;
  MemRefType keys = getKeys().getType();
  if (failed(verifyKeyTiles(*this, keys)))
    return failure();
  if (keys.getDimSize(1) != kvHeads * hd ||
      getValues().getType().getDimSize(1) != kvHeads * hd)
    return emitOpError() << "the caches must have kv_heads * head_dim = "
                         << kvHeads * hd
                         << " features (dimension 1 of the key cache, "
                            "columns of the value cache)";
  const int64_t cacheLen = ShapedType::isDynamic(keys.getDimSize(0))
                               ? ShapedType::kDynamic
                               : keys.getDimSize(0) * kKeyTile;
  const int64_t valuesLen = getValues().getType().getDimSize(0);
  if (!ShapedType::isDynamic(cacheLen) && !ShapedType::isDynamic(valuesLen) &&
      (valuesLen > cacheLen || valuesLen <= cacheLen - kKeyTile))
    return emitOpError() << "key and value caches differ in length ("
                         << keys.getDimSize(0) << " tiles of " << kKeyTile
                         << " positions for " << valuesLen << ")";
  MemRefType ws = getScores().getType();
  if (ws.isDynamicDim(0) || ws.getDimSize(0) < heads ||
      ws.getDimSize(0) % heads != 0 ||
      (!ShapedType::isDynamic(cacheLen) &&
       (ws.isDynamicDim(1) || ws.getDimSize(1) < cacheLen)))
    return emitOpError() << "the scores workspace must be [heads * rows, >= "
                            "cache length] = ["
                         << heads << " * rows, >= " << dimStr(cacheLen) << "]";
  return verifySameRows(*this, getQuery(), getOutput(), "query", "output");
}

LogicalResult StoreKeysOp::verify() {
  if (failed(verifyStaticCols(*this, getKeys(), "every operand")))
    return failure();
  MemRefType cache = getCache().getType();
  if (failed(verifyKeyTiles(*this, cache)))
    return failure();
  if (cache.isDynamicDim(1) ||
      cache.getDimSize(1) != getKeys().getType().getDimSize(1))
    return emitOpError() << "the keys have "
                         << getKeys().getType().getDimSize(1)
                         << " features but the cache "
                         << dimStr(cache.getDimSize(1));
  return success();
}

LogicalResult GluOp::verify() {
  return success(
      succeeded(verifySameRows(*this, getGate(), getUp(), "gate", "up")) &&
      succeeded(
          verifySameRows(*this, getGate(), getOutput(), "gate", "output")));
}

LogicalResult AddOp::verify() {
  return success(
      succeeded(verifySameRows(*this, getLhs(), getRhs(), "lhs", "rhs")) &&
      succeeded(verifySameRows(*this, getLhs(), getOutput(), "lhs", "output")));
}

LogicalResult MatmulOp::verify() {
  MemRefType in = getInput().getType(), w = getWeight().getType(),
             out = getOutput().getType();
  // With `rows` the output's column count is the number of chosen rows,
  // known at run time only.
  for (Value v : {getInput(), getWeight(), getOutput()})
    if ((v != getOutput() || !getRows()) &&
        failed(verifyStaticCols(*this, v,
                                "the input, the weight and an "
                                "output without rows")))
      return failure();
  if (in.getDimSize(1) != w.getDimSize(1))
    return emitOpError() << "input has " << in.getDimSize(1)
                         << " columns but the weight " << w.getDimSize(1);
  if (Value rows = getRows()) {
    int64_t n = cast<MemRefType>(rows.getType()).getDimSize(0);
    if (!compatible(n, out.getDimSize(1)))
      return emitOpError() << "rows has " << dimStr(n)
                           << " entries but the output "
                           << dimStr(out.getDimSize(1)) << " columns";
  } else if (!compatible(w.getDimSize(0), out.getDimSize(1))) {
    return emitOpError() << "weight has " << dimStr(w.getDimSize(0))
                         << " rows but the output " << out.getDimSize(1)
                         << " columns";
  }
  if (!compatible(in.getDimSize(0), out.getDimSize(0)))
    return emitOpError() << "input and output row counts differ";
  if (getLanes() < 1 || getLanes() > 64 || (getLanes() & (getLanes() - 1)))
    return emitOpError() << "lanes must be a power of two in [1, 64], got "
                         << getLanes();
  bool isI8 = w.getElementType().isInteger(8);
  bool inputI8 = in.getElementType().isInteger(8);
  if (inputI8 != bool(getInputScales()))
    return emitOpError() << "an i8 input needs its input_scales, and only it "
                            "has them";
  if (inputI8 && !isI8)
    return emitOpError() << "an i8 input needs an i8 weight";
  if (inputI8 && in.isDynamicDim(0))
    return emitOpError() << "an i8 input needs a static row count";
  if (Value s = getInputScales())
    if (!compatible(cast<MemRefType>(s.getType()).getDimSize(0),
                    in.getDimSize(0)))
      return emitOpError() << "input_scales must have one entry per input row";
  if (isI8 && !getWeightScales())
    return emitOpError() << "an i8 weight needs its per-row weight_scales";
  if (Value s = getWeightScales())
    if (!compatible(cast<MemRefType>(s.getType()).getDimSize(0),
                    w.getDimSize(0)))
      return emitOpError() << "weight_scales must have one entry per weight "
                              "row";
  return success();
}
