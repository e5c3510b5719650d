//===- Blob.cpp - find and load the weight blob ---------------------------===//

#include "Blob.h"
#include "HugePages.h"
#include "ternc/abi.h"
#include "ternc/checksum.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

// Defined by the object `ternc --weights=embed` links in; absent otherwise.
extern "C" {
extern const uint8_t ternc_embedded_weights[] __attribute__((weak));
extern const uint8_t ternc_embedded_weights_end[] __attribute__((weak));
// Defined by programs ternc compiled with their weight file (weak so that
// objects built without one, e.g. by tern-opt pipelines, still link).
extern const uint64_t ternc_weights_checksum __attribute__((weak));
}

namespace {
/// Weight files from this size on are read into huge pages.
constexpr size_t kHugePageMinBytes = size_t(64) << 20;

struct ChecksumWork {
  const uint8_t *data;
  uint64_t size;
  uint64_t *sums;
};

void checksumBlocks(void *ctx, int64_t begin, int64_t end) {
  auto *w = static_cast<ChecksumWork *>(ctx);
  for (int64_t b = begin; b < end; ++b) {
    uint64_t at = uint64_t(b) * ternc::kChecksumBlockBytes;
    uint64_t n = w->size - at < ternc::kChecksumBlockBytes
                     ? w->size - at
                     : ternc::kChecksumBlockBytes;
    w->sums[b] = ternc::checksumBlock(w->data + at, n);
  }
}

std::string hex(uint64_t x) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, x);
  return buf;
}
} // namespace

using namespace ternc::rt;

Blob::~Blob() {
  if (mapping_)
    munmap(mapping_, mappingSize_);
}

bool Blob::open(const std::string &path, const std::string &programPath,
                bool map, std::string &error) {
  const uint64_t want = ternc_weights_size;
  if (path.empty() && ternc_embedded_weights) {
    data_ = ternc_embedded_weights;
    size_ = size_t(ternc_embedded_weights_end - ternc_embedded_weights);
    source_ = "the embedded weights";
  } else {
    source_ = path.empty() ? programPath + ".weights" : path;
    int fd = ::open(source_.c_str(), O_RDONLY);
    if (fd < 0) {
      error = source_ + ": cannot open the weight file: " + strerror(errno) +
              " (give it with --weights FILE)";
      return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
      error = source_ + ": " + strerror(errno);
      ::close(fd);
      return false;
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      error = source_ + ": not a regular file (give the weight file with "
                        "--weights FILE)";
      return false;
    }
    size_ = size_t(st.st_size);
    if (size_ != want) {
      ::close(fd);
      error = source_ + ": " + std::to_string(size_) +
              " bytes, but this program was compiled for a " +
              std::to_string(want) + "-byte weight file";
      return false;
    }
    if (size_ > 0) {
      // Large files are read into huge pages (small ones gain nothing);
      // otherwise, or where that is not possible, the file is mapped.
      if (!map && size_ >= kHugePageMinBytes) {
        std::string why;
        mapping_ = readIntoHugePages(fd, size_, mappingSize_, why);
        if (!why.empty()) {
          error = source_ + ": " + why;
          ::close(fd);
          return false;
        }
      }
      if (!mapping_) {
        // mmap returns page-aligned memory: the 64-byte alignment holds.
        mapping_ = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (mapping_ == MAP_FAILED) {
          mapping_ = nullptr;
          error = source_ + ": cannot map: " + strerror(errno);
          ::close(fd);
          return false;
        }
        mappingSize_ = size_;
      }
      data_ = static_cast<const uint8_t *>(mapping_);
    }
    ::close(fd);
  }
  if (size_ != want) {
    error = source_ + ": " + std::to_string(size_) +
            " bytes, but this program was compiled for " + std::to_string(want);
    return false;
  }
  if (reinterpret_cast<uintptr_t>(data_) % TERNC_WEIGHTS_ALIGN != 0) {
    error = source_ + ": not 64-byte aligned";
    return false;
  }
  // A weight file is checked against the checksum compiled into the
  // program (embedded weights are part of the executable itself). The
  // blocks are summed on the thread pool.
  if (mapping_ && &ternc_weights_checksum) {
    uint64_t blocks = (uint64_t(size_) + ternc::kChecksumBlockBytes - 1) /
                      ternc::kChecksumBlockBytes;
    std::vector<uint64_t> sums(blocks);
    ChecksumWork work{data_, uint64_t(size_), sums.data()};
    ternc_parallel_for(checksumBlocks, &work, 0, int64_t(blocks));
    uint64_t got = ternc::checksumCombine(sums.data(), blocks, size_);
    if (got != ternc_weights_checksum) {
      error = source_ + ": checksum " + hex(got) + " differs from the " +
              hex(ternc_weights_checksum) +
              " this program was compiled with: the file was written by "
              "another compilation or is damaged (use the weight file ternc "
              "wrote with this program, or recompile)";
      return false;
    }
  }
  return true;
}
