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

/* The three batch arguments of a loss call: pointers, shape, leading
 * dimensions. */
static int check_batches(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                         const void *za, size_t lda, const void *zb, size_t ldb)
{
    if (!ctx || !za || !zb)
        return VICREG_ERR_INVALID_ARGUMENT;
    int status = vicreg_check_shape(n, d);
    if (status == VICREG_OK)
        status = vicreg_check_ld(n, d, lda, elem);
    if (status == VICREG_OK)
        status = vicreg_check_ld(n, d, ldb, elem);
    return status;
}

/* The scratch of a loss call of shape (n, d) on the context's path fits
 * in size_t. */
static int check_scratch(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem)
{
    int path = vicreg_path_for(ctx->params.path, n, d);
    return vicreg_layout_build(NULL, NULL, path, n, d, elem) ? VICREG_OK
                                                             : VICREG_ERR_SIZE_OVERFLOW;
}

int vicreg_check_loss_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                           const void *za, size_t lda, const void *zb, size_t ldb,
                           const void *grad_a, size_t ldga, const void *grad_b, size_t ldgb)
{
    int status = check_batches(ctx, n, d, elem, za, lda, zb, ldb);
    if (status == VICREG_OK)
        status = vicreg_check_grad_ld(n, d, elem, grad_a, ldga, grad_b, ldgb);
    if (status == VICREG_OK)
        status = check_scratch(ctx, n, d, elem);
    if (status == VICREG_OK)
        status = vicreg_check_grad_overlap(n, d, elem, za, lda, zb, ldb, n, grad_a, ldga,
                                           grad_b, ldgb);
    return status;
}

int vicreg_check_rows_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                           const void *za, size_t lda, const void *zb, size_t ldb,
                           size_t row0, size_t rows, const void *grad_a, size_t ldga,
                           const void *grad_b, size_t ldgb)
{
    int status = check_batches(ctx, n, d, elem, za, lda, zb, ldb);
    if (status == VICREG_OK)
        status = check_scratch(ctx, n, d, elem);
    /* row0 .. row0 + rows - 1 lies within the n rows. */
    if (status == VICREG_OK && (row0 > n || rows > n - row0))
        status = VICREG_ERR_BAD_SHAPE;
    if (status == VICREG_OK)
        status = vicreg_check_grad_ld(rows, d, elem, grad_a, ldga, grad_b, ldgb);
    if (status == VICREG_OK)
        status = vicreg_check_grad_overlap(n, d, elem, za, lda, zb, ldb, rows, grad_a, ldga,
                                           grad_b, ldgb);
    return status;
}

VICREG_API int vicreg_ctx_scratch_bytes(const vicreg_ctx *ctx, size_t n, size_t d,
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
    int status = vicreg_check_shape(n, d);
    if (status != VICREG_OK)
        return status;
    int path = vicreg_path_for(ctx->params.path, n, d);
    size_t need = vicreg_layout_build(NULL, NULL, path, n, d, elem);
    if (need == 0)
        return VICREG_ERR_SIZE_OVERFLOW;
    *bytes = need;
    return VICREG_OK;
}

VICREG_API int vicreg_ctx_reserve(vicreg_ctx *ctx, size_t n, size_t d, int precision)
{
    size_t need;
    int status = vicreg_ctx_scratch_bytes(ctx, n, d, precision, &need);
    if (status != VICREG_OK)
        return status;
    return vicreg_scratch_ensure(ctx, need);
}

/* ----------------------------------------------------------------------
 * The sharded computation (since 1.1.0)
 * ---------------------------------------------------------------------- */

VICREG_API int vicreg_shard_sizes(size_t d, size_t *sums_len, size_t *scatter_len)
{
    if (!sums_len || !scatter_len)
        return VICREG_ERR_INVALID_ARGUMENT;
    if (d == 0)
        return VICREG_ERR_BAD_SHAPE;
    /* The buffers' bytes must fit in size_t, and d in BLAS's int as every
     * call that uses them requires. */
    const size_t max_elems = SIZE_MAX / sizeof(double);
    if (d > INT_MAX || d > (max_elems - 2) / 2 || d + 1 > max_elems / d)
        return VICREG_ERR_SIZE_OVERFLOW;
    *sums_len = 2 + 2 * d;
    *scatter_len = d * (d + 1);
    return VICREG_OK;
}

/* The statistics arrays of a sharded call, and what it may write. */
struct shard_bufs {
    const double *sums, *scatter; /* scatter NULL in the sums phase */
    const void *grad_a, *grad_b;  /* finish phase only */
    size_t ldga, ldgb;
    int writes_sums, writes_scatter;
};

/* Shapes, pointers and overlaps of a sharded call; the statistics' values
 * are checked after this. */
