// RUN: tern-opt %s --split-input-file --tern-pack-weights | FileCheck %s

// Entries follow module order, each 64-byte aligned: codes, then scales at
// the next 64-byte boundary.
// CHECK-LABEL: module attributes {tern.weights_size = 1408 : i64}
// 37 rows x 128 padded cols / 4 = 1184 code bytes; scales at 1216; 1216 + 37*4 = 1364 -> 1408.
// CHECK: tern.weight @a : !tern.ternary<37x83, per_row, interleaved<64>> from "a" at 0
module {
  tern.weight @a : !tern.ternary<37x83, per_row, interleaved<64>> from "a"
}

// -----

// Row groups of 4 pad the rows to 40: 40 x 32 = 1280 code bytes; scales at
// 1280; 1280 + 37*4 = 1428 -> 1472.
// CHECK-LABEL: module attributes {tern.weights_size = 1472 : i64}
// CHECK: tern.weight @a : !tern.ternary<37x83, per_row, interleaved<64, 4>> from "a" at 0
module {
  tern.weight @a : !tern.ternary<37x83, per_row, interleaved<64, 4>> from "a"
}

// -----

// CHECK-LABEL: module attributes {tern.weights_size = 576 : i64}
// @x: 3 rows x 2 bytes = 6 code bytes, scale at 64, entry 128 bytes.
// CHECK: tern.weight @x : !tern.ternary<3x5, per_tensor, canonical> from "x" at 0
// @y at 128: 4 rows x 64 bytes = 256 code bytes, 8 scales (2 blocks per row)
// at 256: alignTo(256 + 32, 64) = 320 bytes.
// CHECK: tern.weight @y : !tern.ternary<4x256, block<128>, interleaved<64>> from "y" at 128
// Offsets already present are recomputed. @z: 1 code byte, scale at 64: 128 bytes.
// CHECK: tern.weight @z : !tern.ternary<1x1, per_tensor, canonical> from "z" at 448
module {
  tern.weight @x : !tern.ternary<3x5, per_tensor, canonical> from "x"
  tern.weight @y : !tern.ternary<4x256, block<128>, interleaved<64>> from "y"
  tern.weight @z : !tern.ternary<1x1, per_tensor, canonical> from "z" at 4096
}

// -----

// A module without weights has an empty blob.
// CHECK-LABEL: module attributes {tern.weights_size = 0 : i64}
module {
}

// -----

// Dense parameters share the blob: elements only, 64-byte aligned.
// CHECK-LABEL: module attributes {tern.weights_size = 320 : i64}
// CHECK: tern.param @norm : memref<5xf32> from "norm" at 0
// CHECK: tern.weight @w : !tern.ternary<2x8, per_row, canonical> from "w" at 64
// CHECK: tern.param @head : memref<3x20xf16> from "head" at 192
module {
  tern.param @norm : memref<5xf32> from "norm"
  tern.weight @w : !tern.ternary<2x8, per_row, canonical> from "w"
  tern.param @head : memref<3x20xf16> from "head"
}

// -----

// An int8 parameter with row scales: 3x100 codes (300 bytes), scales at 320,
// entry 320 + 12 -> 384 bytes.
// CHECK-LABEL: module attributes {tern.weights_size = 448 : i64}
// CHECK: tern.param @head8 : memref<3x100xi8> from "head" row_scales at 0
// CHECK: tern.param @norm : memref<5xf32> from "norm" at 384
module {
  tern.param @head8 : memref<3x100xi8> from "head" row_scales
  tern.param @norm : memref<5xf32> from "norm"
}
