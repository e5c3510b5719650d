//===- WeightBlob.cpp - write the run-time weight blob --------------------===//

#include "ternc/Target/WeightBlob.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"
#include "ternc/Import/WeightStore.h"

#include "ternc/checksum.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

using namespace llvm;
using namespace mlir::tern;
using ternc::ScaleKind;
using ternc::TernaryTensor;

static uint8_t code(int8_t value) { return uint8_t(value + 1); }

/// One row of an interleaved layout, chunk c at out + c * stride (B/4 for
/// a row alone, R * B/4 in a row group); a null `values` is a row of
/// zero weights. Padding elements get code 1 (value 0); the kernels also
/// mask the activations there, so either guarantee alone keeps results
/// exact.
static void packInterleavedRow(TernaryType type, const int8_t *values,
                               uint8_t *out, int64_t stride) {
  const int64_t cols = type.getCols();
  const int64_t chunk = type.getChunk(), part = chunk / 4;
  auto at = [&](int64_t k) -> uint8_t {
    return values && k < cols ? code(values[k]) : 1;
  };
  for (int64_t c = 0; c < type.getPaddedCols() / chunk; ++c)
    for (int64_t p = 0; p < part; ++p) {
      int64_t k = c * chunk + p;
      out[c * stride + p] = at(k) | at(k + part) << 2 | at(k + 2 * part) << 4 |
                            at(k + 3 * part) << 6;
    }
}

void ternc::packTernaryRow(TernaryType type, const int8_t *values,
                           uint8_t *out) {
  if (type.getLayout() != WeightLayout::Canonical)
    return packInterleavedRow(type, values, out, type.getChunk() / 4);
  const int64_t cols = type.getCols();
  auto at = [&](int64_t k) -> uint8_t {
    return k < cols ? code(values[k]) : 1;
  };
  for (int64_t i = 0; i < type.getRowBytes(); ++i)
    out[i] = at(4 * i) | at(4 * i + 1) << 2 | at(4 * i + 2) << 4 |
             at(4 * i + 3) << 6;
}

