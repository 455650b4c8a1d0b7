/*
 * test-views-memory.c - allocation behaviour of the views calls of 1.2,
 * against the library built with its test hooks (VICREG_TEST_HOOKS, see
 * src/context.h), which count every allocation and fail any on demand:
 *
 *   reuse    after the first views call at (V, n, d), or after
 *            vicreg_ctx_views_reserve(), no views call, rows call or
 *            two-batch call at that shape or smaller allocates, on either
 *            path and in f32 after f64; nor do the sharded views phases
 *            after a first pipeline;
 *   failure  a failed allocation in a views call, a rows call, a reserve
 *            or a sharded phase returns VICREG_ERR_NO_MEMORY, writes
 *            nothing the caller owns, keeps the context's terms and its
 *            old scratch, and leaves a context that computes what a fresh
 *            one computes, bit for bit; every allocation of a scenario is
 *            made to fail once;
 *   threads  with VICREG_PARAM_THREADS set, no call allocates after the
 *            first; a failed allocation of the threads returns
 *            VICREG_ERR_NO_MEMORY and keeps the old setting and results.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_hooks.h"
#include "viewsutil.h"

/* The first shapes (V, n, d): the covariance path under AUTO (n >= d) and
 * the Gram path (n < d). */
static const size_t first_shapes[2][3] = { { 4, 12, 8 }, { 3, 6, 14 } };
static const int paths[3] = { VICREG_PATH_AUTO, VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };

/* The loss and gradients of a views call on the first n rows and d
 * columns of the first `count` views of w (ldz = w's, d of the data).
 * `which` picks the gradients: 0 all, 1 the even views, 2 none. */
static int views_call(int prec, vicreg_ctx *c, const struct views *w, size_t count, size_t n,
                      size_t d, int which, void *const *g, int rows)
{
    void *grad[VU_CAP];
    size_t ldg[VU_CAP];
    double loss;
    for (size_t v = 0; v < count; v++) {
        grad[v] = which == 0 || (which == 1 && v % 2 == 0) ? g[v] : NULL;
        ldg[v] = d;
    }
    const void *const *z = VU_CZ(w->z);
    if (rows)
        return prec_views_loss_rows(prec, c, count, n, d, z, w->ld, n / 2, n - n / 2, &loss,
                                    which == 2 ? NULL : grad, ldg);
    return prec_views_loss(prec, c, count, n, d, z, d == w->d ? NULL : w->ld, &loss,
                           which == 2 ? NULL : grad, which == 2 ? NULL : ldg);
}

static void **grad_buffers(int prec, size_t count, size_t n, size_t d)
{
    void **g = calloc(VU_CAP, sizeof *g);
    ck_assert_ptr_nonnull(g);
    for (size_t v = 0; v < count; v++)
        g[v] = sentinel_buffer(prec, n * d);
    return g;
}

static void grad_buffers_free(void **g, size_t count)
{
    for (size_t v = 0; v < count; v++)
        free(g[v]);
    free(g);
}

/* Every shape (V', n', d') <= (V, n, d) in prec: the views call with each
 * choice of gradients in turn, the rows call, and (V' = 2) the two-batch
 * call; none allocates. */
