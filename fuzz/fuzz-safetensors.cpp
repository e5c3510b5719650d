//===- fuzz-safetensors.cpp - the safetensors container parser ------------===//
//
// Validates the bytes as a safetensors image; every tensor it accepts must
// lie inside the buffer with a size that matches its dtype and shape.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"
#include "ternc/Import/Safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "fuzz.safetensors");
  const uint8_t *begin =
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart());
  const uint8_t *end = begin + buffer->getBufferSize();
  auto file = ternc::SafetensorsFile::fromBuffer(std::move(buffer));
  if (!file) {
    if (llvm::toString(file.takeError()).empty())
      ternc::fuzz::violated("a rejection without a message");
    return 0;
  }
  for (const auto &[name, t] : (*file)->tensors()) {
    if (t.data.size() && (t.data.begin() < begin || t.data.end() > end))
      ternc::fuzz::violated("an accepted tensor lies outside the file");
    if (uint64_t(t.numElements()) * ternc::dtypeSize(t.dtype) != t.data.size())
      ternc::fuzz::violated("an accepted tensor's size disagrees with its "
                            "shape");
  }
  return 0;
}
