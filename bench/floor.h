/*
 * floor.h - the BLAS floor of one view: the products src/products.inc
 * makes for a centred view of n x d on the given path, through the
 * library's own BLAS shim (src/blas.h), with nothing in between: the SYRK,
 * then the symmetric product into the gradient (beta = 1). Shared by the
 * benchmark programs, so that their floor is the library's calls by
 * construction.
 */
#ifndef VICREG_BENCH_FLOOR_H
#define VICREG_BENCH_FLOOR_H

#include <stddef.h>

#include "blas.h"
#include "vicreg.h"

/* The symmetric product's alpha: the library's covariance-gradient
 * factor 4 nu / (d (n - 1)^2) at the default nu = 1 (its value does not
 * change the cost). */
static double floor_alpha(size_t n, size_t d)
{
    const double n1 = (double)(n - 1);
    return 4.0 / ((double)d * n1 * n1);
}

/* The SYRK of one view into mat. */
static void floor_syrk(int f64, int path, size_t n, size_t d, const void *zc, void *mat)
{
    if (f64 && path == VICREG_PATH_GRAM)
        vicreg_blas_gram_f64(n, d, zc, mat);
    else if (f64)
        vicreg_blas_scatter_f64(n, d, zc, mat);
    else if (path == VICREG_PATH_GRAM)
        vicreg_blas_gram_f32(n, d, zc, mat);
    else
        vicreg_blas_scatter_f32(n, d, zc, mat);
}

/* The symmetric product of one view into its gradient (beta = 1). */
static void floor_product(int f64, int path, size_t n, size_t d, double alpha, const void *zc,
                          const void *mat, void *grad)
{
    if (f64 && path == VICREG_PATH_GRAM)
        vicreg_blas_symm_left_acc_f64(n, d, alpha, mat, zc, grad, d);
    else if (f64)
        vicreg_blas_symm_acc_f64(n, d, alpha, zc, mat, grad, d);
    else if (path == VICREG_PATH_GRAM)
        vicreg_blas_symm_left_acc_f32(n, d, alpha, mat, zc, grad, d);
    else
        vicreg_blas_symm_acc_f32(n, d, alpha, zc, mat, grad, d);
}

static void floor_view(int f64, int path, size_t n, size_t d, double alpha, const void *zc,
                       void *mat, void *grad)
{
    floor_syrk(f64, path, n, d, zc, mat);
    floor_product(f64, path, n, d, alpha, zc, mat, grad);
}

#endif
