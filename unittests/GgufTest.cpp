//===- GgufTest.cpp - checked GGUF reader: valid and malformed images -----===//

#include "gguf/Gguf.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace ternc::rt;

namespace {

// Writes GGUF images byte by byte, including wrong ones.
struct Image {
  std::string b;

  Image &u8(uint8_t v) {
    b += char(v);
    return *this;
  }
  Image &u32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
      b += char((v >> (8 * i)) & 0xFF);
    return *this;
  }
  Image &u64(uint64_t v) {
    for (int i = 0; i < 8; ++i)
      b += char((v >> (8 * i)) & 0xFF);
    return *this;
  }
  Image &f32(float f) {
    uint32_t v;
    std::memcpy(&v, &f, 4);
    return u32(v);
  }
  Image &str(std::string_view s) {
    u64(s.size());
    b += s;
    return *this;
  }
  Image &header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
    b += "GGUF";
    u32(version);
    u64(tensors);
    return u64(kvs);
  }
  Image &key(std::string_view k, GgufType t) {
    str(k);
    return u32(uint32_t(t));
  }
  Image &tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type,
                uint64_t offset) {
    str(name);
    u32(uint32_t(ne.size()));
    for (uint64_t d : ne)
      u64(d);
    u32(type);
    return u64(offset);
  }
  Image &align(size_t a = 32) {
    while (b.size() % a)
      b += '\0';
    return *this;
  }
  Image &zeros(size_t n) {
    b.append(n, '\0');
    return *this;
  }
};

std::optional<GgufFile> parse(const std::string &b, std::string *err) {
  return GgufFile::parse(b.data(), b.size(), "t.gguf", err);
}

std::string errorOf(const std::string &b) {
  std::string err;
  auto f = parse(b, &err);
  return f ? std::string("(parsed)") : err;
}

// A small valid image with every metadata type and three tensors.
struct Valid {
  std::string bytes;
  // Offsets of the section boundaries: after the header, after each kv,
  // after the tensor infos, at the data.
  std::vector<size_t> boundaries;
};

Valid validImage() {
  Image m;
  Valid v;
  m.header(3, 16);
  v.boundaries.push_back(m.b.size());
  m.key("k.u8", GgufType::UInt8).u8(200);
  m.key("k.i8", GgufType::Int8).u8(0xFE);
  m.key("k.u16", GgufType::UInt16).u8(0x34).u8(0x12);
  m.key("k.i16", GgufType::Int16).u8(0xFF).u8(0xFF);
  m.key("k.u32", GgufType::UInt32).u32(4000000000u);
  m.key("k.i32", GgufType::Int32).u32(uint32_t(-7));
  m.key("k.f32", GgufType::Float32).f32(1.5f);
  m.key("k.bool", GgufType::Bool).u8(1);
  m.key("k.str", GgufType::String).str("hello");
  m.key("k.u64", GgufType::UInt64).u64(~0ull);
  m.key("k.i64", GgufType::Int64).u64(uint64_t(-5));
  m.key("k.f64", GgufType::Float64).u64(0x400921FB54442D18ull); // pi
  m.key("k.arr.i16", GgufType::Array).u32(uint32_t(GgufType::Int16)).u64(3);
  m.u8(1).u8(0).u8(0xFE).u8(0xFF).u8(3).u8(0);
  m.key("k.arr.str", GgufType::Array).u32(uint32_t(GgufType::String)).u64(2);
  m.str("a").str("bc");
  m.key("k.arr.arr", GgufType::Array).u32(uint32_t(GgufType::Array)).u64(2);
  m.u32(uint32_t(GgufType::UInt8)).u64(2).u8(7).u8(8);
  m.u32(uint32_t(GgufType::String)).u64(1).str("x");
  m.key("general.alignment", GgufType::UInt32).u32(32);
  v.boundaries.push_back(m.b.size());
  m.tensor("w.f32", {4, 2}, ggml::F32, 0);
  m.tensor("w.tq2", {256, 2}, ggml::TQ2_0, 32);
  m.tensor("w.i2s", {8, 4}, ggml::I2_S, 192);
  v.boundaries.push_back(m.b.size());
  m.align();
  v.boundaries.push_back(m.b.size());
  m.zeros(192 + 8 * 4 / 4 + 32);
  v.bytes = m.b;
  return v;
}

