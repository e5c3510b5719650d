//===- Serialize.cpp - the "TTOK" binary form of a tokenizer --------------===//
//
// What the compiler embeds in generated programs. Little-endian:
//   "TTOK", u32 version (1),
//   u8 model, u8 pre-tokenizer, u16 flags,
//   i32 bos, eos, eot, unk,
//   u32 token count N, N x (LEB128 length, bytes),
//   N x u8 type, [N x f32 score if flag kHasScores],
//   u32 merge count M, M x (LEB128 left, LEB128 right),
//   u32 FNV-1a of everything before it.
// Only the spec is stored; lookup tables are rebuilt on load, and the spec is
// checked again by fromSpec.
//
//===----------------------------------------------------------------------===//

#include "TokenizerImpl.h"

#include <cstring>

namespace ternc::rt {

using detail::at;

namespace {

constexpr char kMagic[4] = {'T', 'T', 'O', 'K'};
constexpr uint32_t kVersion = 1;
constexpr const char *kName = "serialized tokenizer";

enum Flags : uint16_t {
  kByteLevel = 1 << 0,
  kDummyPrefix = 1 << 1,
  kMetaspace = 1 << 2,
  kIgnoreMerges = 1 << 3,
  kMergesFromRanks = 1 << 4,
  kHasScores = 1 << 5,
  kAllFlags = (1 << 6) - 1,
};

uint32_t fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= uint8_t(c);
    h *= 16777619u;
  }
  return h;
}

void putU32(std::string &o, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    o += char((v >> (8 * i)) & 0xFF);
}
void putVar(std::string &o, uint32_t v) {
  while (v >= 0x80) {
    o += char(0x80 | (v & 0x7F));
    v >>= 7;
  }
  o += char(v);
}

class Reader {
public:
  Reader(std::string_view b, std::string *error) : b_(b), error_(error) {}
  size_t pos = 0;
  size_t left() const { return b_.size() - pos; }

  bool fail(size_t off, const std::string &msg) {
    if (error_)
      *error_ = at(kName, off) + msg;
    return false;
  }
  bool bytes(size_t n, const char *what, std::string_view &out) {
    if (left() < n)
      return fail(pos, std::string("truncated ") + what + ": need " +
                           std::to_string(n) + " bytes, " +
                           std::to_string(left()) + " left");
    out = b_.substr(pos, n);
    pos += n;
    return true;
  }
  bool u8(const char *what, uint8_t &v) {
    std::string_view s;
    if (!bytes(1, what, s))
      return false;
    v = uint8_t(s[0]);
    return true;
  }
  bool u32(const char *what, uint32_t &v) {
    std::string_view s;
    if (!bytes(4, what, s))
      return false;
    v = 0;
    for (int i = 0; i < 4; ++i)
      v |= uint32_t(uint8_t(s[i])) << (8 * i);
    return true;
  }
  bool var(const char *what, uint32_t &v) {
    size_t start = pos;
    v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      uint8_t b;
      if (!u8(what, b))
        return false;
      if (shift == 28 && (b & 0x70))
        return fail(start, std::string(what) + ": varint exceeds 32 bits");
      v |= uint32_t(b & 0x7F) << shift;
      if (!(b & 0x80))
        return true;
    }
    return fail(start, std::string(what) + ": varint exceeds 32 bits");
  }

private:
  std::string_view b_;
  std::string *error_;
};

} // namespace

std::string Tokenizer::serialize() const {
  const TokenizerSpec &s = spec();
  std::string o;
  o.append(kMagic, 4);
  putU32(o, kVersion);
  o += char(s.model);
  o += char(s.pre);
  uint16_t flags =
      (s.byteLevel ? kByteLevel : 0) | (s.addDummyPrefix ? kDummyPrefix : 0) |
      (s.metaspace ? kMetaspace : 0) | (s.ignoreMerges ? kIgnoreMerges : 0) |
      (s.mergesFromRanks ? kMergesFromRanks : 0) |
      (s.scores.empty() ? 0 : kHasScores);
  o += char(flags & 0xFF);
  o += char(flags >> 8);
  for (int32_t id : {s.bos, s.eos, s.eot, s.unk})
    putU32(o, uint32_t(id));
  putU32(o, uint32_t(s.pieces.size()));
  for (const std::string &p : s.pieces) {
    putVar(o, uint32_t(p.size()));
    o += p;
  }
  for (TokenType t : s.types)
    o += char(t);
  for (float f : s.scores) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    putU32(o, bits);
  }
  putU32(o, uint32_t(s.merges.size()));
  for (auto [a, b] : s.merges) {
    putVar(o, uint32_t(a));
    putVar(o, uint32_t(b));
  }
  putU32(o, fnv1a(o));
  return o;
}

