/*
 * correlated_batches.c - a first tour of libvicreg.
 *
 * The program builds two batches of "projector outputs" Za and Zb (n rows,
 * d columns) that look like the two augmented views of one batch of inputs,
 * with the defects VICReg is designed to fix:
 *
 *   - a quarter of the columns have almost no spread (collapsed features),
 *     so the variance term is non-zero;
 *   - half of the columns are driven by a few shared factors, so they are
 *     strongly correlated with each other and the covariance term is large;
 *   - the two views differ by a little noise, so the invariance term is
 *     non-zero.
 *
 * It prints every term of the loss and the collapse diagnostics, then runs
 * plain gradient descent on the embeddings themselves,
 *
 *   Za -= lr * dL/dZa,   Zb -= lr * dL/dZb,
 *
 * as a stand-in for training an encoder, and shows the loss falling and the
 * collapsed columns recovering. It exits with status 0 only if the loss fell.
 *
 * Usage: correlated-batches [--n N] [--d D] [--steps S] [--seed X] [--f32]
 *
 * Only the public header is used; build with -lvicreg (and -lm for the
 * random number generator below).
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

/* ------------------------------------------------------------------------
 * Error handling: every libvicreg call returns VICREG_OK (0) or a negative
 * status, and vicreg_strerror() turns a status into a message. This example
 * simply gives up on the first error.
 * ------------------------------------------------------------------------ */
static void check(int status, const char *what)
{
    if (status != VICREG_OK) {
        fprintf(stderr, "correlated-batches: %s failed: %s (%s)\n", what,
                vicreg_strerror(status), vicreg_status_name(status));
        exit(EXIT_FAILURE);
    }
}

static void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count, size);
    if (!p) {
        fprintf(stderr, "correlated-batches: out of memory\n");
        exit(EXIT_FAILURE);
    }
    return p;
}

/* ------------------------------------------------------------------------
 * A small deterministic random number generator (splitmix64 plus the
 * Box-Muller transform), so that the output is the same on every machine
 * for a given --seed.
 * ------------------------------------------------------------------------ */
struct rng {
    uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in the open interval (0, 1). */
static double rng_uniform(struct rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Standard normal. */
static double rng_normal(struct rng *r)
{
    const double two_pi = 6.283185307179586;
    return sqrt(-2.0 * log(rng_uniform(r))) * cos(two_pi * rng_uniform(r));
}

/* ------------------------------------------------------------------------
 * The two views. Column j has one of three kinds, in blocks:
 *
 *   first quarter   collapsed:   spread 0.05, far below the target gamma = 1
 *   middle half     correlated:  1.2 * (a shared factor) + independent noise;
 *                                there are d/8 factors (at least 1), each
 *                                driving about 4 columns, so each of those
 *                                columns has a correlation of about 0.6 with
 *                                its neighbours in the group
 *   last quarter    healthy:     independent, spread 1.2
 *
 * A shared sample s_ij is drawn once; each view adds its own noise, scaled
 * with the column so that collapsed columns stay collapsed:
 *
 *   Za_ij = s_ij + 0.2 * spread_j * noise,   Zb_ij = s_ij + 0.2 * spread_j * noise'
 *
 * The batches are made in double and converted for --f32.
 * ------------------------------------------------------------------------ */
enum { COLLAPSED, CORRELATED, HEALTHY };

static int column_kind(size_t j, size_t d)
{
    size_t quarter = 4 * j / d; /* 0, 1, 2 or 3 */
    return quarter == 0 ? COLLAPSED : quarter == 3 ? HEALTHY : CORRELATED;
}

static void make_views(size_t n, size_t d, uint64_t seed, double *za, double *zb)
{
    struct rng r = { seed };
    size_t n_factors = d >= 8 ? d / 8 : 1;
    double *factor = xcalloc(n_factors, sizeof *factor);
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < n_factors; f++)
            factor[f] = rng_normal(&r);
        for (size_t j = 0; j < d; j++) {
            double shared, spread;
            switch (column_kind(j, d)) {
            case COLLAPSED:
                spread = 0.05;
                shared = spread * rng_normal(&r);
                break;
            case CORRELATED:
                spread = 1.2;
                shared = spread * factor[j % n_factors] + 1.0 * rng_normal(&r);
                break;
            default: /* HEALTHY */
                spread = 1.2;
                shared = spread * rng_normal(&r);
                break;
            }
            za[i * d + j] = shared + 0.2 * spread * rng_normal(&r);
            zb[i * d + j] = shared + 0.2 * spread * rng_normal(&r);
        }
    }
    free(factor);
}

