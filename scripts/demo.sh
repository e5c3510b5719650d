#!/usr/bin/env bash
# Installs what is missing, builds ternc, and runs its main job as far as it
# goes today: compile a ternary linear layer of the BitNet b1.58 2B4T shape
# (q_proj, 2560 -> 2560) from a weight store into a native object for this
# CPU and for a Raspberry Pi 5 class AArch64 CPU, link each with a small
# driver, and run both (AArch64 under qemu), checking every output against a
# scalar reference.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
bin=$PWD/build/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== a 2560x2560 ternary layer with per-tensor scale, 4 tokens"
"$bin/ternc-e2e-gen" "$work" 2025 4 2560 2560 per_tensor

echo "== compile for this machine (--cpu=native)"
"$bin/ternc" "$work/case.mlir" --cpu=native --weight-store "$work/store.safetensors" -o "$work/host.o"
g++ -O2 -ffp-contract=off -I runtime/include test/e2e/harness.cpp "$work/host.o" -o "$work/host"
"$work/host" "$work/ref.bin" "$work/host.o.weights"

if command -v qemu-aarch64 >/dev/null && command -v aarch64-linux-gnu-g++ >/dev/null; then
  echo "== cross-compile for AArch64 (cortex-a76, as in a Raspberry Pi 5) and run under qemu"
  "$bin/ternc" "$work/case.mlir" --target aarch64-linux-gnu --cpu cortex-a76 \
    --weight-store "$work/store.safetensors" -o "$work/a64.o"
  aarch64-linux-gnu-g++ -static -O2 -ffp-contract=off -I runtime/include \
    test/e2e/harness.cpp "$work/a64.o" -o "$work/a64"
  qemu-aarch64 "$work/a64" "$work/ref.bin" "$work/a64.o.weights"
fi
echo "== done: see README.md for the pipeline, and docs/architecture.md"
