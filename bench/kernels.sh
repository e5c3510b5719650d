#!/usr/bin/env bash
# Google Benchmark microbenchmarks of ternc's kernels at the 2B4T layer
# shapes (bench/kernels.mlir), compiled for this CPU, one thread.
# usage: bench/kernels.sh [google benchmark flags]
# TERNC_BANDWIDTH_GBS (GB/s of one thread, e.g. from bench/bandwidth) adds a
# %roofline column; TERNC_KERNEL (dot, lut, lut3, lut4, lut5, portable;
# default: the cost model's choice) times another kernel family. Needs a
# build (scripts/build.sh); writes build/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
W=build/bench
mkdir -p "$W"
if [ ! -f "$W/kernel-store.safetensors" ]; then
  echo "== writing the kernel weight store (random 2B4T-shaped weights)" >&2
  /usr/bin/python3 bench/make-kernel-store.py "$W/kernel-store.safetensors"
fi
build/bin/ternc -q bench/kernels.mlir --cpu=native \
  --kernel="${TERNC_KERNEL:-auto}" \
  --weight-store "$W/kernel-store.safetensors" --emit=obj -o "$W/kernels.o"
clang++-19 -O2 -std=c++17 -I runtime/include -I runtime/src \
  bench/kernel-bench.cpp runtime/src/HugePages.cpp runtime/src/CpuFeatures.cpp \
  "$W/kernels.o" -lbenchmark -lpthread -o "$W/kernel-bench"
"$W/kernel-bench" "$W/kernels.o.weights" --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true "$@"