/* ------------------------------------------------------------------------
 * The batches and gradients in the precision the user asked for. Arrays are
 * row-major and packed, so every leading dimension is d.
 * ------------------------------------------------------------------------ */
struct problem {
    size_t n, d;
    int f32;                        /* 1: float arrays, 0: double arrays */
    double *za64, *zb64, *ga64, *gb64;
    float *za32, *zb32, *ga32, *gb32;
};

static void problem_init(struct problem *p, size_t n, size_t d, int f32, uint64_t seed)
{
    size_t count = n * d;
    memset(p, 0, sizeof *p);
    p->n = n;
    p->d = d;
    p->f32 = f32;

    double *za = xcalloc(count, sizeof *za), *zb = xcalloc(count, sizeof *zb);
    make_views(n, d, seed, za, zb);
    if (!f32) {
        p->za64 = za;
        p->zb64 = zb;
        p->ga64 = xcalloc(count, sizeof *p->ga64);
        p->gb64 = xcalloc(count, sizeof *p->gb64);
        return;
    }
    p->za32 = xcalloc(count, sizeof *p->za32);
    p->zb32 = xcalloc(count, sizeof *p->zb32);
    p->ga32 = xcalloc(count, sizeof *p->ga32);
    p->gb32 = xcalloc(count, sizeof *p->gb32);
    for (size_t k = 0; k < count; k++) {
        p->za32[k] = (float)za[k];
        p->zb32[k] = (float)zb[k];
    }
    free(za);
    free(zb);
}

static void problem_free(struct problem *p)
{
    free(p->za64), free(p->zb64), free(p->ga64), free(p->gb64);
    free(p->za32), free(p->zb32), free(p->ga32), free(p->gb32);
}

/* One call computes the loss and both gradients; the individual terms and
 * the diagnostics are then read back from the context. */
static double loss_and_gradients(vicreg_ctx *ctx, struct problem *p)
{
    size_t n = p->n, d = p->d;
    double loss = 0.0;
    if (p->f32)
        check(vicreg_loss_f32(ctx, n, d, p->za32, d, p->zb32, d, &loss,
                              p->ga32, d, p->gb32, d),
              "vicreg_loss_f32");
    else
        check(vicreg_loss_f64(ctx, n, d, p->za64, d, p->zb64, d, &loss,
                              p->ga64, d, p->gb64, d),
              "vicreg_loss_f64");
    return loss;
}

/* One plain gradient-descent step on the embeddings. */
static void descend(struct problem *p, double lr)
{
    size_t count = p->n * p->d;
    if (p->f32) {
        float step = (float)lr;
        for (size_t k = 0; k < count; k++) {
            p->za32[k] -= step * p->ga32[k];
            p->zb32[k] -= step * p->gb32[k];
        }
    } else {
        for (size_t k = 0; k < count; k++) {
            p->za64[k] -= lr * p->ga64[k];
            p->zb64[k] -= lr * p->gb64[k];
        }
    }
}

static double term(const vicreg_ctx *ctx, int which)
{
    double value = 0.0;
    check(vicreg_ctx_get_term(ctx, which, &value), "vicreg_ctx_get_term");
    return value;
}

static double param(const vicreg_ctx *ctx, int which)
{
    double value = 0.0;
    check(vicreg_ctx_get_param(ctx, which, &value), "vicreg_ctx_get_param");
    return value;
}

/* ------------------------------------------------------------------------
 * Printing
 * ------------------------------------------------------------------------ */

