/*
 * util.c - allocation, clock and random numbers for the trainer.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "parallel.h"
#include "util.h"

void fm_die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: ", FM_PROG);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_FAILURE);
}

void *fm_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        fm_die("allocation of %zu x %zu bytes overflows", count, size);
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        fm_die("out of memory (%zu x %zu bytes)", count, size);
    return p;
}

void *fm_malloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        fm_die("allocation of %zu x %zu bytes overflows", count, size);
    size_t bytes = count * size;
    void *p = malloc(bytes != 0 ? bytes : 1);
    if (!p)
        fm_die("out of memory (%zu x %zu bytes)", count, size);
    return p;
}

float *fm_dup_floats(const float *src, size_t n)
{
    if (!src)
        return NULL;
    float *p = fm_malloc(n, sizeof(float));
    memcpy(p, src, n * sizeof(float));
    return p;
}

double fm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void fm_rng_seed(struct fm_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t fm_rng_next(struct fm_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double fm_rng_uniform(struct fm_rng *r)
{
    return (double)(fm_rng_next(r) >> 11) * 0x1.0p-53;
}

double fm_rng_range(struct fm_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * fm_rng_uniform(r);
}

uint64_t fm_rng_below(struct fm_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = fm_rng_next(r);
    while (x >= limit);
    return x % n;
}

double fm_rng_normal(struct fm_rng *r)
{
    double u1 = 1.0 - fm_rng_uniform(r); /* (0, 1] */
    double u2 = fm_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void fm_rng_shuffle(struct fm_rng *r, uint32_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)fm_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

int fm_parallel_setup(int n)
{
#ifdef _OPENMP
    /* OMP_NUM_THREADS in the environment wins over --threads. */
    if (n > 0 && !getenv("OMP_NUM_THREADS"))
        omp_set_num_threads(n);
    return omp_get_max_threads();
#else
    (void)n;
    return 1;
#endif
}
