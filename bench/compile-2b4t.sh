#!/usr/bin/env bash
# Compiles a synthetic model of exactly the BitNet b1.58 2B4T shape (random
# ternary weights, f16 embedding) and reports ternc's wall time and peak
# memory against the size of the packed weights, then runs the program.
# usage: bench/compile-2b4t.sh [FORMAT]   (FORMAT: gguf-i2_s (default),
#        gguf-tq1_0, gguf-tq2_0, hf). Needs ~2.5 GB of free disk in $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=${1:-gguf-i2_s}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ckpt=$work/model
[ "$fmt" = hf ] || ckpt=$work/model.gguf
echo "== generating the 2B4T-shaped $fmt checkpoint"
/usr/bin/python3 scripts/gen-synthetic.py --format "$fmt" --shape 2b4t --out "$ckpt" >/dev/null
echo "== compiling"
/usr/bin/time -v build/bin/ternc -q "$ckpt" --cpu=native -o "$work/prog" 2>"$work/time.log"
wall=$(grep "Elapsed (wall clock)" "$work/time.log" | awk '{print $NF}')
rss_kb=$(grep "Maximum resident set size" "$work/time.log" | awk '{print $NF}')
blob=$(stat -c %s "$work/prog.weights")
awk -v w="$wall" -v r="$rss_kb" -v b="$blob" 'BEGIN {
  printf "compile wall time %s; peak memory %.0f MB; packed weights %.0f MB; ratio %.2f\n",
         w, r / 1024, b / 1048576, r * 1024 / b }'
echo "== running 8 tokens"
"$work/prog" -p "" -n 8 --temp 0 --print-ids
