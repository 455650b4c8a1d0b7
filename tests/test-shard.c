/*
 * test-shard.c - the sharded computation and the other 1.1 additions:
 *
 *   equal     a batch split into 1 to 4 shards (equal and unequal sizes,
 *             a 1-row shard, an empty shard) through sums -> reduce ->
 *             scatter -> reduce -> finish, one context per shard as
 *             separate processes would have, gives the loss, every term
 *             and the concatenated gradient rows of vicreg_loss_*() on the
 *             whole batch (either path) and of the plain double reference;
 *             so do micro-batches accumulated in one context and buffer;
 *   fd        the finish gradient is the gradient of the global loss with
 *             respect to a shard's rows (central differences, f64);
 *   rows      vicreg_loss_rows_*() against vicreg_loss_*() for every row
 *             range, bitwise for the full range;
 *   scale     VICREG_PARAM_GRAD_SCALE: bounds, and exactly 4x gradients;
 *   buffer    vicreg_ctx_buffer(): growth, contents kept, alignment;
 *   errors    every status of every new function, nothing written.
 *
 * Allocation counts and failures are in test-shard-memory.c, which needs
 * the library built with its test hooks.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { F32 = 0, F64 = 1 };

/* Sharded against single-process on the same data: both sum the same
 * numbers in a different order (and f32 rounds the scatter at a different
 * point), so they agree to a few units of rounding of the precision. */
#define TOL_SAME_F64 1e-12
#define TOL_SAME_F32 1e-5
/* Against the plain double reference, the tolerances of test-values.c. */
#define TOL_REF_F64 1e-11
#define TOL_REF_F32 5e-5

static const char *prec_name(int prec)
{
    return prec == F64 ? "f64" : "f32";
}

static size_t elem_of(int prec)
{
    return prec == F64 ? sizeof(double) : sizeof(float);
}

/* ---------------------------------------------------------------------
 * The calls, by precision. Arrays are void * of the precision's type.
 * --------------------------------------------------------------------- */
static int p_sums(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                  const void *zb, size_t ldb, double *sums)
{
    if (prec == F64)
        return vicreg_shard_sums_f64(c, n, d, za, lda, zb, ldb, sums);
    return vicreg_shard_sums_f32(c, n, d, za, lda, zb, ldb, sums);
}

static int p_scatter(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                     const void *zb, size_t ldb, const double *sums, double *scatter)
{
    if (prec == F64)
        return vicreg_shard_scatter_f64(c, n, d, za, lda, zb, ldb, sums, scatter);
    return vicreg_shard_scatter_f32(c, n, d, za, lda, zb, ldb, sums, scatter);
}

static int p_finish(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                    const void *zb, size_t ldb, const double *sums, const double *scatter,
                    double *loss, void *ga, size_t ldga, void *gb, size_t ldgb)
{
    if (prec == F64)
        return vicreg_shard_finish_f64(c, n, d, za, lda, zb, ldb, sums, scatter, loss, ga, ldga,
                                       gb, ldgb);
    return vicreg_shard_finish_f32(c, n, d, za, lda, zb, ldb, sums, scatter, loss, ga, ldga, gb,
                                   ldgb);
}

static int p_loss(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                  const void *zb, size_t ldb, double *loss, void *ga, size_t ldga, void *gb,
                  size_t ldgb)
{
    if (prec == F64)
        return vicreg_loss_f64(c, n, d, za, lda, zb, ldb, loss, ga, ldga, gb, ldgb);
    return vicreg_loss_f32(c, n, d, za, lda, zb, ldb, loss, ga, ldga, gb, ldgb);
}

static int p_rows(int prec, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                  const void *zb, size_t ldb, size_t row0, size_t rows, double *loss, void *ga,
                  size_t ldga, void *gb, size_t ldgb)
{
    if (prec == F64)
        return vicreg_loss_rows_f64(c, n, d, za, lda, zb, ldb, row0, rows, loss, ga, ldga, gb,
                                    ldgb);
    return vicreg_loss_rows_f32(c, n, d, za, lda, zb, ldb, row0, rows, loss, ga, ldga, gb, ldgb);
}

static double at(int prec, const void *buf, size_t i)
{
    return prec == F64 ? ((const double *)buf)[i] : (double)((const float *)buf)[i];
}

static void put(int prec, void *buf, size_t i, double v)
{
    if (prec == F64)
        ((double *)buf)[i] = v;
    else
        ((float *)buf)[i] = (float)v;
}

/* ---------------------------------------------------------------------
 * A batch: packed doubles for the reference, and the precision's copy.
 * --------------------------------------------------------------------- */
struct batch {
    int prec;
    size_t n, d;
    double *a64, *b64; /* n x d packed; values are float-representable */
    void *za, *zb;     /* n x d packed, in prec */
};

static void batch_make(struct batch *b, int prec, uint64_t seed, size_t n, size_t d)
{
    b->prec = prec;
    b->n = n;
    b->d = d;
    b->a64 = malloc(n * d * sizeof(double));
    b->b64 = malloc(n * d * sizeof(double));
    b->za = malloc(n * d * elem_of(prec));
    b->zb = malloc(n * d * elem_of(prec));
    ck_assert(b->a64 && b->b64 && b->za && b->zb);
    tu_make_batches(seed, n, d, d, b->a64, b->b64);
    for (size_t i = 0; i < n * d; i++) {
        put(prec, b->za, i, b->a64[i]);
        put(prec, b->zb, i, b->b64[i]);
    }
}

static void batch_free(struct batch *b)
{
    free(b->a64);
    free(b->b64);
    free(b->za);
    free(b->zb);
}

/* Row i of a batch's za or zb in its precision. */
static const void *row_a(const struct batch *b, size_t i)
{
    return (const char *)b->za + i * b->d * elem_of(b->prec);
}

static const void *row_b(const struct batch *b, size_t i)
{
    return (const char *)b->zb + i * b->d * elem_of(b->prec);
}

/* What one computation gives: the loss, every term, the gradients
 * widened to double (n x d packed). */
struct outcome {
    double loss;
    double terms[TU_N_TERMS];
    double *ga, *gb;
};

static void outcome_init(struct outcome *o, size_t n, size_t d)
{
    o->loss = NAN;
    o->ga = calloc(n * d, sizeof(double));
    o->gb = calloc(n * d, sizeof(double));
    ck_assert(o->ga && o->gb);
}

static void outcome_free(struct outcome *o)
{
    free(o->ga);
    free(o->gb);
}

static void read_terms(const vicreg_ctx *c, double *terms)
{
    for (size_t k = 0; k < TU_N_TERMS; k++)
        ck_assert_int_eq(vicreg_ctx_get_term(c, tu_all_terms[k], &terms[k]), VICREG_OK);
}

/* The context for a case: the reference parameters, a path, a scale. */
static vicreg_ctx *make_ctx(const struct ref_params *p, int path, double scale)
{
    vicreg_ctx *c = NULL;
    ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_OK);
    tu_set_params(c, p);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, path), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, scale), VICREG_OK);
    return c;
}

/* vicreg_loss_* on the whole batch. */
static void single(const struct batch *b, vicreg_ctx *c, struct outcome *o)
{
    const size_t n = b->n, d = b->d;
    void *ga = malloc(n * d * elem_of(b->prec)), *gb = malloc(n * d * elem_of(b->prec));
    ck_assert(ga && gb);
    ck_assert_int_eq(p_loss(b->prec, c, n, d, b->za, d, b->zb, d, &o->loss, ga, d, gb, d),
                     VICREG_OK);
    read_terms(c, o->terms);
    for (size_t i = 0; i < n * d; i++) {
        o->ga[i] = at(b->prec, ga, i);
        o->gb[i] = at(b->prec, gb, i);
    }
    free(ga);
    free(gb);
}

