/*
 * api.h - the argument checks of each public compute call (api.c), which
 * the per-precision entry points (entry.inc) run before anything else, so
 * that an error leaves the caller's buffers as they were. elem is the
 * element size of the call's precision. Each returns VICREG_OK or the
 * status the header documents. Never installed.
 */
#ifndef VICREG_API_H
#define VICREG_API_H

#include <stddef.h>

#include "vicreg.h"

/* vicreg_loss_*: the whole batch and both gradients of n rows. */
int vicreg_check_loss_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                           const void *za, size_t lda, const void *zb, size_t ldb,
                           const void *grad_a, size_t ldga, const void *grad_b, size_t ldgb);

/* vicreg_loss_rows_*: the whole batch, gradients of rows row0 .. row0 +
 * rows - 1. */
int vicreg_check_rows_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                           const void *za, size_t lda, const void *zb, size_t ldb,
                           size_t row0, size_t rows, const void *grad_a, size_t ldga,
                           const void *grad_b, size_t ldgb);

/* vicreg_shard_sums_*: a shard (n may be 0) and the sums it adds to. */
int vicreg_check_sums_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                           const void *za, size_t lda, const void *zb, size_t ldb,
                           const double *sums);

/* vicreg_shard_scatter_* (grad_a and grad_b NULL, scatter written) and
 * vicreg_shard_finish_* (scatter read, gradients written): a shard and the
 * global statistics. */
int vicreg_check_global_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                             const void *za, size_t lda, const void *zb, size_t ldb,
                             const double *sums, const double *scatter, int writes_scatter,
                             const void *grad_a, size_t ldga, const void *grad_b,
                             size_t ldgb);

#endif
