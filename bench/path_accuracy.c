/*
 * path_accuracy.c - how accurate each path is in float32, to choose when
 * the automatic path takes the Gram matrix.
 *
 * For a sweep of n/d ratios and two kinds of batch, it runs the float32
 * loss on the covariance path and on the Gram path and compares each with
 * the float64 covariance path on the same (float-representable) data:
 *
 *   random    i.i.d. uniform entries with correlated neighbouring columns
 *   whitened  the most decorrelated batch the shape allows: Zc = U W with
 *             U an orthonormal basis of the centred subspace of R^n and W
 *             with orthonormal rows or columns, so that C is a multiple of
 *             the identity (n > d) or of a projection (n <= d). Here the
 *             off-diagonal sum is smallest against the diagonal, which is
 *             where the Gram form ||K||^2/(n-1)^2 - sum Var^2 cancels.
 *
 * Printed: the relative error of the covariance term c(Za), of c measured
 * against ||C||_F^2 / d (its natural scale, meaningful when c is ~0), and
 * the normwise relative error of dL/dZa. Usage: path-accuracy [d ...]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vicreg.h"

static unsigned long long rng_state = 12345;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

static void make_random(size_t n, size_t d, double *z)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            z[i * d + j] = uniform() + (j ? 0.3 * z[i * d + j - 1] : 0.0);
}

/* Orthonormalises the `count` vectors of length `len` stored at v with
 * stride `stride` between vectors and `step` between elements (two passes
 * of modified Gram-Schmidt). */
static void orthonormalise(double *v, size_t count, size_t len, size_t stride, size_t step)
{
    for (size_t k = 0; k < count; k++)
        for (int pass = 0; pass < 2; pass++) {
            double *x = v + k * stride;
            for (size_t l = 0; l < k; l++) {
                const double *y = v + l * stride;
                double dot = 0.0;
                for (size_t t = 0; t < len; t++)
                    dot += x[t * step] * y[t * step];
                for (size_t t = 0; t < len; t++)
                    x[t * step] -= dot * y[t * step];
            }
            double norm = 0.0;
            for (size_t t = 0; t < len; t++)
                norm += x[t * step] * x[t * step];
            norm = sqrt(norm);
            for (size_t t = 0; t < len; t++)
                x[t * step] /= norm;
        }
}

static void make_whitened(size_t n, size_t d, double *z)
{
    size_t r = n - 1; /* rank of the centred subspace */
    double *w = malloc(r * d * sizeof(double));
    for (size_t i = 0; i < r * d; i++)
        w[i] = uniform();
    if (r <= d)
        orthonormalise(w, r, d, d, 1); /* orthonormal rows */
    else
        orthonormalise(w, d, r, 1, d); /* orthonormal columns */
    /* Scale so that the mean variance is 1. */
    double scale = r <= d ? sqrt((double)d) : sqrt((double)r);
    /* z = U w with U the Helmert basis: column k (0-based, k < r) holds
     * 1/sqrt((k+1)(k+2)) in rows 0..k and -(k+1)/sqrt((k+1)(k+2)) in row k+1. */
    memset(z, 0, n * d * sizeof(double));
    for (size_t k = 0; k < r; k++) {
        double a = 1.0 / sqrt((double)(k + 1) * (double)(k + 2));
        for (size_t i = 0; i <= k + 1; i++) {
            double u = i <= k ? a : -(double)(k + 1) * a;
            for (size_t j = 0; j < d; j++)
                z[i * d + j] += u * w[k * d + j] * scale;
        }
    }
    free(w);
}

