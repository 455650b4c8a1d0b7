/*
 * test-errors.c - every bad input of vicreg_loss_f32() and vicreg_loss_f64()
 * gets its documented status, writes nothing the caller owns (loss and
 * gradient buffers, and the inputs, compared byte for byte), keeps the
 * context's parameters and the terms of its last successful call, and
 * leaves a context that computes exactly what a fresh one computes. Also
 * the optional outputs, and data hidden in the padding between rows.
 *
 * Most tests are loop tests over the precision: _i even is f32, odd f64.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define HAVE_GUARD_PAGES 1
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif
#endif

#include "precision.h"
#include "testutil.h"

/* ---------------------------------------------------------------------
 * Byte-for-byte guards over the caller's memory.
 * --------------------------------------------------------------------- */
#define MAX_GUARD 8

struct guard {
    int count;
    const void *ptr[MAX_GUARD];
    size_t bytes[MAX_GUARD];
    unsigned char *copy[MAX_GUARD];
    const char *name[MAX_GUARD];
};

static void guard_add(struct guard *g, const char *name, const void *p, size_t bytes)
{
    if (!p || bytes == 0)
        return;
    ck_assert_int_lt(g->count, MAX_GUARD);
    g->ptr[g->count] = p;
    g->bytes[g->count] = bytes;
    g->name[g->count] = name;
    g->copy[g->count] = malloc(bytes);
    ck_assert_ptr_nonnull(g->copy[g->count]);
    memcpy(g->copy[g->count], p, bytes);
    g->count++;
}

static void guard_check(struct guard *g, const char *what)
{
    for (int k = 0; k < g->count; k++) {
        ck_assert_msg(memcmp(g->ptr[k], g->copy[k], g->bytes[k]) == 0,
                      "%s: the call wrote into %s", what, g->name[k]);
        free(g->copy[k]);
    }
    g->count = 0;
}

/* ---------------------------------------------------------------------
 * The state of a context that an error must not change.
 * --------------------------------------------------------------------- */

static const int all_params[] = {
    VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF, VICREG_PARAM_COVARIANCE_COEFF,
    VICREG_PARAM_STD_TARGET, VICREG_PARAM_EPSILON, VICREG_PARAM_CONVENTION, VICREG_PARAM_PATH,
};
#define N_PARAMS (sizeof all_params / sizeof all_params[0])

struct snapshot {
    int has_result;
    double terms[TU_N_TERMS];
    double params[N_PARAMS];
};

static void snap(const vicreg_ctx *c, struct snapshot *s)
{
    memset(s, 0, sizeof *s);
    int status = tu_read_terms(c, s->terms);
    ck_assert(status == VICREG_OK || status == VICREG_ERR_NO_RESULT);
    s->has_result = status == VICREG_OK;
    for (size_t p = 0; p < N_PARAMS; p++)
        ck_assert_int_eq(vicreg_ctx_get_param(c, all_params[p], &s->params[p]), VICREG_OK);
}

/* ---------------------------------------------------------------------
 * The same call on ctx and on a fresh context gives the same bits.
 * --------------------------------------------------------------------- */
static void compare_with_fresh(int prec, vicreg_ctx *c, size_t n, size_t d, uint64_t seed,
                               const char *what)
{
    struct pair p;
    double loss1 = NAN, loss2 = NAN;
    struct snapshot s1, s2;
    pair_make(&p, prec, seed, n, d, d);
    void *ga1 = sentinel_buffer(prec, n * d), *gb1 = sentinel_buffer(prec, n * d);
    void *ga2 = sentinel_buffer(prec, n * d), *gb2 = sentinel_buffer(prec, n * d);
    vicreg_ctx *fresh = tu_ctx_new();
    ck_assert_msg(prec_loss(prec, c, n, d, p.za, d, p.zb, d, &loss1, ga1, d, gb1, d) == VICREG_OK,
                  "%s: the context fails on good input afterwards", what);
    ck_assert_int_eq(prec_loss(prec, fresh, n, d, p.za, d, p.zb, d, &loss2, ga2, d, gb2, d),
                     VICREG_OK);
    ck_assert_msg(memcmp(&loss1, &loss2, sizeof loss1) == 0,
                  "%s: loss %.17g afterwards, a fresh context gives %.17g", what, loss1, loss2);
    ck_assert_msg(memcmp(ga1, ga2, n * d * elem_of(prec)) == 0, "%s: grad_a differs", what);
    ck_assert_msg(memcmp(gb1, gb2, n * d * elem_of(prec)) == 0, "%s: grad_b differs", what);
    snap(c, &s1);
    snap(fresh, &s2);
    ck_assert_msg(memcmp(&s1, &s2, sizeof s1) == 0, "%s: terms differ from a fresh context", what);
    vicreg_ctx_destroy(fresh);
    free(ga1);
    free(gb1);
    free(ga2);
    free(gb2);
    pair_free(&p);
}

static void check_still_good(int prec, vicreg_ctx *c, const char *what)
{
    compare_with_fresh(prec, c, 9, 6, 1001, what);  /* covariance path */
    compare_with_fresh(prec, c, 5, 11, 1002, what); /* Gram path */
}

/* ---------------------------------------------------------------------
 * One bad call, made on a fresh context and on one with a result.
 * --------------------------------------------------------------------- */
struct bad_call {
    int null_ctx;
    size_t n, d;
    const void *za;
    size_t lda;
    const void *zb;
    size_t ldb;
    void *ga;
    size_t ldga;
    void *gb;
    size_t ldgb;
    /* How many bytes of each buffer the guard compares (the real size of
     * the buffer, whatever n and ld claim). */
    size_t za_bytes, zb_bytes, ga_bytes, gb_bytes;
    /* One more region to guard, such as a block holding every array. */
    const void *block;
    size_t block_bytes;
};

