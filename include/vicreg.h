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
 * vicreg_ctx_reserve() does that first allocation up front. The sharded
 * calls (since 1.1.0) keep the same promise for their own shapes.
 *
 * Threads
 * -------
 * The library has no global mutable state. Different contexts may be used
 * from different threads at the same time; one context must be used by one
 * thread at a time. The heavy products run in the BLAS library the library
 * was linked with, with that library's own threads; libvicreg never changes
 * BLAS settings such as its thread count, and starts no thread of its own.
 *
 * Reproducibility
 * ---------------
 * A call's results (loss, terms, gradients) are bitwise the same every time
 * it is made with the same arguments and parameters, whichever thread makes
 * it and whatever other contexts compute meanwhile, as long as the BLAS
 * library, its kernel set (OpenBLAS picks one per processor;
 * OPENBLAS_CORETYPE overrides it) and its thread count stay the same, on
 * the same processor and the same build of libvicreg. Across BLAS thread
 * counts, kernel sets, BLAS libraries or processors the last bits may
 * differ: OpenBLAS splits a product differently over a different number of
 * threads, and kernel sets sum in different orders. The differences stay
 * within the accuracy the library documents for each precision.
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
#define VICREG_VERSION_MINOR 3
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
     * or precision key; since 1.1.0 also statistics passed to a sharded
     * call that no batch can produce (a negative sum of squares). */
    VICREG_ERR_INVALID_ARGUMENT = -1,
    /* A parameter value outside vicreg_param_bounds(), NaN included. */
    VICREG_ERR_OUT_OF_RANGE = -2,
    /* NaN or +-Inf in za or zb. */
    VICREG_ERR_NON_FINITE = -3,
    /* Scratch memory could not be allocated. */
    VICREG_ERR_NO_MEMORY = -4,
    /* n < 2 (the unbiased variance needs two rows), d == 0, or a leading
     * dimension smaller than d; since 1.1.0 also a row range outside the
     * batch, or a row count in sharded statistics that is not a whole
     * number (or, for global statistics, below 2 or below the shard's n). */
    VICREG_ERR_BAD_SHAPE = -5,
    /* n * ld, the scratch size, or a dimension passed to BLAS does not fit
     * its integer type. */
    VICREG_ERR_SIZE_OVERFLOW = -6,
    /* A gradient buffer overlaps za, zb or the other gradient buffer; since
     * 1.1.0 also a statistics buffer that overlaps za or zb, or a buffer a
     * sharded call writes that overlaps any other array of the call. */
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
    VICREG_PARAM_PATH = 30,            /* a VICREG_PATH_* value             */
    /* Since 1.1.0: every gradient a loss function writes (vicreg_loss_*,
     * vicreg_loss_rows_*, vicreg_shard_finish_*) is multiplied by it; the
     * loss and the terms are not. Default 1, [0, 1e9]. A power of two
     * scales the gradients exactly. See "Sharded and distributed
     * computation" for what a data-parallel trainer sets it to. */
    VICREG_PARAM_GRAD_SCALE = 40,
    /* Since 1.2.0: G, how many of the views of vicreg_views_loss_*() (the
     * first G) are global; 0, the default, means every view is global.
     * Integral values in [0, VICREG_MAX_VIEWS]. A views call with G larger
     * than its view count returns VICREG_ERR_BAD_SHAPE. The two-batch calls
     * (vicreg_loss_*, vicreg_loss_rows_*, vicreg_shard_*) do not read it:
     * with two views every G gives the same loss. */
    VICREG_PARAM_GLOBAL_VIEWS = 50,
    /* Since 1.3.0: how many threads a loss call runs its streaming passes
     * on (centring, variances, the invariance, the first gradient pass),
     * the caller's thread included. Default 1: the library starts no
     * thread of its own. Setting T > 1 starts T - 1 threads owned by the
     * context, there and then (VICREG_ERR_NO_MEMORY if they cannot be
     * started; the context keeps its old setting); they sleep between
     * calls, and vicreg_ctx_destroy() or setting 1 stops and joins them.
     * The BLAS products keep the BLAS's own threads, which the library
     * never changes: set both to the cores the trainer gives the loss.
     * The passes split their work by columns and by rows, never inside a
     * sum, so every result is the same bits for every T. Integral values
     * in [1, 64]. A context with threads must not be used in the child of
     * a fork(), which has none of them. */
    VICREG_PARAM_THREADS = 60
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
 * Since 1.1.0 every gradient is multiplied by VICREG_PARAM_GRAD_SCALE
 * (default 1).
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
 * Introspection: the terms of the last successful loss call
 * (vicreg_loss_*, and since 1.1.0 vicreg_loss_rows_* and
 * vicreg_shard_finish_*; the other sharded calls leave them as they are).
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