TEST(Gguf, ParsesEveryMetadataTypeAndTensorInfos) {
  Valid v = validImage();
  std::string err;
  auto f = parse(v.bytes, &err);
  ASSERT_TRUE(f) << err;
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->metadata().size(), 16u);
  EXPECT_EQ(*f->find("k.u8")->asUnsigned(), 200u);
  EXPECT_EQ(*f->find("k.i8")->asSigned(), -2);
  EXPECT_FALSE(f->find("k.i8")->asUnsigned());
  EXPECT_EQ(*f->find("k.u16")->asUnsigned(), 0x1234u);
  EXPECT_EQ(*f->find("k.i16")->asSigned(), -1);
  EXPECT_EQ(*f->find("k.u32")->asUnsigned(), 4000000000u);
  EXPECT_EQ(*f->find("k.i32")->asSigned(), -7);
  EXPECT_EQ(*f->find("k.f32")->asFloat(), 1.5);
  EXPECT_EQ(*f->find("k.bool")->asBool(), true);
  EXPECT_EQ(*f->find("k.str")->asString(), "hello");
  EXPECT_EQ(*f->find("k.u64")->asUnsigned(), ~0ull);
  EXPECT_FALSE(f->find("k.u64")->asSigned());
  EXPECT_EQ(*f->find("k.i64")->asSigned(), -5);
  EXPECT_DOUBLE_EQ(*f->find("k.f64")->asFloat(), 3.141592653589793);
  const GgufValue *a = f->find("k.arr.i16");
  ASSERT_TRUE(a && a->isArray());
  EXPECT_EQ(a->count, 3u);
  EXPECT_EQ(*a->at(0).asSigned(), 1);
  EXPECT_EQ(*a->at(1).asSigned(), -2);
  EXPECT_EQ(*a->at(2).asSigned(), 3);
  const GgufValue *s = f->find("k.arr.str");
  ASSERT_EQ(s->strings.size(), 2u);
  EXPECT_EQ(s->strings[1], "bc");
  const GgufValue *n = f->find("k.arr.arr");
  ASSERT_EQ(n->items.size(), 2u);
  EXPECT_EQ(*n->at(0).at(1).asUnsigned(), 8u);
  EXPECT_EQ(*n->at(1).at(0).asString(), "x");
  EXPECT_EQ(f->find("missing"), nullptr);

  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->dataStart() % 32, 0u);
  const GgufTensorInfo *t = f->findTensor("w.f32");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->ne, (std::vector<uint64_t>{4, 2}));
  EXPECT_EQ(t->elementCount, 8u);
  EXPECT_EQ(*t->byteSize, 32u);
  EXPECT_EQ(t->dataOffset, f->dataStart());
  const GgufTensorInfo *q = f->findTensor("w.tq2");
  EXPECT_EQ(*q->byteSize, 2u * 66);
  EXPECT_EQ(q->dataOffset, f->dataStart() + 32);
  const GgufTensorInfo *i2 = f->findTensor("w.i2s");
  EXPECT_EQ(*i2->byteSize, 8u * 4 / 4 + 32);
  EXPECT_EQ(f->tensorData(*i2), f->data() + f->dataStart() + 192);
}

TEST(Gguf, TensorByteSizes) {
  EXPECT_EQ(*tensorByteSize(ggml::F16, {3, 5}), 30u);
  EXPECT_EQ(*tensorByteSize(ggml::BF16, {2}), 4u);
  EXPECT_EQ(*tensorByteSize(ggml::Q8_0, {64, 3}), 2u * 3 * 34);
  EXPECT_EQ(*tensorByteSize(ggml::TQ1_0, {512, 2}), 4u * 54);
  EXPECT_EQ(*tensorByteSize(ggml::I2_S, {2560, 640}), 2560u * 640 / 4 + 32);
  EXPECT_FALSE(tensorByteSize(ggml::TQ2_0, {100}));
  EXPECT_FALSE(tensorByteSize(39, {256})); // MXFP4 or TL2: unknown
  EXPECT_FALSE(tensorByteSize(ggml::F32, {~0ull, 4}));
}

