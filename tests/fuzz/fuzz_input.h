/*
 * fuzz_input.h - what the libFuzzer harnesses share: the invariant check,
 * the reader that turns the fuzzer's bytes into values, and the generator
 * of legal parameter values that drives every parameter across the whole
 * range vicreg_param_bounds() gives for it.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef VICREG_FUZZ_INPUT_H
#define VICREG_FUZZ_INPUT_H

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vicreg.h"

/* An invariant of the library that the input broke: print it with the
 * harness's explanation and abort, which libFuzzer reports as a crash and
 * keeps the input for. */
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s: invariant failed at line %d: %s\n  ", __FILE__, __LINE__, \
                    #cond);                                                                \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* The input, read front to back. Once the bytes run out, a fixed
 * generator continues, so that every input describes a whole case. */
struct reader {
    const uint8_t *p;
    size_t left;
    uint64_t rng;
};

static inline uint8_t byte(struct reader *r)
{
    if (r->left == 0) {
        r->rng = r->rng * 6364136223846793005ull + 1442695040888963407ull;
        return (uint8_t)(r->rng >> 56);
    }
    r->left--;
    return *r->p++;
}

static inline uint64_t bits64(struct reader *r)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v = v << 8 | byte(r);
    return v;
}

static inline uint32_t bits32(struct reader *r)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++)
        v = v << 8 | byte(r);
    return v;
}

static inline uint16_t bits16(struct reader *r)
{
    uint16_t v = byte(r);
    return (uint16_t)(v << 8 | byte(r));
}

/* A dimension: mostly 0 .. small_max, sometimes an edge or a value that
 * overflows int, size_t or the byte count. */
static inline size_t dimension(struct reader *r, size_t small_max)
{
    const uint8_t b = byte(r);
    static const size_t huge[] = {
        (size_t)INT_MAX,         (size_t)INT_MAX + 1, (size_t)UINT32_MAX + 1,
        SIZE_MAX,                SIZE_MAX / 2,        SIZE_MAX / 4,
        SIZE_MAX / 16,           SIZE_MAX / 8 + 1,    SIZE_MAX / sizeof(double) + 1,
        (size_t)1 << 40,
    };
    if (b < 200)
        return b % (small_max + 1);
    if (b < 230)
        return huge[b % (sizeof huge / sizeof huge[0])];
    return (size_t)bits64(r);
}

/* A status the library documents. */
static inline int known_status(int s)
{
    return s == VICREG_OK || (s <= VICREG_ERR_INVALID_ARGUMENT && s >= VICREG_ERR_NO_RESULT);
}

/* ---------------------------------------------------------------------
 * Parameter values across their bounds
 * --------------------------------------------------------------------- */
/* Every parameter, in the order a parameter block (below) sets them. */
static const int fuzz_param_keys[] = {
    VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF, VICREG_PARAM_COVARIANCE_COEFF,
    VICREG_PARAM_STD_TARGET,       VICREG_PARAM_EPSILON,        VICREG_PARAM_CONVENTION,
    VICREG_PARAM_PATH,             VICREG_PARAM_GRAD_SCALE,
};
#define FUZZ_N_PARAMS (sizeof fuzz_param_keys / sizeof fuzz_param_keys[0])

/* Enumerated parameters take only the integers of their range; so do
 * the count of global views (since 1.2.0), which no parameter block sets
 * (fuzz_views.c drives it against the view count of each call), and the
 * passes' thread count (since 1.3.0), which a fuzzer meets only as an
 * arbitrary key of fuzz_loss.c. */
static inline int param_is_enum(int key)
{
    return key == VICREG_PARAM_CONVENTION || key == VICREG_PARAM_PATH ||
           key == VICREG_PARAM_GLOBAL_VIEWS || key == VICREG_PARAM_THREADS;
}

/* Is value one that vicreg_ctx_set_param() must accept for key? */
static inline int param_legal(int key, double value)
{
    double lo, hi;
    if (vicreg_param_bounds(key, &lo, &hi) != VICREG_OK)
        return 0;
    if (!(value >= lo && value <= hi))
        return 0;
    return !param_is_enum(key) || value == floor(value);
}

