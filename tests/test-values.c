/*
 * test-values.c - loss, terms, diagnostics and gradients against the
 * plain-loop double reference (reference.c), over a sweep of shapes, both
 * conventions, both paths and both precisions; and the edge cases.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "precision.h"
#include "testutil.h"

/* f64 agrees with the double reference to rounding; f32 differs by the
 * float rounding of the centred copy and of the BLAS products, measured
 * relative to the largest entry. */
#define TOL_F64 1e-11
#define TOL_F32 5e-5

struct shape {
    size_t n, d;
};

static const struct shape shapes[] = {
    { 2, 1 }, { 2, 3 }, { 3, 2 }, { 5, 5 }, { 7, 13 }, { 13, 7 },
    { 32, 16 }, { 16, 32 }, { 64, 48 }, { 40, 90 },
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static const int terms[] = {
    VICREG_TERM_LOSS, VICREG_TERM_INVARIANCE, VICREG_TERM_VARIANCE_A, VICREG_TERM_VARIANCE_B,
    VICREG_TERM_COVARIANCE_A, VICREG_TERM_COVARIANCE_B, VICREG_TERM_MEAN_STD_A,
    VICREG_TERM_MEAN_STD_B, VICREG_TERM_MIN_STD_A, VICREG_TERM_MIN_STD_B,
    VICREG_TERM_COLLAPSED_FRACTION_A, VICREG_TERM_COLLAPSED_FRACTION_B,
    VICREG_TERM_EFFECTIVE_RANK_A, VICREG_TERM_EFFECTIVE_RANK_B,
};
#define N_TERMS (sizeof terms / sizeof terms[0])

static double ref_term(const struct ref_result *r, int term)
{
    switch (term) {
    case VICREG_TERM_LOSS: return r->loss;
    case VICREG_TERM_INVARIANCE: return r->invariance;
    case VICREG_TERM_VARIANCE_A: return r->variance[0];
    case VICREG_TERM_VARIANCE_B: return r->variance[1];
    case VICREG_TERM_COVARIANCE_A: return r->covariance[0];
    case VICREG_TERM_COVARIANCE_B: return r->covariance[1];
    case VICREG_TERM_MEAN_STD_A: return r->mean_std[0];
    case VICREG_TERM_MEAN_STD_B: return r->mean_std[1];
    case VICREG_TERM_MIN_STD_A: return r->min_std[0];
    case VICREG_TERM_MIN_STD_B: return r->min_std[1];
    case VICREG_TERM_COLLAPSED_FRACTION_A: return r->collapsed_fraction[0];
    case VICREG_TERM_COLLAPSED_FRACTION_B: return r->collapsed_fraction[1];
    case VICREG_TERM_EFFECTIVE_RANK_A: return r->effective_rank[0];
    case VICREG_TERM_EFFECTIVE_RANK_B: return r->effective_rank[1];
    default: ck_abort_msg("unknown term %d", term); return 0.0;
    }
}

/* The library's result for one call, always widened to double. */
struct lib_result {
    double terms[N_TERMS];
    double *ga, *gb; /* n x d, packed */
};

/* Runs the library on za, zb (packed doubles) in the given precision,
 * through arrays with leading dimension ld (>= d), and returns the terms
 * and the gradients widened to double. */
static void run_lib(vicreg_ctx *ctx, int f32, size_t n, size_t d, size_t ld,
                    const double *za, const double *zb, struct lib_result *out)
{
    const int prec = f32 ? F32 : F64;
    size_t count = n * ld;
    double loss = NAN;
    out->ga = calloc(n * d, sizeof(double));
    out->gb = calloc(n * d, sizeof(double));
    void *a = calloc(count, elem_of(prec)), *b = calloc(count, elem_of(prec));
    void *ga = calloc(count, elem_of(prec)), *gb = calloc(count, elem_of(prec));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            elem_put(prec, a, i * ld + j, za[i * d + j]);
            elem_put(prec, b, i * ld + j, zb[i * d + j]);
        }
    ck_assert_int_eq(prec_loss(prec, ctx, n, d, a, ld, b, ld, &loss, ga, ld, gb, ld), VICREG_OK);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            out->ga[i * d + j] = elem_get(prec, ga, i * ld + j);
            out->gb[i * d + j] = elem_get(prec, gb, i * ld + j);
        }
    free(a), free(b), free(ga), free(gb);
    for (size_t t = 0; t < N_TERMS; t++)
        ck_assert_int_eq(vicreg_ctx_get_term(ctx, terms[t], &out->terms[t]), VICREG_OK);
    ck_assert(out->terms[0] == loss);
}