/* ----------------------------------------------------------------------
 * Any number of views (since 1.2.0)
 *
 * Multi-crop training feeds V views of each input through the encoder: V
 * batches Z_0 .. Z_{V-1}, each n x d, row i of every view coming from the
 * same input; the first G views are "global" (VICREG_PARAM_GLOBAL_VIEWS;
 * 0 means G = V). Every pair of views {i, j}, i < j, has the weight
 * W_ij = [i < G] + [j < G] (2 for two global views, 1 for a global and a
 * local one, 0 for two local ones), and the invariance is the weighted
 * mean of the pairs' invariances s(Z_i, Z_j) (in the context's
 * convention, as above):
 *
 *   s_bar = sum_{i<j} W_ij s(Z_i, Z_j) / (G (V - 1)),
 *   L     = lambda s_bar + mu w sum_v v(Z_v) + nu sum_v c(Z_v),
 *
 * with w = 1/V in the reference convention and w = 1 in the paper
 * convention. This is VICRegL's global loss (each global view against
 * every other view, as ordered pairs) with nu = nu_VICRegL / V; with
 * G = V it is the plain mean over all V (V - 1) / 2 pairs. With V = 2 it
 * is the two-batch loss exactly, whatever G: vicreg_loss_*() is this
 * computation with two views, and gives the same bits as
 * vicreg_views_loss_*() with V = 2. With V = 1 there is no pair, s_bar = 0,
 * and L = mu v(Z) + nu c(Z) in the paper convention: the variance-
 * covariance regulariser of one batch alone (VCReg; stable-pretraining's
 * VCRegLoss with coefficient mu' is mu = mu' / 2 here).
 *
 * Cost and memory. Each view takes the covariance or the Gram path by the
 * rule of VICREG_PARAM_PATH and costs what one batch of a two-batch call
 * costs; the invariance over all weighted pairs costs O(V) per entry (it
 * is computed from each entry's deviations from the views' mean, never
 * from differences of large sums of squares). The scratch holds one
 * view's centred copy and product at a time, plus a few length-d arrays
 * per view: vicreg_ctx_views_scratch_bytes() gives it for a (views, n, d)
 * shape, and vicreg_ctx_views_reserve() allocates it up front. After the
 * first call at a given (views, n, d), no call at that shape or smaller
 * allocates.
 *
 * The two-batch calls are the V = 2 case and keep their own memory
 * promises; vicreg_ctx_get_term() after a views call reports LOSS,
 * INVARIANCE (s_bar), PATH_USED and the _A and _B terms of views 0 and 1
 * (after a one-view call the _B terms are VICREG_ERR_NO_RESULT), and
 * vicreg_ctx_get_view_term() after a two-batch call reports branches A
 * and B as views 0 and 1.
 * ---------------------------------------------------------------------- */
enum { VICREG_MAX_VIEWS = 64 };

