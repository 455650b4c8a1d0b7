/*
 * fuzz_loss.c - a libFuzzer harness that drives libvicreg's public API from
 * raw bytes and checks the contract, not just "no crash".
 *
 * One input is a short program: parameter settings, then up to four loss
 * calls on one context. The parameters are driven across the whole of
 * their legal bounds, as vicreg_param_bounds() gives them at run time:
 *   - the head byte may ask for a parameter block at the start (bit 6) and
 *     one before every call (bit 7): every parameter at once (or a subset,
 *     the others kept), each value from param_in_bounds() in fuzz_input.h:
 *     both ends exactly, one and a few ulps inside them, every decade and
 *     power of two between, log-uniform points over the whole range and
 *     over its float32 part, ratios to the parameter before (any power of
 *     two, and near the float32 and float64 exponent limits), and for the
 *     convention and the path every legal integer; so that legal but
 *     extreme combinations (nu = 1e-30 against mu = 1e9, gamma = 1e9 far
 *     above the column stds, eps at DBL_MIN, a gradient scale near 0 or at
 *     1e9) are reached;
 *   - up to four single settings (known and unknown keys) whose value is a
 *     special (NaN, +-Inf, -0, negative, subnormal, huge, just past 1e9),
 *     a small multiple of 1/8, a value just outside the key's bounds, a
 *     legal value from param_in_bounds(), or raw bits; each is checked
 *     against the bounds: accepted exactly when legal, refused with
 *     OUT_OF_RANGE (and the old value kept) when not.
 * Each call takes from the bytes: the precision,
 * shapes n and d (0, 1, 2, small, or values that overflow int, size_t or the
 * byte count), four leading dimensions, which of ctx / za / zb / loss /
 * grad_a / grad_b are NULL, whether a gradient overlaps an input, and the
 * data (small values, wider moderate values up to +-64, raw float/double
 * bits, or small values with NaN, Inf, huge, tiny and denormal entries
 * planted in them).
 *
 * Invariants checked on every call (a violation aborts, which libFuzzer
 * reports as a crash):
 *   - the status is VICREG_OK or one of the known negative codes, and is
 *     the one the arguments call for: INVALID_ARGUMENT for a NULL, a shape
 *     error for a bad shape, OVERLAP for an overlapping gradient,
 *     NON_FINITE when a NaN/Inf is in the n x d part, OK for finite,
 *     moderate data (|x| <= 64), whatever the legal parameters;
 *   - the inputs are never written;
 *   - on error the loss and both gradient buffers, with guard bytes before
 *     and after each, are byte for byte as they were, and the context
 *     keeps the terms of its last successful call;
 *   - on success the loss and every gradient entry are finite (with any
 *     legal parameters, the extreme ones included), the guard
 *     bytes and the row padding of the gradients are untouched, the loss
 *     equals VICREG_TERM_LOSS, and calling again on the same context and on
 *     a fresh context with the same parameters gives bitwise equal results.
 *
 * Shapes that are valid but larger than the harness's buffers are never
 * passed (the library would rightly read them); everything else is.
 *
 * Build: meson setup -Dfuzz=true with CC=clang (tests/meson.build), or
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *         -DVICREG_BUILDING_LIBRARY tests/fuzz/fuzz_loss.c src/[a-z]*.c -lopenblas -lm
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "fuzz_buf.h"
#include "vicreg.h"

/* Small buffers keep each input fast; the shapes that matter for bugs are
 * the edges (0, 1, 2, ld > d, n < d, n > d), not the size. */
#define MAX_N 40
#define MAX_D 40
#define MAX_PAD 3
#define MAX_CALLS 4
#define MAX_PARAMS 4

/* ---------------------------------------------------------------------
 * Reading the input
 * --------------------------------------------------------------------- */
