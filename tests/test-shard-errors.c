/*
 * test-shard-errors.c - every status of every 1.1 call (the three shard
 * phases, vicreg_loss_rows_*, vicreg_shard_sizes): each bad argument gets
 * its documented status on a fresh context and on a used one, neither
 * writes a byte the caller owns (the inputs, the statistics, the
 * gradients and the loss, all in one block compared byte for byte) nor
 * changes the context's terms or parameters, and the used context then
 * computes what a fresh one computes.
 *
 * Most tests are loop tests over the call and the precision.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shardutil.h"

enum { K_SUMS, K_SCATTER, K_FINISH, K_ROWS, N_KINDS };

static const char *kind_name(int kind)
{
    static const char *names[N_KINDS] = { "sums", "scatter", "finish", "rows" };
    return names[kind];
}

/* One call of any kind, its arguments spelled out. */
struct scall {
    int kind, prec, null_ctx;
    size_t n, d;
    const void *za;
    size_t lda;
    const void *zb;
    size_t ldb;
    double *sums, *scatter, *loss;
    void *ga;
    size_t ldga;
    void *gb;
    size_t ldgb;
    size_t row0, rows;
};

static int scall_run(const struct scall *c, vicreg_ctx *ctx)
{
    vicreg_ctx *x = c->null_ctx ? NULL : ctx;
    switch (c->kind) {
    case K_SUMS:
        return prec_shard_sums(c->prec, x, c->n, c->d, c->za, c->lda, c->zb, c->ldb, c->sums);
    case K_SCATTER:
        return prec_shard_scatter(c->prec, x, c->n, c->d, c->za, c->lda, c->zb, c->ldb, c->sums,
                                  c->scatter);
    case K_FINISH:
        return prec_shard_finish(c->prec, x, c->n, c->d, c->za, c->lda, c->zb, c->ldb, c->sums,
                                 c->scatter, c->loss, c->ga, c->ldga, c->gb, c->ldgb);
    default:
        return prec_loss_rows(c->prec, x, c->n, c->d, c->za, c->lda, c->zb, c->ldb, c->row0,
                              c->rows, c->loss, c->ga, c->ldga, c->gb, c->ldgb);
    }
}

/* Every array a call can touch, in one block so that one comparison
 * covers them all: a batch of W_N rows (a shard is its first W_SHARD), the
 * valid global statistics of that batch, gradients and the loss. */
#define W_N 10
#define W_SHARD 6
#define W_D 4

struct world {
    int prec;
    unsigned char *block, *pristine; /* the arrays; their valid contents */
    size_t bytes;
    void *za, *zb, *ga, *gb;
    double *sums, *scatter, *loss;
    size_t sums_len, scatter_len;
};

static size_t round64(size_t x)
{
    return (x + 63) / 64 * 64;
}

static void world_make(struct world *w, int prec)
{
    const size_t arr = round64(W_N * W_D * elem_of(prec));
    ck_assert_int_eq(vicreg_shard_sizes(W_D, &w->sums_len, &w->scatter_len), VICREG_OK);
    const size_t sb = round64(w->sums_len * sizeof(double));
    const size_t cb = round64(w->scatter_len * sizeof(double));
    w->prec = prec;
    w->bytes = 4 * arr + sb + cb + 64;
    w->block = aligned_alloc(64, w->bytes);
    w->pristine = malloc(w->bytes);
    ck_assert(w->block && w->pristine);
    memset(w->block, 0xA5, w->bytes);
    w->za = w->block;
    w->zb = w->block + arr;
    w->ga = w->block + 2 * arr;
    w->gb = w->block + 3 * arr;
    w->sums = (double *)(void *)(w->block + 4 * arr);
    w->scatter = (double *)(void *)(w->block + 4 * arr + sb);
    w->loss = (double *)(void *)(w->block + 4 * arr + sb + cb);
    struct batch b;
    batch_make(&b, prec, 1500, W_N, W_D);
    memcpy(w->za, b.za, W_N * W_D * elem_of(prec));
    memcpy(w->zb, b.zb, W_N * W_D * elem_of(prec));
    batch_free(&b);
    vicreg_ctx *c = tu_ctx_new();
    memset(w->sums, 0, w->sums_len * sizeof(double));
    memset(w->scatter, 0, w->scatter_len * sizeof(double));
    ck_assert_int_eq(prec_shard_sums(prec, c, W_N, W_D, w->za, W_D, w->zb, W_D, w->sums),
                     VICREG_OK);
    ck_assert_int_eq(
        prec_shard_scatter(prec, c, W_N, W_D, w->za, W_D, w->zb, W_D, w->sums, w->scatter),
        VICREG_OK);
    vicreg_ctx_destroy(c);
    memcpy(w->pristine, w->block, w->bytes);
}

