/*
 * fuzz_views.c - a libFuzzer harness for the views calls of libvicreg 1.2:
 * vicreg_views_loss_*, vicreg_views_loss_rows_* and the sharded views
 * phases vicreg_shard_views_*, with VICREG_PARAM_GLOBAL_VIEWS.
 *
 * One input is up to three cases on one context. Each case takes from the
 * bytes (the format is in make-seeds.py):
 *   - the precision, the data mode, which of loss / ldz / ldgrad are NULL;
 *   - optionally a parameter block (fuzz_input.h: every parameter across
 *     the whole of its bounds) and a setting of G (0, 1, V, a legal value
 *     below V, one above V, up to 64 above V, or a value outside the
 *     parameter's bounds, which must be refused);
 *   - the view count V: mostly 1 to 4, often up to 8, sometimes up to 64,
 *     and the edges 0, 65, 2^32 + 1, 2^32 + 2, SIZE_MAX (which a 32-bit
 *     truncation would turn into legal counts);
 *   - n and d (small, 0, 1, or values that overflow int or size_t; the
 *     small range shrinks as V grows, so that V = 64 stays fast), one
 *     leading dimension for every view or one per view (padding, too
 *     small, huge), likewise for the gradients;
 *   - which gradients are present (none, the array NULL, all, a mask, all
 *     but one);
 *   - a fault: ctx, z or one z[v] NULL; a gradient on a view (in place),
 *     two gradients in one buffer, a gradient starting in a view's last
 *     row; or (legal) one view passed twice;
 *   - a split of the n rows into 1 to 4 shards (empty ones included),
 *     whether empty shards pass z = NULL and odd shards grad = NULL, and
 *     statistics no batch can have to pass to phase 2 or 3 (a row count
 *     not whole or below 2, a negative invariance sum or scatter diagonal,
 *     NaN);
 *   - a row range for vicreg_views_loss_rows_*, a range past n, a G for
 *     the two-batch comparison, and whether the scratch query and reserve
 *     (vicreg_ctx_views_scratch_bytes, _reserve) come first;
 *   - the data: small quantised values (times 2^0..7), small values with
 *     NaN, Inf, huge, tiny and subnormal entries planted, raw bits, or
 *     values near the overflow bound.
 *
 * Invariants (a violation aborts, which libFuzzer reports as a crash):
 *   - the status is a known one and the one the arguments call for, in
 *     the order the checks of api.c take them: INVALID_ARGUMENT for ctx or
 *     z NULL, BAD_SHAPE for a view count outside 1 .. 64, INVALID_ARGUMENT
 *     for a NULL view, BAD_SHAPE or SIZE_OVERFLOW for a bad shape, OVERLAP
 *     for an overlapping gradient, BAD_SHAPE for G > V, NON_FINITE for
 *     NaN/Inf in a view, OK for finite data up to 512 in magnitude whatever
 *     the legal parameters, OK or OVERFLOW above that;
 *   - the views (and their padding, which holds NaN) are never written;
 *   - on error the loss and every gradient buffer, with guard bytes around
 *     it, keep their bytes and the context keeps the terms of its last
 *     successful call; vicreg_views_loss_rows_* over all rows gives the same
 *     status, and so does vicreg_loss_* when V = 2 and G <= 2;
 *   - on success the loss is finite, non-negative and VICREG_TERM_LOSS;
 *     every gradient entry is finite; the padding and guards are untouched;
 *     the invariance s_bar is finite, non-negative, 0 for one view; every
 *     per-view term is finite and within its range (hinge in [0, gamma],
 *     covariance >= 0, stds >= sqrt(eps), min <= mean, fraction in [0, 1],
 *     effective rank in [0, d]), view V has none, the _A / _B terms are
 *     those of views 0 and 1, and the loss is lambda s_bar + mu w sum v +
 *     nu sum c of them;
 *   - vicreg_views_loss_rows_* over all rows on a fresh context with the
 *     same parameters gives the same bits; over the decoded row range the
 *     same loss and terms bit for bit and the rows' gradients to rounding;
 *     a row range past n is BAD_SHAPE and writes nothing;
 *   - V = 2: vicreg_loss_* on a fresh context (whatever its G) gives the
 *     same loss, gradients and terms bit for bit;
 *   - the sharded phases over the split, one context per shard: a shard
 *     holding NaN/Inf gets NON_FINITE from phase 1, G > V gets BAD_SHAPE
 *     from phase 1, an overlapping gradient gets OVERLAP from phase 3 on
 *     every shard with rows, corrupt statistics get the status they call
 *     for on every shard, small data succeeds throughout; on error the
 *     buffers the phase writes keep their bytes; on success every shard
 *     reports the same loss bit for bit, equal to its VICREG_TERM_LOSS,
 *     finite, with finite gradient rows and untouched guards; for the
 *     small quantised data the loss and gradient rows equal the one call's
 *     up to rounding, with a tolerance scaled by the parameters, the data
 *     and the precision (as in fuzz_shard.c); and with V = 2 the 1.1 phases
 *     give the same statistics, loss and gradients bit for bit;
 *   - the scratch query gives the status the shape calls for, the reserve
 *     agrees with it, and for two views it is the two-batch query.
 *
 * Build: meson setup -Dfuzz=true with CC=clang (tests/meson.build).
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

#define MAX_V VICREG_MAX_VIEWS
#define CAP_V (VICREG_MAX_VIEWS + 1) /* room for the count just past the limit */
#define MAX_PAD 3
#define MAX_CASES 3
#define MAX_SHARDS 4
#define MODERATE 512.0 /* finite data up to this must succeed */

/* The small shapes, smaller for many views so that V = 64 stays fast. */
static size_t max_rows(size_t views)
{
    return views <= 4 ? 24 : views <= 8 ? 16 : 8;
}

static size_t max_cols(size_t views)
{
    return views <= 4 ? 16 : views <= 8 ? 12 : 8;
}

/* ---------------------------------------------------------------------
 * Reading the input
 * --------------------------------------------------------------------- */
static size_t view_count(struct reader *r)
{
    static const size_t edge[] = {
        0, VICREG_MAX_VIEWS + 1, SIZE_MAX, ((size_t)1 << 32) + 1, ((size_t)1 << 32) + 2,
        VICREG_MAX_VIEWS, VICREG_MAX_VIEWS - 1, 256 + 2, (size_t)INT_MAX + 3,
    };
    const uint8_t b = byte(r);
    if (b < 128)
        return 1 + b % 4;
    if (b < 192)
        return 1 + b % 8;
    if (b < 232)
        return 1 + b % VICREG_MAX_VIEWS;
    return edge[b % (sizeof edge / sizeof edge[0])];
}

/* A leading dimension relative to d, as in fuzz_loss.c. */
static size_t leading(struct reader *r, size_t d, size_t cols)
{
    const uint8_t b = byte(r);
    if (b < 150)
        return d;
    if (b < 220)
        return d + 1 + b % MAX_PAD;
    if (b < 235)
        return d - 1 - (b & 1); /* too small (wraps for d = 0: huge) */
    return dimension(r, cols + MAX_PAD);
}

enum fault {
    F_NONE,
    F_NULL_CTX,
    F_NULL_Z,
    F_NULL_VIEW, /* z[a] NULL */
    F_IN_PLACE,  /* grad[a] = z[b] */
    F_SHARED,    /* grad[a] = grad[b], a != b */
    F_INTO,      /* grad[a] starts in z[b]'s last row */
    F_ALIAS,     /* z[a] = z[b]: legal */
    F_COUNT
};

static int is_overlap(int fault)
{
    return fault == F_IN_PLACE || fault == F_SHARED || fault == F_INTO;
}

/* A value of the data stream: mode 0 small (multiples of 1/32 in [-4, 4),
 * times scale), 1 small with specials planted, 2 raw bits, 3 near the
 * overflow bound; cast to float for the f32 calls. */
static double data_value(struct reader *r, int mode, int f64, double scale)
{
    double v;
    if (mode == 2) {
        if (f64) {
            uint64_t u = bits64(r);
            memcpy(&v, &u, sizeof v);
        } else {
            uint32_t u = bits32(r);
            float f;
            memcpy(&f, &u, sizeof f);
            v = f;
        }
    } else {
        const uint8_t b = byte(r);
        v = (double)(int8_t)b / 32.0;
        if (mode == 0)
            v *= scale;
        else if (mode == 3)
            v *= f64 ? 1e150 : 1e18;
        else if ((b & 0x0F) == 0x0F) {
            static const double special[] = {
                NAN,     INFINITY,  -INFINITY,   1e30,          -1e30,  FLT_MAX,
                1e300,   DBL_MAX,   FLT_MIN / 4, FLT_TRUE_MIN, 5e-324, DBL_MIN / 2,
                1e-30,   MODERATE,  -513.0,      1e5,
            };
            v = special[byte(r) % (sizeof special / sizeof special[0])];
        }
    }
    return f64 ? v : (double)(float)v;
}

static double at(int f64, const void *p, size_t k)
{
    return f64 ? ((const double *)p)[k] : (double)((const float *)p)[k];
}

static void put(int f64, void *p, size_t k, double v)
{
    if (f64)
        ((double *)p)[k] = v;
    else
        ((float *)p)[k] = (float)v;
}

static size_t extent(size_t n, size_t d, size_t ld)
{
    return (n - 1) * ld + d;
}

/* Does an n x d array with leading dimension ld fit, as the API demands?
 * (The contract, not the code: ld >= d, ld within int, bytes within
 * size_t.) */
