/*
 * context.c - the context: creation, parameters and their bounds, scratch,
 * and the terms of the last call.
 */
#include <float.h>
#include <math.h>
#ifdef VICREG_TEST_HOOKS
#include <stdatomic.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "layout.h"
#include "pool.h"

/* Allocation goes through these two so that a build for the tests
 * (VICREG_TEST_HOOKS: tests/test-memory.c and tests/test-shard-memory.c,
 * through tests/alloc_hooks.h) can count allocations and make any of them
 * fail. The installed library has no such switch. */
#ifdef VICREG_TEST_HOOKS
_Atomic long vicreg_test_alloc_count = 0;
_Atomic long vicreg_test_fail_alloc_after = -1; /* -1: never fail */
#endif

void *vicreg_alloc_aligned(size_t bytes)
{
#ifdef VICREG_TEST_HOOKS
    vicreg_test_alloc_count++;
    /* One atomic step from "k allowed" to "k - 1 allowed": a separate test
     * and decrement would let two threads both take the last one. */
    long left = atomic_load(&vicreg_test_fail_alloc_after);
    while (left > 0 &&
           !atomic_compare_exchange_weak(&vicreg_test_fail_alloc_after, &left, left - 1))
        ;
    if (left == 0)
        return NULL;
#endif
    /* aligned_alloc wants a multiple of the alignment. */
    size_t rounded = (bytes + VICREG_ALIGN - 1) / VICREG_ALIGN * VICREG_ALIGN;
    if (rounded < bytes)
        return NULL;
    return aligned_alloc(VICREG_ALIGN, rounded);
}

void vicreg_free(void *p)
{
    free(p);
}

static const struct vicreg_params default_params = {
    .lambda = 25.0,
    .mu = 25.0,
    .nu = 1.0,
    .gamma = 1.0,
    .eps = 1e-4,
    .grad_scale = 1.0,
    .convention = VICREG_CONVENTION_REFERENCE,
    .path = VICREG_PATH_AUTO,
    .threads = 1,
};

VICREG_API int vicreg_ctx_create(vicreg_ctx **out)
{
    if (!out)
        return VICREG_ERR_INVALID_ARGUMENT;
    vicreg_ctx *ctx = vicreg_alloc_aligned(sizeof *ctx);
    if (!ctx)
        return VICREG_ERR_NO_MEMORY;
    memset(ctx, 0, sizeof *ctx);
    ctx->params = default_params;
    *out = ctx;
    return VICREG_OK;
}

VICREG_API void vicreg_ctx_destroy(vicreg_ctx *ctx)
{
    if (!ctx)
        return;
    vicreg_pool_destroy(ctx->pool);
    vicreg_free(ctx->scratch);
    vicreg_free(ctx->layer);
    vicreg_free(ctx);
}

/* The legal range of each parameter. Coefficients stop at 1e9 so that the
 * overflow bound of a call stays meaningful; gamma and eps must be positive
 * (the smallest positive normal double is the lower end of a closed range). */
static int bounds_of(int param, double *lower, double *upper)
{
    switch (param) {
    case VICREG_PARAM_INVARIANCE_COEFF:
    case VICREG_PARAM_VARIANCE_COEFF:
    case VICREG_PARAM_COVARIANCE_COEFF:
    case VICREG_PARAM_GRAD_SCALE:
        *lower = 0.0;
        *upper = 1e9;
        return VICREG_OK;
    case VICREG_PARAM_STD_TARGET:
    case VICREG_PARAM_EPSILON:
        *lower = DBL_MIN;
        *upper = 1e9;
        return VICREG_OK;
    case VICREG_PARAM_CONVENTION:
        *lower = VICREG_CONVENTION_REFERENCE;
        *upper = VICREG_CONVENTION_PAPER;
        return VICREG_OK;
    case VICREG_PARAM_PATH:
        *lower = VICREG_PATH_AUTO;
        *upper = VICREG_PATH_GRAM;
        return VICREG_OK;
    case VICREG_PARAM_GLOBAL_VIEWS:
        *lower = 0.0;
        *upper = VICREG_MAX_VIEWS;
        return VICREG_OK;
    case VICREG_PARAM_THREADS:
        *lower = 1.0;
        *upper = VICREG_MAX_THREADS;
        return VICREG_OK;
    default:
        return VICREG_ERR_INVALID_ARGUMENT;
    }
}

