/*
 * vicreg.h - the VICReg self-supervised loss and its gradients.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 *
 * This header is the manual of libvicreg's stable C ABI.
 *
 * What the library computes
 * -------------------------
 * Two batches of projector outputs, Za and Zb, each n rows (samples) by d
 * columns (features), row i of both coming from the same input. For one batch
 * Z the column means m, the centred batch Zc = Z - 1 m^T, the unbiased
 * variances Var_j, the regularised standard deviations s_j = sqrt(Var_j + eps)
 * and the covariance C = Zc^T Zc / (n - 1) give
 *
 *   variance term    v(Z) = (1/d) sum_j max(0, gamma - s_j)
 *   covariance term  c(Z) = (1/d) sum_{j != k} C_jk^2
 *   invariance       s    = (1/(n d)) sum_i ||Za_i - Zb_i||^2    (reference)
 *                         = (1/n)     sum_i ||Za_i - Zb_i||^2    (paper)
 *
 *   L = lambda s + mu w (v(Za) + v(Zb)) + nu (c(Za) + c(Zb)),
 *
 * with w = 1/2 in the reference convention (the default: what the authors'
 * public training code computes, under which lambda = mu = 25, nu = 1 were
 * tuned) and w = 1 in the paper convention. The loss functions also return
 * dL/dZa and dL/dZb.
 *
 * Contexts
 * --------
 * A vicreg_ctx owns the parameters, the scratch buffers and the terms of the
 * last successful call. It never keeps a pointer to the caller's arrays: the
 * batches and gradient buffers are passed with every call. Scratch grows to
 * the largest shape seen and is reused: after the first call at a given
 * (n, d) and precision, no call at that size or smaller, in that precision or
 * in float32, allocates memory (with the path parameter unchanged).
 * vicreg_ctx_reserve() does that first allocation up front.
 *
 * Threads
 * -------
 * The library has no global mutable state. Different contexts may be used
 * from different threads at the same time; one context must be used by one
 * thread at a time. The heavy products run in the BLAS library the library
 * was linked with, with that library's own threads; libvicreg never changes
 * BLAS settings such as its thread count, and starts no thread of its own.
 *
 * Errors
 * ------
 * Every function that can fail returns VICREG_OK (0) or a negative
 * VICREG_ERR_* status. On an error nothing the caller owns is written (loss
 * and gradient buffers are left byte for byte as they were), the context
 * keeps its parameters and the terms of its last successful call, and it
 * stays usable. vicreg_strerror() names every status. The library never
 * aborts and never prints.
 *
 * Layout
 * ------
 * Arrays are row-major: row i of a batch starts at z + i * ld, with ld >= d
 * (elements, not bytes). Gradients use the same layout with their own
 * leading dimensions.
 */
#ifndef VICREG_H
#define VICREG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VICREG_BUILDING_LIBRARY) && defined(__GNUC__)
#define VICREG_API __attribute__((visibility("default")))
#else
#define VICREG_API
#endif

/* ----------------------------------------------------------------------
 * Version
 *
 * Same major version, same ABI: a program linked against libvicreg.so.1 keeps
 * working with every 1.x.y. Additions go into a new symbol version node.
 * ---------------------------------------------------------------------- */
#define VICREG_VERSION_MAJOR 1
#define VICREG_VERSION_MINOR 0
#define VICREG_VERSION_PATCH 0
#define VICREG_VERSION_NUMBER \
    (VICREG_VERSION_MAJOR * 10000 + VICREG_VERSION_MINOR * 100 + VICREG_VERSION_PATCH)

/* The version of the library that is running: major*10000 + minor*100 + patch.
 * Compare with VICREG_VERSION_NUMBER, the version the caller was built with.
 * Since 1.0.0. */
VICREG_API unsigned vicreg_version_number(void);

/* The running version as a static string such as "1.0.0"; never NULL.
 * Since 1.0.0. */
VICREG_API const char *vicreg_version_string(void);

/* ----------------------------------------------------------------------
 * Status codes. The values are pinned and never change.
 * ---------------------------------------------------------------------- */
enum {
    VICREG_OK = 0,
    /* A NULL pointer where data is required, or an unknown parameter, term
     * or precision key. */
    VICREG_ERR_INVALID_ARGUMENT = -1,
    /* A parameter value outside vicreg_param_bounds(), NaN included. */
    VICREG_ERR_OUT_OF_RANGE = -2,
    /* NaN or +-Inf in za or zb. */
    VICREG_ERR_NON_FINITE = -3,
    /* Scratch memory could not be allocated. */
    VICREG_ERR_NO_MEMORY = -4,
    /* n < 2 (the unbiased variance needs two rows), d == 0, or a leading
     * dimension smaller than d. */
    VICREG_ERR_BAD_SHAPE = -5,
    /* n * ld, the scratch size, or a dimension passed to BLAS does not fit
     * its integer type. */
    VICREG_ERR_SIZE_OVERFLOW = -6,
    /* A gradient buffer overlaps za, zb or the other gradient buffer. */
    VICREG_ERR_OVERLAP = -7,
    /* The inputs are finite but so large that the loss, a gradient or an
     * intermediate product could overflow the floating-point type. Checked
     * before anything is written, from a bound on every intermediate. */
    VICREG_ERR_OVERFLOW = -8,
    /* vicreg_ctx_get_term() on a context with no successful loss call yet. */
    VICREG_ERR_NO_RESULT = -9
};

