/*
 * fuzz_shard.c - a libFuzzer harness for the sharded calls (libvicreg 1.1):
 * one input is a batch split into shards, run through sums -> reduce ->
 * scatter -> reduce -> finish as separate processes would, with one context
 * per shard.
 *
 * The bytes choose: the precision, d, 1 to 4 shards of 0 to 8 rows each,
 * whether some shards pass NULL gradients, the parameters, and the data
 * (small quantised values; the same with NaN, Inf or a huge value planted
 * in one entry; raw bits; or values near the overflow bound).
 *
 * Parameters: the flags byte gives the convention and a gradient scale of
 * 1, 2, 1/2 or 3 (the rest default); with bit 7 set a parameter block
 * follows the shard sizes and sets every parameter (or a subset, the
 * others kept) to a legal value anywhere in its bounds, from
 * param_in_bounds() in fuzz_input.h: lambda, mu, nu, the gradient scale
 * from 0 to 1e9 and gamma, eps from DBL_MIN to 1e9 at both ends exactly,
 * just inside them, on a log scale between and in ratios to each other
 * near the float32 and float64 exponent limits; the convention and the path
 * at every legal integer. Every context the harness uses, one per shard
 * and the one of the whole-batch comparison, gets the same parameters.
 * After the block a byte scales the small data by 2^(0..7) (so that the
 * column stds move against gamma, eps and the parameters too).
 *
 * Invariants (a violation aborts, which libFuzzer reports):
 *   - every status is a known one; a shard holding NaN or Inf gets
 *     VICREG_ERR_NON_FINITE from phase 1; a global batch of fewer than two
 *     rows gets VICREG_ERR_BAD_SHAPE from phase 2; finite small data
 *     succeeds throughout;
 *   - on error the call's statistics buffer, the loss and the gradients,
 *     with guard bytes around them, keep their bytes;
 *   - on success every shard reports the same loss, bit for bit, equal to
 *     its VICREG_TERM_LOSS, and it is finite, as is every gradient entry
 *     (with any legal parameters, the extreme ones included); the guard
 *     bytes and the padding of the gradient rows are untouched;
 *   - for small data in float64 the loss and the concatenated gradient rows
 *     equal vicreg_loss_f64() on the whole batch (whose loss and gradients
 *     must be finite too) up to rounding, the tolerance scaled by the
 *     parameters so that it holds with extreme ones (the gradient is not
 *     compared when a column's std sits on gamma, at the hinge's kink).
 *
 * Build: meson setup -Dfuzz=true with CC=clang (tests/meson.build).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "vicreg.h"

#define MAX_D 12
#define MAX_SHARD 8
#define MAX_SHARDS 4
#define MAX_N (MAX_SHARD * MAX_SHARDS)
#define PAD 2
#define GUARD 32

/* One entry of the data, by mode. */
static double value(struct reader *r, int mode, int f64)
{
    if (mode == 2) { /* raw bits */
        uint64_t u = bits64(r);
        if (f64) {
            double v;
            memcpy(&v, &u, sizeof v);
            return v;
        }
        uint32_t w = (uint32_t)u;
        float v;
        memcpy(&v, &w, sizeof v);
        return v;
    }
    double v = (double)(int8_t)byte(r) / 32.0; /* [-4, 4), exact in float */
    if (mode == 3)
        v *= f64 ? 1e150 : 1e18;
    return v;
}

static void put(int f64, void *buf, size_t i, double v)
{
    if (f64)
        ((double *)buf)[i] = v;
    else
        ((float *)buf)[i] = (float)v;
}

static double at(int f64, const void *buf, size_t i)
{
    return f64 ? ((const double *)buf)[i] : (double)((const float *)buf)[i];
}

