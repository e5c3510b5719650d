// RUN: tern-opt %s --split-input-file | tern-opt --split-input-file | FileCheck %s
// RUN: tern-opt %s --split-input-file --mlir-print-op-generic | tern-opt --split-input-file | FileCheck %s

// CHECK: module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a76", features = "+dotprod", isa = ["neon", "dotprod"], vector_bits = 128>}
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a76", features = "+dotprod", isa = ["neon", "dotprod"], vector_bits = 128>} {
// CHECK: tern.weight @canon : !tern.ternary<640x2560, per_tensor, canonical> from "blk.0.attn_q.weight"
tern.weight @canon : !tern.ternary<640x2560, per_tensor, canonical> from "blk.0.attn_q.weight"
// CHECK: tern.weight @rows : !tern.ternary<7x13, per_row, interleaved<16>> from "w" at 128
tern.weight @rows : !tern.ternary<7x13, per_row, interleaved<16>> from "w" at 128
// CHECK: tern.weight @blocks : !tern.ternary<2x512, block<256>, interleaved<64>> from "b"
tern.weight @blocks : !tern.ternary<2x512, block<256>, interleaved<64>> from "b"
}

// -----

tern.weight @w : !tern.ternary<640x2560, per_row, canonical> from "w"

// CHECK-LABEL: func.func @decode
func.func @decode(%x: memref<1x2560xf32>, %q: memref<1x2560xi8>, %s: memref<1xf32>, %y: memref<1x640xf32>) {
  // CHECK: tern.quantize %{{.*}} into %{{.*}}, %{{.*}} : memref<1x2560xf32>, memref<1x2560xi8>, memref<1xf32>
  tern.quantize %x into %q, %s : memref<1x2560xf32>, memref<1x2560xi8>, memref<1xf32>
  // CHECK: tern.linear @w(%{{.*}}, %{{.*}}) into %{{.*}} : memref<1x2560xi8>, memref<1xf32>, memref<1x640xf32>
  tern.linear @w(%q, %s) into %y : memref<1x2560xi8>, memref<1xf32>, memref<1x640xf32>
  return
}

// CHECK-LABEL: func.func @prefill
// Dynamic token counts are allowed; K and N are not.
func.func @prefill(%x: memref<?x2560xf32>, %q: memref<?x2560xi8>, %s: memref<?xf32>, %y: memref<?x640xf32>) {
  // CHECK: tern.quantize {{.*}} : memref<?x2560xf32>, memref<?x2560xi8>, memref<?xf32>
  tern.quantize %x into %q, %s : memref<?x2560xf32>, memref<?x2560xi8>, memref<?xf32>
  // CHECK: tern.linear @w({{.*}} : memref<?x2560xi8>, memref<?xf32>, memref<?x640xf32>
  tern.linear @w(%q, %s) into %y : memref<?x2560xi8>, memref<?xf32>, memref<?x640xf32>
  return
}

// -----

tern.weight @p : !tern.ternary<3x5, per_tensor, canonical> from "p" at 0

// CHECK-LABEL: func.func @data
func.func @data() -> memref<128xi8> {
  // CHECK: tern.weight_data @p : memref<128xi8>
  %d = tern.weight_data @p : memref<128xi8>
  return %d : memref<128xi8>
}
