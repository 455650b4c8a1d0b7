/*
 * reference.h - an independent, plainly written VICReg in double precision
 * for the tests: loops over the formulas of the specification, no BLAS, no
 * shortcut, nothing shared with the library's source.
 */
#ifndef VICREG_TEST_REFERENCE_H
#define VICREG_TEST_REFERENCE_H

#include <stddef.h>

struct ref_params {
    double lambda, mu, nu, gamma, eps;
    int paper; /* 1: paper convention, 0: reference convention */
};

struct ref_result {
    double loss, invariance, variance[2], covariance[2];
    double mean_std[2], min_std[2], collapsed_fraction[2], effective_rank[2];
};

/* The defaults of the specification. */
struct ref_params ref_default_params(void);

/* Loss, terms and diagnostics of za, zb (n x d, packed, double); the
 * gradients into ga, gb (n x d, packed) when they are not NULL. */
void ref_vicreg(const struct ref_params *p, size_t n, size_t d,
                const double *za, const double *zb, struct ref_result *out,
                double *ga, double *gb);


/* ------------------------------------------------------------------------
 * More than two views (specification section 4).
 * ------------------------------------------------------------------------ */

/* The largest view count ref_views() takes (the library's VICREG_MAX_VIEWS). */
#define REF_MAX_VIEWS 64

struct ref_views_result {
    double loss;
    double invariance; /* s_bar (0 with one view) */
    double weight_sum; /* sum_{i<j} W_ij = G (V - 1) */
    /* per view, [0, views): */
    double variance[REF_MAX_VIEWS], covariance[REF_MAX_VIEWS];
    double mean_std[REF_MAX_VIEWS], min_std[REF_MAX_VIEWS];
    double collapsed_fraction[REF_MAX_VIEWS], effective_rank[REF_MAX_VIEWS];
};

/* Loss, terms and per-view diagnostics of the views z[0 .. views) (each
 * n x d, packed, double), the first G = global_views of them global
 * (0: every view global). The pair {i, j}, i < j, weighs
 * W_ij = [i < G] + [j < G]; s_bar = sum W_ij s(z_i, z_j) / sum W_ij;
 * loss = lambda s_bar + mu w sum_v v(z_v) + nu sum_v c(z_v) with w = 1/V
 * (reference convention) or 1 (paper). dL/dz_v into grad[v] (n x d,
 * packed) when grad and grad[v] are not NULL. Needs 1 <= views <=
 * REF_MAX_VIEWS, 0 <= global_views <= views, n >= 2, d >= 1; otherwise
 * every value of out is NaN and no gradient is written. */
void ref_views(const struct ref_params *p, int global_views, size_t views, size_t n, size_t d,
               const double *const *z, struct ref_views_result *out, double *const *grad);

#endif