static int calls_finish(int f64, vicreg_ctx *c, size_t n, size_t d, const void *za,
                        const void *zb, size_t ld, const double *sums, const double *scatter,
                        double *loss, void *ga, void *gb, size_t ldg)
{
    if (f64)
        return vicreg_shard_finish_f64(c, n, d, za, ld, zb, ld, sums, scatter, loss, ga, ldg, gb,
                                       ldg);
    return vicreg_shard_finish_f32(c, n, d, za, ld, zb, ld, sums, scatter, loss, ga, ldg, gb,
                                   ldg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = { data, size, 0x243F6A8885A308D3ull ^ size };
    const uint8_t flags = byte(&r);
    const int f64 = flags & 1, paper = (flags >> 1) & 1;
    static const double scales[4] = { 1.0, 2.0, 0.5, 3.0 };
    const double scale = scales[(flags >> 2) & 3];
    const int mode = (flags >> 4) & 3, some_null = (flags >> 6) & 1;
    const size_t d = 1 + byte(&r) % MAX_D, shards = 1 + byte(&r) % MAX_SHARDS;
    const size_t elem = f64 ? sizeof(double) : sizeof(float), ld = d + PAD;
    size_t sizes[MAX_SHARDS], row0[MAX_SHARDS + 1] = { 0 };
    for (size_t k = 0; k < shards; k++) {
        sizes[k] = byte(&r) % (MAX_SHARD + 1);
        row0[k + 1] = row0[k] + sizes[k];
    }
    const size_t n = row0[shards];

    /* The parameters of every context: the convention and scale of the
     * flags, and with bit 7 a block over all of them. */
    struct param_block params = { { 0 }, { 0 } };
    for (size_t k = 0; k < FUZZ_N_PARAMS; k++) {
        if (fuzz_param_keys[k] == VICREG_PARAM_CONVENTION)
            params.set[k] = 1, params.value[k] = paper;
        if (fuzz_param_keys[k] == VICREG_PARAM_GRAD_SCALE)
            params.set[k] = 1, params.value[k] = scale;
    }
    /* With the block, a data scale: the small values of modes 0 and 1
     * times 2^(0..7), exact in float, up to +-512: column stds from 1 to
     * 300 against gamma, eps and the parameters' ratios. */
    double data_scale = 1.0;
    if (flags & 0x80) {
        struct param_block block;
        param_block_read(&r, &block);
        for (size_t k = 0; k < FUZZ_N_PARAMS; k++)
            if (block.set[k])
                params.set[k] = 1, params.value[k] = block.value[k];
        data_scale = ldexp(1.0, byte(&r) % 8);
    }

    /* The batch (n x d, leading dimension ld, zero padding). */
    static unsigned char za[MAX_N * (MAX_D + PAD) * 8], zb[sizeof za];
    memset(za, 0, sizeof za);
    memset(zb, 0, sizeof zb);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            const double scale_ij = mode <= 1 ? data_scale : 1.0;
            put(f64, za, i * ld + j, scale_ij * value(&r, mode, f64));
            put(f64, zb, i * ld + j, scale_ij * value(&r, mode, f64));
        }
    if (mode == 1 && n > 0) { /* one planted special value */
        static const double special[4] = { NAN, INFINITY, -INFINITY, 1e300 };
        const uint8_t b = byte(&r);
        put(f64, b & 1 ? zb : za, (byte(&r) % n) * ld + byte(&r) % d, special[(b >> 1) & 3]);
    }
    /* Which shards hold NaN or Inf (the f32 cast of 1e300 is Inf too). */
    int bad[MAX_SHARDS] = { 0 };
    for (size_t k = 0; k < shards; k++)
        for (size_t i = row0[k]; i < row0[k + 1]; i++)
            for (size_t j = 0; j < d; j++)
                if (!isfinite(at(f64, za, i * ld + j)) || !isfinite(at(f64, zb, i * ld + j)))
                    bad[k] = 1;

    size_t sums_len, scatter_len;
    CHECK(vicreg_shard_sizes(d, &sums_len, &scatter_len) == VICREG_OK, "d = %zu", d);
    double sums[2 + 2 * MAX_D] = { 0 }, scatter[MAX_D * (MAX_D + 1)] = { 0 };
    double local[MAX_D * (MAX_D + 1)], keep[MAX_D * (MAX_D + 1)];
    vicreg_ctx *ctx[MAX_SHARDS] = { NULL };
    for (size_t k = 0; k < shards; k++) {
        CHECK(vicreg_ctx_create(&ctx[k]) == VICREG_OK, "create");
        param_block_apply(ctx[k], &params);
    }
    /* What they all hold now, defaults included. */
    double pv[FUZZ_N_PARAMS];
    for (size_t i = 0; i < FUZZ_N_PARAMS; i++)
        CHECK(vicreg_ctx_get_param(ctx[0], fuzz_param_keys[i], &pv[i]) == VICREG_OK, "get");
    const int small = mode == 0;
    int failed = 0;

    /* Phase 1. */
    for (size_t k = 0; k < shards && !failed; k++) {
        const size_t nk = sizes[k];
        memset(local, 0, sums_len * sizeof(double));
        memcpy(keep, local, sums_len * sizeof(double));
        const void *a = za + row0[k] * ld * elem, *b = zb + row0[k] * ld * elem;
        int st = f64 ? vicreg_shard_sums_f64(ctx[k], nk, d, a, ld, b, ld, local)
                     : vicreg_shard_sums_f32(ctx[k], nk, d, a, ld, b, ld, local);
        CHECK(known_status(st), "status %d", st);
        if (bad[k])
            CHECK(st == VICREG_ERR_NON_FINITE, "shard %zu holds NaN/Inf: %s", k,
                  vicreg_status_name(st));
        if (small)
            CHECK(st == VICREG_OK, "small data, phase 1: %s", vicreg_status_name(st));
        if (st != VICREG_OK) {
            CHECK(memcmp(keep, local, sums_len * sizeof(double)) == 0, "phase 1 wrote on error");
            failed = 1;
            break;
        }
        CHECK(local[0] == (double)nk, "row count %g, want %zu", local[0], nk);
        for (size_t i = 0; i < sums_len; i++)
            sums[i] += local[i];
    }
    /* Phase 2. */
    for (size_t k = 0; k < shards && !failed; k++) {
        const size_t nk = sizes[k];
        memset(local, 0, scatter_len * sizeof(double));
        memcpy(keep, local, scatter_len * sizeof(double));
        const void *a = za + row0[k] * ld * elem, *b = zb + row0[k] * ld * elem;
        int st = f64 ? vicreg_shard_scatter_f64(ctx[k], nk, d, a, ld, b, ld, sums, local)
                     : vicreg_shard_scatter_f32(ctx[k], nk, d, a, ld, b, ld, sums, local);
        CHECK(known_status(st), "status %d", st);
        if (n < 2)
            CHECK(st == VICREG_ERR_BAD_SHAPE, "N = %zu, phase 2: %s", n, vicreg_status_name(st));
        else if (small)
            CHECK(st == VICREG_OK, "small data, phase 2: %s", vicreg_status_name(st));
        if (st != VICREG_OK) {
            CHECK(memcmp(keep, local, scatter_len * sizeof(double)) == 0,
                  "phase 2 wrote on error");
            failed = 1;
            break;
        }
        for (size_t i = 0; i < scatter_len; i++)
            scatter[i] += local[i];
    }
    /* Phase 3, into gradients with guard bytes and padding. */
    static unsigned char ga[GUARD + MAX_N * (MAX_D + PAD) * 8 + GUARD], gb[sizeof ga];
    memset(ga, 0xA5, sizeof ga);
    memset(gb, 0x5A, sizeof gb);
    double loss0 = NAN;
    for (size_t k = 0; k < shards && !failed; k++) {
        const size_t nk = sizes[k];
        const void *a = za + row0[k] * ld * elem, *b = zb + row0[k] * ld * elem;
        const int null_a = some_null && k % 2 == 1;
        void *gak = null_a ? NULL : ga + GUARD + row0[k] * ld * elem;
        void *gbk = gb + GUARD + row0[k] * ld * elem;
        double loss = -7.0;
        int st = calls_finish(f64, ctx[k], nk, d, a, b, ld, sums, scatter, &loss, gak, gbk, ld);
        CHECK(known_status(st), "status %d", st);
        if (small)
            CHECK(st == VICREG_OK, "small data, phase 3: %s", vicreg_status_name(st));
        if (st != VICREG_OK) {
            CHECK(loss == -7.0, "the loss was written on error");
            for (size_t i = row0[k] * ld * elem; i < row0[k + 1] * ld * elem; i++)
                CHECK(ga[GUARD + i] == 0xA5 && gb[GUARD + i] == 0x5A, "phase 3 wrote on error");
            failed = 1;
            break;
        }
        CHECK(isfinite(loss), "loss %g (params %s)", loss, params_text(ctx[k]));
        double term = NAN;
        CHECK(vicreg_ctx_get_term(ctx[k], VICREG_TERM_LOSS, &term) == VICREG_OK &&
                  memcmp(&term, &loss, sizeof loss) == 0,
              "shard %zu: loss %.17g, VICREG_TERM_LOSS %.17g", k, loss, term);
        if (k == 0)
            loss0 = loss;
        CHECK(memcmp(&loss, &loss0, sizeof loss) == 0, "shard %zu: loss %.17g, shard 0 %.17g",
              k, loss, loss0);
        for (size_t i = row0[k]; i < row0[k + 1]; i++)
            for (size_t j = 0; j < d; j++) {
                if (!null_a)
                    CHECK(isfinite(at(f64, ga + GUARD, i * ld + j)),
                          "shard %zu: VICREG_OK with grad_a[%zu][%zu] = %g (%s, N %zu, d %zu; "
                          "params %s)",
                          k, i, j, at(f64, ga + GUARD, i * ld + j), f64 ? "f64" : "f32", n, d,
                          params_text(ctx[k]));
                CHECK(isfinite(at(f64, gb + GUARD, i * ld + j)),
                      "shard %zu: VICREG_OK with grad_b[%zu][%zu] = %g (%s, N %zu, d %zu; "
                      "params %s)",
                      k, i, j, at(f64, gb + GUARD, i * ld + j), f64 ? "f64" : "f32", n, d,
                      params_text(ctx[k]));
            }
    }
    /* Guards and padding: never written, whatever happened. */
    for (size_t i = 0; i < sizeof ga; i++) {
        const size_t off = i - GUARD, row = off / (ld * elem), col = off % (ld * elem) / elem;
        const int inside = i >= GUARD && row < n && col < d;
        if (!inside)
            CHECK(ga[i] == 0xA5 && gb[i] == 0x5A, "byte %zu outside the gradients written", i);
    }

    /* Small float64 data: the whole batch in one call gives the same. */
    if (!failed && small && f64 && n >= 2) {
        static double wa[MAX_N * MAX_D], wb[MAX_N * MAX_D];
        double one = NAN;
        vicreg_ctx *c = NULL;
        CHECK(vicreg_ctx_create(&c) == VICREG_OK, "create");
        param_block_apply(c, &params);
        CHECK(vicreg_loss_f64(c, n, d, (const double *)za, ld, (const double *)zb, ld, &one, wa,
                              d, wb, d) == VICREG_OK,
              "the single call fails where the sharded one succeeded");
        CHECK(isfinite(one), "single call: loss %g (params %s)", one, params_text(c));
        for (size_t i = 0; i < n * d; i++)
            CHECK(isfinite(wa[i]) && isfinite(wb[i]),
                  "single call: VICREG_OK with gradient entry %zu %g %g (params %s)", i, wa[i],
                  wb[i], params_text(c));

        /* The scale of the rounding error, from the parameters (pv is in
         * fuzz_param_keys order) and the column statistics of the whole
         * batch (in double). */
        const double lambda = pv[0], mu = pv[1], nu = pv[2], gamma = pv[3], eps = pv[4];
        const double gs = pv[7], w = pv[5] == VICREG_CONVENTION_PAPER ? 1.0 : 0.5;
        const double nn = (double)n, dd = (double)d, n1 = nn - 1.0;
        const double inv_scale = pv[5] == VICREG_CONVENTION_PAPER ? 1.0 / nn : 1.0 / (nn * dd);
        double zabs = 0.0, smax = 0.0, smin = INFINITY;
        int kink = 0;
        for (int b = 0; b < 2; b++)
            for (size_t j = 0; j < d; j++) {
                const void *z = b ? zb : za;
                double mean = 0.0, var = 0.0;
                for (size_t i = 0; i < n; i++) {
                    mean += at(1, z, i * ld + j);
                    zabs = fmax(zabs, fabs(at(1, z, i * ld + j)));
                }
                mean /= nn;
                for (size_t i = 0; i < n; i++)
                    var += (at(1, z, i * ld + j) - mean) * (at(1, z, i * ld + j) - mean);
                var /= n1;
                const double sj = sqrt(var + eps);
                smax = fmax(smax, sj);
                if (var > 0.0 && sj < gamma * (1.0 + 1e-9))
                    smin = fmin(smin, sj);
                if (fabs(sj - gamma) <= 1e-9 * gamma)
                    kink = 1;
            }
        const double zc = 2.0 * zabs; /* bounds every centred entry */
        const double loss_noise = mu * w * 2.0 * smax + nu * 16.0 * dd * pow(zc, 4.0);
        CHECK(fabs(one - loss0) <= 1e-9 * fabs(one) + 1e-12 + 1e-12 * loss_noise,
              "loss %.17g, one call %.17g", loss0, one);
        double err = 0.0, big = 0.0;
        for (size_t k = 0; k < shards; k++)
            for (size_t i = row0[k]; i < row0[k + 1]; i++)
                for (size_t j = 0; j < d; j++) {
                    big = fmax(big, fmax(fabs(wa[i * d + j]), fabs(wb[i * d + j])));
                    if (!(some_null && k % 2 == 1))
                        err = fmax(err, fabs(at(1, ga + GUARD, i * ld + j) - wa[i * d + j]));
                    err = fmax(err, fabs(at(1, gb + GUARD, i * ld + j) - wb[i * d + j]));
                }
        /* Normwise, with a floor for gradients that are rounding noise: a
         * bound on each part of an entry (invariance, hinge, covariance)
         * times 1e-12. */
        const double hinge_noise = isfinite(smin) ? mu * w / (dd * n1) / smin * zc : 0.0;
        const double grad_noise = gs * (4.0 * lambda * inv_scale * zabs + hinge_noise +
                                        4.0 * nu * nn * pow(zc, 3.0) / (n1 * n1));
        CHECK(kink || err <= 1e-8 * (big + 1e-6) + 1e-12 * grad_noise,
              "gradient rows differ by %g (largest %g, noise scale %g)", err, big, grad_noise);
        vicreg_ctx_destroy(c);
    }
    for (size_t k = 0; k < shards; k++)
        vicreg_ctx_destroy(ctx[k]);
    return 0;
}
