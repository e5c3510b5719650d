//===- HugePages.cpp - memory in transparent huge pages -------------------===//

#include "HugePages.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

void *ternc::rt::mapHugePages(size_t size, size_t &length) {
#ifdef MADV_HUGEPAGE
  constexpr size_t kHuge = size_t(2) << 20;
  length = (std::max<size_t>(size, 1) + kHuge - 1) / kHuge * kHuge;
  // Over-allocate by one huge page and trim, so the range is 2 MiB aligned.
  size_t span = length + kHuge;
  void *raw = mmap(nullptr, span, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return nullptr;
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (start + kHuge - 1) / kHuge * kHuge;
  if (aligned > start)
    munmap(raw, aligned - start);
  if (uintptr_t end = start + span; end > aligned + length)
    munmap(reinterpret_cast<void *>(aligned + length),
           end - (aligned + length));
  auto *p = reinterpret_cast<void *>(aligned);
  madvise(p, length, MADV_HUGEPAGE);
  return p;
#else
  (void)size, (void)length;
  return nullptr;
#endif
}

void ternc::rt::unmapHugePages(void *p, size_t length) {
  if (p)
    munmap(p, length);
}

ternc::rt::ZeroedMemory::ZeroedMemory(size_t size) {
  p_ = mapHugePages(size, length_);
  if (!p_) {
    // 64-byte aligned like the mapping (the generated code's scratch needs
    // it), zeroed here.
    length_ = 0;
    size_t rounded = (std::max<size_t>(size, 1) + 63) / 64 * 64;
    p_ = std::aligned_alloc(64, rounded);
    if (p_)
      std::memset(p_, 0, rounded);
  }
}

ternc::rt::ZeroedMemory::~ZeroedMemory() {
  if (length_)
    unmapHugePages(p_, length_);
  else
    std::free(p_);
}

void *ternc::rt::readIntoHugePages(int fd, size_t size, size_t &length,
                                   std::string &error) {
  auto *p = static_cast<uint8_t *>(mapHugePages(size, length));
  if (!p)
    return nullptr;
  for (size_t done = 0; done < size;) {
    ssize_t got = pread(fd, p + done, std::min<size_t>(size - done, 1u << 30),
                        off_t(done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      error = got < 0 ? std::string("cannot read: ") + strerror(errno)
                      : "the file ended early (it changed while reading)";
      munmap(p, length);
      return nullptr;
    }
    done += size_t(got);
  }
  mprotect(p, length, PROT_READ);
  return p;
}
