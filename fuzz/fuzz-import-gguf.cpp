//===- fuzz-import-gguf.cpp - the GGUF checkpoint importer ----------------===//
//
// The whole path from a GGUF file to a model description, then every tensor
// decoded (TQ1_0, TQ2_0, I2_S, F16, BF16, Q8_0 ...).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ternc::fuzz::MemFile file("fuzz.gguf");
  ternc::fuzz::exerciseModel(ternc::importGguf(file.set(data, size)));
  return 0;
}
