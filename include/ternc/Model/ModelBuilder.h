//===- ModelBuilder.h - ModelDescription -> tern IR --------------*- C++
//-*-===//
//
// Builds the whole model as a module of tern ops with two entry points that
// the runtime calls (see runtime/include/ternc/abi.h):
//
//   ternc_decode(token: i32, pos: index, kcache, vcache, scratch, logits)
//   ternc_prefill(tokens: memref<Pxi32>, n: index, pos: index, kcache,
//                 vcache, scratch, logits)
//
// kcache: f32 [layers, ceil(context / 16), kv_dim, 16] (tiles of 16
// positions, see tern.attention); vcache: f32 [layers, context, kv_dim];
// scratch: bytes the runtime
// allocates (ternc_config gives the size); logits: f32 [1, vocab] of the last
// token. Weights are tern.weight / tern.param declarations by name.
// With a screened head (BuildOptions::screenHead), also
//
//   ternc_head_screen(x: memref<1xDxf32>, scores: memref<1xVxf32>), or
//   ternc_head_screen_int8(xq: memref<2xDxi8>, xs: memref<2xf32>,
//                          scores: memref<2xVxf32>) (BuildOptions::screenInt8)
//   ternc_head_rows(x, rows: memref<Vxi32>, n: index, out: memref<1xVxf32>)
//   ternc_head_bounds() -> memref<2Vxf32>
//
// and ternc_decode and ternc_prefill skip the head (not the final norm) for
// a null logits.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_MODEL_MODELBUILDER_H
#define TERNC_MODEL_MODELBUILDER_H

#include "ternc/Import/ModelDescription.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace ternc {

struct BuildOptions {
  /// Tokens per prefill call (P).
  int64_t prefillTokens = 16;
  /// KV-cache length; 0 means the model's own context.
  int64_t context = 0;
  /// Quantize the LM head to int8 with per-row scales instead of keeping the
  /// checkpoint's precision (fewer bytes per token, slightly other logits).
  bool int8Head = false;
  /// With a native LM head, add an int8 copy with per-row error bounds and
  /// the entry points that screen the head's rows with it (the same logits
  /// for the rows a sampler keeps, a third of the bytes read).
  bool screenHead = false;
  /// The screening copy's input quantized to int8 in two parts (by the
  /// runtime) and its sums exact in i32, for targets with an int8 dot
  /// product; else f32.
  bool screenInt8 = false;
};

/// Entries of the `ternc_config` i64 array the module exports.
enum ConfigIndex : int {
  kConfigVersion = 0,
  kConfigDim,
  kConfigLayers,
  kConfigKvDim,
  kConfigContext,
  kConfigVocab,
  kConfigPrefillTokens,
  kConfigScratchBytes,
  kConfigBos,
  kConfigEos,
  kConfigHeadInput,
  kConfigHeadRowBytes,
  kConfigPrefillHeadInput,
  kConfigCount = 16,
};
inline constexpr int64_t kConfigFormatVersion = 2;

/// Adds the serialized tokenizer the runtime decodes (`ternc_tokenizer`,
/// `ternc_tokenizer_size`).
void attachTokenizer(mlir::ModuleOp module, llvm::StringRef serialized);

llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
buildModel(mlir::MLIRContext *ctx, const ModelDescription &model,
           const BuildOptions &options);

} // namespace ternc

#endif // TERNC_MODEL_MODELBUILDER_H