static void sweep_no_alloc(int prec, vicreg_ctx *c, size_t count, size_t n, size_t d,
                           const char *what)
{
    struct views w;
    views_make(&w, prec, 3, count, n, d, 0);
    void **g = grad_buffers(prec, count, n, d);
    int k = 0, paths_seen = 0;
    const long before = allocs();
    for (size_t vv = 1; vv <= count; vv++)
        for (size_t nn = 2; nn <= n; nn++)
            for (size_t dd = 1; dd <= d; dd++, k++) {
                int st = views_call(prec, c, &w, vv, nn, dd, k % 3, g, 0);
                ck_assert_msg(st == VICREG_OK, "%s: (%zu, %zu, %zu) gave %s", what, vv, nn, dd,
                              vicreg_status_name(st));
                double path;
                ck_assert_int_eq(vicreg_ctx_get_term(c, VICREG_TERM_PATH_USED, &path), VICREG_OK);
                paths_seen |= path == VICREG_PATH_GRAM ? 1 : 2;
                st = views_call(prec, c, &w, vv, nn, dd, (k + 1) % 3, g, 1);
                ck_assert_msg(st == VICREG_OK, "%s: rows (%zu, %zu, %zu) gave %s", what, vv, nn,
                              dd, vicreg_status_name(st));
                if (vv == 2)
                    ck_assert_int_eq(prec_loss(prec, c, nn, dd, w.z[0], d, w.z[1], d, NULL, g[0],
                                               dd, k % 2 ? g[1] : NULL, dd),
                                     VICREG_OK);
                ck_assert_msg(allocs() == before, "%s: a call at (%zu, %zu, %zu) allocated", what,
                              vv, nn, dd);
            }
    double mode;
    ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_PATH, &mode), VICREG_OK);
    if (mode == VICREG_PATH_AUTO)
        ck_assert_int_eq(paths_seen, 3);
    grad_buffers_free(g, count);
    views_free(&w);
}

/* ---------------------------------------------------------------------
 * reuse
 * --------------------------------------------------------------------- */
/* A new context on `path` after a views call at shape s (V, n, d) in
 * prec, which must allocate (a new context has no scratch), and the same
 * call again, which must not. */
static vicreg_ctx *after_first_call(int prec, int path, const size_t *s, uint64_t seed)
{
    struct views w;
    views_make(&w, prec, seed, s[0], s[1], s[2], 0);
    void **g = grad_buffers(prec, s[0], s[1], s[2]);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, path), VICREG_OK);
    const long created = allocs();
    ck_assert_int_eq(views_call(prec, c, &w, s[0], s[1], s[2], 0, g, 0), VICREG_OK);
    ck_assert_int_gt(allocs(), created);
    const long first = allocs();
    ck_assert_int_eq(views_call(prec, c, &w, s[0], s[1], s[2], 0, g, 0), VICREG_OK);
    ck_assert_int_eq(allocs(), first);
    grad_buffers_free(g, s[0]);
    views_free(&w);
    return c;
}

START_TEST(no_alloc_after_first_views_call)
{
    /* _i = prec + 2 * first shape + 4 * path. */
    const int prec = _i % 2, path = paths[_i / 4];
    const size_t *s = first_shapes[(_i / 2) % 2];
    vicreg_ctx *c = after_first_call(prec, path, s, 1);
    sweep_no_alloc(prec, c, s[0], s[1], s[2], "after the first views call");
    vicreg_ctx_destroy(c);
}
END_TEST

START_TEST(no_alloc_f32_after_f64)
{
    const size_t *s = first_shapes[_i];
    vicreg_ctx *c = after_first_call(F64, VICREG_PATH_AUTO, s, 2);
    sweep_no_alloc(F32, c, s[0], s[1], s[2], "f32 after f64");
    vicreg_ctx_destroy(c);
}
END_TEST

START_TEST(no_alloc_after_views_reserve)
{
    /* _i = prec + 2 * shape + 4 * path. */
    const int prec = _i % 2, path = paths[_i / 4];
    const size_t *s = first_shapes[(_i / 2) % 2];
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, path), VICREG_OK);
    const long created = allocs();
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, s[0], s[1], s[2], precision_key(prec)),
                     VICREG_OK);
    ck_assert_int_gt(allocs(), created);
    const long reserved = allocs();
    /* Reserving again at that shape or smaller allocates nothing. */
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, s[0], s[1], s[2], precision_key(prec)),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, 1, 2, 1, precision_key(prec)), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, s[0], s[1], s[2], VICREG_PRECISION_F32),
                     VICREG_OK);
    ck_assert_int_eq(allocs(), reserved);
    sweep_no_alloc(prec, c, s[0], s[1], s[2], "after a views reserve");
    vicreg_ctx_destroy(c);
}
END_TEST

