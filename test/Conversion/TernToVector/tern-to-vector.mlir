// RUN: tern-opt %s --split-input-file --convert-tern-to-vector --verify-diagnostics | FileCheck %s

// tern.quantize: an absmax reduction loop, then a scale-round-clamp loop, in
// vectors of vector_bits/32 f32 lanes (8 for AVX2), masked at the K tail.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["avx2"], vector_bits = 256>} {
// CHECK-LABEL: func.func @quantize
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[K:.*]] = arith.constant 70 : index
// CHECK-DAG: %[[LANES:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[M:.*]] = memref.dim %{{.*}}, %{{.*}} : memref<?x70xf32>
// CHECK: scf.for %[[ROW:.*]] = %[[C0]] to %[[M]] step %[[C1]] {
// The absmax as the unsigned maximum of |x|'s bits (the sign cleared).
// CHECK:   %[[ABS:.*]] = scf.for %[[KK:.*]] = %[[C0]] to %[[K]] step %[[LANES]] iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<8xi32>) {
// CHECK:     %[[V:.*]] = vector.transfer_read %{{.*}}[%[[ROW]], %[[KK]]], %{{.*}} : memref<?x70xf32>, vector<8xf32>
// CHECK:     %[[BITS:.*]] = arith.bitcast %[[V]] : vector<8xf32> to vector<8xi32>
// CHECK:     %[[A:.*]] = arith.andi %[[BITS]], %{{.*}} : vector<8xi32>
// CHECK:     arith.maxui %[[ACC]], %[[A]] : vector<8xi32>
// CHECK:   %[[MAXBITS:.*]] = vector.reduction <maxui>, %[[ABS]] : vector<8xi32> into i32
// CHECK:   %[[MAX:.*]] = arith.bitcast %[[MAXBITS]] : i32 to f32
// CHECK:   %[[D:.*]] = arith.maximumf %[[MAX]], %{{.*}} : f32
// CHECK:   %[[S:.*]] = arith.divf %{{.*}}, %[[D]] : f32
// CHECK:   memref.store %[[S]], %{{.*}}[%[[ROW]]] : memref<?xf32>
// CHECK:   scf.for
// CHECK:     arith.mulf
// Round half to even with the 1.5 * 2^23 trick (exact for |x| < 2^22).
// CHECK:     %[[BIG:.*]] = arith.addf %{{.*}}, %[[MAGIC:.*]] : vector<8xf32>
// CHECK:     arith.subf %[[BIG]], %[[MAGIC]] : vector<8xf32>
// The clamp keeps numbers (a NaN becomes -128, not a poison conversion).
// CHECK:     arith.maxnumf
// CHECK:     arith.minnumf
// CHECK:     arith.fptosi %{{.*}} : vector<8xf32> to vector<8xi8>
// CHECK:     vector.transfer_write %{{.*}}, %{{.*}}[%[[ROW]], %{{.*}}] : vector<8xi8>, memref<?x70xi8>
// CHECK-NOT: tern.quantize
func.func @quantize(%x: memref<?x70xf32>, %q: memref<?x70xi8>, %s: memref<?xf32>) {
  tern.quantize %x into %q, %s : memref<?x70xf32>, memref<?x70xi8>, memref<?xf32>
  return
}
// K a multiple of the lanes: no read or write is masked.
// CHECK-LABEL: func.func @quantize_whole_vectors
// CHECK:   scf.for
// CHECK:     vector.transfer_read {{.*}} {in_bounds = [true]} : memref<1x64xf32>, vector<8xf32>
// CHECK:   vector.reduction <maxui>
// CHECK:   scf.for
// CHECK:     vector.transfer_read {{.*}} {in_bounds = [true]} : memref<1x64xf32>, vector<8xf32>
// CHECK:     vector.transfer_write {{.*}} {in_bounds = [true]} : vector<8xi8>, memref<1x64xi8>
func.func @quantize_whole_vectors(%x: memref<1x64xf32>, %q: memref<1x64xi8>, %s: memref<1xf32>) {
  tern.quantize %x into %q, %s : memref<1x64xf32>, memref<1x64xi8>, memref<1xf32>
  return
}
}

// -----

// tern.linear, per-row scales, chunks of 32 on AVX2: bit planes of 8 weights
// are too narrow for vpmaddubsw, so this is the portable kernel (widen to
// i32, multiply, add); tern-select-layout picks chunks of 128 for AVX2.
// Parallel over rows (threads share them; a row's codes stay in L1 for every
// token), tokens inside; per output element a loop over ceil(70/32) = 3
// chunks loads 8 code bytes and unpacks four bit planes into four
// accumulators (one per plane, so the adds do not wait on each other).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["avx2"], vector_bits = 256>} {
tern.weight @w : !tern.ternary<8x70, per_row, interleaved<32>> from "w" at 0
// CHECK-LABEL: func.func @linear
// CHECK: %[[DATA:.*]] = tern.weight_data @w : memref<256xi8>
// Scales sit after 8 rows x 24 bytes of codes, at 192.
// CHECK: %[[SCALES:.*]] = memref.view %[[DATA]][%{{.*}}][] : memref<256xi8> to memref<8xf32>
// CHECK: scf.for %[[N:.*]] =
// CHECK:   scf.for %[[M:.*]] =
// CHECK:     %[[SUM:.*]]:4 = scf.for {{.*}} -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>) {
// CHECK:       %[[CODES:.*]] = vector.load %[[DATA]][%{{.*}}] : memref<256xi8>, vector<8xi8>
// CHECK:       arith.shrui %[[CODES]]
// CHECK:       arith.extsi {{.*}} : vector<8xi8> to vector<8xi32>
// CHECK:       arith.muli {{.*}} : vector<8xi32>
// CHECK-COUNT-3: arith.shrui %[[CODES]]
// CHECK:       scf.yield %{{.*}} : vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>
// CHECK:     %[[S1:.*]] = arith.addi %[[SUM]]#0, %[[SUM]]#1 : vector<8xi32>
// CHECK:     %[[S2:.*]] = arith.addi %[[S1]], %[[SUM]]#2 : vector<8xi32>
// CHECK:     %[[S3:.*]] = arith.addi %[[S2]], %[[SUM]]#3 : vector<8xi32>
// CHECK:     %[[RED:.*]] = vector.reduction <add>, %[[S3]] : vector<8xi32> into i32
// CHECK:     %[[W:.*]] = memref.load %[[SCALES]][%{{.*}}] : memref<8xf32>
// CHECK:     %[[F:.*]] = arith.sitofp %[[RED]] : i32 to f32
// CHECK:     %[[SX:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<2xf32>
// CHECK:     %[[DIV:.*]] = arith.divf %[[F]], %[[SX]] : f32
// CHECK:     %[[OUT:.*]] = arith.mulf %[[DIV]], %[[W]] : f32
// CHECK:     memref.store %[[OUT]], %{{.*}}[%{{.*}}, %{{.*}}] : memref<2x8xf32>
// CHECK: } {tern.parallel}
func.func @linear(%q: memref<2x70xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>) {
  tern.linear @w(%q, %s) into %y : memref<2x70xi8>, memref<2xf32>, memref<2x8xf32>
  return
}
}

// -----