static void expect_status(int prec, int want, const struct bad_call *bc, const char *what)
{
    vicreg_ctx *ctxs[2] = { NULL, NULL };
    struct snapshot before, after;
    struct pair prime;
    double loss;
    char label[256];

    ck_assert_int_eq(vicreg_ctx_create(&ctxs[0]), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_create(&ctxs[1]), VICREG_OK);
    /* The second context has a result and non-default parameters. */
    ck_assert_int_eq(vicreg_ctx_set_param(ctxs[1], VICREG_PARAM_STD_TARGET, 1.25), VICREG_OK);
    pair_make(&prime, prec, 77, 7, 3, 3);
    ck_assert_int_eq(
        prec_loss(prec, ctxs[1], 7, 3, prime.za, 3, prime.zb, 3, NULL, NULL, 0, NULL, 0),
        VICREG_OK);
    pair_free(&prime);

    for (int k = 0; k < 2; k++) {
        struct guard g = { 0 };
        snprintf(label, sizeof label, "%s %s (%s context)", prec_name(prec), what,
                 k ? "used" : "fresh");
        memset(&loss, 0xA5, sizeof loss);
        snap(ctxs[k], &before);
        guard_add(&g, "loss", &loss, sizeof loss);
        guard_add(&g, "za", bc->za, bc->za_bytes);
        guard_add(&g, "zb", bc->zb, bc->zb_bytes);
        guard_add(&g, "grad_a", bc->ga, bc->ga_bytes);
        guard_add(&g, "grad_b", bc->gb, bc->gb_bytes);
        guard_add(&g, "the block", bc->block, bc->block_bytes);
        int got = prec_loss(prec, bc->null_ctx ? NULL : ctxs[k], bc->n, bc->d, bc->za, bc->lda,
                            bc->zb, bc->ldb, &loss, bc->ga, bc->ldga, bc->gb, bc->ldgb);
        ck_assert_msg(got == want, "%s: got %s, want %s", label, vicreg_status_name(got),
                      vicreg_status_name(want));
        guard_check(&g, label);
        snap(ctxs[k], &after);
        ck_assert_msg(memcmp(&before, &after, sizeof before) == 0,
                      "%s: the error changed the context's terms or parameters", label);
        /* Reset the one non-default parameter so that the context can be
         * compared with a fresh one. */
        ck_assert_int_eq(vicreg_ctx_set_param(ctxs[k], VICREG_PARAM_STD_TARGET, 1.0), VICREG_OK);
        check_still_good(prec, ctxs[k], label);
    }
    vicreg_ctx_destroy(ctxs[0]);
    vicreg_ctx_destroy(ctxs[1]);
}

/* Real buffers for n = N, d = D with room for every leading dimension the
 * tests use, and gradient buffers of the same size. */
#define N 8
#define D 5
#define LD_MAX 12

struct bufs {
    struct pair p;
    void *ga, *gb;
    size_t bytes; /* of each of the four */
};

static void bufs_make(struct bufs *b, int prec)
{
    pair_make(&b->p, prec, 5, N, D, LD_MAX);
    b->ga = sentinel_buffer(prec, N * LD_MAX);
    b->gb = sentinel_buffer(prec, N * LD_MAX);
    b->bytes = N * LD_MAX * elem_of(prec);
}

static void bufs_free(struct bufs *b)
{
    pair_free(&b->p);
    free(b->ga);
    free(b->gb);
}

/* A call on the buffers of b with every size given. */
static struct bad_call on_bufs(const struct bufs *b, size_t n, size_t d, size_t lda, size_t ldb,
                               int with_ga, size_t ldga, int with_gb, size_t ldgb)
{
    struct bad_call bc = { 0 };
    bc.n = n;
    bc.d = d;
    bc.za = b->p.za;
    bc.lda = lda;
    bc.zb = b->p.zb;
    bc.ldb = ldb;
    bc.ga = with_ga ? b->ga : NULL;
    bc.ldga = ldga;
    bc.gb = with_gb ? b->gb : NULL;
    bc.ldgb = ldgb;
    bc.za_bytes = bc.zb_bytes = b->bytes;
    bc.ga_bytes = with_ga ? b->bytes : 0;
    bc.gb_bytes = with_gb ? b->bytes : 0;
    return bc;
}

/* A call on za, zb (and ga, gb when not NULL), all n x d with leading
 * dimension ld, each buffer `bytes` long. */
static struct bad_call same_ld(size_t n, size_t d, size_t ld, const void *za, const void *zb,
                               void *ga, void *gb, size_t bytes)
{
    struct bad_call bc = { 0 };
    bc.n = n;
    bc.d = d;
    bc.za = za;
    bc.zb = zb;
    bc.ga = ga;
    bc.gb = gb;
    bc.lda = bc.ldb = ld;
    bc.ldga = ga ? ld : 0;
    bc.ldgb = gb ? ld : 0;
    bc.za_bytes = bc.zb_bytes = bytes;
    bc.ga_bytes = ga ? bytes : 0;
    bc.gb_bytes = gb ? bytes : 0;
    return bc;
}

/* A call on the buffers of b with these sizes; ga and gb say whether the
 * gradient is asked for. */
struct sizes_case {
    const char *what;
    size_t n, d, lda, ldb;
    int ga;
    size_t ldga;
    int gb;
    size_t ldgb;
};

/* Each of cases[0 .. count) on the buffers of b gets `want`. */
static void expect_sizes(int prec, const struct bufs *b, const struct sizes_case *cases,
                         size_t count, int want)
{
    for (size_t k = 0; k < count; k++) {
        struct bad_call bc = on_bufs(b, cases[k].n, cases[k].d, cases[k].lda, cases[k].ldb,
                                     cases[k].ga, cases[k].ldga, cases[k].gb, cases[k].ldgb);
        expect_status(prec, want, &bc, cases[k].what);
    }
}

/* ---------------------------------------------------------------------
 * NULL pointers
 * --------------------------------------------------------------------- */
START_TEST(null_pointers)
{
    const int prec = _i;
    struct bufs b;
    bufs_make(&b, prec);
    for (int grads = 0; grads < 2; grads++) {
        struct bad_call bc = on_bufs(&b, N, D, D, D, grads, D, grads, D);
        bc.null_ctx = 1;
        expect_status(prec, VICREG_ERR_INVALID_ARGUMENT, &bc, "NULL ctx");
        bc = on_bufs(&b, N, D, D, D, grads, D, grads, D);
        bc.za = NULL;
        expect_status(prec, VICREG_ERR_INVALID_ARGUMENT, &bc, "NULL za");
        bc = on_bufs(&b, N, D, D, D, grads, D, grads, D);
        bc.zb = NULL;
        expect_status(prec, VICREG_ERR_INVALID_ARGUMENT, &bc, "NULL zb");
        bc.za = NULL;
        expect_status(prec, VICREG_ERR_INVALID_ARGUMENT, &bc, "NULL za and zb");
    }
    bufs_free(&b);
}
END_TEST

