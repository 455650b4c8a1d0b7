/*
 * api.c - the public compute entry points and their argument checks.
 *
 * Every check happens here, before the computation touches anything, so
 * that an error leaves the caller's buffers as they were.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "context.h"
#include "layout.h"

/* One batch or gradient array: where it starts and how far it reaches. */
struct span {
    uintptr_t begin, end; /* [begin, end) in bytes; begin == end: absent */
};

static struct span span_of(const void *p, size_t n, size_t d, size_t ld, size_t elem)
{
    struct span s = { 0, 0 };
    if (p && n > 0) {
        s.begin = (uintptr_t)p;
        s.end = s.begin + ((n - 1) * ld + d) * elem;
    }
    return s;
}

static int overlaps(struct span a, struct span b)
{
    return a.begin != a.end && b.begin != b.end && a.begin < b.end && b.begin < a.end;
}

/* The shape checks shared by the loss calls and the scratch queries. */
static int check_shape(size_t n, size_t d)
{
    if (n < 2 || d == 0)
        return VICREG_ERR_BAD_SHAPE;
    /* BLAS indexes with int: every dimension and leading dimension it sees
     * (n, d, and the n x n or d x d scratch) must fit. */
    if (n > INT_MAX || d > INT_MAX)
        return VICREG_ERR_SIZE_OVERFLOW;
    return VICREG_OK;
}

/* A leading dimension of an array the caller passes: >= d, and the array's
 * extent fits in size_t bytes and BLAS's int. */
static int check_ld(size_t n, size_t d, size_t ld, size_t elem)
{
    if (ld < d)
        return VICREG_ERR_BAD_SHAPE;
    if (ld > INT_MAX || n - 1 > (SIZE_MAX - d) / ld)
        return VICREG_ERR_SIZE_OVERFLOW;
    size_t count = (n - 1) * ld + d;
    if (count > SIZE_MAX / elem || count * elem > UINTPTR_MAX)
        return VICREG_ERR_SIZE_OVERFLOW;
    return VICREG_OK;
}

/* The leading dimensions of the gradient buffers, which hold `rows` rows. */
static int check_grad_ld(size_t rows, size_t d, size_t elem, const void *grad_a, size_t ldga,
                         const void *grad_b, size_t ldgb)
{
    int status = VICREG_OK;
    if (rows && grad_a)
        status = check_ld(rows, d, ldga, elem);
    if (status == VICREG_OK && rows && grad_b)
        status = check_ld(rows, d, ldgb, elem);
    return status;
}

/* A loss call on the whole batch whose gradient buffers hold rows rows
 * (n for vicreg_loss_*, the range's length for vicreg_loss_rows_*). */
static int check_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                      const void *za, size_t lda, const void *zb, size_t ldb, size_t rows,
                      const void *grad_a, size_t ldga, const void *grad_b, size_t ldgb)
{
    if (!ctx || !za || !zb)
        return VICREG_ERR_INVALID_ARGUMENT;
    int status = check_shape(n, d);
    if (status == VICREG_OK)
        status = check_ld(n, d, lda, elem);
    if (status == VICREG_OK)
        status = check_ld(n, d, ldb, elem);
    if (status == VICREG_OK)
        status = check_grad_ld(rows, d, elem, grad_a, ldga, grad_b, ldgb);
    if (status != VICREG_OK)
        return status;
    int path = vicreg_path_for(ctx->params.path, n, d);
    if (vicreg_layout_build(NULL, NULL, path, n, d, elem) == 0)
        return VICREG_ERR_SIZE_OVERFLOW;
    struct span a = span_of(za, n, d, lda, elem), b = span_of(zb, n, d, ldb, elem);
    struct span ga = span_of(grad_a, rows, d, ldga, elem);
    struct span gb = span_of(grad_b, rows, d, ldgb, elem);
    if (overlaps(ga, a) || overlaps(ga, b) || overlaps(gb, a) || overlaps(gb, b) ||
        overlaps(ga, gb))
        return VICREG_ERR_OVERLAP;
    return VICREG_OK;
}

VICREG_API int vicreg_loss_f32(vicreg_ctx *ctx, size_t n, size_t d,
                               const float *za, size_t lda, const float *zb, size_t ldb,
                               double *loss, float *grad_a, size_t ldga,
                               float *grad_b, size_t ldgb)
{
    int status = check_call(ctx, n, d, sizeof(float), za, lda, zb, ldb, n,
                            grad_a, ldga, grad_b, ldgb);
    if (status != VICREG_OK)
        return status;
    return vicreg_loss_run_f32(ctx, n, d, za, lda, zb, ldb, 0, n, loss, grad_a, ldga, grad_b,
                               ldgb);
}