static int ld_ok(size_t n, size_t d, size_t ld, size_t elem, int *bad_shape)
{
    if (ld < d) {
        *bad_shape = 1;
        return 0;
    }
    if (ld > INT_MAX || n - 1 > (SIZE_MAX - d) / ld)
        return 0;
    return extent(n, d, ld) <= SIZE_MAX / elem;
}

/* ---------------------------------------------------------------------
 * Pointer arrays for the calls: exactly `count` entries on the heap, so
 * that a read past them shows; typed for the precision.
 * --------------------------------------------------------------------- */
struct ptrs {
    const float **zf;
    const double **zd;
    float **gf;
    double **gd;
};

static void ptrs_make(struct ptrs *p, size_t count, void *const *z, void *const *g)
{
    memset(p, 0, sizeof *p);
    if (z) {
        p->zf = malloc(count * sizeof *p->zf);
        p->zd = malloc(count * sizeof *p->zd);
        CHECK(p->zf && p->zd, "out of memory in the harness");
        for (size_t v = 0; v < count; v++)
            p->zf[v] = z[v], p->zd[v] = z[v];
    }
    if (g) {
        p->gf = malloc(count * sizeof *p->gf);
        p->gd = malloc(count * sizeof *p->gd);
        CHECK(p->gf && p->gd, "out of memory in the harness");
        for (size_t v = 0; v < count; v++)
            p->gf[v] = g[v], p->gd[v] = g[v];
    }
}

static void ptrs_free(struct ptrs *p)
{
    free(p->zf), free(p->zd), free(p->gf), free(p->gd);
}

static int call_views(int f64, vicreg_ctx *c, size_t views, size_t n, size_t d,
                      const struct ptrs *p, const size_t *ldz, double *loss, const size_t *ldg)
{
    if (f64)
        return vicreg_views_loss_f64(c, views, n, d, p->zd, ldz, loss, p->gd, ldg);
    return vicreg_views_loss_f32(c, views, n, d, p->zf, ldz, loss, p->gf, ldg);
}

static int call_rows(int f64, vicreg_ctx *c, size_t views, size_t n, size_t d,
                     const struct ptrs *p, const size_t *ldz, size_t row0, size_t rows,
                     double *loss, const size_t *ldg)
{
    if (f64)
        return vicreg_views_loss_rows_f64(c, views, n, d, p->zd, ldz, row0, rows, loss, p->gd,
                                          ldg);
    return vicreg_views_loss_rows_f32(c, views, n, d, p->zf, ldz, row0, rows, loss, p->gf,
                                      ldg);
}

static int call_two(int f64, vicreg_ctx *c, size_t n, size_t d, const void *za, size_t lda,
                    const void *zb, size_t ldb, double *loss, void *ga, size_t ldga, void *gb,
                    size_t ldgb)
{
    if (f64)
        return vicreg_loss_f64(c, n, d, za, lda, zb, ldb, loss, ga, ldga, gb, ldgb);
    return vicreg_loss_f32(c, n, d, za, lda, zb, ldb, loss, ga, ldga, gb, ldgb);
}

/* ---------------------------------------------------------------------
 * Parameters
 * --------------------------------------------------------------------- */
/* Every parameter a context holds, G included. */
static const int all_keys[] = {
    VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF, VICREG_PARAM_COVARIANCE_COEFF,
    VICREG_PARAM_STD_TARGET,       VICREG_PARAM_EPSILON,        VICREG_PARAM_CONVENTION,
    VICREG_PARAM_PATH,             VICREG_PARAM_GRAD_SCALE,     VICREG_PARAM_GLOBAL_VIEWS,
};
#define N_KEYS (sizeof all_keys / sizeof all_keys[0])

static double get_param(const vicreg_ctx *c, int key)
{
    double v = NAN;
    CHECK(vicreg_ctx_get_param(c, key, &v) == VICREG_OK, "get_param %d", key);
    return v;
}

static vicreg_ctx *clone_params(const vicreg_ctx *from)
{
    vicreg_ctx *c;
    CHECK(vicreg_ctx_create(&c) == VICREG_OK, "create");
    for (size_t k = 0; k < N_KEYS; k++) {
        const double v = get_param(from, all_keys[k]);
        CHECK(vicreg_ctx_set_param(c, all_keys[k], v) == VICREG_OK,
              "set_param refused what get_param gave: key %d value %a", all_keys[k], v);
    }
    return c;
}

/* A setting of G for a call of `views` views: legal values at and below
 * V, values above V (legal as a parameter up to 64; the views call must
 * refuse them), and values outside the parameter's bounds (refused by
 * set_param, G kept). */
static void set_global(struct reader *r, vicreg_ctx *ctx, size_t views)
{
    const size_t vmax = views >= 1 && views <= MAX_V ? views : MAX_V;
    const uint8_t b = byte(r);
    double g;
    switch (b % 8) {
    case 0:
    case 1:
        g = 0.0;
        break;
    case 2:
        g = 1.0;
        break;
    case 3:
        g = (double)vmax;
        break;
    case 4:
        g = (double)(1 + byte(r) % vmax);
        break;
    case 5:
        g = (double)(vmax + 1);
        break;
    case 6:
        g = (double)(vmax + 1 + byte(r) % MAX_V);
        break;
    default:
        g = param_outside(r, VICREG_PARAM_GLOBAL_VIEWS);
        break;
    }
    const double before = get_param(ctx, VICREG_PARAM_GLOBAL_VIEWS);
    const int st = vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, g);
    const double after = get_param(ctx, VICREG_PARAM_GLOBAL_VIEWS);
    CHECK((st == VICREG_OK) == param_legal(VICREG_PARAM_GLOBAL_VIEWS, g),
          "G = %a: status %s", g, vicreg_status_name(st));
    if (st == VICREG_OK)
        CHECK(after == g, "G: set %a, got %a", g, after);
    else
        CHECK(st == VICREG_ERR_OUT_OF_RANGE && memcmp(&before, &after, sizeof after) == 0,
              "G = %a refused with %s, G %a -> %a", g, vicreg_status_name(st), before, after);
}

/* ---------------------------------------------------------------------
 * Terms
 * --------------------------------------------------------------------- */
static const int view_terms[] = {
    VICREG_VIEW_TERM_VARIANCE,  VICREG_VIEW_TERM_COVARIANCE,
    VICREG_VIEW_TERM_MEAN_STD,  VICREG_VIEW_TERM_MIN_STD,
    VICREG_VIEW_TERM_COLLAPSED_FRACTION, VICREG_VIEW_TERM_EFFECTIVE_RANK,
};
#define N_VTERMS (sizeof view_terms / sizeof view_terms[0])
/* The VICREG_TERM_* keys of branches A and B for each view term. */
static const int branch_terms[N_VTERMS][2] = {
    { VICREG_TERM_VARIANCE_A, VICREG_TERM_VARIANCE_B },
    { VICREG_TERM_COVARIANCE_A, VICREG_TERM_COVARIANCE_B },
    { VICREG_TERM_MEAN_STD_A, VICREG_TERM_MEAN_STD_B },
    { VICREG_TERM_MIN_STD_A, VICREG_TERM_MIN_STD_B },
    { VICREG_TERM_COLLAPSED_FRACTION_A, VICREG_TERM_COLLAPSED_FRACTION_B },
    { VICREG_TERM_EFFECTIVE_RANK_A, VICREG_TERM_EFFECTIVE_RANK_B },
};

/* What the context reports of its last successful call, for the
 * comparison after an error. */
struct term_state {
    int st_loss, st_view;
    double loss, view;
};

static void term_state(const vicreg_ctx *c, struct term_state *t)
{
    memset(t, 0, sizeof *t);
    t->st_loss = vicreg_ctx_get_term(c, VICREG_TERM_LOSS, &t->loss);
    t->st_view = vicreg_ctx_get_view_term(c, VICREG_VIEW_TERM_MEAN_STD, 0, &t->view);
}

static int term_state_same(const struct term_state *a, const struct term_state *b)
{
    return a->st_loss == b->st_loss && a->st_view == b->st_view &&
           (a->st_loss != VICREG_OK || memcmp(&a->loss, &b->loss, sizeof a->loss) == 0) &&
           (a->st_view != VICREG_OK || memcmp(&a->view, &b->view, sizeof a->view) == 0);
}

/* Every term of the last call, the per-view ones of views 0 .. views - 1,
 * for bitwise comparisons (NaN where a term is not available). */
#define N_TERMS 15
static const int plain_terms[N_TERMS] = {
    VICREG_TERM_LOSS, VICREG_TERM_INVARIANCE, VICREG_TERM_VARIANCE_A, VICREG_TERM_VARIANCE_B,
    VICREG_TERM_COVARIANCE_A, VICREG_TERM_COVARIANCE_B, VICREG_TERM_MEAN_STD_A,
    VICREG_TERM_MEAN_STD_B, VICREG_TERM_MIN_STD_A, VICREG_TERM_MIN_STD_B,
    VICREG_TERM_COLLAPSED_FRACTION_A, VICREG_TERM_COLLAPSED_FRACTION_B,
    VICREG_TERM_EFFECTIVE_RANK_A, VICREG_TERM_EFFECTIVE_RANK_B, VICREG_TERM_PATH_USED,
};

