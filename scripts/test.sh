#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite:
#  1. the regular build (build/): the unit tests (GoogleTest via ctest) and
#     the lit suite (FileCheck tests of every pass and of the driver, the
#     end-to-end runs on x86-64 and under qemu-aarch64 / qemu-arm);
#  2. the same suites in the sanitizer build (build-asan/: ASan + UBSan, the
#     host runtime and the programs ternc links instrumented too);
#  3. every libFuzzer harness for TERNC_FUZZ_SECONDS (default 30) each.
# Usage: scripts/test.sh [--quick]     (--quick: step 1 only)
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
for a in "$@"; do
  case $a in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option '$a'" >&2; exit 1 ;;
  esac
done
LIT="/usr/bin/python3 /usr/lib/llvm-19/build/utils/lit/lit.py"
./scripts/install-deps.sh

suites() { # suites BUILD_DIR
  echo "== unit tests ($1)"
  ctest --test-dir "$1" --output-on-failure -j "$(nproc)"
  echo "== lit tests ($1)"
  $LIT -sv "$1/test"
}

start=$(date +%s)
./scripts/build.sh
suites "${BUILD_DIR:-build}"
echo "== regular suites: $(( $(date +%s) - start )) s"
[ "$QUICK" = 1 ] && exit 0

start=$(date +%s)
TERNC_SANITIZE=1 BUILD_DIR=build-asan ./scripts/build.sh
# allow_user_poisoning=0: see test/lit.cfg.py (LLVM's inline allocators).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allow_user_poisoning=0:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
suites build-asan
echo "== sanitizer suites: $(( $(date +%s) - start )) s"

start=$(date +%s)
BUILD_DIR=build-asan ./scripts/fuzz.sh "${TERNC_FUZZ_SECONDS:-30}"
echo "== fuzzing: $(( $(date +%s) - start )) s"
