/*
 * test-mpi-views.c - the views calls of libvicreg-mpi (since 1.2).
 *
 * A global batch of V views (V = 1, 3, 8, several G) split over the
 * processes in every shard layout (uneven, one-row and empty shards
 * included), both precisions, both conventions and every strategy, through
 * the handle and through the call on a context: the loss, every term
 * (vicreg_ctx_get_term() and vicreg_ctx_get_view_term()) and the
 * concatenated gradient rows of each view equal those of one
 * vicreg_views_loss_* call on the whole batch by rank 0 alone (float64
 * within 1e-12 relative, float32 within 1e-5), and the report has the
 * header's bytes. With two views the views calls give the two-batch calls'
 * results bit for bit; the handle and the call on a context give the same
 * bits; the handle's buffer is reused. Then the errors: a bad view count,
 * G above the view count, views or G that differ between processes, NULL
 * views, NaN, bad leading dimensions and overlaps on one process give the
 * same status on every process and leave every buffer as it was.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpitest.h"
/* The handle's fields, to watch its buffer (views_reuse_test). */
#include "../../src/mpi/internal.h"

/* The most views a test here makes. */
#define MAX_V 8

static const int view_terms[] = {
    VICREG_VIEW_TERM_VARIANCE, VICREG_VIEW_TERM_COVARIANCE, VICREG_VIEW_TERM_MEAN_STD,
    VICREG_VIEW_TERM_MIN_STD, VICREG_VIEW_TERM_COLLAPSED_FRACTION,
    VICREG_VIEW_TERM_EFFECTIVE_RANK,
};
#define N_VIEW_TERMS ((int)(sizeof view_terms / sizeof view_terms[0]))
/* Per process: the returned loss, VICREG_TERM_LOSS, VICREG_TERM_INVARIANCE,
 * VICREG_TERM_PATH_USED, then the view terms of each view. */
#define N_HEAD 4
#define N_VALUES (N_HEAD + N_VIEW_TERMS * MAX_V)

/* The largest relative errors seen (mt_note_worst). */
static double worst[2][2];

/* V views of n x d, packed one after the other (view v at z + v n d):
 * view 0 is a test batch, view v > 0 view 0 plus noise of its own size,
 * all exactly representable in float. */
static double *make_views(uint64_t seed, size_t views, size_t n, size_t d)
{
    double *z = malloc(views * n * d * sizeof *z), *spare = malloc(n * d * sizeof *spare);
    mt_make_batch(seed, n, d, z, spare);
    uint64_t s = seed * 31u + 7u;
    for (size_t v = 1; v < views; v++)
        for (size_t k = 0; k < n * d; k++)
            z[v * n * d + k] = (float)(z[k] + (0.15 + 0.1 * (double)v) * mt_uniform(&s));
    free(spare);
    return z;
}

/* The agreement tests' parameters with G = global. */
static void set_params(vicreg_ctx *ctx, int convention, size_t global)
{
    mt_set_params(ctx, convention, VICREG_PARAM_GLOBAL_VIEWS, (double)global);
}

struct views_case {
    const double *z;       /* the global views, V x n x d packed */
    size_t views, global, n, d;
    size_t pad;            /* 0: ldz and ldgrad NULL (all d) */
    const struct mt_layout *layout;
    int precision, convention, strategy;
    int via_handle;        /* vicreg_mpi_ctx_views_loss_*, else on the context */
    int no_grads;          /* grad NULL */
    unsigned skip;         /* bit v: grad[v] NULL */
};

/* Rank 0: everyone's values and gradient rows against vicreg_views_loss_*
 * of the whole batch. rows[v] is view v's concatenated rows (NULL when not
 * asked for). */
static void compare_on_root(const struct views_case *c, const double *values, int nprocs,
                            double *const *rows, const char *what)
{
    const size_t V = c->views, n = c->n, d = c->d;
    const int p = c->precision;
    const double tol = p == VICREG_PRECISION_F64 ? MT_TOL_F64 : MT_TOL_F32;
    vicreg_ctx *ref = NULL;
    if (vicreg_ctx_create(&ref) != VICREG_OK) {
        MT_EXPECT(0, "%s: vicreg_ctx_create failed", what);
        return;
    }
    set_params(ref, c->convention, c->global);
    void *z[MAX_V], *g[MAX_V];
    for (size_t v = 0; v < V; v++) {
        z[v] = mt_shard(c->z + v * n * d, d, 0, n, d, p);
        g[v] = mt_sentinel_buffer(n, d, p);
    }
    double loss = 0.0, want[N_VALUES] = { 0 };
    MT_EXPECT_STATUS(mt_views_loss(p, ref, V, n, d, (const void *const *)z, NULL, &loss, g,
                                   NULL),
                     VICREG_OK, what);
    want[0] = loss;
    vicreg_ctx_get_term(ref, VICREG_TERM_LOSS, &want[1]);
    vicreg_ctx_get_term(ref, VICREG_TERM_INVARIANCE, &want[2]);
    vicreg_ctx_get_term(ref, VICREG_TERM_PATH_USED, &want[3]);
    for (size_t v = 0; v < V; v++)
        for (int t = 0; t < N_VIEW_TERMS; t++)
            vicreg_ctx_get_view_term(ref, view_terms[t], v, &want[N_HEAD + v * N_VIEW_TERMS + t]);

    const int used = mt_expected_strategy(c->strategy, V, n, d, p);
    const size_t count = N_HEAD + V * N_VIEW_TERMS;
    for (int r = 0; r < nprocs; r++) {
        const double *got = values + (size_t)r * N_VALUES;
        double err = 0.0;
        for (size_t k = 0; k < count; k++) {
            if (k == 3)
                continue; /* the path, below */
            /* V = 1 has no invariance: exactly 0 on both sides. */
            double e = want[k] == 0.0 ? fabs(got[k]) : mt_rel(got[k], want[k]);
            err = fmax(err, e);
        }
        mt_note_worst(worst, p, 0, err);
        MT_EXPECT(err <= tol, "%s: process %d's loss or a term is %.3g off (relative)", what,
                  r, err);
        /* REDUCE always takes the covariance path; GATHER the batch's own. */
        double want_path = used == VICREG_MPI_STRATEGY_REDUCE ? VICREG_PATH_COVARIANCE : want[3];
        MT_EXPECT(got[3] == want_path, "%s: process %d took path %g, expected %g", what, r,
                  got[3], want_path);
    }

    for (size_t v = 0; v < V; v++) {
        if (!rows[v])
            continue;
        const double err = mt_rows_error(rows[v], g[v], n, d, p, 1.0);
        mt_note_worst(worst, p, 1, err);
        MT_EXPECT(err <= tol, "%s: the gradient rows of view %zu are %.3g off (relative to "
                  "the largest)", what, v, err);
    }
    for (size_t v = 0; v < V; v++) {
        free(z[v]);
        free(g[v]);
    }
    vicreg_ctx_destroy(ref);
}

