// RUN: tern-opt %s --split-input-file | tern-opt --split-input-file | FileCheck %s
// RUN: tern-opt %s --split-input-file --mlir-print-op-generic | tern-opt --split-input-file | FileCheck %s

// CHECK: module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a76", features = "+dotprod", isa = ["neon", "dotprod"], vector_bits = 128>}
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a76", features = "+dotprod", isa = ["neon", "dotprod"], vector_bits = 128>} {
// CHECK: tern.weight @canon : !tern.ternary<640x2560, per_tensor, canonical> from "blk.0.attn_q.weight"
tern.weight @canon : !tern.ternary<640x2560, per_tensor, canonical> from "blk.0.attn_q.weight"
// CHECK: tern.weight @rows : !tern.ternary<7x13, per_row, interleaved<16>> from "w" at 128
tern.weight @rows : !tern.ternary<7x13, per_row, interleaved<16>> from "w" at 128
// A row group of 1 is the default and prints without it.
// CHECK: tern.weight @group1 : !tern.ternary<7x13, per_row, interleaved<16>> from "w"
tern.weight @group1 : !tern.ternary<7x13, per_row, interleaved<16, 1>> from "w"
// CHECK: tern.weight @groups : !tern.ternary<7x13, per_row, interleaved<16, 4>> from "w"
tern.weight @groups : !tern.ternary<7x13, per_row, interleaved<16, 4>> from "w"
// CHECK: tern.weight @blocks : !tern.ternary<2x512, block<256>, interleaved<64>> from "b"
tern.weight @blocks : !tern.ternary<2x512, block<256>, interleaved<64>> from "b"
// CHECK: tern.weight @quints : !tern.ternary<70x517, per_row, lut5<64>> from "q"
tern.weight @quints : !tern.ternary<70x517, per_row, lut5<64>> from "q"
// CHECK: tern.weight @triples : !tern.ternary<70x517, per_row, lut3<16>> from "t"
tern.weight @triples : !tern.ternary<70x517, per_row, lut3<16>> from "t"
// CHECK: tern.weight @quads : !tern.ternary<70x517, per_tensor, lut4<16>> from "f"
tern.weight @quads : !tern.ternary<70x517, per_tensor, lut4<16>> from "f"
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

// CHECK-LABEL: func.func @norm_quantize
func.func @norm_quantize(%x: memref<?x2560xf32>, %w: memref<2560xf32>, %q: memref<?x2560xi8>, %s: memref<?xf32>) {
  // CHECK: tern.rms_norm_quantize %{{.*}} weight(%{{.*}} : memref<2560xf32>) into %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.99999974E-6 : f32} : memref<?x2560xf32>, memref<?x2560xf32>, memref<?x2560xi8>, memref<?xf32>
  tern.rms_norm_quantize %x weight(%w : memref<2560xf32>) into %x, %q, %s {eps = 1.0e-05 : f32} : memref<?x2560xf32>, memref<?x2560xf32>, memref<?x2560xi8>, memref<?xf32>
  // CHECK: tern.rms_norm_quantize %{{.*}} into %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.99999974E-6 : f32, lanes = 16 : i64} : memref<?x2560xf32>, memref<?x2560xf32>, memref<?x2560xi8>, memref<?xf32>
  tern.rms_norm_quantize %x into %x, %q, %s {eps = 1.0e-05 : f32, lanes = 16} : memref<?x2560xf32>, memref<?x2560xf32>, memref<?x2560xi8>, memref<?xf32>
  return
}

// CHECK-LABEL: func.func @residual
func.func @residual(%q: memref<?x2560xi8>, %s: memref<?xf32>, %y: memref<?x640xf32>, %h: memref<?x640xf32>) {
  // CHECK: tern.linear @w(%{{.*}}, %{{.*}}) into %{{.*}} residual(%{{.*}} : memref<?x640xf32>) : memref<?x2560xi8>, memref<?xf32>, memref<?x640xf32>
  tern.linear @w(%q, %s) into %y residual(%h : memref<?x640xf32>) : memref<?x2560xi8>, memref<?xf32>, memref<?x640xf32>
  return
}

// CHECK-LABEL: func.func @glu
func.func @glu(%q: memref<?x2560xi8>, %s: memref<?xf32>, %g: memref<?x640xf32>, %u: memref<?x640xf32>, %m: memref<?x640xf32>) {
  // CHECK: tern.linear @w, @w(%{{.*}}, %{{.*}}) into %{{.*}}, %{{.*}} glu relu2(%{{.*}} : memref<?x640xf32>) : memref<?x2560xi8>, memref<?xf32>, memref<?x640xf32>, memref<?x640xf32>
  tern.linear @w, @w(%q, %s) into %g, %u glu relu2(%m : memref<?x640xf32>) : memref<?x2560xi8>, memref<?xf32>, memref<?x640xf32>, memref<?x640xf32>
  return
}

