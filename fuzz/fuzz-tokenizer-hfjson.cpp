//===- fuzz-tokenizer-hfjson.cpp - Hugging Face tokenizer.json loader -----===//

#include "FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  auto tok = ternc::rt::Tokenizer::fromHfJson(
      std::string_view(reinterpret_cast<const char *>(data), size), "",
      "tokenizer.json", &error);
  ternc::fuzz::exerciseTokenizer(tok, error);
  return 0;
}
