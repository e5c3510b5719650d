#!/usr/bin/env bash
# End-to-end: generate random tern.quantize + tern.linear cases, compile each
# with ternc for TARGET/CPU, link the object into harness.cpp (a scalar C++
# reference) and run it natively or under qemu.
#
# usage: run-e2e.sh TARGET CPU WORKDIR SEEDS...
#   TARGET  x86_64, aarch64 or armv7
#   SEEDS   numbers (random shapes) or M,N,K,SCALE tuples (fixed shapes)
# Tools come from PATH (ternc, ternc-e2e-gen); TERNC_E2E_FLAGS adds ternc
# options. Prints one line per case and a closing "N passed, N failed".
set -u
target=$1 cpu=$2 work=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
case $target in
x86_64)
  triple=x86_64-linux-gnu; cxx=${CXX_X86_64:-g++}; run=() ;;
aarch64)
  triple=aarch64-linux-gnu; cxx=aarch64-linux-gnu-g++
  run=(qemu-aarch64 -L /usr/aarch64-linux-gnu) ;;
armv7)
  triple=armv7-linux-gnueabihf; cxx=arm-linux-gnueabihf-g++
  run=(qemu-arm -L /usr/arm-linux-gnueabihf) ;;
*)
  echo "unknown target $target"; exit 2 ;;
esac

rm -rf "$work" && mkdir -p "$work"
# -ffp-contract=off: the reference must round every operation as written.
"$cxx" -O2 -ffp-contract=off -I "$here/../../runtime/include" -c "$here/harness.cpp" -o "$work/harness.o" || exit 2

pass=0 fail=0 i=0
for spec in "$@"; do
  i=$((i + 1))
  dir=$work/case$i
  mkdir -p "$dir"
  if [[ $spec == *,* ]]; then
    IFS=, read -r m n k scale <<<"$spec"
    gen=(ternc-e2e-gen "$dir" "$i" "$m" "$n" "$k" "$scale")
  else
    gen=(ternc-e2e-gen "$dir" "$spec")
  fi
  if ! desc=$("${gen[@]}" 2>&1) ||
     ! ternc -q "$dir/case.mlir" -o "$dir/case.o" --target "$triple" --cpu "$cpu" \
        --weight-store "$dir/store.safetensors" ${TERNC_E2E_FLAGS:-} 2>"$dir/ternc.err" ||
     ! "$cxx" -static "$work/harness.o" "$dir/case.o" -o "$dir/harness" 2>"$dir/link.err" ||
     ! out=$("${run[@]}" "$dir/harness" "$dir/ref.bin" "$dir/case.o.weights" 2>&1); then
    fail=$((fail + 1))
    echo "FAIL $target/$cpu $desc"
    cat "$dir"/*.err 2>/dev/null | head -5
    echo "${out:-}" | head -8
  else
    pass=$((pass + 1))
    echo "ok   $target/$cpu $desc"
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
