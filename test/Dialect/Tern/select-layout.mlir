// RUN: tern-opt %s --split-input-file --tern-select-layout --verify-diagnostics | FileCheck %s
// The option overrides the target; the module without a target then passes.
// RUN: not tern-opt %s --split-input-file --tern-select-layout=chunk=128 > %t 2> %t.err
// RUN: FileCheck %s --check-prefix=FORCED < %t
// RUN: FileCheck %s --check-prefix=FORCED-ERR < %t.err
// kernel=portable: the portable kernel's chunks (vector_bits / 8) even
// where the target has a dot product, recorded on the module.
// (Some splits fail on purpose; their errors are checked above.)
// RUN: not tern-opt %s --split-input-file --tern-select-layout=kernel=portable > %t.portable 2>/dev/null
// RUN: FileCheck %s --check-prefix=PORTABLE < %t.portable
// RUN: not tern-opt %s --split-input-file --tern-select-layout=kernel=lut 2>&1 | FileCheck %s --check-prefix=BAD-KERNEL
// PORTABLE: module attributes {tern.kernel_family = "portable", tern.target = #tern.target<{{.*}}cpu = "znver4"
// PORTABLE: tern.weight @a : !tern.ternary<640x2560, per_tensor, interleaved<64>>
// PORTABLE: cpu = "haswell"
// PORTABLE: tern.weight @a : !tern.ternary<640x2560, per_tensor, interleaved<32>>
// BAD-KERNEL: error: tern-select-layout: unknown kernel family 'lut' (auto or portable)

// AVX-512BW: a bit plane of a 256-weight chunk fills one zmm of bytes for
// the u8 x s8 kernels; a short row whose padding would grow by more than 1/8
// takes 64.
// CHECK-LABEL: module attributes {tern.target = #tern.target<{{.*}}cpu = "znver4"
// CHECK: tern.weight @a : !tern.ternary<640x2560, per_tensor, interleaved<256>>
// CHECK: tern.weight @b : !tern.ternary<8x100, per_row, interleaved<64>>
// Block of 96: the chunk halves until it divides the block.
// CHECK: tern.weight @c : !tern.ternary<8x192, block<96>, interleaved<32>>
// Already chosen layouts stay.
// CHECK: tern.weight @d : !tern.ternary<8x64, per_row, interleaved<16>>
// FORCED-LABEL: module attributes {tern.target = #tern.target<{{.*}}cpu = "znver4"
// FORCED: @a : !tern.ternary<640x2560, per_tensor, interleaved<128>>
// FORCED: @c : !tern.ternary<8x192, block<96>, interleaved<32>>
// FORCED-ERR: error: 'tern.weight' op has block<12> scales
// FORCED: tern.weight @a : !tern.ternary<4x64, per_row, interleaved<128>>
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512bw"], vector_bits = 512>} {
  tern.weight @a : !tern.ternary<640x2560, per_tensor, canonical> from "a"
  tern.weight @b : !tern.ternary<8x100, per_row, canonical> from "b"
  tern.weight @c : !tern.ternary<8x192, block<96>, canonical> from "c"
  tern.weight @d : !tern.ternary<8x64, per_row, interleaved<16>> from "d"
}

// -----

// AVX2: a bit plane of a 128-weight chunk fills one ymm of bytes.
// CHECK-LABEL: cpu = "haswell"
// CHECK: tern.weight @a : !tern.ternary<640x2560, per_tensor, interleaved<128>>
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["avx2"], vector_bits = 256>} {
  tern.weight @a : !tern.ternary<640x2560, per_tensor, canonical> from "a"
}

// -----

// NEON: 128-bit vectors, chunks of 16.
// CHECK-LABEL: cpu = "cortex-a72"
// CHECK: tern.weight @a : !tern.ternary<640x2560, per_row, interleaved<16>>
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a72", isa = ["neon"], vector_bits = 128>} {
  tern.weight @a : !tern.ternary<640x2560, per_row, canonical> from "a"
}

// -----

// NEON with dotprod: chunks of 64, so each bit plane (16 weights) feeds one
// sdot.
// CHECK-LABEL: cpu = "cortex-a76"
// CHECK: tern.weight @a : !tern.ternary<640x2560, per_row, interleaved<64>>
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a76", isa = ["neon", "dotprod"], vector_bits = 128>} {
  tern.weight @a : !tern.ternary<640x2560, per_row, canonical> from "a"
}

// -----

// AVX-512 VNNI: chunks of 256, so each bit plane (64 weights) feeds one
// vpdpbusd; rows that 256 would pad by more than 1/8 over chunks of 64 keep
// chunks of 64 (K = 320: 512 vs 320), K = 2560 and 6912 fill whole chunks.
// CHECK-LABEL: cpu = "znver4"
// CHECK: tern.weight @a : !tern.ternary<640x2560, per_row, interleaved<256>>
// CHECK: tern.weight @b : !tern.ternary<2560x6912, per_tensor, interleaved<256>>
// CHECK: tern.weight @c : !tern.ternary<8x320, per_tensor, interleaved<64>>
// CHECK: tern.weight @d : !tern.ternary<8x64, per_tensor, interleaved<64>>
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
  tern.weight @a : !tern.ternary<640x2560, per_row, canonical> from "a"
  tern.weight @b : !tern.ternary<2560x6912, per_tensor, canonical> from "b"
  tern.weight @c : !tern.ternary<8x320, per_tensor, canonical> from "c"
  tern.weight @d : !tern.ternary<8x64, per_tensor, canonical> from "d"
}

// -----

// A block that no chunk of 16 or more divides cannot be interleaved.
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a76", isa = ["neon"], vector_bits = 128>} {
  // expected-error@+1 {{'tern.weight' op has block<12> scales: the vector kernels need a block size that is a multiple of 16}}
  tern.weight @a : !tern.ternary<4x24, block<12>, canonical> from "a"
}

// -----

// expected-error@+1 {{tern-select-layout needs a #tern.target in the module's 'tern.target' attribute}}
module {
  tern.weight @a : !tern.ternary<4x64, per_row, canonical> from "a"
}
