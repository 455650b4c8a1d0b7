/*
 * test-mpi.c - libvicreg-mpi against libvicreg on one process.
 *
 * For every shard layout of a few global batches, both conventions, both
 * precisions and every strategy: the loss, every term and the concatenated
 * gradient rows of vicreg_mpi_loss_* equal those of vicreg_loss_* on the
 * concatenated batch computed by rank 0 alone (float64 within 1e-12
 * relative, float32 within 1e-5), and, in float64, those of the tests'
 * independent reference. Then the gradient scale for a data-parallel
 * trainer, a sub-communicator, the report and the local functions; the
 * handle (vicreg_mpi_ctx) against the 1.0 calls, bit for bit, its own
 * state and its reused buffer; the version. The error cases are in
 * test-mpi-errors.c, the views calls (since 1.2) in test-mpi-views.c.
 *
 * Run: mpirun -np P test-mpi (P = 1 to 4; MT_MAX_PROCS at most).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../reference.h"
#include "mpitest.h"
/* The handle's fields, to watch its buffer (handle_reuse_test). */
#include "../../src/mpi/internal.h"

/* Terms compared (VICREG_TERM_PATH_USED is checked on its own). */
static const int terms[] = {
    VICREG_TERM_LOSS, VICREG_TERM_INVARIANCE, VICREG_TERM_VARIANCE_A,
    VICREG_TERM_VARIANCE_B, VICREG_TERM_COVARIANCE_A, VICREG_TERM_COVARIANCE_B,
    VICREG_TERM_MEAN_STD_A, VICREG_TERM_MEAN_STD_B, VICREG_TERM_MIN_STD_A,
    VICREG_TERM_MIN_STD_B, VICREG_TERM_COLLAPSED_FRACTION_A,
    VICREG_TERM_COLLAPSED_FRACTION_B, VICREG_TERM_EFFECTIVE_RANK_A,
    VICREG_TERM_EFFECTIVE_RANK_B,
};
#define N_TERMS ((int)(sizeof terms / sizeof terms[0]))
/* Per process: the returned loss, the terms, the path used. */
#define N_VALUES (N_TERMS + 2)

/* The largest relative errors seen (mt_note_worst). */
static double worst[2][2];

struct mt_case {
    const double *za, *zb; /* the global batch, n x d packed */
    size_t n, d;
    size_t pad;            /* extra columns of every leading dimension */
    const struct mt_layout *layout;
    int precision, convention, strategy;
    double scale;          /* VICREG_PARAM_GRAD_SCALE */
    MPI_Comm comm;
    int want_grads;        /* 0: loss and terms only (NULL gradients) */
};

/* The agreement tests' parameters with the gradient scale. */
static void set_params(vicreg_ctx *ctx, int convention, double scale)
{
    mt_set_params(ctx, convention, VICREG_PARAM_GRAD_SCALE, scale);
}

/* Rank 0 of the case's communicator: everyone's values and rows against
 * vicreg_loss_* of the whole batch (and the independent reference in
 * float64). */
static void compare_on_root(const struct mt_case *c, const double *values, int nprocs,
                            const double *rows_a, const double *rows_b, const char *what)
{
    size_t n = c->n, d = c->d;
    int p = c->precision;
    double tol = p == VICREG_PRECISION_F64 ? MT_TOL_F64 : MT_TOL_F32;
    vicreg_ctx *ref = NULL;
    if (vicreg_ctx_create(&ref) != VICREG_OK) {
        MT_EXPECT(0, "%s: vicreg_ctx_create failed", what);
        return;
    }
    set_params(ref, c->convention, 1.0);
    void *za = mt_shard(c->za, d, 0, n, d, p), *zb = mt_shard(c->zb, d, 0, n, d, p);
    void *ga = mt_sentinel_buffer(n, d, p), *gb = mt_sentinel_buffer(n, d, p);
    double loss = 0.0, want[N_TERMS], path = -1.0;
    int status = mt_loss(p, ref, n, d, za, d, zb, d, &loss, ga, d, gb, d);
    MT_EXPECT_STATUS(status, VICREG_OK, what);
    for (int t = 0; t < N_TERMS; t++)
        vicreg_ctx_get_term(ref, terms[t], &want[t]);
    vicreg_ctx_get_term(ref, VICREG_TERM_PATH_USED, &path);

    int used = mt_expected_strategy(c->strategy, 2, n, d, p);
    for (int r = 0; r < nprocs; r++) {
        const double *v = values + (size_t)r * N_VALUES;
        double err = mt_rel(v[0], loss);
        for (int t = 0; t < N_TERMS; t++)
            err = fmax(err, mt_rel(v[1 + t], want[t]));
        mt_note_worst(worst, p, 0, err);
        MT_EXPECT(err <= tol, "%s: process %d's loss or a term is %.3g off (relative)", what,
                  r, err);
        /* REDUCE always takes the covariance path; GATHER the batch's
         * own, as on one process. */
        double want_path = used == VICREG_MPI_STRATEGY_REDUCE ? VICREG_PATH_COVARIANCE : path;
        MT_EXPECT(v[N_TERMS + 1] == want_path, "%s: process %d took path %g, expected %g",
                  what, r, v[N_TERMS + 1], want_path);
    }

    if (c->want_grads) {
        /* Each gradient relative to its own largest entry. */
        const double err = fmax(mt_rows_error(rows_a, ga, n, d, p, c->scale),
                                mt_rows_error(rows_b, gb, n, d, p, c->scale));
        mt_note_worst(worst, p, 1, err);
        MT_EXPECT(err <= tol, "%s: the gradient rows are %.3g off (relative to the largest)",
                  what, err);
    }

    if (p == VICREG_PRECISION_F64) {
        /* The independent reference, loops over the formulas. */
        struct ref_params rp = ref_default_params();
        rp.mu = 20.0;
        rp.eps = 1e-3;
        rp.paper = c->convention == VICREG_CONVENTION_PAPER;
        struct ref_result rr;
        double *ra = malloc(n * d * sizeof *ra), *rb = malloc(n * d * sizeof *rb);
        ref_vicreg(&rp, n, d, c->za, c->zb, &rr, ra, rb);
        MT_EXPECT(mt_rel(values[0], rr.loss) <= 1e-10, "%s: loss %.17g, reference %.17g", what,
                  values[0], rr.loss);
        if (c->want_grads) {
            double err = 0.0, scale = 0.0;
            for (size_t k = 0; k < n * d; k++) {
                err = fmax(err, fmax(fabs(rows_a[k] - c->scale * ra[k]),
                                     fabs(rows_b[k] - c->scale * rb[k])));
                scale = fmax(scale, c->scale * fmax(fabs(ra[k]), fabs(rb[k])));
            }
            MT_EXPECT(err <= 1e-10 * scale, "%s: gradient off the reference by %.3g", what,
                      err / scale);
        }
        free(ra);
        free(rb);
    }
    free(za);
    free(zb);
    free(ga);
    free(gb);
    vicreg_ctx_destroy(ref);
}

