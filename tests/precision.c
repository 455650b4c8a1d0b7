/*
 * precision.c - see precision.h.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "precision.h"
#include "testutil.h"

const char *prec_name(int prec)
{
    return prec == F64 ? "f64" : "f32";
}

size_t elem_of(int prec)
{
    return prec == F64 ? sizeof(double) : sizeof(float);
}

int precision_key(int prec)
{
    return prec == F64 ? VICREG_PRECISION_F64 : VICREG_PRECISION_F32;
}

double elem_get(int prec, const void *buf, size_t i)
{
    return prec == F64 ? ((const double *)buf)[i] : (double)((const float *)buf)[i];
}

void elem_put(int prec, void *buf, size_t i, double v)
{
    if (prec == F64)
        ((double *)buf)[i] = v;
    else
        ((float *)buf)[i] = (float)v;
}

int prec_loss(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
              const void *zb, size_t ldb, double *loss, void *ga, size_t ldga, void *gb,
              size_t ldgb)
{
    if (prec == F64)
        return vicreg_loss_f64(c, n, d, za, lda, zb, ldb, loss, ga, ldga, gb, ldgb);
    return vicreg_loss_f32(c, n, d, za, lda, zb, ldb, loss, ga, ldga, gb, ldgb);
}

int prec_loss_rows(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                   const void *zb, size_t ldb, size_t row0, size_t rows, double *loss, void *ga,
                   size_t ldga, void *gb, size_t ldgb)
{
    if (prec == F64)
        return vicreg_loss_rows_f64(c, n, d, za, lda, zb, ldb, row0, rows, loss, ga, ldga, gb,
                                    ldgb);
    return vicreg_loss_rows_f32(c, n, d, za, lda, zb, ldb, row0, rows, loss, ga, ldga, gb, ldgb);
}

int prec_shard_sums(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                    const void *zb, size_t ldb, double *sums)
{
    if (prec == F64)
        return vicreg_shard_sums_f64(c, n, d, za, lda, zb, ldb, sums);
    return vicreg_shard_sums_f32(c, n, d, za, lda, zb, ldb, sums);
}

int prec_shard_scatter(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                       const void *zb, size_t ldb, const double *sums, double *scatter)
{
    if (prec == F64)
        return vicreg_shard_scatter_f64(c, n, d, za, lda, zb, ldb, sums, scatter);
    return vicreg_shard_scatter_f32(c, n, d, za, lda, zb, ldb, sums, scatter);
}

int prec_shard_finish(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                      const void *zb, size_t ldb, const double *sums, const double *scatter,
                      double *loss, void *ga, size_t ldga, void *gb, size_t ldgb)
{
    if (prec == F64)
        return vicreg_shard_finish_f64(c, n, d, za, lda, zb, ldb, sums, scatter, loss, ga, ldga,
                                       gb, ldgb);
    return vicreg_shard_finish_f32(c, n, d, za, lda, zb, ldb, sums, scatter, loss, ga, ldga, gb,
                                   ldgb);
}

void pair_make(struct pair *p, int prec, uint64_t seed, size_t n, size_t d, size_t ld)
{
    double *a = calloc(n * ld, sizeof(double)), *b = calloc(n * ld, sizeof(double));
    ck_assert(a && b);
    tu_make_batches(seed, n, d, ld, a, b);
    p->za = prec_copy_of(prec, a, n * ld);
    p->zb = prec_copy_of(prec, b, n * ld);
    free(a);
    free(b);
}

void pair_free(struct pair *p)
{
    free(p->za);
    free(p->zb);
}

void *prec_copy_of(int prec, const double *src, size_t count)
{
    void *p = malloc(count * elem_of(prec));
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < count; i++)
        elem_put(prec, p, i, src[i]);
    return p;
}

void *sentinel_buffer(int prec, size_t count)
{
    void *p = malloc(count * elem_of(prec));
    ck_assert_ptr_nonnull(p);
    memset(p, SENTINEL_BYTE, count * elem_of(prec));
    return p;
}
