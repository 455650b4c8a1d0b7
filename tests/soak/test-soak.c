/*
 * test-soak.c - 100,000 loss calls on one context over shapes that grow,
 * shrink and alternate, in both precisions and on both paths, with failing
 * calls (bad shape, NULL, NaN, overlap, overflow, bad parameter) in
 * between, and a second context created and destroyed every few hundred
 * calls. It checks that
 *
 *   - resident memory (VmRSS in /proc/self/status) does not grow once the
 *     largest shape has been seen: after one warm-up cycle over every
 *     shape and precision, RSS may never exceed that baseline by more than
 *     SLACK_KIB (a fixed 256 KiB, for the C library's and the kernel's own
 *     page-level noise; the scratch of the largest shape alone is about
 *     100 KiB, so a leak of one scratch per thousand calls would exceed it
 *     many times over), and the last reading is no larger than the reading
 *     after the first 10,000 calls plus the same slack;
 *   - every successful call returns, bit for bit, the loss and gradients
 *     that the first call of that shape and precision returned;
 *   - every failing call returns its status and writes nothing.
 *
 * Exit status 0 on success; prints the RSS figures. No Check: the soak is
 * one long loop, and forking would hide the RSS of the loop.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM "test-soak"
#include "../standalone.h"

#define CALLS 100000
#define SLACK_KIB 256

/* Under AddressSanitizer the RSS figures are printed but not asserted: its
 * quarantine keeps freed blocks (the contexts created and destroyed here)
 * resident by design, and LeakSanitizer checks for leaks in that build. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_ASSERTED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_ASSERTED 0
#endif
#endif
#ifndef RSS_ASSERTED
#define RSS_ASSERTED 1
#endif
#define MAX_ELEMS (64 * 64)


static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        FAIL("cannot open /proc/self/status");
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    if (kib < 0)
        FAIL("no VmRSS in /proc/self/status");
    return kib;
}

/* The shapes, visited in this order and then backwards: growing to the
 * largest (64 x 48 on the covariance path, 12 x 64 on the Gram path) and
 * shrinking back. Padding (ld > d) on some. */
