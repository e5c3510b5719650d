//===- SafetensorsTest.cpp - checked safetensors and weight-store reads ---===//

#include "ternc/Import/Safetensors.h"
#include "ternc/Import/WeightStore.h"

#include "llvm/Support/Error.h"
#include "gtest/gtest.h"

#include <cstring>
#include <string>

using namespace ternc;

namespace {

std::string image(const std::string &header, const std::string &data) {
  uint64_t n = header.size();
  std::string out(reinterpret_cast<const char *>(&n), 8);
  return out + header + data;
}

llvm::Expected<std::unique_ptr<SafetensorsFile>>
parse(const std::string &bytes) {
  return SafetensorsFile::fromBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.safetensors"));
}

std::string errorOf(const std::string &bytes) {
  auto f = parse(bytes);
  if (f)
    return "";
  return llvm::toString(f.takeError());
}

TEST(Safetensors, ReadsTensorsAndMetadata) {
  std::string data(12, '\0');
  float v[3] = {1.5f, -2.0f, 3.25f};
  std::memcpy(data.data(), v, 12);
  auto f =
      parse(image(R"({"__metadata__":{"format":"pt"},)"
                  R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})",
                  data));
  ASSERT_TRUE(bool(f)) << llvm::toString(f.takeError());
  const SafetensorsTensor *a = (*f)->find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->numElements(), 3);
  float back[3];
  std::memcpy(back, a->data.data(), 12);
  EXPECT_EQ(back[2], 3.25f);
  EXPECT_EQ((*f)->metadata().at("format"), "pt");
}

TEST(Safetensors, RejectsMalformedFilesWithPreciseErrors) {
  EXPECT_NE(errorOf("abc").find("truncated"), std::string::npos);
  EXPECT_NE(errorOf(image("{", "")).find("not valid JSON"), std::string::npos);
  std::string lying(8, '\0');
  lying[0] = 100; // header length past the end
  EXPECT_NE(errorOf(lying + "{}").find("ends past the end"), std::string::npos);
  std::string huge(8, '\xff');
  EXPECT_NE(errorOf(huge).find("exceeds"), std::string::npos);
  EXPECT_NE(
      errorOf(image(R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}})",
                    std::string(8, '\0')))
          .find("tensor 't': holds 8 bytes but its shape and dtype need 16"),
      std::string::npos);
  EXPECT_NE(
      errorOf(image(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                    std::string(4, '\0')))
          .find("past the 4 data bytes"),
      std::string::npos);
  EXPECT_NE(
      errorOf(image(R"({"t":{"dtype":"Q9","shape":[1],"data_offsets":[0,1]}})",
                    std::string(1, '\0')))
          .find("unsupported dtype 'Q9'"),
      std::string::npos);
  // Dimensions whose product overflows must not wrap around.
  EXPECT_NE(
      errorOf(image(R"({"t":{"dtype":"U8","shape":[4294967296,4294967296],)"
                    R"("data_offsets":[0,0]}})",
                    ""))
          .find("tensor 't'"),
      std::string::npos);
}

TEST(WeightStore, DecodesCodesAndValidatesScales) {
  // w: 2x5 U8 codes (2 bytes per row), per-row scales.
  int8_t vals[2][5] = {{-1, 0, 1, 1, 0}, {1, 1, -1, 0, -1}};
  std::string codes(4, '\0');
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 5; ++c)
      codes[r * 2 + c / 4] |= char((vals[r][c] + 1) << (2 * (c % 4)));
  float scales[2] = {0.5f, 2.0f};
  std::string data = codes + std::string(reinterpret_cast<char *>(scales), 8);
  auto f = parse(
      image(R"({"w":{"dtype":"U8","shape":[2,2],"data_offsets":[0,4]},)"
            R"("w.scale":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            data));
  ASSERT_TRUE(bool(f));
  SafetensorsStore store(std::move(*f));
  auto t = store.ternary("w", 2, 5);
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ((*t)->scaleKind(), ScaleKind::PerRow);
  int8_t row[5];
  ASSERT_FALSE(bool((*t)->decodeRow(1, row)));
  EXPECT_EQ(0, std::memcmp(row, vals[1], 5));

  auto wrongShape = store.ternary("w", 2, 9);
  ASSERT_FALSE(bool(wrongShape));
  EXPECT_NE(llvm::toString(wrongShape.takeError()).find("expected U8 [2, 3]"),
            std::string::npos);
  auto missing = store.ternary("v", 2, 5);
  ASSERT_FALSE(bool(missing));
  EXPECT_NE(llvm::toString(missing.takeError()).find("no tensor 'v'"),
            std::string::npos);
}

/// A store holding one 1x4 matrix "w": one byte of codes and one scale.
SafetensorsStore oneByteStore(uint8_t codes, float scale) {
  std::string data = std::string(1, char(codes)) +
                     std::string(reinterpret_cast<char *>(&scale), 4);
  auto f = parse(
      image(R"({"w":{"dtype":"U8","shape":[1,1],"data_offsets":[0,1]},)"
            R"("w.scale":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}})",
            data));
  EXPECT_TRUE(bool(f));
  return SafetensorsStore(std::move(*f));
}

TEST(WeightStore, RejectsInvalidCodesAndScales) {
  SafetensorsStore store = oneByteStore(0x03, 0.0f);
  auto t = store.ternary("w", 1, 4);
  ASSERT_FALSE(bool(t));
  EXPECT_NE(llvm::toString(t.takeError()).find("scale 0 is 0"),
            std::string::npos);
}

TEST(WeightStore, RejectsCodeThreeWithRowAndColumn) {
  // Row 0: codes 1, 1, 3 (invalid at column 2), 1.
  SafetensorsStore store =
      oneByteStore(0x01 | 0x01 << 2 | 0x03 << 4 | 0x01 << 6, 1.0f);
  auto t = store.ternary("w", 1, 4);
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  int8_t row[4];
  llvm::Error e = (*t)->decodeRow(0, row);
  ASSERT_TRUE(bool(e));
  EXPECT_NE(llvm::toString(std::move(e))
                .find("invalid ternary code 3 at row 0, column 2"),
            std::string::npos);
}

} // namespace
