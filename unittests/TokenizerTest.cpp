//===- TokenizerTest.cpp - tokenizer engines, loaders, serialization ------===//

#include "tokenizer/Tokenizer.h"

// Internal headers, for the pre-tokenizer and the GPT-2 alphabet.
#include "tokenizer/TokenizerImpl.h"
#include "tokenizer/Unicode.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace ternc::rt;

namespace {

using Ids = std::vector<int32_t>;
const std::string kSp = "\xE2\x96\x81"; // U+2581, SentencePiece's space

// A tiny SentencePiece vocabulary: <unk> <s> </s>, 256 byte tokens, then
// ▁ a b ▁a ab ▁ab c (ids 259..265).
TokenizerSpec spmSpec() {
  TokenizerSpec s;
  s.model = TokenizerModel::SentencePiece;
  s.metaspace = true;
  s.addDummyPrefix = true;
  s.pieces = {"<unk>", "<s>", "</s>"};
  s.types = {TokenType::Unknown, TokenType::Control, TokenType::Control};
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    s.pieces.push_back(buf);
    s.types.push_back(TokenType::Byte);
  }
  for (const std::string &p :
       {kSp, std::string("a"), std::string("b"), kSp + "a", std::string("ab"),
        kSp + "ab", std::string("c")}) {
    s.pieces.push_back(p);
    s.types.push_back(TokenType::Normal);
  }
  s.scores.assign(s.pieces.size(), 0.0f);
  s.scores[262] = -2; // ▁a
  s.scores[263] = -1; // ab: merges before ▁a
  s.scores[264] = -3; // ▁ab
  s.bos = 1;
  s.eos = 2;
  s.unk = 0;
  return s;
}

Tokenizer make(TokenizerSpec s) {
  std::string err;
  auto t = Tokenizer::fromSpec(std::move(s), &err);
  EXPECT_TRUE(t) << err;
  return t ? *t : Tokenizer();
}

// A tiny byte-level vocabulary: the 256 bytes (id = byte), then merges
// "1 2" -> 256, "3 4" -> 257, "12 3" -> 258, "a b" -> 259, plus "abc" (260)
// that no merge makes.
TokenizerSpec bpeSpec(PreTokenizer pre, bool ignoreMerges) {
  TokenizerSpec s;
  s.model = TokenizerModel::Bpe;
  s.byteLevel = true;
  s.pre = pre;
  s.ignoreMerges = ignoreMerges;
  for (int b = 0; b < 256; ++b)
    s.pieces.push_back(unicode::toByteLevel(std::string(1, char(b))));
  for (const char *p : {"12", "34", "123", "ab", "abc"})
    s.pieces.push_back(p);
  s.merges = {{'1', '2'}, {'3', '4'}, {256, '3'}, {'a', 'b'}};
  s.pieces.push_back("<|eot_id|>");
  s.types.assign(s.pieces.size(), TokenType::Normal);
  s.types.back() = TokenType::Control;
  s.eos = int32_t(s.pieces.size() - 1);
  return s;
}

std::vector<std::string> split(PreTokenizer kind, std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;
  detail::preTokenize(kind, text, spans);
  std::vector<std::string> out;
  for (auto [b, e] : spans)
    out.emplace_back(text.substr(b, e - b));
  return out;
}

using Strs = std::vector<std::string>;

TEST(Tokenizer, SentencePieceMergesByScore) {
  Tokenizer t = make(spmSpec());
  // ▁ab: "ab" (score -1) merges before "▁a" (-2), then ▁ + ab -> ▁ab.
  EXPECT_EQ(t.encode("ab", true), (Ids{1, 264}));
  EXPECT_EQ(t.encode("ab", false), (Ids{264}));
  EXPECT_EQ(t.encode("", true), (Ids{1}));
  EXPECT_EQ(t.encode("", false), Ids{});
  // Two spaces: the dummy prefix and the text's own.
  EXPECT_EQ(t.encode(" a", false), (Ids{259, 262}));
  // When "▁a" scores higher it merges first; with "▁ab" unused, "b" stays.
  TokenizerSpec s = spmSpec();
  s.scores[262] = 0;
  s.types[264] = TokenType::Unused;
  EXPECT_EQ(make(s).encode("ab", false), (Ids{262, 261}));
  // The dummy prefix can be turned off.
  s.addDummyPrefix = false;
  EXPECT_EQ(make(s).encode("ab", false), (Ids{263}));
}