/* With VICREG_PARAM_THREADS = 3 the threads and their temporaries are
 * allocated when the parameter is set; calls large enough to split their
 * passes (V = 3, 300 x 400) allocate on the first call only (the
 * scratch), and then never: views, rows and two-batch calls. */
START_TEST(no_alloc_with_threads)
{
    const int prec = _i;
    const size_t count = 3, n = 300, d = 400;
    struct views w;
    views_make(&w, prec, 4, count, n, d, 0);
    void **g = grad_buffers(prec, count, n, d);
    vicreg_ctx *c = tu_ctx_new();
    const long created = allocs();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, 3), VICREG_OK);
    ck_assert_int_gt(allocs(), created);
    ck_assert_int_eq(views_call(prec, c, &w, count, n, d, 0, g, 0), VICREG_OK);
    const long warm = allocs();
    for (int which = 0; which < 3; which++) {
        ck_assert_int_eq(views_call(prec, c, &w, count, n, d, which, g, 0), VICREG_OK);
        ck_assert_int_eq(views_call(prec, c, &w, count, n, d, which, g, 1), VICREG_OK);
        ck_assert_int_eq(views_call(prec, c, &w, 2, n, d - 1, which, g, 0), VICREG_OK);
    }
    ck_assert_int_eq(prec_loss(prec, c, n, d, w.z[0], d, w.z[1], d, NULL, g[0], d, g[1], d),
                     VICREG_OK);
    ck_assert_msg(allocs() == warm, "a call with threads allocated");
    vicreg_ctx_destroy(c);
    grad_buffers_free(g, count);
    views_free(&w);
}
END_TEST

/* Every allocation of starting the threads made to fail in turn:
 * VICREG_ERR_NO_MEMORY, the parameter keeps its value (1, or the 2 set
 * before), and the context computes what it computed before, bit for
 * bit. */
START_TEST(threads_allocation_fails)
{
    const int prec = F64;
    const size_t count = 2, n = 200, d = 300;
    struct views w;
    views_make(&w, prec, 6, count, n, d, 0);
    void **g = grad_buffers(prec, count, n, d);
    void **want = grad_buffers(prec, count, n, d);
    vicreg_ctx *c = tu_ctx_new();
    const int before = _i ? 2 : 1;
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, before), VICREG_OK);
    ck_assert_int_eq(views_call(prec, c, &w, count, n, d, 0, want, 0), VICREG_OK);
    int failures = 0;
    for (long k = 0;; k++) {
        fail_after(k);
        int st = vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, 4);
        hooks_reset();
        if (st == VICREG_OK)
            break;
        ck_assert_int_eq(st, VICREG_ERR_NO_MEMORY);
        failures++;
        double value;
        ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_THREADS, &value), VICREG_OK);
        ck_assert(value == before);
        ck_assert_int_eq(views_call(prec, c, &w, count, n, d, 0, g, 0), VICREG_OK);
        for (size_t v = 0; v < count; v++)
            ck_assert(memcmp(g[v], want[v], n * d * sizeof(double)) == 0);
    }
    ck_assert_int_ge(failures, 1);
    ck_assert_int_eq(views_call(prec, c, &w, count, n, d, 0, g, 0), VICREG_OK);
    for (size_t v = 0; v < count; v++)
        ck_assert(memcmp(g[v], want[v], n * d * sizeof(double)) == 0);
    vicreg_ctx_destroy(c);
    grad_buffers_free(g, count);
    grad_buffers_free(want, count);
    views_free(&w);
}
END_TEST

