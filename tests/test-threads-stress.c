/*
 * test-threads-stress.c - many threads (THREADS = 12, on however few cores)
 * hammer the library at once, each with its own context, each cycling
 * through every shape, precision and path from a different starting point,
 * so that at any moment the threads run different shapes. Every result
 * must equal, bit for bit, what a single thread computed for that case
 * before the threads started.
 *
 * Also the program that the ThreadSanitizer build runs (scripts/test.sh),
 * with one OpenBLAS thread there: OpenBLAS is not built with TSan and its
 * thread pool synchronises through spin-waits that TSan cannot see (the
 * reason is written beside the 'tsan' test setup in meson.build). The
 * other builds run it with OpenBLAS's own thread count.
 *
 * Exit status 0 on success. VICREG_STRESS_ROUNDS overrides the rounds.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM "test-threads-stress"
#include "standalone.h"

#define THREADS 12
#define DEFAULT_ROUNDS 6

/* A case: shape, precision, path, convention. */
struct tcase {
    size_t n, d, ld;
    int f64, path, paper;
    const void *za, *zb;
    double loss;               /* single-threaded result */
    unsigned char *ga, *gb;    /* n * ld elements each */
    size_t bytes;
};

static const size_t shapes[][3] = {
    { 2, 3, 3 }, { 7, 5, 6 }, { 40, 24, 24 }, { 10, 48, 50 }, { 64, 32, 33 }, { 17, 17, 17 },
    { 96, 64, 64 }, { 20, 120, 120 },
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])
#define N_CASES (N_SHAPES * 2 * 2)

static struct tcase cases[N_CASES];
static int rounds = DEFAULT_ROUNDS;

static int run(vicreg_ctx *ctx, const struct tcase *c, double *loss, void *ga, void *gb)
{
    int st = vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, c->path);
    if (st == VICREG_OK)
        st = vicreg_ctx_set_param(ctx, VICREG_PARAM_CONVENTION, c->paper);
    if (st != VICREG_OK)
        return st;
    if (c->f64)
        return vicreg_loss_f64(ctx, c->n, c->d, c->za, c->ld, c->zb, c->ld, loss, ga, c->ld,
                               gb, c->ld);
    return vicreg_loss_f32(ctx, c->n, c->d, c->za, c->ld, c->zb, c->ld, loss, ga, c->ld, gb,
                           c->ld);
}

struct worker {
    int id;
    long calls;
    const char *error; /* static text, NULL when all went well */
    size_t bad_case;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    vicreg_ctx *ctx;
    if (vicreg_ctx_create(&ctx) != VICREG_OK) {
        w->error = "create failed";
        return NULL;
    }
    size_t max_bytes = 0;
    for (size_t k = 0; k < N_CASES; k++)
        if (cases[k].bytes > max_bytes)
            max_bytes = cases[k].bytes;
    unsigned char *ga = malloc(max_bytes), *gb = malloc(max_bytes);
    if (!ga || !gb) {
        w->error = "out of memory";
        goto out;
    }
    /* Each thread starts at its own case and walks them in its own stride,
     * so that different threads run different shapes at the same time. */
    const size_t stride = (size_t)(w->id % 2 ? 3 : 5);
    for (int r = 0; r < rounds && !w->error; r++)
        for (size_t k = 0; k < N_CASES; k++) {
            size_t at = ((size_t)w->id * 7 + k * stride) % N_CASES;
            const struct tcase *c = &cases[at];
            double loss;
            memset(ga, 0, c->bytes);
            memset(gb, 0, c->bytes);
            if (run(ctx, c, &loss, ga, gb) != VICREG_OK) {
                w->error = "a loss call failed";
                w->bad_case = at;
                break;
            }
            w->calls++;
            if (memcmp(&loss, &c->loss, sizeof loss) || memcmp(ga, c->ga, c->bytes) ||
                memcmp(gb, c->gb, c->bytes)) {
                w->error = "result differs from the single-threaded one";
                w->bad_case = at;
                break;
            }
        }
out:
    free(ga), free(gb);
    vicreg_ctx_destroy(ctx);
    return NULL;
}

