//===- MappedStore.cpp - a weight store over mapped checkpoint files ------===//

#include "ternc/Import/MappedStore.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

using namespace llvm;
using namespace ternc;

static Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg.str());
}

const char *ternc::encodingName(Encoding e) {
  switch (e) {
  case Encoding::F32:
    return "F32";
  case Encoding::F16:
    return "F16";
  case Encoding::BF16:
    return "BF16";
  case Encoding::Q8_0:
    return "Q8_0";
  case Encoding::HfRowBlock:
    return "U8 (packed ternary)";
  case Encoding::TQ2_0:
    return "TQ2_0";
  case Encoding::TQ1_0:
    return "TQ1_0";
  case Encoding::I2_S:
    return "I2_S";
  }
  return "?";
}

Expected<uint64_t> ternc::encodedBytes(Encoding encoding,
                                       ArrayRef<int64_t> shape,
                                       StringRef what) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && n > (uint64_t(1) << 48) / uint64_t(d)))
      return fail(what + ": absurd shape");
    n *= uint64_t(d);
  }
  int64_t inner = shape.empty() ? 1 : shape.back();
  auto blocks = [&](int64_t block, uint64_t blockBytes) -> Expected<uint64_t> {
    if (inner % block)
      return fail(formatv("{0}: {1} needs rows of a multiple of {2} elements, "
                          "got {3}",
                          what, encodingName(encoding), block, inner));
    return n / block * blockBytes;
  };
  switch (encoding) {
  case Encoding::F32:
    return 4 * n;
  case Encoding::F16:
  case Encoding::BF16:
    return 2 * n;
  case Encoding::Q8_0:
    return blocks(32, 34);
  case Encoding::TQ2_0:
    return blocks(256, 66);
  case Encoding::TQ1_0:
    return blocks(256, 54);
  case Encoding::HfRowBlock: // a [N, K] matrix stored as U8 [N/4, K]
    if (shape.size() != 2 || shape[0] % 4)
      return fail(what + ": packed ternary matrices need a multiple of 4 "
                         "rows");
    return n / 4;
  case Encoding::I2_S:
    if (n % 128)
      return fail(formatv("{0}: I2_S needs a multiple of 128 elements, got "
                          "{1}",
                          what, n));
    return n / 4 + 32;
  }
  return fail("unknown encoding");
}

std::string MappedStore::fileOf(const MappedTensor &t) const {
  return t.file < files.size() ? files[t.file]->getBufferIdentifier().str()
                               : description;
}

float ternc::decodeFloat(Encoding e, const uint8_t *p, int64_t i) {
  switch (e) {
  case Encoding::F32: {
    float f;
    std::memcpy(&f, p + 4 * i, 4);
    return f;
  }
  case Encoding::F16: {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    return halfToFloat(h);
  }
  case Encoding::BF16: {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    return bf16ToFloat(h);
  }
  case Encoding::Q8_0: {
    const uint8_t *block = p + (i / 32) * 34;
    uint16_t d;
    std::memcpy(&d, block, 2);
    return halfToFloat(d) * float(int8_t(block[2 + i % 32]));
  }
  default:
    return 0.0f;
  }
}

namespace {

class MappedDense : public DenseTensor {
public:
  MappedDense(const MappedTensor &t) : t_(t) {
    name_ = t.name;
    shape_ = t.shape;
  }
  Error read(int64_t first, int64_t count, float *out) const override {
    for (int64_t i = 0; i < count; ++i)
      out[i] = decodeFloat(t_.encoding, t_.data, first + i);
    return Error::success();
  }

private:
  const MappedTensor &t_;
};

class MappedTernaryTensor : public TernaryTensor {
public:
  MappedTernaryTensor(const MappedTernary &m, std::string file)
      : m_(m), file_(std::move(file)) {
    name_ = m.codes.name;
    rows_ = m.codes.shape[0];
    cols_ = m.codes.shape[1];
  }

  Error init() {
    const MappedTensor &c = m_.codes;
    switch (c.encoding) {
    case Encoding::HfRowBlock:
      return scalar(readScalar(m_.scale), m_.inverseScale);
    case Encoding::I2_S: {
      float s;
      std::memcpy(&s, c.data + c.bytes - 32, 4);
      return scalar(s, false);
    }
    case Encoding::TQ1_0:
    case Encoding::TQ2_0:
      return blockScales();
    case Encoding::F32:
    case Encoding::F16:
    case Encoding::BF16:
      return floatScale();
    default:
      return fail(formatv("{0}: tensor '{1}': {2} cannot hold ternary "
                          "weights",
                          file_, name_, encodingName(c.encoding)));
    }
  }