/* The batch split into shards of sizes[0..shards), as separate processes:
 * one context per shard, each phase's buffers made per shard and then
 * summed (the all-reduce), every shard's finish writing its own rows. All
 * shards must report the same loss and terms, bit for bit. */
#define MAX_SHARDS 6

static void sharded(const struct batch *b, const struct ref_params *p, double scale,
                    const size_t *sizes, int shards, struct outcome *o)
{
    const int prec = b->prec;
    const size_t d = b->d;
    size_t sums_len, scatter_len;
    ck_assert_int_eq(vicreg_shard_sizes(d, &sums_len, &scatter_len), VICREG_OK);
    double *local = malloc(scatter_len * sizeof(double));
    double *sums = calloc(sums_len, sizeof(double));
    double *scatter = calloc(scatter_len, sizeof(double));
    ck_assert(local && sums && scatter);
    vicreg_ctx *c[MAX_SHARDS];
    size_t row0[MAX_SHARDS + 1] = { 0 };
    ck_assert_int_le(shards, MAX_SHARDS);
    for (int k = 0; k < shards; k++) {
        c[k] = make_ctx(p, VICREG_PATH_AUTO, scale);
        row0[k + 1] = row0[k] + sizes[k];
    }
    ck_assert_uint_eq(row0[shards], b->n);

    /* Phase 1 and its reduction. An empty shard passes NULL arrays. */
    for (int k = 0; k < shards; k++) {
        const size_t nk = sizes[k];
        memset(local, 0, sums_len * sizeof(double));
        ck_assert_int_eq(p_sums(prec, c[k], nk, d, nk ? row_a(b, row0[k]) : NULL, d,
                                nk ? row_b(b, row0[k]) : NULL, d, local),
                         VICREG_OK);
        ck_assert(local[0] == (double)nk);
        for (size_t i = 0; i < sums_len; i++)
            sums[i] += local[i];
    }
    /* Phase 2 and its reduction. */
    for (int k = 0; k < shards; k++) {
        const size_t nk = sizes[k];
        memset(local, 0, scatter_len * sizeof(double));
        ck_assert_int_eq(p_scatter(prec, c[k], nk, d, nk ? row_a(b, row0[k]) : NULL, d,
                                   nk ? row_b(b, row0[k]) : NULL, d, sums, local),
                         VICREG_OK);
        for (size_t i = 0; i < scatter_len; i++)
            scatter[i] += local[i];
    }
    /* Phase 3: each shard its rows. */
    void *ga = malloc(b->n * d * elem_of(prec)), *gb = malloc(b->n * d * elem_of(prec));
    ck_assert(ga && gb);
    for (int k = 0; k < shards; k++) {
        const size_t nk = sizes[k];
        char *gak = (char *)ga + row0[k] * d * elem_of(prec);
        char *gbk = (char *)gb + row0[k] * d * elem_of(prec);
        double loss = NAN, terms[TU_N_TERMS];
        ck_assert_int_eq(p_finish(prec, c[k], nk, d, nk ? row_a(b, row0[k]) : NULL, d,
                                  nk ? row_b(b, row0[k]) : NULL, d, sums, scatter, &loss,
                                  nk ? gak : NULL, d, nk ? gbk : NULL, d),
                         VICREG_OK);
        read_terms(c[k], terms);
        ck_assert(terms[0] == loss);
        if (k == 0) {
            o->loss = loss;
            memcpy(o->terms, terms, sizeof terms);
        } else {
            ck_assert_msg(memcmp(o->terms, terms, sizeof terms) == 0,
                          "shard %d reports other terms than shard 0", k);
        }
        vicreg_ctx_destroy(c[k]);
    }
    for (size_t i = 0; i < b->n * d; i++) {
        o->ga[i] = at(prec, ga, i);
        o->gb[i] = at(prec, gb, i);
    }
    free(ga);
    free(gb);
    free(local);
    free(sums);
    free(scatter);
}

/* The batch as micro-batches of sizes[] in ONE context (c, or a new one
 * with the parameters p) and ONE pair of buffers: sums accumulated over all micro-batches, then the scatter, then
 * each micro-batch's finish, as a single machine does it. */
static void micro_batches_in(vicreg_ctx *c, const struct batch *b, const size_t *sizes,
                             int parts, struct outcome *o)
{
    const int prec = b->prec;
    const size_t d = b->d;
    size_t sums_len, scatter_len;
    ck_assert_int_eq(vicreg_shard_sizes(d, &sums_len, &scatter_len), VICREG_OK);
    double *sums = calloc(sums_len, sizeof(double));
    double *scatter = calloc(scatter_len, sizeof(double));
    void *ga = malloc(b->n * d * elem_of(prec)), *gb = malloc(b->n * d * elem_of(prec));
    ck_assert(sums && scatter && ga && gb);
    size_t r;
    int k;
    for (k = 0, r = 0; k < parts; r += sizes[k++])
        ck_assert_int_eq(p_sums(prec, c, sizes[k], d, row_a(b, r), d, row_b(b, r), d, sums),
                         VICREG_OK);
    for (k = 0, r = 0; k < parts; r += sizes[k++])
        ck_assert_int_eq(p_scatter(prec, c, sizes[k], d, row_a(b, r), d, row_b(b, r), d, sums,
                                   scatter),
                         VICREG_OK);
    for (k = 0, r = 0; k < parts; r += sizes[k++]) {
        char *gak = (char *)ga + r * d * elem_of(prec), *gbk = (char *)gb + r * d * elem_of(prec);
        ck_assert_int_eq(p_finish(prec, c, sizes[k], d, row_a(b, r), d, row_b(b, r), d, sums,
                                  scatter, &o->loss, gak, d, gbk, d),
                         VICREG_OK);
    }
    ck_assert_uint_eq(r, b->n);
    read_terms(c, o->terms);
    for (size_t i = 0; i < b->n * d; i++) {
        o->ga[i] = at(prec, ga, i);
        o->gb[i] = at(prec, gb, i);
    }
    free(sums);
    free(scatter);
    free(ga);
    free(gb);
}

static void micro_batches(const struct batch *b, const struct ref_params *p,
                          const size_t *sizes, int parts, struct outcome *o)
{
    vicreg_ctx *c = make_ctx(p, VICREG_PATH_AUTO, 1.0);
    micro_batches_in(c, b, sizes, parts, o);
    vicreg_ctx_destroy(c);
}

/* The reference's result as an outcome (path term left out). */
static void reference(const struct batch *b, const struct ref_params *p, struct outcome *o)
{
    struct ref_result r;
    ref_vicreg(p, b->n, b->d, b->a64, b->b64, &r, o->ga, o->gb);
    const double v[TU_N_TERMS] = {
        r.loss, r.invariance, r.variance[0], r.variance[1], r.covariance[0], r.covariance[1],
        r.mean_std[0], r.mean_std[1], r.min_std[0], r.min_std[1], r.collapsed_fraction[0],
        r.collapsed_fraction[1], r.effective_rank[0], r.effective_rank[1],
        VICREG_PATH_COVARIANCE,
    };
    o->loss = r.loss;
    memcpy(o->terms, v, sizeof v);
}

/* got against want: the loss, every term but the path (relative; a term
 * that is 0 must be 0 to within tol), and both gradients (normwise
 * relative). Returns the largest error seen. */
static double compare(const struct outcome *got, const struct outcome *want, size_t n, size_t d,
                      double tol, const char *what)
{
    double worst = tu_rel(got->loss, want->loss);
    ck_assert_msg(worst <= tol, "%s: loss %.17g, want %.17g", what, got->loss, want->loss);
    for (size_t k = 0; k + 1 < TU_N_TERMS; k++) {
        double g = got->terms[k], w = want->terms[k];
        double err = w == 0.0 ? fabs(g) : tu_rel(g, w);
        ck_assert_msg(err <= tol, "%s: term %d is %.17g, want %.17g (err %.3g)", what,
                      tu_all_terms[k], g, w, err);
        worst = fmax(worst, err);
    }
    double ea = tu_rel_err(n, d, got->ga, d, want->ga, d);
    double eb = tu_rel_err(n, d, got->gb, d, want->gb, d);
    ck_assert_msg(ea <= tol && eb <= tol, "%s: gradient errors %.3g, %.3g", what, ea, eb);
    return fmax(worst, fmax(ea, eb));
}