START_TEST(growth_allocates)
{
    /* More views than any seen allocates, once. */
    const int prec = _i;
    struct views w;
    views_make(&w, prec, 5, 8, 10, 6, 0);
    void **g = grad_buffers(prec, 8, 10, 6);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(views_call(prec, c, &w, 2, 10, 6, 0, g, 0), VICREG_OK);
    long before = allocs();
    ck_assert_int_eq(views_call(prec, c, &w, 8, 10, 6, 0, g, 0), VICREG_OK);
    ck_assert_int_gt(allocs(), before);
    before = allocs();
    ck_assert_int_eq(views_call(prec, c, &w, 8, 10, 6, 0, g, 0), VICREG_OK);
    ck_assert_int_eq(allocs(), before);
    vicreg_ctx_destroy(c);
    grad_buffers_free(g, 8);
    views_free(&w);
}
END_TEST

/* The three sharded views phases on the first n rows and d columns of
 * the first `count` views of w (leading dimension w's) as one shard, into
 * sums and scatter (zeroed here), the gradients into g when with_grads;
 * the first failure stops. */
static int pipeline(int prec, vicreg_ctx *c, const struct views *w, size_t count, size_t n,
                    size_t d, double *sums, double *scatter, void *const *g, double *loss)
{
    size_t sl, cl;
    ck_assert_int_eq(vicreg_shard_views_sizes(count, d, &sl, &cl), VICREG_OK);
    memset(sums, 0, sl * sizeof(double));
    memset(scatter, 0, cl * sizeof(double));
    const void *const *z = VU_CZ(w->z);
    size_t ldg[VU_CAP];
    for (size_t v = 0; v < count; v++)
        ldg[v] = d;
    int st = prec_shard_views_sums(prec, c, count, n, d, z, w->ld, sums);
    if (st == VICREG_OK)
        st = prec_shard_views_scatter(prec, c, count, n, d, z, w->ld, sums, scatter);
    if (st == VICREG_OK)
        st = prec_shard_views_finish(prec, c, count, n, d, z, w->ld, sums, scatter, loss, g,
                                     g ? ldg : NULL);
    return st;
}

START_TEST(no_alloc_after_first_pipeline)
{
    /* _i = prec + 2 * path (the phases do not read it). */
    const int prec = _i % 2;
    const size_t count = 4, n = 12, d = 8;
    struct views w;
    views_make(&w, prec, 6, count, n, d, 0);
    void **g = grad_buffers(prec, count, n, d);
    size_t sl, cl;
    ck_assert_int_eq(vicreg_shard_views_sizes(count, d, &sl, &cl), VICREG_OK);
    double *sums = malloc(sl * sizeof(double)), *scatter = malloc(cl * sizeof(double)), loss;
    ck_assert(sums && scatter);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, paths[_i / 2]), VICREG_OK);
    ck_assert_int_eq(pipeline(prec, c, &w, count, n, d, sums, scatter, g, &loss), VICREG_OK);
    const long before = allocs();
    for (size_t vv = 1; vv <= count; vv++)
        for (size_t nn = 2; nn <= n; nn++)
            for (size_t dd = 1; dd <= d; dd++) {
                ck_assert_int_eq(pipeline(prec, c, &w, vv, nn, dd, sums, scatter,
                                          (nn + dd) % 2 ? g : NULL, &loss),
                                 VICREG_OK);
                ck_assert_msg(allocs() == before, "pipeline (%zu, %zu, %zu) allocated", vv, nn,
                              dd);
            }
    vicreg_ctx_destroy(c);
    free(sums);
    free(scatter);
    grad_buffers_free(g, count);
    views_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * failure
 * --------------------------------------------------------------------- */

/* A views call (every gradient) that must fail with VICREG_ERR_NO_MEMORY
 * and change nothing the caller owns, nor the context's terms (vu_run
 * checks the buffers and the loss). */