/* One step on every process of c->comm, compared on its rank 0. */
static void run_case(const struct mt_case *c)
{
    int rank, nprocs;
    MPI_Comm_rank(c->comm, &rank);
    MPI_Comm_size(c->comm, &nprocs);
    char what[160];
    snprintf(what, sizeof what, "n=%zu d=%zu pad=%zu %s %s %s %s scale=%g P=%d%s", c->n, c->d,
             c->pad, c->layout->name, mt_precision_name(c->precision),
             c->convention == VICREG_CONVENTION_PAPER ? "paper" : "reference",
             mt_strategy_name(c->strategy), c->scale, nprocs, c->want_grads ? "" : " no-grads");

    size_t d = c->d, rows = c->layout->counts[rank], row0 = mt_row0(c->layout, rank);
    int p = c->precision;
    /* Different paddings per array and per process. */
    size_t lda = d + c->pad, ldb = d + 2 * c->pad, ldga = d + 3 * c->pad + (size_t)rank % 2,
           ldgb = d + c->pad + 1;
    void *za = mt_shard(c->za, d, row0, rows, lda, p), *zb = mt_shard(c->zb, d, row0, rows, ldb, p);
    void *ga = mt_sentinel_buffer(rows, ldga, p), *gb = mt_sentinel_buffer(rows, ldgb, p);

    vicreg_ctx *ctx = NULL;
    MT_EXPECT(vicreg_ctx_create(&ctx) == VICREG_OK, "%s: vicreg_ctx_create failed", what);
    set_params(ctx, c->convention, c->scale);
    MT_EXPECT_STATUS(vicreg_mpi_set_strategy(ctx, c->strategy), VICREG_OK, what);

    double values[N_VALUES] = { 0 };
    int status = mt_mpi_loss(p, ctx, c->comm, rows, d, za, lda, zb, ldb, &values[0],
                             c->want_grads ? ga : NULL, ldga, c->want_grads ? gb : NULL, ldgb);
    MT_EXPECT_STATUS(status, VICREG_OK, what);
    for (int t = 0; t < N_TERMS; t++)
        MT_EXPECT(vicreg_ctx_get_term(ctx, terms[t], &values[1 + t]) == VICREG_OK,
                  "%s: term %d missing", what, terms[t]);
    vicreg_ctx_get_term(ctx, VICREG_TERM_PATH_USED, &values[N_TERMS + 1]);
    MT_EXPECT(values[0] == values[1], "%s: returned loss %.17g, term %.17g", what, values[0],
              values[1]);
    MT_EXPECT(mt_padding_intact(ga, rows, d, ldga, p) && mt_padding_intact(gb, rows, d, ldgb, p),
              "%s: the gradient padding was written", what);
    if (!c->want_grads)
        MT_EXPECT(mt_all_sentinel(ga, rows * ldga, p) && mt_all_sentinel(gb, rows * ldgb, p),
                  "%s: a gradient was written though none was asked for", what);

    /* The report, the same on every process, by the header's formulas: a
     * two-batch step is one of two views. */
    mt_expect_report(ctx, NULL, nprocs, 2, c->n, d, p, c->strategy, what);

    /* Everyone's values and gradient rows to rank 0, in rank order. */
    double *all_values = rank == 0 ? malloc((size_t)nprocs * N_VALUES * sizeof(double)) : NULL;
    MPI_Gather(values, N_VALUES, MPI_DOUBLE, all_values, N_VALUES, MPI_DOUBLE, 0, c->comm);
    double *rows_a = mt_gather_rows(ga, rows, d, ldga, p, c->layout, c->comm);
    double *rows_b = mt_gather_rows(gb, rows, d, ldgb, p, c->layout, c->comm);
    if (rank == 0)
        compare_on_root(c, all_values, nprocs, rows_a, rows_b, what);

    free(all_values);
    free(rows_a);
    free(rows_b);
    free(za);
    free(zb);
    free(ga);
    free(gb);
    vicreg_ctx_destroy(ctx);
}

