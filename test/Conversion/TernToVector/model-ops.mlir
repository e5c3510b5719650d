// RUN: tern-opt %s --split-input-file --convert-tern-to-vector --canonicalize | FileCheck %s

// The model ops become loops whose f32 sums run in index order (iter_args),
// exactly as each op documents.

// CHECK-LABEL: func.func @norm
// CHECK: scf.for %[[M:.*]] =
// CHECK:   %[[SS:.*]] = scf.for %[[J:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK:     %[[V:.*]] = memref.load %{{.*}}[%[[M]], %[[J]]]
// CHECK:     %[[SQ:.*]] = arith.mulf %[[V]], %[[V]] : f32
// CHECK:     arith.addf %[[ACC]], %[[SQ]] : f32
// CHECK:   %[[MEAN:.*]] = arith.divf %[[SS]], %{{.*}} : f32
// CHECK:   %[[E:.*]] = arith.addf %[[MEAN]], %{{.*}} : f32
// CHECK:   %[[SQRT:.*]] = math.sqrt %[[E]] : f32
// CHECK:   %[[R:.*]] = arith.divf %{{.*}}, %[[SQRT]] : f32
// CHECK:   scf.for
// CHECK:     %[[XR:.*]] = arith.mulf %[[R]], %{{.*}} : f32
// CHECK:     %[[W:.*]] = memref.load %{{.*}} : memref<8xf32>
// CHECK:     %[[O:.*]] = arith.mulf %[[W]], %[[XR]] : f32
// CHECK:     memref.store %[[O]], %{{.*}}[%[[M]], %{{.*}}] : memref<2x8xf32>
func.func @norm(%x: memref<2x8xf32>, %w: memref<8xf32>, %y: memref<2x8xf32>) {
  tern.rms_norm %x weight(%w : memref<8xf32>) into %y {eps = 1.0e-5 : f32} : memref<2x8xf32>, memref<2x8xf32>
  return
}

// With lanes = 16 the sum of squares is a loop of vectors of 16 (D = 64:
// whole vectors, no mask), the 16 partial sums then added in order.
// CHECK-LABEL: func.func @norm_lanes
// CHECK: scf.for %[[M:.*]] =
// CHECK:   %[[PART:.*]] = scf.for %{{.*}} step %c16 iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<16xf32>) {
// CHECK:     %[[V:.*]] = vector.transfer_read %{{.*}}[%[[M]], %{{.*}}], %{{.*}} {in_bounds = [true]} : memref<2x64xf32>, vector<16xf32>
// CHECK:     %[[SQ:.*]] = arith.mulf %[[V]], %[[V]] : vector<16xf32>
// CHECK:     arith.addf %[[ACC]], %[[SQ]] : vector<16xf32>
// CHECK:   %[[SS:.*]] = vector.reduction <add>, %[[PART]] : vector<16xf32> into f32
// CHECK:   arith.divf %[[SS]], %{{.*}} : f32
func.func @norm_lanes(%x: memref<2x64xf32>, %y: memref<2x64xf32>) {
  tern.rms_norm %x into %y {eps = 1.0e-5 : f32, lanes = 16} : memref<2x64xf32>, memref<2x64xf32>
  return
}

// -----

// Ids are clamped into the table; f16 rows are widened.
// CHECK-LABEL: func.func @embedding
// CHECK: %[[ID:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: %[[LO:.*]] = arith.maxsi %[[ID]], %{{.*}} : index
// CHECK: %[[IN:.*]] = arith.minsi %[[LO]], %{{.*}} : index
// CHECK: %[[H:.*]] = memref.load %{{.*}}[%[[IN]], %{{.*}}] : memref<10x4xf16>
// CHECK: arith.extf %[[H]] : f16 to f32
func.func @embedding(%t: memref<10x4xf16>, %ids: memref<3xi32>, %o: memref<3x4xf32>) {
  tern.embedding %t[%ids] into %o : memref<10x4xf16>, memref<3xi32>, memref<3x4xf32>
  return
}

// -----

// freq_i = 1 / theta^(2i/head_dim), computed once per pair into a table
// before the rows; angle = pos * freq_i; interleaved pairs (2i, 2i+1).
// CHECK-LABEL: func.func @rope
// CHECK: %[[FREQS:.*]] = memref.alloca() : memref<4xf32>
// CHECK: scf.for %[[FI:.*]] = %c0 to %c4 step %c1 {
// CHECK:   %[[PW:.*]] = math.powf
// CHECK:   %[[F:.*]] = arith.divf %{{.*}}, %[[PW]] : f32
// CHECK:   memref.store %[[F]], %[[FREQS]][%[[FI]]] : memref<4xf32>
// CHECK: %[[POS:.*]] = arith.uitofp %{{.*}} : i64 to f32
// CHECK-NOT: math.powf
// CHECK: %[[FREQ:.*]] = memref.load %[[FREQS]]
// CHECK: %[[ANGLE:.*]] = arith.mulf %[[POS]], %[[FREQ]] : f32
// CHECK-DAG: math.cos %[[ANGLE]] : f32
// CHECK-DAG: math.sin %[[ANGLE]] : f32
// CHECK: arith.subf
// CHECK: arith.addf
func.func @rope(%x: memref<1x16xf32>, %p: index) {
  tern.rope interleaved %x at %p {head_dim = 8 : i64, theta = 1.0e4 : f32} : memref<1x16xf32>
  return
}

// -----

