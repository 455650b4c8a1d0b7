/*
 * test-views-exact.c - the invariance over views stays exact when the
 * views are nearly equal (the normal case late in training): s_bar of
 * vicreg_views_loss_* against the pairs' squared differences summed in
 * long double, for views B + delta E_v down to delta = 1e-12 (double) and
 * 1e-6 (float input, where smaller perturbations round away). An
 * implementation through sums of squares (||a||^2 + ||b||^2 - 2 <a, b>)
 * loses all its digits there; bench/views_exactness.c prints both.
 */
#include <math.h>
#include <stdlib.h>

#include "testutil.h"

enum { EXACT_VIEWS = 5, EXACT_GLOBAL = 2, EXACT_N = 24, EXACT_D = 40 };

/* sum_{i<j} W_ij ||Z_i - Z_j||^2 / (G (V - 1)) / (n d): s_bar in the
 * reference convention, in long double. */
static long double exact_s_bar(double *const *z)
{
    long double total = 0.0L;
    for (size_t i = 0; i < EXACT_VIEWS; i++)
        for (size_t j = i + 1; j < EXACT_VIEWS; j++) {
            long double pair = 0.0L;
            for (size_t k = 0; k < EXACT_N * EXACT_D; k++) {
                long double diff = (long double)z[i][k] - (long double)z[j][k];
                pair += diff * diff;
            }
            total += ((i < EXACT_GLOBAL) + (j < EXACT_GLOBAL)) * pair;
        }
    return total / ((long double)EXACT_GLOBAL * (EXACT_VIEWS - 1)) /
           ((long double)EXACT_N * EXACT_D);
}

/* s_bar of the library on the views (as float when f32). */
static double library_s_bar(int f32, double *const *z)
{
    vicreg_ctx *ctx = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, EXACT_GLOBAL),
                     VICREG_OK);
    int status;
    if (f32) {
        static float zf[EXACT_VIEWS][EXACT_N * EXACT_D];
        const float *views[EXACT_VIEWS];
        for (size_t v = 0; v < EXACT_VIEWS; v++) {
            for (size_t k = 0; k < EXACT_N * EXACT_D; k++)
                zf[v][k] = (float)z[v][k];
            views[v] = zf[v];
        }
        status = vicreg_views_loss_f32(ctx, EXACT_VIEWS, EXACT_N, EXACT_D, views, NULL, NULL,
                                       NULL, NULL);
    } else {
        status = vicreg_views_loss_f64(ctx, EXACT_VIEWS, EXACT_N, EXACT_D,
                                       (const double *const *)z, NULL, NULL, NULL, NULL);
    }
    ck_assert_int_eq(status, VICREG_OK);
    double s;
    ck_assert_int_eq(vicreg_ctx_get_term(ctx, VICREG_TERM_INVARIANCE, &s), VICREG_OK);
    vicreg_ctx_destroy(ctx);
    return s;
}

static void check_exact(int f32, int last_exponent)
{
    static double storage[EXACT_VIEWS][EXACT_N * EXACT_D];
    double base[EXACT_N * EXACT_D], *z[EXACT_VIEWS];
    uint64_t state = 77;
    for (size_t k = 0; k < EXACT_N * EXACT_D; k++)
        base[k] = tu_uniform(&state);
    for (int e = -1; e >= last_exponent; e--) {
        const double delta = pow(10.0, e);
        for (size_t v = 0; v < EXACT_VIEWS; v++) {
            z[v] = storage[v];
            for (size_t k = 0; k < EXACT_N * EXACT_D; k++) {
                double x = base[k] + delta * tu_uniform(&state);
                z[v][k] = f32 ? (double)(float)x : x;
            }
        }
        const long double ref = exact_s_bar(z);
        const double err = (double)(fabsl((long double)library_s_bar(f32, z) - ref) / ref);
        /* A few roundings of the double sums, whatever delta is. */
        ck_assert_msg(err < 1e-13, "%s, delta 1e%d: s_bar relative error %.3g",
                      f32 ? "float" : "double", e, err);
    }
}

START_TEST(test_nearly_equal_views_f64)
{
    check_exact(0, -12);
}
END_TEST

START_TEST(test_nearly_equal_views_f32)
{
    check_exact(1, -6);
}
END_TEST

Suite *views_exact_suite(void)
{
    const struct tu_tcase tc = { .name = "nearly-equal",
                                 .tests = { TU_TEST(test_nearly_equal_views_f64),
                                            TU_TEST(test_nearly_equal_views_f32) } };
    return tu_suite("views-exact", &tc, 1);
}
