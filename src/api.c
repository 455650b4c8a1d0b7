/*
 * api.c - the argument checks of every public compute call (declared in
 * api.h, run first by the per-precision entry points in entry.inc), and
 * the entry points that do not depend on the precision: the scratch query,
 * the reserve call and the sharded statistics' sizes.
 *
 * Every check happens before the computation touches anything, so that an
 * error leaves the caller's buffers as they were. The order of the checks
 * decides which status a call with several faults gets; it is part of the
 * behaviour the tests pin.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "api.h"
#include "checks.h"
#include "context.h"
#include "layout.h"
#include "stats.h"

/* 1 when views is a view count the library takes. */
static int views_in_range(size_t views)
{
    return views >= 1 && views <= VICREG_MAX_VIEWS;
}

/* The leading dimension of each view (n rows), resolved into ld[]: each
 * at least d, and each view's extent in range. */
static int check_view_lds(size_t views, size_t n, size_t d, size_t elem, const size_t *ldz,
                          size_t *ld)
{
    int status = VICREG_OK;
    for (size_t v = 0; v < views && status == VICREG_OK; v++) {
        ld[v] = ldz ? ldz[v] : d;
        status = vicreg_check_ld(n, d, ld[v], elem);
    }
    return status;
}

/* The leading dimension of each gradient that is present (rows rows),
 * resolved into ldg[]. */
static int check_grad_lds(size_t views, size_t rows, size_t d, size_t elem,
                          void *const *grad, const size_t *ldgrad, size_t *ldg)
{
    int status = VICREG_OK;
    for (size_t v = 0; v < views && status == VICREG_OK; v++) {
        ldg[v] = ldgrad ? ldgrad[v] : d;
        if (rows && grad && grad[v])
            status = vicreg_check_ld(rows, d, ldg[v], elem);
    }
    return status;
}

/* VICREG_ERR_OVERLAP when one of the arrays out[0 .. count) shares a byte
 * with a view (in, views of them), or one that the call writes (written[k];
 * written NULL: all of them) shares a byte with another of them. */
static int check_overlaps(size_t views, const struct vicreg_span *in, size_t count,
                          const struct vicreg_span *out, const int *written)
{
    for (size_t k = 0; k < count; k++) {
        for (size_t v = 0; v < views; v++)
            if (vicreg_overlaps(out[k], in[v]))
                return VICREG_ERR_OVERLAP;
        for (size_t l = k + 1; l < count; l++)
            if ((!written || written[k] || written[l]) && vicreg_overlaps(out[k], out[l]))
                return VICREG_ERR_OVERLAP;
    }
    return VICREG_OK;
}

/* The gradients (rows rows each) against the views (n rows each) and
 * against each other. */
static int check_grad_overlaps(size_t views, size_t n, size_t d, size_t elem,
                               const void *const *z, const size_t *ld, size_t rows,
                               void *const *grad, const size_t *ldg)
{
    struct vicreg_span in[VICREG_MAX_VIEWS], out[VICREG_MAX_VIEWS];
    for (size_t v = 0; v < views; v++) {
        in[v] = vicreg_span_of(z ? z[v] : NULL, n, d, ld[v], elem);
        out[v] = vicreg_span_of(grad ? grad[v] : NULL, rows, d, ldg[v], elem);
    }
    return check_overlaps(views, in, views, out, NULL);
}

/* The scratch of a loss call of shape (views, n, d) on the context's path
 * fits in size_t. */
static int check_scratch(const vicreg_ctx *ctx, size_t views, size_t n, size_t d, size_t elem)
{
    int path = vicreg_path_for(ctx->params.path, n, d);
    return vicreg_layout_build(NULL, NULL, path, views, n, d, elem)
               ? VICREG_OK
               : VICREG_ERR_SIZE_OVERFLOW;
}

int vicreg_check_views_call(const vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                            size_t elem, const void *const *z, const size_t *ldz,
                            int rows_call, size_t row0, size_t rows, void *const *grad,
                            const size_t *ldgrad, struct vicreg_views_call *call)
{
    if (!ctx || !z)
        return VICREG_ERR_INVALID_ARGUMENT;
    if (!views_in_range(views))
        return VICREG_ERR_BAD_SHAPE;
    for (size_t v = 0; v < views; v++)
        if (!z[v])
            return VICREG_ERR_INVALID_ARGUMENT;
    int status = vicreg_check_shape(n, d);
    if (status == VICREG_OK)
        status = check_view_lds(views, n, d, elem, ldz, call->ld);
    if (status == VICREG_OK && !rows_call)
        status = check_grad_lds(views, n, d, elem, grad, ldgrad, call->ldg);
    if (status == VICREG_OK)
        status = check_scratch(ctx, views, n, d, elem);
    if (status == VICREG_OK && rows_call) {
        /* row0 .. row0 + rows - 1 lies within the n rows. */
        if (row0 > n || rows > n - row0)
            status = VICREG_ERR_BAD_SHAPE;
        else
            status = check_grad_lds(views, rows, d, elem, grad, ldgrad, call->ldg);
    }
    if (status == VICREG_OK)
        status = check_grad_overlaps(views, n, d, elem, z, call->ld, rows, grad, call->ldg);
    return status;
}

