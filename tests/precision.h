/*
 * precision.h - what the tests that run one case in either precision
 * share: the precision tag, its name and element size, the element
 * read and write of a buffer of that precision, the library's calls
 * dispatched on it, a correlated pair of batches in it and sentinel-filled
 * output buffers.
 *
 * A buffer "in prec" is a float array for F32 and a double array for F64,
 * passed as void *. Loop tests over the precision take prec = _i % 2 or
 * similar, so F32 is 0 and F64 is 1.
 *
 * One copy for every test program: test-vicreg (the shared library) and
 * test-memory, test-shard-memory (the hooked static library) link
 * precision.c.
 */
#ifndef VICREG_TEST_PRECISION_H
#define VICREG_TEST_PRECISION_H

#include <stddef.h>
#include <stdint.h>

#include "vicreg.h"

enum { F32 = 0, F64 = 1 };

/* "f32" or "f64", for messages. */
const char *prec_name(int prec);

/* sizeof(float) or sizeof(double). */
size_t elem_of(int prec);

/* VICREG_PRECISION_F32 or VICREG_PRECISION_F64 (vicreg_ctx_reserve and
 * vicreg_ctx_scratch_size). */
int precision_key(int prec);

/* Element i of a buffer in prec, widened to double. */
double elem_get(int prec, const void *buf, size_t i);

/* Stores v (rounded to float for F32) as element i of a buffer in prec. */
void elem_put(int prec, void *buf, size_t i, double v);

/* ---------------------------------------------------------------------
 * The library's calls in prec: vicreg_<name>_f32 or vicreg_<name>_f64
 * with the same arguments, the arrays void * of the precision's type.
 * --------------------------------------------------------------------- */
int prec_loss(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
              const void *zb, size_t ldb, double *loss, void *ga, size_t ldga, void *gb,
              size_t ldgb);

int prec_loss_rows(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                   const void *zb, size_t ldb, size_t row0, size_t rows, double *loss, void *ga,
                   size_t ldga, void *gb, size_t ldgb);

int prec_shard_sums(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                    const void *zb, size_t ldb, double *sums);

int prec_shard_scatter(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                       const void *zb, size_t ldb, const double *sums, double *scatter);

int prec_shard_finish(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                      const void *zb, size_t ldb, const double *sums, const double *scatter,
                      double *loss, void *ga, size_t ldga, void *gb, size_t ldgb);

/* ---------------------------------------------------------------------
 * Buffers
 * --------------------------------------------------------------------- */

/* A correlated pair (tu_make_batches) in prec, n x d with leading
 * dimension ld; the padding between rows is zero. Any smaller shape with
 * the same ld can read its first rows. */
struct pair {
    void *za, *zb;
};

void pair_make(struct pair *p, int prec, uint64_t seed, size_t n, size_t d, size_t ld);
void pair_free(struct pair *p);

/* A new buffer in prec holding src[0 .. count) (rounded to float for F32).
 * Asserts the allocation; the caller frees it. */
void *prec_copy_of(int prec, const double *src, size_t count);

/* The byte every element of a sentinel buffer is filled with. */
#define SENTINEL_BYTE 0xA5

/* A new buffer of `count` elements in prec, every byte SENTINEL_BYTE, so
 * that a test sees whether a call wrote into it. Asserts the allocation;
 * the caller frees it. */
void *sentinel_buffer(int prec, size_t count);

#endif
