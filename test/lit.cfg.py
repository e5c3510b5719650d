# -*- Python -*-
import os
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "TERNC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.ternc_obj_root, "test")

config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

config.substitutions.append(("%ternc_src", config.ternc_src_root))
config.substitutions.append(("%host_cxx", config.host_cxx))
# Debian's python3 with numpy (the first python3 on PATH may lack it).
config.substitutions.append(("%py3", "/usr/bin/python3"))

tool_dirs = [config.ternc_tools_dir, config.llvm_tools_dir]
tools = [
    "tern-opt",
    "ternc",
    "ternc-e2e-gen",
    "tern-tokenize",
    "llvm-readelf",
    "llvm-objdump",
    "not",
    "count",
    "split-file",
    ToolSubst("clang", command="clang-19", unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
# Scripts run by tests find the tools on PATH.
llvm_config.with_environment("PATH", tool_dirs, append_path=True)

# Cross tests need the cross compiler, its sysroot and qemu.
if shutil.which("aarch64-linux-gnu-g++") and shutil.which("qemu-aarch64") \
        and os.path.isdir("/usr/aarch64-linux-gnu"):
    config.available_features.add("aarch64-cross")
if shutil.which("arm-linux-gnueabihf-g++") and shutil.which("qemu-arm") \
        and os.path.isdir("/usr/arm-linux-gnueabihf"):
    config.available_features.add("arm-cross")
if shutil.which("x86_64-linux-gnu-g++") or shutil.which("g++"):
    config.available_features.add("host-cxx")
import platform
# The sanitizer configuration (ASan + UBSan): tests that need a small
# address-space limit cannot run there.
if config.ternc_sanitize.upper() in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("asan")
    # ASan reserves terabytes of address space: no RLIMIT_AS there.
    config.environment["TERNC_NO_MEMLIMIT"] = "1"
    # allow_user_poisoning=0: LLVM's header-inline allocators poison memory
    # in our instrumented code that Debian's uninstrumented LLVM libraries
    # then touch legitimately (false use-after-poison reports).
    config.environment["ASAN_OPTIONS"] = os.environ.get(
        "ASAN_OPTIONS", "detect_leaks=1:allow_user_poisoning=0")
    config.environment["UBSAN_OPTIONS"] = os.environ.get(
        "UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
# Permission tests are meaningless for root.
if hasattr(os, "getuid") and os.getuid() == 0:
    config.available_features.add("root")
if platform.machine() in ("x86_64", "AMD64"):
    config.available_features.add("host-x86_64")
    # The host's x86 extensions, for tests that run code compiled for a CPU
    # with them (host-avx512bw, host-avx_vnni, host-avx512_vnni, ...).
    hostVendor = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    hostVendor = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    hostFlags = set(line.split(":", 1)[1].split())
                    # Every AMD x86-64 CPU since family 10h has SSE4a, but
                    # some kernels leave it out of /proc/cpuinfo (a Zen 5
                    # VM) while CPUID, which the programs' CPU check reads
                    # through __builtin_cpu_supports, reports it.
                    if hostVendor == "AuthenticAMD":
                        hostFlags.add("sse4a")
                    for flag in hostFlags:
                        config.available_features.add("host-" + flag)
                    # host-znver4: code compiled with --cpu znver4 runs
                    # here (every extension of Zen 4 that LLVM may use
                    # anywhere, AMD's SSE4a included: Intel CPUs lack it).
                    # Zen 3 and older Intel hosts lack the AVX-512 ones.
                    avx512 = {
                        "avx512f", "avx512dq", "avx512cd", "avx512bw",
                        "avx512vl", "avx512_vnni", "avx512vbmi",
                        "avx512_vbmi2", "avx512_bitalg", "avx512ifma",
                        "avx512_vpopcntdq", "gfni", "vaes", "vpclmulqdq"}
                    avx512Cpu = None
                    if hostFlags >= avx512 | {"avx512_bf16", "sse4a"}:
                        config.available_features.add("host-znver4")
                        avx512Cpu = "znver4"
                    elif hostFlags >= avx512 | {"sha_ni"}:
                        avx512Cpu = "icelake-server"
                    # host-avx512vnni-vbmi: %avx512_cpu names a CPU with
                    # AVX-512 VNNI and VBMI whose code runs here (Zen 4 or
                    # Ice Lake server), for the native e2e runs of those
                    # kernels.
                    if avx512Cpu:
                        config.available_features.add("host-avx512vnni-vbmi")
                        config.substitutions.append(
                            ("%avx512_cpu", avx512Cpu))
                    break
    except OSError:
        pass