static void expect_no_memory(int prec, vicreg_ctx *c, size_t count, size_t n, size_t d,
                             int rows, const char *what)
{
    struct views w;
    struct vgrads all;
    struct vout o;
    struct vsnap before, after;
    views_make(&w, prec, 8, count, n, d, 1);
    vgrads_some(&all, count, d, 0, 1);
    vout_init(&o, count, n, d);
    vsnap_take(c, &before);
    const int st = vu_run(c, &w, 0, &all, rows ? 1 : 0, rows ? n - 2 : SIZE_MAX, &o);
    ck_assert_msg(st == VICREG_ERR_NO_MEMORY, "%s: got %s", what, vicreg_status_name(st));
    vsnap_take(c, &after);
    ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "%s: the terms changed", what);
    vout_free(&o);
    views_free(&w);
}

/* c computes the views call (count, n, d) as a fresh context does
 * (allocation allowed). */
static void assert_like_fresh(int prec, vicreg_ctx *c, size_t count, size_t n, size_t d,
                              const char *what)
{
    struct views w;
    struct vgrads all;
    struct vout o1, o2;
    const struct ref_params p = ref_default_params();
    views_make(&w, prec, 30, count, n, d, 0);
    vgrads_all(&all, count);
    vout_init(&o1, count, n, d);
    vout_init(&o2, count, n, d);
    vicreg_ctx *fresh = tu_ctx_new();
    tu_set_params(fresh, &p);
    ck_assert_msg(vu_run(c, &w, 1, &all, 0, SIZE_MAX, &o1) == VICREG_OK,
                  "%s: the context fails afterwards", what);
    ck_assert_int_eq(vu_run(fresh, &w, 1, &all, 0, SIZE_MAX, &o2), VICREG_OK);
    vout_assert_same(&o1, &o2, NULL, what);
    vicreg_ctx_destroy(fresh);
    vout_free(&o1);
    vout_free(&o2);
    views_free(&w);
}

START_TEST(first_views_call_fails)
{
    /* _i = prec + 2 * shape (covariance or Gram path) + 4 * rows call. */
    const int prec = _i % 2, rows = _i / 4;
    const size_t *s = first_shapes[(_i / 2) % 2];
    double v;
    vicreg_ctx *c = tu_ctx_new();
    fail_after(0);
    expect_no_memory(prec, c, s[0], s[1], s[2], rows, "first scratch");
    fail_after(-1);
    ck_assert_int_eq(vicreg_ctx_get_term(c, VICREG_TERM_LOSS, &v), VICREG_ERR_NO_RESULT);
    ck_assert_int_eq(vicreg_ctx_get_view_term(c, VICREG_VIEW_TERM_VARIANCE, 0, &v),
                     VICREG_ERR_NO_RESULT);
    assert_like_fresh(prec, c, s[0], s[1], s[2], "after a failed first scratch");
    vicreg_ctx_destroy(c);
}
END_TEST

/* The small call (2 views, 6 x 4) on c: its outcome, with no allocation
 * when `no_alloc`. */
static void small_call(int prec, vicreg_ctx *c, int no_alloc, struct vout *o)
{
    struct views w;
    struct vgrads all;
    views_make(&w, prec, 10, 2, 6, 4, 0);
    vgrads_all(&all, 2);
    vout_init(o, 2, 6, 4);
    const long before = allocs();
    ck_assert_int_eq(vu_run(c, &w, 1, &all, 0, SIZE_MAX, o), VICREG_OK);
    if (no_alloc)
        ck_assert_msg(allocs() == before, "the small call allocated: its scratch was not kept");
    views_free(&w);
}

START_TEST(growth_fails)
{
    /* _i = prec + 2 * what grows (views; rows and columns; a rows call). */
    const int prec = _i % 2, kind = _i / 2;
    struct vout r1, r2;
    vicreg_ctx *c = tu_ctx_new();
    small_call(prec, c, 0, &r1);
    fail_after(0);
    const long before = allocs();
    if (kind == 0)
        expect_no_memory(prec, c, 12, 6, 4, 0, "growth in views");
    else
        expect_no_memory(prec, c, 3, 30, 20, kind == 2, "growth in n and d");
    ck_assert_int_gt(allocs(), before); /* it did try */
    /* The old scratch is kept: the small call allocates nothing and gives
     * the same bits. */
    small_call(prec, c, 1, &r2);
    vout_assert_same(&r1, &r2, NULL, "the small call after a failed growth");
    fail_after(-1);
    assert_like_fresh(prec, c, 12, 6, 4, "after a failed growth");
    assert_like_fresh(prec, c, 3, 30, 20, "after a failed growth");
    vout_free(&r1);
    vout_free(&r2);
    vicreg_ctx_destroy(c);
}
END_TEST

