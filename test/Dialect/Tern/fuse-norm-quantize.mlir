// RUN: tern-opt %s --split-input-file --tern-fuse-norm-quantize | FileCheck %s

// An RMSNorm and the bitnet quantization of its result (views between them
// are pure): one tern.rms_norm_quantize, where the quantize was; the
// normalised row is still written.
// CHECK-LABEL: func.func @block
// CHECK-SAME: (%[[X:.*]]: memref<1x64xf32>, %[[W:.*]]: memref<64xf32>, %[[Y:.*]]: memref<1x64xf32>, %[[BUF:.*]]: memref<128xi8>, %[[S:.*]]: memref<1xf32>)
// CHECK: %[[Q:.*]] = memref.view %[[BUF]]
// CHECK-NEXT: tern.rms_norm_quantize %[[X]] weight(%[[W]] : memref<64xf32>) into %[[Y]], %[[Q]], %[[S]] {eps = 9.99999974E-6 : f32} : memref<1x64xf32>, memref<1x64xf32>, memref<1x64xi8>, memref<1xf32>
// CHECK-NOT: tern.rms_norm 
// CHECK-NOT: tern.quantize
func.func @block(%x: memref<1x64xf32>, %w: memref<64xf32>, %y: memref<1x64xf32>, %buf: memref<128xi8>, %s: memref<1xf32>) {
  tern.rms_norm %x weight(%w : memref<64xf32>) into %y {eps = 1.0e-05 : f32} : memref<1x64xf32>, memref<1x64xf32>
  %c0 = arith.constant 0 : index
  %q = memref.view %buf[%c0][] : memref<128xi8> to memref<1x64xi8>
  tern.quantize %y into %q, %s : memref<1x64xf32>, memref<1x64xi8>, memref<1xf32>
  return
}

// -----

// Without a weight (a sub-norm without one), with a dynamic token count;
// the norm's lanes (the order of its sum) carry over.
// CHECK-LABEL: func.func @no_weight
// CHECK: tern.rms_norm_quantize %{{.*}} into %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.99999974E-6 : f32, lanes = 16 : i64} : memref<?x64xf32>, memref<?x64xf32>, memref<?x64xi8>, memref<?xf32>
func.func @no_weight(%x: memref<?x64xf32>, %y: memref<?x64xf32>, %q: memref<?x64xi8>, %s: memref<?xf32>) {
  tern.rms_norm %x into %y {eps = 1.0e-05 : f32, lanes = 16} : memref<?x64xf32>, memref<?x64xf32>
  tern.quantize %y into %q, %s : memref<?x64xf32>, memref<?x64xi8>, memref<?xf32>
  return
}

// -----

// Not fused: a store between (it may change the normalised row), a
// quantize of another buffer, and the bitllama2c scheme (which normalises
// again by itself).
// CHECK-LABEL: func.func @apart
// CHECK: tern.rms_norm
// CHECK-NEXT: memref.store
// CHECK-NEXT: tern.quantize
// CHECK-NEXT: tern.rms_norm
// CHECK-NEXT: tern.quantize %[[OTHER:.*]] into
// CHECK-NEXT: tern.rms_norm
// CHECK-NEXT: tern.quantize bitllama2c
// CHECK-NOT: tern.rms_norm_quantize
func.func @apart(%x: memref<1x64xf32>, %y: memref<1x64xf32>, %z: memref<1x64xf32>, %q: memref<1x64xi8>, %s: memref<1xf32>, %f: f32, %i: index) {
  tern.rms_norm %x into %y {eps = 1.0e-05 : f32} : memref<1x64xf32>, memref<1x64xf32>
  memref.store %f, %y[%i, %i] : memref<1x64xf32>
  tern.quantize %y into %q, %s : memref<1x64xf32>, memref<1x64xi8>, memref<1xf32>
  tern.rms_norm %x into %y {eps = 1.0e-05 : f32} : memref<1x64xf32>, memref<1x64xf32>
  tern.quantize %z into %q, %s : memref<1x64xf32>, memref<1x64xi8>, memref<1xf32>
  tern.rms_norm %x into %y {eps = 1.0e-05 : f32} : memref<1x64xf32>, memref<1x64xf32>
  tern.quantize bitllama2c %y into %q, %s : memref<1x64xf32>, memref<1x64xi8>, memref<1xf32>
  return
}
