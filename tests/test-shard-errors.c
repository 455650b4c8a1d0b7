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

#include "viewsutil.h"

/* The calls of 1.1, in the order of the loop tests. The block of every
 * array a call can touch, the bad-call checks and the used context are
 * viewsutil.h's pair world: two views as za and zb, the calls made
 * through their two-batch functions. */
static const int kinds[] = { VK_SUMS, VK_SCATTER, VK_FINISH, VK_ROWS };
#define N_KINDS 4

START_TEST(errors_common)
{
    /* _i: kind, precision. What every new function checks alike. */
    const int kind = kinds[_i % N_KINDS], prec = _i / N_KINDS;
    struct vworld w;
    vworld_make_pair(&w, prec);
    const struct vcall base = vworld_call(&w, kind);
    struct vcall c;
    const size_t big = (size_t)INT_MAX + 1;
    const double huge = prec == F64 ? 1e200 : 1e30;

    /* The base call is good (on copies: it writes). */
    {
        vicreg_ctx *ctx = vworld_used_ctx(&w);
        vworld_like_fresh(&w, ctx, kind, "base call");
        vicreg_ctx_destroy(ctx);
    }

    c = base, c.null_ctx = 1;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL ctx");
    c = base, c.z[0] = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL za");
    c = base, c.z[1] = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL zb");
    c = base, c.d = 0;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "d == 0");
    c = base, c.ldz[0] = VW_D - 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "lda < d");
    c = base, c.ldz[1] = VW_D - 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldb < d");
    if (kind == VK_FINISH || kind == VK_ROWS) {
        c = base, c.ldgrad[0] = VW_D - 1;
        vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldga < d");
        c = base, c.ldgrad[1] = 0;
        vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldgb < d");
    }
    c = base, c.n = big, c.row0 = 0;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n > INT_MAX");
    c = base, c.d = big;
    for (size_t v = 0; v < 2; v++)
        c.ldz[v] = c.ldgrad[v] = big;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "d > INT_MAX");
    c = base, c.ldz[0] = SIZE_MAX / 4;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n * lda overflows");
    c = base, c.ldz[1] = big;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "ldb > INT_MAX");

    /* NaN and Inf in the batch, first and last row of the call. */
    const size_t last = (base.n - 1) * VW_D + VW_D - 1;
    vexpect_with_entry(&w, w.z[0], 0, NAN, &base, VICREG_ERR_NON_FINITE, "NaN in za");
    vexpect_with_entry(&w, w.z[1], last, -INFINITY, &base, VICREG_ERR_NON_FINITE, "-Inf in zb");
    vexpect_with_entry(&w, w.z[0], last, INFINITY, &base, VICREG_ERR_NON_FINITE, "Inf in za");
    /* Finite but too large to square: the overflow bound. (The sums of a
     * float shard cannot overflow a double: no such case for them.) */
    if (!(kind == VK_SUMS && prec == F32))
        vexpect_with_entry(&w, w.z[0], VW_D + 1, huge, &base, VICREG_ERR_OVERFLOW, "huge entry");

    /* Overlap of a written array with an input. */
    if (kind == VK_FINISH || kind == VK_ROWS) {
        c = base, c.grad[0] = (void *)(uintptr_t)w.z[0];
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad_a on za");
        c = base, c.grad[1] = (char *)w.z[1] + elem_of(prec) * (VW_D + 1);
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad_b inside zb");
        c = base, c.grad[1] = (char *)w.g[0] + elem_of(prec) * 3;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad_b inside grad_a");
    }
    vworld_free(&w);
}
END_TEST

START_TEST(errors_sums)
{
    const int prec = _i;
    struct vworld w;
    vworld_make_pair(&w, prec);
    const struct vcall base = vworld_call(&w, VK_SUMS);
    struct vcall c;

    c = base, c.sums = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL sums");
    /* The accumulator passed in. */
    vexpect_with_double(&w, &w.sums[3], NAN, &base, VICREG_ERR_NON_FINITE, "NaN in sums");
    vexpect_with_double(&w, &w.sums[1], INFINITY, &base, VICREG_ERR_NON_FINITE, "Inf in sums");
    vexpect_with_double(&w, &w.sums[0], 2.5, &base, VICREG_ERR_BAD_SHAPE, "count 2.5");
    vexpect_with_double(&w, &w.sums[0], -1.0, &base, VICREG_ERR_BAD_SHAPE, "count -1");
    vexpect_with_double(&w, &w.sums[0], 0x1p53 + 2.0, &base, VICREG_ERR_BAD_SHAPE,
                        "count beyond 2^53");
    vexpect_with_double(&w, &w.sums[0], 0x1p53 - 1.0, &base, VICREG_ERR_SIZE_OVERFLOW,
                        "count passes 2^53");
    vexpect_with_double(&w, &w.sums[1], -1.0, &base, VICREG_ERR_INVALID_ARGUMENT,
                        "negative invariance sum");
    /* An empty shard still gets its accumulator checked. */
    c = base, c.n = 0, c.z[0] = c.z[1] = NULL;
    vexpect_with_double(&w, &w.sums[0], 0.5, &c, VICREG_ERR_BAD_SHAPE, "empty shard, count 0.5");
    /* The sum of two finite sums overflows: only a double shard can. */
    if (prec == F64) {
        double *a = w.z[0], *b = w.z[1], keep_a = a[0], keep_b = b[0], keep_s = w.sums[2];
        a[0] = b[0] = 1e308;
        w.sums[2] = 1e308;
        vexpect(&w, &base, VICREG_ERR_OVERFLOW, "the column sums overflow");
        a[0] = keep_a, b[0] = keep_b, w.sums[2] = keep_s;
    }
    /* The buffer on an input. */
    c = base, c.sums = (double *)(uintptr_t)w.z[0];
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "sums on za");
    c = base, c.sums = (double *)(void *)((char *)w.z[1] + 8);
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "sums inside zb");
    vworld_free(&w);
}
END_TEST