static void world_free(struct world *w)
{
    free(w->block);
    free(w->pristine);
}

/* A valid call of the kind: the shard on the global statistics (phase 1
 * adds into them, phase 2 into the scatter: still valid accumulators), or
 * rows 2 .. 6 of the whole batch. */
static struct scall world_call(const struct world *w, int kind)
{
    struct scall c = { kind, w->prec, 0, W_SHARD, W_D, w->za, W_D, w->zb, W_D,
                       w->sums, w->scatter, w->loss, w->ga, W_D, w->gb, W_D, 0, 0 };
    if (kind == K_ROWS) {
        c.n = W_N;
        c.row0 = 2;
        c.rows = 5;
    }
    return c;
}

/* The parameters, with the 1.1 one. */
static const int snap_params[] = {
    VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF, VICREG_PARAM_COVARIANCE_COEFF,
    VICREG_PARAM_STD_TARGET, VICREG_PARAM_EPSILON, VICREG_PARAM_CONVENTION, VICREG_PARAM_PATH,
    VICREG_PARAM_GRAD_SCALE,
};
#define N_SNAP_PARAMS (sizeof snap_params / sizeof snap_params[0])

struct snapshot {
    int has;
    double terms[TU_N_TERMS];
    double params[N_SNAP_PARAMS];
};

static void snap(const vicreg_ctx *c, struct snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->has = tu_read_terms(c, s->terms) == VICREG_OK;
    for (size_t k = 0; k < N_SNAP_PARAMS; k++)
        ck_assert_int_eq(vicreg_ctx_get_param(c, snap_params[k], &s->params[k]), VICREG_OK);
}

/* A context with a result and parameters other than the defaults. */
static vicreg_ctx *used_ctx(const struct world *w)
{
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_CONVENTION, VICREG_CONVENTION_PAPER),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, 2.0), VICREG_OK);
    const size_t arr = W_N * W_D * elem_of(w->prec);
    void *a = malloc(arr), *b = malloc(arr);
    ck_assert(a && b);
    memcpy(a, w->pristine + ((unsigned char *)w->za - w->block), arr);
    memcpy(b, w->pristine + ((unsigned char *)w->zb - w->block), arr);
    ck_assert_int_eq(prec_loss(w->prec, c, W_N, W_D, a, W_D, b, W_D, NULL, NULL, 0, NULL, 0),
                     VICREG_OK);
    free(a);
    free(b);
    return c;
}

/* The valid call of `kind`, on the valid contents of the arrays, on c and
 * on a fresh context with c's parameters writes the same bits and leaves
 * the same terms. The block is put back as it was. */
