//===- HuggingFace.cpp - Hugging Face checkpoint directories --------------===//
//
// config.json + model.safetensors (or shards listed in
// model.safetensors.index.json) + tokenizer.json. Ternary linears are either
// packed (U8 [out/4, in] row blocks with a weight_scale whose meaning
// depends on quantization_config.linear_class) or float master weights
// quantized here with the absmean rule (quantization_mode "online", or no
// quantization_config at all).
//
//===----------------------------------------------------------------------===//

#include "ternc/Import/MappedStore.h"
#include "ternc/Import/ModelDescription.h"
#include "ternc/Import/Safetensors.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

using namespace llvm;
using namespace ternc;

static Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg.str());
}

static Expected<json::Value> readJson(StringRef path) {
  auto buf = MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buf)
    return fail(path + ": cannot read: " + buf.getError().message());
  Expected<json::Value> v = json::parse((*buf)->getBuffer());
  if (!v)
    return fail(path + ": invalid JSON: " + toString(v.takeError()));
  return v;
}

static std::optional<Encoding> encodingOf(DType d) {
  switch (d) {
  case DType::F32:
    return Encoding::F32;
  case DType::F16:
    return Encoding::F16;
  case DType::BF16:
    return Encoding::BF16;
  case DType::U8:
    return Encoding::HfRowBlock;
  default:
    return std::nullopt;
  }
}