TEST(Tokenizer, SentencePieceByteFallbackAndDecode) {
  Tokenizer t = make(spmSpec());
  // é is not a token: its two UTF-8 bytes become <0xC3> <0xA9>.
  EXPECT_EQ(t.encode("\xC3\xA9", false), (Ids{259, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(t.decode(-1, 3 + 0xC3), "\xC3");
  EXPECT_EQ(t.decode(-1, 3 + 0x41), "A");
  EXPECT_EQ(t.decode(-1, 3 + 0x00), std::string(1, '\0'));
  // The dummy-prefix space goes after BOS only.
  EXPECT_EQ(t.decode(1, 264), "ab");
  EXPECT_EQ(t.decode(264, 264), " ab");
  EXPECT_EQ(t.decode(-1, 1), "");    // control
  EXPECT_EQ(t.decode(-1, 9999), ""); // out of range
  const std::string text = "h\xC3\xA9llo ab, w\xC3\xB6rld\n\t!";
  EXPECT_EQ(t.decode(t.encode(text, true)), text);
  // Invalid UTF-8 survives too, byte by byte.
  const std::string bad = "a\xFF\xC3(b\xE2\x82";
  EXPECT_EQ(t.decode(t.encode(bad, true)), bad);
}

TEST(Tokenizer, SpecialTokensAreNotParsed) {
  Tokenizer t = make(spmSpec());
  Ids ids = t.encode("<s>", false);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 0);
  Tokenizer b = make(bpeSpec(PreTokenizer::Llama3, true));
  ids = b.encode("<|eot_id|>", false);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), b.eos()), 0);
  EXPECT_EQ(b.tokenId("<|eot_id|>"), b.eos());
  EXPECT_EQ(b.eot(), b.eos()); // found by name
  EXPECT_EQ(b.tokenId("nope"), -1);
}

TEST(Tokenizer, PreTokenizerGpt2) {
  PreTokenizer g = PreTokenizer::Gpt2;
  EXPECT_EQ(split(g, "Hello world"), (Strs{"Hello", " world"}));
  EXPECT_EQ(split(g, "   Hello"), (Strs{"  ", " Hello"}));
  EXPECT_EQ(split(g, "it's IT'S"), (Strs{"it", "'s", " IT", "'", "S"}));
  EXPECT_EQ(split(g, "12345 x"), (Strs{"12345", " x"}));
  EXPECT_EQ(split(g, "a  "), (Strs{"a", "  "}));
  EXPECT_EQ(split(g, "a\n\nb"), (Strs{"a", "\n", "\n", "b"}));
  EXPECT_EQ(split(g, "(x)!! y"), (Strs{"(", "x", ")!!", " y"}));
  // Letters and numbers of any script; marks are neither.
  EXPECT_EQ(split(g, "\xD0\xBD\xD0\xB5 \xD9\xA3"),
            (Strs{"\xD0\xBD\xD0\xB5", " \xD9\xA3"}));
}

TEST(Tokenizer, PreTokenizerLlama3) {
  PreTokenizer l = PreTokenizer::Llama3;
  EXPECT_EQ(split(l, "Hello world"), (Strs{"Hello", " world"}));
  EXPECT_EQ(split(l, "it's IT'S"), (Strs{"it", "'s", " IT", "'S"}));
  EXPECT_EQ(split(l, "12345"), (Strs{"123", "45"}));
  EXPECT_EQ(split(l, " 12"), (Strs{" ", "12"}));
  EXPECT_EQ(split(l, "Hello  \n  world"),
            (Strs{"Hello", "  \n", " ", " world"}));
  EXPECT_EQ(split(l, "a\n\nb"), (Strs{"a", "\n\n", "b"}));
  EXPECT_EQ(split(l, "x;\n\ny"), (Strs{"x", ";\n\n", "y"}));
  EXPECT_EQ(split(l, "(hi"), (Strs{"(hi"}));
  EXPECT_EQ(split(l, "\nhi"), (Strs{"\n", "hi"}));
  EXPECT_EQ(split(l, "a   "), (Strs{"a", "   "}));
}

TEST(Tokenizer, BytePairMergesByRank) {
  // GPT-2 keeps "1234" whole: (1,2) then (3,4) before (12,3).
  EXPECT_EQ(make(bpeSpec(PreTokenizer::Gpt2, false)).encode("1234", false),
            (Ids{256, 257}));
  // Llama 3 splits digits by three: "123" "4".
  EXPECT_EQ(make(bpeSpec(PreTokenizer::Llama3, false)).encode("1234", false),
            (Ids{258, '4'}));
  // ignore_merges: a pre-token that is a whole token stays whole.
  EXPECT_EQ(make(bpeSpec(PreTokenizer::Llama3, false)).encode("abc", false),
            (Ids{259, 'c'}));
  EXPECT_EQ(make(bpeSpec(PreTokenizer::Llama3, true)).encode("abc", false),
            (Ids{260}));
  // Leftmost first among equal ranks.
  EXPECT_EQ(make(bpeSpec(PreTokenizer::Gpt2, false)).encode("121", false),
            (Ids{256, '1'}));
}

TEST(Tokenizer, ByteLevelDecode) {
  Tokenizer t = make(bpeSpec(PreTokenizer::Gpt2, false));
  EXPECT_EQ(t.piece(' '), "\xC4\xA0"); // "Ġ"
  EXPECT_EQ(t.decode(-1, ' '), " ");
  EXPECT_EQ(t.decode(-1, 0xFF), "\xFF");
  EXPECT_EQ(t.decode(-1, t.eos()), "");
  const std::string text = "Hi 1234, \xF0\x9F\xA6\x99 abc\r\n\x01";
  EXPECT_EQ(t.decode(t.encode(text, false)), text);
}