static void lib_result_free(struct lib_result *r)
{
    free(r->ga);
    free(r->gb);
}

/* Compares one library run with the reference; the term tolerance is
 * relative to the loss scale for terms that can be (near) zero. */
static void compare(const struct ref_result *ref, const double *rga, const double *rgb,
                    const struct lib_result *lib, size_t n, size_t d, double tol,
                    const char *what)
{
    for (size_t t = 0; t < N_TERMS; t++) {
        double want = ref_term(ref, terms[t]), got = lib->terms[t];
        double scale = fmax(fabs(want), terms[t] == VICREG_TERM_COVARIANCE_A ||
                                                terms[t] == VICREG_TERM_COVARIANCE_B
                                            ? 1e-3 * fabs(ref->loss)
                                            : 0.0);
        double err = fabs(got - want) / fmax(scale, DBL_MIN);
        if (want == 0.0)
            err = fabs(got);
        ck_assert_msg(err <= tol, "%s: term %d got %.17g want %.17g (err %.3g)", what, terms[t],
                      got, want, err);
    }
    double ea = tu_rel_err(n, d, lib->ga, d, rga, d), eb = tu_rel_err(n, d, lib->gb, d, rgb, d);
    ck_assert_msg(ea <= tol && eb <= tol, "%s: gradient errors %.3g %.3g", what, ea, eb);
}

/* The library against the reference on za, zb (n x d, packed), on every
 * path, in both precisions, packed and with padded rows. */
static void check_data(size_t n, size_t d, const double *za, const double *zb,
                       const struct ref_params *p)
{
    double *rga = malloc(n * d * sizeof(double)), *rgb = malloc(n * d * sizeof(double));
    struct ref_result ref;
    ref_vicreg(p, n, d, za, zb, &ref, rga, rgb);
    for (int path = VICREG_PATH_AUTO; path <= VICREG_PATH_GRAM; path++)
        for (int f32 = 0; f32 <= 1; f32++)
            for (size_t pad = 0; pad <= 3; pad += 3) {
                struct lib_result lib;
                char what[128];
                vicreg_ctx *ctx = tu_ctx_new();
                tu_set_params(ctx, p);
                ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, path), VICREG_OK);
                run_lib(ctx, f32, n, d, d + pad, za, zb, &lib);
                snprintf(what, sizeof what, "n=%zu d=%zu paper=%d path=%d f32=%d ld=d+%zu", n, d,
                         p->paper, path, f32, pad);
                compare(&ref, rga, rgb, &lib, n, d, f32 ? TOL_F32 : TOL_F64, what);
                lib_result_free(&lib);
                vicreg_ctx_destroy(ctx);
            }
    free(rga), free(rgb);
}

/* check_data() on a correlated pair from tu_make_batches(), times scale. */
static void check_case_scaled(size_t n, size_t d, uint64_t seed, double scale,
                              const struct ref_params *p)
{
    double *za = malloc(n * d * sizeof(double)), *zb = malloc(n * d * sizeof(double));
    tu_make_batches(seed, n, d, d, za, zb);
    for (size_t k = 0; k < n * d; k++)
        za[k] *= scale, zb[k] *= scale;
    check_data(n, d, za, zb, p);
    free(za), free(zb);
}

static void check_case(size_t n, size_t d, uint64_t seed, const struct ref_params *p)
{
    check_case_scaled(n, d, seed, 1.0, p);
}

START_TEST(test_sweep_default)
{
    struct ref_params p = ref_default_params();
    p.paper = _i;
    for (size_t s = 0; s < N_SHAPES; s++)
        check_case(shapes[s].n, shapes[s].d, 100 + s, &p);
}
END_TEST

START_TEST(test_sweep_coefficients)
{
    struct ref_params p = { 10.0, 5.0, 3.0, 0.8, 1e-3, _i };
    for (size_t s = 0; s < N_SHAPES; s++)
        check_case(shapes[s].n, shapes[s].d, 200 + s, &p);
}
END_TEST