Expected<ModelDescription> ternc::importHuggingFace(StringRef dir) {
  SmallString<256> configPath(dir);
  sys::path::append(configPath, "config.json");
  Expected<json::Value> configValue = readJson(configPath);
  if (!configValue)
    return configValue.takeError();
  const json::Object *config = configValue->getAsObject();
  if (!config)
    return fail(configPath + ": not a JSON object");

  ModelDescription md;
  md.path = dir.str();
  md.format = "Hugging Face";
  std::string arch;
  if (const json::Array *a = config->getArray("architectures"))
    if (!a->empty())
      if (auto s = (*a)[0].getAsString())
        arch = s->str();
  md.architecture = arch;
  bool subNorms;
  std::string attnSub, ffnSub;
  if (arch == "BitNetForCausalLM") { // 2B4T
    subNorms = true;
    attnSub = "self_attn.attn_sub_norm";
    ffnSub = "mlp.ffn_sub_norm";
  } else if (arch == "BitnetForCausalLM") { // 1bitLLM
    subNorms = true;
    attnSub = "self_attn.inner_attn_ln";
    ffnSub = "mlp.ffn_layernorm";
  } else if (arch == "LlamaForCausalLM") {
    subNorms = false;
  } else {
    return fail(formatv("{0}: unsupported architecture '{1}' (supported: "
                        "BitNetForCausalLM, BitnetForCausalLM, "
                        "LlamaForCausalLM)",
                        configPath, arch));
  }

  auto integer = [&](StringRef key,
                     std::optional<int64_t> fallback) -> Expected<int64_t> {
    std::optional<int64_t> v = config->getInteger(key);
    if (!v) {
      if (fallback)
        return *fallback;
      return fail(formatv("{0}: missing integer '{1}'", configPath, key));
    }
    if (*v < 1 || *v > (int64_t(1) << 31))
      return fail(
          formatv("{0}: '{1}' = {2} is out of range", configPath, key, *v));
    return *v;
  };
  if (Error e = firstError(
          assignOr(md.dim, integer("hidden_size", std::nullopt)),
          assignOr(md.hiddenDim, integer("intermediate_size", std::nullopt)),
          assignOr(md.layers, integer("num_hidden_layers", std::nullopt)),
          assignOr(md.heads, integer("num_attention_heads", std::nullopt)),
          assignOr(md.vocab, integer("vocab_size", std::nullopt)),
          assignOr(md.context,
                   integer("max_position_embeddings", int64_t(2048)))))
    return std::move(e);
  // Arguments are evaluated in no set order: the KV heads default to the
  // heads, so they are read after them.
  if (Error e = assignOr(md.kvHeads, integer("num_key_value_heads", md.heads)))
    return std::move(e);
  md.normEps = float(config->getNumber("rms_norm_eps").value_or(1e-6));
  md.ropeTheta = float(config->getNumber("rope_theta").value_or(10000.0));
  if (!(md.normEps >= 0) || !(md.ropeTheta > 0))
    return fail(configPath + ": rms_norm_eps and rope_theta must be positive");
  std::string act = config->getString("hidden_act").value_or("silu").str();
  if (act == "relu2")
    md.gate = GateActivation::ReLU2;
  else if (act == "silu")
    md.gate = GateActivation::SiLU;
  else
    return fail(formatv("{0}: unsupported hidden_act '{1}' (relu2, silu)",
                        configPath, act));
  md.rope = RopeKind::HalfSplit;
  md.scheme = LinearScheme::BitNet;
  bool tied = config->getBoolean("tie_word_embeddings").value_or(false);
  if (auto b = config->getInteger("bos_token_id"))
    md.bos = int32_t(*b);
  if (auto e = config->getInteger("eos_token_id"))
    md.eos = int32_t(*e);
  else if (const json::Array *list = config->getArray("eos_token_id"))
    if (!list->empty())
      if (auto first = (*list)[0].getAsInteger()) // e.g. Llama 3's list
        md.eos = int32_t(*first);
  if (md.dim % md.heads || md.heads % md.kvHeads || (md.dim / md.heads) % 2)
    return fail(formatv("{0}: hidden_size {1}, {2} heads, {3} KV heads do "
                        "not form even-sized heads",
                        configPath, md.dim, md.heads, md.kvHeads));

  // quantization_config: packed ("offline") or master weights ("online").
  bool inverseScale = true; // `bitlinear` is the default linear class
  bool packedExpected = false;
  if (const json::Object *qc = config->getObject("quantization_config")) {
    std::string cls = qc->getString("linear_class").value_or("bitlinear").str();
    if (cls == "autobitlinear")
      inverseScale = false;
    else if (cls != "bitlinear")
      return fail(
          formatv("{0}: unsupported linear_class '{1}'", configPath, cls));
    packedExpected =
        qc->getString("quantization_mode").value_or("offline") != "online";
    if (qc->getBoolean("use_rms_norm").value_or(false))
      return fail(configPath + ": use_rms_norm (Falcon-E) is not supported "
                               "yet");
  }

  // Safetensors files: one, or the shards an index names.
  auto store = std::make_unique<MappedStore>();
  store->description = dir.str();
  std::vector<std::unique_ptr<SafetensorsFile>> files;
  std::map<std::string, std::pair<unsigned, const SafetensorsTensor *>> index;
  SmallString<256> single(dir), indexPath(dir);
  sys::path::append(single, "model.safetensors");
  sys::path::append(indexPath, "model.safetensors.index.json");
  std::vector<std::string> shardNames;
  if (sys::fs::exists(single)) {
    shardNames.push_back("model.safetensors");
  } else if (sys::fs::exists(indexPath)) {
    Expected<json::Value> idx = readJson(indexPath);
    if (!idx)
      return idx.takeError();
    const json::Object *wm = idx->getAsObject()
                                 ? idx->getAsObject()->getObject("weight_map")
                                 : nullptr;
    if (!wm)
      return fail(indexPath + ": no weight_map object");
    StringSet<> seen;
    for (const auto &kv : *wm) {
      auto s = kv.second.getAsString();
      if (!s || s->contains('/') || s->contains('\\'))
        return fail(formatv("{0}: weight_map entry '{1}' is not a file name "
                            "in this directory",
                            indexPath, kv.first.str()));
      if (seen.insert(*s).second)
        shardNames.push_back(s->str());
    }
    std::sort(shardNames.begin(), shardNames.end());
  } else {
    return fail(formatv("{0}: no model.safetensors or "
                        "model.safetensors.index.json",
                        dir));
  }
  for (const std::string &name : shardNames) {
    SmallString<256> p(dir);
    sys::path::append(p, name);
    auto f = SafetensorsFile::open(p);
    if (!f)
      return f.takeError();
    for (const auto &kv : (*f)->tensors()) {
      if (index.count(kv.first))
        return fail(
            formatv("{0}: tensor '{1}' appears in two shards", dir, kv.first));
      index[kv.first] = {unsigned(files.size()), &kv.second};
    }
    files.push_back(std::move(*f));
  }

  auto mapped = [&](const std::string &name,
                    bool required) -> Expected<std::optional<MappedTensor>> {
    auto it = index.find(name);
    if (it == index.end()) {
      if (required)
        return fail(formatv("{0}: missing tensor '{1}'", dir, name));
      return std::nullopt;
    }
    const SafetensorsTensor &t = *it->second.second;
    std::optional<Encoding> enc = encodingOf(t.dtype);
    if (!enc)
      return fail(formatv("{0}: tensor '{1}': unsupported dtype {2}",
                          files[it->second.first]->path(), name,
                          dtypeName(t.dtype)));
    MappedTensor m;
    m.name = name;
    m.file = it->second.first;
    m.encoding = *enc;
    m.shape = t.shape;
    m.data = t.data.data();
    m.bytes = t.data.size();
    return std::optional<MappedTensor>(std::move(m));
  };
  auto addDense = [&](const std::string &name, std::vector<int64_t> shape,
                      bool required) -> Expected<std::string> {
    auto m = mapped(name, required);
    if (!m)
      return m.takeError();
    if (!*m)
      return std::string();
    if ((*m)->encoding == Encoding::HfRowBlock || (*m)->shape != shape)
      return fail(
          formatv("{0}: tensor '{1}' has the wrong dtype or shape", dir, name));
    store->denseTensors[name] = std::move(**m);
    return name;
  };
  auto addTernary = [&](const std::string &prefix, int64_t rows,
                        int64_t cols) -> Expected<std::string> {
    std::string name = prefix + ".weight";
    auto m = mapped(name, true);
    if (!m)
      return m.takeError();
    MappedTernary t;
    t.codes = std::move(**m);
    if (t.codes.encoding == Encoding::HfRowBlock) {
      if (t.codes.shape != std::vector<int64_t>{rows / 4, cols} || rows % 4)
        return fail(formatv("{0}: packed tensor '{1}' must be U8 [{2}, {3}] "
                            "for a {4}x{3} matrix",
                            dir, name, rows / 4, cols, rows));
      t.codes.shape = {rows, cols};
      auto s = mapped(prefix + ".weight_scale", true);
      if (!s)
        return s.takeError();
      if ((*s)->encoding == Encoding::HfRowBlock ||
          ((*s)->shape != std::vector<int64_t>{1} && !(*s)->shape.empty()))
        return fail(formatv("{0}: '{1}.weight_scale' must hold one float", dir,
                            prefix));
      t.scale = std::move(**s);
      t.inverseScale = inverseScale;
    } else {
      if (packedExpected)
        return fail(formatv("{0}: tensor '{1}' is {2}, but "
                            "quantization_mode says the weights are packed",
                            dir, name, encodingName(t.codes.encoding)));
      if (t.codes.shape != std::vector<int64_t>{rows, cols})
        return fail(
            formatv("{0}: tensor '{1}' is not {2}x{3}", dir, name, rows, cols));
      t.floatMode = FloatTernary::AbsMean;
    }
    store->ternaries[name] = std::move(t);
    return name;
  };

  TensorNaming naming;
  naming.embedding = "model.embed_tokens.weight";
  naming.finalNorm = "model.norm.weight";
  naming.head = "lm_head.weight";
  naming.headRequired = !tied;
  naming.subNorms = subNorms;
  naming.layer = [&](int64_t l, StringRef role) {
    std::string name = StringSwitch<std::string>(role)
                           .Case("wq", "self_attn.q_proj")
                           .Case("wk", "self_attn.k_proj")
                           .Case("wv", "self_attn.v_proj")
                           .Case("wo", "self_attn.o_proj")
                           .Case("gate", "mlp.gate_proj")
                           .Case("up", "mlp.up_proj")
                           .Case("down", "mlp.down_proj")
                           .Case("attn_norm", "input_layernorm")
                           .Case("ffn_norm", "post_attention_layernorm")
                           .Case("attn_sub_norm", attnSub)
                           .Default(ffnSub);
    return formatv("model.layers.{0}.{1}.weight", l, name).str();
  };
  // Packed linears are registered by prefix (for their weight_scale).
  auto addLinear = [&](const std::string &name, int64_t rows,
                       int64_t cols) -> Expected<std::string> {
    return addTernary(StringRef(name).drop_back(strlen(".weight")).str(), rows,
                      cols);
  };
  if (Error e = collectTensors(md, naming, addDense, addLinear))
    return std::move(e);

  // The store keeps the safetensors mappings alive.
  for (auto &file : files)
    store->owned.push_back(std::move(file));
  SmallString<256> tok(dir);
  sys::path::append(tok, "tokenizer.json");
  if (sys::fs::exists(tok))
    md.tokenizerPath = tok.str().str();
  md.store = std::move(store);
  return std::move(md);
}
