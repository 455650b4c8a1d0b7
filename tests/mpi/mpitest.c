/*
 * mpitest.c - the helpers of mpitest.h: batches, shard layouts, buffers
 * with sentinels, and precision-generic calls.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../views_typed.h"
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

size_t mt_elem_size(int precision)
{
    return precision == VICREG_PRECISION_F32 ? sizeof(float) : sizeof(double);
}

void mt_put(void *buf, size_t k, double v, int precision)
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
    void *buf = malloc(count * mt_elem_size(precision));
    if (!buf) {
        fprintf(stderr, "out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (size_t k = 0; k < count; k++)
        mt_put(buf, k, MT_SENTINEL, precision);
    return buf;
}

void *mt_shard(const double *z, size_t d, size_t row0, size_t rows, size_t ld, int precision)
{
    void *buf = mt_sentinel_buffer(rows, ld, precision);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < d; j++)
            mt_put(buf, i * ld + j, z[(row0 + i) * d + j], precision);
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

const char *mt_strategy_name(int strategy)
{
    return strategy == VICREG_MPI_STRATEGY_REDUCE   ? "reduce"
           : strategy == VICREG_MPI_STRATEGY_GATHER ? "gather"
                                                    : "auto";
}

const char *mt_precision_name(int precision)
{
    return precision == VICREG_PRECISION_F32 ? "f32" : "f64";
}

int mt_other_precision(int precision)
{
    return precision == VICREG_PRECISION_F64 ? VICREG_PRECISION_F32 : VICREG_PRECISION_F64;
}

void mt_free_all(void *const *p, size_t count)
{
    for (size_t k = 0; k < count; k++)
        free(p[k]);
}

void mt_set_params(vicreg_ctx *ctx, int convention, int key, double value)
{
    int ok = vicreg_ctx_set_param(ctx, VICREG_PARAM_CONVENTION, convention) == VICREG_OK
             && vicreg_ctx_set_param(ctx, VICREG_PARAM_VARIANCE_COEFF, 20.0) == VICREG_OK
             && vicreg_ctx_set_param(ctx, VICREG_PARAM_EPSILON, 1e-3) == VICREG_OK
             && vicreg_ctx_set_param(ctx, key, value) == VICREG_OK;
    MT_EXPECT(ok, "setting the parameters failed");
}

double *mt_gather_rows(const void *g, size_t rows, size_t d, size_t ld, int precision,
                       const struct mt_layout *l, MPI_Comm comm)
{
    int rank, nprocs;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nprocs);
    double *mine = malloc((rows * d > 0 ? rows * d : 1) * sizeof *mine);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < d; j++)
            mine[i * d + j] = mt_at(g, i, j, ld, precision);
    int counts[MT_MAX_PROCS], displs[MT_MAX_PROCS];
    size_t n = 0;
    for (int r = 0; r < nprocs; r++) {
        counts[r] = (int)(l->counts[r] * d);
        displs[r] = (int)(mt_row0(l, r) * d);
        n += l->counts[r];
    }
    double *all = rank == 0 ? malloc((n * d > 0 ? n * d : 1) * sizeof *all) : NULL;
    MPI_Gatherv(mine, counts[rank], MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, 0, comm);
    free(mine);
    return all;
}

double mt_rows_error(const double *rows, const void *want, size_t n, size_t d, int precision,
                     double scale)
{
    double err = 0.0, top = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            const double w = scale * mt_at(want, i, j, d, precision);
            err = fmax(err, fabs(rows[i * d + j] - w));
            top = fmax(top, fabs(w));
        }
    return err / top;
}

void mt_note_worst(double worst[2][2], int precision, int which, double err)
{
    const int p = precision == VICREG_PRECISION_F64;
    worst[p][which] = fmax(worst[p][which], err);
}

void mt_print_worst(const char *what, double worst[2][2])
{
    double all[2][2];
    MPI_Reduce(worst, all, 4, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (mt_rank == 0) {
        printf("%d processes%s: largest relative error against one process:\n", mt_nprocs, what);
        printf("  float64: loss and terms %.3g, gradient rows %.3g (limit %g)\n", all[1][0],
               all[1][1], MT_TOL_F64);
        printf("  float32: loss and terms %.3g, gradient rows %.3g (limit %g)\n", all[0][0],
               all[0][1], MT_TOL_F32);
    }
}

double mt_reduce_volume(size_t views, size_t d)
{
    const double v = (double)views, dd = (double)d;
    return 16.0 * (v * dd * (dd + 1.0) / 2.0 + v * dd + 2.0);
}

double mt_gather_volume(size_t views, size_t n, size_t d, int precision)
{
    return (double)n * (double)views * (double)d * (double)mt_elem_size(precision);
}

int mt_expected_strategy(int setting, size_t views, size_t n, size_t d, int precision)
{
    if (setting != VICREG_MPI_STRATEGY_AUTO)
        return setting;
    return mt_gather_volume(views, n, d, precision) < mt_reduce_volume(views, d)
               ? VICREG_MPI_STRATEGY_GATHER
               : VICREG_MPI_STRATEGY_REDUCE;
}

int mt_set_strategy(vicreg_ctx *ctx, vicreg_mpi_ctx *h, int strategy)
{
    return h ? vicreg_mpi_ctx_set_strategy(h, strategy) : vicreg_mpi_set_strategy(ctx, strategy);
}

int mt_get_info(vicreg_ctx *ctx, const vicreg_mpi_ctx *h, int key, double *value)
{
    return h ? vicreg_mpi_ctx_get_info(h, key, value) : vicreg_mpi_get_info(ctx, key, value);
}

vicreg_mpi_ctx *mt_strategy_on(vicreg_ctx *ctx, int via_handle, int strategy, const char *what)
{
    vicreg_mpi_ctx *h = NULL;
    if (via_handle)
        MT_EXPECT_STATUS(vicreg_mpi_ctx_create(ctx, MPI_COMM_WORLD, &h), VICREG_OK, what);
    MT_EXPECT_STATUS(mt_set_strategy(ctx, h, strategy), VICREG_OK, what);
    return h;
}

void mt_expect_report(vicreg_ctx *ctx, vicreg_mpi_ctx *h, int nprocs, size_t views, size_t n,
                      size_t d, int precision, int setting, const char *what)
{
    double info[VICREG_MPI_INFO_VIEWS + 1] = { 0 };
    for (int key = VICREG_MPI_INFO_STRATEGY; key <= VICREG_MPI_INFO_VIEWS; key++)
        MT_EXPECT_STATUS(mt_get_info(ctx, h, key, &info[key]), VICREG_OK, what);
    const int want_used = mt_expected_strategy(setting, views, n, d, precision);
    const double share = (double)(nprocs - 1) / nprocs;
    MT_EXPECT(info[VICREG_MPI_INFO_STRATEGY] == want_used, "%s: used %s, expected %s", what,
              mt_strategy_name((int)info[VICREG_MPI_INFO_STRATEGY]), mt_strategy_name(want_used));
    MT_EXPECT(info[VICREG_MPI_INFO_VIEWS] == (double)views
                  && info[VICREG_MPI_INFO_ROWS] == (double)n
                  && info[VICREG_MPI_INFO_PROCESSES] == nprocs,
              "%s: the report says V=%g N=%g P=%g", what, info[VICREG_MPI_INFO_VIEWS],
              info[VICREG_MPI_INFO_ROWS], info[VICREG_MPI_INFO_PROCESSES]);
    MT_EXPECT(mt_rel(info[VICREG_MPI_INFO_BYTES_REDUCE], share * mt_reduce_volume(views, d))
                      <= 1e-15
                  && mt_rel(info[VICREG_MPI_INFO_BYTES_GATHER],
                            share * mt_gather_volume(views, n, d, precision)) <= 1e-15,
              "%s: reported bytes %g (reduce) %g (gather)", what,
              info[VICREG_MPI_INFO_BYTES_REDUCE], info[VICREG_MPI_INFO_BYTES_GATHER]);
    MT_EXPECT(info[VICREG_MPI_INFO_BYTES] == (want_used == VICREG_MPI_STRATEGY_REDUCE
                                                  ? info[VICREG_MPI_INFO_BYTES_REDUCE]
                                                  : info[VICREG_MPI_INFO_BYTES_GATHER]),
              "%s: the reported bytes do not match the strategy", what);
}

struct mt_layout mt_fault_layout(size_t n, int one_row, int empty_last)
{
    struct mt_layout l;
    mt_layouts(n, mt_nprocs, &l, 1);
    if (one_row) {
        memset(l.counts, 0, sizeof l.counts);
        l.counts[0] = 1;
    }
    if (empty_last && mt_nprocs > 1) {
        l.counts[0] += l.counts[mt_nprocs - 1];
        l.counts[mt_nprocs - 1] = 0;
    }
    return l;
}

void mt_expect_same_loss(double loss, const char *what)
{
    double first = loss;
    MPI_Bcast(&first, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    MT_EXPECT(loss == first && isfinite(loss), "%s: after the error, loss %.17g here, %.17g on 0",
              what, loss, first);
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

/* The typed pointer arrays of a views call: none at all for a view count
 * the library refuses, so that nothing reads past the caller's arrays
 * (the callee refuses the call before it looks at them). */