/* ---------------------------------------------------------------------
 * Bad shapes
 * --------------------------------------------------------------------- */
START_TEST(bad_shapes)
{
    const int prec = _i;
    struct bufs b;
    bufs_make(&b, prec);
    const struct sizes_case cases[] = {
        { "n = 0", 0, D, D, D, 1, D, 1, D },
        { "n = 1", 1, D, D, D, 1, D, 1, D },
        { "n = 1, no gradients", 1, D, D, D, 0, 0, 0, 0 },
        { "d = 0", N, 0, D, D, 1, D, 1, D },
        { "d = 0, ld = 0", N, 0, 0, 0, 1, 0, 1, 0 },
        { "lda < d", N, D, D - 1, D, 1, D, 1, D },
        { "lda = 0", N, D, 0, D, 0, 0, 0, 0 },
        { "ldb < d", N, D, D, D - 1, 1, D, 1, D },
        { "ldb = 0", N, D, D, 0, 0, 0, 0, 0 },
        { "ldga < d", N, D, D, D, 1, D - 1, 1, D },
        { "ldga = 0", N, D, D, D, 1, 0, 0, 0 },
        { "ldgb < d", N, D, D, D, 1, D, 1, D - 1 },
        { "ldgb = 0", N, D, D, D, 0, 0, 1, 0 },
        { "lda < d with ld > d elsewhere", N, D, D - 1, LD_MAX, 1, LD_MAX, 1, LD_MAX },
    };
    expect_sizes(prec, &b, cases, sizeof cases / sizeof cases[0], VICREG_ERR_BAD_SHAPE);
    bufs_free(&b);
}
END_TEST

/* ---------------------------------------------------------------------
 * Sizes that do not fit size_t or BLAS's int. The buffers are small and
 * real: the library must reject the call before touching them.
 * --------------------------------------------------------------------- */
START_TEST(size_overflow)
{
    const int prec = _i;
    struct bufs b;
    bufs_make(&b, prec);
    const size_t big_int = (size_t)INT_MAX + 1;
    const struct sizes_case cases[] = {
        { "n = SIZE_MAX/2", SIZE_MAX / 2, D, D, D, 1, D, 1, D },
        { "n = SIZE_MAX", SIZE_MAX, D, D, D, 0, 0, 0, 0 },
        { "n = SIZE_MAX/D + 1 (n * ld wraps)", SIZE_MAX / D + 1, D, D, D, 1, D, 1, D },
        { "n = INT_MAX + 1", big_int, D, D, D, 1, D, 1, D },
        { "d = INT_MAX + 1", N, big_int, big_int, big_int, 1, big_int, 1, big_int },
        { "d = SIZE_MAX/2", N, SIZE_MAX / 2, SIZE_MAX / 2, SIZE_MAX / 2, 0, 0, 0, 0 },
        { "d = SIZE_MAX", N, SIZE_MAX, SIZE_MAX, SIZE_MAX, 0, 0, 0, 0 },
        { "lda = SIZE_MAX/4 (n * lda wraps)", N, D, SIZE_MAX / 4, D, 1, D, 1, D },
        { "lda = SIZE_MAX", N, D, SIZE_MAX, D, 0, 0, 0, 0 },
        { "lda = SIZE_MAX/16 (bytes wrap)", N, D, SIZE_MAX / 16, D, 1, D, 1, D },
        { "ldb = SIZE_MAX/4", N, D, D, SIZE_MAX / 4, 1, D, 1, D },
        { "ldb = SIZE_MAX/16", N, D, D, SIZE_MAX / 16, 0, 0, 0, 0 },
        { "ldga = SIZE_MAX/4", N, D, D, D, 1, SIZE_MAX / 4, 1, D },
        { "ldga = SIZE_MAX/16", N, D, D, D, 1, SIZE_MAX / 16, 0, 0 },
        { "ldgb = SIZE_MAX/4", N, D, D, D, 1, D, 1, SIZE_MAX / 4 },
        { "ldgb = SIZE_MAX", N, D, D, D, 0, 0, 1, SIZE_MAX },
        { "n = INT_MAX + 1 and ld = SIZE_MAX/2", big_int, D, SIZE_MAX / 2, SIZE_MAX / 2, 0, 0,
          0, 0 },
    };
    expect_sizes(prec, &b, cases, sizeof cases / sizeof cases[0], VICREG_ERR_SIZE_OVERFLOW);
    if (prec == F64) {
        /* n and d fit int, but the bytes of n x d doubles do not fit size_t
         * (and neither would a d x d scratch matrix). */
        struct bad_call bc = on_bufs(&b, INT_MAX, INT_MAX, INT_MAX, INT_MAX, 1, INT_MAX, 1,
                                     INT_MAX);
        expect_status(prec, VICREG_ERR_SIZE_OVERFLOW, &bc, "n = d = INT_MAX");
    }
    bufs_free(&b);
}
END_TEST

/* ---------------------------------------------------------------------
 * NaN and Inf in the inputs
 * --------------------------------------------------------------------- */
#define NF_BRANCHES 2
#define NF_POSITIONS 3
#define NF_VALUES 3
#define NF_LAYOUTS 2
#define NF_CASES (NF_BRANCHES * NF_POSITIONS * NF_VALUES * NF_LAYOUTS)

START_TEST(non_finite)
{
    /* _i = prec + 2 * case: branch, position, value and layout. */
    const int prec = _i % 2;
    int c = _i / 2;
    const int branch = c % NF_BRANCHES;
    c /= NF_BRANCHES;
    const int position = c % NF_POSITIONS;
    c /= NF_POSITIONS;
    const int value = c % NF_VALUES;
    c /= NF_VALUES;
    const int padded = c % NF_LAYOUTS;

    const double values[NF_VALUES] = { NAN, INFINITY, -INFINITY };
    const size_t ld = padded ? D + 3 : D;
    const size_t rows[NF_POSITIONS] = { 0, N / 2, N - 1 };
    const size_t cols[NF_POSITIONS] = { 0, D / 2, D - 1 };
    struct pair p;
    pair_make(&p, prec, 21, N, D, ld);
    void *target = branch ? p.zb : p.za;
    /* With ld > d the last element of the batch is not the last element of
     * the buffer: (n - 1) * ld + d - 1. */
    elem_put(prec, target, rows[position] * ld + cols[position], values[value]);

    void *ga = sentinel_buffer(prec, N * ld), *gb = sentinel_buffer(prec, N * ld);
    const size_t bytes = N * ld * elem_of(prec);
    char what[128];
    snprintf(what, sizeof what, "%s at (%zu, %zu) of z%c, ld %zu",
             value == 0 ? "NaN" : value == 1 ? "+Inf" : "-Inf", rows[position], cols[position],
             branch ? 'b' : 'a', ld);
    struct bad_call bc = same_ld(N, D, ld, p.za, p.zb, ga, gb, bytes);
    expect_status(prec, VICREG_ERR_NON_FINITE, &bc, what);
    /* Without gradients, and with only the loss. */
    struct bad_call nograd = same_ld(N, D, ld, p.za, p.zb, NULL, NULL, bytes);
    expect_status(prec, VICREG_ERR_NON_FINITE, &nograd, what);
    free(ga);
    free(gb);
    pair_free(&p);
}
END_TEST

