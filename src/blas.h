/*
 * blas.h - the BLAS shim: the only place that calls CBLAS.
 *
 * The library needs two kinds of product per branch: a symmetric rank-k
 * update (the scatter Zc^T Zc or the Gram matrix Zc Zc^T, upper triangle,
 * row-major) and a general product accumulated into a gradient. Sizes were
 * checked against INT_MAX by api.c before they get here.
 */
#ifndef VICREG_BLAS_H
#define VICREG_BLAS_H

#include <stddef.h>

#include <cblas.h>

/* out (m x m, upper triangle) = A^T A if trans, else A A^T, where A is the
 * row-major rows x cols array a (leading dimension cols) and m is cols if
 * trans, else rows. */
static inline void vicreg_syrk_f32(int trans, size_t rows, size_t cols, const float *a, float *out)
{
    int m = (int)(trans ? cols : rows), k = (int)(trans ? rows : cols);
    cblas_ssyrk(CblasRowMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans, m, k, 1.0f,
                a, (int)cols, 0.0f, out, m);
}

static inline void vicreg_syrk_f64(int trans, size_t rows, size_t cols, const double *a, double *out)
{
    int m = (int)(trans ? cols : rows), k = (int)(trans ? rows : cols);
    cblas_dsyrk(CblasRowMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans, m, k, 1.0,
                a, (int)cols, 0.0, out, m);
}

/* c (m x n, leading dimension ldc) += alpha * a (m x k) * b (k x n), with
 * a and b packed (leading dimensions k and n). */
static inline void vicreg_gemm_acc_f32(size_t m, size_t n, size_t k, double alpha,
                                       const float *a, const float *b, float *c, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k,
                (float)alpha, a, (int)k, b, (int)n, 1.0f, c, (int)ldc);
}

static inline void vicreg_gemm_acc_f64(size_t m, size_t n, size_t k, double alpha,
                                       const double *a, const double *b, double *c, size_t ldc)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k,
                alpha, a, (int)k, b, (int)n, 1.0, c, (int)ldc);
}

#endif