// Per-block scales: an f32 loop over blocks around the int32 chunk loop.
tern.weight @b : !tern.ternary<4x256, block<128>, interleaved<64>> from "b" at 0
// CHECK-LABEL: func.func @blocks
// CHECK: %[[DATA:.*]] = tern.weight_data @b : memref<320xi8>
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     %[[F:.*]] = scf.for {{.*}} -> (f32) {
// CHECK:       scf.for {{.*}} -> (vector<16xi32>) {
// CHECK:       vector.reduction <add>
// CHECK:       arith.mulf
// CHECK:       arith.addf
// CHECK:       scf.yield %{{.*}} : f32
// CHECK:     arith.divf %[[F]], %{{.*}} : f32
func.func @blocks(%q: memref<1x256xi8>, %s: memref<1xf32>, %y: memref<1x4xf32>) {
  tern.linear @b(%q, %s) into %y : memref<1x256xi8>, memref<1xf32>, memref<1x4xf32>
  return
}

// -----

tern.weight @c : !tern.ternary<4x64, per_row, canonical> from "c" at 0
func.func @canonical(%q: memref<1x64xi8>, %s: memref<1xf32>, %y: memref<1x4xf32>) {
  // expected-error@+1 {{'tern.linear' op weight @c still has the canonical layout: run tern-select-layout before lowering}}
  tern.linear @c(%q, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x4xf32>
  return
}

// -----

tern.weight @u : !tern.ternary<4x64, per_row, interleaved<16>> from "u"
func.func @unpacked(%q: memref<1x64xi8>, %s: memref<1xf32>, %y: memref<1x4xf32>) {
  // expected-error@+1 {{'tern.linear' op weight @u has no blob offset: run tern-pack-weights before lowering}}
  tern.linear @u(%q, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x4xf32>
  return
}

// -----

// AArch64 with dotprod and 16-weight bit planes: one arm_neon.intr.sdot per
// plane into 4 i32 lanes; a single token (decode) keeps one row at a time
// with one accumulator per plane.
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a76", isa = ["neon", "dotprod"], vector_bits = 128>} {
tern.weight @w : !tern.ternary<4x64, per_row, interleaved<64>> from "w" at 0
// CHECK-LABEL: func.func @sdot
// CHECK: scf.for {{.*}} -> (vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>) {
// No software prefetch: the hardware's streams do better (see the
// decode row groups in docs/performance.md).
// CHECK-NOT: memref.prefetch
// CHECK-COUNT-4: arm_neon.intr.sdot %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi8>, vector<16xi8> to vector<4xi32>
// CHECK-COUNT-3: arith.addi {{.*}} : vector<4xi32>
// CHECK: vector.reduction <add>, %{{.*}} : vector<4xi32> into i32
func.func @sdot(%q: memref<1x64xi8>, %s: memref<1xf32>, %y: memref<1x4xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x4xf32>
  return
}
}

// -----

// x86 AVX-512 VNNI, 64-weight bit planes: sum(a) of each token row once into
// a stack buffer at the function entry (sized by the static token count).
// Then register tiles of 4 rows x 4 tokens: per chunk the codes of 4 rows
// are loaded and unpacked once (codes c = t + 1, u8) and each plane's 4
// activation vectors (s8) loaded once for 16 vpdpbusd into 16 accumulators;
// the token left over (5 = 4 + 1) runs 4 rows x 1 token. The row's sum minus
// sum(a) is the exact ternary dot product. K = 512 fills whole chunks: plain
// loads.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<4x512, per_tensor, interleaved<256>> from "w" at 0
// CHECK-LABEL: func.func @vnni
// CHECK: %[[SUMA:.*]] = memref.alloca() : memref<5xi32>
// CHECK: scf.for %[[M0:.*]] =
// CHECK:   scf.for {{.*}} -> (vector<64xi32>) {
// CHECK:     vector.load %{{.*}} : memref<5x512xi8>, vector<64xi8>
// CHECK:     arith.extsi %{{.*}} : vector<64xi8> to vector<64xi32>
// CHECK:   memref.store %{{.*}}, %[[SUMA]][%[[M0]]] : memref<5xi32>
// CHECK: scf.for %[[G:.*]] =
// CHECK:   scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>) {
// CHECK-COUNT-4: vector.load %{{.*}} : memref{{.*}}xi8>, vector<64xi8>
// CHECK-NOT:   arith.subi
// CHECK-COUNT-64: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// The 16 accumulators reduce side by side (pairs of vectors add the halves
// of their lane groups) into one vector of the tile's sums, token-major;
// the epilogue runs on that vector and stores each token's 4 outputs at once.
// CHECK-NOT: vector.reduction
// CHECK:     vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xi32>, vector<16xi32>
// CHECK:     %[[SAV:.*]] = vector.load %[[SUMA]][%[[T]]] : memref<5xi32>, vector<4xi32>
// CHECK:     %[[SXV:.*]] = vector.load %{{.*}}[%[[T]]] : memref<5xf32>, vector<4xf32>
// CHECK:     %[[SAS:.*]] = vector.shuffle %[[SAV]], %[[SAV]] [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
// CHECK:     %[[EXACT:.*]] = arith.subi %{{.*}}, %[[SAS]] : vector<16xi32>
// CHECK:     %[[ACC:.*]] = arith.sitofp %[[EXACT]] : vector<16xi32> to vector<16xf32>
// CHECK:     %[[SXS:.*]] = vector.shuffle %[[SXV]], %[[SXV]] [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
// CHECK:     arith.divf %[[ACC]], %[[SXS]] : vector<16xf32>
// CHECK-COUNT-4: vector.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : memref<5x4xf32>, vector<4xf32>
// One token, 4 rows: an accumulator per row and plane, the planes masked
// in place (codes & 3 << 2j) and shifted back once at the end.
// CHECK:   scf.for %[[M:.*]] =
// CHECK:     scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>) {
// CHECK:       arith.andi %{{.*}}, %{{.*}} : vector<64xi8>
// CHECK-COUNT-16: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-COUNT-12: arith.shrsi %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK-NOT: vector.reduction
// CHECK:     %[[SA:.*]] = vector.load %[[SUMA]][%[[M]]] : memref<5xi32>, vector<1xi32>
// CHECK:     vector.shuffle %[[SA]], %[[SA]] [0, 0, 0, 0] : vector<1xi32>, vector<1xi32>
// CHECK:     arith.subi %{{.*}}, %{{.*}} : vector<4xi32>
// CHECK:     vector.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : memref<5x4xf32>, vector<4xf32>
// CHECK: } {tern.parallel}
func.func @vnni(%q: memref<5x512xi8>, %s: memref<5xf32>, %y: memref<5x4xf32>) {
  tern.linear @w(%q, %s) into %y : memref<5x512xi8>, memref<5xf32>, memref<5x4xf32>
  return
}
}

// -----

// AMX-INT8 (amx-int8 in the target's isa): prefill runs on the tile unit in
// units of 32 rows. The activations are repacked once per op into the B
// operand's layout (16 x 16 dword transposes of 16 tokens x 64 bytes); a
// unit unpacks its rows' codes once into a stack buffer (byte k of row r is
// weight k's code), then calls the shared tile function of its shape for
// each pair of 16-token tiles (32 tokens: 4 C tiles) and a last single tile
// (16 tokens: 2 C tiles); the C tiles come back through memory, transposed
// to token-major for the vector epilogue. The 8 tokens past the last tile
// (40 = 32 + 8) take the vpdpbusd tiles, and so do the 8 rows past the last
// unit (40 = 32 + 8), in a loop over their row groups. The repack and the
// units are parallel loops (threads share the tiles of tokens, then the
// units). The tile functions (per K and tile count, one for all layers)
// keep C in tile registers over the unrolled K steps: two A tiles (stride
// K) and one or two B tiles (stride 64) per step of 64 weights.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "sapphirerapids", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni", "amx-int8"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<40x512, per_row, interleaved<256, 4>> from "w" at 0
// CHECK-LABEL: func.func @amx
// CHECK: %[[SUMA:.*]] = memref.alloca() : memref<40xi32>
// CHECK: %[[B:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xi8>
// CHECK: scf.for
// CHECK:   scf.for
// CHECK-COUNT-16: vector.bitcast %{{.*}} : vector<64xi8> to vector<16xi32>
// CHECK-COUNT-64: vector.shuffle
// CHECK-COUNT-16: vector.store %{{.*}}, %[[B]][%{{.*}}] : memref<?xi8>, vector<64xi8>
// CHECK: } {tern.parallel}
// CHECK: scf.for %[[U:.*]] = %{{.*}} to %{{.*}} step
// CHECK:   scf.if
// CHECK:     scf.if
// CHECK:       %[[CODES:.*]] = memref.alloca() {alignment = 64 : i64} : memref<16384xi8>
// CHECK:       %[[CBUF:.*]] = memref.alloca() {alignment = 64 : i64} : memref<1024xi32>
// CHECK:       scf.for
// CHECK:         scf.for
// CHECK:           vector.load %{{.*}} : memref<{{.*}}xi8>, vector<64xi8>
// CHECK-COUNT-4:   vector.store %{{.*}}, %[[CODES]][%{{.*}}] : memref<16384xi8>, vector<64xi8>
// CHECK:       scf.for
// CHECK:         memref.extract_aligned_pointer_as_index %[[CODES]]
// CHECK:         memref.extract_aligned_pointer_as_index %[[B]]
// CHECK:         memref.extract_aligned_pointer_as_index %[[CBUF]]
// CHECK:         func.call @__tern_amx_tiles_k512_t2(%{{.*}}, %{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
// CHECK:         scf.for
// CHECK-COUNT-16: vector.load %[[CBUF]][%{{.*}}] : memref<1024xi32>, vector<16xi32>
// CHECK-COUNT-64: vector.shuffle
// CHECK:           vector.load %[[SUMA]]
// CHECK:       scf.if
// CHECK:         func.call @__tern_amx_tiles_k512_t1(
// CHECK:     scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4
// CHECK:       llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK:   } else {
// CHECK:     scf.for %{{.*}} = %{{.*}} to %c8{{.*}} step %c4
// CHECK:       llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK: } {tern.parallel}
// CHECK: memref.dealloc %[[B]] : memref<?xi8>
// CHECK: func.func private @__tern_amx_tiles_k512_t2(%[[A:.*]]: !llvm.ptr, %[[BT:.*]]: !llvm.ptr, %[[C:.*]]: !llvm.ptr) attributes {passthrough = ["noinline"]}
// CHECK-COUNT-4: "amx.tilezero"
// CHECK: "amx.tileloadd64"(%{{.*}}, %{{.*}}, %[[A]], %c512_i64)
// CHECK: llvm.getelementptr %[[A]][8192]
// CHECK: "amx.tileloadd64"(%{{.*}}, %{{.*}}, %[[BT]], %c64_i64)
// CHECK: llvm.getelementptr %[[BT]][8192]
// CHECK-COUNT-4: "amx.tdpbusd"
// CHECK: llvm.getelementptr %[[A]][64]
// CHECK-COUNT-28: "amx.tdpbusd"
// CHECK-NOT: "amx.tdpbusd"
// CHECK: "amx.tilestored64"(%{{.*}}, %{{.*}}, %[[C]], %c64_i64{{.*}},
// CHECK-COUNT-3: "amx.tilestored64"
// CHECK: return
// CHECK: func.func private @__tern_amx_tiles_k512_t1(
// CHECK-COUNT-2: "amx.tilezero"
// CHECK-COUNT-16: "amx.tdpbusd"
// CHECK-NOT: "amx.tdpbusd"
// CHECK-COUNT-2: "amx.tilestored64"
func.func @amx(%q: memref<40x512xi8>, %s: memref<40xf32>, %y: memref<40x40xf32>) {
  tern.linear @w(%q, %s) into %y : memref<40x512xi8>, memref<40xf32>, memref<40x40xf32>
  return
}
}

// -----

// AMX with a K of more than 128 steps (8448 = 132 x 64): the tile function
// runs blocks of 44 steps, C loaded from and stored to the buffer around
// each block.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "sapphirerapids", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni", "amx-int8"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<32x8448, per_row, interleaved<256, 4>> from "w" at 0
// CHECK-LABEL: func.func @amx_long
// CHECK: func.call @__tern_amx_tiles_k8448_t1(
// CHECK: func.func private @__tern_amx_tiles_k8448_t1(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %[[C:.*]]: !llvm.ptr)
// CHECK-COUNT-2: "amx.tilezero"
// CHECK-COUNT-2: "amx.tilestored64"
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3 step
// CHECK: "amx.tileloadd64"(%{{.*}}, %{{.*}}, %[[C]], %c64_i64{{.*}})
// CHECK: "amx.tileloadd64"
// CHECK-COUNT-88: "amx.tdpbusd"
// CHECK-NOT: "amx.tdpbusd"
// CHECK-COUNT-2: "amx.tilestored64"
func.func @amx_long(%q: memref<16x8448xi8>, %s: memref<16xf32>, %y: memref<16x32xf32>) {
  tern.linear @w(%q, %s) into %y : memref<16x8448xi8>, memref<16xf32>, memref<16x32xf32>
  return
}
}

// -----

