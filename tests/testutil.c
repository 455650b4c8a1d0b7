/*
 * testutil.c - see testutil.h.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "testutil.h"

const int tu_all_terms[TU_N_TERMS] = {
    VICREG_TERM_LOSS, VICREG_TERM_INVARIANCE, VICREG_TERM_VARIANCE_A, VICREG_TERM_VARIANCE_B,
    VICREG_TERM_COVARIANCE_A, VICREG_TERM_COVARIANCE_B, VICREG_TERM_MEAN_STD_A,
    VICREG_TERM_MEAN_STD_B, VICREG_TERM_MIN_STD_A, VICREG_TERM_MIN_STD_B,
    VICREG_TERM_COLLAPSED_FRACTION_A, VICREG_TERM_COLLAPSED_FRACTION_B,
    VICREG_TERM_EFFECTIVE_RANK_A, VICREG_TERM_EFFECTIVE_RANK_B, VICREG_TERM_PATH_USED,
};

void tu_make_batches(uint64_t seed, size_t n, size_t d, size_t ld, double *za, double *zb)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double scale = 0.2 + 1.8 * (double)((j * 7919u) % 97u) / 96.0;
            double base = tu_uniform(&s) * scale * 1.7320508;
            /* Mix in the previous column to correlate neighbours. */
            if (j > 0)
                base += 0.5 * za[i * ld + j - 1];
            za[i * ld + j] = (float)base;
        }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            zb[i * ld + j] = (float)(za[i * ld + j] + 0.3 * tu_uniform(&s));
}

double tu_column_variance(size_t n, size_t d, const double *z, size_t j)
{
    double mean = 0.0, v = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += z[i * d + j];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        v += (z[i * d + j] - mean) * (z[i * d + j] - mean);
    return v / (double)(n - 1);
}

double tu_rel_err(size_t n, size_t d, const double *x, size_t ldx, const double *y, size_t ldy)
{
    double err = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            err = fmax(err, fabs(x[i * ldx + j] - y[i * ldy + j]));
            scale = fmax(scale, fabs(y[i * ldy + j]));
        }
    return err / fmax(scale, DBL_MIN);
}

double tu_rel(double x, double y)
{
    return fabs(x - y) / fmax(fabs(y), DBL_MIN);
}

void tu_set_params(vicreg_ctx *ctx, const struct ref_params *p)
{
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_INVARIANCE_COEFF, p->lambda), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_VARIANCE_COEFF, p->mu), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_COVARIANCE_COEFF, p->nu), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_STD_TARGET, p->gamma), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_EPSILON, p->eps), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_CONVENTION,
                                          p->paper ? VICREG_CONVENTION_PAPER
                                                   : VICREG_CONVENTION_REFERENCE),
                     VICREG_OK);
}

vicreg_ctx *tu_ctx_new(void)
{
    vicreg_ctx *c = NULL;
    ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_OK);
    return c;
}

int tu_read_terms(const vicreg_ctx *c, double *terms)
{
    double v;
    const int status = vicreg_ctx_get_term(c, VICREG_TERM_LOSS, &v);
    for (size_t k = 0; k < TU_N_TERMS; k++)
        ck_assert_int_eq(vicreg_ctx_get_term(c, tu_all_terms[k], &terms[k]),
                         status == VICREG_OK ? VICREG_OK : VICREG_ERR_NO_RESULT);
    return status;
}

Suite *tu_suite(const char *name, const struct tu_tcase *tcases, size_t count)
{
    Suite *s = suite_create(name);
    for (size_t k = 0; k < count; k++) {
        const struct tu_tcase *t = &tcases[k];
        TCase *tc = tcase_create(t->name);
        if (t->setup || t->teardown)
            tcase_add_checked_fixture(tc, t->setup, t->teardown);
        if (t->unchecked_teardown)
            tcase_add_unchecked_fixture(tc, NULL, t->unchecked_teardown);
        if (t->tags)
            tcase_set_tags(tc, t->tags);
        if (t->timeout > 0)
            tcase_set_timeout(tc, t->timeout);
        for (size_t m = 0; t->tests[m].test; m++)
            tcase_add_loop_test(tc, t->tests[m].test, t->tests[m].start, t->tests[m].end);
        suite_add_tcase(s, tc);
    }
    return s;
}

int tu_run(SRunner *r)
{
    srunner_run_all(r, CK_NORMAL);
    const int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
