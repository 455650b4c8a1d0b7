/*
 * test-memory.c - allocation behaviour, against the library built with its
 * test hooks (VICREG_TEST_HOOKS, see src/context.h): every allocation is
 * counted and any one of them can be made to fail.
 *
 *   reuse    after the first call at (n, d) no call at that size or
 *            smaller allocates, on either path, in f32 after f64, and
 *            after vicreg_ctx_reserve();
 *   failure  every failed allocation (context, first scratch, scratch
 *            growth, reserve) returns VICREG_ERR_NO_MEMORY, writes nothing
 *            the caller owns, and leaves a context that computes what a
 *            fresh one computes, bit for bit.
 *
 * Run under valgrind with CK_FORK=no to check for leaks.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier_t */

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_hooks.h"
#include "precision.h"
#include "testutil.h"

struct terms {
    int has;
    double v[TU_N_TERMS];
};

static void read_terms(const vicreg_ctx *c, struct terms *t)
{
    memset(t, 0, sizeof *t);
    t->has = tu_read_terms(c, t->v) == VICREG_OK;
}

/* The loss, both gradients and every term of one call on (n, d) data. */
struct result {
    double loss;
    void *ga, *gb;
    struct terms t;
};

static int run(int prec, vicreg_ctx *c, size_t n, size_t d, const struct pair *p,
               struct result *r)
{
    r->loss = NAN;
    r->ga = sentinel_buffer(prec, n * d);
    r->gb = sentinel_buffer(prec, n * d);
    int status = prec_loss(prec, c, n, d, p->za, d, p->zb, d, &r->loss, r->ga, d, r->gb, d);
    if (status == VICREG_OK)
        read_terms(c, &r->t);
    return status;
}

static void result_free(struct result *r)
{
    free(r->ga);
    free(r->gb);
}

static void assert_same(int prec, size_t n, size_t d, const struct result *x,
                        const struct result *y, const char *what)
{
    ck_assert_msg(memcmp(&x->loss, &y->loss, sizeof x->loss) == 0, "%s: loss %.17g vs %.17g",
                  what, x->loss, y->loss);
    ck_assert_msg(memcmp(x->ga, y->ga, n * d * elem_of(prec)) == 0, "%s: grad_a differs", what);
    ck_assert_msg(memcmp(x->gb, y->gb, n * d * elem_of(prec)) == 0, "%s: grad_b differs", what);
    ck_assert_msg(memcmp(&x->t, &y->t, sizeof x->t) == 0, "%s: terms differ", what);
}

/* ctx computes (n, d) exactly as a fresh context does (allocation allowed). */
static void assert_like_fresh(int prec, vicreg_ctx *c, size_t n, size_t d, uint64_t seed,
                              const char *what)
{
    struct pair p;
    struct result r1, r2;
    pair_make(&p, prec, seed, n, d, d);
    vicreg_ctx *fresh = tu_ctx_new();
    ck_assert_msg(run(prec, c, n, d, &p, &r1) == VICREG_OK, "%s: the context fails afterwards",
                  what);
    ck_assert_int_eq(run(prec, fresh, n, d, &p, &r2), VICREG_OK);
    assert_same(prec, n, d, &r1, &r2, what);
    result_free(&r1);
    result_free(&r2);
    vicreg_ctx_destroy(fresh);
    pair_free(&p);
}

/* The 6 x 4 call on `small` that gave r1 before a failed allocation
 * gives the same bits again without an allocation: the scratch it had is
 * kept. Frees r1. */
static void assert_scratch_kept(int prec, vicreg_ctx *c, const struct pair *small,
                                struct result *r1, const char *what)
{
    struct result r2;
    const long tried = allocs();
    ck_assert_int_eq(run(prec, c, 6, 4, small, &r2), VICREG_OK);
    ck_assert_int_eq(allocs(), tried);
    assert_same(prec, 6, 4, r1, &r2, what);
    result_free(r1);
    result_free(&r2);
}

/* ---------------------------------------------------------------------
 * reuse: no allocation at or below the largest shape seen
 * --------------------------------------------------------------------- */

/* The two first shapes: one on the covariance path (n >= d), one on the
 * Gram path (n < d) in automatic mode. */
static const size_t first_shapes[2][2] = { { 24, 16 }, { 12, 30 } };

/* Calls every shape (n', d') <= (n, d) in precision prec, with the
 * gradients requested in turn: both, a only, b only, none; then with a
 * larger leading dimension. Asserts that none of them allocates. */
