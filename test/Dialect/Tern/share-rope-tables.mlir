// RUN: tern-opt %s --split-input-file --tern-share-rope-tables | FileCheck %s

// A decoder step: the query and key ropes of two layers at one position
// share one table, written into a stack buffer at the top of the function
// just before the first rope; the style does not matter (a pair's angle is
// the same), the rest of each op is kept.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[Q:.*]]: memref<1x256xf32>, %[[K:.*]]: memref<1x64xf32>, %[[POS:.*]]: index)
// CHECK-NEXT: %[[T:.*]] = memref.alloca() : memref<1x32x2xf32>
// CHECK: tern.quantize
// CHECK-NEXT: tern.rope_table at %[[POS]] into %[[T]] {head_dim = 64 : i64, theta = 5.000000e+05 : f32} : memref<1x32x2xf32>
// CHECK-NEXT: tern.rope half_split %[[Q]] at %[[POS]] table(%[[T]] : memref<1x32x2xf32>) {head_dim = 64 : i64, theta = 5.000000e+05 : f32} : memref<1x256xf32>
// CHECK-NEXT: tern.rope half_split %[[K]] at %[[POS]] table(%[[T]] : memref<1x32x2xf32>)
// CHECK-NEXT: tern.rope half_split %[[Q]] at %[[POS]] table(%[[T]] : memref<1x32x2xf32>)
// CHECK-NEXT: tern.rope interleaved %[[K]] at %[[POS]] table(%[[T]] : memref<1x32x2xf32>)
// CHECK-NOT: tern.rope_table
func.func @step(%q: memref<1x256xf32>, %k: memref<1x64xf32>, %pos: index) {
  %x = memref.alloc() : memref<1x64xf32>
  %i8 = memref.alloc() : memref<1x64xi8>
  %s = memref.alloc() : memref<1xf32>
  tern.quantize %x into %i8, %s : memref<1x64xf32>, memref<1x64xi8>, memref<1xf32>
  tern.rope half_split %q at %pos {head_dim = 64 : i64, theta = 5.0e5 : f32} : memref<1x256xf32>
  tern.rope half_split %k at %pos {head_dim = 64 : i64, theta = 5.0e5 : f32} : memref<1x64xf32>
  tern.rope half_split %q at %pos {head_dim = 64 : i64, theta = 5.0e5 : f32} : memref<1x256xf32>
  tern.rope interleaved %k at %pos {head_dim = 64 : i64, theta = 5.0e5 : f32} : memref<1x64xf32>
  return
}

// -----

// Ropes that differ in start, head_dim, theta or row count are not the same
// angles: a table per group of two or more, none for a rope alone.
// CHECK-LABEL: func.func @groups
// CHECK-SAME: (%[[A:.*]]: memref<2x64xf32>, %[[B:.*]]: memref<1x64xf32>, %[[P:.*]]: index, %[[R:.*]]: index)
// CHECK-DAG: %[[T1:.*]] = memref.alloca() : memref<2x8x2xf32>
// CHECK-DAG: %[[T2:.*]] = memref.alloca() : memref<1x8x2xf32>
// CHECK: tern.rope_table at %[[P]] into %[[T1]] {head_dim = 16 : i64, theta = 1.000000e+04 : f32}
// CHECK-NEXT: tern.rope half_split %[[A]] at %[[P]] table(%[[T1]]
// CHECK-NEXT: tern.rope half_split %[[A]] at %[[R]] {head_dim = 16
// CHECK-NEXT: tern.rope half_split %[[A]] at %[[P]] {head_dim = 32
// CHECK-NEXT: tern.rope half_split %[[A]] at %[[P]] {head_dim = 16 : i64, theta = 5.000000e+05
// CHECK-NEXT: tern.rope_table at %[[P]] into %[[T2]] {head_dim = 16 : i64, theta = 1.000000e+04 : f32}
// CHECK-NEXT: tern.rope half_split %[[B]] at %[[P]] table(%[[T2]]
// CHECK-NEXT: tern.rope half_split %[[A]] at %[[P]] table(%[[T1]]
// CHECK-NEXT: tern.rope half_split %[[B]] at %[[P]] table(%[[T2]]
func.func @groups(%a: memref<2x64xf32>, %b: memref<1x64xf32>, %p: index, %r: index) {
  tern.rope half_split %a at %p {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<2x64xf32>
  tern.rope half_split %a at %r {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<2x64xf32>
  tern.rope half_split %a at %p {head_dim = 32 : i64, theta = 1.0e4 : f32} : memref<2x64xf32>
  tern.rope half_split %a at %p {head_dim = 16 : i64, theta = 5.0e5 : f32} : memref<2x64xf32>
  tern.rope half_split %b at %p {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<1x64xf32>
  tern.rope half_split %a at %p {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<2x64xf32>
  tern.rope half_split %b at %p {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<1x64xf32>
  return
}

// -----

// A dynamic row count may differ between two ropes, a rope with a table
// already has one, and ropes in different blocks are not grouped: nothing
// changes.
// CHECK-LABEL: func.func @untouched
// CHECK-NOT: tern.rope_table
// CHECK: tern.rope half_split %{{.*}} at %{{.*}} {head_dim
// CHECK: tern.rope half_split %{{.*}} at %{{.*}} {head_dim
// CHECK: tern.rope half_split %{{.*}} at %{{.*}} table(%{{.*}} : memref<1x8x2xf32>)
// CHECK: tern.rope half_split %{{.*}} at %{{.*}} table(%{{.*}} : memref<1x8x2xf32>)
// CHECK: scf.if
// CHECK-NEXT: tern.rope half_split %{{.*}} at %{{.*}} {head_dim
// CHECK-NOT: tern.rope_table
func.func @untouched(%d: memref<?x64xf32>, %b: memref<1x64xf32>, %t: memref<1x8x2xf32>, %p: index, %c: i1) {
  tern.rope half_split %d at %p {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<?x64xf32>
  tern.rope half_split %d at %p {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<?x64xf32>
  tern.rope half_split %b at %p table(%t : memref<1x8x2xf32>) {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<1x64xf32>
  tern.rope half_split %b at %p table(%t : memref<1x8x2xf32>) {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<1x64xf32>
  scf.if %c {
    tern.rope half_split %b at %p {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<1x64xf32>
  }
  return
}
