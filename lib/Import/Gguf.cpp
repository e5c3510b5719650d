//===- Gguf.cpp - GGUF checkpoints
//-----------------------------------------===//
//
// Architectures `bitnet-b1.58` and `bitnet-25` (bitnet.cpp: ReLU², sub-norms)
// and `bitnet` (llama.cpp: SiLU, sub-norms) use half-split RoPE; `llama`
// files keep ternary linears in a llama layout whose q/k rows GGUF
// converters permute to adjacent RoPE pairs, so they use interleaved RoPE.
// Ternary tensors: TQ1_0, TQ2_0, I2_S (id 36, bitnet.cpp), or F32/F16/BF16
// holding exactly T * s.
//
//===----------------------------------------------------------------------===//

#include "gguf/Gguf.h"
#include "ternc/Import/MappedStore.h"
#include "ternc/Import/ModelDescription.h"

#include "llvm/Support/FormatVariadic.h"

using namespace llvm;
using namespace ternc;
using ternc::rt::GgufFile;
using ternc::rt::GgufTensorInfo;

static Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg.str());
}

Expected<ModelDescription> ternc::importGguf(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buf =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buf)
    return fail(path + ": cannot read: " + buf.getError().message());
  auto store = std::make_unique<MappedStore>();
  store->description = path.str();
  store->files.push_back(std::move(*buf));
  const MemoryBuffer &mb = *store->files.back();
  std::string error;
  std::optional<GgufFile> gguf =
      GgufFile::parse(mb.getBufferStart(), mb.getBufferSize(), path, &error);
  if (!gguf)
    return fail(error);

  auto str = [&](StringRef key) -> std::optional<std::string> {
    if (const auto *v = gguf->find(key))
      if (auto s = v->asString())
        return std::string(*s);
    return std::nullopt;
  };
  std::optional<std::string> arch = str("general.architecture");
  if (!arch)
    return fail(path + ": no general.architecture key");
  ModelDescription md;
  md.path = path.str();
  md.format = "GGUF";
  md.architecture = *arch;
  if (*arch == "bitnet-b1.58" || *arch == "bitnet-25") {
    md.gate = GateActivation::ReLU2;
    md.rope = RopeKind::HalfSplit;
  } else if (*arch == "bitnet") {
    md.gate = GateActivation::SiLU;
    md.rope = RopeKind::HalfSplit;
  } else if (*arch == "llama") {
    md.gate = GateActivation::SiLU;
    md.rope = RopeKind::Interleaved;
  } else {
    return fail(formatv("{0}: unsupported architecture '{1}' (supported: "
                        "bitnet-b1.58, bitnet-25, bitnet, llama)",
                        path, *arch));
  }

  auto integer = [&](StringRef suffix, bool required,
                     int64_t fallback) -> Expected<int64_t> {
    std::string key = *arch + "." + suffix.str();
    const auto *v = gguf->find(key);
    if (!v) {
      if (required)
        return fail(formatv("{0}: missing metadata key '{1}'", path, key));
      return fallback;
    }
    std::optional<int64_t> x = v->asSigned();
    if (!x || *x < 1 || *x > (int64_t(1) << 31))
      return fail(formatv("{0}: metadata key '{1}' at offset {2} must be a "
                          "positive integer below 2^31",
                          path, key, v->offset));
    return *x;
  };
  auto real = [&](StringRef suffix, float fallback) -> Expected<float> {
    std::string key = *arch + "." + suffix.str();
    const auto *v = gguf->find(key);
    if (!v)
      return fallback;
    std::optional<double> x = v->asFloat();
    if (!x || !(*x > 0) || *x > 1e12)
      return fail(formatv("{0}: metadata key '{1}' at offset {2} must be a "
                          "positive number",
                          path, key, v->offset));
    return float(*x);
  };
  if (Error e = firstError(
          assignOr(md.dim, integer("embedding_length", true, 0)),
          assignOr(md.hiddenDim, integer("feed_forward_length", true, 0)),
          assignOr(md.layers, integer("block_count", true, 0)),
          assignOr(md.heads, integer("attention.head_count", true, 0)),
          assignOr(md.context, integer("context_length", false, 4096)),
          assignOr(md.normEps, real("attention.layer_norm_rms_epsilon", 1e-5f)),
          assignOr(md.ropeTheta, real("rope.freq_base", 10000.0f))))
    return std::move(e);
  // Arguments are evaluated in no set order: the KV heads default to the
  // heads, so they are read after them.
  if (Error e = assignOr(md.kvHeads,
                         integer("attention.head_count_kv", false, md.heads)))
    return std::move(e);

  // Tensors by name, each checked against the file.
  auto mapped = [&](const GgufTensorInfo &t) -> Expected<MappedTensor> {
    MappedTensor m;
    m.name = std::string(t.name);
    for (auto it = t.ne.rbegin(); it != t.ne.rend(); ++it)
      m.shape.push_back(int64_t(*it));
    switch (t.type) {
    case rt::ggml::F32:
      m.encoding = Encoding::F32;
      break;
    case rt::ggml::F16:
      m.encoding = Encoding::F16;
      break;
    case rt::ggml::BF16:
      m.encoding = Encoding::BF16;
      break;
    case rt::ggml::Q8_0:
      m.encoding = Encoding::Q8_0;
      break;
    case rt::ggml::TQ1_0:
      m.encoding = Encoding::TQ1_0;
      break;
    case rt::ggml::TQ2_0:
      m.encoding = Encoding::TQ2_0;
      break;
    case rt::ggml::I2_S:
      m.encoding = Encoding::I2_S;
      break;
    default:
      return fail(formatv("{0}: tensor '{1}' (info at offset {2}): "
                          "{3} tensors are not supported",
                          path, t.name, t.infoOffset,
                          rt::ggmlTypeName(t.type)));
    }
    Expected<uint64_t> bytes = encodedBytes(
        m.encoding, m.shape, formatv("{0}: tensor '{1}'", path, t.name).str());
    if (!bytes)
      return bytes.takeError();
    if (t.dataOffset > mb.getBufferSize() ||
        *bytes > mb.getBufferSize() - t.dataOffset)
      return fail(formatv("{0}: tensor '{1}': {2} bytes at offset {3} run "
                          "past the end of the {4}-byte file",
                          path, t.name, *bytes, t.dataOffset,
                          mb.getBufferSize()));
    m.data = gguf->tensorData(t);
    m.bytes = *bytes;
    m.offset = t.dataOffset;
    return m;
  };
  auto need = [&](const std::string &name,
                  bool required) -> Expected<const GgufTensorInfo *> {
    const GgufTensorInfo *t = gguf->findTensor(name);
    if (!t && required)
      return fail(formatv("{0}: missing tensor '{1}'", path, name));
    return t;
  };
  auto addDense = [&](const std::string &name, std::vector<int64_t> shape,
                      bool required) -> Expected<std::string> {
    auto t = need(name, required);
    if (!t)
      return t.takeError();
    if (!*t)
      return std::string();
    auto m = mapped(**t);
    if (!m)
      return m.takeError();
    if (m->shape != shape)
      return fail(formatv("{0}: tensor '{1}' has the wrong shape for a {2}-"
                          "dim model",
                          path, name, md.dim));
    store->denseTensors[name] = std::move(*m);
    return name;
  };
  auto addTernary = [&](const std::string &name, int64_t rows,
                        int64_t cols) -> Expected<std::string> {
    auto t = need(name, true);
    if (!t)
      return t.takeError();
    auto m = mapped(**t);
    if (!m)
      return m.takeError();
    if (m->shape != std::vector<int64_t>{rows, cols})
      return fail(
          formatv("{0}: tensor '{1}' is not {2}x{3}", path, name, rows, cols));
    MappedTernary tern;
    tern.codes = std::move(*m);
    tern.floatMode = FloatTernary::Exact;
    store->ternaries[name] = std::move(tern);
    return name;
  };

  // The vocabulary size is the embedding's row count.
  const GgufTensorInfo *embd = gguf->findTensor("token_embd.weight");
  if (!embd)
    return fail(path + ": missing tensor 'token_embd.weight'");
  if (embd->ne.size() != 2)
    return fail(path + ": token_embd.weight must be 2-D");
  md.vocab = int64_t(embd->ne[1]);
  if (md.dim % md.heads || md.heads % md.kvHeads || (md.dim / md.heads) % 2)
    return fail(formatv("{0}: embedding_length {1}, head_count {2}, "
                        "head_count_kv {3} do not form even-sized heads",
                        path, md.dim, md.heads, md.kvHeads));
  TensorNaming naming;
  naming.embedding = "token_embd.weight";
  naming.finalNorm = "output_norm.weight";
  naming.head = "output.weight"; // absent when tied
  naming.subNorms = *arch != "llama";
  naming.layer = [](int64_t l, StringRef role) {
    StringRef name = StringSwitch<StringRef>(role)
                         .Case("wq", "attn_q")
                         .Case("wk", "attn_k")
                         .Case("wv", "attn_v")
                         .Case("wo", "attn_output")
                         .Case("gate", "ffn_gate")
                         .Case("up", "ffn_up")
                         .Case("down", "ffn_down")
                         .Default(role); // the norms keep their role names
    return formatv("blk.{0}.{1}.weight", l, name).str();
  };
  if (Error e = collectTensors(md, naming, addDense, addTernary))
    return std::move(e);

  if (const auto *v = gguf->find("tokenizer.ggml.bos_token_id"))
    if (auto x = v->asSigned())
      md.bos = int32_t(*x);
  if (const auto *v = gguf->find("tokenizer.ggml.eos_token_id"))
    if (auto x = v->asSigned())
      md.eos = int32_t(*x);
  if (gguf->find("tokenizer.ggml.tokens"))
    md.tokenizerPath = path.str();
  md.scheme = LinearScheme::BitNet;
  md.store = std::move(store);
  return std::move(md);
}