START_TEST(non_finite_combined)
{
    /* Values that could cancel in a sum still count. */
    const int prec = _i;
    const size_t bytes = N * D * elem_of(prec);
    struct {
        const char *what;
        size_t a1, a2, b1;  /* element indices, SIZE_MAX: none */
        double va1, va2, vb1;
    } cases[] = {
        { "+Inf in za and zb at the same place", 7, SIZE_MAX, 7, INFINITY, 0, INFINITY },
        { "+Inf and -Inf in one column of za", 2, 2 + 3 * D, SIZE_MAX, INFINITY, -INFINITY, 0 },
        { "NaN in za, Inf in zb", 0, SIZE_MAX, N * D - 1, NAN, 0, INFINITY },
        { "every element of za NaN", SIZE_MAX, SIZE_MAX, SIZE_MAX, 0, 0, 0 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct pair p;
        pair_make(&p, prec, 33, N, D, D);
        if (k == 3)
            for (size_t i = 0; i < N * D; i++)
                elem_put(prec, p.za, i, NAN);
        if (cases[k].a1 != SIZE_MAX)
            elem_put(prec, p.za, cases[k].a1, cases[k].va1);
        if (cases[k].a2 != SIZE_MAX)
            elem_put(prec, p.za, cases[k].a2, cases[k].va2);
        if (cases[k].b1 != SIZE_MAX)
            elem_put(prec, p.zb, cases[k].b1, cases[k].vb1);
        void *ga = sentinel_buffer(prec, N * D), *gb = sentinel_buffer(prec, N * D);
        struct bad_call bc = same_ld(N, D, D, p.za, p.zb, ga, gb, bytes);
        expect_status(prec, VICREG_ERR_NON_FINITE, &bc, cases[k].what);
        free(ga);
        free(gb);
        pair_free(&p);
    }
}
END_TEST

/* ---------------------------------------------------------------------
 * Padding between rows: never an input, never written.
 * --------------------------------------------------------------------- */
START_TEST(padding_ignored)
{
    /* _i = prec + 2 * filler, the filler of the padding: NaN, +Inf, -Inf,
     * or a huge finite value. */
    const int prec = _i % 2, filler = _i / 2;
    const double fill[] = { NAN, INFINITY, -INFINITY, prec == F64 ? DBL_MAX : FLT_MAX };
    const size_t n = 7, d = 5, lda = 8, ldb = 9, ldga = 6, ldgb = 10;
    struct pair clean, dirty;
    vicreg_ctx *c1 = NULL, *c2 = NULL;
    double l1 = NAN, l2 = NAN;

    pair_make(&clean, prec, 41, n, d, ldb); /* zero padding, ld = ldb for both */
    /* Repack za to lda, then fill every padding slot of the dirty copy. */
    void *za_clean = calloc(n * lda, elem_of(prec));
    void *za_dirty = calloc(n * lda, elem_of(prec));
    dirty.zb = calloc(n * ldb, elem_of(prec));
    ck_assert(za_clean && za_dirty && dirty.zb);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < lda; j++) {
            double v = j < d ? elem_get(prec, clean.za, i * ldb + j) : 0.0;
            elem_put(prec, za_clean, i * lda + j, v);
            elem_put(prec, za_dirty, i * lda + j, j < d ? v : fill[filler]);
        }
        for (size_t j = 0; j < ldb; j++)
            elem_put(prec, dirty.zb, i * ldb + j,
                     j < d ? elem_get(prec, clean.zb, i * ldb + j) : fill[filler]);
    }
    void *ga1 = sentinel_buffer(prec, n * ldga), *gb1 = sentinel_buffer(prec, n * ldgb);
    void *ga2 = sentinel_buffer(prec, n * ldga), *gb2 = sentinel_buffer(prec, n * ldgb);
    void *za_copy = malloc(n * lda * elem_of(prec)), *zb_copy = malloc(n * ldb * elem_of(prec));
    ck_assert(za_copy && zb_copy);
    memcpy(za_copy, za_dirty, n * lda * elem_of(prec));
    memcpy(zb_copy, dirty.zb, n * ldb * elem_of(prec));

    ck_assert_int_eq(vicreg_ctx_create(&c1), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_create(&c2), VICREG_OK);
    int got = prec_loss(prec, c1, n, d, za_dirty, lda, dirty.zb, ldb, &l1, ga1, ldga, gb1, ldgb);
    ck_assert_msg(got == VICREG_OK, "%s: %g in the padding only gave %s", prec_name(prec),
                  fill[filler], vicreg_status_name(got));
    ck_assert_int_eq(
        prec_loss(prec, c2, n, d, za_clean, lda, clean.zb, ldb, &l2, ga2, ldga, gb2, ldgb),
        VICREG_OK);
    /* The padding does not change a bit of the result. */
    ck_assert_mem_eq(&l1, &l2, sizeof l1);
    ck_assert_mem_eq(ga1, ga2, n * ldga * elem_of(prec));
    ck_assert_mem_eq(gb1, gb2, n * ldgb * elem_of(prec));
    /* The inputs are untouched, and so is the gradients' padding. */
    ck_assert_mem_eq(za_dirty, za_copy, n * lda * elem_of(prec));
    ck_assert_mem_eq(dirty.zb, zb_copy, n * ldb * elem_of(prec));
    unsigned char pattern[sizeof(double)];
    memset(pattern, 0xA5, sizeof pattern);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = d; j < ldga; j++)
            ck_assert_msg(memcmp((char *)ga1 + (i * ldga + j) * elem_of(prec), pattern,
                                 elem_of(prec)) == 0,
                          "grad_a padding (%zu, %zu) written", i, j);
        for (size_t j = d; j < ldgb; j++)
            ck_assert_msg(memcmp((char *)gb1 + (i * ldgb + j) * elem_of(prec), pattern,
                                 elem_of(prec)) == 0,
                          "grad_b padding (%zu, %zu) written", i, j);
        for (size_t j = 0; j < d; j++)
            ck_assert(isfinite(elem_get(prec, ga1, i * ldga + j)) &&
                      isfinite(elem_get(prec, gb1, i * ldgb + j)));
    }
    ck_assert(isfinite(l1));

    vicreg_ctx_destroy(c1);
    vicreg_ctx_destroy(c2);
    free(za_clean);
    free(za_dirty);
    free(dirty.zb);
    free(za_copy);
    free(zb_copy);
    free(ga1);
    free(gb1);
    free(ga2);
    free(gb2);
    pair_free(&clean);
}
END_TEST

