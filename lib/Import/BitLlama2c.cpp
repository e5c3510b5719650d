//===- BitLlama2c.cpp - bitllama2.c ("ak42") checkpoints ------------------===//
//
// Layout (little-endian): a 256-byte header (u32 magic "ak42" = 0x616b3432,
// i32 version 1, i32 dim, hidden_dim, n_layers, n_heads, n_kv_heads,
// vocab_size (negative: untied classifier), seq_len, u8 shared-classifier
// flag, zero padding); f32 final-norm weight [dim]; f32 embedding
// [vocab, dim]; then per matrix group wq, wk, wv, wo, w1, w2, w3, per layer:
// f32 scale and out*in/4 bytes of 2-bit codes over the row-major [out, in]
// matrix, the first element of each byte in its high bits; codes 01 -> +1,
// 11 -> -1, 00 -> 0.
//
//===----------------------------------------------------------------------===//

#include "ternc/Import/ModelDescription.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstring>
#include <map>

using namespace llvm;
using namespace ternc;

namespace {

constexpr uint32_t kMagic = 0x616b3432;
constexpr uint64_t kHeaderBytes = 256;
// Sizes beyond these are not models but corrupt or hostile headers.
constexpr int64_t kMaxDim = 1 << 16, kMaxLayers = 1024, kMaxVocab = 1 << 22,
                  kMaxContext = 1 << 22;

Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg.str());
}

struct Entry {
  uint64_t offset; // of the codes (ternary) or the floats (dense)
  int64_t rows, cols;
  float scale; // ternary only
};

class BitLlamaTernary : public TernaryTensor {
public:
  BitLlamaTernary(std::string file, std::string name, const uint8_t *codes,
                  int64_t rows, int64_t cols, float scale)
      : file_(std::move(file)), codes_(codes) {
    name_ = std::move(name);
    rows_ = rows;
    cols_ = cols;
    scales_ = {scale};
    scaleKind_ = ScaleKind::PerTensor;
  }
  Error decodeRow(int64_t row, int8_t *out) const override {
    const uint8_t *src = codes_ + row * (cols_ / 4);
    for (int64_t k = 0; k < cols_; ++k) {
      int code = (src[k / 4] >> (6 - 2 * (k % 4))) & 3;
      if (code == 2)
        return fail(formatv("{0}: tensor '{1}': invalid code 0b10 at row {2}, "
                            "column {3} (byte offset {4})",
                            file_, name_, row, k, (src - base_) + k / 4));
      out[k] = code == 1 ? 1 : code == 3 ? -1 : 0;
    }
    return Error::success();
  }
  void setBase(const uint8_t *base) { base_ = base; }

private:
  std::string file_;
  const uint8_t *codes_;
  const uint8_t *base_ = nullptr;
};

class BitLlamaDense : public DenseTensor {
public:
  BitLlamaDense(std::string name, const uint8_t *data,
                std::vector<int64_t> shape)
      : data_(data) {
    name_ = std::move(name);
    shape_ = std::move(shape);
  }
  Error read(int64_t first, int64_t count, float *out) const override {
    std::memcpy(out, data_ + 4 * first, 4 * count);
    return Error::success();
  }

private:
  const uint8_t *data_;
};

class BitLlamaStore : public WeightStore {
public:
  std::unique_ptr<MemoryBuffer> buffer;
  std::map<std::string, Entry> ternaries, denses;

  std::string describe() const override {
    return buffer->getBufferIdentifier().str();
  }
  const uint8_t *base() const {
    return reinterpret_cast<const uint8_t *>(buffer->getBufferStart());
  }
  Expected<std::unique_ptr<TernaryTensor>>
  ternary(StringRef name, int64_t rows, int64_t cols) const override {
    auto it = ternaries.find(name.str());
    if (it == ternaries.end())
      return fail(formatv("{0}: no ternary matrix '{1}'", describe(), name));
    const Entry &e = it->second;
    if (e.rows != rows || e.cols != cols)
      return fail(formatv("{0}: '{1}' is {2}x{3}, the IR expects {4}x{5}",
                          describe(), name, e.rows, e.cols, rows, cols));
    auto t = std::make_unique<BitLlamaTernary>(
        describe(), name.str(), base() + e.offset, e.rows, e.cols, e.scale);
    t->setBase(base());
    return std::move(t);
  }
  Expected<std::unique_ptr<DenseTensor>>
  dense(StringRef name, ArrayRef<int64_t> shape) const override {
    auto it = denses.find(name.str());
    if (it == denses.end())
      return fail(formatv("{0}: no tensor '{1}'", describe(), name));
    const Entry &e = it->second;
    std::vector<int64_t> have = e.rows == 1
                                    ? std::vector<int64_t>{e.cols}
                                    : std::vector<int64_t>{e.rows, e.cols};
    if (ArrayRef<int64_t>(have) != shape)
      return fail(formatv("{0}: tensor '{1}' has another shape than the IR "
                          "declares",
                          describe(), name));
    return std::make_unique<BitLlamaDense>(name.str(), base() + e.offset, have);
  }
};

} // namespace