/* Computes the loss of `views` batches z[0] .. z[views - 1] (each n x d;
 * view v has leading dimension ldz[v] >= d, or d for all when ldz is NULL)
 * with the context's parameters, and optionally the gradients.
 *
 *   loss    where the loss is stored; may be NULL.
 *   grad    NULL for no gradient, or an array of `views` pointers: grad[v]
 *           an n x d buffer (leading dimension ldgrad[v], or d for all when
 *           ldgrad is NULL) that receives dL/dZ_v, or NULL for none for
 *           view v. Only the first d entries of each row are written. No
 *           gradient buffer may overlap any view or any other gradient
 *           buffer (VICREG_ERR_OVERLAP); views may overlap each other (the
 *           same batch may be passed twice).
 *
 * Sums that feed the loss are accumulated in double for float input; every
 * gradient is multiplied by VICREG_PARAM_GRAD_SCALE. The terms go into the
 * context for vicreg_ctx_get_term() and vicreg_ctx_get_view_term().
 *
 * Returns VICREG_OK, or: VICREG_ERR_INVALID_ARGUMENT (ctx or z NULL, a
 * z[v] NULL), VICREG_ERR_BAD_SHAPE (views == 0 or above VICREG_MAX_VIEWS,
 * n < 2, d == 0, an ld < d, G above views), VICREG_ERR_SIZE_OVERFLOW,
 * VICREG_ERR_OVERLAP, VICREG_ERR_NON_FINITE (NaN or Inf in a view),
 * VICREG_ERR_OVERFLOW, VICREG_ERR_NO_MEMORY. On error nothing is written.
 * Since 1.2.0. */
VICREG_API int vicreg_views_loss_f32(vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                                     const float *const *z, const size_t *ldz,
                                     double *loss,
                                     float *const *grad, const size_t *ldgrad);

/* The same as vicreg_views_loss_f32() for double arrays. Since 1.2.0. */
VICREG_API int vicreg_views_loss_f64(vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                                     const double *const *z, const size_t *ldz,
                                     double *loss,
                                     double *const *grad, const size_t *ldgrad);

/* vicreg_views_loss_f32() on the whole batch, but only the gradient rows
 * row0 .. row0 + rows - 1 are computed and written, row row0 going to
 * grad[v][0] (a rows x d buffer), as vicreg_loss_rows_f32() does for two
 * batches. vicreg_views_loss_f32(...) and vicreg_views_loss_rows_f32(...,
 * 0, n, ...) give the same bits. Returns what vicreg_views_loss_f32()
 * returns, and VICREG_ERR_BAD_SHAPE when row0 + rows > n. Since 1.2.0. */
VICREG_API int vicreg_views_loss_rows_f32(vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                                          const float *const *z, const size_t *ldz,
                                          size_t row0, size_t rows, double *loss,
                                          float *const *grad, const size_t *ldgrad);

/* The same as vicreg_views_loss_rows_f32() for double arrays. Since 1.2.0. */
VICREG_API int vicreg_views_loss_rows_f64(vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                                          const double *const *z, const size_t *ldz,
                                          size_t row0, size_t rows, double *loss,
                                          double *const *grad, const size_t *ldgrad);

/* Stores in *bytes the scratch memory a views call of shape (views, n, d)
 * in the given precision needs with this context's path parameter.
 * Returns VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (NULL pointer, unknown
 * precision); VICREG_ERR_BAD_SHAPE (views == 0 or above VICREG_MAX_VIEWS,
 * n < 2, d == 0); VICREG_ERR_SIZE_OVERFLOW. Since 1.2.0. */
VICREG_API int vicreg_ctx_views_scratch_bytes(const vicreg_ctx *ctx, size_t views, size_t n,
                                              size_t d, int precision, size_t *bytes);

/* Allocates the scratch for a views call of shape (views, n, d) now, so
 * that later calls at that shape or smaller allocate nothing. Returns
 * VICREG_OK or any status of vicreg_ctx_views_scratch_bytes(), or
 * VICREG_ERR_NO_MEMORY (the context keeps its old scratch). Since 1.2.0. */
VICREG_API int vicreg_ctx_views_reserve(vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                                        int precision);

/* Per-view terms and collapse diagnostics of the last successful loss call,
 * keys of vicreg_ctx_get_view_term(); the values are pinned. */
enum {
    VICREG_VIEW_TERM_VARIANCE = 1,            /* v(Z_v), unweighted             */
    VICREG_VIEW_TERM_COVARIANCE = 2,          /* c(Z_v), unweighted             */
    VICREG_VIEW_TERM_MEAN_STD = 3,            /* mean over columns of s_j       */
    VICREG_VIEW_TERM_MIN_STD = 4,             /* smallest s_j                   */
    VICREG_VIEW_TERM_COLLAPSED_FRACTION = 5,  /* fraction of columns, s_j < gamma */
    VICREG_VIEW_TERM_EFFECTIVE_RANK = 6       /* (tr C)^2 / ||C||_F^2, as above */
};

