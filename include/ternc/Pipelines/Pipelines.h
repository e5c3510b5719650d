//===- Pipelines.h - the ternc pass pipelines -------------------*- C++ -*-===//
//
// Pipelines are C++ builder functions, so the driver and tern-opt run the
// very same sequence; registerTernPipelines() names them for tern-opt.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_PIPELINES_PIPELINES_H
#define TERNC_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::tern {

struct TernPipelineOptions : public PassPipelineOptions<TernPipelineOptions> {
  Option<int64_t> chunk{*this, "chunk",
                        llvm::cl::desc("weights per interleaved chunk (0: "
                                       "derive from the target)"),
                        llvm::cl::init(0)};
  Option<std::string> kernel{
      *this, "kernel",
      llvm::cl::desc("kernel family: auto (the cost model), dot, lut, lut3, "
                     "lut4, lut5 or portable"),
      llvm::cl::init("auto")};
};

/// Target-specific tern-to-tern steps: layout selection, blob layout.
/// After these the module says everything the weight blob writer needs.
void buildTernTransformPipeline(OpPassManager &pm,
                                const TernPipelineOptions &options);

/// From tern ops to the LLVM dialect, ready for translation.
/// `mcaMarkers`: mark kernel loops for llvm-mca (cost estimates only).
void buildTernLoweringPipeline(OpPassManager &pm, bool mcaMarkers = false);

/// Both of the above: `tern-compile` in tern-opt.
void buildTernCompilePipeline(OpPassManager &pm,
                              const TernPipelineOptions &options);

/// Registers `tern-transform`, `tern-lower` and `tern-compile`.
void registerTernPipelines();

} // namespace mlir::tern

#endif // TERNC_PIPELINES_PIPELINES_H
