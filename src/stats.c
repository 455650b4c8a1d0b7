/*
 * stats.c - the variance hinge, the collapse diagnostics and the overflow
 * bound: everything per column that is computed in double whatever the
 * input precision.
 */
#include <float.h>
#include <math.h>

#include "stats.h"

void vicreg_branch_stats(size_t n, size_t d, const double *var,
                         const struct vicreg_params *p, double w,
                         struct vicreg_branch_stats *st, double *coef)
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
            coef[j] = scale / s;
        } else {
            coef[j] = 0.0;
        }
    }
    st->hinge = hinge / (double)d;
    st->mean_std = std_sum / (double)d;
    st->min_std = min_std;
    st->collapsed_fraction = (double)collapsed / (double)d;
    st->trace = trace;
    st->sum_var_sq = sum_var_sq;
}

int vicreg_all_finite(size_t d, const double *a, const double *b, const double *c)
{
    for (size_t j = 0; j < d; j++)
        if (!isfinite(a[j]) || !isfinite(b[j]) || !isfinite(c[j]))
            return 0;
    return 1;
}

int vicreg_magnitude_ok(size_t n, size_t d, const struct vicreg_params *p,
                        double var_max, double inv_total, double inv_col_max,
                        double real_max)
{
    const double nn = (double)n, dd = (double)d;
    /* q bounds every column's sum of squares, so |Zc_ij| <= sqrt(q), every
     * scatter entry <= q, every Gram entry <= d q, and every entry and
     * partial sum of a product with Zc <= n d q sqrt(q). */
    const double q = (nn - 1.0) * var_max;
    const double product = fmax(dd * q, nn * dd * q * sqrt(q));
    /* |dL/dZ| <= lambda k_s |Za - Zb| + mu (the hinge factor times Zc is at
     * most sqrt(n - 1) / (d (n - 1)) <= 1) + the covariance part. */
    const double grad = 2.0 * p->lambda * sqrt(inv_col_max) + p->mu +
                        4.0 * p->nu * (product + q * sqrt(q));
    /* Sums of squared matrix entries, in double. */
    const double squares = (nn * nn + 1.0) * (dd * q) * (dd * q);
    const double loss = p->lambda * inv_total + 2.0 * p->mu * p->gamma + (p->nu + 1.0) * squares;
    const double real_limit = real_max / 8.0, double_limit = DBL_MAX / 8.0;
    return product <= real_limit && grad <= real_limit && loss <= double_limit;
}