/* A static, human-readable description of a status, for every int value;
 * unknown values get "unknown status". Never NULL. Since 1.0.0. */
VICREG_API const char *vicreg_strerror(int status);

/* The name of a status, such as "VICREG_ERR_NON_FINITE", for every int;
 * unknown values get "VICREG_ERR_UNKNOWN". Never NULL. Since 1.0.0. */
VICREG_API const char *vicreg_status_name(int status);

/* ----------------------------------------------------------------------
 * Context lifecycle
 * ---------------------------------------------------------------------- */
typedef struct vicreg_ctx vicreg_ctx;

/* Creates a context with the default parameters (lambda = 25, mu = 25,
 * nu = 1, gamma = 1, eps = 1e-4, reference convention, automatic path) and
 * no scratch yet. On success *out is the new context and VICREG_OK is
 * returned; on failure *out is left unchanged and the status is
 * VICREG_ERR_INVALID_ARGUMENT (out is NULL) or VICREG_ERR_NO_MEMORY.
 * Since 1.0.0. */
VICREG_API int vicreg_ctx_create(vicreg_ctx **out);

/* Frees a context and its scratch. NULL is a no-op. Since 1.0.0. */
VICREG_API void vicreg_ctx_destroy(vicreg_ctx *ctx);

/* ----------------------------------------------------------------------
 * Parameters: one setter and one getter keyed by these values, which are
 * pinned. An unknown key returns VICREG_ERR_INVALID_ARGUMENT, so
 * vicreg_param_bounds() doubles as a feature query.
 * ---------------------------------------------------------------------- */
enum {
    VICREG_PARAM_INVARIANCE_COEFF = 1, /* lambda, default 25, [0, 1e9]      */
    VICREG_PARAM_VARIANCE_COEFF = 2,   /* mu, default 25, [0, 1e9]          */
    VICREG_PARAM_COVARIANCE_COEFF = 3, /* nu, default 1, [0, 1e9]           */
    VICREG_PARAM_STD_TARGET = 10,      /* gamma, default 1, [DBL_MIN, 1e9]  */
    VICREG_PARAM_EPSILON = 11,         /* eps, default 1e-4, [DBL_MIN, 1e9] */
    VICREG_PARAM_CONVENTION = 20,      /* a VICREG_CONVENTION_* value       */
    VICREG_PARAM_PATH = 30             /* a VICREG_PATH_* value             */
};

/* Values of VICREG_PARAM_CONVENTION. */
enum {
    /* s = mean squared error over n*d entries; variance weight w = 1/2. */
    VICREG_CONVENTION_REFERENCE = 0,
    /* s = (1/n) sum of squared row distances; variance weight w = 1. */
    VICREG_CONVENTION_PAPER = 1
};

/* Values of VICREG_PARAM_PATH: how the covariance term is computed. Both
 * paths give the same loss and gradients up to rounding. */
enum {
    /* The d x d covariance when n >= d, the n x n Gram matrix when n < d. */
    VICREG_PATH_AUTO = 0,
    /* Always the d x d covariance Zc^T Zc (scratch d*d). */
    VICREG_PATH_COVARIANCE = 1,
    /* Always the n x n Gram matrix Zc Zc^T (scratch n*n). */
    VICREG_PATH_GRAM = 2
};

/* Sets a parameter. Returns VICREG_OK; VICREG_ERR_INVALID_ARGUMENT for a
 * NULL ctx or an unknown key; VICREG_ERR_OUT_OF_RANGE for a value outside
 * the bounds (never clamped; enumerated parameters take only their listed
 * integral values). On error the parameter keeps its value. Since 1.0.0. */
VICREG_API int vicreg_ctx_set_param(vicreg_ctx *ctx, int param, double value);

/* Stores a parameter's current value in *value. Returns VICREG_OK, or
 * VICREG_ERR_INVALID_ARGUMENT for a NULL pointer or an unknown key.
 * Since 1.0.0. */
VICREG_API int vicreg_ctx_get_param(const vicreg_ctx *ctx, int param, double *value);

/* Stores the closed range of legal values of a parameter in *lower and
 * *upper. Returns VICREG_OK, or VICREG_ERR_INVALID_ARGUMENT for a NULL
 * pointer or an unknown key. Since 1.0.0. */
VICREG_API int vicreg_param_bounds(int param, double *lower, double *upper);

/* ----------------------------------------------------------------------
 * Compute
 * ---------------------------------------------------------------------- */

