/*
 * stats.h - the per-column statistics that do not depend on the input
 * precision: the variance hinge, the collapse diagnostics, the finiteness
 * test of the first pass and the overflow bound. All in double.
 */
#ifndef VICREG_STATS_H
#define VICREG_STATS_H

#include <stddef.h>

#include "context.h"

/* What one branch's column variances give. */
struct vicreg_branch_stats {
    double hinge;              /* v(Z) = (1/d) sum_j max(0, gamma - s_j) */
    double mean_std;
    double min_std;
    double collapsed_fraction; /* fraction of columns with s_j < gamma */
    double trace;              /* tr C = sum_j Var_j */
    double sum_var_sq;         /* sum_j Var_j^2, the diagonal part of ||C||_F^2 */
};

/* Fills *st from the unbiased variances var[d] of one branch, and coef[d]
 * with each column's factor on Zc in the gradient of mu * w * v(Z):
 * -mu w [s_j < gamma] / (d (n - 1) s_j). */
void vicreg_branch_stats(size_t n, size_t d, const double *var,
                         const struct vicreg_params *p, double w,
                         struct vicreg_branch_stats *st, double *coef);

/* 1 when every entry of the three length-d arrays is finite. */
int vicreg_all_finite(size_t d, const double *a, const double *b, const double *c);

/* 1 when no product, gradient entry or loss sum of a call can exceed the
 * range of its type (real_max for the arrays in the input precision, the
 * double range for the loss), from the largest column variance of the two
 * branches, the invariance sum and its largest column. A sufficient bound,
 * written so that NaN fails it. */
int vicreg_magnitude_ok(size_t n, size_t d, const struct vicreg_params *p,
                        double var_max, double inv_total, double inv_col_max,
                        double real_max);

#endif