/* One step of a views case on every process, compared on rank 0. */
static void run_views_case(const struct views_case *c)
{
    const size_t V = c->views, n = c->n, d = c->d;
    const int p = c->precision;
    char what[200];
    snprintf(what, sizeof what, "views V=%zu G=%zu n=%zu d=%zu pad=%zu %s %s %s %s P=%d%s%s%s",
             V, c->global, n, d, c->pad, c->layout->name, mt_precision_name(p),
             c->convention == VICREG_CONVENTION_PAPER ? "paper" : "reference",
             mt_strategy_name(c->strategy), mt_nprocs, c->via_handle ? " handle" : "",
             c->no_grads ? " no-grads" : "", c->skip ? " some-grads" : "");

    const size_t rows = c->layout->counts[mt_rank], row0 = mt_row0(c->layout, mt_rank);
    size_t ldz[MAX_V], ldg[MAX_V];
    void *z[MAX_V], *g[MAX_V], *grad[MAX_V];
    for (size_t v = 0; v < V; v++) {
        /* Different paddings per view, per gradient and per process. */
        ldz[v] = d + c->pad * (v % 3) + (c->pad ? (size_t)mt_rank % 2 : 0);
        ldg[v] = d + c->pad * ((v + 1) % 2) + (c->pad ? 1 : 0);
        z[v] = mt_shard(c->z + v * n * d, d, row0, rows, ldz[v], p);
        g[v] = mt_sentinel_buffer(rows, ldg[v], p);
        grad[v] = (c->skip >> v) & 1u ? NULL : g[v];
    }

    vicreg_ctx *ctx = NULL;
    MT_EXPECT(vicreg_ctx_create(&ctx) == VICREG_OK, "%s: vicreg_ctx_create failed", what);
    set_params(ctx, c->convention, c->global);
    vicreg_mpi_ctx *h = mt_strategy_on(ctx, c->via_handle, c->strategy, what);

    double values[N_VALUES] = { 0 };
    const size_t *pldz = c->pad ? ldz : NULL, *pldg = c->pad ? ldg : NULL;
    void *const *pgrad = c->no_grads ? NULL : grad;
    int status = mt_mpi_views_loss(p, ctx, h, V, rows, d, (const void *const *)z, pldz,
                                   &values[0], pgrad, pldg);
    MT_EXPECT_STATUS(status, VICREG_OK, what);
    vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, &values[1]);
    vicreg_ctx_get_term(ctx, VICREG_TERM_INVARIANCE, &values[2]);
    vicreg_ctx_get_term(ctx, VICREG_TERM_PATH_USED, &values[3]);
    for (size_t v = 0; v < V; v++)
        for (int t = 0; t < N_VIEW_TERMS; t++)
            MT_EXPECT(vicreg_ctx_get_view_term(ctx, view_terms[t], v,
                                               &values[N_HEAD + v * N_VIEW_TERMS + t])
                          == VICREG_OK,
                      "%s: view term %d of view %zu missing", what, view_terms[t], v);
    double beyond = 0.0;
    MT_EXPECT_STATUS(vicreg_ctx_get_view_term(ctx, VICREG_VIEW_TERM_VARIANCE, V, &beyond),
                     VICREG_ERR_NO_RESULT, what);
    MT_EXPECT(values[0] == values[1], "%s: returned loss %.17g, term %.17g", what, values[0],
              values[1]);
    for (size_t v = 0; v < V; v++) {
        MT_EXPECT(mt_padding_intact(g[v], rows, d, ldg[v], p),
                  "%s: the padding of gradient %zu was written", what, v);
        if (c->no_grads || ((c->skip >> v) & 1u))
            MT_EXPECT(mt_all_sentinel(g[v], rows * ldg[v], p),
                      "%s: gradient %zu was written though it was not asked for", what, v);
    }

    /* The report: the strategy, V, N, P and the header's bytes. */
    mt_expect_report(ctx, h, mt_nprocs, V, n, d, p, c->strategy, what);

    /* Everyone's values and gradient rows to rank 0, in rank order. */
    double *all_values = mt_rank == 0 ? malloc((size_t)mt_nprocs * N_VALUES * sizeof(double))
                                      : NULL;
    MPI_Gather(values, N_VALUES, MPI_DOUBLE, all_values, N_VALUES, MPI_DOUBLE, 0,
               MPI_COMM_WORLD);
    double *all_rows[MAX_V] = { 0 };
    for (size_t v = 0; v < V; v++)
        if (!c->no_grads && !((c->skip >> v) & 1u))
            all_rows[v] = mt_gather_rows(g[v], rows, d, ldg[v], p, c->layout, MPI_COMM_WORLD);
    if (mt_rank == 0)
        compare_on_root(c, all_values, mt_nprocs, all_rows, what);

    free(all_values);
    for (size_t v = 0; v < V; v++) {
        free(all_rows[v]);
        free(z[v]);
        free(g[v]);
    }
    vicreg_mpi_ctx_destroy(h);
    vicreg_ctx_destroy(ctx);
}