static void all_terms(const vicreg_ctx *c, size_t views, double *out)
{
    for (size_t k = 0; k < N_TERMS; k++) {
        out[k] = NAN;
        vicreg_ctx_get_term(c, plain_terms[k], &out[k]);
    }
    for (size_t v = 0; v < views; v++)
        for (size_t k = 0; k < N_VTERMS; k++) {
            out[N_TERMS + v * N_VTERMS + k] = NAN;
            vicreg_ctx_get_view_term(c, view_terms[k], v, &out[N_TERMS + v * N_VTERMS + k]);
        }
}
#define TERMS_LEN(views) (N_TERMS + (views) * N_VTERMS)

/* The terms after a successful views call of `views` views (1 .. 64)
 * that returned `loss`. */
static void check_terms(const vicreg_ctx *c, int f64, size_t views, size_t n, size_t d,
                        double loss)
{
    double t = NAN, inv = NAN, path = NAN;
    CHECK(vicreg_ctx_get_term(c, VICREG_TERM_LOSS, &t) == VICREG_OK &&
              memcmp(&t, &loss, sizeof t) == 0,
          "loss %.17g, VICREG_TERM_LOSS %.17g", loss, t);
    CHECK(vicreg_ctx_get_term(c, VICREG_TERM_INVARIANCE, &inv) == VICREG_OK, "invariance");
    CHECK(isfinite(inv) && inv >= 0.0, "invariance %g", inv);
    CHECK(views > 1 || inv == 0.0, "one view: invariance %g", inv);
    CHECK(vicreg_ctx_get_term(c, VICREG_TERM_PATH_USED, &path) == VICREG_OK &&
              (path == VICREG_PATH_COVARIANCE || path == VICREG_PATH_GRAM),
          "path used %g", path);
    const double lambda = get_param(c, VICREG_PARAM_INVARIANCE_COEFF),
                 mu = get_param(c, VICREG_PARAM_VARIANCE_COEFF),
                 nu = get_param(c, VICREG_PARAM_COVARIANCE_COEFF),
                 gamma = get_param(c, VICREG_PARAM_STD_TARGET),
                 eps = get_param(c, VICREG_PARAM_EPSILON);
    const double w =
        get_param(c, VICREG_PARAM_CONVENTION) == VICREG_CONVENTION_PAPER ? 1.0 : 1.0 / views;
    double hinge_sum = 0.0, cov_sum = 0.0;
    for (size_t v = 0; v <= views; v++) {
        double x[N_VTERMS];
        for (size_t k = 0; k < N_VTERMS; k++) {
            x[k] = NAN;
            const int st = vicreg_ctx_get_view_term(c, view_terms[k], v, &x[k]);
            if (v == views) {
                CHECK(st == VICREG_ERR_NO_RESULT, "view term %d of view %zu of %zu: %s",
                      view_terms[k], v, views, vicreg_status_name(st));
                continue;
            }
            CHECK(st == VICREG_OK && isfinite(x[k]) && x[k] >= 0.0,
                  "view %zu term %d: %s, %g", v, view_terms[k], vicreg_status_name(st), x[k]);
            if (v < 2) {
                double b = NAN;
                const int sb = vicreg_ctx_get_term(c, branch_terms[k][v], &b);
                CHECK(sb == VICREG_OK && memcmp(&b, &x[k], sizeof b) == 0,
                      "term %d %g (%s) != view %zu term %d %g", branch_terms[k][v], b,
                      vicreg_status_name(sb), v, view_terms[k], x[k]);
            }
        }
        if (v == views)
            break;
        /* v = (1/d) sum max(0, gamma - s_j) with s_j >= sqrt(eps). */
        CHECK(x[0] <= gamma * (1.0 + 1e-12), "view %zu: hinge %g above gamma %g", v, x[0],
              gamma);
        CHECK(x[3] >= sqrt(eps) * (1.0 - 1e-12) && x[3] <= x[2] * (1.0 + 1e-12),
              "view %zu: min std %g, mean std %g, sqrt(eps) %g", v, x[3], x[2], sqrt(eps));
        CHECK(x[4] <= 1.0, "view %zu: collapsed fraction %g", v, x[4]);
        CHECK(x[5] <= (double)d * (1.0 + (f64 ? 1e-10 : 1e-4)),
              "view %zu: effective rank %g above d = %zu (n %zu)", v, x[5], d, n);
        hinge_sum += x[0];
        cov_sum += x[1];
    }
    if (views == 1) {
        double b;
        CHECK(vicreg_ctx_get_term(c, VICREG_TERM_VARIANCE_B, &b) == VICREG_ERR_NO_RESULT,
              "one view: a _B term");
    }
    /* The loss is the sum of the weighted terms. */
    const double parts[3] = { lambda * inv, mu * w * hinge_sum, nu * cov_sum };
    const double sum = parts[0] + parts[1] + parts[2];
    CHECK(fabs(sum - loss) <= 1e-12 * (parts[0] + parts[1] + parts[2]) + 1e-300,
          "loss %.17g, lambda s + mu w sum v + nu sum c = %.17g", loss, sum);
}

/* ---------------------------------------------------------------------
 * One case
 * --------------------------------------------------------------------- */
struct vcase {
    int f64;
    size_t elem;
    size_t views; /* as passed */
    size_t na;    /* entries of the pointer and ld arrays */
    size_t nv;    /* views with buffers: views when legal, else 0 */
    size_t n, d;
    double global;
    int loss_null, ldz_null, ldg_null, grad_null;
    size_t ld[CAP_V], ldg[CAP_V]; /* in effect (d for a NULL array) */
    int has_grad[CAP_V];
    int fault;
    size_t fa, fb;
    int mode;
    double scale;
    size_t shards, row0[MAX_SHARDS + 1];
    int null_empty, null_grad_odd;
    int corrupt;         /* statistics passed to phase 2 or 3 that no batch has */
    int reserve;         /* the scratch query and reserve before the call */
    size_t sub0, subn;  /* the row range of the rows call */
    size_t past0, pastn; /* a row range past n */
    double g_two;        /* G of the two-batch comparison's context */
    /* The arrays. */
    struct buf zbuf[CAP_V], gbuf[CAP_V];
    void *z[CAP_V];    /* what each view passes */
    void *slot[CAP_V]; /* what each gradient passes */
    size_t *ldz_arr, *ldg_arr;
    int valid, finite, moderate;
};

/* The noise scales of a comparison of two computations of the same loss
 * and gradients that round differently (the sharded phases, a row range),
 * from the parameters and the column statistics of the views in double:
 * fuzz_shard.c's for V views. */
struct noise {
    double loss, grad;
    int kink; /* a column's std on gamma: the hinge's gradient jumps */
};

static double mul0(double a, double b)
{
    return a == 0.0 || b == 0.0 ? 0.0 : a * b;
}

static void noise_of(const struct vcase *c, const vicreg_ctx *ctx, struct noise *out)
{
    const double lambda = get_param(ctx, VICREG_PARAM_INVARIANCE_COEFF),
                 mu = get_param(ctx, VICREG_PARAM_VARIANCE_COEFF),
                 nu = get_param(ctx, VICREG_PARAM_COVARIANCE_COEFF),
                 gamma = get_param(ctx, VICREG_PARAM_STD_TARGET),
                 eps = get_param(ctx, VICREG_PARAM_EPSILON),
                 gs = get_param(ctx, VICREG_PARAM_GRAD_SCALE);
    const int paper = get_param(ctx, VICREG_PARAM_CONVENTION) == VICREG_CONVENTION_PAPER;
    const double nn = (double)c->n, dd = (double)c->d, n1 = nn - 1.0, vv = (double)c->views;
    const double w = paper ? 1.0 : 1.0 / vv, inv_scale = paper ? 1.0 / nn : 1.0 / (nn * dd);
    const double kink_rel = c->f64 ? 1e-9 : 1e-5;
    double zabs = 0.0, smax = 0.0, smin = INFINITY;
    int kink = 0;
    for (size_t v = 0; v < c->views; v++)
        for (size_t j = 0; j < c->d; j++) {
            double mean = 0.0, var = 0.0;
            for (size_t i = 0; i < c->n; i++) {
                const double x = at(c->f64, c->z[v], i * c->ld[v] + j);
                mean += x;
                zabs = fmax(zabs, fabs(x));
            }
            mean /= nn;
            for (size_t i = 0; i < c->n; i++) {
                const double x = at(c->f64, c->z[v], i * c->ld[v] + j) - mean;
                var += x * x;
            }
            var /= n1;
            const double sj = sqrt(var + eps);
            smax = fmax(smax, sj);
            if (var > 0.0 && sj < gamma * (1.0 + kink_rel))
                smin = fmin(smin, sj);
            if (fabs(sj - gamma) <= kink_rel * gamma)
                kink = 1;
        }
    const double zc = 2.0 * zabs; /* bounds every centred entry and difference */
    out->loss = mul0(mu * w * vv, 2.0 * smax) + mul0(nu, 16.0 * dd * vv * pow(zc, 4.0)) +
                mul0(lambda * inv_scale, nn * dd * zc * zc);
    /* A gradient entry's parts: invariance (the weights of a view's pairs
     * over their total are at most 2), hinge, covariance. */
    const double hinge = isfinite(smin) ? mul0(mu * w / (dd * n1), zc / smin) : 0.0;
    out->grad = mul0(gs, mul0(8.0 * lambda * inv_scale, zabs) + hinge +
                             mul0(4.0 * nu * nn, pow(zc, 3.0) / (n1 * n1)));
    out->kink = kink;
}

