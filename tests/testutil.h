/*
 * testutil.h - what every test file shares: the suites, batch generators
 * and error measures. The helpers for tests run in either precision are
 * in precision.h.
 */
#ifndef VICREG_TESTUTIL_H
#define VICREG_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "reference.h"
#include "vicreg.h"

/* One suite per contract, each in its own file and named as the suite;
 * test-main.c runs them all, and tests/meson.build registers one meson
 * test per suite (CK_RUN_SUITE=<name>). */
Suite *lifecycle_suite(void);
Suite *params_suite(void);
Suite *errors_suite(void);
Suite *values_suite(void);
Suite *gradients_suite(void);
Suite *vectors_suite(void);
Suite *threads_suite(void);
/* The 1.1 additions; their shared helpers are in shardutil.h (and, for
 * shard-values and shard-errors, the pairs of viewsutil.h). */
Suite *shard_values_suite(void);
Suite *shard_gradients_suite(void);
Suite *loss_rows_suite(void);
Suite *grad_scale_suite(void);
Suite *shard_errors_suite(void);
Suite *ctx_buffer_suite(void);
/* The 1.2 additions. The views, shard-views and views-vectors suites
 * share the helpers of viewsutil.h. */
Suite *views_exact_suite(void);
Suite *views_suite(void);
Suite *shard_views_suite(void);
Suite *views_vectors_suite(void);
Suite *pass_threads_suite(void);

/* Every term key of the API, VICREG_TERM_PATH_USED last. */
#define TU_N_TERMS 15
extern const int tu_all_terms[TU_N_TERMS];

/* A small deterministic generator (splitmix64), so every run and every
 * thread sees the same data. */
static inline uint64_t tu_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static inline double tu_uniform(uint64_t *state)
{
    return (double)(tu_next(state) >> 11) * 0x1.0p-52 - 1.0;
}

/* Fills za, zb (n x d, leading dimension ld) with a correlated pair: each
 * column of za gets its own scale in [0.2, 2] so that some columns sit
 * below gamma = 1 and some above, columns are mixed so that the covariance
 * is not diagonal, and zb = za + noise. Values are rounded through float
 * so that the same data serves f32 and f64 tests. */
void tu_make_batches(uint64_t seed, size_t n, size_t d, size_t ld, double *za, double *zb);

/* The unbiased variance of column j of the packed n x d batch z, two
 * passes in double (the mean, then the squared deviations). */
double tu_column_variance(size_t n, size_t d, const double *z, size_t j);

/* max_i |x_i - y_i| / max(max_i |y_i|, tiny): the normwise relative error
 * of x against the reference y, over n x d arrays with leading
 * dimensions ldx and ldy. */
double tu_rel_err(size_t n, size_t d, const double *x, size_t ldx, const double *y, size_t ldy);

/* |x - y| / max(|y|, tiny). */
double tu_rel(double x, double y);

/* The library's parameters set from a ref_params (asserts success). */
void tu_set_params(vicreg_ctx *ctx, const struct ref_params *p);

/* A new context (asserts that vicreg_ctx_create succeeds). */
vicreg_ctx *tu_ctx_new(void);

/* Every term of c's last result into terms[0 .. TU_N_TERMS), in the order
 * of tu_all_terms, asserting that each read gives VICREG_OK when c has a
 * result and VICREG_ERR_NO_RESULT when it has none. Returns the status of
 * reading VICREG_TERM_LOSS: VICREG_OK when c has a result. */
int tu_read_terms(const vicreg_ctx *c, double *terms);

/* ---------------------------------------------------------------------
 * Suites as tables: each suite function lists its tcases and their tests
 * and tu_suite() registers them, in that order, with Check.
 * --------------------------------------------------------------------- */

/* One test of a tcase: the loop test over _i in [start, end). A plain
 * test is the loop [0, 1), which is what tcase_add_test() adds. */
struct tu_test {
    const TTest *test;
    int start, end;
};
#define TU_TEST(t) { (t), 0, 1 }
#define TU_LOOP(t, s, e) { (t), (s), (e) }

#define TU_MAX_TESTS 10

/* One tcase: its name, its checked fixture (NULL for none), the teardown
 * of its unchecked fixture (NULL for none), its timeout in seconds (0:
 * Check's default), its tags (NULL for none) and its tests, up to the
 * first NULL one. */
struct tu_tcase {
    const char *name;
    SFun setup, teardown;
    SFun unchecked_teardown;
    double timeout;
    const char *tags;
    struct tu_test tests[TU_MAX_TESTS + 1];
};

/* The suite `name` with the tcases tcases[0 .. count). */
Suite *tu_suite(const char *name, const struct tu_tcase *tcases, size_t count);

/* Runs every test of r (CK_NORMAL), frees r; EXIT_SUCCESS when every test
 * passed, EXIT_FAILURE otherwise. */
int tu_run(SRunner *r);

#endif
