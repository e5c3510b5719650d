//===- ModelDescription.cpp - the canonical model description -------------===//

#include "ternc/Import/ModelDescription.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace llvm;
using namespace ternc;

Error ModelDescription::validate() const {
  auto fail = [&](const Twine &msg) {
    return createStringError(inconvertibleErrorCode(),
                             (path + ": " + msg).str());
  };
  if (dim < 1 || hiddenDim < 1 || layers < 1 || heads < 1 || kvHeads < 1 ||
      vocab < 1 || context < 1)
    return fail("every dimension must be positive");
  if (dim % heads || heads % kvHeads || headDim() % 2)
    return fail(formatv("{0} features do not split into {1} even-sized heads "
                        "sharing {2} KV heads",
                        dim, heads, kvHeads));
  if (int64_t(layerNames.size()) != layers)
    return fail("layer names do not match the layer count");
  if (!store)
    return fail("no weight store");
  return Error::success();
}

Error ternc::collectTensors(ModelDescription &md, const TensorNaming &naming,
                            AddDenseFn addDense, AddTernaryFn addTernary) {
  const int64_t d = md.dim, f = md.hiddenDim, kv = md.kvDim();
  auto e = addDense(naming.embedding, {md.vocab, d}, true);
  if (!e)
    return e.takeError();
  md.embedding = *e;
  auto n = addDense(naming.finalNorm, {d}, true);
  if (!n)
    return n.takeError();
  md.finalNorm = *n;
  auto h = addDense(naming.head, {md.vocab, d}, naming.headRequired);
  if (!h)
    return h.takeError();
  md.head = h->empty() ? md.embedding : *h; // tied
  md.layerNames.resize(md.layers);
  for (int64_t l = 0; l < md.layers; ++l) {
    LayerNames &ln = md.layerNames[l];
    struct {
      std::string *slot;
      const char *role;
      int64_t rows, cols;
    } linears[] = {{&ln.wq, "wq", d, d},     {&ln.wk, "wk", kv, d},
                   {&ln.wv, "wv", kv, d},    {&ln.wo, "wo", d, d},
                   {&ln.gate, "gate", f, d}, {&ln.up, "up", f, d},
                   {&ln.down, "down", d, f}};
    for (auto &x : linears) {
      auto r = addTernary(naming.layer(l, x.role), x.rows, x.cols);
      if (!r)
        return r.takeError();
      *x.slot = *r;
    }
    struct {
      std::string *slot;
      const char *role;
      int64_t size;
      bool present;
    } norms[] = {{&ln.attnNorm, "attn_norm", d, true},
                 {&ln.ffnNorm, "ffn_norm", d, true},
                 {&ln.attnSubNorm, "attn_sub_norm", d, naming.subNorms},
                 {&ln.ffnSubNorm, "ffn_sub_norm", f, naming.subNorms}};
    for (auto &x : norms) {
      if (!x.present)
        continue;
      auto r = addDense(naming.layer(l, x.role), {x.size}, true);
      if (!r)
        return r.takeError();
      *x.slot = *r;
    }
  }
  return Error::success();
}

Expected<ModelDescription> ternc::importCheckpoint(StringRef path) {
  if (sys::fs::is_directory(path)) {
    SmallString<256> config(path);
    sys::path::append(config, "config.json");
    if (sys::fs::exists(config))
      return importHuggingFace(path);
    // A bitllama2.c directory: bit_model.bin (+ tokenizer.bin).
    SmallString<256> bin(path);
    sys::path::append(bin, "bit_model.bin");
    if (sys::fs::exists(bin))
      return importBitLlama2c(bin);
    return createStringError(inconvertibleErrorCode(),
                             "%s: no checkpoint found in this directory "
                             "(looked for config.json and bit_model.bin)",
                             path.str().c_str());
  }
  // Sniff the first bytes.
  auto buf = MemoryBuffer::getFileSlice(path, 8, 0, /*IsVolatile=*/false);
  if (!buf)
    return createStringError(inconvertibleErrorCode(), "%s: cannot read: %s",
                             path.str().c_str(),
                             buf.getError().message().c_str());
  StringRef head = (*buf)->getBuffer();
  if (head.size() >= 4 && support::endian::read32le(head.data()) == 0x616b3432)
    return importBitLlama2c(path);
  if (head.starts_with("GGUF"))
    return importGguf(path);
  return createStringError(inconvertibleErrorCode(),
                           "%s: unknown checkpoint format (expected a GGUF "
                           "file, a bitllama2.c .bin file, or a Hugging Face "
                           "directory)",
                           path.str().c_str());
}
