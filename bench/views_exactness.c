/*
 * views_exactness.c - how exact the invariance over views stays when the
 * views are nearly equal, which is the normal case late in training.
 *
 * Views Z_v = B + delta * E_v (B, E_v i.i.d. uniform in [-1, 1), rounded to
 * the precision), for delta from 1e-1 down to 1e-12 (double) or 1e-6
 * (float, where smaller perturbations round away). For each, the weighted
 * pair invariance s_bar (VICREG_TERM_INVARIANCE) of vicreg_views_loss_* is
 * compared with a reference that sums the pairs' squared differences in
 * long double, and so are two cancellation-prone ways of computing it in
 * double that an implementation might take:
 *
 *   expansion   ||Z_i - Z_j||^2 = ||Z_i||^2 + ||Z_j||^2 - 2 <Z_i, Z_j>
 *               (what a GEMM-based pairwise distance computes)
 *   moments     sum_{i<j} ||Z_i - Z_j||^2 = V sum_v ||Z_v||^2 - ||sum_v Z_v||^2
 *               (G = V only; the same cancellation through sums of squares)
 *
 * Printed: the relative error of each against the reference. The library's
 * error stays at the rounding of the result; the others grow as
 * 1 / delta^2. Usage: views-exactness [V [G [n [d]]]]  (default 8 8 256 512)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "vicreg.h"

static unsigned long long rng_state = 2024;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

/* The pair weight W_ij = [i < G] + [j < G]. */
static int weight(size_t i, size_t j, size_t global)
{
    return (i < global) + (j < global);
}

/* sum_{i<j} W_ij ||Z_i - Z_j||^2 / (G (V - 1)), summed in long double. */
static long double reference(size_t views, size_t global, size_t count, double *const *z)
{
    long double total = 0.0L;
    for (size_t i = 0; i < views; i++)
        for (size_t j = i + 1; j < views; j++) {
            long double pair = 0.0L;
            for (size_t k = 0; k < count; k++) {
                long double diff = (long double)z[i][k] - (long double)z[j][k];
                pair += diff * diff;
            }
            total += weight(i, j, global) * pair;
        }
    return total / ((long double)global * (long double)(views - 1));
}

/* The same through ||a||^2 + ||b||^2 - 2 <a, b>, in double. */
static double expansion(size_t views, size_t global, size_t count, double *const *z)
{
    double total = 0.0;
    for (size_t i = 0; i < views; i++)
        for (size_t j = i + 1; j < views; j++) {
            double aa = 0.0, bb = 0.0, ab = 0.0;
            for (size_t k = 0; k < count; k++) {
                aa += z[i][k] * z[i][k];
                bb += z[j][k] * z[j][k];
                ab += z[i][k] * z[j][k];
            }
            total += weight(i, j, global) * (aa + bb - 2.0 * ab);
        }
    return total / ((double)global * (double)(views - 1));
}

/* With G = V: (V sum_v ||Z_v||^2 - ||sum_v Z_v||^2) * 2 / (V (V - 1)). */
static double moments(size_t views, size_t count, double *const *z)
{
    double squares = 0.0, sum_sq = 0.0;
    for (size_t k = 0; k < count; k++) {
        double s = 0.0;
        for (size_t v = 0; v < views; v++) {
            squares += z[v][k] * z[v][k];
            s += z[v][k];
        }
        sum_sq += s * s;
    }
    return ((double)views * squares - sum_sq) * 2.0 / ((double)views * (double)(views - 1));
}

/* The library's s_bar of the views (rounded to float first when f32). */
static double library(int f32, size_t views, size_t global, size_t n, size_t d,
                      double *const *z)
{
    vicreg_ctx *ctx;
    if (vicreg_ctx_create(&ctx) != VICREG_OK)
        exit(1);
    vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, (double)global);
    int status;
    if (f32) {
        float *zf[VICREG_MAX_VIEWS];
        for (size_t v = 0; v < views; v++) {
            zf[v] = malloc(n * d * sizeof(float));
            for (size_t k = 0; k < n * d; k++)
                zf[v][k] = (float)z[v][k];
        }
        status = vicreg_views_loss_f32(ctx, views, n, d, (const float *const *)zf, NULL, NULL,
                                       NULL, NULL);
        for (size_t v = 0; v < views; v++)
            free(zf[v]);
    } else {
        status = vicreg_views_loss_f64(ctx, views, n, d, (const double *const *)z, NULL, NULL,
                                       NULL, NULL);
    }
    double s = NAN;
    if (status != VICREG_OK || vicreg_ctx_get_term(ctx, VICREG_TERM_INVARIANCE, &s) != VICREG_OK)
        fprintf(stderr, "views-exactness: %s\n", vicreg_strerror(status));
    vicreg_ctx_destroy(ctx);
    return s;
}

static double rel(double x, long double ref)
{
    return (double)(fabsl((long double)x - ref) / fabsl(ref));
}

int main(int argc, char **argv)
{
    size_t views = argc > 1 ? strtoul(argv[1], NULL, 10) : 8;
    size_t global = argc > 2 ? strtoul(argv[2], NULL, 10) : views;
    size_t n = argc > 3 ? strtoul(argv[3], NULL, 10) : 256;
    size_t d = argc > 4 ? strtoul(argv[4], NULL, 10) : 512;
    if (views < 2 || views > VICREG_MAX_VIEWS || global < 1 || global > views || n < 2 || !d) {
        fprintf(stderr, "usage: views-exactness [V >= 2 [1 <= G <= V [n >= 2 [d >= 1]]]]\n");
        return 2;
    }
    const size_t count = n * d;
    double *base = malloc(count * sizeof(double)), *z[VICREG_MAX_VIEWS];
    for (size_t k = 0; k < count; k++)
        base[k] = uniform();
    for (size_t v = 0; v < views; v++)
        z[v] = malloc(count * sizeof(double));
    printf("views-exactness: V = %zu, G = %zu, n = %zu, d = %zu; relative error of s_bar\n",
           views, global, n, d);
    printf("%-6s %-8s %12s %12s %12s\n", "input", "delta", "libvicreg", "expansion",
           global == views ? "moments" : "-");
    for (int f32 = 0; f32 < 2; f32++) {
        const int last = f32 ? -6 : -12;
        for (int e = -1; e >= last; e--) {
            const double delta = pow(10.0, e);
            for (size_t v = 0; v < views; v++)
                for (size_t k = 0; k < count; k++) {
                    double x = base[k] + delta * uniform();
                    z[v][k] = f32 ? (double)(float)x : x;
                }
            const long double ref = reference(views, global, count, z);
            /* The invariance is in the reference convention: 1 / (n d). */
            const long double ref_s = ref / ((long double)n * (long double)d);
            const double lib = library(f32, views, global, n, d, z);
            const double exp_s = expansion(views, global, count, z) / ((double)n * (double)d);
            printf("%-6s %-8.0e %12.2e %12.2e", f32 ? "f32" : "f64", delta, rel(lib, ref_s),
                   rel(exp_s, ref_s));
            if (global == views)
                printf(" %12.2e", rel(moments(views, count, z) / ((double)n * (double)d), ref_s));
            printf("\n");
        }
    }
    for (size_t v = 0; v < views; v++)
        free(z[v]);
    free(base);
    return 0;
}
