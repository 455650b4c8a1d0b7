/*
 * util.h - small helpers shared by the Fashion-MNIST trainer: allocation
 * that gives up cleanly, a monotonic clock, and a deterministic random
 * number generator.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_UTIL_H
#define FM_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Every message of the trainer starts with this name. */
#define FM_PROG "fashion-mnist-vicreg"

/* Prints "fashion-mnist-vicreg: <message>" to stderr and exits with status 1. */
void fm_die(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

/* calloc()/malloc() that exit with a message when memory runs out. The
 * count * size product is checked for overflow. */
void *fm_calloc(size_t count, size_t size);
void *fm_malloc(size_t count, size_t size);

/* A new copy of n floats (NULL for NULL: a layer without those parameters). */
float *fm_dup_floats(const float *src, size_t n);

/* Seconds on a monotonic clock. */
double fm_now(void);

/* A small deterministic generator (splitmix64 to seed, xoshiro256** to
 * draw), so a --seed gives the same numbers on every machine. Each job
 * (initialisation, shuffling, augmentation, the linear probe) gets its own
 * stream, so changing one does not shift the others. */
struct fm_rng {
    uint64_t s[4];
};

/* Seeds the stream number `stream` of the generator for `seed`. */
void fm_rng_seed(struct fm_rng *r, uint64_t seed, uint64_t stream);
uint64_t fm_rng_next(struct fm_rng *r);
/* Uniform in [0, 1). */
double fm_rng_uniform(struct fm_rng *r);
/* Uniform in [lo, hi). */
double fm_rng_range(struct fm_rng *r, double lo, double hi);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t fm_rng_below(struct fm_rng *r, uint64_t n);
/* Standard normal (Box-Muller; one value per call, deterministic). */
double fm_rng_normal(struct fm_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void fm_rng_shuffle(struct fm_rng *r, uint32_t *idx, size_t n);

#endif /* FM_UTIL_H */
