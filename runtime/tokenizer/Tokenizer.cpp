//===- Tokenizer.cpp - spec checking, tables, encode and decode -----------===//

#include "tokenizer/Tokenizer.h"
#include "TokenizerImpl.h"
#include "Unicode.h"

#include <cmath>
#include <limits>

namespace ternc::rt {

using detail::TokenizerImpl;

namespace detail {

std::string at(std::string_view name, uint64_t offset) {
  return std::string(name) + ": offset " + std::to_string(offset) + ": ";
}

int parseByteToken(std::string_view p) {
  if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>')
    return -1;
  int v = 0;
  for (size_t i = 3; i < 5; ++i) {
    char c = p[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

std::string escapeSpaces(std::string_view text, std::string_view space,
                         bool dummyPrefix) {
  std::string s;
  s.reserve(text.size() + text.size() / 4 + 3);
  if (dummyPrefix && !text.empty())
    s += space;
  for (char c : text) {
    if (c == ' ')
      s += space;
    else
      s += c;
  }
  return s;
}

size_t segmentEnd(const TokenizerImpl &t, std::string_view esc, size_t from) {
  constexpr size_t kMaxSegment = size_t(1) << 31;
  size_t end = esc.size();
  if (end - from > kMaxSegment) {
    end = from + kMaxSegment;
    while (end > from + 1 && (uint8_t(esc[end]) & 0xC0) == 0x80)
      --end;
  }
  if (!t.cutBeforeSpaces)
    return end;
  std::string_view sp = t.space;
  for (size_t p = esc.find(sp, from + 1); p < end; p = esc.find(sp, p + 1))
    if (esc.compare(p - std::min(p, sp.size()), sp.size(), sp) != 0)
      return p;
  return end;
}

void appendByteFallback(const TokenizerImpl &t, std::string_view bytes,
                        std::vector<int32_t> &out) {
  for (char c : bytes) {
    int32_t id = t.byteToken[uint8_t(c)];
    if (id < 0)
      id = t.spec.unk;
    if (id >= 0)
      out.push_back(id);
  }
}

} // namespace detail

namespace {

const std::string kEmpty;

bool matchable(TokenType t) {
  return t == TokenType::Normal || t == TokenType::UserDefined ||
         t == TokenType::Undefined;
}

bool fail(std::string *error, std::string msg) {
  if (error)
    *error = std::move(msg);
  return false;
}

// Checks the spec and fills the derived tables of `t`.
bool build(TokenizerImpl &t, std::string *error) {
  TokenizerSpec &s = t.spec;
  const size_t n = s.pieces.size();
  if (n == 0)
    return fail(error, "tokenizer: empty vocabulary");
  if (n >= size_t(std::numeric_limits<int32_t>::max()))
    return fail(error, "tokenizer: vocabulary of " + std::to_string(n) +
                           " tokens is too large");
  if (s.types.empty())
    s.types.assign(n, TokenType::Normal);
  if (s.types.size() != n)
    return fail(error, "tokenizer: " + std::to_string(s.types.size()) +
                           " token types for " + std::to_string(n) + " tokens");
  for (size_t i = 0; i < n; ++i)
    if (uint8_t(s.types[i]) > uint8_t(TokenType::Byte))
      return fail(error, "tokenizer: token " + std::to_string(i) +
                             " has invalid type " +
                             std::to_string(unsigned(s.types[i])));
  if (s.model == TokenizerModel::SentencePiece && s.scores.empty())
    s.scores.assign(n, 0.0f);
  if (!s.scores.empty() && s.scores.size() != n)
    return fail(error, "tokenizer: " + std::to_string(s.scores.size()) +
                           " scores for " + std::to_string(n) + " tokens");
  for (size_t i = 0; i < s.scores.size(); ++i)
    if (std::isnan(s.scores[i]))
      return fail(error,
                  "tokenizer: token " + std::to_string(i) + " has a NaN score");
  if (s.model != TokenizerModel::SentencePiece &&
      s.model != TokenizerModel::Bpe)
    return fail(error, "tokenizer: unknown model " +
                           std::to_string(unsigned(s.model)));
  if (uint8_t(s.pre) > uint8_t(PreTokenizer::Llama3))
    return fail(error, "tokenizer: unknown pre-tokenizer " +
                           std::to_string(unsigned(s.pre)));
  if (s.byteLevel && s.model != TokenizerModel::Bpe)
    return fail(error, "tokenizer: byte-level needs the BPE model");
  if (s.pre != PreTokenizer::None && !s.byteLevel)
    return fail(error, "tokenizer: a pre-tokenizer needs byte-level BPE");
  if (s.model != TokenizerModel::Bpe &&
      (!s.merges.empty() || s.mergesFromRanks || s.ignoreMerges))
    return fail(error, "tokenizer: merge rules need the BPE model");
  if (s.mergesFromRanks && !s.merges.empty())
    return fail(error, "tokenizer: merges given and derived from ranks");
  for (auto [name, id] : {std::pair<const char *, int32_t>{"bos", s.bos},
                          {"eos", s.eos},
                          {"eot", s.eot},
                          {"unk", s.unk}})
    if (id < -1 || id >= int32_t(n))
      return fail(error, std::string("tokenizer: ") + name + " id " +
                             std::to_string(id) + " is outside the vocabulary");

  // Token texts.
  t.textStart.resize(n + 1);
  size_t total = 0;
  for (const std::string &p : s.pieces)
    total += p.size();
  if (total >= std::numeric_limits<uint32_t>::max())
    return fail(error, "tokenizer: vocabulary text too large");
  t.arena.reserve(total);
  std::string raw;
  for (size_t i = 0; i < n; ++i) {
    t.textStart[i] = uint32_t(t.arena.size());
    // Byte-level pieces go back to the bytes they stand for; a piece outside
    // the GPT-2 alphabet (some added tokens) is kept as written.
    if (s.byteLevel && unicode::fromByteLevel(s.pieces[i], raw))
      t.arena += raw;
    else
      t.arena += s.pieces[i];
  }
  t.textStart[n] = uint32_t(t.arena.size());
  t.textToId.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!matchable(s.types[i]))
      continue;
    if (s.byteLevel && !unicode::fromByteLevel(s.pieces[i], raw))
      continue;
    std::string_view txt = t.text(int32_t(i));
    if (!txt.empty())
      t.textToId.emplace(txt, int32_t(i)); // the first of duplicates wins
  }
  t.space =
      s.metaspace ? std::string_view("\xE2\x96\x81") : std::string_view(" ");

  // Can the text be cut before a space that follows a non-space?
  if (!s.byteLevel) {
    t.cutBeforeSpaces = true;
    std::string_view sp = t.space;
    for (const auto &[txt, id] : t.textToId) {
      for (size_t p = txt.find(sp, 1); p != txt.npos; p = txt.find(sp, p + 1))
        if (txt.compare(p - std::min(p, sp.size()), sp.size(), sp) != 0) {
          t.cutBeforeSpaces = false;
          break;
        }
      if (!t.cutBeforeSpaces)
        break;
    }
  }

  // Byte tokens.
  for (int32_t &b : t.byteToken)
    b = -1;
  if (s.byteLevel) {
    for (unsigned b = 0; b < 256; ++b) {
      char c = char(b);
      t.byteToken[b] = t.lookup(std::string_view(&c, 1));
    }
  } else {
    bool typed = false;
    for (size_t i = 0; i < n; ++i)
      typed |= s.types[i] == TokenType::Byte;
    // Without Byte-typed tokens, take any piece spelled <0xNN>.
    for (size_t i = 0; i < n; ++i) {
      if (typed && s.types[i] != TokenType::Byte)
        continue;
      int v = detail::parseByteToken(s.pieces[i]);
      if (v >= 0 && t.byteToken[v] < 0)
        t.byteToken[v] = int32_t(i);
    }
  }

  // Merge rules.
  auto key = [](int32_t l, int32_t r) {
    return (uint64_t(uint32_t(l)) << 32) | uint32_t(r);
  };
  if (!s.mergesFromRanks) {
    t.pairs.reserve(s.merges.size());
    std::string joined;
    for (size_t r = 0; r < s.merges.size(); ++r) {
      auto [a, b] = s.merges[r];
      if (a < 0 || b < 0 || a >= int32_t(n) || b >= int32_t(n))
        return fail(error, "tokenizer: merge " + std::to_string(r) +
                               " refers to a token outside the vocabulary");
      joined.assign(t.text(a));
      joined += t.text(b);
      int32_t res = t.lookup(joined);
      if (res < 0)
        return fail(error, "tokenizer: merge " + std::to_string(r) + " ('" +
                               s.pieces[a] + "' '" + s.pieces[b] +
                               "') does not make a token");
      t.pairs.emplace(key(a, b), std::make_pair(int32_t(r), res));
    }
  }

  // End of turn, resolved once: generation loops ask for it per token.
  t.eot = s.eot;
  for (size_t i = 0; t.eot < 0 && i < n; ++i)
    if (s.pieces[i] == "<|eot_id|>")
      t.eot = int32_t(i);
  if (t.eot < 0)
    t.eot = s.eos;
  return true;
}

} // namespace

Tokenizer::Tokenizer() : impl_(std::make_shared<TokenizerImpl>()) {}

std::optional<Tokenizer> Tokenizer::fromSpec(TokenizerSpec spec,
                                             std::string *error) {
  auto impl = std::make_shared<TokenizerImpl>();
  impl->spec = std::move(spec);
  if (!build(*impl, error))
    return std::nullopt;
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text,
                                       bool addBos) const {
  std::vector<int32_t> out;
  const TokenizerImpl &t = *impl_;
  if (t.spec.pieces.empty())
    return out;
  if (addBos && t.spec.bos >= 0)
    out.push_back(t.spec.bos);
  if (t.spec.model == TokenizerModel::Bpe)
    detail::encodeBpe(t, text, out);
  else
    detail::encodeSentencePiece(t, text, out);
  return out;
}

std::string Tokenizer::decode(int32_t prev, int32_t id) const {
  const TokenizerImpl &t = *impl_;
  const TokenizerSpec &s = t.spec;
  if (id < 0 || id >= vocabSize() || s.types[id] == TokenType::Control)
    return "";
  if (s.byteLevel)
    return std::string(t.text(id));
  if (s.types[id] == TokenType::Byte) {
    int v = detail::parseByteToken(s.pieces[id]);
    if (v >= 0)
      return std::string(1, char(v));
  }
  std::string out;
  std::string_view p = s.pieces[id];
  if (s.metaspace) {
    for (size_t i = 0; i < p.size();) {
      if (p.compare(i, t.space.size(), t.space) == 0) {
        out += ' ';
        i += t.space.size();
      } else {
        out += p[i++];
      }
    }
  } else {
    out.assign(p);
  }
  // The dummy prefix added before encoding is not part of the text (what
  // llama2.c does after BOS).
  if (s.addDummyPrefix && s.bos >= 0 && prev == s.bos && !out.empty() &&
      out[0] == ' ')
    out.erase(0, 1);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
  std::string out;
  int32_t prev = -1;
  for (int32_t id : ids) {
    out += decode(prev, id);
    prev = id;
  }
  return out;
}

int32_t Tokenizer::bos() const { return impl_->spec.bos; }
int32_t Tokenizer::eos() const { return impl_->spec.eos; }

int32_t Tokenizer::eot() const { return impl_->eot; }

int32_t Tokenizer::vocabSize() const {
  return int32_t(impl_->spec.pieces.size());
}

int32_t Tokenizer::tokenId(std::string_view piece) const {
  const std::vector<std::string> &p = impl_->spec.pieces;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] == piece)
      return int32_t(i);
  return -1;
}

const std::string &Tokenizer::piece(int32_t id) const {
  if (id < 0 || id >= vocabSize())
    return kEmpty;
  return impl_->spec.pieces[id];
}

TokenType Tokenizer::tokenType(int32_t id) const {
  if (id < 0 || id >= vocabSize())
    return TokenType::Undefined;
  return impl_->spec.types[id];
}

const TokenizerSpec &Tokenizer::spec() const { return impl_->spec; }

} // namespace ternc::rt
