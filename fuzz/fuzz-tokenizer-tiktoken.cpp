//===- fuzz-tokenizer-tiktoken.cpp - tiktoken rank-file loader ------------===//

#include "FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  auto tok = ternc::rt::Tokenizer::fromTiktoken(
      std::string_view(reinterpret_cast<const char *>(data), size),
      "tokenizer.model", &error);
  ternc::fuzz::exerciseTokenizer(tok, error);
  return 0;
}
