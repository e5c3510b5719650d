/*===- abi.h - the ABI between ternc-generated code and the runtime -------===*
 *
 * Plain C, no LLVM: this header is all the runtime needs to call what ternc
 * emits.
 *
 * Weights. The generated object reads every weight at a constant offset from
 * one pointer, `ternc_weights`, which the runtime defines and sets before the
 * first call, to a blob that is at least 64-byte aligned (mmapped from the
 * sidecar file `ternc` writes, or embedded in the executable). The object
 * defines `ternc_weights_size`, the blob size it was compiled for; the
 * runtime must refuse a blob of any other size.
 *
 * Entry points. Each func.func of the compiled module is an external C
 * function whose memref arguments are passed as plain pointers to their
 * first element (row-major, contiguous, static shapes), in order, e.g.
 *   func.func @tern_linear(%q: memref<1x2560xi8>, %s: memref<1xf32>,
 *                          %y: memref<1x640xf32>)
 * is called as
 *   void tern_linear(const int8_t *q, const float *s, float *y);
 *
 *===----------------------------------------------------------------------===*/

#ifndef TERNC_ABI_H
#define TERNC_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defined by the runtime; read by generated code. */
extern const uint8_t *ternc_weights;

/* Defined by generated code that uses weights. */
extern const uint64_t ternc_weights_size;

/* Alignment the runtime guarantees for `ternc_weights`. */
#define TERNC_WEIGHTS_ALIGN 64

#ifdef __cplusplus
}
#endif

#endif /* TERNC_ABI_H */