// tern.rope_table: the frequencies as tern.rope's, then each row's cos and
// sin of pair i into table[m, i, 0] and [m, i, 1]; a rope with the table
// loads them (no frequency, cos or sin of its own).
// CHECK-LABEL: func.func @rope_table
// CHECK: %[[FREQS:.*]] = memref.alloca() : memref<4xf32>
// CHECK: math.powf
// One row: its loop folds away.
// CHECK: scf.for %[[I:.*]] = %c0 to %c4 step %c1 {
// CHECK:     %[[POS:.*]] = arith.uitofp %{{.*}} : i64 to f32
// CHECK:     %[[FREQ:.*]] = memref.load %[[FREQS]][%[[I]]] : memref<4xf32>
// CHECK:     %[[ANGLE:.*]] = arith.mulf %[[POS]], %[[FREQ]] : f32
// CHECK:     %[[COS:.*]] = math.cos %[[ANGLE]] : f32
// CHECK:     %[[SIN:.*]] = math.sin %[[ANGLE]] : f32
// CHECK:     memref.store %[[COS]], %[[T:.*]][%c0, %[[I]], %c0] : memref<1x4x2xf32>
// CHECK:     memref.store %[[SIN]], %[[T]][%c0, %[[I]], %c1] : memref<1x4x2xf32>
// CHECK-NOT: math.powf
// CHECK-NOT: math.cos
// CHECK:   scf.for %[[J:.*]] = %c0 to %c4 step %c1 {
// CHECK:     memref.load %[[T]][%{{.*}}, %[[J]], %c0] : memref<1x4x2xf32>
// CHECK:     memref.load %[[T]][%{{.*}}, %[[J]], %c1] : memref<1x4x2xf32>
// CHECK:     arith.subf
// CHECK:     arith.addf
// CHECK-NOT: math.sin
// CHECK: return
func.func @rope_table(%x: memref<1x16xf32>, %p: index) {
  %t = memref.alloca() : memref<1x4x2xf32>
  tern.rope_table at %p into %t {head_dim = 8 : i64, theta = 1.0e4 : f32} : memref<1x4x2xf32>
  tern.rope interleaved %x at %p table(%t : memref<1x4x2xf32>) {head_dim = 8 : i64, theta = 1.0e4 : f32} : memref<1x16xf32>
  return
}

// -----