/* Every strategy: the two, then the automatic choice. */
static const int strategies[] = { VICREG_MPI_STRATEGY_REDUCE, VICREG_MPI_STRATEGY_GATHER,
                                  VICREG_MPI_STRATEGY_AUTO };

/* A batch pair of n rows and the ways of splitting them over the
 * processes. */
struct split_batch {
    double *za, *zb;
    struct mt_layout layouts[8];
    int count;
};

static void split_batch_make(struct split_batch *b, size_t n, size_t d, uint64_t seed)
{
    b->za = malloc(n * d * sizeof *b->za);
    b->zb = malloc(n * d * sizeof *b->zb);
    mt_make_batch(seed, n, d, b->za, b->zb);
    b->count = mt_layouts(n, mt_nprocs, b->layouts, 8);
}

/* Every layout, precision, convention and strategy for one batch shape. */
static void agreement_tests(size_t n, size_t d, uint64_t seed)
{
    struct split_batch b;
    split_batch_make(&b, n, d, seed);
    const double *za = b.za, *zb = b.zb;
    const int count = b.count;
    struct mt_layout *layouts = b.layouts;
    for (int l = 0; l < count; l++)
        for (int p = VICREG_PRECISION_F32; p <= VICREG_PRECISION_F64; p++)
            for (int conv = 0; conv <= 1; conv++)
                for (int s = 0; s < 3; s++) {
                    struct mt_case c = { za, zb, n, d, (size_t)(l % 2) * 3, &layouts[l], p,
                                         conv, strategies[s], 1.0, MPI_COMM_WORLD, 1 };
                    run_case(&c);
                }
    /* Loss and terms only, and a gradient scale. */
    for (int s = 0; s < 2; s++) {
        struct mt_case c = { za, zb, n, d, 1, &layouts[count - 1], VICREG_PRECISION_F64,
                             VICREG_CONVENTION_REFERENCE, strategies[s], 1.0, MPI_COMM_WORLD, 0 };
        run_case(&c);
        c.want_grads = 1;
        c.scale = 3.5;
        run_case(&c);
    }
    free(b.za);
    free(b.zb);
}

/* The header's claim for data-parallel training: with GRAD_SCALE = P, the
 * AVERAGE over processes of each shard's parameter gradient is the
 * parameter gradient of the global loss. The "encoder" is linear, Z = X W
 * (X: inputs, k columns; W: k x d), so dL/dW = X^T dL/dZ, summed over rows. */
static void data_parallel_test(int precision)
{
    const size_t n = 14, k = 5, d = 9;
    double *x = malloc(2 * n * k * sizeof *x), *w = malloc(k * d * sizeof *w);
    double *za = calloc(n * d, sizeof *za), *zb = calloc(n * d, sizeof *zb);
    uint64_t seed = 99;
    for (size_t i = 0; i < 2 * n * k; i++)
        x[i] = (float)mt_uniform(&seed);
    for (size_t i = 0; i < k * d; i++)
        w[i] = (float)(mt_uniform(&seed) * (1.0 + (double)(i % d) / 4.0));
    /* Za = Xa W and Zb = Xb W (Xa = first n rows of x, Xb the next n). */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            for (size_t t = 0; t < k; t++) {
                za[i * d + j] += x[i * k + t] * w[t * d + j];
                zb[i * d + j] += x[(n + i) * k + t] * w[t * d + j];
            }
    for (size_t i = 0; i < n * d; i++) {
        za[i] = (float)za[i];
        zb[i] = (float)zb[i];
    }
    struct mt_layout layouts[8];
    int count = mt_layouts(n, mt_nprocs, layouts, 8);
    const struct mt_layout *l = &layouts[count > 1 ? 1 : 0]; /* unequal */
    size_t rows = l->counts[mt_rank], row0 = mt_row0(l, mt_rank);

    /* dL/dW of the global loss on one process: the reference. */
    vicreg_ctx *ref = NULL, *ctx = NULL;
    vicreg_ctx_create(&ref);
    vicreg_ctx_create(&ctx);
    set_params(ref, VICREG_CONVENTION_REFERENCE, 1.0);
    set_params(ctx, VICREG_CONVENTION_REFERENCE, (double)mt_nprocs);
    void *fa = mt_shard(za, d, 0, n, d, precision), *fb = mt_shard(zb, d, 0, n, d, precision);
    void *ga = mt_sentinel_buffer(n, d, precision), *gb = mt_sentinel_buffer(n, d, precision);
    MT_EXPECT_STATUS(mt_loss(precision, ref, n, d, fa, d, fb, d, NULL, ga, d, gb, d), VICREG_OK,
                     "data parallel reference");
    double *want = calloc(k * d, sizeof *want), *mine = calloc(k * d, sizeof *mine);
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < k; t++)
            for (size_t j = 0; j < d; j++)
                want[t * d + j] += x[i * k + t] * mt_at(ga, i, j, d, precision)
                                   + x[(n + i) * k + t] * mt_at(gb, i, j, d, precision);

    /* This process's shard, its gradient rows, its share of dL/dW, and
     * the average over processes as a data-parallel trainer takes it. */
    void *sa = mt_shard(za, d, row0, rows, d, precision), *sb = mt_shard(zb, d, row0, rows, d, precision);
    void *sga = mt_sentinel_buffer(rows, d, precision), *sgb = mt_sentinel_buffer(rows, d, precision);
    for (int strategy = VICREG_MPI_STRATEGY_REDUCE; strategy <= VICREG_MPI_STRATEGY_GATHER; strategy++) {
        vicreg_mpi_set_strategy(ctx, strategy);
        MT_EXPECT_STATUS(mt_mpi_loss(precision, ctx, MPI_COMM_WORLD, rows, d, sa, d, sb, d, NULL,
                                     sga, d, sgb, d),
                         VICREG_OK, "data parallel step");
        memset(mine, 0, k * d * sizeof *mine);
        for (size_t i = 0; i < rows; i++)
            for (size_t t = 0; t < k; t++)
                for (size_t j = 0; j < d; j++)
                    mine[t * d + j] += x[(row0 + i) * k + t] * mt_at(sga, i, j, d, precision)
                                       + x[(n + row0 + i) * k + t] * mt_at(sgb, i, j, d, precision);
        MPI_Allreduce(MPI_IN_PLACE, mine, (int)(k * d), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        double err = 0.0, scale = 0.0;
        for (size_t i = 0; i < k * d; i++) {
            err = fmax(err, fabs(mine[i] / mt_nprocs - want[i]));
            scale = fmax(scale, fabs(want[i]));
        }
        double tol = precision == VICREG_PRECISION_F64 ? 1e-12 : 1e-5;
        MT_EXPECT(err <= tol * scale,
                  "data parallel (%s, %s): the averaged dL/dW is %.3g off (relative)",
                  mt_precision_name(precision), mt_strategy_name(strategy),
                  err / scale);
    }
    free(x);
    free(w);
    free(za);
    free(zb);
    free(fa);
    free(fb);
    free(ga);
    free(gb);
    free(sa);
    free(sb);
    free(sga);
    free(sgb);
    free(want);
    free(mine);
    vicreg_ctx_destroy(ref);
    vicreg_ctx_destroy(ctx);
}

