/*
 * test-pass-threads.c - VICREG_PARAM_THREADS, the context's own threads
 * for the streaming passes: every result (loss, every view's terms, every
 * gradient byte, the sharded phases' buffers) is the same bits for 2, 3
 * and 5 threads as for 1, over shapes whose passes are split (and small
 * ones that are not), both paths, both conventions, V from 1 to 8,
 * padded leading dimensions, NULL gradients and blocks of rows; the
 * parameter's contract (whole numbers in [1, 64], a rejected value keeps
 * the old one); and the threads themselves: none before the parameter is
 * set, T - 1 after, none left after it is set back to 1 or the context is
 * destroyed (counted in /proc/self/task).
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

struct pass_case {
    size_t views, global, n, d, pad;
    int path, convention;
    int null_grad;      /* view 1's gradient is NULL (when V > 1) */
    size_t row0, rows;  /* a rows call when rows < n */
};

/* Split by the passes (work of at least 2^17 element operations per part)
 * or small; d not a multiple of the 16-column unit nor of the 256-column
 * block; n < d (Gram) and n > d (covariance). */
static const struct pass_case cases[] = {
    { 2, 2, 300, 700, 0, VICREG_PATH_AUTO, VICREG_CONVENTION_REFERENCE, 0, 0, 300 },
    { 2, 2, 700, 300, 3, VICREG_PATH_AUTO, VICREG_CONVENTION_PAPER, 0, 0, 700 },
    { 1, 1, 1100, 130, 0, VICREG_PATH_AUTO, VICREG_CONVENTION_REFERENCE, 0, 0, 1100 },
    { 3, 1, 260, 517, 5, VICREG_PATH_COVARIANCE, VICREG_CONVENTION_REFERENCE, 1, 0, 260 },
    { 8, 2, 128, 300, 0, VICREG_PATH_GRAM, VICREG_CONVENTION_PAPER, 0, 0, 128 },
    { 5, 5, 333, 257, 1, VICREG_PATH_AUTO, VICREG_CONVENTION_REFERENCE, 0, 17, 250 },
    { 2, 2, 900, 200, 0, VICREG_PATH_GRAM, VICREG_CONVENTION_REFERENCE, 1, 100, 555 },
    { 4, 2, 7, 5, 2, VICREG_PATH_AUTO, VICREG_CONVENTION_REFERENCE, 0, 0, 7 },
};
#define N_CASES (sizeof cases / sizeof cases[0])

static const int thread_counts[] = { 2, 3, 5 };

/* Everything one call reports, as bytes: status, loss, the invariance,
 * every view's terms, every gradient. */
struct outcome {
    int status;
    double loss, invariance;
    double view_terms[VICREG_MAX_VIEWS][6];
    unsigned char *grad; /* views x rows x (d + pad) elements */
    size_t grad_bytes;
};

static void outcome_free(struct outcome *o)
{
    free(o->grad);
    o->grad = NULL;
}

static void read_terms(vicreg_ctx *c, size_t views, struct outcome *o)
{
    ck_assert_int_eq(vicreg_ctx_get_term(c, VICREG_TERM_LOSS, &o->loss), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_term(c, VICREG_TERM_INVARIANCE, &o->invariance), VICREG_OK);
    for (size_t v = 0; v < views; v++)
        for (int t = 0; t < 6; t++)
            ck_assert_int_eq(vicreg_ctx_get_view_term(c, t + 1, v, &o->view_terms[v][t]),
                             VICREG_OK);
}

static vicreg_ctx *ctx_with(int threads, const struct pass_case *k)
{
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, threads), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, k->path), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_CONVENTION, k->convention), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GLOBAL_VIEWS, (double)k->global),
                     VICREG_OK);
    return c;
}