// A prefill chunk's table: its rows on the pool.
// CHECK-LABEL: func.func @rope_table_rows
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c1 {
// CHECK:   math.cos
// CHECK: } {tern.parallel}
func.func @rope_table_rows(%x: memref<128x16xf32>, %p: index) {
  %t = memref.alloca() : memref<128x4x2xf32>
  tern.rope_table at %p into %t {head_dim = 8 : i64, theta = 1.0e4 : f32} : memref<128x4x2xf32>
  tern.rope half_split %x at %p table(%t : memref<128x4x2xf32>) {head_dim = 8 : i64, theta = 1.0e4 : f32} : memref<128x16xf32>
  return
}

// -----

// Token rows on the pool for a row-major operand: the parallel loop is the
// one over tokens, the pairs inside it (their frequencies from the table
// made before).
// CHECK-LABEL: func.func @rope_rows
// CHECK: math.powf
// CHECK: scf.for %[[M:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:   scf.for %[[I:.*]] = %c0 to %c4 step %c1 {
// CHECK-NOT: math.powf
// CHECK:     memref.load %{{.*}}[%[[I]]] : memref<4xf32>
// CHECK:     memref.store %{{.*}}, %{{.*}}[%[[M]], %{{.*}}] : memref<?x16xf32>
// CHECK: } {tern.parallel}
func.func @rope_rows(%x: memref<?x16xf32>, %p: index) {
  tern.rope half_split %x at %p {head_dim = 8 : i64, theta = 1.0e4 : f32} : memref<?x16xf32>
  return
}

// -----

// A transposed operand (strides [1, S]): the pairs on the pool and the
// tokens inside, so that no two threads write the cache lines of adjacent
// positions; the same operations per element.
// CHECK-LABEL: func.func @rope_transposed
// CHECK: math.powf
// CHECK: scf.for %[[I:.*]] = %c0 to %c4 step %c1 {
// CHECK:   scf.for %[[M:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:     memref.load %{{.*}}[%[[I]]] : memref<4xf32>
// CHECK:     memref.store %{{.*}}, %{{.*}}[%[[M]], %{{.*}}] : memref<?x16xf32, strided<[1, 64]>>
// CHECK: } {tern.parallel}
func.func @rope_transposed(%x: memref<?x16xf32, strided<[1, 64]>>, %p: index) {
  tern.rope half_split %x at %p {head_dim = 8 : i64, theta = 1.0e4 : f32} : memref<?x16xf32, strided<[1, 64]>>
  return
}

// -----

// Decode (one query row): the heads of a KV group (heads / kv_heads = 2)
// form one block (up to 2 with 16 vector registers, 4 with 32), and the
// groups run in parallel (tern.parallel); each head has its row of the
// scores workspace. The keys are in tiles of 16 positions ([S/16, kv_dim,
// 16]): the scores of 4 positions at a time are vectors (one load from
// tile t / 16 at lane t % 16, the tile clamped to the last one past the
// cache), each key vector loaded once for both heads (2 x 4 accumulators),
// each lane summing its dot product over the head's features in order;
// then a max-subtracted softmax per head (the maximum and the division on
// vectors, exact in any order; exp and its sum in order, scalar); then the
// output as head_dim / 4 vectors of features a head, each value vector
// loaded once for both heads, each lane summing over positions in order.
// That is the form up to 256 positions (the else branch). Past them the
// three steps are three parallel loops, over pieces that do not depend on
// the thread count: the scores over KV groups x ranges of 256 positions
// (the same score loop, from the range's first position to its last), the
// softmax over heads, the outputs over KV groups x groups of feature
// vectors (one group here).
// CHECK-LABEL: func.func @attention
// CHECK-SAME: %[[Q:[^:]*]]: memref<1x64xf32>, %[[K:[^:]*]]: memref<2x32x16xf32>, %[[V:[^:]*]]: memref<32x32xf32>
// CHECK-SAME: %[[WS:[^:]*]]: memref<4x32xf32>, %[[P:[^:]*]]: index
// CHECK: %[[LEN:.*]] = arith.addi %[[P]], %c1 : index
// CHECK: %[[ROUNDED:.*]] = arith.addi %[[P]], %c256 : index
// CHECK: %[[CHUNKS:.*]] = arith.divui %[[ROUNDED]], %c256 : index
// CHECK: %[[SPLIT:.*]] = arith.cmpi ugt, %[[LEN]], %c256 : index
// CHECK: scf.if %[[SPLIT]] {
// CHECK:   %[[PIECES:.*]] = arith.muli %[[CHUNKS]], %c2 : index
// CHECK:   scf.for %[[PIECE:.*]] = %c0 to %[[PIECES]] step %c1 {
// CHECK:     %[[CHUNK:.*]] = arith.remui %[[PIECE]], %[[CHUNKS]] : index
// CHECK:     %[[FIRST:.*]] = arith.muli %[[CHUNK]], %c256 : index
// CHECK:     %[[END:.*]] = arith.addi %[[FIRST]], %c256 : index
// CHECK:     %[[LAST:.*]] = arith.minui %[[END]], %[[LEN]] : index
// CHECK:     arith.divui %[[PIECE]], %[[CHUNKS]] : index
// CHECK:     scf.for %{{.*}} = %[[FIRST]] to %[[LAST]] step %c16 {
// CHECK-NOT:   math.exp
// CHECK:     vector.transfer_write
// CHECK-NOT:   math.exp
// CHECK:   } {tern.parallel}
// CHECK:   scf.for %{{.*}} = %c0 to %c4 step %c1 {
// CHECK:     arith.maximumf
// CHECK:     math.exp
// CHECK:     arith.divf %{{.*}} : vector<4xf32>
// CHECK-NOT: vector.transfer_read %[[V]]
// CHECK:   } {tern.parallel}
// CHECK:   scf.for %{{.*}} = %c0 to %c2 step %c1 {
// CHECK-NOT: math.exp
// CHECK-COUNT-4: vector.transfer_read %[[V]]
// CHECK-NOT: math.exp
// CHECK-COUNT-8: vector.store %{{.*}}, %{{.*}} : memref<1x64xf32>, vector<4xf32>
// CHECK:   } {tern.parallel}
// CHECK: } else {
// CHECK: scf.for %[[G:.*]] = %c0 to %c2 step %c1 {
// CHECK:   %[[H0:.*]] = arith.muli %[[G]], %c2 : index
// CHECK:   %[[H1:.*]] = arith.addi %[[H0]], %c1 : index
// CHECK:   %[[ROW0:.*]] = memref.subview %[[WS]][%[[H0]], 0] [1, 32] [1, 1]
// CHECK:   %[[SCORES0:.*]] = memref.collapse_shape %[[ROW0]]
// CHECK:   %[[ROW1:.*]] = memref.subview %[[WS]][%[[H1]], 0] [1, 32] [1, 1]
// CHECK:   %[[SCORES1:.*]] = memref.collapse_shape %[[ROW1]]
// CHECK:   arith.divui %[[H0]], %c2 : index
// CHECK:     scf.for %[[T0:.*]] = %c0 to %{{.*}} step %c16 {
// CHECK:       %[[TILE0:.*]] = arith.divui %[[T0]], %c16
// CHECK:       %[[CLAMP0:.*]] = arith.minui %[[TILE0]], %c1
// CHECK:       %[[LANE0:.*]] = arith.remui %[[T0]], %c16
// CHECK:       %[[T1:.*]] = arith.addi %[[T0]], %c4
// CHECK:       %[[TILE1:.*]] = arith.divui %[[T1]], %c16
// CHECK:       %[[CLAMP1:.*]] = arith.minui %[[TILE1]], %c1
// CHECK:       %[[LANE1:.*]] = arith.remui %[[T1]], %c16
// CHECK:       scf.for %[[J:.*]] = %c0 to %c16 step %c1 iter_args(%{{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// CHECK:         vector.load %[[K]][%[[CLAMP0]], %[[F:.*]], %[[LANE0]]] : memref<2x32x16xf32>, vector<4xf32>
// CHECK:         vector.load %[[K]][%[[CLAMP1]], %[[F]], %[[LANE1]]] : memref<2x32x16xf32>, vector<4xf32>
// CHECK-COUNT-2: vector.load %[[K]]
// CHECK:         memref.load %[[Q]]
// CHECK:         vector.broadcast %{{.*}} : f32 to vector<4xf32>
// CHECK-NOT:     vector.load %[[K]]
// CHECK:         memref.load %[[Q]]
// CHECK:         scf.yield
// CHECK:       arith.divf %{{.*}} : vector<4xf32>
// CHECK:       vector.transfer_write %{{.*}}, %[[SCORES0]][%[[T0]]]
// CHECK:       vector.transfer_write %{{.*}}, %[[SCORES0]][%[[T1]]]
// CHECK:       vector.transfer_write %{{.*}}, %[[SCORES1]][%[[T0]]]
// CHECK:     vector.create_mask
// CHECK:     arith.maximumf %{{.*}} : vector<4xf32>
// CHECK:     vector.reduction <maximumf>, %{{.*}} : vector<4xf32> into f32
// CHECK:     math.exp
// CHECK:     arith.divf %{{.*}} : vector<4xf32>
// CHECK:     vector.reduction <maximumf>, %{{.*}} : vector<4xf32> into f32
// CHECK:     math.exp
// CHECK:     arith.divf %{{.*}} : vector<4xf32>
// CHECK:     scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// CHECK-COUNT-4: vector.transfer_read %[[V]]
// CHECK-NOT: vector.transfer_read %[[V]]
// CHECK:       scf.yield
// CHECK-COUNT-8: vector.store %{{.*}}, %{{.*}} : memref<1x64xf32>, vector<4xf32>
// CHECK: } {tern.parallel}
func.func @attention(%q: memref<1x64xf32>, %k: memref<2x32x16xf32>, %v: memref<32x32xf32>, %o: memref<1x64xf32>, %ws: memref<4x32xf32>, %p: index) {
  tern.attention %q, %k, %v at %p into %o using %ws {head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<1x64xf32>, memref<2x32x16xf32>, memref<32x32xf32>, memref<1x64xf32>, memref<4x32xf32>
  return
}

// Without grouped queries (as many KV heads as heads) the heads run one
// at a time, in parallel: one query's 4 score accumulators.
// CHECK-LABEL: func.func @attention_mha
// CHECK: scf.for %[[H:.*]] = %c0 to %c2 step %c1 {
// CHECK:   memref.subview %{{.*}}[%[[H]], 0] [1, 32] [1, 1]
// CHECK:   scf.for %{{.*}} = %c0 to %c16 step %c1 iter_args(%{{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// CHECK: } {tern.parallel}
func.func @attention_mha(%q: memref<1x32xf32>, %k: memref<2x32x16xf32>, %v: memref<32x32xf32>, %o: memref<1x32xf32>, %ws: memref<2x32xf32>, %p: index) {
  tern.attention %q, %k, %v at %p into %o using %ws {head_dim = 16 : i64, heads = 2 : i64, kv_heads = 2 : i64} : memref<1x32xf32>, memref<2x32x16xf32>, memref<32x32xf32>, memref<1x32xf32>, memref<2x32xf32>
  return
}

// -----

// Decode past 256 positions with 64 features a head: 16 vectors of 4, in
// groups of 8 (2 heads x 8 accumulators); the outputs' loop runs over KV
// groups x 2 feature groups, and each piece takes its group's case (the
// last one the default): vectors 0-7, then 8-15.
// CHECK-LABEL: func.func @attention_feature_groups
// CHECK-SAME: %[[V:[^:]*]]: memref<32x128xf32>
// CHECK: scf.if
// CHECK: } {tern.parallel}
// CHECK: } {tern.parallel}
// CHECK: scf.for %[[PIECE:.*]] = %c0 to %c4 step %c1 {
// CHECK:   %[[FG:.*]] = arith.remui %[[PIECE]], %c2 : index
// CHECK:   arith.divui %[[PIECE]], %c2 : index
// CHECK:   scf.index_switch %[[FG]]
// CHECK:   case 0 {
// CHECK:     scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// CHECK-COUNT-8: vector.transfer_read %[[V]]
// CHECK-NOT: vector.transfer_read %[[V]]
// CHECK:   default {
// CHECK-COUNT-8: vector.transfer_read %[[V]]
// CHECK-NOT: vector.transfer_read %[[V]]
// CHECK: } {tern.parallel}
// CHECK: } else {
func.func @attention_feature_groups(%q: memref<1x256xf32>, %k: memref<2x128x16xf32>, %v: memref<32x128xf32>, %o: memref<1x256xf32>, %ws: memref<4x32xf32>, %p: index) {
  tern.attention %q, %k, %v at %p into %o using %ws {head_dim = 64 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<1x256xf32>, memref<2x128x16xf32>, memref<32x128xf32>, memref<1x256xf32>, memref<4x32xf32>
  return
}

// -----

// On Intel (measured there, docs/performance.md) each key line is
// prefetched 64 positions ahead (4 tiles of 16: the tile clamped to the
// cache's last) and each value line 16 positions ahead (clamped to the
// last position), with prefetcht0; 512-bit vectors of 16 positions, so
// each of the 4 position vectors starts a tile.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "sapphirerapids", isa = ["avx2", "f16c", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
// CHECK-LABEL: func.func @attention_prefetch
// CHECK-SAME: %[[K:[^:]*]]: memref<8x32x16xf32>, %[[V:[^:]*]]: memref<128x32xf32>
// CHECK:     scf.for %[[T0:.*]] = %c0 to %{{.*}} step %c64 {
// CHECK:       %[[A0:.*]] = arith.addi %[[T0]], %c64 : index
// CHECK:       %[[D0:.*]] = arith.divui %[[A0]], %c16 : index
// CHECK:       %[[P0:.*]] = arith.minui %[[D0]], %c7 : index
// CHECK-COUNT-3: arith.minui
// CHECK:       scf.for %[[J:.*]] = %c0 to %c16 step %c1
// CHECK:         vector.load %[[K]][%{{.*}}, %[[ROW:.*]], %{{.*}}]
// CHECK-COUNT-3: vector.load %[[K]]
// CHECK:         memref.prefetch %[[K]][%[[P0]], %[[ROW]], %c0], read, locality<3>, data : memref<8x32x16xf32>
// CHECK-COUNT-3: memref.prefetch %[[K]]
// The output: one loop for both heads of the group (one length: no loop
// over a head's own last positions after it).
// CHECK:     scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>) {
// CHECK:       %[[TA:.*]] = arith.addi %[[T]], %c16 : index
// CHECK:       %[[TC:.*]] = arith.minui %[[TA]], %c127 : index
// CHECK:       memref.prefetch %[[V]][%[[TC]], %{{.*}}], read, locality<3>, data : memref<128x32xf32>
// CHECK:       vector.transfer_read %[[V]]
// CHECK:     }
// CHECK-NOT: scf.for
// CHECK-COUNT-2: vector.store
// CHECK-NEXT: } {tern.parallel}
func.func @attention_prefetch(%q: memref<1x64xf32>, %k: memref<8x32x16xf32>, %v: memref<128x32xf32>, %o: memref<1x64xf32>, %ws: memref<4x128xf32>, %p: index) {
  tern.attention %q, %k, %v at %p into %o using %ws {head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<1x64xf32>, memref<8x32x16xf32>, memref<128x32xf32>, memref<1x64xf32>, memref<4x128xf32>
  return
}
}

// -----

// Elsewhere (AMD here) no prefetch.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "f16c", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
// CHECK-LABEL: func.func @attention_no_prefetch
// CHECK-NOT: memref.prefetch
// CHECK: return
func.func @attention_no_prefetch(%q: memref<1x64xf32>, %k: memref<8x32x16xf32>, %v: memref<128x32xf32>, %o: memref<1x64xf32>, %ws: memref<4x128xf32>, %p: index) {
  tern.attention %q, %k, %v at %p into %o using %ws {head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<1x64xf32>, memref<8x32x16xf32>, memref<128x32xf32>, memref<1x64xf32>, memref<4x128xf32>
  return
}
}

// -----

// Prefill: 5 queries and 4 workspace rows a head. Without a target (128-bit
// vectors, 16 registers) the queries run in blocks of 2 (0-1, 2-3), each
// query with its own workspace row; query 4 alone (its loop of one folds
// away). In a block each key vector is loaded once for both queries (2 x 4
// score accumulators), and each value vector once for the positions both
// queries have (2 x 4 output accumulators); the second query then goes on
// alone over its last position, from the shared loop's sums.
// CHECK-LABEL: func.func @attention_blocks
// CHECK-SAME: %[[V:[^:]*]]: memref<32x32xf32>, %[[O:[^:]*]]: memref<5x64xf32>, %[[WS:[^:]*]]: memref<16x32xf32>
// CHECK: scf.for %[[H:.*]] = %c0 to %c4 step %c1 {
// CHECK:   scf.for %[[M0:.*]] = %c0 to %c4 step %c2 {
// CHECK:     memref.subview %[[WS]]
// CHECK:     memref.subview %[[WS]]
// CHECK:     scf.for %{{.*}} step %c16 {
// CHECK:       scf.for %{{.*}} iter_args(%{{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// CHECK-COUNT-4: vector.load
// CHECK-NOT:     vector.load
// CHECK:         scf.yield
// CHECK:     %[[SHARED:.*]]:8 = scf.for %[[T:.*]] = %c0 to %[[LEN0:[^ ]*]] step %c1 iter_args
// CHECK-COUNT-4: vector.transfer_read %[[V]][%[[T]], %{{.*}}], %{{.*}} {in_bounds = [true]}
// CHECK-NOT:     vector.transfer_read
// CHECK:       scf.yield
// CHECK-COUNT-4: vector.store %[[SHARED]]#{{[0-3]}}, %[[O]][%[[M0]], %{{.*}}]
// CHECK:     scf.for %{{.*}} = %[[LEN0]] to %{{.*}} step %c1 iter_args(%{{.*}} = %[[SHARED]]#4, %{{.*}} = %[[SHARED]]#5, %{{.*}} = %[[SHARED]]#6, %{{.*}} = %[[SHARED]]#7)
// CHECK:   }
// CHECK:   memref.subview %[[WS]]
// CHECK-NOT: scf.for %{{.*}} step %c2
// CHECK: } {tern.parallel}
func.func @attention_blocks(%q: memref<5x64xf32>, %k: memref<2x32x16xf32>, %v: memref<32x32xf32>, %o: memref<5x64xf32>, %ws: memref<16x32xf32>, %p: index) {
  tern.attention %q, %k, %v at %p into %o using %ws {head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<5x64xf32>, memref<2x32x16xf32>, memref<32x32xf32>, memref<5x64xf32>, memref<16x32xf32>
  return
}

// -----

// Keys of new tokens into their tiles: features on the pool, tokens
// inside; row m goes to tile (pos + m) / 16, lane (pos + m) % 16.
// CHECK-LABEL: func.func @store_keys
// CHECK-SAME: %[[KEYS:[^:]*]]: memref<?x32xf32>, %[[CACHE:[^:]*]]: memref<4x32x16xf32>, %[[POS:[^:]*]]: index
// CHECK: scf.for %[[F:.*]] = %c0 to %c32 step %c1 {
// CHECK:   scf.for %[[M:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:     %[[P:.*]] = arith.addi %[[POS]], %[[M]] : index
// CHECK:     %[[V:.*]] = memref.load %[[KEYS]][%[[M]], %[[F]]]
// CHECK:     %[[T:.*]] = arith.divui %[[P]], %c16 : index
// CHECK:     %[[L:.*]] = arith.remui %[[P]], %c16 : index
// CHECK:     memref.store %[[V]], %[[CACHE]][%[[T]], %[[F]], %[[L]]] : memref<4x32x16xf32>
// CHECK: } {tern.parallel}
func.func @store_keys(%k: memref<?x32xf32>, %kc: memref<4x32x16xf32>, %p: index) {
  tern.store_keys %k into %kc at %p : memref<?x32xf32>, memref<4x32x16xf32>
  return
}

// -----

// silu: (g * (1 / (1 + exp(-g)))) * u; exp's argument is clamped at
// log(2^-150) and the result selected to +0 below it (the bits of expf
// without its underflow call).
// CHECK-LABEL: func.func @silu
// CHECK: %[[NEG:.*]] = arith.negf %[[G:.*]] : f32
// CHECK: %[[CL:.*]] = arith.maximumf %[[NEG]], %[[LIM:.*]] : f32
// CHECK: %[[E:.*]] = math.exp %[[CL]] : f32
// CHECK: %[[UNDER:.*]] = arith.cmpf olt, %[[NEG]], %[[LIM]] : f32
// CHECK: %[[EXP:.*]] = arith.select %[[UNDER]], %{{.*}}, %[[E]] : f32
// CHECK: %[[DEN:.*]] = arith.addf %[[EXP]], %{{.*}} : f32
// CHECK: %[[SIG:.*]] = arith.divf %{{.*}}, %[[DEN]] : f32
// CHECK: %[[GS:.*]] = arith.mulf %[[G]], %[[SIG]] : f32
// CHECK: arith.mulf %[[GS]], %{{.*}} : f32
func.func @silu(%g: memref<1x8xf32>, %u: memref<1x8xf32>) {
  tern.glu silu %g, %u into %g : memref<1x8xf32>, memref<1x8xf32>, memref<1x8xf32>
  return
}

// -----

// relu2: (max(g, 0) * max(g, 0)) * u
// CHECK-LABEL: func.func @relu2
// CHECK: %[[R:.*]] = arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: %[[SQ:.*]] = arith.mulf %[[R]], %[[R]] : f32
// CHECK: arith.mulf %[[SQ]], %{{.*}} : f32
func.func @relu2(%g: memref<1x8xf32>, %u: memref<1x8xf32>) {
  tern.glu relu2 %g, %u into %g : memref<1x8xf32>, memref<1x8xf32>, memref<1x8xf32>
  return
}

// -----

// CHECK-LABEL: func.func @matmul
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     scf.for {{.*}} -> (f32)
// CHECK:       %[[W:.*]] = memref.load %{{.*}} : memref<5x4xbf16>
// bf16 widens through its bits (any backend can select that).
// CHECK:       %[[BITS:.*]] = arith.bitcast %[[W]] : bf16 to i16
// CHECK:       %[[WIDE:.*]] = arith.extui %[[BITS]] : i16 to i32
// CHECK:       %[[HIGH:.*]] = arith.shli %[[WIDE]], %{{.*}} : i32
// CHECK:       %[[WF:.*]] = arith.bitcast %[[HIGH]] : i32 to f32
// CHECK:       %[[P:.*]] = arith.mulf %[[WF]], %{{.*}} : f32
// CHECK:       arith.addf %{{.*}}, %[[P]] : f32
func.func @matmul(%x: memref<2x4xf32>, %w: memref<5x4xbf16>, %y: memref<2x5xf32>) {
  tern.matmul %x, %w into %y : memref<2x4xf32>, memref<5x4xbf16>, memref<2x5xf32>
  return
}

// -----

// CHECK-LABEL: func.func @add
// CHECK: arith.addf
func.func @add(%a: memref<2x4xf32>, %b: memref<2x4xf32>) {
  tern.add %a, %b into %a : memref<2x4xf32>, memref<2x4xf32>, memref<2x4xf32>
  return
}

// -----

// lanes = 16: interleaved partial sums in a vector (masked at the K tail),
// then an in-order reduction; f16 weights widen as vectors; no software
// prefetch without a target that gains from it (below).
// CHECK-LABEL: func.func @matmul_lanes
// CHECK: %[[P:.*]] = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %c16 iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<16xf32>) {
// CHECK-NOT: memref.prefetch
// CHECK:   %[[W:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %[[K]]], %{{.*}} : memref<5x40xf16>, vector<16xf16>
// CHECK:   %[[WF:.*]] = arith.extf %[[W]] : vector<16xf16> to vector<16xf32>
// CHECK:   %[[X:.*]] = vector.transfer_read %{{.*}} : memref<2x40xf32>, vector<16xf32>
// CHECK:   %[[M:.*]] = arith.mulf %[[WF]], %[[X]] : vector<16xf32>
// CHECK:   arith.addf %[[ACC]], %[[M]] : vector<16xf32>
// CHECK: vector.reduction <add>, %[[P]] : vector<16xf32> into f32
func.func @matmul_lanes(%x: memref<2x40xf32>, %w: memref<5x40xf16>, %y: memref<2x5xf32>) {
  tern.matmul %x, %w into %y {lanes = 16 : i64} : memref<2x40xf32>, memref<5x40xf16>, memref<2x5xf32>
  return
}

// -----

// With `rows`, output column j is weight row rows[j]: the loop runs over
// the output's (dynamic) columns, each reading its row's index.
// CHECK-LABEL: func.func @matmul_rows
// CHECK: %[[N:.*]] = memref.dim %{{.*}}, %c1 : memref<1x?xf32>
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %[[N]] step %{{.*}} {
// CHECK:   %[[R:.*]] = memref.load %{{.*}}[%[[J]]] : memref<?xi32>
// CHECK:   %[[ROW:.*]] = arith.index_cast %[[R]] : i32 to index
// CHECK:   scf.for %[[K:.*]] = {{.*}} iter_args
// CHECK:     vector.transfer_read %{{.*}}[%[[ROW]], %[[K]]]{{.*}} : memref<5x32xf16>, vector<16xf16>
// CHECK:   %[[SUM:.*]] = vector.reduction <add>
// CHECK:   memref.store %[[SUM]], %{{.*}}[%{{.*}}, %[[J]]] : memref<1x?xf32>
func.func @matmul_rows(%x: memref<1x32xf32>, %w: memref<5x32xf16>, %rows: memref<?xi32>, %y: memref<1x?xf32>) {
  tern.matmul %x, %w rows(%rows : memref<?xi32>) into %y {lanes = 16 : i64} : memref<1x32xf32>, memref<5x32xf16>, memref<1x?xf32>
  return
}

// -----

// The head prefetches its rows on x86 CPUs where that was measured to help:
// on Zen 3 (here) 1 KiB (512 f16) ahead with prefetchnta; not on Zen 4; on
// Zen 5 4 KiB ahead into L2 (below, with the int8 copy).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver3", isa = ["avx2"], vector_bits = 256>} {
// CHECK-LABEL: func.func @matmul_prefetch
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %c16 iter_args
// CHECK:   %[[AT:.*]] = arith.addi %[[K]], %c512 : index
// CHECK:   memref.prefetch %{{.*}}[%{{.*}}, %[[AT]]], read, locality<0>, data : memref<5x2048xf16>
func.func @matmul_prefetch(%x: memref<1x2048xf32>, %w: memref<5x2048xf16>, %y: memref<1x5xf32>) {
  tern.matmul %x, %w into %y {lanes = 16 : i64} : memref<1x2048xf32>, memref<5x2048xf16>, memref<1x5xf32>
  return
}
}

// -----

module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
// CHECK-LABEL: func.func @matmul_zen4
// CHECK-NOT: memref.prefetch
// CHECK: vector.reduction
func.func @matmul_zen4(%x: memref<1x2048xf32>, %w: memref<5x2048xf16>, %y: memref<1x5xf32>) {
  tern.matmul %x, %w into %y {lanes = 16 : i64} : memref<1x2048xf32>, memref<5x2048xf16>, memref<1x5xf32>
  return
}
}

// -----

// On Intel 4 KiB (2048 f16) ahead into L2 (prefetcht1, locality 2): a
// Sapphire Rapids class host lost a quarter of its decode speed with
// prefetchnta and gained 8% with this. With AVX-512 once a 64-byte line: a
// step of two vectors of 16 f16, added in order into the one accumulator
// (the sums of a step of one vector).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "sapphirerapids", isa = ["avx2", "f16c", "avx512f", "avx512bw", "avx512vnni", "amx-int8"], vector_bits = 512>} {
// CHECK-LABEL: func.func @matmul_intel
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %c32 iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK:   %[[AT:.*]] = arith.addi %[[K]], %c2048 : index
// CHECK:   memref.prefetch %{{.*}}[%{{.*}}, %[[AT]]], read, locality<2>, data : memref<5x2048xf16>
// CHECK:   vector.transfer_read %{{.*}}[%{{.*}}, %[[K]]]{{.*}} : memref<5x2048xf16>, vector<16xf16>
// CHECK:   %[[X0:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %[[K]]]{{.*}} : memref<1x2048xf32>, vector<16xf32>
// CHECK:   %[[P0:.*]] = arith.mulf %{{.*}}, %[[X0]] : vector<16xf32>
// CHECK:   %[[S0:.*]] = arith.addf %[[ACC]], %[[P0]] : vector<16xf32>
// CHECK:   %[[K1:.*]] = arith.addi %[[K]], %c16 : index
// CHECK-NOT: memref.prefetch
// CHECK:   vector.transfer_read %{{.*}}[%{{.*}}, %[[K1]]]{{.*}} : memref<5x2048xf16>, vector<16xf16>
// CHECK:   %[[X1:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %[[K1]]]{{.*}} : memref<1x2048xf32>, vector<16xf32>
// CHECK:   %[[P1:.*]] = arith.mulf %{{.*}}, %[[X1]] : vector<16xf32>
// CHECK:   %[[S1:.*]] = arith.addf %[[S0]], %[[P1]] : vector<16xf32>
// CHECK:   scf.yield %[[S1]]
// CHECK: vector.reduction
func.func @matmul_intel(%x: memref<1x2048xf32>, %w: memref<5x2048xf16>, %y: memref<1x5xf32>) {
  tern.matmul %x, %w into %y {lanes = 16 : i64} : memref<1x2048xf32>, memref<5x2048xf16>, memref<1x5xf32>
  return
}
}

// -----

// An Intel CPU with AVX2 only prefetches ahead of every vector (once a line
// lost 7% of the tg64 there).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["avx2", "f16c"], vector_bits = 256>} {
// CHECK-LABEL: func.func @matmul_intel_avx2
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %c16 iter_args
// CHECK:   %[[AT:.*]] = arith.addi %[[K]], %c2048 : index
// CHECK:   memref.prefetch %{{.*}}[%{{.*}}, %[[AT]]], read, locality<2>, data : memref<5x2048xf16>
// CHECK:   vector.transfer_read %{{.*}}[%{{.*}}, %[[K]]]{{.*}} : memref<5x2048xf16>, vector<16xf16>
// CHECK:   vector.transfer_read %{{.*}}[%{{.*}}, %[[K]]]{{.*}} : memref<1x2048xf32>, vector<16xf32>
// CHECK-NOT: vector.transfer_read
// CHECK:   scf.yield
func.func @matmul_intel_avx2(%x: memref<1x2048xf32>, %w: memref<5x2048xf16>, %y: memref<1x5xf32>) {
  tern.matmul %x, %w into %y {lanes = 16 : i64} : memref<1x2048xf32>, memref<5x2048xf16>, memref<1x5xf32>
  return
}
}

// -----

// An i8 input (the screened head's two parts): exact i32 sums, every input
// row against each weight row as it streams by; without an int8 dot
// product, widened vector code.
// CHECK-LABEL: func.func @matmul_i8
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %c5 step %c1 {
// CHECK:   %[[SUMS:.*]]:2 = scf.for %[[K:.*]] = %{{.*}} to %c40 step %c16 iter_args(%[[A0:.*]] = %{{.*}}, %[[A1:.*]] = %{{.*}}) -> (vector<16xi32>, vector<16xi32>) {
// CHECK:     %[[W:.*]] = vector.transfer_read %{{.*}}[%[[N]], %[[K]]]{{.*}} : memref<5x40xi8>, vector<16xi8>
// CHECK:     %[[WW:.*]] = arith.extsi %[[W]] : vector<16xi8> to vector<16xi32>
// CHECK:     arith.muli %[[WW]], %{{.*}} : vector<16xi32>
// CHECK:     arith.muli %[[WW]], %{{.*}} : vector<16xi32>
// CHECK:   vector.reduction <add>, %[[SUMS]]#0 : vector<16xi32> into i32
// CHECK:   arith.sitofp
// CHECK:   arith.divf
// CHECK:   arith.mulf
// CHECK:   vector.reduction <add>, %[[SUMS]]#1 : vector<16xi32> into i32
// CHECK: } {tern.parallel}
func.func @matmul_i8(%q: memref<2x40xi8>, %qs: memref<2xf32>, %w: memref<5x40xi8>, %s: memref<5xf32>, %y: memref<2x5xf32>) {
  tern.matmul %q, %w input_scaled(%qs : memref<2xf32>) scaled(%s : memref<5xf32>) into %y : memref<2x40xi8>, memref<5x40xi8>, memref<2x5xf32>
  return
}

// -----

// VNNI: the weights' sign bit flipped (q + 128 as u8) times the input as
// s8, 64 a vpdpbusd; each input row's sum, once, takes the 128s back out.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
// CHECK-LABEL: func.func @matmul_i8_vnni
// CHECK: %[[SUM0:.*]] = scf.for {{.*}} -> (i32)
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %c5 step %c1 {
// CHECK:   scf.for %[[K:.*]] = %{{.*}} to %c128 step %c64 iter_args
// CHECK:     %[[W:.*]] = vector.transfer_read %{{.*}}[%[[N]], %[[K]]]{{.*}} : memref<5x128xi8>, vector<64xi8>
// CHECK:     %[[U:.*]] = arith.xori %[[W]], %{{.*}} : vector<64xi8>
// CHECK:     %[[UB:.*]] = vector.bitcast %[[U]] : vector<64xi8> to vector<16xi32>
// CHECK:     llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[UB]], %{{.*}})
// CHECK:     llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[UB]], %{{.*}})
// CHECK:   %[[T:.*]] = vector.reduction <add>
// CHECK:   %[[BIAS:.*]] = arith.muli %[[SUM0]], %c128_i32 : i32
// CHECK:   arith.subi %[[T]], %[[BIAS]] : i32
func.func @matmul_i8_vnni(%q: memref<2x128xi8>, %qs: memref<2xf32>, %w: memref<5x128xi8>, %s: memref<5xf32>, %y: memref<2x5xf32>) {
  tern.matmul %q, %w input_scaled(%qs : memref<2xf32>) scaled(%s : memref<5xf32>) into %y : memref<2x128xi8>, memref<5x128xi8>, memref<2x5xf32>
  return
}
}

// -----

// Zen 5: the int8 copy of a screened head prefetches its rows 4 KiB ahead
// into L2 (prefetcht1, locality 2).
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver5", isa = ["avx2", "avx512f", "avx512bw", "avx512vnni"], vector_bits = 512>} {
// CHECK-LABEL: func.func @matmul_i8_zen5
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c8192 step %c64 iter_args
// CHECK:   %[[AT:.*]] = arith.addi %[[K]], %c4096 : index
// CHECK:   memref.prefetch %{{.*}}[%{{.*}}, %[[AT]]], read, locality<2>, data : memref<5x8192xi8>
// CHECK:   llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
func.func @matmul_i8_zen5(%q: memref<2x8192xi8>, %qs: memref<2xf32>, %w: memref<5x8192xi8>, %s: memref<5xf32>, %y: memref<2x5xf32>) {
  tern.matmul %q, %w input_scaled(%qs : memref<2xf32>) scaled(%s : memref<5xf32>) into %y : memref<2x8192xi8>, memref<5x8192xi8>, memref<2x5xf32>
  return
}
}

// -----

// AVX2 without VNNI: the input's magnitude as u8 times the weights with the
// input's sign (vpsignb) as s8, 32 a vpmaddubsw (pairs in i16: at most 2 *
// 128 * 127, no saturation), then vpmaddwd by ones into 8 i32 lanes; no
// 128s to take back out.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "haswell", isa = ["avx2", "f16c"], vector_bits = 256>} {
// CHECK-LABEL: func.func @matmul_i8_avx2
// CHECK-NOT: -> (i32)
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %c5 step %c1 {
// CHECK:   scf.for %[[K:.*]] = %{{.*}} to %c64 step %c32 iter_args({{.*}}) -> (vector<8xi32>, vector<8xi32>)
// CHECK:     %[[W:.*]] = vector.transfer_read %{{.*}}[%[[N]], %[[K]]]{{.*}} : memref<5x64xi8>, vector<32xi8>
// CHECK:     %[[A:.*]] = vector.transfer_read {{.*}} : memref<2x64xi8>, vector<32xi8>
// CHECK:     %[[SIGNED:.*]] = llvm.call_intrinsic "llvm.x86.avx2.psign.b"(%[[W]], %[[A]]) : (vector<32xi8>, vector<32xi8>) -> vector<32xi8>
// CHECK:     %[[ABS:.*]] = math.absi %[[A]] : vector<32xi8>
// CHECK:     %[[PAIRS:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[ABS]], %[[SIGNED]]) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// CHECK:     llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[PAIRS]], %{{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// CHECK:     llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// CHECK:     llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// CHECK:   %[[T:.*]] = vector.reduction <add>
// CHECK-NOT: arith.subi
// CHECK:   arith.sitofp %[[T]] : i32 to f32
func.func @matmul_i8_avx2(%q: memref<2x64xi8>, %qs: memref<2xf32>, %w: memref<5x64xi8>, %s: memref<5xf32>, %y: memref<2x5xf32>) {
  tern.matmul %q, %w input_scaled(%qs : memref<2xf32>) scaled(%s : memref<5xf32>) into %y : memref<2x64xi8>, memref<5x64xi8>, memref<2x5xf32>
  return
}
}

// -----

// AVX-512BW without VNNI: the same on 64 bytes (vpmaddubsw and vpmaddwd
// zmm); no vpsignb there: the weights negated where the input is negative.
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "skylake-avx512", isa = ["avx2", "f16c", "avx512f", "avx512bw"], vector_bits = 512>} {
// CHECK-LABEL: func.func @matmul_i8_avx512bw
// CHECK: scf.for {{.*}} step %c64 iter_args({{.*}}) -> (vector<16xi32>, vector<16xi32>)
// CHECK:   %[[W:.*]] = vector.transfer_read {{.*}} : memref<5x128xi8>, vector<64xi8>
// CHECK:   %[[A:.*]] = vector.transfer_read {{.*}} : memref<2x128xi8>, vector<64xi8>
// CHECK:   %[[NEG:.*]] = arith.cmpi slt, %[[A]], %{{.*}} : vector<64xi8>
// CHECK:   %[[MINUS:.*]] = arith.subi %{{.*}}, %[[W]] : vector<64xi8>
// CHECK:   %[[SIGNED:.*]] = arith.select %[[NEG]], %[[MINUS]], %[[W]] : vector<64xi1>, vector<64xi8>
// CHECK:   %[[ABS:.*]] = math.absi %[[A]] : vector<64xi8>
// CHECK:   llvm.call_intrinsic "llvm.x86.avx512.pmaddubs.w.512"(%[[ABS]], %[[SIGNED]]) : (vector<64xi8>, vector<64xi8>) -> vector<32xi16>
// CHECK:   llvm.call_intrinsic "llvm.x86.avx512.pmaddw.d.512"({{.*}}) : (vector<32xi16>, vector<32xi16>) -> vector<16xi32>
func.func @matmul_i8_avx512bw(%q: memref<2x128xi8>, %qs: memref<2xf32>, %w: memref<5x128xi8>, %s: memref<5xf32>, %y: memref<2x5xf32>) {
  tern.matmul %q, %w input_scaled(%qs : memref<2xf32>) scaled(%s : memref<5xf32>) into %y : memref<2x128xi8>, memref<5x128xi8>, memref<2x5xf32>
  return
}
}