// lut5<64> prefill with AMX-INT8 (AmxLookupKernel.cpp): the tokens padded to
// 16 in rows of whole K steps (K = 100: 25 k quads, 4 steps of 64), then
// per unit of 32 rows (3 for N = 70) the unit's half of each of the 5 column
// blocks' four index vectors interleaved into dwords and decoded digit by
// digit (vpermi2b), the quads past K zeroed; tdpbssd tiles with the
// weights as B (stride 128: 32 rows x 4 bytes a k quad); C rows are tokens,
// finished 16 rows at a time, the rows past N = 70 one by one.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "sapphirerapids", isa = ["avx2", "avx512f", "avx512bw", "avx512vbmi", "avx512vnni", "amx-int8"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<70x100, per_row, lut5<64>> from "w" at 0
// CHECK-LABEL: func.func @amx_lut5
// CHECK: %[[A:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xi8>
// CHECK: scf.for
// CHECK:   scf.for %{{.*}} = %{{.*}} to %c256{{.*}} step %c64
// CHECK:     vector.transfer_read %{{.*}} : memref<?x100xi8>, vector<64xi8>
// CHECK:     vector.store %{{.*}}, %[[A]][%{{.*}}] : memref<?xi8>, vector<64xi8>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3 step
// CHECK:   %[[W:.*]] = memref.alloca() {alignment = 64 : i64} : memref<8192xi8>
// CHECK:   %[[CBUF:.*]] = memref.alloca() {alignment = 64 : i64} : memref<1024xi32>
// CHECK:   scf.for %{{.*}} = %{{.*}} to %c5 step
// CHECK-COUNT-4: vector.load %{{.*}} : memref<{{.*}}xi8>, vector<32xi8>
// CHECK-COUNT-2: vector.shuffle %{{.*}} : vector<32xi8>, vector<32xi8>
// CHECK:     vector.shuffle %{{.*}} : vector<64xi8>, vector<64xi8>
// CHECK-COUNT-5: llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.512"
// CHECK:     vector.shuffle %{{.*}} : vector<64xi8>, vector<64xi8>
// CHECK-COUNT-5: llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.512"
// CHECK:   scf.for %{{.*}} = %c3200 to %c8192 step %c64
// CHECK:     vector.store %{{.*}}, %[[W]][%{{.*}}] : memref<8192xi8>, vector<64xi8>
// CHECK:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// CHECK:     func.call @__tern_amx_lut5_tiles_k256_t2(
// CHECK:     scf.for %{{.*}} = %{{.*}} to %c4 step
// CHECK:       scf.for
// CHECK:         scf.if
// CHECK:           vector.load %[[CBUF]][%{{.*}}] : memref<1024xi32>, vector<16xi32>
// CHECK:         } else {
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c70 step
// CHECK:             memref.load %[[CBUF]]
// CHECK:   scf.if
// CHECK:     func.call @__tern_amx_lut5_tiles_k256_t1(
// CHECK: } {tern.parallel}
// CHECK: memref.dealloc %[[A]] : memref<?xi8>
// CHECK: func.func private @__tern_amx_lut5_tiles_k256_t2(%[[WP:.*]]: !llvm.ptr, %[[AP:.*]]: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-COUNT-4: "amx.tilezero"
// CHECK: "amx.tileloadd64"(%{{.*}}, %{{.*}}, %[[WP]], %c128_i64)
// CHECK: llvm.getelementptr %[[WP]][64]
// CHECK: "amx.tileloadd64"(%{{.*}}, %{{.*}}, %[[AP]], %c256_i64)
// CHECK: llvm.getelementptr %[[AP]][4096]
// CHECK-COUNT-16: "amx.tdpbssd"
// CHECK-NOT: "amx.tdpbssd"
// CHECK-COUNT-4: "amx.tilestored64"
// CHECK: func.func private @__tern_amx_lut5_tiles_k256_t1(
// CHECK-COUNT-8: "amx.tdpbssd"
// CHECK-NOT: "amx.tdpbssd"
func.func @amx_lut5(%q: memref<?x100xi8>, %s: memref<?xf32>, %y: memref<?x70xf32>) {
  tern.linear @w(%q, %s) into %y : memref<?x100xi8>, memref<?xf32>, memref<?x70xf32>
  return
}
}

// -----

// Decode (one token) on the same CPU keeps vpdpbusd: no tiles. On Intel
// each of the row group's 4 lines is prefetched 4 KiB ahead into L2
// (prefetcht1, locality 2) and 2 KiB ahead into L1 (prefetcht0, locality
// 3); AMD CPUs prefetch less (@znver5_decode below) or nothing.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "sapphirerapids", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni", "amx-int8"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<40x512, per_row, interleaved<256, 4>> from "w" at 0
// CHECK-LABEL: func.func @amx_decode
// CHECK-NOT: amx.
// CHECK-COUNT-4: vector.load %{{.*}} : memref<{{.*}}xi8>, vector<64xi8>
// CHECK: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK: arith.addi %{{.*}}, %c2048{{.*}} : index
// CHECK-NEXT: memref.prefetch %{{.*}}, read, locality<3>, data
// CHECK: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK: arith.addi %{{.*}}, %c2048{{.*}} : index
// CHECK-NEXT: memref.prefetch %{{.*}}, read, locality<3>, data
// CHECK: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK: arith.addi %{{.*}}, %c2048{{.*}} : index
// CHECK-NEXT: memref.prefetch %{{.*}}, read, locality<3>, data
// CHECK: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK: arith.addi %{{.*}}, %c2048{{.*}} : index
// CHECK-NEXT: memref.prefetch %{{.*}}, read, locality<3>, data
// CHECK-NOT: memref.prefetch
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NOT: amx.
// CHECK-NOT: func.func private
func.func @amx_decode(%q: memref<1x512xi8>, %s: memref<1xf32>, %y: memref<1x40xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x512xi8>, memref<1xf32>, memref<1x40xf32>
  return
}
}

// -----

// vpdpbusd decode on Zen 5: each of the row group's 4 lines prefetched 4 KiB
// ahead into L2 (prefetcht1), no second stage; Zen 4 (@znver4_decode below)
// prefetches nothing.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver5", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<40x512, per_row, interleaved<256, 4>> from "w" at 0
// CHECK-LABEL: func.func @znver5_decode
// CHECK-COUNT-4: vector.load %{{.*}} : memref<{{.*}}xi8>, vector<64xi8>
// CHECK: arith.addi %{{.*}}, %c4096{{.*}} : index
// CHECK-NEXT: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK: arith.addi %{{.*}}, %c4096{{.*}} : index
// CHECK-NEXT: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK: arith.addi %{{.*}}, %c4096{{.*}} : index
// CHECK-NEXT: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK: arith.addi %{{.*}}, %c4096{{.*}} : index
// CHECK-NEXT: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK-NOT: memref.prefetch
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
func.func @znver5_decode(%q: memref<1x512xi8>, %s: memref<1xf32>, %y: memref<1x40xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x512xi8>, memref<1xf32>, memref<1x40xf32>
  return
}
}

// -----

module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<40x512, per_row, interleaved<256, 4>> from "w" at 0
// CHECK-LABEL: func.func @znver4_decode
// CHECK-NOT: memref.prefetch
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NOT: memref.prefetch
// CHECK: return
func.func @znver4_decode(%q: memref<1x512xi8>, %s: memref<1xf32>, %y: memref<1x40xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x512xi8>, memref<1xf32>, memref<1x40xf32>
  return
}
}

// -----

// lut5 decode on the same CPU: its tables, no tiles; each index vector's
// line prefetched 4 KiB ahead into L2 and 1 KiB ahead into L1.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "sapphirerapids", isa = ["avx2", "avx512f", "avx512bw", "avx512vbmi", "avx512vnni", "amx-int8"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<64x300, per_row, lut5<64>> from "w" at 0
// CHECK-LABEL: func.func @amx_lut5_decode
// CHECK-NOT: amx.
// CHECK: vector.load %{{.*}} : memref<{{.*}}xi8>, vector<64xi8>
// CHECK: arith.addi %{{.*}}, %c4096{{.*}} : index
// CHECK-NEXT: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK: arith.addi %{{.*}}, %c1024{{.*}} : index
// CHECK-NEXT: memref.prefetch %{{.*}}, read, locality<3>, data
// CHECK-NOT: memref.prefetch
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.512"
// CHECK-NOT: amx.
// CHECK: func.func private @ternc_thread_count
// CHECK-NOT: amx.
func.func @amx_lut5_decode(%q: memref<1x300xi8>, %s: memref<1xf32>, %y: memref<1x64xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x300xi8>, memref<1xf32>, memref<1x64xf32>
  return
}
}

// -----

// AVX2, 32-weight bit planes: codes (u8) x activations (s8) with vpmaddubsw,
// whose i16 pair sums add up in one i16 accumulator per output for up to 16
// chunks (at most 4 * 512 a chunk in magnitude) before one vpmaddwd widens
// them; then sum(a) is subtracted. Tiles of 2 rows x 4 tokens; 5 rows =
// 2 + 2 + 1, so the parallel loop has 3 iterations and the last one runs the
// single row left. Tokens left one at a time take the decode kernel
// (below).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["avx2"], vector_bits = 256>} {
tern.weight @w : !tern.ternary<5x128, per_row, interleaved<128>> from "w" at 0
// CHECK-LABEL: func.func @avx2
// CHECK: %[[SUMA:.*]] = memref.alloca() : memref<6xi32>
// CHECK: scf.for %[[U:.*]] = %{{.*}} to %[[C3:.*]] step
// CHECK:   %[[FULL:.*]] = arith.cmpi ult, %[[U]], %{{.*}} : index
// CHECK:   scf.if %[[FULL]] {
// CHECK:     scf.for {{.*}} step %c16 iter_args({{.*}}) -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>) {
// CHECK:       scf.for {{.*}} -> (vector<16xi16>, vector<16xi16>, vector<16xi16>, vector<16xi16>, vector<16xi16>, vector<16xi16>, vector<16xi16>, vector<16xi16>) {
// CHECK-COUNT-2: vector.load %{{.*}} : memref<{{.*}}xi8>, vector<32xi8>
// CHECK-COUNT-32: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// CHECK-NOT: pmadd.wd
// CHECK:       scf.yield {{.*}} : vector<16xi16>,
// CHECK-COUNT-8: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// CHECK:     scf.yield
// CHECK:     arith.subi
// CHECK:   } else {
// CHECK:     scf.for {{.*}} -> (vector<8xi32>) {
// CHECK:       scf.for {{.*}} -> (vector<16xi16>, vector<16xi16>) {
// CHECK-COUNT-4: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// CHECK-COUNT-2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// CHECK: } {tern.parallel}
// CHECK-NOT: vpdpbusd
func.func @avx2(%q: memref<6x128xi8>, %s: memref<6xf32>, %y: memref<6x5xf32>) {
  tern.linear @w(%q, %s) into %y : memref<6x128xi8>, memref<6xf32>, memref<6x5xf32>
  return
}
}

