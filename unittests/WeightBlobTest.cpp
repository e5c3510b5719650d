//===- WeightBlobTest.cpp - packing rows into weight layouts --------------===//

#include "ternc/Target/WeightBlob.h"
#include "ternc/Dialect/Tern/IR/TernDialect.h"

#include "mlir/IR/MLIRContext.h"
#include "gtest/gtest.h"

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
                            WeightLayout::Canonical, 0);
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
                              WeightLayout::Interleaved, chunk);
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

TEST(WeightBlob, LookupBlocksRoundTripWithPaddedRowsAndColumns) {
  MLIRContext ctx;
  ctx.loadDialect<TernDialect>();
  std::mt19937 rng(11);
  for (int64_t r : {8, 16, 32, 64}) {
    const int64_t k = 37, rows = r - 3; // padded columns and rows
    auto t = TernaryType::get(&ctx, rows, k, ScaleGranularity::PerRow, 0,
                              WeightLayout::Lookup, r);
    ASSERT_EQ(t.getPaddedRows(), r);
    ASSERT_EQ(t.getRowBytes(), 10);
    std::vector<int8_t> values(rows * k);
    for (auto &v : values)
      v = int8_t(int(rng() % 3) - 1);
    std::vector<uint8_t> out(r * t.getRowBytes());
    ternc::packTernaryRowBlock(t, values.data(), rows, out.data());
    for (int64_t row = 0; row < r; ++row)
      for (int64_t i = 0; i < t.getPaddedCols(); ++i)
        ASSERT_EQ(lookupValue(out, r, row, i),
                  row < rows && i < k ? values[row * k + i] : 0)
            << "R " << r << " row " << row << " element " << i;
  }
}

} // namespace