  Error decodeRow(int64_t row, int8_t *out) const override {
    const MappedTensor &c = m_.codes;
    const int64_t k = cols_;
    switch (c.encoding) {
    case Encoding::HfRowBlock: {
      const int64_t quarter = rows_ / 4;
      const int shift = int(2 * (row / quarter));
      const uint8_t *src = c.data + (row % quarter) * k;
      for (int64_t j = 0; j < k; ++j)
        if (Error e = put(out, row, j, (src[j] >> shift) & 3))
          return e;
      return Error::success();
    }
    case Encoding::TQ2_0: {
      const uint8_t *src = c.data + row * (k / 256) * 66;
      for (int64_t b = 0; b < k / 256; ++b, src += 66)
        for (int e = 0; e < 256; ++e) {
          int cc = e / 128, n = (e % 128) / 32, m = e % 32;
          if (Error err =
                  put(out, row, b * 256 + e, (src[32 * cc + m] >> (2 * n)) & 3))
            return err;
        }
      return Error::success();
    }
    case Encoding::TQ1_0: {
      static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
      auto trit = [](uint8_t byte, int n) {
        return int((uint16_t(uint8_t(byte * pow3[n])) * 3) >> 8);
      };
      const uint8_t *src = c.data + row * (k / 256) * 54;
      for (int64_t b = 0; b < k / 256; ++b, src += 54) {
        int8_t *o = out + b * 256;
        for (int m = 0; m < 32; ++m)
          for (int n = 0; n < 5; ++n)
            o[m + 32 * n] = int8_t(trit(src[m], n) - 1);
        for (int m = 0; m < 16; ++m)
          for (int n = 0; n < 5; ++n)
            o[160 + m + 16 * n] = int8_t(trit(src[32 + m], n) - 1);
        for (int j = 0; j < 4; ++j)
          for (int n = 0; n < 4; ++n)
            o[240 + j + 4 * n] = int8_t(trit(src[48 + j], n) - 1);
      }
      return Error::success();
    }
    case Encoding::I2_S: {
      for (int64_t j = 0; j < k; ++j) {
        uint64_t g = uint64_t(row) * k + j;
        uint64_t within = g % 128;
        uint8_t byte = c.data[(g / 128) * 32 + within % 32];
        if (Error e = put(out, row, j, (byte >> (6 - 2 * (within / 32))) & 3))
          return e;
      }
      return Error::success();
    }
    default: { // float encodings
      const float s = scales_[0];
      for (int64_t j = 0; j < k; ++j) {
        float w = decodeFloat(c.encoding, c.data, row * k + j);
        if (m_.floatMode == FloatTernary::AbsMean) {
          double t = std::nearbyint(double(w) / double(s));
          out[j] = int8_t(std::max(-1.0, std::min(1.0, t)));
        } else {
          float t = w / s;
          if (t != -1.0f && t != 0.0f && t != 1.0f)
            return fail(formatv("{0}: tensor '{1}': value {2} at row {3}, "
                                "column {4} is not -1, 0 or +1 times the "
                                "tensor's scale {5}",
                                file_, name_, w, row, j, s));
          out[j] = int8_t(t);
        }
      }
      return Error::success();
    }
    }
  }

private:
  /// Stores code `code` (0 -> -1, 1 -> 0, 2 -> +1) or reports code 3.
  Error put(int8_t *out, int64_t row, int64_t col, int code) const {
    if (code == 3)
      return fail(formatv("{0}: tensor '{1}': invalid ternary code 3 at row "
                          "{2}, column {3}",
                          file_, name_, row, col));
    out[col] = int8_t(code - 1);
    return Error::success();
  }

  float readScalar(const MappedTensor &t) const {
    return decodeFloat(t.encoding, t.data, 0);
  }

  Error checkScale(float s, const Twine &where) const {
    if (!std::isfinite(s) || s == 0.0f)
      return fail(formatv("{0}: tensor '{1}': scale {2} ({3}) must be finite "
                          "and non-zero",
                          file_, name_, s, where.str()));
    return Error::success();
  }

  Error scalar(float s, bool inverse) {
    if (Error e = checkScale(s, "per-tensor scale"))
      return e;
    scaleKind_ = ScaleKind::PerTensor;
    scales_ = {inverse ? 1.0f / s : s};
    return Error::success();
  }