/* Stores in *value a term of view `view` of the last successful loss call
 * on ctx (any loss call: a two-batch call has views 0 and 1). Returns
 * VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (NULL pointer, unknown term);
 * VICREG_ERR_NO_RESULT (no successful call yet, or view not below the view
 * count of that call). Since 1.2.0. */
VICREG_API int vicreg_ctx_get_view_term(const vicreg_ctx *ctx, int term, size_t view,
                                        double *value);

/* ----------------------------------------------------------------------
 * Sharded and distributed computation (since 1.1.0)
 *
 * VICReg's variance and covariance terms couple every row of the batch, so
 * a batch split across processes (or into micro-batches that do not fit in
 * memory together) cannot be handled by summing per-shard losses. These
 * calls split the work into phases whose results are plain sums: the
 * caller adds them up across shards with whatever it has (MPI_Allreduce,
 * NCCL, Gloo, torch.distributed, or a loop in one process) and passes the
 * totals back:
 *
 *   1. every shard:  vicreg_shard_sums_*()     adds its row count,
 *                    invariance sum and column sums into `sums`;
 *      all-reduce (sum) `sums` -> the global sums;
 *   2. every shard:  vicreg_shard_scatter_*()  adds its centred scatter
 *                    about the GLOBAL means into `scatter`;
 *      all-reduce (sum) `scatter` -> the global scatter;
 *   3. every shard:  vicreg_shard_finish_*()   gives the loss and every
 *                    term of the global batch, and the gradient rows of
 *                    its own rows.
 *
 * Centring about the global mean before the second reduction (rather than
 * reducing raw second moments) keeps the result as accurate as the
 * single-process covariance path: the loss, the terms and the gradient rows
 * agree with vicreg_loss_*() on the concatenated batch up to rounding
 * (tested at 1e-12 relative in float64 and 1e-5 in float32). Shards may
 * have any sizes, 0 and 1 rows included; the global batch needs at least
 * 2 rows. Every shard must use the same parameters.
 *
 * Gradient scaling. The gradient rows of vicreg_shard_finish_*() are exactly
 * dL/dZ of the global loss L for the shard's rows (times
 * VICREG_PARAM_GRAD_SCALE, default 1): back-propagated through the shard's
 * encoder they give this shard's share of dL/dtheta, and the shares SUM to
 * the gradient of L. A data-parallel trainer that AVERAGES parameter
 * gradients over its P processes (PyTorch DistributedDataParallel, Horovod
 * with averaging) divides that sum by P, so it must multiply by P: set
 * VICREG_PARAM_GRAD_SCALE to P on every process. A trainer that sums the
 * parameter gradients leaves it at 1. For micro-batches in one process the
 * gradients of the micro-batches are accumulated (summed): leave it at 1.
 *
 * The statistics buffers are arrays of double, whatever the precision of
 * the batches; vicreg_shard_sizes() gives their lengths (in doubles):
 *
 *   sums     2 + 2 d:   [0] the row count (a whole number, as a double),
 *                       [1] the invariance sum  sum_i ||za_i - zb_i||^2,
 *                       [2 .. 2+d)    the column sums of za,
 *                       [2+d .. 2+2d) the column sums of zb.
 *   scatter  d (d + 1): Sa = sum_i (za_i - m_a)(za_i - m_a)^T, its upper
 *                       triangle packed row by row (entry (j, k), j <= k,
 *                       at j*d - j*(j-1)/2 + (k - j)), d (d + 1) / 2
 *                       doubles; then Sb packed the same way. m_a and m_b
 *                       are the global column means, sums[2..] / sums[0].
 *
 * The phases ADD into the buffers: zero them before the first shard. The
 * caller owns them, the library keeps no pointer to them, and a shard's
 * contribution is a plain sum, so any reduction order is valid.
 *
 * Every sharded call reports errors as vicreg_loss_*() does and writes
 * nothing the caller owns on error: VICREG_ERR_INVALID_ARGUMENT (ctx,
 * sums or scatter NULL; za or zb NULL when n > 0; statistics no batch can
 * have: a negative invariance sum or scatter diagonal entry),
 * VICREG_ERR_BAD_SHAPE (d == 0; an ld < d when n > 0; a row count in
 * `sums` that is not a whole number below 2^53; in phases 2 and 3 a global
 * row count N below 2 or below n), VICREG_ERR_SIZE_OVERFLOW,
 * VICREG_ERR_OVERLAP (a statistics buffer overlapping za or zb; a buffer
 * the call writes overlapping any other array of the call),
 * VICREG_ERR_NON_FINITE (NaN or Inf in za, zb or the statistics passed
 * in), VICREG_ERR_OVERFLOW (the values, or the sums they would make, could
 * overflow), VICREG_ERR_NO_MEMORY. Scratch: phase 1 uses a few arrays of
 * d doubles, phases 2 and 3 as much as vicreg_loss_*() at (n, d) on the
 * covariance path; no call allocates after the first at its size.
 * ---------------------------------------------------------------------- */

