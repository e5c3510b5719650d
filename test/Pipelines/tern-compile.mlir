// RUN: tern-opt %s --tern-compile | FileCheck %s
// RUN: tern-opt %s --tern-transform | FileCheck %s --check-prefix=TRANSFORM
// RUN: tern-opt %s --tern-transform --tern-lower | FileCheck %s

// The named pipelines run the same steps as ternc: after tern-transform the
// weights have layouts and offsets; after tern-lower only the LLVM dialect
// is left, with plain pointers as the entry points' arguments.

// dotprod: chunks of 64, rows in groups of 4; 40 padded rows x 128 padded
// columns / 4 = 1280 code bytes, scales at 1280, 1428 -> 1472.
// TRANSFORM: module attributes {tern.target = {{.*}}, tern.weights_size = 1472 : i64}
// TRANSFORM: tern.weight @w : !tern.ternary<37x83, per_row, interleaved<64, 4>> from "w" at 0
// TRANSFORM: tern.quantize
// TRANSFORM: tern.linear @w

// CHECK: llvm.mlir.global external @ternc_weights()
// CHECK: llvm.mlir.global external constant @ternc_weights_size(1472 : i64)
// CHECK: llvm.func @step(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK: llvm.intr.masked.load
// CHECK: llvm.fadd %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: llvm.intr.vector.reduce.add
// CHECK-NOT: {{[ "](tern|scf|vector|memref|arith|math|cf|func)\.[a-z_]+}}
module attributes {tern.target = #tern.target<triple = "aarch64-unknown-linux-gnu", cpu = "cortex-a76", isa = ["neon", "dotprod"], vector_bits = 128>} {
  tern.weight @w : !tern.ternary<37x83, per_row, canonical> from "w"
  func.func @step(%x: memref<3x83xf32>, %q: memref<3x83xi8>, %s: memref<3xf32>, %y: memref<3x37xf32>, %unused: memref<1xf32>) {
    tern.quantize %x into %q, %s : memref<3x83xf32>, memref<3x83xi8>, memref<3xf32>
    tern.linear @w(%q, %s) into %y : memref<3x83xi8>, memref<3xf32>, memref<3x37xf32>
    return
  }
}
