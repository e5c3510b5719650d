//===- Gguf.h - checked GGUF v2/v3 reader over a byte buffer ----*- C++ -*-===//
//
// Plain C++17, no LLVM: part of the runtime, also used by the compiler.
//
// The reader never owns the bytes: the caller maps or reads the file and
// keeps the buffer alive as long as the GgufFile (string views point into
// it). Every count, length and offset in the file is untrusted; a malformed
// file gives an error message of the form
//   "<file>: offset <N>: <what> ..."
// naming the metadata key or tensor involved, and never a crash or a huge
// allocation.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_RUNTIME_GGUF_GGUF_H
#define TERNC_RUNTIME_GGUF_GGUF_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ternc::rt {

/// Metadata value types, numbered as in the file.
enum class GgufType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

/// Name of a metadata type ("u32", "string", ...), or "type N" if unknown.
std::string ggufTypeName(GgufType type);

/// ggml tensor type ids this reader knows the byte size of. Ids 36..39 are
/// ambiguous between upstream ggml (removed types; 39 = MXFP4) and the
/// bitnet.cpp fork (36 = I2_S, 38 = TL1, 39 = TL2): see tensorByteSize().
namespace ggml {
enum : uint32_t {
  F32 = 0,
  F16 = 1,
  Q8_0 = 8,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  I2_S = 36, // bitnet.cpp numbering
};
} // namespace ggml

/// Name of a ggml type id ("F32", "TQ2_0", ...), or "type N" if unknown.
std::string ggmlTypeName(uint32_t type);

/// One metadata value. Scalars are decoded; arrays keep a view of their
/// packed elements (fixed-size types), their string views, or their nested
/// arrays.
struct GgufValue {
  GgufType type = GgufType::UInt8;
  /// File offset of the value's first byte (after its type tag).
  uint64_t offset = 0;

  /// Scalars: integers as their 64-bit pattern (signed types sign-extended),
  /// bool as 0/1, floats as the bits of a double.
  uint64_t bits = 0;
  /// String.
  std::string_view str;

  /// Array: element type and count.
  GgufType elemType = GgufType::UInt8;
  uint64_t count = 0;
  /// Array of fixed-size elements: the packed little-endian elements.
  const uint8_t *raw = nullptr;
  /// Array of strings.
  std::vector<std::string_view> strings;
  /// Array of arrays.
  std::vector<GgufValue> items;

  bool isInteger() const;
  bool isFloat() const {
    return type == GgufType::Float32 || type == GgufType::Float64;
  }
  bool isString() const { return type == GgufType::String; }
  bool isArray() const { return type == GgufType::Array; }

  /// Integer value if this is an integer type and it fits, else nullopt.
  std::optional<uint64_t> asUnsigned() const;
  std::optional<int64_t> asSigned() const;
  /// Float32/Float64 value (integers are not converted).
  std::optional<double> asFloat() const;
  std::optional<bool> asBool() const;
  std::optional<std::string_view> asString() const;

  /// Element `i` (< count) of an array, as a scalar value (or a copy of the
  /// nested array).
  GgufValue at(uint64_t i) const;
};

struct GgufKeyValue {
  std::string_view key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string_view name;
  /// Dimensions, ne[0] innermost (contiguous): the reverse of a PyTorch shape.
  std::vector<uint64_t> ne;
  /// ggml type id, kept even when unknown.
  uint32_t type = 0;
  /// Offset relative to the data section, as stored.
  uint64_t offset = 0;
  /// Absolute file offset of the data.
  uint64_t dataOffset = 0;
  uint64_t elementCount = 0;
  /// Byte size if the type is known, else nullopt.
  std::optional<uint64_t> byteSize;
  /// File offset of this tensor's info record (for messages).
  uint64_t infoOffset = 0;
};

/// Byte size of a tensor of `type` with `ne`, if the type is known and the
/// shape fits its block size; nullopt otherwise. Type 36 is taken as
/// bitnet.cpp's I2_S (ne0*ne1*.../4 codes + 32-byte scale tail): upstream
/// ggml removed its own type 36, so no loadable upstream file uses that id.
/// 38 and 39 (TL1/TL2 vs MXFP4) stay unknown.
std::optional<uint64_t> tensorByteSize(uint32_t type,
                                       const std::vector<uint64_t> &ne);

class GgufFile {
public:
  /// Parses and checks the header, metadata and tensor infos of the GGUF
  /// image `data[0, size)`. `fileName` prefixes error messages. The buffer
  /// must outlive the returned object.
  static std::optional<GgufFile> parse(const void *data, size_t size,
                                       std::string_view fileName,
                                       std::string *error);

  uint32_t version() const { return version_; }
  /// `general.alignment` or 32.
  uint64_t alignment() const { return alignment_; }
  /// Absolute offset of the data section (may equal or exceed the file size
  /// for a vocabulary-only file without tensors).
  uint64_t dataStart() const { return dataStart_; }
  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }
  const std::string &fileName() const { return fileName_; }

  const std::vector<GgufKeyValue> &metadata() const { return kvs_; }
  /// The value of `key`, or null.
  const GgufValue *find(std::string_view key) const;

  const std::vector<GgufTensorInfo> &tensors() const { return tensors_; }
  /// The tensor named `name`, or null.
  const GgufTensorInfo *findTensor(std::string_view name) const;
  /// Pointer to a tensor's data (its byte size is checked to lie in the file
  /// when known).
  const uint8_t *tensorData(const GgufTensorInfo &t) const {
    return data_ + t.dataOffset;
  }

private:
  friend class GgufParser;
  const uint8_t *data_ = nullptr;
  size_t size_ = 0;
  std::string fileName_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t dataStart_ = 0;
  std::vector<GgufKeyValue> kvs_;
  std::vector<GgufTensorInfo> tensors_;
};

} // namespace ternc::rt

#endif // TERNC_RUNTIME_GGUF_GGUF_H
