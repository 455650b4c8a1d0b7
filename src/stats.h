/*
 * stats.h - what is computed per column and per call in double whatever
 * the input precision: the variance hinge and its gradient factors, the
 * collapse diagnostics, the constant factors of a call, the terms, the
 * finiteness test of the first pass and the overflow bound. Nothing here
 * depends on the path (products.inc holds what does). Never installed.
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

/* Fills *st from the unbiased variances var[d] of one branch (n rows),
 * and factor[d] with each column's factor on Zc in the gradient of
 * mu * w * v(Z), -mu w [s_j < gamma] / (d (n - 1) s_j), times the gradient
 * scale. */
void vicreg_branch_stats_fill(size_t n, size_t d, const double *var,
                              const struct vicreg_params *p, double w,
                              struct vicreg_branch_stats *st, double *factor);

/* The constant factors of a call of `views` views whose statistics cover
 * n rows (the whole batch, or the global batch of a sharded call). */
struct vicreg_factors {
    size_t views;
    size_t global;          /* G, the global views (the first G) */
    double pair_total;      /* sum_{i<j} W_ij = G (V - 1); 0 for one view */
    double w;               /* variance weight: 1/V reference, 1 paper */
    double invariance_scale; /* s = invariance_scale sum_i ||z_i - z'_i||^2:
                                1/n paper, 1/(n d) reference */
    double invariance_grad; /* the factor on (Z_i - Z_j) in ds/dZ_i,
                               2 invariance_scale lambda / pair_total
                               (times W_ij; for two views W_01 =
                               pair_total), times the gradient scale */
    double cov_grad;        /* 4 nu / (d (n - 1)^2), the factor on
                               Zc offdiag(S), times the gradient scale */
};

/* global is the G of the call (1 .. views; the 0 of the parameter is
 * resolved by the caller). */
void vicreg_factors_of(const struct vicreg_params *p, size_t views, size_t global, size_t n,
                       size_t d, struct vicreg_factors *f);

/* The terms of a call from the weighted mean over pairs of the sums of
 * squared differences, sum_{i<j} W_ij sum_rows ||z_i - z_j||^2 /
 * pair_total, each view's statistics and each view's
 * sum_{j != k} C_jk^2; path is only reported (VICREG_TERM_PATH_USED). */
void vicreg_terms_fill(const struct vicreg_params *p, const struct vicreg_factors *f,
                       size_t d, double pair_sq_mean, const struct vicreg_branch_stats *st,
                       const double *offdiag, int path, struct vicreg_terms *t);

/* 1 when every one of the count entries of x is finite. */
int vicreg_all_finite(size_t count, const double *x);

/* 1 when no product, gradient entry or loss sum of a call can exceed the
 * range of its type (real_max for the arrays in the input precision, the
 * double range for the loss), from the largest column variance of the
 * views, the sum of squared differences and its largest column. A
 * sufficient bound, written so that NaN fails it. */
int vicreg_magnitude_ok(size_t n, size_t d, const struct vicreg_params *p,
                        double var_max, double diff_sq_total, double diff_sq_col_max,
                        double real_max);

/* The bound behind vicreg_magnitude_ok() for a shard's gradient rows: n is
 * the global row count, q bounds every column's sum of squares of the
 * centred shard and every entry of the global scatter, hinge_grad bounds
 * the variance hinge's part of a gradient entry (at most mu for a batch and
 * its own statistics). */
int vicreg_bound_ok(size_t n, size_t d, const struct vicreg_params *p, double q,
                    double diff_sq_total, double diff_sq_col_max, double hinge_grad,
                    double real_max);

/* The largest |hinge factor| sqrt(sq_j) of one branch: what the variance
 * hinge can add to a gradient entry of rows whose column sums of squares
 * about the mean are sq[j], with the variances var[j] of n rows. */
double vicreg_hinge_grad_max(size_t n, size_t d, const struct vicreg_params *p, double w,
                             const double *var, const double *sq);

#endif