  /// TQ blocks carry one f16 scale each: per tensor when all agree.
  Error blockScales() {
    const MappedTensor &c = m_.codes;
    const int64_t blocks = cols_ / 256;
    const uint64_t blockBytes = c.encoding == Encoding::TQ2_0 ? 66 : 54;
    std::vector<float> d(size_t(rows_ * blocks));
    bool uniform = true;
    for (size_t i = 0; i < d.size(); ++i) {
      uint16_t h;
      std::memcpy(&h, c.data + i * blockBytes + blockBytes - 2, 2);
      d[i] = halfToFloat(h);
      if (Error e = checkScale(d[i], "block " + Twine(i)))
        return e;
      uniform &= d[i] == d[0];
    }
    if (uniform) {
      scaleKind_ = ScaleKind::PerTensor;
      scales_ = {d[0]};
    } else {
      scaleKind_ = ScaleKind::PerBlock;
      groupSize_ = 256;
      scales_ = std::move(d);
    }
    return Error::success();
  }

  Error floatScale() {
    const MappedTensor &c = m_.codes;
    const int64_t n = rows_ * cols_;
    if (m_.floatMode == FloatTernary::AbsMean) {
      double sum = 0.0; // exact enough: the scale must round-trip masters
      for (int64_t i = 0; i < n; ++i)
        sum += std::fabs(double(decodeFloat(c.encoding, c.data, i)));
      float s = float(std::max(sum / double(n), 1e-5));
      return scalar(s, false);
    }
    float s = 0.0f;
    for (int64_t i = 0; i < n; ++i)
      s = std::max(s, std::fabs(decodeFloat(c.encoding, c.data, i)));
    if (s == 0.0f)
      s = 1.0f; // an all-zero matrix: any scale
    return scalar(s, false);
  }

  const MappedTernary &m_;
  std::string file_;
};

} // namespace

Expected<std::unique_ptr<TernaryTensor>>
MappedStore::ternary(StringRef name, int64_t rows, int64_t cols) const {
  auto it = ternaries.find(name.str());
  if (it == ternaries.end())
    return fail(formatv("{0}: no ternary matrix '{1}'", description, name));
  const MappedTernary &m = it->second;
  const std::vector<int64_t> &shape = m.codes.shape;
  if (shape.size() != 2 || shape[0] != rows || shape[1] != cols)
    return fail(formatv("{0}: tensor '{1}' is not the {2}x{3} matrix the "
                        "model needs",
                        fileOf(m.codes), name, rows, cols));
  auto t = std::make_unique<MappedTernaryTensor>(m, fileOf(m.codes));
  if (Error e = t->init())
    return std::move(e);
  return std::move(t);
}

Expected<std::unique_ptr<DenseTensor>>
MappedStore::dense(StringRef name, ArrayRef<int64_t> shape) const {
  auto it = denseTensors.find(name.str());
  if (it == denseTensors.end())
    return fail(formatv("{0}: no tensor '{1}'", description, name));
  const MappedTensor &t = it->second;
  if (ArrayRef<int64_t>(t.shape) != shape)
    return fail(formatv("{0}: tensor '{1}' has another shape than the model "
                        "needs",
                        fileOf(t), name));
  switch (t.encoding) {
  case Encoding::F32:
  case Encoding::F16:
  case Encoding::BF16:
  case Encoding::Q8_0:
    return std::make_unique<MappedDense>(t);
  default:
    return fail(formatv("{0}: tensor '{1}': {2} is not a dense encoding",
                        fileOf(t), name, encodingName(t.encoding)));
  }
}

std::optional<Encoding> MappedStore::denseEncoding(StringRef name) const {
  auto it = denseTensors.find(name.str());
  if (it == denseTensors.end())
    return std::nullopt;
  return it->second.encoding;
}

DenseType MappedStore::nativeType(StringRef name) const {
  std::optional<Encoding> e = denseEncoding(name);
  if (e == Encoding::F16)
    return DenseType::F16;
  if (e == Encoding::BF16)
    return DenseType::BF16;
  return DenseType::F32;
}

void ternc::releaseMappedRange(const uint8_t *data, uint64_t bytes) {
  static const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t begin =
      (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (end > begin)
    madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

void MappedStore::release(StringRef name) const {
  auto t = ternaries.find(name.str());
  if (t != ternaries.end()) {
    releaseMappedRange(t->second.codes.data, t->second.codes.bytes);
    return;
  }
  auto d = denseTensors.find(name.str());
  if (d != denseTensors.end())
    releaseMappedRange(d->second.data, d->second.bytes);
}