TEST(Tokenizer, LongWordsMergeFast) {
  // One 200 kB pre-token: a heap, not a rescan per merge.
  Tokenizer t = make(bpeSpec(PreTokenizer::Gpt2, false));
  std::string word;
  for (int i = 0; i < 50000; ++i)
    word += "1234";
  Ids ids = t.encode(word, false);
  ASSERT_EQ(ids.size(), 100000u);
  EXPECT_EQ(ids[0], 256);
  EXPECT_EQ(ids[1], 257);
}

TEST(Tokenizer, SpecErrors) {
  std::string err;
  TokenizerSpec s = spmSpec();
  s.scores.pop_back();
  EXPECT_FALSE(Tokenizer::fromSpec(s, &err));
  EXPECT_EQ(err, "tokenizer: 265 scores for 266 tokens");
  s = spmSpec();
  s.bos = 266;
  EXPECT_FALSE(Tokenizer::fromSpec(s, &err));
  EXPECT_EQ(err, "tokenizer: bos id 266 is outside the vocabulary");
  TokenizerSpec b = bpeSpec(PreTokenizer::Gpt2, false);
  b.merges.push_back({'x', 'y'});
  EXPECT_FALSE(Tokenizer::fromSpec(b, &err));
  EXPECT_EQ(err, "tokenizer: merge 4 ('x' 'y') does not make a token");
  EXPECT_FALSE(Tokenizer::fromSpec(TokenizerSpec(), &err));
  EXPECT_EQ(err, "tokenizer: empty vocabulary");
}

//===----------------------------------------------------------------------===//
// Serialization
//===----------------------------------------------------------------------===//

void expectSameSpec(const TokenizerSpec &a, const TokenizerSpec &b) {
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.byteLevel, b.byteLevel);
  EXPECT_EQ(a.pre, b.pre);
  EXPECT_EQ(a.addDummyPrefix, b.addDummyPrefix);
  EXPECT_EQ(a.metaspace, b.metaspace);
  EXPECT_EQ(a.ignoreMerges, b.ignoreMerges);
  EXPECT_EQ(a.mergesFromRanks, b.mergesFromRanks);
  EXPECT_EQ(a.pieces, b.pieces);
  EXPECT_EQ(a.scores, b.scores);
  EXPECT_EQ(a.types, b.types);
  EXPECT_EQ(a.merges, b.merges);
  EXPECT_EQ(a.bos, b.bos);
  EXPECT_EQ(a.eos, b.eos);
  EXPECT_EQ(a.eot, b.eot);
  EXPECT_EQ(a.unk, b.unk);
}

TEST(Tokenizer, SerializationRoundTrip) {
  for (const Tokenizer &t :
       {make(spmSpec()), make(bpeSpec(PreTokenizer::Llama3, true))}) {
    std::string bytes = t.serialize();
    ASSERT_EQ(bytes.substr(0, 4), "TTOK");
    std::string err;
    auto back = Tokenizer::deserialize(bytes, &err);
    ASSERT_TRUE(back) << err;
    expectSameSpec(t.spec(), back->spec());
    for (const char *text : {"ab c", "1234 abc", "\xC3\xA9t\xC3\xA9", ""})
      EXPECT_EQ(t.encode(text, true), back->encode(text, true));
    EXPECT_EQ(back->serialize(), bytes);
  }
}

TEST(Tokenizer, DeserializeRejectsDamage) {
  std::string bytes = make(bpeSpec(PreTokenizer::Gpt2, false)).serialize();
  std::string err;
  // Every truncation, with an offset in the message.
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(Tokenizer::deserialize(bytes.substr(0, n), &err)) << n;
    EXPECT_EQ(err.rfind("serialized tokenizer: offset ", 0), 0u) << err;
  }
  EXPECT_FALSE(Tokenizer::deserialize("", &err));
  EXPECT_EQ(err, "serialized tokenizer: offset 0: truncated magic: need 4 "
                 "bytes, 0 left");
  // Every single-byte change: the structure checks or the checksum.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string b = bytes;
    b[i] = char(b[i] ^ 0x10);
    EXPECT_FALSE(Tokenizer::deserialize(b, &err)) << i;
  }
  std::string b = bytes;
  b[0] = 'X';
  EXPECT_FALSE(Tokenizer::deserialize(b, &err));
  EXPECT_EQ(err, "serialized tokenizer: offset 0: bad magic (expected "
                 "'TTOK')");
  b = bytes;
  b[4] = 2;
  EXPECT_FALSE(Tokenizer::deserialize(b, &err));
  EXPECT_EQ(err, "serialized tokenizer: offset 4: unsupported version 2 "
                 "(expected 1)");
  b = bytes;
  b[bytes.size() / 2] ^= 0x01;
  EXPECT_FALSE(Tokenizer::deserialize(b, &err));
  EXPECT_FALSE(Tokenizer::deserialize(bytes + "x", &err));
  EXPECT_EQ(err, "serialized tokenizer: offset " +
                     std::to_string(bytes.size()) + ": 1 trailing bytes");
  // A huge token count is refused before allocating.
  b = bytes;
  std::memset(&b[28], 0xFF, 4);
  EXPECT_FALSE(Tokenizer::deserialize(b, &err));
  EXPECT_NE(err.find("offset 28: token count 4294967295 exceeds the data"),
            std::string::npos)
      << err;
}

//===----------------------------------------------------------------------===//
// Loaders on small made-up inputs
//===----------------------------------------------------------------------===//

