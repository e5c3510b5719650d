//===- WeightBlobTest.cpp - packing rows into weight layouts --------------===//

#include "ternc/Target/WeightBlob.h"
#include "ternc/Dialect/Tern/IR/TernDialect.h"

#include "mlir/IR/MLIRContext.h"
#include "gtest/gtest.h"

#include <initializer_list>
#include <random>
#include <vector>

using namespace mlir;
using namespace mlir::tern;

namespace {

/// Value of element k in an interleaved row, decoded from the documented
/// layout (an independent statement of it, not the packer's code).
int interleavedValue(const std::vector<uint8_t> &row, int64_t chunk,
                     int64_t k) {
  int64_t part = chunk / 4, c = k / chunk, within = k % chunk;
  int64_t plane = within / part, byte = c * part + within % part;
  return ((row[byte] >> (2 * plane)) & 3) - 1;
}

TEST(WeightBlob, CanonicalPacksFourPerByteLowBitsFirst) {
  MLIRContext ctx;
  ctx.loadDialect<TernDialect>();
  auto t = TernaryType::get(&ctx, 1, 6, ScaleGranularity::PerTensor, 0,
                            WeightLayout::Canonical, 0, 0);
  int8_t values[6] = {-1, 0, 1, 1, 0, -1};
  std::vector<uint8_t> out(t.getRowBytes());
  ternc::packTernaryRow(t, values, out.data());
  // codes 0,1,2,2 -> 0b10100100; then 1,0 and two padding codes of 1.
  EXPECT_EQ(out[0], 0xA4);
  EXPECT_EQ(out[1], 0x51);
}

TEST(WeightBlob, InterleavedRoundTripsEveryChunkSize) {
  MLIRContext ctx;
  ctx.loadDialect<TernDialect>();
  std::mt19937 rng(7);
  for (int64_t chunk : {16, 32, 64, 128}) {
    const int64_t k = 3 * chunk + 5; // a partial last chunk
    auto t = TernaryType::get(&ctx, 1, k, ScaleGranularity::PerRow, 0,
                              WeightLayout::Interleaved, chunk, 1);
    std::vector<int8_t> values(k);
    for (auto &v : values)
      v = int8_t(int(rng() % 3) - 1);
    std::vector<uint8_t> out(t.getRowBytes());
    ternc::packTernaryRow(t, values.data(), out.data());
    for (int64_t i = 0; i < t.getPaddedCols(); ++i)
      ASSERT_EQ(interleavedValue(out, chunk, i), i < k ? values[i] : 0)
          << "chunk " << chunk << " element " << i;
  }
}

TEST(WeightBlob, InterleavedRowGroupsStoreChunksRowByRow) {
  MLIRContext ctx;
  ctx.loadDialect<TernDialect>();
  std::mt19937 rng(11);
  for (int64_t group : {2, 4, 8})
    for (int64_t rows : {int64_t(1), group - 1, group}) {
      const int64_t chunk = 64, part = chunk / 4, k = 2 * chunk + 9;
      auto t = TernaryType::get(&ctx, 13, k, ScaleGranularity::PerRow, 0,
                                WeightLayout::Interleaved, chunk, group);
      std::vector<int8_t> values(rows * k);
      for (auto &v : values)
        v = int8_t(int(rng() % 3) - 1);
      std::vector<uint8_t> block(group * t.getRowBytes(), 0xEE);
      ternc::packTernaryRowBlock(t, values.data(), rows, block.data());
      // Row l of the group, gathered from the documented layout: chunk c
      // of row l at bytes (c * R + l) * B/4, which getRowCodeOffset and
      // getChunkStride describe for the kernels.
      for (int64_t l = 0; l < group; ++l) {
        std::vector<uint8_t> row(t.getRowBytes());
        for (int64_t c = 0; c < t.getPaddedCols() / chunk; ++c)
          for (int64_t p = 0; p < part; ++p)
            row[c * part + p] =
                block[t.getRowCodeOffset(l) + c * t.getChunkStride() + p];
        for (int64_t i = 0; i < t.getPaddedCols(); ++i)
          ASSERT_EQ(interleavedValue(row, chunk, i),
                    l < rows && i < k ? values[l * k + i] : 0)
              << "group " << group << " row " << l << " element " << i;
      }
    }
}

/// Value of element (row, k) of a lut<R> block, decoded from the
/// documented layout: the pair index 3*c0 + c1 in a nibble.
int lookupValue(const std::vector<uint8_t> &block, int64_t r, int64_t row,
                int64_t k) {
  uint8_t byte = block[(k / 4) * r + row];
  int index = (k % 4 < 2) ? byte & 15 : byte >> 4;
  EXPECT_LT(index, 9) << "pair index out of the table";
  int code = (k % 2 == 0) ? index / 3 : index % 3;
  return code - 1;
}

/// Packs one block of random values of `t` (a lookup layout)
/// and checks every element, padding included, through `decode`.
template <typename Decode>
void expectBlockRoundTrips(TernaryType t, std::mt19937 &rng, Decode decode) {
  const int64_t r = t.getChunk(), rows = t.getRows(), k = t.getCols();
  std::vector<int8_t> values(rows * k);
  for (auto &v : values)
    v = int8_t(int(rng() % 3) - 1);
  std::vector<uint8_t> out(r * t.getRowBytes());
  ternc::packTernaryRowBlock(t, values.data(), rows, out.data());
  for (int64_t row = 0; row < r; ++row)
    for (int64_t i = 0; i < t.getPaddedCols(); ++i)
      ASSERT_EQ(decode(out, r, row, i),
                row < rows && i < k ? values[row * k + i] : 0)
          << "R " << r << " K " << k << " row " << row << " element " << i;
}

/// Round trips of blocks of `layout` for every R in `blocks` and K in
/// `cols`, `missing` rows short of a whole block, after checking the
/// padding: K to whole column blocks of `colBlock` columns in `blockBytes`
/// bytes a row, N to R.
template <typename Decode>
void expectLookupRoundTrips(WeightLayout layout,
                            std::initializer_list<int64_t> blocks,
                            std::initializer_list<int64_t> cols,
                            int64_t missing, int64_t colBlock,
                            int64_t blockBytes, unsigned seed, Decode decode) {
  MLIRContext ctx;
  ctx.loadDialect<TernDialect>();
  std::mt19937 rng(seed);
  for (int64_t r : blocks)
    for (int64_t k : cols) {
      auto t = TernaryType::get(&ctx, r - missing, k, ScaleGranularity::PerRow,
                                0, layout, r, 0);
      ASSERT_EQ(t.getPaddedRows(), r);
      ASSERT_EQ(t.getPaddedCols(), (k + colBlock - 1) / colBlock * colBlock);
      ASSERT_EQ(t.getRowBytes(), t.getPaddedCols() / colBlock * blockBytes);
      expectBlockRoundTrips(t, rng, decode);
    }
}

TEST(WeightBlob, LookupBlocksRoundTripWithPaddedRowsAndColumns) {
  expectLookupRoundTrips(WeightLayout::Lookup, {8, 16, 32, 64}, {37}, 3, 4, 1,
                         11, lookupValue);
}

/// Digit `digit` (-1, 0 or 1) of the balanced-ternary value +-magnitude.
int balancedDigit(int magnitude, int64_t digit, bool negative) {
  for (int64_t i = 0; i < digit; ++i)
    magnitude = (magnitude + 1) / 3; // drop a digit: round(m / 3)
  int t = magnitude % 3 == 2 ? -1 : magnitude % 3;
  return negative ? -t : t;
}

/// Value of element (row, k) of a lut5<R> block, decoded from the
/// documented layout: group 4c + j holds columns 20c + 4i + j as the
/// balanced-ternary digits i of |v|, the sign of v in bit 7.
int lookup5Value(const std::vector<uint8_t> &block, int64_t r, int64_t row,
                 int64_t k) {
  const int64_t group = (k / 20) * 4 + k % 4, digit = (k % 20) / 4;
  uint8_t byte = block[group * r + row];
  EXPECT_LE(byte & 127, 121) << "group value out of the table";
  return balancedDigit(byte & 127, digit, byte & 128);
}

TEST(WeightBlob, Lookup5BlocksRoundTripWithPaddedRowsAndColumns) {
  expectLookupRoundTrips(WeightLayout::Lookup5, {64}, {20, 37, 300}, 3, 20, 4,
                         13, lookup5Value);
}

/// Value of element (row, k) of a lut3<R> block, decoded from the
/// documented layout: group h of column block c holds columns 24c + 3h + i
/// as the balanced-ternary digits i of |v| (a nibble of byte 5c + h / 2),
/// the sign of v in bit h of byte 5c + 4.
int lookup3Value(const std::vector<uint8_t> &block, int64_t r, int64_t row,
                 int64_t k) {
  const int64_t c = k / 24, h = (k % 24) / 3, digit = k % 3;
  uint8_t byte = block[(5 * c + h / 2) * r + row];
  int magnitude = h % 2 ? byte >> 4 : byte & 15;
  EXPECT_LE(magnitude, 13) << "group value out of the table";
  const bool negative = block[(5 * c + 4) * r + row] >> h & 1;
  EXPECT_TRUE(magnitude != 0 || !negative) << "a negative zero group";
  return balancedDigit(magnitude, digit, negative);
}

TEST(WeightBlob, Lookup3BlocksRoundTripWithPaddedRowsAndColumns) {
  expectLookupRoundTrips(WeightLayout::Lookup3, {8, 16, 32, 64}, {24, 37, 300},
                         5, 24, 5, 17, lookup3Value);
}

/// Value of element (row, k) of a lut4<R> block, decoded from the
/// documented layout: group g holds columns 4g + i as the balanced-ternary
/// digits i of |v| (bits 0-5), the sign of v in bit 7.
int lookup4Value(const std::vector<uint8_t> &block, int64_t r, int64_t row,
                 int64_t k) {
  uint8_t byte = block[(k / 4) * r + row];
  EXPECT_LE(byte & 127, 40) << "group value out of the table";
  return balancedDigit(byte & 127, k % 4, byte & 128);
}

TEST(WeightBlob, Lookup4BlocksRoundTripWithPaddedRowsAndColumns) {
  expectLookupRoundTrips(WeightLayout::Lookup4, {16, 64}, {4, 37, 300}, 7, 4, 1,
                         19, lookup4Value);
}

TEST(WeightBlob, Lookup5GroupsBlocksForAboutEightIterations) {
  MLIRContext ctx;
  ctx.loadDialect<TernDialect>();
  auto group = [&](int64_t n, WeightLayout layout) {
    return TernaryType::get(&ctx, n, 2560, ScaleGranularity::PerRow, 0, layout,
                            64, 0)
        .getLookupBlockGroup();
  };
  EXPECT_EQ(group(64, WeightLayout::Lookup5), 1);
  EXPECT_EQ(group(2560, WeightLayout::Lookup5), 5);    // 40 blocks
  EXPECT_EQ(group(13824, WeightLayout::Lookup5), 27);  // 216 blocks
  EXPECT_EQ(group(128256, WeightLayout::Lookup5), 32); // at most 32
  EXPECT_EQ(group(13824, WeightLayout::Lookup), 1);    // pairs: one block
  EXPECT_EQ(group(13824, WeightLayout::Lookup3), 1);
  EXPECT_EQ(group(13824, WeightLayout::Lookup4), 27); // as lut5
}

} // namespace
