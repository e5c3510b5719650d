#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite: the unit tests
# (GoogleTest via ctest) and the lit suite (FileCheck tests of every pass and
# of the driver, and the end-to-end runs on x86-64 and under qemu-aarch64).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}

echo "== unit tests"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"

echo "== lit tests"
/usr/bin/python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv "$BUILD_DIR/test"