static const int strategies[] = { VICREG_MPI_STRATEGY_REDUCE, VICREG_MPI_STRATEGY_GATHER,
                                  VICREG_MPI_STRATEGY_AUTO };

/* The view counts and the G values tried with each (0: every view). */
static const struct {
    size_t views;
    size_t globals[3];
    int count;
} view_sets[] = {
    { 1, { 0, 1 }, 2 },
    { 3, { 0, 1, 2 }, 3 },
    { 8, { 0, 2, 6 }, 3 },
};
#define N_VIEW_SETS ((int)(sizeof view_sets / sizeof view_sets[0]))

/* Every layout, precision and strategy for each view count and G, at one
 * shape; the conventions, paddings, entry points and missing gradients
 * vary from case to case. */
static void views_agreement_tests(size_t n, size_t d, uint64_t seed)
{
    struct mt_layout layouts[8];
    const int count = mt_layouts(n, mt_nprocs, layouts, 8);
    for (int k = 0; k < N_VIEW_SETS; k++) {
        const size_t V = view_sets[k].views;
        double *z = make_views(seed + (uint64_t)k, V, n, d);
        for (int gi = 0; gi < view_sets[k].count; gi++)
            for (int l = 0; l < count; l++)
                for (int p = VICREG_PRECISION_F32; p <= VICREG_PRECISION_F64; p++)
                    for (int s = 0; s < 3; s++) {
                        int variant = gi + l + s + p;
                        struct views_case c = {
                            z, V, view_sets[k].globals[gi], n, d, (size_t)(l % 2) * 2,
                            &layouts[l], p, variant % 2, strategies[s], (l + s) % 2,
                            0, V > 1 && variant % 3 == 0 ? 2u : 0u,
                        };
                        run_views_case(&c);
                    }
        /* Loss and terms only. */
        for (int s = 0; s < 2; s++) {
            struct views_case c = { z, V, 0, n, d, 1, &layouts[count - 1],
                                    VICREG_PRECISION_F64, VICREG_CONVENTION_REFERENCE,
                                    strategies[s], s, 1, 0 };
            run_views_case(&c);
        }
        free(z);
    }
}

/* Every term vicreg_ctx_get_term() has, for the bitwise comparisons. */
static const int all_terms[] = {
    VICREG_TERM_LOSS, VICREG_TERM_INVARIANCE, VICREG_TERM_VARIANCE_A,
    VICREG_TERM_VARIANCE_B, VICREG_TERM_COVARIANCE_A, VICREG_TERM_COVARIANCE_B,
    VICREG_TERM_MEAN_STD_A, VICREG_TERM_MEAN_STD_B, VICREG_TERM_MIN_STD_A,
    VICREG_TERM_MIN_STD_B, VICREG_TERM_COLLAPSED_FRACTION_A,
    VICREG_TERM_COLLAPSED_FRACTION_B, VICREG_TERM_EFFECTIVE_RANK_A,
    VICREG_TERM_EFFECTIVE_RANK_B, VICREG_TERM_PATH_USED,
};
#define N_ALL_TERMS ((int)(sizeof all_terms / sizeof all_terms[0]))

/* The results of one step for a bitwise comparison: the loss, every term,
 * the view terms of the first `views` views and the report. */
struct step_bits {
    double loss;
    double terms[N_ALL_TERMS];
    double view_terms[MAX_V][N_VIEW_TERMS];
    double info[VICREG_MPI_INFO_VIEWS + 1];
};

static void read_bits(vicreg_ctx *ctx, vicreg_mpi_ctx *h, size_t views, double loss,
                      struct step_bits *b)
{
    memset(b, 0, sizeof *b);
    b->loss = loss;
    for (int t = 0; t < N_ALL_TERMS; t++)
        vicreg_ctx_get_term(ctx, all_terms[t], &b->terms[t]);
    for (size_t v = 0; v < views; v++)
        for (int t = 0; t < N_VIEW_TERMS; t++)
            vicreg_ctx_get_view_term(ctx, view_terms[t], v, &b->view_terms[v][t]);
    for (int key = VICREG_MPI_INFO_STRATEGY; key <= VICREG_MPI_INFO_VIEWS; key++)
        mt_get_info(ctx, h, key, &b->info[key]);
}

