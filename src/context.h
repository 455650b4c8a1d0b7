/*
 * context.h - the private layout of a vicreg_ctx and the helpers that the
 * source files share. Never installed.
 */
#ifndef VICREG_CONTEXT_H
#define VICREG_CONTEXT_H

#include <stddef.h>

#include "vicreg.h"

struct vicreg_pool;

/* The parameters, held as the types the computation uses. */
struct vicreg_params {
    double lambda; /* invariance coefficient */
    double mu;     /* variance coefficient */
    double nu;     /* covariance coefficient */
    double gamma;  /* target standard deviation */
    double eps;    /* added to each variance before the square root */
    double grad_scale; /* every gradient written is multiplied by it */
    int convention;
    int path;
    int global_views; /* G of a views call; 0: every view */
    int threads;      /* VICREG_PARAM_THREADS: the caller's thread and threads - 1 of pool */
};

/* Everything a loss call reports, kept for vicreg_ctx_get_term() and
 * vicreg_ctx_get_view_term(): per view, [0, views). */
struct vicreg_terms {
    double loss;
    double invariance;
    size_t views;
    double variance[VICREG_MAX_VIEWS];    /* v(Z_v) */
    double covariance[VICREG_MAX_VIEWS];  /* c(Z_v) */
    double mean_std[VICREG_MAX_VIEWS];
    double min_std[VICREG_MAX_VIEWS];
    double collapsed_fraction[VICREG_MAX_VIEWS];
    double effective_rank[VICREG_MAX_VIEWS];
    int path_used;
};

struct vicreg_ctx {
    struct vicreg_params params;
    struct vicreg_terms terms;
    int has_terms;        /* a loss call has succeeded */
    void *scratch;        /* 64-byte aligned, scratch_bytes long */
    size_t scratch_bytes;
    void *layer;          /* vicreg_ctx_buffer(): 64-byte aligned, layer_bytes long */
    size_t layer_bytes;
    struct vicreg_pool *pool; /* NULL unless VICREG_PARAM_THREADS > 1 (pool.h) */
};

/* The path a call of shape (n, d) takes under the given path parameter. */
int vicreg_path_for(int path_param, size_t n, size_t d);

/* Makes ctx->scratch at least `bytes` long. Returns VICREG_OK or
 * VICREG_ERR_NO_MEMORY, in which case the old scratch is kept. */
int vicreg_scratch_ensure(vicreg_ctx *ctx, size_t bytes);

#ifdef VICREG_TEST_HOOKS
/* Only in the hooked build of the memory tests (tests/test-memory.c and
 * tests/test-shard-memory.c): every call of vicreg_alloc_aligned() is
 * counted, and when fail_alloc_after reaches 0 it returns NULL (each
 * allocation that succeeds counts it down by one, atomically; -1 never
 * fails). */
extern _Atomic long vicreg_test_alloc_count;
extern _Atomic long vicreg_test_fail_alloc_after;
#endif

/* All allocation goes through these two. */
void *vicreg_alloc_aligned(size_t bytes);
void vicreg_free(void *p);

#endif
