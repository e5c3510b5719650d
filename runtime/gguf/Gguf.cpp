//===- Gguf.cpp - checked GGUF v2/v3 reader over a byte buffer ------------===//

#include "gguf/Gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_set>

namespace ternc::rt {

namespace {

// Limits that real files never come near but that keep a hostile file from
// asking for deep recursion or absurd names.
constexpr uint64_t kMaxKeyLength = 65535; // GGUF spec: keys < 2^16 bytes
constexpr uint64_t kMaxNameLength = 65535;
constexpr uint32_t kMaxDims = 4; // GGML_MAX_DIMS
constexpr unsigned kMaxArrayDepth = 8;

// Size in bytes of a fixed-size metadata type; 0 for string and array.
uint64_t fixedSize(GgufType t) {
  switch (t) {
  case GgufType::UInt8:
  case GgufType::Int8:
  case GgufType::Bool:
    return 1;
  case GgufType::UInt16:
  case GgufType::Int16:
    return 2;
  case GgufType::UInt32:
  case GgufType::Int32:
  case GgufType::Float32:
    return 4;
  case GgufType::UInt64:
  case GgufType::Int64:
  case GgufType::Float64:
    return 8;
  default:
    return 0;
  }
}

bool validType(uint32_t t) { return t <= 12; }

uint64_t loadLE(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i)
    v |= uint64_t(p[i]) << (8 * i);
  return v;
}

// Decodes a fixed-size scalar of type `t` at `p` into GgufValue::bits.
uint64_t decodeScalar(GgufType t, const uint8_t *p) {
  uint64_t v = loadLE(p, unsigned(fixedSize(t)));
  switch (t) {
  case GgufType::Int8:
    return uint64_t(int64_t(int8_t(v)));
  case GgufType::Int16:
    return uint64_t(int64_t(int16_t(v)));
  case GgufType::Int32:
    return uint64_t(int64_t(int32_t(v)));
  case GgufType::Float32: {
    uint32_t b = uint32_t(v);
    float f;
    std::memcpy(&f, &b, 4);
    double d = f;
    std::memcpy(&v, &d, 8);
    return v;
  }
  default:
    return v;
  }
}

// Quotes a name for a message: printable ASCII kept, the rest escaped, long
// names shortened.
std::string quote(std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  std::string out = "'";
  size_t n = std::min<size_t>(s.size(), 96);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += char(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (n < s.size())
    out += "...";
  return out + "'";
}

std::string plural(GgufType t) {
  return t == GgufType::Array ? "arrays" : ggufTypeName(t) + "s";
}

struct TypeTraits {
  uint64_t blockElems;
  uint64_t blockBytes;
};

std::optional<TypeTraits> traits(uint32_t type) {
  switch (type) {
  case ggml::F32:
  case ggml::I32:
    return TypeTraits{1, 4};
  case ggml::F16:
  case ggml::BF16:
  case ggml::I16:
    return TypeTraits{1, 2};
  case ggml::I8:
    return TypeTraits{1, 1};
  case ggml::I64:
  case ggml::F64:
    return TypeTraits{1, 8};
  case ggml::Q8_0:
    return TypeTraits{32, 34};
  case ggml::TQ1_0:
    return TypeTraits{256, 54};
  case ggml::TQ2_0:
    return TypeTraits{256, 66};
  default:
    return std::nullopt;
  }
}

} // namespace

std::string ggufTypeName(GgufType type) {
  static const char *names[] = {"u8",  "i8",  "u16",  "i16",    "u32",
                                "i32", "f32", "bool", "string", "array",
                                "u64", "i64", "f64"};
  uint32_t t = uint32_t(type);
  if (t <= 12)
    return names[t];
  return "type " + std::to_string(t);
}

std::string ggmlTypeName(uint32_t type) {
  switch (type) {
  case ggml::F32:
    return "F32";
  case ggml::F16:
    return "F16";
  case ggml::Q8_0:
    return "Q8_0";
  case ggml::I8:
    return "I8";
  case ggml::I16:
    return "I16";
  case ggml::I32:
    return "I32";
  case ggml::I64:
    return "I64";
  case ggml::F64:
    return "F64";
  case ggml::BF16:
    return "BF16";
  case ggml::TQ1_0:
    return "TQ1_0";
  case ggml::TQ2_0:
    return "TQ2_0";
  case ggml::I2_S:
    return "I2_S";
  default:
    return "type " + std::to_string(type);
  }
}

std::optional<uint64_t> tensorByteSize(uint32_t type,
                                       const std::vector<uint64_t> &ne) {
  uint64_t n = 1;
  for (uint64_t d : ne) {
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / d)
      return std::nullopt;
    n *= d;
  }
  if (type == ggml::I2_S) {
    // bitnet.cpp: four 2-bit codes per byte, then a 32-byte tail holding
    // the fp32 scale.
    if (n % 4 != 0)
      return std::nullopt;
    return n / 4 + 32;
  }
  auto tr = traits(type);
  if (!tr || (!ne.empty() && ne[0] % tr->blockElems != 0))
    return std::nullopt;
  uint64_t blocks = n / tr->blockElems;
  if (blocks > std::numeric_limits<uint64_t>::max() / tr->blockBytes)
    return std::nullopt;
  return blocks * tr->blockBytes;
}