static void sweep_no_alloc(int prec, vicreg_ctx *c, size_t n, size_t d, const char *what)
{
    struct pair p;
    void *ga = sentinel_buffer(prec, n * d), *gb = sentinel_buffer(prec, n * d);
    double loss;
    int k = 0, paths_seen = 0;
    pair_make(&p, prec, 3, n, d, d);
    const long before = allocs();
    for (size_t nn = 2; nn <= n; nn++)
        for (size_t dd = 1; dd <= d; dd++, k++) {
            void *a = k % 4 == 0 || k % 4 == 1 ? ga : NULL;
            void *b = k % 4 == 0 || k % 4 == 2 ? gb : NULL;
            size_t ld = k % 3 == 0 ? d : dd; /* the data holds n rows of d */
            int status = prec_loss(prec, c, nn, dd, p.za, ld, p.zb, ld, &loss, a, dd, b, dd);
            ck_assert_msg(status == VICREG_OK, "%s: (%zu, %zu) gave %s", what, nn, dd,
                          vicreg_status_name(status));
            ck_assert_msg(allocs() == before, "%s: the call at (%zu, %zu) allocated", what, nn,
                          dd);
            double path;
            ck_assert_int_eq(vicreg_ctx_get_term(c, VICREG_TERM_PATH_USED, &path), VICREG_OK);
            paths_seen |= path == VICREG_PATH_GRAM ? 1 : 2;
        }
    free(ga);
    free(gb);
    pair_free(&p);
    /* The sweep crossed both paths in automatic mode. */
    double mode;
    ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_PATH, &mode), VICREG_OK);
    if (mode == VICREG_PATH_AUTO)
        ck_assert_int_eq(paths_seen, 3);
}

START_TEST(no_alloc_after_first_call)
{
    /* _i = prec + 2 * first shape. */
    const int prec = _i % 2;
    const size_t n = first_shapes[_i / 2][0], d = first_shapes[_i / 2][1];
    struct pair p;
    struct result r;
    pair_make(&p, prec, 1, n, d, d);
    vicreg_ctx *c = tu_ctx_new();
    const long created = allocs();
    ck_assert_int_eq(run(prec, c, n, d, &p, &r), VICREG_OK);
    /* A new context has no scratch: the first call must have allocated,
     * which shows the counter works. */
    ck_assert_int_gt(allocs(), created);
    result_free(&r);
    const long after_first = allocs();
    /* The same size again, then everything smaller. */
    ck_assert_int_eq(run(prec, c, n, d, &p, &r), VICREG_OK);
    result_free(&r);
    ck_assert_int_eq(allocs(), after_first);
    sweep_no_alloc(prec, c, n, d, "after the first call");
    vicreg_ctx_destroy(c);
    pair_free(&p);
}
END_TEST

START_TEST(no_alloc_f32_after_f64)
{
    const size_t n = first_shapes[_i][0], d = first_shapes[_i][1];
    struct pair p;
    struct result r;
    pair_make(&p, F64, 2, n, d, d);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(run(F64, c, n, d, &p, &r), VICREG_OK);
    result_free(&r);
    sweep_no_alloc(F32, c, n, d, "f32 after f64");
    vicreg_ctx_destroy(c);
    pair_free(&p);
}
END_TEST

START_TEST(no_alloc_after_reserve)
{
    /* _i = prec + 2 * shape. */
    const int prec = _i % 2;
    const size_t n = first_shapes[_i / 2][0], d = first_shapes[_i / 2][1];
    vicreg_ctx *c = tu_ctx_new();
    const long created = allocs();
    ck_assert_int_eq(vicreg_ctx_reserve(c, n, d, precision_key(prec)), VICREG_OK);
    ck_assert_int_gt(allocs(), created);
    const long reserved = allocs();
    /* Reserving again at that size or smaller allocates nothing. */
    ck_assert_int_eq(vicreg_ctx_reserve(c, n, d, precision_key(prec)), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_reserve(c, 2, 1, precision_key(prec)), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_reserve(c, n, d, VICREG_PRECISION_F32), VICREG_OK);
    ck_assert_int_eq(allocs(), reserved);
    sweep_no_alloc(prec, c, n, d, "after reserve");
    if (prec == F64)
        sweep_no_alloc(F32, c, n, d, "f32 after an f64 reserve");
    vicreg_ctx_destroy(c);
}
END_TEST

