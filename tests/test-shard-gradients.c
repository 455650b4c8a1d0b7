/*
 * test-shard-gradients.c - the gradient a shard's finish writes is the
 * gradient of the global loss with respect to that shard's rows (central
 * differences, f64, the middle shard of three).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "shardutil.h"

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

Suite *shard_gradients_suite(void)
{
    const struct tu_tcase tc = {
        .name = "fd", .tests = { TU_LOOP(finish_gradient_is_global_gradient, 0, 2) },
    };
    return tu_suite("shard-gradients", &tc, 1);
}