/* The communicator argument is honoured: with 2 or more processes, even
 * and odd ranks each make their own global batch. */
static void sub_communicator_test(void)
{
    if (mt_nprocs < 2)
        return;
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, mt_rank % 2, mt_rank, &half);
    int size;
    MPI_Comm_size(half, &size);
    const size_t n = 11, d = 6;
    double *za = malloc(n * d * sizeof *za), *zb = malloc(n * d * sizeof *zb);
    mt_make_batch(1000 + (uint64_t)(mt_rank % 2), n, d, za, zb);
    struct mt_layout layouts[8];
    int count = mt_layouts(n, size, layouts, 8);
    for (int s = VICREG_MPI_STRATEGY_REDUCE; s <= VICREG_MPI_STRATEGY_GATHER; s++) {
        struct mt_case c = { za, zb, n, d, 2, &layouts[count - 1], VICREG_PRECISION_F64,
                             VICREG_CONVENTION_PAPER, s, 1.0, half, 1 };
        run_case(&c);
    }
    free(za);
    free(zb);
    MPI_Comm_free(&half);
}

/* The functions that do not communicate. */
static void local_function_tests(void)
{
    vicreg_ctx *ctx = NULL;
    vicreg_ctx_create(&ctx);
    double v = 0.0;
    int s = -1;
    MT_EXPECT_STATUS(vicreg_mpi_get_strategy(ctx, &s), VICREG_OK, "get_strategy, fresh");
    MT_EXPECT(s == VICREG_MPI_STRATEGY_AUTO, "a fresh context's strategy is %d", s);
    MT_EXPECT_STATUS(vicreg_mpi_get_info(ctx, VICREG_MPI_INFO_STRATEGY, &v), VICREG_ERR_NO_RESULT,
                     "get_info before any step");
    MT_EXPECT_STATUS(vicreg_mpi_set_strategy(ctx, 3), VICREG_ERR_INVALID_ARGUMENT,
                     "set_strategy(3)");
    MT_EXPECT_STATUS(vicreg_mpi_set_strategy(ctx, -1), VICREG_ERR_INVALID_ARGUMENT,
                     "set_strategy(-1)");
    MT_EXPECT_STATUS(vicreg_mpi_set_strategy(NULL, 0), VICREG_ERR_INVALID_ARGUMENT,
                     "set_strategy(NULL)");
    MT_EXPECT_STATUS(vicreg_mpi_set_strategy(ctx, VICREG_MPI_STRATEGY_GATHER), VICREG_OK,
                     "set_strategy(GATHER)");
    MT_EXPECT_STATUS(vicreg_mpi_get_strategy(ctx, &s), VICREG_OK, "get_strategy");
    MT_EXPECT(s == VICREG_MPI_STRATEGY_GATHER, "strategy read back as %d", s);
    MT_EXPECT_STATUS(vicreg_mpi_get_info(ctx, VICREG_MPI_INFO_STRATEGY, &v), VICREG_ERR_NO_RESULT,
                     "get_info before any step, after set_strategy");
    MT_EXPECT_STATUS(vicreg_mpi_get_info(ctx, 0, &v), VICREG_ERR_INVALID_ARGUMENT,
                     "get_info(0)");
    MT_EXPECT_STATUS(vicreg_mpi_get_info(ctx, 8, &v), VICREG_ERR_INVALID_ARGUMENT,
                     "get_info(8)");
    MT_EXPECT_STATUS(vicreg_mpi_get_info(ctx, VICREG_MPI_INFO_ROWS, NULL),
                     VICREG_ERR_INVALID_ARGUMENT, "get_info(NULL)");
    vicreg_ctx_destroy(ctx);

    /* The byte model: the header's formulas, and the rule at its edge. */
    double b = -1.0;
    MT_EXPECT_STATUS(vicreg_mpi_bytes_per_step(100, 50, 4, VICREG_PRECISION_F32,
                                               VICREG_MPI_STRATEGY_GATHER, &b),
                     VICREG_OK, "bytes_per_step");
    MT_EXPECT(b == 0.75 * 100 * 2 * 50 * 4, "gather bytes %g", b);
    MT_EXPECT_STATUS(vicreg_mpi_bytes_per_step(100, 50, 4, VICREG_PRECISION_F64,
                                               VICREG_MPI_STRATEGY_REDUCE, &b),
                     VICREG_OK, "bytes_per_step");
    MT_EXPECT(b == 0.75 * 16 * (2500 + 150 + 2), "reduce bytes %g", b);
    MT_EXPECT_STATUS(vicreg_mpi_bytes_per_step(100, 50, 1, VICREG_PRECISION_F64,
                                               VICREG_MPI_STRATEGY_REDUCE, &b),
                     VICREG_OK, "bytes_per_step, one process");
    MT_EXPECT(b == 0.0, "one process moves %g bytes", b);
    MT_EXPECT_STATUS(vicreg_mpi_bytes_per_step(100, 50, 0, VICREG_PRECISION_F64,
                                               VICREG_MPI_STRATEGY_REDUCE, &b),
                     VICREG_ERR_INVALID_ARGUMENT, "bytes_per_step, 0 processes");
    MT_EXPECT_STATUS(vicreg_mpi_bytes_per_step(100, 50, 2, 3, VICREG_MPI_STRATEGY_REDUCE, &b),
                     VICREG_ERR_INVALID_ARGUMENT, "bytes_per_step, bad precision");
    MT_EXPECT_STATUS(vicreg_mpi_bytes_per_step(100, 50, 2, VICREG_PRECISION_F64,
                                               VICREG_MPI_STRATEGY_AUTO, &b),
                     VICREG_ERR_INVALID_ARGUMENT, "bytes_per_step, AUTO");
    MT_EXPECT_STATUS(vicreg_mpi_bytes_per_step(100, 50, 2, VICREG_PRECISION_F64,
                                               VICREG_MPI_STRATEGY_GATHER, NULL),
                     VICREG_ERR_INVALID_ARGUMENT, "bytes_per_step, NULL");

    MT_EXPECT(strcmp(vicreg_mpi_strerror(VICREG_MPI_ERR_MISMATCH),
                     vicreg_mpi_strerror(VICREG_MPI_ERR_MPI)) != 0,
              "the layer's two statuses share a description");
    MT_EXPECT(strcmp(vicreg_mpi_strerror(VICREG_ERR_NON_FINITE),
                     vicreg_strerror(VICREG_ERR_NON_FINITE)) == 0,
              "libvicreg's statuses are not described as libvicreg does");
    MT_EXPECT(vicreg_mpi_strerror(12345) != NULL, "strerror(12345) is NULL");
}