START_TEST(no_alloc_fixed_path)
{
    /* With the path parameter fixed (and unchanged), likewise. _i = prec +
     * 2 * (path - 1). */
    const int prec = _i % 2, path = 1 + _i / 2;
    const size_t n = 20, d = 20;
    struct pair p;
    struct result r;
    pair_make(&p, prec, 4, n, d, d);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, path), VICREG_OK);
    ck_assert_int_eq(run(prec, c, n, d, &p, &r), VICREG_OK);
    ck_assert_double_eq(r.t.v[TU_N_TERMS - 1], path);
    result_free(&r);
    sweep_no_alloc(prec, c, n, d, path == VICREG_PATH_GRAM ? "Gram path" : "covariance path");
    vicreg_ctx_destroy(c);
    pair_free(&p);
}
END_TEST

START_TEST(growth_allocates)
{
    /* The counter sees growth: a larger shape than any seen allocates,
     * once. */
    const int prec = _i;
    struct pair p;
    struct result r;
    pair_make(&p, prec, 5, 40, 40, 40);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(run(prec, c, 8, 8, &p, &r), VICREG_OK);
    result_free(&r);
    long before = allocs();
    ck_assert_int_eq(run(prec, c, 40, 40, &p, &r), VICREG_OK);
    result_free(&r);
    ck_assert_int_gt(allocs(), before);
    before = allocs();
    ck_assert_int_eq(run(prec, c, 40, 40, &p, &r), VICREG_OK);
    result_free(&r);
    ck_assert_int_eq(allocs(), before);
    vicreg_ctx_destroy(c);
    pair_free(&p);
}
END_TEST

/* ---------------------------------------------------------------------
 * failure: every allocation failure is VICREG_ERR_NO_MEMORY and harmless
 * --------------------------------------------------------------------- */
START_TEST(create_fails)
{
    vicreg_ctx *c = (vicreg_ctx *)(void *)&c; /* any non-NULL marker */
    vicreg_ctx *const marker = c;
    fail_after(0);
    ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_ERR_NO_MEMORY);
    ck_assert_ptr_eq(c, marker);
    fail_after(-1);
    ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_OK);
    ck_assert_ptr_ne(c, marker);
    assert_like_fresh(F64, c, 6, 4, 9, "after a failed create");
    vicreg_ctx_destroy(c);
}
END_TEST

/* A loss call that must fail with VICREG_ERR_NO_MEMORY and change nothing
 * the caller owns, nor the context's terms. */
static void expect_no_memory(int prec, vicreg_ctx *c, size_t n, size_t d, const char *what)
{
    struct pair p;
    struct terms before, after;
    double loss, loss_copy;
    pair_make(&p, prec, 8, n, d, d);
    const size_t bytes = n * d * elem_of(prec);
    void *ga = sentinel_buffer(prec, n * d), *gb = sentinel_buffer(prec, n * d);
    void *za_copy = malloc(bytes), *zb_copy = malloc(bytes), *g_copy = malloc(bytes);
    ck_assert(za_copy && zb_copy && g_copy);
    memcpy(za_copy, p.za, bytes);
    memcpy(zb_copy, p.zb, bytes);
    memcpy(g_copy, ga, bytes);
    memset(&loss, 0xA5, sizeof loss);
    loss_copy = loss;
    read_terms(c, &before);
    int status = prec_loss(prec, c, n, d, p.za, d, p.zb, d, &loss, ga, d, gb, d);
    ck_assert_msg(status == VICREG_ERR_NO_MEMORY, "%s: got %s", what, vicreg_status_name(status));
    ck_assert_msg(memcmp(&loss, &loss_copy, sizeof loss) == 0, "%s: loss written", what);
    ck_assert_msg(memcmp(ga, g_copy, bytes) == 0, "%s: grad_a written", what);
    ck_assert_msg(memcmp(gb, g_copy, bytes) == 0, "%s: grad_b written", what);
    ck_assert_msg(memcmp(p.za, za_copy, bytes) == 0, "%s: za written", what);
    ck_assert_msg(memcmp(p.zb, zb_copy, bytes) == 0, "%s: zb written", what);
    read_terms(c, &after);
    ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "%s: terms changed", what);
    free(ga);
    free(gb);
    free(za_copy);
    free(zb_copy);
    free(g_copy);
    pair_free(&p);
}

START_TEST(first_scratch_fails)
{
    /* _i = prec + 2 * path of the call (covariance or Gram). */
    const int prec = _i % 2;
    const size_t n = _i / 2 ? 5 : 9, d = _i / 2 ? 11 : 6;
    double v;
    vicreg_ctx *c = tu_ctx_new();
    fail_after(0);
    expect_no_memory(prec, c, n, d, "first scratch");
    ck_assert_int_eq(vicreg_ctx_get_term(c, VICREG_TERM_LOSS, &v), VICREG_ERR_NO_RESULT);
    fail_after(-1);
    assert_like_fresh(prec, c, n, d, 8, "after a failed first scratch");
    vicreg_ctx_destroy(c);
}
END_TEST