VICREG_API int vicreg_loss_f64(vicreg_ctx *ctx, size_t n, size_t d,
                               const double *za, size_t lda, const double *zb, size_t ldb,
                               double *loss, double *grad_a, size_t ldga,
                               double *grad_b, size_t ldgb)
{
    int status = check_call(ctx, n, d, sizeof(double), za, lda, zb, ldb, n,
                            grad_a, ldga, grad_b, ldgb);
    if (status != VICREG_OK)
        return status;
    return vicreg_loss_run_f64(ctx, n, d, za, lda, zb, ldb, 0, n, loss, grad_a, ldga, grad_b,
                               ldgb);
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
    int status = check_shape(n, d);
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
 * Rows of the gradient, and the sharded computation (since 1.1.0)
 * ---------------------------------------------------------------------- */

/* row0 .. row0 + rows - 1 lies within the n rows. */
static int check_rows(size_t n, size_t row0, size_t rows)
{
    if (row0 > n || rows > n - row0)
        return VICREG_ERR_BAD_SHAPE;
    return VICREG_OK;
}

VICREG_API int vicreg_loss_rows_f32(vicreg_ctx *ctx, size_t n, size_t d,
                                    const float *za, size_t lda, const float *zb, size_t ldb,
                                    size_t row0, size_t rows, double *loss,
                                    float *grad_a, size_t ldga, float *grad_b, size_t ldgb)
{
    int status = check_call(ctx, n, d, sizeof(float), za, lda, zb, ldb, 0, NULL, 0, NULL, 0);
    if (status == VICREG_OK)
        status = check_rows(n, row0, rows);
    if (status == VICREG_OK)
        status = check_call(ctx, n, d, sizeof(float), za, lda, zb, ldb, rows,
                            grad_a, ldga, grad_b, ldgb);
    if (status != VICREG_OK)
        return status;
    return vicreg_loss_run_f32(ctx, n, d, za, lda, zb, ldb, row0, rows, loss, grad_a, ldga,
                               grad_b, ldgb);
}

VICREG_API int vicreg_loss_rows_f64(vicreg_ctx *ctx, size_t n, size_t d,
                                    const double *za, size_t lda, const double *zb, size_t ldb,
                                    size_t row0, size_t rows, double *loss,
                                    double *grad_a, size_t ldga, double *grad_b, size_t ldgb)
{
    int status = check_call(ctx, n, d, sizeof(double), za, lda, zb, ldb, 0, NULL, 0, NULL, 0);
    if (status == VICREG_OK)
        status = check_rows(n, row0, rows);
    if (status == VICREG_OK)
        status = check_call(ctx, n, d, sizeof(double), za, lda, zb, ldb, rows,
                            grad_a, ldga, grad_b, ldgb);
    if (status != VICREG_OK)
        return status;
    return vicreg_loss_run_f64(ctx, n, d, za, lda, zb, ldb, row0, rows, loss, grad_a, ldga,
                               grad_b, ldgb);
}

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
        status = check_ld(n, d, lda, elem);
        if (status == VICREG_OK)
            status = check_ld(n, d, ldb, elem);
        if (status == VICREG_OK)
            status = check_grad_ld(n, d, elem, bf->grad_a, bf->ldga, bf->grad_b, bf->ldgb);
    }
    size_t sums_len, scatter_len;
    if (status == VICREG_OK)
        status = vicreg_shard_sizes(d, &sums_len, &scatter_len);
    if (status != VICREG_OK)
        return status;
    if (vicreg_shard_scratch(0, n, d, elem) == 0)
        return VICREG_ERR_SIZE_OVERFLOW;

    /* Inputs first, then the arrays the call writes: a written array must
     * not overlap anything, and no statistics array may overlap a batch. */
    struct span in[2] = { span_of(za, n, d, lda, elem), span_of(zb, n, d, ldb, elem) };
    struct span out[4] = {
        span_of(bf->sums, 1, sums_len, sums_len, sizeof(double)),
        span_of(needs_scatter ? bf->scatter : NULL, 1, scatter_len, scatter_len, sizeof(double)),
        span_of(bf->grad_a, n, d, bf->ldga, elem),
        span_of(bf->grad_b, n, d, bf->ldgb, elem),
    };
    const int written[4] = { bf->writes_sums, bf->writes_scatter, 1, 1 };
    for (int k = 0; k < 4; k++) {
        if (overlaps(out[k], in[0]) || overlaps(out[k], in[1]))
            return VICREG_ERR_OVERLAP;
        for (int l = 0; l < 4; l++)
            if (l != k && (written[k] || written[l]) && overlaps(out[k], out[l]))
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

static int check_sums_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                           const void *za, size_t lda, const void *zb, size_t ldb,
                           const double *sums)
{
    const struct shard_bufs bf = { sums, NULL, NULL, NULL, 0, 0, 1, 0 };
    int status = check_shard(ctx, n, d, elem, za, lda, zb, ldb, &bf, 0);
    return status == VICREG_OK ? check_sums(sums, d, 0, n) : status;
}

