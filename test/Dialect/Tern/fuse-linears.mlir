// RUN: tern-opt %s --split-input-file --tern-fuse-linears | FileCheck %s

// A layer's Q, K and V projections read the same activations: one
// tern.linear with three weights and three outputs, in order, where the last
// one was. The subviews between them are pure and stay where they were.
tern.weight @q : !tern.ternary<64x64, per_tensor, canonical> from "q"
tern.weight @k : !tern.ternary<16x64, per_tensor, canonical> from "k"
tern.weight @v : !tern.ternary<16x64, per_tensor, canonical> from "v"
// CHECK-LABEL: func.func @qkv
// CHECK-SAME: (%[[X:.*]]: memref<1x64xi8>, %[[S:.*]]: memref<1xf32>, %[[YQ:.*]]: memref<1x64xf32>, %[[KC:.*]]: memref<8x16xf32>, %[[VC:.*]]: memref<8x16xf32>, %[[P:.*]]: index)
// CHECK: %[[K:.*]] = memref.subview %[[KC]]
// CHECK: %[[V:.*]] = memref.subview %[[VC]]
// CHECK-NEXT: tern.linear @q, @k, @v(%[[X]], %[[S]]) into %[[YQ]], %[[K]], %[[V]] : memref<1x64xi8>, memref<1xf32>, memref<1x64xf32>, memref<1x16xf32, strided<[16, 1], offset: ?>>, memref<1x16xf32, strided<[16, 1], offset: ?>>
// CHECK-NEXT: tern.rope
// CHECK-NOT: tern.linear
func.func @qkv(%x: memref<1x64xi8>, %s: memref<1xf32>, %yq: memref<1x64xf32>, %kc: memref<8x16xf32>, %vc: memref<8x16xf32>, %pos: index) {
  tern.linear @q(%x, %s) into %yq : memref<1x64xi8>, memref<1xf32>, memref<1x64xf32>
  %k = memref.subview %kc[%pos, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
  tern.linear @k(%x, %s) into %k : memref<1x64xi8>, memref<1xf32>, memref<1x16xf32, strided<[16, 1], offset: ?>>
  %v = memref.subview %vc[%pos, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
  tern.linear @v(%x, %s) into %v : memref<1x64xi8>, memref<1xf32>, memref<1x16xf32, strided<[16, 1], offset: ?>>
  tern.rope half_split %yq at %pos {head_dim = 16 : i64, theta = 1.0e+04 : f32} : memref<1x64xf32>
  return
}

// -----

// Gate and up, with a dynamic token count (prefill); the down projection
// reads other activations and stays alone.
tern.weight @gate : !tern.ternary<96x64, per_row, canonical> from "gate"
tern.weight @up : !tern.ternary<96x64, per_row, canonical> from "up"
tern.weight @down : !tern.ternary<64x96, per_row, canonical> from "down"
// CHECK-LABEL: func.func @ffn
// CHECK: tern.linear @gate, @up(%{{.*}}, %{{.*}}) into %{{.*}}, %{{.*}} : memref<?x64xi8>, memref<?xf32>, memref<?x96xf32>, memref<?x96xf32>
// CHECK: tern.glu
// CHECK: tern.quantize
// CHECK: tern.linear @down(
func.func @ffn(%x: memref<?x64xi8>, %s: memref<?xf32>, %g: memref<?x96xf32>, %u: memref<?x96xf32>, %h: memref<?x96xf32>, %hq: memref<?x96xi8>, %hs: memref<?xf32>, %y: memref<?x64xf32>) {
  tern.linear @gate(%x, %s) into %g : memref<?x64xi8>, memref<?xf32>, memref<?x96xf32>
  tern.linear @up(%x, %s) into %u : memref<?x64xi8>, memref<?xf32>, memref<?x96xf32>
  tern.glu relu2 %g, %u into %h : memref<?x96xf32>, memref<?x96xf32>, memref<?x96xf32>
  tern.quantize %h into %hq, %hs : memref<?x96xf32>, memref<?x96xi8>, memref<?xf32>
  tern.linear @down(%hq, %hs) into %y : memref<?x96xi8>, memref<?xf32>, memref<?x64xf32>
  return
}

// -----

// Not fused: an op with memory effects between (it could read the first
// output or write the input), different activations, a different scheme.
// The two linears between those that do share their activations are.
tern.weight @a : !tern.ternary<8x64, per_tensor, canonical> from "a"
tern.weight @b : !tern.ternary<8x64, per_tensor, canonical> from "b"
// CHECK-LABEL: func.func @apart
// CHECK: tern.linear @a(
// CHECK-NEXT: memref.store
// CHECK-NEXT: tern.linear @b(
// CHECK-NEXT: tern.linear @a(%[[X2:.*]], %{{.*}})
// CHECK-NEXT: tern.linear @b, @a(
// CHECK-NEXT: tern.linear bitllama2c @b(
func.func @apart(%x: memref<1x64xi8>, %x2: memref<1x64xi8>, %s: memref<1xf32>, %y: memref<1x8xf32>, %z: memref<1x8xf32>, %f: f32, %i: index) {
  tern.linear @a(%x, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x8xf32>
  memref.store %f, %s[%i] : memref<1xf32>
  tern.linear @b(%x, %s) into %z : memref<1x64xi8>, memref<1xf32>, memref<1x8xf32>
  tern.linear @a(%x2, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x8xf32>
  tern.linear @b(%x, %s) into %z : memref<1x64xi8>, memref<1xf32>, memref<1x8xf32>
  tern.linear @a(%x, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x8xf32>
  tern.linear bitllama2c @b(%x, %s) into %z : memref<1x64xi8>, memref<1xf32>, memref<1x8xf32>
  return
}
