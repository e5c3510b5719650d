//===- TargetInfo.cpp - triple + CPU + features -> ISA capabilities -------===//

#include "ternc/Target/TargetInfo.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace llvm;
using namespace ternc;

namespace {

void initTargets() {
  static bool once = [] {
    InitializeAllTargetInfos();
    InitializeAllTargets();
    InitializeAllTargetMCs();
    InitializeAllAsmPrinters();
    InitializeAllAsmParsers();
    return true;
  }();
  (void)once;
}

/// Capabilities worth knowing per architecture: name for ternc, LLVM feature.
struct Capability {
  const char *name;
  const char *feature;
};

const Capability kX86Caps[] = {
    {"ssse3", "+ssse3"},
    {"f16c", "+f16c"},
    {"avx2", "+avx2"},
    {"avxvnni", "+avxvnni"},
    {"avx512f", "+avx512f"},
    {"avx512bw", "+avx512bw"},
    {"avx512vbmi", "+avx512vbmi"},
    {"avx512vnni", "+avx512vnni"},
    {"amx-int8", "+amx-int8"},
};
const Capability kAArch64Caps[] = {
    {"neon", "+neon"}, {"dotprod", "+dotprod"}, {"i8mm", "+i8mm"},
    {"sve", "+sve"},   {"sve2", "+sve2"},
};
const Capability kARMCaps[] = {
    {"neon", "+neon"},
    {"dotprod", "+dotprod"},
    {"i8mm", "+i8mm"},
};

} // namespace

std::string ternc::baselineCPU(StringRef tripleStr) {
  Triple triple(tripleStr);
  switch (triple.getArch()) {
  case Triple::x86_64:
    return "x86-64";
  case Triple::x86:
    return "i686";
  case Triple::aarch64:
  case Triple::aarch64_be:
    return "generic";
  case Triple::arm:
  case Triple::thumb:
    // The armhf ABI does not promise NEON: the baseline has none (64-bit
    // vectors). Name a CPU (or --board rpi4-32) to get NEON.
    return "generic";
  default:
    return "generic";
  }
}

