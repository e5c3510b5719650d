//===- fuzz-tokenizer-serialized.cpp - the embedded tokenizer form --------===//
//
// What a compiled program reads from itself: checked, but a program whose
// bytes were damaged must still fail cleanly.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  auto tok = ternc::rt::Tokenizer::deserialize(
      std::string_view(reinterpret_cast<const char *>(data), size), &error);
  ternc::fuzz::exerciseTokenizer(tok, error);
  return 0;
}