/* ---------------------------------------------------------------------
 * equal: sharded == single process == reference
 * --------------------------------------------------------------------- */

/* Splits of n = 13 rows: 1, 2, 3 and 4 shards, equal and unequal, with a
 * 1-row shard and an empty shard, first, middle and last. */
static const struct split {
    int shards;
    size_t sizes[4];
} splits[] = {
    { 1, { 13 } },
    { 2, { 7, 6 } },
    { 2, { 1, 12 } },
    { 2, { 13, 0 } },
    { 3, { 5, 4, 4 } },
    { 3, { 0, 12, 1 } },
    { 3, { 6, 1, 6 } },
    { 4, { 4, 3, 3, 3 } },
    { 4, { 1, 0, 11, 1 } },
    { 4, { 2, 9, 0, 2 } },
};
#define N_SPLITS (sizeof splits / sizeof splits[0])
#define SPLIT_N 13

/* The shapes: n > d (the single-process call takes the covariance path)
 * and n < d (it takes the Gram path), both compared, and both paths
 * forced. */
static const size_t split_d[2] = { 5, 21 };

/* The largest disagreement seen, for the figure the handoff reports. */
static double worst_same[2], worst_ref[2];

START_TEST(sharded_equals_single)
{
    /* _i: split, convention, precision, width. */
    const struct split *sp = &splits[_i % N_SPLITS];
    const int paper = (_i / N_SPLITS) % 2;
    const int prec = (_i / N_SPLITS / 2) % 2;
    const size_t d = split_d[_i / N_SPLITS / 4], n = SPLIT_N;
    struct ref_params p = ref_default_params();
    p.paper = paper;
    char what[160];

    struct batch b;
    batch_make(&b, prec, 100 + (uint64_t)_i, n, d);
    struct outcome sh, ref;
    outcome_init(&sh, n, d);
    outcome_init(&ref, n, d);
    sharded(&b, &p, 1.0, sp->sizes, sp->shards, &sh);
    ck_assert(sh.terms[TU_N_TERMS - 1] == VICREG_PATH_COVARIANCE);

    const double tol_same = prec == F64 ? TOL_SAME_F64 : TOL_SAME_F32;
    const int paths[3] = { VICREG_PATH_AUTO, VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };
    for (int k = 0; k < 3; k++) {
        struct outcome one;
        outcome_init(&one, n, d);
        vicreg_ctx *c = make_ctx(&p, paths[k], 1.0);
        single(&b, c, &one);
        snprintf(what, sizeof what, "%s %s d=%zu split %d path %d", prec_name(prec),
                 paper ? "paper" : "reference", d, _i % (int)N_SPLITS, paths[k]);
        worst_same[prec] = fmax(worst_same[prec], compare(&sh, &one, n, d, tol_same, what));
        vicreg_ctx_destroy(c);
        outcome_free(&one);
    }
    reference(&b, &p, &ref);
    snprintf(what, sizeof what, "%s %s d=%zu split %d vs reference", prec_name(prec),
             paper ? "paper" : "reference", d, _i % (int)N_SPLITS);
    worst_ref[prec] = fmax(worst_ref[prec],
                           compare(&sh, &ref, n, d, prec == F64 ? TOL_REF_F64 : TOL_REF_F32, what));
    outcome_free(&sh);
    outcome_free(&ref);
    batch_free(&b);
}
END_TEST

START_TEST(micro_batches_equal_single)
{
    const struct split *sp = &splits[_i % N_SPLITS];
    const int paper = (_i / N_SPLITS) % 2;
    const int prec = (_i / N_SPLITS / 2) % 2;
    const size_t d = split_d[_i / N_SPLITS / 4], n = SPLIT_N;
    struct ref_params p = ref_default_params();
    p.paper = paper;
    char what[160];
    struct batch b;
    batch_make(&b, prec, 300 + (uint64_t)_i, n, d);
    struct outcome mb, one;
    outcome_init(&mb, n, d);
    outcome_init(&one, n, d);
    micro_batches(&b, &p, sp->sizes, sp->shards, &mb);
    vicreg_ctx *c = make_ctx(&p, VICREG_PATH_AUTO, 1.0);
    single(&b, c, &one);
    snprintf(what, sizeof what, "micro-batches %s %s d=%zu split %d", prec_name(prec),
             paper ? "paper" : "reference", d, _i % (int)N_SPLITS);
    worst_same[prec] = fmax(worst_same[prec],
                            compare(&mb, &one, n, d, prec == F64 ? TOL_SAME_F64 : TOL_SAME_F32,
                                    what));
    vicreg_ctx_destroy(c);
    outcome_free(&mb);
    outcome_free(&one);
    batch_free(&b);
}
END_TEST

/* A larger batch with many shards of random sizes, f64 and f32: the
 * agreement does not depend on the tiny shape. */
START_TEST(sharded_equals_single_larger)
{
    const int prec = _i % 2;
    const size_t n = 97, d = 40;
    size_t sizes[MAX_SHARDS] = { 31, 1, 0, 40, 17, 8 };
    struct ref_params p = ref_default_params();
    p.paper = _i / 2;
    struct batch b;
    batch_make(&b, prec, 500 + (uint64_t)_i, n, d);
    struct outcome sh, one;
    outcome_init(&sh, n, d);
    outcome_init(&one, n, d);
    sharded(&b, &p, 1.0, sizes, MAX_SHARDS, &sh);
    vicreg_ctx *c = make_ctx(&p, VICREG_PATH_AUTO, 1.0);
    single(&b, c, &one);
    worst_same[prec] = fmax(worst_same[prec],
                            compare(&sh, &one, n, d, prec == F64 ? TOL_SAME_F64 : TOL_SAME_F32,
                                    prec_name(prec)));
    vicreg_ctx_destroy(c);
    outcome_free(&sh);
    outcome_free(&one);
    batch_free(&b);
}
END_TEST

/* ---------------------------------------------------------------------
 * fd: the finish gradient is d(global loss)/d(shard rows)
 * --------------------------------------------------------------------- */

/* The global loss of the batch with one entry of za (which = 0) or zb
 * (which = 1) moved by delta: one single-process call, which the equal
 * tests tie to the sharded loss. */
static double loss_moved(vicreg_ctx *c, const struct batch *b, int which, size_t idx,
                         double delta)
{
    double *z = which ? b->zb : b->za, keep = z[idx], loss = NAN;
    z[idx] = keep + delta;
    ck_assert_int_eq(vicreg_loss_f64(c, b->n, b->d, b->za, b->d, b->zb, b->d, &loss, NULL, 0,
                                     NULL, 0),
                     VICREG_OK);
    z[idx] = keep;
    return loss;
}