std::optional<Tokenizer> Tokenizer::deserialize(std::string_view bytes,
                                                std::string *error) {
  Reader r(bytes, error);
  std::string_view magic;
  if (!r.bytes(4, "magic", magic))
    return std::nullopt;
  if (magic != std::string_view(kMagic, 4)) {
    r.fail(0, "bad magic (expected 'TTOK')");
    return std::nullopt;
  }
  uint32_t version;
  if (!r.u32("version", version))
    return std::nullopt;
  if (version != kVersion) {
    r.fail(4, "unsupported version " + std::to_string(version) + " (expected " +
                  std::to_string(kVersion) + ")");
    return std::nullopt;
  }
  TokenizerSpec s;
  uint8_t model, pre, f0, f1;
  if (!r.u8("model", model) || !r.u8("pre-tokenizer", pre) ||
      !r.u8("flags", f0) || !r.u8("flags", f1))
    return std::nullopt;
  uint16_t flags = uint16_t(f0 | (f1 << 8));
  if (flags & ~kAllFlags) {
    r.fail(10, "unknown flags " + std::to_string(flags));
    return std::nullopt;
  }
  s.model = TokenizerModel(model);
  s.pre = PreTokenizer(pre);
  s.byteLevel = flags & kByteLevel;
  s.addDummyPrefix = flags & kDummyPrefix;
  s.metaspace = flags & kMetaspace;
  s.ignoreMerges = flags & kIgnoreMerges;
  s.mergesFromRanks = flags & kMergesFromRanks;
  uint32_t ids[4];
  for (uint32_t &id : ids)
    if (!r.u32("special token id", id))
      return std::nullopt;
  s.bos = int32_t(ids[0]);
  s.eos = int32_t(ids[1]);
  s.eot = int32_t(ids[2]);
  s.unk = int32_t(ids[3]);

  size_t at = r.pos;
  uint32_t n;
  if (!r.u32("token count", n))
    return std::nullopt;
  // A token takes at least a length byte and a type byte.
  if (n > r.left() / 2) {
    r.fail(at, "token count " + std::to_string(n) + " exceeds the data (" +
                   std::to_string(r.left()) + " bytes left)");
    return std::nullopt;
  }
  s.pieces.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t len;
    std::string_view p;
    if (!r.var("token length", len) || !r.bytes(len, "token text", p))
      return std::nullopt;
    s.pieces[i] = std::string(p);
  }
  std::string_view types;
  if (!r.bytes(n, "token types", types))
    return std::nullopt;
  s.types.resize(n);
  for (uint32_t i = 0; i < n; ++i)
    s.types[i] = TokenType(uint8_t(types[i]));
  if (flags & kHasScores) {
    s.scores.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t bits;
      if (!r.u32("score", bits))
        return std::nullopt;
      std::memcpy(&s.scores[i], &bits, 4);
    }
  }
  at = r.pos;
  uint32_t m;
  if (!r.u32("merge count", m))
    return std::nullopt;
  if (m > r.left() / 2) {
    r.fail(at, "merge count " + std::to_string(m) + " exceeds the data (" +
                   std::to_string(r.left()) + " bytes left)");
    return std::nullopt;
  }
  s.merges.resize(m);
  for (uint32_t i = 0; i < m; ++i) {
    uint32_t a, b;
    if (!r.var("merge", a) || !r.var("merge", b))
      return std::nullopt;
    s.merges[i] = {int32_t(a), int32_t(b)};
  }
  at = r.pos;
  uint32_t sum;
  if (!r.u32("checksum", sum))
    return std::nullopt;
  if (sum != fnv1a(bytes.substr(0, at))) {
    r.fail(at, "checksum mismatch: the data is corrupt");
    return std::nullopt;
  }
  if (r.left() != 0) {
    r.fail(r.pos, std::to_string(r.left()) + " trailing bytes");
    return std::nullopt;
  }
  std::string err;
  auto t = fromSpec(std::move(s), &err);
  if (!t && error)
    *error = std::string(kName) + ": " + err;
  return t;
}

} // namespace ternc::rt
