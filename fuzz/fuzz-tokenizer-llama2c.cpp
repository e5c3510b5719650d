//===- fuzz-tokenizer-llama2c.cpp - llama2.c tokenizer.bin loader ---------===//

#include "FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  auto tok = ternc::rt::Tokenizer::fromLlama2c(
      std::string_view(reinterpret_cast<const char *>(data), size), -1,
      "fuzz.bin", &error);
  ternc::fuzz::exerciseTokenizer(tok, error);
  return 0;
}
