// RUN: tern-opt %s --split-input-file --tern-outline-parallel | FileCheck %s

// A loop marked tern.parallel becomes a call of the runtime's
// ternc_parallel_for with an outlined body; captured values travel in a
// stack struct, constants are recomputed inside.
// CHECK-LABEL: func.func @rows
// CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: %[[CTX:.*]] = llvm.alloca %[[ONE]] x !llvm.struct<(f32, struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)>
// CHECK: %[[F0:.*]] = llvm.getelementptr %[[CTX]][0, 0]
// CHECK: llvm.store %{{.*}}, %[[F0]] : f32, !llvm.ptr
// CHECK: %[[M:.*]] = builtin.unrealized_conversion_cast %{{.*}} : memref<8xf32> to !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
// CHECK: %[[F1:.*]] = llvm.getelementptr %[[CTX]][0, 1]
// CHECK: llvm.store %[[M]], %[[F1]]
// CHECK: %[[BODY:.*]] = constant @__tern_parallel_0 : (!llvm.ptr, i64, i64) -> ()
// CHECK: call @ternc_parallel_for(%[[BODY]], %[[CTX]], %{{.*}}, %{{.*}})
// CHECK-NOT: scf.for
// CHECK: func.func private @ternc_parallel_for((!llvm.ptr, i64, i64) -> (), !llvm.ptr, i64, i64)
// CHECK: func.func private @__tern_parallel_0(%[[C:.*]]: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
// CHECK: llvm.load %{{.*}} : !llvm.ptr -> f32
// CHECK: llvm.load
// CHECK: builtin.unrealized_conversion_cast %{{.*}} to memref<8xf32>
// CHECK-DAG: %[[BI:.*]] = arith.index_cast %[[B]] : i64 to index
// CHECK-DAG: %[[EI:.*]] = arith.index_cast %[[E]] : i64 to index
// CHECK: scf.for %{{.*}} = %[[BI]] to %[[EI]] step
// CHECK:   memref.store
// CHECK-NOT: tern.parallel
func.func @rows(%y: memref<8xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %v, %y[%i] : memref<8xf32>
  } {tern.parallel}
  return
}

// -----

// Unmarked loops stay.
// CHECK-LABEL: func.func @serial
// CHECK: scf.for
// CHECK-NOT: ternc_parallel_for
func.func @serial(%y: memref<8xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %v, %y[%i] : memref<8xf32>
  }
  return
}

// -----

// A static stack buffer of the body belongs to the thread: it moves to the
// entry of the outlined function, out of the loop (one per call of the
// body, not one per iteration); a dynamic one stays where it is.
// CHECK-LABEL: func.func @scratch
// CHECK: call @ternc_parallel_for
// CHECK: func.func private @__tern_parallel_0
// CHECK: %[[BUF:.*]] = memref.alloca() {alignment = 64 : i64} : memref<64xi32>
// CHECK: scf.for
// CHECK:   memref.store %{{.*}}, %[[BUF]]
// CHECK:   memref.alloca(%{{.*}}) : memref<?xi32>
func.func @scratch(%y: memref<8xi32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %buf = memref.alloca() {alignment = 64 : i64} : memref<64xi32>
    %v = memref.load %y[%i] : memref<8xi32>
    memref.store %v, %buf[%i] : memref<64xi32>
    %dyn = memref.alloca(%n) : memref<?xi32>
    memref.store %v, %dyn[%c0] : memref<?xi32>
    %w = memref.load %buf[%c0] : memref<64xi32>
    memref.store %w, %y[%i] : memref<8xi32>
  } {tern.parallel}
  return
}