struct Bin {
  std::string b;
  Bin &i32(int32_t v) {
    for (int i = 0; i < 4; ++i)
      b += char((uint32_t(v) >> (8 * i)) & 0xFF);
    return *this;
  }
  Bin &f32(float f) {
    int32_t v;
    std::memcpy(&v, &f, 4);
    return i32(v);
  }
  Bin &tok(float score, std::string_view s) {
    f32(score).i32(int32_t(s.size()));
    b += s;
    return *this;
  }
};

TEST(Tokenizer, Llama2cLoader) {
  Bin bin;
  bin.i32(3).tok(0, "<unk>").tok(0, "\n<s>\n").tok(0, "\n</s>\n");
  EXPECT_FALSE(Tokenizer::fromLlama2c(bin.b, 3, "t.bin", nullptr));
  Bin ok;
  ok.i32(6).tok(0, "<unk>").tok(0, "\n<s>\n").tok(0, "\n</s>\n");
  ok.tok(0, "<0x41>").tok(-1, " ").tok(-2, "x").tok(-0.5, " x");
  std::string err;
  auto t = Tokenizer::fromLlama2c(ok.b, 7, "t.bin", &err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(t->encode("x", true), (Ids{1, 6}));
  EXPECT_EQ(t->encode("A", false), (Ids{4, 3})); // ' ' then <0x41>
  EXPECT_EQ(t->decode(1, 6), "x");
  EXPECT_EQ(t->decode(1, 1), "");
  EXPECT_EQ(t->bos(), 1);
  EXPECT_EQ(t->eos(), 2);
  EXPECT_EQ(t->eot(), 2);
  // To end of file.
  ASSERT_TRUE(Tokenizer::fromLlama2c(ok.b, -1, "t.bin", &err)) << err;
  EXPECT_EQ(Tokenizer::fromLlama2c(ok.b, -1, "t.bin", &err)->vocabSize(), 7);

  EXPECT_FALSE(Tokenizer::fromLlama2c(ok.b, 8, "t.bin", &err));
  EXPECT_EQ(err, "t.bin: offset 86: token 7: truncated: need 8 bytes for "
                 "score and length, 0 left");
  EXPECT_FALSE(Tokenizer::fromLlama2c(ok.b, 1 << 30, "t.bin", &err));
  EXPECT_EQ(err, "t.bin: offset 4: vocabulary size 1073741824 does not fit "
                 "the file (86 bytes)");
  Bin neg;
  neg.i32(4).f32(0).i32(-5);
  EXPECT_FALSE(Tokenizer::fromLlama2c(neg.b, -1, "t.bin", &err));
  EXPECT_EQ(err, "t.bin: offset 8: token 0: length -5 is outside [0, "
                 "max_token_length 4]");
  Bin lie;
  lie.i32(100).f32(0).i32(50);
  EXPECT_FALSE(Tokenizer::fromLlama2c(lie.b, -1, "t.bin", &err));
  EXPECT_EQ(err, "t.bin: offset 12: token 0: truncated: 50 bytes of text, 0 "
                 "left");
  EXPECT_FALSE(Tokenizer::fromLlama2c("ab", -1, "t.bin", &err));
  EXPECT_EQ(err, "t.bin: offset 0: file of 2 bytes is too small for a "
                 "llama2.c tokenizer");
  Bin nan;
  nan.i32(4).f32(std::numeric_limits<float>::quiet_NaN()).i32(1);
  nan.b += "a";
  EXPECT_FALSE(Tokenizer::fromLlama2c(nan.b, -1, "t.bin", &err));
  EXPECT_EQ(err, "t.bin: offset 4: token 0: score is NaN");
}

TEST(Tokenizer, TiktokenLoaderErrors) {
  std::string err;
  EXPECT_FALSE(Tokenizer::fromTiktoken("IQ== 0\nIg== 1\n", "t.model", &err));
  EXPECT_EQ(err, "t.model: 2 ranks: only the Llama 3 vocabulary (128000 "
                 "ranks) is supported, since its special tokens and "
                 "pre-tokenizer are not in the file");
  EXPECT_FALSE(Tokenizer::fromTiktoken("IQ== 0\nI*== 1\n", "t.model", &err));
  EXPECT_EQ(err, "t.model: offset 7: line 2: invalid base64 token");
  EXPECT_FALSE(Tokenizer::fromTiktoken("IQ== 0\nIg== 0\n", "t.model", &err));
  EXPECT_EQ(err, "t.model: offset 12: line 2: duplicate rank 0");
  EXPECT_FALSE(
      Tokenizer::fromTiktoken("IQ== 0\nIg== 2\nIw== 3\n", "t.model", &err));
  EXPECT_EQ(err, "t.model: rank 1 is missing (ranks must be 0..N-1)");
  EXPECT_FALSE(Tokenizer::fromTiktoken("IQ== 99999999\n", "t.model", &err));
  EXPECT_EQ(err, "t.model: offset 5: line 1: rank 99999999 exceeds the 2 "
                 "lines of the file");
  EXPECT_FALSE(Tokenizer::fromTiktoken("IQ==\n", "t.model", &err));
  EXPECT_EQ(err, "t.model: offset 0: line 1: expected 'base64 rank'");
}

// A GGUF image with tokenizer metadata, built by hand.
struct GgufImage {
  std::string b;
  uint64_t kvs = 0;
  GgufImage &u32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
      b += char((v >> (8 * i)) & 0xFF);
    return *this;
  }
  GgufImage &u64(uint64_t v) {
    for (int i = 0; i < 8; ++i)
      b += char((v >> (8 * i)) & 0xFF);
    return *this;
  }
  GgufImage &str(std::string_view s) {
    u64(s.size());
    b += s;
    return *this;
  }
  GgufImage &kvString(std::string_view k, std::string_view v) {
    ++kvs;
    str(k).u32(8).str(v);
    return *this;
  }
  GgufImage &kvU32(std::string_view k, uint32_t v) {
    ++kvs;
    str(k).u32(4).u32(v);
    return *this;
  }
  GgufImage &kvStrings(std::string_view k, const std::vector<std::string> &v) {
    ++kvs;
    str(k).u32(9).u32(8).u64(v.size());
    for (const std::string &s : v)
      str(s);
    return *this;
  }
  std::string image() const {
    GgufImage h;
    h.b = "GGUF";
    h.u32(3).u64(0).u64(kvs);
    return h.b + b;
  }
};

