/*
 * api.c - the public compute entry points and their argument checks.
 *
 * Every check happens here, before the computation touches anything, so
 * that an error leaves the caller's buffers as they were.
 */
#include <limits.h>
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
    if (p) {
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

static int check_call(const vicreg_ctx *ctx, size_t n, size_t d, size_t elem,
                      const void *za, size_t lda, const void *zb, size_t ldb,
                      const void *grad_a, size_t ldga, const void *grad_b, size_t ldgb)
{
    if (!ctx || !za || !zb)
        return VICREG_ERR_INVALID_ARGUMENT;
    int status = check_shape(n, d);
    if (status == VICREG_OK)
        status = check_ld(n, d, lda, elem);
    if (status == VICREG_OK)
        status = check_ld(n, d, ldb, elem);
    if (status == VICREG_OK && grad_a)
        status = check_ld(n, d, ldga, elem);
    if (status == VICREG_OK && grad_b)
        status = check_ld(n, d, ldgb, elem);
    if (status != VICREG_OK)
        return status;
    int path = vicreg_path_for(ctx->params.path, n, d);
    if (vicreg_layout_build(NULL, NULL, path, n, d, elem) == 0)
        return VICREG_ERR_SIZE_OVERFLOW;
    struct span a = span_of(za, n, d, lda, elem), b = span_of(zb, n, d, ldb, elem);
    struct span ga = span_of(grad_a, n, d, ldga, elem), gb = span_of(grad_b, n, d, ldgb, elem);
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
    int status = check_call(ctx, n, d, sizeof(float), za, lda, zb, ldb,
                            grad_a, ldga, grad_b, ldgb);
    if (status != VICREG_OK)
        return status;
    return vicreg_loss_run_f32(ctx, n, d, za, lda, zb, ldb, loss, grad_a, ldga, grad_b, ldgb);
}

VICREG_API int vicreg_loss_f64(vicreg_ctx *ctx, size_t n, size_t d,
                               const double *za, size_t lda, const double *zb, size_t ldb,
                               double *loss, double *grad_a, size_t ldga,
                               double *grad_b, size_t ldgb)
{
    int status = check_call(ctx, n, d, sizeof(double), za, lda, zb, ldb,
                            grad_a, ldga, grad_b, ldgb);
    if (status != VICREG_OK)
        return status;
    return vicreg_loss_run_f64(ctx, n, d, za, lda, zb, ldb, loss, grad_a, ldga, grad_b, ldgb);
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
