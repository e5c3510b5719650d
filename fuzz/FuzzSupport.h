//===- FuzzSupport.h - shared pieces of the libFuzzer harnesses -*- C++ -*-===//
//
// The importers take paths (they mmap files), so harnesses hand them the
// fuzzer's bytes through an in-memory file; after a successful import they
// read every tensor, so the decoding paths are fuzzed too, not only the
// headers. Tokenizers that load are exercised the same way: encode, decode,
// and a serialize/deserialize round trip that must reproduce the encoding.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_FUZZ_FUZZSUPPORT_H
#define TERNC_FUZZ_FUZZSUPPORT_H

#include "ternc/Import/ModelDescription.h"
#include "tokenizer/Tokenizer.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace ternc::fuzz {

/// Fails the run loudly: a broken invariant is a finding like a crash.
[[noreturn]] inline void violated(const char *what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

/// An anonymous in-memory file whose contents are replaced on each run;
/// `path()` opens it by name.
class MemFile {
public:
  explicit MemFile(const char *name) {
    fd_ = memfd_create(name, 0);
    if (fd_ < 0)
      violated("memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  const std::string &set(const uint8_t *data, size_t size) {
    if (ftruncate(fd_, 0) != 0 ||
        (size && pwrite(fd_, data, size, 0) != ssize_t(size)))
      violated("writing the in-memory file failed");
    return path_;
  }

private:
  int fd_ = -1;
  std::string path_;
};

/// Keeps a harness's work per input small: tensors bigger than this are
/// checked by the importer but not decoded element by element.
constexpr int64_t kMaxDecodedElements = 1 << 20;

inline void readDense(const ternc::WeightStore &store, const std::string &name,
                      std::vector<int64_t> shape) {
  if (name.empty())
    return;
  auto tensor = store.dense(name, shape);
  if (!tensor) {
    llvm::consumeError(tensor.takeError());
    return;
  }
  int64_t n = (*tensor)->numElements();
  if (n > kMaxDecodedElements)
    return;
  std::vector<float> out(static_cast<size_t>(n));
  llvm::consumeError((*tensor)->read(0, n, out.data()));
}

inline void readTernary(const ternc::WeightStore &store,
                        const std::string &name, int64_t rows, int64_t cols) {
  if (name.empty())
    return;
  auto tensor = store.ternary(name, rows, cols);
  if (!tensor) {
    llvm::consumeError(tensor.takeError());
    return;
  }
  if (rows * cols > kMaxDecodedElements)
    return;
  std::vector<int8_t> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    if (llvm::Error e = (*tensor)->decodeRow(r, row.data())) {
      llvm::consumeError(std::move(e));
      return;
    }
    for (int8_t v : row)
      if (v < -1 || v > 1)
        violated("a ternary row decoded to a value outside {-1, 0, 1}");
  }
}

/// Reads every tensor of an imported model with the shapes the compiler
/// would ask for.
inline void exerciseModel(llvm::Expected<ternc::ModelDescription> md) {
  if (!md) {
    std::string message = llvm::toString(md.takeError());
    if (message.empty())
      violated("an import failed without a message");
    return;
  }
  if (llvm::Error e = md->validate()) {
    llvm::consumeError(std::move(e));
    return;
  }
  const ternc::WeightStore &store = *md->store;
  const int64_t dim = md->dim, hidden = md->hiddenDim, kv = md->kvDim();
  readDense(store, md->embedding, {md->vocab, dim});
  readDense(store, md->finalNorm, {dim});
  if (md->head != md->embedding)
    readDense(store, md->head, {md->vocab, dim});
  for (const ternc::LayerNames &l : md->layerNames) {
    readTernary(store, l.wq, dim, dim);
    readTernary(store, l.wk, kv, dim);
    readTernary(store, l.wv, kv, dim);
    readTernary(store, l.wo, dim, dim);
    readTernary(store, l.gate, hidden, dim);
    readTernary(store, l.up, hidden, dim);
    readTernary(store, l.down, dim, hidden);
    readDense(store, l.attnNorm, {dim});
    readDense(store, l.ffnNorm, {dim});
    readDense(store, l.attnSubNorm, {dim});
    readDense(store, l.ffnSubNorm, {hidden});
  }
}

/// Encodes and decodes with a tokenizer that loaded, and checks that its
/// serialized form reproduces it.
inline void exerciseTokenizer(const std::optional<ternc::rt::Tokenizer> &tok,
                              const std::string &error) {
  if (!tok) {
    if (error.empty())
      violated("a tokenizer failed to load without a message");
    return;
  }
  static const std::string_view texts[] = {
      "Hello, world! Once upon a time",
      "  two  spaces\tand\nnewlines 12345 <|eot_id|> \xc3\xa9t\xc3\xa9",
      "\xff\xfe invalid \xc3 utf-8 \xed\xa0\x80"};
  const int32_t vocab = tok->vocabSize();
  std::string err;
  std::optional<ternc::rt::Tokenizer> copy =
      ternc::rt::Tokenizer::deserialize(tok->serialize(), &err);
  if (!copy)
    violated("a loaded tokenizer does not deserialize from its own form");
  for (std::string_view text : texts) {
    std::vector<int32_t> ids = tok->encode(text, true);
    for (int32_t id : ids)
      if (id < 0 || id >= vocab)
        violated("encode produced an id outside the vocabulary");
    if (copy->encode(text, true) != ids)
      violated("the deserialized tokenizer encodes differently");
    (void)tok->decode(ids);
  }
  int32_t prev = -1;
  for (int32_t id = -2; id < vocab && id < 4096; ++id) {
    (void)tok->decode(prev, id);
    (void)tok->piece(id);
    prev = id;
  }
}

} // namespace ternc::fuzz

#endif // TERNC_FUZZ_FUZZSUPPORT_H
