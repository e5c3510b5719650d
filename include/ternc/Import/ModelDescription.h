//===- ModelDescription.h - one description every importer fills -*- C++
//-*-===//
//
// The canonical model: hyper-parameters, the architecture variant as
// explicit fields, and weights by name in a WeightStore. Importers of every
// format fill it; the model builder reads nothing else. No MLIR here.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_IMPORT_MODELDESCRIPTION_H
#define TERNC_IMPORT_MODELDESCRIPTION_H

#include "ternc/Import/WeightStore.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ternc {

enum class GateActivation { SiLU, ReLU2 };
enum class RopeKind { HalfSplit, Interleaved };

/// How BitLinear inputs are normalised and quantized.
enum class LinearScheme {
  /// BitNet b1.58 (2B4T, 1bitLLM, bitnet.cpp): absmax per token,
  /// `s = 127/max(absmax, 1e-5)`, round half to even, clamp to int8,
  /// `y = (acc / s) * w_scale`; norms are separate, weighted layers.
  BitNet,
  /// bitllama2.c: each BitLinear normalises its input itself (no weight),
  /// then quantizes with the reciprocal of `absmax / 127`, rounding half
  /// away from zero, `y = acc * (w_scale * a)`.
  BitLlama2c,
};

struct LayerNames {
  std::string wq, wk, wv, wo;
  std::string gate, up, down;
  /// Weighted norms; empty when the architecture has none.
  std::string attnNorm, ffnNorm, attnSubNorm, ffnSubNorm;
};

struct ModelDescription {
  /// Where the model came from and what it is, for messages.
  std::string path, format, architecture;

  int64_t dim = 0, hiddenDim = 0, layers = 0, heads = 0, kvHeads = 0;
  int64_t vocab = 0, context = 0;
  int64_t headDim() const { return heads ? dim / heads : 0; }
  int64_t kvDim() const { return kvHeads * headDim(); }

  float normEps = 1e-5f;
  float ropeTheta = 10000.0f;
  RopeKind rope = RopeKind::HalfSplit;
  GateActivation gate = GateActivation::SiLU;
  LinearScheme scheme = LinearScheme::BitNet;

  std::string embedding, finalNorm;
  /// The LM head; equal to `embedding` when tied.
  std::string head;
  std::vector<LayerNames> layerNames;

  int32_t bos = 1;
  /// The token that ends generation.
  int32_t eos = 2;

  /// Where the tokenizer is (a file the runtime tokenizer loaders read:
  /// tokenizer.bin, GGUF, tokenizer.json, tiktoken), empty if none.
  std::string tokenizerPath;

  std::unique_ptr<WeightStore> store;

  /// Checks internal consistency (dimensions divide, names present).
  llvm::Error validate() const;
};

/// Stores `value` in `slot`, or returns its error: importers read many
/// checked fields in a row.
template <typename T, typename U>
llvm::Error assignOr(T &slot, llvm::Expected<U> value) {
  if (!value)
    return value.takeError();
  slot = *value;
  return llvm::Error::success();
}

/// The first failure of several assignOr calls (the others are dropped).
template <typename... Errors> llvm::Error firstError(Errors... errors) {
  llvm::Error first = llvm::Error::success();
  auto keep = [&](llvm::Error e) {
    if (!first && e)
      first = std::move(e);
    else
      llvm::consumeError(std::move(e));
  };
  (keep(std::move(errors)), ...);
  return first;
}

/// How a checkpoint names the tensors of a Llama-family model.
struct TensorNaming {
  std::string embedding, finalNorm, head;
  /// The name of a layer tensor; roles: wq wk wv wo gate up down attn_norm
  /// ffn_norm attn_sub_norm ffn_sub_norm.
  std::function<std::string(int64_t layer, llvm::StringRef role)> layer;
  bool headRequired = false;
  bool subNorms = false;
};
using AddDenseFn = llvm::function_ref<llvm::Expected<std::string>(
    const std::string &name, std::vector<int64_t> shape, bool required)>;
using AddTernaryFn = llvm::function_ref<llvm::Expected<std::string>(
    const std::string &name, int64_t rows, int64_t cols)>;

/// Fills md's tensor names (embedding, norms, head, every layer) by
/// registering each tensor through the importer's callbacks, which check it
/// and return the store name ("" for an absent optional tensor).
llvm::Error collectTensors(ModelDescription &md, const TensorNaming &naming,
                           AddDenseFn addDense, AddTernaryFn addTernary);

/// Reads a bitllama2.c ("ak42") checkpoint; its tokenizer is `tokenizer.bin`
/// beside it unless given.
llvm::Expected<ModelDescription> importBitLlama2c(llvm::StringRef path);

/// Reads a GGUF file (bitnet-b1.58, bitnet-25, bitnet, llama).
llvm::Expected<ModelDescription> importGguf(llvm::StringRef path);

/// Reads a Hugging Face directory (config.json + safetensors).
llvm::Expected<ModelDescription> importHuggingFace(llvm::StringRef dir);

/// Reads any supported checkpoint, choosing the importer by content.
llvm::Expected<ModelDescription> importCheckpoint(llvm::StringRef path);

} // namespace ternc

#endif // TERNC_IMPORT_MODELDESCRIPTION_H
