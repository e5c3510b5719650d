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
