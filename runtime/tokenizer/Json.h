//===- Json.h - a small checked JSON parser ---------------------*- C++ -*-===//
//
// Used by the tokenizer library (tokenizer.json, tokenizer_config.json) and
// by the safetensors reader (it keeps repeated keys, which llvm::json drops).
// Strict RFC 8259 syntax; nesting depth and the input size bound everything.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_RUNTIME_TOKENIZER_JSON_H
#define TERNC_RUNTIME_TOKENIZER_JSON_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ternc::rt::json {

struct Value {
  enum Kind : uint8_t { Null, Bool, Number, String, Array, Object };
  Kind kind = Null;
  bool boolean = false;
  /// Number: its value, and whether it is an integer that fits int64.
  double number = 0;
  bool isInt = false;
  int64_t integer = 0;
  std::string str;
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;
  /// Byte offset of the value in the document (for messages).
  uint64_t offset = 0;

  /// Member `key` of an object (the first if repeated), or null.
  const Value *get(std::string_view key) const;
  bool isString() const { return kind == String; }
  bool isObject() const { return kind == Object; }
  bool isArray() const { return kind == Array; }
};

/// Parses a whole document; on failure `error` gets "offset N: what".
std::optional<Value> parse(std::string_view text, std::string *error);

/// Kind name for messages ("object", "string", ...).
const char *kindName(Value::Kind k);

} // namespace ternc::rt::json

#endif // TERNC_RUNTIME_TOKENIZER_JSON_H
