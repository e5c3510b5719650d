// The kernels of one BitNet b1.58 2B4T decoder layer, at its exact shapes,
// plus its LM head (f16, tied, 128256 x 2560), the head's int8 screening
// copy (ternc --head-screen) and a prefill-sized linear
// (128 tokens). bench/kernels.sh compiles this with ternc for the host CPU
// and times each function with Google Benchmark (bench/kernel-bench.cpp).
tern.weight @wq : !tern.ternary<2560x2560, per_tensor, canonical> from "wq"
tern.weight @wk : !tern.ternary<640x2560, per_tensor, canonical> from "wk"
tern.weight @wo : !tern.ternary<2560x2560, per_tensor, canonical> from "wo"
tern.weight @wgate : !tern.ternary<6912x2560, per_tensor, canonical> from "wgate"
tern.weight @wdown : !tern.ternary<2560x6912, per_tensor, canonical> from "wdown"
tern.param @head : memref<128256x2560xf16> from "head"
tern.param @screen : memref<128256x2560xi8> from "head" row_scales row_bounds

func.func @bench_quantize_2560(%x: memref<1x2560xf32>, %q: memref<1x2560xi8>, %s: memref<1xf32>) {
  tern.quantize %x into %q, %s : memref<1x2560xf32>, memref<1x2560xi8>, memref<1xf32>
  return
}
func.func @bench_linear_q(%q: memref<1x2560xi8>, %s: memref<1xf32>, %y: memref<1x2560xf32>) {
  tern.linear @wq(%q, %s) into %y : memref<1x2560xi8>, memref<1xf32>, memref<1x2560xf32>
  return
}
func.func @bench_linear_k(%q: memref<1x2560xi8>, %s: memref<1xf32>, %y: memref<1x640xf32>) {
  tern.linear @wk(%q, %s) into %y : memref<1x2560xi8>, memref<1xf32>, memref<1x640xf32>
  return
}
func.func @bench_linear_o(%q: memref<1x2560xi8>, %s: memref<1xf32>, %y: memref<1x2560xf32>) {
  tern.linear @wo(%q, %s) into %y : memref<1x2560xi8>, memref<1xf32>, memref<1x2560xf32>
  return
}
func.func @bench_linear_gate(%q: memref<1x2560xi8>, %s: memref<1xf32>, %y: memref<1x6912xf32>) {
  tern.linear @wgate(%q, %s) into %y : memref<1x2560xi8>, memref<1xf32>, memref<1x6912xf32>
  return
}
func.func @bench_linear_down(%q: memref<1x6912xi8>, %s: memref<1xf32>, %y: memref<1x2560xf32>) {
  tern.linear @wdown(%q, %s) into %y : memref<1x6912xi8>, memref<1xf32>, memref<1x2560xf32>
  return
}
func.func @bench_linear_gate_m128(%q: memref<128x2560xi8>, %s: memref<128xf32>, %y: memref<128x6912xf32>) {
  tern.linear @wgate(%q, %s) into %y : memref<128x2560xi8>, memref<128xf32>, memref<128x6912xf32>
  return
}
func.func @bench_head(%x: memref<1x2560xf32>, %y: memref<1x128256xf32>) {
  %w = tern.get_param @head : memref<128256x2560xf16>
  tern.matmul %x, %w into %y {lanes = 16 : i64} : memref<1x2560xf32>, memref<128256x2560xf16>, memref<1x128256xf32>
  return
}
func.func @bench_screen(%x: memref<1x2560xf32>, %y: memref<1x128256xf32>) {
  %w = tern.get_param @screen : memref<128256x2560xi8>
  %s = tern.get_param_scales @screen : memref<128256xf32>
  tern.matmul %x, %w scaled(%s : memref<128256xf32>) into %y {lanes = 16 : i64} : memref<1x2560xf32>, memref<128256x2560xi8>, memref<1x128256xf32>
  return
}
func.func @bench_screen_int8(%q: memref<2x2560xi8>, %qs: memref<2xf32>, %y: memref<2x128256xf32>) {
  %w = tern.get_param @screen : memref<128256x2560xi8>
  %s = tern.get_param_scales @screen : memref<128256xf32>
  tern.matmul %q, %w input_scaled(%qs : memref<2xf32>) scaled(%s : memref<128256xf32>) into %y : memref<2x2560xi8>, memref<128256x2560xi8>, memref<2x128256xf32>
  return
}
