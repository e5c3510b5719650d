//===- WeightStore.cpp - where weights come from --------------------------===//

#include "ternc/Import/WeightStore.h"
#include "ternc/Import/Safetensors.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>

using namespace llvm;
using namespace ternc;

TernaryTensor::~TernaryTensor() = default;
WeightStore::~WeightStore() = default;

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