START_TEST(views_reserve_fails)
{
    const int prec = _i;
    struct vout r1, r2;
    struct vsnap before, after;
    vicreg_ctx *c = tu_ctx_new();
    fail_after(0);
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, 6, 30, 20, precision_key(prec)),
                     VICREG_ERR_NO_MEMORY);
    fail_after(-1);
    small_call(prec, c, 0, &r1);
    vsnap_take(c, &before);
    fail_after(0);
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, 6, 30, 20, precision_key(prec)),
                     VICREG_ERR_NO_MEMORY);
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, 40, 8, 4, precision_key(prec)),
                     VICREG_ERR_NO_MEMORY);
    vsnap_take(c, &after);
    ck_assert(memcmp(&before, &after, sizeof before) == 0);
    small_call(prec, c, 1, &r2);
    vout_assert_same(&r1, &r2, NULL, "the small call after a failed reserve");
    fail_after(-1);
    /* A successful reserve afterwards covers the shape. */
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, 6, 30, 20, precision_key(prec)), VICREG_OK);
    const long reserved = allocs();
    struct views w;
    views_make(&w, prec, 13, 6, 30, 20, 0);
    ck_assert_int_eq(prec_views_loss(prec, c, 6, 30, 20, VU_CZ(w.z), NULL, NULL, NULL, NULL),
                     VICREG_OK);
    ck_assert_int_eq(allocs(), reserved);
    views_free(&w);
    assert_like_fresh(prec, c, 6, 30, 20, "after a failed reserve");
    vout_free(&r1);
    vout_free(&r2);
    vicreg_ctx_destroy(c);
}
END_TEST