/* Legal but extreme coefficients: nu swept over 46 decades down to 1e-45
 * against a variance coefficient of 1e9 (gamma 1e9, far above every
 * column's std, and columns spread to about 100) or of 1e-9 (no invariance
 * term, so that the small hinge term is the whole gradient apart from the
 * covariance). Once a case returned VICREG_OK with -Inf gradients in float
 * (the hinge factor folded into the covariance product as coef / alpha
 * overflowed when multiplied by Zc), another lost the hinge term (alpha
 * rounded to zero in float). Each must match the reference. */
START_TEST(test_extreme_coefficients)
{
    static const struct shape extreme_shapes[] = { { 64, 6 }, { 5, 12 } };
    for (int k = 0; k <= 45; k++)
        for (int big = 0; big <= 1; big++)
            for (size_t s = 0; s < 2; s++) {
                struct ref_params p = ref_default_params();
                p.nu = pow(10.0, -k);
                p.paper = k % 2;
                if (big) {
                    p.mu = 1e9;
                    p.gamma = 1e9;
                } else {
                    p.lambda = 0.0;
                    p.mu = 1e-9;
                }
                check_case_scaled(extreme_shapes[s].n, extreme_shapes[s].d, 300 + (uint64_t)k,
                                  big ? 100.0 : 1.0, &p);
            }
}
END_TEST

/* Runs the library in f64 on packed arrays, with both gradients. */
static double lib_f64(vicreg_ctx *ctx, size_t n, size_t d, const double *za, const double *zb,
                      double *ga, double *gb)
{
    double loss;
    ck_assert_int_eq(vicreg_loss_f64(ctx, n, d, za, d, zb, d, &loss, ga, d, gb, d), VICREG_OK);
    return loss;
}

static double term(const vicreg_ctx *ctx, int key)
{
    double v;
    ck_assert_int_eq(vicreg_ctx_get_term(ctx, key, &v), VICREG_OK);
    return v;
}

/* An edge case: a batch za, zb (n x d, packed) that the test may change
 * before edge_run(), which computes the reference (default parameters)
 * and the library in f64 on a new context, both gradients. */
struct edge {
    size_t n, d;
    double *za, *zb, *ga, *gb, *rga, *rgb;
    struct ref_result ref;
    double loss;
    vicreg_ctx *ctx;
};

static void edge_make(struct edge *e, uint64_t seed, size_t n, size_t d)
{
    double **arrays[] = { &e->za, &e->zb, &e->ga, &e->gb, &e->rga, &e->rgb };
    e->n = n;
    e->d = d;
    e->ctx = NULL;
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++) {
        *arrays[k] = malloc(n * d * sizeof(double));
        ck_assert_ptr_nonnull(*arrays[k]);
    }
    tu_make_batches(seed, n, d, d, e->za, e->zb);
}

static void edge_run(struct edge *e)
{
    struct ref_params p = ref_default_params();
    ref_vicreg(&p, e->n, e->d, e->za, e->zb, &e->ref, e->rga, e->rgb);
    e->ctx = tu_ctx_new();
    e->loss = lib_f64(e->ctx, e->n, e->d, e->za, e->zb, e->ga, e->gb);
}

static void edge_free(struct edge *e)
{
    vicreg_ctx_destroy(e->ctx);
    free(e->za), free(e->zb), free(e->ga), free(e->gb), free(e->rga), free(e->rgb);
}

/* Constant columns: std = sqrt(eps), the hinge is active there, and the
 * variance gradient of a constant column is zero (Zc is zero). */
START_TEST(test_constant_columns)
{
    const size_t n = 12, d = 6;
    struct edge e;
    edge_make(&e, 7, n, d);
    for (size_t i = 0; i < n; i++) {
        e.za[i * d + 2] = 3.5;
        e.zb[i * d + 2] = -1.25;
        e.zb[i * d + 4] = 0.0;
    }
    edge_run(&e);
    const struct ref_result ref = e.ref;
    vicreg_ctx *ctx = e.ctx;
    const double *ga = e.ga, *gb = e.gb, *rga = e.rga, *rgb = e.rgb;
    ck_assert(tu_rel(e.loss, ref.loss) < TOL_F64);
    ck_assert(tu_rel(term(ctx, VICREG_TERM_MIN_STD_A), sqrt(1e-4)) < 1e-15);
    ck_assert(tu_rel(term(ctx, VICREG_TERM_MIN_STD_B), sqrt(1e-4)) < 1e-15);
    ck_assert(term(ctx, VICREG_TERM_COLLAPSED_FRACTION_A) >= 1.0 / 6.0);
    ck_assert(tu_rel_err(n, d, ga, d, rga, d) < TOL_F64);
    ck_assert(tu_rel_err(n, d, gb, d, rgb, d) < TOL_F64);
    edge_free(&e);
}
END_TEST

