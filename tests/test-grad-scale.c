/*
 * test-grad-scale.c - VICREG_PARAM_GRAD_SCALE: its default, bounds and
 * rejected values, and what it does: gradients exactly 4 times at scale 4,
 * 3 times up to rounding at 3, zeros at 0, the loss and the terms
 * unchanged, for vicreg_loss_*() on both paths, vicreg_loss_rows_*() and
 * the sharded finish.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shardutil.h"

START_TEST(grad_scale_param)
{
    double v = NAN, lo = NAN, hi = NAN;
    vicreg_ctx *c = tu_ctx_new();
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
        ck_assert_int_eq(prec_loss_rows(prec, c, n, d, b.za, d, b.zb, d, 2, 6, &o[1][s].loss,
                                        (char *)ga + 2 * d * elem_of(prec), d,
                                        (char *)gb + 2 * d * elem_of(prec), d),
                         VICREG_OK);
        read_terms(c, o[1][s].terms);
        for (size_t i = 0; i < n * d; i++) {
            o[1][s].ga[i] = elem_get(prec, ga, i);
            o[1][s].gb[i] = elem_get(prec, gb, i);
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

Suite *grad_scale_suite(void)
{
    const struct tu_tcase tc = {
        .name = "scale",
        .tests = { TU_TEST(grad_scale_param), TU_LOOP(grad_scale_multiplies_gradients, 0, 8) },
    };
    return tu_suite("grad-scale", &tc, 1);
}
