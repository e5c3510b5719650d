#!/usr/bin/env bash
# Installs what is missing, builds ternc, compiles the bundled model (a
# trained ternary TinyStories model, bitllama2.c format, MIT) into one
# static program for this CPU, and lets it tell a story. With the ARM cross
# tools installed it also builds the same program for a Raspberry Pi 5
# (AArch64, Cortex-A76) and runs it under qemu.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
bin=$PWD/build/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model=models/bitllama2c-tinystories-1M

echo "== ternc $model -o story --cpu=native --weights=embed"
"$bin/ternc" "$model" -o "$work/story" --cpu=native --weights=embed
echo "== ./story -p \"Once upon a time\" -n 200 --temp 0.8 --seed 42"
"$work/story" -p "Once upon a time" -n 200 --temp 0.8 --seed 42
echo

if command -v qemu-aarch64 >/dev/null && command -v aarch64-linux-gnu-g++ >/dev/null; then
  echo "== the same for a Raspberry Pi 5: --target aarch64-linux-gnu --cpu cortex-a76 (run under qemu)"
  "$bin/ternc" "$model" -o "$work/story-rpi5" --target aarch64-linux-gnu \
    --cpu cortex-a76 --weights=embed -q
  qemu-aarch64 "$work/story-rpi5" -p "The little dog" -n 60 --temp 0
  echo
fi