#ifdef HAVE_GUARD_PAGES
/* A buffer of exactly `bytes` bytes with an inaccessible page right before
 * it (at_end = 0) or right after it (at_end = 1): a read or write outside
 * the array crashes the test instead of passing unnoticed. */
struct fenced {
    void *map;
    size_t map_bytes;
    void *ptr;
};

static void *fenced_alloc(struct fenced *f, size_t bytes, int at_end)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t data_pages = (bytes + page - 1) / page;
    f->map_bytes = (data_pages + 2) * page;
    f->map = mmap(NULL, f->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(f->map != MAP_FAILED);
    char *base = f->map;
    ck_assert_int_eq(mprotect(base, page, PROT_NONE), 0);
    ck_assert_int_eq(mprotect(base + (data_pages + 1) * page, page, PROT_NONE), 0);
    f->ptr = at_end ? base + (data_pages + 1) * page - bytes : base + page;
    return f->ptr;
}

static void fenced_free(struct fenced *f)
{
    munmap(f->map, f->map_bytes);
}

START_TEST(exact_extent)
{
    /* Arrays exactly (n - 1) * ld + d elements long, fenced on one side:
     * the library reads and writes inside them only. _i = prec + 2 *
     * (fence after) + 4 * (padded). */
    const int prec = _i % 2, at_end = (_i / 2) % 2, padded = _i / 4;
    const size_t n = 7, d = 5, ld = padded ? d + 3 : d, count = (n - 1) * ld + d;
    const size_t elem = elem_of(prec);
    struct pair p;
    struct fenced f[4];
    vicreg_ctx *c1 = NULL, *c2 = NULL;
    double l1 = NAN, l2 = NAN;
    pair_make(&p, prec, 51, n, d, ld);
    void *za = fenced_alloc(&f[0], count * elem, at_end);
    void *zb = fenced_alloc(&f[1], count * elem, at_end);
    void *ga = fenced_alloc(&f[2], count * elem, at_end);
    void *gb = fenced_alloc(&f[3], count * elem, at_end);
    memcpy(za, p.za, count * elem);
    memcpy(zb, p.zb, count * elem);
    void *ga2 = sentinel_buffer(prec, n * ld), *gb2 = sentinel_buffer(prec, n * ld);
    ck_assert_int_eq(vicreg_ctx_create(&c1), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_create(&c2), VICREG_OK);
    ck_assert_int_eq(prec_loss(prec, c1, n, d, za, ld, zb, ld, &l1, ga, ld, gb, ld), VICREG_OK);
    ck_assert_int_eq(prec_loss(prec, c2, n, d, p.za, ld, p.zb, ld, &l2, ga2, ld, gb2, ld),
                     VICREG_OK);
    ck_assert_mem_eq(&l1, &l2, sizeof l1);
    for (size_t i = 0; i < n; i++) {
        ck_assert_mem_eq((char *)ga + i * ld * elem, (char *)ga2 + i * ld * elem, d * elem);
        ck_assert_mem_eq((char *)gb + i * ld * elem, (char *)gb2 + i * ld * elem, d * elem);
    }
    /* And the errors found in such arrays: a NaN in the very last element. */
    elem_put(prec, zb, count - 1, NAN);
    ck_assert_int_eq(prec_loss(prec, c1, n, d, za, ld, zb, ld, &l1, ga, ld, gb, ld),
                     VICREG_ERR_NON_FINITE);
    vicreg_ctx_destroy(c1);
    vicreg_ctx_destroy(c2);
    free(ga2);
    free(gb2);
    for (int k = 0; k < 4; k++)
        fenced_free(&f[k]);
    pair_free(&p);
}
END_TEST
#endif

/* ---------------------------------------------------------------------
 * Overlapping buffers. Every array lives in one block, at the element
 * offsets below (-1: NULL); n = 6, d = 4, ldb = 4.
 * --------------------------------------------------------------------- */
#define OV_N 6
#define OV_D 4
#define OV_BLOCK 256

static const struct overlap_case {
    const char *what;
    long za, zb, ga, gb;
    size_t lda, ldga, ldgb;
    int want;
} overlap_cases[] = {
    { "grad_a == za (in place)", 0, 100, 0, -1, 4, 4, 4, VICREG_ERR_OVERLAP },
    { "grad_b == zb (in place)", 0, 100, -1, 100, 4, 4, 4, VICREG_ERR_OVERLAP },
    { "both in place", 0, 100, 0, 100, 4, 4, 4, VICREG_ERR_OVERLAP },
    { "grad_a == zb", 0, 100, 100, -1, 4, 4, 4, VICREG_ERR_OVERLAP },
    { "grad_b == za", 0, 100, -1, 0, 4, 4, 4, VICREG_ERR_OVERLAP },
    { "grad_a == grad_b", 0, 100, 200, 200, 4, 4, 4, VICREG_ERR_OVERLAP },
    { "grad_a ends on the first element of za", 30, 100, 7, -1, 4, 4, 4, VICREG_ERR_OVERLAP },
    { "grad_a starts on the last element of za", 0, 100, 23, -1, 4, 4, 4, VICREG_ERR_OVERLAP },
    { "grad_b starts inside zb", 0, 100, -1, 110, 4, 4, 4, VICREG_ERR_OVERLAP },
    { "grad_b starts on the last element of grad_a", 0, 100, 150, 173, 4, 4, 4,
      VICREG_ERR_OVERLAP },
    { "grad_a starts on the last element of grad_b", 0, 100, 173, 150, 4, 4, 4,
      VICREG_ERR_OVERLAP },
    { "grad_a on the last element of a padded za", 0, 100, 38, -1, 7, 4, 4,
      VICREG_ERR_OVERLAP },
    { "grad_b on the last element of a padded grad_a", 0, 100, 150, 183, 4, 6, 4,
      VICREG_ERR_OVERLAP },
    { "grad_a inside za, grad_b separate", 0, 100, 5, 200, 4, 4, 4, VICREG_ERR_OVERLAP },
    /* Adjacent is not overlapping. */
    { "grad_a right after za", 0, 100, 24, -1, 4, 4, 4, VICREG_OK },
    { "grad_a right before za", 24, 100, 0, -1, 4, 4, 4, VICREG_OK },
    { "grad_b right after grad_a", 0, 100, 150, 174, 4, 4, 4, VICREG_OK },
    { "grad_a right after a padded za", 0, 100, 39, -1, 7, 4, 4, VICREG_OK },
    { "grad_b right after a padded grad_a", 0, 100, 150, 184, 4, 6, 4, VICREG_OK },
    { "grad_b right after zb, grad_a right before", 30, 100, 76, 124, 4, 4, 4, VICREG_OK },
    /* The inputs may be the same array. */
    { "za == zb", 0, 0, 100, 150, 4, 4, 4, VICREG_OK },
};
#define N_OVERLAP (sizeof overlap_cases / sizeof overlap_cases[0])

