/*
 * test-shard-values.c - the sharded computation gives the values of one
 * call: a batch split into 1 to 6 shards (equal and unequal sizes, a
 * 1-row shard, an empty shard) through sums -> reduce -> scatter ->
 * reduce -> finish, one context per shard as separate processes would
 * have, gives the loss, every term and the concatenated gradient rows of
 * vicreg_loss_*() on the whole batch (every path) and of the plain double
 * reference; so do micro-batches accumulated in one context and one pair
 * of buffers. A float32 batch whose spread float32 squares cannot hold
 * keeps the whole batch's variances through the shards (tiny_spread_*).
 *
 * The cases are test-shard-views.c's split cases with two views through
 * the two-batch calls (viewsutil.h, pair), so that the 1.1 calls and the
 * views phases are held to one set of checks.
 *
 * VICREG_SHARD_REPORT=1 prints the largest disagreements seen.
 */
#include <math.h>

#include "viewsutil.h"

START_TEST(sharded_equals_single)
{
    vu_split_sharded(_i, 1);
}
END_TEST

START_TEST(micro_batches_equal_single)
{
    vu_split_micro_batches(_i, 1);
}
END_TEST

/* A larger batch with many shards of random sizes, f64 and f32: the
 * agreement does not depend on the tiny shape. */
START_TEST(sharded_equals_single_larger)
{
    vu_split_larger(_i, 1);
}
END_TEST

/* A context with eps and gamma far below the spread of tiny_spread_case. */
static vicreg_ctx *tiny_spread_ctx(void)
{
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_EPSILON, 1e-300), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_STD_TARGET, 1e-30), VICREG_OK);
    return c;
}

/* One float32 batch of n x 2 whose spread is about 1e-24: its squares
 * (1e-48) are below the smallest float32 subnormal, so a float32 product
 * of the centred batch has a zero diagonal, while double holds them. With
 * eps and gamma far below that spread, the whole-batch call (variances in
 * double) has no hinge; the sharded calls, split as `sizes` says, must see
 * the same variances and agree with it, not see zero ones whose hinge
 * makes the gradients overflow. */
static void tiny_spread_case(const size_t *sizes, int shards)
{
    enum { N = 4, D = 2 };
    float za[N * D], zb[N * D];
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++) {
            za[i * D + j] = (float)((double)(i + 1) * (double)(j + 2) * 1e-24);
            zb[i * D + j] = (float)((double)((i * 3) % N + 1) * (double)(j + 1) * 1e-24);
        }
    vicreg_ctx *whole = tiny_spread_ctx();
    double loss = 0.0;
    float ga[N * D], gb[N * D];
    ck_assert_int_eq(vicreg_loss_f32(whole, N, D, za, D, zb, D, &loss, ga, D, gb, D),
                     VICREG_OK);
    double min_std = 0.0, variance = -1.0;
    ck_assert_int_eq(vicreg_ctx_get_term(whole, VICREG_TERM_MIN_STD_A, &min_std), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_term(whole, VICREG_TERM_VARIANCE_A, &variance), VICREG_OK);
    ck_assert(min_std > 1e-30 && variance == 0.0);

    size_t sums_len = 0, scatter_len = 0;
    ck_assert_int_eq(vicreg_shard_sizes(D, &sums_len, &scatter_len), VICREG_OK);
    double sums[2 + 2 * D] = { 0 }, scatter[D * (D + 1)] = { 0 };
    ck_assert(sums_len == 2 + 2 * D && scatter_len == D * (D + 1));
    vicreg_ctx *c = tiny_spread_ctx();
    size_t first[N + 1] = { 0 }; /* shard k's first row */
    for (int k = 0; k < shards; k++)
        first[k + 1] = first[k] + sizes[k];
    ck_assert(first[shards] == N);
    for (int k = 0; k < shards; k++)
        ck_assert_int_eq(vicreg_shard_sums_f32(c, sizes[k], D, za + first[k] * D, D,
                                               zb + first[k] * D, D, sums),
                         VICREG_OK);
    for (int k = 0; k < shards; k++)
        ck_assert_int_eq(vicreg_shard_scatter_f32(c, sizes[k], D, za + first[k] * D, D,
                                                  zb + first[k] * D, D, sums, scatter),
                         VICREG_OK);
    for (int k = 0; k < shards; k++) {
        const size_t row = first[k];
        double shard_loss = 0.0, shard_min_std = 0.0;
        int st = vicreg_shard_finish_f32(c, sizes[k], D, za + row * D, D, zb + row * D, D, sums,
                                         scatter, &shard_loss, ga + row * D, D, gb + row * D,
                                         D);
        ck_assert_msg(st == VICREG_OK, "shard %d of %d: %s", k, shards, vicreg_status_name(st));
        ck_assert(fabs(shard_loss - loss) <= 1e-5 * fabs(loss));
        ck_assert_int_eq(vicreg_ctx_get_term(c, VICREG_TERM_MIN_STD_A, &shard_min_std),
                         VICREG_OK);
        ck_assert(fabs(shard_min_std - min_std) <= 1e-6 * min_std);
    }
    for (size_t i = 0; i < N * D; i++)
        ck_assert(isfinite(ga[i]) && isfinite(gb[i]));
    vicreg_ctx_destroy(c);
    vicreg_ctx_destroy(whole);
}

START_TEST(tiny_spread_one_shard)
{
    const size_t sizes[1] = { 4 };
    tiny_spread_case(sizes, 1);
}
END_TEST

START_TEST(tiny_spread_two_shards)
{
    const size_t sizes[2] = { 1, 3 };
    tiny_spread_case(sizes, 2);
}
END_TEST

/* Prints the figures once the equal test case has run (CK_FORK=no runs
 * see every test; with fork each test's figure is its own). */
static void report_worst(void)
{
    vu_split_report(1);
}

Suite *shard_values_suite(void)
{
    const struct tu_tcase tc = {
        .name = "equal",
        .unchecked_teardown = report_worst,
        .tests = { TU_LOOP(sharded_equals_single, 0, VU_SPLIT_CASES),
                   TU_LOOP(micro_batches_equal_single, 0, VU_SPLIT_CASES),
                   TU_LOOP(sharded_equals_single_larger, 0, 4),
                   TU_TEST(tiny_spread_one_shard), TU_TEST(tiny_spread_two_shards) },
    };
    return tu_suite("shard-values", &tc, 1);
}
