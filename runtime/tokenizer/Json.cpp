//===- Json.cpp - a small checked JSON parser -----------------------------===//

#include "Json.h"
#include "Unicode.h"

#include <cmath>
#include <cstdlib>

namespace ternc::rt::json {

namespace {

// Deep enough for any tokenizer.json, shallow enough for the stack.
constexpr unsigned kMaxDepth = 128;

class Parser {
public:
  Parser(std::string_view t, std::string *error) : t_(t), error_(error) {}

  bool document(Value &v) {
    ws();
    if (!value(v, 0))
      return false;
    ws();
    if (pos_ != t_.size())
      return fail("unexpected data after the JSON value");
    return true;
  }

private:
  std::string_view t_;
  std::string *error_;
  size_t pos_ = 0;

  bool fail(const std::string &msg) { return failAt(pos_, msg); }
  bool failAt(size_t off, const std::string &msg) {
    if (error_)
      *error_ = "offset " + std::to_string(off) + ": " + msg;
    return false;
  }
  void ws() {
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t' ||
                                t_[pos_] == '\n' || t_[pos_] == '\r'))
      ++pos_;
  }
  bool literal(std::string_view word) {
    if (t_.substr(pos_, word.size()) != word)
      return fail("invalid literal");
    pos_ += word.size();
    return true;
  }
  bool value(Value &v, unsigned depth);
  bool string(std::string &out);
  bool number(Value &v);
  bool hex4(uint32_t &v);
};

bool Parser::value(Value &v, unsigned depth) {
  if (pos_ >= t_.size())
    return fail("unexpected end of input, expected a value");
  v.offset = pos_;
  char c = t_[pos_];
  switch (c) {
  case 'n':
    v.kind = Value::Null;
    return literal("null");
  case 't':
    v.kind = Value::Bool;
    v.boolean = true;
    return literal("true");
  case 'f':
    v.kind = Value::Bool;
    return literal("false");
  case '"':
    v.kind = Value::String;
    return string(v.str);
  case '[':
  case '{': {
    if (depth >= kMaxDepth)
      return fail("nesting deeper than " + std::to_string(kMaxDepth));
    bool obj = c == '{';
    v.kind = obj ? Value::Object : Value::Array;
    char close = obj ? '}' : ']';
    ++pos_;
    ws();
    if (pos_ < t_.size() && t_[pos_] == close) {
      ++pos_;
      return true;
    }
    for (;;) {
      if (obj) {
        ws();
        if (pos_ >= t_.size() || t_[pos_] != '"')
          return fail("expected a member name");
        std::string key;
        if (!string(key))
          return false;
        ws();
        if (pos_ >= t_.size() || t_[pos_] != ':')
          return fail("expected ':'");
        ++pos_;
        ws();
        v.members.emplace_back(std::move(key), Value());
        if (!value(v.members.back().second, depth + 1))
          return false;
      } else {
        ws();
        v.items.emplace_back();
        if (!value(v.items.back(), depth + 1))
          return false;
      }
      ws();
      if (pos_ >= t_.size())
        return fail(std::string("unexpected end of input, expected ',' or '") +
                    close + "'");
      if (t_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (t_[pos_] == close) {
        ++pos_;
        return true;
      }
      return fail(std::string("expected ',' or '") + close + "'");
    }
  }
  default:
    if (c == '-' || (c >= '0' && c <= '9'))
      return number(v);
    return fail("unexpected character, expected a value");
  }
}

bool Parser::hex4(uint32_t &v) {
  if (t_.size() - pos_ < 4)
    return fail("truncated \\u escape");
  v = 0;
  for (int i = 0; i < 4; ++i) {
    char c = t_[pos_++];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return failAt(pos_ - 1, "invalid hex digit in \\u escape");
    v = v * 16 + uint32_t(d);
  }
  return true;
}

bool Parser::string(std::string &out) {
  size_t start = pos_;
  ++pos_; // opening quote
  for (;;) {
    if (pos_ >= t_.size())
      return failAt(start, "unterminated string");
    char c = t_[pos_];
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (uint8_t(c) < 0x20)
      return fail("control character in string");
    if (c != '\\') {
      // Copy a run of plain bytes at once.
      size_t e = pos_;
      while (e < t_.size() && t_[e] != '"' && t_[e] != '\\' &&
             uint8_t(t_[e]) >= 0x20)
        ++e;
      out.append(t_.data() + pos_, e - pos_);
      pos_ = e;
      continue;
    }
    if (++pos_ >= t_.size())
      return failAt(start, "unterminated string");
    char e = t_[pos_++];
    switch (e) {
    case '"':
    case '\\':
    case '/':
      out += e;
      break;
    case 'b':
      out += '\b';
      break;
    case 'f':
      out += '\f';
      break;
    case 'n':
      out += '\n';
      break;
    case 'r':
      out += '\r';
      break;
    case 't':
      out += '\t';
      break;
    case 'u': {
      size_t escAt = pos_ - 2;
      uint32_t cp;
      if (!hex4(cp))
        return false;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        // A high surrogate must be followed by an escaped low one.
        uint32_t lo;
        if (t_.substr(pos_, 2) != "\\u")
          return failAt(escAt, "unpaired surrogate in \\u escape");
        pos_ += 2;
        if (!hex4(lo))
          return false;
        if (lo < 0xDC00 || lo > 0xDFFF)
          return failAt(escAt, "unpaired surrogate in \\u escape");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return failAt(escAt, "unpaired surrogate in \\u escape");
      }
      unicode::appendUtf8(out, cp);
      break;
    }
    default:
      return failAt(pos_ - 2, "invalid escape in string");
    }
  }
}

