//===- TernaryTypeTest.cpp - !tern.ternary sizes and verification ---------===//

#include "ternc/Dialect/Tern/IR/TernDialect.h"
#include "ternc/Dialect/Tern/IR/TernTypes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::tern;

namespace {

class TernaryTypeTest : public ::testing::Test {
protected:
  TernaryTypeTest() { ctx.loadDialect<TernDialect>(); }
  TernaryType get(int64_t n, int64_t k, ScaleGranularity s, int64_t g,
                  WeightLayout l, int64_t chunk, int64_t rowGroup = -1) {
    if (rowGroup < 0) // the default: 1 for interleaved, 0 for the rest
      rowGroup = l == WeightLayout::Interleaved;
    return TernaryType::getChecked(
        [&] { return emitError(UnknownLoc::get(&ctx)); }, &ctx, n, k, s, g, l,
        chunk, rowGroup);
  }
  MLIRContext ctx;
};

TEST_F(TernaryTypeTest, CanonicalSizesRoundRowsToBytes) {
  TernaryType t =
      get(3, 10, ScaleGranularity::PerRow, 0, WeightLayout::Canonical, 0);
  ASSERT_TRUE(t);
  EXPECT_EQ(t.getPaddedCols(), 12);
  EXPECT_EQ(t.getRowBytes(), 3);
  EXPECT_EQ(t.getCodeBytes(), 9);
  EXPECT_EQ(t.getNumScales(), 3);
  EXPECT_EQ(t.getScaleOffset(), 64);
  EXPECT_EQ(t.getPackedBytes(), 128);
}

TEST_F(TernaryTypeTest, InterleavedPadsToWholeChunks) {
  TernaryType t =
      get(5, 65, ScaleGranularity::PerTensor, 0, WeightLayout::Interleaved, 64);
  ASSERT_TRUE(t);
  EXPECT_EQ(t.getPaddedCols(), 128);
  EXPECT_EQ(t.getRowBytes(), 32);
  EXPECT_EQ(t.getCodeBytes(), 160);
  EXPECT_EQ(t.getScaleOffset(), 192);
  EXPECT_EQ(t.getPackedBytes(), 256);
}

TEST_F(TernaryTypeTest, InterleavedRowGroupsPadRowsAndStrideChunks) {
  TernaryType t =
      get(5, 65, ScaleGranularity::PerRow, 0, WeightLayout::Interleaved, 64, 4);
  ASSERT_TRUE(t);
  EXPECT_EQ(t.getPaddedRows(), 8);
  EXPECT_EQ(t.getRowBytes(), 32);
  EXPECT_EQ(t.getCodeBytes(), 256);
  EXPECT_EQ(t.getChunkStride(), 64);
  // Row 6: group 1 (bytes 128..255), third row of each 64-byte chunk group.
  EXPECT_EQ(t.getRowCodeOffset(6), 128 + 2 * 16);
  EXPECT_EQ(t.getNumScales(), 5);
  EXPECT_EQ(t.getScaleOffset(), 256);
}

TEST_F(TernaryTypeTest, BlockScalesCountPerRowAndBlock) {
  TernaryType t = get(4, 256, ScaleGranularity::PerBlock, 128,
                      WeightLayout::Interleaved, 64);
  ASSERT_TRUE(t);
  EXPECT_EQ(t.getBlocksPerRow(), 2);
  EXPECT_EQ(t.getNumScales(), 8);
}

TEST_F(TernaryTypeTest, RejectsInconsistentParameters) {
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
  EXPECT_FALSE(
      get(0, 8, ScaleGranularity::PerRow, 0, WeightLayout::Canonical, 0));
  EXPECT_FALSE(get(8, 100, ScaleGranularity::PerBlock, 64,
                   WeightLayout::Canonical, 0)); // 64 does not divide 100
  EXPECT_FALSE(get(8, 256, ScaleGranularity::PerBlock, 96,
                   WeightLayout::Interleaved, 64)); // chunk straddles blocks
  EXPECT_FALSE(get(8, 256, ScaleGranularity::PerRow, 0,
                   WeightLayout::Interleaved, 48)); // not a power of two
  EXPECT_FALSE(get(8, 256, ScaleGranularity::PerRow, 0,
                   WeightLayout::Interleaved, 64, 3)); // row group of 3
  EXPECT_FALSE(get(8, 256, ScaleGranularity::PerRow, 0,
                   WeightLayout::Interleaved, 64, 16)); // row group over 8
  EXPECT_FALSE(get(8, 256, ScaleGranularity::PerRow, 0, WeightLayout::Lookup,
                   16, 2)); // a row group outside interleaved
  EXPECT_FALSE(get(8, int64_t(1) << 25, ScaleGranularity::PerRow, 0,
                   WeightLayout::Canonical, 0)); // int32 sums could overflow
}

} // namespace
