// RUN: tern-opt %s --split-input-file --verify-diagnostics

// expected-error@+1 {{ternary rows must be in [1, 2147483647], got 0}}
tern.weight @w : !tern.ternary<0x16, per_row, canonical> from "w"

// -----

// expected-error@+1 {{ternary cols must be in [1, 16777216] so that int32 sums stay exact, got 33554432}}
tern.weight @w : !tern.ternary<4x33554432, per_row, canonical> from "w"

// -----

// expected-error@+1 {{ternary type needs a 2-D shape NxK, got 3 dimensions}}
tern.weight @w : !tern.ternary<4x4x4, per_row, canonical> from "w"

// -----

// expected-error@+1 {{expected per_tensor, per_row or block<G>, got 'per_col'}}
tern.weight @w : !tern.ternary<4x16, per_col, canonical> from "w"

// -----

// expected-error@+1 {{expected canonical, interleaved<B>, lut<R>, lut3<R>, lut4<R> or lut5<R>, got 'tiled'}}
tern.weight @w : !tern.ternary<4x16, per_row, tiled> from "w"

// -----

// expected-error@+1 {{lut row block must be 8, 16, 32 or 64, got 12}}
tern.weight @w : !tern.ternary<4x16, per_row, lut<12>> from "w"

// -----

// expected-error@+1 {{lut layouts take per_tensor or per_row scales}}
tern.weight @w : !tern.ternary<4x16, block<8>, lut<16>> from "w"

// -----

// expected-error@+1 {{lut3 row block must be 8, 16, 32 or 64, got 24}}
tern.weight @w : !tern.ternary<4x24, per_row, lut3<24>> from "w"

// -----

// expected-error@+1 {{lut layouts take per_tensor or per_row scales}}
tern.weight @w : !tern.ternary<4x48, block<24>, lut3<32>> from "w"

// -----

// expected-error@+1 {{lut4 row block must be 16 or 64, got 32}}
tern.weight @w : !tern.ternary<4x16, per_row, lut4<32>> from "w"

// -----

// expected-error@+1 {{lut layouts take per_tensor or per_row scales}}
tern.weight @w : !tern.ternary<4x32, block<16>, lut4<16>> from "w"

// -----

// expected-error@+1 {{lut5 row block must be 64, got 32}}
tern.weight @w : !tern.ternary<4x16, per_row, lut5<32>> from "w"

// -----

// expected-error@+1 {{lut layouts take per_tensor or per_row scales}}
tern.weight @w : !tern.ternary<4x40, block<20>, lut5<64>> from "w"

// -----

// expected-error@+1 {{scale block size must be a positive multiple of 4, got 6}}
tern.weight @w : !tern.ternary<4x24, block<6>, canonical> from "w"

// -----

// expected-error@+1 {{scale block size 64 does not divide the 100 columns}}
tern.weight @w : !tern.ternary<4x100, block<64>, canonical> from "w"

// -----

// expected-error@+1 {{interleaved chunk must be a power of two in [16, 256], got 48}}
tern.weight @w : !tern.ternary<4x96, per_row, interleaved<48>> from "w"

// -----

// expected-error@+1 {{interleaved chunk 64 must divide the scale block size 96}}
tern.weight @w : !tern.ternary<4x192, block<96>, interleaved<64>> from "w"

// -----

// expected-error@+1 {{interleaved row group must be 1, 2, 4 or 8, got 3}}
tern.weight @w : !tern.ternary<4x192, per_row, interleaved<64, 3>> from "w"

// -----

// expected-error@+1 {{expected '>'}}
tern.weight @w : !tern.ternary<4x192, per_row, lut<16, 2>> from "w"

// -----

// expected-error@+1 {{'tern.weight' op needs the name of its weight-store entry}}
tern.weight @w : !tern.ternary<4x16, per_row, canonical> from ""

// -----

// expected-error@+1 {{'tern.weight' op offset 100 must be a non-negative multiple of 64}}
tern.weight @w : !tern.ternary<4x16, per_row, canonical> from "w" at 100

// -----

// expected-error@+1 {{target cpu must not be empty}}
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "", isa = [], vector_bits = 256>} {}

// -----