int main(void)
{
    const char *env = getenv("VICREG_STRESS_ROUNDS");
    if (env && atoi(env) > 0)
        rounds = atoi(env);

    /* Inputs: one pair of the largest extent in each precision. */
    size_t max_elems = 0;
    for (size_t s = 0; s < N_SHAPES; s++)
        if (shapes[s][0] * shapes[s][2] > max_elems)
            max_elems = shapes[s][0] * shapes[s][2];
    double *a64 = malloc(max_elems * sizeof(double)), *b64 = malloc(max_elems * sizeof(double));
    float *a32 = malloc(max_elems * sizeof(float)), *b32 = malloc(max_elems * sizeof(float));
    if (!a64 || !b64 || !a32 || !b32)
        FAIL("out of memory");
    uint64_t s = 99;
    for (size_t k = 0; k < max_elems; k++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) * 0x1.0p-53 - 0.5;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double v = (double)(s >> 11) * 0x1.0p-53 - 0.5;
        a64[k] = (float)(3.0 * u), b64[k] = (float)(3.0 * u + 0.4 * v);
        a32[k] = (float)a64[k], b32[k] = (float)b64[k];
    }

    /* The single-threaded results, on one context. */
    vicreg_ctx *ctx = ctx_new_or_fail();
    size_t k = 0;
    for (size_t sh = 0; sh < N_SHAPES; sh++)
        for (int f64 = 0; f64 < 2; f64++)
            for (int variant = 0; variant < 2; variant++, k++) {
                struct tcase *c = &cases[k];
                c->n = shapes[sh][0], c->d = shapes[sh][1], c->ld = shapes[sh][2];
                c->f64 = f64;
                /* Variant 0: automatic path, reference convention;
                 * variant 1: the other path, paper convention. */
                c->path = variant == 0 ? VICREG_PATH_AUTO
                                       : (c->n < c->d ? VICREG_PATH_COVARIANCE
                                                      : VICREG_PATH_GRAM);
                c->paper = variant;
                c->za = f64 ? (const void *)a64 : (const void *)a32;
                c->zb = f64 ? (const void *)b64 : (const void *)b32;
                c->bytes = c->n * c->ld * (f64 ? sizeof(double) : sizeof(float));
                c->ga = calloc(1, c->bytes);
                c->gb = calloc(1, c->bytes);
                if (!c->ga || !c->gb)
                    FAIL("out of memory");
                int st = run(ctx, c, &c->loss, c->ga, c->gb);
                if (st != VICREG_OK)
                    FAIL("single-threaded case %zu: %s", k, vicreg_strerror(st));
            }
    vicreg_ctx_destroy(ctx);

    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){ .id = t };
        if (pthread_create(&threads[t], NULL, work, &workers[t]) != 0)
            FAIL("pthread_create");
    }
    long calls = 0;
    int failed = 0;
    for (int t = 0; t < THREADS; t++) {
        if (pthread_join(threads[t], NULL) != 0)
            FAIL("pthread_join");
        calls += workers[t].calls;
        if (workers[t].error) {
            const struct tcase *c = &cases[workers[t].bad_case];
            fprintf(stderr, "thread %d: %s (n %zu d %zu f%d path %d paper %d)\n", t,
                    workers[t].error, c->n, c->d, c->f64 ? 64 : 32, c->path, c->paper);
            failed = 1;
        }
    }
    for (size_t c = 0; c < N_CASES; c++)
        free(cases[c].ga), free(cases[c].gb);
    free(a64), free(b64), free(a32), free(b32);
    if (failed)
        return EXIT_FAILURE;
    printf("threads-stress: %d threads, %zu cases, %ld calls, all bitwise equal to the "
           "single-threaded results\n",
           THREADS, (size_t)N_CASES, calls);
    return EXIT_SUCCESS;
}
