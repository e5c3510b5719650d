//===- ObjectEmitter.cpp - LLVM-dialect module -> IR/asm/object -----------===//

#include "ternc/Target/ObjectEmitter.h"

#include "mlir/Target/LLVMIR/Dialect/AMX/AMXToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/ArmNeon/ArmNeonToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/TargetParser/Triple.h"

using namespace llvm;

static CodeGenOptLevel codeGenLevel(unsigned opt) {
  switch (opt) {
  case 0:
    return CodeGenOptLevel::None;
  case 1:
    return CodeGenOptLevel::Less;
  case 2:
    return CodeGenOptLevel::Default;
  default:
    return CodeGenOptLevel::Aggressive;
  }
}

static OptimizationLevel optimizationLevel(unsigned opt) {
  switch (opt) {
  case 0:
    return OptimizationLevel::O0;
  case 1:
    return OptimizationLevel::O1;
  case 2:
    return OptimizationLevel::O2;
  default:
    return OptimizationLevel::O3;
  }
}

/// Defines `name` as a weak constant C string: the runtime reads it, and
/// several objects of one program may each define it.
static void addCString(Module &m, StringRef name, StringRef value) {
  Constant *init = ConstantDataArray::getString(m.getContext(), value);
  auto *g = new GlobalVariable(m, init->getType(), /*isConstant=*/true,
                               GlobalValue::WeakAnyLinkage, init, name);
  g->setAlignment(Align(1));
}

/// Records the CPU and every subtarget feature enabled for it
/// (`ternc_target_cpu`, `ternc_target_features`: LLVM's names,
/// comma-separated), so that the runtime can refuse a CPU without one of
/// the extensions instead of dying of SIGILL (runtime/src/CpuFeatures.cpp).
static void addTargetRecord(Module &m, const TargetMachine &tm,
                            const ternc::TargetInfo &target) {
  const MCSubtargetInfo *sti = tm.getMCSubtargetInfo();
  std::string features;
  for (const SubtargetFeatureKV &kv : sti->getAllProcessorFeatures())
    if (sti->getFeatureBits().test(kv.Value))
      features += (features.empty() ? "" : ",") + std::string(kv.Key);
  addCString(m, "ternc_target_cpu", target.cpu);
  addCString(m, "ternc_target_features", features);
}

Error ternc::emitModule(mlir::ModuleOp module, const TargetInfo &target,
                        EmitKind kind, unsigned optLevel,
                        raw_pwrite_stream &os) {
  auto tm = target.createTargetMachine(codeGenLevel(optLevel));
  if (!tm)
    return tm.takeError();

  mlir::registerBuiltinDialectTranslation(*module.getContext());
  mlir::registerLLVMDialectTranslation(*module.getContext());
  mlir::registerAMXDialectTranslation(*module.getContext());
  mlir::registerArmNeonDialectTranslation(*module.getContext());
  LLVMContext llvmContext;
  std::unique_ptr<Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, llvmContext, "ternc");
  if (!llvmModule)
    return createStringError(inconvertibleErrorCode(),
                             "cannot translate the module to LLVM IR (is it "
                             "fully lowered to the LLVM dialect?)");
  llvmModule->setTargetTriple((*tm)->getTargetTriple().str());
  llvmModule->setDataLayout((*tm)->createDataLayout());
  // Functions carry the CPU and features so that every later LLVM pass
  // (and a later LTO step) sees the same target.
  const bool isX86 = Triple(target.triple).isX86();
  for (Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    // Each function starts a 64-byte line, so where its loops fall across
    // instruction lines depends on its own code only, not on how much code
    // the linker puts before it (the runtime's). On Zen 5 the screened
    // head's int8 loop (347 bytes, 4 trips a row) took 9% longer when a
    // runtime change moved it from offset 16 to 48 of a line; with this,
    // at 32, 2B4T decoded 5-10% faster at two threads (docs/performance.md).
    f.setAlignment(Align(64));
    f.addFnAttr("target-cpu", target.cpu);
    if (!target.features.empty())
      f.addFnAttr("target-features", target.features);
    // The kernels were shaped for this width; without the hint LLVM splits
    // 512-bit vectors on CPUs it tunes for 256 bits (e.g. Zen 4/5).
    if (isX86) {
      f.addFnAttr("prefer-vector-width", std::to_string(target.vectorBits));
      f.addFnAttr("min-legal-vector-width", std::to_string(target.vectorBits));
    }
  }
  if (!llvmModule->getNamedValue("ternc_target_features"))
    addTargetRecord(*llvmModule, **tm, target);
  if (verifyModule(*llvmModule, &errs()))
    return createStringError(inconvertibleErrorCode(),
                             "translated LLVM IR is invalid");

  // The standard optimisation pipeline, as clang -O<n> runs it.
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PassBuilder pb(tm->get());
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  ModulePassManager mpm =
      optLevel == 0
          ? pb.buildO0DefaultPipeline(OptimizationLevel::O0)
          : pb.buildPerModuleDefaultPipeline(optimizationLevel(optLevel));
  mpm.run(*llvmModule, mam);

  if (kind == EmitKind::LLVMIR) {
    llvmModule->print(os, nullptr);
    return Error::success();
  }
  legacy::PassManager codegen;
  if ((*tm)->addPassesToEmitFile(codegen, os, nullptr,
                                 kind == EmitKind::Assembly
                                     ? CodeGenFileType::AssemblyFile
                                     : CodeGenFileType::ObjectFile))
    return createStringError(inconvertibleErrorCode(),
                             "%s cannot emit this file type",
                             target.triple.c_str());
  codegen.run(*llvmModule);
  return Error::success();
}
