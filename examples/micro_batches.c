/*
 * micro_batches.c - exact large-batch VICReg on one machine.
 *
 * VICReg's variance and covariance terms couple every row of a batch, so a
 * batch that does not fit in memory at once cannot be trained as the sum of
 * the losses of its parts: that would be a different, small-batch loss. The
 * sharded calls of libvicreg (since 1.1.0) give the loss and the gradient of
 * the WHOLE batch while only one micro-batch is in memory at a time:
 *
 *   pass 1  for each micro-batch: vicreg_shard_sums_*()      (accumulate)
 *   pass 2  for each micro-batch: vicreg_shard_scatter_*()   (accumulate)
 *   pass 3  for each micro-batch: vicreg_shard_finish_*() -> its gradient
 *           rows dL/dZ, which a trainer back-propagates through the
 *           encoder for that micro-batch and ADDS to the parameter
 *           gradients (VICREG_PARAM_GRAD_SCALE stays 1: the parts sum).
 *
 * The statistics buffers are a few arrays of d doubles and d (d + 1)
 * doubles, whatever the batch size. In a trainer each pass recomputes the
 * micro-batch's embeddings (passes 1 and 2 without keeping activations), or
 * keeps only the N x d embeddings, which are small next to the encoder's
 * activations. Here a deterministic generator stands in for the encoder:
 * embed() produces the rows of micro-batch k on demand, so the program
 * never holds more than one micro-batch of embeddings during the passes.
 *
 * The program prints the loss and its terms, then, when the whole batch
 * fits (--check-limit), makes the single call vicreg_loss_*() on it and
 * prints the difference of the loss and of the gradient rows. It exits with
 * status 1 if they disagree by more than rounding (1e-12 relative in
 * float64, 1e-5 in float32).
 *
 * Usage: micro-batches [--n N] [--d D] [--micro M] [--f32] [--seed X]
 *                      [--check-limit ROWS]
 *
 * Only the public header is used; build with -lvicreg -lm.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vicreg.h>

static void check(int status, const char *what)
{
    if (status != VICREG_OK) {
        fprintf(stderr, "micro-batches: %s failed: %s (%s)\n", what, vicreg_strerror(status),
                vicreg_status_name(status));
        exit(EXIT_FAILURE);
    }
}

static void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count, size);
    if (!p) {
        fprintf(stderr, "micro-batches: out of memory\n");
        exit(EXIT_FAILURE);
    }
    return p;
}

/* ------------------------------------------------------------------------
 * The stand-in encoder: row i of the global batch, both views, computed
 * from i alone (a hash of the seed and the row), so that any micro-batch
 * can be produced again in any pass.
 * ------------------------------------------------------------------------ */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1) from (seed, row, column, stream). */
static double noise(uint64_t seed, size_t i, size_t j, unsigned stream)
{
    uint64_t h = mix((uint64_t)j * 4 + stream);
    h = mix(seed ^ mix((uint64_t)i * 0x9E3779B97F4A7C15ull ^ h));
    return (double)(h >> 11) * 0x1.0p-52 - 1.0;
}

/* Rows first .. first + rows - 1 of both views (packed, d columns). A few
 * shared factors correlate the columns, some columns have little spread,
 * and the second view is the first plus noise: the defects VICReg fixes. */
static void embed(uint64_t seed, size_t first, size_t rows, size_t d, double *za, double *zb)
{
    for (size_t r = 0; r < rows; r++) {
        const size_t i = first + r;
        const double f0 = noise(seed, i, 0, 1), f1 = noise(seed, i, 1, 1);
        for (size_t j = 0; j < d; j++) {
            double spread = j % 4 == 0 ? 0.05 : 1.0;
            double x = spread * noise(seed, i, j, 0) + (j % 2 ? 0.8 * f0 : 0.3 * f1);
            za[r * d + j] = x;
            zb[r * d + j] = x + 0.2 * noise(seed, i, j, 2);
        }
    }
}

/* The arrays handed to the library, in the chosen precision. */
struct arrays {
    int f32;
    size_t rows, d;
    double *a64, *b64; /* what embed() writes */
    float *a32, *b32;
    void *za, *zb, *ga, *gb;
};

static void arrays_make(struct arrays *x, int f32, size_t rows, size_t d)
{
    x->f32 = f32;
    x->rows = rows;
    x->d = d;
    x->a64 = xcalloc(rows * d, sizeof(double));
    x->b64 = xcalloc(rows * d, sizeof(double));
    size_t elem = f32 ? sizeof(float) : sizeof(double);
    x->ga = xcalloc(rows * d, elem);
    x->gb = xcalloc(rows * d, elem);
    if (f32) {
        x->a32 = xcalloc(rows * d, sizeof(float));
        x->b32 = xcalloc(rows * d, sizeof(float));
        x->za = x->a32;
        x->zb = x->b32;
    } else {
        x->a32 = x->b32 = NULL;
        x->za = x->a64;
        x->zb = x->b64;
    }
}

