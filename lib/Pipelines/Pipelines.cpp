//===- Pipelines.cpp - the ternc pass pipelines ---------------------------===//

#include "ternc/Pipelines/Pipelines.h"
#include "ternc/Conversion/Passes.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void tern::buildTernTransformPipeline(OpPassManager &pm,
                                      const TernPipelineOptions &options) {
  pm.addNestedPass<func::FuncOp>(createTernFuseLinears());
  pm.addNestedPass<func::FuncOp>(createTernFuseNormQuantize());
  pm.addNestedPass<func::FuncOp>(createTernFuseEpilogues());
  pm.addNestedPass<func::FuncOp>(createTernShareRopeTables());
  TernSelectLayoutOptions layout;
  layout.chunk = options.chunk;
  layout.kernel = options.kernel;
  pm.addPass(createTernSelectLayout(layout));
  pm.addPass(createTernPackWeights());
}

void tern::buildTernLoweringPipeline(OpPassManager &pm, bool mcaMarkers) {
  ConvertTernToVectorOptions toVector;
  toVector.mcaMarkers = mcaMarkers;
  pm.addPass(createConvertTernToVector(toVector));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createTernOutlineParallel());
  pm.addPass(createConvertTernToLLVM());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  // Subviews (KV-cache slices) become explicit offset arithmetic first.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  // Static shapes only: entry points take plain pointers, which is the C ABI
  // the runtime calls (see runtime/include/ternc/abi.h).
  ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(func));
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void tern::buildTernCompilePipeline(OpPassManager &pm,
                                    const TernPipelineOptions &options) {
  buildTernTransformPipeline(pm, options);
  buildTernLoweringPipeline(pm, /*mcaMarkers=*/false);
}

void tern::registerTernPipelines() {
  PassPipelineRegistration<TernPipelineOptions>(
      "tern-transform",
      "tern-to-tern steps (fusion, layout selection, blob layout)",
      buildTernTransformPipeline);
  PassPipelineRegistration<>(
      "tern-lower", "Lower tern ops through vector to the LLVM dialect",
      [](OpPassManager &pm) { buildTernLoweringPipeline(pm); });
  PassPipelineRegistration<TernPipelineOptions>(
      "tern-compile", "tern-transform followed by tern-lower",
      buildTernCompilePipeline);
}
