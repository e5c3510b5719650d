// RUN: tern-opt %s --split-input-file --tern-select-layout --verify-diagnostics | FileCheck %s
// The option overrides the target; the module without a target then passes.
// RUN: not tern-opt %s --split-input-file --tern-select-layout=chunk=128 > %t 2> %t.err
// RUN: FileCheck %s --check-prefix=FORCED < %t
// RUN: FileCheck %s --check-prefix=FORCED-ERR < %t.err
// RUN: not tern-opt %s --split-input-file --tern-select-layout="chunk=128 rows=2" 2>/dev/null | FileCheck %s --check-prefix=ROWS
// kernel=portable: the portable kernel's chunks (vector_bits / 8) even
// where the target has a dot product, recorded on the module.
// (Some splits fail on purpose; their errors are checked above.)
// RUN: not tern-opt %s --split-input-file --tern-select-layout=kernel=portable > %t.portable 2>/dev/null
// RUN: FileCheck %s --check-prefix=PORTABLE < %t.portable
// RUN: not tern-opt %s --split-input-file --tern-select-layout=kernel=lookup 2>&1 | FileCheck %s --check-prefix=BAD-KERNEL
// kernel=lut: lut<R> wherever the target has a byte table lookup (R its
// bytes), block scales stay interleaved; a target without one is an error.
// RUN: not tern-opt %s --split-input-file --tern-select-layout=kernel=lut > %t.lut 2> %t.lut.err
// RUN: FileCheck %s --check-prefix=LUT < %t.lut
// RUN: FileCheck %s --check-prefix=LUT-ERR < %t.lut.err
// kernel=lut3: lut3<R>, R as for lut.
// RUN: not tern-opt %s --split-input-file --tern-select-layout=kernel=lut3 > %t.lut3 2> %t.lut3.err
// RUN: FileCheck %s --check-prefix=LUT3 < %t.lut3
// RUN: FileCheck %s --check-prefix=LUT3-ERR < %t.lut3.err
// kernel=lut4: lut4<64> with AVX-512 VBMI, lut4<16> on AArch64 NEON; an
// error elsewhere.
// RUN: not tern-opt %s --split-input-file --tern-select-layout=kernel=lut4 > %t.lut4 2> %t.lut4.err
// RUN: FileCheck %s --check-prefix=LUT4 < %t.lut4
// RUN: FileCheck %s --check-prefix=LUT4-ERR < %t.lut4.err
// kernel=lut5: lut5<64> where the target has AVX-512 VBMI, block scales
// stay interleaved; a target without it is an error.
// RUN: not tern-opt %s --split-input-file --tern-select-layout=kernel=lut5 > %t.lut5 2> %t.lut5.err
// RUN: FileCheck %s --check-prefix=LUT5 < %t.lut5
// RUN: FileCheck %s --check-prefix=LUT5-ERR < %t.lut5.err
// kernel=dot: an error where the target has no int8 dot product.
// RUN: not tern-opt %s --split-input-file --tern-select-layout=kernel=dot > %t.dot 2> %t.dot.err
// RUN: FileCheck %s --check-prefix=DOT < %t.dot
// RUN: FileCheck %s --check-prefix=DOT-ERR < %t.dot.err
// PORTABLE: module attributes {tern.kernel_family = "portable", tern.target = #tern.target<{{.*}}cpu = "znver4"
// PORTABLE: tern.weight @a : !tern.ternary<640x2560, per_tensor, interleaved<64>>
// PORTABLE: cpu = "haswell"
// PORTABLE: tern.weight @a : !tern.ternary<640x2560, per_tensor, interleaved<32>>
// BAD-KERNEL: error: tern-select-layout: unknown kernel family 'lookup' (auto, dot, lut, lut3, lut4, lut5 or portable)
// LUT: cpu = "znver4"
// LUT: tern.weight @a : !tern.ternary<640x2560, per_tensor, lut<64>>
// LUT: tern.weight @c : !tern.ternary<8x192, block<96>, interleaved<32>>
// LUT: cpu = "haswell"
// LUT: tern.weight @a : !tern.ternary<640x2560, per_tensor, lut<32>>
// LUT-ERR: error: kernel family 'lut' needs a byte table lookup {{.*}}; generic has none
// LUT3: cpu = "znver4"
// LUT3: tern.weight @a : !tern.ternary<640x2560, per_tensor, lut3<64>>
// LUT3: tern.weight @c : !tern.ternary<8x192, block<96>, interleaved<32>>
// LUT3: cpu = "haswell"
// LUT3: tern.weight @a : !tern.ternary<640x2560, per_tensor, lut3<32>>
// LUT3-ERR: error: kernel family 'lut3' needs a byte table lookup {{.*}}; generic has none
// LUT4: cpu = "cortex-a72"
// LUT4: tern.weight @a : !tern.ternary<640x2560, per_row, lut4<16>>
// LUT4: cpu = "sapphirerapids"
// LUT4: tern.weight @a : !tern.ternary<2560x6912, per_row, lut4<64>>
// LUT4: tern.weight @b : !tern.ternary<8x192, block<96>, interleaved<32>>
// LUT4-ERR: error: kernel family 'lut4' needs a 64-byte table lookup (AVX-512 VBMI vpermb, AArch64 NEON tbl); znver4 has none
// LUT5: cpu = "sapphirerapids"
// LUT5: tern.weight @a : !tern.ternary<2560x6912, per_row, lut5<64>>
// LUT5: tern.weight @b : !tern.ternary<8x192, block<96>, interleaved<32>>
// LUT5-ERR: error: kernel family 'lut5' needs AVX-512 VBMI (vpermi2b on zmm); znver4 has none
// DOT: cpu = "znver4"
// DOT: tern.weight @a : !tern.ternary<640x2560, per_tensor, interleaved<256, 4>>
// DOT-ERR: error: kernel family 'dot' needs an int8 dot product {{.*}}; cortex-a72 has none