START_TEST(growth_fails)
{
    const int prec = _i;
    struct pair small;
    struct result r1;
    pair_make(&small, prec, 10, 6, 4, 4);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(run(prec, c, 6, 4, &small, &r1), VICREG_OK);
    /* Every further allocation fails. */
    fail_after(0);
    const long before = allocs();
    expect_no_memory(prec, c, 30, 20, "scratch growth, covariance path");
    expect_no_memory(prec, c, 8, 40, "scratch growth, Gram path");
    ck_assert_int_gt(allocs(), before); /* it did try */
    /* The old scratch is still there: the small shape works without an
     * allocation and gives the same bits as before. */
    assert_scratch_kept(prec, c, &small, &r1, "small call after a failed growth");
    fail_after(-1);
    assert_like_fresh(prec, c, 30, 20, 8, "after a failed growth");
    assert_like_fresh(prec, c, 8, 40, 8, "after a failed growth");
    vicreg_ctx_destroy(c);
    pair_free(&small);
}
END_TEST

START_TEST(reserve_fails)
{
    const int prec = _i;
    struct pair small;
    struct result r1;
    struct terms before, after;
    pair_make(&small, prec, 12, 6, 4, 4);
    vicreg_ctx *c = tu_ctx_new();

    /* On a context with no scratch yet. */
    fail_after(0);
    ck_assert_int_eq(vicreg_ctx_reserve(c, 30, 20, precision_key(prec)), VICREG_ERR_NO_MEMORY);
    fail_after(-1);
    read_terms(c, &before);
    ck_assert_int_eq(before.has, 0);

    /* On a context with a result and a small scratch. */
    ck_assert_int_eq(run(prec, c, 6, 4, &small, &r1), VICREG_OK);
    read_terms(c, &before);
    fail_after(0);
    ck_assert_int_eq(vicreg_ctx_reserve(c, 30, 20, precision_key(prec)), VICREG_ERR_NO_MEMORY);
    ck_assert_int_eq(vicreg_ctx_reserve(c, 8, 40, precision_key(prec)), VICREG_ERR_NO_MEMORY);
    read_terms(c, &after);
    ck_assert_mem_eq(&before, &after, sizeof before);
    /* The old scratch is kept. */
    assert_scratch_kept(prec, c, &small, &r1, "small call after a failed reserve");
    fail_after(-1);
    /* A successful reserve after the failure covers the shape. */
    ck_assert_int_eq(vicreg_ctx_reserve(c, 30, 20, precision_key(prec)), VICREG_OK);
    struct pair big;
    pair_make(&big, prec, 13, 30, 20, 20);
    const long reserved = allocs();
    ck_assert_int_eq(run(prec, c, 30, 20, &big, &r1), VICREG_OK);
    ck_assert_int_eq(allocs(), reserved);
    result_free(&r1);
    assert_like_fresh(prec, c, 30, 20, 13, "after a failed reserve");
    pair_free(&big);
    vicreg_ctx_destroy(c);
    pair_free(&small);
}
END_TEST

/* One step of the scenario below. */
struct step {
    int kind; /* 0: create, 1: loss call, 2: reserve */
    int prec;
    size_t n, d;
};

static const struct step scenario[] = {
    { 0, F64, 0, 0 },  { 1, F64, 8, 4 },   { 1, F32, 8, 4 },   { 1, F64, 16, 12 },
    { 2, F64, 20, 40 }, { 1, F64, 20, 40 }, { 1, F32, 30, 30 }, { 2, F32, 64, 8 },
    { 1, F32, 64, 8 },  { 1, F64, 64, 8 },  { 1, F32, 48, 48 },
};
#define N_STEPS (sizeof scenario / sizeof scenario[0])