Expected<TargetInfo> TargetInfo::resolve(StringRef tripleIn, StringRef cpuIn,
                                         StringRef featuresIn) {
  initTargets();
  TargetInfo info;
  std::string hostTriple = Triple::normalize(sys::getDefaultTargetTriple());
  info.triple = tripleIn.empty() ? hostTriple : Triple::normalize(tripleIn);
  Triple triple(info.triple);

  std::string err;
  const Target *target = TargetRegistry::lookupTarget(info.triple, err);
  if (!target)
    return createStringError(inconvertibleErrorCode(),
                             "unsupported target triple '%s': %s",
                             tripleIn.str().c_str(), err.c_str());

  info.features = featuresIn.str();
  if (cpuIn == "native") {
    Triple host(hostTriple);
    if (host.getArch() != triple.getArch())
      return createStringError(
          inconvertibleErrorCode(),
          "--cpu=native describes this host (%s) but the target is %s; name "
          "the target CPU instead",
          hostTriple.c_str(), info.triple.c_str());
    info.cpu = sys::getHostCPUName().str();
    // The host's exact feature list, so a CPU that LLVM names after an older
    // relative does not lose extensions.
    std::string hostFeatures;
    for (const auto &f : sys::getHostCPUFeatures()) {
      if (!hostFeatures.empty())
        hostFeatures += ",";
      hostFeatures += (f.second ? "+" : "-") + f.first().str();
    }
    if (!info.features.empty())
      hostFeatures += "," + info.features;
    info.features = hostFeatures;
  } else if (cpuIn.empty()) {
    info.cpu = baselineCPU(info.triple);
    info.cpuDefaulted = true;
  } else {
    info.cpu = cpuIn.str();
  }

  // Check the CPU on a CPU-less subtarget first: LLVM would only print a
  // warning and carry on with a generic CPU.
  std::unique_ptr<MCSubtargetInfo> probe(
      target->createMCSubtargetInfo(info.triple, "", ""));
  if (!probe || !probe->isCPUStringValid(info.cpu))
    return createStringError(inconvertibleErrorCode(),
                             "unknown CPU '%s' for %s (try --cpu=help)",
                             info.cpu.c_str(), info.triple.c_str());
  // Validate every feature name: LLVM would only warn and ignore it.
  if (!featuresIn.empty()) {
    StringMap<bool> known;
    for (const SubtargetFeatureKV &kv : probe->getAllProcessorFeatures())
      known[kv.Key] = true;
    SmallVector<StringRef> parts;
    featuresIn.split(parts, ',', -1, /*KeepEmpty=*/false);
    for (StringRef f : parts) {
      StringRef name = f.trim();
      if (!name.consume_front("+") && !name.consume_front("-"))
        return createStringError(inconvertibleErrorCode(),
                                 "feature '%s' must start with + or -",
                                 f.str().c_str());
      if (!known.count(name))
        return createStringError(inconvertibleErrorCode(),
                                 "unknown feature '%s' for %s",
                                 name.str().c_str(), info.triple.c_str());
    }
  }

  std::unique_ptr<MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(info.triple, info.cpu, info.features));
  ArrayRef<Capability> caps;
  if (triple.isX86())
    caps = kX86Caps;
  else if (triple.isAArch64())
    caps = kAArch64Caps;
  else if (triple.isARM() || triple.isThumb())
    caps = kARMCaps;
  for (const Capability &c : caps)
    if (sti->checkFeatures(c.feature))
      info.isa.push_back(c.name);

  if (info.has("avx512bw"))
    info.vectorBits = 512;
  else if (info.has("avx2"))
    info.vectorBits = 256;
  else if (triple.isARM() && !info.has("neon"))
    info.vectorBits = 64;
  else
    info.vectorBits = 128;
  return info;
}

bool TargetInfo::has(StringRef capability) const {
  return llvm::is_contained(isa, capability);
}

std::string TargetInfo::describe() const {
  std::string s = triple + ", cpu " + cpu;
  if (cpuDefaulted)
    s += " (baseline: no --cpu given)";
  s += ", isa [";
  for (size_t i = 0; i < isa.size(); ++i)
    s += (i ? " " : "") + isa[i];
  s += "], " + std::to_string(vectorBits) + "-bit vectors";
  return s;
}

mlir::tern::TargetAttr TargetInfo::toAttr(mlir::MLIRContext *ctx) const {
  mlir::Builder b(ctx);
  SmallVector<mlir::Attribute> caps;
  for (const std::string &c : isa)
    caps.push_back(b.getStringAttr(c));
  return mlir::tern::TargetAttr::get(ctx, triple, cpu, features,
                                     b.getArrayAttr(caps), vectorBits);
}

TargetInfo TargetInfo::fromAttr(mlir::tern::TargetAttr attr) {
  TargetInfo info;
  info.triple = attr.getTriple().str();
  info.cpu = attr.getCpu().str();
  info.features = attr.getFeatures().str();
  for (mlir::Attribute a : attr.getIsa())
    info.isa.push_back(mlir::cast<mlir::StringAttr>(a).getValue().str());
  info.vectorBits = attr.getVectorBits();
  return info;
}

Expected<std::unique_ptr<TargetMachine>>
TargetInfo::createTargetMachine(CodeGenOptLevel opt) const {
  initTargets();
  std::string err;
  const Target *target = TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return createStringError(inconvertibleErrorCode(), "%s", err.c_str());
  llvm::TargetOptions options;
  std::unique_ptr<TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, options, Reloc::PIC_, std::nullopt, opt));
  if (!tm)
    return createStringError(inconvertibleErrorCode(),
                             "cannot create a target machine for %s",
                             triple.c_str());
  return tm;
}
