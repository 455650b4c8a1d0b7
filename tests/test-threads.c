/*
 * test-threads.c - several threads, each with its own context, on the same
 * input, get results bitwise identical to a single-threaded run, in both
 * precisions and on both paths.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define N_THREADS 6
#define ROUNDS 20

struct job {
    size_t n, d;
    const double *za, *zb;
    const float *fa, *fb;
    double loss64, loss32;
    double *ga, *gb;
    float *fga, *fgb;
    int status;   /* first non-OK status seen */
    int mismatch; /* a later round differed from the first */
};

static void *worker(void *arg)
{
    struct job *j = arg;
    size_t count = j->n * j->d;
    vicreg_ctx *ctx;
    double *ga = malloc(count * sizeof(double)), *gb = malloc(count * sizeof(double));
    float *fga = malloc(count * sizeof(float)), *fgb = malloc(count * sizeof(float));
    j->status = vicreg_ctx_create(&ctx);
    for (int r = 0; r < ROUNDS && j->status == VICREG_OK; r++) {
        double l64, l32;
        int s64 = vicreg_loss_f64(ctx, j->n, j->d, j->za, j->d, j->zb, j->d, &l64, ga, j->d, gb, j->d);
        int s32 = vicreg_loss_f32(ctx, j->n, j->d, j->fa, j->d, j->fb, j->d, &l32, fga, j->d, fgb,
                                  j->d);
        if (s64 != VICREG_OK || s32 != VICREG_OK) {
            j->status = s64 != VICREG_OK ? s64 : s32;
            break;
        }
        if (r == 0) {
            j->loss64 = l64, j->loss32 = l32;
            memcpy(j->ga, ga, count * sizeof(double));
            memcpy(j->gb, gb, count * sizeof(double));
            memcpy(j->fga, fga, count * sizeof(float));
            memcpy(j->fgb, fgb, count * sizeof(float));
        } else if (l64 != j->loss64 || l32 != j->loss32 ||
                   memcmp(ga, j->ga, count * sizeof(double)) ||
                   memcmp(gb, j->gb, count * sizeof(double)) ||
                   memcmp(fga, j->fga, count * sizeof(float)) ||
                   memcmp(fgb, j->fgb, count * sizeof(float))) {
            j->mismatch = 1;
        }
    }
    vicreg_ctx_destroy(ctx);
    free(ga), free(gb), free(fga), free(fgb);
    return NULL;
}

static void job_init(struct job *j, size_t n, size_t d, const double *za, const double *zb,
                     const float *fa, const float *fb)
{
    memset(j, 0, sizeof *j);
    j->n = n, j->d = d, j->za = za, j->zb = zb, j->fa = fa, j->fb = fb;
    j->ga = malloc(n * d * sizeof(double));
    j->gb = malloc(n * d * sizeof(double));
    j->fga = malloc(n * d * sizeof(float));
    j->fgb = malloc(n * d * sizeof(float));
}

static void job_free(struct job *j)
{
    free(j->ga), free(j->gb), free(j->fga), free(j->fgb);
}

/* _i: 0 covariance path (n >= d), 1 Gram path (n < d). */
START_TEST(test_threads_bitwise)
{
    const size_t n = _i ? 96 : 200, d = _i ? 160 : 72, count = n * d;
    double *za = malloc(count * sizeof(double)), *zb = malloc(count * sizeof(double));
    float *fa = malloc(count * sizeof(float)), *fb = malloc(count * sizeof(float));
    tu_make_batches(31 + _i, n, d, d, za, zb);
    for (size_t i = 0; i < count; i++)
        fa[i] = (float)za[i], fb[i] = (float)zb[i];

    struct job single, jobs[N_THREADS];
    job_init(&single, n, d, za, zb, fa, fb);
    worker(&single);
    ck_assert_int_eq(single.status, VICREG_OK);
    ck_assert(!single.mismatch);

    pthread_t threads[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        job_init(&jobs[t], n, d, za, zb, fa, fb);
        ck_assert_int_eq(pthread_create(&threads[t], NULL, worker, &jobs[t]), 0);
    }
    for (int t = 0; t < N_THREADS; t++)
        ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
    for (int t = 0; t < N_THREADS; t++) {
        struct job *j = &jobs[t];
        ck_assert_int_eq(j->status, VICREG_OK);
        ck_assert_msg(!j->mismatch, "thread %d: rounds differ", t);
        ck_assert(j->loss64 == single.loss64 && j->loss32 == single.loss32);
        ck_assert(memcmp(j->ga, single.ga, count * sizeof(double)) == 0);
        ck_assert(memcmp(j->gb, single.gb, count * sizeof(double)) == 0);
        ck_assert(memcmp(j->fga, single.fga, count * sizeof(float)) == 0);
        ck_assert(memcmp(j->fgb, single.fgb, count * sizeof(float)) == 0);
        job_free(j);
    }
    job_free(&single);
    free(za), free(zb), free(fa), free(fb);
}
END_TEST

Suite *threads_suite(void)
{
    /* Tagged so that the valgrind run can leave it out (CK_EXCLUDE_TAGS):
     * under valgrind's one-thread-at-a-time scheduler it takes minutes. */
    const struct tu_tcase tc = {
        .name = "contexts-per-thread",
        .tags = "threads",
        .timeout = 120,
        .tests = { TU_LOOP(test_threads_bitwise, 0, 2) },
    };
    return tu_suite("threads", &tc, 1);
}