START_TEST(errors_scatter_finish)
{
    /* _i: phase 2 or 3, precision. */
    const int kind = _i % 2 ? VK_FINISH : VK_SCATTER, prec = _i / 2;
    struct vworld w;
    vworld_make_pair(&w, prec);
    const struct vcall base = vworld_call(&w, kind);
    struct vcall c;
    const size_t half = VW_D * (VW_D + 1) / 2;

    c = base, c.sums = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL sums");
    c = base, c.scatter = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL scatter");
    vexpect_with_double(&w, &w.sums[2 + VW_D], NAN, &base, VICREG_ERR_NON_FINITE, "NaN in sums");
    vexpect_with_double(&w, &w.scatter[half + 3], -INFINITY, &base, VICREG_ERR_NON_FINITE,
                        "-Inf in scatter");
    /* The global row count. */
    vexpect_with_double(&w, &w.sums[0], 1.0, &base, VICREG_ERR_BAD_SHAPE, "N = 1");
    vexpect_with_double(&w, &w.sums[0], (double)VW_SHARD - 1.0, &base, VICREG_ERR_BAD_SHAPE,
                        "N < n");
    vexpect_with_double(&w, &w.sums[0], 10.5, &base, VICREG_ERR_BAD_SHAPE, "N = 10.5");
    vexpect_with_double(&w, &w.sums[0], -10.0, &base, VICREG_ERR_BAD_SHAPE, "N = -10");
    vexpect_with_double(&w, &w.sums[0], 0x1p60, &base, VICREG_ERR_BAD_SHAPE, "N = 2^60");
    c = base, c.n = 0, c.z[0] = c.z[1] = NULL, c.grad[0] = c.grad[1] = NULL;
    vexpect_with_double(&w, &w.sums[0], 1.0, &c, VICREG_ERR_BAD_SHAPE, "empty shard, N = 1");
    /* Statistics no batch has. */
    vexpect_with_double(&w, &w.sums[1], -1e-300, &base, VICREG_ERR_INVALID_ARGUMENT,
                        "negative invariance sum");
    /* The diagonal entry (2, 2) of Sb: row 2 starts at 2 d - 1. */
    vexpect_with_double(&w, &w.scatter[half + 2 * VW_D - 1], -1.0, &base,
                        VICREG_ERR_INVALID_ARGUMENT, "negative scatter diagonal");
    /* Overlaps. */
    c = base, c.sums = (double *)(uintptr_t)w.z[0];
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "sums on za");
    c = base, c.scatter = (double *)(void *)((char *)w.z[1] + 16);
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "scatter inside zb");
    if (kind == VK_SCATTER) {
        c = base, c.scatter = w.sums + 1;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "scatter on sums");
        /* An accumulator so large that the sum would overflow. */
        vexpect_with_double(&w, &w.scatter[1], 0.9 * DBL_MAX, &base, VICREG_ERR_OVERFLOW,
                            "scatter near DBL_MAX");
    } else {
        c = base, c.grad[0] = w.sums + 2;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad_a on sums");
        c = base, c.grad[1] = w.scatter + half;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad_b on scatter");
        /* A global scatter whose square overflows the loss. */
        vexpect_with_double(&w, &w.scatter[1], 1e300, &base, VICREG_ERR_OVERFLOW,
                            "huge scatter entry");
        c = base, c.n = 0, c.z[0] = c.z[1] = NULL, c.grad[0] = c.grad[1] = NULL;
        vexpect_with_double(&w, &w.scatter[1], 1e300, &c, VICREG_ERR_OVERFLOW,
                            "huge scatter entry, empty shard");
    }
    vworld_free(&w);
}
END_TEST

START_TEST(errors_rows)
{
    const int prec = _i;
    struct vworld w;
    vworld_make_pair(&w, prec);
    const struct vcall base = vworld_call(&w, VK_ROWS);
    struct vcall c;
    vexpect_bad_rows(&w, &base);
    c = base, c.n = 1, c.row0 = 0, c.rows = 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "n = 1");
    /* rows == 0: no gradient, so their leading dimensions do not matter. */
    c = base, c.rows = 0, c.ldgrad[0] = c.ldgrad[1] = 0;
    {
        vicreg_ctx *ctx = vworld_used_ctx(&w);
        unsigned char *keep = malloc(w.bytes);
        ck_assert_ptr_nonnull(keep);
        memcpy(keep, w.block, w.bytes);
        c.loss = NULL;
        ck_assert_int_eq(vcall_run(&c, ctx), VICREG_OK);
        ck_assert(memcmp(keep, w.block, w.bytes) == 0);
        free(keep);
        vicreg_ctx_destroy(ctx);
    }
    vworld_free(&w);
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
