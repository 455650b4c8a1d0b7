/*
 * benchutil.h - what the benchmark programs share: the clock, allocation
 * that touches every page before timing, medians, a deterministic
 * generator and the CPU's name. Each program defines BENCH_NAME (its name
 * in messages) before including it.
 */
#ifndef VICREG_BENCHUTIL_H
#define VICREG_BENCHUTIL_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", BENCH_NAME, what);
    exit(2);
}

static void *xalloc(size_t bytes)
{
    /* aligned_alloc wants a multiple of the alignment. */
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p)
        die("out of memory");
    memset(p, 0, rounded ? rounded : 64); /* touch every page before timing */
    return p;
}

/* A batch shape: n rows of d features. */
struct shape {
    size_t n, d;
};

/* A decimal size_t, the whole of s; 0 when it is not one. */
static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > SIZE_MAX)
        return 0;
    *out = (size_t)v;
    return 1;
}

/* Parses "NxD,NxD,..." (N >= 2, D >= 1) into shapes[0 .. max) and
 * returns the count; exits with a message on anything else. */
static size_t parse_shapes(const char *arg, struct shape *shapes, size_t max)
{
    char *copy = strdup(arg);
    if (!copy)
        die("out of memory");
    size_t count = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *x = strchr(tok, 'x');
        if (!x)
            x = strchr(tok, 'X');
        if (!x || count == max) {
            fprintf(stderr, "%s: bad shape '%s' (want NxD, at most %zu)\n", BENCH_NAME, tok,
                    max);
            exit(2);
        }
        *x = '\0';
        struct shape sh;
        if (!parse_size(tok, &sh.n) || !parse_size(x + 1, &sh.d) || sh.n < 2 || sh.d < 1) {
            fprintf(stderr, "%s: bad shape (want NxD with N >= 2, D >= 1)\n", BENCH_NAME);
            exit(2);
        }
        shapes[count++] = sh;
    }
    free(copy);
    if (count == 0)
        die("no shapes given");
    return count;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..count) (sorts v). */
static double median(double *v, size_t count)
{
    qsort(v, count, sizeof *v, cmp_double);
    if (count % 2)
        return v[count / 2];
    return 0.5 * (v[count / 2 - 1] + v[count / 2]);
}

static double minimum(const double *v, size_t count)
{
    double m = v[0];
    for (size_t i = 1; i < count; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

/* A deterministic generator of its own (splitmix64), so that every run and
 * every machine sees the same batches. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1): never 0, so that log() below is finite. */
static double rng_uniform(void)
{
    return ((double)(rng_next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* A standard normal variate (Box-Muller; one of the pair is dropped). */
static double rng_normal(void)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u = rng_uniform(), v = rng_uniform();
    return sqrt(-2.0 * log(u)) * cos(two_pi * v);
}

/* Two views of count entries each, float32 or float64 (f64): za from
 * N(0, 1) and zb = 0.8 za + 0.6 noise, also of unit variance, from the
 * generator's current state. */
static inline void fill_two_views(int f64, size_t count, void *za, void *zb)
{
    for (size_t i = 0; i < count; i++) {
        double x = rng_normal();
        double y = 0.8 * x + 0.6 * rng_normal();
        if (f64) {
            ((double *)za)[i] = x;
            ((double *)zb)[i] = y;
        } else {
            ((float *)za)[i] = (float)x;
            ((float *)zb)[i] = (float)y;
        }
    }
}

/* The CPU model from /proc/cpuinfo, or "unknown". */
static void cpu_model(char *out, size_t size)
{
    snprintf(out, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ' || *colon == '\t')
                    colon++;
                snprintf(out, size, "%s", colon);
                out[strcspn(out, "\n")] = '\0';
            }
            break;
        }
    }
    fclose(f);
}

#endif