/* One case of two_views_bitwise_test(): the two-batch call on one context
 * (with G = 5 when global is 0, which it must not read), the views call
 * with two views on another (with G = global). */
static void two_views_case(const double *z, size_t n, size_t d, const struct mt_layout *layout,
                           int p, int strategy, size_t global, int via_handle)
{
    char what[160];
    snprintf(what, sizeof what, "two views vs two batches, G=%zu %s %s %s%s", global,
             layout->name, mt_precision_name(p), mt_strategy_name(strategy),
             via_handle ? " handle" : "");
    const size_t ld = d + 1, rows = layout->counts[mt_rank], row0 = mt_row0(layout, mt_rank);
    const size_t bytes = (rows * ld > 0 ? rows * ld : 1) * mt_elem_size(p);
    void *za = mt_shard(z, d, row0, rows, ld, p), *zb = mt_shard(z + n * d, d, row0, rows, ld, p);
    void *ga1 = mt_sentinel_buffer(rows, ld, p), *gb1 = mt_sentinel_buffer(rows, ld, p);
    void *ga2 = mt_sentinel_buffer(rows, ld, p), *gb2 = mt_sentinel_buffer(rows, ld, p);
    vicreg_ctx *c1 = NULL, *c2 = NULL;
    vicreg_ctx_create(&c1);
    vicreg_ctx_create(&c2);
    set_params(c1, (int)global % 2, global == 0 ? 5 : global);
    set_params(c2, (int)global % 2, global);
    vicreg_mpi_ctx *h1 = mt_strategy_on(c1, via_handle, strategy, what);
    vicreg_mpi_ctx *h2 = mt_strategy_on(c2, via_handle, strategy, what);

    double loss1 = 0.0, loss2 = 0.0;
    int status = via_handle ? mt_mpi_ctx_loss(p, h1, rows, d, za, ld, zb, ld, &loss1, ga1, ld,
                                              gb1, ld)
                            : mt_mpi_loss(p, c1, MPI_COMM_WORLD, rows, d, za, ld, zb, ld,
                                          &loss1, ga1, ld, gb1, ld);
    MT_EXPECT_STATUS(status, VICREG_OK, what);
    const void *zv[2] = { za, zb };
    void *gv[2] = { ga2, gb2 };
    const size_t lds[2] = { ld, ld };
    status = mt_mpi_views_loss(p, c2, h2, 2, rows, d, zv, lds, &loss2, gv, lds);
    MT_EXPECT_STATUS(status, VICREG_OK, what);
    struct step_bits b1, b2;
    read_bits(c1, h1, 2, loss1, &b1);
    read_bits(c2, h2, 2, loss2, &b2);
    MT_EXPECT(memcmp(&b1.loss, &b2.loss, sizeof b1.loss) == 0,
              "%s: loss %.17g by the two-batch call, %.17g by the views call", what, loss1,
              loss2);
    MT_EXPECT(memcmp(b1.terms, b2.terms, sizeof b1.terms) == 0, "%s: the terms differ", what);
    MT_EXPECT(memcmp(b1.view_terms, b2.view_terms, sizeof b1.view_terms) == 0,
              "%s: the view terms differ", what);
    MT_EXPECT(memcmp(b1.info, b2.info, sizeof b1.info) == 0, "%s: the reports differ", what);
    MT_EXPECT(b1.info[VICREG_MPI_INFO_VIEWS] == 2.0, "%s: the report says V=%g", what,
              b1.info[VICREG_MPI_INFO_VIEWS]);
    MT_EXPECT(memcmp(ga1, ga2, bytes) == 0 && memcmp(gb1, gb2, bytes) == 0,
              "%s: the gradient rows differ", what);

    if (global == 0) {
        /* The views call refuses the G that the two-batch call ignored, on
         * every process, writing nothing. */
        vicreg_ctx_set_param(c2, VICREG_PARAM_GLOBAL_VIEWS, 5.0);
        double loss3 = MT_SENTINEL;
        void *ga3 = mt_sentinel_buffer(rows, ld, p);
        void *gv3[2] = { ga3, NULL };
        status = mt_mpi_views_loss(p, c2, h2, 2, rows, d, zv, lds, &loss3, gv3, lds);
        MT_EXPECT_STATUS(status, VICREG_ERR_BAD_SHAPE, what);
        MT_EXPECT(loss3 == MT_SENTINEL && mt_all_sentinel(ga3, rows * ld, p),
                  "%s: a refused step wrote", what);
        free(ga3);
    }
    vicreg_mpi_ctx_destroy(h1);
    vicreg_mpi_ctx_destroy(h2);
    vicreg_ctx_destroy(c1);
    vicreg_ctx_destroy(c2);
    mt_free_all((void *[]){ za, zb, ga1, gb1, ga2, gb2 }, 6);
}

/* With two views the views calls are the two-batch calls: the same loss,
 * terms, view terms, gradient rows and report, bit for bit, for G = 0, 1
 * and 2; and the two-batch calls do not read G, so a G of 5, which fails
 * a views call, leaves them as they were. */
