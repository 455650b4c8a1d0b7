/*
 * stats.c - the variance hinge, the collapse diagnostics, the constant
 * factors, the terms and the overflow bound: everything per column and
 * per call that is computed in double whatever the input precision and
 * whichever the path.
 */
#include <float.h>
#include <math.h>

#include "stats.h"

void vicreg_branch_stats_fill(size_t n, size_t d, const double *var,
                              const struct vicreg_params *p, double w,
                              struct vicreg_branch_stats *st, double *factor)
{
    const double scale = -p->mu * w / ((double)d * (double)(n - 1));
    double hinge = 0.0, std_sum = 0.0, min_std = INFINITY, trace = 0.0, sum_var_sq = 0.0;
    size_t collapsed = 0;
    for (size_t j = 0; j < d; j++) {
        double s = sqrt(var[j] + p->eps);
        std_sum += s;
        min_std = fmin(min_std, s);
        trace += var[j];
        sum_var_sq += var[j] * var[j];
        /* At s == gamma exactly the hinge contributes nothing. */
        if (s < p->gamma) {
            hinge += p->gamma - s;
            collapsed++;
            factor[j] = scale / s;
        } else {
            factor[j] = 0.0;
        }
        factor[j] *= p->grad_scale;
    }
    st->hinge = hinge / (double)d;
    st->mean_std = std_sum / (double)d;
    st->min_std = min_std;
    st->collapsed_fraction = (double)collapsed / (double)d;
    st->trace = trace;
    st->sum_var_sq = sum_var_sq;
}

int vicreg_all_finite(size_t count, const double *x)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

int vicreg_magnitude_ok(size_t n, size_t d, const struct vicreg_params *p,
                        double var_max, double diff_sq_total, double diff_sq_col_max,
                        double real_max)
{
    /* q bounds every column's sum of squares; the hinge factor times Zc is
     * at most mu sqrt(n - 1) / (d (n - 1)) <= mu. */
    const double q = ((double)n - 1.0) * var_max;
    return vicreg_bound_ok(n, d, p, q, diff_sq_total, diff_sq_col_max, p->mu, real_max);
}

int vicreg_bound_ok(size_t n, size_t d, const struct vicreg_params *p, double q,
                    double diff_sq_total, double diff_sq_col_max, double hinge_grad,
                    double real_max)
{
    const double nn = (double)n, dd = (double)d;
    /* |Zc_ij| <= sqrt(q), every scatter entry <= q, every Gram entry
     * <= d q, and every entry and partial sum of a product with Zc
     * <= n d q sqrt(q). */
    const double product = fmax(dd * q, nn * dd * q * sqrt(q));
    /* |dL/dZ| <= (the invariance part, at most 2 lambda |Za - Zb|, + the
     * hinge part + the covariance part) times the gradient scale. */
    const double grad = (2.0 * p->lambda * sqrt(diff_sq_col_max) + hinge_grad +
                         4.0 * p->nu * (product + q * sqrt(q))) * p->grad_scale;
    /* Sums of squared matrix entries, in double. */
    const double squares = (nn * nn + 1.0) * (dd * q) * (dd * q);
    const double loss =
        p->lambda * diff_sq_total + 2.0 * p->mu * p->gamma + (p->nu + 1.0) * squares;
    const double real_limit = real_max / 8.0, double_limit = DBL_MAX / 8.0;
    return product <= real_limit && grad <= real_limit && loss <= double_limit;
}

double vicreg_hinge_grad_max(size_t n, size_t d, const struct vicreg_params *p, double w,
                             const double *var, const double *sq)
{
    const double scale = p->mu * w / ((double)d * (double)(n - 1));
    double worst = 0.0;
    for (size_t j = 0; j < d; j++) {
        double s = sqrt(var[j] + p->eps);
        if (s < p->gamma)
            worst = fmax(worst, scale / s * sqrt(sq[j]));
    }
    return worst;
}

void vicreg_factors_of(const struct vicreg_params *p, size_t views, size_t global, size_t n,
                       size_t d, struct vicreg_factors *f)
{
    const int paper = p->convention == VICREG_CONVENTION_PAPER;
    const double nn = (double)n, dd = (double)d, n1 = (double)(n - 1);
    f->views = views;
    f->global = global;
    f->pair_total = (double)global * (double)(views - 1);
    f->w = paper ? 1.0 : 1.0 / (double)views;
    f->invariance_scale = paper ? 1.0 / nn : 1.0 / (nn * dd);
    /* A power-of-two gradient scale multiplies these exactly, and with
     * them every gradient entry; with two views pair_total is 1 or 2, so
     * the invariance factor is 2 lambda invariance_scale over a power of
     * two. */
    f->invariance_grad = views > 1 ? p->lambda * 2.0 * f->invariance_scale / f->pair_total *
                                         p->grad_scale
                                   : 0.0;
    f->cov_grad = p->nu * 4.0 / (dd * n1 * n1) * p->grad_scale;
}

void vicreg_terms_fill(const struct vicreg_params *p, const struct vicreg_factors *f,
                       size_t d, double pair_sq_mean, const struct vicreg_branch_stats *st,
                       const double *offdiag, int path, struct vicreg_terms *t)
{
    const double dd = (double)d;
    double hinge_sum = 0.0, covariance_sum = 0.0;
    for (size_t v = 0; v < f->views; v++) {
        const double frobenius = offdiag[v] + st[v].sum_var_sq;
        t->variance[v] = st[v].hinge;
        t->covariance[v] = offdiag[v] / dd;
        t->mean_std[v] = st[v].mean_std;
        t->min_std[v] = st[v].min_std;
        t->collapsed_fraction[v] = st[v].collapsed_fraction;
        t->effective_rank[v] = frobenius > 0.0 ? st[v].trace * st[v].trace / frobenius : 0.0;
        hinge_sum += t->variance[v];
        covariance_sum += t->covariance[v];
    }
    t->views = f->views;
    t->path_used = path;
    t->invariance = f->invariance_scale * pair_sq_mean;
    t->loss = p->lambda * t->invariance + p->mu * f->w * hinge_sum + p->nu * covariance_sum;
}