// -----

// AVX2 decode (one token): per chunk and row one shift (codes >> 4) and four
// masks (3 and 12 of the low and the high nibble: planes 0 and 2 as codes,
// 1 and 3 in place, times 4) for four vpmaddubsw into two i16 accumulators
// per row, widened every 8 chunks (K = 1152: chunks 0-7, then 8) by
// vpmaddwd by 4 and by 1, so the i32 sums are 4 times the dot products,
// shifted back at the end. The weights are prefetched 4 KiB ahead: on
// Zen 3 with prefetchnta (locality 0), on Intel (below) prefetcht1.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver3", isa = ["avx2"], vector_bits = 256>} {
tern.weight @w : !tern.ternary<4x1152, per_row, interleaved<128, 2>> from "w" at 0
// CHECK-LABEL: func.func @avx2_decode
// CHECK: %[[OUT:.*]]:2 = scf.for %[[G:.*]] = %{{.*}} to %c9 step %c8 iter_args({{.*}}) -> (vector<8xi32>, vector<8xi32>) {
// CHECK:   %[[END:.*]] = arith.minui %{{.*}}, %c9 : index
// CHECK:   %[[IN:.*]]:4 = scf.for %{{.*}} = %[[G]] to %[[END]] step %{{.*}} iter_args({{.*}}) -> (vector<16xi16>, vector<16xi16>, vector<16xi16>, vector<16xi16>) {
// CHECK:     %[[CODES:.*]] = vector.load {{.*}} vector<32xi8>
// CHECK:     memref.prefetch %{{.*}}, read, locality<0>, data
// CHECK:     %[[C4:.*]] = arith.constant dense<4> : vector<32xi8>
// CHECK:     %[[HIGH:.*]] = arith.shrui %[[CODES]], %[[C4]]
// CHECK:     %[[M3:.*]] = arith.constant dense<3> : vector<32xi8>
// CHECK:     %[[P0:.*]] = arith.andi %[[CODES]], %[[M3]]
// CHECK:     %[[M12:.*]] = arith.constant dense<12> : vector<32xi8>
// CHECK:     %[[P1:.*]] = arith.andi %[[CODES]], %[[M12]]
// CHECK:     %[[P2:.*]] = arith.andi %[[HIGH]], %{{.*}}
// CHECK:     %[[P3:.*]] = arith.andi %[[HIGH]], %{{.*}}
// CHECK:     %[[S0:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[P0]]
// CHECK:     %[[S2:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[P2]]
// CHECK:     %[[ONES:.*]] = arith.addi %[[S0]], %[[S2]] : vector<16xi16>
// CHECK:     %[[S1:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[P1]]
// CHECK:     %[[S3:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[P3]]
// CHECK:     %[[FOURS:.*]] = arith.addi %[[S1]], %[[S3]] : vector<16xi16>
// CHECK:     arith.addi %{{.*}}, %[[ONES]] : vector<16xi16>
// CHECK:     arith.addi %{{.*}}, %[[FOURS]] : vector<16xi16>
// CHECK:   %[[BY4:.*]] = arith.constant dense<4> : vector<16xi16>
// CHECK:   llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[IN]]#0, %[[BY4]])
// CHECK:   %[[BY1:.*]] = arith.constant dense<1> : vector<16xi16>
// CHECK:   llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[IN]]#1, %[[BY1]])
// CHECK: %[[SHIFT2:.*]] = arith.constant dense<2> : vector<8xi32>
// CHECK: arith.shrsi %[[OUT]]#0, %[[SHIFT2]] : vector<8xi32>
func.func @avx2_decode(%q: memref<1x1152xi8>, %s: memref<1xf32>, %y: memref<1x4xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x1152xi8>, memref<1xf32>, memref<1x4xf32>
  return
}
}

// -----

// The same on an Intel CPU: prefetcht1 (locality 2), which a Sapphire
// Rapids class host decoded 2B4T a third faster with than prefetchnta.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["avx2"], vector_bits = 256>} {
tern.weight @w : !tern.ternary<4x1152, per_row, interleaved<128, 2>> from "w" at 0
// CHECK-LABEL: func.func @avx2_decode_intel
// CHECK: vector.load {{.*}} vector<32xi8>
// CHECK: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK-NOT: memref.prefetch
// CHECK: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
func.func @avx2_decode_intel(%q: memref<1x1152xi8>, %s: memref<1xf32>, %y: memref<1x4xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x1152xi8>, memref<1xf32>, memref<1x4xf32>
  return
}
}

// -----

// Prefill over a weight of enough row groups runs blocks of them per
// iteration of the parallel loop, tokens outside: each tile of tokens'
// activations stays in L1 while the block's rows go past. 65 rows = 32
// groups of 2 + 1: blocks of 32 / 16 = 2 groups (at least 16 blocks a
// weight), 17 iterations; the last block (u == 16) holds the row left over.
// Per tile of 4 tokens: the block's groups (2 x 4 tiles), then the rest
// row (1 x 4); then the tokens left one by one the same way.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["avx2"], vector_bits = 256>} {
tern.weight @w : !tern.ternary<65x128, per_row, interleaved<128>> from "w" at 0
// CHECK-LABEL: func.func @avx2_blocks
// CHECK: scf.for %[[U:.*]] = %{{.*}} to %c17 step
// CHECK:   %[[G0:.*]] = arith.muli %[[U]], %c2 : index
// CHECK:   %[[GEND:.*]] = arith.minui %{{.*}}, %c32 : index
// CHECK:   %[[REST:.*]] = arith.cmpi eq, %[[U]], %c16 : index
// CHECK:   scf.for %{{.*}} = %{{.*}} to %[[MT:.*]] step %{{.*}} {
// CHECK:     scf.for %{{.*}} = %[[G0]] to %[[GEND]] step
// CHECK:       scf.for {{.*}} -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>) {
// CHECK:     scf.if %[[REST]] {
// CHECK:       scf.for {{.*}} -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>) {
// CHECK:   scf.for %{{.*}} = %[[MT]] to %c6 step
// CHECK:     scf.for %{{.*}} = %[[G0]] to %[[GEND]] step
// CHECK:       scf.for {{.*}} -> (vector<8xi32>, vector<8xi32>) {
// CHECK:     scf.if %[[REST]] {
// CHECK:       scf.for {{.*}} -> (vector<8xi32>) {
// CHECK: } {tern.parallel}
func.func @avx2_blocks(%q: memref<6x128xi8>, %s: memref<6xf32>, %y: memref<6x65xf32>) {
  tern.linear @w(%q, %s) into %y : memref<6x128xi8>, memref<6xf32>, memref<6x65xf32>
  return
}
}

// -----

// AVX-512BW without VNNI (Skylake-SP): the same u8 x s8 kernel in zmm.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "skylake-avx512", isa = ["avx2", "avx512f", "avx512bw"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<4x256, per_tensor, interleaved<256>> from "w" at 0
// CHECK-LABEL: func.func @avx512bw
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.pmaddubs.w.512"({{.*}}) : (vector<64xi8>, vector<64xi8>) -> vector<32xi16>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.pmaddw.d.512"({{.*}}) : (vector<32xi16>, vector<32xi16>) -> vector<16xi32>
// CHECK-NOT: vpdpbusd
func.func @avx512bw(%q: memref<1x256xi8>, %s: memref<1xf32>, %y: memref<1x4xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x256xi8>, memref<1xf32>, memref<1x4xf32>
  return
}
}

// -----

// AVX-VNNI without AVX-512 (Alder Lake): vpdpbusd on ymm. One token, one
// accumulator per plane: plane j is masked in place (codes & 3 << 2j, no
// shift), its sums shifted back by 2j at the end.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "alderlake", isa = ["avx2", "avxvnni"], vector_bits = 256>} {
tern.weight @w : !tern.ternary<4x128, per_tensor, interleaved<128>> from "w" at 0
// CHECK-LABEL: func.func @avxvnni
// CHECK: scf.for {{.*}} -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>) {
// CHECK-NOT: arith.shrui
// CHECK: arith.andi %[[CODES:.*]], %{{.*}} : vector<32xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"({{.*}}) : (vector<8xi32>, vector<8xi32>, vector<8xi32>) -> vector<8xi32>
// CHECK: arith.constant dense<12> : vector<32xi8>
// CHECK: arith.andi %[[CODES]], %{{.*}} : vector<32xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// CHECK: arith.constant dense<48> : vector<32xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// CHECK: arith.constant dense<-64> : vector<32xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// CHECK: arith.constant dense<2> : vector<8xi32>
// CHECK: arith.shrsi %{{.*}}, %{{.*}} : vector<8xi32>
// CHECK: arith.constant dense<4> : vector<8xi32>
// CHECK: arith.shrsi %{{.*}}, %{{.*}} : vector<8xi32>
// CHECK: arith.constant dense<6> : vector<8xi32>
// CHECK: arith.shrsi %{{.*}}, %{{.*}} : vector<8xi32>
// CHECK: vector.reduction <add>
// CHECK-NOT: pmadd
func.func @avxvnni(%q: memref<1x128xi8>, %s: memref<1xf32>, %y: memref<1x4xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x128xi8>, memref<1xf32>, memref<1x4xf32>
  return
}
}

// -----

