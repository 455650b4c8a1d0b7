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

/* The constant factors of a call whose statistics cover n rows (the whole
 * batch, or the global batch of a sharded call). */
struct vicreg_factors {
    double w;         /* variance weight: 1/2 reference, 1 paper */
    double inv_scale; /* s = inv_scale * sum_i ||za_i - zb_i||^2 */
    double inv_grad;  /* lambda k_s, times the gradient scale */
    double cov_grad;  /* 4 nu / (d (n - 1)^2), the factor on Zc offdiag(S),
                         times the gradient scale */
};

void vicreg_factors_of(const struct vicreg_params *p, size_t n, size_t d,
                       struct vicreg_factors *f);

/* Fills st[b] and coef[b] (b = 0, 1) from the variances var[b]: each
 * column's factor on Zc in the gradient, the variance hinge times the
 * gradient scale and, on the Gram path, the diagonal correction
 * -cov_grad (n - 1) Var_j. On the covariance path the factors are folded
 * (divided by cov_grad) into the diagonal of the scatter, which the
 * product would otherwise multiply by zero, unless nu is so small against
 * mu that a folded factor times Zc could overflow real_max, or cov_grad
 * is below real_min (the smallest normal number of the input precision).
 * Returns 1 when folded (the product applies coef), 0 when the gradient
 * pass must. */
int vicreg_gradient_coefs(size_t n, size_t d, const struct vicreg_params *p,
                          const struct vicreg_factors *f, int path, double *const var[2],
                          struct vicreg_branch_stats st[2], double *const coef[2],
                          double real_min, double real_max);

/* The terms of a call from the invariance sum, each branch's statistics
 * and each branch's sum_{j != k} C_jk^2. */
void vicreg_terms_fill(const struct vicreg_params *p, const struct vicreg_factors *f,
                       size_t d, double inv_total, const struct vicreg_branch_stats st[2],
                       const double offdiag[2], int path, struct vicreg_terms *t);

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

/* The bound behind vicreg_magnitude_ok() for a shard's gradient rows: n is
 * the global row count, q bounds every column's sum of squares of the
 * centred shard and every entry of the global scatter, hinge_grad bounds
 * the variance hinge's part of a gradient entry (at most mu for a batch and
 * its own statistics). */
int vicreg_bound_ok(size_t n, size_t d, const struct vicreg_params *p, double q,
                    double inv_total, double inv_col_max, double hinge_grad,
                    double real_max);

/* The largest |hinge factor| sqrt(sq_j) of one branch: what the variance
 * hinge can add to a gradient entry of rows whose column sums of squares
 * about the mean are sq[j], with the variances var[j] of n rows. */
double vicreg_hinge_grad_max(size_t n, size_t d, const struct vicreg_params *p, double w,
                             const double *var, const double *sq);

#endif