static int loss_close(int f64, double a, double b, const struct noise *z)
{
    const double rel = f64 ? 1e-9 : 1e-5, k = f64 ? 1e-12 : 1e-4;
    return fabs(a - b) <= rel * fabs(a) + 1e-12 + k * z->loss;
}

static int grad_close(int f64, double err, double big, const struct noise *z)
{
    const double rel = f64 ? 1e-8 : 1e-5, k = f64 ? 1e-12 : 1e-4;
    return z->kink || err <= rel * (big + 1e-6) + k * z->grad;
}

/* The decoded case, read front to back. */
static void decode(struct reader *r, vicreg_ctx *ctx, struct vcase *c)
{
    memset(c, 0, sizeof *c);
    const uint8_t flags = byte(r);
    c->f64 = flags & 1;
    c->elem = c->f64 ? sizeof(double) : sizeof(float);
    c->mode = (flags >> 1) & 3;
    c->loss_null = (flags >> 3) & 1;
    c->ldz_null = (flags >> 4) & 1;
    c->ldg_null = (flags >> 5) & 1;
    if (flags & 0x40) {
        struct param_block pb;
        param_block_read(r, &pb);
        param_block_apply(ctx, &pb);
    }
    c->views = view_count(r);
    if (flags & 0x80)
        set_global(r, ctx, c->views);
    c->global = get_param(ctx, VICREG_PARAM_GLOBAL_VIEWS);
    c->scale = c->mode == 0 ? ldexp(1.0, byte(r) % 8) : 1.0;

    const int legal = c->views >= 1 && c->views <= MAX_V;
    c->nv = legal ? c->views : 0;
    c->na = legal ? c->views : c->views == MAX_V + 1 ? MAX_V + 1 : 1;
    const size_t views_cap = legal ? c->views : 1;
    const size_t rmax = max_rows(views_cap), cmax = max_cols(views_cap);
    c->n = dimension(r, rmax);
    c->d = dimension(r, cmax);
    const size_t n = c->n, d = c->d;

    /* Leading dimensions: one for all, or one per view. */
    for (int pass = 0; pass < 2; pass++) {
        size_t *ld = pass ? c->ldg : c->ld;
        if (pass ? c->ldg_null : c->ldz_null) {
            for (size_t v = 0; v < CAP_V; v++)
                ld[v] = d;
            continue;
        }
        const uint8_t m = byte(r);
        const size_t one = leading(r, d, cmax);
        for (size_t v = 0; v < CAP_V; v++)
            ld[v] = m < 128 || v >= c->nv ? one : leading(r, d, cmax);
    }
    /* The gradients present. */
    const uint8_t gm = byte(r);
    c->grad_null = gm % 4 == 0;
    const size_t skip = gm % 4 == 3 && c->nv ? byte(r) % c->nv : SIZE_MAX;
    uint8_t mask = 0;
    for (size_t v = 0; v < c->nv; v++) {
        if (gm % 4 == 2 && v % 8 == 0)
            mask = byte(r);
        c->has_grad[v] = gm % 4 == 1 || (gm % 4 == 2 && (mask >> (v % 8)) & 1) ||
                         (gm % 4 == 3 && v != skip);
    }
    /* A fault. */
    const uint8_t fb = byte(r);
    c->fault = fb < 160 ? F_NONE : 1 + fb % (F_COUNT - 1);
    if (c->fault >= F_NULL_VIEW && !c->nv)
        c->fault = F_NONE; /* no view to pick */
    if (c->fault >= F_NULL_VIEW) {
        c->fa = byte(r) % c->nv;
        c->fb = byte(r) % c->nv;
        if ((c->fault == F_SHARED || c->fault == F_ALIAS) && c->nv < 2)
            c->fault = c->fault == F_SHARED ? F_IN_PLACE : F_NONE;
        else if ((c->fault == F_SHARED || c->fault == F_ALIAS) && c->fa == c->fb)
            c->fb = (c->fa + 1) % c->nv;
    }
    if (c->fault == F_SHARED)
        c->has_grad[c->fb] = 1;
    if (is_overlap(c->fault)) {
        c->grad_null = 0;
        /* Half the time the overlapping gradient has the leading dimension
         * of what it overlaps, so that every shard's rows overlap too (the
         * sharded phases are run on it then). */
        if (!c->ldg_null && byte(r) & 1) {
            if (c->fault == F_IN_PLACE)
                c->ldg[c->fa] = c->ld[c->fb];
            if (c->fault == F_SHARED)
                c->ldg[c->fa] = c->ldg[c->fb];
        }
    }
    if (c->fault == F_ALIAS)
        c->ld[c->fa] = c->ld[c->fb];
    /* The split into shards, the row ranges, the two-batch G. */
    const uint8_t sb = byte(r);
    c->shards = 1 + sb % MAX_SHARDS;
    c->null_empty = (sb >> 2) & 1;
    c->null_grad_odd = (sb >> 3) & 1;
    c->corrupt = (sb >> 4) & 7;
    const size_t nsmall = n <= rmax ? n : 0;
    size_t cut[MAX_SHARDS];
    for (size_t k = 0; k + 1 < c->shards; k++) {
        cut[k] = byte(r) % (nsmall + 1);
        for (size_t l = k; l > 0 && cut[l - 1] > cut[l]; l--) {
            const size_t t = cut[l];
            cut[l] = cut[l - 1], cut[l - 1] = t;
        }
    }
    c->row0[0] = 0;
    for (size_t k = 0; k + 1 < c->shards; k++)
        c->row0[k + 1] = cut[k];
    c->row0[c->shards] = nsmall;
    c->sub0 = byte(r) % (nsmall + 1);
    c->subn = byte(r) % (nsmall - c->sub0 + 1);
    const uint8_t pb = byte(r);
    c->past0 = pb & 1 ? nsmall + 1 : pb % (nsmall + 1);
    c->pastn = pb & 1 ? (size_t)(pb >> 1) % 2 : nsmall - c->past0 + 1 + (pb >> 1) % 3;
    const uint8_t gt = byte(r);
    c->g_two = (double)((gt & 0x7F) % (MAX_V + 1));
    c->reserve = gt >> 7;
}

/* The shape rules of the contract for the decoded case: bad_shape and
 * whether every array fits; then whether the buffers can hold it. */
static int shape_valid(vicreg_ctx *ctx, struct vcase *c, int *bad_shape, int *too_big)
{
    const size_t n = c->n, d = c->d, cols = max_cols(c->nv ? c->nv : 1);
    *bad_shape = n < 2 || d == 0;
    *too_big = 0;
    if (*bad_shape || n > INT_MAX || d > INT_MAX || !c->nv)
        return 0;
    int fits = 1;
    for (size_t v = 0; v < c->nv; v++) {
        fits &= ld_ok(n, d, c->ld[v], c->elem, bad_shape);
        if (!c->grad_null && (c->has_grad[v] || (is_overlap(c->fault) && v == c->fa)))
            fits &= ld_ok(n, d, c->ldg[v], c->elem, bad_shape);
    }
    if (!fits || *bad_shape)
        return 0;
    size_t bytes;
    const int st = vicreg_ctx_views_scratch_bytes(
        ctx, c->views, n, d, c->f64 ? VICREG_PRECISION_F64 : VICREG_PRECISION_F32, &bytes);
    CHECK(st == VICREG_OK || st == VICREG_ERR_SIZE_OVERFLOW, "views_scratch_bytes: %s",
          vicreg_status_name(st));
    if (st != VICREG_OK)
        return 0;
    *too_big = n > max_rows(c->nv) || d > cols;
    for (size_t v = 0; v < c->nv; v++)
        *too_big |= c->ld[v] > cols + MAX_PAD ||
                    (!c->grad_null && c->has_grad[v] && c->ldg[v] > cols + MAX_PAD);
    return 1;
}

/* Builds the buffers and the data of a decoded case. */
static void build(struct reader *r, struct vcase *c)
{
    const size_t n = c->n, d = c->d, elem = c->elem;
    const size_t rows = n >= 1 && n <= 24 ? n : 2, cols = d >= 1 && d <= 16 ? d : 1;
    const size_t bufs = c->nv ? c->nv : 1;
    for (size_t v = 0; v < bufs; v++) {
        const size_t count = c->valid ? extent(n, d, c->ld[v]) : rows * cols;
        void *p = buf_make(&c->zbuf[v], count * elem);
        for (size_t k = 0; k < count; k++) {
            const double x = data_value(r, c->mode, c->f64, c->scale);
            put(c->f64, p, k, !c->valid || k % c->ld[v] < d ? x : NAN);
        }
    }
    for (size_t v = 0; v < c->na; v++)
        c->z[v] = c->nv ? c->zbuf[v].raw + FUZZ_GUARD : c->zbuf[0].raw + FUZZ_GUARD;
    for (size_t v = 0; v < c->nv; v++) {
        if (!c->has_grad[v] || c->grad_null)
            continue;
        const size_t count = c->valid ? extent(n, d, c->ldg[v]) : rows * cols;
        c->slot[v] = buf_make(&c->gbuf[v], count * elem);
    }
    switch (c->fault) {
    case F_NULL_VIEW:
        c->z[c->fa] = NULL;
        break;
    case F_IN_PLACE:
        c->slot[c->fa] = c->z[c->fb];
        break;
    case F_SHARED:
        c->slot[c->fa] = c->slot[c->fb];
        break;
    case F_INTO:
        c->slot[c->fa] = (char *)c->z[c->fb] + (c->valid ? (n - 1) * c->ld[c->fb] * elem : 0);
        break;
    case F_ALIAS:
        c->z[c->fa] = c->z[c->fb];
        break;
    default:
        break;
    }
    if (!c->ldz_null) {
        c->ldz_arr = malloc(c->na * sizeof *c->ldz_arr);
        CHECK(c->ldz_arr, "out of memory in the harness");
        for (size_t v = 0; v < c->na; v++)
            c->ldz_arr[v] = c->ld[v];
    }
    if (!c->ldg_null) {
        c->ldg_arr = malloc(c->na * sizeof *c->ldg_arr);
        CHECK(c->ldg_arr, "out of memory in the harness");
        for (size_t v = 0; v < c->na; v++)
            c->ldg_arr[v] = c->ldg[v];
    }
    /* Finite and moderate over the entries in use of the views passed. */
    c->finite = c->moderate = 1;
    for (size_t v = 0; c->valid && v < c->nv; v++)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) {
                const void *zv = c->z[v] ? c->z[v] : c->zbuf[v].raw + FUZZ_GUARD;
                const double x = at(c->f64, zv, i * c->ld[v] + j);
                c->finite &= isfinite(x) != 0;
                c->moderate &= fabs(x) <= MODERATE;
            }
}

