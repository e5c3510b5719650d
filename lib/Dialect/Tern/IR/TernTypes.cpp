//===- TernTypes.cpp - tern types -----------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernTypes.h"
#include "ternc/Dialect/Tern/IR/TernDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::tern;

#define GET_TYPEDEF_CLASSES
#include "ternc/Dialect/Tern/IR/TernOpsTypes.cpp.inc"

void TernDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "ternc/Dialect/Tern/IR/TernOpsTypes.cpp.inc"
      >();
}

// |acc| <= K * 128 must fit in int32: the exactness guarantee of tern.linear.
static constexpr int64_t kMaxCols = int64_t(1) << 24;
static constexpr int64_t kMaxRows = (int64_t(1) << 31) - 1;

LogicalResult TernaryType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t rows, int64_t cols,
                                  ScaleGranularity scale, int64_t groupSize,
                                  WeightLayout layout, int64_t chunk,
                                  int64_t rowGroup) {
  if (rows < 1 || rows > kMaxRows)
    return emitError() << "ternary rows must be in [1, " << kMaxRows
                       << "], got " << rows;
  if (cols < 1 || cols > kMaxCols)
    return emitError() << "ternary cols must be in [1, " << kMaxCols
                       << "] so that int32 sums stay exact, got " << cols;
  if (scale == ScaleGranularity::PerBlock) {
    if (groupSize < 4 || groupSize % 4 != 0)
      return emitError() << "scale block size must be a positive multiple of "
                            "4, got "
                         << groupSize;
    if (cols % groupSize != 0)
      return emitError() << "scale block size " << groupSize
                         << " does not divide the " << cols << " columns";
  } else if (groupSize != 0) {
    return emitError() << "a block size is only valid with block<G> scales";
  }
  if (layout == WeightLayout::Interleaved) {
    if (chunk < 16 || chunk > 256 || !llvm::isPowerOf2_64(chunk))
      return emitError() << "interleaved chunk must be a power of two in "
                            "[16, 256], got "
                         << chunk;
    if (scale == ScaleGranularity::PerBlock && groupSize % chunk != 0)
      return emitError() << "interleaved chunk " << chunk
                         << " must divide the scale block size " << groupSize;
    if (rowGroup < 1 || rowGroup > 8 || !llvm::isPowerOf2_64(rowGroup))
      return emitError() << "interleaved row group must be 1, 2, 4 or 8, got "
                         << rowGroup;
    return success();
  } else if (layout == WeightLayout::Lookup ||
             layout == WeightLayout::Lookup3) {
    if (chunk != 8 && chunk != 16 && chunk != 32 && chunk != 64)
      return emitError() << stringifyWeightLayout(layout)
                         << " row block must be 8, 16, 32 or 64, got " << chunk;
    if (scale == ScaleGranularity::PerBlock)
      return emitError() << "lut layouts take per_tensor or per_row scales";
  } else if (layout == WeightLayout::Lookup4) {
    if (chunk != 16 && chunk != 64)
      return emitError() << "lut4 row block must be 16 or 64, got " << chunk;
    if (scale == ScaleGranularity::PerBlock)
      return emitError() << "lut layouts take per_tensor or per_row scales";
  } else if (layout == WeightLayout::Lookup5) {
    if (chunk != 64)
      return emitError() << "lut5 row block must be 64, got " << chunk;
    if (scale == ScaleGranularity::PerBlock)
      return emitError() << "lut layouts take per_tensor or per_row scales";
  } else if (chunk != 0) {
    return emitError() << "a chunk size is only valid with interleaved<B>, "
                          "lut<R>, lut3<R>, lut4<R> or lut5<R>";
  }
  if (rowGroup != 0)
    return emitError() << "a row group is only valid with interleaved<B, R>";
  return success();
}

int64_t TernaryType::getBlocksPerRow() const {
  return getScale() == ScaleGranularity::PerBlock ? getCols() / getGroupSize()
                                                  : 1;
}

int64_t TernaryType::getNumScales() const {
  switch (getScale()) {
  case ScaleGranularity::PerTensor:
    return 1;
  case ScaleGranularity::PerRow:
    return getRows();
  case ScaleGranularity::PerBlock:
    return getRows() * getBlocksPerRow();
  }
  llvm_unreachable("unknown scale granularity");
}

int64_t TernaryType::getPaddedCols() const {
  switch (getLayout()) {
  case WeightLayout::Interleaved:
    return llvm::alignTo(getCols(), getChunk());
  case WeightLayout::Lookup3:
    return llvm::alignTo(getCols(), kLookup3Block);
  case WeightLayout::Lookup5:
    return llvm::alignTo(getCols(), kLookup5Block);
  default:
    return llvm::alignTo(getCols(), 4);
  }
}

int64_t TernaryType::getPaddedRows() const {
  if (isLookup())
    return llvm::alignTo(getRows(), getChunk());
  if (getLayout() == WeightLayout::Interleaved)
    return llvm::alignTo(getRows(), getRowGroup());
  return getRows();
}

