//===- Unicode.h - UTF-8 and character classes for tokenizers ---*- C++ -*-===//
//
// Internal to the tokenizer library.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_RUNTIME_TOKENIZER_UNICODE_H
#define TERNC_RUNTIME_TOKENIZER_UNICODE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ternc::rt::unicode {

struct CategoryRange {
  uint32_t first;
  uint32_t last;
  uint8_t cls;
};
extern const CategoryRange kCategoryRanges[];
extern const unsigned kCategoryRangeCount;

enum Class : uint8_t { Other = 0, Letter = 1, Number = 2 };

/// \p{L}, \p{N} or neither.
Class classify(uint32_t cp);
/// The Unicode White_Space property (what \s matches in the regex engines
/// the pre-tokenizer patterns were written for).
bool isWhitespace(uint32_t cp);

/// Code point value given to a byte that does not start a valid UTF-8
/// sequence: outside Unicode, so it is neither letter, number nor space.
constexpr uint32_t kInvalid = 0x110000;

/// Decodes the UTF-8 sequence at s[i] (i < s.size()) into `cp` and returns
/// its length; an invalid or truncated sequence yields one byte and
/// kInvalid.
size_t decodeUtf8(std::string_view s, size_t i, uint32_t &cp);
void appendUtf8(std::string &out, uint32_t cp);

/// GPT-2's byte-to-unicode map: printable bytes map to themselves, the others
/// to U+0100 upwards, so every byte has a visible character.
uint32_t byteToUnicode(uint8_t b);
/// The inverse; -1 for a character outside the map.
int unicodeToByte(uint32_t cp);
/// Bytes in GPT-2 spelling.
std::string toByteLevel(std::string_view bytes);
/// GPT-2 spelling back to bytes; false if a character is outside the map.
bool fromByteLevel(std::string_view piece, std::string &out);

} // namespace ternc::rt::unicode

#endif // TERNC_RUNTIME_TOKENIZER_UNICODE_H