/* The automatic choice switches where the rule says, in a real step: at
 * d = 10, float64 gathers while N*160 < 16*132 = 2112 (N <= 13) and
 * reduces from N = 14; float32 gathers up to N = 26. */
static void automatic_edge_test(void)
{
    static const struct {
        size_t n;
        int precision, want;
    } cases[] = {
        { 13, VICREG_PRECISION_F64, VICREG_MPI_STRATEGY_GATHER },
        { 14, VICREG_PRECISION_F64, VICREG_MPI_STRATEGY_REDUCE },
        { 26, VICREG_PRECISION_F32, VICREG_MPI_STRATEGY_GATHER },
        { 27, VICREG_PRECISION_F32, VICREG_MPI_STRATEGY_REDUCE },
    };
    const size_t d = 10;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n = cases[k].n;
        int p = cases[k].precision;
        double *za = malloc(n * d * sizeof *za), *zb = malloc(n * d * sizeof *zb);
        mt_make_batch(7 + k, n, d, za, zb);
        struct mt_layout layouts[8];
        mt_layouts(n, mt_nprocs, layouts, 8);
        size_t rows = layouts[0].counts[mt_rank], row0 = mt_row0(&layouts[0], mt_rank);
        void *sa = mt_shard(za, d, row0, rows, d, p), *sb = mt_shard(zb, d, row0, rows, d, p);
        vicreg_ctx *ctx = NULL;
        vicreg_ctx_create(&ctx);
        double used = 0.0;
        MT_EXPECT_STATUS(mt_mpi_loss(p, ctx, MPI_COMM_WORLD, rows, d, sa, d, sb, d, NULL, NULL, 0,
                                     NULL, 0),
                         VICREG_OK, "automatic choice");
        vicreg_mpi_get_info(ctx, VICREG_MPI_INFO_STRATEGY, &used);
        MT_EXPECT(used == cases[k].want, "N=%zu d=%zu: automatic choice %s, expected %s", n, d,
                  mt_strategy_name((int)used), mt_strategy_name(cases[k].want));
        vicreg_ctx_destroy(ctx);
        free(sa);
        free(sb);
        free(za);
        free(zb);
    }
}

/* The layer's buffer is reused: after the first step at a shape, steps at
 * that shape and at fewer rows leave it where it is (it would move if it
 * had to grow). */