START_TEST(overlap)
{
    const int prec = _i % 2;
    const struct overlap_case *oc = &overlap_cases[_i / 2];
    const size_t n = OV_N, d = OV_D, ldb = OV_D, elem = elem_of(prec);
    struct pair p;
    pair_make(&p, prec, 61, n, d, d);
    unsigned char *block = malloc(OV_BLOCK * elem);
    ck_assert_ptr_nonnull(block);
    memset(block, 0xA5, OV_BLOCK * elem);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            elem_put(prec, block, (size_t)oc->za + i * oc->lda + j,
                     elem_get(prec, p.za, i * d + j));
            if (oc->zb != oc->za)
                elem_put(prec, block, (size_t)oc->zb + i * ldb + j,
                         elem_get(prec, p.zb, i * d + j));
        }
    const void *za = block + (size_t)oc->za * elem;
    const void *zb = block + (size_t)oc->zb * elem;
    void *ga = oc->ga < 0 ? NULL : block + (size_t)oc->ga * elem;
    void *gb = oc->gb < 0 ? NULL : block + (size_t)oc->gb * elem;
    /* The reference values, from separate packed arrays. */
    const void *ref_zb = oc->zb == oc->za ? p.za : p.zb;

    if (oc->want != VICREG_OK) {
        /* The guard over the block covers every array. */
        struct bad_call bc = { 0, n, d, za, oc->lda, zb, ldb, ga, oc->ldga, gb, oc->ldgb,
                               0, 0, 0, 0, block, OV_BLOCK * elem };
        expect_status(prec, oc->want, &bc, oc->what);
    } else {
        vicreg_ctx *c1 = NULL, *c2 = NULL;
        double l1 = NAN, l2 = NAN;
        void *ga2 = sentinel_buffer(prec, n * oc->ldga), *gb2 = sentinel_buffer(prec, n * oc->ldgb);
        unsigned char *before = malloc(OV_BLOCK * elem);
        ck_assert_ptr_nonnull(before);
        memcpy(before, block, OV_BLOCK * elem);
        ck_assert_int_eq(vicreg_ctx_create(&c1), VICREG_OK);
        ck_assert_int_eq(vicreg_ctx_create(&c2), VICREG_OK);
        int got = prec_loss(prec, c1, n, d, za, oc->lda, zb, ldb, &l1, ga, oc->ldga, gb, oc->ldgb);
        ck_assert_msg(got == VICREG_OK, "%s %s: %s", prec_name(prec), oc->what,
                      vicreg_status_name(got));
        ck_assert_int_eq(prec_loss(prec, c2, n, d, p.za, d, ref_zb, d, &l2, ga ? ga2 : NULL,
                                   oc->ldga, gb ? gb2 : NULL, oc->ldgb),
                         VICREG_OK);
        ck_assert_mem_eq(&l1, &l2, sizeof l1);
        /* Only the n x d entries of the gradients changed in the block. */
        for (size_t e = 0; e < OV_BLOCK; e++) {
            int in_ga = 0, in_gb = 0;
            if (ga && e >= (size_t)oc->ga) {
                size_t off = e - (size_t)oc->ga;
                in_ga = off / oc->ldga < n && off % oc->ldga < d;
            }
            if (gb && e >= (size_t)oc->gb) {
                size_t off = e - (size_t)oc->gb;
                in_gb = off / oc->ldgb < n && off % oc->ldgb < d;
            }
            if (in_ga) {
                size_t off = e - (size_t)oc->ga;
                ck_assert(memcmp(block + e * elem, (char *)ga2 + off * elem, elem) == 0);
            } else if (in_gb) {
                size_t off = e - (size_t)oc->gb;
                ck_assert(memcmp(block + e * elem, (char *)gb2 + off * elem, elem) == 0);
            } else {
                ck_assert_msg(memcmp(block + e * elem, before + e * elem, elem) == 0,
                              "%s: element %zu of the block written", oc->what, e);
            }
        }
        vicreg_ctx_destroy(c1);
        vicreg_ctx_destroy(c2);
        free(ga2);
        free(gb2);
        free(before);
    }
    free(block);
    pair_free(&p);
}
END_TEST

/* ---------------------------------------------------------------------
 * Finite inputs too large for the floating-point type.
 * --------------------------------------------------------------------- */
