/*
 * test-gradients.c - every gradient against central finite differences of
 * the library's own loss, in double, over a sweep of shapes, both
 * conventions, both paths and non-default coefficients.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

#define FD_TOL 1e-6

/* The largest error seen, printed at the end of each case for the record. */
static double worst_seen;

static double loss_at(vicreg_ctx *ctx, size_t n, size_t d, const double *za, const double *zb)
{
    double loss;
    ck_assert_int_eq(vicreg_loss_f64(ctx, n, d, za, d, zb, d, &loss, NULL, 0, NULL, 0), VICREG_OK);
    return loss;
}

/* A target std that keeps every column's std at least `margin` away, so
 * that no finite-difference step crosses the hinge's kink. Scans [0.5, 1.5]
 * for the point farthest from every std of both branches. */
static double gamma_away_from_kinks(size_t n, size_t d, const double *za, const double *zb,
                                    double eps)
{
    struct ref_params p = ref_default_params();
    struct ref_result r;
    double best = 1.0, best_gap = -1.0;
    double *std = malloc(2 * d * sizeof(double));
    p.eps = eps;
    for (int b = 0; b < 2; b++)
        for (size_t j = 0; j < d; j++) {
            /* The std of one column is the min std of that column alone. */
            double *ca = malloc(n * sizeof(double));
            for (size_t i = 0; i < n; i++)
                ca[i] = (b ? zb : za)[i * d + j];
            ref_vicreg(&p, n, 1, ca, ca, &r, NULL, NULL);
            std[b * d + j] = r.min_std[0];
            free(ca);
        }
    for (int k = 0; k <= 1000; k++) {
        double g = 0.5 + k / 1000.0, gap = INFINITY;
        for (size_t j = 0; j < 2 * d; j++)
            gap = fmin(gap, fabs(std[j] - g));
        if (gap > best_gap) {
            best_gap = gap;
            best = g;
        }
    }
    free(std);
    ck_assert_msg(best_gap > 1e-4, "no gamma away from the kinks");
    return best;
}

static void fd_case(size_t n, size_t d, uint64_t seed, int paper, int path, int coefficients)
{
    double *za = malloc(n * d * sizeof(double)), *zb = malloc(n * d * sizeof(double));
    double *ga = malloc(n * d * sizeof(double)), *gb = malloc(n * d * sizeof(double));
    double *fa = malloc(n * d * sizeof(double)), *fb = malloc(n * d * sizeof(double));
    struct ref_params p = ref_default_params();
    if (coefficients) {
        p.lambda = 7.0;
        p.mu = 3.0;
        p.nu = 11.0;
        p.eps = 1e-3;
    }
    p.paper = paper;
    tu_make_batches(seed, n, d, d, za, zb);
    p.gamma = gamma_away_from_kinks(n, d, za, zb, p.eps);
    vicreg_ctx *ctx = tu_ctx_new();
    tu_set_params(ctx, &p);
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, path), VICREG_OK);
    ck_assert_int_eq(vicreg_loss_f64(ctx, n, d, za, d, zb, d, NULL, ga, d, gb, d), VICREG_OK);

    for (int b = 0; b < 2; b++) {
        double *z = b ? zb : za, *fd = b ? fb : fa;
        for (size_t i = 0; i < n * d; i++) {
            double keep = z[i], h = 1e-5 * fmax(1.0, fabs(keep));
            z[i] = keep + h;
            double up = loss_at(ctx, n, d, za, zb);
            z[i] = keep - h;
            double down = loss_at(ctx, n, d, za, zb);
            z[i] = keep;
            fd[i] = (up - down) / (2.0 * h);
        }
    }
    double ea = tu_rel_err(n, d, ga, d, fa, d), eb = tu_rel_err(n, d, gb, d, fb, d);
    worst_seen = fmax(worst_seen, fmax(ea, eb));
    ck_assert_msg(ea < FD_TOL && eb < FD_TOL,
                  "n=%zu d=%zu paper=%d path=%d coef=%d: FD errors %.3g %.3g", n, d, paper, path,
                  coefficients, ea, eb);
    vicreg_ctx_destroy(ctx);
    free(za), free(zb), free(ga), free(gb), free(fa), free(fb);
}

static const size_t fd_shapes[][2] = {
    { 2, 1 }, { 2, 4 }, { 3, 3 }, { 6, 2 }, { 5, 11 }, { 11, 5 }, { 16, 16 }, { 9, 24 }, { 24, 9 },
};
#define N_FD_SHAPES (sizeof fd_shapes / sizeof fd_shapes[0])

/* _i enumerates convention x path x coefficients. */
START_TEST(test_finite_differences)
{
    int paper = _i & 1, path = (_i >> 1) % 2 ? VICREG_PATH_GRAM : VICREG_PATH_COVARIANCE;
    int coefficients = _i >> 2;
    worst_seen = 0.0;
    for (size_t s = 0; s < N_FD_SHAPES; s++)
        fd_case(fd_shapes[s][0], fd_shapes[s][1], 300 + s, paper, path, coefficients);
    printf("finite differences: paper=%d path=%d coefficients=%d: largest relative error %.3g\n",
           paper, path, coefficients, worst_seen);
}
END_TEST

/* Shifting every row by the same vector changes neither the variance nor
 * the covariance term, so their gradients sum to zero down each column
 * (they lie in the centred subspace), and with Za == Zb so does the whole
 * gradient. */
START_TEST(test_column_sums_vanish)
{
    const size_t n = 15, d = 21;
    double za[15 * 21], zb[15 * 21], ga[15 * 21], gb[15 * 21];
    tu_make_batches(23, n, d, d, za, zb);
    vicreg_ctx *ctx = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, _i ? VICREG_PATH_GRAM
                                                                      : VICREG_PATH_COVARIANCE),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_loss_f64(ctx, n, d, za, d, za, d, NULL, ga, d, gb, d), VICREG_OK);
    double scale = 0.0;
    for (size_t i = 0; i < n * d; i++)
        scale = fmax(scale, fabs(ga[i]));
    ck_assert(scale > 0.0);
    for (size_t j = 0; j < d; j++) {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += ga[i * d + j];
        ck_assert_msg(fabs(sum) < 1e-12 * scale * n, "column %zu sums to %g", j, sum);
    }
    vicreg_ctx_destroy(ctx);
}
END_TEST

Suite *gradients_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "finite-differences", .timeout = 300,
          .tests = { TU_LOOP(test_finite_differences, 0, 8) } },
        { .name = "structure", .tests = { TU_LOOP(test_column_sums_vanish, 0, 2) } },
    };
    return tu_suite("gradients", tcases, sizeof tcases / sizeof tcases[0]);
}