START_TEST(finish_gradient_is_global_gradient)
{
    /* _i: convention; the middle shard of three, so its rows are neither
     * first nor last. */
    const size_t n = 11, d = 4, sizes[3] = { 4, 3, 4 }, first = 4;
    struct ref_params p = ref_default_params();
    p.paper = _i;
    struct batch b;
    batch_make(&b, F64, 700 + (uint64_t)_i, n, d);
    struct outcome sh;
    outcome_init(&sh, n, d);
    sharded(&b, &p, 1.0, sizes, 3, &sh);
    vicreg_ctx *c = make_ctx(&p, VICREG_PATH_COVARIANCE, 1.0);
    double worst = 0.0, scale = 0.0;
    for (int which = 0; which < 2; which++)
        for (size_t i = first; i < first + sizes[1]; i++)
            for (size_t j = 0; j < d; j++) {
                const size_t idx = i * d + j;
                const double *z = which ? b.b64 : b.a64;
                const double h = 1e-5 * fmax(1.0, fabs(z[idx]));
                const double fd = (loss_moved(c, &b, which, idx, h) -
                                   loss_moved(c, &b, which, idx, -h)) / (2.0 * h);
                const double g = which ? sh.gb[idx] : sh.ga[idx];
                worst = fmax(worst, fabs(fd - g));
                scale = fmax(scale, fabs(g));
            }
    /* Central differences are accurate to O(h^2) plus rounding of the
     * loss over h: about 1e-9 here against gradients of order 1. */
    ck_assert_msg(scale > 0.1, "the gradient is degenerate (%g)", scale);
    ck_assert_msg(worst <= 1e-7 * scale, "finite differences differ by %g (scale %g)", worst,
                  scale);
    vicreg_ctx_destroy(c);
    outcome_free(&sh);
    batch_free(&b);
}
END_TEST

/* ---------------------------------------------------------------------
 * rows: vicreg_loss_rows_* against vicreg_loss_*
 * --------------------------------------------------------------------- */

START_TEST(rows_equal_full_call)
{
    /* _i: precision, shape (covariance or Gram path under AUTO), path. */
    const int prec = _i % 2;
    const size_t shapes[2][2] = { { 9, 5 }, { 5, 9 } };
    const size_t n = shapes[(_i / 2) % 2][0], d = shapes[(_i / 2) % 2][1];
    const int paths[3] = { VICREG_PATH_AUTO, VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };
    const int path = paths[_i / 4];
    const size_t ldg = d + 2, elem = elem_of(prec);
    /* A different row count changes how BLAS blocks the product, not
     * what it sums: allow a few roundings. */
    const double tol = prec == F64 ? 1e-14 : 1e-6;
    struct ref_params p = ref_default_params();
    struct batch b;
    batch_make(&b, prec, 900 + (uint64_t)_i, n, d);
    vicreg_ctx *c = make_ctx(&p, path, 1.0);
    double full_loss = NAN, full_terms[TU_N_TERMS];
    void *ga = malloc(n * d * elem), *gb = malloc(n * d * elem);
    ck_assert(ga && gb);
    ck_assert_int_eq(p_loss(prec, c, n, d, b.za, d, b.zb, d, &full_loss, ga, d, gb, d),
                     VICREG_OK);
    read_terms(c, full_terms);

    /* One row more than asked for, and padding, to see that nothing
     * outside the range is written. */
    void *ra = malloc((n + 1) * ldg * elem), *rb = malloc((n + 1) * ldg * elem);
    ck_assert(ra && rb);
    for (size_t row0 = 0; row0 <= n; row0++)
        for (size_t rows = 0; row0 + rows <= n; rows++) {
            memset(ra, 0xA5, (n + 1) * ldg * elem);
            memset(rb, 0x5A, (n + 1) * ldg * elem);
            double loss = NAN, terms[TU_N_TERMS];
            ck_assert_int_eq(p_rows(prec, c, n, d, b.za, d, b.zb, d, row0, rows, &loss, ra, ldg,
                                    rb, ldg),
                             VICREG_OK);
            read_terms(c, terms);
            ck_assert(memcmp(&loss, &full_loss, sizeof loss) == 0);
            ck_assert(memcmp(terms, full_terms, sizeof terms) == 0);
            double ea = 0.0, eb = 0.0, sc = 0.0;
            for (size_t i = 0; i < rows; i++)
                for (size_t j = 0; j < d; j++) {
                    const size_t src = (row0 + i) * d + j, dst = i * ldg + j;
                    ea = fmax(ea, fabs(at(prec, ra, dst) - at(prec, ga, src)));
                    eb = fmax(eb, fabs(at(prec, rb, dst) - at(prec, gb, src)));
                    sc = fmax(sc, fmax(fabs(at(prec, ga, src)), fabs(at(prec, gb, src))));
                }
            ck_assert_msg(ea <= tol * sc && eb <= tol * sc, "rows %zu+%zu differ: %g %g (%g)",
                          row0, rows, ea, eb, sc);
            /* Padding and the rows beyond the range keep their bytes. */
            for (size_t i = 0; i <= n; i++)
                for (size_t j = 0; j < ldg; j++) {
                    if (i < rows && j < d)
                        continue;
                    const unsigned char *pa = (unsigned char *)ra + (i * ldg + j) * elem;
                    const unsigned char *pb = (unsigned char *)rb + (i * ldg + j) * elem;
                    for (size_t k = 0; k < elem; k++)
                        ck_assert_msg(pa[k] == 0xA5 && pb[k] == 0x5A,
                                      "rows %zu+%zu wrote outside the range (%zu, %zu)", row0,
                                      rows, i, j);
                }
            if (row0 == 0 && rows == n) {
                /* The full range is the same call: the same bits. */
                for (size_t i = 0; i < n; i++) {
                    ck_assert(memcmp((char *)ra + i * ldg * elem, (char *)ga + i * d * elem,
                                     d * elem) == 0);
                    ck_assert(memcmp((char *)rb + i * ldg * elem, (char *)gb + i * d * elem,
                                     d * elem) == 0);
                }
            }
        }

    /* One gradient only, and none, for a middle range. */
    memset(ra, 0xA5, (n + 1) * ldg * elem);
    double loss = NAN;
    ck_assert_int_eq(p_rows(prec, c, n, d, b.za, d, b.zb, d, 1, 2, &loss, NULL, 0, ra, ldg),
                     VICREG_OK);
    ck_assert(memcmp(&loss, &full_loss, sizeof loss) == 0);
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < d; j++)
            ck_assert(fabs(at(prec, ra, i * ldg + j) - at(prec, gb, (1 + i) * d + j)) <=
                      tol * fmax(1.0, fabs(at(prec, gb, (1 + i) * d + j))));
    loss = NAN;
    ck_assert_int_eq(p_rows(prec, c, n, d, b.za, d, b.zb, d, 1, 2, &loss, NULL, 0, NULL, 0),
                     VICREG_OK);
    ck_assert(memcmp(&loss, &full_loss, sizeof loss) == 0);

    free(ra);
    free(rb);
    free(ga);
    free(gb);
    vicreg_ctx_destroy(c);
    batch_free(&b);
}
END_TEST

/* ---------------------------------------------------------------------
 * scale: VICREG_PARAM_GRAD_SCALE
 * --------------------------------------------------------------------- */

START_TEST(grad_scale_param)
{
    vicreg_ctx *c = NULL;
    double v = NAN, lo = NAN, hi = NAN;
    ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_GRAD_SCALE, &v), VICREG_OK);
    ck_assert(v == 1.0);
    ck_assert_int_eq(vicreg_param_bounds(VICREG_PARAM_GRAD_SCALE, &lo, &hi), VICREG_OK);
    ck_assert(lo == 0.0 && hi == 1e9);
    const double good[] = { 0.0, 0.5, 3.0, 1e9 };
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, good[k]), VICREG_OK);
        ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_GRAD_SCALE, &v), VICREG_OK);
        ck_assert(v == good[k]);
    }
    const double bad[] = { -1e-300, -1.0, 1e9 * (1.0 + 1e-15), INFINITY, NAN };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, bad[k]),
                         VICREG_ERR_OUT_OF_RANGE);
        ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_GRAD_SCALE, &v), VICREG_OK);
        ck_assert(v == 1e9); /* the last good value */
    }
    vicreg_ctx_destroy(c);
}
END_TEST

/* Scale 4 against scale 1: every gradient entry exactly 4 times (a power
 * of two multiplies every factor exactly), the loss and the terms the
 * same bits; of vicreg_loss_* on both paths, vicreg_loss_rows_* and the
 * sharded finish. Scale 3 and 0: 3 times up to rounding, and zeros. */