static void two_views_bitwise_test(size_t n, size_t d, uint64_t seed)
{
    double *z = make_views(seed, 2, n, d);
    struct mt_layout layouts[8];
    const int count = mt_layouts(n, mt_nprocs, layouts, 8);
    for (int l = 0; l < count; l++)
        for (int p = VICREG_PRECISION_F32; p <= VICREG_PRECISION_F64; p++)
            for (int s = 0; s < 3; s++)
                for (size_t global = 0; global <= 2; global++)
                    two_views_case(z, n, d, &layouts[l], p, strategies[s], global,
                                   (l + s + (int)global) % 2);
    free(z);
}

/* The handle and the call on a context run one views step: the same bits
 * (loss, terms, view terms, gradient rows, report), every strategy. */
static void views_handle_test(size_t n, size_t d, uint64_t seed)
{
    const size_t V = 3;
    double *z = make_views(seed, V, n, d);
    struct mt_layout layouts[8];
    const int count = mt_layouts(n, mt_nprocs, layouts, 8);
    const struct mt_layout *l = &layouts[count - 1];
    const size_t rows = l->counts[mt_rank], row0 = mt_row0(l, mt_rank);
    for (int p = VICREG_PRECISION_F32; p <= VICREG_PRECISION_F64; p++)
        for (int s = 0; s < 3; s++) {
            char what[96];
            snprintf(what, sizeof what, "views, handle vs context, %s %s", mt_precision_name(p),
                     mt_strategy_name(strategies[s]));
            void *zs[3], *g1[3], *g2[3];
            for (size_t v = 0; v < V; v++) {
                zs[v] = mt_shard(z + v * n * d, d, row0, rows, d, p);
                g1[v] = mt_sentinel_buffer(rows, d, p);
                g2[v] = mt_sentinel_buffer(rows, d, p);
            }
            vicreg_ctx *ctx = NULL;
            vicreg_mpi_ctx *h = NULL;
            vicreg_ctx_create(&ctx);
            set_params(ctx, VICREG_CONVENTION_REFERENCE, 1);
            vicreg_mpi_ctx_create(ctx, MPI_COMM_WORLD, &h);
            vicreg_mpi_ctx_set_strategy(h, strategies[s]);
            double loss1 = 0.0, loss2 = 0.0;
            MT_EXPECT_STATUS(mt_mpi_views_loss(p, ctx, h, V, rows, d, (const void *const *)zs,
                                               NULL, &loss2, g2, NULL),
                             VICREG_OK, what);
            struct step_bits b1, b2;
            read_bits(ctx, h, V, loss2, &b2);
            void *slot = (void *)&slot;
            vicreg_ctx_buffer(ctx, 0, &slot);
            MT_EXPECT(slot == NULL, "%s: the handle used the context's layer buffer", what);
            vicreg_mpi_set_strategy(ctx, strategies[s]);
            MT_EXPECT_STATUS(mt_mpi_views_loss(p, ctx, NULL, V, rows, d,
                                               (const void *const *)zs, NULL, &loss1, g1, NULL),
                             VICREG_OK, what);
            read_bits(ctx, NULL, V, loss1, &b1);
            MT_EXPECT(memcmp(&b1, &b2, sizeof b1) == 0,
                      "%s: the loss, terms or report differ (loss %.17g and %.17g)", what,
                      loss1, loss2);
            const size_t bytes = (rows * d > 0 ? rows * d : 1) * mt_elem_size(p);
            for (size_t v = 0; v < V; v++) {
                MT_EXPECT(memcmp(g1[v], g2[v], bytes) == 0, "%s: gradient %zu differs", what, v);
                free(zs[v]);
                free(g1[v]);
                free(g2[v]);
            }
            vicreg_mpi_ctx_destroy(h);
            vicreg_ctx_destroy(ctx);
        }
    free(z);
}

/* The handle's buffer is reused by views steps: after the first step at a
 * shape, steps at that shape and at fewer rows or views allocate nothing. */
static void views_reuse_test(void)
{
    const size_t n = 20, d = 9, V = 4;
    double *z = make_views(41, V, n, d);
    struct mt_layout layouts[8];
    mt_layouts(n, mt_nprocs, layouts, 8);
    const size_t rows = layouts[0].counts[mt_rank], row0 = mt_row0(&layouts[0], mt_rank);
    void *zs[4], *g[4];
    for (size_t v = 0; v < V; v++) {
        zs[v] = mt_shard(z + v * n * d, d, row0, rows, d, VICREG_PRECISION_F64);
        g[v] = mt_sentinel_buffer(rows, d, VICREG_PRECISION_F64);
    }
    for (int s = VICREG_MPI_STRATEGY_REDUCE; s <= VICREG_MPI_STRATEGY_GATHER; s++) {
        vicreg_ctx *ctx = NULL;
        vicreg_mpi_ctx *h = NULL;
        vicreg_ctx_create(&ctx);
        if (vicreg_mpi_ctx_create(ctx, MPI_COMM_WORLD, &h) != VICREG_OK) {
            MT_EXPECT(0, "vicreg_mpi_ctx_create failed");
            vicreg_ctx_destroy(ctx);
            continue;
        }
        vicreg_mpi_ctx_set_strategy(h, s);
        int status = mt_mpi_views_loss(VICREG_PRECISION_F64, ctx, h, V, rows, d,
                                       (const void *const *)zs, NULL, NULL, g, NULL);
        const unsigned char *first = h->buf;
        const size_t allocations = h->allocations;
        for (int k = 0; k < 3 && status == VICREG_OK; k++) {
            /* The same shape, then one row fewer on process 0, then one
             * view fewer. */
            size_t r = k == 1 && mt_rank == 0 && rows > 0 ? rows - 1 : rows;
            size_t views = k == 2 ? V - 1 : V;
            status = mt_mpi_views_loss(VICREG_PRECISION_F64, ctx, h, views, r, d,
                                       (const void *const *)zs, NULL, NULL, g, NULL);
            MT_EXPECT(h->buf == first && h->allocations == allocations,
                      "views, %s, step %d: the buffer was allocated again", mt_strategy_name(s),
                      k + 2);
        }
        MT_EXPECT_STATUS(status, VICREG_OK, "views reuse");
        vicreg_mpi_ctx_destroy(h);
        vicreg_ctx_destroy(ctx);
    }
    for (size_t v = 0; v < V; v++) {
        free(zs[v]);
        free(g[v]);
    }
    free(z);
}