static void assert_like_fresh(const struct world *w, vicreg_ctx *c, int kind, const char *what)
{
    struct snapshot sc, sf;
    vicreg_ctx *fresh = tu_ctx_new();
    snap(c, &sc);
    for (size_t k = 0; k < N_SNAP_PARAMS; k++)
        ck_assert_int_eq(vicreg_ctx_set_param(fresh, snap_params[k], sc.params[k]), VICREG_OK);
    unsigned char *keep = malloc(w->bytes), *after = malloc(w->bytes);
    ck_assert(keep && after);
    memcpy(keep, w->block, w->bytes);
    memcpy(w->block, w->pristine, w->bytes);
    const struct scall call = world_call(w, kind);
    ck_assert_msg(scall_run(&call, c) == VICREG_OK, "%s: the context fails afterwards", what);
    memcpy(after, w->block, w->bytes);
    memcpy(w->block, w->pristine, w->bytes);
    ck_assert_int_eq(scall_run(&call, fresh), VICREG_OK);
    ck_assert_msg(memcmp(after, w->block, w->bytes) == 0, "%s: the outputs differ from a fresh "
                  "context's", what);
    memcpy(w->block, keep, w->bytes);
    snap(c, &sc);
    snap(fresh, &sf);
    if (kind == K_FINISH || kind == K_ROWS)
        ck_assert_msg(memcmp(&sc, &sf, sizeof sc) == 0, "%s: terms differ", what);
    free(keep);
    free(after);
    vicreg_ctx_destroy(fresh);
}

/* The call returns `want` on a fresh context and on a used one; neither
 * writes a byte of the block nor changes the contexts' state, and the used
 * context then computes as a fresh one does. */
static void expect(const struct world *w, const struct scall *call, int want, const char *what)
{
    char label[200];
    snprintf(label, sizeof label, "%s %s: %s", prec_name(w->prec), kind_name(call->kind), what);
    unsigned char *keep = malloc(w->bytes);
    ck_assert_ptr_nonnull(keep);
    memcpy(keep, w->block, w->bytes);
    vicreg_ctx *ctxs[2] = { NULL, used_ctx(w) };
    ck_assert_int_eq(vicreg_ctx_create(&ctxs[0]), VICREG_OK);
    for (int k = 0; k < 2; k++) {
        struct snapshot before, after;
        snap(ctxs[k], &before);
        int got = scall_run(call, ctxs[k]);
        ck_assert_msg(got == want, "%s: got %s, want %s", label, vicreg_status_name(got),
                      vicreg_status_name(want));
        ck_assert_msg(memcmp(keep, w->block, w->bytes) == 0, "%s: the call wrote", label);
        snap(ctxs[k], &after);
        ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "%s: the context changed",
                      label);
    }
    free(keep);
    assert_like_fresh(w, ctxs[1], call->kind, label);
    vicreg_ctx_destroy(ctxs[0]);
    vicreg_ctx_destroy(ctxs[1]);
}

/* Sets one value of the block, runs expect(), puts the value back. */
static void expect_with_double(const struct world *w, double *where, double value,
                               const struct scall *call, int want, const char *what)
{
    double keep = *where;
    *where = value;
    expect(w, call, want, what);
    *where = keep;
}

static void expect_with_entry(const struct world *w, void *arr, size_t idx, double value,
                              const struct scall *call, int want, const char *what)
{
    unsigned char keep[sizeof(double)];
    const size_t elem = elem_of(w->prec);
    memcpy(keep, (unsigned char *)arr + idx * elem, elem);
    elem_put(w->prec, arr, idx, value);
    expect(w, call, want, what);
    memcpy((unsigned char *)arr + idx * elem, keep, elem);
}

