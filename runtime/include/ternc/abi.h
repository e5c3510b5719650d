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

/* Defined by programs `ternc` compiled together with their weight file: the
 * file's checksum (ternc/checksum.h). The runtime refuses a weight file whose
 * checksum differs. Objects built without a weight file do not define it. */
extern const uint64_t ternc_weights_checksum;

/* Defined (weak) by every object ternc writes: the CPU it was compiled for
 * and the LLVM subtarget features enabled for it, comma-separated. On x86
 * the runtime refuses to run on a CPU that lacks one of the instruction-set
 * extensions among them (runtime/src/CpuFeatures.cpp). */
extern const char ternc_target_cpu[];
extern const char ternc_target_features[];

/* Alignment the runtime guarantees for `ternc_weights`. */
#define TERNC_WEIGHTS_ALIGN 64

/* Defined by the runtime, called by generated code: run body(ctx, b, e) over
 * sub-ranges [b, e) that together cover [begin, end), possibly on several
 * threads, and return when all have finished. Each index must be handled
 * exactly once; the split must not change any result. */
typedef void (*ternc_body_fn)(void *ctx, int64_t begin, int64_t end);
void ternc_parallel_for(ternc_body_fn body, void *ctx, int64_t begin,
                        int64_t end);
/* Defined by the runtime, called by generated code: the threads
 * ternc_parallel_for may use (at least 1), and the calling thread's index
 * among them, in [0, ternc_thread_count()): 0 outside a body and on the
 * thread that called ternc_parallel_for, a fixed index on each other one.
 * A decoded token's lookup tables are built once per thread with it. */
int32_t ternc_thread_count(void);
int32_t ternc_thread_index(void);
/* Defined by the runtime, called by generated code: a hint that the next
 * ternc_parallel_for streams the weight-blob bytes [offset0, offset0 +
 * bytes0) and [offset1, offset1 + bytes1) (bytes1 may be 0), each split
 * evenly across the threads in order. Threads waiting for that call may
 * prefetch the start of their share meanwhile; nothing else changes. */
void ternc_prefetch_next(int64_t offset0, int64_t bytes0, int64_t offset1,
                         int64_t bytes1);

/* A compiled model (`ternc CHECKPOINT`) also defines the following. */

/* Configuration, indexed by the TERNC_CONFIG_* constants. */
extern const int64_t ternc_config[16];
enum {
  TERNC_CONFIG_VERSION = 0, /* layout of this array: 2 */
  TERNC_CONFIG_DIM = 1,
  TERNC_CONFIG_LAYERS = 2,
  TERNC_CONFIG_KV_DIM = 3,
  TERNC_CONFIG_CONTEXT = 4, /* KV-cache length in tokens */
  TERNC_CONFIG_VOCAB = 5,
  TERNC_CONFIG_PREFILL = 6, /* tokens per ternc_prefill call */
  TERNC_CONFIG_SCRATCH = 7, /* bytes of scratch the entry points need */
  TERNC_CONFIG_BOS = 8,
  TERNC_CONFIG_EOS = 9,
  /* Scratch byte offset of the LM head's input (the final norm's output,
   * f32 [dim]) after ternc_decode with a null `logits`; -1 without a
   * screened head. */
  TERNC_CONFIG_HEAD_INPUT = 10,
  /* Bytes of one row of the native LM head, with a screened head. */
  TERNC_CONFIG_HEAD_ROW_BYTES = 11,
  /* TERNC_CONFIG_HEAD_INPUT's counterpart for ternc_prefill. */
  TERNC_CONFIG_PREFILL_HEAD_INPUT = 12,
};

/* Positions per tile of the key cache (mlir::tern::kKeyTile in the
 * compiler). */
#define TERNC_KEY_TILE 16

/* One token at position `pos`: appends its keys and values to the caches
 * (f32 keys [layers][ceil(context / TERNC_KEY_TILE)][kv_dim][TERNC_KEY_TILE],
 * feature f of position t at [t / TERNC_KEY_TILE][f][t % TERNC_KEY_TILE];
 * values [layers][context][kv_dim]) and writes the next-token logits
 * (f32 [vocab]). `scratch` holds TERNC_CONFIG_SCRATCH bytes, 64-aligned. */
void ternc_decode(int32_t token, int64_t pos, float *kcache, float *vcache,
                  uint8_t *scratch, float *logits);
/* With a screened head (TERNC_CONFIG_HEAD_INPUT >= 0) `logits` may be NULL:
 * the head is skipped and its input left in the scratch. */

/* `n` (1..TERNC_CONFIG_PREFILL) tokens at positions pos..pos+n-1, from an
 * array of TERNC_CONFIG_PREFILL ids; logits of the last one, or none (the
 * final norm and LM head skipped; with a screened head only the LM head,
 * its input left in the scratch) when `logits` is NULL. */
void ternc_prefill(const int32_t *tokens, int64_t n, int64_t pos, float *kcache,
                   float *vcache, uint8_t *scratch, float *logits);

/* A screened LM head (`ternc --head-screen`, the default for a native
 * head): an int8 copy q with per-row scales s and error bounds c, d such
 * that for the head's input x, |logit[i] - score[i]| <= |x| c[i] +
 * |x - x'| d[i] + 2^-22 |score[i]| (Euclidean norms), logit[i] the native
 * head's result, score[i] = s[i] * sum_k x'[k] q[i][k]. Defined only by
 * programs that have one (weak here, NULL otherwise); a program has one of
 * the two screening functions. */
/* x' = x: scores[i] = score[i], for all i < vocab. */
void ternc_head_screen(const float *x, float *scores) __attribute__((weak));
/* x' = xq[0] / xs[0] + xq[1] / xs[1] (int8 rows of dim, chosen by the
 * caller): scores[m][i] = (f32(sum_k xq[m][k] q[i][k]) / xs[m]) * s[i],
 * the sums exact, so score[i] = scores[0][i] + scores[1][i] up to the
 * roundings of these few operations. For targets with an int8 dot
 * product. */
void ternc_head_screen_int8(const int8_t *xq, const float *xs, float *scores)
    __attribute__((weak));
/* out[j] = logit[rows[j]] for j < n, exactly as ternc_decode computes it. */
void ternc_head_rows(const float *x, const int32_t *rows, int64_t n, float *out)
    __attribute__((weak));
/* c then d, f32 [2 * vocab]. */
const float *ternc_head_bounds(void) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif /* TERNC_ABI_H */
