/*
 * test-shard-memory.c - allocation behaviour of the 1.1 additions, against
 * the library built with its test hooks (VICREG_TEST_HOOKS, see
 * src/context.h), which count every allocation and fail any on demand:
 *
 *   reuse    after the first sharded pipeline at (n, d) no sums, scatter,
 *            finish or rows call at that size or smaller allocates, in
 *            that precision or in f32; vicreg_ctx_buffer() allocates only
 *            to grow;
 *   failure  a failed allocation in any phase or in vicreg_ctx_buffer()
 *            returns VICREG_ERR_NO_MEMORY, writes nothing the caller owns
 *            and leaves a context that computes what a fresh one does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_hooks.h"
#include "precision.h"
#include "testutil.h"

/* The data of n x d (ld = d) in the precision, and room for gradients. */
struct data {
    int prec;
    size_t n, d;
    void *za, *zb, *ga, *gb;
    double *sums, *scatter;
    size_t sums_len, scatter_len;
};

static void data_make(struct data *x, int prec, size_t n, size_t d)
{
    struct pair p;
    pair_make(&p, prec, 77, n, d, d);
    x->prec = prec;
    x->n = n;
    x->d = d;
    x->za = p.za;
    x->zb = p.zb;
    x->ga = malloc(n * d * elem_of(prec));
    x->gb = malloc(n * d * elem_of(prec));
    ck_assert(x->ga && x->gb);
    ck_assert_int_eq(vicreg_shard_sizes(d, &x->sums_len, &x->scatter_len), VICREG_OK);
    x->sums = calloc(x->sums_len, sizeof(double));
    x->scatter = calloc(x->scatter_len, sizeof(double));
    ck_assert(x->sums && x->scatter);
}

static void data_free(struct data *x)
{
    free(x->za);
    free(x->zb);
    free(x->ga);
    free(x->gb);
    free(x->sums);
    free(x->scatter);
}

/* The three phases on the first n rows and d columns (leading dimension
 * x->d) as one shard; each returns its status, the first failure stops. */
static int pipeline(vicreg_ctx *c, const struct data *x, size_t n, size_t d, int with_grads,
                    double *loss)
{
    const size_t ld = x->d;
    int st;
    memset(x->sums, 0, x->sums_len * sizeof(double));
    memset(x->scatter, 0, x->scatter_len * sizeof(double));
    st = prec_shard_sums(x->prec, c, n, d, x->za, ld, x->zb, ld, x->sums);
    if (st == VICREG_OK)
        st = prec_shard_scatter(x->prec, c, n, d, x->za, ld, x->zb, ld, x->sums, x->scatter);
    if (st == VICREG_OK)
        st = prec_shard_finish(x->prec, c, n, d, x->za, ld, x->zb, ld, x->sums, x->scatter, loss,
                               with_grads ? x->ga : NULL, ld, with_grads ? x->gb : NULL, ld);
    return st;
}

static int rows_call(vicreg_ctx *c, const struct data *x, size_t n, size_t d, size_t row0,
                     size_t rows, double *loss)
{
    const size_t ld = x->d;
    return prec_loss_rows(x->prec, c, n, d, x->za, ld, x->zb, ld, row0, rows, loss, x->ga, ld,
                          x->gb, ld);
}

/* ---------------------------------------------------------------------
 * reuse
 * --------------------------------------------------------------------- */

/* After one pipeline and one rows call at (n, d), every smaller shape of
 * every phase, with and without gradients, and rows calls over every
 * shape, allocate nothing; then the same in f32. */
START_TEST(no_alloc_after_first_pipeline)
{
    const int prec = _i % 2;
    const int paths[2] = { VICREG_PATH_AUTO, VICREG_PATH_COVARIANCE };
    const size_t n = 12, d = 8;
    struct data x, x32;
    double loss;
    data_make(&x, prec, n, d);
    data_make(&x32, F32, n, d);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, paths[_i / 2]), VICREG_OK);
    ck_assert_int_eq(pipeline(c, &x, n, d, 1, &loss), VICREG_OK);
    ck_assert_int_eq(rows_call(c, &x, n, d, 0, n, &loss), VICREG_OK);
    const long before = allocs();
    const struct data *xs[2] = { &x, &x32 };
    for (int k = 0; k < 2; k++)
        for (size_t nn = 0; nn <= n; nn++)
            for (size_t dd = 1; dd <= d; dd++) {
                /* A shard of nn rows of a global batch of at least 2. */
                if (nn >= 2) {
                    ck_assert_int_eq(pipeline(c, xs[k], nn, dd, (int)(nn + dd) % 2, &loss),
                                     VICREG_OK);
                    ck_assert_int_eq(rows_call(c, xs[k], nn, dd, nn / 2, nn - nn / 2, &loss),
                                     VICREG_OK);
                }
                ck_assert_msg(allocs() == before, "%s: (%zu, %zu) allocated",
                              k ? "f32 after" : "first precision", nn, dd);
            }
    vicreg_ctx_destroy(c);
    data_free(&x);
    data_free(&x32);
}
END_TEST