VICREG_API int vicreg_param_bounds(int param, double *lower, double *upper)
{
    double lo, hi;
    if (!lower || !upper)
        return VICREG_ERR_INVALID_ARGUMENT;
    int status = bounds_of(param, &lo, &hi);
    if (status != VICREG_OK)
        return status;
    *lower = lo;
    *upper = hi;
    return VICREG_OK;
}

/* Starts the new pool before stopping the old one, so that a failure
 * leaves the context as it was. */
static int set_threads(vicreg_ctx *ctx, int threads)
{
    if (threads == ctx->params.threads)
        return VICREG_OK;
    struct vicreg_pool *pool = NULL;
    if (threads > 1) {
        int status = vicreg_pool_create(&pool, threads);
        if (status != VICREG_OK)
            return status;
    }
    vicreg_pool_destroy(ctx->pool);
    ctx->pool = pool;
    ctx->params.threads = threads;
    return VICREG_OK;
}

VICREG_API int vicreg_ctx_set_param(vicreg_ctx *ctx, int param, double value)
{
    double lo, hi;
    if (!ctx)
        return VICREG_ERR_INVALID_ARGUMENT;
    int status = bounds_of(param, &lo, &hi);
    if (status != VICREG_OK)
        return status;
    /* Written so that NaN fails too. */
    if (!(value >= lo && value <= hi))
        return VICREG_ERR_OUT_OF_RANGE;
    struct vicreg_params *p = &ctx->params;
    switch (param) {
    case VICREG_PARAM_INVARIANCE_COEFF: p->lambda = value; break;
    case VICREG_PARAM_VARIANCE_COEFF: p->mu = value; break;
    case VICREG_PARAM_COVARIANCE_COEFF: p->nu = value; break;
    case VICREG_PARAM_STD_TARGET: p->gamma = value; break;
    case VICREG_PARAM_EPSILON: p->eps = value; break;
    case VICREG_PARAM_GRAD_SCALE: p->grad_scale = value; break;
    case VICREG_PARAM_CONVENTION:
    case VICREG_PARAM_PATH:
    case VICREG_PARAM_GLOBAL_VIEWS:
    case VICREG_PARAM_THREADS:
        /* Enumerations and counts take whole numbers only. */
        if (value != floor(value))
            return VICREG_ERR_OUT_OF_RANGE;
        if (param == VICREG_PARAM_THREADS)
            return set_threads(ctx, (int)value);
        if (param == VICREG_PARAM_CONVENTION)
            p->convention = (int)value;
        else if (param == VICREG_PARAM_PATH)
            p->path = (int)value;
        else
            p->global_views = (int)value;
        break;
    }
    return VICREG_OK;
}

VICREG_API int vicreg_ctx_get_param(const vicreg_ctx *ctx, int param, double *value)
{
    if (!ctx || !value)
        return VICREG_ERR_INVALID_ARGUMENT;
    const struct vicreg_params *p = &ctx->params;
    switch (param) {
    case VICREG_PARAM_INVARIANCE_COEFF: *value = p->lambda; break;
    case VICREG_PARAM_VARIANCE_COEFF: *value = p->mu; break;
    case VICREG_PARAM_COVARIANCE_COEFF: *value = p->nu; break;
    case VICREG_PARAM_STD_TARGET: *value = p->gamma; break;
    case VICREG_PARAM_EPSILON: *value = p->eps; break;
    case VICREG_PARAM_GRAD_SCALE: *value = p->grad_scale; break;
    case VICREG_PARAM_CONVENTION: *value = p->convention; break;
    case VICREG_PARAM_PATH: *value = p->path; break;
    case VICREG_PARAM_GLOBAL_VIEWS: *value = p->global_views; break;
    case VICREG_PARAM_THREADS: *value = p->threads; break;
    default: return VICREG_ERR_INVALID_ARGUMENT;
    }
    return VICREG_OK;
}