START_TEST(errors_common)
{
    /* _i: kind, precision. What every new function checks alike. */
    const int kind = _i % N_KINDS, prec = _i / N_KINDS;
    struct world w;
    world_make(&w, prec);
    const struct scall base = world_call(&w, kind);
    struct scall c;
    const size_t big = (size_t)INT_MAX + 1;
    const double huge = prec == F64 ? 1e200 : 1e30;

    /* The base call is good (on copies: it writes). */
    {
        vicreg_ctx *ctx = used_ctx(&w);
        assert_like_fresh(&w, ctx, kind, "base call");
        vicreg_ctx_destroy(ctx);
    }

    c = base, c.null_ctx = 1;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL ctx");
    c = base, c.za = NULL;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL za");
    c = base, c.zb = NULL;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL zb");
    c = base, c.d = 0;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "d == 0");
    c = base, c.lda = W_D - 1;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "lda < d");
    c = base, c.ldb = W_D - 1;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldb < d");
    if (kind == K_FINISH || kind == K_ROWS) {
        c = base, c.ldga = W_D - 1;
        expect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldga < d");
        c = base, c.ldgb = 0;
        expect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldgb < d");
    }
    c = base, c.n = big, c.row0 = 0;
    expect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n > INT_MAX");
    c = base, c.d = big, c.lda = c.ldb = c.ldga = c.ldgb = big;
    expect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "d > INT_MAX");
    c = base, c.lda = SIZE_MAX / 4;
    expect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n * lda overflows");
    c = base, c.ldb = big;
    expect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "ldb > INT_MAX");

    /* NaN and Inf in the batch, first and last row of the call. */
    const size_t last = (base.n - 1) * W_D + W_D - 1;
    expect_with_entry(&w, w.za, 0, NAN, &base, VICREG_ERR_NON_FINITE, "NaN in za");
    expect_with_entry(&w, w.zb, last, -INFINITY, &base, VICREG_ERR_NON_FINITE, "-Inf in zb");
    expect_with_entry(&w, w.za, last, INFINITY, &base, VICREG_ERR_NON_FINITE, "Inf in za");
    /* Finite but too large to square: the overflow bound. (The sums of a
     * float shard cannot overflow a double: no such case for them.) */
    if (!(kind == K_SUMS && prec == F32))
        expect_with_entry(&w, w.za, W_D + 1, huge, &base, VICREG_ERR_OVERFLOW, "huge entry");

    /* Overlap of a written array with an input. */
    if (kind == K_FINISH || kind == K_ROWS) {
        c = base, c.ga = (void *)(uintptr_t)w.za;
        expect(&w, &c, VICREG_ERR_OVERLAP, "grad_a on za");
        c = base, c.gb = (char *)w.zb + elem_of(prec) * (W_D + 1);
        expect(&w, &c, VICREG_ERR_OVERLAP, "grad_b inside zb");
        c = base, c.gb = (char *)w.ga + elem_of(prec) * 3;
        expect(&w, &c, VICREG_ERR_OVERLAP, "grad_b inside grad_a");
    }
    world_free(&w);
}
END_TEST
START_TEST(errors_sums)
{
    const int prec = _i;
    struct world w;
    world_make(&w, prec);
    const struct scall base = world_call(&w, K_SUMS);
    struct scall c;

    c = base, c.sums = NULL;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL sums");
    /* The accumulator passed in. */
    expect_with_double(&w, &w.sums[3], NAN, &base, VICREG_ERR_NON_FINITE, "NaN in sums");
    expect_with_double(&w, &w.sums[1], INFINITY, &base, VICREG_ERR_NON_FINITE, "Inf in sums");
    expect_with_double(&w, &w.sums[0], 2.5, &base, VICREG_ERR_BAD_SHAPE, "count 2.5");
    expect_with_double(&w, &w.sums[0], -1.0, &base, VICREG_ERR_BAD_SHAPE, "count -1");
    expect_with_double(&w, &w.sums[0], 0x1p53 + 2.0, &base, VICREG_ERR_BAD_SHAPE,
                       "count beyond 2^53");
    expect_with_double(&w, &w.sums[0], 0x1p53 - 1.0, &base, VICREG_ERR_SIZE_OVERFLOW,
                       "count passes 2^53");
    expect_with_double(&w, &w.sums[1], -1.0, &base, VICREG_ERR_INVALID_ARGUMENT,
                       "negative invariance sum");
    /* An empty shard still gets its accumulator checked. */
    c = base, c.n = 0, c.za = c.zb = NULL;
    expect_with_double(&w, &w.sums[0], 0.5, &c, VICREG_ERR_BAD_SHAPE, "empty shard, count 0.5");
    /* The sum of two finite sums overflows: only a double shard can. */
    if (prec == F64) {
        double *a = w.za, *b = w.zb, keep_a = a[0], keep_b = b[0], keep_s = w.sums[2];
        a[0] = b[0] = 1e308;
        w.sums[2] = 1e308;
        expect(&w, &base, VICREG_ERR_OVERFLOW, "the column sums overflow");
        a[0] = keep_a, b[0] = keep_b, w.sums[2] = keep_s;
    }
    /* The buffer on an input. */
    c = base, c.sums = (double *)(uintptr_t)w.za;
    expect(&w, &c, VICREG_ERR_OVERLAP, "sums on za");
    c = base, c.sums = (double *)(void *)((char *)w.zb + 8);
    expect(&w, &c, VICREG_ERR_OVERLAP, "sums inside zb");
    world_free(&w);
}
END_TEST