/* The empty shard's phases, on a context that never computed, allocate
 * nothing for phases 1 and 2. */
START_TEST(empty_shard_no_alloc)
{
    const int prec = _i;
    struct data x;
    data_make(&x, prec, 4, 3);
    vicreg_ctx *c = tu_ctx_new();
    const long before = allocs();
    x.sums[0] = 4.0;
    ck_assert_int_eq(prec_shard_sums(prec, c, 0, 3, NULL, 0, NULL, 0, x.sums), VICREG_OK);
    ck_assert_int_eq(prec_shard_scatter(prec, c, 0, 3, NULL, 0, NULL, 0, x.sums, x.scatter),
                     VICREG_OK);
    ck_assert_int_eq(allocs(), before);
    vicreg_ctx_destroy(c);
    data_free(&x);
}
END_TEST

/* Growth keeps the old bytes and zeroes the rest, whole multiples of 64:
 * a layer that reads its 8-byte mark from a buffer another user filled
 * with 4 bytes reads determinate memory. (The test runs with
 * MALLOC_PERTURB_ set, so indeterminate bytes would not be zero.) */
START_TEST(ctx_buffer_new_bytes_are_zero)
{
    unsigned char *p = NULL;
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_buffer(c, 4, (void **)&p), VICREG_OK);
    for (size_t k = 0; k < 64; k++)
        ck_assert_msg(p[k] == 0, "byte %zu of a fresh 4-byte buffer is %d", k, p[k]);
    memset(p, 0x5a, 4);
    ck_assert_int_eq(vicreg_ctx_buffer(c, 5000, (void **)&p), VICREG_OK);
    for (size_t k = 0; k < 5000 + 56; k++)
        ck_assert_msg(p[k] == (k < 4 ? 0x5a : 0), "byte %zu after growth is %d", k, p[k]);
    vicreg_ctx_destroy(c);
}
END_TEST

START_TEST(ctx_buffer_allocates_to_grow_only)
{
    void *p = NULL;
    vicreg_ctx *c = tu_ctx_new();
    long before = allocs();
    ck_assert_int_eq(vicreg_ctx_buffer(c, 0, &p), VICREG_OK);
    ck_assert_int_eq(allocs(), before);
    ck_assert_int_eq(vicreg_ctx_buffer(c, 1000, &p), VICREG_OK);
    ck_assert_int_eq(allocs(), before + 1);
    for (size_t b = 0; b <= 1000; b += 7)
        ck_assert_int_eq(vicreg_ctx_buffer(c, b, &p), VICREG_OK);
    ck_assert_int_eq(allocs(), before + 1);
    ck_assert_int_eq(vicreg_ctx_buffer(c, 1001, &p), VICREG_OK);
    ck_assert_int_eq(allocs(), before + 2);
    /* The loss calls' scratch is separate: a loss call after it still
     * allocates its own, and the buffer does not count as scratch. */
    struct data x;
    double loss;
    data_make(&x, F64, 6, 4);
    ck_assert_int_eq(pipeline(c, &x, 6, 4, 1, &loss), VICREG_OK);
    ck_assert_int_gt(allocs(), before + 2);
    data_free(&x);
    vicreg_ctx_destroy(c);
}
END_TEST

/* ---------------------------------------------------------------------
 * failure
 * --------------------------------------------------------------------- */

/* Results of a pipeline, to compare a recovered context with a fresh one. */
struct snap {
    double loss, terms[TU_N_TERMS];
    unsigned char *ga, *gb, *sums, *scatter;
};