/* Stores in *sums_len and *scatter_len the lengths, in doubles, of the
 * statistics buffers for d columns: 2 + 2 d and d (d + 1). Returns
 * VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (a NULL pointer);
 * VICREG_ERR_BAD_SHAPE (d == 0); VICREG_ERR_SIZE_OVERFLOW (a length in
 * bytes does not fit in size_t, or d does not fit in int, as for every
 * call). On error nothing is written. Since 1.1.0. */
VICREG_API int vicreg_shard_sizes(size_t d, size_t *sums_len, size_t *scatter_len);

/* Phase 1. Adds this shard's row count n, its invariance sum and the column
 * sums of za and zb (n x d, leading dimensions lda, ldb) into sums (2 + 2 d
 * doubles, zeroed by the caller before the first shard). The sums are
 * accumulated in double. n may be 0: nothing changes and za, zb may be
 * NULL. The parameters of ctx play no part and its terms are left as they
 * are. Returns VICREG_OK or a status listed above; VICREG_ERR_SIZE_OVERFLOW
 * also when the row count would pass 2^53. Since 1.1.0. */
VICREG_API int vicreg_shard_sums_f32(vicreg_ctx *ctx, size_t n, size_t d,
                                     const float *za, size_t lda,
                                     const float *zb, size_t ldb,
                                     double *sums);

/* The same as vicreg_shard_sums_f32() for double arrays. Since 1.1.0. */
VICREG_API int vicreg_shard_sums_f64(vicreg_ctx *ctx, size_t n, size_t d,
                                     const double *za, size_t lda,
                                     const double *zb, size_t ldb,
                                     double *sums);

/* Phase 2. Centres this shard's rows about the global column means given
 * by the GLOBAL sums (the sum of every shard's phase-1 buffer) and adds the
 * packed upper triangles of Zc_a^T Zc_a and Zc_b^T Zc_b into scatter
 * (d (d + 1) doubles, zeroed by the caller before the first shard). The
 * product is one symmetric rank-n update per branch in the precision of
 * the batches, like the covariance of vicreg_loss_*(), added into the
 * double buffer. n may be 0: nothing changes and za, zb may be NULL. The
 * parameters of ctx play no part and its terms are left as they are.
 * Returns VICREG_OK or a status listed above. Since 1.1.0. */
VICREG_API int vicreg_shard_scatter_f32(vicreg_ctx *ctx, size_t n, size_t d,
                                        const float *za, size_t lda,
                                        const float *zb, size_t ldb,
                                        const double *sums, double *scatter);

/* The same as vicreg_shard_scatter_f32() for double arrays. Since 1.1.0. */
VICREG_API int vicreg_shard_scatter_f64(vicreg_ctx *ctx, size_t n, size_t d,
                                        const double *za, size_t lda,
                                        const double *zb, size_t ldb,
                                        const double *sums, double *scatter);

