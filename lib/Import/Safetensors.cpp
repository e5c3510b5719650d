//===- Safetensors.cpp - checked reader for .safetensors files ------------===//

#include "ternc/Import/Safetensors.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include "tokenizer/Json.h"

#include <algorithm>
#include <set>

using namespace llvm;
using namespace ternc;

// A header larger than this is not a real checkpoint: refuse it before
// allocating anything for it.
static constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;

size_t ternc::dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
  case DType::I16:
    return 2;
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    return 1;
  }
  llvm_unreachable("unknown dtype");
}

StringRef ternc::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  case DType::F64:
    return "F64";
  case DType::I8:
    return "I8";
  case DType::U8:
    return "U8";
  case DType::I16:
    return "I16";
  case DType::I32:
    return "I32";
  case DType::I64:
    return "I64";
  case DType::Bool:
    return "BOOL";
  }
  llvm_unreachable("unknown dtype");
}

static std::optional<DType> parseDType(StringRef s) {
  return StringSwitch<std::optional<DType>>(s)
      .Case("F32", DType::F32)
      .Case("F16", DType::F16)
      .Case("BF16", DType::BF16)
      .Case("F64", DType::F64)
      .Case("I8", DType::I8)
      .Case("U8", DType::U8)
      .Case("I16", DType::I16)
      .Case("I32", DType::I32)
      .Case("I64", DType::I64)
      .Case("BOOL", DType::Bool)
      .Default(std::nullopt);
}