int vicreg_views_global(const vicreg_ctx *ctx, size_t views, size_t *global)
{
    size_t g = (size_t)ctx->params.global_views;
    if (g > views)
        return VICREG_ERR_BAD_SHAPE;
    /* With two views the one pair's weight over the total is 1 for every
     * G; computing them all as G = 2 (as the two-batch calls do) gives
     * every G the same bits, subnormal differences included. */
    *global = g == 0 || views == 2 ? views : g;
    return VICREG_OK;
}

/* The scratch of a views call: the precision's element size, the shape,
 * and the bytes on the context's path. */
static int views_scratch_bytes(const vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                               int precision, size_t *bytes)
{
    if (!ctx || !bytes)
        return VICREG_ERR_INVALID_ARGUMENT;
    size_t elem;
    if (precision == VICREG_PRECISION_F32)
        elem = sizeof(float);
    else if (precision == VICREG_PRECISION_F64)
        elem = sizeof(double);
    else
        return VICREG_ERR_INVALID_ARGUMENT;
    if (!views_in_range(views))
        return VICREG_ERR_BAD_SHAPE;
    int status = vicreg_check_shape(n, d);
    if (status != VICREG_OK)
        return status;
    int path = vicreg_path_for(ctx->params.path, n, d);
    size_t need = vicreg_layout_build(NULL, NULL, path, views, n, d, elem);
    if (need == 0)
        return VICREG_ERR_SIZE_OVERFLOW;
    *bytes = need;
    return VICREG_OK;
}

VICREG_API int vicreg_ctx_views_scratch_bytes(const vicreg_ctx *ctx, size_t views, size_t n,
                                              size_t d, int precision, size_t *bytes)
{
    return views_scratch_bytes(ctx, views, n, d, precision, bytes);
}

VICREG_API int vicreg_ctx_views_reserve(vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                                        int precision)
{
    size_t need;
    int status = views_scratch_bytes(ctx, views, n, d, precision, &need);
    if (status != VICREG_OK)
        return status;
    return vicreg_scratch_ensure(ctx, need);
}

/* The two-batch scratch query and reserve are those of two views. */
VICREG_API int vicreg_ctx_scratch_bytes(const vicreg_ctx *ctx, size_t n, size_t d,
                                        int precision, size_t *bytes)
{
    return views_scratch_bytes(ctx, 2, n, d, precision, bytes);
}

VICREG_API int vicreg_ctx_reserve(vicreg_ctx *ctx, size_t n, size_t d, int precision)
{
    return vicreg_ctx_views_reserve(ctx, 2, n, d, precision);
}

/* ----------------------------------------------------------------------
 * The sharded computation (since 1.1.0)
 * ---------------------------------------------------------------------- */

VICREG_API int vicreg_shard_views_sizes(size_t views, size_t d, size_t *sums_len,
                                        size_t *scatter_len)
{
    if (!sums_len || !scatter_len)
        return VICREG_ERR_INVALID_ARGUMENT;
    if (!views_in_range(views) || d == 0)
        return VICREG_ERR_BAD_SHAPE;
    /* The buffers' bytes must fit in size_t, and d in BLAS's int as every
     * call that uses them requires. */
    const size_t max_elems = SIZE_MAX / sizeof(double);
    if (d > INT_MAX || d > (max_elems - 2) / views || (d + 1) / 2 > max_elems / d / views)
        return VICREG_ERR_SIZE_OVERFLOW;
    *sums_len = 2 + views * d;
    *scatter_len = views * (d * (d + 1) / 2);
    return VICREG_OK;
}

VICREG_API int vicreg_shard_sizes(size_t d, size_t *sums_len, size_t *scatter_len)
{
    return vicreg_shard_views_sizes(2, d, sums_len, scatter_len);
}

/* Shapes, pointers and overlaps of a sharded call; the statistics' values
 * are checked after this. */
