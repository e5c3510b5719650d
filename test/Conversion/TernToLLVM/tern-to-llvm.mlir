// RUN: tern-opt %s --split-input-file --convert-tern-to-llvm | FileCheck %s

// Weight access becomes the runtime's blob pointer plus a constant offset.
// CHECK-LABEL: module {
// CHECK-DAG: llvm.mlir.global external @ternc_weights() {{.*}} : !llvm.ptr
// CHECK-DAG: llvm.mlir.global external constant @ternc_weights_size(448 : i64) {{.*}} : i64
// The declarations and the size attribute are gone.
// CHECK-NOT: tern.weight @
// CHECK-LABEL: func.func @get_second
// CHECK: %[[ADDR:.*]] = llvm.mlir.addressof @ternc_weights : !llvm.ptr
// CHECK: %[[BASE:.*]] = llvm.load %[[ADDR]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[OFF:.*]] = llvm.mlir.constant(128 : i64) : i64
// CHECK: %[[PTR:.*]] = llvm.getelementptr %[[BASE]][%[[OFF]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: llvm.insertvalue %[[PTR]], %{{.*}}[1] : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
// CHECK: %[[M:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> to memref<320xi8>
// CHECK: return %[[M]] : memref<320xi8>
// CHECK-NOT: tern.
module attributes {tern.weights_size = 448 : i64} {
  tern.weight @first : !tern.ternary<3x5, per_tensor, canonical> from "first" at 0
  tern.weight @second : !tern.ternary<16x64, per_row, interleaved<64>> from "second" at 128
  func.func @get_second() -> memref<320xi8> {
    %d = tern.weight_data @second : memref<320xi8>
    return %d : memref<320xi8>
  }
}

// -----

// Without weights, no blob symbols.
// CHECK-LABEL: module {
// CHECK-NOT: ternc_weights
// CHECK: func.func @empty
module {
  func.func @empty() {
    return
  }
}

// -----

// Dense parameters are reached the same way.
// CHECK-LABEL: module {
// CHECK: llvm.mlir.global external @ternc_weights()
// CHECK-LABEL: func.func @get_head
// CHECK: %[[ADDR:.*]] = llvm.mlir.addressof @ternc_weights : !llvm.ptr
// CHECK: %[[BASE:.*]] = llvm.load %[[ADDR]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[OFF:.*]] = llvm.mlir.constant(64 : i64) : i64
// CHECK: llvm.getelementptr %[[BASE]][%[[OFF]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: builtin.unrealized_conversion_cast %{{.*}} to memref<3x20xf16>
// CHECK-NOT: tern.param
module {
  tern.param @norm : memref<5xf32> from "norm" at 0
  tern.param @head : memref<3x20xf16> from "head" at 64
  func.func @get_head() -> memref<3x20xf16> {
    %h = tern.get_param @head : memref<3x20xf16>
    return %h : memref<3x20xf16>
  }
}

// -----

// An int8 screening copy: codes (3 x 20 bytes), its scales at the next
// 64-byte boundary (+64), its bounds at the one after the scales (+128).
// CHECK-LABEL: func.func @get_screen
// CHECK: llvm.mlir.constant(256 : i64) : i64
// CHECK: builtin.unrealized_conversion_cast %{{.*}} to memref<3xf32>
// CHECK: llvm.mlir.constant(320 : i64) : i64
// CHECK: builtin.unrealized_conversion_cast %{{.*}} to memref<6xf32>
module {
  tern.param @screen : memref<3x20xi8> from "head" row_scales row_bounds at 192
  func.func @get_screen() -> (memref<3xf32>, memref<6xf32>) {
    %s = tern.get_param_scales @screen : memref<3xf32>
    %b = tern.get_param_bounds @screen : memref<6xf32>
    return %s, %b : memref<3xf32>, memref<6xf32>
  }
}