static void reuse_test(void)
{
    const size_t n = 20, d = 9;
    double *za = malloc(n * d * sizeof *za), *zb = malloc(n * d * sizeof *zb);
    mt_make_batch(5, n, d, za, zb);
    struct mt_layout layouts[8];
    mt_layouts(n, mt_nprocs, layouts, 8);
    size_t rows = layouts[0].counts[mt_rank], row0 = mt_row0(&layouts[0], mt_rank);
    void *sa = mt_shard(za, d, row0, rows, d, VICREG_PRECISION_F64);
    void *sb = mt_shard(zb, d, row0, rows, d, VICREG_PRECISION_F64);
    void *ga = mt_sentinel_buffer(rows, d, VICREG_PRECISION_F64);
    void *gb = mt_sentinel_buffer(rows, d, VICREG_PRECISION_F64);
    for (int s = VICREG_MPI_STRATEGY_REDUCE; s <= VICREG_MPI_STRATEGY_GATHER; s++) {
        vicreg_ctx *ctx = NULL;
        vicreg_ctx_create(&ctx);
        vicreg_mpi_set_strategy(ctx, s);
        void *first = NULL, *again = NULL;
        int status = vicreg_mpi_loss_f64(ctx, MPI_COMM_WORLD, rows, d, sa, d, sb, d, NULL, ga, d,
                                         gb, d);
        vicreg_ctx_buffer(ctx, 0, &first);
        for (int k = 0; k < 3 && status == VICREG_OK; k++) {
            /* The same shape, then one row fewer on process 0. */
            size_t r = k == 2 && mt_rank == 0 && rows > 0 ? rows - 1 : rows;
            status = vicreg_mpi_loss_f64(ctx, MPI_COMM_WORLD, r, d, sa, d, sb, d, NULL, ga, d,
                                         gb, d);
            vicreg_ctx_buffer(ctx, 0, &again);
            MT_EXPECT(again == first, "%s, step %d: the layer buffer moved",
                      mt_strategy_name(s), k + 2);
        }
        MT_EXPECT_STATUS(status, VICREG_OK, "reuse");
        vicreg_ctx_destroy(ctx);
    }
    mt_free_all((void *[]){ sa, sb, ga, gb, za, zb }, 6);
}