/* Computes the VICReg loss of the batches za (n x d, leading dimension lda)
 * and zb (n x d, ldb) with the context's parameters, and optionally the
 * gradients.
 *
 *   loss    where the loss is stored; may be NULL.
 *   grad_a  n x d buffer (leading dimension ldga >= d) that receives dL/dZa,
 *           or NULL for no gradient with respect to za; likewise grad_b.
 *           Only the first d entries of each row are written; the
 *           leading dimension of a NULL gradient is ignored. A gradient
 *           buffer must not overlap za, zb or the other gradient buffer
 *           (VICREG_ERR_OVERLAP): computing in place is refused, not
 *           guessed at. Overlap is judged on the address range from the
 *           first to the last element of each array, padding included.
 *
 * The terms and collapse diagnostics are kept in the context for
 * vicreg_ctx_get_term(). Sums that feed the loss are accumulated in double
 * for float input; the loss is always returned as a double.
 *
 * Returns VICREG_OK, or: VICREG_ERR_INVALID_ARGUMENT (ctx, za or zb NULL),
 * VICREG_ERR_BAD_SHAPE (n < 2, d == 0, an ld < d), VICREG_ERR_SIZE_OVERFLOW,
 * VICREG_ERR_OVERLAP, VICREG_ERR_NON_FINITE (NaN or Inf in za or zb),
 * VICREG_ERR_OVERFLOW, VICREG_ERR_NO_MEMORY. On error nothing is written.
 * Since 1.0.0. */
VICREG_API int vicreg_loss_f32(vicreg_ctx *ctx, size_t n, size_t d,
                               const float *za, size_t lda,
                               const float *zb, size_t ldb,
                               double *loss,
                               float *grad_a, size_t ldga,
                               float *grad_b, size_t ldgb);

/* The same as vicreg_loss_f32() for double arrays. Since 1.0.0. */
VICREG_API int vicreg_loss_f64(vicreg_ctx *ctx, size_t n, size_t d,
                               const double *za, size_t lda,
                               const double *zb, size_t ldb,
                               double *loss,
                               double *grad_a, size_t ldga,
                               double *grad_b, size_t ldgb);

/* Precisions, for the memory queries below. */
enum {
    VICREG_PRECISION_F32 = 1,
    VICREG_PRECISION_F64 = 2
};

/* Stores in *bytes the scratch memory a loss call of shape (n, d) in the
 * given precision needs with this context's path parameter. Returns
 * VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (NULL pointer, unknown precision);
 * VICREG_ERR_BAD_SHAPE; VICREG_ERR_SIZE_OVERFLOW. Since 1.0.0. */
VICREG_API int vicreg_ctx_scratch_bytes(const vicreg_ctx *ctx, size_t n, size_t d,
                                        int precision, size_t *bytes);

/* Allocates the scratch for shape (n, d) now, so that later loss calls at
 * that size or smaller allocate nothing. Returns VICREG_OK or any status of
 * vicreg_ctx_scratch_bytes(), or VICREG_ERR_NO_MEMORY (the context keeps
 * its old scratch). Since 1.0.0. */
VICREG_API int vicreg_ctx_reserve(vicreg_ctx *ctx, size_t n, size_t d, int precision);

/* ----------------------------------------------------------------------
 * Introspection: the terms of the last successful loss call.
 * ---------------------------------------------------------------------- */
enum {
    VICREG_TERM_LOSS = 0,              /* L                                   */
    VICREG_TERM_INVARIANCE = 1,        /* s, in the context's convention      */
    VICREG_TERM_VARIANCE_A = 2,        /* v(Za), unweighted                   */
    VICREG_TERM_VARIANCE_B = 3,        /* v(Zb), unweighted                   */
    VICREG_TERM_COVARIANCE_A = 4,      /* c(Za), unweighted                   */
    VICREG_TERM_COVARIANCE_B = 5,      /* c(Zb), unweighted                   */
    /* Collapse diagnostics, per branch. std means sqrt(Var_j + eps). */
    VICREG_TERM_MEAN_STD_A = 10,       /* mean over columns of s_j            */
    VICREG_TERM_MEAN_STD_B = 11,
    VICREG_TERM_MIN_STD_A = 12,        /* smallest s_j                        */
    VICREG_TERM_MIN_STD_B = 13,
    VICREG_TERM_COLLAPSED_FRACTION_A = 14, /* fraction of columns, s_j < gamma */
    VICREG_TERM_COLLAPSED_FRACTION_B = 15,
    /* (tr C)^2 / ||C||_F^2: between 1 and min(n - 1, d) for a batch that is
     * not constant, 0 when C is zero. A value far below d means the
     * embedding uses few directions. */
    VICREG_TERM_EFFECTIVE_RANK_A = 16,
    VICREG_TERM_EFFECTIVE_RANK_B = 17,
    /* The VICREG_PATH_* value that the call took (COVARIANCE or GRAM). */
    VICREG_TERM_PATH_USED = 20
};

/* Stores in *value a term of the last successful loss call on ctx. Returns
 * VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (NULL pointer or unknown term);
 * VICREG_ERR_NO_RESULT (no successful call yet). Since 1.0.0. */
VICREG_API int vicreg_ctx_get_term(const vicreg_ctx *ctx, int term, double *value);

#ifdef __cplusplus
}
#endif

#endif /* VICREG_H */