static inline double clamp_into(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* exp of a point t in [0, 1] on the log scale from a to b (0 < a <= b),
 * kept inside [a, b] against rounding. */
static inline double log_between(double a, double b, double t)
{
    return clamp_into(exp(log(a) + t * (log(b) - log(a))), a, b);
}

/* A legal value of parameter key, spread over all of [lo, hi] as
 * vicreg_param_bounds() gives them (asked at run time, so a change of the
 * bounds in src/ moves the values with it):
 *   - enumerations: every legal integer, lo .. hi;
 *   - otherwise, by the first byte % 16: lo and hi exactly (0, 1); the
 *     neighbours one ulp inside each end (2, 3); 2 to 17 ulps inside
 *     either end (4); a power of ten (6, 7)
 *     (every decade from the smallest positive legal value, which is the
 *     smallest subnormal when lo is 0, up to hi); a power of two (8;
 *     exact, so for the gradient scale exact); a point log-uniform over
 *     the whole positive range (9, 13; 16 bits: about 0.005 of a decade
 *     apart); a point log-uniform over the part of the range inside
 *     float's exponent range (14; where float32 calls over- and
 *     underflow: eps near FLT_MIN, ...); a small multiple of 1/8 (15;
 *     near the defaults);
 *   - relative to ref, another parameter's value (NaN for none: then a
 *     log-uniform point instead): ref times a power of two of -128 .. 127
 *     (11), or ref times 2^-+(e + -8..7) for e the float32 or float64
 *     exponent limit, 128, 149, 1024 or 1074 (5, 10, 12).
 *     Products and quotients of parameters (mu / nu, the hinge factor over
 *     the covariance factor) reach those limits only when the ratio does,
 *     which independent draws almost never give: nu = 1e-30 against
 *     mu = 1e9 is such a ratio.
 *     Clamped into [lo, hi].
 * Returns NaN for an unknown key. */
static inline double param_in_bounds(struct reader *r, int key, double ref)
{
    double lo = 0.0, hi = 0.0;
    if (vicreg_param_bounds(key, &lo, &hi) != VICREG_OK)
        return NAN;
    const uint8_t b = byte(r);
    if (param_is_enum(key))
        return lo + (double)(b % ((unsigned)(hi - lo) + 1));
    if (!(lo < hi))
        return lo;
    /* The log scale starts at the smallest positive legal value. */
    const double pos = lo > 0.0 ? lo : nextafter(0.0, 1.0);
    double v;
    switch (b % 16) {
    case 0:
        return lo;
    case 1:
        return hi;
    case 2:
        return nextafter(lo, hi);
    case 3:
        return nextafter(hi, lo);
    case 4: {
        const uint8_t u = byte(r);
        const int ulps = 2 + u % 16;
        v = u & 16 ? hi : lo;
        for (int k = 0; k < ulps; k++)
            v = nextafter(v, u & 16 ? lo : hi);
        return v;
    }
    case 6:
    case 7: {
        const int kmin = (int)ceil(log10(pos)), kmax = (int)floor(log10(hi));
        const int k = kmin + (int)(bits16(r) % (unsigned)(kmax - kmin + 1));
        return clamp_into(pow(10.0, k), lo, hi);
    }
    case 8: {
        const int kmin = ilogb(pos) + (ldexp(1.0, ilogb(pos)) < pos),
                  kmax = ilogb(hi);
        const int k = kmin + (int)(bits16(r) % (unsigned)(kmax - kmin + 1));
        return clamp_into(ldexp(1.0, k), lo, hi);
    }
    case 11:
        if (!(ref > 0.0 && isfinite(ref)))
            return log_between(pos, hi, bits16(r) / 65535.0);
        return clamp_into(ldexp(ref, (int8_t)byte(r)), lo, hi);
    case 5:
    case 10:
    case 12: {
        static const int limit[4] = { FLT_MAX_EXP, 149, DBL_MAX_EXP, 1074 };
        if (!(ref > 0.0 && isfinite(ref)))
            return log_between(pos, hi, bits16(r) / 65535.0);
        const uint8_t e = byte(r);
        const int binades = limit[e & 3] + (e >> 4) - 8;
        return clamp_into(ldexp(ref, e & 4 ? binades : -binades), lo, hi);
    }
    case 14: {
        const double a = fmax(pos, FLT_TRUE_MIN), z = fmin(hi, (double)FLT_MAX);
        if (a < z)
            return log_between(a, z, bits16(r) / 65535.0);
        return log_between(pos, hi, bits16(r) / 65535.0);
    }
    case 15:
        return clamp_into((1.0 + byte(r)) / 8.0, lo, hi);
    default: /* 9, 13 */
        return log_between(pos, hi, bits16(r) / 65535.0);
    }
}

/* A value just outside the legal set of key: one ulp below lo or above
 * hi, NaN, +-Inf, and for enumerations a non-integer inside the range or
 * the integers next to it. Returns NaN for an unknown key. */
static inline double param_outside(struct reader *r, int key)
{
    double lo = 0.0, hi = 0.0;
    if (vicreg_param_bounds(key, &lo, &hi) != VICREG_OK)
        return NAN;
    const uint8_t b = byte(r);
    switch (b % (param_is_enum(key) ? 8 : 5)) {
    case 0:
        return nextafter(lo, -INFINITY);
    case 1:
        return nextafter(hi, INFINITY);
    case 2:
        return NAN;
    case 3:
        return INFINITY;
    case 4:
        return -INFINITY;
    case 5:
        return lo + 0.5;
    case 6:
        return lo - 1.0;
    default:
        return hi + 1.0;
    }
}

/* Every parameter of ctx as text, for the messages of failed checks (one
 * static buffer: one call per message). */
static inline const char *params_text(const vicreg_ctx *ctx)
{
    static char text[400];
    size_t used = 0;
    text[0] = '\0';
    for (size_t k = 0; k < FUZZ_N_PARAMS && used < sizeof text; k++) {
        double v = NAN;
        vicreg_ctx_get_param(ctx, fuzz_param_keys[k], &v);
        int w = snprintf(text + used, sizeof text - used, "%s%d=%.17g", k ? " " : "",
                         fuzz_param_keys[k], v);
        used += w > 0 ? (size_t)w : 0;
    }
    return text;
}

/* A parameter block: which parameters it sets, and their values from
 * param_in_bounds(), in fuzz_param_keys order. Its first byte m sets all
 * of them when below 0x80; otherwise bit k (k < 7) of m leaves parameter
 * k as it was (the last one, the gradient scale, is always set). Then one
 * value per parameter set; a value relative to ref is relative to the last
 * continuous parameter the block set before it (mu to lambda, nu to mu,
 * gamma to nu, eps to gamma, the gradient scale to eps). */
struct param_block {
    int set[FUZZ_N_PARAMS];
    double value[FUZZ_N_PARAMS];
};

static inline void param_block_read(struct reader *r, struct param_block *pb)
{
    const uint8_t m = byte(r);
    double ref = NAN;
    for (size_t k = 0; k < FUZZ_N_PARAMS; k++) {
        const int key = fuzz_param_keys[k];
        pb->set[k] = m < 0x80 || k == 7 || !((m >> k) & 1);
        pb->value[k] = pb->set[k] ? param_in_bounds(r, key, ref) : 0.0;
        if (pb->set[k] && !param_is_enum(key))
            ref = pb->value[k];
    }
}

/* Sets every parameter the block sets on ctx; each value is legal, so
 * each must be accepted and read back exactly. */
static inline void param_block_apply(vicreg_ctx *ctx, const struct param_block *pb)
{
    for (size_t k = 0; k < FUZZ_N_PARAMS; k++) {
        if (!pb->set[k])
            continue;
        const int key = fuzz_param_keys[k];
        const double v = pb->value[k];
        double got = NAN;
        CHECK(param_legal(key, v), "the generator gave key %d the illegal value %a", key, v);
        const int st = vicreg_ctx_set_param(ctx, key, v);
        CHECK(st == VICREG_OK, "key %d refused the legal value %a (%.17g): %s", key, v, v,
              vicreg_status_name(st));
        CHECK(vicreg_ctx_get_param(ctx, key, &got) == VICREG_OK && got == v,
              "key %d: set %a, got %a", key, v, got);
    }
}

#endif