START_TEST(overflow)
{
    const int prec = _i;
    const double big = prec == F64 ? 1e200 : 1e30;
    const double top = prec == F64 ? DBL_MAX : FLT_MAX;
    const struct {
        const char *what;
        double scale_a, scale_b; /* multiply the whole batch */
        double one_a, one_b;     /* or put one value at element 2 (0: none) */
    } cases[] = {
        { "both batches huge", big, big, 0, 0 },
        { "za huge", big, 1, 0, 0 },
        { "zb huge", 1, big, 0, 0 },
        { "both batches huge, opposite signs", big, -big, 0, 0 },
        { "both sqrt(max) scale", sqrt(top), sqrt(top), 0, 0 },
        { "one element of za at the maximum", 1, 1, top, 0 },
        { "one element of zb at -maximum", 1, 1, 0, -top },
        { "one element of za at max/4, zb at -max/4", 1, 1, top / 4, -top / 4 },
        { "both batches at max/4", top / 4, top / 4, 0, 0 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double *a = malloc(N * D * sizeof(double)), *b = malloc(N * D * sizeof(double));
        ck_assert(a && b);
        tu_make_batches(91, N, D, D, a, b);
        void *za = sentinel_buffer(prec, N * D), *zb = sentinel_buffer(prec, N * D);
        for (size_t i = 0; i < N * D; i++) {
            /* Keep the spread: every value is scaled data, none is zero. */
            elem_put(prec, za, i, fmin(fmax(a[i] * cases[k].scale_a, -top), top));
            elem_put(prec, zb, i, fmin(fmax(b[i] * cases[k].scale_b, -top), top));
        }
        if (cases[k].one_a != 0)
            elem_put(prec, za, 2, cases[k].one_a);
        if (cases[k].one_b != 0)
            elem_put(prec, zb, 2, cases[k].one_b);
        for (size_t i = 0; i < N * D; i++)
            ck_assert(isfinite(elem_get(prec, za, i)) && isfinite(elem_get(prec, zb, i)));
        void *ga = sentinel_buffer(prec, N * D), *gb = sentinel_buffer(prec, N * D);
        const size_t bytes = N * D * elem_of(prec);
        struct bad_call bc = same_ld(N, D, D, za, zb, ga, gb, bytes);
        expect_status(prec, VICREG_ERR_OVERFLOW, &bc, cases[k].what);
        struct bad_call nograd = same_ld(N, D, D, za, zb, NULL, NULL, bytes);
        expect_status(prec, VICREG_ERR_OVERFLOW, &nograd, cases[k].what);
        free(a);
        free(b);
        free(za);
        free(zb);
        free(ga);
        free(gb);
    }
}
END_TEST

START_TEST(overflow_never_silent)
{
    /* Over a sweep of scales, coefficients and data: a call either fails
     * with VICREG_ERR_OVERFLOW and writes nothing, or succeeds with a
     * finite loss, finite terms and finite gradients. */
    const int prec = _i;
    const double top = prec == F64 ? DBL_MAX : FLT_MAX;
    const size_t n = 6, d = 4, count = n * d, elem = elem_of(prec);
    double a[6 * 4], b[6 * 4];
    int ok = 0, overflow = 0;
    tu_make_batches(93, n, d, d, a, b);
    void *za = sentinel_buffer(prec, count), *zb = sentinel_buffer(prec, count);
    void *ga = malloc(count * elem), *gb = malloc(count * elem);
    void *g0 = malloc(count * elem);
    ck_assert(ga && gb && g0);
    memset(g0, 0xA5, count * elem);
    vicreg_ctx *c = tu_ctx_new();
    for (int kind = 0; kind < 3; kind++)
        for (int coeffs = 0; coeffs < 4; coeffs++) {
            ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_INVARIANCE_COEFF,
                                                  coeffs & 1 ? 1e9 : 25.0), VICREG_OK);
            ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_COVARIANCE_COEFF,
                                                  coeffs & 2 ? 1e9 : 1.0), VICREG_OK);
            for (double scale = 1.0; scale < top; scale *= prec == F64 ? 1e10 : 10.0) {
                for (size_t i = 0; i < count; i++) {
                    double x = a[i], y = b[i];
                    if (kind == 1) {
                        /* Constant columns of opposite signs: no variance,
                         * all invariance. */
                        x = 1.0 + (double)(i % d);
                        y = -x;
                    } else if (kind == 2) {
                        /* One outlier in an otherwise modest batch. */
                        x = i == 5 ? 1.0 : a[i] / scale;
                    }
                    elem_put(prec, za, i, fmax(fmin(x * scale, top), -top));
                    elem_put(prec, zb, i, fmax(fmin(y * scale, top), -top));
                }
                double loss;
                memset(&loss, 0xA5, sizeof loss);
                const double loss0 = loss;
                memcpy(ga, g0, count * elem);
                memcpy(gb, g0, count * elem);
                int got = prec_loss(prec, c, n, d, za, d, zb, d, &loss, ga, d, gb, d);
                ck_assert_msg(got == VICREG_OK || got == VICREG_ERR_OVERFLOW,
                              "kind %d, scale %g: %s", kind, scale, vicreg_status_name(got));
                if (got == VICREG_ERR_OVERFLOW) {
                    overflow++;
                    ck_assert(memcmp(&loss, &loss0, sizeof loss) == 0);
                    ck_assert(memcmp(ga, g0, count * elem) == 0);
                    ck_assert(memcmp(gb, g0, count * elem) == 0);
                    continue;
                }
                ok++;
                ck_assert_msg(isfinite(loss), "kind %d, coefficients %d, scale %g: loss %g",
                              kind, coeffs, scale, loss);
                for (size_t t = 0; t < TU_N_TERMS; t++) {
                    double v = NAN;
                    ck_assert_int_eq(vicreg_ctx_get_term(c, tu_all_terms[t], &v), VICREG_OK);
                    ck_assert_msg(isfinite(v), "kind %d, scale %g: term %d = %g", kind, scale,
                                  tu_all_terms[t], v);
                }
                for (size_t i = 0; i < count; i++)
                    ck_assert_msg(isfinite(elem_get(prec, ga, i)) &&
                                      isfinite(elem_get(prec, gb, i)),
                                  "kind %d, coefficients %d, scale %g: gradient %g, %g", kind,
                                  coeffs, scale, elem_get(prec, ga, i), elem_get(prec, gb, i));
            }
        }
    /* The sweep reached both outcomes. */
    ck_assert_int_gt(ok, 0);
    ck_assert_int_gt(overflow, 0);
    vicreg_ctx_destroy(c);
    free(za);
    free(zb);
    free(ga);
    free(gb);
    free(g0);
}
END_TEST

