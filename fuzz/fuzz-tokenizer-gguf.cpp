//===- fuzz-tokenizer-gguf.cpp - tokenizer.ggml.* metadata loader ---------===//

#include "FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  auto tok = ternc::rt::Tokenizer::fromGgufBytes(
      std::string_view(reinterpret_cast<const char *>(data), size), "fuzz.gguf",
      &error);
  ternc::fuzz::exerciseTokenizer(tok, error);
  return 0;
}
