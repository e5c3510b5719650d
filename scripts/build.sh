#!/usr/bin/env bash
# Configures (once) and builds ternc into build/ with Ninja and ccache.
# Usage: scripts/build.sh [ninja targets...]
# TERNC_SANITIZE=1 builds the sanitizer configuration (ASan + UBSan, and the
# libFuzzer harnesses) into build-asan/ instead.
set -euo pipefail
cd "$(dirname "$0")/.."
SANITIZE=OFF
if [ "${TERNC_SANITIZE:-0}" = 1 ]; then
  SANITIZE=ON
  BUILD_DIR=${BUILD_DIR:-build-asan}
fi
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release -DTERNC_SANITIZE=$SANITIZE \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DCMAKE_EXE_LINKER_FLAGS=--ld-path=/usr/bin/ld.lld-19 \
    -DCMAKE_SHARED_LINKER_FLAGS=--ld-path=/usr/bin/ld.lld-19 \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-19/build/utils/lit/lit.py \
    -DMLIR_DIR=/usr/lib/llvm-19/lib/cmake/mlir
fi
cmake --build "$BUILD_DIR" -j "$JOBS" ${1:+--target "$@"}