/* One case of handle_equivalence_test(). */
static void handle_case(const double *za, const double *zb, size_t n, size_t d,
                        const struct mt_layout *layout, size_t ld, int p, int strategy,
                        int convention, double scale)
{
    char what[128];
    snprintf(what, sizeof what, "handle vs 1.0, n=%zu d=%zu %s %s %s", n, d,
             layout->name, mt_precision_name(p), mt_strategy_name(strategy));
    size_t rows = layout->counts[mt_rank], row0 = mt_row0(layout, mt_rank);
    size_t bytes = (rows * ld > 0 ? rows * ld : 1) * mt_elem_size(p);
    void *sa = mt_shard(za, d, row0, rows, ld, p), *sb = mt_shard(zb, d, row0, rows, ld, p);
    void *ga1 = mt_sentinel_buffer(rows, ld, p), *gb1 = mt_sentinel_buffer(rows, ld, p);
    void *ga2 = mt_sentinel_buffer(rows, ld, p), *gb2 = mt_sentinel_buffer(rows, ld, p);
    vicreg_ctx *ctx = NULL;
    vicreg_mpi_ctx *h = NULL;
    MT_EXPECT(vicreg_ctx_create(&ctx) == VICREG_OK, "%s: vicreg_ctx_create", what);
    set_params(ctx, convention, scale);
    MT_EXPECT_STATUS(vicreg_mpi_ctx_create(ctx, MPI_COMM_WORLD, &h), VICREG_OK, what);
    if (!h) {
        vicreg_ctx_destroy(ctx);
        return;
    }
    /* The handle first: it must not need the 1.0 state. */
    MT_EXPECT_STATUS(vicreg_mpi_ctx_set_strategy(h, strategy), VICREG_OK, what);
    double loss2 = 0.0, loss1 = 0.0, t2[N_TERMS + 1] = { 0 }, t1[N_TERMS + 1] = { 0 };
    MT_EXPECT_STATUS(mt_mpi_ctx_loss(p, h, rows, d, sa, ld, sb, ld, &loss2, ga2, ld,
                                     gb2, ld),
                     VICREG_OK, what);
    for (int t = 0; t < N_TERMS; t++)
        vicreg_ctx_get_term(ctx, terms[t], &t2[t]);
    vicreg_ctx_get_term(ctx, VICREG_TERM_PATH_USED, &t2[N_TERMS]);
    void *slot = (void *)&slot;
    vicreg_ctx_buffer(ctx, 0, &slot);
    MT_EXPECT(slot == NULL, "%s: the handle used the context's layer buffer", what);
    int got = -1;
    MT_EXPECT_STATUS(vicreg_mpi_get_strategy(ctx, &got), VICREG_OK, what);
    MT_EXPECT(got == VICREG_MPI_STRATEGY_AUTO,
              "%s: the handle's setting shows in the 1.0 state (%d)", what, got);
    double v = 0.0;
    MT_EXPECT_STATUS(vicreg_mpi_get_info(ctx, VICREG_MPI_INFO_ROWS, &v),
                     VICREG_ERR_NO_RESULT, what);

    MT_EXPECT_STATUS(vicreg_mpi_set_strategy(ctx, strategy), VICREG_OK, what);
    MT_EXPECT_STATUS(mt_mpi_loss(p, ctx, MPI_COMM_WORLD, rows, d, sa, ld, sb, ld, &loss1,
                                 ga1, ld, gb1, ld),
                     VICREG_OK, what);
    for (int t = 0; t < N_TERMS; t++)
        vicreg_ctx_get_term(ctx, terms[t], &t1[t]);
    vicreg_ctx_get_term(ctx, VICREG_TERM_PATH_USED, &t1[N_TERMS]);

    MT_EXPECT(memcmp(&loss1, &loss2, sizeof loss1) == 0,
              "%s: loss %.17g by the handle, %.17g by the 1.0 call", what, loss2, loss1);
    MT_EXPECT(memcmp(t1, t2, sizeof t1) == 0, "%s: the terms differ", what);
    MT_EXPECT(memcmp(ga1, ga2, bytes) == 0 && memcmp(gb1, gb2, bytes) == 0,
              "%s: the gradient rows differ", what);
    for (int key = VICREG_MPI_INFO_STRATEGY; key <= VICREG_MPI_INFO_VIEWS; key++) {
        double a = -1.0, b = -2.0;
        MT_EXPECT_STATUS(vicreg_mpi_get_info(ctx, key, &a), VICREG_OK, what);
        MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(h, key, &b), VICREG_OK, what);
        MT_EXPECT(a == b, "%s: report key %d is %g by the handle, %g by 1.0", what,
                  key, b, a);
    }
    got = -1;
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_strategy(h, &got), VICREG_OK, what);
    MT_EXPECT(got == strategy, "%s: the handle's strategy reads %d", what, got);

    /* A context whose layer buffer is another layer's: the
     * 1.0 call refuses it, a handle on it gives the same bits
     * and leaves that buffer as it was. */
    vicreg_ctx *other = NULL;
    vicreg_mpi_ctx *h2 = NULL;
    unsigned char *foreign = NULL;
    vicreg_ctx_create(&other);
    set_params(other, convention, scale);
    MT_EXPECT(vicreg_ctx_buffer(other, 100, (void **)&foreign) == VICREG_OK,
              "%s: vicreg_ctx_buffer", what);
    memset(foreign, 0x5a, 100);
    MT_EXPECT_STATUS(vicreg_mpi_ctx_create(other, MPI_COMM_WORLD, &h2), VICREG_OK, what);
    vicreg_mpi_ctx_set_strategy(h2, strategy);
    double loss3 = 0.0;
    void *ga3 = mt_sentinel_buffer(rows, ld, p), *gb3 = mt_sentinel_buffer(rows, ld, p);
    MT_EXPECT_STATUS(mt_mpi_ctx_loss(p, h2, rows, d, sa, ld, sb, ld, &loss3, ga3, ld,
                                     gb3, ld),
                     VICREG_OK, what);
    MT_EXPECT(memcmp(&loss1, &loss3, sizeof loss1) == 0
                  && memcmp(ga1, ga3, bytes) == 0 && memcmp(gb1, gb3, bytes) == 0,
              "%s: a handle on a context with a foreign buffer differs", what);
    void *now = NULL;
    vicreg_ctx_buffer(other, 0, &now);
    int intact = now == foreign;
    for (int k = 0; k < 100 && intact; k++)
        intact = foreign[k] == 0x5a;
    MT_EXPECT(intact, "%s: the foreign layer buffer was touched", what);
    vicreg_mpi_ctx_destroy(h2);
    vicreg_ctx_destroy(other);
    free(ga3);
    free(gb3);

    vicreg_mpi_ctx_destroy(h);
    vicreg_ctx_destroy(ctx);
    free(sa);
    free(sb);
    free(ga1);
    free(gb1);
    free(ga2);
    free(gb2);
}

/* The handle and the 1.0 call run one step: on the same context and
 * inputs they give the same bits (loss, terms, gradient rows, report),
 * for every strategy, both precisions and a few layouts. The handle keeps
 * its own strategy and report and leaves the context's layer buffer
 * alone, so a context whose buffer another layer holds takes a handle. */
static void handle_equivalence_test(size_t n, size_t d, uint64_t seed)
{
    struct split_batch b;
    split_batch_make(&b, n, d, seed);
    for (int l = 0; l < b.count; l++)
        for (int p = VICREG_PRECISION_F32; p <= VICREG_PRECISION_F64; p++)
            for (int s = 0; s < 3; s++)
                handle_case(b.za, b.zb, n, d, &b.layouts[l], d + (size_t)l % 3, p,
                            strategies[s], l % 2, 1.0 + s);
    free(b.za);
    free(b.zb);
}

/* The handle's buffer is reused like the context's: after the first step
 * at a shape, steps at that shape and at fewer rows allocate nothing (the
 * count of its allocations and its address stay); a larger step grows it,
 * once. On a sub-communicator, to use the handle's communicator. */
