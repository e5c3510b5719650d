// RUN: tern-opt %s --split-input-file --tern-fuse-epilogues | FileCheck %s

// The residual add right after the output projection: the linear adds each
// output element to h itself, and still writes y.
tern.weight @wo : !tern.ternary<64x64, per_tensor, canonical> from "wo"
// CHECK-LABEL: func.func @residual
// CHECK-SAME: (%[[Q:.*]]: memref<?x64xi8>, %[[S:.*]]: memref<?xf32>, %[[Y:.*]]: memref<?x64xf32>, %[[H:.*]]: memref<?x64xf32>)
// CHECK-NEXT: tern.linear @wo(%[[Q]], %[[S]]) into %[[Y]] residual(%[[H]] : memref<?x64xf32>) : memref<?x64xi8>, memref<?xf32>, memref<?x64xf32>
// CHECK-NEXT: return
func.func @residual(%q: memref<?x64xi8>, %s: memref<?xf32>, %y: memref<?x64xf32>, %h: memref<?x64xf32>) {
  tern.linear @wo(%q, %s) into %y : memref<?x64xi8>, memref<?xf32>, memref<?x64xf32>
  tern.add %h, %y into %h : memref<?x64xf32>, memref<?x64xf32>, memref<?x64xf32>
  return
}

// -----

// Left alone: an op with memory effects between; an add that is not
// h = h + y in place; an add of something else; a linear with several
// weights.
tern.weight @a : !tern.ternary<64x64, per_tensor, canonical> from "a"
tern.weight @b : !tern.ternary<64x64, per_tensor, canonical> from "b"
// CHECK-LABEL: func.func @apart
// CHECK: tern.linear @a(%{{.*}}, %{{.*}}) into %{{.*}} :
// CHECK-NEXT: memref.store
// CHECK-NEXT: tern.add
// CHECK-NEXT: tern.linear @a(%{{.*}}, %{{.*}}) into %{{.*}} :
// CHECK-NEXT: tern.add %[[Y:.*]], %[[H:.*]] into %[[Z:.*]] :
// CHECK-NEXT: tern.linear @a(%{{.*}}, %{{.*}}) into %{{.*}} :
// CHECK-NEXT: tern.add %{{.*}}, %[[W:.*]] into
// CHECK-NEXT: tern.linear @a, @b(
// CHECK-NEXT: tern.add
// CHECK-NOT: residual
func.func @apart(%q: memref<1x64xi8>, %s: memref<1xf32>, %y: memref<1x64xf32>, %h: memref<1x64xf32>, %z: memref<1x64xf32>, %w: memref<1x64xf32>, %f: f32, %i: index) {
  tern.linear @a(%q, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x64xf32>
  memref.store %f, %h[%i, %i] : memref<1x64xf32>
  tern.add %h, %y into %h : memref<1x64xf32>, memref<1x64xf32>, memref<1x64xf32>
  tern.linear @a(%q, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x64xf32>
  tern.add %y, %h into %z : memref<1x64xf32>, memref<1x64xf32>, memref<1x64xf32>
  tern.linear @a(%q, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x64xf32>
  tern.add %h, %w into %h : memref<1x64xf32>, memref<1x64xf32>, memref<1x64xf32>
  tern.linear @a, @b(%q, %s) into %y, %z : memref<1x64xi8>, memref<1xf32>, memref<1x64xf32>, memref<1x64xf32>
  tern.add %h, %y into %h : memref<1x64xf32>, memref<1x64xf32>, memref<1x64xf32>
  return
}

// -----

// The gated linear unit right after the gate/up linear: the linear writes
// m = act(g) * u as well, and still writes g and u.
tern.weight @g : !tern.ternary<128x64, per_row, canonical> from "g"
tern.weight @u : !tern.ternary<128x64, per_row, canonical> from "u"
// CHECK-LABEL: func.func @glu
// CHECK-SAME: (%[[Q:.*]]: memref<?x64xi8>, %[[S:.*]]: memref<?xf32>, %[[G:.*]]: memref<?x128xf32>, %[[U:.*]]: memref<?x128xf32>, %[[M:.*]]: memref<?x128xf32>)
// CHECK-NEXT: tern.linear @g, @u(%[[Q]], %[[S]]) into %[[G]], %[[U]] glu silu(%[[M]] : memref<?x128xf32>) :
// CHECK-NEXT: return
func.func @glu(%q: memref<?x64xi8>, %s: memref<?xf32>, %g: memref<?x128xf32>, %u: memref<?x128xf32>, %m: memref<?x128xf32>) {
  tern.linear @g, @u(%q, %s) into %g, %u : memref<?x64xi8>, memref<?xf32>, memref<?x128xf32>, memref<?x128xf32>
  tern.glu silu %g, %u into %m : memref<?x128xf32>, memref<?x128xf32>, memref<?x128xf32>
  return
}

// -----

// Left alone: gate and up swapped; an op with memory effects between; a
// glu that writes the gate in place; a single-weight linear.
tern.weight @g : !tern.ternary<128x64, per_row, canonical> from "g"
tern.weight @u : !tern.ternary<128x64, per_row, canonical> from "u"
// CHECK-LABEL: func.func @glu_apart
// CHECK-NOT: glu relu2(
// CHECK-NOT: glu silu(
// CHECK-COUNT-4: tern.glu
func.func @glu_apart(%q: memref<1x64xi8>, %s: memref<1xf32>, %g: memref<1x128xf32>, %u: memref<1x128xf32>, %m: memref<1x128xf32>, %f: f32, %i: index) {
  tern.linear @g, @u(%q, %s) into %g, %u : memref<1x64xi8>, memref<1xf32>, memref<1x128xf32>, memref<1x128xf32>
  tern.glu relu2 %u, %g into %m : memref<1x128xf32>, memref<1x128xf32>, memref<1x128xf32>
  tern.linear @g, @u(%q, %s) into %g, %u : memref<1x64xi8>, memref<1xf32>, memref<1x128xf32>, memref<1x128xf32>
  memref.store %f, %g[%i, %i] : memref<1x128xf32>
  tern.glu relu2 %g, %u into %m : memref<1x128xf32>, memref<1x128xf32>, memref<1x128xf32>
  tern.linear @g, @u(%q, %s) into %g, %u : memref<1x64xi8>, memref<1xf32>, memref<1x128xf32>, memref<1x128xf32>
  tern.glu relu2 %g, %u into %g : memref<1x128xf32>, memref<1x128xf32>, memref<1x128xf32>
  tern.linear @g(%q, %s) into %g : memref<1x64xi8>, memref<1xf32>, memref<1x128xf32>
  tern.glu relu2 %g, %u into %m : memref<1x128xf32>, memref<1x128xf32>, memref<1x128xf32>
  return
}