static void release(struct vcase *c)
{
    for (size_t v = 0; v < CAP_V; v++)
        free(c->zbuf[v].raw), free(c->gbuf[v].raw);
    free(c->ldz_arr), free(c->ldg_arr);
}

/* Gradient buffers like the case's (the same leading dimensions, `rows`
 * rows), for the views that have one. */
static void grads_like(const struct vcase *c, size_t rows, struct buf *g, void **slot)
{
    for (size_t v = 0; v < CAP_V; v++) {
        g[v].raw = NULL;
        slot[v] = NULL;
        if (v < c->nv && c->slot[v])
            slot[v] = buf_make(&g[v], (rows ? extent(rows, c->d, c->ldg[v]) : 1) * c->elem);
    }
}

static void grads_free(struct buf *g)
{
    for (size_t v = 0; v < CAP_V; v++)
        free(g[v].raw);
}

/* Rows i0 .. i0 + rows - 1 of the case's gradient of view v against rows
 * 0 .. rows - 1 of `other`: the largest difference and entry. */
static void grad_diff(const struct vcase *c, size_t v, size_t i0, size_t rows,
                      const void *other, double *err, double *big)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < c->d; j++) {
            const double a = at(c->f64, c->slot[v], (i0 + i) * c->ldg[v] + j);
            const double b = at(c->f64, other, i * c->ldg[v] + j);
            *err = fmax(*err, fabs(a - b));
            *big = fmax(*big, fmax(fabs(a), fabs(b)));
        }
}

static int rows_same(const struct vcase *c, size_t v, size_t i0, size_t rows,
                     const void *other)
{
    for (size_t i = 0; i < rows; i++)
        if (memcmp((const char *)c->slot[v] + (i0 + i) * c->ldg[v] * c->elem,
                   (const char *)other + i * c->ldg[v] * c->elem, c->d * c->elem))
            return 0;
    return 1;
}

/* ---------------------------------------------------------------------
 * The sharded phases
 * --------------------------------------------------------------------- */
struct shard_result {
    int status;      /* VICREG_OK, or the first error */
    double loss;
    double *sums, *scatter;
    struct buf g[CAP_V];
    void *slot[CAP_V];
};

/* The case's views (and gradient slots, or fresh buffers) split into its
 * shards, through sums -> scatter -> finish with one context per shard,
 * as separate processes would; two_batch: the 1.1 calls (V = 2). */
static void shard_run(const struct vcase *c, const vicreg_ctx *params, int two_batch,
                      struct shard_result *out)
{
    const size_t views = c->views, n = c->n, d = c->d, elem = c->elem;
    const int f64 = c->f64;
    size_t sums_len, scatter_len;
    CHECK(vicreg_shard_views_sizes(views, d, &sums_len, &scatter_len) == VICREG_OK,
          "shard_views_sizes(%zu, %zu)", views, d);
    CHECK(sums_len == 2 + views * d && scatter_len == views * (d * (d + 1) / 2),
          "shard_views_sizes: %zu %zu", sums_len, scatter_len);
    if (views == 2) {
        size_t s2, c2;
        CHECK(vicreg_shard_sizes(d, &s2, &c2) == VICREG_OK && s2 == sums_len &&
                  c2 == scatter_len,
              "shard_sizes and shard_views_sizes(2) differ");
    }
    out->sums = calloc(sums_len, sizeof(double));
    out->scatter = calloc(scatter_len, sizeof(double));
    const size_t most = sums_len > scatter_len ? sums_len : scatter_len;
    double *local = malloc(most * sizeof(double)), *keep = malloc(most * sizeof(double));
    CHECK(out->sums && out->scatter && local && keep, "out of memory in the harness");
    out->status = VICREG_OK;
    out->loss = NAN;
    /* The gradients: fresh buffers, or for an overlap fault the case's own
     * slots (which the finish phase must refuse). */
    const int overlap = is_overlap(c->fault);
    if (overlap) {
        for (size_t v = 0; v < CAP_V; v++)
            out->g[v].raw = NULL, out->slot[v] = v < c->nv ? c->slot[v] : NULL;
    } else {
        grads_like(c, n, out->g, out->slot);
    }
    unsigned char *g0[CAP_V] = { NULL };
    for (size_t v = 0; v < c->nv; v++)
        g0[v] = buf_copy(&out->g[v]);

    vicreg_ctx *ctx[MAX_SHARDS];
    for (size_t k = 0; k < c->shards; k++)
        ctx[k] = clone_params(params);
    const int g_bad = !two_batch && c->global > (double)views;
    /* Statistics that no batch can have, passed to every shard in phase 2
     * (sums) or 3 (scatter), when nothing else is wrong: a row count that
     * is not whole or below 2 (BAD_SHAPE), a negative invariance sum or
     * scatter diagonal (INVALID_ARGUMENT), NaN (NON_FINITE). */
    static const int corrupt_status[8] = {
        VICREG_OK,          VICREG_ERR_BAD_SHAPE,  VICREG_ERR_INVALID_ARGUMENT,
        VICREG_ERR_NON_FINITE, VICREG_ERR_INVALID_ARGUMENT, VICREG_ERR_NON_FINITE,
        VICREG_ERR_BAD_SHAPE, VICREG_OK,
    };
    const int corrupt = g_bad || overlap || !c->moderate ? 0 : c->corrupt;
    const int corrupt_phase = corrupt == 4 || corrupt == 5 ? 2 : 1;
    double *bad_sums = malloc(sums_len * sizeof(double));
    double *bad_scatter = malloc(scatter_len * sizeof(double));
    CHECK(bad_sums && bad_scatter, "out of memory in the harness");