static void snap_take(struct snap *s, vicreg_ctx *c, const struct data *x, double loss)
{
    const size_t g = x->n * x->d * elem_of(x->prec);
    s->loss = loss;
    for (size_t k = 0; k < TU_N_TERMS; k++)
        ck_assert_int_eq(vicreg_ctx_get_term(c, tu_all_terms[k], &s->terms[k]), VICREG_OK);
    s->ga = malloc(g);
    s->gb = malloc(g);
    s->sums = malloc(x->sums_len * sizeof(double));
    s->scatter = malloc(x->scatter_len * sizeof(double));
    ck_assert(s->ga && s->gb && s->sums && s->scatter);
    memcpy(s->ga, x->ga, g);
    memcpy(s->gb, x->gb, g);
    memcpy(s->sums, x->sums, x->sums_len * sizeof(double));
    memcpy(s->scatter, x->scatter, x->scatter_len * sizeof(double));
}

static void snap_same(const struct snap *a, const struct snap *b, const struct data *x,
                      const char *what)
{
    const size_t g = x->n * x->d * elem_of(x->prec);
    ck_assert_msg(memcmp(&a->loss, &b->loss, sizeof a->loss) == 0, "%s: loss differs", what);
    ck_assert_msg(memcmp(a->terms, b->terms, sizeof a->terms) == 0, "%s: terms differ", what);
    ck_assert_msg(memcmp(a->ga, b->ga, g) == 0 && memcmp(a->gb, b->gb, g) == 0,
                  "%s: gradients differ", what);
    ck_assert_msg(memcmp(a->sums, b->sums, x->sums_len * sizeof(double)) == 0 &&
                      memcmp(a->scatter, b->scatter, x->scatter_len * sizeof(double)) == 0,
                  "%s: statistics differ", what);
}

static void snap_free(struct snap *s)
{
    free(s->ga);
    free(s->gb);
    free(s->sums);
    free(s->scatter);
}

/* Each phase's first allocation fails on a fresh context (or, with
 * _i / 2 == 1, its growth after a smaller pipeline): NO_MEMORY, the
 * statistics and gradients keep their bytes, and the context then
 * computes the pipeline exactly as a fresh context. */
START_TEST(phase_allocation_fails)
{
    const int prec = _i % 2, grow = _i / 2;
    /* d large enough that phase 1's d-arrays outgrow the scratch of the
     * small pipeline in the growth case (the arrays are 64-byte rounded). */
    const size_t n = 9, d = 16;
    struct data x;
    data_make(&x, prec, n, d);
    const size_t g = n * d * elem_of(prec);
    for (int phase = 0; phase < 3; phase++) {
        double loss = NAN;
        char what[80];
        snprintf(what, sizeof what, "%s phase %d%s", prec_name(prec), phase + 1,
                 grow ? " growth" : "");
        vicreg_ctx *c = tu_ctx_new();
        if (grow)
            ck_assert_int_eq(pipeline(c, &x, 3, 2, 1, &loss), VICREG_OK);
        /* Run the phases before the failing one, then make it fail. */
        memset(x.sums, 0, x.sums_len * sizeof(double));
        memset(x.scatter, 0, x.scatter_len * sizeof(double));
        memset(x.ga, 0xA5, g);
        memset(x.gb, 0x5A, g);
        int st = VICREG_OK;
        for (int k = 0; k <= phase; k++) {
            if (k == phase)
                fail_after(0);
            const size_t ld = d;
            if (k == 0)
                st = prec_shard_sums(prec, c, n, d, x.za, ld, x.zb, ld, x.sums);
            else if (k == 1)
                st = prec_shard_scatter(prec, c, n, d, x.za, ld, x.zb, ld, x.sums, x.scatter);
            else
                st = prec_shard_finish(prec, c, n, d, x.za, ld, x.zb, ld, x.sums, x.scatter, &loss,
                                       x.ga, ld, x.gb, ld);
            if (k < phase)
                ck_assert_int_eq(st, VICREG_OK);
        }
        fail_after(-1);
        /* Phase 2 needs more scratch than phase 1, phase 3 no more than
         * phase 2: a failure there means phase 2 was the one allocating. */
        if (phase == 2) {
            ck_assert_int_eq(st, VICREG_OK);
        } else {
            ck_assert_msg(st == VICREG_ERR_NO_MEMORY, "%s: got %s", what,
                          vicreg_status_name(st));
            /* Nothing written: the phase's own buffer is as before. */
            double *buf = phase == 0 ? x.sums : x.scatter;
            size_t len = phase == 0 ? x.sums_len : x.scatter_len;
            for (size_t i = 0; i < len; i++)
                ck_assert_msg(buf[i] == 0.0, "%s: the failed phase wrote", what);
        }
        unsigned char *pa = x.ga, *pb = x.gb;
        for (size_t i = 0; i < g && phase < 2; i++)
            ck_assert(pa[i] == 0xA5 && pb[i] == 0x5A);

        /* Recovery: the same context against a fresh one. */
        struct snap s1, s2;
        vicreg_ctx *fresh = tu_ctx_new();
        ck_assert_int_eq(pipeline(c, &x, n, d, 1, &loss), VICREG_OK);
        snap_take(&s1, c, &x, loss);
        ck_assert_int_eq(pipeline(fresh, &x, n, d, 1, &loss), VICREG_OK);
        snap_take(&s2, fresh, &x, loss);
        snap_same(&s1, &s2, &x, what);
        snap_free(&s1);
        snap_free(&s2);
        vicreg_ctx_destroy(fresh);
        vicreg_ctx_destroy(c);
    }
    data_free(&x);
}
END_TEST