/* A leading dimension relative to d. */
static size_t leading(struct reader *r, size_t d)
{
    uint8_t b = byte(r);
    if (b < 150)
        return d;
    if (b < 220)
        return d + 1 + b % MAX_PAD;
    if (b < 235)
        return d - 1 - (b & 1); /* too small (wraps for d = 0: huge) */
    return dimension(r, MAX_D + MAX_PAD);
}

/* A value for a setting of key: the first byte picks a special (kept
 * below 128 so that the committed seeds keep their meaning), a small
 * multiple of 1/8, a value just outside the key's bounds, a legal value
 * anywhere in them, or raw bits. */
static double param_value(struct reader *r, int key)
{
    static const double special[] = {
        0.0, -0.0, 1.0, -1.0, 25.0, 1e-4, 1e9, 1e9 + 1.0, 1e10, -1e-300,
        DBL_MIN, DBL_MIN / 2, 5e-324, DBL_MAX, -DBL_MAX, 0.5, 1.5, 2.0, 3.0,
        NAN, INFINITY, -INFINITY,
    };
    uint8_t b = byte(r);
    if (b < 128)
        return special[b % (sizeof special / sizeof special[0])];
    if (b < 160)
        return (double)(int8_t)byte(r) / 8.0;
    if (b < 176)
        return param_outside(r, key);
    if (b < 240) {
        double v = param_in_bounds(r, key, NAN);
        return isnan(v) ? 1.0 : v; /* unknown key: any value */
    }
    uint64_t u = bits64(r);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int param_key(struct reader *r)
{
    static const int keys[] = {
        VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF,
        VICREG_PARAM_COVARIANCE_COEFF, VICREG_PARAM_STD_TARGET, VICREG_PARAM_EPSILON,
        VICREG_PARAM_CONVENTION,       VICREG_PARAM_PATH,            VICREG_PARAM_GRAD_SCALE,
    };
    uint8_t b = byte(r);
    if (b < 224)
        return keys[b % (sizeof keys / sizeof keys[0])];
    return (int)bits32(r); /* mostly unknown keys, INT_MIN and friends */
}

/* ---------------------------------------------------------------------
 * One loss call
 * --------------------------------------------------------------------- */
static int call(int f64, vicreg_ctx *ctx, size_t n, size_t d, const void *za, size_t lda,
                const void *zb, size_t ldb, double *loss, void *ga, size_t ldga, void *gb,
                size_t ldgb)
{
    if (f64)
        return vicreg_loss_f64(ctx, n, d, za, lda, zb, ldb, loss, ga, ldga, gb, ldgb);
    return vicreg_loss_f32(ctx, n, d, za, lda, zb, ldb, loss, ga, ldga, gb, ldgb);
}

/* Does an array of n rows, d used columns, leading dimension ld, of elem
 * bytes each, have an extent that fits (as the API demands)? Mirrors the
 * contract, not the code: ld >= d, ld and n within int, bytes within size_t. */
static int ld_ok(size_t n, size_t d, size_t ld, size_t elem, int *bad_shape)
{
    if (ld < d) {
        *bad_shape = 1;
        return 0;
    }
    if (ld > INT_MAX || n - 1 > (SIZE_MAX - d) / ld)
        return 0;
    size_t count = (n - 1) * ld + d;
    return count <= SIZE_MAX / elem;
}

static size_t extent(size_t n, size_t d, size_t ld)
{
    return (n - 1) * ld + d;
}

/* Value from the data stream: mode 0 small, 1 raw bits, 2 small with
 * specials planted, 3 wide: multiples of 1/2 in [-64, 64), still moderate,
 * so that the column stds reach a scale of their own against gamma, eps
 * and the parameters' ratios. Small values are multiples of 1/16 in
 * [-8, 8) or up to +-64: exactly representable in float. */
static double data_value(struct reader *r, int mode, int f64, int *finite, int *moderate)
{
    double v;
    if (mode == 1) {
        if (f64) {
            uint64_t u = bits64(r);
            memcpy(&v, &u, sizeof v);
        } else {
            uint32_t u = bits32(r);
            float f;
            memcpy(&f, &u, sizeof f);
            v = f;
        }
    } else if (mode == 3) {
        v = (double)(int8_t)byte(r) / 2.0;
    } else {
        uint8_t b = byte(r);
        v = (double)(int8_t)b / 16.0;
        if (mode == 2 && (b & 0x0F) == 0x0F) {
            static const double special[] = {
                NAN, INFINITY, -INFINITY, 1e30, -1e30, FLT_MAX, 1e300, DBL_MAX,
                FLT_MIN / 4, 5e-324, 1e-30, 64.0, -64.0, 1e5, -1e8, 0.0,
            };
            v = special[byte(r) % 16];
        }
    }
    if (!f64)
        v = (float)v; /* what the f32 call sees (may become +-Inf) */
    if (!isfinite(v))
        *finite = 0;
    if (!(fabs(v) <= 64.0))
        *moderate = 0;
    return v;
}

static void set_elem(void *base, int f64, size_t k, double v)
{
    if (f64)
        ((double *)base)[k] = v;
    else
        ((float *)base)[k] = (float)v;
}

static int all_finite(const void *g, int f64, size_t n, size_t d, size_t ld)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double v = f64 ? ((const double *)g)[i * ld + j] : ((const float *)g)[i * ld + j];
            if (!isfinite(v))
                return 0;
        }
    return 1;
}