TEST(Gguf, UnknownTensorTypeKeepsIdWithoutSize) {
  Image m;
  m.header(1, 0).tensor("w", {32}, 39, 0).align().zeros(64);
  std::string err;
  auto f = parse(m.b, &err);
  ASSERT_TRUE(f) << err;
  EXPECT_EQ(f->tensors()[0].type, 39u);
  EXPECT_FALSE(f->tensors()[0].byteSize);
}

TEST(Gguf, VersionTwoAndCustomAlignment) {
  Image m;
  m.header(1, 1, 2);
  m.key("general.alignment", GgufType::UInt32).u32(64);
  m.tensor("w", {16}, ggml::F32, 0).align(64).zeros(64);
  std::string err;
  auto f = parse(m.b, &err);
  ASSERT_TRUE(f) << err;
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->dataStart() % 64, 0u);
}

TEST(Gguf, VocabularyOnlyFileMayEndBeforeTheDataSection) {
  Image m;
  m.header(0, 1).key("a", GgufType::UInt8).u8(1);
  std::string err;
  auto f = parse(m.b, &err);
  ASSERT_TRUE(f) << err;
  EXPECT_GE(f->dataStart(), m.b.size());
}

// Every prefix of a valid image is an error, never a crash; the boundaries
// give precise messages.
TEST(Gguf, TruncatedAnywhere) {
  Valid v = validImage();
  for (size_t n = 0; n < v.bytes.size(); ++n) {
    std::string err = errorOf(v.bytes.substr(0, n));
    EXPECT_NE(err, "(parsed)") << "prefix " << n;
    EXPECT_EQ(err.rfind("t.gguf: offset ", 0), 0u) << err;
  }
  EXPECT_EQ(errorOf(""),
            "t.gguf: offset 0: file of 0 bytes is too small for the GGUF "
            "magic");
  EXPECT_EQ(errorOf(v.bytes.substr(0, 4)),
            "t.gguf: offset 4: header: truncated version: need 4 bytes, 0 "
            "left");
  EXPECT_EQ(errorOf(v.bytes.substr(0, 16)),
            "t.gguf: offset 16: header: truncated metadata count: need 8 "
            "bytes, 0 left");
  // After the header the counts no longer fit.
  EXPECT_EQ(errorOf(v.bytes.substr(0, v.boundaries[0])),
            "t.gguf: offset 16: metadata count 16 exceeds the file (0 bytes "
            "left)");
  // Cut after the metadata: the tensor infos are missing.
  EXPECT_EQ(errorOf(v.bytes.substr(0, v.boundaries[1] + 8)),
            "t.gguf: offset " + std::to_string(v.boundaries[1]) +
                ": tensor 0: name of 5 bytes exceeds the file (0 bytes left)");
  // Cut after the tensor infos: the data is missing.
  std::string e = errorOf(v.bytes.substr(0, v.boundaries[3]));
  EXPECT_NE(e.find("tensor 'w.f32': F32 data of 32 bytes at offset"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("exceeds the file"), std::string::npos) << e;
  // One byte short of the last tensor.
  e = errorOf(v.bytes.substr(0, v.bytes.size() - 1));
  EXPECT_NE(e.find("tensor 'w.i2s': I2_S data of 40 bytes"), std::string::npos)
      << e;
}

TEST(Gguf, BadMagicAndVersion) {
  EXPECT_EQ(errorOf("GGML\x03\0\0\0"),
            "t.gguf: offset 0: bad magic 'GGML' (expected 'GGUF')");
  EXPECT_EQ(errorOf(std::string("\x7f"
                                "ELF",
                                4)),
            "t.gguf: offset 0: bad magic '\\x7fELF' (expected 'GGUF')");
  Image v1;
  v1.header(0, 0, 1);
  EXPECT_EQ(errorOf(v1.b), "t.gguf: offset 4: unsupported GGUF version 1 "
                           "(only 2 and 3 are supported)");
  Image v4;
  v4.header(0, 0, 4);
  EXPECT_NE(errorOf(v4.b).find("unsupported GGUF version 4"),
            std::string::npos);
  Image be;
  be.header(0, 0, 0x03000000);
  EXPECT_EQ(errorOf(be.b), "t.gguf: offset 4: big-endian GGUF (version 3) is "
                           "not supported");
}

TEST(Gguf, LyingLengthsAndAbsurdCounts) {
  Image kv;
  kv.header(0, 1).key("tokenizer.ggml.tokens", GgufType::Array);
  kv.u32(uint32_t(GgufType::String)).u64(9223372036854775807ull);
  EXPECT_EQ(errorOf(kv.b),
            "t.gguf: offset 61: metadata key 'tokenizer.ggml.tokens': array "
            "of 9223372036854775807 strings exceeds the file (0 bytes left)");

  Image fixed;
  fixed.header(0, 1).key("s", GgufType::Array);
  fixed.u32(uint32_t(GgufType::Float32)).u64(1000).f32(1);
  EXPECT_EQ(errorOf(fixed.b), "t.gguf: offset 41: metadata key 's': array of "
                              "1000 f32s exceeds the file (4 bytes left)");

  Image key;
  key.header(0, 1).u64(~0ull).zeros(16);
  EXPECT_EQ(errorOf(key.b), "t.gguf: offset 24: metadata entry 0: key of "
                            "18446744073709551615 bytes exceeds the file (16 "
                            "bytes left)");

  Image str;
  str.header(0, 1).key("name", GgufType::String).u64(100).zeros(10);
  EXPECT_EQ(errorOf(str.b), "t.gguf: offset 40: metadata key 'name': string "
                            "of 100 bytes exceeds the file (10 bytes left)");

  // A lying string inside an array of strings.
  Image inner;
  inner.header(0, 1).key("a", GgufType::Array);
  inner.u32(uint32_t(GgufType::String)).u64(2).str("ok").u64(1u << 30);
  EXPECT_EQ(errorOf(inner.b), "t.gguf: offset 59: metadata key 'a': element "
                              "1: string of 1073741824 bytes exceeds the "
                              "file (0 bytes left)");

  Image kvs;
  kvs.header(0, ~0ull);
  EXPECT_EQ(errorOf(kvs.b), "t.gguf: offset 16: metadata count "
                            "18446744073709551615 exceeds the file (0 bytes "
                            "left)");
  Image tensors;
  tensors.header(1ull << 40, 0).zeros(64);
  EXPECT_EQ(errorOf(tensors.b), "t.gguf: offset 8: tensor count "
                                "1099511627776 exceeds the file (64 bytes "
                                "left)");

  Image dims;
  dims.header(1, 0).str("w").u32(5).zeros(64);
  EXPECT_EQ(errorOf(dims.b), "t.gguf: offset 33: tensor 'w': 5 dimensions "
                             "exceed the maximum of 4");

  Image huge;
  huge.header(1, 0).tensor("w", {1ull << 40, 1ull << 40}, ggml::F32, 0);
  huge.align().zeros(64);
  EXPECT_NE(errorOf(huge.b).find("tensor 'w': element count overflows"),
            std::string::npos);
}

TEST(Gguf, MisalignedAndOutOfFileData) {
  Image mis;
  mis.header(1, 0).tensor("w", {4}, ggml::F32, 4).align().zeros(64);
  EXPECT_EQ(errorOf(mis.b), "t.gguf: offset 49: tensor 'w': data offset 4 is "
                            "not a multiple of the alignment 32");

  Image align;
  align.header(0, 1).key("general.alignment", GgufType::UInt32).u32(48);
  EXPECT_EQ(errorOf(align.b), "t.gguf: offset 53: metadata key "
                              "'general.alignment': 48 is not a power of "
                              "two");
  Image alignType;
  alignType.header(0, 1).key("general.alignment", GgufType::String).str("32");
  EXPECT_NE(errorOf(alignType.b)
                .find("expected an unsigned integer, got "
                      "string"),
            std::string::npos);

  Image far;
  far.header(1, 0).tensor("w", {4}, ggml::F32, 1ull << 62).align().zeros(16);
  EXPECT_NE(errorOf(far.b).find("tensor 'w': data offset 4611686018427387904 "
                                "is beyond the end of the file"),
            std::string::npos);

  Image overlap;
  overlap.header(2, 0)
      .tensor("a", {16}, ggml::F32, 0)
      .tensor("b", {8}, ggml::F32, 32)
      .align()
      .zeros(128);
  EXPECT_NE(errorOf(overlap.b).find("tensor 'b': data at offset"),
            std::string::npos);
  EXPECT_NE(errorOf(overlap.b).find("overlaps tensor 'a'"), std::string::npos);

  Image block;
  block.header(1, 0).tensor("q", {100}, ggml::TQ2_0, 0).align().zeros(128);
  EXPECT_NE(errorOf(block.b).find("tensor 'q': ne[0] = 100 is not a multiple "
                                  "of the TQ2_0 block size 256"),
            std::string::npos);
}

TEST(Gguf, BadTypesAndDuplicates) {
  Image type;
  type.header(0, 1).key("k", GgufType(13)).u8(0);
  EXPECT_EQ(errorOf(type.b), "t.gguf: offset 33: metadata key 'k': value type "
                             "13 is not a GGUF type");
  Image elem;
  elem.header(0, 1).key("k", GgufType::Array).u32(99).u64(0);
  EXPECT_EQ(errorOf(elem.b), "t.gguf: offset 37: metadata key 'k': array "
                             "element type 99 is not a GGUF type");
  Image boolean;
  boolean.header(0, 1).key("k", GgufType::Bool).u8(2);
  EXPECT_EQ(errorOf(boolean.b), "t.gguf: offset 37: metadata key 'k': bool "
                                "value 2 is not 0 or 1");
  Image dup;
  dup.header(0, 2).key("k", GgufType::UInt8).u8(0);
  dup.key("k", GgufType::UInt8).u8(1);
  EXPECT_EQ(errorOf(dup.b),
            "t.gguf: offset 38: metadata key 'k': duplicate key");
  Image dupT;
  dupT.header(2, 0)
      .tensor("w", {8}, ggml::F32, 0)
      .tensor("w", {8}, ggml::F32, 32)
      .align()
      .zeros(64);
  EXPECT_NE(errorOf(dupT.b).find("tensor 'w': duplicate tensor name"),
            std::string::npos);

  // Arrays nested beyond the depth limit.
  Image deep;
  deep.header(0, 1).key("k", GgufType::Array);
  for (int i = 0; i < 20; ++i)
    deep.u32(uint32_t(GgufType::Array)).u64(1);
  EXPECT_NE(errorOf(deep.b).find("arrays nested deeper than 8"),
            std::string::npos);
}

// Corrupted images: random byte changes never crash the reader (this test is
// most useful under -fsanitize=address,undefined).
TEST(Gguf, RandomCorruptionNeverCrashes) {
  Valid v = validImage();
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  };
  for (int iter = 0; iter < 5000; ++iter) {
    std::string b = v.bytes;
    int flips = 1 + next() % 4;
    for (int k = 0; k < flips; ++k) {
      size_t at = next() % b.size();
      // Bias toward lengths and counts: sometimes write a large byte.
      b[at] = char(next() % 3 == 0 ? 0xFF : next() & 0xFF);
    }
    std::string err;
    auto f = parse(b, &err);
    if (!f) {
      EXPECT_EQ(err.rfind("t.gguf: offset ", 0), 0u) << err;
    }
  }
}

#ifdef TERNC_TOKENIZER_TEST_DATA
TEST(Gguf, RealVocabularyFiles) {
  std::string path = std::string(TERNC_TOKENIZER_TEST_DATA) +
                     "/gguf-vocab/ggml-vocab-llama-spm.gguf";
  FILE *fp = std::fopen(path.c_str(), "rb");
  ASSERT_TRUE(fp) << path;
  std::string b;
  char buf[65536];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, fp)) > 0)
    b.append(buf, got);
  std::fclose(fp);
  std::string err;
  auto f = GgufFile::parse(b.data(), b.size(), path, &err);
  ASSERT_TRUE(f) << err;
  EXPECT_EQ(*f->find("general.architecture")->asString(), "llama");
  EXPECT_EQ(f->find("tokenizer.ggml.tokens")->count, 32000u);
  EXPECT_EQ(f->find("tokenizer.ggml.scores")->elemType, GgufType::Float32);
  EXPECT_EQ(*f->find("tokenizer.ggml.bos_token_id")->asUnsigned(), 1u);
  EXPECT_EQ(f->find("tokenizer.ggml.token_type")->at(3).asSigned(), 6);
  EXPECT_TRUE(f->tensors().empty());
}
#endif

} // namespace
