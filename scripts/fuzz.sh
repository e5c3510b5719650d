#!/usr/bin/env bash
# Runs every libFuzzer harness (fuzz/) for SECONDS each (default 30), two at a
# time, from seed corpora built from the project's real files and tiny
# synthetic checkpoints. Findings go to build-asan/fuzz/artifacts/; the
# corpora grow in build-asan/fuzz/corpus/ across runs.
# Usage: scripts/fuzz.sh [SECONDS] [FUZZER...]      (fuzzer names: fuzz/*.cpp)
# Exit status: non-zero if any harness found a crash, leak, timeout or
# out-of-memory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_EACH=${1:-30}
shift || true
export BUILD_DIR=${BUILD_DIR:-build-asan}
TERNC_SANITIZE=1 ./scripts/build.sh ternc-fuzzers tern-tokenize
FUZZ=$BUILD_DIR/fuzz
PY=/usr/bin/python3
# allow_user_poisoning=0: see test/lit.cfg.py (LLVM's inline allocators).
export ASAN_OPTIONS=${ASAN_OPTIONS:-allow_user_poisoning=0}

if [ $# -gt 0 ]; then
  NAMES=("$@")
else
  NAMES=()
  for f in fuzz/fuzz-*.cpp; do NAMES+=("$(basename "$f" .cpp)"); done
fi

# Seeds (rebuilt each run: cheap, and they follow the sources).
SEEDS=$FUZZ/seeds
rm -rf "$SEEDS" && mkdir -p "$SEEDS"
gen=$SEEDS/gen
mkdir -p "$gen"
for arch in 2b4t 1bitllm llama; do
  $PY scripts/gen-synthetic.py --format gguf-tq1_0,gguf-tq2_0,gguf-i2_s \
    --arch $arch --hidden 256 --ffn 256 --layers 1 --heads 2 --kv-heads 1 \
    --vocab 260 --ctx 32 --out "$gen/gguf-$arch" >/dev/null
  $PY scripts/gen-synthetic.py --format hf,hf-bf16 --arch $arch --hidden 64 \
    --ffn 64 --layers 1 --heads 2 --kv-heads 1 --vocab 260 --ctx 32 \
    --out "$gen/hf-$arch" >/dev/null
done
seed() { # seed FUZZER FILE...
  local dir=$SEEDS/$1
  shift
  mkdir -p "$dir"
  for f in "$@"; do cp "$f" "$dir/$(echo "$f" | tr / _)"; done
}
seed fuzz-gguf "$gen"/gguf-*/*.gguf test/data/tokenizers/gguf-vocab/*.gguf
seed fuzz-import-gguf "$gen"/gguf-*/*.gguf test/data/peer-gguf/*TQ1_0.gguf \
  test/data/peer-gguf/*TQ2_0.gguf test/data/peer-gguf/*I2_S.gguf
seed fuzz-import-bitllama2c models/bitllama2c-tinystories-1M/bit_model.bin
seed fuzz-safetensors "$gen"/hf-*/*/model.safetensors
seed fuzz-json "$gen"/hf-*/hf/*.json
seed fuzz-tokenizer-llama2c models/bitllama2c-tinystories-1M/tokenizer.bin
seed fuzz-tokenizer-gguf test/data/tokenizers/gguf-vocab/*.gguf \
  "$gen"/gguf-2b4t/model-tq2_0.gguf
seed fuzz-tokenizer-hfjson "$gen"/hf-*/hf/tokenizer.json
# The whole Llama 3 rank file and its first 3000 ranks.
head -n 3000 test/data/tokenizers/llama3/tokenizer.model > "$gen/tiktoken-3000"
seed fuzz-tokenizer-tiktoken "$gen/tiktoken-3000" \
  test/data/tokenizers/llama3/tokenizer.model
mkdir -p "$SEEDS/fuzz-tokenizer-serialized"
n=0
for t in models/bitllama2c-tinystories-1M/tokenizer.bin \
         test/data/tokenizers/gguf-vocab/*.gguf \
         test/data/tokenizers/llama3/tokenizer.model "$gen"/hf-*/hf; do
  "$BUILD_DIR/bin/tern-tokenize" --serialize \
    "$SEEDS/fuzz-tokenizer-serialized/$n.ttok" "$t"
  n=$((n + 1))
done
# fuzz-import-hf: u32 length of config.json, config.json, model.safetensors.
mkdir -p "$SEEDS/fuzz-import-hf"
for d in "$gen"/hf-*/hf "$gen"/hf-*/hf-bf16; do
  $PY - "$d" "$SEEDS/fuzz-import-hf/$(echo "$d" | tr / _)" <<'PYEOF'
import struct, sys
d, out = sys.argv[1], sys.argv[2]
cfg = open(d + '/config.json', 'rb').read()
st = open(d + '/model.safetensors', 'rb').read()
open(out, 'wb').write(struct.pack('<I', len(cfg)) + cfg + st)
PYEOF
done
# fuzz-tokenizer-encode: first byte picks the tokenizer, the rest is text.
mkdir -p "$SEEDS/fuzz-tokenizer-encode"
n=0
for inp in test/data/tokenizers/*/*.inp; do
  for pick in 0 1 2; do
    $PY - "$inp" "$pick" "$SEEDS/fuzz-tokenizer-encode/$n-$pick" <<'PYEOF'
import sys
text = open(sys.argv[1], 'rb').read().split(b'\n__ggml_vocab_test__\n')
best = max(text, key=len)[:4096]
open(sys.argv[3], 'wb').write(bytes([int(sys.argv[2])]) + best)
PYEOF
  done
  n=$((n + 1))
done

mkdir -p "$FUZZ/artifacts" "$FUZZ/logs"
rm -f "$FUZZ/failed"
run_one() {
  local name=$1
  local corpus=$FUZZ/corpus/$name
  mkdir -p "$corpus"
  # -rss_limit_mb also caps any single allocation: absurd sizes in a file
  # must be refused, not allocated.
  "$FUZZ/$name" -max_total_time="$SECONDS_EACH" -timeout=10 \
    -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1 \
    -artifact_prefix="$FUZZ/artifacts/$name-" \
    "$corpus" "$SEEDS/$name" >"$FUZZ/logs/$name.log" 2>&1
}
export -f run_one
export FUZZ SEEDS SECONDS_EACH
echo "fuzz: ${#NAMES[@]} harnesses x ${SECONDS_EACH} s, $(nproc) at a time"
status=0
printf '%s\n' "${NAMES[@]}" |
  xargs -P "$(nproc)" -I{} bash -c 'run_one {} || echo {} >> "$FUZZ/failed"' \
  || true
printf '%-28s %12s %10s %8s %8s\n' harness executions exec/s cov features
for name in "${NAMES[@]}"; do
  log=$FUZZ/logs/$name.log
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  printf '%-28s %12s %10s %8s %8s\n' "$name" "$runs" "$speed" "$cov" "$ft"
done
if [ -f "$FUZZ/failed" ]; then
  for name in $(cat "$FUZZ/failed"); do
    echo "== $name FAILED; log $FUZZ/logs/$name.log:"
    grep -E "ERROR|SUMMARY|invariant|Test unit written" "$FUZZ/logs/$name.log" | head -20
  done
  rm -f "$FUZZ/failed"
  status=1
fi
exit $status