/* The views (padded rows of d + pad), deterministic per case. */
static double *make_views(const struct pass_case *k, uint64_t seed)
{
    const size_t ld = k->d + k->pad, count = k->views * k->n * ld;
    double *z = malloc(count * sizeof *z);
    ck_assert_ptr_nonnull(z);
    uint64_t state = seed;
    for (size_t i = 0; i < count; i++)
        z[i] = tu_uniform(&state) * 2.0 + 0.3 * (double)(i % 7);
    return z;
}

/* One views call (rows call when k->rows < n) with `threads` threads. */
static void run_views(int threads, int f64, const struct pass_case *k, const double *data,
                      struct outcome *o)
{
    const size_t ld = k->d + k->pad, per_view = k->n * ld, grad_view = k->rows * ld;
    const size_t elem = f64 ? sizeof(double) : sizeof(float);
    float *data32 = NULL;
    if (!f64) {
        data32 = malloc(k->views * per_view * sizeof *data32);
        ck_assert_ptr_nonnull(data32);
        for (size_t i = 0; i < k->views * per_view; i++)
            data32[i] = (float)data[i];
    }
    o->grad_bytes = k->views * grad_view * elem;
    o->grad = calloc(1, o->grad_bytes);
    ck_assert_ptr_nonnull(o->grad);
    const void *z[VICREG_MAX_VIEWS];
    void *g[VICREG_MAX_VIEWS];
    size_t lds[VICREG_MAX_VIEWS];
    for (size_t v = 0; v < k->views; v++) {
        z[v] = f64 ? (const void *)(data + v * per_view) : (const void *)(data32 + v * per_view);
        g[v] = (k->null_grad && v == 1) ? NULL : o->grad + v * grad_view * elem;
        lds[v] = ld;
    }
    vicreg_ctx *c = ctx_with(threads, k);
    /* Twice: the second call reuses the warm scratch and threads. */
    for (int round = 0; round < 2; round++) {
        if (f64)
            o->status = vicreg_views_loss_rows_f64(c, k->views, k->n, k->d,
                                                   (const double *const *)z, lds, k->row0,
                                                   k->rows, &o->loss, (double *const *)g, lds);
        else
            o->status = vicreg_views_loss_rows_f32(c, k->views, k->n, k->d,
                                                   (const float *const *)z, lds, k->row0,
                                                   k->rows, &o->loss, (float *const *)g, lds);
        ck_assert_int_eq(o->status, VICREG_OK);
    }
    read_terms(c, k->views, o);
    vicreg_ctx_destroy(c);
    free(data32);
}

static void assert_same(const struct outcome *one, const struct outcome *many, int threads,
                        size_t kcase, int f64)
{
    ck_assert_msg(one->status == many->status && one->loss == many->loss &&
                      one->invariance == many->invariance &&
                      memcmp(one->view_terms, many->view_terms, sizeof one->view_terms) == 0,
                  "case %zu (%s): the loss or a term differs with %d threads", kcase,
                  f64 ? "f64" : "f32", threads);
    ck_assert_msg(one->grad_bytes == many->grad_bytes &&
                      memcmp(one->grad, many->grad, one->grad_bytes) == 0,
                  "case %zu (%s): a gradient differs with %d threads", kcase, f64 ? "f64" : "f32",
                  threads);
}

START_TEST(views_same_bits)
{
    const size_t kcase = (size_t)_i / 2;
    const int f64 = _i % 2;
    const struct pass_case *k = &cases[kcase];
    double *data = make_views(k, 1000 + kcase);
    struct outcome one = { 0 };
    memset(one.view_terms, 0, sizeof one.view_terms);
    run_views(1, f64, k, data, &one);
    for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
        struct outcome many = { 0 };
        memset(many.view_terms, 0, sizeof many.view_terms);
        run_views(thread_counts[t], f64, k, data, &many);
        assert_same(&one, &many, thread_counts[t], kcase, f64);
        outcome_free(&many);
    }
    outcome_free(&one);
    free(data);
}
END_TEST

