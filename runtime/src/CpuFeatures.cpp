//===- CpuFeatures.cpp - does this CPU run the compiled code? -------------===//
//
// __builtin_cpu_supports takes only string literals, so the x86 extensions
// are a table of literals; LLVM's tuning flags (e.g. "fast-gather") and
// features no compiler can ask about are skipped.
//
//===----------------------------------------------------------------------===//

#include "CpuFeatures.h"

#include <cerrno>
#include <cstring>

#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

using namespace ternc::rt;

namespace {

struct Feature {
  const char *name;
  bool present;
};

#if defined(__x86_64__) || defined(__i386__)
#define TERNC_FEATURE(n)                                                       \
  { n, bool(__builtin_cpu_supports(n)) }
const std::vector<Feature> &hostFeatures() {
  static const std::vector<Feature> features = [] {
    __builtin_cpu_init();
    return std::vector<Feature>{
        TERNC_FEATURE("sse3"),
        TERNC_FEATURE("ssse3"),
        TERNC_FEATURE("sse4.1"),
        TERNC_FEATURE("sse4.2"),
        // AMD only: LLVM uses its insertq/extrq for some shuffles when
        // compiling for Zen (Intel CPUs raise SIGILL on them).
        TERNC_FEATURE("sse4a"),
        TERNC_FEATURE("popcnt"),
        TERNC_FEATURE("avx"),
        TERNC_FEATURE("avx2"),
        TERNC_FEATURE("fma"),
        TERNC_FEATURE("f16c"),
        TERNC_FEATURE("bmi"),
        TERNC_FEATURE("bmi2"),
        TERNC_FEATURE("lzcnt"),
        TERNC_FEATURE("movbe"),
        TERNC_FEATURE("aes"),
        TERNC_FEATURE("pclmul"),
        TERNC_FEATURE("sha"),
        TERNC_FEATURE("adx"),
        TERNC_FEATURE("gfni"),
        TERNC_FEATURE("vaes"),
        TERNC_FEATURE("vpclmulqdq"),
        TERNC_FEATURE("avxvnni"),
        TERNC_FEATURE("avx512f"),
        TERNC_FEATURE("avx512bw"),
        TERNC_FEATURE("avx512cd"),
        TERNC_FEATURE("avx512dq"),
        TERNC_FEATURE("avx512vl"),
        TERNC_FEATURE("avx512vnni"),
        TERNC_FEATURE("avx512vbmi"),
        TERNC_FEATURE("avx512vbmi2"),
        TERNC_FEATURE("avx512bitalg"),
        TERNC_FEATURE("avx512vpopcntdq"),
        TERNC_FEATURE("avx512ifma"),
        TERNC_FEATURE("avx512bf16"),
        TERNC_FEATURE("avx512fp16"),
        TERNC_FEATURE("amx-tile"),
        TERNC_FEATURE("amx-int8"),
        TERNC_FEATURE("amx-bf16"),
    };
  }();
  return features;
}
#undef TERNC_FEATURE
#else
const std::vector<Feature> &hostFeatures() {
  static const std::vector<Feature> none;
  return none;
}
#endif

} // namespace

std::vector<std::string> ternc::rt::missingCpuFeatures(const char *list) {
  std::vector<std::string> missing;
  if (!list)
    return missing;
  for (const char *p = list; *p;) {
    const char *end = std::strchr(p, ',');
    size_t n = end ? size_t(end - p) : std::strlen(p);
    std::string name(p, n);
    for (const Feature &f : hostFeatures())
      if (name == f.name && !f.present)
        missing.push_back(name);
    p += n;
    if (*p == ',')
      ++p;
  }
  return missing;
}

std::string ternc::rt::enableAmx(const char *list) {
  if (!list ||
      !std::strstr((std::string(",") + list + ",").c_str(), ",amx-tile,"))
    return "";
#if defined(__linux__) && defined(__x86_64__)
  // arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA): Linux 5.16 and
  // later enable the 8 KiB tile state per process on request only.
  constexpr int kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) != 0)
    return std::string("arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA): ") +
           std::strerror(errno);
  return "";
#else
  return "AMX needs Linux on x86-64";
#endif
}
