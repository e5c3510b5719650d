//===- checksum.h - the weight-file checksum ---------------------*- C++
//-*-===//
//
// ternc computes this checksum while it writes a weight file and compiles it
// into the program (`ternc_weights_checksum`); the program recomputes it when
// it maps the file, so a weight file from another compilation, or a damaged
// one, is refused instead of producing garbage. It detects accidents, not
// attacks: it is not a cryptographic hash.
//
// Definition: the blob is cut into blocks of kChecksumBlockBytes (the last
// one shorter). Each block is read as little-endian 64-bit words in four
// interleaved lanes (a zero-padded 32-byte stripe at the end), each lane
// updated as lane = rotl(lane ^ (word * kMul1), 31) * kMul2, and the lanes
// and block length are mixed into the block sum. The checksum mixes the
// total size and the block sums in order. Blocks are independent so the
// runtime could check them on several threads; four lanes keep one core's
// multipliers busy. Header-only: ternc and every runtime target share it.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_CHECKSUM_H
#define TERNC_CHECKSUM_H

#include <cstdint>
#include <cstring>
#include <vector>

namespace ternc {

inline constexpr uint64_t kChecksumBlockBytes = uint64_t(1) << 20;

namespace checksum_detail {
inline constexpr uint64_t kMul1 = 0x9E3779B97F4A7C15ull;
inline constexpr uint64_t kMul2 = 0xC2B2AE3D27D4EB4Full;

/// The splitmix64 finalizer: every input bit affects every output bit.
inline uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline void stripe(uint64_t lane[4], const uint8_t *p) {
  for (int j = 0; j < 4; ++j) {
    uint64_t w;
    std::memcpy(&w, p + 8 * j, 8); // all supported targets are little-endian
    lane[j] = rotl(lane[j] ^ (w * kMul1), 31) * kMul2;
  }
}
} // namespace checksum_detail

/// The sum of one block of `n` <= kChecksumBlockBytes bytes.
inline uint64_t checksumBlock(const uint8_t *p, uint64_t n) {
  using namespace checksum_detail;
  uint64_t lane[4] = {kMul1, kMul2, ~kMul1, ~kMul2};
  uint64_t i = 0;
  for (; i + 32 <= n; i += 32)
    stripe(lane, p + i);
  if (i < n) {
    uint8_t last[32] = {};
    std::memcpy(last, p + i, size_t(n - i));
    stripe(lane, last);
  }
  uint64_t h = mix(n);
  for (uint64_t l : lane)
    h = mix(h ^ l);
  return h;
}

/// The checksum of a blob of `size` bytes from its block sums, in order.
inline uint64_t checksumCombine(const uint64_t *blockSums, uint64_t count,
                                uint64_t size) {
  using namespace checksum_detail;
  uint64_t h = mix(size ^ kMul2);
  for (uint64_t i = 0; i < count; ++i)
    h = mix(h ^ blockSums[i]) + kMul1;
  return mix(h);
}

/// The checksum of `data[0, size)`.
inline uint64_t checksum(const uint8_t *data, uint64_t size) {
  std::vector<uint64_t> sums;
  for (uint64_t at = 0; at < size; at += kChecksumBlockBytes)
    sums.push_back(checksumBlock(data + at, size - at < kChecksumBlockBytes
                                                ? size - at
                                                : kChecksumBlockBytes));
  return checksumCombine(sums.data(), sums.size(), size);
}

/// The same checksum over bytes that arrive in pieces (as ternc writes them).
class ChecksumBuilder {
public:
  void update(const uint8_t *p, uint64_t n) {
    size_ += n;
    while (n) {
      uint64_t take = kChecksumBlockBytes - block_.size();
      if (take > n)
        take = n;
      block_.insert(block_.end(), p, p + take);
      p += take;
      n -= take;
      if (block_.size() == kChecksumBlockBytes) {
        sums_.push_back(checksumBlock(block_.data(), block_.size()));
        block_.clear();
      }
    }
  }
  uint64_t finish() {
    if (!block_.empty()) {
      sums_.push_back(checksumBlock(block_.data(), block_.size()));
      block_.clear();
    }
    return checksumCombine(sums_.data(), sums_.size(), size_);
  }

private:
  std::vector<uint8_t> block_;
  std::vector<uint64_t> sums_;
  uint64_t size_ = 0;
};

} // namespace ternc

#endif // TERNC_CHECKSUM_H
