//===- PreTokenizer.cpp - GPT-2 and Llama 3 regex splitting by hand -------===//
//
// The two patterns, matched leftmost-first at each position exactly as a
// backtracking regex engine would, without a regex library:
//
// GPT-2:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Llama 3:
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// \s is the Unicode White_Space property; ASCII-only case folding for (?i).
//
//===----------------------------------------------------------------------===//

#include "TokenizerImpl.h"
#include "Unicode.h"

namespace ternc::rt::detail {

namespace {

// The text as code points with their classes; offsets map back to bytes.
struct Chars {
  std::vector<uint32_t> cp;
  std::vector<uint8_t> cls; // unicode::Class, or kSpace
  std::vector<size_t> off;  // byte offset of each code point, plus the end
  static constexpr uint8_t kSpace = 3;

  explicit Chars(std::string_view text) {
    cp.reserve(text.size());
    cls.reserve(text.size());
    off.reserve(text.size() + 1);
    for (size_t i = 0; i < text.size();) {
      uint32_t c;
      size_t len = unicode::decodeUtf8(text, i, c);
      off.push_back(i);
      cp.push_back(c);
      cls.push_back(unicode::isWhitespace(c) ? kSpace
                                             : uint8_t(unicode::classify(c)));
      i += len;
    }
    off.push_back(text.size());
  }
  size_t size() const { return cp.size(); }
  bool letter(size_t i) const {
    return i < size() && cls[i] == unicode::Letter;
  }
  bool number(size_t i) const {
    return i < size() && cls[i] == unicode::Number;
  }
  bool space(size_t i) const { return i < size() && cls[i] == kSpace; }
  // [^\s\p{L}\p{N}]
  bool other(size_t i) const { return i < size() && cls[i] == unicode::Other; }
  bool crlf(size_t i) const {
    return i < size() && (cp[i] == '\r' || cp[i] == '\n');
  }
  size_t skipLetters(size_t i) const {
    while (letter(i))
      ++i;
    return i;
  }
  size_t skipNumbers(size_t i) const {
    while (number(i))
      ++i;
    return i;
  }
  size_t skipOther(size_t i) const {
    while (other(i))
      ++i;
    return i;
  }
  size_t skipSpace(size_t i) const {
    while (space(i))
      ++i;
    return i;
  }
};

char lowerAscii(uint32_t c) {
  if (c >= 'A' && c <= 'Z')
    return char(c - 'A' + 'a');
  return c < 0x80 ? char(c) : 0;
}

// 's 't 're 've 'm 'll 'd at i; returns the end or 0.
size_t contraction(const Chars &s, size_t i, bool ignoreCase) {
  if (s.cp[i] != '\'' || i + 1 >= s.size())
    return 0;
  auto at = [&](size_t k) -> char {
    if (k >= s.size())
      return 0;
    return ignoreCase ? lowerAscii(s.cp[k])
                      : (s.cp[k] < 0x80 ? char(s.cp[k]) : 0);
  };
  char a = at(i + 1), b = at(i + 2);
  if (a == 's' || a == 't' || a == 'm' || a == 'd')
    return i + 2;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
      (a == 'l' && b == 'l'))
    return i + 3;
  return 0;
}

// \s+(?!\S) then \s+: a whitespace run leaves its last character to the
// next piece when a non-space follows it (so " word" keeps its space).
size_t spaceRun(const Chars &s, size_t i) {
  size_t e = s.skipSpace(i);
  if (e == s.size() || e - i < 2)
    return e;
  return e - 1;
}

size_t matchGpt2(const Chars &s, size_t i) {
  if (size_t e = contraction(s, i, false))
    return e;
  // An optional leading space, then a run of one class.
  size_t j = s.cp[i] == ' ' ? i + 1 : i;
  if (s.letter(j))
    return s.skipLetters(j);
  if (s.number(j))
    return s.skipNumbers(j);
  if (s.other(j))
    return s.skipOther(j);
  if (s.space(i))
    return spaceRun(s, i);
  return i + 1;
}

size_t matchLlama3(const Chars &s, size_t i) {
  if (size_t e = contraction(s, i, true))
    return e;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (s.letter(i))
    return s.skipLetters(i);
  if (!s.crlf(i) && !s.number(i) && s.letter(i + 1))
    return s.skipLetters(i + 1);
  // \p{N}{1,3}
  if (s.number(i)) {
    size_t e = i;
    while (e < i + 3 && s.number(e))
      ++e;
    return e;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  size_t j = s.cp[i] == ' ' ? i + 1 : i;
  if (s.other(j)) {
    size_t e = s.skipOther(j);
    while (s.crlf(e))
      ++e;
    return e;
  }
  if (s.space(i)) {
    // \s*[\r\n]+: up to the last line break of the whitespace run.
    size_t e = s.skipSpace(i);
    for (size_t k = e; k > i; --k)
      if (s.crlf(k - 1))
        return k;
    return spaceRun(s, i);
  }
  return i + 1;
}

} // namespace

void preTokenize(PreTokenizer kind, std::string_view text,
                 std::vector<std::pair<size_t, size_t>> &spans) {
  if (text.empty())
    return;
  if (kind == PreTokenizer::None) {
    spans.emplace_back(0, text.size());
    return;
  }
  Chars s(text);
  for (size_t i = 0; i < s.size();) {
    size_t e =
        kind == PreTokenizer::Llama3 ? matchLlama3(s, i) : matchGpt2(s, i);
    spans.emplace_back(s.off[i], s.off[e]);
    i = e;
  }
}

} // namespace ternc::rt::detail