// -----

// AArch64 dotprod: sdot, s8 by s8, 16 a step into 4 lanes.
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a76", isa = ["neon", "dotprod"], vector_bits = 128>} {
// CHECK-LABEL: func.func @matmul_i8_sdot
// CHECK: scf.for {{.*}} step %c16 iter_args({{.*}}) -> (vector<4xi32>, vector<4xi32>)
// CHECK:   %[[W:.*]] = vector.transfer_read {{.*}} : memref<5x32xi8>, vector<16xi8>
// CHECK:   arm_neon.intr.sdot %{{.*}}, %[[W]], %{{.*}} : vector<16xi8>, vector<16xi8> to vector<4xi32>
// CHECK:   arm_neon.intr.sdot %{{.*}}, %[[W]], %{{.*}} : vector<16xi8>, vector<16xi8> to vector<4xi32>
func.func @matmul_i8_sdot(%q: memref<2x32xi8>, %qs: memref<2xf32>, %w: memref<5x32xi8>, %s: memref<5xf32>, %y: memref<2x5xf32>) {
  tern.matmul %q, %w input_scaled(%qs : memref<2xf32>) scaled(%s : memref<5xf32>) into %y : memref<2x32xi8>, memref<5x32xi8>, memref<2x5xf32>
  return
}
}
