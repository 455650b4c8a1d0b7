/*
 * mpitest.c - the helpers of mpitest.h: batches, shard layouts, buffers
 * with sentinels, and precision-generic calls.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpitest.h"

int mt_rank, mt_nprocs;
long mt_failures;

double mt_uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-52 - 1.0;
}

void mt_make_batch(uint64_t seed, size_t n, size_t d, double *za, double *zb)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double scale = 0.2 + 1.8 * (double)((j * 37u) % 11u) / 10.0;
            double v = mt_uniform(&s) * scale * 1.7;
            if (j > 0)
                v += 0.6 * za[i * d + j - 1];
            za[i * d + j] = (float)v;
        }
    for (size_t i = 0; i < n * d; i++)
        zb[i] = (float)(za[i] + 0.4 * mt_uniform(&s));
}

size_t mt_row0(const struct mt_layout *l, int rank)
{
    size_t r = 0;
    for (int p = 0; p < rank; p++)
        r += l->counts[p];
    return r;
}

/* Splits `rows` as evenly as possible over counts[first .. first+k). */
static void spread(size_t *counts, int first, int k, size_t rows)
{
    for (int p = 0; p < k; p++)
        counts[first + p] = rows / (size_t)k + ((size_t)p < rows % (size_t)k ? 1 : 0);
}

/* The next layout of out[], empty and named, or NULL when out[] is full
 * (its counts then go to a scratch layout that is dropped). */
static size_t *next_layout(struct mt_layout *out, int *count, int max, int nprocs,
                           const char *name, struct mt_layout *dropped)
{
    struct mt_layout *l = *count < max ? &out[(*count)++] : dropped;
    memset(l, 0, sizeof *l);
    l->nprocs = nprocs;
    l->name = name;
    return l->counts;
}

int mt_layouts(size_t n, int nprocs, struct mt_layout *out, int max)
{
    int count = 0;
    struct mt_layout dropped;
    size_t *c = next_layout(out, &count, max, nprocs, "equal", &dropped);
    spread(c, 0, nprocs, n);
    if (nprocs == 1)
        return count;

    /* Unequal: process p gets about (p + 1) parts, the last the rest. */
    c = next_layout(out, &count, max, nprocs, "unequal", &dropped);
    size_t parts = (size_t)nprocs * (size_t)(nprocs + 1) / 2, used = 0;
    for (int p = 0; p < nprocs - 1; p++) {
        c[p] = n * (size_t)(p + 1) / parts;
        used += c[p];
    }
    c[nprocs - 1] = n - used;

    c = next_layout(out, &count, max, nprocs, "one row first", &dropped);
    c[0] = 1;
    spread(c, 1, nprocs - 1, n - 1);

    c = next_layout(out, &count, max, nprocs, "empty last", &dropped);
    spread(c, 0, nprocs - 1, n);

    if (nprocs >= 3) {
        /* An empty shard first, a 1-row shard, the rest. */
        c = next_layout(out, &count, max, nprocs, "empty, one row, rest", &dropped);
        c[1] = 1;
        spread(c, 2, nprocs - 2, n - 1);
        /* Everything on one process in the middle. */
        c = next_layout(out, &count, max, nprocs, "all on process 1", &dropped);
        c[1] = n;
    }
    return count;
}

static size_t elem_of(int precision)
{
    return precision == VICREG_PRECISION_F32 ? sizeof(float) : sizeof(double);
}

static void put(void *buf, size_t k, double v, int precision)
{
    if (precision == VICREG_PRECISION_F32)
        ((float *)buf)[k] = (float)v;
    else
        ((double *)buf)[k] = v;
}

double mt_at(const void *buf, size_t i, size_t j, size_t ld, int precision)
{
    if (precision == VICREG_PRECISION_F32)
        return ((const float *)buf)[i * ld + j];
    return ((const double *)buf)[i * ld + j];
}

void *mt_sentinel_buffer(size_t rows, size_t ld, int precision)
{
    size_t count = rows * ld > 0 ? rows * ld : 1;
    void *buf = malloc(count * elem_of(precision));
    if (!buf) {
        fprintf(stderr, "out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (size_t k = 0; k < count; k++)
        put(buf, k, MT_SENTINEL, precision);
    return buf;
}

void *mt_shard(const double *z, size_t d, size_t row0, size_t rows, size_t ld, int precision)
{
    void *buf = mt_sentinel_buffer(rows, ld, precision);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < d; j++)
            put(buf, i * ld + j, z[(row0 + i) * d + j], precision);
    return buf;
}

int mt_padding_intact(const void *buf, size_t rows, size_t d, size_t ld, int precision)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = d; j < ld; j++)
            if (mt_at(buf, i, j, ld, precision) != MT_SENTINEL)
                return 0;
    return 1;
}

int mt_all_sentinel(const void *buf, size_t count, int precision)
{
    for (size_t k = 0; k < count; k++)
        if (mt_at(buf, 0, k, 0, precision) != MT_SENTINEL)
            return 0;
    return 1;
}