START_TEST(grad_scale_multiplies_gradients)
{
    /* _i: precision, convention, path of the single call. */
    const int prec = _i % 2;
    const int paths[2] = { VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };
    const int path = paths[_i / 4];
    const size_t n = 10, d = 6, sizes[3] = { 3, 0, 7 };
    struct ref_params p = ref_default_params();
    p.paper = (_i / 2) % 2;
    struct batch b;
    batch_make(&b, prec, 1100 + (uint64_t)_i, n, d);
    const double scales[4] = { 1.0, 4.0, 3.0, 0.0 };
    struct outcome o[3][4]; /* [single, rows 2..7, sharded][scale] */
    for (int s = 0; s < 4; s++) {
        for (int k = 0; k < 3; k++)
            outcome_init(&o[k][s], n, d);
        vicreg_ctx *c = make_ctx(&p, path, scales[s]);
        single(&b, c, &o[0][s]);
        /* rows 2 .. 7 into the same places of a full-size gradient */
        void *ga = calloc(n * d, elem_of(prec)), *gb = calloc(n * d, elem_of(prec));
        ck_assert(ga && gb);
        ck_assert_int_eq(p_rows(prec, c, n, d, b.za, d, b.zb, d, 2, 6, &o[1][s].loss,
                                (char *)ga + 2 * d * elem_of(prec), d,
                                (char *)gb + 2 * d * elem_of(prec), d),
                         VICREG_OK);
        read_terms(c, o[1][s].terms);
        for (size_t i = 0; i < n * d; i++) {
            o[1][s].ga[i] = at(prec, ga, i);
            o[1][s].gb[i] = at(prec, gb, i);
        }
        free(ga);
        free(gb);
        vicreg_ctx_destroy(c);
        sharded(&b, &p, scales[s], sizes, 3, &o[2][s]);
    }
    for (int k = 0; k < 3; k++) {
        for (int s = 1; s < 4; s++) {
            ck_assert(memcmp(&o[k][s].loss, &o[k][0].loss, sizeof(double)) == 0);
            ck_assert(memcmp(o[k][s].terms, o[k][0].terms, sizeof o[k][0].terms) == 0);
        }
        double e3 = 0.0, sc = 0.0;
        for (size_t i = 0; i < n * d; i++) {
            const double a1 = o[k][0].ga[i], b1 = o[k][0].gb[i];
            ck_assert_msg(o[k][1].ga[i] == 4.0 * a1 && o[k][1].gb[i] == 4.0 * b1,
                          "call %d entry %zu: %.17g, %.17g is not 4 times %.17g, %.17g", k, i,
                          o[k][1].ga[i], o[k][1].gb[i], a1, b1);
            ck_assert(o[k][3].ga[i] == 0.0 && o[k][3].gb[i] == 0.0);
            e3 = fmax(e3, fmax(fabs(o[k][2].ga[i] - 3.0 * a1), fabs(o[k][2].gb[i] - 3.0 * b1)));
            sc = fmax(sc, fmax(fabs(a1), fabs(b1)));
        }
        ck_assert_msg(sc > 0.0 && e3 <= (prec == F64 ? 1e-14 : 1e-6) * 3.0 * sc,
                      "call %d: scale 3 off by %g (scale %g)", k, e3, sc);
    }
    for (int k = 0; k < 3; k++)
        for (int s = 0; s < 4; s++)
            outcome_free(&o[k][s]);
    batch_free(&b);
}
END_TEST

/* ---------------------------------------------------------------------
 * buffer: vicreg_ctx_buffer()
 * --------------------------------------------------------------------- */

START_TEST(ctx_buffer_grows_and_keeps)
{
    vicreg_ctx *c = NULL;
    void *out = (void *)&c, *first;
    ck_assert_int_eq(vicreg_ctx_buffer(NULL, 16, &out), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_eq(out, (void *)&c);
    ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_buffer(c, 16, NULL), VICREG_ERR_INVALID_ARGUMENT);
    /* No buffer yet. */
    ck_assert_int_eq(vicreg_ctx_buffer(c, 0, &out), VICREG_OK);
    ck_assert_ptr_null(out);

    ck_assert_int_eq(vicreg_ctx_buffer(c, 100, &first), VICREG_OK);
    ck_assert_ptr_nonnull(first);
    ck_assert_uint_eq((uintptr_t)first % 64, 0);
    for (int i = 0; i < 100; i++)
        ((unsigned char *)first)[i] = (unsigned char)(i * 7 + 1);
    /* At or below the size held: the same buffer. */
    const size_t same[3] = { 0, 1, 100 };
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(vicreg_ctx_buffer(c, same[k], &out), VICREG_OK);
        ck_assert_ptr_eq(out, first);
    }
    /* Loss calls and sharded calls leave it alone. */
    struct batch b;
    const size_t parts[2] = { 3, 5 };
    batch_make(&b, F64, 1300, 8, 5);
    struct outcome o;
    outcome_init(&o, 8, 5);
    single(&b, c, &o);
    micro_batches_in(c, &b, parts, 2, &o);
    ck_assert_int_eq(vicreg_ctx_buffer(c, 0, &out), VICREG_OK);
    ck_assert_ptr_eq(out, first);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(((unsigned char *)first)[i], (unsigned char)(i * 7 + 1));
    /* Growth keeps the old bytes, aligned again; the pointer may move. */
    const size_t sizes[3] = { 101, 4096, 1 << 20 };
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(vicreg_ctx_buffer(c, sizes[k], &out), VICREG_OK);
        ck_assert_ptr_nonnull(out);
        ck_assert_uint_eq((uintptr_t)out % 64, 0);
        for (int i = 0; i < 100; i++)
            ck_assert_uint_eq(((unsigned char *)out)[i], (unsigned char)(i * 7 + 1));
        /* The whole size is usable (valgrind and ASan see a short one). */
        memset((char *)out + 100, 0x3C, sizes[k] - 100);
    }
    void *last = out;
    ck_assert_int_eq(vicreg_ctx_buffer(c, 0, &out), VICREG_OK);
    ck_assert_ptr_eq(out, last);
    /* A request that cannot be met keeps the buffer and *out. */
    void *keep = (void *)&b;
    out = keep;
    ck_assert_int_eq(vicreg_ctx_buffer(c, SIZE_MAX, &out), VICREG_ERR_NO_MEMORY);
    ck_assert_ptr_eq(out, keep);
    ck_assert_int_eq(vicreg_ctx_buffer(c, 0, &out), VICREG_OK);
    ck_assert_ptr_eq(out, last);
    ck_assert_uint_eq(((unsigned char *)last)[99], (unsigned char)(99 * 7 + 1));
    outcome_free(&o);
    batch_free(&b);
    vicreg_ctx_destroy(c); /* frees the buffer: valgrind's leak check */
}
END_TEST

/* ---------------------------------------------------------------------
 * errors: every status of every new function, nothing written
 * --------------------------------------------------------------------- */

enum { K_SUMS, K_SCATTER, K_FINISH, K_ROWS, N_KINDS };

static const char *kind_name(int kind)
{
    static const char *names[N_KINDS] = { "sums", "scatter", "finish", "rows" };
    return names[kind];
}

/* One call of any kind, its arguments spelled out. */
struct scall {
    int kind, prec, null_ctx;
    size_t n, d;
    const void *za;
    size_t lda;
    const void *zb;
    size_t ldb;
    double *sums, *scatter, *loss;
    void *ga;
    size_t ldga;
    void *gb;
    size_t ldgb;
    size_t row0, rows;
};

