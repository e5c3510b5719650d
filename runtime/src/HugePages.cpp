//===- HugePages.cpp - read a file into transparent huge pages ------------===//

#include "HugePages.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

void *ternc::rt::readIntoHugePages(int fd, size_t size, size_t &length,
                                   std::string &error) {
#ifdef MADV_HUGEPAGE
  constexpr size_t kHuge = size_t(2) << 20;
  length = (size + kHuge - 1) / kHuge * kHuge;
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
  auto *p = reinterpret_cast<uint8_t *>(aligned);
  madvise(p, length, MADV_HUGEPAGE);
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
#else
  (void)fd, (void)size, (void)length, (void)error;
  return nullptr;
#endif
}