START_TEST(phase_allocation_fails)
{
    /* Each phase with every allocation failing, after the phases before it
     * ran normally, on a fresh context (_i / 2 == 0) or one that ran a
     * smaller pipeline: VICREG_ERR_NO_MEMORY exactly when the phase tried
     * to allocate, the phase's outputs untouched then, and the context
     * computes the pipeline as a fresh one does. */
    const int prec = _i % 2, grow = _i / 2;
    const size_t count = 3, n = 9, d = 16;
    struct views w;
    views_make(&w, prec, 14, count, n, d, 0);
    size_t sl, cl;
    ck_assert_int_eq(vicreg_shard_views_sizes(count, d, &sl, &cl), VICREG_OK);
    double *sums = malloc(sl * sizeof(double)), *scatter = malloc(cl * sizeof(double));
    double *keep_sums = malloc(sl * sizeof(double)), *keep_scatter = malloc(cl * sizeof(double));
    ck_assert(sums && scatter && keep_sums && keep_scatter);
    void **g = grad_buffers(prec, count, n, d);
    size_t ldg[VU_CAP];
    for (size_t v = 0; v < count; v++)
        ldg[v] = d;
    int hits = 0;
    for (int phase = 0; phase < 3; phase++) {
        char what[80];
        double loss = -1.0;
        snprintf(what, sizeof what, "%s phase %d%s", prec_name(prec), phase + 1,
                 grow ? " growth" : "");
        vicreg_ctx *c = tu_ctx_new();
        if (grow)
            ck_assert_int_eq(pipeline(prec, c, &w, 2, 3, 2, sums, scatter, NULL, &loss),
                             VICREG_OK);
        struct vsnap before, after;
        vsnap_take(c, &before);
        memset(sums, 0, sl * sizeof(double));
        memset(scatter, 0, cl * sizeof(double));
        for (size_t v = 0; v < count; v++)
            memset(g[v], SENTINEL_BYTE, n * d * elem_of(prec));
        int st = VICREG_OK;
        long allocs_before = 0;
        loss = -1.0;
        for (int k = 0; k <= phase; k++) {
            if (k == phase) {
                memcpy(keep_sums, sums, sl * sizeof(double));
                memcpy(keep_scatter, scatter, cl * sizeof(double));
                allocs_before = allocs();
                fail_after(0);
            }
            const void *const *z = VU_CZ(w.z);
            if (k == 0)
                st = prec_shard_views_sums(prec, c, count, n, d, z, NULL, sums);
            else if (k == 1)
                st = prec_shard_views_scatter(prec, c, count, n, d, z, NULL, sums, scatter);
            else
                st = prec_shard_views_finish(prec, c, count, n, d, z, NULL, sums, scatter, &loss,
                                             g, ldg);
            if (k < phase)
                ck_assert_int_eq(st, VICREG_OK);
        }
        fail_after(-1);
        const int hit = allocs() > allocs_before;
        hits += hit;
        ck_assert_msg(st == (hit ? VICREG_ERR_NO_MEMORY : VICREG_OK), "%s: got %s (%s)", what,
                      vicreg_status_name(st), hit ? "it tried to allocate" : "no allocation");
        if (hit) {
            ck_assert_msg(memcmp(keep_sums, sums, sl * sizeof(double)) == 0 &&
                              memcmp(keep_scatter, scatter, cl * sizeof(double)) == 0,
                          "%s: the failed phase wrote its statistics", what);
            ck_assert(loss == -1.0);
            for (size_t v = 0; v < count; v++)
                for (size_t b = 0; b < n * d * elem_of(prec); b++)
                    ck_assert_msg(((unsigned char *)g[v])[b] == SENTINEL_BYTE,
                                  "%s: gradient %zu written", what, v);
            vsnap_take(c, &after);
            ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "%s: terms changed", what);
        }
        /* Recovery: the same context against a fresh one. */
        vicreg_ctx *fresh = tu_ctx_new();
        double l1, l2;
        ck_assert_int_eq(pipeline(prec, c, &w, count, n, d, sums, scatter, g, &l1), VICREG_OK);
        memcpy(keep_sums, sums, sl * sizeof(double));
        memcpy(keep_scatter, scatter, cl * sizeof(double));
        unsigned char *g1 = malloc(count * n * d * elem_of(prec));
        ck_assert_ptr_nonnull(g1);
        for (size_t v = 0; v < count; v++)
            memcpy(g1 + v * n * d * elem_of(prec), g[v], n * d * elem_of(prec));
        ck_assert_int_eq(pipeline(prec, fresh, &w, count, n, d, sums, scatter, g, &l2), VICREG_OK);
        ck_assert_msg(memcmp(&l1, &l2, sizeof l1) == 0 &&
                          memcmp(keep_sums, sums, sl * sizeof(double)) == 0 &&
                          memcmp(keep_scatter, scatter, cl * sizeof(double)) == 0,
                      "%s: the recovered context computes otherwise", what);
        for (size_t v = 0; v < count; v++)
            ck_assert(memcmp(g1 + v * n * d * elem_of(prec), g[v], n * d * elem_of(prec)) == 0);
        free(g1);
        vicreg_ctx_destroy(fresh);
        vicreg_ctx_destroy(c);
    }
    /* A pipeline on a fresh context needs scratch somewhere. */
    if (!grow)
        ck_assert_int_gt(hits, 0);
    free(sums);
    free(scatter);
    free(keep_sums);
    free(keep_scatter);
    grad_buffers_free(g, count);
    views_free(&w);
}
END_TEST

/* One step of the scenario below. */
struct step {
    int kind; /* 0: create, 1: views call, 2: views reserve, 3: rows call, 4: two-batch */
    int prec;
    size_t views, n, d;
};

