//===- Unicode.cpp - UTF-8 and character classes for tokenizers -----------===//

#include "Unicode.h"

namespace ternc::rt::unicode {

Class classify(uint32_t cp) {
  // ASCII fast path: most text is ASCII.
  if (cp < 0x80) {
    if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
      return Letter;
    if (cp >= '0' && cp <= '9')
      return Number;
    return Other;
  }
  unsigned lo = 0, hi = kCategoryRangeCount;
  while (lo < hi) {
    unsigned mid = (lo + hi) / 2;
    if (kCategoryRanges[mid].last < cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < kCategoryRangeCount && kCategoryRanges[lo].first <= cp)
    return Class(kCategoryRanges[lo].cls);
  return Other;
}

bool isWhitespace(uint32_t cp) {
  switch (cp) {
  case 0x09:
  case 0x0A:
  case 0x0B:
  case 0x0C:
  case 0x0D:
  case 0x20:
  case 0x85:
  case 0xA0:
  case 0x1680:
  case 0x2028:
  case 0x2029:
  case 0x202F:
  case 0x205F:
  case 0x3000:
    return true;
  default:
    return cp >= 0x2000 && cp <= 0x200A;
  }
}

size_t decodeUtf8(std::string_view s, size_t i, uint32_t &cp) {
  auto byte = [&](size_t k) { return uint8_t(s[k]); };
  uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t len;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    cp = kInvalid;
    return 1;
  }
  if (s.size() - i < len) {
    cp = kInvalid;
    return 1;
  }
  for (size_t k = 1; k < len; ++k) {
    uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) {
      cp = kInvalid;
      return 1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values beyond U+10FFFF are invalid.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    cp = kInvalid;
    return 1;
  }
  return len;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

namespace {

// Bytes that GPT-2's alphabet keeps as themselves: '!'..'~', U+00A1..U+00AC,
// U+00AE..U+00FF. The other 68 bytes get U+0100 + n in byte order.
bool keepsItself(unsigned b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
         (b >= 0xAE && b <= 0xFF);
}

struct ByteMap {
  uint32_t toCp[256];
  int16_t fromCp[0x144]; // all mapped code points are below U+0144
  ByteMap() {
    for (int16_t &v : fromCp)
      v = -1;
    uint32_t next = 0x100;
    for (unsigned b = 0; b < 256; ++b) {
      toCp[b] = keepsItself(b) ? b : next++;
      fromCp[toCp[b]] = int16_t(b);
    }
  }
};

const ByteMap &byteMap() {
  static const ByteMap m;
  return m;
}

} // namespace

uint32_t byteToUnicode(uint8_t b) { return byteMap().toCp[b]; }

int unicodeToByte(uint32_t cp) {
  if (cp >= sizeof(ByteMap::fromCp) / sizeof(int16_t))
    return -1;
  return byteMap().fromCp[cp];
}

std::string toByteLevel(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes)
    appendUtf8(out, byteToUnicode(uint8_t(c)));
  return out;
}

bool fromByteLevel(std::string_view piece, std::string &out) {
  out.clear();
  for (size_t i = 0; i < piece.size();) {
    uint32_t cp;
    i += decodeUtf8(piece, i, cp);
    int b = unicodeToByte(cp);
    if (b < 0)
      return false;
    out += char(b);
  }
  return true;
}

} // namespace ternc::rt::unicode