/* All columns above gamma: the variance term and its gradient vanish. */
START_TEST(test_all_above_gamma)
{
    const size_t n = 16, d = 5;
    struct edge e;
    edge_make(&e, 9, n, d);
    for (size_t i = 0; i < n * d; i++) {
        e.za[i] *= 10.0;
        e.zb[i] *= 10.0;
    }
    edge_run(&e);
    vicreg_ctx *ctx = e.ctx;
    ck_assert(e.ref.variance[0] == 0.0 && e.ref.variance[1] == 0.0);
    ck_assert(term(ctx, VICREG_TERM_VARIANCE_A) == 0.0);
    ck_assert(term(ctx, VICREG_TERM_VARIANCE_B) == 0.0);
    ck_assert(term(ctx, VICREG_TERM_COLLAPSED_FRACTION_A) == 0.0);
    ck_assert(term(ctx, VICREG_TERM_MIN_STD_A) > 1.0);
    ck_assert(tu_rel_err(n, d, e.ga, d, e.rga, d) < TOL_F64);
    /* With mu = 0 the gradient is the same: the hinge contributed nothing. */
    double ga0[16 * 5], gb0[16 * 5];
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_VARIANCE_COEFF, 0.0), VICREG_OK);
    lib_f64(ctx, n, d, e.za, e.zb, ga0, gb0);
    ck_assert(memcmp(e.ga, ga0, sizeof ga0) == 0 && memcmp(e.gb, gb0, sizeof gb0) == 0);
    edge_free(&e);
}
END_TEST

/* A column offset of 1e4 on a spread of 1: centring first keeps the
 * covariance as accurate as without the offset, even in float. */
START_TEST(test_large_offset)
{
    const size_t n = 64, d = 24;
    double *za = malloc(n * d * sizeof(double)), *zb = malloc(n * d * sizeof(double));
    double *off_a = malloc(n * d * sizeof(double)), *off_b = malloc(n * d * sizeof(double));
    tu_make_batches(11, n, d, d, za, zb);
    for (size_t i = 0; i < n * d; i++) {
        /* Rounded through float, so that the reference sees exactly the
         * values the f32 call gets. */
        off_a[i] = (double)(float)(za[i] + 1e4);
        off_b[i] = (double)(float)(zb[i] + 1e4);
    }
    for (int f32 = 0; f32 <= 1; f32++) {
        struct ref_result ref;
        struct ref_params p = ref_default_params();
        double *rga = malloc(n * d * sizeof(double)), *rgb = malloc(n * d * sizeof(double));
        ref_vicreg(&p, n, d, off_a, off_b, &ref, rga, rgb);
        for (int path = VICREG_PATH_COVARIANCE; path <= VICREG_PATH_GRAM; path++) {
            struct lib_result lib;
            vicreg_ctx *ctx = tu_ctx_new();
            ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, path), VICREG_OK);
            run_lib(ctx, f32, n, d, d, off_a, off_b, &lib);
            compare(&ref, rga, rgb, &lib, n, d, f32 ? TOL_F32 : TOL_F64, "offset 1e4");
            lib_result_free(&lib);
            vicreg_ctx_destroy(ctx);
        }
        free(rga), free(rgb);
    }
    free(za), free(zb), free(off_a), free(off_b);
}
END_TEST

/* Za == Zb: the invariance term is exactly zero and, the two branches
 * being the same batch, so are their gradients, bit for bit. */
