//===- LoadLlama2c.cpp - llama2.c tokenizer.bin loader --------------------===//
//
// Layout: i32 max_token_length, then per token: f32 score, i32 length,
// length bytes. The file does not store the vocabulary size (the model
// header does). Convention of llama2.c: 0 <unk>, 1 BOS, 2 EOS, pieces with
// real spaces, byte fallback pieces spelled <0xNN>.
//
//===----------------------------------------------------------------------===//

#include "TokenizerImpl.h"

#include <cmath>
#include <cstring>

namespace ternc::rt {

using detail::at;

namespace {

uint32_t loadU32(const char *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t(uint8_t(p[i])) << (8 * i);
  return v;
}

} // namespace

std::optional<Tokenizer> Tokenizer::fromLlama2c(std::string_view bytes,
                                                int32_t vocabSize,
                                                std::string_view name,
                                                std::string *error) {
  auto fail = [&](uint64_t off, const std::string &msg) {
    if (error)
      *error = at(name, off) + msg;
    return std::nullopt;
  };
  if (bytes.size() < 4)
    return fail(0, "file of " + std::to_string(bytes.size()) +
                       " bytes is too small for a llama2.c tokenizer");
  int32_t maxLen = int32_t(loadU32(bytes.data()));
  if (maxLen <= 0)
    return fail(0, "max_token_length " + std::to_string(maxLen) +
                       " is not positive");
  // Each token needs at least 8 bytes: this caps the count up front.
  if (vocabSize == 0 || vocabSize < -1 ||
      (vocabSize > 0 && uint64_t(vocabSize) > (bytes.size() - 4) / 8))
    return fail(4, "vocabulary size " + std::to_string(vocabSize) +
                       " does not fit the file (" +
                       std::to_string(bytes.size()) + " bytes)");

  TokenizerSpec s;
  s.model = TokenizerModel::SentencePiece;
  s.addDummyPrefix = true;
  s.metaspace = false;
  size_t pos = 4;
  for (int32_t i = 0; vocabSize < 0 ? pos < bytes.size() : i < vocabSize; ++i) {
    std::string tok = "token " + std::to_string(i) + ": ";
    if (bytes.size() - pos < 8)
      return fail(pos, tok + "truncated: need 8 bytes for score and length, " +
                           std::to_string(bytes.size() - pos) + " left");
    uint32_t bits = loadU32(bytes.data() + pos);
    float score;
    std::memcpy(&score, &bits, 4);
    if (std::isnan(score))
      return fail(pos, tok + "score is NaN");
    int32_t len = int32_t(loadU32(bytes.data() + pos + 4));
    if (len < 0 || len > maxLen)
      return fail(pos + 4, tok + "length " + std::to_string(len) +
                               " is outside [0, max_token_length " +
                               std::to_string(maxLen) + "]");
    pos += 8;
    if (bytes.size() - pos < size_t(len))
      return fail(pos, tok + "truncated: " + std::to_string(len) +
                           " bytes of text, " +
                           std::to_string(bytes.size() - pos) + " left");
    s.pieces.emplace_back(bytes.substr(pos, size_t(len)));
    s.scores.push_back(score);
    pos += size_t(len);
  }

  const size_t n = s.pieces.size();
  s.types.assign(n, TokenType::Normal);
  for (size_t i = 0; i < n; ++i)
    if (detail::parseByteToken(s.pieces[i]) >= 0)
      s.types[i] = TokenType::Byte;
  if (n > 2) {
    s.types[0] = TokenType::Unknown;
    s.types[1] = TokenType::Control;
    s.types[2] = TokenType::Control;
    s.unk = 0;
    s.bos = 1;
    s.eos = 2;
  }
  std::string err;
  auto t = fromSpec(std::move(s), &err);
  if (!t && error)
    *error = std::string(name) + ": " + err;
  return t;
}

} // namespace ternc::rt