//===----------------------------------------------------------------------===//
// GgufValue
//===----------------------------------------------------------------------===//

bool GgufValue::isInteger() const {
  switch (type) {
  case GgufType::UInt8:
  case GgufType::Int8:
  case GgufType::UInt16:
  case GgufType::Int16:
  case GgufType::UInt32:
  case GgufType::Int32:
  case GgufType::UInt64:
  case GgufType::Int64:
    return true;
  default:
    return false;
  }
}

static bool isSignedType(GgufType t) {
  return t == GgufType::Int8 || t == GgufType::Int16 || t == GgufType::Int32 ||
         t == GgufType::Int64;
}

std::optional<uint64_t> GgufValue::asUnsigned() const {
  if (!isInteger() || (isSignedType(type) && int64_t(bits) < 0))
    return std::nullopt;
  return bits;
}

std::optional<int64_t> GgufValue::asSigned() const {
  if (!isInteger() || (type == GgufType::UInt64 &&
                       bits > uint64_t(std::numeric_limits<int64_t>::max())))
    return std::nullopt;
  return int64_t(bits);
}

std::optional<double> GgufValue::asFloat() const {
  if (!isFloat())
    return std::nullopt;
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

std::optional<bool> GgufValue::asBool() const {
  if (type != GgufType::Bool)
    return std::nullopt;
  return bits != 0;
}

std::optional<std::string_view> GgufValue::asString() const {
  if (type != GgufType::String)
    return std::nullopt;
  return str;
}

GgufValue GgufValue::at(uint64_t i) const {
  GgufValue v;
  if (type != GgufType::Array || i >= count)
    return v;
  v.type = elemType;
  if (elemType == GgufType::String) {
    v.str = strings[i];
  } else if (elemType == GgufType::Array) {
    v = items[i];
  } else {
    uint64_t sz = fixedSize(elemType);
    v.bits = decodeScalar(elemType, raw + i * sz);
  }
  return v;
}

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

class GgufParser {
public:
  GgufParser(const uint8_t *data, uint64_t size, std::string_view name,
             std::string *error)
      : d_(data), n_(size), name_(name), err_(error) {}

  bool run(GgufFile &f);

private:
  const uint8_t *d_;
  uint64_t n_;
  uint64_t pos_ = 0;
  std::string name_;
  std::string *err_;

  bool fail(uint64_t offset, const std::string &msg) {
    if (err_)
      *err_ = name_ + ": offset " + std::to_string(offset) + ": " + msg;
    return false;
  }
  uint64_t left() const { return n_ - pos_; }
  bool need(uint64_t bytes, const std::string &ctx, const char *what) {
    if (left() >= bytes)
      return true;
    return fail(pos_, ctx + ": truncated " + what + ": need " +
                          std::to_string(bytes) + " bytes, " +
                          std::to_string(left()) + " left");
  }
  bool u32(uint32_t &v, const std::string &ctx, const char *what) {
    if (!need(4, ctx, what))
      return false;
    v = uint32_t(loadLE(d_ + pos_, 4));
    pos_ += 4;
    return true;
  }
  bool u64(uint64_t &v, const std::string &ctx, const char *what) {
    if (!need(8, ctx, what))
      return false;
    v = loadLE(d_ + pos_, 8);
    pos_ += 8;
    return true;
  }
  bool string(std::string_view &s, const std::string &ctx, const char *what,
              uint64_t maxLen) {
    uint64_t at = pos_;
    uint64_t len;
    if (!u64(len, ctx, what))
      return false;
    if (len > left())
      return fail(at, ctx + ": " + what + " of " + std::to_string(len) +
                          " bytes exceeds the file (" + std::to_string(left()) +
                          " bytes left)");
    if (len > maxLen)
      return fail(at, ctx + ": " + what + " of " + std::to_string(len) +
                          " bytes exceeds the limit of " +
                          std::to_string(maxLen));
    s = std::string_view(reinterpret_cast<const char *>(d_ + pos_), len);
    pos_ += len;
    return true;
  }
  bool value(GgufType t, GgufValue &v, const std::string &ctx, unsigned depth);
};

bool GgufParser::value(GgufType t, GgufValue &v, const std::string &ctx,
                       unsigned depth) {
  v.type = t;
  v.offset = pos_;
  if (t == GgufType::String)
    return string(v.str, ctx, "string", std::numeric_limits<uint64_t>::max());
  if (t != GgufType::Array) {
    uint64_t sz = fixedSize(t);
    if (!need(sz, ctx, "value"))
      return false;
    if (t == GgufType::Bool && d_[pos_] > 1)
      return fail(pos_, ctx + ": bool value " + std::to_string(d_[pos_]) +
                            " is not 0 or 1");
    v.bits = decodeScalar(t, d_ + pos_);
    pos_ += sz;
    return true;
  }

  if (depth >= kMaxArrayDepth)
    return fail(pos_, ctx + ": arrays nested deeper than " +
                          std::to_string(kMaxArrayDepth));
  uint64_t at = pos_;
  uint32_t et;
  if (!u32(et, ctx, "array element type"))
    return false;
  if (!validType(et))
    return fail(at, ctx + ": array element type " + std::to_string(et) +
                        " is not a GGUF type");
  v.elemType = GgufType(et);
  at = pos_;
  if (!u64(v.count, ctx, "array count"))
    return false;
  // Each element needs at least this many bytes: this caps the count before
  // anything is allocated.
  uint64_t minElem = fixedSize(v.elemType);
  if (v.elemType == GgufType::String)
    minElem = 8;
  else if (v.elemType == GgufType::Array)
    minElem = 12;
  if (v.count > left() / minElem)
    return fail(at, ctx + ": array of " + std::to_string(v.count) + " " +
                        plural(v.elemType) + " exceeds the file (" +
                        std::to_string(left()) + " bytes left)");
  if (v.elemType == GgufType::String) {
    v.strings.resize(v.count);
    for (uint64_t i = 0; i < v.count; ++i)
      if (!string(v.strings[i], ctx + ": element " + std::to_string(i),
                  "string", std::numeric_limits<uint64_t>::max()))
        return false;
    return true;
  }
  if (v.elemType == GgufType::Array) {
    v.items.resize(v.count);
    for (uint64_t i = 0; i < v.count; ++i) {
      uint64_t itemAt = pos_;
      if (!value(GgufType::Array, v.items[i],
                 ctx + ": element " + std::to_string(i), depth + 1))
        return false;
      v.items[i].offset = itemAt;
    }
    return true;
  }
  v.raw = d_ + pos_;
  if (v.elemType == GgufType::Bool)
    for (uint64_t i = 0; i < v.count; ++i)
      if (v.raw[i] > 1)
        return fail(pos_ + i, ctx + ": element " + std::to_string(i) +
                                  ": bool value " + std::to_string(v.raw[i]) +
                                  " is not 0 or 1");
  pos_ += v.count * minElem;
  return true;
}

bool GgufParser::run(GgufFile &f) {
  f.data_ = d_;
  f.size_ = size_t(n_);
  f.fileName_ = name_;
  const std::string hdr = "header";

  // Magic and version.
  if (n_ < 4)
    return fail(0, "file of " + std::to_string(n_) +
                       " bytes is too small for the GGUF magic");
  if (std::memcmp(d_, "GGUF", 4) != 0)
    return fail(
        0, "bad magic " +
               quote(std::string_view(reinterpret_cast<const char *>(d_), 4)) +
               " (expected 'GGUF')");
  pos_ = 4;
  uint64_t at = pos_;
  uint32_t version;
  if (!u32(version, hdr, "version"))
    return false;
  if (version != 2 && version != 3) {
    // A big-endian writer stores 3 as 0x03000000.
    uint32_t swapped = (version >> 24) | ((version >> 8) & 0xff00) |
                       ((version << 8) & 0xff0000) | (version << 24);
    if (swapped == 2 || swapped == 3)
      return fail(at, "big-endian GGUF (version " + std::to_string(swapped) +
                          ") is not supported");
    return fail(at, "unsupported GGUF version " + std::to_string(version) +
                        " (only 2 and 3 are supported)");
  }
  f.version_ = version;

  uint64_t tensorCount, kvCount;
  at = pos_;
  if (!u64(tensorCount, hdr, "tensor count"))
    return false;
  uint64_t kvAt = pos_;
  if (!u64(kvCount, hdr, "metadata count"))
    return false;
  // Minimum record sizes: key/name length (8) + type tag (4) + 1-byte value;
  // a tensor info is at least name length (8) + n_dims (4) + type (4) +
  // offset (8).
  if (kvCount > left() / 13)
    return fail(kvAt, "metadata count " + std::to_string(kvCount) +
                          " exceeds the file (" + std::to_string(left()) +
                          " bytes left)");
  if (tensorCount > left() / 24)
    return fail(at, "tensor count " + std::to_string(tensorCount) +
                        " exceeds the file (" + std::to_string(left()) +
                        " bytes left)");

  // Metadata.
  f.kvs_.reserve(kvCount);
  std::unordered_set<std::string_view> keys;
  for (uint64_t i = 0; i < kvCount; ++i) {
    std::string ctx = "metadata entry " + std::to_string(i);
    uint64_t keyAt = pos_;
    GgufKeyValue kv;
    if (!string(kv.key, ctx, "key", kMaxKeyLength))
      return false;
    ctx = "metadata key " + quote(kv.key);
    if (!keys.insert(kv.key).second)
      return fail(keyAt, ctx + ": duplicate key");
    at = pos_;
    uint32_t t;
    if (!u32(t, ctx, "value type"))
      return false;
    if (!validType(t))
      return fail(at, ctx + ": value type " + std::to_string(t) +
                          " is not a GGUF type");
    if (!value(GgufType(t), kv.value, ctx, 0))
      return false;
    f.kvs_.push_back(std::move(kv));
  }

  if (const GgufValue *a = f.find("general.alignment")) {
    auto v = a->asUnsigned();
    if (!v)
      return fail(a->offset, "metadata key 'general.alignment': expected an "
                             "unsigned integer, got " +
                                 ggufTypeName(a->type));
    if (*v == 0 || (*v & (*v - 1)) != 0)
      return fail(a->offset, "metadata key 'general.alignment': " +
                                 std::to_string(*v) + " is not a power of two");
    f.alignment_ = *v;
  }

  // Tensor infos.
  f.tensors_.reserve(tensorCount);
  std::unordered_set<std::string_view> names;
  for (uint64_t i = 0; i < tensorCount; ++i) {
    GgufTensorInfo ti;
    ti.infoOffset = pos_;
    std::string ctx = "tensor " + std::to_string(i);
    if (!string(ti.name, ctx, "name", kMaxNameLength))
      return false;
    ctx = "tensor " + quote(ti.name);
    if (!names.insert(ti.name).second)
      return fail(ti.infoOffset, ctx + ": duplicate tensor name");
    at = pos_;
    uint32_t nDims;
    if (!u32(nDims, ctx, "n_dims"))
      return false;
    if (nDims > kMaxDims)
      return fail(at, ctx + ": " + std::to_string(nDims) +
                          " dimensions exceed the maximum of " +
                          std::to_string(kMaxDims));
    ti.ne.resize(nDims);
    ti.elementCount = 1;
    for (uint32_t d = 0; d < nDims; ++d) {
      at = pos_;
      if (!u64(ti.ne[d], ctx, "dimension"))
        return false;
      if (ti.ne[d] > uint64_t(std::numeric_limits<int64_t>::max()))
        return fail(at, ctx + ": ne[" + std::to_string(d) + "] = " +
                            std::to_string(ti.ne[d]) + " is out of range");
      if (ti.ne[d] != 0 &&
          ti.elementCount >
              uint64_t(std::numeric_limits<int64_t>::max()) / ti.ne[d])
        return fail(at, ctx + ": element count overflows");
      ti.elementCount *= ti.ne[d];
    }
    at = pos_;
    if (!u32(ti.type, ctx, "type"))
      return false;
    if (ti.type == ggml::I2_S && ti.elementCount % 4 != 0)
      return fail(at, ctx + ": I2_S element count " +
                          std::to_string(ti.elementCount) +
                          " is not a multiple of 4");
    if (auto tr = traits(ti.type);
        tr && nDims > 0 && ti.ne[0] % tr->blockElems != 0)
      return fail(at, ctx + ": ne[0] = " + std::to_string(ti.ne[0]) +
                          " is not a multiple of the " + ggmlTypeName(ti.type) +
                          " block size " + std::to_string(tr->blockElems));
    ti.byteSize = tensorByteSize(ti.type, ti.ne);
    at = pos_;
    if (!u64(ti.offset, ctx, "data offset"))
      return false;
    if (ti.offset % f.alignment_ != 0)
      return fail(at, ctx + ": data offset " + std::to_string(ti.offset) +
                          " is not a multiple of the alignment " +
                          std::to_string(f.alignment_));
    f.tensors_.push_back(std::move(ti));
  }

  // Data section: at the next multiple of the alignment.
  uint64_t pad = (f.alignment_ - pos_ % f.alignment_) % f.alignment_;
  if (pad > std::numeric_limits<uint64_t>::max() - pos_)
    return fail(pos_, "data section offset overflows");
  f.dataStart_ = pos_ + pad;
  if (!f.tensors_.empty() && f.dataStart_ > n_)
    return fail(pos_, "data section would start at " +
                          std::to_string(f.dataStart_) +
                          ", beyond the end of the file (" +
                          std::to_string(n_) + " bytes)");

  for (GgufTensorInfo &ti : f.tensors_) {
    std::string ctx = "tensor " + quote(ti.name);
    uint64_t room = n_ - std::min(n_, f.dataStart_);
    if (ti.offset > room)
      return fail(ti.infoOffset, ctx + ": data offset " +
                                     std::to_string(ti.offset) +
                                     " is beyond the end of the file (" +
                                     std::to_string(room) + " data bytes)");
    ti.dataOffset = f.dataStart_ + ti.offset;
    if (ti.byteSize && *ti.byteSize > room - ti.offset)
      return fail(ti.infoOffset,
                  ctx + ": " + ggmlTypeName(ti.type) + " data of " +
                      std::to_string(*ti.byteSize) + " bytes at offset " +
                      std::to_string(ti.dataOffset) + " exceeds the file (" +
                      std::to_string(n_) + " bytes)");
  }

  // Tensors of known size must not overlap.
  std::vector<const GgufTensorInfo *> sorted;
  for (const GgufTensorInfo &ti : f.tensors_)
    if (ti.byteSize && *ti.byteSize > 0)
      sorted.push_back(&ti);
  std::sort(sorted.begin(), sorted.end(),
            [](const GgufTensorInfo *a, const GgufTensorInfo *b) {
              return a->offset < b->offset;
            });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const GgufTensorInfo *p = sorted[i - 1], *c = sorted[i];
    if (p->offset + *p->byteSize > c->offset)
      return fail(c->infoOffset,
                  "tensor " + quote(c->name) + ": data at offset " +
                      std::to_string(c->dataOffset) + " overlaps tensor " +
                      quote(p->name) + " [" + std::to_string(p->dataOffset) +
                      ", " + std::to_string(p->dataOffset + *p->byteSize) +
                      ")");
  }
  return true;
}

//===----------------------------------------------------------------------===//
// GgufFile
//===----------------------------------------------------------------------===//

std::optional<GgufFile> GgufFile::parse(const void *data, size_t size,
                                        std::string_view fileName,
                                        std::string *error) {
  GgufFile f;
  GgufParser p(static_cast<const uint8_t *>(data), size, fileName, error);
  if (!p.run(f))
    return std::nullopt;
  return f;
}

const GgufValue *GgufFile::find(std::string_view key) const {
  for (const GgufKeyValue &kv : kvs_)
    if (kv.key == key)
      return &kv.value;
  return nullptr;
}

const GgufTensorInfo *GgufFile::findTensor(std::string_view name) const {
  for (const GgufTensorInfo &t : tensors_)
    if (t.name == name)
      return &t;
  return nullptr;
}

} // namespace ternc::rt