void ternc::packTernaryRowBlock(TernaryType type, const int8_t *values,
                                int64_t rows, uint8_t *out) {
  const int64_t cols = type.getCols();
  if (type.getLayout() == WeightLayout::Interleaved) {
    // A row group: chunk c of each row in turn, written in place.
    const int64_t group = type.getRowGroup(), part = type.getChunk() / 4;
    for (int64_t l = 0; l < group; ++l)
      packInterleavedRow(type, l < rows ? values + l * cols : nullptr,
                         out + l * part, group * part);
    return;
  }
  const int64_t r = type.getChunk();
  // The balanced-ternary value v = sum_i t_i 3^i of row l's group of
  // `size` weights at columns column(i); past the rows and columns, 0.
  auto groupValue = [&](int64_t l, int size, auto column) {
    int v = 0;
    for (int i = size - 1; i >= 0; --i) {
      const int64_t k = column(i);
      v = 3 * v + (l < rows && k < cols ? values[l * cols + k] : 0);
    }
    return v;
  };
  const WeightLayout layout = type.getLayout();
  if (layout == WeightLayout::Lookup4 || layout == WeightLayout::Lookup5) {
    // One group a byte, |v| | sign << 7: lut4's group g holds columns
    // 4g + i; lut5's group g = 4c + j columns 20c + 4i + j.
    const bool quint = layout == WeightLayout::Lookup5;
    for (int64_t g = 0; g < type.getRowBytes(); ++g)
      for (int64_t l = 0; l < r; ++l) {
        const int v = groupValue(l, quint ? 5 : 4, [&](int i) -> int64_t {
          return quint ? (g / 4) * TernaryType::kLookup5Block + 4 * i + g % 4
                       : 4 * g + i;
        });
        out[g * r + l] = uint8_t(v < 0 ? 0x80 | -v : v);
      }
    return;
  }
  if (layout == WeightLayout::Lookup3) {
    // Group h of column block c: columns 24c + 3h + i, i = 0..2: |v| in a
    // nibble of byte 5c + h / 2, the sign in bit h of byte 5c + 4.
    const int64_t blockBytes = TernaryType::kLookup3BlockBytes;
    std::memset(out, 0, r * type.getRowBytes());
    for (int64_t c = 0; c < type.getPaddedCols() / TernaryType::kLookup3Block;
         ++c)
      for (int64_t h = 0; h < 8; ++h)
        for (int64_t l = 0; l < r; ++l) {
          const int v = groupValue(l, 3, [&](int i) -> int64_t {
            return c * TernaryType::kLookup3Block + 3 * h + i;
          });
          const int mag = v < 0 ? -v : v;
          out[(blockBytes * c + h / 2) * r + l] |= uint8_t(mag << 4 * (h % 2));
          if (v < 0)
            out[(blockBytes * c + 4) * r + l] |= uint8_t(1 << h);
        }
    return;
  }
  // Rows past `rows` and columns past `cols` are zero weights (code 1).
  auto at = [&](int64_t row, int64_t k) -> uint8_t {
    return row < rows && k < cols ? code(values[row * cols + k]) : 1;
  };
  auto pair = [&](int64_t row, int64_t k) -> uint8_t {
    return 3 * at(row, k) + at(row, k + 1);
  };
  for (int64_t j = 0; j < type.getRowBytes(); ++j)
    for (int64_t l = 0; l < r; ++l)
      out[j * r + l] = pair(l, 4 * j) | pair(l, 4 * j + 2) << 4;
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

/// `v` rounded up to an f32.
static float roundUp(double v) {
  float f = float(v);
  return double(f) < v ? std::nextafter(f, INFINITY) : f;
}

ternc::ScreenBound ternc::screenBound(ArrayRef<float> w, ArrayRef<int8_t> q,
                                      float scale) {
  double err = 0, ww = 0, qq = 0;
  bool finite = true;
  for (size_t k = 0; k < w.size(); ++k) {
    finite &= std::isfinite(w[k]);
    // scale * q is exact in f64 (24 + 8 significant bits).
    double d = double(w[k]) - double(scale) * q[k];
    err += d * d;
    ww += double(w[k]) * w[k];
    qq += double(q[k]) * q[k];
  }
  const double u = 0x1p-24, n = double(w.size()) + 2;
  const double g = n * u / (1 - n * u);
  // The f64 sums' own rounding (relative ~K 2^-53) is covered many times
  // over by the factor.
  const double slack = 1 + 0x1p-30;
  const double copy = scale * std::sqrt(qq);
  if (!finite)
    return {INFINITY, roundUp(copy * slack)};
  return {roundUp((std::sqrt(err) + g * (std::sqrt(ww) + copy)) * slack),
          roundUp(copy * slack)};
}

/// Streams a dense parameter from the store, converted to its element type.
static Error writeParam(ParamOp param, const ternc::WeightStore &store,
                        raw_ostream &os, uint64_t &written) {
  mlir::MemRefType type = param.getMemRefType();
  auto tensor = store.dense(param.getSource(), type.getShape());
  if (!tensor)
    return tensor.takeError();
  mlir::Type elem = type.getElementType();
  const int64_t total = type.getNumElements();
  if (param.getRowScales()) {
    // int8 per row: scale = absmax / 127, q = round_half_even(w / scale).
    const int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
    std::vector<float> row(cols), scales(rows), bounds(2 * rows);
    std::vector<int8_t> q(cols);
    for (int64_t r = 0; r < rows; ++r) {
      if (Error e = (*tensor)->read(r * cols, cols, row.data()))
        return e;
      float absmax = 0.0f;
      for (float w : row)
        absmax = std::max(absmax, std::fabs(w));
      float scale = absmax > 0.0f ? absmax / 127.0f : 1.0f;
      for (int64_t k = 0; k < cols; ++k)
        q[k] = int8_t(std::max(
            -127.0f, std::min(127.0f, std::nearbyint(row[k] / scale))));
      scales[r] = scale;
      if (param.getRowBounds()) {
        ternc::ScreenBound bound = ternc::screenBound(row, q, scale);
        bounds[r] = bound.weight;
        bounds[rows + r] = bound.copy;
      }
      os.write(reinterpret_cast<const char *>(q.data()), cols);
      written += cols;
    }
    auto pad = [&] {
      while (written % TernaryType::kEntryAlign) {
        os.write("\0", 1);
        ++written;
      }
    };
    pad();
    os.write(reinterpret_cast<const char *>(scales.data()), 4 * rows);
    written += 4 * rows;
    if (param.getRowBounds()) {
      pad();
      os.write(reinterpret_cast<const char *>(bounds.data()), 8 * rows);
      written += 8 * rows;
    }
    return Error::success();
  }
  constexpr int64_t kChunk = 1 << 16;
  std::vector<float> chunk(kChunk);
  std::vector<uint16_t> half(kChunk);
  for (int64_t first = 0; first < total; first += kChunk) {
    int64_t n = std::min(kChunk, total - first);
    if (Error e = (*tensor)->read(first, n, chunk.data()))
      return e;
    if (elem.isF32()) {
      os.write(reinterpret_cast<const char *>(chunk.data()), 4 * n);
      written += 4 * n;
      continue;
    }
    for (int64_t i = 0; i < n; ++i)
      half[i] = elem.isF16() ? ternc::floatToHalf(chunk[i])
                             : ternc::floatToBf16(chunk[i]);
    os.write(reinterpret_cast<const char *>(half.data()), 2 * n);
    written += 2 * n;
  }
  return Error::success();
}

namespace {
/// Forwards to a stream and checksums what passes through.
class ChecksumStream : public raw_ostream {
public:
  explicit ChecksumStream(raw_ostream &out) : out_(out) { SetUnbuffered(); }
  uint64_t finish() { return sum_.finish(); }

private:
  void write_impl(const char *p, size_t n) override {
    out_.write(p, n);
    sum_.update(reinterpret_cast<const uint8_t *>(p), n);
    pos_ += n;
  }
  uint64_t current_pos() const override { return pos_; }

  raw_ostream &out_;
  ternc::ChecksumBuilder sum_;
  uint64_t pos_ = 0;
};
} // namespace

static Error writeBlobEntries(mlir::ModuleOp module,
                              const ternc::WeightStore &store, raw_ostream &os);

Error ternc::writeWeightBlob(mlir::ModuleOp module, const WeightStore &store,
                             raw_ostream &out) {
  ChecksumStream os(out);
  if (Error e = writeBlobEntries(module, store, os))
    return e;
  mlir::Builder b(module.getContext());
  module->setAttr(kWeightsChecksumAttrName,
                  b.getI64IntegerAttr(int64_t(os.finish())));
  return Error::success();
}

static Error writeBlobEntries(mlir::ModuleOp module,
                              const ternc::WeightStore &store,
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

  for (auto entry : module.getOps<mlir::tern::BlobEntryOpInterface>()) {
    std::optional<int64_t> offset = entry.getBlobOffset();
    if (!offset || uint64_t(*offset) < written)
      return createStringError(
          inconvertibleErrorCode(),
          "blob entry '%s' has no offset or overlaps the previous one: run "
          "tern-pack-weights",
          entry.getStoreName().str().c_str());
    pad(*offset);
    if (auto param = dyn_cast<ParamOp>(entry.getOperation())) {
      if (Error e = writeParam(param, store, os, written))
        return e;
      store.release(param.getSource());
      continue;
    }
    auto weight = cast<WeightOp>(entry.getOperation());
    TernaryType type = weight.getTernaryType();
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

    if (type.isLookup()) {
      // G blocks of R rows at a time (their bytes interleave the rows),
      // written slice by slice (one slice of all of them for G = 1).
      const int64_t r = type.getChunk(), cols = type.getCols();
      const int64_t steps = type.getRowBytes(),
                    group = type.getLookupBlockGroup();
      const int64_t slice = group > 1 ? TernaryType::kLookupSlice : steps;
      const int64_t blocks = type.getPaddedRows() / r;
      values.resize(r * cols);
      packed.resize(group * r * steps);
      for (int64_t first = 0; first < blocks; first += group) {
        const int64_t inGroup = std::min(group, blocks - first);
        for (int64_t g = 0; g < inGroup; ++g) {
          const int64_t row0 = (first + g) * r;
          const int64_t rows = std::clamp<int64_t>(type.getRows() - row0, 0, r);
          for (int64_t i = 0; i < rows; ++i)
            if (Error e = t.decodeRow(row0 + i, values.data() + i * cols))
              return e;
          ternc::packTernaryRowBlock(type, values.data(), rows,
                                     packed.data() + g * r * steps);
        }
        for (int64_t s0 = 0; s0 < steps; s0 += slice)
          for (int64_t g = 0; g < inGroup; ++g) {
            const int64_t n = std::min(slice, steps - s0) * r;
            os.write(reinterpret_cast<const char *>(packed.data()) +
                         g * r * steps + s0 * r,
                     n);
            written += n;
          }
      }
    }
    // Interleaved: row groups of R (1 but for interleaved<B, R>), the
    // last padded with zero weights; canonical: one row at a time.
    const bool grouped = type.getLayout() == WeightLayout::Interleaved;
    const int64_t group = grouped ? type.getRowGroup() : 1;
    values.resize(group * type.getCols());
    packed.resize(group * type.getRowBytes());
    for (int64_t r0 = 0; !type.isLookup() && r0 < type.getRows(); r0 += group) {
      const int64_t rows = std::min(group, type.getRows() - r0);
      for (int64_t i = 0; i < rows; ++i)
        if (Error e = t.decodeRow(r0 + i, values.data() + i * type.getCols()))
          return e;
      if (grouped)
        ternc::packTernaryRowBlock(type, values.data(), rows, packed.data());
      else
        ternc::packTernaryRow(type, values.data(), packed.data());
      os.write(reinterpret_cast<const char *>(packed.data()), packed.size());
      written += packed.size();
    }
    pad(*offset + type.getScaleOffset());
    os.write(reinterpret_cast<const char *>(t.scales().data()),
             t.scales().size() * sizeof(float));
    written += t.scales().size() * sizeof(float);
    store.release(weight.getSource());
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