/* The byte model of the views: the header's formulas, two views the
 * two-batch model, and its refusals. */
static void views_bytes_test(void)
{
    double b = -1.0, two = -2.0;
    for (size_t V = 1; V <= 8; V++) {
        MT_EXPECT_STATUS(vicreg_mpi_views_bytes_per_step(V, 100, 50, 4, VICREG_PRECISION_F32,
                                                         VICREG_MPI_STRATEGY_GATHER, &b),
                         VICREG_OK, "views_bytes_per_step");
        MT_EXPECT(b == 0.75 * 100 * (double)V * 50 * 4, "V=%zu: gather bytes %g", V, b);
        MT_EXPECT_STATUS(vicreg_mpi_views_bytes_per_step(V, 100, 50, 4, VICREG_PRECISION_F64,
                                                         VICREG_MPI_STRATEGY_REDUCE, &b),
                         VICREG_OK, "views_bytes_per_step");
        MT_EXPECT(b == 0.75 * 16 * ((double)V * 50 * 51 / 2 + (double)V * 50 + 2),
                  "V=%zu: reduce bytes %g", V, b);
    }
    for (int s = VICREG_MPI_STRATEGY_REDUCE; s <= VICREG_MPI_STRATEGY_GATHER; s++) {
        vicreg_mpi_views_bytes_per_step(2, 37, 11, 3, VICREG_PRECISION_F32, s, &b);
        vicreg_mpi_bytes_per_step(37, 11, 3, VICREG_PRECISION_F32, s, &two);
        MT_EXPECT(b == two, "%s: two views %g bytes, two batches %g", mt_strategy_name(s), b, two);
    }
    b = MT_SENTINEL;
    MT_EXPECT_STATUS(vicreg_mpi_views_bytes_per_step(0, 100, 50, 2, VICREG_PRECISION_F64,
                                                     VICREG_MPI_STRATEGY_REDUCE, &b),
                     VICREG_ERR_BAD_SHAPE, "views_bytes_per_step, 0 views");
    MT_EXPECT_STATUS(vicreg_mpi_views_bytes_per_step(VICREG_MAX_VIEWS + 1, 100, 50, 2,
                                                     VICREG_PRECISION_F64,
                                                     VICREG_MPI_STRATEGY_REDUCE, &b),
                     VICREG_ERR_BAD_SHAPE, "views_bytes_per_step, too many views");
    MT_EXPECT_STATUS(vicreg_mpi_views_bytes_per_step(3, 100, 50, 0, VICREG_PRECISION_F64,
                                                     VICREG_MPI_STRATEGY_REDUCE, &b),
                     VICREG_ERR_INVALID_ARGUMENT, "views_bytes_per_step, 0 processes");
    MT_EXPECT_STATUS(vicreg_mpi_views_bytes_per_step(3, 100, 50, 2, VICREG_PRECISION_F64,
                                                     VICREG_MPI_STRATEGY_AUTO, &b),
                     VICREG_ERR_INVALID_ARGUMENT, "views_bytes_per_step, AUTO");
    MT_EXPECT_STATUS(vicreg_mpi_views_bytes_per_step(3, 100, 50, 2, 0,
                                                     VICREG_MPI_STRATEGY_REDUCE, &b),
                     VICREG_ERR_INVALID_ARGUMENT, "views_bytes_per_step, bad precision");
    MT_EXPECT_STATUS(vicreg_mpi_views_bytes_per_step(3, 100, 50, 2, VICREG_PRECISION_F64,
                                                     VICREG_MPI_STRATEGY_REDUCE, NULL),
                     VICREG_ERR_INVALID_ARGUMENT, "views_bytes_per_step, NULL");
    MT_EXPECT(b == MT_SENTINEL, "a refused views_bytes_per_step wrote %g", b);
}

void mt_views_tests(void)
{
    views_bytes_test();
    /* N > d (GATHER on the covariance path) and N < d (the Gram path). */
    views_agreement_tests(13, 6, 21);
    views_agreement_tests(9, 16, 22);
    two_views_bitwise_test(13, 6, 23);
    two_views_bitwise_test(9, 16, 24);
    views_handle_test(11, 7, 25);
    views_reuse_test();

    mt_print_worst(", views", worst);
}

/* ----------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------- */

