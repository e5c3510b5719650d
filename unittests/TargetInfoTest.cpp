//===- TargetInfoTest.cpp - triple/CPU/features -> capabilities -----------===//

#include "ternc/Target/TargetInfo.h"

#include "llvm/Support/Error.h"
#include "gtest/gtest.h"

using namespace ternc;

namespace {

TargetInfo resolveOrDie(const char *triple, const char *cpu,
                        const char *features = "") {
  auto info = TargetInfo::resolve(triple, cpu, features);
  EXPECT_TRUE(bool(info)) << (info ? "" : llvm::toString(info.takeError()));
  return info ? *info : TargetInfo();
}

TEST(TargetInfo, Zen4HasAvx512WithVbmiAndVnni) {
  TargetInfo t = resolveOrDie("x86_64-linux-gnu", "znver4");
  EXPECT_EQ(t.triple, "x86_64-unknown-linux-gnu");
  EXPECT_TRUE(t.has("avx2"));
  EXPECT_TRUE(t.has("avx512bw"));
  EXPECT_TRUE(t.has("avx512vbmi"));
  EXPECT_TRUE(t.has("avx512vnni"));
  EXPECT_EQ(t.vectorBits, 512);
  EXPECT_FALSE(t.cpuDefaulted);
}

TEST(TargetInfo, Haswell256BitsNoAvx512) {
  TargetInfo t = resolveOrDie("x86_64-linux-gnu", "haswell");
  EXPECT_TRUE(t.has("avx2"));
  EXPECT_FALSE(t.has("avx512bw"));
  EXPECT_EQ(t.vectorBits, 256);
}

TEST(TargetInfo, FeaturesCanRemoveExtensions) {
  TargetInfo t = resolveOrDie("x86_64-linux-gnu", "znver4", "-avx512bw");
  EXPECT_FALSE(t.has("avx512bw"));
  EXPECT_EQ(t.vectorBits, 256);
}

TEST(TargetInfo, BaselineIsReported) {
  TargetInfo t = resolveOrDie("x86_64-linux-gnu", "");
  EXPECT_EQ(t.cpu, "x86-64");
  EXPECT_TRUE(t.cpuDefaulted);
  EXPECT_FALSE(t.has("avx2"));
  EXPECT_NE(t.describe().find("baseline"), std::string::npos);
}

TEST(TargetInfo, AArch64DotprodFollowsTheCPU) {
  TargetInfo a76 = resolveOrDie("aarch64-linux-gnu", "cortex-a76");
  EXPECT_TRUE(a76.has("neon"));
  EXPECT_TRUE(a76.has("dotprod"));
  EXPECT_EQ(a76.vectorBits, 128);
  TargetInfo a72 = resolveOrDie("aarch64-linux-gnu", "cortex-a72");
  EXPECT_TRUE(a72.has("neon"));
  EXPECT_FALSE(a72.has("dotprod"));
}

TEST(TargetInfo, UnknownNamesAreErrors) {
  auto badCpu = TargetInfo::resolve("x86_64-linux-gnu", "pentium9000", "");
  ASSERT_FALSE(bool(badCpu));
  EXPECT_NE(llvm::toString(badCpu.takeError()).find("pentium9000"),
            std::string::npos);
  auto badFeature = TargetInfo::resolve("x86_64-linux-gnu", "znver4", "+avx9");
  ASSERT_FALSE(bool(badFeature));
  EXPECT_NE(llvm::toString(badFeature.takeError()).find("avx9"),
            std::string::npos);
  auto badTriple = TargetInfo::resolve("nonsense-cpu-none", "", "");
  EXPECT_FALSE(bool(badTriple));
  llvm::consumeError(badTriple.takeError());
  auto nativeCross = TargetInfo::resolve("aarch64-linux-gnu", "native", "");
  EXPECT_FALSE(bool(nativeCross)); // this host is x86-64
  llvm::consumeError(nativeCross.takeError());
}

} // namespace