int64_t SafetensorsTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static Error fail(StringRef file, const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), (file + ": " + msg).str());
}

Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buf =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buf)
    return fail(path, "cannot read: " + buf.getError().message());
  return fromBuffer(std::move(*buf));
}

Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::fromBuffer(std::unique_ptr<MemoryBuffer> buffer) {
  auto file = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  StringRef name = buffer->getBufferIdentifier();
  const uint8_t *bytes =
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart());
  uint64_t size = buffer->getBufferSize();
  if (size < 8)
    return fail(name, formatv("truncated: {0} bytes, the 8-byte header "
                              "length alone needs 8",
                              size));
  uint64_t headerLen = support::endian::read64le(bytes);
  if (headerLen > kMaxHeaderBytes)
    return fail(name, formatv("header length {0} at offset 0 exceeds the "
                              "{1}-byte limit",
                              headerLen, kMaxHeaderBytes));
  if (headerLen > size - 8)
    return fail(name, formatv("truncated: header of {0} bytes ends past the "
                              "end of the {1}-byte file",
                              headerLen, size));
  StringRef header(reinterpret_cast<const char *>(bytes + 8), headerLen);
  const uint8_t *data = bytes + 8 + headerLen;
  uint64_t dataSize = size - 8 - headerLen;

  Expected<json::Value> parsed = json::parse(header);
  if (!parsed)
    return fail(name,
                "header is not valid JSON: " + toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return fail(name, "header is not a JSON object");
  // llvm::json keeps the last of repeated keys; a header naming a tensor
  // twice would silently use one of two byte ranges. The runtime's parser
  // keeps every member, with its offset.
  {
    std::string error;
    std::optional<rt::json::Value> members =
        rt::json::parse(std::string_view(header.data(), header.size()), &error);
    if (!members)
      return fail(name, "header is not valid JSON: " + error);
    std::set<std::string_view> seen;
    for (const auto &[key, value] : members->members)
      if (!seen.insert(key).second)
        return fail(name, formatv("tensor '{0}' is declared twice in the "
                                  "header (again at file offset {1})",
                                  key, 8 + value.offset));
  }

  for (const auto &kv : *root) {
    std::string tname = kv.first.str();
    if (tname == "__metadata__") {
      const json::Object *meta = kv.second.getAsObject();
      if (!meta)
        return fail(name, "__metadata__ is not an object");
      for (const auto &m : *meta) {
        std::optional<StringRef> v = m.second.getAsString();
        if (!v)
          return fail(name, "__metadata__ entry '" + m.first.str() +
                                "' is not a string");
        file->metadata_[m.first.str()] = v->str();
      }
      continue;
    }
    auto tfail = [&](const Twine &msg) {
      return fail(name, "tensor '" + tname + "': " + msg);
    };
    const json::Object *info = kv.second.getAsObject();
    if (!info)
      return tfail("entry is not an object");
    std::optional<StringRef> dtypeStr = info->getString("dtype");
    if (!dtypeStr)
      return tfail("missing dtype");
    std::optional<DType> dtype = parseDType(*dtypeStr);
    if (!dtype)
      return tfail("unsupported dtype '" + *dtypeStr + "'");
    const json::Array *shape = info->getArray("shape");
    if (!shape)
      return tfail("missing shape");
    const json::Array *offsets = info->getArray("data_offsets");
    if (!offsets || offsets->size() != 2)
      return tfail("data_offsets must be [begin, end]");

    SafetensorsTensor t;
    t.name = tname;
    t.dtype = *dtype;
    // Element count with overflow checks: bytes may not exceed the file.
    uint64_t elems = 1;
    for (const json::Value &d : *shape) {
      std::optional<int64_t> dim = d.getAsInteger();
      if (!dim || *dim < 0)
        return tfail("shape entries must be non-negative integers");
      t.shape.push_back(*dim);
      if (*dim != 0 && elems > dataSize / uint64_t(*dim))
        elems = dataSize + 1; // certainly too large; keep checking shape
      else
        elems *= uint64_t(*dim);
    }
    std::optional<int64_t> begin = (*offsets)[0].getAsInteger();
    std::optional<int64_t> end = (*offsets)[1].getAsInteger();
    if (!begin || !end || *begin < 0 || *end < *begin)
      return tfail("data_offsets must be non-negative and ordered");
    if (uint64_t(*end) > dataSize)
      return tfail(formatv("data_offsets [{0}, {1}] end past the {2} data "
                           "bytes (file truncated?)",
                           *begin, *end, dataSize));
    uint64_t want = elems > dataSize ? UINT64_MAX : elems * dtypeSize(*dtype);
    if (uint64_t(*end - *begin) != want)
      return tfail(formatv("holds {0} bytes but its shape and dtype need {1}",
                           *end - *begin,
                           want == UINT64_MAX ? std::string("more than the "
                                                            "file")
                                              : std::to_string(want)));
    t.data = ArrayRef<uint8_t>(data + *begin, *end - *begin);
    file->tensors_.emplace(tname, std::move(t));
  }
  // Tensors must not share bytes (a writer bug or a crafted file would
  // otherwise make two weights alias).
  std::vector<const SafetensorsTensor *> byStart;
  for (const auto &[tname, t] : file->tensors_)
    if (!t.data.empty())
      byStart.push_back(&t);
  std::sort(byStart.begin(), byStart.end(),
            [](const SafetensorsTensor *a, const SafetensorsTensor *b) {
              return std::make_pair(a->data.begin(), a->name) <
                     std::make_pair(b->data.begin(), b->name);
            });
  for (size_t i = 1; i < byStart.size(); ++i) {
    const SafetensorsTensor *p = byStart[i - 1], *c = byStart[i];
    if (p->data.end() > c->data.begin())
      return fail(
          name, formatv("tensor '{0}': data_offsets [{1}, {2}] overlaps "
                        "tensor '{3}' [{4}, {5}]",
                        c->name, c->data.begin() - data, c->data.end() - data,
                        p->name, p->data.begin() - data, p->data.end() - data));
  }
  file->buffer_ = std::move(buffer);
  return file;
}

const SafetensorsTensor *SafetensorsFile::find(StringRef name) const {
  auto it = tensors_.find(name.str());
  return it == tensors_.end() ? nullptr : &it->second;
}