enum vfault {
    VF_NONE,
    VF_ZERO_VIEWS,      /* views == 0 everywhere */
    VF_TOO_MANY_VIEWS,  /* views == VICREG_MAX_VIEWS + 1 everywhere */
    VF_ZERO_VIEWS_ONE,  /* views == 0 on the faulty process only */
    VF_G_ABOVE,         /* G = 4 > views = 3 everywhere */
    VF_G_ABOVE_ONE,     /* the same on the faulty process only */
    VF_G_DIFFERS,       /* G = 1 on the faulty process, 0 elsewhere */
    VF_VIEWS_DIFFER,    /* two views on the faulty process, three elsewhere */
    VF_PRECISION,       /* the float32 call where the others make the float64 one */
    VF_NULL_Z,          /* z NULL */
    VF_NULL_VIEW,       /* z[1] NULL */
    VF_NAN,             /* NaN in view 2 */
    VF_LD,              /* ldz[2] < d */
    VF_GRAD_LD,         /* ldgrad[1] < d */
    VF_GRAD_OVER_VIEW,  /* grad[2] is view 0 */
    VF_GRAD_OVER_GRAD,  /* grad[2] is grad[0] */
    VF_TOO_FEW_ROWS,    /* one row in all */
    VF_EMPTY_NULLS,     /* not a fault: an empty shard passes z, grad NULL */
};

static const struct {
    const char *name;
    enum vfault fault;
    int status;
    int cross; /* needs two processes */
} vfaults[] = {
    { "no views", VF_ZERO_VIEWS, VICREG_ERR_BAD_SHAPE, 0 },
    { "too many views", VF_TOO_MANY_VIEWS, VICREG_ERR_BAD_SHAPE, 0 },
    { "no views on one process", VF_ZERO_VIEWS_ONE, VICREG_ERR_BAD_SHAPE, 0 },
    { "G above the view count", VF_G_ABOVE, VICREG_ERR_BAD_SHAPE, 0 },
    { "G above the view count on one process", VF_G_ABOVE_ONE, VICREG_ERR_BAD_SHAPE, 0 },
    { "G differs", VF_G_DIFFERS, VICREG_MPI_ERR_MISMATCH, 1 },
    { "view count differs", VF_VIEWS_DIFFER, VICREG_MPI_ERR_MISMATCH, 1 },
    { "precision differs", VF_PRECISION, VICREG_MPI_ERR_MISMATCH, 1 },
    { "NULL view array", VF_NULL_Z, VICREG_ERR_INVALID_ARGUMENT, 0 },
    { "NULL view", VF_NULL_VIEW, VICREG_ERR_INVALID_ARGUMENT, 0 },
    { "NaN in a view", VF_NAN, VICREG_ERR_NON_FINITE, 0 },
    { "ldz < d", VF_LD, VICREG_ERR_BAD_SHAPE, 0 },
    { "ldgrad < d", VF_GRAD_LD, VICREG_ERR_BAD_SHAPE, 0 },
    { "a gradient overlaps a view", VF_GRAD_OVER_VIEW, VICREG_ERR_OVERLAP, 0 },
    { "two gradients overlap", VF_GRAD_OVER_GRAD, VICREG_ERR_OVERLAP, 0 },
    { "one row in all", VF_TOO_FEW_ROWS, VICREG_ERR_BAD_SHAPE, 0 },
    { "empty shard with NULL arrays", VF_EMPTY_NULLS, VICREG_OK, 0 },
};

#define E_ROWS 10
#define E_D 5
#define E_LD (E_D + 1)
#define E_V 3