/* The first count elements of batch z from the input. Only the columns in
 * use (0..d-1 of each ld-row; all when the shape is not valid) decide
 * whether the data is finite and moderate; the padding holds NaN, which
 * the library never reads for its values. */
static void fill_batch(struct reader *r, int mode, int f64, void *z, size_t count, int valid,
                       size_t ld, size_t d, int *finite, int *moderate)
{
    for (size_t k = 0; k < count; k++) {
        int f = 1, m = 1;
        double v = data_value(r, mode, f64, &f, &m);
        int in_use = !valid || k % ld < d;
        if (in_use)
            *finite &= f, *moderate &= m;
        set_elem(z, f64, k, in_use ? v : NAN);
    }
}

/* The path the last successful call took, for messages. */
static const char *path_used(const vicreg_ctx *ctx)
{
    double v = -1.0;
    vicreg_ctx_get_term(ctx, VICREG_TERM_PATH_USED, &v);
    return v == VICREG_PATH_COVARIANCE ? "covariance" : v == VICREG_PATH_GRAM ? "Gram" : "?";
}

static void copy_params(vicreg_ctx *to, const vicreg_ctx *from)
{
    for (size_t k = 0; k < FUZZ_N_PARAMS; k++) {
        const int key = fuzz_param_keys[k];
        double v;
        CHECK(vicreg_ctx_get_param(from, key, &v) == VICREG_OK, "get_param");
        CHECK(vicreg_ctx_set_param(to, key, v) == VICREG_OK,
              "set_param refused the value get_param gave: key %d value %a", key, v);
    }
}

