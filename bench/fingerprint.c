/*
 * fingerprint.c - one 64-bit hash of everything libvicreg computes over a
 * fixed sweep: loss, terms, gradients, vicreg_loss_rows_* and the sharded
 * calls, for 11 shapes x 5 parameter sets (extreme ones included) x 3 path
 * settings x 2 conventions x 2 precisions, statuses included.
 *
 * A change that must keep results bitwise (a re-cut of the sources, a
 * faster pass) prints the same fingerprint before and after, with the same
 * BLAS, kernel set and thread count: run it against both builds,
 *
 *   OPENBLAS_NUM_THREADS=1 build-old/bench/vicreg-fingerprint
 *   OPENBLAS_NUM_THREADS=1 build-new/bench/vicreg-fingerprint
 *
 * and compare. It also shows what the bits depend on: another kernel set
 * (OPENBLAS_CORETYPE) or BLAS thread count may print another fingerprint.
 * Not a test: it has no expected value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vicreg.h"

static uint64_t hash = 1469598103934665603ull; /* FNV-1a */

static void mix(const void *p, size_t bytes)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < bytes; i++) {
        hash ^= c[i];
        hash *= 1099511628211ull;
    }
}

static void mix_status(int status)
{
    mix(&status, sizeof status);
}

static void mix_terms(const vicreg_ctx *ctx)
{
    for (int term = VICREG_TERM_LOSS; term <= VICREG_TERM_PATH_USED; term++) {
        double v = 0.0;
        mix_status(vicreg_ctx_get_term(ctx, term, &v));
        mix(&v, sizeof v);
    }
}

static uint64_t next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s;
}

/* The sharded calls on the batch split in two, in one precision. */
static void mix_shards(vicreg_ctx *c, int f64, size_t n, size_t d, size_t ld, const void *a,
                       const void *b, void *ga, void *gb)
{
    size_t sums_len, scatter_len;
    vicreg_shard_sizes(d, &sums_len, &scatter_len);
    double *sums = calloc(sums_len, sizeof *sums), *scatter = calloc(scatter_len, sizeof *scatter);
    const size_t cut = n / 2, rows[2] = { cut, n - cut }, e = f64 ? sizeof(double) : sizeof(float);
    const char *za[2] = { a, (const char *)a + cut * ld * e };
    const char *zb[2] = { b, (const char *)b + cut * ld * e };
    double loss = 0.0;
    for (int k = 0; k < 2; k++)
        mix_status(f64 ? vicreg_shard_sums_f64(c, rows[k], d, (const double *)za[k], ld,
                                               (const double *)zb[k], ld, sums)
                       : vicreg_shard_sums_f32(c, rows[k], d, (const float *)za[k], ld,
                                               (const float *)zb[k], ld, sums));
    for (int k = 0; k < 2; k++)
        mix_status(f64 ? vicreg_shard_scatter_f64(c, rows[k], d, (const double *)za[k], ld,
                                                  (const double *)zb[k], ld, sums, scatter)
                       : vicreg_shard_scatter_f32(c, rows[k], d, (const float *)za[k], ld,
                                                  (const float *)zb[k], ld, sums, scatter));
    mix(sums, sums_len * sizeof *sums);
    mix(scatter, scatter_len * sizeof *scatter);
    for (int k = 0; k < 2; k++) {
        mix_status(f64 ? vicreg_shard_finish_f64(c, rows[k], d, (const double *)za[k], ld,
                                                 (const double *)zb[k], ld, sums, scatter, &loss,
                                                 ga, ld, gb, ld)
                       : vicreg_shard_finish_f32(c, rows[k], d, (const float *)za[k], ld,
                                                 (const float *)zb[k], ld, sums, scatter, &loss,
                                                 ga, ld, gb, ld));
        mix(&loss, sizeof loss);
        mix(ga, rows[k] * ld * e);
        mix(gb, rows[k] * ld * e);
    }
    free(sums);
    free(scatter);
}