Expected<ModelDescription> ternc::importBitLlama2c(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buf =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buf)
    return fail(path + ": cannot read: " + buf.getError().message());
  auto store = std::make_unique<BitLlamaStore>();
  store->buffer = std::move(*buf);
  const uint8_t *p = store->base();
  const uint64_t size = store->buffer->getBufferSize();
  auto hfail = [&](const Twine &msg) { return fail(path + ": " + msg); };
  if (size < kHeaderBytes)
    return hfail(formatv("truncated: {0} bytes, the header alone needs {1}",
                         size, kHeaderBytes));
  using support::endian::read32le;
  if (read32le(p) != kMagic)
    return hfail(formatv("offset 0: bad magic 0x{0:x} (a bitllama2.c file "
                         "starts with 0x616b3432, \"ak42\")",
                         read32le(p)));
  int32_t version = int32_t(read32le(p + 4));
  if (version != 1)
    return hfail(
        formatv("offset 4: unsupported version {0} (only 1)", version));
  auto field = [&](int i) { return int64_t(int32_t(read32le(p + 8 + 4 * i))); };
  ModelDescription md;
  md.path = path.str();
  md.format = "bitllama2.c";
  md.architecture = "bitllama2c";
  md.dim = field(0);
  md.hiddenDim = field(1);
  md.layers = field(2);
  md.heads = field(3);
  md.kvHeads = field(4);
  int64_t vocab = field(5);
  md.context = field(6);
  bool untied = vocab < 0;
  md.vocab = untied ? -vocab : vocab;
  const char *names[] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                         "n_kv_heads", "vocab_size", "seq_len"};
  int64_t values[] = {md.dim,     md.hiddenDim, md.layers, md.heads,
                      md.kvHeads, md.vocab,     md.context};
  int64_t limits[] = {kMaxDim, 4 * kMaxDim, kMaxLayers, kMaxDim,
                      kMaxDim, kMaxVocab,   kMaxContext};
  for (int i = 0; i < 7; ++i)
    if (values[i] < 1 || values[i] > limits[i])
      return hfail(formatv("offset {0}: {1} = {2} is outside [1, {3}]",
                           8 + 4 * i, names[i], values[i], limits[i]));
  if (untied)
    return hfail("offset 28: negative vocab_size (untied classifier) is not "
                 "supported by this format reader");
  if (md.dim % md.heads || md.heads % md.kvHeads || (md.dim / md.heads) % 2)
    return hfail(formatv("offset 8: dim {0}, n_heads {1}, n_kv_heads {2} do "
                         "not divide into even-sized heads",
                         md.dim, md.heads, md.kvHeads));
  if (md.dim % 4 || md.hiddenDim % 4)
    return hfail("offset 8: dim and hidden_dim must be multiples of 4 (2-bit "
                 "codes fill whole bytes)");

  uint64_t off = kHeaderBytes;
  auto need = [&](uint64_t bytes, const Twine &what) -> Error {
    if (bytes > size || off > size - bytes)
      return hfail(formatv("truncated: {0} needs {1} bytes at offset {2}, "
                           "the file has {3}",
                           what.str(), bytes, off, size));
    return Error::success();
  };
  if (Error e = need(4 * uint64_t(md.dim), "the final norm"))
    return std::move(e);
  store->denses["norm"] = {off, 1, md.dim, 0};
  off += 4 * md.dim;
  if (Error e = need(4 * uint64_t(md.vocab) * md.dim, "the embedding"))
    return std::move(e);
  store->denses["tok_embeddings"] = {off, md.vocab, md.dim, 0};
  off += 4 * uint64_t(md.vocab) * md.dim;

  const int64_t kv = md.kvDim();
  struct Group {
    const char *name;
    int64_t rows, cols;
  } groups[] = {{"wq", md.dim, md.dim},       {"wk", kv, md.dim},
                {"wv", kv, md.dim},           {"wo", md.dim, md.dim},
                {"w1", md.hiddenDim, md.dim}, {"w2", md.dim, md.hiddenDim},
                {"w3", md.hiddenDim, md.dim}};
  md.layerNames.resize(md.layers);
  for (const Group &g : groups) {
    for (int64_t l = 0; l < md.layers; ++l) {
      std::string name = formatv("layers.{0}.{1}", l, g.name).str();
      uint64_t bytes = 4 + uint64_t(g.rows) * g.cols / 4;
      if (Error e = need(bytes, "'" + name + "'"))
        return std::move(e);
      float scale;
      std::memcpy(&scale, p + off, 4);
      if (!std::isfinite(scale) || scale == 0.0f)
        return hfail(formatv("offset {0}: tensor '{1}': scale {2} must be "
                             "finite and non-zero",
                             off, name, scale));
      store->ternaries[name] = {off + 4, g.rows, g.cols, scale};
      off += bytes;
      LayerNames &ln = md.layerNames[l];
      std::string *slot = StringSwitch<std::string *>(g.name)
                              .Case("wq", &ln.wq)
                              .Case("wk", &ln.wk)
                              .Case("wv", &ln.wv)
                              .Case("wo", &ln.wo)
                              .Case("w1", &ln.gate)
                              .Case("w2", &ln.down)
                              .Default(&ln.up);
      *slot = name;
    }
  }
  if (off != size)
    return hfail(formatv("{0} bytes of trailing data after the last matrix "
                         "at offset {1}",
                         size - off, off));

  md.normEps = 1e-5f;
  md.ropeTheta = 10000.0f;
  md.rope = RopeKind::Interleaved;
  md.gate = GateActivation::SiLU;
  md.scheme = LinearScheme::BitLlama2c;
  md.embedding = "tok_embeddings";
  md.head = "tok_embeddings";
  md.finalNorm = "norm";
  md.bos = 1;
  // llama2.c ends a story when the model predicts BOS (its sequence
  // delimiter), not the tokenizer's </s>.
  md.eos = 1;
  SmallString<256> tok(sys::path::parent_path(path));
  sys::path::append(tok, "tokenizer.bin");
  if (sys::fs::exists(tok))
    md.tokenizerPath = tok.str().str();
  md.store = std::move(store);
  return std::move(md);
}