/* The two-batch call, on a shape whose passes are split. */
START_TEST(two_batch_same_bits)
{
    const size_t n = 400, d = 600;
    double *za = malloc(n * d * sizeof *za), *zb = malloc(n * d * sizeof *zb);
    double *g1 = malloc(2 * n * d * sizeof *g1), *g3 = malloc(2 * n * d * sizeof *g3);
    ck_assert(za && zb && g1 && g3);
    tu_make_batches(7, n, d, d, za, zb);
    double loss1, loss3;
    vicreg_ctx *one = tu_ctx_new(), *three = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(three, VICREG_PARAM_THREADS, 3), VICREG_OK);
    ck_assert_int_eq(vicreg_loss_f64(one, n, d, za, d, zb, d, &loss1, g1, d, g1 + n * d, d),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_loss_f64(three, n, d, za, d, zb, d, &loss3, g3, d, g3 + n * d, d),
                     VICREG_OK);
    ck_assert(loss1 == loss3);
    ck_assert_msg(memcmp(g1, g3, 2 * n * d * sizeof *g1) == 0, "a gradient differs");
    vicreg_ctx_destroy(one);
    vicreg_ctx_destroy(three);
    free(za);
    free(zb);
    free(g1);
    free(g3);
}
END_TEST

/* The three sharded views phases on two shards, 1 thread against 4. */
static void run_shards(int threads, size_t views, size_t n, size_t d, const double *data,
                       double *sums, double *scatter, double *grad, double *loss)
{
    const struct pass_case k = { views, 2, n, d, 0, VICREG_PATH_AUTO,
                                 VICREG_CONVENTION_REFERENCE, 0, 0, n };
    vicreg_ctx *c = ctx_with(threads, &k);
    size_t sums_len, scatter_len;
    ck_assert_int_eq(vicreg_shard_views_sizes(views, d, &sums_len, &scatter_len), VICREG_OK);
    memset(sums, 0, sums_len * sizeof *sums);
    memset(scatter, 0, scatter_len * sizeof *scatter);
    const size_t split = n / 3;
    const size_t rows[2] = { split, n - split }, first[2] = { 0, split };
    const double *z[2][VICREG_MAX_VIEWS];
    double *g[2][VICREG_MAX_VIEWS];
    size_t ld[VICREG_MAX_VIEWS];
    for (int s = 0; s < 2; s++)
        for (size_t v = 0; v < views; v++) {
            z[s][v] = data + (v * n + first[s]) * d;
            g[s][v] = grad + (v * n + first[s]) * d;
            ld[v] = d;
        }
    for (int s = 0; s < 2; s++)
        ck_assert_int_eq(vicreg_shard_views_sums_f64(c, views, rows[s], d, z[s], ld, sums),
                         VICREG_OK);
    for (int s = 0; s < 2; s++)
        ck_assert_int_eq(
            vicreg_shard_views_scatter_f64(c, views, rows[s], d, z[s], ld, sums, scatter),
            VICREG_OK);
    for (int s = 0; s < 2; s++)
        ck_assert_int_eq(vicreg_shard_views_finish_f64(c, views, rows[s], d, z[s], ld, sums,
                                                       scatter, loss, g[s], ld),
                         VICREG_OK);
    vicreg_ctx_destroy(c);
}

START_TEST(shards_same_bits)
{
    const size_t views = 3, n = 600, d = 300;
    const struct pass_case k = { views, 2, n, d, 0, 0, 0, 0, 0, n };
    double *data = make_views(&k, 99);
    size_t sums_len, scatter_len;
    ck_assert_int_eq(vicreg_shard_views_sizes(views, d, &sums_len, &scatter_len), VICREG_OK);
    double *sums[2], *scatter[2], *grad[2], loss[2];
    for (int t = 0; t < 2; t++) {
        sums[t] = malloc(sums_len * sizeof(double));
        scatter[t] = malloc(scatter_len * sizeof(double));
        grad[t] = calloc(views * n * d, sizeof(double));
        ck_assert(sums[t] && scatter[t] && grad[t]);
        run_shards(t ? 4 : 1, views, n, d, data, sums[t], scatter[t], grad[t], &loss[t]);
    }
    ck_assert(loss[0] == loss[1]);
    ck_assert(memcmp(sums[0], sums[1], sums_len * sizeof(double)) == 0);
    ck_assert(memcmp(scatter[0], scatter[1], scatter_len * sizeof(double)) == 0);
    ck_assert_msg(memcmp(grad[0], grad[1], views * n * d * sizeof(double)) == 0,
                  "a gradient differs with 4 threads");
    for (int t = 0; t < 2; t++) {
        free(sums[t]);
        free(scatter[t]);
        free(grad[t]);
    }
    free(data);
}
END_TEST