// CHECK-LABEL: func.func @fused
// Several weights sharing the input, one output each.
func.func @fused(%q: memref<?x2560xi8>, %s: memref<?xf32>, %y: memref<?x640xf32>, %z: memref<?x640xf32>) {
  // CHECK: tern.linear @w, @w(%{{.*}}, %{{.*}}) into %{{.*}}, %{{.*}} : memref<?x2560xi8>, memref<?xf32>, memref<?x640xf32>, memref<?x640xf32>
  tern.linear @w, @w(%q, %s) into %y, %z : memref<?x2560xi8>, memref<?xf32>, memref<?x640xf32>, memref<?x640xf32>
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

// -----

// CHECK: tern.param @embed : memref<512x128xf32> from "tok_embeddings"
tern.param @embed : memref<512x128xf32> from "tok_embeddings"
// CHECK: tern.param @head : memref<512x128xf16> from "output.weight" at 262144
tern.param @head : memref<512x128xf16> from "output.weight" at 262144
tern.param @norm : memref<128xf32> from "norm"

// CHECK-LABEL: func.func @layer
func.func @layer(%ids: memref<2xi32>, %h: memref<2x128xf32>, %x: memref<2x128xf32>,
                 %kc: memref<4x64x16xf32>, %k2: memref<2x64xf32>, %vc: memref<64x64xf32>, %ws: memref<8x64xf32>, %pos: index,
                 %g: memref<2x256xf32>, %u: memref<2x256xf32>, %logits: memref<2x512xf32>) {
  // CHECK: %[[E:.*]] = tern.get_param @embed : memref<512x128xf32>
  %e = tern.get_param @embed : memref<512x128xf32>
  // CHECK: tern.embedding %[[E]][%{{.*}}] into %{{.*}} : memref<512x128xf32>, memref<2xi32>, memref<2x128xf32>
  tern.embedding %e[%ids] into %h : memref<512x128xf32>, memref<2xi32>, memref<2x128xf32>
  %w = tern.get_param @norm : memref<128xf32>
  // CHECK: tern.rms_norm %{{.*}} weight(%{{.*}} : memref<128xf32>) into %{{.*}} {eps = 9.99999974E-6 : f32} : memref<2x128xf32>, memref<2x128xf32>
  tern.rms_norm %h weight(%w : memref<128xf32>) into %x {eps = 1.0e-5 : f32} : memref<2x128xf32>, memref<2x128xf32>
  // CHECK: tern.rms_norm %{{.*}} into %{{.*}} {eps = 0.000000e+00 : f32} : memref<2x128xf32>, memref<2x128xf32>
  tern.rms_norm %h into %x {eps = 0.0 : f32} : memref<2x128xf32>, memref<2x128xf32>
  // CHECK: tern.rms_norm %{{.*}} into %{{.*}} {eps = 0.000000e+00 : f32, lanes = 16 : i64} : memref<2x128xf32>, memref<2x128xf32>
  tern.rms_norm %h into %x {eps = 0.0 : f32, lanes = 16} : memref<2x128xf32>, memref<2x128xf32>
  // CHECK: tern.rope interleaved %{{.*}} at %{{.*}} {head_dim = 16 : i64, theta = 1.000000e+04 : f32} : memref<2x128xf32>
  tern.rope interleaved %x at %pos {head_dim = 16 : i64, theta = 1.0e4 : f32} : memref<2x128xf32>
  // CHECK: tern.rope half_split
  tern.rope half_split %x at %pos {head_dim = 16 : i64, theta = 5.0e5 : f32} : memref<2x128xf32>
  %t = memref.alloca() : memref<2x8x2xf32>
  // CHECK: tern.rope_table at %{{.*}} into %[[T:.*]] {head_dim = 16 : i64, theta = 5.000000e+05 : f32} : memref<2x8x2xf32>
  tern.rope_table at %pos into %t {head_dim = 16 : i64, theta = 5.0e5 : f32} : memref<2x8x2xf32>
  // CHECK: tern.rope half_split %{{.*}} at %{{.*}} table(%[[T]] : memref<2x8x2xf32>) {head_dim = 16 : i64, theta = 5.000000e+05 : f32} : memref<2x128xf32>
  tern.rope half_split %x at %pos table(%t : memref<2x8x2xf32>) {head_dim = 16 : i64, theta = 5.0e5 : f32} : memref<2x128xf32>
  // CHECK: tern.store_keys %{{.*}} into %{{.*}} at %{{.*}} : memref<2x64xf32>, memref<4x64x16xf32>
  tern.store_keys %k2 into %kc at %pos : memref<2x64xf32>, memref<4x64x16xf32>
  // CHECK: tern.attention %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} into %{{.*}} using %{{.*}} {head_dim = 16 : i64, heads = 8 : i64, kv_heads = 4 : i64} : memref<2x128xf32>, memref<4x64x16xf32>, memref<64x64xf32>, memref<2x128xf32>, memref<8x64xf32>
  tern.attention %x, %kc, %vc at %pos into %h using %ws {head_dim = 16 : i64, heads = 8 : i64, kv_heads = 4 : i64} : memref<2x128xf32>, memref<4x64x16xf32>, memref<64x64xf32>, memref<2x128xf32>, memref<8x64xf32>
  // CHECK: tern.glu silu %{{.*}}, %{{.*}} into %{{.*}} : memref<2x256xf32>, memref<2x256xf32>, memref<2x256xf32>
  tern.glu silu %g, %u into %g : memref<2x256xf32>, memref<2x256xf32>, memref<2x256xf32>
  // CHECK: tern.glu relu2
  tern.glu relu2 %g, %u into %g : memref<2x256xf32>, memref<2x256xf32>, memref<2x256xf32>
  // CHECK: tern.add %{{.*}}, %{{.*}} into %{{.*}} : memref<2x128xf32>, memref<2x128xf32>, memref<2x128xf32>
  tern.add %h, %x into %h : memref<2x128xf32>, memref<2x128xf32>, memref<2x128xf32>
  %head = tern.get_param @head : memref<512x128xf16>
  // CHECK: tern.matmul %{{.*}}, %{{.*}} into %{{.*}} : memref<2x128xf32>, memref<512x128xf16>, memref<2x512xf32>
  tern.matmul %h, %head into %logits : memref<2x128xf32>, memref<512x128xf16>, memref<2x512xf32>
  return
}

// -----

// An int8 LM head with per-row scales.
// CHECK: tern.param @head8 : memref<512x128xi8> from "output.weight" row_scales
tern.param @head8 : memref<512x128xi8> from "output.weight" row_scales
// CHECK-LABEL: func.func @int8_head
func.func @int8_head(%h: memref<1x128xf32>, %logits: memref<1x512xf32>) {
  %w = tern.get_param @head8 : memref<512x128xi8>
  // CHECK: %[[S:.*]] = tern.get_param_scales @head8 : memref<512xf32>
  %s = tern.get_param_scales @head8 : memref<512xf32>
  // CHECK: tern.matmul %{{.*}}, %{{.*}} scaled(%[[S]] : memref<512xf32>) into %{{.*}} : memref<1x128xf32>, memref<512x128xi8>, memref<1x512xf32>
  tern.matmul %h, %w scaled(%s : memref<512xf32>) into %logits : memref<1x128xf32>, memref<512x128xi8>, memref<1x512xf32>
  return
}

// A screening copy (bounds after the scales) and the exact rows it picks.
// CHECK: tern.param @screen : memref<512x128xi8> from "output.weight" row_scales row_bounds
tern.param @screen : memref<512x128xi8> from "output.weight" row_scales row_bounds
// CHECK-LABEL: func.func @screened_head
func.func @screened_head(%h: memref<1x128xf32>, %head: memref<512x128xf16>, %rows: memref<?xi32>, %some: memref<1x?xf32>, %q: memref<2x128xi8>, %qs: memref<2xf32>, %scores: memref<2x512xf32>) -> memref<1024xf32> {
  // CHECK: tern.get_param_bounds @screen : memref<1024xf32>
  %b = tern.get_param_bounds @screen : memref<1024xf32>
  // CHECK: tern.matmul %{{.*}}, %{{.*}} rows(%{{.*}} : memref<?xi32>) into %{{.*}} : memref<1x128xf32>, memref<512x128xf16>, memref<1x?xf32>
  tern.matmul %h, %head rows(%rows : memref<?xi32>) into %some : memref<1x128xf32>, memref<512x128xf16>, memref<1x?xf32>
  %w = tern.get_param @screen : memref<512x128xi8>
  %s = tern.get_param_scales @screen : memref<512xf32>
  // CHECK: tern.matmul %{{.*}}, %{{.*}} input_scaled(%{{.*}} : memref<2xf32>) scaled(%{{.*}} : memref<512xf32>) into %{{.*}} : memref<2x128xi8>, memref<512x128xi8>, memref<2x512xf32>
  tern.matmul %q, %w input_scaled(%qs : memref<2xf32>) scaled(%s : memref<512xf32>) into %scores : memref<2x128xi8>, memref<512x128xi8>, memref<2x512xf32>
  return %b : memref<1024xf32>
}