START_TEST(errors_scatter_finish)
{
    /* _i: phase 2 or 3, precision. */
    const int kind = _i % 2 ? K_FINISH : K_SCATTER, prec = _i / 2;
    struct world w;
    world_make(&w, prec);
    const struct scall base = world_call(&w, kind);
    struct scall c;
    const size_t half = W_D * (W_D + 1) / 2;

    c = base, c.sums = NULL;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL sums");
    c = base, c.scatter = NULL;
    expect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL scatter");
    expect_with_double(&w, &w.sums[2 + W_D], NAN, &base, VICREG_ERR_NON_FINITE, "NaN in sums");
    expect_with_double(&w, &w.scatter[half + 3], -INFINITY, &base, VICREG_ERR_NON_FINITE,
                       "-Inf in scatter");
    /* The global row count. */
    expect_with_double(&w, &w.sums[0], 1.0, &base, VICREG_ERR_BAD_SHAPE, "N = 1");
    expect_with_double(&w, &w.sums[0], (double)W_SHARD - 1.0, &base, VICREG_ERR_BAD_SHAPE,
                       "N < n");
    expect_with_double(&w, &w.sums[0], 10.5, &base, VICREG_ERR_BAD_SHAPE, "N = 10.5");
    expect_with_double(&w, &w.sums[0], -10.0, &base, VICREG_ERR_BAD_SHAPE, "N = -10");
    expect_with_double(&w, &w.sums[0], 0x1p60, &base, VICREG_ERR_BAD_SHAPE, "N = 2^60");
    c = base, c.n = 0, c.za = c.zb = NULL, c.ga = c.gb = NULL;
    expect_with_double(&w, &w.sums[0], 1.0, &c, VICREG_ERR_BAD_SHAPE, "empty shard, N = 1");
    /* Statistics no batch has. */
    expect_with_double(&w, &w.sums[1], -1e-300, &base, VICREG_ERR_INVALID_ARGUMENT,
                       "negative invariance sum");
    /* The diagonal entry (2, 2) of Sb: row 2 starts at 2 d - 1. */
    expect_with_double(&w, &w.scatter[half + 2 * W_D - 1], -1.0, &base,
                       VICREG_ERR_INVALID_ARGUMENT, "negative scatter diagonal");
    /* Overlaps. */
    c = base, c.sums = (double *)(uintptr_t)w.za;
    expect(&w, &c, VICREG_ERR_OVERLAP, "sums on za");
    c = base, c.scatter = (double *)(void *)((char *)w.zb + 16);
    expect(&w, &c, VICREG_ERR_OVERLAP, "scatter inside zb");
    if (kind == K_SCATTER) {
        c = base, c.scatter = w.sums + 1;
        expect(&w, &c, VICREG_ERR_OVERLAP, "scatter on sums");
        /* An accumulator so large that the sum would overflow. */
        expect_with_double(&w, &w.scatter[1], 0.9 * DBL_MAX, &base, VICREG_ERR_OVERFLOW,
                           "scatter near DBL_MAX");
    } else {
        c = base, c.ga = w.sums + 2;
        expect(&w, &c, VICREG_ERR_OVERLAP, "grad_a on sums");
        c = base, c.gb = w.scatter + half;
        expect(&w, &c, VICREG_ERR_OVERLAP, "grad_b on scatter");
        /* A global scatter whose square overflows the loss. */
        expect_with_double(&w, &w.scatter[1], 1e300, &base, VICREG_ERR_OVERFLOW,
                           "huge scatter entry");
        c = base, c.n = 0, c.za = c.zb = NULL, c.ga = c.gb = NULL;
        expect_with_double(&w, &w.scatter[1], 1e300, &c, VICREG_ERR_OVERFLOW,
                           "huge scatter entry, empty shard");
    }
    world_free(&w);
}
END_TEST

