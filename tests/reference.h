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

#endif