static void typed(size_t views, const void *const *z, void *const *grad, struct views_typed *t)
{
    views_typed_fill(t, views <= VICREG_MAX_VIEWS ? views : 0, z, grad);
}

int mt_mpi_views_loss(int precision, vicreg_ctx *ctx, vicreg_mpi_ctx *h, size_t views, size_t n,
                      size_t d, const void *const *z, const size_t *ldz, double *loss,
                      void *const *grad, const size_t *ldgrad)
{
    struct views_typed t;
    typed(views, z, grad, &t);
    const float *const *zf = z ? t.zf : NULL;
    const double *const *zd = z ? t.zd : NULL;
    float *const *gf = grad ? t.gf : NULL;
    double *const *gd = grad ? t.gd : NULL;
    if (h)
        return precision == VICREG_PRECISION_F32
                   ? vicreg_mpi_ctx_views_loss_f32(h, views, n, d, zf, ldz, loss, gf, ldgrad)
                   : vicreg_mpi_ctx_views_loss_f64(h, views, n, d, zd, ldz, loss, gd, ldgrad);
    return precision == VICREG_PRECISION_F32
               ? vicreg_mpi_views_loss_f32(ctx, MPI_COMM_WORLD, views, n, d, zf, ldz, loss, gf,
                                           ldgrad)
               : vicreg_mpi_views_loss_f64(ctx, MPI_COMM_WORLD, views, n, d, zd, ldz, loss, gd,
                                           ldgrad);
}

int mt_views_loss(int precision, vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                  const void *const *z, const size_t *ldz, double *loss, void *const *grad,
                  const size_t *ldgrad)
{
    struct views_typed t;
    typed(views, z, grad, &t);
    if (precision == VICREG_PRECISION_F32)
        return vicreg_views_loss_f32(ctx, views, n, d, z ? t.zf : NULL, ldz, loss,
                                     grad ? t.gf : NULL, ldgrad);
    return vicreg_views_loss_f64(ctx, views, n, d, z ? t.zd : NULL, ldz, loss,
                                 grad ? t.gd : NULL, ldgrad);
}