static void one_call(struct reader *r, vicreg_ctx *ctx)
{
    const uint8_t flags = byte(r), flags2 = byte(r);
    const int f64 = flags & 1;
    const size_t elem = f64 ? sizeof(double) : sizeof(float);
    const int want_ga = (flags >> 1) & 1, want_gb = (flags >> 2) & 1;
    const int null_loss = ((flags >> 3) & 3) == 0;
    const int null_ctx = (flags2 & 63) == 1, null_za = (flags2 & 63) == 2,
              null_zb = (flags2 & 63) == 3;
    const int overlap = (flags2 & 63) == 4 || (flags2 & 63) == 5; /* 4: ga = za, 5: gb = ga */
    /* Data mode: bits 5-7 % 3, except 3 and 7 (unused by the first seeds):
     * the wide mode 3. */
    const int mode = (flags >> 5) == 3 || (flags >> 5) == 7 ? 3 : (flags >> 5) % 3;

    size_t n = dimension(r, MAX_N), d = dimension(r, MAX_D);
    size_t lda = leading(r, d), ldb = leading(r, d);
    size_t ldga = leading(r, d), ldgb = leading(r, d);

    /* What the contract says about the shape. */
    /* The gradient slots as passed: mode 4 puts za (lda) in the grad_a
     * slot, mode 5 puts grad_a (ldga) in both. */
    const int in_place = (flags2 & 63) == 4, shared = (flags2 & 63) == 5;
    const int slot_a = want_ga || overlap, slot_b = want_gb || shared;
    const size_t ld_slot_a = in_place ? lda : ldga, ld_slot_b = shared ? ldga : ldgb;
    int bad_shape = n < 2 || d == 0;
    int fits = !bad_shape && n <= INT_MAX && d <= INT_MAX;
    if (fits) {
        fits &= ld_ok(n, d, lda, elem, &bad_shape);
        fits &= ld_ok(n, d, ldb, elem, &bad_shape);
        if (slot_a)
            fits &= ld_ok(n, d, ld_slot_a, elem, &bad_shape);
        if (slot_b)
            fits &= ld_ok(n, d, ld_slot_b, elem, &bad_shape);
    }
    size_t scratch = 0;
    if (fits && !bad_shape) {
        int st = vicreg_ctx_scratch_bytes(ctx, n, d,
                                          f64 ? VICREG_PRECISION_F64 : VICREG_PRECISION_F32,
                                          &scratch);
        CHECK(st == VICREG_OK || st == VICREG_ERR_SIZE_OVERFLOW, "scratch_bytes: %d", st);
        fits = st == VICREG_OK;
    }
    const int valid = fits && !bad_shape;
    /* A valid shape must fit the harness's buffers, or the call would read
     * past them (rightly). */
    if (valid && (n > MAX_N || d > MAX_D || lda > MAX_D + MAX_PAD || ldb > MAX_D + MAX_PAD ||
                  ((want_ga || shared) && ldga > MAX_D + MAX_PAD) ||
                  (want_gb && ldgb > MAX_D + MAX_PAD)))
        return;

    /* Buffers: inputs of the exact extent (ASan catches any read past
     * them), at least one element when the shape is invalid. */
    const size_t rows = n >= 1 && n <= MAX_N ? n : 2, cols = d >= 1 && d <= MAX_D ? d : 1;
    const size_t ea = valid ? extent(n, d, lda) : rows * cols;
    const size_t eb = valid ? extent(n, d, ldb) : rows * cols;
    struct buf bza, bzb, bga, bgb;
    void *za = buf_make(&bza, ea * elem), *zb = buf_make(&bzb, eb * elem);
    int finite = 1, moderate = 1;
    fill_batch(r, mode, f64, za, ea, valid, lda, d, &finite, &moderate);
    fill_batch(r, mode, f64, zb, eb, valid, ldb, d, &finite, &moderate);
    /* (A gradient buffer that is not passed may have any ld.) */
    const size_t ld_cap = MAX_D + MAX_PAD;
    const size_t ega = valid && ldga >= d && ldga <= ld_cap ? extent(n, d, ldga) : rows * cols;
    const size_t egb = valid && ldgb >= d && ldgb <= ld_cap ? extent(n, d, ldgb) : rows * cols;
    void *ga = want_ga ? buf_make(&bga, ega * elem) : NULL;
    void *gb = want_gb ? buf_make(&bgb, egb * elem) : NULL;
    if (!want_ga)
        bga.raw = NULL;
    if (!want_gb)
        bgb.raw = NULL;

    void *pass_ga = ga, *pass_gb = gb;
    size_t pass_ldga = ldga, pass_ldgb = ldgb;
    if (in_place) {
        pass_ga = za, pass_ldga = lda; /* in place on za */
    } else if (shared) {
        if (!ga)
            ga = buf_make(&bga, ega * elem);
        pass_ga = ga, pass_gb = ga, pass_ldgb = ldga; /* both gradients in one buffer */
    }

    /* Snapshots. */
    unsigned char *za0 = buf_copy(&bza), *zb0 = buf_copy(&bzb);
    unsigned char *ga0 = buf_copy(&bga), *gb0 = buf_copy(&bgb);
    double term0;
    int term_status0 = vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, &term0);
    const double sentinel = -12345.678;
    double loss = sentinel;

    int status = call(f64, null_ctx ? NULL : ctx, n, d, null_za ? NULL : za, lda,
                      null_zb ? NULL : zb, ldb, null_loss ? NULL : &loss, pass_ga, pass_ldga,
                      pass_gb, pass_ldgb);

    /* The status is known, and the one the arguments call for. */
    CHECK(known_status(status), "status %d", status);
    CHECK(status != VICREG_ERR_NO_RESULT && status != VICREG_ERR_OUT_OF_RANGE,
          "status %d from a loss call", status);
    if (null_ctx || null_za || null_zb)
        CHECK(status == VICREG_ERR_INVALID_ARGUMENT, "NULL argument: status %d", status);
    else if (bad_shape && n >= 2 && d >= 1 && n <= INT_MAX && d <= INT_MAX)
        CHECK(status == VICREG_ERR_BAD_SHAPE || status == VICREG_ERR_SIZE_OVERFLOW,
              "bad shape: status %d", status);
    else if (n < 2 || d == 0)
        CHECK(status == VICREG_ERR_BAD_SHAPE, "n %zu d %zu: status %d", n, d, status);
    else if (!valid)
        CHECK(status == VICREG_ERR_BAD_SHAPE || status == VICREG_ERR_SIZE_OVERFLOW,
              "invalid shape n %zu d %zu lda %zu ldb %zu: status %d", n, d, lda, ldb, status);
    else if (overlap)
        CHECK(status == VICREG_ERR_OVERLAP, "overlap: status %d", status);
    else if (!finite)
        CHECK(status == VICREG_ERR_NON_FINITE, "NaN/Inf in the data: status %d", status);
    else if (moderate)
        CHECK(status == VICREG_OK, "moderate finite data n %zu d %zu: status %d (%s)", n, d,
              status, vicreg_strerror(status));
    else
        CHECK(status == VICREG_OK || status == VICREG_ERR_OVERFLOW, "large data: status %d",
              status);
    CHECK(vicreg_strerror(status) && vicreg_status_name(status), "strerror NULL");

    /* The inputs are never written (unless a gradient was allowed onto
     * them, which must have been refused). */
    CHECK(buf_same(&bza, za0), "za was written");
    CHECK(buf_same(&bzb, zb0), "zb was written");

    if (status != VICREG_OK) {
        CHECK(loss == sentinel || null_loss, "loss written on error %d", status);
        CHECK(buf_same(&bga, ga0),
              "grad_a written on error %d", status);
        CHECK(buf_same(&bgb, gb0),
              "grad_b written on error %d", status);
        double term1;
        int term_status1 = vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, &term1);
        CHECK(term_status1 == term_status0 &&
                  (term_status0 != VICREG_OK || memcmp(&term0, &term1, sizeof term0) == 0),
              "the last terms changed on error %d", status);
    } else {
        double got;
        CHECK(vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, &got) == VICREG_OK, "get_term");
        CHECK(isfinite(got), "non-finite loss %g (%s n %zu d %zu; params %s)", got,
              f64 ? "f64" : "f32", n, d, params_text(ctx));
        CHECK(null_loss || memcmp(&got, &loss, sizeof got) == 0, "loss != VICREG_TERM_LOSS");
        /* With any legal parameters: the extreme ones are where a factor
         * folded into a product, or a ratio of two parameters, leaves the
         * range of the input precision. */
        CHECK(!ga || all_finite(ga, f64, n, d, ldga),
              "VICREG_OK with a non-finite grad_a (%s n %zu d %zu, path used %s; params %s)",
              f64 ? "f64" : "f32", n, d, path_used(ctx), params_text(ctx));
        CHECK(!gb || all_finite(gb, f64, n, d, ldgb),
              "VICREG_OK with a non-finite grad_b (%s n %zu d %zu, path used %s; params %s)",
              f64 ? "f64" : "f32", n, d, path_used(ctx), params_text(ctx));
        CHECK(!ga || untouched_outside(&bga, ga0, elem, n, d, ldga),
              "grad_a written outside its n x d part");
        CHECK(!gb || untouched_outside(&bgb, gb0, elem, n, d, ldgb),
              "grad_b written outside its n x d part");

        /* Again, on this context and on a fresh one with the same
         * parameters: bitwise the same. */
        vicreg_ctx *fresh;
        CHECK(vicreg_ctx_create(&fresh) == VICREG_OK, "create");
        copy_params(fresh, ctx);
        for (int again = 0; again < 2; again++) {
            vicreg_ctx *c = again ? fresh : ctx;
            struct buf b2a, b2b;
            void *ga2 = ga ? buf_make(&b2a, bga.bytes) : NULL;
            void *gb2 = gb ? buf_make(&b2b, bgb.bytes) : NULL;
            double loss2 = sentinel;
            int s2 = call(f64, c, n, d, za, lda, zb, ldb, &loss2, ga2, ldga, gb2, ldgb);
            CHECK(s2 == VICREG_OK, "repeat call: status %d", s2);
            CHECK(memcmp(&loss2, &got, sizeof got) == 0, "repeat %d: loss %a != %a", again,
                  loss2, got);
            for (size_t i = 0; ga && i < n; i++)
                CHECK(memcmp((char *)ga2 + i * ldga * elem, (char *)ga + i * ldga * elem,
                             d * elem) == 0,
                      "repeat %d: grad_a row %zu differs", again, i);
            for (size_t i = 0; gb && i < n; i++)
                CHECK(memcmp((char *)gb2 + i * ldgb * elem, (char *)gb + i * ldgb * elem,
                             d * elem) == 0,
                      "repeat %d: grad_b row %zu differs", again, i);
            if (ga2)
                free(b2a.raw);
            if (gb2)
                free(b2b.raw);
        }
        vicreg_ctx_destroy(fresh);
    }
    free(za0), free(zb0), free(ga0), free(gb0);
    free(bza.raw), free(bzb.raw);
    free(bga.raw), free(bgb.raw);
}