START_TEST(large_but_safe)
{
    /* A large scale that no type overflows at is not an error: the loss
     * scales with the square of the data, like the reference's. */
    const int prec = _i;
    const double scale = prec == F64 ? 1e6 : 100.0;
    double a[N * D], b[N * D], sa[N * D], sb[N * D];
    tu_make_batches(92, N, D, D, a, b);
    for (size_t i = 0; i < N * D; i++) {
        sa[i] = a[i] * scale;
        sb[i] = b[i] * scale;
    }
    void *za = sentinel_buffer(prec, N * D), *zb = sentinel_buffer(prec, N * D);
    for (size_t i = 0; i < N * D; i++) {
        elem_put(prec, za, i, sa[i]);
        elem_put(prec, zb, i, sb[i]);
    }
    double loss = NAN;
    struct ref_params rp = ref_default_params();
    struct ref_result r;
    ref_vicreg(&rp, N, D, sa, sb, &r, NULL, NULL);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(prec_loss(prec, c, N, D, za, D, zb, D, &loss, NULL, 0, NULL, 0), VICREG_OK);
    ck_assert_msg(tu_rel(loss, r.loss) < (prec == F64 ? 1e-10 : 1e-4),
                  "loss %.17g, reference %.17g", loss, r.loss);
    vicreg_ctx_destroy(c);
    free(za);
    free(zb);
}
END_TEST

/* ---------------------------------------------------------------------
 * Optional outputs.
 * --------------------------------------------------------------------- */
START_TEST(optional_outputs)
{
    const int prec = _i;
    const size_t n = 10, d = 7, count = n * d, elem = elem_of(prec);
    const double tol = prec == F64 ? 1e-13 : 1e-6;
    struct pair p;
    double lboth = NAN, lone = NAN, term = NAN;
    pair_make(&p, prec, 71, n, d, d);
    void *ga = sentinel_buffer(prec, count), *gb = sentinel_buffer(prec, count);
    void *ga1 = sentinel_buffer(prec, count), *gb1 = sentinel_buffer(prec, count);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(prec_loss(prec, c, n, d, p.za, d, p.zb, d, &lboth, ga, d, gb, d), VICREG_OK);

    /* Only grad_a. */
    ck_assert_int_eq(prec_loss(prec, c, n, d, p.za, d, p.zb, d, &lone, ga1, d, NULL, 0), VICREG_OK);
    ck_assert_double_eq(lone, lboth);
    double ea = 0.0, eb = 0.0, sa = 0.0, sb = 0.0;
    for (size_t i = 0; i < count; i++) {
        ea = fmax(ea, fabs(elem_get(prec, ga1, i) - elem_get(prec, ga, i)));
        sa = fmax(sa, fabs(elem_get(prec, ga, i)));
    }
    ck_assert_msg(ea <= tol * sa, "grad_a alone differs by %g (scale %g)", ea, sa);
    /* Only grad_b. */
    lone = NAN;
    ck_assert_int_eq(prec_loss(prec, c, n, d, p.za, d, p.zb, d, &lone, NULL, 0, gb1, d), VICREG_OK);
    ck_assert_double_eq(lone, lboth);
    for (size_t i = 0; i < count; i++) {
        eb = fmax(eb, fabs(elem_get(prec, gb1, i) - elem_get(prec, gb, i)));
        sb = fmax(sb, fabs(elem_get(prec, gb, i)));
    }
    ck_assert_msg(eb <= tol * sb, "grad_b alone differs by %g (scale %g)", eb, sb);

    /* No loss pointer: the loss is still a term. */
    void *ga2 = sentinel_buffer(prec, count), *gb2 = sentinel_buffer(prec, count);
    ck_assert_int_eq(prec_loss(prec, c, n, d, p.za, d, p.zb, d, NULL, ga2, d, gb2, d), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_term(c, VICREG_TERM_LOSS, &term), VICREG_OK);
    ck_assert_double_eq(term, lboth);
    ck_assert_mem_eq(ga2, ga, count * elem);
    ck_assert_mem_eq(gb2, gb, count * elem);

    /* Nothing but the terms. */
    term = NAN;
    vicreg_ctx *fresh = tu_ctx_new();
    ck_assert_int_eq(prec_loss(prec, fresh, n, d, p.za, d, p.zb, d, NULL, NULL, 0, NULL, 0),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_term(fresh, VICREG_TERM_LOSS, &term), VICREG_OK);
    ck_assert_double_eq(term, lboth);

    /* Against the reference. */
    double *da = malloc(count * sizeof(double)), *db = malloc(count * sizeof(double));
    double *ra = malloc(count * sizeof(double)), *wa = malloc(count * sizeof(double));
    ck_assert(da && db && ra && wa);
    for (size_t i = 0; i < count; i++) {
        da[i] = elem_get(prec, p.za, i);
        db[i] = elem_get(prec, p.zb, i);
        wa[i] = elem_get(prec, ga1, i);
    }
    struct ref_params rp = ref_default_params();
    struct ref_result r;
    ref_vicreg(&rp, n, d, da, db, &r, ra, NULL);
    ck_assert_double_lt(tu_rel_err(n, d, wa, d, ra, d), prec == F64 ? 1e-11 : 1e-4);
    ck_assert_double_lt(tu_rel(lboth, r.loss), prec == F64 ? 1e-11 : 1e-5);

    free(da);
    free(db);
    free(ra);
    free(wa);
    vicreg_ctx_destroy(fresh);
    vicreg_ctx_destroy(c);
    free(ga);
    free(gb);
    free(ga1);
    free(gb1);
    free(ga2);
    free(gb2);
    pair_free(&p);
}
END_TEST

Suite *errors_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "null", .tests = { TU_LOOP(null_pointers, 0, 2) } },
        { .name = "shape", .tests = { TU_LOOP(bad_shapes, 0, 2) } },
        { .name = "size_overflow", .tests = { TU_LOOP(size_overflow, 0, 2) } },
        { .name = "non_finite",
          .tests = { TU_LOOP(non_finite, 0, 2 * NF_CASES), TU_LOOP(non_finite_combined, 0, 2) } },
        { .name = "padding",
          .tests = { TU_LOOP(padding_ignored, 0, 8),
#ifdef HAVE_GUARD_PAGES
                     TU_LOOP(exact_extent, 0, 8),
#endif
          } },
        { .name = "overlap", .tests = { TU_LOOP(overlap, 0, 2 * (int)N_OVERLAP) } },
        { .name = "overflow",
          .tests = { TU_LOOP(overflow, 0, 2), TU_LOOP(overflow_never_silent, 0, 2),
                     TU_LOOP(large_but_safe, 0, 2) } },
        { .name = "optional_outputs", .tests = { TU_LOOP(optional_outputs, 0, 2) } },
    };
    return tu_suite("errors", tcases, sizeof tcases / sizeof tcases[0]);
}