// Several weights (as tern-fuse-linears makes them): one parallel loop over
// the rows of all of them, 3 + 2 = 5 iterations; iteration u < 3 computes
// row u of @a into %ya, the others row u - 3 of @b into %yb.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "x86-64", isa = [], vector_bits = 128>} {
tern.weight @a : !tern.ternary<3x64, per_row, interleaved<16>> from "a" at 0
tern.weight @b : !tern.ternary<2x64, per_tensor, interleaved<16>> from "b" at 128
// CHECK-LABEL: func.func @fused
// CHECK: %[[A:.*]] = tern.weight_data @a : memref<128xi8>
// CHECK: %[[B:.*]] = tern.weight_data @b : memref<128xi8>
// CHECK: %[[C5:.*]] = arith.constant 5 : index
// CHECK: scf.for %[[U:.*]] = %{{.*}} to %[[C5]] step
// CHECK:   %[[C3:.*]] = arith.constant 3 : index
// CHECK:   %[[IN_A:.*]] = arith.cmpi ult, %[[U]], %[[C3]] : index
// CHECK:   scf.if %[[IN_A]] {
// CHECK:     vector.load %[[A]]
// CHECK:     memref.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : memref<1x3xf32>
// CHECK:   } else {
// CHECK:     %[[LOCAL:.*]] = arith.subi %[[U]], %{{.*}} : index
// CHECK:     vector.load %[[B]]
// CHECK:     memref.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : memref<1x2xf32>
// CHECK:   }
// CHECK: } {tern.parallel}
func.func @fused(%q: memref<1x64xi8>, %s: memref<1xf32>, %ya: memref<1x3xf32>, %yb: memref<1x2xf32>) {
  tern.linear @a, @b(%q, %s) into %ya, %yb : memref<1x64xi8>, memref<1xf32>, memref<1x3xf32>, memref<1x2xf32>
  return
}
}

// -----

// tern.rms_norm_quantize: the sum of squares in order (scalar, lanes = 1),
// then one
// vector pass writing y = w * (r * x) and tracking |y|'s maximum, then the
// rounding pass of tern.quantize over y. 8 f32 lanes (AVX2), D = 20 (the
// tail masked).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["avx2"], vector_bits = 256>} {
// CHECK-LABEL: func.func @norm_quantize
// CHECK: scf.for %[[M:.*]] =
// CHECK:   %[[SS:.*]] = scf.for {{.*}} -> (f32) {
// CHECK:     memref.load
// CHECK:     arith.mulf {{.*}} : f32
// CHECK:   math.sqrt
// CHECK:   %[[MAX:.*]] = scf.for {{.*}} -> (vector<8xi32>) {
// CHECK:     %[[X:.*]] = vector.transfer_read %{{.*}}[%[[M]], %{{.*}}], %{{.*}} : memref<2x20xf32>, vector<8xf32>
// CHECK:     %[[RX:.*]] = arith.mulf %{{.*}}, %[[X]] : vector<8xf32>
// CHECK:     %[[WV:.*]] = vector.transfer_read %{{.*}} : memref<20xf32>, vector<8xf32>
// CHECK:     %[[O:.*]] = arith.mulf %[[WV]], %[[RX]] : vector<8xf32>
// CHECK:     vector.transfer_write %[[O]], %{{.*}}[%[[M]], %{{.*}}] : vector<8xf32>, memref<2x20xf32>
// CHECK:     arith.bitcast %[[O]] : vector<8xf32> to vector<8xi32>
// CHECK:     arith.maxui
// CHECK:   vector.reduction <maxui>, %[[MAX]]
// CHECK:   memref.store %{{.*}} : memref<2xf32>
// CHECK:   scf.for
// CHECK:     vector.transfer_read %{{.*}} : memref<2x20xf32>, vector<8xf32>
// CHECK:     arith.fptosi %{{.*}} : vector<8xf32> to vector<8xi8>
// CHECK:     vector.transfer_write %{{.*}} : vector<8xi8>, memref<2x20xi8>
// Two rows (tokens): the thread pool takes them.
// CHECK: } {tern.parallel}
// CHECK-NOT: tern.rms_norm_quantize
func.func @norm_quantize(%x: memref<2x20xf32>, %w: memref<20xf32>, %y: memref<2x20xf32>, %q: memref<2x20xi8>, %s: memref<2xf32>) {
  tern.rms_norm_quantize %x weight(%w : memref<20xf32>) into %y, %q, %s {eps = 1.0e-05 : f32} : memref<2x20xf32>, memref<2x20xf32>, memref<2x20xi8>, memref<2xf32>
  return
}
// A single row (decode) stays on the calling thread.
// CHECK-LABEL: func.func @norm_quantize_one
// CHECK-NOT: tern.parallel
// CHECK: return
func.func @norm_quantize_one(%x: memref<1x20xf32>, %w: memref<20xf32>, %y: memref<1x20xf32>, %q: memref<1x20xi8>, %s: memref<1xf32>) {
  tern.rms_norm_quantize %x weight(%w : memref<20xf32>) into %y, %q, %s {eps = 1.0e-05 : f32} : memref<1x20xf32>, memref<1x20xf32>, memref<1x20xi8>, memref<1xf32>
  return
}
// lanes = 16: the sum of squares in 16 interleaved partial sums (one
// vector of 16, whatever the target's width; the reads past D = 20 masked
// to 0), then the 16 added in order by vector.reduction (no reassociation).
// CHECK-LABEL: func.func @norm_quantize_lanes
// CHECK: %[[PART:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c16 iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<16xf32>) {
// CHECK:   %[[V:.*]] = vector.transfer_read %{{.*}}, %{{.*}} : memref<1x20xf32>, vector<16xf32>
// CHECK:   %[[SQ:.*]] = arith.mulf %[[V]], %[[V]] : vector<16xf32>
// CHECK:   %[[SUM:.*]] = arith.addf %[[ACC]], %[[SQ]] : vector<16xf32>
// CHECK:   scf.yield %[[SUM]]
// CHECK: vector.reduction <add>, %[[PART]] : vector<16xf32> into f32
// CHECK-NOT: fastmath
// CHECK: math.sqrt
func.func @norm_quantize_lanes(%x: memref<1x20xf32>, %w: memref<20xf32>, %y: memref<1x20xf32>, %q: memref<1x20xi8>, %s: memref<1xf32>) {
  tern.rms_norm_quantize %x weight(%w : memref<20xf32>) into %y, %q, %s {eps = 1.0e-05 : f32, lanes = 16} : memref<1x20xf32>, memref<1x20xf32>, memref<1x20xi8>, memref<1xf32>
  return
}
}

// -----

// A residual epilogue: each output element is stored, then added to the
// residual stream (h + y, the order of the tern.add it replaced).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "x86-64", isa = [], vector_bits = 128>} {
tern.weight @w : !tern.ternary<3x64, per_row, interleaved<16>> from "w" at 0
// CHECK-LABEL: func.func @residual
// CHECK-SAME: %[[Y:[^:]*]]: memref<1x3xf32>, %[[H:[^:]*]]: memref<1x3xf32>)
// CHECK: %[[OUT:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: memref.store %[[OUT]], %[[Y]][%[[M:.*]], %[[N:.*]]] : memref<1x3xf32>
// CHECK: %[[OLD:.*]] = memref.load %[[H]][%[[M]], %[[N]]] : memref<1x3xf32>
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[OUT]] : f32
// CHECK: memref.store %[[NEW]], %[[H]][%[[M]], %[[N]]] : memref<1x3xf32>
func.func @residual(%q: memref<1x64xi8>, %s: memref<1xf32>, %y: memref<1x3xf32>, %h: memref<1x3xf32>) {
  tern.linear @w(%q, %s) into %y residual(%h : memref<1x3xf32>) : memref<1x64xi8>, memref<1xf32>, memref<1x3xf32>
  return
}
}

// -----

// tern.kernel_family = "portable" (from tern-select-layout kernel=portable):
// no dot-product intrinsic on a VNNI target.
module attributes {tern.kernel_family = "portable", tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<4x256, per_tensor, interleaved<256>> from "w" at 0
// CHECK-LABEL: func.func @portable
// CHECK-NOT: llvm.call_intrinsic
// CHECK: arith.muli {{.*}} : vector<64xi32>
// CHECK-NOT: llvm.call_intrinsic
func.func @portable(%q: memref<1x256xi8>, %s: memref<1xf32>, %y: memref<1x4xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x256xi8>, memref<1xf32>, memref<1x4xf32>
  return
}
}
// -----

// AArch64 with i8mm: prefill tiles (4 rows x 4 tokens) use smmla: per bit
// plane, the weights of a pair of rows and the activations of a pair of
// tokens, halves of 8, as 2x8 matrices; each smmla adds a 2x2 block of
// sums. Lane 2*i + j of a block is row i, token j of the pair.
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "neoverse-v1", isa = ["neon", "dotprod", "i8mm"], vector_bits = 128>} {
tern.weight @w : !tern.ternary<4x64, per_row, interleaved<64>> from "w" at 0
// CHECK-LABEL: func.func @smmla
// CHECK: scf.for {{.*}} -> (vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>) {
// CHECK:   %[[W:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xi8>, vector<16xi8>
// CHECK:   %[[A:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xi8>, vector<16xi8>
// CHECK:   arm_neon.intr.smmla %{{.*}}, %[[W]], %[[A]] : vector<16xi8> to vector<4xi32>
// CHECK-COUNT-31: arm_neon.intr.smmla
// CHECK-NOT: arm_neon.intr.sdot
// CHECK: vector.extract %{{.*}}[3] : i32 from vector<4xi32>
func.func @smmla(%q: memref<4x64xi8>, %s: memref<4xf32>, %y: memref<4x4xf32>) {
  tern.linear @w(%q, %s) into %y : memref<4x64xi8>, memref<4xf32>, memref<4x4xf32>
  return
}
}

// -----