double mt_rel(double x, double y)
{
    return fabs(x - y) / fmax(fabs(y), DBL_MIN);
}

int mt_mpi_loss(int precision, vicreg_ctx *ctx, MPI_Comm comm, size_t n, size_t d,
                const void *za, size_t lda, const void *zb, size_t ldb, double *loss,
                void *grad_a, size_t ldga, void *grad_b, size_t ldgb)
{
    if (precision == VICREG_PRECISION_F32)
        return vicreg_mpi_loss_f32(ctx, comm, n, d, za, lda, zb, ldb, loss, grad_a, ldga,
                                   grad_b, ldgb);
    return vicreg_mpi_loss_f64(ctx, comm, n, d, za, lda, zb, ldb, loss, grad_a, ldga,
                               grad_b, ldgb);
}

int mt_mpi_ctx_loss(int precision, vicreg_mpi_ctx *h, size_t n, size_t d,
                    const void *za, size_t lda, const void *zb, size_t ldb, double *loss,
                    void *grad_a, size_t ldga, void *grad_b, size_t ldgb)
{
    if (precision == VICREG_PRECISION_F32)
        return vicreg_mpi_ctx_loss_f32(h, n, d, za, lda, zb, ldb, loss, grad_a, ldga, grad_b,
                                       ldgb);
    return vicreg_mpi_ctx_loss_f64(h, n, d, za, lda, zb, ldb, loss, grad_a, ldga, grad_b, ldgb);
}

int mt_loss(int precision, vicreg_ctx *ctx, size_t n, size_t d,
            const void *za, size_t lda, const void *zb, size_t ldb, double *loss,
            void *grad_a, size_t ldga, void *grad_b, size_t ldgb)
{
    if (precision == VICREG_PRECISION_F32)
        return vicreg_loss_f32(ctx, n, d, za, lda, zb, ldb, loss, grad_a, ldga, grad_b, ldgb);
    return vicreg_loss_f64(ctx, n, d, za, lda, zb, ldb, loss, grad_a, ldga, grad_b, ldgb);
}

/* Typed copies of untyped view and gradient pointer arrays (NULL stays
 * NULL; views out of range copies nothing, the callee refuses it). */
struct typed_views {
    const float *zf[VICREG_MAX_VIEWS];
    const double *zd[VICREG_MAX_VIEWS];
    float *gf[VICREG_MAX_VIEWS];
    double *gd[VICREG_MAX_VIEWS];
};

static void typed(size_t views, const void *const *z, void *const *grad, struct typed_views *t)
{
    memset(t, 0, sizeof *t);
    if (views > VICREG_MAX_VIEWS)
        return;
    for (size_t v = 0; v < views; v++) {
        if (z) {
            t->zf[v] = z[v];
            t->zd[v] = z[v];
        }
        if (grad) {
            t->gf[v] = grad[v];
            t->gd[v] = grad[v];
        }
    }
}

int mt_mpi_views_loss(int precision, vicreg_ctx *ctx, MPI_Comm comm, size_t views, size_t n,
                      size_t d, const void *const *z, const size_t *ldz, double *loss,
                      void *const *grad, const size_t *ldgrad)
{
    struct typed_views t;
    typed(views, z, grad, &t);
    if (precision == VICREG_PRECISION_F32)
        return vicreg_mpi_views_loss_f32(ctx, comm, views, n, d, z ? t.zf : NULL, ldz, loss,
                                         grad ? t.gf : NULL, ldgrad);
    return vicreg_mpi_views_loss_f64(ctx, comm, views, n, d, z ? t.zd : NULL, ldz, loss,
                                     grad ? t.gd : NULL, ldgrad);
}

int mt_mpi_ctx_views_loss(int precision, vicreg_mpi_ctx *h, size_t views, size_t n, size_t d,
                          const void *const *z, const size_t *ldz, double *loss,
                          void *const *grad, const size_t *ldgrad)
{
    struct typed_views t;
    typed(views, z, grad, &t);
    if (precision == VICREG_PRECISION_F32)
        return vicreg_mpi_ctx_views_loss_f32(h, views, n, d, z ? t.zf : NULL, ldz, loss,
                                             grad ? t.gf : NULL, ldgrad);
    return vicreg_mpi_ctx_views_loss_f64(h, views, n, d, z ? t.zd : NULL, ldz, loss,
                                         grad ? t.gd : NULL, ldgrad);
}

int mt_views_loss(int precision, vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                  const void *const *z, const size_t *ldz, double *loss, void *const *grad,
                  const size_t *ldgrad)
{
    struct typed_views t;
    typed(views, z, grad, &t);
    if (precision == VICREG_PRECISION_F32)
        return vicreg_views_loss_f32(ctx, views, n, d, z ? t.zf : NULL, ldz, loss,
                                     grad ? t.gf : NULL, ldgrad);
    return vicreg_views_loss_f64(ctx, views, n, d, z ? t.zd : NULL, ldz, loss,
                                 grad ? t.gd : NULL, ldgrad);
}