START_TEST(param_contract)
{
    vicreg_ctx *c = tu_ctx_new();
    double v = 0.0, lo = 0.0, hi = 0.0;
    ck_assert_int_eq(vicreg_param_bounds(VICREG_PARAM_THREADS, &lo, &hi), VICREG_OK);
    ck_assert(lo == 1.0 && hi == 64.0);
    ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_THREADS, &v), VICREG_OK);
    ck_assert(v == 1.0);
    const double bad[] = { 0.0, -1.0, 65.0, 2.5, 1.0 + 0x1p-52, NAN, INFINITY, -INFINITY };
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, 4), VICREG_OK);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, bad[k]),
                         VICREG_ERR_OUT_OF_RANGE);
        ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_THREADS, &v), VICREG_OK);
        ck_assert(v == 4.0);
    }
    /* Both ends, and back. */
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, 64), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_THREADS, &v), VICREG_OK);
    ck_assert(v == 64.0);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, 1), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_THREADS, &v), VICREG_OK);
    ck_assert(v == 1.0);
    vicreg_ctx_destroy(c);
}
END_TEST

/* The threads of this process, from /proc/self/task. */
static int task_count(void)
{
    DIR *dir = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(dir);
    int count = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (e->d_name[0] != '.')
            count++;
    closedir(dir);
    return count;
}

/* Asserts that the process comes to have `want` threads. A joined thread
 * can still be listed for a moment after pthread_join returns (the kernel
 * wakes the joiner before it removes the task), so the count is read again
 * for up to 2 s before it must equal want; a thread that was not joined
 * never leaves. */
static void expect_tasks(int want)
{
    int count = task_count();
    for (int tries = 0; count != want && tries < 200; tries++) {
        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
        count = task_count();
    }
    ck_assert_msg(count == want, "%d threads, want %d", count, want);
}

START_TEST(threads_only_when_asked)
{
    const struct pass_case *k = &cases[0];
    double *data = make_views(k, 5);
    struct outcome o = { 0 };
    /* The BLAS may start its own threads on its first product; let it. */
    run_views(1, 1, k, data, &o);
    outcome_free(&o);
    const int base = task_count();
    vicreg_ctx *c = tu_ctx_new();
    expect_tasks(base);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, 4), VICREG_OK);
    expect_tasks(base + 3);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, 2), VICREG_OK);
    expect_tasks(base + 1);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, 1), VICREG_OK);
    expect_tasks(base);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_THREADS, 3), VICREG_OK);
    vicreg_ctx_destroy(c);
    expect_tasks(base);
    free(data);
}
END_TEST

Suite *pass_threads_suite(void)
{
    const struct tu_tcase tcases[] = {
        /* Tagged 'threads' like the threads suite: under valgrind, which
         * runs one thread at a time, these many calls take ten minutes;
         * ThreadSanitizer and every other build run them. */
        { "same-bits", NULL, NULL, NULL, 120, "threads",
          { TU_LOOP(views_same_bits, 0, (int)(2 * N_CASES)), TU_TEST(two_batch_same_bits),
            TU_TEST(shards_same_bits) } },
        { "contract", NULL, NULL, NULL, 30, NULL,
          { TU_TEST(param_contract), TU_TEST(threads_only_when_asked) } },
    };
    return tu_suite("pass-threads", tcases, sizeof tcases / sizeof tcases[0]);
}