int main(void)
{
    static const size_t shapes[][2] = { { 2, 1 },   { 2, 3 },   { 5, 5 },  { 7, 13 },
                                        { 13, 7 },  { 40, 24 }, { 10, 48 }, { 64, 32 },
                                        { 96, 64 }, { 20, 120 }, { 130, 70 } };
    /* lambda, mu, nu, gamma, eps, gradient scale */
    static const double params[][6] = {
        { 25, 25, 1, 1, 1e-4, 1 },          { 10, 5, 3, 0.8, 1e-3, 1 },
        { 25, 1e9, 1e-28, 1e9, 1e-4, 1 },   { 0, 1e-9, 1e-42, 1, 1e-4, 1 },
        { 25, 25, 1, 1, 1e-4, 4 },
    };
    static const int keys[6] = { VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF,
                                 VICREG_PARAM_COVARIANCE_COEFF, VICREG_PARAM_STD_TARGET,
                                 VICREG_PARAM_EPSILON,          VICREG_PARAM_GRAD_SCALE };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const size_t n = shapes[s][0], d = shapes[s][1], ld = d + 1, count = n * ld;
        double *a = malloc(count * sizeof *a), *b = malloc(count * sizeof *b);
        double *ga = calloc(count, sizeof *ga), *gb = calloc(count, sizeof *gb);
        float *fa = malloc(count * sizeof *fa), *fb = malloc(count * sizeof *fb);
        float *fga = calloc(count, sizeof *fga), *fgb = calloc(count, sizeof *fgb);
        uint64_t state = s + 1;
        for (size_t i = 0; i < count; i++) {
            double u = (double)(next(&state) >> 11) * 0x1p-53 - 0.5;
            double v = (double)(next(&state) >> 11) * 0x1p-53 - 0.5;
            a[i] = (float)(3.0 * u * (double)(1 + (i % d) % 3));
            b[i] = (float)(a[i] + 0.3 * v);
            fa[i] = (float)a[i];
            fb[i] = (float)b[i];
        }
        for (size_t ps = 0; ps < sizeof params / sizeof params[0]; ps++)
            for (int path = VICREG_PATH_AUTO; path <= VICREG_PATH_GRAM; path++)
                for (int conv = VICREG_CONVENTION_REFERENCE; conv <= VICREG_CONVENTION_PAPER;
                     conv++) {
                    vicreg_ctx *c;
                    if (vicreg_ctx_create(&c) != VICREG_OK)
                        return EXIT_FAILURE;
                    for (int k = 0; k < 6; k++)
                        vicreg_ctx_set_param(c, keys[k], params[ps][k]);
                    vicreg_ctx_set_param(c, VICREG_PARAM_PATH, path);
                    vicreg_ctx_set_param(c, VICREG_PARAM_CONVENTION, conv);
                    double loss = 0.0;
                    mix_status(vicreg_loss_f64(c, n, d, a, ld, b, ld, &loss, ga, ld, gb, ld));
                    mix(&loss, sizeof loss);
                    mix(ga, count * sizeof *ga);
                    mix(gb, count * sizeof *gb);
                    mix_terms(c);
                    mix_status(vicreg_loss_f32(c, n, d, fa, ld, fb, ld, &loss, fga, ld, fgb, ld));
                    mix(&loss, sizeof loss);
                    mix(fga, count * sizeof *fga);
                    mix(fgb, count * sizeof *fgb);
                    mix_terms(c);
                    if (n > 2) {
                        mix_status(vicreg_loss_rows_f32(c, n, d, fa, ld, fb, ld, 1, n - 2, &loss,
                                                        fga, ld, fgb, ld));
                        mix(&loss, sizeof loss);
                        mix(fga, count * sizeof *fga);
                        mix_status(vicreg_loss_rows_f64(c, n, d, a, ld, b, ld, 1, n - 2, &loss,
                                                        ga, ld, gb, ld));
                        mix(&loss, sizeof loss);
                        mix(gb, count * sizeof *gb);
                    }
                    if (path == VICREG_PATH_AUTO) {
                        mix_shards(c, 1, n, d, ld, a, b, ga, gb);
                        mix_shards(c, 0, n, d, ld, fa, fb, fga, fgb);
                    }
                    vicreg_ctx_destroy(c);
                }
        free(a), free(b), free(ga), free(gb), free(fa), free(fb), free(fga), free(fgb);
    }
    printf("libvicreg %s fingerprint %016llx\n", vicreg_version_string(),
           (unsigned long long)hash);
    return EXIT_SUCCESS;
}