    for (int phase = 0; phase < 3 && out->status == VICREG_OK; phase++) {
        const double *sums = out->sums, *scatter = out->scatter;
        const int corrupted = corrupt_status[corrupt] != VICREG_OK && phase == corrupt_phase;
        if (corrupted) {
            memcpy(bad_sums, out->sums, sums_len * sizeof(double));
            memcpy(bad_scatter, out->scatter, scatter_len * sizeof(double));
            switch (corrupt) {
            case 1:
                bad_sums[0] += 0.5;
                break;
            case 2:
                bad_sums[1] = -1.0;
                break;
            case 3:
                bad_sums[2 + (views * d - 1) * (c->row0[1] % 2)] = NAN;
                break;
            case 4:
                bad_scatter[(views - 1) * (d * (d + 1) / 2)] = -1.0;
                break;
            case 5:
                bad_scatter[scatter_len - 1] = NAN;
                break;
            default:
                bad_sums[0] = 1.0;
                break;
            }
            sums = bad_sums, scatter = bad_scatter;
        }
        for (size_t k = 0; k < c->shards && out->status == VICREG_OK; k++) {
            const size_t r0 = c->row0[k], nk = c->row0[k + 1] - r0;
            const int empty_null = nk == 0 && c->null_empty;
            void *zk[CAP_V], *gk[CAP_V];
            int bad = 0;
            for (size_t v = 0; v < views; v++) {
                zk[v] = (char *)c->z[v] + r0 * c->ld[v] * elem;
                gk[v] = out->slot[v] ? (char *)out->slot[v] + r0 * c->ldg[v] * elem : NULL;
                for (size_t i = r0; i < r0 + nk; i++)
                    for (size_t j = 0; j < d; j++)
                        bad |= !isfinite(at(f64, c->z[v], i * c->ld[v] + j));
            }
            const int grads_null = c->grad_null || (c->null_grad_odd && k % 2 == 1);
            struct ptrs p;
            ptrs_make(&p, views, empty_null ? NULL : zk, grads_null ? NULL : gk);
            const void *za = empty_null ? NULL : zk[0], *zb = empty_null ? NULL : zk[1 % views];
            void *ga = grads_null ? NULL : gk[0], *gb = grads_null ? NULL : gk[1 % views];
            const size_t lda = c->ld[0], ldb = c->ld[1 % views];
            const size_t ldga = c->ldg[0], ldgb = c->ldg[1 % views];
            const size_t len = phase == 0 ? sums_len : scatter_len;
            int st;
            double loss = -7.0;
            if (phase < 2) {
                memset(local, 0, len * sizeof(double));
                memcpy(keep, local, len * sizeof(double));
            }
            if (phase == 0) {
                st = two_batch
                         ? (f64 ? vicreg_shard_sums_f64(ctx[k], nk, d, za, lda, zb, ldb, local)
                                : vicreg_shard_sums_f32(ctx[k], nk, d, za, lda, zb, ldb, local))
                     : f64 ? vicreg_shard_views_sums_f64(ctx[k], views, nk, d, p.zd, c->ldz_arr,
                                                         local)
                           : vicreg_shard_views_sums_f32(ctx[k], views, nk, d, p.zf, c->ldz_arr,
                                                         local);
            } else if (phase == 1) {
                st = two_batch
                         ? (f64 ? vicreg_shard_scatter_f64(ctx[k], nk, d, za, lda, zb, ldb,
                                                           sums, local)
                                : vicreg_shard_scatter_f32(ctx[k], nk, d, za, lda, zb, ldb,
                                                           sums, local))
                     : f64 ? vicreg_shard_views_scatter_f64(ctx[k], views, nk, d, p.zd,
                                                            c->ldz_arr, sums, local)
                           : vicreg_shard_views_scatter_f32(ctx[k], views, nk, d, p.zf,
                                                            c->ldz_arr, sums, local);
            } else {
                st = two_batch
                         ? (f64 ? vicreg_shard_finish_f64(ctx[k], nk, d, za, lda, zb, ldb, sums,
                                                          scatter, &loss, ga, ldga, gb, ldgb)
                                : vicreg_shard_finish_f32(ctx[k], nk, d, za, lda, zb, ldb, sums,
                                                          scatter, &loss, ga, ldga, gb, ldgb))
                     : f64 ? vicreg_shard_views_finish_f64(ctx[k], views, nk, d, p.zd,
                                                           c->ldz_arr, sums, scatter, &loss,
                                                           p.gd, c->ldg_arr)
                           : vicreg_shard_views_finish_f32(ctx[k], views, nk, d, p.zf,
                                                           c->ldz_arr, sums, scatter, &loss,
                                                           p.gf, c->ldg_arr);
            }
            ptrs_free(&p);
            CHECK(known_status(st), "phase %d status %d", phase + 1, st);
            /* The status the arguments and the data call for. */
            if (corrupted)
                CHECK(st == corrupt_status[corrupt],
                      "phase %d, shard %zu of %zu rows, statistics corrupted (%d): %s",
                      phase + 1, k, nk, corrupt, vicreg_status_name(st));
            else if (phase == 0 && g_bad)
                CHECK(st == VICREG_ERR_BAD_SHAPE, "G %g > V %zu, phase 1: %s", c->global,
                      views, vicreg_status_name(st));
            else if (phase == 0 && bad)
                CHECK(st == VICREG_ERR_NON_FINITE, "shard %zu holds NaN/Inf, phase 1: %s", k,
                      vicreg_status_name(st));
            else if (phase == 2 && overlap && nk > 0 && !grads_null)
                CHECK(st == VICREG_ERR_OVERLAP, "overlapping gradient, phase 3: %s",
                      vicreg_status_name(st));
            else if (c->moderate && !g_bad)
                CHECK(st == VICREG_OK, "moderate data, phase %d, shard %zu of %zu rows: %s",
                      phase + 1, k, nk, vicreg_status_name(st));
            if (st != VICREG_OK) {
                if (phase < 2)
                    CHECK(memcmp(keep, local, len * sizeof(double)) == 0,
                          "phase %d wrote on error %s", phase + 1, vicreg_status_name(st));
                else
                    CHECK(loss == -7.0, "phase 3 wrote the loss on error");
                out->status = st;
                /* The overlap's and the corrupt statistics' refusal is the
                 * expected end: go on with the other shards, which must
                 * refuse too. */
                if ((phase == 2 && overlap) || corrupted)
                    out->status = VICREG_OK;
                else
                    break;
                continue;
            }
            if (phase < 2) {
                if (phase == 0)
                    CHECK(local[0] == (double)nk, "row count %g, want %zu", local[0], nk);
                double *acc = phase == 0 ? out->sums : out->scatter;
                for (size_t i = 0; i < len; i++)
                    acc[i] += local[i];
                continue;
            }
            CHECK(!overlap || nk == 0 || grads_null, "an overlapping gradient was accepted");
            CHECK(!corrupted, "phase 3 accepted corrupt statistics (%d)", corrupt);
            double term = NAN;
            CHECK(isfinite(loss) && loss >= 0.0, "sharded loss %g (params %s)", loss,
                  params_text(ctx[k]));
            CHECK(vicreg_ctx_get_term(ctx[k], VICREG_TERM_LOSS, &term) == VICREG_OK &&
                      memcmp(&term, &loss, sizeof loss) == 0,
                  "shard %zu: loss %.17g, VICREG_TERM_LOSS %.17g", k, loss, term);
            if (isnan(out->loss))
                out->loss = loss;
            CHECK(memcmp(&loss, &out->loss, sizeof loss) == 0,
                  "shard %zu: loss %.17g, an earlier shard %.17g", k, loss, out->loss);
            for (size_t v = 0; v < views && !grads_null; v++)
                for (size_t i = r0; out->slot[v] && i < r0 + nk; i++)
                    for (size_t j = 0; j < d; j++)
                        CHECK(isfinite(at(f64, out->slot[v], i * c->ldg[v] + j)),
                              "shard %zu: VICREG_OK with grad[%zu][%zu][%zu] = %g (%s, N %zu, "
                              "d %zu, V %zu; params %s)",
                              k, v, i, j, at(f64, out->slot[v], i * c->ldg[v] + j),
                              f64 ? "f64" : "f32", n, d, views, params_text(ctx[k]));
        }
        if (corrupted) {
            /* Every shard refused them: no result. */
            out->status = corrupt_status[corrupt];
            break;
        }
    }
    free(bad_sums), free(bad_scatter);
    /* The fresh gradient buffers: never written outside their n x d part,
     * nor at all on error. */
    for (size_t v = 0; v < c->nv; v++) {
        if (!g0[v])
            continue;
        if (out->status != VICREG_OK)
            CHECK(buf_same(&out->g[v], g0[v]), "gradient %zu written by failed phases", v);
        else
            CHECK(untouched_outside(&out->g[v], g0[v], elem, n, d, c->ldg[v]),
                  "sharded gradient %zu written outside its n x d part", v);
        free(g0[v]);
    }
    for (size_t k = 0; k < c->shards; k++)
        vicreg_ctx_destroy(ctx[k]);
    free(local), free(keep);
}

static void shard_free(struct shard_result *s)
{
    free(s->sums), free(s->scatter);
    grads_free(s->g);
}

/* The sharded phases of a case whose one call succeeded (or failed on
 * the data or G only), against that call. */
static void check_sharded(const struct vcase *c, const vicreg_ctx *ctx, int one_status,
                          double one_loss)
{
    struct shard_result s;
    shard_run(c, ctx, 0, &s);
    const int overlap = is_overlap(c->fault);
    if (!overlap && one_status == VICREG_OK && s.status == VICREG_OK && c->mode == 0) {
        /* Small quantised data: the one call up to rounding. */
        struct noise z;
        noise_of(c, ctx, &z);
        CHECK(loss_close(c->f64, one_loss, s.loss, &z),
              "V %zu: sharded loss %.17g, one call %.17g (noise %g; params %s)", c->views,
              s.loss, one_loss, z.loss, params_text(ctx));
        double err = 0.0, big = 0.0;
        for (size_t k = 0; k < c->shards; k++) {
            if (c->null_grad_odd && k % 2 == 1)
                continue;
            const size_t r0 = c->row0[k], nk = c->row0[k + 1] - r0;
            for (size_t v = 0; v < c->nv; v++)
                if (s.slot[v])
                    grad_diff(c, v, r0, nk,
                              (const char *)s.slot[v] + r0 * c->ldg[v] * c->elem, &err, &big);
        }
        CHECK(grad_close(c->f64, err, big, &z),
              "V %zu (%s, N %zu, d %zu, %zu shards): sharded gradient rows differ by %g "
              "(largest %g, noise scale %g; params %s)",
              c->views, c->f64 ? "f64" : "f32", c->n, c->d, c->shards, err, big, z.grad,
              params_text(ctx));
    }
    if (c->views == 2 && !overlap) {
        /* The 1.1 phases are these with two views, bit for bit. */
        struct shard_result t;
        shard_run(c, ctx, 1, &t);
        const int g_bad = c->global > 2.0;
        CHECK(g_bad || t.status == s.status, "1.1 phases %s, views phases %s",
              vicreg_status_name(t.status), vicreg_status_name(s.status));
        if (s.status == VICREG_OK && t.status == VICREG_OK) {
            CHECK(memcmp(s.sums, t.sums, (2 + 2 * c->d) * sizeof(double)) == 0,
                  "V = 2: the views sums differ from the 1.1 sums");
            CHECK(memcmp(s.scatter, t.scatter, c->d * (c->d + 1) * sizeof(double)) == 0,
                  "V = 2: the views scatter differs from the 1.1 scatter");
            CHECK(memcmp(&s.loss, &t.loss, sizeof s.loss) == 0,
                  "V = 2: views loss %.17g, 1.1 loss %.17g", s.loss, t.loss);
            for (size_t v = 0; v < 2; v++)
                for (size_t k = 0; s.slot[v] && k < c->shards; k++) {
                    if (c->null_grad_odd && k % 2 == 1)
                        continue;
                    for (size_t i = c->row0[k]; i < c->row0[k + 1]; i++)
                        CHECK(memcmp((char *)s.slot[v] + i * c->ldg[v] * c->elem,
                                     (char *)t.slot[v] + i * c->ldg[v] * c->elem,
                                     c->d * c->elem) == 0,
                              "V = 2: sharded gradient %zu row %zu differs from the 1.1 one",
                              v, i);
                }
        }
        shard_free(&t);
    }
    shard_free(&s);
}