START_TEST(rows_allocation_fails)
{
    const int prec = _i;
    const size_t n = 9, d = 6, g = n * d * elem_of(prec);
    struct data x;
    double loss = -1.0;
    data_make(&x, prec, n, d);
    memset(x.ga, 0xA5, g);
    memset(x.gb, 0x5A, g);
    vicreg_ctx *c = tu_ctx_new();
    fail_after(0);
    ck_assert_int_eq(rows_call(c, &x, n, d, 2, 4, &loss), VICREG_ERR_NO_MEMORY);
    fail_after(-1);
    ck_assert(loss == -1.0);
    for (size_t i = 0; i < g; i++)
        ck_assert(((unsigned char *)x.ga)[i] == 0xA5 && ((unsigned char *)x.gb)[i] == 0x5A);
    ck_assert_int_eq(rows_call(c, &x, n, d, 2, 4, &loss), VICREG_OK);
    vicreg_ctx_destroy(c);
    data_free(&x);
}
END_TEST

/* vicreg_ctx_buffer(c, bytes) with its allocation failing: NO_MEMORY and
 * the pointer passed in untouched. Returns the buffer c has afterwards. */
static void *buffer_fails(vicreg_ctx *c, size_t bytes)
{
    void *p = NULL, *out = &p;
    fail_after(0);
    ck_assert_int_eq(vicreg_ctx_buffer(c, bytes, &out), VICREG_ERR_NO_MEMORY);
    fail_after(-1);
    ck_assert_ptr_eq(out, &p);
    ck_assert_int_eq(vicreg_ctx_buffer(c, 0, &out), VICREG_OK);
    return out;
}

START_TEST(ctx_buffer_allocation_fails)
{
    void *old = NULL, *out;
    vicreg_ctx *c = tu_ctx_new();
    /* The first buffer fails: still none. */
    ck_assert_ptr_null(buffer_fails(c, 64));
    /* Growth fails: the old buffer and its bytes stay. */
    ck_assert_int_eq(vicreg_ctx_buffer(c, 64, &old), VICREG_OK);
    memset(old, 0x77, 64);
    ck_assert_ptr_eq(buffer_fails(c, 4096), old);
    for (int i = 0; i < 64; i++)
        ck_assert_uint_eq(((unsigned char *)old)[i], 0x77);
    /* And it grows afterwards, keeping them. */
    ck_assert_int_eq(vicreg_ctx_buffer(c, 4096, &out), VICREG_OK);
    for (int i = 0; i < 64; i++)
        ck_assert_uint_eq(((unsigned char *)out)[i], 0x77);
    vicreg_ctx_destroy(c);
}
END_TEST

static Suite *shard_memory_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "reuse", .setup = hooks_reset, .teardown = hooks_reset,
          .tests = { TU_LOOP(no_alloc_after_first_pipeline, 0, 4),
                     TU_LOOP(empty_shard_no_alloc, 0, 2), TU_TEST(ctx_buffer_new_bytes_are_zero),
                     TU_TEST(ctx_buffer_allocates_to_grow_only) } },
        { .name = "failure", .setup = hooks_reset, .teardown = hooks_reset,
          .tests = { TU_LOOP(phase_allocation_fails, 0, 4), TU_LOOP(rows_allocation_fails, 0, 2),
                     TU_TEST(ctx_buffer_allocation_fails) } },
    };
    return tu_suite("shard-memory", tcases, sizeof tcases / sizeof tcases[0]);
}

int main(void)
{
    return tu_run(srunner_create(shard_memory_suite()));
}