VICREG_API int vicreg_ctx_get_term(const vicreg_ctx *ctx, int term, double *value)
{
    if (!ctx || !value)
        return VICREG_ERR_INVALID_ARGUMENT;
    const struct vicreg_terms *t = &ctx->terms;
    /* Branch A is view 0 and branch B view 1 (a one-view call has no B):
     * the pinned keys of the per-branch terms are even for A and odd for
     * B. */
    const double *per_view = NULL;
    double v = 0.0;
    switch (term) {
    case VICREG_TERM_LOSS: v = t->loss; break;
    case VICREG_TERM_INVARIANCE: v = t->invariance; break;
    case VICREG_TERM_PATH_USED: v = t->path_used; break;
    case VICREG_TERM_VARIANCE_A:
    case VICREG_TERM_VARIANCE_B: per_view = t->variance; break;
    case VICREG_TERM_COVARIANCE_A:
    case VICREG_TERM_COVARIANCE_B: per_view = t->covariance; break;
    case VICREG_TERM_MEAN_STD_A:
    case VICREG_TERM_MEAN_STD_B: per_view = t->mean_std; break;
    case VICREG_TERM_MIN_STD_A:
    case VICREG_TERM_MIN_STD_B: per_view = t->min_std; break;
    case VICREG_TERM_COLLAPSED_FRACTION_A:
    case VICREG_TERM_COLLAPSED_FRACTION_B: per_view = t->collapsed_fraction; break;
    case VICREG_TERM_EFFECTIVE_RANK_A:
    case VICREG_TERM_EFFECTIVE_RANK_B: per_view = t->effective_rank; break;
    default: return VICREG_ERR_INVALID_ARGUMENT;
    }
    const size_t view = per_view ? (size_t)(term & 1) : 0;
    if (per_view)
        v = per_view[view];
    if (!ctx->has_terms || view >= t->views)
        return VICREG_ERR_NO_RESULT;
    *value = v;
    return VICREG_OK;
}

VICREG_API int vicreg_ctx_get_view_term(const vicreg_ctx *ctx, int term, size_t view,
                                        double *value)
{
    if (!ctx || !value)
        return VICREG_ERR_INVALID_ARGUMENT;
    const struct vicreg_terms *t = &ctx->terms;
    const double *per_view;
    switch (term) {
    case VICREG_VIEW_TERM_VARIANCE: per_view = t->variance; break;
    case VICREG_VIEW_TERM_COVARIANCE: per_view = t->covariance; break;
    case VICREG_VIEW_TERM_MEAN_STD: per_view = t->mean_std; break;
    case VICREG_VIEW_TERM_MIN_STD: per_view = t->min_std; break;
    case VICREG_VIEW_TERM_COLLAPSED_FRACTION: per_view = t->collapsed_fraction; break;
    case VICREG_VIEW_TERM_EFFECTIVE_RANK: per_view = t->effective_rank; break;
    default: return VICREG_ERR_INVALID_ARGUMENT;
    }
    if (!ctx->has_terms || view >= t->views)
        return VICREG_ERR_NO_RESULT;
    *value = per_view[view];
    return VICREG_OK;
}

int vicreg_path_for(int path_param, size_t n, size_t d)
{
    if (path_param != VICREG_PATH_AUTO)
        return path_param;
    return n < d ? VICREG_PATH_GRAM : VICREG_PATH_COVARIANCE;
}

int vicreg_scratch_ensure(vicreg_ctx *ctx, size_t bytes)
{
    if (bytes <= ctx->scratch_bytes)
        return VICREG_OK;
    void *fresh = vicreg_alloc_aligned(bytes);
    if (!fresh)
        return VICREG_ERR_NO_MEMORY;
    vicreg_free(ctx->scratch);
    ctx->scratch = fresh;
    ctx->scratch_bytes = bytes;
    return VICREG_OK;
}

/* The layer buffer grows like realloc (old contents kept) but through
 * vicreg_alloc_aligned(), so that it is 64-byte aligned and the test hooks
 * see the allocation. Its allocation is a whole multiple of 64 bytes, and
 * every byte of it past the old contents is zero, so that a layer may read
 * a mark of up to 64 bytes from a buffer that another user of the context
 * filled with fewer (libvicreg-mpi reads its 8-byte mark): no byte it
 * reads is indeterminate. */
VICREG_API int vicreg_ctx_buffer(vicreg_ctx *ctx, size_t bytes, void **out)
{
    if (!ctx || !out)
        return VICREG_ERR_INVALID_ARGUMENT;
    if (bytes > ctx->layer_bytes) {
        size_t whole = (bytes + VICREG_ALIGN - 1) / VICREG_ALIGN * VICREG_ALIGN;
        if (whole < bytes)
            return VICREG_ERR_NO_MEMORY;
        unsigned char *fresh = vicreg_alloc_aligned(whole);
        if (!fresh)
            return VICREG_ERR_NO_MEMORY;
        if (ctx->layer_bytes)
            memcpy(fresh, ctx->layer, ctx->layer_bytes);
        memset(fresh + ctx->layer_bytes, 0, whole - ctx->layer_bytes);
        vicreg_free(ctx->layer);
        ctx->layer = fresh;
        ctx->layer_bytes = bytes;
    }
    *out = ctx->layer;
    return VICREG_OK;
}