// Lookup family, AVX-512 VBMI: per token, tables of the nine pair sums
// (int16 split into 16 low and 16 high bytes) are built in parallel over
// the tokens; each weight byte vector gives the indices of two pairs for 64
// rows, looked up with vpermb in one zmm holding both pairs' tables (low
// and high quarters picked by index bits 4 and 5). Low and high bytes are
// zipped into int16, summed in int16 for at most 32 index bytes (K = 517:
// 130 index bytes, 5 runs), then widened into int32 (in a stack buffer of
// the iteration). Rows past N (70 of the 128 in two blocks) are skipped.
// Activations past K read as 0.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512bw", "avx512vbmi"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<70x517, per_row, lut<64>> from "w" at 0
// CHECK-LABEL: func.func @lut_vpermb
// CHECK: %[[TABLES:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xi8>
// The tables of 3 tokens x 5 pieces of 64 groups (260 pairs), in parallel:
// CHECK: %[[PIECES:.*]] = arith.muli %c3, %c5 : index
// CHECK: scf.for %[[PIECE:.*]] = %{{.*}} to %[[PIECES]]
// CHECK:   %[[M:.*]] = arith.divui %[[PIECE]], %c5 : index
// CHECK:   %[[P:.*]] = arith.remui %[[PIECE]], %c5 : index
// CHECK:   %[[FIRST:.*]] = arith.muli %[[P]], %c64 : index
// CHECK:   %[[END:.*]] = arith.addi %[[FIRST]], %c64{{.*}} : index
// CHECK:   %[[LAST:.*]] = arith.minui %[[END]], %c260 : index
// CHECK:   scf.for %{{.*}} = %[[FIRST]] to %[[LAST]]
// CHECK:     arith.minui
// CHECK:     arith.cmpi ult, %{{.*}}, %c517
// CHECK:     arith.muli %{{.*}}, %{{.*}} : vector<16xi16>
// CHECK:     %[[LO:.*]] = arith.trunci %{{.*}} : vector<16xi16> to vector<16xi8>
// CHECK:     arith.shrsi
// CHECK:     %[[HI:.*]] = arith.trunci %{{.*}} : vector<16xi16> to vector<16xi8>
// CHECK:     vector.store %[[LO]], %[[TABLES]]
// CHECK:     vector.store %[[HI]], %[[TABLES]]
// CHECK: } {tern.parallel}
// CHECK: scf.for %[[U:.*]] = %{{.*}} to %c2
// CHECK:   memref.alloca() {alignment = 64 : i64} : memref<64xi32>
// CHECK:   scf.for %[[M:.*]] =
// CHECK:     scf.for
// CHECK:       scf.for {{.*}} -> (vector<32xi16>, vector<32xi16>) {
// CHECK:         %[[BYTES:.*]] = vector.load %{{.*}} : memref<{{.*}}xi8>, vector<64xi8>
// CHECK:         arith.andi %[[BYTES]], %{{.*}} : vector<64xi8>
// CHECK:         arith.shrui %[[BYTES]], %{{.*}} : vector<64xi8>
// CHECK:         vector.load %[[TABLES]][%{{.*}}] : memref<?xi8>, vector<64xi8>
// CHECK:         llvm.call_intrinsic "llvm.x86.avx512.permvar.qi.512"
// CHECK:         llvm.call_intrinsic "llvm.x86.avx512.permvar.qi.512"
// CHECK:         vector.shuffle %{{.*}}, %{{.*}} [0, 64, 1, 65, 2, 66, 3, 67, 4, 68, 5, 69, 6, 70, 7, 71, 16, 80,
// CHECK:         vector.bitcast %{{.*}} : vector<64xi8> to vector<32xi16>
// CHECK:         vector.shuffle %{{.*}}, %{{.*}} [8, 72, 9, 73,
// CHECK-COUNT-2: llvm.call_intrinsic "llvm.x86.avx512.permvar.qi.512"
// CHECK:         scf.yield %{{.*}}, %{{.*}} : vector<32xi16>, vector<32xi16>
// CHECK:       arith.extsi %{{.*}} : vector<32xi16> to vector<32xi32>
// CHECK:       arith.extsi %{{.*}} : vector<32xi16> to vector<32xi32>
// The other four runs of 32 add to the int32 sums.
// CHECK:     scf.for %{{.*}} = %c1{{.*}} to %c5
// The first block is scaled on vectors; the second holds rows 64-69 only
// (lanes 0-5 of the first half), scaled one by one.
// CHECK:     arith.cmpi ult, %{{.*}}, %c1
// CHECK:     scf.if
// CHECK:       arith.sitofp %{{.*}} : vector<64xi32> to vector<64xf32>
// CHECK:     } else {
// CHECK:       vector.extract %{{.*}}[5] : i32 from vector<32xi32>
// CHECK-NOT:   vector.extract
// CHECK: } {tern.parallel}
// CHECK: memref.dealloc %[[TABLES]] : memref<?xi8>
func.func @lut_vpermb(%q: memref<3x517xi8>, %s: memref<3xf32>, %y: memref<3x70xf32>) {
  tern.linear @w(%q, %s) into %y : memref<3x517xi8>, memref<3xf32>, memref<3x70xf32>
  return
}
}

// -----

// Five-weight lookup (lut5<64>, AVX-512 VBMI): per token a table of the 128
// int16 sums S(m) of each group's balanced-ternary patterns (columns
// 20c + 4i + j of group 4c + j), low and high bytes 128 each. 1100 rows are
// 18 blocks of 64, 3 an iteration (6 iterations); K = 300 is 60 index bytes,
// a slice of 48 then one of 12, stored slice by slice for the 3 blocks.
// Each index byte is looked up with bits 0-6 by vpermi2b in the two halves
// of each table; its sign bit flips the sum (S ^ s) and is counted; the
// int32 sums of the 3 blocks wait in a stack buffer between slices. Whole
// blocks are scaled on vectors in row order; rows past 1100 are skipped.
// One token (decode) prefetches the weight stream.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512bw", "avx512vbmi"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<1100x300, per_row, lut5<64>> from "w" at 0
// Decode: a set of tables (15360 bytes) per thread of the runtime, each
// built by its thread the first time it runs a unit of the op.
// CHECK-LABEL: func.func @lut5_vpermi2b
// CHECK: %[[THREADS:.*]] = call @ternc_thread_count() : () -> i32
// CHECK: %[[N:.*]] = arith.index_cast %[[THREADS]] : i32 to index
// CHECK: %[[BYTES:.*]] = arith.muli %[[N]], %c15360 : index
// CHECK: %[[TABLES:.*]] = memref.alloc(%[[BYTES]]) {alignment = 64 : i64} : memref<?xi8>
// CHECK: %[[BUILT:.*]] = memref.alloc(%[[N]]) {alignment = 64 : i64} : memref<?xi8>
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N]]
// CHECK:   memref.store %c0_i8, %[[BUILT]]
// CHECK-NOT: tern.parallel
// CHECK: scf.for %[[U:.*]] = %{{.*}} to %c6
// CHECK:   %[[SUMS:.*]] = memref.alloca() {alignment = 64 : i64} : memref<192xi32>
// CHECK:   %[[SELF:.*]] = func.call @ternc_thread_index() : () -> i32
// CHECK:   %[[T:.*]] = arith.index_cast %[[SELF]] : i32 to index
// CHECK:   %[[MINE:.*]] = arith.muli %[[T]], %c15360{{.*}} : index
// CHECK:   memref.load %[[BUILT]][%[[T]]] : memref<?xi8>
// CHECK:   scf.if
// CHECK:     scf.for %{{.*}} = %{{.*}} to %c60
// CHECK:       arith.divui %{{.*}}, %c4
// CHECK:       arith.muli %{{.*}}, %c20
// CHECK-COUNT-5: arith.muli %{{.*}}, %{{.*}} : vector<128xi16>
// CHECK:       arith.trunci %{{.*}} : vector<128xi16> to vector<128xi8>
// CHECK:       arith.trunci %{{.*}} : vector<128xi16> to vector<128xi8>
// CHECK:     memref.store %c1_i8, %[[BUILT]][%[[T]]] : memref<?xi8>
// CHECK:   scf.for %[[M:.*]] =
// CHECK:     scf.for %{{.*}} = %{{.*}} to %c3
// CHECK:       scf.for %{{.*}} = %{{.*}} to %c48 {{.*}} -> (vector<32xi16>, vector<32xi16>, vector<64xi8>) {
// CHECK:         %[[BYTES:.*]] = vector.load %{{.*}} : memref<{{.*}}xi8>, vector<64xi8>
// CHECK:         memref.prefetch
// CHECK:         %[[NEG:.*]] = arith.cmpi slt, %[[BYTES]], %{{.*}} : vector<64xi8>
// CHECK:         %[[SIGN:.*]] = arith.extsi %[[NEG]] : vector<64xi1> to vector<64xi8>
// CHECK:         %[[LO:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.512"(%{{.*}}, %[[BYTES]], %{{.*}})
// CHECK:         %[[HI:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.512"(%{{.*}}, %[[BYTES]], %{{.*}})
// CHECK:         arith.xori %[[LO]], %[[SIGN]] : vector<64xi8>
// CHECK:         arith.xori %[[HI]], %[[SIGN]] : vector<64xi8>
// CHECK:         vector.bitcast %{{.*}} : vector<64xi8> to vector<32xi16>
// CHECK:         arith.subi %{{.*}}, %[[SIGN]] : vector<64xi8>
// CHECK:       arith.extsi %{{.*}} : vector<32xi16> to vector<32xi32>
// CHECK:       vector.store %{{.*}}, %[[SUMS]]
// The second slice, 12 index bytes from 48 on, adds to the buffer.
// CHECK:     scf.for %{{.*}} = %c1{{.*}} to %c2
// CHECK:       arith.minui %{{.*}}, %c60
// CHECK:       scf.for %{{.*}} = %{{.*}} to %c3
// CHECK:         vector.load %[[SUMS]]
// CHECK:         scf.for {{.*}} -> (vector<32xi16>, vector<32xi16>, vector<64xi8>) {
// CHECK:         vector.store %{{.*}}, %[[SUMS]]
// CHECK:     scf.for
// CHECK:       arith.cmpi ult, %{{.*}}, %c17
// CHECK:       scf.if
// CHECK:         vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 32, 33, 34, 35, 36, 37, 38, 39, 8, 9,
// CHECK:         arith.sitofp %{{.*}} : vector<64xi32> to vector<64xf32>
// CHECK:         vector.store %{{.*}} : memref<1x1100xf32>, vector<64xf32>
// CHECK:       } else {
// The last block's 12 rows: rows 0-7 are lanes 0-7 of the first half,
// rows 8-11 lanes 0-3 of the second.
// CHECK:         vector.extract %{{.*}}[7] : i32 from vector<32xi32>
// CHECK-NOT:     vector.extract %{{.*}}[8] : i32
// CHECK:         vector.extract %{{.*}}[3] : i32 from vector<32xi32>
// CHECK-NOT:     vector.extract
// CHECK: } {tern.parallel}
// CHECK: memref.dealloc %[[TABLES]] : memref<?xi8>
// CHECK: memref.dealloc %[[BUILT]] : memref<?xi8>
// CHECK: func.func private @ternc_thread_count() -> i32
// CHECK: func.func private @ternc_thread_index() -> i32
func.func @lut5_vpermi2b(%q: memref<1x300xi8>, %s: memref<1xf32>, %y: memref<1x1100xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x300xi8>, memref<1xf32>, memref<1x1100xf32>
  return
}
}