static int check_scatter_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                              const void *za, size_t lda, const void *zb, size_t ldb,
                              const double *sums, const double *scatter)
{
    const struct shard_bufs bf = { sums, scatter, NULL, NULL, 0, 0, 0, 1 };
    int status = check_shard(ctx, n, d, elem, za, lda, zb, ldb, &bf, 1);
    if (status == VICREG_OK)
        status = check_sums(sums, d, 1, n);
    return status == VICREG_OK ? check_scatter(scatter, d) : status;
}

static int check_finish_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                             const void *za, size_t lda, const void *zb, size_t ldb,
                             const double *sums, const double *scatter,
                             const void *grad_a, size_t ldga, const void *grad_b, size_t ldgb)
{
    const struct shard_bufs bf = { sums, scatter, grad_a, grad_b, ldga, ldgb, 0, 0 };
    int status = check_shard(ctx, n, d, elem, za, lda, zb, ldb, &bf, 1);
    if (status == VICREG_OK)
        status = check_sums(sums, d, 1, n);
    return status == VICREG_OK ? check_scatter(scatter, d) : status;
}

VICREG_API int vicreg_shard_sums_f32(vicreg_ctx *ctx, size_t n, size_t d,
                                     const float *za, size_t lda, const float *zb, size_t ldb,
                                     double *sums)
{
    int status = check_sums_call(ctx, n, d, sizeof(float), za, lda, zb, ldb, sums);
    if (status != VICREG_OK)
        return status;
    return vicreg_shard_sums_run_f32(ctx, n, d, za, lda, zb, ldb, sums);
}

VICREG_API int vicreg_shard_sums_f64(vicreg_ctx *ctx, size_t n, size_t d,
                                     const double *za, size_t lda, const double *zb, size_t ldb,
                                     double *sums)
{
    int status = check_sums_call(ctx, n, d, sizeof(double), za, lda, zb, ldb, sums);
    if (status != VICREG_OK)
        return status;
    return vicreg_shard_sums_run_f64(ctx, n, d, za, lda, zb, ldb, sums);
}

VICREG_API int vicreg_shard_scatter_f32(vicreg_ctx *ctx, size_t n, size_t d,
                                        const float *za, size_t lda,
                                        const float *zb, size_t ldb,
                                        const double *sums, double *scatter)
{
    int status = check_scatter_call(ctx, n, d, sizeof(float), za, lda, zb, ldb, sums, scatter);
    if (status != VICREG_OK)
        return status;
    return vicreg_shard_scatter_run_f32(ctx, n, d, za, lda, zb, ldb, sums, scatter);
}

VICREG_API int vicreg_shard_scatter_f64(vicreg_ctx *ctx, size_t n, size_t d,
                                        const double *za, size_t lda,
                                        const double *zb, size_t ldb,
                                        const double *sums, double *scatter)
{
    int status = check_scatter_call(ctx, n, d, sizeof(double), za, lda, zb, ldb, sums, scatter);
    if (status != VICREG_OK)
        return status;
    return vicreg_shard_scatter_run_f64(ctx, n, d, za, lda, zb, ldb, sums, scatter);
}

VICREG_API int vicreg_shard_finish_f32(vicreg_ctx *ctx, size_t n, size_t d,
                                       const float *za, size_t lda,
                                       const float *zb, size_t ldb,
                                       const double *sums, const double *scatter,
                                       double *loss, float *grad_a, size_t ldga,
                                       float *grad_b, size_t ldgb)
{
    int status = check_finish_call(ctx, n, d, sizeof(float), za, lda, zb, ldb, sums, scatter,
                                   grad_a, ldga, grad_b, ldgb);
    if (status != VICREG_OK)
        return status;
    return vicreg_shard_finish_run_f32(ctx, n, d, za, lda, zb, ldb, sums, scatter, loss,
                                       grad_a, ldga, grad_b, ldgb);
}

VICREG_API int vicreg_shard_finish_f64(vicreg_ctx *ctx, size_t n, size_t d,
                                       const double *za, size_t lda,
                                       const double *zb, size_t ldb,
                                       const double *sums, const double *scatter,
                                       double *loss, double *grad_a, size_t ldga,
                                       double *grad_b, size_t ldgb)
{
    int status = check_finish_call(ctx, n, d, sizeof(double), za, lda, zb, ldb, sums, scatter,
                                   grad_a, ldga, grad_b, ldgb);
    if (status != VICREG_OK)
        return status;
    return vicreg_shard_finish_run_f64(ctx, n, d, za, lda, zb, ldb, sums, scatter, loss,
                                       grad_a, ldga, grad_b, ldgb);
}
