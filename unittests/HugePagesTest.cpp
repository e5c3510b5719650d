//===- HugePagesTest.cpp - the runtime's huge-page memory -----------------===//

#include "HugePages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

/// A temporary file with `bytes` of a position-dependent pattern.
struct TempFile {
  std::string path;
  int fd = -1;
  explicit TempFile(size_t bytes) {
    char name[] = "/tmp/ternc-hugepages-XXXXXX";
    fd = mkstemp(name);
    path = name;
    std::vector<uint8_t> data(bytes);
    for (size_t i = 0; i < bytes; ++i)
      data[i] = uint8_t(i * 131 + (i >> 12));
    EXPECT_EQ(write(fd, data.data(), bytes), ssize_t(bytes));
  }
  ~TempFile() {
    close(fd);
    unlink(path.c_str());
  }
};

TEST(HugePages, ReadsTheWholeFileAligned) {
  // Not a multiple of 4 KiB or 2 MiB: the tail must be read too.
  const size_t size = (size_t(5) << 20) + 12345;
  TempFile file(size);
  size_t length = 0;
  std::string error;
  void *p = ternc::rt::readIntoHugePages(file.fd, size, length, error);
  EXPECT_TRUE(error.empty()) << error;
  if (!p)
    GTEST_SKIP() << "no transparent huge page support here";
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size_t(2) << 20), 0u);
  EXPECT_GE(length, size);
  EXPECT_EQ(length % (size_t(2) << 20), 0u);
  const auto *bytes = static_cast<const uint8_t *>(p);
  size_t mismatches = 0;
  for (size_t i = 0; i < size; ++i)
    mismatches += bytes[i] != uint8_t(i * 131 + (i >> 12));
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(munmap(p, length), 0);
}

TEST(HugePages, AShortFileIsAnError) {
  TempFile file(4096);
  size_t length = 0;
  std::string error;
  void *p = ternc::rt::readIntoHugePages(file.fd, 3 << 20, length, error);
  EXPECT_EQ(p, nullptr);
#ifdef MADV_HUGEPAGE
  EXPECT_NE(error.find("ended early"), std::string::npos) << error;
#endif
}

TEST(HugePages, ZeroedMemoryIsZeroAlignedAndWritable) {
  // Sizes around the 2 MiB page and the 64-byte alignment, and zero.
  for (size_t size : {size_t(0), size_t(1), size_t(100), (size_t(2) << 20) - 1,
                      (size_t(3) << 20) + 7}) {
    ternc::rt::ZeroedMemory m(size);
    ASSERT_NE(m.get(), nullptr) << size;
    // The generated code's scratch needs 64-byte alignment; a mapping is
    // 2 MiB aligned.
    const uintptr_t at = reinterpret_cast<uintptr_t>(m.get());
    EXPECT_EQ(at % 64, 0u) << size;
    if (m.mapped())
      EXPECT_EQ(at % (size_t(2) << 20), 0u) << size;
    auto *bytes = static_cast<uint8_t *>(m.get());
    size_t nonzero = 0;
    for (size_t i = 0; i < size; ++i)
      nonzero += bytes[i] != 0;
    EXPECT_EQ(nonzero, 0u) << size;
    for (size_t i = 0; i < size; ++i)
      bytes[i] = uint8_t(i);
    if (size)
      EXPECT_EQ(bytes[size - 1], uint8_t(size - 1));
  }
}

} // namespace
