//===- Safetensors.h - checked reader for .safetensors files ----*- C++ -*-===//
//
// Reads the header of a safetensors file (u64 little-endian header length,
// JSON header, data) and gives bounds-checked views of its tensors. The file
// is memory-mapped; nothing is copied. Every size and offset is untrusted.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_IMPORT_SAFETENSORS_H
#define TERNC_IMPORT_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ternc {

enum class DType { F32, F16, BF16, F64, I8, U8, I16, I32, I64, Bool };

/// Bytes per element of `dtype`.
size_t dtypeSize(DType dtype);
/// The safetensors spelling, e.g. "F32".
llvm::StringRef dtypeName(DType dtype);

struct SafetensorsTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  /// The tensor's bytes inside the mapped file.
  llvm::ArrayRef<uint8_t> data;

  int64_t numElements() const;
};

class SafetensorsFile {
public:
  /// Maps and validates `path`. Errors name the file and the tensor.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  open(llvm::StringRef path);

  /// Validates an in-memory image (used by tests and fuzzers); `name` is
  /// used in messages.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  fromBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer);

  /// The tensor called `name`, or null.
  const SafetensorsTensor *find(llvm::StringRef name) const;
  const std::map<std::string, SafetensorsTensor> &tensors() const {
    return tensors_;
  }
  const std::map<std::string, std::string> &metadata() const {
    return metadata_;
  }
  llvm::StringRef path() const { return buffer_->getBufferIdentifier(); }

private:
  std::unique_ptr<llvm::MemoryBuffer> buffer_;
  std::map<std::string, SafetensorsTensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

} // namespace ternc

#endif // TERNC_IMPORT_SAFETENSORS_H
