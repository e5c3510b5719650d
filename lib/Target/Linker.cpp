//===- Linker.cpp - object + runtime -> executable ------------------------===//
//
// The runtime is prebuilt per triple by the project's build (the host's with
// the host compiler, ARM ones with Debian's cross compilers), so linking only
// needs the matching g++ driver: it brings the C and C++ libraries of the
// target's sysroot. Executables are static so they run on a board with
// nothing else installed.
//
//===----------------------------------------------------------------------===//

#include "ternc/Target/Linker.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace llvm;
using namespace ternc;

static Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg.str());
}

std::string ternc::runtimeTripleDir(const TargetInfo &target) {
  Triple t(target.triple);
  switch (t.getArch()) {
  case Triple::x86_64:
    return "x86_64-linux-gnu";
  case Triple::aarch64:
    return "aarch64-linux-gnu";
  case Triple::arm:
  case Triple::thumb:
    return "arm-linux-gnueabihf";
  default:
    return t.getArchName().str() + "-linux-gnu";
  }
}

std::string ternc::defaultLinkDriver(const TargetInfo &target) {
  Triple t(target.triple), host(sys::getDefaultTargetTriple());
  if (t.getArch() == host.getArch())
    return "g++";
  return runtimeTripleDir(target) + "-g++";
}

/// Removes a file when it goes out of scope unless released.
struct TempFile {
  SmallString<128> path;
  ~TempFile() {
    if (!path.empty())
      sys::fs::remove(path);
  }
};

Error ternc::linkExecutable(const TargetInfo &target,
                            const LinkOptions &options) {
  std::string dir = runtimeTripleDir(target);
  SmallString<256> runtime(options.runtimeRoot);
  sys::path::append(runtime, dir, "libternc_runtime.a");
  if (!sys::fs::exists(runtime))
    return fail(formatv("no runtime for {0}: {1} is missing (the project's "
                        "build makes it when the target's cross compiler is "
                        "installed; see scripts/install-deps.sh)",
                        target.triple, runtime));
  std::string driverName =
      options.driver.empty() ? defaultLinkDriver(target) : options.driver;
  ErrorOr<std::string> driver = sys::findProgramByName(driverName);
  if (!driver)
    return fail(formatv("cannot link for {0}: '{1}' is not installed",
                        target.triple, driverName));

  // Embedding: an assembler file that includes the blob, 64-byte aligned.
  TempFile blobAsm, blobObj, exe;
  if (!options.embedBlob.empty()) {
    if (std::error_code ec =
            sys::fs::createTemporaryFile("ternc-blob", "s", blobAsm.path))
      return fail("cannot create a temporary file: " + ec.message());
    SmallString<256> absBlob(options.embedBlob);
    sys::fs::make_absolute(absBlob);
    std::error_code ec;
    raw_fd_ostream os(blobAsm.path, ec);
    if (ec)
      return fail(blobAsm.path + ": " + ec.message());
    os << "  .section .rodata.ternc_weights,\"a\"\n"
       << "  .balign 64\n"
       << "  .globl ternc_embedded_weights\n"
       << "ternc_embedded_weights:\n"
       << "  .incbin \"" << absBlob << "\"\n"
       << "  .globl ternc_embedded_weights_end\n"
       << "ternc_embedded_weights_end:\n"
       << "  .section .note.GNU-stack,\"\",%progbits\n";
    os.close();
    if (std::error_code ec2 =
            sys::fs::createTemporaryFile("ternc-blob", "o", blobObj.path))
      return fail("cannot create a temporary file: " + ec2.message());
    SmallVector<StringRef> args = {*driver, "-c", blobAsm.path, "-o",
                                   blobObj.path};
    std::string err;
    if (sys::ExecuteAndWait(*driver, args, std::nullopt, {}, 0, 0, &err) != 0)
      return fail("assembling the embedded weights failed" +
                  (err.empty() ? "" : ": " + err));
  }

  // Link into a temporary beside the output, then rename: no half-written
  // executable ever appears under the output name.
  exe.path = options.output;
  exe.path += ".tmp-link";
  SmallVector<StringRef> args = {*driver};
#ifdef TERNC_SANITIZED_HOST_RUNTIME
  // The sanitizer build's host runtime is instrumented: link its runtimes
  // (dynamically: ASan does not support static executables).
  if (Triple(target.triple).getArch() ==
      Triple(sys::getDefaultTargetTriple()).getArch())
    args.push_back("-fsanitize=address,undefined");
  else
    args.push_back("-static");
#else
  args.push_back("-static");
#endif
  args.append({"-o", exe.path, options.object});
  if (!blobObj.path.empty())
    args.push_back(blobObj.path);
  args.push_back(runtime);
  args.push_back("-lm");
  std::string err;
  if (sys::ExecuteAndWait(*driver, args, std::nullopt, {}, 0, 0, &err) != 0)
    return fail(formatv("linking {0} with {1} failed{2}", options.output,
                        *driver, err.empty() ? "" : ": " + err));
  if (std::error_code ec = sys::fs::rename(exe.path, options.output))
    return fail(options.output + ": " + ec.message());
  exe.path.clear();
  return Error::success();
}
