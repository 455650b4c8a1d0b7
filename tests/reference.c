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

/* The variance and covariance terms and the diagnostics of one batch. */
struct batch_terms {
    double variance, covariance, mean_std, min_std, collapsed_fraction, effective_rank;
};

static struct batch_terms batch_terms_of(size_t d, const struct branch *b, double gamma)
{
    double v = 0.0, std_sum = 0.0, min_std = INFINITY, below = 0.0;
    for (size_t j = 0; j < d; j++) {
        double s = b->std[j];
        v += fmax(0.0, gamma - s);
        std_sum += s;
        min_std = fmin(min_std, s);
        below += s < gamma;
    }
    double c = 0.0, trace = 0.0, frob = 0.0;
    for (size_t j = 0; j < d; j++) {
        trace += b->cov[j * d + j];
        for (size_t k = 0; k < d; k++) {
            double ck = b->cov[j * d + k];
            frob += ck * ck;
            if (j != k)
                c += ck * ck;
        }
    }
    struct batch_terms t = {
        .variance = v / (double)d,
        .covariance = c / (double)d,
        .mean_std = std_sum / (double)d,
        .min_std = min_std,
        .collapsed_fraction = below / (double)d,
        .effective_rank = frob > 0.0 ? trace * trace / frob : 0.0,
    };
    return t;
}

/* Stores t as entry k of a result's per-batch arrays. */
static void batch_terms_put(struct batch_terms t, size_t k, double *variance, double *covariance,
                            double *mean_std, double *min_std, double *collapsed_fraction,
                            double *effective_rank)
{
    variance[k] = t.variance;
    covariance[k] = t.covariance;
    mean_std[k] = t.mean_std;
    min_std[k] = t.min_std;
    collapsed_fraction[k] = t.collapsed_fraction;
    effective_rank[k] = t.effective_rank;
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
        batch_terms_put(batch_terms_of(d, &br[b], p->gamma), b, out->variance,
                        out->covariance, out->mean_std, out->min_std, out->collapsed_fraction,
                        out->effective_rank);
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

/* ------------------------------------------------------------------------
 * ref_views: each formula of section 4 as its own loop.
 * ------------------------------------------------------------------------ */

/* W_ij = [i < G] + [j < G], symmetric in i and j. */
static double pair_weight(size_t i, size_t j, size_t g)
{
    return (double)((i < g) + (j < g));
}

void ref_views(const struct ref_params *p, int global_views, size_t views, size_t n, size_t d,
               const double *const *z, struct ref_views_result *out, double *const *grad)
{
    if (views < 1 || views > REF_MAX_VIEWS || global_views < 0 ||
        (size_t)global_views > views || n < 2 || d < 1 || z == NULL) {
        out->loss = out->invariance = out->weight_sum = NAN;
        for (size_t v = 0; v < REF_MAX_VIEWS; v++)
            out->variance[v] = out->covariance[v] = out->mean_std[v] = out->min_std[v] =
                out->collapsed_fraction[v] = out->effective_rank[v] = NAN;
        return;
    }
    const size_t g = global_views == 0 ? views : (size_t)global_views;
    const double w = p->paper ? 1.0 : 1.0 / (double)views;
    const double inv_den = p->paper ? (double)n : (double)n * (double)d;

    /* The weighted invariance: each pair's squared differences summed
     * directly. */
    double wsum = 0.0, inv = 0.0;
    for (size_t a = 0; a < views; a++)
        for (size_t b = a + 1; b < views; b++) {
            const double wab = pair_weight(a, b, g);
            if (wab == 0.0)
                continue;
            double sq = 0.0;
            for (size_t k = 0; k < n * d; k++)
                sq += (z[a][k] - z[b][k]) * (z[a][k] - z[b][k]);
            inv += wab * (sq / inv_den);
            wsum += wab;
        }
    out->weight_sum = wsum;
    out->invariance = wsum > 0.0 ? inv / wsum : 0.0;

    struct branch *br = malloc(views * sizeof *br);
    double v_sum = 0.0, c_sum = 0.0;
    for (size_t v = 0; v < views; v++) {
        branch_compute(n, d, z[v], p->eps, &br[v]);
        batch_terms_put(batch_terms_of(d, &br[v], p->gamma), v, out->variance,
                        out->covariance, out->mean_std, out->min_std, out->collapsed_fraction,
                        out->effective_rank);
        v_sum += out->variance[v];
        c_sum += out->covariance[v];
    }
    for (size_t v = views; v < REF_MAX_VIEWS; v++)
        out->variance[v] = out->covariance[v] = out->mean_std[v] = out->min_std[v] =
            out->collapsed_fraction[v] = out->effective_rank[v] = NAN;
    out->loss = p->lambda * out->invariance + p->mu * w * v_sum + p->nu * c_sum;

    /* dL/dz_v = lambda k_s sum_{u != v} W_vu (z_v - z_u) / sum W
     *         + mu w dv/dz_v + nu dc/dz_v. */
    const double ks = 2.0 / inv_den;
    for (size_t v = 0; grad != NULL && v < views; v++) {
        if (grad[v] == NULL)
            continue;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) {
                const size_t e = i * d + j;
                double pull = 0.0;
                for (size_t u = 0; u < views; u++)
                    if (u != v)
                        pull += pair_weight(v, u, g) * (z[v][e] - z[u][e]);
                double gi = wsum > 0.0 ? p->lambda * ks * pull / wsum : 0.0;
                const double s = br[v].std[j];
                if (s < p->gamma)
                    gi += p->mu * w * -br[v].zc[e] / ((double)d * (double)(n - 1) * s);
                double zc_off = 0.0; /* (Zc offdiag(C))_ij */
                for (size_t k = 0; k < d; k++)
                    if (k != j)
                        zc_off += br[v].zc[i * d + k] * br[v].cov[k * d + j];
                gi += p->nu * 4.0 / ((double)d * (double)(n - 1)) * zc_off;
                grad[v][e] = gi;
            }
    }
    for (size_t v = 0; v < views; v++)
        branch_free(&br[v]);
    free(br);
}