bool Parser::number(Value &v) {
  size_t start = pos_;
  auto digits = [&] {
    size_t s = pos_;
    while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9')
      ++pos_;
    return pos_ - s;
  };
  if (t_[pos_] == '-')
    ++pos_;
  size_t intStart = pos_;
  size_t nInt = digits();
  if (nInt == 0)
    return fail("invalid number");
  if (nInt > 1 && t_[intStart] == '0')
    return failAt(intStart, "leading zero in number");
  bool integral = true;
  if (pos_ < t_.size() && t_[pos_] == '.') {
    ++pos_;
    integral = false;
    if (digits() == 0)
      return fail("invalid number: digits expected after '.'");
  }
  if (pos_ < t_.size() && (t_[pos_] == 'e' || t_[pos_] == 'E')) {
    ++pos_;
    integral = false;
    if (pos_ < t_.size() && (t_[pos_] == '+' || t_[pos_] == '-'))
      ++pos_;
    if (digits() == 0)
      return fail("invalid number: digits expected in exponent");
  }
  std::string text(t_.substr(start, pos_ - start));
  v.kind = Value::Number;
  v.number = std::strtod(text.c_str(), nullptr);
  if (integral && nInt <= 18) {
    v.isInt = true;
    v.integer = std::strtoll(text.c_str(), nullptr, 10);
  }
  return true;
}

} // namespace

const Value *Value::get(std::string_view key) const {
  if (kind != Object)
    return nullptr;
  for (const auto &m : members)
    if (m.first == key)
      return &m.second;
  return nullptr;
}

const char *kindName(Value::Kind k) {
  switch (k) {
  case Value::Null:
    return "null";
  case Value::Bool:
    return "bool";
  case Value::Number:
    return "number";
  case Value::String:
    return "string";
  case Value::Array:
    return "array";
  case Value::Object:
    return "object";
  }
  return "?";
}

std::optional<Value> parse(std::string_view text, std::string *error) {
  Value v;
  Parser p(text, error);
  if (!p.document(v))
    return std::nullopt;
  return v;
}

} // namespace ternc::rt::json
