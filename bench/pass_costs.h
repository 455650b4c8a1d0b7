/*
 * pass_costs.h - what the program pass-costs (pass_costs.c) and its two
 * instances of pass_costs.inc share.
 */
#ifndef PASS_COSTS_H
#define PASS_COSTS_H

#include <stddef.h>

struct vicreg_pool;

#define PASS_COSTS_MAX_REPS 101

struct pass_costs_shape {
    size_t views, global, n, d;
    int reps;
    struct vicreg_pool *pool; /* the passes' team (src/pool.h), or NULL: the caller's thread */
};

/* Median seconds of each step over all views of one call. */
struct pass_costs_result {
    int path;               /* VICREG_PATH_COVARIANCE or _GRAM */
    double scan;            /* pass 1: column sums and the invariance's sums */
    double variances;       /* pass 2: sums of squares about the means */
    double invariance;      /* the invariance part of every gradient (and the Gram path's factors) */
    double centre;          /* pass 3: the centred copies */
    double product_squares; /* sum of squares of the product's triangle */
    double traffic;         /* the least streaming any arrangement needs with the library's
                               scratch (pass_costs.inc) */
    double traffic_in_place; /* lib / floor of a call made of the least traffic and the
                                products, alternating with the floor (pass_costs.inc) */
    double two_reads_in_place; /* the same with two reads of every view before the
                                  gradients are written, as two-pass variances need */
    double floor;           /* the BLAS products: SYRK and SYMM */
    double check;           /* a value of the results, printed so none is optimised away */
};

int pass_costs_f32(const struct pass_costs_shape *shape, struct pass_costs_result *result);
int pass_costs_f64(const struct pass_costs_shape *shape, struct pass_costs_result *result);

double pass_costs_now(void);
double pass_costs_median(double *t, int count);
double pass_costs_normal(void);
void *pass_costs_alloc(size_t bytes);
void pass_costs_free(void *p);

#endif
