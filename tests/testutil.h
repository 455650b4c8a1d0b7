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
/* The 1.1 additions; their shared helpers are in shardutil.h. */
Suite *shard_values_suite(void);
Suite *shard_gradients_suite(void);
Suite *loss_rows_suite(void);
Suite *grad_scale_suite(void);
Suite *shard_errors_suite(void);
Suite *ctx_buffer_suite(void);

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

/* max_i |x_i - y_i| / max(max_i |y_i|, tiny): the normwise relative error
 * of x against the reference y, over n x d arrays with leading
 * dimensions ldx and ldy. */
double tu_rel_err(size_t n, size_t d, const double *x, size_t ldx, const double *y, size_t ldy);

/* |x - y| / max(|y|, tiny). */
double tu_rel(double x, double y);

/* The library's parameters set from a ref_params (asserts success). */
void tu_set_params(vicreg_ctx *ctx, const struct ref_params *p);

#endif