int64_t TernaryType::getLookupBlockGroup() const {
  if (getLayout() != WeightLayout::Lookup4 &&
      getLayout() != WeightLayout::Lookup5)
    return 1;
  const int64_t blocks = getPaddedRows() / getChunk();
  return std::clamp<int64_t>(llvm::divideCeil(blocks, 8), 1, 32);
}

int64_t TernaryType::getLookupStepCols(WeightLayout layout) {
  switch (layout) {
  case WeightLayout::Lookup3:
    return kLookup3Block;
  case WeightLayout::Lookup5:
    return 5;
  default:
    return 4;
  }
}

int64_t TernaryType::getRowBytes() const {
  // Five weights a byte in lut5, 24 in five bytes in lut3, four 2-bit codes
  // a byte otherwise.
  switch (getLayout()) {
  case WeightLayout::Lookup3:
    return getPaddedCols() / kLookup3Block * kLookup3BlockBytes;
  case WeightLayout::Lookup5:
    return getPaddedCols() / 5;
  default:
    return getPaddedCols() / 4;
  }
}

int64_t TernaryType::getScaleOffset() const {
  return llvm::alignTo(getCodeBytes(), kEntryAlign);
}

int64_t TernaryType::getPackedBytes() const {
  return llvm::alignTo(getScaleOffset() + 4 * getNumScales(), kEntryAlign);
}

TernaryType TernaryType::withLayout(WeightLayout layout, int64_t chunk,
                                    int64_t rowGroup) const {
  if (layout == WeightLayout::Interleaved && rowGroup == 0)
    rowGroup = 1;
  return TernaryType::get(getContext(), getRows(), getCols(), getScale(),
                          getGroupSize(), layout, chunk, rowGroup);
}

// Syntax: `<` N `x` K `,` scale `,` layout `>` where
//   scale  ::= `per_tensor` | `per_row` | `block` `<` G `>`
//   layout ::= `canonical` | `interleaved` `<` B (`,` R)? `>` | `lut` `<` R `>`
//            | `lut3` `<` R `>` | `lut4` `<` R `>` | `lut5` `<` R `>`
Type TernaryType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t, 2> dims;
  if (parser.parseLess() ||
      parser.parseDimensionList(dims, /*allowDynamic=*/false,
                                /*withTrailingX=*/false))
    return {};
  if (dims.size() != 2) {
    parser.emitError(loc) << "ternary type needs a 2-D shape NxK, got "
                          << dims.size() << " dimensions";
    return {};
  }
  if (parser.parseComma())
    return {};

  StringRef scaleWord;
  SMLoc scaleLoc = parser.getCurrentLocation();
  if (parser.parseKeyword(&scaleWord))
    return {};
  std::optional<ScaleGranularity> scale = symbolizeScaleGranularity(scaleWord);
  if (!scale) {
    parser.emitError(scaleLoc) << "expected per_tensor, per_row or block<G>, "
                                  "got '"
                               << scaleWord << "'";
    return {};
  }
  int64_t group = 0;
  if (*scale == ScaleGranularity::PerBlock &&
      (parser.parseLess() || parser.parseInteger(group) ||
       parser.parseGreater()))
    return {};

  StringRef layoutWord;
  SMLoc layoutLoc = parser.getCurrentLocation();
  if (parser.parseComma() || parser.parseKeyword(&layoutWord))
    return {};
  std::optional<WeightLayout> layout = symbolizeWeightLayout(layoutWord);
  if (!layout) {
    parser.emitError(layoutLoc)
        << "expected canonical, interleaved<B>, lut<R>, lut3<R>, lut4<R> or "
           "lut5<R>, "
           "got '"
        << layoutWord << "'";
    return {};
  }
  int64_t chunk = 0, rowGroup = 0;
  if (*layout != WeightLayout::Canonical &&
      (parser.parseLess() || parser.parseInteger(chunk)))
    return {};
  if (*layout == WeightLayout::Interleaved) {
    rowGroup = 1;
    if (succeeded(parser.parseOptionalComma()) && parser.parseInteger(rowGroup))
      return {};
  }
  if (*layout != WeightLayout::Canonical && parser.parseGreater())
    return {};
  if (parser.parseGreater())
    return {};
  return parser.getChecked<TernaryType>(loc, parser.getContext(), dims[0],
                                        dims[1], *scale, group, *layout, chunk,
                                        rowGroup);
}

void TernaryType::print(AsmPrinter &printer) const {
  printer << "<" << getRows() << "x" << getCols() << ", "
          << stringifyScaleGranularity(getScale());
  if (getScale() == ScaleGranularity::PerBlock)
    printer << "<" << getGroupSize() << ">";
  printer << ", " << stringifyWeightLayout(getLayout());
  if (getLayout() != WeightLayout::Canonical) {
    printer << "<" << getChunk();
    if (getRowGroup() > 1)
      printer << ", " << getRowGroup();
    printer << ">";
  }
  printer << ">";
}