// A byte-level vocabulary of `n` tokens: the 256 bytes, "12", "123", then
// filler.
std::vector<std::string> byteLevelVocab(size_t n) {
  std::vector<std::string> v;
  for (int b = 0; b < 256; ++b)
    v.push_back(unicode::toByteLevel(std::string(1, char(b))));
  v.push_back("12");
  v.push_back("34");
  v.push_back("123");
  while (v.size() < n)
    v.push_back("<filler" + std::to_string(v.size()) + ">");
  return v;
}

TEST(Tokenizer, GgufGpt2WithoutPreKey) {
  std::string err;
  // The official 2B4T GGUF has no tokenizer.ggml.pre: a vocabulary of at
  // least 128000 tokens gets the Llama 3 regex, a smaller one GPT-2's.
  for (size_t n : {size_t(300), size_t(128256)}) {
    GgufImage g;
    g.kvString("tokenizer.ggml.model", "gpt2");
    g.kvStrings("tokenizer.ggml.tokens", byteLevelVocab(n));
    g.kvStrings("tokenizer.ggml.merges", {"1 2", "3 4", "12 3"});
    g.kvU32("tokenizer.ggml.bos_token_id", 257);
    auto t = Tokenizer::fromGgufBytes(g.image(), "v.gguf", &err);
    ASSERT_TRUE(t) << err;
    bool llama3 = n >= 128000;
    EXPECT_EQ(t->spec().pre,
              llama3 ? PreTokenizer::Llama3 : PreTokenizer::Gpt2);
    EXPECT_EQ(t->spec().ignoreMerges, llama3);
    EXPECT_EQ(t->encode("1234", false),
              llama3 ? (Ids{258, '4'}) : (Ids{256, 257}));
    EXPECT_EQ(t->bos(), 257);
  }
}

TEST(Tokenizer, GgufTokenizerErrors) {
  std::string err;
  GgufImage none;
  none.kvString("general.architecture", "llama");
  EXPECT_FALSE(Tokenizer::fromGgufBytes(none.image(), "v.gguf", &err));
  EXPECT_EQ(err, "v.gguf: metadata key 'tokenizer.ggml.model': missing: the "
                 "file has no tokenizer");

  GgufImage model;
  model.kvString("tokenizer.ggml.model", "bert");
  EXPECT_FALSE(Tokenizer::fromGgufBytes(model.image(), "v.gguf", &err));
  EXPECT_EQ(err, "v.gguf: offset 56: metadata key 'tokenizer.ggml.model': "
                 "unsupported tokenizer model 'bert' (expected 'llama' or "
                 "'gpt2')");

  GgufImage scores;
  scores.kvString("tokenizer.ggml.model", "llama");
  scores.kvStrings("tokenizer.ggml.tokens", {"a", "b"});
  scores.b += std::string("\x15\0\0\0\0\0\0\0tokenizer.ggml.scores", 29);
  scores.u32(9).u32(6).u64(1).u32(0);
  ++scores.kvs;
  EXPECT_FALSE(Tokenizer::fromGgufBytes(scores.image(), "v.gguf", &err));
  EXPECT_NE(err.find("metadata key 'tokenizer.ggml.scores': 1 elements, "
                     "expected 2 (one per token)"),
            std::string::npos)
      << err;

  GgufImage merge;
  merge.kvString("tokenizer.ggml.model", "gpt2");
  merge.kvStrings("tokenizer.ggml.tokens", byteLevelVocab(300));
  merge.kvStrings("tokenizer.ggml.merges", {"1 2", "x"});
  EXPECT_FALSE(Tokenizer::fromGgufBytes(merge.image(), "v.gguf", &err));
  EXPECT_NE(err.find("metadata key 'tokenizer.ggml.merges': merge 1 'x' is "
                     "not two pieces separated by one space"),
            std::string::npos)
      << err;

  GgufImage pre;
  pre.kvString("tokenizer.ggml.model", "gpt2");
  pre.kvStrings("tokenizer.ggml.tokens", byteLevelVocab(300));
  pre.kvStrings("tokenizer.ggml.merges", {});
  pre.kvString("tokenizer.ggml.pre", "qwen2");
  EXPECT_FALSE(Tokenizer::fromGgufBytes(pre.image(), "v.gguf", &err));
  EXPECT_NE(err.find("unsupported pre-tokenizer 'qwen2'"), std::string::npos);

  GgufImage bos;
  bos.kvString("tokenizer.ggml.model", "llama");
  bos.kvStrings("tokenizer.ggml.tokens", {"a", "b"});
  bos.kvU32("tokenizer.ggml.bos_token_id", 5);
  EXPECT_FALSE(Tokenizer::fromGgufBytes(bos.image(), "v.gguf", &err));
  EXPECT_NE(err.find("metadata key 'tokenizer.ggml.bos_token_id': token id 5 "
                     "is outside the vocabulary of 2"),
            std::string::npos)
      << err;

  // Damage in the GGUF container itself is reported by the reader.
  EXPECT_FALSE(Tokenizer::fromGgufBytes("GGUF", "v.gguf", &err));
  EXPECT_EQ(err, "v.gguf: offset 4: header: truncated version: need 4 bytes, "
                 "0 left");
}

