//===- ternc.cpp - the ternc compiler driver ------------------------------===//
//
// ternc INPUT.mlir -o OUT [--target TRIPLE] [--cpu CPU] [--features F]
//       [--emit=mlir|llvm|asm|obj] [--weight-store FILE] [--weights-out FILE]
//
// Reads a module in the tern dialect, chooses layouts for the target, writes
// the weight blob from the weight store and emits LLVM IR, assembly or an
// object file. Outputs appear only when everything succeeded.
//
//===----------------------------------------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernDialect.h"
#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/KernelChoice.h"
#include "ternc/Import/ModelDescription.h"
#include "ternc/Import/WeightStore.h"
#include "ternc/Model/ModelBuilder.h"
#include "ternc/Pipelines/Pipelines.h"
#include "ternc/Target/Boards.h"
#include "ternc/Target/Linker.h"
#include "ternc/Target/ObjectEmitter.h"
#include "ternc/Target/Report.h"
#include "ternc/Target/TargetInfo.h"
#include "ternc/Target/WeightBlob.h"
#include "tokenizer/Tokenizer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace mlir;

namespace {

cl::OptionCategory cat("ternc options");

cl::opt<std::string> inputFile(cl::Positional,
                               cl::desc("<checkpoint or .mlir module>"),
                               cl::cat(cat));
cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for stdout)"),
                                cl::value_desc("file"), cl::cat(cat));
cl::opt<std::string>
    targetTriple("target",
                 cl::desc("Target triple, e.g. x86_64-linux-gnu or "
                          "aarch64-linux-gnu (default: the module's "
                          "#tern.target, else this host)"),
                 cl::value_desc("triple"), cl::cat(cat));
cl::opt<std::string>
    targetCPU("cpu",
              cl::desc("Target CPU, e.g. znver4, cortex-a76; 'native' for "
                       "this host; 'help' lists them (default: the "
                       "architecture's baseline, which ternc reports)"),
              cl::value_desc("name"), cl::cat(cat));
cl::opt<std::string>
    boardName("board",
              cl::desc("A board preset (triple, CPU and features): rpi5, "
                       "rpi4, rpi3, rpizero2, rpi4-32, jetson-orin, rk3588, "
                       "graviton3, apple-m1; 'list' describes them"),
              cl::value_desc("name"), cl::cat(cat));
cl::opt<std::string> targetFeatures("features",
                                    cl::desc("Extra LLVM target features, e.g. "
                                             "+dotprod,-avx512f"),
                                    cl::value_desc("+a,-b"), cl::cat(cat));

enum class Emit { Default, MLIR, LLVM, Asm, Obj, Exe };
cl::opt<Emit> emit(
    "emit",
    cl::desc("What to write (default: exe for a checkpoint, obj for a .mlir "
             "module)"),
    cl::init(Emit::Default),
    cl::values(clEnumValN(Emit::MLIR, "mlir",
                          "tern IR after layout selection and weight packing"),
               clEnumValN(Emit::LLVM, "llvm", "optimised LLVM IR"),
               clEnumValN(Emit::Asm, "asm", "assembly"),
               clEnumValN(Emit::Obj, "obj", "an object file"),
               clEnumValN(Emit::Exe, "exe",
                          "a static executable linked with the runtime")),
    cl::cat(cat));
enum class WeightsMode { File, Embed };
cl::opt<WeightsMode> weightsMode(
    "weights", cl::desc("Where an executable finds its weights"),
    cl::init(WeightsMode::File),
    cl::values(clEnumValN(WeightsMode::File, "file",
                          "in <output>.weights beside it (default)"),
               clEnumValN(WeightsMode::Embed, "embed",
                          "inside the executable")),
    cl::cat(cat));
cl::opt<std::string>
    runtimeDir("runtime-dir",
               cl::desc("Directory with <triple>/libternc_runtime.a "
                        "(default: ../lib/ternc beside ternc)"),
               cl::value_desc("dir"), cl::cat(cat));
