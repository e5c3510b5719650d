//===- fuzz-import-bitllama2c.cpp - the bitllama2.c checkpoint importer ---===//

#include "FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ternc::fuzz::MemFile file("fuzz.bin");
  ternc::fuzz::exerciseModel(ternc::importBitLlama2c(file.set(data, size)));
  return 0;
}