static int scall_run(const struct scall *c, vicreg_ctx *ctx)
{
    vicreg_ctx *x = c->null_ctx ? NULL : ctx;
    switch (c->kind) {
    case K_SUMS:
        return p_sums(c->prec, x, c->n, c->d, c->za, c->lda, c->zb, c->ldb, c->sums);
    case K_SCATTER:
        return p_scatter(c->prec, x, c->n, c->d, c->za, c->lda, c->zb, c->ldb, c->sums,
                         c->scatter);
    case K_FINISH:
        return p_finish(c->prec, x, c->n, c->d, c->za, c->lda, c->zb, c->ldb, c->sums,
                        c->scatter, c->loss, c->ga, c->ldga, c->gb, c->ldgb);
    default:
        return p_rows(c->prec, x, c->n, c->d, c->za, c->lda, c->zb, c->ldb, c->row0, c->rows,
                      c->loss, c->ga, c->ldga, c->gb, c->ldgb);
    }
}

/* Every array a call can touch, in one block so that one comparison
 * covers them all: a batch of W_N rows (a shard is its first W_SHARD), the
 * valid global statistics of that batch, gradients and the loss. */
#define W_N 10
#define W_SHARD 6
#define W_D 4

struct world {
    int prec;
    unsigned char *block, *pristine; /* the arrays; their valid contents */
    size_t bytes;
    void *za, *zb, *ga, *gb;
    double *sums, *scatter, *loss;
    size_t sums_len, scatter_len;
};

static size_t round64(size_t x)
{
    return (x + 63) / 64 * 64;
}

static void world_make(struct world *w, int prec)
{
    const size_t arr = round64(W_N * W_D * elem_of(prec));
    ck_assert_int_eq(vicreg_shard_sizes(W_D, &w->sums_len, &w->scatter_len), VICREG_OK);
    const size_t sb = round64(w->sums_len * sizeof(double));
    const size_t cb = round64(w->scatter_len * sizeof(double));
    w->prec = prec;
    w->bytes = 4 * arr + sb + cb + 64;
    w->block = aligned_alloc(64, w->bytes);
    w->pristine = malloc(w->bytes);
    ck_assert(w->block && w->pristine);
    memset(w->block, 0xA5, w->bytes);
    w->za = w->block;
    w->zb = w->block + arr;
    w->ga = w->block + 2 * arr;
    w->gb = w->block + 3 * arr;
    w->sums = (double *)(void *)(w->block + 4 * arr);
    w->scatter = (double *)(void *)(w->block + 4 * arr + sb);
    w->loss = (double *)(void *)(w->block + 4 * arr + sb + cb);
    struct batch b;
    batch_make(&b, prec, 1500, W_N, W_D);
    memcpy(w->za, b.za, W_N * W_D * elem_of(prec));
    memcpy(w->zb, b.zb, W_N * W_D * elem_of(prec));
    batch_free(&b);
    vicreg_ctx *c = NULL;
    ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_OK);
    memset(w->sums, 0, w->sums_len * sizeof(double));
    memset(w->scatter, 0, w->scatter_len * sizeof(double));
    ck_assert_int_eq(p_sums(prec, c, W_N, W_D, w->za, W_D, w->zb, W_D, w->sums), VICREG_OK);
    ck_assert_int_eq(p_scatter(prec, c, W_N, W_D, w->za, W_D, w->zb, W_D, w->sums, w->scatter),
                     VICREG_OK);
    vicreg_ctx_destroy(c);
    memcpy(w->pristine, w->block, w->bytes);
}

static void world_free(struct world *w)
{
    free(w->block);
    free(w->pristine);
}

/* A valid call of the kind: the shard on the global statistics (phase 1
 * adds into them, phase 2 into the scatter: still valid accumulators), or
 * rows 2 .. 6 of the whole batch. */
static struct scall world_call(const struct world *w, int kind)
{
    struct scall c = { kind, w->prec, 0, W_SHARD, W_D, w->za, W_D, w->zb, W_D,
                       w->sums, w->scatter, w->loss, w->ga, W_D, w->gb, W_D, 0, 0 };
    if (kind == K_ROWS) {
        c.n = W_N;
        c.row0 = 2;
        c.rows = 5;
    }
    return c;
}

/* The parameters, with the 1.1 one. */
static const int snap_params[] = {
    VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF, VICREG_PARAM_COVARIANCE_COEFF,
    VICREG_PARAM_STD_TARGET, VICREG_PARAM_EPSILON, VICREG_PARAM_CONVENTION, VICREG_PARAM_PATH,
    VICREG_PARAM_GRAD_SCALE,
};
#define N_SNAP_PARAMS (sizeof snap_params / sizeof snap_params[0])

struct snapshot {
    int has;
    double terms[TU_N_TERMS];
    double params[N_SNAP_PARAMS];
};

static void snap(const vicreg_ctx *c, struct snapshot *s)
{
    double v;
    memset(s, 0, sizeof *s);
    s->has = vicreg_ctx_get_term(c, VICREG_TERM_LOSS, &v) == VICREG_OK;
    for (size_t k = 0; k < TU_N_TERMS; k++)
        ck_assert_int_eq(vicreg_ctx_get_term(c, tu_all_terms[k], &s->terms[k]),
                         s->has ? VICREG_OK : VICREG_ERR_NO_RESULT);
    for (size_t k = 0; k < N_SNAP_PARAMS; k++)
        ck_assert_int_eq(vicreg_ctx_get_param(c, snap_params[k], &s->params[k]), VICREG_OK);
}

/* A context with a result and parameters other than the defaults. */
static vicreg_ctx *used_ctx(const struct world *w)
{
    vicreg_ctx *c = NULL;
    ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_CONVENTION, VICREG_CONVENTION_PAPER),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, 2.0), VICREG_OK);
    const size_t arr = W_N * W_D * elem_of(w->prec);
    void *a = malloc(arr), *b = malloc(arr);
    ck_assert(a && b);
    memcpy(a, w->pristine + ((unsigned char *)w->za - w->block), arr);
    memcpy(b, w->pristine + ((unsigned char *)w->zb - w->block), arr);
    ck_assert_int_eq(p_loss(w->prec, c, W_N, W_D, a, W_D, b, W_D, NULL, NULL, 0, NULL, 0),
                     VICREG_OK);
    free(a);
    free(b);
    return c;
}

/* The valid call of `kind`, on the valid contents of the arrays, on c and
 * on a fresh context with c's parameters writes the same bits and leaves
 * the same terms. The block is put back as it was. */
static void assert_like_fresh(const struct world *w, vicreg_ctx *c, int kind, const char *what)
{
    vicreg_ctx *fresh = NULL;
    struct snapshot sc, sf;
    ck_assert_int_eq(vicreg_ctx_create(&fresh), VICREG_OK);
    snap(c, &sc);
    for (size_t k = 0; k < N_SNAP_PARAMS; k++)
        ck_assert_int_eq(vicreg_ctx_set_param(fresh, snap_params[k], sc.params[k]), VICREG_OK);
    unsigned char *keep = malloc(w->bytes), *after = malloc(w->bytes);
    ck_assert(keep && after);
    memcpy(keep, w->block, w->bytes);
    memcpy(w->block, w->pristine, w->bytes);
    const struct scall call = world_call(w, kind);
    ck_assert_msg(scall_run(&call, c) == VICREG_OK, "%s: the context fails afterwards", what);
    memcpy(after, w->block, w->bytes);
    memcpy(w->block, w->pristine, w->bytes);
    ck_assert_int_eq(scall_run(&call, fresh), VICREG_OK);
    ck_assert_msg(memcmp(after, w->block, w->bytes) == 0, "%s: the outputs differ from a fresh "
                  "context's", what);
    memcpy(w->block, keep, w->bytes);
    snap(c, &sc);
    snap(fresh, &sf);
    if (kind == K_FINISH || kind == K_ROWS)
        ck_assert_msg(memcmp(&sc, &sf, sizeof sc) == 0, "%s: terms differ", what);
    free(keep);
    free(after);
    vicreg_ctx_destroy(fresh);
}