// AVX-512BW: a bit plane of a 256-weight chunk fills one zmm of bytes for
// the u8 x s8 kernels; a short row whose padding would grow by more than 1/8
// takes 64. Rows in groups of 4, the rows a decode tile computes with 32
// registers; chunks under 256 (the portable kernel's) and block scales one
// row at a time.
// CHECK-LABEL: module attributes {tern.target = #tern.target<{{.*}}cpu = "znver4"
// CHECK: tern.weight @a : !tern.ternary<640x2560, per_tensor, interleaved<256, 4>>
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
// ROWS-LABEL: cpu = "znver4"
// ROWS: @a : !tern.ternary<640x2560, per_tensor, interleaved<128, 2>>
// ROWS: @c : !tern.ternary<8x192, block<96>, interleaved<32>>
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512bw"], vector_bits = 512>} {
  tern.weight @a : !tern.ternary<640x2560, per_tensor, canonical> from "a"
  tern.weight @b : !tern.ternary<8x100, per_row, canonical> from "b"
  tern.weight @c : !tern.ternary<8x192, block<96>, canonical> from "c"
  tern.weight @d : !tern.ternary<8x64, per_row, interleaved<16>> from "d"
}

// -----

// AVX2: a bit plane of a 128-weight chunk fills one ymm of bytes; rows in
// groups of 2 (16 registers).
// CHECK-LABEL: cpu = "haswell"
// CHECK: tern.weight @a : !tern.ternary<640x2560, per_tensor, interleaved<128, 2>>
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["avx2"], vector_bits = 256>} {
  tern.weight @a : !tern.ternary<640x2560, per_tensor, canonical> from "a"
}

// -----

// AArch64 NEON without dotprod: the cost model takes the tbl lookups (16
// rows per table index vector) over widening multiplies, groups of three
// (1.67 bits a weight, a lookup per three weights) over pairs; block scales
// keep the portable kernel, chunks of 16.
// CHECK-LABEL: cpu = "cortex-a72"
// CHECK: tern.weight @a : !tern.ternary<640x2560, per_row, lut3<16>>
// CHECK: tern.weight @b : !tern.ternary<4x256, block<128>, interleaved<16>>
// PORTABLE: cpu = "cortex-a72"
// PORTABLE: tern.weight @a : !tern.ternary<640x2560, per_row, interleaved<16>>
// LUT: cpu = "cortex-a72"
// LUT: tern.weight @a : !tern.ternary<640x2560, per_row, lut<16>>
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a72", isa = ["neon"], vector_bits = 128>} {
  tern.weight @a : !tern.ternary<640x2560, per_row, canonical> from "a"
  tern.weight @b : !tern.ternary<4x256, block<128>, canonical> from "b"
}

// -----