/* ---------------------------------------------------------------------
 * Parameters and the small calls
 * --------------------------------------------------------------------- */
/* One setting, checked against the bounds. */
static void set_checked(vicreg_ctx *ctx, int key, double value)
{
    double before = 0.0, lo = 0.0, hi = 0.0, after = 0.0;
    const int known = vicreg_ctx_get_param(ctx, key, &before) == VICREG_OK;
    const int bstat = vicreg_param_bounds(key, &lo, &hi);
    CHECK(known == (bstat == VICREG_OK), "get_param and param_bounds disagree on key %d", key);
    const int status = vicreg_ctx_set_param(ctx, key, value);
    CHECK(known_status(status), "set_param status %d", status);
    CHECK(vicreg_ctx_get_param(ctx, key, &after) == (known ? VICREG_OK
                                                           : VICREG_ERR_INVALID_ARGUMENT),
          "get_param after set");
    if (!known) {
        CHECK(status == VICREG_ERR_INVALID_ARGUMENT, "unknown key %d: status %d", key, status);
        return;
    }
    const int in_range = value >= lo && value <= hi;
    if (status == VICREG_OK) {
        CHECK(in_range, "key %d accepted %a outside [%a, %a]", key, value, lo, hi);
        CHECK(after == value, "key %d: set %a, got %a", key, value, after);
    } else {
        CHECK(status == VICREG_ERR_OUT_OF_RANGE, "key %d value %a: status %d", key, value,
              status);
        CHECK(memcmp(&before, &after, sizeof before) == 0, "key %d changed on error", key);
        /* Continuous parameters accept every in-range value. */
        CHECK(!in_range || param_is_enum(key), "key %d refused in-range %a", key, value);
    }
    CHECK((status == VICREG_OK) == param_legal(key, value), "key %d value %a: status %d", key,
          value, status);
    /* NULL out pointers. */
    CHECK(vicreg_ctx_get_param(ctx, key, NULL) == VICREG_ERR_INVALID_ARGUMENT, "NULL value");
    CHECK(vicreg_ctx_set_param(NULL, key, value) == VICREG_ERR_INVALID_ARGUMENT, "NULL ctx");
    CHECK(vicreg_param_bounds(key, NULL, &hi) == VICREG_ERR_INVALID_ARGUMENT, "NULL lower");
}