/* The call returns `want` on a fresh context and on a used one; neither
 * writes a byte of the block nor changes the contexts' state, and the used
 * context then computes as a fresh one does. */
static void expect(const struct world *w, const struct scall *call, int want, const char *what)
{
    char label[200];
    snprintf(label, sizeof label, "%s %s: %s", prec_name(w->prec), kind_name(call->kind), what);
    unsigned char *keep = malloc(w->bytes);
    ck_assert_ptr_nonnull(keep);
    memcpy(keep, w->block, w->bytes);
    vicreg_ctx *ctxs[2] = { NULL, used_ctx(w) };
    ck_assert_int_eq(vicreg_ctx_create(&ctxs[0]), VICREG_OK);
    for (int k = 0; k < 2; k++) {
        struct snapshot before, after;
        snap(ctxs[k], &before);
        int got = scall_run(call, ctxs[k]);
        ck_assert_msg(got == want, "%s: got %s, want %s", label, vicreg_status_name(got),
                      vicreg_status_name(want));
        ck_assert_msg(memcmp(keep, w->block, w->bytes) == 0, "%s: the call wrote", label);
        snap(ctxs[k], &after);
        ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "%s: the context changed",
                      label);
    }
    free(keep);
    assert_like_fresh(w, ctxs[1], call->kind, label);
    vicreg_ctx_destroy(ctxs[0]);
    vicreg_ctx_destroy(ctxs[1]);
}

/* Sets one value of the block, runs expect(), puts the value back. */
static void expect_with_double(const struct world *w, double *where, double value,
                               const struct scall *call, int want, const char *what)
{
    double keep = *where;
    *where = value;
    expect(w, call, want, what);
    *where = keep;
}

static void expect_with_entry(const struct world *w, void *arr, size_t idx, double value,
                              const struct scall *call, int want, const char *what)
{
    unsigned char keep[sizeof(double)];
    const size_t elem = elem_of(w->prec);
    memcpy(keep, (unsigned char *)arr + idx * elem, elem);
    put(w->prec, arr, idx, value);
    expect(w, call, want, what);
    memcpy((unsigned char *)arr + idx * elem, keep, elem);
}

START_TEST(errors_common)
{
    /* _i: kind, precision. What every new function checks alike. */
    const int kind = _i % N_KINDS, prec = _i / N_KINDS;
    struct world w;
    world_make(&w, prec);
    const struct scall base = world_call(&w, kind);
    struct scall c;
    const size_t big = (size_t)INT_MAX + 1;
    const double huge = prec == F64 ? 1e200 : 1e30;

    /* The base call is good (on copies: it writes). */
    {
        vicreg_ctx *ctx = used_ctx(&w);
        assert_like_fresh(&w, ctx, kind, "base call");
        vicreg_ctx_destroy(ctx);
    }

    c = base, c.null_ctx = 1;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL ctx");
    c = base, c.za = NULL;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL za");
    c = base, c.zb = NULL;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL zb");
    c = base, c.d = 0;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "d == 0");
    c = base, c.lda = W_D - 1;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "lda < d");
    c = base, c.ldb = W_D - 1;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldb < d");
    if (kind == K_FINISH || kind == K_ROWS) {
        c = base, c.ldga = W_D - 1;
        expect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldga < d");
        c = base, c.ldgb = 0;
        expect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldgb < d");
    }
    c = base, c.n = big, c.row0 = 0;
    expect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n > INT_MAX");
    c = base, c.d = big, c.lda = c.ldb = c.ldga = c.ldgb = big;
    expect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "d > INT_MAX");
    c = base, c.lda = SIZE_MAX / 4;
    expect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n * lda overflows");
    c = base, c.ldb = big;
    expect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "ldb > INT_MAX");

    /* NaN and Inf in the batch, first and last row of the call. */
    const size_t last = (base.n - 1) * W_D + W_D - 1;
    expect_with_entry(&w, w.za, 0, NAN, &base, VICREG_ERR_NON_FINITE, "NaN in za");
    expect_with_entry(&w, w.zb, last, -INFINITY, &base, VICREG_ERR_NON_FINITE, "-Inf in zb");
    expect_with_entry(&w, w.za, last, INFINITY, &base, VICREG_ERR_NON_FINITE, "Inf in za");
    /* Finite but too large to square: the overflow bound. (The sums of a
     * float shard cannot overflow a double: no such case for them.) */
    if (!(kind == K_SUMS && prec == F32))
        expect_with_entry(&w, w.za, W_D + 1, huge, &base, VICREG_ERR_OVERFLOW, "huge entry");

    /* Overlap of a written array with an input. */
    if (kind == K_FINISH || kind == K_ROWS) {
        c = base, c.ga = (void *)(uintptr_t)w.za;
        expect(&w, &c, VICREG_ERR_OVERLAP, "grad_a on za");
        c = base, c.gb = (char *)w.zb + elem_of(prec) * (W_D + 1);
        expect(&w, &c, VICREG_ERR_OVERLAP, "grad_b inside zb");
        c = base, c.gb = (char *)w.ga + elem_of(prec) * 3;
        expect(&w, &c, VICREG_ERR_OVERLAP, "grad_b inside grad_a");
    }
    world_free(&w);
}
END_TEST
START_TEST(errors_sums)
{
    const int prec = _i;
    struct world w;
    world_make(&w, prec);
    const struct scall base = world_call(&w, K_SUMS);
    struct scall c;

    c = base, c.sums = NULL;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL sums");
    /* The accumulator passed in. */
    expect_with_double(&w, &w.sums[3], NAN, &base, VICREG_ERR_NON_FINITE, "NaN in sums");
    expect_with_double(&w, &w.sums[1], INFINITY, &base, VICREG_ERR_NON_FINITE, "Inf in sums");
    expect_with_double(&w, &w.sums[0], 2.5, &base, VICREG_ERR_BAD_SHAPE, "count 2.5");
    expect_with_double(&w, &w.sums[0], -1.0, &base, VICREG_ERR_BAD_SHAPE, "count -1");
    expect_with_double(&w, &w.sums[0], 0x1p53 + 2.0, &base, VICREG_ERR_BAD_SHAPE,
                       "count beyond 2^53");
    expect_with_double(&w, &w.sums[0], 0x1p53 - 1.0, &base, VICREG_ERR_SIZE_OVERFLOW,
                       "count passes 2^53");
    expect_with_double(&w, &w.sums[1], -1.0, &base, VICREG_ERR_INVALID_ARGUMENT,
                       "negative invariance sum");
    /* An empty shard still gets its accumulator checked. */
    c = base, c.n = 0, c.za = c.zb = NULL;
    expect_with_double(&w, &w.sums[0], 0.5, &c, VICREG_ERR_BAD_SHAPE, "empty shard, count 0.5");
    /* The sum of two finite sums overflows: only a double shard can. */
    if (prec == F64) {
        double *a = w.za, *b = w.zb, keep_a = a[0], keep_b = b[0], keep_s = w.sums[2];
        a[0] = b[0] = 1e308;
        w.sums[2] = 1e308;
        expect(&w, &base, VICREG_ERR_OVERFLOW, "the column sums overflow");
        a[0] = keep_a, b[0] = keep_b, w.sums[2] = keep_s;
    }
    /* The buffer on an input. */
    c = base, c.sums = (double *)(uintptr_t)w.za;
    expect(&w, &c, VICREG_ERR_OVERLAP, "sums on za");
    c = base, c.sums = (double *)(void *)((char *)w.zb + 8);
    expect(&w, &c, VICREG_ERR_OVERLAP, "sums inside zb");
    world_free(&w);
}
END_TEST

