//===- fuzz-json.cpp - the JSON parser (config.json, tokenizer.json) ------===//

#include "FuzzSupport.h"
#include "tokenizer/Json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  auto value = ternc::rt::json::parse(
      std::string_view(reinterpret_cast<const char *>(data), size), &error);
  if (!value && error.empty())
    ternc::fuzz::violated("a rejection without a message");
  return 0;
}
