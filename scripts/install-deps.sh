#!/usr/bin/env bash
# Installs every Debian package ternc needs to build, test and cross-compile.
# Idempotent and non-interactive: packages already present are skipped, and
# `apt-get update` runs at most once.
set -euo pipefail

PKGS=(
  # Toolchain and build.
  cmake ninja-build ccache g++ git file
  # LLVM/MLIR 19 (libzstd-dev: LLVM's CMake exports need it).
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19 lld-19
  libzstd-dev zlib1g-dev libxml2-dev libedit-dev libcurl4-openssl-dev
  libffi-dev libncurses-dev
  # Tests and benchmarks.
  libgtest-dev libbenchmark-dev python3 python3-numpy
  # Fuzzing and sanitizers (libFuzzer, ASan and UBSan runtimes for clang-19).
  libclang-rt-19-dev
  # Cross compilation and emulation for ARM boards.
  g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