START_TEST(errors_scatter_finish)
{
    /* _i: phase 2 or 3, precision. */
    const int kind = _i % 2 ? K_FINISH : K_SCATTER, prec = _i / 2;
    struct world w;
    world_make(&w, prec);
    const struct scall base = world_call(&w, kind);
    struct scall c;
    const size_t half = W_D * (W_D + 1) / 2;

    c = base, c.sums = NULL;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL sums");
    c = base, c.scatter = NULL;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL scatter");
    expect_with_double(&w, &w.sums[2 + W_D], NAN, &base, VICREG_ERR_NON_FINITE, "NaN in sums");
    expect_with_double(&w, &w.scatter[half + 3], -INFINITY, &base, VICREG_ERR_NON_FINITE,
                       "-Inf in scatter");
    /* The global row count. */
    expect_with_double(&w, &w.sums[0], 1.0, &base, VICREG_ERR_BAD_SHAPE, "N = 1");
    expect_with_double(&w, &w.sums[0], (double)W_SHARD - 1.0, &base, VICREG_ERR_BAD_SHAPE,
                       "N < n");
    expect_with_double(&w, &w.sums[0], 10.5, &base, VICREG_ERR_BAD_SHAPE, "N = 10.5");
    expect_with_double(&w, &w.sums[0], -10.0, &base, VICREG_ERR_BAD_SHAPE, "N = -10");
    expect_with_double(&w, &w.sums[0], 0x1p60, &base, VICREG_ERR_BAD_SHAPE, "N = 2^60");
    c = base, c.n = 0, c.za = c.zb = NULL, c.ga = c.gb = NULL;
    expect_with_double(&w, &w.sums[0], 1.0, &c, VICREG_ERR_BAD_SHAPE, "empty shard, N = 1");
    /* Statistics no batch has. */
    expect_with_double(&w, &w.sums[1], -1e-300, &base, VICREG_ERR_INVALID_ARGUMENT,
                       "negative invariance sum");
    /* The diagonal entry (2, 2) of Sb: row 2 starts at 2 d - 1. */
    expect_with_double(&w, &w.scatter[half + 2 * W_D - 1], -1.0, &base,
                       VICREG_ERR_INVALID_ARGUMENT, "negative scatter diagonal");
    /* Overlaps. */
    c = base, c.sums = (double *)(uintptr_t)w.za;
    expect(&w, &c, VICREG_ERR_OVERLAP, "sums on za");
    c = base, c.scatter = (double *)(void *)((char *)w.zb + 16);
    expect(&w, &c, VICREG_ERR_OVERLAP, "scatter inside zb");
    if (kind == K_SCATTER) {
        c = base, c.scatter = w.sums + 1;
        expect(&w, &c, VICREG_ERR_OVERLAP, "scatter on sums");
        /* An accumulator so large that the sum would overflow. */
        expect_with_double(&w, &w.scatter[1], 0.9 * DBL_MAX, &base, VICREG_ERR_OVERFLOW,
                           "scatter near DBL_MAX");
    } else {
        c = base, c.ga = w.sums + 2;
        expect(&w, &c, VICREG_ERR_OVERLAP, "grad_a on sums");
        c = base, c.gb = w.scatter + half;
        expect(&w, &c, VICREG_ERR_OVERLAP, "grad_b on scatter");
        /* A global scatter whose square overflows the loss. */
        expect_with_double(&w, &w.scatter[1], 1e300, &base, VICREG_ERR_OVERFLOW,
                           "huge scatter entry");
        c = base, c.n = 0, c.za = c.zb = NULL, c.ga = c.gb = NULL;
        expect_with_double(&w, &w.scatter[1], 1e300, &c, VICREG_ERR_OVERFLOW,
                           "huge scatter entry, empty shard");
    }
    world_free(&w);
}
END_TEST

START_TEST(errors_rows)
{
    const int prec = _i;
    struct world w;
    world_make(&w, prec);
    const struct scall base = world_call(&w, K_ROWS);
    struct scall c;
    c = base, c.row0 = 6, c.rows = 5;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "row0 + rows > n");
    c = base, c.row0 = W_N + 1, c.rows = 0;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "row0 > n, no rows");
    c = base, c.row0 = SIZE_MAX, c.rows = 2;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "row0 + rows wraps");
    c = base, c.row0 = 1, c.rows = SIZE_MAX;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "rows = SIZE_MAX");
    c = base, c.n = 1, c.row0 = 0, c.rows = 1;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "n = 1");
    /* rows == 0: no gradient, so their leading dimensions do not matter. */
    c = base, c.rows = 0, c.ldga = c.ldgb = 0;
    {
        vicreg_ctx *ctx = used_ctx(&w);
        unsigned char *keep = malloc(w.bytes);
        ck_assert_ptr_nonnull(keep);
        memcpy(keep, w.block, w.bytes);
        c.loss = NULL;
        ck_assert_int_eq(scall_run(&c, ctx), VICREG_OK);
        ck_assert(memcmp(keep, w.block, w.bytes) == 0);
        free(keep);
        vicreg_ctx_destroy(ctx);
    }
    world_free(&w);
}
END_TEST

START_TEST(errors_sizes)
{
    size_t a = 7, b = 9;
    ck_assert_int_eq(vicreg_shard_sizes(3, NULL, &b), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_shard_sizes(3, &a, NULL), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_shard_sizes(0, &a, &b), VICREG_ERR_BAD_SHAPE);
    ck_assert_int_eq(vicreg_shard_sizes((size_t)INT_MAX + 1, &a, &b), VICREG_ERR_SIZE_OVERFLOW);
    ck_assert_int_eq(vicreg_shard_sizes(SIZE_MAX, &a, &b), VICREG_ERR_SIZE_OVERFLOW);
    ck_assert_int_eq(vicreg_shard_sizes(SIZE_MAX / 2, &a, &b), VICREG_ERR_SIZE_OVERFLOW);
    ck_assert(a == 7 && b == 9);
    const size_t ds[4] = { 1, 2, 7, 8192 };
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(vicreg_shard_sizes(ds[k], &a, &b), VICREG_OK);
        ck_assert_uint_eq(a, 2 + 2 * ds[k]);
        ck_assert_uint_eq(b, ds[k] * (ds[k] + 1));
    }
}
END_TEST

/* Prints the figures once the equal test case has run (CK_FORK=no runs
 * see every test; with fork each test's figure is its own). */
static void report_worst(void)
{
    if (getenv("VICREG_SHARD_REPORT"))
        fprintf(stderr, "shard: largest disagreement with single-process f64 %.3g f32 %.3g; "
                        "with the reference f64 %.3g f32 %.3g\n",
                worst_same[F64], worst_same[F32], worst_ref[F64], worst_ref[F32]);
}

Suite *shard_suite(void)
{
    Suite *s = suite_create("shard");
    TCase *tc = tcase_create("equal");
    tcase_add_loop_test(tc, sharded_equals_single, 0, (int)N_SPLITS * 8);
    tcase_add_loop_test(tc, micro_batches_equal_single, 0, (int)N_SPLITS * 8);
    tcase_add_loop_test(tc, sharded_equals_single_larger, 0, 4);
    tcase_add_unchecked_fixture(tc, NULL, report_worst);
    suite_add_tcase(s, tc);

    tc = tcase_create("fd");
    tcase_add_loop_test(tc, finish_gradient_is_global_gradient, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("rows");
    tcase_add_loop_test(tc, rows_equal_full_call, 0, 12);
    suite_add_tcase(s, tc);

    tc = tcase_create("scale");
    tcase_add_test(tc, grad_scale_param);
    tcase_add_loop_test(tc, grad_scale_multiplies_gradients, 0, 8);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, errors_common, 0, 2 * N_KINDS);
    tcase_add_loop_test(tc, errors_sums, 0, 2);
    tcase_add_loop_test(tc, errors_scatter_finish, 0, 4);
    tcase_add_loop_test(tc, errors_rows, 0, 2);
    tcase_add_test(tc, errors_sizes);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("buffer");
    tcase_add_test(tc, ctx_buffer_grows_and_keeps);
    suite_add_tcase(s, tc);
    return s;
}
