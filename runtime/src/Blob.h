//===- Blob.h - find and map the weight blob --------------------*- C++ -*-===//

#ifndef TERNC_RUNTIME_BLOB_H
#define TERNC_RUNTIME_BLOB_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace ternc::rt {

/// The weight blob: embedded in the executable, or loaded from a file.
class Blob {
public:
  Blob() = default;
  Blob(const Blob &) = delete;
  Blob &operator=(const Blob &) = delete;
  ~Blob();

  /// Uses the embedded blob if the program has one, else loads `path`
  /// (empty: `<program>.weights`): a large file is read into huge pages
  /// unless `map` asks for a plain file mapping. Checks size, alignment
  /// and checksum against what the code was compiled for. On failure
  /// returns false and sets `error`.
  bool open(const std::string &path, const std::string &programPath, bool map,
            std::string &error);

  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }
  /// Where the blob came from, for messages.
  const std::string &source() const { return source_; }

private:
  const uint8_t *data_ = nullptr;
  size_t size_ = 0;
  void *mapping_ = nullptr;
  size_t mappingSize_ = 0;
  std::string source_;
};

} // namespace ternc::rt

#endif // TERNC_RUNTIME_BLOB_H
