/*
 * blas.h - the BLAS shim: the only place that calls CBLAS.
 *
 * The library needs four products: the scatter A^T A and the Gram matrix
 * A A^T of a row-major centred batch A (symmetric rank-k updates, upper
 * triangle, row-major), and a general or a symmetric product accumulated
 * into a gradient (the symmetric ones, from either side, read only the
 * upper triangle that the update wrote, so the lower one need not be
 * filled in).
 * Sizes were checked against INT_MAX (src/checks.h) before they get here.
 * Never installed.
 */
#ifndef VICREG_BLAS_H
#define VICREG_BLAS_H

#include <stddef.h>

#include <cblas.h>

/* out (cols x cols, upper triangle) = A^T A, where A is the row-major
 * rows x cols array a (leading dimension cols). */
static inline void vicreg_blas_scatter_f32(size_t rows, size_t cols, const float *a, float *out)
{
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)cols, (int)rows, 1.0f, a, (int)cols,
                0.0f, out, (int)cols);
}

static inline void vicreg_blas_scatter_f64(size_t rows, size_t cols, const double *a,
                                           double *out)
{
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)cols, (int)rows, 1.0, a, (int)cols,
                0.0, out, (int)cols);
}

/* out (rows x rows, upper triangle) = A A^T, A as above. */
static inline void vicreg_blas_gram_f32(size_t rows, size_t cols, const float *a, float *out)
{
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)rows, (int)cols, 1.0f, a,
                (int)cols, 0.0f, out, (int)rows);
}

static inline void vicreg_blas_gram_f64(size_t rows, size_t cols, const double *a, double *out)
{
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)rows, (int)cols, 1.0, a,
                (int)cols, 0.0, out, (int)rows);
}

/* c (m x n, leading dimension ldc) += alpha * a (m x k) * b (k x n), with
 * a and b packed (leading dimensions k and n). */
static inline void vicreg_blas_gemm_acc_f32(size_t m, size_t n, size_t k, double alpha,
                                            const float *a, const float *b, float *c,
                                            size_t ldc)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k,
                (float)alpha, a, (int)k, b, (int)n, 1.0f, c, (int)ldc);
}

static inline void vicreg_blas_gemm_acc_f64(size_t m, size_t n, size_t k, double alpha,
                                            const double *a, const double *b, double *c,
                                            size_t ldc)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k,
                alpha, a, (int)k, b, (int)n, 1.0, c, (int)ldc);
}

/* c (m x n, leading dimension ldc) += alpha * a (m x n, packed) * s, where
 * s is the symmetric n x n matrix whose upper triangle is stored (row-major,
 * leading dimension n). */
static inline void vicreg_blas_symm_acc_f32(size_t m, size_t n, double alpha, const float *a,
                                            const float *s, float *c, size_t ldc)
{
    cblas_ssymm(CblasRowMajor, CblasRight, CblasUpper, (int)m, (int)n, (float)alpha, s,
                (int)n, a, (int)n, 1.0f, c, (int)ldc);
}

static inline void vicreg_blas_symm_acc_f64(size_t m, size_t n, double alpha, const double *a,
                                            const double *s, double *c, size_t ldc)
{
    cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, (int)m, (int)n, alpha, s, (int)n, a,
                (int)n, 1.0, c, (int)ldc);
}

/* c (m x n, leading dimension ldc) += alpha * s * a (m x n, packed), where
 * s is the symmetric m x m matrix whose upper triangle is stored (row-major,
 * leading dimension m). */
static inline void vicreg_blas_symm_left_acc_f32(size_t m, size_t n, double alpha,
                                                 const float *s, const float *a, float *c,
                                                 size_t ldc)
{
    cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, (int)m, (int)n, (float)alpha, s, (int)m,
                a, (int)n, 1.0f, c, (int)ldc);
}

static inline void vicreg_blas_symm_left_acc_f64(size_t m, size_t n, double alpha,
                                                 const double *s, const double *a, double *c,
                                                 size_t ldc)
{
    cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, (int)m, (int)n, alpha, s, (int)m, a,
                (int)n, 1.0, c, (int)ldc);
}

#endif
