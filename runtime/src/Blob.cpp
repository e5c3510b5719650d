//===- Blob.cpp - find and map the weight blob ----------------------------===//

#include "Blob.h"
#include "ternc/abi.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// Defined by the object `ternc --weights=embed` links in; absent otherwise.
extern "C" {
extern const uint8_t ternc_embedded_weights[] __attribute__((weak));
extern const uint8_t ternc_embedded_weights_end[] __attribute__((weak));
}

using namespace ternc::rt;

Blob::~Blob() {
  if (mapping_)
    munmap(mapping_, mappingSize_);
}

bool Blob::open(const std::string &path, const std::string &programPath,
                std::string &error) {
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
    size_ = size_t(st.st_size);
    if (size_ != want) {
      ::close(fd);
      error = source_ + ": " + std::to_string(size_) +
              " bytes, but this program was compiled for a " +
              std::to_string(want) + "-byte weight file";
      return false;
    }
    if (size_ > 0) {
      // mmap returns page-aligned memory: the 64-byte alignment holds.
      mapping_ = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (mapping_ == MAP_FAILED) {
        mapping_ = nullptr;
        error = source_ + ": cannot map: " + strerror(errno);
        ::close(fd);
        return false;
      }
      mappingSize_ = size_;
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
  return true;
}