/* Step s of the scenario (an ah_step_fn). */
static int scenario_step(vicreg_ctx **pc, size_t s, const char *what)
{
    const struct step *st = &scenario[s];
    vicreg_ctx *c = *pc;
    int status;
    if (st->kind == 0) {
        status = ah_create_step(pc);
    } else if (st->kind == 2) {
        struct terms before, after;
        read_terms(c, &before);
        status = vicreg_ctx_reserve(c, st->n, st->d, precision_key(st->prec));
        read_terms(c, &after);
        ck_assert_mem_eq(&before, &after, sizeof before);
    } else {
        struct pair p;
        struct terms before, after;
        const size_t count = st->n * st->d, elem = elem_of(st->prec);
        unsigned char pattern[sizeof(double)];
        double loss = -1.0;
        memset(pattern, SENTINEL_BYTE, sizeof pattern);
        pair_make(&p, st->prec, 20 + s, st->n, st->d, st->d);
        void *ga = sentinel_buffer(st->prec, count), *gb = sentinel_buffer(st->prec, count);
        read_terms(c, &before);
        status = prec_loss(st->prec, c, st->n, st->d, p.za, st->d, p.zb, st->d, &loss, ga, st->d,
                           gb, st->d);
        if (status != VICREG_OK) {
            for (size_t e = 0; e < count; e++)
                ck_assert_msg(memcmp((char *)ga + e * elem, pattern, elem) == 0 &&
                                  memcmp((char *)gb + e * elem, pattern, elem) == 0,
                              "%s: gradient written", what);
            ck_assert_double_eq(loss, -1.0);
            read_terms(c, &after);
            ck_assert_mem_eq(&before, &after, sizeof before);
        }
        free(ga);
        free(gb);
        pair_free(&p);
    }
    return status;
}

/* After step s failed: the context computes the step's shape like a
 * fresh context (an ah_recover_fn). */
static void scenario_recover(vicreg_ctx *c, size_t s, const char *what)
{
    const struct step *st = &scenario[s];
    const size_t n = st->n ? st->n : 6, d = st->d ? st->d : 4;
    assert_like_fresh(st->prec, c, n, d, 30 + s, what);
}

START_TEST(every_failure_point)
{
    /* Fail allocation number k + 1 of a fixed scenario, for every k until
     * the scenario makes no more than k allocations. The step during which
     * the allocation fails must return VICREG_ERR_NO_MEMORY (every other
     * step VICREG_OK), write nothing the caller owns, keep the terms, and
     * leave a context that computes like a fresh one. */
    const long k = ah_every_failure_point(N_STEPS, 200, scenario_step, scenario_recover);
    /* At least: the context, a first scratch, two growths and a reserve. */
    ck_assert_int_ge(k, 5);
}
END_TEST

/* The failure switch counts down atomically: two threads allocating at
 * once never both take the last allowed allocation, so exactly k succeed
 * before the failures start. (Checked and decremented in two steps, both
 * threads could see 1 and leave -1, "never fail", behind.) */
struct hammer {
    long tries, succeeded;
    pthread_barrier_t *start;
};

static void *hammer_allocs(void *arg)
{
    struct hammer *h = arg;
    pthread_barrier_wait(h->start); /* all threads at the counter at once */
    for (long t = 0; t < h->tries; t++) {
        void *p = vicreg_alloc_aligned(64);
        h->succeeded += p != NULL;
        vicreg_free(p);
    }
    return NULL;
}

START_TEST(countdown_is_atomic)
{
    enum { THREADS = 4, TRIALS = 400, ALLOWED = 3000 };
    pthread_barrier_t start;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (int trial = 0; trial < TRIALS; trial++) {
        pthread_t th[THREADS];
        struct hammer h[THREADS];
        fail_after(ALLOWED);
        for (int t = 0; t < THREADS; t++) {
            h[t] = (struct hammer){ .tries = ALLOWED, .start = &start };
            ck_assert_int_eq(pthread_create(&th[t], NULL, hammer_allocs, &h[t]), 0);
        }
        long succeeded = 0;
        for (int t = 0; t < THREADS; t++) {
            ck_assert_int_eq(pthread_join(th[t], NULL), 0);
            succeeded += h[t].succeeded;
        }
        ck_assert_msg(succeeded == ALLOWED, "trial %d: %ld allocations succeeded, %d allowed",
                      trial, succeeded, (int)ALLOWED);
    }
    pthread_barrier_destroy(&start);
}
END_TEST

static Suite *memory_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "reuse", .setup = hooks_reset, .teardown = hooks_reset,
          .tests = { TU_LOOP(no_alloc_after_first_call, 0, 4), TU_LOOP(no_alloc_f32_after_f64, 0, 2),
                     TU_LOOP(no_alloc_after_reserve, 0, 4), TU_LOOP(no_alloc_fixed_path, 0, 4),
                     TU_LOOP(growth_allocates, 0, 2) } },
        { .name = "failure", .setup = hooks_reset, .teardown = hooks_reset, .timeout = 120,
          .tests = { TU_TEST(create_fails), TU_LOOP(first_scratch_fails, 0, 4),
                     TU_LOOP(growth_fails, 0, 2), TU_LOOP(reserve_fails, 0, 2),
                     TU_TEST(every_failure_point), TU_TEST(countdown_is_atomic) } },
    };
    return tu_suite("memory", tcases, sizeof tcases / sizeof tcases[0]);
}

int main(void)
{
    return tu_run(srunner_create(memory_suite()));
}
