//===- Report.cpp - what ternc chose, and what it should cost -------------===//
//
// The cycle estimate compiles one kernel (a tern.linear of one row with the
// interleaved<B> layout the module uses) with llvm-mca region markers around
// one token's pass, for one and for two chunks of B weights, and asks
// llvm-mca for the cycles of that region on the target CPU: the difference
// is a chunk, the rest the per-row cost. For lut<R> the region is one step
// of the loop (an index vector: 4 weights x R rows), the per-row epilogue
// left out. These are LLVM scheduling-model figures, not measurements.
//
//===----------------------------------------------------------------------===//

#include "ternc/Target/Report.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"
#include "ternc/Pipelines/Pipelines.h"
#include "ternc/Target/ObjectEmitter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <map>

using namespace llvm;
using namespace mlir;
using namespace mlir::tern;

static Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg.str());
}

/// Cycles of one token's pass of a kernel over a weight of `type` (one row
/// of interleaved<B>, one block of R rows of lut<R> or lut5<R>), by
/// llvm-mca. Few
/// steps unroll fully, so the marked region is straight-line code, which
/// is what llvm-mca models.
static Expected<double> kernelCycles(MLIRContext *ctx,
                                     const ternc::TargetInfo &target,
                                     TernaryType type) {
  const int64_t k = type.getCols(), n = type.getRows();
  OpBuilder b(ctx);
  Location loc = UnknownLoc::get(ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  (*module)->setAttr(TargetAttr::kModuleAttrName, target.toAttr(ctx));
  b.setInsertionPointToEnd(module->getBody());
  b.create<WeightOp>(loc, b.getStringAttr("w"), TypeAttr::get(type),
                     b.getStringAttr("w"), b.getI64IntegerAttr(0));
  (*module)->setAttr(kWeightsSizeAttrName,
                     b.getI64IntegerAttr(type.getPackedBytes()));
  auto q = MemRefType::get({1, k}, b.getI8Type());
  auto s = MemRefType::get({1}, b.getF32Type());
  auto y = MemRefType::get({1, n}, b.getF32Type());
  auto fn =
      b.create<func::FuncOp>(loc, "kernel", b.getFunctionType({q, s, y}, {}));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  b.create<LinearOp>(loc, QuantSchemeAttr::get(ctx, QuantScheme::BitNet),
                     FlatSymbolRefAttr::get(ctx, "w"), entry->getArgument(0),
                     entry->getArgument(1), entry->getArgument(2));
  b.create<func::ReturnOp>(loc);

  mlir::PassManager pm(ctx);
  buildTernLoweringPipeline(pm, /*mcaMarkers=*/true);
  if (failed(pm.run(*module)))
    return fail("cannot lower the cost-model kernel");
  SmallString<0> assembly;
  raw_svector_ostream os(assembly);
  if (Error e =
          ternc::emitModule(*module, target, ternc::EmitKind::Assembly, 3, os))
    return std::move(e);

  SmallString<128> asmPath, outPath;
  if (std::error_code ec =
          sys::fs::createTemporaryFile("ternc-mca", "s", asmPath))
    return fail("cannot create a temporary file: " + ec.message());
  if (std::error_code ec =
          sys::fs::createTemporaryFile("ternc-mca", "txt", outPath))
    return fail("cannot create a temporary file: " + ec.message());
  auto cleanup = [&] {
    sys::fs::remove(asmPath);
    sys::fs::remove(outPath);
  };
  {
    // The AArch64 printer respells the markers' comments as "//", which
    // llvm-mca 19 does not take for markers there; "#" it does.
    std::string text = assembly.str().str();
    for (size_t at = 0;
         (at = text.find("// LLVM-MCA-", at)) != std::string::npos;)
      text.replace(at, 2, "#");
    std::error_code ec;
    raw_fd_ostream f(asmPath, ec);
    f << text;
  }
  ErrorOr<std::string> mca = sys::findProgramByName("llvm-mca-19");
  if (!mca)
    mca = sys::findProgramByName("llvm-mca", {"/usr/lib/llvm-19/bin"});
  if (!mca) {
    cleanup();
    return fail("llvm-mca is not installed (Debian package llvm-19)");
  }
  std::string tripleArg = "-mtriple=" + target.triple;
  std::string cpuArg = "-mcpu=" + target.cpu;
  std::string attrArg = "-mattr=" + target.features;
  SmallVector<StringRef> args = {*mca, tripleArg, cpuArg, "-iterations=100",
                                 asmPath};
  if (!target.features.empty())
    args.insert(args.begin() + 3, attrArg);
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(outPath),
                                          StringRef(outPath)};
  int rc = sys::ExecuteAndWait(*mca, args, std::nullopt, redirects);
  auto text = MemoryBuffer::getFile(outPath);
  cleanup();
  if (rc != 0 || !text)
    return fail("llvm-mca failed on the cost-model kernel");
  // The marked region's "Iterations:" and "Total Cycles:" lines.
  StringRef out = (*text)->getBuffer();
  size_t region = out.find("tern_chunk");
  if (region == StringRef::npos)
    return fail("llvm-mca found no tern_chunk region");
  out = out.drop_front(region);
  double iterations = 0, cycles = 0;
  for (StringRef line : llvm::split(out, '\n')) {
    line = line.trim();
    if (line.consume_front("Iterations:") && iterations == 0)
      line.trim().getAsDouble(iterations);
    else if (line.consume_front("Total Cycles:") && cycles == 0)
      line.trim().getAsDouble(cycles);
  }
  if (iterations <= 0 || cycles <= 0)
    return fail("cannot read llvm-mca's cycle count");
  return cycles / iterations;
}