static int check_shard(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                       const void *za, size_t lda, const void *zb, size_t ldb,
                       const struct shard_bufs *bf, int needs_scatter)
{
    if (!ctx || (n > 0 && (!za || !zb)) || !bf->sums || (needs_scatter && !bf->scatter))
        return VICREG_ERR_INVALID_ARGUMENT;
    if (d == 0)
        return VICREG_ERR_BAD_SHAPE;
    if (n > INT_MAX || d > INT_MAX)
        return VICREG_ERR_SIZE_OVERFLOW;
    int status = VICREG_OK;
    if (n > 0) {
        status = vicreg_check_ld(n, d, lda, elem);
        if (status == VICREG_OK)
            status = vicreg_check_ld(n, d, ldb, elem);
        if (status == VICREG_OK)
            status = vicreg_check_grad_ld(n, d, elem, bf->grad_a, bf->ldga, bf->grad_b,
                                          bf->ldgb);
    }
    size_t sums_len, scatter_len;
    if (status == VICREG_OK)
        status = vicreg_shard_sizes(d, &sums_len, &scatter_len);
    if (status != VICREG_OK)
        return status;
    if (vicreg_layout_cut(NULL, NULL, n, d, d, elem) == 0)
        return VICREG_ERR_SIZE_OVERFLOW;

    /* Inputs first, then the arrays the call writes: a written array must
     * not overlap anything, and no statistics array may overlap a batch. */
    struct vicreg_span in[2] = { vicreg_span_of(za, n, d, lda, elem),
                                 vicreg_span_of(zb, n, d, ldb, elem) };
    struct vicreg_span out[4] = {
        vicreg_span_of(bf->sums, 1, sums_len, sums_len, sizeof(double)),
        vicreg_span_of(needs_scatter ? bf->scatter : NULL, 1, scatter_len, scatter_len,
                       sizeof(double)),
        vicreg_span_of(bf->grad_a, n, d, bf->ldga, elem),
        vicreg_span_of(bf->grad_b, n, d, bf->ldgb, elem),
    };
    const int written[4] = { bf->writes_sums, bf->writes_scatter, 1, 1 };
    for (int k = 0; k < 4; k++) {
        if (vicreg_overlaps(out[k], in[0]) || vicreg_overlaps(out[k], in[1]))
            return VICREG_ERR_OVERLAP;
        for (int l = 0; l < 4; l++)
            if (l != k && (written[k] || written[l]) && vicreg_overlaps(out[k], out[l]))
                return VICREG_ERR_OVERLAP;
    }
    return VICREG_OK;
}

static int all_finite(size_t count, const double *x)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* The sums passed in: finite (NON_FINITE), a whole row count that a double
 * holds exactly (BAD_SHAPE), and when they are the global sums of a batch
 * that contains this shard's n rows, at least 2 and at least n rows
 * (BAD_SHAPE). A negative invariance sum no batch can have
 * (INVALID_ARGUMENT). */
static int check_sums(const double *sums, size_t d, int global, size_t n)
{
    if (!all_finite(2 + 2 * d, sums))
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
static int check_scatter(const double *scatter, size_t d)
{
    const size_t half = d * (d + 1) / 2;
    if (!all_finite(2 * half, scatter))
        return VICREG_ERR_NON_FINITE;
    for (int b = 0; b < 2; b++) {
        const double *diag = scatter + (size_t)b * half;
        for (size_t j = 0; j < d; j++) {
            if (*diag < 0.0)
                return VICREG_ERR_INVALID_ARGUMENT;
            diag += d - j;
        }
    }
    return VICREG_OK;
}

int vicreg_check_sums_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                           const void *za, size_t lda, const void *zb, size_t ldb,
                           const double *sums)
{
    const struct shard_bufs bf = { sums, NULL, NULL, NULL, 0, 0, 1, 0 };
    int status = check_shard(ctx, n, d, elem, za, lda, zb, ldb, &bf, 0);
    return status == VICREG_OK ? check_sums(sums, d, 0, n) : status;
}

int vicreg_check_global_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                             const void *za, size_t lda, const void *zb, size_t ldb,
                             const double *sums, const double *scatter, int writes_scatter,
                             const void *grad_a, size_t ldga, const void *grad_b,
                             size_t ldgb)
{
    const struct shard_bufs bf = { sums, scatter, grad_a, grad_b, ldga, ldgb, 0,
                                   writes_scatter };
    int status = check_shard(ctx, n, d, elem, za, lda, zb, ldb, &bf, 1);
    if (status == VICREG_OK)
        status = check_sums(sums, d, 1, n);
    return status == VICREG_OK ? check_scatter(scatter, d) : status;
}