/* Every term of the last loss call, one per line, branches side by side. */
static void print_terms(const vicreg_ctx *ctx)
{
    /* Enumerated values come back as doubles holding a small integer. */
    int path_used = (int)term(ctx, VICREG_TERM_PATH_USED);
    const char *path = path_used == VICREG_PATH_GRAM ? "Gram matrix (n x n)"
                                                      : "covariance matrix (d x d)";

    printf("  %-22s %14s %14s\n", "", "branch A", "branch B");
    printf("  %-22s %14.6f\n", "loss L", term(ctx, VICREG_TERM_LOSS));
    printf("  %-22s %14.6f\n", "invariance s", term(ctx, VICREG_TERM_INVARIANCE));
    printf("  %-22s %14.6f %14.6f\n", "variance v",
           term(ctx, VICREG_TERM_VARIANCE_A), term(ctx, VICREG_TERM_VARIANCE_B));
    printf("  %-22s %14.6f %14.6f\n", "covariance c",
           term(ctx, VICREG_TERM_COVARIANCE_A), term(ctx, VICREG_TERM_COVARIANCE_B));
    printf("  %-22s %14.6f %14.6f\n", "mean std",
           term(ctx, VICREG_TERM_MEAN_STD_A), term(ctx, VICREG_TERM_MEAN_STD_B));
    printf("  %-22s %14.6f %14.6f\n", "min std",
           term(ctx, VICREG_TERM_MIN_STD_A), term(ctx, VICREG_TERM_MIN_STD_B));
    printf("  %-22s %14.6f %14.6f\n", "collapsed fraction",
           term(ctx, VICREG_TERM_COLLAPSED_FRACTION_A),
           term(ctx, VICREG_TERM_COLLAPSED_FRACTION_B));
    printf("  %-22s %14.3f %14.3f\n", "effective rank",
           term(ctx, VICREG_TERM_EFFECTIVE_RANK_A), term(ctx, VICREG_TERM_EFFECTIVE_RANK_B));
    printf("  %-22s %29s\n", "path used", path);
}

static void print_step_header(void)
{
    printf("  %5s %12s %11s %9s %9s %10s %10s %8s %8s\n", "step", "loss", "invariance",
           "var A", "var B", "cov A", "cov B", "coll. A", "coll. B");
}

static void print_step(const vicreg_ctx *ctx, unsigned long step)
{
    printf("  %5lu %12.6f %11.6f %9.6f %9.6f %10.6f %10.6f %8.3f %8.3f\n", step,
           term(ctx, VICREG_TERM_LOSS), term(ctx, VICREG_TERM_INVARIANCE),
           term(ctx, VICREG_TERM_VARIANCE_A), term(ctx, VICREG_TERM_VARIANCE_B),
           term(ctx, VICREG_TERM_COVARIANCE_A), term(ctx, VICREG_TERM_COVARIANCE_B),
           term(ctx, VICREG_TERM_COLLAPSED_FRACTION_A),
           term(ctx, VICREG_TERM_COLLAPSED_FRACTION_B));
}

/* ------------------------------------------------------------------------
 * Command line
 * ------------------------------------------------------------------------ */
struct options {
    unsigned long n, d, steps;
    unsigned long long seed;
    int f32;
};

static void usage(FILE *to)
{
    fprintf(to,
            "usage: correlated-batches [--n N] [--d D] [--steps S] [--seed X] [--f32]\n"
            "  --n N      rows (samples) per batch, at least 2   (default 256)\n"
            "  --d D      columns (features), at least 1         (default 64)\n"
            "  --steps S  gradient-descent steps                 (default 50)\n"
            "  --seed X   seed of the random batches             (default 1)\n"
            "  --f32      single precision (vicreg_loss_f32) instead of double\n");
}

/* Parses a whole decimal number in [min, max]; exits with usage on error. */
static unsigned long long parse_number(const char *flag, const char *text,
                                       unsigned long long min, unsigned long long max)
{
    char *end = NULL;
    errno = 0;
    unsigned long long value = text ? strtoull(text, &end, 10) : 0;
    if (!text || *text < '0' || *text > '9' || *end != '\0' || errno != 0 ||
        value < min || value > max) {
        fprintf(stderr, "correlated-batches: %s needs a number in [%llu, %llu]\n", flag,
                min, max);
        usage(stderr);
        exit(2);
    }
    return value;
}

static struct options parse_options(int argc, char **argv)
{
    struct options o = { 256, 64, 50, 1, 0 };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--n") == 0) {
            o.n = (unsigned long)parse_number(arg, next, 2, 1000000), i++;
        } else if (strcmp(arg, "--d") == 0) {
            o.d = (unsigned long)parse_number(arg, next, 1, 100000), i++;
        } else if (strcmp(arg, "--steps") == 0) {
            o.steps = (unsigned long)parse_number(arg, next, 1, 1000000), i++;
        } else if (strcmp(arg, "--seed") == 0) {
            o.seed = parse_number(arg, next, 0, UINT64_MAX), i++;
        } else if (strcmp(arg, "--f32") == 0) {
            o.f32 = 1;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(EXIT_SUCCESS);
        } else {
            fprintf(stderr, "correlated-batches: unknown argument '%s'\n", arg);
            usage(stderr);
            exit(2);
        }
    }
    if ((size_t)o.n > SIZE_MAX / (size_t)o.d / sizeof(double)) {
        fprintf(stderr, "correlated-batches: n * d is too large\n");
        exit(2);
    }
    return o;
}

