/*
 * reference.c - see reference.h. Written straight from the specification:
 * each term and each gradient formula is its own loop.
 */
#include <math.h>
#include <stdlib.h>

#include "reference.h"

struct ref_params ref_default_params(void)
{
    struct ref_params p = { 25.0, 25.0, 1.0, 1.0, 1e-4, 0 };
    return p;
}

/* The statistics of one batch: centred copy, std, covariance. */
struct branch {
    double *zc;  /* n x d */
    double *std; /* d */
    double *cov; /* d x d */
};

static void branch_compute(size_t n, size_t d, const double *z, double eps, struct branch *b)
{
    b->zc = malloc(n * d * sizeof(double));
    b->std = malloc(d * sizeof(double));
    b->cov = malloc(d * d * sizeof(double));
    for (size_t j = 0; j < d; j++) {
        double mean = 0.0;
        for (size_t i = 0; i < n; i++)
            mean += z[i * d + j];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++)
            b->zc[i * d + j] = z[i * d + j] - mean;
    }
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k < d; k++) {
            double c = 0.0;
            for (size_t i = 0; i < n; i++)
                c += b->zc[i * d + j] * b->zc[i * d + k];
            b->cov[j * d + k] = c / (double)(n - 1);
        }
    for (size_t j = 0; j < d; j++)
        b->std[j] = sqrt(b->cov[j * d + j] + eps);
}

static void branch_free(struct branch *b)
{
    free(b->zc);
    free(b->std);
    free(b->cov);
}

void ref_vicreg(const struct ref_params *p, size_t n, size_t d,
                const double *za, const double *zb, struct ref_result *out,
                double *ga, double *gb)
{
    const double w = p->paper ? 1.0 : 0.5;
    const double inv_den = p->paper ? (double)n : (double)n * (double)d;
    struct branch br[2];
    const double *z[2] = { za, zb };
    double *g[2] = { ga, gb };

    double sq = 0.0;
    for (size_t i = 0; i < n * d; i++)
        sq += (za[i] - zb[i]) * (za[i] - zb[i]);
    out->invariance = sq / inv_den;

    for (int b = 0; b < 2; b++) {
        branch_compute(n, d, z[b], p->eps, &br[b]);
        double v = 0.0, std_sum = 0.0, min_std = INFINITY, below = 0.0;
        for (size_t j = 0; j < d; j++) {
            double s = br[b].std[j];
            v += fmax(0.0, p->gamma - s);
            std_sum += s;
            min_std = fmin(min_std, s);
            below += s < p->gamma;
        }
        double c = 0.0, trace = 0.0, frob = 0.0;
        for (size_t j = 0; j < d; j++) {
            trace += br[b].cov[j * d + j];
            for (size_t k = 0; k < d; k++) {
                double ck = br[b].cov[j * d + k];
                frob += ck * ck;
                if (j != k)
                    c += ck * ck;
            }
        }
        out->variance[b] = v / (double)d;
        out->covariance[b] = c / (double)d;
        out->mean_std[b] = std_sum / (double)d;
        out->min_std[b] = min_std;
        out->collapsed_fraction[b] = below / (double)d;
        out->effective_rank[b] = frob > 0.0 ? trace * trace / frob : 0.0;
    }
    out->loss = p->lambda * out->invariance +
                p->mu * w * (out->variance[0] + out->variance[1]) +
                p->nu * (out->covariance[0] + out->covariance[1]);

    const double ks = 2.0 / inv_den;
    for (int b = 0; b < 2; b++) {
        if (!g[b])
            continue;
        const double sign = b == 0 ? 1.0 : -1.0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) {
                double gi = p->lambda * ks * sign * (za[i * d + j] - zb[i * d + j]);
                double s = br[b].std[j];
                if (s < p->gamma)
                    gi += p->mu * w * -br[b].zc[i * d + j] / ((double)d * (double)(n - 1) * s);
                double zc_off = 0.0; /* (Zc offdiag(C))_ij */
                for (size_t k = 0; k < d; k++)
                    if (k != j)
                        zc_off += br[b].zc[i * d + k] * br[b].cov[k * d + j];
                gi += p->nu * 4.0 / ((double)d * (double)(n - 1)) * zc_off;
                g[b][i * d + j] = gi;
            }
    }
    for (int b = 0; b < 2; b++)
        branch_free(&br[b]);
}