// -----

// Three-weight lookup (lut3<16>, AArch64 tbl): per token a 16-entry table
// of the sums S(m) of each group's balanced-ternary patterns (m = 0..13,
// columns 3g..3g+2, past K = 100 zero), low and high bytes 16 each. K pads
// to 120: five column blocks of five index vectors (80 bytes for 16 rows),
// four of magnitudes (a nibble a group) and one of the eight signs. Each
// group's sign is bit 2q + s of the fifth vector; it flips the two looked
// up bytes (S ^ s) and is counted, as in lut5. 40 rows: three blocks, the
// last one 8 rows.
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a72", isa = ["neon"], vector_bits = 128>} {
tern.weight @w : !tern.ternary<40x100, per_row, lut3<16>> from "w" at 0
// CHECK-LABEL: func.func @lut3_tbl
// CHECK: call @ternc_thread_count()
// CHECK: %[[TABLES:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xi8>
// CHECK-NOT: tern.parallel
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3
// CHECK:   func.call @ternc_thread_index()
// CHECK:   scf.if
// CHECK:     scf.for %{{.*}} = %{{.*}} to %c40
// CHECK:       arith.muli %{{.*}}, %c3
// CHECK:       arith.cmpi ult, %{{.*}}, %c100 : index
// CHECK:       %{{.*}} = arith.constant dense<[0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, 0, 0]> : vector<16xi16>
// CHECK:       %{{.*}} = arith.constant dense<[0, 0, 1, 1, 1, -1, -1, -1, 0, 0, 0, 1, 1, 1, 0, 0]> : vector<16xi16>
// CHECK:       %{{.*}} = arith.constant dense<[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]> : vector<16xi16>
// CHECK:   scf.for %{{.*}} = %{{.*}} to %c5 {{.*}} -> (vector<8xi16>, vector<8xi16>, vector<16xi8>) {
// CHECK:     arith.muli %{{.*}}, %c80
// CHECK:     %[[MAGS:.*]] = vector.load %{{.*}} : memref<1408xi8>, vector<16xi8>
// CHECK:     %[[SIGNS:.*]] = vector.load %{{.*}} : memref<1408xi8>, vector<16xi8>
// CHECK:     %[[LOW:.*]] = arith.andi %[[MAGS]], %{{.*}} : vector<16xi8>
// CHECK:     %[[BIT:.*]] = arith.andi %[[SIGNS]], %{{.*}} : vector<16xi8>
// CHECK:     %[[NEG:.*]] = arith.cmpi ne, %[[BIT]], %{{.*}} : vector<16xi8>
// CHECK:     %[[SIGN:.*]] = arith.extsi %[[NEG]] : vector<16xi1> to vector<16xi8>
// CHECK:     %[[LO:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.tbl1.v16i8"(%{{.*}}, %[[LOW]])
// CHECK:     %[[HI:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.tbl1.v16i8"(%{{.*}}, %[[LOW]])
// CHECK:     arith.xori %[[LO]], %[[SIGN]] : vector<16xi8>
// CHECK:     arith.xori %[[HI]], %[[SIGN]] : vector<16xi8>
// CHECK:     arith.subi %{{.*}}, %[[SIGN]] : vector<16xi8>
// Eight groups a step: seven more sign tests, bits 2 to 128.
// CHECK-COUNT-7: arith.cmpi ne
// CHECK:     scf.yield
// CHECK:   arith.extsi %{{.*}} : vector<8xi16> to vector<8xi32>
// CHECK:   scf.if
// CHECK:     arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:   } else {
// CHECK:     vector.extract %{{.*}}[7] : i32 from vector<8xi32>
// CHECK-NOT: vector.extract
// CHECK: } {tern.parallel}
// CHECK: memref.dealloc %[[TABLES]] : memref<?xi8>
func.func @lut3_tbl(%q: memref<1x100xi8>, %s: memref<1xf32>, %y: memref<1x40xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x100xi8>, memref<1xf32>, memref<1x40xf32>
  return
}
}

// -----

// Four-weight lookup (lut4<16>, AArch64 tbl with four registers): per token
// a 64-entry table of the sums S(m) of each group's balanced-ternary
// patterns (m = 0..40, columns 4g..4g+3), low and high bytes 64 each. An
// index byte is |v| | sign << 7 as in lut5: the sign is masked off before
// tbl (which gives 0 past 63), flips the looked up bytes and is counted.
// K = 100 is 25 index bytes, one slice; 40 rows are three blocks.
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a53", isa = ["neon"], vector_bits = 128>} {
tern.weight @w : !tern.ternary<40x100, per_row, lut4<16>> from "w" at 0
// CHECK-LABEL: func.func @lut4_tbl4
// CHECK: call @ternc_thread_count()
// CHECK: %[[TABLES:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xi8>
// CHECK-NOT: tern.parallel
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3
// CHECK:   func.call @ternc_thread_index()
// CHECK:   scf.if
// CHECK:     scf.for %{{.*}} = %{{.*}} to %c25
// CHECK:       arith.muli %{{.*}}, %c4
// CHECK-COUNT-4: arith.muli %{{.*}}, %{{.*}} : vector<64xi16>
// CHECK:       arith.trunci %{{.*}} : vector<64xi16> to vector<64xi8>
// CHECK:   scf.for %{{.*}} = %{{.*}} to %c25 {{.*}} -> (vector<8xi16>, vector<8xi16>, vector<16xi8>) {
// CHECK:     %[[BYTES:.*]] = vector.load %{{.*}} : memref<{{.*}}xi8>, vector<16xi8>
// CHECK:     %[[NEG:.*]] = arith.cmpi slt, %[[BYTES]], %{{.*}} : vector<16xi8>
// CHECK:     %[[SIGN:.*]] = arith.extsi %[[NEG]] : vector<16xi1> to vector<16xi8>
// CHECK:     %[[MAG:.*]] = arith.andi %[[BYTES]], %{{.*}} : vector<16xi8>
// CHECK:     %[[LO:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.tbl4.v16i8"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[MAG]])
// CHECK:     %[[HI:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.tbl4.v16i8"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[MAG]])
// CHECK:     arith.xori %[[LO]], %[[SIGN]] : vector<16xi8>
// CHECK:     arith.xori %[[HI]], %[[SIGN]] : vector<16xi8>
// CHECK:     arith.subi %{{.*}}, %[[SIGN]] : vector<16xi8>
// CHECK: memref.dealloc %[[TABLES]] : memref<?xi8>
func.func @lut4_tbl4(%q: memref<1x100xi8>, %s: memref<1xf32>, %y: memref<1x40xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x100xi8>, memref<1xf32>, memref<1x40xf32>
  return
}
}

// -----

// lut4<64> on AVX-512 VBMI: each 64-byte table is one zmm that vpermb
// indexes with bits 0-5 (bit 7, the sign, is ignored: no mask).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512bw", "avx512vbmi"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<64x16, per_row, lut4<64>> from "w" at 0
// CHECK-LABEL: func.func @lut4_vpermb
// CHECK:     %[[BYTES:.*]] = vector.load %{{.*}} : memref<{{.*}}xi8>, vector<64xi8>
// CHECK-NOT: arith.andi
// CHECK:     %[[T:.*]] = vector.load %{{.*}} : memref<?xi8>, vector<64xi8>
// CHECK:     llvm.call_intrinsic "llvm.x86.avx512.permvar.qi.512"(%[[T]], %[[BYTES]]) : (vector<64xi8>, vector<64xi8>) -> vector<64xi8>
func.func @lut4_vpermb(%q: memref<1x16xi8>, %s: memref<1xf32>, %y: memref<1x64xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x16xi8>, memref<1xf32>, memref<1x64xf32>
  return
}
}

// -----

// A glu epilogue (gate/up with `glu relu2`): the parallel loop runs over the
// units of one weight (70 rows in tiles of 4: 18); iteration u computes
// gate's rows [4u, 4u + 4) and up's, then m = max(g, 0)^2 * u for those
// rows (the last unit: 68-69) and every token, in the same iteration.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
tern.weight @g : !tern.ternary<70x256, per_row, interleaved<256>> from "g" at 0
tern.weight @u : !tern.ternary<70x256, per_row, interleaved<256>> from "u" at 4608
// CHECK-LABEL: func.func @glu_epilogue
// CHECK-SAME: %[[G:[a-z0-9]+]]: memref<3x70xf32>, %[[UP:[a-z0-9]+]]: memref<3x70xf32>, %[[M:[a-z0-9]+]]: memref<3x70xf32>)
// CHECK: scf.for %[[UNIT:.*]] = %{{.*}} to %c18 step
// CHECK:   memref<3x70xf32>, vector<4xf32>
// CHECK:   memref<3x70xf32>, vector<4xf32>
// CHECK:   %[[R1:.*]] = arith.minui %{{.*}}, %c70 : index
// CHECK:   scf.for %[[T:.*]] = %{{.*}} to %c3
// CHECK:     scf.for %[[N:.*]] = %{{.*}} to %[[R1]]
// CHECK:       %[[GV:.*]] = memref.load %[[G]][%[[T]], %[[N]]]
// CHECK:       %[[UV:.*]] = memref.load %[[UP]][%[[T]], %[[N]]]
// CHECK:       %[[P:.*]] = arith.maximumf %[[GV]], %{{.*}} : f32
// CHECK:       %[[P2:.*]] = arith.mulf %[[P]], %[[P]] : f32
// CHECK:       %[[MV:.*]] = arith.mulf %[[P2]], %[[UV]] : f32
// CHECK:       memref.store %[[MV]], %[[M]][%[[T]], %[[N]]]
// CHECK: } {tern.parallel}
func.func @glu_epilogue(%q: memref<3x256xi8>, %s: memref<3xf32>, %g: memref<3x70xf32>, %u: memref<3x70xf32>, %m: memref<3x70xf32>) {
  tern.linear @g, @u(%q, %s) into %g, %u glu relu2(%m : memref<3x70xf32>) : memref<3x256xi8>, memref<3xf32>, memref<3x70xf32>, memref<3x70xf32>
  return
}
}

// -----