/* The scratch query and reserve of the case's shape: the status the
 * shape calls for, the reserve agreeing with the query, the two-batch
 * query the views one for two views, an unknown precision refused. */
static void scratch_query(vicreg_ctx *ctx, const struct vcase *c)
{
    const int prec = c->f64 ? VICREG_PRECISION_F64 : VICREG_PRECISION_F32;
    size_t bytes = 0, bytes2 = 0;
    const int st = vicreg_ctx_views_scratch_bytes(ctx, c->views, c->n, c->d, prec, &bytes);
    CHECK(known_status(st), "views_scratch_bytes: %d", st);
    if (!c->nv || c->n < 2 || c->d == 0)
        CHECK(st == VICREG_ERR_BAD_SHAPE, "views_scratch_bytes V %zu n %zu d %zu: %s",
              c->views, c->n, c->d, vicreg_status_name(st));
    else if (c->n > INT_MAX || c->d > INT_MAX)
        CHECK(st == VICREG_ERR_SIZE_OVERFLOW, "views_scratch_bytes n %zu d %zu: %s", c->n,
              c->d, vicreg_status_name(st));
    else
        CHECK(st == VICREG_OK || st == VICREG_ERR_SIZE_OVERFLOW, "views_scratch_bytes: %s",
              vicreg_status_name(st));
    if (st == VICREG_OK && bytes <= ((size_t)1 << 22))
        CHECK(vicreg_ctx_views_reserve(ctx, c->views, c->n, c->d, prec) == VICREG_OK,
              "views_reserve of %zu bytes", bytes);
    else if (st != VICREG_OK)
        CHECK(vicreg_ctx_views_reserve(ctx, c->views, c->n, c->d, prec) == st,
              "views_reserve and views_scratch_bytes differ");
    if (c->views == 2) {
        const int s2 = vicreg_ctx_scratch_bytes(ctx, c->n, c->d, prec, &bytes2);
        CHECK(s2 == st && (st != VICREG_OK || bytes2 == bytes),
              "scratch_bytes %s %zu, views_scratch_bytes(2) %s %zu", vicreg_status_name(s2),
              bytes2, vicreg_status_name(st), bytes);
    }
    CHECK(vicreg_ctx_views_scratch_bytes(ctx, c->views, c->n, c->d, 3, &bytes2) ==
              VICREG_ERR_INVALID_ARGUMENT,
          "views_scratch_bytes with precision 3");
    CHECK(vicreg_ctx_views_scratch_bytes(ctx, c->views, c->n, c->d, prec, NULL) ==
              VICREG_ERR_INVALID_ARGUMENT,
          "views_scratch_bytes into NULL");
}

