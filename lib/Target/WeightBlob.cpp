//===- WeightBlob.cpp - write the run-time weight blob --------------------===//

#include "ternc/Target/WeightBlob.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"
#include "ternc/Import/WeightStore.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstring>
#include <vector>

using namespace llvm;
using namespace mlir::tern;
using ternc::ScaleKind;
using ternc::TernaryTensor;

static uint8_t code(int8_t value) { return uint8_t(value + 1); }

void ternc::packTernaryRow(TernaryType type, const int8_t *values,
                           uint8_t *out) {
  const int64_t cols = type.getCols();
  // Padding elements get code 1 (value 0); the kernels also mask the
  // activations there, so either guarantee alone keeps results exact.
  auto at = [&](int64_t k) -> uint8_t {
    return k < cols ? code(values[k]) : 1;
  };
  if (type.getLayout() == WeightLayout::Canonical) {
    for (int64_t i = 0; i < type.getRowBytes(); ++i)
      out[i] = at(4 * i) | at(4 * i + 1) << 2 | at(4 * i + 2) << 4 |
               at(4 * i + 3) << 6;
    return;
  }
  const int64_t chunk = type.getChunk(), part = chunk / 4;
  for (int64_t c = 0; c < type.getPaddedCols() / chunk; ++c)
    for (int64_t p = 0; p < part; ++p) {
      int64_t k = c * chunk + p;
      out[c * part + p] = at(k) | at(k + part) << 2 | at(k + 2 * part) << 4 |
                          at(k + 3 * part) << 6;
    }
}

static ScaleKind scaleKindOf(TernaryType type) {
  switch (type.getScale()) {
  case ScaleGranularity::PerTensor:
    return ScaleKind::PerTensor;
  case ScaleGranularity::PerRow:
    return ScaleKind::PerRow;
  case ScaleGranularity::PerBlock:
    return ScaleKind::PerBlock;
  }
  llvm_unreachable("unknown scale granularity");
}

static std::string typeString(TernaryType type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << mlir::Type(type);
  return s;
}

static const char *scaleKindName(ScaleKind kind) {
  switch (kind) {
  case ScaleKind::PerTensor:
    return "per_tensor";
  case ScaleKind::PerRow:
    return "per_row";
  case ScaleKind::PerBlock:
    return "block";
  }
  return "?";
}

Error ternc::writeWeightBlob(mlir::ModuleOp module, const WeightStore &store,
                             raw_ostream &os) {
  auto sizeAttr =
      module->getAttrOfType<mlir::IntegerAttr>(kWeightsSizeAttrName);
  if (!sizeAttr)
    return createStringError(inconvertibleErrorCode(),
                             "module has no blob layout: run "
                             "tern-pack-weights first");
  const uint64_t total = sizeAttr.getInt();
  uint64_t written = 0;
  std::vector<int8_t> values;
  std::vector<uint8_t> packed;
  static const char zeros[TernaryType::kEntryAlign] = {};
  auto pad = [&](uint64_t to) {
    while (written < to) {
      uint64_t n = std::min<uint64_t>(to - written, sizeof(zeros));
      os.write(zeros, n);
      written += n;
    }
  };

  for (WeightOp weight : module.getOps<WeightOp>()) {
    TernaryType type = weight.getTernaryType();
    if (!weight.getOffset() || uint64_t(*weight.getOffset()) < written)
      return createStringError(
          inconvertibleErrorCode(),
          "weight @%s has no offset or overlaps the previous one: run "
          "tern-pack-weights",
          weight.getSymName().str().c_str());
    auto tensor =
        store.ternary(weight.getSource(), type.getRows(), type.getCols());
    if (!tensor)
      return tensor.takeError();
    const TernaryTensor &t = **tensor;
    ScaleKind want = scaleKindOf(type);
    // One scale is the same statement per tensor or per row of one row.
    bool same = t.scaleKind() == want ||
                (type.getRows() == 1 && want != ScaleKind::PerBlock &&
                 t.scaleKind() != ScaleKind::PerBlock);
    if (!same ||
        (want == ScaleKind::PerBlock && t.groupSize() != type.getGroupSize()))
      return createStringError(
          inconvertibleErrorCode(),
          formatv("{0}: tensor '{1}' has {2} scales (group {3}) but the IR "
                  "declares {4}",
                  store.describe(), t.name(), scaleKindName(t.scaleKind()),
                  t.groupSize(), typeString(type))
              .str());

    pad(*weight.getOffset());
    values.resize(type.getCols());
    packed.resize(type.getRowBytes());
    for (int64_t r = 0; r < type.getRows(); ++r) {
      if (Error e = t.decodeRow(r, values.data()))
        return e;
      packTernaryRow(type, values.data(), packed.data());
      os.write(reinterpret_cast<const char *>(packed.data()), packed.size());
      written += packed.size();
    }
    pad(*weight.getOffset() + type.getScaleOffset());
    os.write(reinterpret_cast<const char *>(t.scales().data()),
             t.scales().size() * sizeof(float));
    written += t.scales().size() * sizeof(float);
  }
  pad(total);
  if (written != total)
    return createStringError(inconvertibleErrorCode(),
                             "blob layout inconsistent: wrote %llu of %llu "
                             "bytes",
                             (unsigned long long)written,
                             (unsigned long long)total);
  return Error::success();
}