START_TEST(errors_rows)
{
    const int prec = _i;
    struct world w;
    world_make(&w, prec);
    const struct scall base = world_call(&w, K_ROWS);
    struct scall c;
    c = base, c.row0 = 6, c.rows = 5;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "row0 + rows > n");
    c = base, c.row0 = W_N + 1, c.rows = 0;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "row0 > n, no rows");
    c = base, c.row0 = SIZE_MAX, c.rows = 2;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "row0 + rows wraps");
    c = base, c.row0 = 1, c.rows = SIZE_MAX;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "rows = SIZE_MAX");
    c = base, c.n = 1, c.row0 = 0, c.rows = 1;
    expect(&w, &c, VICREG_ERR_BAD_SHAPE, "n = 1");
    /* rows == 0: no gradient, so their leading dimensions do not matter. */
    c = base, c.rows = 0, c.ldga = c.ldgb = 0;
    {
        vicreg_ctx *ctx = used_ctx(&w);
        unsigned char *keep = malloc(w.bytes);
        ck_assert_ptr_nonnull(keep);
        memcpy(keep, w.block, w.bytes);
        c.loss = NULL;
        ck_assert_int_eq(scall_run(&c, ctx), VICREG_OK);
        ck_assert(memcmp(keep, w.block, w.bytes) == 0);
        free(keep);
        vicreg_ctx_destroy(ctx);
    }
    world_free(&w);
}
END_TEST

START_TEST(errors_sizes)
{
    size_t a = 7, b = 9;
    ck_assert_int_eq(vicreg_shard_sizes(3, NULL, &b), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_shard_sizes(3, &a, NULL), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_shard_sizes(0, &a, &b), VICREG_ERR_BAD_SHAPE);
    ck_assert_int_eq(vicreg_shard_sizes((size_t)INT_MAX + 1, &a, &b), VICREG_ERR_SIZE_OVERFLOW);
    ck_assert_int_eq(vicreg_shard_sizes(SIZE_MAX, &a, &b), VICREG_ERR_SIZE_OVERFLOW);
    ck_assert_int_eq(vicreg_shard_sizes(SIZE_MAX / 2, &a, &b), VICREG_ERR_SIZE_OVERFLOW);
    ck_assert(a == 7 && b == 9);
    const size_t ds[4] = { 1, 2, 7, 8192 };
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(vicreg_shard_sizes(ds[k], &a, &b), VICREG_OK);
        ck_assert_uint_eq(a, 2 + 2 * ds[k]);
        ck_assert_uint_eq(b, ds[k] * (ds[k] + 1));
    }
}
END_TEST

Suite *shard_errors_suite(void)
{
    const struct tu_tcase tc = {
        .name = "errors",
        .timeout = 60,
        .tests = { TU_LOOP(errors_common, 0, 2 * N_KINDS), TU_LOOP(errors_sums, 0, 2),
                   TU_LOOP(errors_scatter_finish, 0, 4), TU_LOOP(errors_rows, 0, 2),
                   TU_TEST(errors_sizes) },
    };
    return tu_suite("shard-errors", &tc, 1);
}