TEST(Tokenizer, HfJsonLlama2Style) {
  // Character BPE over "▁"-escaped text with byte fallback.
  std::string json = R"({
    "added_tokens": [{"id": 1, "content": "<s>", "special": true},
                     {"id": 2, "content": "</s>", "special": true}],
    "normalizer": {"type": "Sequence", "normalizers": [
      {"type": "Prepend", "prepend": "\u2581"},
      {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
    "pre_tokenizer": null,
    "decoder": {"type": "Sequence", "decoders": []},
    "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
      "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x41>": 3,
                "\u2581": 4, "a": 5, "b": 6, "\u2581a": 7, "ab": 8,
                "\u2581ab": 9},
      "merges": ["a b", ["\u2581", "a"], "\u2581 ab"]}
  })";
  std::string err;
  auto t = Tokenizer::fromHfJson(json, "", "tokenizer.json", &err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(t->bos(), 1);
  EXPECT_EQ(t->eos(), 2);
  EXPECT_EQ(t->encode("ab", true), (Ids{1, 9}));
  EXPECT_EQ(t->encode("A", false), (Ids{4, 3}));
  EXPECT_EQ(t->encode("ab ab", false), (Ids{9, 9}));
  EXPECT_EQ(t->decode(t->encode("ab Aab", true)), "ab Aab");
}

TEST(Tokenizer, HfJsonErrors) {
  std::string err;
  EXPECT_FALSE(Tokenizer::fromHfJson("{\"model\": [}", "", "t.json", &err));
  EXPECT_EQ(err, "t.json: offset 11: unexpected character, expected a value");
  EXPECT_FALSE(
      Tokenizer::fromHfJson("{\"a\": \"\\ud800\"}", "", "t.json", &err));
  EXPECT_EQ(err, "t.json: offset 7: unpaired surrogate in \\u escape");
  EXPECT_FALSE(Tokenizer::fromHfJson("{\"model\": {\"type\": \"Unigram\"}}", "",
                                     "t.json", &err));
  EXPECT_EQ(err, "t.json: offset 19: key 'model.type': unsupported model "
                 "'Unigram' (only BPE)");
  EXPECT_FALSE(Tokenizer::fromHfJson(
      R"({"model": {"vocab": {"a": 5}, "merges": []}})", "", "t.json", &err));
  EXPECT_EQ(err, "t.json: offset 26: key 'model.vocab': token id is not an "
                 "integer in [0, 1)");
  std::string deep(1000, '[');
  EXPECT_FALSE(Tokenizer::fromHfJson(deep, "", "t.json", &err));
  EXPECT_EQ(err, "t.json: offset 128: nesting deeper than 128");
}

struct Lcg {
  uint64_t state;
  uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  }
};

// Random text: ASCII, spaces, line breaks, multi-byte characters and
// invalid UTF-8.
std::string randomText(Lcg &r, size_t maxLen) {
  static const char *parts[] = {"a",
                                "Z",
                                "7",
                                " ",
                                "  ",
                                "\n",
                                "\r\n",
                                "\t",
                                "'s",
                                "!",
                                "\xC3\xA9",
                                "\xE2\x96\x81",
                                "\xF0\x9F\xA6\x99",
                                "\xFF",
                                "\xC3",
                                "\xE0\x80",
                                "12",
                                "ab",
                                "\xE1\x9E\x80"};
  std::string t;
  size_t n = r.next() % (maxLen + 1);
  for (size_t i = 0; i < n; ++i)
    t += parts[r.next() % (sizeof parts / sizeof *parts)];
  return t;
}