// expected-error@+1 {{target triple must not be empty}}
module attributes {tern.target = #tern.target<triple = "", cpu = "znver4", isa = [], vector_bits = 256>} {}

// -----

// expected-error@+1 {{target vector_bits must be 64, 128, 256 or 512, got 384}}
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = [], vector_bits = 384>} {}

// -----

// expected-error@+1 {{target isa entries must be strings, got 1 : i64}}
module attributes {tern.target = #tern.target<triple = "x86_64-unknown-linux-gnu", cpu = "znver4", isa = [1], vector_bits = 256>} {}

// -----

func.func @quantize_k(%x: memref<1x?xf32>, %q: memref<1x?xi8>, %s: memref<1xf32>) {
  // expected-error@+1 {{'tern.quantize' op needs a static K (columns) dimension}}
  tern.quantize %x into %q, %s : memref<1x?xf32>, memref<1x?xi8>, memref<1xf32>
  return
}

// -----

func.func @quantize_shape(%x: memref<2x64xf32>, %q: memref<2x32xi8>, %s: memref<2xf32>) {
  // expected-error@+1 {{'tern.quantize' op input shape [2, 64] and output shape [2, 32] differ}}
  tern.quantize %x into %q, %s : memref<2x64xf32>, memref<2x32xi8>, memref<2xf32>
  return
}

// -----

func.func @quantize_rows(%x: memref<2x64xf32>, %q: memref<2x64xi8>, %s: memref<3xf32>) {
  // expected-error@+1 {{'tern.quantize' op has 2 input rows but scale has 3 entries}}
  tern.quantize %x into %q, %s : memref<2x64xf32>, memref<2x64xi8>, memref<3xf32>
  return
}

// -----

func.func @quantize_type(%x: memref<2x64xf16>, %q: memref<2x64xi8>, %s: memref<2xf32>) {
  // expected-error@+1 {{operand #0 must be 2D memref of 32-bit float values}}
  tern.quantize %x into %q, %s : memref<2x64xf16>, memref<2x64xi8>, memref<2xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
func.func @linear_rows(%q: memref<2x64xi8>, %s: memref<2xf32>, %y: memref<3x8xf32>) {
  // expected-error@+1 {{'tern.linear' op has 2 input rows but 3 output rows}}
  tern.linear @w(%q, %s) into %y : memref<2x64xi8>, memref<2xf32>, memref<3x8xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
func.func @linear_scale(%q: memref<2x64xi8>, %s: memref<1xf32>, %y: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.linear' op has 2 input rows but input_scale has 1 entries}}
  tern.linear @w(%q, %s) into %y : memref<2x64xi8>, memref<1xf32>, memref<2x8xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
func.func @linear_dynamic_n(%q: memref<2x64xi8>, %s: memref<2xf32>, %y: memref<2x?xf32>) {
  // expected-error@+1 {{'tern.linear' op needs static N (output columns)}}
  tern.linear @w(%q, %s) into %y : memref<2x64xi8>, memref<2xf32>, memref<2x?xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
func.func @linear_shape(%q: memref<2x32xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.linear' op computes [M, 32] x [32, 8] but @w is 8x64 (N x K)}}
  tern.linear @w(%q, %s) into %y : memref<2x32xi8>, memref<2xf32>, memref<2x8xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
func.func @linear_dynamic_k(%q: memref<2x?xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.linear' op needs static K (input columns)}}
  tern.linear @w(%q, %s) into %y : memref<2x?xi8>, memref<2xf32>, memref<2x8xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
func.func @linear_outputs(%q: memref<2x64xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.linear' op has 2 weights but 1 outputs}}
  tern.linear @w, @w(%q, %s) into %y : memref<2x64xi8>, memref<2xf32>, memref<2x8xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
tern.weight @v : !tern.ternary<4x32, per_row, canonical> from "v"
func.func @linear_second_shape(%q: memref<2x64xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>, %z: memref<2x4xf32>) {
  // expected-error@+1 {{'tern.linear' op computes [M, 64] x [64, 4] but @v is 4x32 (N x K)}}
  tern.linear @w, @v(%q, %s) into %y, %z : memref<2x64xi8>, memref<2xf32>, memref<2x8xf32>, memref<2x4xf32>
  return
}

// -----

func.func @linear_missing(%q: memref<2x32xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.linear' op references @nowhere, which is not a tern.weight}}
  tern.linear @nowhere(%q, %s) into %y : memref<2x32xi8>, memref<2xf32>, memref<2x8xf32>
  return
}

// -----

func.func private @not_a_weight()
func.func @linear_not_weight(%q: memref<2x32xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.linear' op references @not_a_weight, which is not a tern.weight}}
  tern.linear @not_a_weight(%q, %s) into %y : memref<2x32xi8>, memref<2xf32>, memref<2x8xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<3x5, per_tensor, canonical> from "w"
func.func @data_unpacked() {
  // expected-error@+1 {{'tern.weight_data' op @w has no blob offset: run tern-pack-weights first}}
  %d = tern.weight_data @w : memref<128xi8>
  return
}

// -----

tern.weight @w : !tern.ternary<3x5, per_tensor, canonical> from "w" at 0
func.func @data_size() {
  // expected-error@+1 {{'tern.weight_data' op result must be memref<128xi8>, the packed size of @w}}
  %d = tern.weight_data @w : memref<64xi8>
  return
}

// -----

// expected-error@+1 {{'tern.param' op must be a contiguous (identity layout) memref}}
tern.param @p : memref<4x4xf32, strided<[8, 1]>> from "p"

// -----

// expected-error@+1 {{'tern.param' op attribute 'type' failed to satisfy constraint}}
tern.param @p : memref<4xi32> from "p"

// -----

tern.param @p : memref<4xf32> from "p"
func.func @get_param_type() {
  // expected-error@+1 {{'tern.get_param' op result type 'memref<8xf32>' differs from @p's 'memref<4xf32>'}}
  %0 = tern.get_param @p : memref<8xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<4x16, per_row, canonical> from "w"
func.func @get_param_kind() {
  // expected-error@+1 {{'tern.get_param' op references @w, which is not a tern.param}}
  %0 = tern.get_param @w : memref<4xf32>
  return
}

// -----

func.func @embedding_width(%t: memref<10x8xf32>, %ids: memref<2xi32>, %o: memref<2x6xf32>) {
  // expected-error@+1 {{'tern.embedding' op table rows have 8 features but output rows 6}}
  tern.embedding %t[%ids] into %o : memref<10x8xf32>, memref<2xi32>, memref<2x6xf32>
  return
}

// -----

func.func @embedding_rows(%t: memref<10x8xf32>, %ids: memref<3xi32>, %o: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.embedding' op has 3 ids but 2 output rows}}
  tern.embedding %t[%ids] into %o : memref<10x8xf32>, memref<3xi32>, memref<2x8xf32>
  return
}

// -----

func.func @norm_weight(%x: memref<2x8xf32>, %w: memref<6xf32>) {
  // expected-error@+1 {{'tern.rms_norm' op weight has 6 entries for rows of 8}}
  tern.rms_norm %x weight(%w : memref<6xf32>) into %x {eps = 1.0e-5 : f32} : memref<2x8xf32>, memref<2x8xf32>
  return
}

// -----

func.func @norm_eps(%x: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.rms_norm' op eps must not be negative}}
  tern.rms_norm %x into %x {eps = -1.0 : f32} : memref<2x8xf32>, memref<2x8xf32>
  return
}

// -----

func.func @norm_lanes(%x: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.rms_norm' op lanes must be a power of two in [1, 64], got 3}}
  tern.rms_norm %x into %x {eps = 1.0e-5 : f32, lanes = 3} : memref<2x8xf32>, memref<2x8xf32>
  return
}

// -----

func.func @norm_shape(%x: memref<2x8xf32>, %y: memref<2x9xf32>) {
  // expected-error@+1 {{'tern.rms_norm' op input [2, 8] and output [2, 9] differ}}
  tern.rms_norm %x into %y {eps = 1.0e-5 : f32} : memref<2x8xf32>, memref<2x9xf32>
  return
}

// -----

func.func @rope_head(%x: memref<1x24xf32>, %p: index) {
  // expected-error@+1 {{'tern.rope' op head_dim 5 must be even and divide the 24 features of a row}}
  tern.rope interleaved %x at %p {head_dim = 5 : i64, theta = 1.0e4 : f32} : memref<1x24xf32>
  return
}

// -----

func.func @rope_theta(%x: memref<1x24xf32>, %p: index) {
  // expected-error@+1 {{'tern.rope' op theta must be positive}}
  tern.rope interleaved %x at %p {head_dim = 8 : i64, theta = 0.0 : f32} : memref<1x24xf32>
  return
}

// -----

func.func @rope_table_pairs(%x: memref<1x24xf32>, %t: memref<1x3x2xf32>, %p: index) {
  // expected-error@+1 {{'tern.rope' op table must be [1, 4, 2] (a row's cos and sin for each of head_dim/2 pairs), not [1, 3, 2]}}
  tern.rope interleaved %x at %p table(%t : memref<1x3x2xf32>) {head_dim = 8 : i64, theta = 1.0e4 : f32} : memref<1x24xf32>
  return
}

// -----

func.func @rope_table_rows(%x: memref<2x24xf32>, %t: memref<1x4x2xf32>, %p: index) {
  // expected-error@+1 {{'tern.rope' op table must be [2, 4, 2] (a row's cos and sin for each of head_dim/2 pairs), not [1, 4, 2]}}
  tern.rope interleaved %x at %p table(%t : memref<1x4x2xf32>) {head_dim = 8 : i64, theta = 1.0e4 : f32} : memref<2x24xf32>
  return
}

// -----

func.func @rope_table_shape(%t: memref<1x4x3xf32>, %p: index) {
  // expected-error@+1 {{'tern.rope_table' op table must be [rows, 4, 2] (cos and sin for each of head_dim/2 pairs), not [rows, 4, 3]}}
  tern.rope_table at %p into %t {head_dim = 8 : i64, theta = 1.0e4 : f32} : memref<1x4x3xf32>
  return
}

// -----

func.func @rope_table_head(%t: memref<1x4x2xf32>, %p: index) {
  // expected-error@+1 {{'tern.rope_table' op head_dim 7 must be even}}
  tern.rope_table at %p into %t {head_dim = 7 : i64, theta = 1.0e4 : f32} : memref<1x4x2xf32>
  return
}

// -----

func.func @rope_table_theta(%t: memref<1x4x2xf32>, %p: index) {
  // expected-error@+1 {{'tern.rope_table' op theta must be positive}}
  tern.rope_table at %p into %t {head_dim = 8 : i64, theta = -1.0 : f32} : memref<1x4x2xf32>
  return
}

// -----

func.func @attention_heads(%q: memref<1x48xf32>, %k: memref<1x32x16xf32>, %v: memref<16x32xf32>, %o: memref<1x48xf32>, %w: memref<3x16xf32>, %p: index) {
  // expected-error@+1 {{'tern.attention' op heads (3) must be a positive multiple of kv_heads (2)}}
  tern.attention %q, %k, %v at %p into %o using %w {head_dim = 16 : i64, heads = 3 : i64, kv_heads = 2 : i64} : memref<1x48xf32>, memref<1x32x16xf32>, memref<16x32xf32>, memref<1x48xf32>, memref<3x16xf32>
  return
}

// -----

func.func @attention_q(%q: memref<1x40xf32>, %k: memref<1x32x16xf32>, %v: memref<16x32xf32>, %o: memref<1x40xf32>, %w: memref<4x16xf32>, %p: index) {
  // expected-error@+1 {{'tern.attention' op queries have 40 features, not heads * head_dim = 64}}
  tern.attention %q, %k, %v at %p into %o using %w {head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<1x40xf32>, memref<1x32x16xf32>, memref<16x32xf32>, memref<1x40xf32>, memref<4x16xf32>
  return
}

// -----

func.func @attention_kv(%q: memref<1x64xf32>, %k: memref<1x48x16xf32>, %v: memref<16x48xf32>, %o: memref<1x64xf32>, %w: memref<4x16xf32>, %p: index) {
  // expected-error@+1 {{'tern.attention' op the caches must have kv_heads * head_dim = 32 features}}
  tern.attention %q, %k, %v at %p into %o using %w {head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<1x64xf32>, memref<1x48x16xf32>, memref<16x48xf32>, memref<1x64xf32>, memref<4x16xf32>
  return
}

// -----

func.func @glu_shape(%g: memref<2x8xf32>, %u: memref<2x7xf32>) {
  // expected-error@+1 {{'tern.glu' op gate [2, 8] and up [2, 7] differ}}
  tern.glu silu %g, %u into %g : memref<2x8xf32>, memref<2x7xf32>, memref<2x8xf32>
  return
}

// -----

func.func @add_shape(%a: memref<2x8xf32>, %b: memref<3x8xf32>) {
  // expected-error@+1 {{'tern.add' op lhs [2, 8] and rhs [3, 8] differ}}
  tern.add %a, %b into %a : memref<2x8xf32>, memref<3x8xf32>, memref<2x8xf32>
  return
}

// -----

func.func @matmul_k(%x: memref<1x8xf32>, %w: memref<4x9xf16>, %y: memref<1x4xf32>) {
  // expected-error@+1 {{'tern.matmul' op input has 8 columns but the weight 9}}
  tern.matmul %x, %w into %y : memref<1x8xf32>, memref<4x9xf16>, memref<1x4xf32>
  return
}

// -----

func.func @matmul_n(%x: memref<1x8xf32>, %w: memref<4x8xf16>, %y: memref<1x5xf32>) {
  // expected-error@+1 {{'tern.matmul' op weight has 4 rows but the output 5 columns}}
  tern.matmul %x, %w into %y : memref<1x8xf32>, memref<4x8xf16>, memref<1x5xf32>
  return
}

// -----

// expected-error@+1 {{'tern.param' op an i8 parameter is a [N, K] matrix with row_scales, and only it has them}}
tern.param @p : memref<4x8xi8> from "p"

// -----

tern.param @p : memref<4x8xf32> from "p"
func.func @scales_of_float() {
  // expected-error@+1 {{'tern.get_param_scales' op references @p, which is not a tern.param with row_scales}}
  %0 = tern.get_param_scales @p : memref<4xf32>
  return
}

// -----

// expected-error@+1 {{'tern.param' op row_bounds needs row_scales}}
tern.param @p : memref<4x8xf16> from "p" row_bounds

// -----

tern.param @p : memref<4x8xi8> from "p" row_scales
func.func @bounds_without() {
  // expected-error@+1 {{'tern.get_param_bounds' op references @p, which is not a tern.param with row_bounds}}
  %0 = tern.get_param_bounds @p : memref<4xf32>
  return
}

// -----

tern.param @p : memref<4x8xi8> from "p" row_scales row_bounds
func.func @bounds_shape() {
  // expected-error@+1 {{'tern.get_param_bounds' op result must be memref<8xf32>}}
  %0 = tern.get_param_bounds @p : memref<4xf32>
  return
}

// -----

func.func @matmul_rows(%x: memref<1x8xf32>, %w: memref<4x8xf16>, %r: memref<3xi32>, %y: memref<1x2xf32>) {
  // expected-error@+1 {{'tern.matmul' op rows has 3 entries but the output 2 columns}}
  tern.matmul %x, %w rows(%r : memref<3xi32>) into %y : memref<1x8xf32>, memref<4x8xf16>, memref<1x2xf32>
  return
}

// -----

func.func @matmul_dynamic(%x: memref<1x8xf32>, %w: memref<4x8xf16>, %y: memref<1x?xf32>) {
  // expected-error@+1 {{'tern.matmul' op needs a static column count for the input, the weight and an output without rows}}
  tern.matmul %x, %w into %y : memref<1x8xf32>, memref<4x8xf16>, memref<1x?xf32>
  return
}

// -----

func.func @matmul_i8_input(%q: memref<1x8xi8>, %w: memref<4x8xi8>, %s: memref<4xf32>, %y: memref<1x4xf32>) {
  // expected-error@+1 {{'tern.matmul' op an i8 input needs its input_scales, and only it has them}}
  tern.matmul %q, %w scaled(%s : memref<4xf32>) into %y : memref<1x8xi8>, memref<4x8xi8>, memref<1x4xf32>
  return
}

// -----

func.func @matmul_i8_input_f16(%q: memref<1x8xi8>, %qs: memref<1xf32>, %w: memref<4x8xf16>, %y: memref<1x4xf32>) {
  // expected-error@+1 {{'tern.matmul' op an i8 input needs an i8 weight}}
  tern.matmul %q, %w input_scaled(%qs : memref<1xf32>) into %y : memref<1x8xi8>, memref<4x8xf16>, memref<1x4xf32>
  return
}

// -----

func.func @matmul_i8_input_rows(%q: memref<?x8xi8>, %qs: memref<?xf32>, %w: memref<4x8xi8>, %s: memref<4xf32>, %y: memref<?x4xf32>) {
  // expected-error@+1 {{'tern.matmul' op an i8 input needs a static row count}}
  tern.matmul %q, %w input_scaled(%qs : memref<?xf32>) scaled(%s : memref<4xf32>) into %y : memref<?x8xi8>, memref<4x8xi8>, memref<?x4xf32>
  return
}

// -----

func.func @matmul_i8_unscaled(%x: memref<1x8xf32>, %w: memref<4x8xi8>, %y: memref<1x4xf32>) {
  // expected-error@+1 {{'tern.matmul' op an i8 weight needs its per-row weight_scales}}
  tern.matmul %x, %w into %y : memref<1x8xf32>, memref<4x8xi8>, memref<1x4xf32>
  return
}

// -----

func.func @matmul_lanes(%x: memref<1x8xf32>, %w: memref<4x8xf16>, %y: memref<1x4xf32>) {
  // expected-error@+1 {{'tern.matmul' op lanes must be a power of two in [1, 64], got 12}}
  tern.matmul %x, %w into %y {lanes = 12 : i64} : memref<1x8xf32>, memref<4x8xf16>, memref<1x4xf32>
  return
}

// -----

func.func @norm_quantize_shape(%x: memref<2x64xf32>, %q: memref<2x32xi8>, %s: memref<2xf32>) {
  // expected-error@+1 {{'tern.rms_norm_quantize' op quantized rows must have the input's shape}}
  tern.rms_norm_quantize %x into %x, %q, %s {eps = 1.0e-05 : f32} : memref<2x64xf32>, memref<2x64xf32>, memref<2x32xi8>, memref<2xf32>
  return
}

// -----

func.func @norm_quantize_scale(%x: memref<2x64xf32>, %q: memref<2x64xi8>, %s: memref<3xf32>) {
  // expected-error@+1 {{'tern.rms_norm_quantize' op has 2 input rows but scale has 3 entries}}
  tern.rms_norm_quantize %x into %x, %q, %s {eps = 1.0e-05 : f32} : memref<2x64xf32>, memref<2x64xf32>, memref<2x64xi8>, memref<3xf32>
  return
}

// -----

func.func @norm_quantize_lanes(%x: memref<2x64xf32>, %q: memref<2x64xi8>, %s: memref<2xf32>) {
  // expected-error@+1 {{'tern.rms_norm_quantize' op lanes must be a power of two in [1, 64], got 128}}
  tern.rms_norm_quantize %x into %x, %q, %s {eps = 1.0e-05 : f32, lanes = 128} : memref<2x64xf32>, memref<2x64xf32>, memref<2x64xi8>, memref<2xf32>
  return
}

// -----

func.func @norm_quantize_weight(%x: memref<2x64xf32>, %w: memref<32xf32>, %q: memref<2x64xi8>, %s: memref<2xf32>) {
  // expected-error@+1 {{'tern.rms_norm_quantize' op weight has 32 entries for rows of 64}}
  tern.rms_norm_quantize %x weight(%w : memref<32xf32>) into %x, %q, %s {eps = 1.0e-05 : f32} : memref<2x64xf32>, memref<2x64xf32>, memref<2x64xi8>, memref<2xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
func.func @linear_residual_weights(%q: memref<2x64xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>, %h: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.linear' op takes a residual with one weight only}}
  tern.linear @w, @w(%q, %s) into %y, %y residual(%h : memref<2x8xf32>) : memref<2x64xi8>, memref<2xf32>, memref<2x8xf32>, memref<2x8xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
func.func @linear_glu_weights(%q: memref<2x64xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>, %m: memref<2x8xf32>) {
  // expected-error@+1 {{'tern.linear' op takes a glu with two weights (gate, up) and no residual}}
  tern.linear @w(%q, %s) into %y glu silu(%m : memref<2x8xf32>) : memref<2x64xi8>, memref<2xf32>, memref<2x8xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
func.func @linear_glu_shape(%q: memref<2x64xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>, %m: memref<2x9xf32>) {
  // expected-error@+1 {{'tern.linear' op glu output and output shapes differ}}
  tern.linear @w, @w(%q, %s) into %y, %y glu silu(%m : memref<2x9xf32>) : memref<2x64xi8>, memref<2xf32>, memref<2x8xf32>, memref<2x8xf32>
  return
}

// -----

tern.weight @w : !tern.ternary<8x64, per_row, canonical> from "w"
func.func @linear_residual_shape(%q: memref<2x64xi8>, %s: memref<2xf32>, %y: memref<2x8xf32>, %h: memref<2x9xf32>) {
  // expected-error@+1 {{'tern.linear' op residual and output shapes differ}}
  tern.linear @w(%q, %s) into %y residual(%h : memref<2x9xf32>) : memref<2x64xi8>, memref<2xf32>, memref<2x8xf32>
  return
}

// -----

func.func @attention_workspace(%q: memref<1x64xf32>, %k: memref<1x32x16xf32>, %v: memref<16x32xf32>, %o: memref<1x64xf32>, %w: memref<4x15xf32>, %p: index) {
  // expected-error@+1 {{'tern.attention' op the scores workspace must be [heads * rows, >= cache length] = [4 * rows, >= 16]}}
  tern.attention %q, %k, %v at %p into %o using %w {head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<1x64xf32>, memref<1x32x16xf32>, memref<16x32xf32>, memref<1x64xf32>, memref<4x15xf32>
  return
}

// -----

// Rows a head: 6 is no multiple of the 4 heads.
func.func @attention_workspace_rows(%q: memref<1x64xf32>, %k: memref<1x32x16xf32>, %v: memref<16x32xf32>, %o: memref<1x64xf32>, %w: memref<6x16xf32>, %p: index) {
  // expected-error@+1 {{'tern.attention' op the scores workspace must be [heads * rows, >= cache length] = [4 * rows, >= 16]}}
  tern.attention %q, %k, %v at %p into %o using %w {head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<1x64xf32>, memref<1x32x16xf32>, memref<16x32xf32>, memref<1x64xf32>, memref<6x16xf32>
  return
}

// -----

func.func @attention_tiles(%q: memref<1x64xf32>, %k: memref<4x32x8xf32>, %v: memref<32x32xf32>, %o: memref<1x64xf32>, %w: memref<4x32xf32>, %p: index) {
  // expected-error@+1 {{'tern.attention' op the key cache must be in tiles of 16 positions ([S/16, features, 16]), not 8}}
  tern.attention %q, %k, %v at %p into %o using %w {head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<1x64xf32>, memref<4x32x8xf32>, memref<32x32xf32>, memref<1x64xf32>, memref<4x32xf32>
  return
}

// -----

func.func @attention_lengths(%q: memref<1x64xf32>, %k: memref<2x32x16xf32>, %v: memref<40x32xf32>, %o: memref<1x64xf32>, %w: memref<4x48xf32>, %p: index) {
  // expected-error@+1 {{'tern.attention' op key and value caches differ in length (2 tiles of 16 positions for 40)}}
  tern.attention %q, %k, %v at %p into %o using %w {head_dim = 16 : i64, heads = 4 : i64, kv_heads = 2 : i64} : memref<1x64xf32>, memref<2x32x16xf32>, memref<40x32xf32>, memref<1x64xf32>, memref<4x48xf32>
  return
}

// -----

func.func @store_keys_tiles(%k: memref<2x32xf32>, %c: memref<4x32x8xf32>, %p: index) {
  // expected-error@+1 {{'tern.store_keys' op the key cache must be in tiles of 16 positions ([S/16, features, 16]), not 8}}
  tern.store_keys %k into %c at %p : memref<2x32xf32>, memref<4x32x8xf32>
  return
}

// -----

func.func @store_keys_features(%k: memref<2x32xf32>, %c: memref<4x48x16xf32>, %p: index) {
  // expected-error@+1 {{'tern.store_keys' op the keys have 32 features but the cache 48}}
  tern.store_keys %k into %c at %p : memref<2x32xf32>, memref<4x48x16xf32>
  return
}