cl::opt<std::string>
    weightStore("weight-store",
                cl::desc("Safetensors file the module's tern.weight entries "
                         "name (required to write the weight blob)"),
                cl::value_desc("file"), cl::cat(cat));
cl::opt<std::string>
    weightsOut("weights-out",
               cl::desc("Where to write the weight blob (default with "
                        "--emit=obj: <output>.weights)"),
               cl::value_desc("file"), cl::cat(cat));
cl::opt<int64_t> chunk("chunk",
                       cl::desc("Weights per interleaved chunk (0: derive "
                                "from the target; a forced chunk keeps rows "
                                "one at a time, no row groups)"),
                       cl::init(0), cl::cat(cat));
cl::opt<std::string> kernelFamily(
    "kernel",
    cl::desc("Kernel family of the ternary linears: auto (default; the cost "
             "model's choice: lut5 where the target has AVX-512 VBMI and "
             "AMX-INT8, else dot where it has an int8 dot product, "
             "else lut3 (lut on x86) where it has a byte table lookup, else "
             "portable), "
             "dot (sdot, vpdpbusd, vpmaddubsw), lut (tables of weight pairs "
             "looked up with vpshufb, vpermb, tbl or vtbl), lut3 (tables of "
             "groups of three weights, the same lookups, 1.67 bits a "
             "weight), lut4 (tables of groups of four weights looked up "
             "with AVX-512 VBMI vpermb or AArch64 tbl), lut5 (tables of "
             "groups of five weights looked up with AVX-512 VBMI vpermi2b, "
             "1.6 bits a weight) or portable (plain vector code)"),
    cl::value_desc("auto|dot|lut|lut3|lut4|lut5|portable"), cl::init("auto"),
    cl::cat(cat));
cl::opt<std::string>
    tokenizerFile("tokenizer",
                  cl::desc("Tokenizer to embed (tokenizer.bin, GGUF, "
                           "tokenizer.json, tiktoken tokenizer.model; "
                           "default: the checkpoint's own)"),
                  cl::value_desc("file"), cl::cat(cat));
enum class HeadPrecision { Native, Int8 };
cl::opt<HeadPrecision> headPrecision(
    "lm-head", cl::desc("Precision of the LM head in the program"),
    cl::init(HeadPrecision::Native),
    cl::values(clEnumValN(HeadPrecision::Native, "native",
                          "the checkpoint's own (default)"),
               clEnumValN(HeadPrecision::Int8, "int8",
                          "int8 with per-row scales: fewer bytes per token, "
                          "slightly different logits")),
    cl::cat(cat));
cl::opt<bool> headScreen(
    "head-screen",
    cl::desc("With a native LM head, embed an int8 copy with per-row error "
             "bounds that screens the head's rows at each generated token: "
             "the same logits for the tokens a sampler keeps, half the "
             "head's bytes read (default: true; --head-screen=false: the "
             "full head only, a smaller weight file)"),
    cl::init(true), cl::cat(cat));
cl::opt<int64_t> prefillTokens("prefill-tokens",
                               cl::desc("Tokens per prefill call in a "
                                        "compiled model"),
                               cl::init(128), cl::cat(cat));
cl::opt<int64_t> contextLength("context",
                               cl::desc("KV-cache length of a compiled model "
                                        "(0: the model's own context)"),
                               cl::init(0), cl::cat(cat));
cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimisation level (0-3)"),
                           cl::Prefix, cl::init(3), cl::cat(cat));
cl::opt<bool> report("report",
                     cl::desc("Print the chosen kernels, bytes per token and "
                              "estimated cycles and tokens/s (llvm-mca; "
                              "with --board, against its clock and "
                              "bandwidth), then stop"),
                     cl::cat(cat));
cl::opt<bool> quiet("q", cl::desc("Do not report the chosen target"),
                    cl::cat(cat));