/* Phase 3. From the GLOBAL sums and the GLOBAL scatter of a batch of
 * N = sums[0] rows, with the context's parameters: the loss of the global
 * batch into *loss (may be NULL), every term and collapse diagnostic of it
 * kept in ctx for vicreg_ctx_get_term() exactly as vicreg_loss_*() keeps
 * them (VICREG_TERM_PATH_USED is VICREG_PATH_COVARIANCE: the path
 * parameter plays no part), and the gradient
 * rows of this shard's n rows: grad_a (n x d, leading dimension ldga)
 * receives dL/dZa for the rows of za, centred about the global means, times
 * VICREG_PARAM_GRAD_SCALE; likewise grad_b. A NULL gradient is not
 * computed, as in vicreg_loss_*(). n may be 0: only the loss and the
 * terms (za, zb and the gradients may then be NULL).
 *
 * No correction for the mean is needed: the global centred columns sum to
 * zero, so the gradient through the global mean vanishes. The covariance
 * part is one product Zc (n x d) offdiag(S) with the global scatter
 * rounded to the precision of the batches; the terms come from the double
 * statistics. Every shard gets the same loss and terms. Returns VICREG_OK
 * or a status listed above. Since 1.1.0. */
VICREG_API int vicreg_shard_finish_f32(vicreg_ctx *ctx, size_t n, size_t d,
                                       const float *za, size_t lda,
                                       const float *zb, size_t ldb,
                                       const double *sums, const double *scatter,
                                       double *loss,
                                       float *grad_a, size_t ldga,
                                       float *grad_b, size_t ldgb);

/* The same as vicreg_shard_finish_f32() for double arrays. Since 1.1.0. */
VICREG_API int vicreg_shard_finish_f64(vicreg_ctx *ctx, size_t n, size_t d,
                                       const double *za, size_t lda,
                                       const double *zb, size_t ldb,
                                       const double *sums, const double *scatter,
                                       double *loss,
                                       double *grad_a, size_t ldga,
                                       double *grad_b, size_t ldgb);

/* The whole batch, some gradient rows: exactly vicreg_loss_f32() on the
 * n x d batches za, zb (either path, as the path parameter says; the same
 * loss, terms and checks), but only the gradient rows row0 .. row0 + rows
 * - 1 are computed and written, row row0 going to grad_a[0] (a rows x d
 * buffer, leading dimension ldga), likewise grad_b. The product that forms
 * the covariance part is restricted to those rows. For a process that has
 * gathered the whole batch and needs the gradient of its own shard only.
 * vicreg_loss_f32(...) and vicreg_loss_rows_f32(..., 0, n, ...) give the
 * same bits. rows may be 0 (no gradient is written). Returns what
 * vicreg_loss_f32() returns, and VICREG_ERR_BAD_SHAPE when row0 + rows > n.
 * Since 1.1.0. */
VICREG_API int vicreg_loss_rows_f32(vicreg_ctx *ctx, size_t n, size_t d,
                                    const float *za, size_t lda,
                                    const float *zb, size_t ldb,
                                    size_t row0, size_t rows,
                                    double *loss,
                                    float *grad_a, size_t ldga,
                                    float *grad_b, size_t ldgb);

/* The same as vicreg_loss_rows_f32() for double arrays. Since 1.1.0. */
VICREG_API int vicreg_loss_rows_f64(vicreg_ctx *ctx, size_t n, size_t d,
                                    const double *za, size_t lda,
                                    const double *zb, size_t ldb,
                                    size_t row0, size_t rows,
                                    double *loss,
                                    double *grad_a, size_t ldga,
                                    double *grad_b, size_t ldgb);

/* ----------------------------------------------------------------------
 * Sharded views (since 1.2.0): the three phases above for V views, so that
 * a V-view batch split across processes or micro-batches gives the loss,
 * the terms and the gradient rows of vicreg_views_loss_*() on the whole
 * batch. Every view of a shard has the shard's n rows. The buffers
 * (doubles; vicreg_shard_views_sizes() gives their lengths):
 *
 *   sums     2 + V d:   [0] the row count, [1] the shard's weighted
 *                       invariance sum sum_{i<j} W_ij sum_rows
 *                       ||z_i - z_j||^2 / (G (V - 1)) (0 for one view),
 *                       then the column sums of each view, view v at
 *                       [2 + v d .. 2 + (v + 1) d).
 *   scatter  V d (d + 1) / 2: view v's packed upper triangle of its
 *                       scatter about the global means, as above, at
 *                       [v d (d + 1) / 2 ..).
 *
 * With V = 2 these are the 1.1 buffers, and the 1.1 calls are these with
 * two views. The sums phase reads VICREG_PARAM_GLOBAL_VIEWS (the weights);
 * every shard must use the same parameters. Arguments and statuses are
 * those of the 1.1 phases and of vicreg_views_loss_*(); with n == 0, z
 * may be NULL (and so may each z[v]).
 * ---------------------------------------------------------------------- */

