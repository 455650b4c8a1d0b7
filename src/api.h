/*
 * api.h - the argument checks of each public compute call (api.c), which
 * the per-precision entry points (entry.inc) run before anything else, so
 * that an error leaves the caller's buffers as they were. Every call is
 * checked as a call of V views (the two-batch calls as V = 2): z[v] and
 * grad[v] are the caller's pointers without their element type, elem is
 * the element size of the call's precision. Each returns VICREG_OK or the
 * status the header documents. Never installed.
 */
#ifndef VICREG_API_H
#define VICREG_API_H

#include <stddef.h>

#include "vicreg.h"

/* What the checks resolve for the computation: each view's and each
 * gradient's leading dimension (d where the caller passed no array). */
struct vicreg_views_call {
    size_t ld[VICREG_MAX_VIEWS];
    size_t ldg[VICREG_MAX_VIEWS];
};

/* A loss call over the whole batch: the gradients of all n rows
 * (rows_call 0, row0 = 0, rows = n) or of rows row0 .. row0 + rows - 1
 * (rows_call 1, the vicreg_*loss_rows_* calls, which check in their own
 * order). z may be NULL (an error); grad may be NULL (no gradients). */
int vicreg_check_views_call(const vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                            size_t elem, const void *const *z, const size_t *ldz,
                            int rows_call, size_t row0, size_t rows, void *const *grad,
                            const size_t *ldgrad, struct vicreg_views_call *call);

/* The G of a views call from the context's VICREG_PARAM_GLOBAL_VIEWS
 * (0: every view); VICREG_ERR_BAD_SHAPE when it exceeds views. */
int vicreg_views_global(const vicreg_ctx *ctx, size_t views, size_t *global);

/* The phases of a sharded call. */
enum { VICREG_PHASE_SUMS, VICREG_PHASE_SCATTER, VICREG_PHASE_FINISH };

/* A sharded call of the given phase: a shard of n rows (may be 0; then z
 * and every z[v] may be NULL), the statistics it reads or adds to (sums;
 * scatter from the scatter phase on) and, in the finish phase, the
 * gradients. */
int vicreg_check_shard_call(const vicreg_ctx *ctx, int phase, size_t views, size_t n,
                            size_t d, size_t elem, const void *const *z, const size_t *ldz,
                            const double *sums, const double *scatter, void *const *grad,
                            const size_t *ldgrad, struct vicreg_views_call *call);

#endif