/* One fault, strategy and precision; on a context or through a handle. */
static void vfault_case(int k, int strategy, int precision, const double *z, int via_handle)
{
    const enum vfault fault = vfaults[k].fault;
    const int faulty = mt_rank == mt_nprocs - 1, want = vfaults[k].status;
    char what[128];
    snprintf(what, sizeof what, "views: %s (%s, %s, P=%d%s)", vfaults[k].name,
             mt_strategy_name(strategy), mt_precision_name(precision), mt_nprocs,
             via_handle ? ", handle" : "");

    const struct mt_layout l =
        mt_fault_layout(E_ROWS, fault == VF_TOO_FEW_ROWS, fault == VF_EMPTY_NULLS);
    const size_t rows = l.counts[mt_rank], row0 = mt_row0(&l, mt_rank);
    const int p = fault == VF_PRECISION && faulty ? mt_other_precision(precision) : precision;

    void *zs[E_V], *g[E_V];
    const void *zp[E_V];
    void *gp[E_V];
    size_t ldz[E_V], ldg[E_V];
    for (size_t v = 0; v < E_V; v++) {
        zs[v] = mt_shard(z + v * E_ROWS * E_D, E_D, row0, rows, E_LD, p);
        g[v] = mt_sentinel_buffer(rows, E_LD, p);
        zp[v] = zs[v];
        gp[v] = g[v];
        ldz[v] = ldg[v] = E_LD;
    }
    vicreg_ctx *ctx = NULL;
    vicreg_ctx_create(&ctx);
    vicreg_mpi_ctx *h = mt_strategy_on(ctx, via_handle, strategy, what);

    size_t views = E_V;
    const void *const *zarg = zp;
    void *const *garg = gp;
    if (fault == VF_ZERO_VIEWS)
        views = 0;
    if (fault == VF_TOO_MANY_VIEWS)
        views = VICREG_MAX_VIEWS + 1; /* nothing may read past zp[E_V - 1] */
    if (fault == VF_G_ABOVE)
        vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, 4.0);
    if (faulty) {
        switch (fault) {
        case VF_ZERO_VIEWS_ONE:
            views = 0;
            break;
        case VF_G_ABOVE_ONE:
            vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, 4.0);
            break;
        case VF_G_DIFFERS:
            vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, 1.0);
            break;
        case VF_VIEWS_DIFFER:
            views = 2;
            break;
        case VF_NULL_Z:
            zarg = NULL;
            break;
        case VF_NULL_VIEW:
            zp[1] = NULL;
            break;
        case VF_NAN:
            mt_put(zs[2], E_LD + 1, NAN, p);
            break;
        case VF_LD:
            ldz[2] = E_D - 1;
            break;
        case VF_GRAD_LD:
            ldg[1] = E_D - 1;
            break;
        case VF_GRAD_OVER_VIEW:
            gp[2] = zs[0];
            break;
        case VF_GRAD_OVER_GRAD:
            gp[2] = g[0];
            break;
        case VF_EMPTY_NULLS:
            if (rows == 0) {
                zarg = NULL;
                garg = NULL;
            }
            break;
        default:
            break;
        }
    }

    double loss = MT_SENTINEL;
    int status = mt_mpi_views_loss(p, ctx, h, views, rows, E_D, zarg, ldz, &loss, garg, ldg);
    MT_EXPECT_STATUS(status, want, what);
    if (want != VICREG_OK) {
        MT_EXPECT(loss == MT_SENTINEL, "%s: the loss was written", what);
        for (size_t v = 0; v < E_V; v++)
            MT_EXPECT(mt_all_sentinel(g[v], rows * E_LD, p), "%s: gradient %zu was written",
                      what, v);
        double info = 0.0;
        MT_EXPECT_STATUS(mt_get_info(ctx, h, VICREG_MPI_INFO_VIEWS, &info), VICREG_ERR_NO_RESULT,
                         what);
    }

    /* The next, correct step on the same context gives the loss of the
     * whole batch, the same on every process. */
    if (fault == VF_TOO_FEW_ROWS)
        goto done;
    vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, 0.0);
    void *cs[E_V];
    const size_t ldc[E_V] = { E_LD, E_LD, E_LD };
    for (size_t v = 0; v < E_V; v++)
        cs[v] = mt_shard(z + v * E_ROWS * E_D, E_D, row0, rows, E_LD, precision);
    double again = 0.0;
    status = mt_mpi_views_loss(precision, ctx, h, E_V, rows, E_D, (const void *const *)cs, ldc,
                               &again, NULL, NULL);
    MT_EXPECT_STATUS(status, VICREG_OK, what);
    mt_expect_same_loss(again, what);
    if (fault == VF_EMPTY_NULLS)
        MT_EXPECT(loss == again, "%s: loss %.17g with NULL arrays, %.17g without", what, loss,
                  again);
    for (size_t v = 0; v < E_V; v++)
        free(cs[v]);
done:
    for (size_t v = 0; v < E_V; v++) {
        free(zs[v]);
        free(g[v]);
    }
    vicreg_mpi_ctx_destroy(h);
    vicreg_ctx_destroy(ctx);
}

void mt_views_error_tests(void)
{
    double *z = make_views(79, E_V, E_ROWS, E_D);
    for (int k = 0; k < (int)(sizeof vfaults / sizeof vfaults[0]); k++) {
        if (vfaults[k].cross && mt_nprocs < 2)
            continue;
        for (int s = VICREG_MPI_STRATEGY_REDUCE; s <= VICREG_MPI_STRATEGY_GATHER; s++)
            for (int p = VICREG_PRECISION_F32; p <= VICREG_PRECISION_F64; p++)
                for (int via_handle = 0; via_handle <= 1; via_handle++)
                    vfault_case(k, s, p, z, via_handle);
    }
    free(z);

    /* A NULL handle is refused where it is passed (every process passes
     * one here); an unusable communicator likewise. */
    double x[4] = { 1, 2, 3, 4 };
    float xf[4] = { 1, 2, 3, 4 };
    const double *zd[2] = { x, x };
    const float *zf[2] = { xf, xf };
    double loss = MT_SENTINEL;
    MT_EXPECT_STATUS(vicreg_mpi_ctx_views_loss_f64(NULL, 2, 2, 2, zd, NULL, &loss, NULL, NULL),
                     VICREG_ERR_INVALID_ARGUMENT, "ctx_views_loss_f64(NULL handle)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_views_loss_f32(NULL, 2, 2, 2, zf, NULL, &loss, NULL, NULL),
                     VICREG_ERR_INVALID_ARGUMENT, "ctx_views_loss_f32(NULL handle)");
    vicreg_ctx *ctx = NULL;
    vicreg_ctx_create(&ctx);
    MT_EXPECT_STATUS(vicreg_mpi_views_loss_f64(ctx, MPI_COMM_NULL, 2, 2, 2, zd, NULL, &loss,
                                               NULL, NULL),
                     VICREG_ERR_INVALID_ARGUMENT, "views_loss_f64(MPI_COMM_NULL)");
    MT_EXPECT_STATUS(vicreg_mpi_views_loss_f32(NULL, MPI_COMM_WORLD, 2, 2, 2, zf, NULL, &loss,
                                               NULL, NULL),
                     VICREG_ERR_INVALID_ARGUMENT, "views_loss_f32(NULL context)");
    MT_EXPECT(loss == MT_SENTINEL, "a refused step wrote the loss");
    vicreg_ctx_destroy(ctx);
}