// ARMv7 NEON: vtbl looks up 8 rows at a time.
// CHECK-LABEL: triple = "armv7-unknown-linux-gnueabihf", cpu = "cortex-a72"
// CHECK: tern.weight @a : !tern.ternary<100x64, per_tensor, lut3<8>>
module attributes {tern.target = #tern.target<triple = "armv7-unknown-linux-gnueabihf", cpu = "cortex-a72", isa = ["neon"], vector_bits = 128>} {
  tern.weight @a : !tern.ternary<100x64, per_tensor, canonical> from "a"
}

// -----

// ARMv7 without NEON, x86-64 with SSSE3 only: no dot product; pshufb is a
// table lookup, the baseline ARM core has none (portable).
// CHECK-LABEL: cpu = "generic"
// CHECK: tern.weight @a : !tern.ternary<100x64, per_tensor, interleaved<16>>
module attributes {tern.target = #tern.target<triple = "armv7-unknown-linux-gnueabihf", cpu = "generic", isa = [], vector_bits = 64>} {
  tern.weight @a : !tern.ternary<100x64, per_tensor, canonical> from "a"
}

// -----

// SSSE3 only: pshufb lookups of pairs (on x86 the triples, cheaper by the
// counts, measured slower: the cost model's calibration).
// CHECK-LABEL: cpu = "x86-64-v2"
// CHECK: tern.weight @a : !tern.ternary<100x64, per_tensor, lut<16>>
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "x86-64-v2", isa = ["ssse3"], vector_bits = 128>} {
  tern.weight @a : !tern.ternary<100x64, per_tensor, canonical> from "a"
}

// -----

// NEON with dotprod: chunks of 64, so each bit plane (16 weights) feeds one
// sdot.
// CHECK-LABEL: cpu = "cortex-a76"
// CHECK: tern.weight @a : !tern.ternary<640x2560, per_row, interleaved<64, 4>>
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a76", isa = ["neon", "dotprod"], vector_bits = 128>} {
  tern.weight @a : !tern.ternary<640x2560, per_row, canonical> from "a"
}

// -----

// AVX-512 VNNI: chunks of 256, so each bit plane (64 weights) feeds one
// vpdpbusd; rows that 256 would pad by more than 1/8 over chunks of 64 keep
// chunks of 64 (K = 320: 512 vs 320), K = 2560 and 6912 fill whole chunks.
// CHECK-LABEL: cpu = "znver4"
// CHECK: tern.weight @a : !tern.ternary<640x2560, per_row, interleaved<256, 4>>
// CHECK: tern.weight @b : !tern.ternary<2560x6912, per_tensor, interleaved<256, 4>>
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

// -----

// AVX-512 VBMI and VNNI: the cost model keeps the dot product (a lut5
// prefill reads each token's tables from L2).
// CHECK-LABEL: cpu = "sapphirerapids"
// CHECK: tern.weight @a : !tern.ternary<2560x6912, per_row, interleaved<256, 4>>
// CHECK: tern.weight @b : !tern.ternary<8x192, block<96>, interleaved<32>>
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "sapphirerapids", isa = ["avx2", "avx512f", "avx512bw", "avx512vbmi", "avx512vnni"], vector_bits = 512>} {
  tern.weight @a : !tern.ternary<2560x6912, per_row, canonical> from "a"
  tern.weight @b : !tern.ternary<8x192, block<96>, canonical> from "b"
}

// -----

// With AMX-INT8 as well, both families prefill on the tiles, and decode,
// bound by the weights' bytes, decides: lut5<64> (1.6 bits a weight) for
// 2B4T's shapes; the dot product for a weight of few rows (lut5's tables
// cost per column and token, shared by the rows) and for block scales.
// CHECK-LABEL: cpu = "sapphirerapids"
// CHECK: tern.weight @a : !tern.ternary<2560x6912, per_row, lut5<64>>
// CHECK: tern.weight @b : !tern.ternary<640x2560, per_tensor, lut5<64>>
// CHECK: tern.weight @c : !tern.ternary<16x2560, per_row, interleaved<256, 4>>
// CHECK: tern.weight @d : !tern.ternary<8x192, block<96>, interleaved<32>>
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "sapphirerapids", isa = ["avx2", "avx512f", "avx512bw", "avx512vbmi", "avx512vnni", "amx-int8"], vector_bits = 512>} {
  tern.weight @a : !tern.ternary<2560x6912, per_row, canonical> from "a"
  tern.weight @b : !tern.ternary<640x2560, per_tensor, canonical> from "b"
  tern.weight @c : !tern.ternary<16x2560, per_row, canonical> from "c"
  tern.weight @d : !tern.ternary<8x192, block<96>, canonical> from "d"
}