static void one_case(struct reader *r, vicreg_ctx *ctx)
{
    struct vcase c;
    decode(r, ctx, &c);
    int bad_shape, too_big;
    c.valid = shape_valid(ctx, &c, &bad_shape, &too_big);
    if (c.valid && too_big)
        return; /* the library would rightly read past the buffers */
    build(r, &c);
    const size_t views = c.views, n = c.n, d = c.d, elem = c.elem;
    const int f64 = c.f64;
    const int null_ctx = c.fault == F_NULL_CTX, null_z = c.fault == F_NULL_Z;
    const int legal = c.nv > 0, g_bad = legal && c.global > (double)views;

    /* Snapshots. */
    unsigned char *z0[CAP_V] = { NULL }, *g0[CAP_V] = { NULL };
    for (size_t v = 0; v < CAP_V; v++)
        z0[v] = buf_copy(&c.zbuf[v]), g0[v] = buf_copy(&c.gbuf[v]);
    struct term_state ts0, ts1;
    term_state(ctx, &ts0);
    const double sentinel = -12345.678;
    double loss = sentinel, one_loss = NAN;

    if (c.reserve)
        scratch_query(ctx, &c);
    struct ptrs p;
    ptrs_make(&p, c.na, null_z ? NULL : c.z, c.grad_null ? NULL : c.slot);
    const int status = call_views(f64, null_ctx ? NULL : ctx, views, n, d, &p, c.ldz_arr,
                                  c.loss_null ? NULL : &loss, c.ldg_arr);

    /* The status is known, and the one the arguments call for. */
    CHECK(known_status(status), "status %d", status);
    const int shape_class = status == VICREG_ERR_BAD_SHAPE || status == VICREG_ERR_SIZE_OVERFLOW;
    if (null_ctx || null_z)
        CHECK(status == VICREG_ERR_INVALID_ARGUMENT, "ctx or z NULL: %s",
              vicreg_status_name(status));
    else if (!legal)
        CHECK(status == VICREG_ERR_BAD_SHAPE, "view count %zu: %s", views,
              vicreg_status_name(status));
    else if (c.fault == F_NULL_VIEW)
        CHECK(status == VICREG_ERR_INVALID_ARGUMENT, "z[%zu] NULL: %s", c.fa,
              vicreg_status_name(status));
    else if (bad_shape && n >= 2 && d >= 1 && n <= INT_MAX && d <= INT_MAX)
        CHECK(shape_class, "bad shape: %s", vicreg_status_name(status));
    else if (n < 2 || d == 0)
        CHECK(status == VICREG_ERR_BAD_SHAPE, "n %zu d %zu: %s", n, d,
              vicreg_status_name(status));
    else if (!c.valid)
        CHECK(shape_class, "invalid shape V %zu n %zu d %zu: %s", views, n, d,
              vicreg_status_name(status));
    else if (is_overlap(c.fault))
        CHECK(status == VICREG_ERR_OVERLAP, "overlap (fault %d, views %zu %zu): %s", c.fault,
              c.fa, c.fb, vicreg_status_name(status));
    else if (g_bad)
        CHECK(status == VICREG_ERR_BAD_SHAPE, "G %g > V %zu: %s", c.global, views,
              vicreg_status_name(status));
    else if (!c.finite)
        CHECK(status == VICREG_ERR_NON_FINITE, "NaN/Inf in a view: %s",
              vicreg_status_name(status));
    else if (c.moderate)
        CHECK(status == VICREG_OK, "moderate data V %zu G %g n %zu d %zu: %s (params %s)",
              views, c.global, n, d, vicreg_status_name(status), params_text(ctx));
    else
        CHECK(status == VICREG_OK || status == VICREG_ERR_OVERFLOW, "large data: %s",
              vicreg_status_name(status));

    /* The views are never written. */
    for (size_t v = 0; v < CAP_V; v++)
        CHECK(buf_same(&c.zbuf[v], z0[v]), "view buffer %zu written (status %s)", v,
              vicreg_status_name(status));

    if (status != VICREG_OK) {
        CHECK(loss == sentinel, "loss written on error %s", vicreg_status_name(status));
        for (size_t v = 0; v < CAP_V; v++)
            CHECK(buf_same(&c.gbuf[v], g0[v]), "gradient %zu written on error %s", v,
                  vicreg_status_name(status));
        term_state(ctx, &ts1);
        CHECK(term_state_same(&ts0, &ts1), "the terms changed on error %s",
              vicreg_status_name(status));
        /* The rows call over all rows, and for two views the two-batch
         * call, say the same. */
        double l2 = sentinel;
        const int s2 = call_rows(f64, null_ctx ? NULL : ctx, views, n, d, &p, c.ldz_arr, 0, n,
                                 c.loss_null ? NULL : &l2, c.ldg_arr);
        CHECK(s2 == status || (shape_class && (s2 == VICREG_ERR_BAD_SHAPE ||
                                               s2 == VICREG_ERR_SIZE_OVERFLOW)),
              "views call %s, rows call over all rows %s", vicreg_status_name(status),
              vicreg_status_name(s2));
        if (views == 2 && !g_bad) {
            void *za = null_z ? NULL : c.z[0], *zb = null_z ? NULL : c.z[1];
            void *ga = c.grad_null ? NULL : c.slot[0], *gb = c.grad_null ? NULL : c.slot[1];
            const int s3 = call_two(f64, null_ctx ? NULL : ctx, n, d, za, c.ld[0], zb, c.ld[1],
                                    c.loss_null ? NULL : &l2, ga, c.ldg[0], gb, c.ldg[1]);
            CHECK(s3 == status, "V = 2: views call %s, two-batch call %s",
                  vicreg_status_name(status), vicreg_status_name(s3));
        }
        CHECK(l2 == sentinel, "loss written on error");
        for (size_t v = 0; v < CAP_V; v++)
            CHECK(buf_same(&c.gbuf[v], g0[v]) && buf_same(&c.zbuf[v], z0[v]),
                  "buffer %zu written by the repeated failing calls", v);
        term_state(ctx, &ts1);
        CHECK(term_state_same(&ts0, &ts1), "the terms changed on error");
    } else {
        double got = NAN;
        CHECK(vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, &got) == VICREG_OK, "get_term");
        CHECK(c.loss_null || memcmp(&got, &loss, sizeof got) == 0, "loss != VICREG_TERM_LOSS");
        CHECK(isfinite(got) && got >= 0.0, "loss %g (%s V %zu G %g n %zu d %zu; params %s)",
              got, f64 ? "f64" : "f32", views, c.global, n, d, params_text(ctx));
        one_loss = got;
        for (size_t v = 0; v < views; v++) {
            if (!c.slot[v])
                continue;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < d; j++)
                    CHECK(isfinite(at(f64, c.slot[v], i * c.ldg[v] + j)),
                          "VICREG_OK with grad[%zu][%zu][%zu] = %g (%s V %zu G %g n %zu d %zu; "
                          "params %s)",
                          v, i, j, at(f64, c.slot[v], i * c.ldg[v] + j), f64 ? "f64" : "f32",
                          views, c.global, n, d, params_text(ctx));
            CHECK(untouched_outside(&c.gbuf[v], g0[v], elem, n, d, c.ldg[v]),
                  "gradient %zu written outside its n x d part", v);
        }
        check_terms(ctx, f64, views, n, d, got);
        double *terms = malloc(TERMS_LEN(views) * sizeof(double));
        double *terms2 = malloc(TERMS_LEN(views) * sizeof(double));
        CHECK(terms && terms2, "out of memory in the harness");
        all_terms(ctx, views, terms);

        /* All rows on a fresh context with the same parameters: the same
         * bits. */
        {
            vicreg_ctx *fresh = clone_params(ctx);
            struct buf g2[CAP_V];
            void *slot2[CAP_V];
            grads_like(&c, n, g2, slot2);
            struct ptrs p2;
            ptrs_make(&p2, c.na, c.z, c.grad_null ? NULL : slot2);
            double l2 = sentinel;
            const int s2 =
                call_rows(f64, fresh, views, n, d, &p2, c.ldz_arr, 0, n, &l2, c.ldg_arr);
            CHECK(s2 == VICREG_OK, "rows call over all rows: %s", vicreg_status_name(s2));
            CHECK(memcmp(&l2, &got, sizeof got) == 0, "rows call: loss %a, views call %a", l2,
                  got);
            all_terms(fresh, views, terms2);
            CHECK(memcmp(terms, terms2, TERMS_LEN(views) * sizeof(double)) == 0,
                  "rows call over all rows: other terms");
            for (size_t v = 0; v < views; v++)
                CHECK(!c.slot[v] || rows_same(&c, v, 0, n, slot2[v]),
                      "rows call over all rows: gradient %zu differs", v);
            ptrs_free(&p2);
            grads_free(g2);
            vicreg_ctx_destroy(fresh);
        }
        /* The decoded row range on this context: the same loss and terms,
         * the rows' gradients to rounding. */
        {
            struct buf g2[CAP_V];
            void *slot2[CAP_V];
            grads_like(&c, c.subn, g2, slot2);
            unsigned char *g2c[CAP_V];
            for (size_t v = 0; v < CAP_V; v++)
                g2c[v] = buf_copy(&g2[v]);
            struct ptrs p2;
            ptrs_make(&p2, c.na, c.z, c.grad_null ? NULL : slot2);
            double l2 = sentinel;
            int s2 = call_rows(f64, ctx, views, n, d, &p2, c.ldz_arr, c.sub0, c.subn, &l2,
                               c.ldg_arr);
            CHECK(s2 == VICREG_OK, "rows call %zu + %zu of %zu: %s", c.sub0, c.subn, n,
                  vicreg_status_name(s2));
            CHECK(memcmp(&l2, &got, sizeof got) == 0, "rows call: loss %a, views call %a", l2,
                  got);
            all_terms(ctx, views, terms2);
            CHECK(memcmp(terms, terms2, TERMS_LEN(views) * sizeof(double)) == 0,
                  "rows call %zu + %zu: other terms", c.sub0, c.subn);
            struct noise z;
            noise_of(&c, ctx, &z);
            double err = 0.0, big = 0.0;
            for (size_t v = 0; v < views; v++) {
                if (!slot2[v])
                    continue;
                if (c.subn)
                    CHECK(untouched_outside(&g2[v], g2c[v], elem, c.subn, d, c.ldg[v]),
                          "rows call: gradient %zu written outside its rows x d part", v);
                else
                    CHECK(buf_same(&g2[v], g2c[v]), "rows call with no rows wrote");
                grad_diff(&c, v, c.sub0, c.subn, slot2[v], &err, &big);
            }
            CHECK(grad_close(f64, err, big, &z),
                  "rows %zu + %zu of %zu (%s V %zu d %zu): gradients differ by %g (largest "
                  "%g, noise %g; params %s)",
                  c.sub0, c.subn, n, f64 ? "f64" : "f32", views, d, err, big, z.grad,
                  params_text(ctx));
            /* A row range past n: BAD_SHAPE, nothing written. */
            for (size_t v = 0; v < CAP_V; v++) {
                free(g0[v]);
                g0[v] = buf_copy(&c.gbuf[v]);
            }
            term_state(ctx, &ts0);
            double l3 = sentinel;
            s2 = call_rows(f64, ctx, views, n, d, &p, c.ldz_arr, c.past0, c.pastn, &l3,
                           c.ldg_arr);
            CHECK(s2 == VICREG_ERR_BAD_SHAPE, "rows %zu + %zu of %zu: %s", c.past0, c.pastn, n,
                  vicreg_status_name(s2));
            CHECK(l3 == sentinel, "loss written by a rows call past n");
            for (size_t v = 0; v < CAP_V; v++)
                CHECK(buf_same(&c.gbuf[v], g0[v]), "gradient %zu written by a rows call past n",
                      v);
            term_state(ctx, &ts1);
            CHECK(term_state_same(&ts0, &ts1), "the terms changed on error");
            ptrs_free(&p2);
            grads_free(g2);
            for (size_t v = 0; v < CAP_V; v++)
                free(g2c[v]);
        }
        /* Two views: the two-batch call, whatever G its context holds, is
         * the same computation. */
        if (views == 2) {
            vicreg_ctx *fresh = clone_params(ctx);
            CHECK(vicreg_ctx_set_param(fresh, VICREG_PARAM_GLOBAL_VIEWS, c.g_two) == VICREG_OK,
                  "G = %g", c.g_two);
            struct buf g2[CAP_V];
            void *slot2[CAP_V];
            grads_like(&c, n, g2, slot2);
            double l2 = sentinel;
            const int s2 = call_two(f64, fresh, n, d, c.z[0], c.ld[0], c.z[1], c.ld[1], &l2,
                                    c.grad_null ? NULL : slot2[0], c.ldg[0],
                                    c.grad_null ? NULL : slot2[1], c.ldg[1]);
            CHECK(s2 == VICREG_OK, "two-batch call: %s", vicreg_status_name(s2));
            CHECK(memcmp(&l2, &got, sizeof got) == 0,
                  "two-batch loss %a, views loss %a (G %g, two-batch context G %g)", l2, got,
                  c.global, c.g_two);
            all_terms(fresh, views, terms2);
            CHECK(memcmp(terms, terms2, TERMS_LEN(views) * sizeof(double)) == 0,
                  "V = 2: the two-batch call's terms differ");
            for (size_t v = 0; v < 2; v++) {
                double err = 0.0, big = 0.0;
                if (c.slot[v])
                    grad_diff(&c, v, 0, n, slot2[v], &err, &big);
                CHECK(!c.slot[v] || rows_same(&c, v, 0, n, slot2[v]),
                      "V = 2: two-batch gradient %zu differs by %g (largest %g; %s n %zu d %zu, "
                      "G %g, two-batch context G %g; params %s)",
                      v, err, big, f64 ? "f64" : "f32", n, d, c.global, c.g_two,
                      params_text(ctx));
            }
            grads_free(g2);
            vicreg_ctx_destroy(fresh);
        }
        free(terms), free(terms2);
    }
    /* The sharded phases, when the arguments are all right but for G or
     * an overlapping gradient that overlaps in every shard's rows (which
     * they must refuse). */
    const int overlap_exact = (c.fault == F_IN_PLACE && c.ldg[c.fa] == c.ld[c.fb]) ||
                              (c.fault == F_SHARED && c.ldg[c.fa] == c.ldg[c.fb]);
    if (legal && c.valid && !null_ctx && !null_z && c.fault != F_NULL_VIEW &&
        c.fault != F_INTO && (!is_overlap(c.fault) || (overlap_exact && c.moderate))) {
        check_sharded(&c, ctx, status, one_loss);
        /* (g0 holds the gradients of the one call by now, if any.) */
        for (size_t v = 0; v < CAP_V; v++)
            CHECK(buf_same(&c.zbuf[v], z0[v]) && buf_same(&c.gbuf[v], g0[v]),
                  "buffer %zu of the one call written by the sharded phases", v);
    }
    ptrs_free(&p);
    for (size_t v = 0; v < CAP_V; v++)
        free(z0[v]), free(g0[v]);
    release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = { data, size, 0x13198A2E03707344ull ^ size };
    vicreg_ctx *ctx;
    CHECK(vicreg_ctx_create(&ctx) == VICREG_OK, "create");
    const uint8_t head = byte(&r);
    const int ncases = 1 + head % MAX_CASES;
    for (int k = 0; k < ncases; k++) {
        one_case(&r, ctx);
        if (r.left == 0)
            break;
    }
    vicreg_ctx_destroy(ctx);
    return 0;
}