// Damaged loader inputs: errors, never crashes; whatever loads encodes.
TEST(Tokenizer, LoadersSurviveCorruption) {
  GgufImage g;
  g.kvString("tokenizer.ggml.model", "gpt2");
  g.kvStrings("tokenizer.ggml.tokens", byteLevelVocab(270));
  g.kvStrings("tokenizer.ggml.merges", {"1 2", "3 4", "12 3"});
  g.kvU32("tokenizer.ggml.eos_token_id", 3);
  Bin bin;
  bin.i32(6).tok(0, "<unk>").tok(0, "\n<s>\n").tok(0, "\n</s>\n");
  bin.tok(0, "<0x41>").tok(-1, " ").tok(-2, "x").tok(-0.5, " x");
  std::string spm = make(spmSpec()).serialize();
  Lcg r{7};
  for (int iter = 0; iter < 1500; ++iter) {
    for (int which = 0; which < 3; ++which) {
      std::string b = which == 0 ? g.image() : which == 1 ? bin.b : spm;
      for (int k = 1 + r.next() % 3; k > 0; --k)
        b[r.next() % b.size()] = char(r.next() % 3 ? r.next() : 0xFF);
      std::string err;
      std::optional<Tokenizer> t =
          which == 0   ? Tokenizer::fromGgufBytes(b, "v.gguf", &err)
          : which == 1 ? Tokenizer::fromLlama2c(b, -1, "t.bin", &err)
                       : Tokenizer::deserialize(b, &err);
      if (!t) {
        EXPECT_FALSE(err.empty());
        continue;
      }
      std::string text = randomText(r, 12);
      for (int32_t id : t->encode(text, true))
        EXPECT_TRUE(id >= 0 && id < t->vocabSize());
    }
  }
}

//===----------------------------------------------------------------------===//
// The shipped vocabularies (test/data/tokenizers)
//===----------------------------------------------------------------------===//

#ifdef TERNC_TOKENIZER_TEST_DATA
std::string dataPath(const std::string &rel) {
  return std::string(TERNC_TOKENIZER_TEST_DATA) + "/" + rel;
}

std::string readFile(const std::string &path) {
  std::string b;
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return b;
  char buf[65536];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0)
    b.append(buf, got);
  std::fclose(f);
  return b;
}

Tokenizer load(const std::string &rel) {
  std::string err;
  auto t = Tokenizer::fromFile(dataPath(rel), &err);
  EXPECT_TRUE(t) << err;
  return t ? *t : Tokenizer();
}

// The conformance inputs: cases end with "\n__ggml_vocab_test__\n".
std::vector<std::string> cases(const std::string &rel) {
  std::string all = readFile(dataPath(rel));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  for (size_t p = 0, q; (q = all.find(sep, p)) != std::string::npos;
       p = q + sep.size())
    out.push_back(all.substr(p, q - p));
  return out;
}

TEST(TokenizerData, Llama2cReferencePrompts) {
  Tokenizer t = load("bitllama2c/tokenizer.bin");
  ASSERT_EQ(t.vocabSize(), 512);
  std::string err;
  auto exact =
      Tokenizer::fromLlama2c(readFile(dataPath("bitllama2c/tokenizer.bin")),
                             512, "tokenizer.bin", &err);
  ASSERT_TRUE(exact) << err;
  // greedy_ids lists the ids after BOS: the prompt's, then the generation.
  std::string ref = readFile(dataPath("bitllama2c/reference_greedy.txt"));
  size_t checked = 0;
  for (size_t p = ref.find("prompt: "); p != std::string::npos;
       p = ref.find("prompt: ", p + 1)) {
    size_t eol = ref.find('\n', p);
    std::string prompt = ref.substr(p + 8, eol - p - 8);
    size_t g = ref.find("greedy_ids: ", p);
    size_t geol = ref.find('\n', g);
    Ids greedy;
    for (size_t i = g + 12; i < geol;) {
      size_t e = ref.find_first_of(" \n", i);
      greedy.push_back(std::stoi(ref.substr(i, e - i)));
      i = e + 1;
    }
    Ids ids = exact->encode(prompt, true);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids[0], 1);
    ASSERT_LE(ids.size() - 1, greedy.size());
    EXPECT_TRUE(std::equal(ids.begin() + 1, ids.end(), greedy.begin()))
        << prompt;
    EXPECT_EQ(t.encode(prompt, true), ids);
    EXPECT_EQ(exact->decode(ids), prompt);
    ++checked;
  }
  EXPECT_EQ(checked, 5u);
  EXPECT_EQ(exact->encode("Once upon a time", true),
            (Ids{1, 403, 407, 261, 378}));
}

TEST(TokenizerData, Llama3Tiktoken) {
  Tokenizer t = load("llama3/tokenizer.model");
  EXPECT_EQ(t.vocabSize(), 128256);
  EXPECT_EQ(t.bos(), 128000);
  EXPECT_EQ(t.eos(), 128001);
  EXPECT_EQ(t.eot(), 128009);
  EXPECT_EQ(t.tokenId("<|begin_of_text|>"), 128000);
  EXPECT_EQ(t.tokenId("<|start_header_id|>"), 128006);
  EXPECT_EQ(t.tokenId("<|end_header_id|>"), 128007);
  EXPECT_EQ(t.tokenId("<|eot_id|>"), 128009);
  EXPECT_EQ(t.piece(128002), "<|reserved_special_token_0|>");
  EXPECT_EQ(t.piece(128008), "<|reserved_special_token_4|>");
  EXPECT_EQ(t.piece(128255), "<|reserved_special_token_250|>");
  // The 2B4T chat template of "How are you?" (formats.md).
  EXPECT_EQ(t.encode("User: How are you?", true),
            (Ids{128000, 1502, 25, 2650, 527, 499, 30}));
  EXPECT_EQ(t.encode("Assistant: ", false), (Ids{72803, 25, 220}));
  for (const std::string &c : cases("llama3/ggml-vocab-llama-bpe.gguf.inp"))
    EXPECT_EQ(t.decode(t.encode(c, true)), c);
  // Serialized and back: the same ids.
  std::string err;
  auto back = Tokenizer::deserialize(t.serialize(), &err);
  ASSERT_TRUE(back) << err;
  for (const std::string &c : cases("llama3/ggml-vocab-llama-bpe.gguf.inp"))
    EXPECT_EQ(back->encode(c, false), t.encode(c, false));
}

