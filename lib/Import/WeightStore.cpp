//===- WeightStore.cpp - where weights come from --------------------------===//

#include "ternc/Import/WeightStore.h"
#include "ternc/Import/MappedStore.h"
#include "ternc/Import/Safetensors.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>

using namespace llvm;
using namespace ternc;

TernaryTensor::~TernaryTensor() = default;
DenseTensor::~DenseTensor() = default;
WeightStore::~WeightStore() = default;

int64_t DenseTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape_)
    n *= d;
  return n;
}

float ternc::halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f,
           mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400));
      bits = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t ternc::floatToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) // NaN stays a quiet NaN
    return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}

uint16_t ternc::floatToHalf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000;
  uint32_t absBits = bits & 0x7fffffff;
  if (absBits > 0x7f800000) // NaN
    return uint16_t(sign | 0x7e00);
  if (absBits >= 0x477ff000) // rounds to >= 65520: infinity
    return uint16_t(sign | 0x7c00);
  if (absBits < 0x38800000) { // below the smallest normal half: subnormal
    // Scale so the half's subnormal unit becomes 1, round to nearest even.
    float a;
    std::memcpy(&a, &absBits, 4);
    float scaled = a * 16777216.0f; // 2^24
    uint32_t m = uint32_t(std::nearbyint(scaled));
    return uint16_t(sign | m);
  }
  uint32_t mant = absBits & 0x7fffff;
  uint32_t exp = (absBits >> 23) - 127 + 15;
  uint32_t h = exp << 10 | mant >> 13;
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
    ++h; // carries into the exponent correctly
  return uint16_t(sign | h);
}

float ternc::bf16ToFloat(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace {

Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg.str());
}

/// A matrix stored in a safetensors file as I8 values or U8 2-bit codes.
class SafetensorsTernary : public TernaryTensor {
public:
  SafetensorsTernary(std::string file, const SafetensorsTensor &codes,
                     int64_t rows, int64_t cols)
      : file_(std::move(file)), codes_(codes) {
    name_ = codes.name;
    rows_ = rows;
    cols_ = cols;
  }

  Error decodeRow(int64_t row, int8_t *out) const override {
    if (row < 0 || row >= rows_)
      return fail(formatv("{0}: tensor '{1}': row {2} out of range [0, {3})",
                          file_, name_, row, rows_));
    auto bad = [&](int64_t col, int code) {
      return fail(formatv("{0}: tensor '{1}': invalid ternary {2} {3} at row "
                          "{4}, column {5}",
                          file_, name_,
                          codes_.dtype == DType::U8 ? "code" : "value", code,
                          row, col));
    };
    if (codes_.dtype == DType::I8) {
      const int8_t *src =
          reinterpret_cast<const int8_t *>(codes_.data.data()) + row * cols_;
      for (int64_t k = 0; k < cols_; ++k) {
        if (src[k] < -1 || src[k] > 1)
          return bad(k, src[k]);
        out[k] = src[k];
      }
      return Error::success();
    }
    int64_t rowBytes = (cols_ + 3) / 4;
    const uint8_t *src = codes_.data.data() + row * rowBytes;
    for (int64_t k = 0; k < cols_; ++k) {
      int code = (src[k / 4] >> (2 * (k % 4))) & 3;
      if (code == 3)
        return bad(k, code);
      out[k] = int8_t(code - 1);
    }
    return Error::success();
  }

  Error loadScales(const SafetensorsTensor &s) {
    auto sfail = [&](const Twine &msg) {
      return fail(file_ + ": tensor '" + s.name + "': " + msg);
    };
    if (s.dtype != DType::F32)
      return sfail("scales must be F32, got " + dtypeName(s.dtype));
    const std::vector<int64_t> &shape = s.shape;
    if (shape.empty() || (shape.size() == 1 && shape[0] == 1)) {
      scaleKind_ = ScaleKind::PerTensor;
    } else if (shape.size() == 1 && shape[0] == rows_) {
      scaleKind_ = ScaleKind::PerRow;
    } else if (shape.size() == 2 && shape[0] == rows_ && shape[1] > 0 &&
               cols_ % shape[1] == 0) {
      scaleKind_ = ScaleKind::PerBlock;
      groupSize_ = cols_ / shape[1];
    } else {
      std::string dims;
      for (int64_t d : shape)
        dims += (dims.empty() ? "" : ", ") + std::to_string(d);
      return sfail(formatv("shape [{0}] fits none of [1] (per tensor), [{1}] "
                           "(per row) or [{1}, K/G] (per block of G dividing "
                           "{2})",
                           dims, rows_, cols_));
    }
    scales_.resize(s.numElements());
    std::memcpy(scales_.data(), s.data.data(), scales_.size() * sizeof(float));
    for (size_t i = 0; i < scales_.size(); ++i)
      if (!std::isfinite(scales_[i]) || scales_[i] == 0.0f)
        return sfail(formatv("scale {0} is {1}: scales must be finite and "
                             "non-zero",
                             i, scales_[i]));
    return Error::success();
  }

private:
  std::string file_;
  const SafetensorsTensor &codes_;
};

