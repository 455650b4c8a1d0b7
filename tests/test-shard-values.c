/*
 * test-shard-values.c - the sharded computation gives the values of one
 * call: a batch split into 1 to 6 shards (equal and unequal sizes, a
 * 1-row shard, an empty shard) through sums -> reduce -> scatter ->
 * reduce -> finish, one context per shard as separate processes would
 * have, gives the loss, every term and the concatenated gradient rows of
 * vicreg_loss_*() on the whole batch (either path) and of the plain
 * double reference; so do micro-batches accumulated in one context and
 * one pair of buffers.
 *
 * VICREG_SHARD_REPORT=1 prints the largest disagreements seen.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shardutil.h"

/* Sharded against single-process on the same data: both sum the same
 * numbers in a different order (and f32 rounds the scatter at a different
 * point), so they agree to a few units of rounding of the precision. */
#define TOL_SAME_F64 1e-12
#define TOL_SAME_F32 1e-5
/* Against the plain double reference, the tolerances of test-values.c. */
#define TOL_REF_F64 1e-11
#define TOL_REF_F32 5e-5

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

/* The case of loop index i of the equal tests: split, convention,
 * precision, width; the batch made from seed0 + i. */
struct split_case {
    const struct split *sp;
    int paper, prec;
    size_t n, d;
    struct ref_params p;
    struct batch b;
};

static void split_case_make(struct split_case *c, int i, uint64_t seed0)
{
    c->sp = &splits[i % N_SPLITS];
    c->paper = (i / N_SPLITS) % 2;
    c->prec = (i / N_SPLITS / 2) % 2;
    c->d = split_d[i / N_SPLITS / 4];
    c->n = SPLIT_N;
    c->p = ref_default_params();
    c->p.paper = c->paper;
    batch_make(&c->b, c->prec, seed0 + (uint64_t)i, c->n, c->d);
}

/* got against one vicreg_loss_* call on the whole batch b on `path`, to
 * the single-process tolerance; records the largest disagreement. */
static void compare_single(const struct batch *b, const struct ref_params *p, int path,
                           const struct outcome *got, const char *what)
{
    struct outcome one;
    outcome_init(&one, b->n, b->d);
    vicreg_ctx *c = make_ctx(p, path, 1.0);
    single(b, c, &one);
    worst_same[b->prec] =
        fmax(worst_same[b->prec], compare(got, &one, b->n, b->d,
                                          b->prec == F64 ? TOL_SAME_F64 : TOL_SAME_F32, what));
    vicreg_ctx_destroy(c);
    outcome_free(&one);
}

START_TEST(sharded_equals_single)
{
    struct split_case sc;
    split_case_make(&sc, _i, 100);
    const int prec = sc.prec, paper = sc.paper;
    const size_t n = sc.n, d = sc.d;
    const struct ref_params p = sc.p;
    const struct batch b = sc.b;
    char what[160];

    struct outcome sh, ref;
    outcome_init(&sh, n, d);
    outcome_init(&ref, n, d);
    sharded(&b, &p, 1.0, sc.sp->sizes, sc.sp->shards, &sh);
    ck_assert(sh.terms[TU_N_TERMS - 1] == VICREG_PATH_COVARIANCE);

    const int paths[3] = { VICREG_PATH_AUTO, VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };
    for (int k = 0; k < 3; k++) {
        snprintf(what, sizeof what, "%s %s d=%zu split %d path %d", prec_name(prec),
                 paper ? "paper" : "reference", d, _i % (int)N_SPLITS, paths[k]);
        compare_single(&b, &p, paths[k], &sh, what);
    }
    reference(&b, &p, &ref);
    snprintf(what, sizeof what, "%s %s d=%zu split %d vs reference", prec_name(prec),
             paper ? "paper" : "reference", d, _i % (int)N_SPLITS);
    worst_ref[prec] = fmax(worst_ref[prec],
                           compare(&sh, &ref, n, d, prec == F64 ? TOL_REF_F64 : TOL_REF_F32, what));
    outcome_free(&sh);
    outcome_free(&ref);
    batch_free(&sc.b);
}
END_TEST

START_TEST(micro_batches_equal_single)
{
    struct split_case sc;
    split_case_make(&sc, _i, 300);
    char what[160];
    struct outcome mb;
    outcome_init(&mb, sc.n, sc.d);
    micro_batches(&sc.b, &sc.p, sc.sp->sizes, sc.sp->shards, &mb);
    snprintf(what, sizeof what, "micro-batches %s %s d=%zu split %d", prec_name(sc.prec),
             sc.paper ? "paper" : "reference", sc.d, _i % (int)N_SPLITS);
    compare_single(&sc.b, &sc.p, VICREG_PATH_AUTO, &mb, what);
    outcome_free(&mb);
    batch_free(&sc.b);
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
    struct outcome sh;
    outcome_init(&sh, n, d);
    sharded(&b, &p, 1.0, sizes, MAX_SHARDS, &sh);
    compare_single(&b, &p, VICREG_PATH_AUTO, &sh, prec_name(prec));
    outcome_free(&sh);
    batch_free(&b);
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

Suite *shard_values_suite(void)
{
    const struct tu_tcase tc = {
        .name = "equal",
        .unchecked_teardown = report_worst,
        .tests = { TU_LOOP(sharded_equals_single, 0, (int)N_SPLITS * 8),
                   TU_LOOP(micro_batches_equal_single, 0, (int)N_SPLITS * 8),
                   TU_LOOP(sharded_equals_single_larger, 0, 4) },
    };
    return tu_suite("shard-values", &tc, 1);
}