/* c(Za) and dL/dZa from one call in the given precision and path. */
static void run(int f32, int path, size_t n, size_t d, const double *za, const double *zb,
                double *c, double *grad)
{
    vicreg_ctx *ctx;
    if (vicreg_ctx_create(&ctx) != VICREG_OK)
        exit(1);
    vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, path);
    int status;
    if (f32) {
        float *a = malloc(n * d * sizeof(float)), *b = malloc(n * d * sizeof(float));
        float *g = malloc(n * d * sizeof(float));
        for (size_t i = 0; i < n * d; i++)
            a[i] = (float)za[i], b[i] = (float)zb[i];
        status = vicreg_loss_f32(ctx, n, d, a, d, b, d, NULL, g, d, NULL, 0);
        for (size_t i = 0; i < n * d; i++)
            grad[i] = g[i];
        free(a), free(b), free(g);
    } else {
        status = vicreg_loss_f64(ctx, n, d, za, d, zb, d, NULL, grad, d, NULL, 0);
    }
    if (status != VICREG_OK) {
        fprintf(stderr, "loss: %s\n", vicreg_strerror(status));
        exit(1);
    }
    vicreg_ctx_get_term(ctx, VICREG_TERM_COVARIANCE_A, c);
    vicreg_ctx_destroy(ctx);
}

static double grad_err(size_t count, const double *g, const double *ref)
{
    double err = 0.0, scale = 0.0;
    for (size_t i = 0; i < count; i++) {
        err = fmax(err, fabs(g[i] - ref[i]));
        scale = fmax(scale, fabs(ref[i]));
    }
    return err / scale;
}

/* ||C||_F^2 / d of batch z, in double: the covariance term plus its
 * diagonal part, the scale against which the Gram form cancels. */
static double frob_scale(size_t n, size_t d, const double *z, double c)
{
    double sum_var_sq = 0.0;
    for (size_t j = 0; j < d; j++) {
        double mean = 0.0, var = 0.0;
        for (size_t i = 0; i < n; i++)
            mean += z[i * d + j];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++)
            var += (z[i * d + j] - mean) * (z[i * d + j] - mean);
        var /= (double)(n - 1);
        sum_var_sq += var * var;
    }
    return c + sum_var_sq / (double)d;
}

int main(int argc, char **argv)
{
    static const double ratios[] = { 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0, 1.1, 1.25, 1.5, 2.0 };
    size_t dims[8] = { 256, 1024 };
    int n_dims = 2;
    if (argc > 1) {
        n_dims = 0;
        for (int a = 1; a < argc && n_dims < 8; a++)
            dims[n_dims++] = strtoul(argv[a], NULL, 10);
    }
    printf("kind,n,d,n_over_d,path,c64,c_rel_err,c_err_vs_frob,grad_rel_err\n");
    for (int di = 0; di < n_dims; di++)
        for (int kind = 0; kind < 2; kind++)
            for (size_t ri = 0; ri < sizeof ratios / sizeof ratios[0]; ri++) {
                size_t d = dims[di], n = (size_t)lround(ratios[ri] * (double)d);
                if (n < 2)
                    n = 2;
                double *za = malloc(n * d * sizeof(double)), *zb = malloc(n * d * sizeof(double));
                double *g64 = malloc(n * d * sizeof(double)), *g = malloc(n * d * sizeof(double));
                if (kind)
                    make_whitened(n, d, za);
                else
                    make_random(n, d, za);
                for (size_t i = 0; i < n * d; i++) {
                    za[i] = (float)za[i];
                    zb[i] = (float)(za[i] + 0.1 * uniform());
                }
                double c64, c32;
                run(0, VICREG_PATH_COVARIANCE, n, d, za, zb, &c64, g64);
                double scale = frob_scale(n, d, za, c64);
                for (int path = VICREG_PATH_COVARIANCE; path <= VICREG_PATH_GRAM; path++) {
                    run(1, path, n, d, za, zb, &c32, g);
                    printf("%s,%zu,%zu,%.2f,%s,%.6e,%.3e,%.3e,%.3e\n", kind ? "whitened" : "random",
                           n, d, (double)n / (double)d,
                           path == VICREG_PATH_GRAM ? "gram" : "covariance", c64,
                           fabs(c32 - c64) / c64, fabs(c32 - c64) / scale,
                           grad_err(n * d, g, g64));
                }
                free(za), free(zb), free(g64), free(g);
            }
    return 0;
}
