//===- fuzz-gguf.cpp - the GGUF container parser --------------------------===//
//
// Parses the bytes as a GGUF image and walks every metadata value (arrays
// element by element) and tensor record.
//
//===----------------------------------------------------------------------===//

#include "gguf/Gguf.h"

#include <cstdio>
#include <cstdlib>

using namespace ternc::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  std::optional<GgufFile> file =
      GgufFile::parse(data, size, "fuzz.gguf", &error);
  if (!file) {
    if (error.empty())
      std::abort(); // every rejection must say why
    return 0;
  }
  for (const GgufKeyValue &kv : file->metadata()) {
    const GgufValue &v = kv.value;
    (void)v.asUnsigned();
    (void)v.asSigned();
    (void)v.asFloat();
    (void)v.asString();
    if (v.isArray())
      for (uint64_t i = 0; i < v.count && i < 4096; ++i)
        (void)v.at(i).asString();
  }
  for (const GgufTensorInfo &t : file->tensors()) {
    if (t.byteSize && t.dataOffset + *t.byteSize > size)
      std::abort(); // the parser must have refused a tensor past the end
  }
  return 0;
}