TEST(TokenizerData, GgufVocabularies) {
  Tokenizer spm = load("gguf-vocab/ggml-vocab-llama-spm.gguf");
  EXPECT_EQ(spm.spec().model, TokenizerModel::SentencePiece);
  EXPECT_EQ(spm.bos(), 1);
  EXPECT_EQ(spm.eos(), 2);
  EXPECT_EQ(spm.encode("Hello world", true), (Ids{1, 15043, 3186}));
  Tokenizer gpt2 = load("gguf-vocab/ggml-vocab-gpt-2.gguf");
  EXPECT_EQ(gpt2.spec().pre, PreTokenizer::Gpt2);
  EXPECT_EQ(gpt2.eos(), 50256);
  for (const std::string &c : cases("gguf-vocab/ggml-vocab-gpt-2.gguf.inp")) {
    EXPECT_EQ(spm.decode(spm.encode(c, true)), c);
    EXPECT_EQ(gpt2.decode(gpt2.encode(c, false)), c);
  }
  std::string err;
  auto back = Tokenizer::deserialize(spm.serialize(), &err);
  ASSERT_TRUE(back) << err;
  for (const std::string &c : cases("gguf-vocab/ggml-vocab-llama-spm.gguf.inp"))
    EXPECT_EQ(back->encode(c, true), spm.encode(c, true));
}

// decode(encode(x)) == x for any bytes: byte-level BPE covers every byte,
// SentencePiece falls back to byte tokens.
TEST(TokenizerData, RandomTextRoundTrips) {
  Lcg r{42};
  for (const char *rel :
       {"gguf-vocab/ggml-vocab-llama-spm.gguf",
        "gguf-vocab/ggml-vocab-gpt-2.gguf", "llama3/tokenizer.model",
        "bitllama2c/tokenizer.bin"}) {
    Tokenizer t = load(rel);
    bool bos = t.spec().model == TokenizerModel::SentencePiece;
    for (int i = 0; i < 300; ++i) {
      std::string text = randomText(r, 40);
      // SentencePiece reads a "▁" in the text as a space, by design.
      if (t.spec().metaspace && text.find(kSp) != std::string::npos)
        continue;
      EXPECT_EQ(t.decode(t.encode(text, bos)), text) << rel;
    }
  }
}

std::string jsonString(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (uint8_t(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(uint8_t(c)));
      o += buf;
    } else {
      o += c;
    }
  }
  return o + "\"";
}

// The GPT-2 GGUF vocabulary rewritten as a tokenizer.json gives the same ids.
TEST(TokenizerData, HfJsonMatchesGguf) {
  Tokenizer gguf = load("gguf-vocab/ggml-vocab-gpt-2.gguf");
  const TokenizerSpec &s = gguf.spec();
  std::string j = "{\"model\": {\"type\": \"BPE\", \"vocab\": {";
  for (size_t i = 0; i < s.pieces.size(); ++i) {
    if (s.types[i] == TokenType::Control)
      continue;
    j += (i ? ", " : "") + jsonString(s.pieces[i]) + ": " + std::to_string(i);
  }
  j += "}, \"merges\": [";
  for (size_t i = 0; i < s.merges.size(); ++i) {
    const std::string &a = s.pieces[s.merges[i].first];
    const std::string &b = s.pieces[s.merges[i].second];
    j += i ? ", " : "";
    // Both spellings of a merge.
    if (i % 2)
      j += jsonString(a + " " + b);
    else
      j += "[" + jsonString(a) + ", " + jsonString(b) + "]";
  }
  j += "]}, \"added_tokens\": [{\"id\": 50256, \"content\": "
       "\"<|endoftext|>\", \"special\": true}], \"pre_tokenizer\": "
       "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": "
       "true}, \"decoder\": {\"type\": \"ByteLevel\"}}";
  std::string err;
  auto hf = Tokenizer::fromHfJson(j, "", "tokenizer.json", &err);
  ASSERT_TRUE(hf) << err;
  EXPECT_EQ(hf->vocabSize(), gguf.vocabSize());
  EXPECT_EQ(hf->eos(), 50256);
  for (const std::string &c : cases("gguf-vocab/ggml-vocab-gpt-2.gguf.inp"))
    EXPECT_EQ(hf->encode(c, false), gguf.encode(c, false)) << c;
}
#endif

} // namespace