int fail(const Twine &msg) {
  WithColor::error(errs(), "ternc") << msg << "\n";
  return 1;
}

int fail(Error err) {
  std::string msg = toString(std::move(err));
  return fail(msg);
}

void listCPUs(StringRef triple) {
  auto info = ternc::TargetInfo::resolve(triple, "", "");
  if (!info) {
    errs() << toString(info.takeError()) << "\n";
    return;
  }
  std::string err;
  const Target *t = TargetRegistry::lookupTarget(info->triple, err);
  std::unique_ptr<MCSubtargetInfo> sti(
      t->createMCSubtargetInfo(info->triple, "", ""));
  outs() << "CPUs for " << info->triple << ":\n";
  for (const SubtargetSubTypeKV &kv : sti->getAllProcessorDescriptions())
    outs() << "  " << kv.Key << "\n";
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // A code generator that cannot handle something is a ternc bug or an
  // unsupported target: say so in one line instead of a stack dump.
  install_fatal_error_handler([](void *, const char *reason, bool) {
    WithColor::error(errs(), "ternc")
        << "LLVM could not compile this module for the target: " << reason
        << " (please report this)\n";
    sys::RunInterruptHandlers(); // removes partially written outputs
    std::_Exit(70);
  });
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  cl::HideUnrelatedOptions(cat);
  cl::AddExtraVersionPrinter(
      [](raw_ostream &os) { os << "ternc: ternary-weight model compiler\n"; });
  cl::ParseCommandLineOptions(
      argc, argv,
      "ternc: compile ternary-weight (BitNet b1.58) models to native code\n\n"
      "MLIR's debugging options work too: --mlir-print-ir-after-all,\n"
      "--mlir-print-ir-before=PASS, --mlir-timing, ... (tern-opt --help "
      "lists them).\n");

  if (kernelFamily != "auto" &&
      !mlir::tern::symbolizeKernelFamily(kernelFamily))
    return fail("unknown --kernel '" + kernelFamily +
                "' (auto, dot, lut, lut3, lut4, lut5 or portable)");
  if (targetCPU == "help") {
    listCPUs(targetTriple);
    return 0;
  }
  if (boardName == "list") {
    for (const ternc::Board &b : ternc::boards())
      outs() << formatv("{0,-12} {1,-22} {2,-12} {3}\n", b.name, b.triple,
                        b.cpu, b.description);
    return 0;
  }
  if (!boardName.empty()) {
    const ternc::Board *board = ternc::findBoard(boardName);
    if (!board)
      return fail("unknown board '" + boardName + "' (see --board list)");
    if (!targetTriple.empty() || !targetCPU.empty())
      return fail("--board " + boardName +
                  " already sets the target and CPU: drop --target/--cpu "
                  "or --board");
    targetTriple = board->triple;
    targetCPU = board->cpu;
    if (targetFeatures.empty())
      targetFeatures = board->features;
  }
  if (inputFile.empty())
    return fail("no input file (see --help)");
  if (optLevel > 3)
    return fail("-O" + Twine(optLevel) + " is not a level: use -O0 to -O3");
  const bool isModule =
      StringRef(inputFile).ends_with(".mlir") || inputFile == "-";
  if (emit == Emit::Default)
    emit = isModule ? Emit::Obj : Emit::Exe;
  if (emit == Emit::Exe && isModule)
    return fail("--emit=exe needs a checkpoint; a .mlir module compiles to "
                "--emit=obj");
  if (outputFile.empty() && !report) {
    if (emit == Emit::Obj || emit == Emit::Exe)
      return fail("no output file: give -o FILE");
    outputFile = "-";
  }

  DialectRegistry registry;
  registry.insert<tern::TernDialect, arith::ArithDialect, func::FuncDialect,
                  LLVM::LLVMDialect, math::MathDialect, memref::MemRefDialect,
                  scf::SCFDialect, vector::VectorDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // An error on the module would print the whole module after it: only
  // when asked for.
  if (!cl::getRegisteredOptions()["mlir-print-op-on-diagnostic"]
           ->getNumOccurrences())
    context.printOpOnDiagnostic(false);

  std::string errorMessage;
  // Input: a .mlir module in the tern dialect, or a checkpoint, which is
  // imported and built into one.
  std::optional<ternc::ModelDescription> model;
  OwningOpRef<ModuleOp> module;
  SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  if (isModule) {
    std::unique_ptr<MemoryBuffer> input =
        openInputFile(inputFile, &errorMessage);
    if (!input)
      return fail(errorMessage);
    sourceMgr.AddNewSourceBuffer(std::move(input), SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module)
      return 1; // the parser reported where
  } else {
    auto imported = ternc::importCheckpoint(inputFile);
    if (!imported)
      return fail(imported.takeError());
    if (Error e = imported->validate())
      return fail(std::move(e));
    model = std::move(*imported);
    ternc::BuildOptions buildOptions;
    buildOptions.prefillTokens = prefillTokens;
    buildOptions.context = contextLength;
    buildOptions.int8Head = headPrecision == HeadPrecision::Int8;
    buildOptions.screenHead = headScreen;
    // The screening copy takes its input quantized where the target has an
    // int8 dot product (a quarter of the operations of converting each
    // weight to f32); the program's logits are the same either way.
    {
      auto early =
          ternc::TargetInfo::resolve(targetTriple, targetCPU, targetFeatures);
      if (!early)
        return fail(early.takeError());
      buildOptions.screenInt8 = kernelFamily != "portable" &&
                                tern::int8DotBytes(early->toAttr(&context)) > 0;
    }
    auto built = ternc::buildModel(&context, *model, buildOptions);
    if (!built)
      return fail(built.takeError());
    module = std::move(*built);
    // The tokenizer travels inside the program.
    std::string tokPath = tokenizerFile.empty() ? model->tokenizerPath
                                                : std::string(tokenizerFile);
    if (!tokPath.empty()) {
      std::string tokError;
      std::optional<ternc::rt::Tokenizer> tok;
      // A GGUF checkpoint carries its vocabulary in its metadata: read it
      // from a mapping rather than copying a file of weights into memory.
      auto mapped = MemoryBuffer::getFile(tokPath, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
      if (mapped && (*mapped)->getBuffer().starts_with("GGUF"))
        tok = ternc::rt::Tokenizer::fromGgufBytes((*mapped)->getBuffer(),
                                                  tokPath, &tokError);
      else
        tok = ternc::rt::Tokenizer::fromFile(tokPath, &tokError);
      if (!tok)
        return fail(tokError);
      if (tok->vocabSize() > model->vocab)
        return fail(tokPath + ": the tokenizer has " + Twine(tok->vocabSize()) +
                    " tokens but the model only " + Twine(model->vocab));
      ternc::attachTokenizer(*module, tok->serialize());
    } else if (!quiet) {
      WithColor::warning(errs(), "ternc")
          << "no tokenizer found: the program will take token ids only "
             "(give --tokenizer FILE)\n";
    }
    if (!quiet)
      WithColor::note(errs(), "ternc")
          << model->format << " " << model->architecture << ": " << model->dim
          << " dim, " << model->layers << " layers, " << model->heads << "/"
          << model->kvHeads << " heads, vocab " << model->vocab << "\n";
  }

  // The target: command line first, then the module's own, then the host.
  auto existing = tern::TargetAttr::lookup(*module);
  std::string triple = targetTriple, cpu = targetCPU, features = targetFeatures;
  if (existing && triple.empty() && cpu.empty() && features.empty()) {
    triple = existing.getTriple().str();
    cpu = existing.getCpu().str();
    features = existing.getFeatures().str();
  }
  auto target = ternc::TargetInfo::resolve(triple, cpu, features);
  if (!target)
    return fail(target.takeError());
  if (!quiet || target->cpuDefaulted)
    WithColor::note(errs(), "ternc") << "target " << target->describe() << "\n";
  (*module)->setAttr(tern::TargetAttr::kModuleAttrName,
                     target->toAttr(&context));
  if (chunk == 0 && (kernelFamily == "lut" || kernelFamily == "lut3") &&
      !tern::lookupVectorBytes(target->toAttr(&context)))
    return fail("--kernel=" + kernelFamily +
                ": the target has no byte table lookup (x86 "
                "SSSE3, AVX2 or AVX-512BW; AArch64 or ARMv7 NEON): " +
                target->describe());
  if (chunk == 0 && kernelFamily == "lut4" &&
      !tern::lookup4Rows(target->toAttr(&context)))
    return fail("--kernel=lut4: the target has no 64-byte table lookup "
                "(AVX-512 VBMI vpermb, AArch64 NEON tbl): " +
                target->describe());
  if (chunk == 0 && kernelFamily == "lut5" &&
      !tern::lookup5Rows(target->toAttr(&context)))
    return fail("--kernel=lut5: the target has no AVX-512 VBMI (vpermi2b "
                "on zmm): " +
                target->describe());
  if (chunk == 0 && kernelFamily == "dot" &&
      !tern::hasDotKernel(target->toAttr(&context)))
    return fail("--kernel=dot: the target has no int8 dot product (x86 AVX2 "
                "or AVX-512, AArch64 dotprod): " +
                target->describe());

  DefaultTimingManager timing;
  applyDefaultTimingManagerCLOptions(timing);
  TimingScope rootTiming = timing.getRootScope();
  auto runPipeline = [&](auto build) -> LogicalResult {
    mlir::PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return failure();
    pm.enableTiming(rootTiming);
    build(pm);
    return pm.run(*module);
  };

  tern::TernPipelineOptions options;
  options.chunk = static_cast<int64_t>(chunk);
  options.kernel = std::string(kernelFamily);
  if (failed(runPipeline([&](mlir::PassManager &pm) {
        tern::buildTernTransformPipeline(pm, options);
      })))
    return 1;
  // A forced lookup family leaves the weights with block scales to the
  // interleaved kernels (a lookup adds one scale per row): say so.
  if (chunk == 0 && StringRef(kernelFamily).starts_with("lut")) {
    int64_t total = 0, other = 0;
    (*module)->walk([&](tern::WeightOp weight) {
      ++total;
      other += !weight.getTernaryType().isLookup();
    });
    if (other)
      WithColor::warning(errs(), "ternc")
          << formatv("--kernel={0}: {1} of {2} ternary weights have block "
                     "scales, which the lookup kernels do not take; they "
                     "keep the interleaved layout (dot or portable kernel)\n",
                     kernelFamily, other, total);
  }

  if (report) {
    const ternc::Board *board =
        boardName.empty() ? nullptr : ternc::findBoard(boardName);
    if (Error e = ternc::printReport(*module, *target, board, outs()))
      return fail(std::move(e));
    return 0;
  }

  if (emit == Emit::MLIR) {
    auto out = openOutputFile(outputFile, &errorMessage);
    if (!out)
      return fail(errorMessage);
    module->print(out->os());
    out->os() << "\n";
    out->keep();
    return 0;
  }

  // The weight blob, streamed from the store in the chosen layouts.
  std::unique_ptr<ToolOutputFile> blobFile;
  bool hasWeights = !module->getOps<tern::BlobEntryOpInterface>().empty();
  std::string blobPath = weightsOut;
  // An embedded blob goes to a temporary file that the linker includes.
  SmallString<128> embedTemp;
  auto removeEmbedTemp = llvm::make_scope_exit([&] {
    if (!embedTemp.empty())
      sys::fs::remove(embedTemp);
  });
  if (blobPath.empty() && hasWeights) {
    if (emit == Emit::Exe && weightsMode == WeightsMode::Embed) {
      if (std::error_code ec =
              sys::fs::createTemporaryFile("ternc-weights", "bin", embedTemp))
        return fail("cannot create a temporary file: " + ec.message());
      blobPath = embedTemp.str().str();
    } else if (emit == Emit::Obj || emit == Emit::Exe) {
      blobPath = outputFile + ".weights";
    }
  }
  if (!blobPath.empty()) {
    std::unique_ptr<ternc::WeightStore> fileStore;
    const ternc::WeightStore *store = model ? model->store.get() : nullptr;
    if (!store) {
      if (weightStore.empty())
        return fail("the module declares weights: give --weight-store FILE "
                    "to write " +
                    blobPath);
      auto opened = ternc::SafetensorsStore::open(weightStore);
      if (!opened)
        return fail(opened.takeError());
      fileStore = std::move(*opened);
      store = fileStore.get();
    }
    blobFile = openOutputFile(blobPath, &errorMessage);
    if (!blobFile)
      return fail(errorMessage);
    if (Error e = ternc::writeWeightBlob(*module, *store, blobFile->os()))
      return fail(std::move(e));
  }

  if (failed(runPipeline(
          [&](mlir::PassManager &pm) { tern::buildTernLoweringPipeline(pm); })))
    return 1;

  // With --emit=exe the object is a temporary input of the link.
  SmallString<128> objectTemp;
  auto removeObjectTemp = llvm::make_scope_exit([&] {
    if (!objectTemp.empty())
      sys::fs::remove(objectTemp);
  });
  std::string emitPath = outputFile;
  if (emit == Emit::Exe) {
    if (std::error_code ec =
            sys::fs::createTemporaryFile("ternc-model", "o", objectTemp))
      return fail("cannot create a temporary file: " + ec.message());
    emitPath = objectTemp.str().str();
  }
  auto out = openOutputFile(emitPath, &errorMessage);
  if (!out)
    return fail(errorMessage);
  ternc::EmitKind kind = emit == Emit::LLVM  ? ternc::EmitKind::LLVMIR
                         : emit == Emit::Asm ? ternc::EmitKind::Assembly
                                             : ternc::EmitKind::Object;
  {
    TimingScope emitTiming = rootTiming.nest("LLVM optimisation and emission");
    if (Error e =
            ternc::emitModule(*module, *target, kind, optLevel, out->os()))
      return fail(std::move(e));
  }
  out->os().flush();
  if (out->os().has_error())
    return fail("cannot write " + emitPath + ": " +
                out->os().error().message());
  out->keep();
  if (blobFile) {
    blobFile->os().flush();
    if (blobFile->os().has_error())
      return fail("cannot write " + blobPath);
    blobFile->keep();
  }
  if (emit != Emit::Exe)
    return 0;

  out.reset();
  blobFile.reset();
  ternc::LinkOptions link;
  link.object = emitPath;
  link.output = outputFile;
  if (weightsMode == WeightsMode::Embed)
    link.embedBlob = blobPath;
  link.runtimeRoot = runtimeDir;
  if (link.runtimeRoot.empty()) {
    // build/bin/ternc -> build/lib/ternc
    std::string self = sys::fs::getMainExecutable(
        argv[0], reinterpret_cast<void *>(&listCPUs));
    SmallString<256> root(sys::path::parent_path(sys::path::parent_path(self)));
    sys::path::append(root, "lib", "ternc");
    link.runtimeRoot = root.str().str();
  }
  TimingScope linkTiming = rootTiming.nest("Link");
  if (Error e = ternc::linkExecutable(*target, link)) {
    if (weightsMode == WeightsMode::File && !blobPath.empty())
      sys::fs::remove(blobPath);
    return fail(std::move(e));
  }
  return 0;
}