static void one_param(struct reader *r, vicreg_ctx *ctx)
{
    const int key = param_key(r);
    set_checked(ctx, key, param_value(r, key));
}

/* A parameter block (fuzz_input.h): every parameter, or a subset, to a
 * legal value anywhere in its bounds. */
static void param_block(struct reader *r, vicreg_ctx *ctx)
{
    struct param_block pb;
    param_block_read(r, &pb);
    param_block_apply(ctx, &pb);
}

static void one_query(struct reader *r, vicreg_ctx *ctx)
{
    const int what = (int)bits32(r);
    double v = 0.0;
    int s = vicreg_ctx_get_term(ctx, what, &v);
    CHECK(s == VICREG_OK || s == VICREG_ERR_INVALID_ARGUMENT || s == VICREG_ERR_NO_RESULT,
          "get_term %d: status %d", what, s);
    CHECK(vicreg_strerror(what) != NULL && vicreg_status_name(what) != NULL, "strerror");
    size_t n = dimension(r, MAX_N), d = dimension(r, MAX_D), bytes = 0;
    int prec = byte(r) % 4;
    s = vicreg_ctx_scratch_bytes(ctx, n, d, prec, &bytes);
    CHECK(known_status(s), "scratch_bytes status %d", s);
    if (s == VICREG_OK && bytes <= ((size_t)1 << 22))
        CHECK(vicreg_ctx_reserve(ctx, n, d, prec) == VICREG_OK, "reserve %zu bytes", bytes);
    else if (s != VICREG_OK)
        CHECK(vicreg_ctx_reserve(ctx, n, d, prec) == s, "reserve and scratch_bytes differ");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = { data, size, 0x9E3779B97F4A7C15ull ^ size };
    vicreg_ctx *ctx;
    CHECK(vicreg_ctx_create(&ctx) == VICREG_OK, "create");
    double v;
    CHECK(vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, &v) == VICREG_ERR_NO_RESULT,
          "a fresh context has terms");

    /* Head: bits 0-5 % 5 single settings (the first seeds' head % 5),
     * bits 4-5 the call count - 1, bit 6 a parameter block first, bit 7 a
     * block before each call. */
    const uint8_t head = byte(&r);
    const int nparams = (head & 0x3F) % (MAX_PARAMS + 1);
    const int ncalls = 1 + ((head >> 4) & 3) % MAX_CALLS;
    if (head & 0x40)
        param_block(&r, ctx);
    for (int k = 0; k < nparams; k++)
        one_param(&r, ctx);
    for (int k = 0; k < ncalls; k++) {
        if (head & 0x80)
            param_block(&r, ctx);
        if (byte(&r) == 0xFF)
            one_query(&r, ctx);
        one_call(&r, ctx);
        /* Once the input is used up, stop: the generator alone adds no
         * information. */
        if (r.left == 0)
            break;
    }
    vicreg_ctx_destroy(ctx);
    vicreg_ctx_destroy(NULL);
    return 0;
}
