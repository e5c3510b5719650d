#!/usr/bin/env bash
# The performance benchmark, one command, on any machine:
#  1. read bandwidth with bench/bandwidth.cpp (a STREAM-like reduction) at
#     1, 2 and all threads: the roofline;
#  2. a synthetic checkpoint of exactly the BitNet b1.58 2B4T shape (random
#     ternary weights, f16 tied embedding/LM head as in the official GGUF),
#     generated once into build/bench/;
#  3. ternc compiles it for this CPU;
#  4. the program's --bench (pp128, tg64) RUNS times at each thread count;
#     medians in tokens/s, decode GB/s (weight bytes read per token x tg64)
#     and % of the bandwidth roofline: the higher of step 1's medians and
#     those of the same measurement repeated after the runs; and, since the
#     machine's bandwidth moves within minutes, the median of each run's
#     % of a short bandwidth read just before it (the paired roofline);
#  5. the kernel microbenchmarks (bench/kernels.sh).
# usage: bench/run.sh [--runs N] [--format gguf-i2_s|gguf-tq2_0|gguf-tq1_0]
#                     [--no-kernels]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3 FMT=gguf-i2_s KERNELS=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --format) FMT=$2; shift 2 ;;
    --no-kernels) KERNELS=0; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option '$1'" >&2; exit 1 ;;
  esac
done
./scripts/build.sh >/dev/null
W=build/bench
mkdir -p "$W"
THREADS=$(printf '%s\n' 1 2 "$(nproc)" | sort -nu | tr '\n' ' ')

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) threads"
# Clang 19 warns about the feature list it detects on some Intel hosts
# (avx10.1-256 promoted to -512): the tool's code is plain C++.
clang++-19 -O3 -march=native -Wno-invalid-feature-combination -pthread \
  bench/bandwidth.cpp -o "$W/bandwidth"
echo "== read bandwidth (2 GiB, median of 7)"
"$W/bandwidth" --reps 7 $THREADS | tee "$W/bandwidth.txt"

ckpt=$W/2b4t-$FMT.gguf
if [ ! -f "$ckpt" ]; then
  echo "== generating the 2B4T-shaped $FMT checkpoint (once)"
  /usr/bin/python3 scripts/gen-synthetic.py --format "$FMT" --shape 2b4t \
    --out "$ckpt.tmp" >/dev/null
  mv "$ckpt.tmp" "$ckpt"
fi
echo "== compiling $ckpt"
build/bin/ternc -q "$ckpt" --cpu=native -o "$W/prog-2b4t"

echo "== prog --bench, $RUNS runs per thread count, each after a short bandwidth read"
: > "$W/runs.txt"
for t in $THREADS; do
  for r in $(seq "$RUNS"); do
    # The same minute's bandwidth (the machine's moves within minutes): the
    # paired roofline of this run.
    "$W/bandwidth" --reps 3 "$t" | grep -o 'median=[0-9.]*' | cut -d= -f2 |
      sed "s/^/$t bandwidth /" | tee -a "$W/runs.txt"
    "$W/prog-2b4t" --bench -t "$t" 2>/dev/null | sed "s/^/$t /" | tee -a "$W/runs.txt"
  done
done
# The machine's bandwidth moves with its other tenants within minutes
# (two threads have read 34 and 63 GB/s in one quarter hour): measured
# again after the runs, the roofline is the higher of the two medians.
echo "== read bandwidth again, after the runs"
"$W/bandwidth" --reps 7 $THREADS | tee -a "$W/bandwidth.txt"

# The weight bytes a decoded token reads, as the program counts them
# (tg64-bytes): the whole weight file with a tied LM head (the embedding
# row lookup aside), less the head's rows a screened head did not compute;
# the KV cache at the <= 192 positions of tg64 after BOS adds well under
# 1%.
/usr/bin/python3 - "$W/bandwidth.txt" "$W/runs.txt" <<'PY'
import re, statistics, sys
bw = {}
for m in re.finditer(r"threads=(\d+) median=([\d.]+)", open(sys.argv[1]).read()):
    bw[int(m.group(1))] = max(bw.get(int(m.group(1)), 0.0), float(m.group(2)))
runs = {}
for line in open(sys.argv[2]):
    t, what, v = line.split()
    runs.setdefault(int(t), {}).setdefault(what, []).append(float(v))
B = statistics.median(v for t in runs for v in runs[t]["tg64-bytes"])
print("\n== results (medians; weights read per decoded token: %.0f MB)" % (B / 1e6))
print("| threads | bandwidth GB/s | roofline tok/s | pp128 tok/s | tg64 tok/s | decode GB/s | % of roofline | % of paired roofline |")
print("|---|---|---|---|---|---|---|---|")
for t in sorted(runs):
    pp = statistics.median(runs[t]["pp128"]); tg = statistics.median(runs[t]["tg64"])
    gbs = tg * B / 1e9
    roof = bw[t] * 1e9 / B
    # Each run against the bandwidth read just before it, then the median.
    paired = statistics.median(
        100 * g * B / 1e9 / w for g, w in zip(runs[t]["tg64"], runs[t]["bandwidth"]))
    print("| %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f%% | %.0f%% |" %
          (t, bw[t], roof, pp, tg, gbs, 100 * gbs / bw[t], paired))
print("(% of roofline: the median tg64 against the higher of the bandwidth medians"
      " before and after; % of paired roofline: the median of each run's tg64"
      " against the bandwidth read just before it)")
PY

if [ "$KERNELS" = 1 ]; then
  echo "== kernel microbenchmarks (one thread)"
  TERNC_BANDWIDTH_GBS=$(grep -o 'threads=1 median=[0-9.]*' "$W/bandwidth.txt" |
    cut -d= -f3 | sort -n | tail -1) \
    bench/kernels.sh
fi