/* Stores in *sums_len and *scatter_len the lengths, in doubles, of the
 * statistics buffers for `views` views of d columns: 2 + views d and
 * views d (d + 1) / 2. Returns VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (a
 * NULL pointer); VICREG_ERR_BAD_SHAPE (views == 0 or above
 * VICREG_MAX_VIEWS, d == 0); VICREG_ERR_SIZE_OVERFLOW. Since 1.2.0. */
VICREG_API int vicreg_shard_views_sizes(size_t views, size_t d, size_t *sums_len,
                                        size_t *scatter_len);

/* Phase 1 for views: adds the shard's row count, weighted invariance sum
 * and column sums into sums. Since 1.2.0. */
VICREG_API int vicreg_shard_views_sums_f32(vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                                           const float *const *z, const size_t *ldz,
                                           double *sums);
/* The same for double arrays. Since 1.2.0. */
VICREG_API int vicreg_shard_views_sums_f64(vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                                           const double *const *z, const size_t *ldz,
                                           double *sums);

/* Phase 2 for views: adds each view's scatter about the global means into
 * scatter. Since 1.2.0. */
VICREG_API int vicreg_shard_views_scatter_f32(vicreg_ctx *ctx, size_t views, size_t n,
                                              size_t d, const float *const *z,
                                              const size_t *ldz, const double *sums,
                                              double *scatter);
/* The same for double arrays. Since 1.2.0. */
VICREG_API int vicreg_shard_views_scatter_f64(vicreg_ctx *ctx, size_t views, size_t n,
                                              size_t d, const double *const *z,
                                              const size_t *ldz, const double *sums,
                                              double *scatter);

/* Phase 3 for views: the loss and terms of the global batch, and the
 * gradient rows of this shard's rows for each view whose grad[v] is not
 * NULL (grad itself may be NULL). Since 1.2.0. */
VICREG_API int vicreg_shard_views_finish_f32(vicreg_ctx *ctx, size_t views, size_t n,
                                             size_t d, const float *const *z,
                                             const size_t *ldz, const double *sums,
                                             const double *scatter, double *loss,
                                             float *const *grad, const size_t *ldgrad);
/* The same for double arrays. Since 1.2.0. */
VICREG_API int vicreg_shard_views_finish_f64(vicreg_ctx *ctx, size_t views, size_t n,
                                             size_t d, const double *const *z,
                                             const size_t *ldz, const double *sums,
                                             const double *scatter, double *loss,
                                             double *const *grad, const size_t *ldgrad);

/* A buffer owned by the context, for a layer built on the library (a
 * binding, or libvicreg-mpi, which keeps its gathered shards and its own
 * small state there). Stores in *out a pointer to at least `bytes` bytes,
 * aligned to 64 bytes. It allocates only when `bytes` exceeds what was
 * last allocated for this purpose, and then keeps the old contents (as
 * realloc does; the pointer changes); every byte after them, up to `bytes`
 * rounded up to a multiple of 64 (all of which may be read), is zero
 * (libvicreg 1.1.0 left new bytes indeterminate). bytes == 0 gives the current
 * buffer, NULL if there is none yet. The pointer stays valid until a
 * larger request or vicreg_ctx_destroy(), which frees it. No loss
 * function touches it. Returns VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (ctx
 * or out NULL); VICREG_ERR_NO_MEMORY (the old buffer stays, *out is not
 * written). Since 1.1.0. */
VICREG_API int vicreg_ctx_buffer(vicreg_ctx *ctx, size_t bytes, void **out);

#ifdef __cplusplus
}
#endif

#endif /* VICREG_H */
