//===- LoadTiktoken.cpp - tiktoken text ranks (Llama 3) -------------------===//
//
// One token per line: base64 of its bytes, a space, its rank (= id). There
// is no merge list: a pair merges at the rank of its concatenation. The
// special tokens are not in the file; those of Llama 3 (128000..128255) are
// added here, which is why only the 128000-rank Llama 3 vocabulary is
// accepted (another vocabulary would need other specials and another regex).
//
//===----------------------------------------------------------------------===//

#include "TokenizerImpl.h"
#include "Unicode.h"

namespace ternc::rt {

using detail::at;

namespace {

constexpr size_t kLlama3Ranks = 128000;
constexpr size_t kLlama3Specials = 256;

int base64Digit(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

// Strict standard base64, padded to a multiple of 4 characters.
bool decodeBase64(std::string_view in, std::string &out) {
  out.clear();
  if (in.empty() || in.size() % 4 != 0)
    return false;
  size_t n = in.size();
  for (int k = 0; k < 2 && in[n - 1] == '='; ++k)
    --n;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    int d = base64Digit(in[i]);
    if (d < 0)
      return false;
    acc = (acc << 6) | uint32_t(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero in canonical base64.
  return (acc & ((1u << bits) - 1)) == 0;
}

std::string llama3Special(size_t i) {
  switch (i) {
  case 0:
    return "<|begin_of_text|>";
  case 1:
    return "<|end_of_text|>";
  case 6:
    return "<|start_header_id|>";
  case 7:
    return "<|end_header_id|>";
  case 9:
    return "<|eot_id|>";
  default:
    break;
  }
  // Meta's numbering: reserved 0..3 at 128002..128005, 4 at 128008, then
  // 5.. from 128010.
  size_t r = i < 6 ? i - 2 : i == 8 ? 4 : i - 5;
  return "<|reserved_special_token_" + std::to_string(r) + "|>";
}

} // namespace

std::optional<Tokenizer> Tokenizer::fromTiktoken(std::string_view text,
                                                 std::string_view name,
                                                 std::string *error) {
  auto fail = [&](uint64_t off, size_t line, const std::string &msg) {
    if (error)
      *error = at(name, off) + "line " + std::to_string(line) + ": " + msg;
    return std::nullopt;
  };
  // Ranks are dense, so none can reach the line count: a bound before
  // allocating.
  size_t lines = 1;
  for (char c : text)
    lines += c == '\n';
  std::vector<std::string> byRank;
  std::vector<bool> seen;
  std::string bytes;
  size_t line = 0;
  for (size_t pos = 0; pos < text.size();) {
    ++line;
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos)
      eol = text.size();
    std::string_view l = text.substr(pos, eol - pos);
    size_t lineAt = pos;
    pos = eol + 1;
    if (!l.empty() && l.back() == '\r')
      l.remove_suffix(1);
    if (l.empty())
      continue;
    size_t sp = l.find(' ');
    if (sp == std::string_view::npos || sp == 0)
      return fail(lineAt, line, "expected 'base64 rank'");
    if (!decodeBase64(l.substr(0, sp), bytes) || bytes.empty())
      return fail(lineAt, line, "invalid base64 token");
    std::string_view r = l.substr(sp + 1);
    uint64_t rank = 0;
    if (r.empty() || r.size() > 9)
      return fail(lineAt + sp + 1, line,
                  "invalid rank '" + std::string(r.substr(0, 20)) + "'");
    for (char c : r) {
      if (c < '0' || c > '9')
        return fail(lineAt + sp + 1, line,
                    "invalid rank '" + std::string(r.substr(0, 20)) + "'");
      rank = rank * 10 + uint64_t(c - '0');
    }
    if (rank >= lines)
      return fail(lineAt + sp + 1, line,
                  "rank " + std::to_string(rank) + " exceeds the " +
                      std::to_string(lines) + " lines of the file");
    if (rank >= byRank.size()) {
      byRank.resize(rank + 1);
      seen.resize(rank + 1);
    }
    if (seen[rank])
      return fail(lineAt + sp + 1, line,
                  "duplicate rank " + std::to_string(rank));
    seen[rank] = true;
    byRank[rank] = unicode::toByteLevel(bytes);
  }
  for (size_t i = 0; i < seen.size(); ++i)
    if (!seen[i]) {
      if (error)
        *error = std::string(name) + ": rank " + std::to_string(i) +
                 " is missing (ranks must be 0..N-1)";
      return std::nullopt;
    }
  if (byRank.size() != kLlama3Ranks) {
    if (error)
      *error = std::string(name) + ": " + std::to_string(byRank.size()) +
               " ranks: only the Llama 3 vocabulary (128000 ranks) is "
               "supported, since its special tokens and pre-tokenizer are "
               "not in the file";
    return std::nullopt;
  }

  TokenizerSpec s;
  s.model = TokenizerModel::Bpe;
  s.byteLevel = true;
  s.pre = PreTokenizer::Llama3;
  s.ignoreMerges = true; // tiktoken looks a piece up whole first
  s.mergesFromRanks = true;
  s.pieces = std::move(byRank);
  s.types.assign(s.pieces.size(), TokenType::Normal);
  for (size_t i = 0; i < kLlama3Specials; ++i) {
    s.pieces.push_back(llama3Special(i));
    s.types.push_back(TokenType::Control);
  }
  s.bos = int32_t(kLlama3Ranks);     // <|begin_of_text|>
  s.eos = int32_t(kLlama3Ranks + 1); // <|end_of_text|>
  s.eot = int32_t(kLlama3Ranks + 9); // <|eot_id|>
  std::string err;
  auto t = fromSpec(std::move(s), &err);
  if (!t && error)
    *error = std::string(name) + ": " + err;
  return t;
}

} // namespace ternc::rt