static void arrays_fill(struct arrays *x, uint64_t seed, size_t first, size_t rows)
{
    embed(seed, first, rows, x->d, x->a64, x->b64);
    if (x->f32)
        for (size_t i = 0; i < rows * x->d; i++) {
            x->a32[i] = (float)x->a64[i];
            x->b32[i] = (float)x->b64[i];
        }
}

static double grad_at(const struct arrays *x, const void *g, size_t i)
{
    return x->f32 ? (double)((const float *)g)[i] : ((const double *)g)[i];
}

static void arrays_free(struct arrays *x)
{
    free(x->a64);
    free(x->b64);
    free(x->a32);
    free(x->b32);
    free(x->ga);
    free(x->gb);
}

static const char *term_names[] = { "loss", "invariance", "variance A", "variance B",
                                    "covariance A", "covariance B" };

int main(int argc, char **argv)
{
    size_t n = 2000, d = 64, micro = 256, check_limit = 100000;
    uint64_t seed = 7;
    int f32 = 0;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "--f32")) {
            f32 = 1;
            continue;
        }
        if (a + 1 >= argc) {
            fprintf(stderr, "usage: micro-batches [--n N] [--d D] [--micro M] [--f32] "
                            "[--seed X] [--check-limit ROWS]\n");
            return 2;
        }
        errno = 0;
        unsigned long long v = strtoull(argv[++a], NULL, 10);
        if (errno || v == 0) {
            fprintf(stderr, "micro-batches: bad value for %s\n", arg);
            return 2;
        }
        if (!strcmp(arg, "--n"))
            n = (size_t)v;
        else if (!strcmp(arg, "--d"))
            d = (size_t)v;
        else if (!strcmp(arg, "--micro"))
            micro = (size_t)v;
        else if (!strcmp(arg, "--seed"))
            seed = v;
        else if (!strcmp(arg, "--check-limit"))
            check_limit = (size_t)v;
        else {
            fprintf(stderr, "micro-batches: unknown option %s\n", arg);
            return 2;
        }
    }
    if (micro > n)
        micro = n;
    const size_t parts = (n + micro - 1) / micro;
    const int precision = f32 ? VICREG_PRECISION_F32 : VICREG_PRECISION_F64;

    vicreg_ctx *ctx = NULL;
    check(vicreg_ctx_create(&ctx), "vicreg_ctx_create");
    size_t whole_bytes = 0, micro_bytes = 0, sums_len, scatter_len;
    check(vicreg_ctx_scratch_bytes(ctx, n, d, precision, &whole_bytes), "scratch query");
    /* A sharded call needs the scratch of a loss call of the micro-batch's
     * shape on the covariance path (vicreg.h). */
    check(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, VICREG_PATH_COVARIANCE), "set path");
    check(vicreg_ctx_scratch_bytes(ctx, micro < 2 ? 2 : micro, d, precision, &micro_bytes),
          "scratch query");
    check(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, VICREG_PATH_AUTO), "set path");
    check(vicreg_shard_sizes(d, &sums_len, &scatter_len), "vicreg_shard_sizes");
    printf("global batch %zu x %zu (%s) as %zu micro-batches of up to %zu rows\n", n, d,
           f32 ? "float32" : "float64", parts, micro);
    printf("scratch: one call on the whole batch %.2f MiB, a micro-batch's calls %.2f MiB; "
           "statistics %zu doubles\n",
           whole_bytes / 1048576.0, micro_bytes / 1048576.0, sums_len + scatter_len);

    /* The statistics buffers: zeroed, then accumulated over micro-batches. */
    double *sums = xcalloc(sums_len, sizeof(double));
    double *scatter = xcalloc(scatter_len, sizeof(double));
    struct arrays mb;
    arrays_make(&mb, f32, micro, d);

    /* Pass 1: row counts, invariance sums, column sums. */
    for (size_t k = 0; k < parts; k++) {
        size_t first = k * micro, rows = first + micro <= n ? micro : n - first;
        arrays_fill(&mb, seed, first, rows);
        check(f32 ? vicreg_shard_sums_f32(ctx, rows, d, mb.a32, d, mb.b32, d, sums)
                  : vicreg_shard_sums_f64(ctx, rows, d, mb.a64, d, mb.b64, d, sums),
              "vicreg_shard_sums");
    }
    /* Pass 2: the scatter about the global means, which sums now gives. */
    for (size_t k = 0; k < parts; k++) {
        size_t first = k * micro, rows = first + micro <= n ? micro : n - first;
        arrays_fill(&mb, seed, first, rows);
        check(f32 ? vicreg_shard_scatter_f32(ctx, rows, d, mb.a32, d, mb.b32, d, sums, scatter)
                  : vicreg_shard_scatter_f64(ctx, rows, d, mb.a64, d, mb.b64, d, sums, scatter),
              "vicreg_shard_scatter");
    }

    /* Pass 3: each micro-batch's gradient rows. A trainer back-propagates
     * them here; this program keeps them to compare with the whole-batch
     * call, when that fits. */
    const int compare = n <= check_limit;
    struct arrays whole;
    if (compare)
        arrays_make(&whole, f32, n, d);
    double loss = NAN;
    double grad_norm2 = 0.0;
    for (size_t k = 0; k < parts; k++) {
        size_t first = k * micro, rows = first + micro <= n ? micro : n - first;
        arrays_fill(&mb, seed, first, rows);
        check(f32 ? vicreg_shard_finish_f32(ctx, rows, d, mb.a32, d, mb.b32, d, sums, scatter,
                                            &loss, mb.ga, d, mb.gb, d)
                  : vicreg_shard_finish_f64(ctx, rows, d, mb.a64, d, mb.b64, d, sums, scatter,
                                            &loss, mb.ga, d, mb.gb, d),
              "vicreg_shard_finish");
        for (size_t i = 0; i < rows * d; i++) {
            double ga = grad_at(&mb, mb.ga, i), gb = grad_at(&mb, mb.gb, i);
            grad_norm2 += ga * ga + gb * gb;
            if (compare) {
                /* Kept, in the batch's precision, at the rows' place in
                 * the whole batch's gradient arrays. */
                if (f32) {
                    ((float *)whole.ga)[first * d + i] = (float)ga;
                    ((float *)whole.gb)[first * d + i] = (float)gb;
                } else {
                    ((double *)whole.ga)[first * d + i] = ga;
                    ((double *)whole.gb)[first * d + i] = gb;
                }
            }
        }
    }
    printf("micro-batched: loss %.17g, |dL/dZ| %.6g\n", loss, sqrt(grad_norm2));
    const int terms[6] = { VICREG_TERM_LOSS, VICREG_TERM_INVARIANCE, VICREG_TERM_VARIANCE_A,
                           VICREG_TERM_VARIANCE_B, VICREG_TERM_COVARIANCE_A,
                           VICREG_TERM_COVARIANCE_B };
    double micro_terms[6];
    for (int t = 0; t < 6; t++) {
        check(vicreg_ctx_get_term(ctx, terms[t], &micro_terms[t]), "vicreg_ctx_get_term");
        printf("  %-13s %.10g\n", term_names[t], micro_terms[t]);
    }

    int status = EXIT_SUCCESS;
    if (compare) {
        /* The same batch in one call, with its own gradient buffers. */
        const double tol = f32 ? 1e-5 : 1e-12;
        size_t elem = f32 ? sizeof(float) : sizeof(double);
        void *ga = xcalloc(n * d, elem), *gb = xcalloc(n * d, elem);
        double one_loss = NAN, worst_term = 0.0, gerr = 0.0, gscale = 0.0;
        arrays_fill(&whole, seed, 0, n);
        check(f32 ? vicreg_loss_f32(ctx, n, d, whole.a32, d, whole.b32, d, &one_loss, ga, d, gb,
                                    d)
                  : vicreg_loss_f64(ctx, n, d, whole.a64, d, whole.b64, d, &one_loss, ga, d, gb,
                                    d),
              "vicreg_loss on the whole batch");
        for (int t = 0; t < 6; t++) {
            double v;
            check(vicreg_ctx_get_term(ctx, terms[t], &v), "vicreg_ctx_get_term");
            worst_term = fmax(worst_term, fabs(v - micro_terms[t]) / fmax(fabs(v), 1e-300));
        }
        for (size_t i = 0; i < n * d; i++) {
            double a1 = grad_at(&whole, ga, i), b1 = grad_at(&whole, gb, i);
            gerr = fmax(gerr, fmax(fabs(grad_at(&whole, whole.ga, i) - a1),
                                   fabs(grad_at(&whole, whole.gb, i) - b1)));
            gscale = fmax(gscale, fmax(fabs(a1), fabs(b1)));
        }
        const double lerr = fabs(loss - one_loss) / fabs(one_loss);
        const double grel = gerr / fmax(gscale, 1e-300);
        printf("one call:      loss %.17g\n", one_loss);
        printf("difference:    loss %.3g relative, terms %.3g, gradient rows %.3g "
               "(max abs over max abs)\n",
               lerr, worst_term, grel);
        if (!(lerr <= tol && worst_term <= tol && grel <= tol)) {
            fprintf(stderr, "micro-batches: the micro-batched result differs from one call by "
                            "more than %g\n", tol);
            status = EXIT_FAILURE;
        } else {
            printf("agree within %g\n", tol);
        }
        free(ga);
        free(gb);
        arrays_free(&whole);
    } else {
        printf("(the whole batch is above --check-limit %zu rows: no single call to compare)\n",
               check_limit);
    }
    arrays_free(&mb);
    free(sums);
    free(scatter);
    vicreg_ctx_destroy(ctx);
    return status;
}