static const struct shape {
    size_t n, d, ld;
    int path;
} shapes[] = {
    { 2, 1, 1, VICREG_PATH_AUTO },        { 4, 3, 5, VICREG_PATH_AUTO },
    { 8, 8, 8, VICREG_PATH_AUTO },        { 5, 20, 21, VICREG_PATH_AUTO },
    { 16, 12, 16, VICREG_PATH_COVARIANCE }, { 24, 16, 16, VICREG_PATH_GRAM },
    { 32, 24, 24, VICREG_PATH_AUTO },     { 12, 64, 64, VICREG_PATH_AUTO },
    { 64, 48, 50, VICREG_PATH_AUTO },
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

/* Inputs shared by every shape (each reads its n x ld prefix). */
static double za64[MAX_ELEMS], zb64[MAX_ELEMS];
static float za32[MAX_ELEMS], zb32[MAX_ELEMS];
static double ga64[MAX_ELEMS], gb64[MAX_ELEMS];
static float ga32[MAX_ELEMS], gb32[MAX_ELEMS];
static double bad64[MAX_ELEMS]; /* za64 with a NaN in it */
static double huge64[MAX_ELEMS]; /* finite, overflows the bound */

/* The first result of each (shape, precision). */
struct result {
    int have;
    double loss;
    unsigned char *ga, *gb; /* n x ld bytes as written */
};
static struct result results[N_SHAPES][2];

static uint64_t rng = 0x1234567887654321ull;
static double uniform(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

static void make_inputs(void)
{
    for (size_t k = 0; k < MAX_ELEMS; k++) {
        za64[k] = (float)(1.5 * uniform());
        zb64[k] = (float)(za64[k] + 0.2 * uniform());
        za32[k] = (float)za64[k];
        zb32[k] = (float)zb64[k];
        bad64[k] = za64[k];
        huge64[k] = za64[k] * 1e300;
    }
    bad64[MAX_ELEMS / 3] = NAN;
}

/* One successful call of shape s in precision f64, checked against the
 * first result of that shape. */
static void good_call(vicreg_ctx *ctx, size_t s, int f64)
{
    const struct shape *sh = &shapes[s];
    if (vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, sh->path) != VICREG_OK)
        FAIL("set path");
    const size_t bytes = sh->n * sh->ld * (f64 ? sizeof(double) : sizeof(float));
    double loss;
    int st;
    void *ga = f64 ? (void *)ga64 : (void *)ga32, *gb = f64 ? (void *)gb64 : (void *)gb32;
    memset(ga, 0, bytes);
    memset(gb, 0, bytes);
    if (f64)
        st = vicreg_loss_f64(ctx, sh->n, sh->d, za64, sh->ld, zb64, sh->ld, &loss, ga64,
                             sh->ld, gb64, sh->ld);
    else
        st = vicreg_loss_f32(ctx, sh->n, sh->d, za32, sh->ld, zb32, sh->ld, &loss, ga32,
                             sh->ld, gb32, sh->ld);
    if (st != VICREG_OK)
        FAIL("shape %zu x %zu f%d: %s", sh->n, sh->d, f64 ? 64 : 32, vicreg_strerror(st));
    struct result *r = &results[s][f64];
    if (!r->have) {
        r->have = 1;
        r->loss = loss;
        r->ga = malloc(bytes);
        r->gb = malloc(bytes);
        if (!r->ga || !r->gb)
            FAIL("out of memory");
        memcpy(r->ga, ga, bytes);
        memcpy(r->gb, gb, bytes);
        return;
    }
    if (memcmp(&loss, &r->loss, sizeof loss) || memcmp(ga, r->ga, bytes) ||
        memcmp(gb, r->gb, bytes))
        FAIL("shape %zu x %zu f%d: result differs from the first call (loss %a vs %a)",
             sh->n, sh->d, f64 ? 64 : 32, loss, r->loss);
}

/* One failing call, of kind k; nothing may be written. */
static void bad_call(vicreg_ctx *ctx, int k)
{
    double loss = 42.0;
    float ga[64 * 64];
    memset(ga, 0x7b, sizeof ga);
    /* Kinds 0 to 4: a loss call, n x d with every leading dimension d,
     * grad_a (leading dimension d) or none, no grad_b; kind 5: a parameter
     * out of range. */
    const struct {
        int want, f64;
        size_t n, d;
        const void *za, *zb;
        void *ga;
    } calls[5] = {
        { VICREG_ERR_BAD_SHAPE, 0, 1, 4, za32, zb32, ga },
        { VICREG_ERR_INVALID_ARGUMENT, 0, 8, 4, NULL, zb32, ga },
        { VICREG_ERR_NON_FINITE, 1, 64, 48, bad64, zb64, NULL },
        { VICREG_ERR_OVERLAP, 0, 8, 4, za32, zb32, za32 + 4 },
        { VICREG_ERR_OVERFLOW, 1, 32, 24, huge64, zb64, NULL },
    };
    int st, want;
    if (k % 6 < 5) {
        const size_t n = calls[k % 6].n, d = calls[k % 6].d, ldga = calls[k % 6].ga ? d : 0;
        const void *za = calls[k % 6].za, *zb = calls[k % 6].zb;
        want = calls[k % 6].want;
        if (calls[k % 6].f64)
            st = vicreg_loss_f64(ctx, n, d, za, d, zb, d, &loss, calls[k % 6].ga, ldga, NULL, 0);
        else
            st = vicreg_loss_f32(ctx, n, d, za, d, zb, d, &loss, calls[k % 6].ga, ldga, NULL, 0);
    } else {
        want = VICREG_ERR_OUT_OF_RANGE;
        st = vicreg_ctx_set_param(ctx, VICREG_PARAM_EPSILON, -1.0);
    }
    if (st != want)
        FAIL("bad call %d: status %d, expected %d", k % 6, st, want);
    const unsigned char *g = (const unsigned char *)ga;
    for (size_t b = 0; b < sizeof ga; b++)
        if (g[b] != 0x7b)
            FAIL("bad call %d wrote its gradient", k % 6);
    if (loss != 42.0)
        FAIL("bad call %d wrote its loss", k % 6);
}

int main(void)
{
    make_inputs();
    const long rss_start = rss_kib();
    vicreg_ctx *ctx = ctx_new_or_fail();

    /* Warm-up: every shape, both precisions, every error, up to the
     * largest and back; the largest shape is seen at call N_SHAPES. */
    long rss_after_largest = 0;
    for (size_t s = 0; s < N_SHAPES; s++)
        for (int f64 = 0; f64 < 2; f64++)
            good_call(ctx, s, f64);
    rss_after_largest = rss_kib();
    for (int k = 0; k < 6; k++)
        bad_call(ctx, k);
    for (size_t s = N_SHAPES; s-- > 0;)
        for (int f64 = 0; f64 < 2; f64++)
            good_call(ctx, s, f64);
    {
        vicreg_ctx *other = ctx_new_or_fail();
        good_call(other, N_SHAPES - 1, 1);
        vicreg_ctx_destroy(other);
    }
    const long baseline = rss_kib();
    long rss_max = baseline, rss_10k = 0;

    /* The soak: a pattern of 2 * N_SHAPES - 1 shapes (grow, shrink),
     * precision alternating call by call, an error every 7th call, a fresh
     * context every 500th. */
    long calls = 0, errors = 0, fresh = 0;
    size_t pos = 0;
    for (long i = 0; i < CALLS; i++) {
        if (i % 7 == 3) {
            bad_call(ctx, (int)(i / 7));
            errors++;
        } else if (i % 500 == 250) {
            vicreg_ctx *other = ctx_new_or_fail();
            good_call(other, (size_t)(i / 500) % N_SHAPES, (int)(i & 1));
            vicreg_ctx_destroy(other);
            fresh++;
        } else {
            size_t s = pos < N_SHAPES ? pos : 2 * N_SHAPES - 2 - pos;
            pos = (pos + 1) % (2 * N_SHAPES - 2);
            good_call(ctx, s, (int)(i & 1));
        }
        calls++;
        if (i % 1000 == 999) {
            long rss = rss_kib();
            if (rss > rss_max)
                rss_max = rss;
            if (RSS_ASSERTED && rss > baseline + SLACK_KIB)
                FAIL("after %ld calls VmRSS is %ld KiB, baseline %ld KiB (+%d allowed)",
                     i + 1, rss, baseline, SLACK_KIB);
            if (i + 1 == 10000)
                rss_10k = rss;
        }
    }
    const long rss_end = rss_kib();
    vicreg_ctx_destroy(ctx);
    for (size_t s = 0; s < N_SHAPES; s++)
        for (int f = 0; f < 2; f++)
            free(results[s][f].ga), free(results[s][f].gb);

    printf("soak: %ld calls (%ld failing by design, %ld on fresh contexts), %zu shapes, "
           "both precisions\n",
           calls, errors, fresh, N_SHAPES);
    printf("soak: VmRSS KiB: start %ld, after the largest shape %ld, baseline after warm-up "
           "%ld, after 10k calls %ld, max %ld, end %ld (slack allowed %d)\n",
           rss_start, rss_after_largest, baseline, rss_10k, rss_max, rss_end, SLACK_KIB);
    if (!RSS_ASSERTED) {
        printf("soak: results bitwise identical for identical inputs; RSS not asserted "
               "under AddressSanitizer\n");
        return EXIT_SUCCESS;
    }
    if (rss_end > rss_10k + SLACK_KIB)
        FAIL("VmRSS grew from %ld KiB at 10k calls to %ld KiB at the end", rss_10k, rss_end);
    printf("soak: results bitwise identical for identical inputs; RSS flat\n");
    return EXIT_SUCCESS;
}