START_TEST(test_identical_branches)
{
    const size_t n = 20, d = 30;
    double za[20 * 30], zb[20 * 30], ga[20 * 30], gb[20 * 30];
    tu_make_batches(13, n, d, d, za, zb);
    vicreg_ctx *ctx = tu_ctx_new();
    lib_f64(ctx, n, d, za, za, ga, gb);
    ck_assert(term(ctx, VICREG_TERM_INVARIANCE) == 0.0);
    ck_assert(term(ctx, VICREG_TERM_VARIANCE_A) == term(ctx, VICREG_TERM_VARIANCE_B));
    ck_assert(term(ctx, VICREG_TERM_COVARIANCE_A) == term(ctx, VICREG_TERM_COVARIANCE_B));
    ck_assert(memcmp(ga, gb, sizeof ga) == 0);
    vicreg_ctx_destroy(ctx);
}
END_TEST

/* Same input, same result, bit for bit, on repeated calls and on a fresh
 * context; a gradient asked for one branch alone equals the one computed
 * with both; no gradient at all gives the same loss. */
START_TEST(test_repeatable_and_partial)
{
    const size_t n = 33, d = 47;
    double za[33 * 47], zb[33 * 47], ga[33 * 47], gb[33 * 47], ga2[33 * 47], gb2[33 * 47];
    vicreg_ctx *ctx, *fresh;
    tu_make_batches(17, n, d, d, za, zb);
    ck_assert_int_eq(vicreg_ctx_create(&ctx), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_create(&fresh), VICREG_OK);
    double l1 = lib_f64(ctx, n, d, za, zb, ga, gb);
    double l2 = lib_f64(ctx, n, d, za, zb, ga2, gb2);
    ck_assert(l1 == l2 && memcmp(ga, ga2, sizeof ga) == 0 && memcmp(gb, gb2, sizeof gb) == 0);
    double l3 = lib_f64(fresh, n, d, za, zb, ga2, gb2);
    ck_assert(l1 == l3 && memcmp(ga, ga2, sizeof ga) == 0 && memcmp(gb, gb2, sizeof gb) == 0);
    double l4;
    memset(ga2, 0, sizeof ga2);
    ck_assert_int_eq(vicreg_loss_f64(ctx, n, d, za, d, zb, d, &l4, ga2, d, NULL, 0), VICREG_OK);
    ck_assert(l4 == l1 && memcmp(ga, ga2, sizeof ga) == 0);
    ck_assert_int_eq(vicreg_loss_f64(ctx, n, d, za, d, zb, d, &l4, NULL, 0, gb2, d), VICREG_OK);
    ck_assert(l4 == l1 && memcmp(gb, gb2, sizeof gb) == 0);
    ck_assert_int_eq(vicreg_loss_f64(ctx, n, d, za, d, zb, d, &l4, NULL, 0, NULL, 0), VICREG_OK);
    ck_assert(l4 == l1);
    vicreg_ctx_destroy(ctx);
    vicreg_ctx_destroy(fresh);
}
END_TEST

/* The automatic path takes the Gram matrix when n < d, else the covariance. */
START_TEST(test_auto_path)
{
    double za[8 * 9], zb[8 * 9];
    tu_make_batches(19, 8, 9, 9, za, zb);
    vicreg_ctx *ctx = tu_ctx_new();
    ck_assert_int_eq(vicreg_loss_f64(ctx, 8, 9, za, 9, zb, 9, NULL, NULL, 0, NULL, 0), VICREG_OK);
    ck_assert(term(ctx, VICREG_TERM_PATH_USED) == VICREG_PATH_GRAM);
    ck_assert_int_eq(vicreg_loss_f64(ctx, 8, 8, za, 9, zb, 9, NULL, NULL, 0, NULL, 0), VICREG_OK);
    ck_assert(term(ctx, VICREG_TERM_PATH_USED) == VICREG_PATH_COVARIANCE);
    vicreg_ctx_destroy(ctx);
}
END_TEST

Suite *values_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "reference", .timeout = 120,
          .tests = { TU_LOOP(test_sweep_default, 0, 2), TU_LOOP(test_sweep_coefficients, 0, 2) } },
        { .name = "edges",
          .tests = { TU_TEST(test_constant_columns), TU_TEST(test_all_above_gamma),
                     TU_TEST(test_large_offset), TU_TEST(test_identical_branches),
                     TU_TEST(test_repeatable_and_partial), TU_TEST(test_auto_path),
                     TU_TEST(test_extreme_coefficients) } },
    };
    return tu_suite("values", tcases, sizeof tcases / sizeof tcases[0]);
}