static const struct step scenario[] = {
    { 0, F64, 0, 0, 0 },   { 1, F64, 3, 8, 4 },   { 1, F32, 3, 8, 4 },   { 4, F64, 2, 16, 12 },
    { 2, F64, 6, 20, 12 }, { 1, F64, 6, 20, 12 }, { 3, F32, 5, 20, 30 }, { 1, F32, 9, 20, 30 },
    { 4, F32, 2, 40, 8 },  { 1, F64, 2, 40, 8 },
};
#define N_STEPS (sizeof scenario / sizeof scenario[0])

/* Step s of the scenario (an ah_step_fn). */
static int scenario_step(vicreg_ctx **pc, size_t s, const char *what)
{
    const struct step *st = &scenario[s];
    vicreg_ctx *c = *pc;
    struct vsnap before, after;
    int status;
    if (st->kind == 0)
        return ah_create_step(pc);
    vsnap_take(c, &before);
    if (st->kind == 2) {
        status = vicreg_ctx_views_reserve(c, st->views, st->n, st->d, precision_key(st->prec));
    } else {
        struct views w;
        struct vgrads all;
        struct vout o;
        views_make(&w, st->prec, 20 + s, st->views, st->n, st->d, 0);
        w.pair = st->kind == 4;
        vgrads_all(&all, st->views);
        vout_init(&o, st->views, st->n, st->d);
        status = vu_run(c, &w, 1, &all, st->kind == 3 ? 2 : 0,
                        st->kind == 3 ? st->n - 4 : SIZE_MAX, &o);
        vout_free(&o);
        views_free(&w);
    }
    if (status != VICREG_OK) {
        vsnap_take(c, &after);
        ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "%s: the terms changed", what);
    }
    return status;
}

/* After step s failed: the context computes the step's shape like a
 * fresh context (an ah_recover_fn). */
static void scenario_recover(vicreg_ctx *c, size_t s, const char *what)
{
    const struct step *st = &scenario[s];
    assert_like_fresh(st->prec, c, st->views ? st->views : 3, st->n ? st->n : 6,
                      st->d ? st->d : 4, what);
}

START_TEST(every_failure_point)
{
    /* Fail allocation k + 1 of a fixed scenario, for every k until the
     * scenario makes no more than k allocations: the step during which it
     * fails returns VICREG_ERR_NO_MEMORY (every other step VICREG_OK),
     * writes nothing (vu_run checks), keeps the terms, and leaves a context
     * that computes like a fresh one. */
    const long k = ah_every_failure_point(N_STEPS, 300, scenario_step, scenario_recover);
    /* At least: the context, a first scratch, a reserve and two growths. */
    ck_assert_int_ge(k, 5);
}
END_TEST

static Suite *views_memory_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "reuse", .setup = hooks_reset, .teardown = hooks_reset, .timeout = 120,
          .tests = { TU_LOOP(no_alloc_after_first_views_call, 0, 12),
                     TU_LOOP(no_alloc_f32_after_f64, 0, 2),
                     TU_LOOP(no_alloc_after_views_reserve, 0, 12), TU_LOOP(growth_allocates, 0, 2),
                     TU_LOOP(no_alloc_after_first_pipeline, 0, 6),
                     TU_LOOP(no_alloc_with_threads, 0, 2) } },
        { .name = "failure", .setup = hooks_reset, .teardown = hooks_reset, .timeout = 120,
          .tests = { TU_LOOP(first_views_call_fails, 0, 8), TU_LOOP(growth_fails, 0, 6),
                     TU_LOOP(views_reserve_fails, 0, 2), TU_LOOP(phase_allocation_fails, 0, 4),
                     TU_TEST(every_failure_point), TU_LOOP(threads_allocation_fails, 0, 2) } },
    };
    return tu_suite("views-memory", tcases, sizeof tcases / sizeof tcases[0]);
}

int main(void)
{
    return tu_run(srunner_create(views_memory_suite()));
}