/// A dense F32/F16/BF16 tensor of a safetensors file.
class SafetensorsDense : public DenseTensor {
public:
  SafetensorsDense(const SafetensorsTensor &t) : t_(t) {
    name_ = t.name;
    shape_ = t.shape;
  }
  Error read(int64_t first, int64_t count, float *out) const override {
    Encoding e = t_.dtype == DType::F32   ? Encoding::F32
                 : t_.dtype == DType::F16 ? Encoding::F16
                                          : Encoding::BF16;
    for (int64_t i = 0; i < count; ++i)
      out[i] = decodeFloat(e, t_.data.data(), first + i);
    return Error::success();
  }

private:
  const SafetensorsTensor &t_;
};

} // namespace

Expected<std::unique_ptr<SafetensorsStore>>
SafetensorsStore::open(StringRef path) {
  auto file = SafetensorsFile::open(path);
  if (!file)
    return file.takeError();
  return std::make_unique<SafetensorsStore>(std::move(*file));
}

SafetensorsStore::SafetensorsStore(std::unique_ptr<SafetensorsFile> file)
    : file_(std::move(file)) {}
SafetensorsStore::~SafetensorsStore() = default;

std::string SafetensorsStore::describe() const { return file_->path().str(); }

Expected<std::unique_ptr<TernaryTensor>>
SafetensorsStore::ternary(StringRef name, int64_t rows, int64_t cols) const {
  std::string path = describe();
  const SafetensorsTensor *codes = file_->find(name);
  if (!codes)
    return fail(formatv("{0}: no tensor '{1}' (the IR declares weight '{1}' "
                        "of {2}x{3})",
                        path, name, rows, cols));
  auto shapeFail = [&](StringRef want) {
    std::string dims;
    for (int64_t d : codes->shape)
      dims += (dims.empty() ? "" : ", ") + std::to_string(d);
    return fail(formatv("{0}: tensor '{1}': {2} [{3}] does not match the IR's "
                        "{4}x{5} weight (expected {6})",
                        path, name, dtypeName(codes->dtype), dims, rows, cols,
                        want));
  };
  if (codes->dtype == DType::I8) {
    if (codes->shape != std::vector<int64_t>{rows, cols})
      return shapeFail(formatv("I8 [{0}, {1}]", rows, cols).str());
  } else if (codes->dtype == DType::U8) {
    if (codes->shape != std::vector<int64_t>{rows, (cols + 3) / 4})
      return shapeFail(formatv("U8 [{0}, {1}]", rows, (cols + 3) / 4).str());
  } else {
    return shapeFail("I8 values or U8 2-bit codes");
  }
  std::string scaleName = (name + ".scale").str();
  const SafetensorsTensor *scales = file_->find(scaleName);
  if (!scales)
    return fail(formatv("{0}: no tensor '{1}' (the scales of '{2}')", path,
                        scaleName, name));
  auto tensor = std::make_unique<SafetensorsTernary>(path, *codes, rows, cols);
  if (Error e = tensor->loadScales(*scales))
    return std::move(e);
  return std::move(tensor);
}

Expected<std::unique_ptr<DenseTensor>>
SafetensorsStore::dense(StringRef name, ArrayRef<int64_t> shape) const {
  const SafetensorsTensor *t = file_->find(name);
  if (!t)
    return fail(formatv("{0}: no tensor '{1}'", describe(), name));
  if (t->dtype != DType::F32 && t->dtype != DType::F16 &&
      t->dtype != DType::BF16)
    return fail(formatv("{0}: tensor '{1}': dtype {2} is not F32, F16 or "
                        "BF16",
                        describe(), name, dtypeName(t->dtype)));
  if (ArrayRef<int64_t>(t->shape) != shape)
    return fail(formatv("{0}: tensor '{1}': shape does not match the IR's "
                        "declaration",
                        describe(), name));
  return std::make_unique<SafetensorsDense>(*t);
}