/* ------------------------------------------------------------------------ */
int main(int argc, char **argv)
{
    struct options opt = parse_options(argc, argv);
    size_t n = opt.n, d = opt.d;

    /* The header and the shared library should agree on the major version. */
    if (vicreg_version_number() / 10000 != VICREG_VERSION_MAJOR) {
        fprintf(stderr, "correlated-batches: built against libvicreg %d.x, running %s\n",
                VICREG_VERSION_MAJOR, vicreg_version_string());
        return EXIT_FAILURE;
    }

    /* A context holds the parameters (the published defaults: lambda = 25,
     * mu = 25, nu = 1, gamma = 1, eps = 1e-4, reference convention) and the
     * scratch memory, which is allocated on the first call and then reused.
     * Use vicreg_ctx_set_param() to change a parameter. */
    vicreg_ctx *ctx = NULL;
    check(vicreg_ctx_create(&ctx), "vicreg_ctx_create");
    check(vicreg_ctx_reserve(ctx, n, d, opt.f32 ? VICREG_PRECISION_F32 : VICREG_PRECISION_F64),
          "vicreg_ctx_reserve");

    struct problem p;
    problem_init(&p, n, d, opt.f32, (uint64_t)opt.seed);

    printf("libvicreg %s: two correlated batches, n = %zu, d = %zu, %s, seed %llu\n",
           vicreg_version_string(), n, d, opt.f32 ? "float32" : "float64", opt.seed);
    printf("parameters: lambda = %g, mu = %g, nu = %g, gamma = %g, eps = %g, %s convention\n\n",
           param(ctx, VICREG_PARAM_INVARIANCE_COEFF), param(ctx, VICREG_PARAM_VARIANCE_COEFF),
           param(ctx, VICREG_PARAM_COVARIANCE_COEFF), param(ctx, VICREG_PARAM_STD_TARGET),
           param(ctx, VICREG_PARAM_EPSILON),
           (int)param(ctx, VICREG_PARAM_CONVENTION) == VICREG_CONVENTION_PAPER ? "paper"
                                                                                : "reference");

    double start = loss_and_gradients(ctx, &p);
    printf("Initial batches:\n");
    print_terms(ctx);

    /* The gradients carry the loss's normalisation by n and d (the
     * invariance gradient is 2 lambda (Za - Zb) / (n d) in the reference
     * convention, and here, with every column correlated with only a few
     * others, the variance and covariance gradients scale the same way), so
     * the step size is scaled by n d to move each entry by about the same
     * amount whatever the shape. The invariance term alone would be stable up
     * to lr = n d / (2 lambda); this step halves Za - Zb on every step. In
     * the paper convention the invariance gradient is d times larger: divide
     * lr by d there. */
    double lr = 0.005 * (double)n * (double)d;
    unsigned long every = opt.steps >= 10 ? opt.steps / 10 : 1;

    printf("\nGradient descent on the embeddings, lr = %g, %lu steps:\n", lr, opt.steps);
    print_step_header();
    print_step(ctx, 0);
    double end = start;
    for (unsigned long step = 1; step <= opt.steps; step++) {
        descend(&p, lr);                    /* uses the gradients of the last call */
        end = loss_and_gradients(ctx, &p);  /* loss and gradients at the new point */
        if (step % every == 0 || step == opt.steps)
            print_step(ctx, step);
    }

    printf("\nAfter %lu steps:\n", opt.steps);
    print_terms(ctx);

    int fell = end < start;
    printf("\nloss %s from %.6f to %.6f (%+.1f%%)\n", fell ? "fell" : "did NOT fall", start,
           end, 100.0 * (end - start) / start);

    problem_free(&p);
    vicreg_ctx_destroy(ctx);
    return fell ? EXIT_SUCCESS : EXIT_FAILURE;
}