static void handle_reuse_test(void)
{
    const size_t n = 20, d = 9;
    double *za = malloc(2 * n * d * sizeof *za), *zb = malloc(2 * n * d * sizeof *zb);
    mt_make_batch(5, 2 * n, d, za, zb);
    MPI_Comm comm;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    struct mt_layout layouts[8];
    mt_layouts(n, mt_nprocs, layouts, 8);
    size_t rows = layouts[0].counts[mt_rank], row0 = mt_row0(&layouts[0], mt_rank);
    /* Up to twice the rows, for the growth at the end. */
    void *sa = mt_shard(za, d, 2 * row0, 2 * rows, d, VICREG_PRECISION_F64);
    void *sb = mt_shard(zb, d, 2 * row0, 2 * rows, d, VICREG_PRECISION_F64);
    void *ga = mt_sentinel_buffer(2 * rows, d, VICREG_PRECISION_F64);
    void *gb = mt_sentinel_buffer(2 * rows, d, VICREG_PRECISION_F64);
    for (int s = VICREG_MPI_STRATEGY_REDUCE; s <= VICREG_MPI_STRATEGY_GATHER; s++) {
        vicreg_ctx *ctx = NULL;
        vicreg_mpi_ctx *h = NULL;
        vicreg_ctx_create(&ctx);
        if (vicreg_mpi_ctx_create(ctx, comm, &h) != VICREG_OK) {
            MT_EXPECT(0, "vicreg_mpi_ctx_create failed");
            vicreg_ctx_destroy(ctx);
            continue;
        }
        vicreg_mpi_ctx_set_strategy(h, s);
        int status = vicreg_mpi_ctx_loss_f64(h, rows, d, sa, d, sb, d, NULL, ga, d, gb, d);
        const unsigned char *first = h->buf;
        size_t allocations = h->allocations;
        for (int k = 0; k < 3 && status == VICREG_OK; k++) {
            /* The same shape, then one row fewer on process 0. */
            size_t r = k == 2 && mt_rank == 0 && rows > 0 ? rows - 1 : rows;
            status = vicreg_mpi_ctx_loss_f64(h, r, d, sa, d, sb, d, NULL, ga, d, gb, d);
            MT_EXPECT(h->buf == first && h->allocations == allocations,
                      "handle, %s, step %d: the buffer was allocated again (%zu allocations, "
                      "%zu after the first step)",
                      mt_strategy_name(s), k + 2, h->allocations, allocations);
        }
        MT_EXPECT_STATUS(status, VICREG_OK, "handle reuse");
        /* Twice the rows: GATHER needs more room; REDUCE's statistics
         * do not grow with N, only the staged rows do. */
        status = vicreg_mpi_ctx_loss_f64(h, 2 * rows, d, sa, d, sb, d, NULL, ga, d, gb, d);
        MT_EXPECT_STATUS(status, VICREG_OK, "handle reuse, twice the rows");
        MT_EXPECT(h->allocations <= allocations + 1, "handle, %s: %zu allocations for one step",
                  mt_strategy_name(s), h->allocations - allocations);
        allocations = h->allocations;
        status = vicreg_mpi_ctx_loss_f64(h, 2 * rows, d, sa, d, sb, d, NULL, ga, d, gb, d);
        MT_EXPECT(status == VICREG_OK && h->allocations == allocations,
                  "handle, %s: the larger step allocated again", mt_strategy_name(s));
        double used = 0.0;
        vicreg_mpi_ctx_get_info(h, VICREG_MPI_INFO_ROWS, &used);
        MT_EXPECT(used == 2.0 * (double)n, "handle, %s: the report says N=%g", mt_strategy_name(s),
                  used);
        vicreg_mpi_ctx_destroy(h);
        vicreg_ctx_destroy(ctx);
    }
    MPI_Comm_free(&comm);
    mt_free_all((void *[]){ sa, sb, ga, gb, za, zb }, 6);
}

/* The layer's own version: the functions say what the macros say. */
static void version_test(void)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", VICREG_MPI_VERSION_MAJOR, VICREG_MPI_VERSION_MINOR,
             VICREG_MPI_VERSION_PATCH);
    const char *got = vicreg_mpi_version_string();
    MT_EXPECT(got != NULL && strcmp(got, want) == 0, "vicreg_mpi_version_string() is %s, not %s",
              got ? got : "NULL", want);
    MT_EXPECT(vicreg_mpi_version_number() == (unsigned)VICREG_MPI_VERSION_NUMBER
                  && VICREG_MPI_VERSION_NUMBER
                         == VICREG_MPI_VERSION_MAJOR * 10000 + VICREG_MPI_VERSION_MINOR * 100
                                + VICREG_MPI_VERSION_PATCH,
              "vicreg_mpi_version_number() is %u, VICREG_MPI_VERSION_NUMBER %d",
              vicreg_mpi_version_number(), VICREG_MPI_VERSION_NUMBER);
    MT_EXPECT(VICREG_MPI_VERSION_MAJOR == 1, "the major version is not the soname's (1)");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &mt_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mt_nprocs);
    if (mt_nprocs > MT_MAX_PROCS) {
        if (mt_rank == 0)
            fprintf(stderr, "test-mpi runs with 1 to %d processes\n", MT_MAX_PROCS);
        MPI_Finalize();
        return 1;
    }

    local_function_tests();
    /* N < d (the gather strategy can take the Gram path), N > d, and an
     * N that no process count divides evenly. */
    agreement_tests(12, 20, 1);
    agreement_tests(24, 7, 2);
    agreement_tests(17, 13, 3);
    data_parallel_test(VICREG_PRECISION_F64);
    data_parallel_test(VICREG_PRECISION_F32);
    sub_communicator_test();
    automatic_edge_test();
    reuse_test();
    version_test();
    handle_equivalence_test(12, 20, 11);
    handle_equivalence_test(17, 13, 12);
    handle_reuse_test();
    mt_error_tests();
    mt_handle_error_tests();
    mt_views_tests();
    mt_views_error_tests();

    long total = 0;
    MPI_Allreduce(&mt_failures, &total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    mt_print_worst("", worst);
    if (mt_rank == 0)
        printf("%s: %ld failed checks\n", total ? "FAIL" : "PASS", total);
    MPI_Finalize();
    return total ? 1 : 0;
}