Error ternc::printReport(ModuleOp module, const TargetInfo &target,
                         const Board *board, raw_ostream &os) {
  MLIRContext *ctx = module.getContext();
  os << "ternc report for " << target.describe() << "\n";
  if (board)
    os << formatv("board {0}: {1}; {2} GHz, {3} GB/s DRAM read bandwidth "
                  "(published/typical figures)\n",
                  board->name, board->description, board->ghz,
                  board->bandwidthGBs);
  os << "cycles are ESTIMATES from LLVM's scheduling model (llvm-mca) for "
     << target.cpu << ", not measurements\n\n";

  // Per layout: cycles of the fixed part of a unit (a row of
  // interleaved<B>, a block of R rows of lut<R>) and of each step (a chunk
  // of B weights of one row; an index vector of 4 weights of R rows).
  struct Cost {
    double base, perStep;
  };
  std::map<std::pair<WeightLayout, int64_t>, Cost> costs;
  os << formatv("{0,-28} {1,-12} {2,-38} {3,12} {4,16}\n", "weight", "N x K",
                "kernel", "bytes/token", "est. cycles/token");
  uint64_t ternaryBytes = 0, denseBytes = 0;
  double totalCycles = 0;
  for (auto entry : module.getOps<BlobEntryOpInterface>()) {
    if (auto param = dyn_cast<ParamOp>(entry.getOperation())) {
      // A dense parameter read per token: an LM head entirely, an
      // embedding one row, norms entirely.
      MemRefType t = param.getMemRefType();
      denseBytes += t.getNumElements() * t.getElementTypeBitWidth() / 8;
      continue;
    }
    auto weight = cast<WeightOp>(entry.getOperation());
    TernaryType t = weight.getTernaryType();
    if (t.getLayout() == WeightLayout::Canonical) {
      os << formatv("{0,-28} {1,-12} (not laid out)\n", weight.getSymName(),
                    formatv("{0}x{1}", t.getRows(), t.getCols()).str());
      continue;
    }
    const bool lut = t.isLookup();
    const int64_t chunk = t.getChunk();
    auto key = std::make_pair(t.getLayout(), chunk);
    if (!costs.count(key) && lut) {
      // The marked region is one step (the first, where a row of the
      // smallest sample has several): its cycles in a loop of steps.
      // (lut5 samples a whole column block, four steps, to be laid out.)
      const int64_t cols = t.getLayout() == WeightLayout::Lookup5
                               ? TernaryType::kLookup5Block
                               : t.getLookupStepCols();
      Expected<double> step = kernelCycles(
          ctx, target,
          TernaryType::get(ctx, chunk, cols, ScaleGranularity::PerTensor, 0,
                           t.getLayout(), chunk, 0));
      if (!step)
        return step.takeError();
      costs[key] = {0.0, *step};
    }
    if (!costs.count(key)) {
      // One and two steps: the difference is a step, the rest fixed.
      auto sample = [&](int64_t steps) {
        return lut ? TernaryType::get(ctx, chunk, 4 * steps,
                                      ScaleGranularity::PerTensor, 0,
                                      WeightLayout::Lookup, chunk, 0)
                   : TernaryType::get(ctx, 1, steps * chunk,
                                      ScaleGranularity::PerTensor, 0,
                                      WeightLayout::Interleaved, chunk, 1);
      };
      Expected<double> one = kernelCycles(ctx, target, sample(1));
      if (!one)
        return one.takeError();
      Expected<double> two = kernelCycles(ctx, target, sample(2));
      if (!two)
        return two.takeError();
      double per = std::max(*two - *one, 0.0);
      // Two samples of a noisy model: keep the fixed part non-negative.
      costs[key] = {std::max(*one - per, 0.0), per};
    }
    const Cost &cost = costs[key];
    double cycles =
        lut ? double(t.getPaddedRows() / chunk) *
                  (cost.base + double(t.getLookupSteps()) * cost.perStep)
            : double(t.getRows()) *
                  (cost.base +
                   double(t.getPaddedCols() / chunk) * cost.perStep);
    totalCycles += cycles;
    uint64_t bytes = t.getPackedBytes();
    ternaryBytes += bytes;
    std::string kernel =
        lut ? formatv("LUT {0}, {1}<{2}>, i16/i32 acc",
                      t.getLayout() == WeightLayout::Lookup5   ? "quints"
                      : t.getLayout() == WeightLayout::Lookup3 ? "triples"
                      : t.getLayout() == WeightLayout::Lookup4 ? "quads"
                                                               : "pairs",
                      stringifyWeightLayout(t.getLayout()), chunk)
                  .str()
            : formatv("MAD i8, interleaved<{0}{1}>, i32 acc", chunk,
                      t.getRowGroup() > 1
                          ? formatv(", {0}", t.getRowGroup()).str()
                          : std::string())
                  .str();
    os << formatv("{0,-28} {1,-12} {2,-38} {3,12} {4,16:f0}\n",
                  weight.getSymName(),
                  formatv("{0}x{1}", t.getRows(), t.getCols()).str(), kernel,
                  bytes, cycles);
  }
  os << "\n";
  for (auto &[key, c] : costs) {
    if (key.first != WeightLayout::Interleaved)
      os << formatv("kernel {2}<{0}>: estimated {1:f1} cycles per step "
                    "({3} weights x {0} rows; the per-row epilogue and "
                    "the tables, built once per token, are not counted)\n",
                    key.second, c.perStep, stringifyWeightLayout(key.first),
                    TernaryType::getLookupStepCols(key.first));
    else
      os << formatv("kernel interleaved<{0}>: estimated {1:f1} cycles per "
                    "{0}-weight chunk + {2:f1} per output element\n",
                    key.second, c.perStep, c.base);
  }
  // Dense parameters are read whole per token except the embedding table,
  // which is read one row; when it doubles as the LM head it is read whole.
  uint64_t perToken = ternaryBytes + denseBytes;
  os << formatv("bytes per decoded token: {0:f1} MB ternary + {1:f1} MB "
                "dense (LM head, embedding, norms) = {2:f1} MB\n",
                ternaryBytes / 1e6, denseBytes / 1e6, perToken / 1e6);
  os << formatv("estimated ternary-matmul cycles per token: {0:f0} (one "
                "core)\n",
                totalCycles);
  if (board) {
    double compute = board->ghz * 1e9 / std::max(totalCycles, 1.0);
    double memory = board->bandwidthGBs * 1e9 / double(perToken);
    os << formatv("ESTIMATED decode on {0}: compute-bound {1:f1} tok/s (one "
                  "core, ternary matmuls only), bandwidth-bound {2:f1} tok/s "
                  "-> at most {3:f1} tok/s\n",
                  board->name, compute, memory, std::min(compute, memory));
  } else {
    os << "give --board NAME for a tokens/s estimate against a board's "
          "clock and memory bandwidth\n";
  }
  return Error::success();
}