static int check_shard(const vicreg_ctx *ctx, int phase, size_t views, size_t n, size_t d,
                       size_t elem, const void *const *z, const size_t *ldz,
                       const double *sums, const double *scatter, void *const *grad,
                       const size_t *ldgrad, struct vicreg_views_call *call)
{
    const int needs_scatter = phase != VICREG_PHASE_SUMS;
    if (!ctx || (n > 0 && !z) || !sums || (needs_scatter && !scatter))
        return VICREG_ERR_INVALID_ARGUMENT;
    if (!views_in_range(views))
        return VICREG_ERR_BAD_SHAPE;
    for (size_t v = 0; v < views && n > 0; v++)
        if (!z[v])
            return VICREG_ERR_INVALID_ARGUMENT;
    if (d == 0)
        return VICREG_ERR_BAD_SHAPE;
    if (n > INT_MAX || d > INT_MAX)
        return VICREG_ERR_SIZE_OVERFLOW;
    int status = VICREG_OK;
    for (size_t v = 0; v < views; v++)
        call->ld[v] = call->ldg[v] = d;
    if (n > 0) {
        status = check_view_lds(views, n, d, elem, ldz, call->ld);
        if (status == VICREG_OK)
            status = check_grad_lds(views, n, d, elem, grad, ldgrad, call->ldg);
    }
    size_t sums_len, scatter_len;
    if (status == VICREG_OK)
        status = vicreg_shard_views_sizes(views, d, &sums_len, &scatter_len);
    if (status != VICREG_OK)
        return status;
    if (vicreg_layout_cut(NULL, NULL, views, n, d, d, elem) == 0)
        return VICREG_ERR_SIZE_OVERFLOW;

    /* No statistics array or gradient may overlap a view; what the call
     * writes may not overlap anything. */
    struct vicreg_span in[VICREG_MAX_VIEWS], out[VICREG_MAX_VIEWS + 2];
    for (size_t v = 0; v < views; v++) {
        in[v] = vicreg_span_of(n > 0 ? z[v] : NULL, n, d, call->ld[v], elem);
        out[2 + v] = vicreg_span_of(grad ? grad[v] : NULL, n, d, call->ldg[v], elem);
    }
    out[0] = vicreg_span_of(sums, 1, sums_len, sums_len, sizeof(double));
    out[1] = vicreg_span_of(needs_scatter ? scatter : NULL, 1, scatter_len, scatter_len,
                            sizeof(double));
    /* What the phase writes: the sums, the scatter, or the gradients. */
    const size_t count = 2 + views;
    int written[VICREG_MAX_VIEWS + 2];
    for (size_t k = 0; k < count; k++)
        written[k] = phase == VICREG_PHASE_SUMS     ? k == 0
                     : phase == VICREG_PHASE_SCATTER ? k == 1
                                                     : k >= 2;
    return check_overlaps(views, in, count, out, written);
}

/* The sums passed in: finite (NON_FINITE), a whole row count that a double
 * holds exactly (BAD_SHAPE), and when they are the global sums of a batch
 * that contains this shard's n rows, at least 2 and at least n rows
 * (BAD_SHAPE). A negative invariance sum no batch can have
 * (INVALID_ARGUMENT). */
static int check_sums(const double *sums, size_t views, size_t d, int global, size_t n)
{
    if (!vicreg_all_finite(2 + views * d, sums))
        return VICREG_ERR_NON_FINITE;
    const double rows = sums[0];
    if (!(rows >= 0.0) || rows != floor(rows) || rows > 0x1p53 || rows > (double)SIZE_MAX)
        return VICREG_ERR_BAD_SHAPE;
    if (global && (rows < 2.0 || rows < (double)n))
        return VICREG_ERR_BAD_SHAPE;
    if (sums[1] < 0.0)
        return VICREG_ERR_INVALID_ARGUMENT;
    return VICREG_OK;
}

/* The scatter passed in: finite (NON_FINITE), and each diagonal entry, a
 * sum of squares, not negative (INVALID_ARGUMENT). */
static int check_scatter(const double *scatter, size_t views, size_t d)
{
    const size_t half = d * (d + 1) / 2;
    if (!vicreg_all_finite(views * half, scatter))
        return VICREG_ERR_NON_FINITE;
    for (size_t b = 0; b < views; b++) {
        const double *diag = scatter + (size_t)b * half;
        for (size_t j = 0; j < d; j++) {
            if (*diag < 0.0)
                return VICREG_ERR_INVALID_ARGUMENT;
            diag += d - j;
        }
    }
    return VICREG_OK;
}

int vicreg_check_shard_call(const vicreg_ctx *ctx, int phase, size_t views, size_t n,
                            size_t d, size_t elem, const void *const *z, const size_t *ldz,
                            const double *sums, const double *scatter, void *const *grad,
                            const size_t *ldgrad, struct vicreg_views_call *call)
{
    int status = check_shard(ctx, phase, views, n, d, elem, z, ldz, sums, scatter, grad,
                             ldgrad, call);
    if (status == VICREG_OK)
        status = check_sums(sums, views, d, phase != VICREG_PHASE_SUMS, n);
    if (status == VICREG_OK && phase != VICREG_PHASE_SUMS)
        status = check_scatter(scatter, views, d);
    return status;
}