// The glu epilogue runs unit u of gate and of up together: they must be
// laid out alike.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
tern.weight @g : !tern.ternary<70x256, per_row, interleaved<256>> from "g" at 0
tern.weight @u : !tern.ternary<70x256, per_row, interleaved<64>> from "u" at 4608
func.func @glu_layouts(%q: memref<3x256xi8>, %s: memref<3xf32>, %g: memref<3x70xf32>, %u: memref<3x70xf32>, %m: memref<3x70xf32>) {
  // expected-error@+1 {{'tern.linear' op has a glu, but its gate and up weights differ: '!tern.ternary<70x256, per_row, interleaved<256>>' and '!tern.ternary<70x256, per_row, interleaved<64>>'}}
  tern.linear @g, @u(%q, %s) into %g, %u glu relu2(%m : memref<3x70xf32>) : memref<3x256xi8>, memref<3xf32>, memref<3x70xf32>, memref<3x70xf32>
  return
}
}

// -----

// lut5 needs AVX-512 VBMI.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "skylake-avx512", isa = ["avx2", "avx512bw"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<64x20, per_row, lut5<64>> from "w" at 0
func.func @lut5_no_vbmi(%q: memref<1x20xi8>, %s: memref<1xf32>, %y: memref<1x64xf32>) {
  // expected-error@+1 {{weight @w has layout lut5<64>, but the target has no table lookup of that width}}
  tern.linear @w(%q, %s) into %y : memref<1x20xi8>, memref<1xf32>, memref<1x64xf32>
  return
}
}

// -----

// AVX2: vpshufb on ymm looks up within each 128-bit lane, so each 16-byte
// table is repeated into both; 32 rows per index vector.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["ssse3", "avx2"], vector_bits = 256>} {
tern.weight @w : !tern.ternary<32x64, per_tensor, lut<32>> from "w" at 0
// CHECK-LABEL: func.func @lut_pshufb
// CHECK: %[[T:.*]] = vector.load %{{.*}} : memref<?xi8>, vector<16xi8>
// CHECK: %[[T2:.*]] = vector.shuffle %[[T]], %[[T]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<16xi8>, vector<16xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"(%[[T2]], %{{.*}}) : (vector<32xi8>, vector<32xi8>) -> vector<32xi8>
// CHECK: vector.bitcast %{{.*}} : vector<32xi8> to vector<16xi16>
func.func @lut_pshufb(%q: memref<1x64xi8>, %s: memref<1xf32>, %y: memref<1x32xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x32xf32>
  return
}
}

// -----

// AArch64 NEON: tbl with the 16-byte table in one register, 16 rows.
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a72", isa = ["neon"], vector_bits = 128>} {
tern.weight @w : !tern.ternary<16x64, per_row, lut<16>> from "w" at 0
// CHECK-LABEL: func.func @lut_tbl
// CHECK: %[[T:.*]] = vector.load %{{.*}} : memref<?xi8>, vector<16xi8>
// CHECK: llvm.call_intrinsic "llvm.aarch64.neon.tbl1.v16i8"(%[[T]], %{{.*}}) : (vector<16xi8>, vector<16xi8>) -> vector<16xi8>
// CHECK: vector.bitcast %{{.*}} : vector<16xi8> to vector<8xi16>
func.func @lut_tbl(%q: memref<1x64xi8>, %s: memref<1xf32>, %y: memref<1x16xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x16xf32>
  return
}
}

// -----

// ARMv7 NEON: vtbl with the table in two d-registers, 8 rows.
module attributes {tern.target = #tern.target<triple = "armv7-unknown-linux-gnueabihf", cpu = "cortex-a72", isa = ["neon"], vector_bits = 128>} {
tern.weight @w : !tern.ternary<8x64, per_row, lut<8>> from "w" at 0
// CHECK-LABEL: func.func @lut_vtbl
// CHECK: llvm.call_intrinsic "llvm.arm.neon.vtbl2"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<8xi8>, vector<8xi8>, vector<8xi8>) -> vector<8xi8>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 8, 1, 9, 2, 10, 3, 11] : vector<8xi8>, vector<8xi8>
// CHECK: vector.bitcast %{{.*}} : vector<8xi8> to vector<4xi16>
func.func @lut_vtbl(%q: memref<1x64xi8>, %s: memref<1xf32>, %y: memref<1x8xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x8xf32>
  return
}
}

// -----

// A lut<R> layout the target cannot look up.
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a72", isa = ["neon"], vector_bits = 128>} {
tern.weight @w : !tern.ternary<32x64, per_row, lut<32>> from "w" at 0
func.func @lut_too_wide(%q: memref<1x64xi8>, %s: memref<1xf32>, %y: memref<1x32xf32>) {
  // expected-error@+1 {{weight @w has layout lut<32>, but the target has no table lookup of that width}}
  tern.linear @w(%q, %s) into %y : memref<1x64xi8>, memref<1xf32>, memref<1x32xf32>
  return
}
}

// -----

// Decode (one token) of an interleaved<256, 4> weight: each iteration of the
// parallel loop computes a row group, 4 rows side by side; row n's chunks
// start at (n / 4) * 4 * 128 + (n % 4) * 64 and follow each other 256 bytes
// apart, so the tile's four code loads per chunk are one sequential stream.
// 6 rows = 4 + 2: the second group has 2 rows (8 accumulators).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
tern.weight @w : !tern.ternary<6x512, per_tensor, interleaved<256, 4>> from "w" at 0
// CHECK-LABEL: func.func @groups
// CHECK:     %[[DATA:.*]] = tern.weight_data @w : memref<1088xi8>
// CHECK:     scf.for %[[U:.*]] = %{{.*}} to %c2
// CHECK:       %[[N0:.*]] = arith.muli %[[U]], %c4
// CHECK:       scf.if
// CHECK:         %[[N:.*]] = arith.addi %[[N0]], %{{.*}} : index
// CHECK:         %[[G:.*]] = arith.divui %[[N]], %[[R:.*]] : index
// CHECK:         arith.muli %[[G]], %c512 : index
// CHECK:         %[[IN:.*]] = arith.remui %[[N]], %[[R]] : index
// CHECK:         arith.muli %[[IN]], %c64 : index
// CHECK:         %{{.*}}:16 = scf.for %[[C:[a-z0-9_]+]] = {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>) {
// CHECK:           arith.muli %[[C]], %c256 : index
// CHECK-COUNT-4:   vector.load %[[DATA]][%{{.*}}] : memref<1088xi8>, vector<64xi8>
// CHECK-COUNT-16:  llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK:       } else {
// CHECK:         %{{.*}}:8 = scf.for %[[C2:[a-z0-9_]+]] = {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>) {
// CHECK:           arith.muli %[[C2]], %c256 : index
// CHECK-COUNT-2:   vector.load %[[DATA]][%{{.*}}] : memref<1088xi8>, vector<64xi8>
// CHECK-COUNT-8:   llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NOT:       memref.prefetch
func.func @groups(%q: memref<1x512xi8>, %s: memref<1xf32>, %y: memref<1x6xf32>) {
  tern.linear @w(%q, %s) into %y : memref<1x512xi8>, memref<1xf32>, memref<1x6xf32>
  return
}
}

// -----

// Decode: after each linear's parallel loop, the blob ranges of the next
// linear go to the runtime (ternc_prefetch_next), whose waiting threads
// prefetch their shares while the calling thread runs the ops between.
// Weights whose entries are adjacent (q at 0, 4160 bytes, then k) make one
// range; a glu's gate and up, whose units run together, one each; the last
// linear has none after it, and neither has a prefill (several tokens).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver5", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
tern.weight @q : !tern.ternary<64x256, per_tensor, interleaved<256, 4>> from "q" at 0
tern.weight @k : !tern.ternary<32x256, per_tensor, interleaved<256, 4>> from "k" at 4160
tern.weight @g : !tern.ternary<64x256, per_tensor, interleaved<256, 4>> from "g" at 6272
tern.weight @u : !tern.ternary<64x256, per_tensor, interleaved<256, 4>> from "u" at 16384
tern.weight @d : !tern.ternary<64x64, per_tensor, interleaved<64, 4>> from "d" at 24576
// CHECK-LABEL: func.func @next_linear_hints
// CHECK:       } {tern.parallel}
// CHECK-DAG:   %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-DAG:   %[[QK:.*]] = arith.constant 6272 : i64
// CHECK:       call @ternc_prefetch_next(%[[ZERO]], %[[QK]], %[[ZERO]], %[[ZERO]]) : (i64, i64, i64, i64) -> ()
// CHECK:       } {tern.parallel}
// CHECK-DAG:   %[[G:.*]] = arith.constant 6272 : i64
// CHECK-DAG:   %[[U:.*]] = arith.constant 16384 : i64
// CHECK-DAG:   %[[SIZE:.*]] = arith.constant 4160 : i64
// CHECK:       call @ternc_prefetch_next(%[[G]], %[[SIZE]], %[[U]], %[[SIZE]])
// CHECK:       } {tern.parallel}
// CHECK-NOT:   call @ternc_prefetch_next
// CHECK:       return
func.func @next_linear_hints(%a: memref<1x256xi8>, %s: memref<1xf32>, %y: memref<1x64xf32>, %z: memref<1x32xf32>, %g: memref<1x64xf32>, %u: memref<1x64xf32>, %m: memref<1x64xf32>, %b: memref<1x64xi8>, %o: memref<1x64xf32>) {
  tern.linear @d(%b, %s) into %o : memref<1x64xi8>, memref<1xf32>, memref<1x64xf32>
  tern.linear @q, @k(%a, %s) into %y, %z : memref<1x256xi8>, memref<1xf32>, memref<1x64xf32>, memref<1x32xf32>
  tern.linear @g, @u(%a, %s) into %g, %u glu relu2(%m : memref<1x64xf32>) : memref<1x256xi8>, memref<1xf32>, memref<1x64xf32>, memref<1x64xf32>
  return
}
// CHECK-LABEL: func.func @prefill_no_hints
// CHECK-NOT:   call @ternc_prefetch_next
// CHECK:       return
func.func @prefill_no_hints(%a: memref<2x256xi8>, %s: memref<2xf32>, %y: memref<2x64xf32>, %z: memref<2x32xf32>) {
  tern.linear @q(%a, %s) into %y : memref<2x256xi8>, memref<2xf32>, memref<2x64xf32>
  tern.linear @k(%a, %s) into %z : memref<2x256xi8>, memref<2xf32>, memref<2x32xf32>
  return
}
}
