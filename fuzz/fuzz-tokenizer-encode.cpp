//===- fuzz-tokenizer-encode.cpp - encode/decode of arbitrary bytes -------===//
//
// Real tokenizers (the project's test copies of Llama 3's BPE, a
// SentencePiece GGUF vocabulary and the bundled story model's tokenizer.bin)
// encode arbitrary bytes; the first input byte picks one. Every id must be in
// the vocabulary, and byte-level BPE must give back exactly the input when
// the input is valid UTF-8.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"
#include "tokenizer/Unicode.h"

#include <memory>

using ternc::rt::Tokenizer;

static bool validUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += ternc::rt::unicode::decodeUtf8(s, i, cp);
    if (cp == ternc::rt::unicode::kInvalid)
      return false;
  }
  return true;
}

static const std::vector<Tokenizer> &tokenizers() {
  static std::vector<Tokenizer> all = [] {
    std::vector<Tokenizer> v;
    for (const char *rel :
         {"/test/data/tokenizers/llama3/tokenizer.model",
          "/test/data/tokenizers/gguf-vocab/ggml-vocab-llama-spm.gguf",
          "/models/bitllama2c-tinystories-1M/tokenizer.bin"}) {
      std::string error;
      auto tok =
          Tokenizer::fromFile(std::string(TERNC_SOURCE_DIR) + rel, &error);
      if (!tok) {
        std::fprintf(stderr, "fuzz-tokenizer-encode: %s\n", error.c_str());
        std::abort();
      }
      v.push_back(*tok);
    }
    return v;
  }();
  return all;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const std::vector<Tokenizer> &all = tokenizers();
  const Tokenizer &tok = all[data[0] % all.size()];
  std::string_view text(reinterpret_cast<const char *>(data + 1), size - 1);
  std::vector<int32_t> ids = tok.encode(text, false);
  for (int32_t id : ids)
    if (id < 0 || id >= tok.vocabSize())
      ternc::fuzz::violated("encode produced an id outside the vocabulary");
  std::string back = tok.decode(ids);
  if (tok.spec().byteLevel && validUtf8(text) && back != text)
    ternc::fuzz::violated("byte-level BPE did not round-trip valid UTF-8");
  return 0;
}
