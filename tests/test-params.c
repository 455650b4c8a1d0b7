/*
 * test-params.c - the parameter setter, getter and bounds: the documented
 * ranges, acceptance at both ends, rejection just outside and of every
 * non-finite value, the enumerated parameters, unknown keys and NULL
 * pointers; then what each parameter does to the result.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The keys and ranges that include/vicreg.h documents. */
static const struct key {
    int key;
    const char *name;
    double lower, upper, dflt;
    int enumerated;
} keys[] = {
    { VICREG_PARAM_INVARIANCE_COEFF, "lambda", 0.0, 1e9, 25.0, 0 },
    { VICREG_PARAM_VARIANCE_COEFF, "mu", 0.0, 1e9, 25.0, 0 },
    { VICREG_PARAM_COVARIANCE_COEFF, "nu", 0.0, 1e9, 1.0, 0 },
    { VICREG_PARAM_STD_TARGET, "gamma", DBL_MIN, 1e9, 1.0, 0 },
    { VICREG_PARAM_EPSILON, "eps", DBL_MIN, 1e9, 1e-4, 0 },
    { VICREG_PARAM_CONVENTION, "convention", VICREG_CONVENTION_REFERENCE,
      VICREG_CONVENTION_PAPER, VICREG_CONVENTION_REFERENCE, 1 },
    { VICREG_PARAM_PATH, "path", VICREG_PATH_AUTO, VICREG_PATH_GRAM, VICREG_PATH_AUTO, 1 },
};
#define N_KEYS (sizeof keys / sizeof keys[0])

/* Keys that name no parameter: the ones the brief lists, the gaps between
 * the pinned values, and the ends of int. */
static const int unknown_keys[] = { 0, 4, 9999, -1, 5, 9, 12, 19, 21, 29, 31, INT_MIN, INT_MAX };
#define N_UNKNOWN (sizeof unknown_keys / sizeof unknown_keys[0])

static vicreg_ctx *ctx;

static void setup(void)
{
    ctx = NULL;
    ck_assert_int_eq(vicreg_ctx_create(&ctx), VICREG_OK);
}

static void teardown(void)
{
    vicreg_ctx_destroy(ctx);
    ctx = NULL;
}

static double get(int key)
{
    double v = NAN;
    ck_assert_int_eq(vicreg_ctx_get_param(ctx, key, &v), VICREG_OK);
    return v;
}

/* Every parameter of ctx, in the order of keys[]. */
static void get_all(double *out)
{
    for (size_t k = 0; k < N_KEYS; k++)
        out[k] = get(keys[k].key);
}

/* ---------------------------------------------------------------------
 * bounds
 * --------------------------------------------------------------------- */
START_TEST(bounds_documented)
{
    const struct key *k = &keys[_i];
    double lo = NAN, hi = NAN;
    ck_assert_int_eq(vicreg_param_bounds(k->key, &lo, &hi), VICREG_OK);
    ck_assert_msg(lo == k->lower && hi == k->upper,
                  "%s: bounds [%.17g, %.17g], want [%.17g, %.17g]", k->name, lo, hi, k->lower,
                  k->upper);
    /* The default lies inside its own range. */
    ck_assert(k->dflt >= lo && k->dflt <= hi);
    ck_assert_double_eq(get(k->key), k->dflt);
}
END_TEST

START_TEST(bounds_null)
{
    double lo = 7.0, hi = 8.0;
    for (size_t k = 0; k < N_KEYS; k++) {
        ck_assert_int_eq(vicreg_param_bounds(keys[k].key, NULL, &hi), VICREG_ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(vicreg_param_bounds(keys[k].key, &lo, NULL), VICREG_ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(vicreg_param_bounds(keys[k].key, NULL, NULL), VICREG_ERR_INVALID_ARGUMENT);
        ck_assert_double_eq(lo, 7.0);
        ck_assert_double_eq(hi, 8.0);
    }
}
END_TEST

/* ---------------------------------------------------------------------
 * accepted values
 * --------------------------------------------------------------------- */
START_TEST(accept_bounds)
{
    const struct key *k = &keys[_i];
    double lo = NAN, hi = NAN;
    ck_assert_int_eq(vicreg_param_bounds(k->key, &lo, &hi), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, k->key, lo), VICREG_OK);
    ck_assert_msg(get(k->key) == lo, "%s: set %.17g, read back %.17g", k->name, lo, get(k->key));
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, k->key, hi), VICREG_OK);
    ck_assert_msg(get(k->key) == hi, "%s: set %.17g, read back %.17g", k->name, hi, get(k->key));
    if (!k->enumerated) {
        /* Values with every mantissa bit in use come back exactly. */
        const double inside[] = { nextafter(lo, INFINITY), nextafter(hi, 0.0), 0.1, 1.0 / 3.0,
                                  12345.678901234567, 3.14159265358979323846 };
        for (size_t m = 0; m < sizeof inside / sizeof inside[0]; m++) {
            ck_assert_int_eq(vicreg_ctx_set_param(ctx, k->key, inside[m]), VICREG_OK);
            ck_assert_msg(get(k->key) == inside[m], "%s: %.17g read back as %.17g", k->name,
                          inside[m], get(k->key));
        }
    } else {
        for (double v = lo; v <= hi; v += 1.0) {
            ck_assert_int_eq(vicreg_ctx_set_param(ctx, k->key, v), VICREG_OK);
            ck_assert_double_eq(get(k->key), v);
        }
    }
}
END_TEST

START_TEST(set_changes_only_its_key)
{
    /* Setting one parameter leaves every other one as it was. */
    const struct key *k = &keys[_i];
    double before[N_KEYS], after[N_KEYS];
    get_all(before);
    double lo = NAN, hi = NAN;
    ck_assert_int_eq(vicreg_param_bounds(k->key, &lo, &hi), VICREG_OK);
    double v = k->dflt == hi ? lo : hi;
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, k->key, v), VICREG_OK);
    get_all(after);
    for (size_t m = 0; m < N_KEYS; m++)
        if (m != (size_t)_i)
            ck_assert_msg(memcmp(&before[m], &after[m], sizeof(double)) == 0,
                          "setting %s changed %s", k->name, keys[m].name);
    ck_assert_double_eq(after[_i], v);
}
END_TEST

/* ---------------------------------------------------------------------
 * rejected values
 * --------------------------------------------------------------------- */
/* Sets `value`, expects VICREG_ERR_OUT_OF_RANGE and the old value kept. */
static void expect_rejected(const struct key *k, double value)
{
    double before = get(k->key);
    int status = vicreg_ctx_set_param(ctx, k->key, value);
    ck_assert_msg(status == VICREG_ERR_OUT_OF_RANGE, "%s = %.17g gave %s", k->name, value,
                  vicreg_status_name(status));
    double after = get(k->key);
    ck_assert_msg(memcmp(&before, &after, sizeof before) == 0,
                  "%s changed from %.17g to %.17g by a rejected set", k->name, before, after);
}

START_TEST(reject_outside)
{
    const struct key *k = &keys[_i];
    double lo = NAN, hi = NAN;
    ck_assert_int_eq(vicreg_param_bounds(k->key, &lo, &hi), VICREG_OK);
    /* Start from a value that is not the default, so that "unchanged" is
     * not the same as "reset to the default". */
    double start = k->enumerated ? (k->dflt == lo ? hi : lo) : (lo + hi) / 3.0;
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, k->key, start), VICREG_OK);

    const double bad[] = {
        nextafter(lo, -INFINITY), nextafter(hi, INFINITY), NAN, -NAN, INFINITY, -INFINITY,
        -1.0, -DBL_MAX, DBL_MAX, hi * 2.0, lo - 1.0,
    };
    for (size_t m = 0; m < sizeof bad / sizeof bad[0]; m++)
        expect_rejected(k, bad[m]);
    ck_assert_double_eq(get(k->key), start);
}
END_TEST

START_TEST(reject_coefficients_negative)
{
    const int coeffs[] = { VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF,
                           VICREG_PARAM_COVARIANCE_COEFF };
    for (size_t c = 0; c < 3; c++) {
        const struct key *k = NULL;
        for (size_t m = 0; m < N_KEYS; m++)
            if (keys[m].key == coeffs[c])
                k = &keys[m];
        ck_assert_ptr_nonnull(k);
        const double bad[] = { -DBL_MIN, -0x1p-1074, -1e-300, -1e-4, -25.0, -1e9 };
        for (size_t m = 0; m < sizeof bad / sizeof bad[0]; m++)
            expect_rejected(k, bad[m]);
        /* Zero is legal: it switches the term off. */
        ck_assert_int_eq(vicreg_ctx_set_param(ctx, k->key, 0.0), VICREG_OK);
    }
}
END_TEST

START_TEST(reject_gamma_eps_nonpositive)
{
    for (size_t m = 0; m < N_KEYS; m++) {
        const struct key *k = &keys[m];
        if (k->key != VICREG_PARAM_STD_TARGET && k->key != VICREG_PARAM_EPSILON)
            continue;
        const double bad[] = { 0.0, -0.0, 0x1p-1074, DBL_MIN / 2.0, -DBL_MIN, -1e-4, -1.0 };
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
            expect_rejected(k, bad[b]);
        ck_assert_double_eq(get(k->key), k->dflt);
    }
}
END_TEST

START_TEST(reject_enumerated)
{
    /* Only the listed integers: no fractions, nothing outside the list. */
    const struct key *k = &keys[_i];
    ck_assert(k->enumerated);
    const double bad[] = { 0.5, -0.5, 1.5, nextafter(1.0, 2.0), nextafter(0.0, 1.0),
                           k->upper + 1.0, k->upper + 0.5, -1.0, 100.0, 1e9, (double)INT_MAX,
                           (double)INT_MIN, 4294967296.0 };
    for (size_t m = 0; m < sizeof bad / sizeof bad[0]; m++)
        expect_rejected(k, bad[m]);
    /* And from the other listed value too. */
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, k->key, k->upper), VICREG_OK);
    for (size_t m = 0; m < sizeof bad / sizeof bad[0]; m++)
        expect_rejected(k, bad[m]);
    ck_assert_double_eq(get(k->key), k->upper);
}
END_TEST

/* ---------------------------------------------------------------------
 * unknown keys and NULL pointers
 * --------------------------------------------------------------------- */
START_TEST(unknown_keys_rejected)
{
    const int key = unknown_keys[_i];
    double before[N_KEYS], after[N_KEYS], v = 42.0, lo = 7.0, hi = 8.0;
    get_all(before);
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, key, 1.0), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, key, NAN), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_ctx_get_param(ctx, key, &v), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_param_bounds(key, &lo, &hi), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_double_eq(v, 42.0);
    ck_assert_double_eq(lo, 7.0);
    ck_assert_double_eq(hi, 8.0);
    get_all(after);
    ck_assert_mem_eq(before, after, sizeof before);
}
END_TEST

START_TEST(null_pointers)
{
    double v = 42.0;
    for (size_t k = 0; k < N_KEYS; k++) {
        ck_assert_int_eq(vicreg_ctx_set_param(NULL, keys[k].key, keys[k].dflt),
                         VICREG_ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(vicreg_ctx_get_param(NULL, keys[k].key, &v),
                         VICREG_ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(vicreg_ctx_get_param(ctx, keys[k].key, NULL),
                         VICREG_ERR_INVALID_ARGUMENT);
        ck_assert_double_eq(v, 42.0);
    }
    /* NULL with an unknown key is still an invalid argument. */
    ck_assert_int_eq(vicreg_ctx_set_param(NULL, 4, 1.0), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_ctx_get_param(NULL, 4, NULL), VICREG_ERR_INVALID_ARGUMENT);
}
END_TEST

/* ---------------------------------------------------------------------
 * what each parameter does to the result (double precision)
 * --------------------------------------------------------------------- */
#define BN 16
#define BD 6

static double za[BN * BD], zb[BN * BD];

static void setup_data(void)
{
    setup();
    tu_make_batches(29, BN, BD, BD, za, zb);
}

struct outcome {
    double loss, inv, var[2], cov[2], mean_std[2], min_std[2], collapsed[2], path;
    double ga[BN * BD], gb[BN * BD];
};

static void run(vicreg_ctx *c, size_t n, size_t d, const double *a, const double *b,
                struct outcome *o)
{
    const int term[] = { VICREG_TERM_INVARIANCE, VICREG_TERM_VARIANCE_A, VICREG_TERM_VARIANCE_B,
                         VICREG_TERM_COVARIANCE_A, VICREG_TERM_COVARIANCE_B,
                         VICREG_TERM_MEAN_STD_A, VICREG_TERM_MEAN_STD_B, VICREG_TERM_MIN_STD_A,
                         VICREG_TERM_MIN_STD_B, VICREG_TERM_COLLAPSED_FRACTION_A,
                         VICREG_TERM_COLLAPSED_FRACTION_B, VICREG_TERM_PATH_USED };
    double *dest[] = { &o->inv, &o->var[0], &o->var[1], &o->cov[0], &o->cov[1],
                       &o->mean_std[0], &o->mean_std[1], &o->min_std[0], &o->min_std[1],
                       &o->collapsed[0], &o->collapsed[1], &o->path };
    ck_assert(n * d <= BN * BD);
    o->loss = NAN;
    ck_assert_int_eq(vicreg_loss_f64(c, n, d, a, d, b, d, &o->loss, o->ga, d, o->gb, d),
                     VICREG_OK);
    for (size_t t = 0; t < sizeof term / sizeof term[0]; t++)
        ck_assert_int_eq(vicreg_ctx_get_term(c, term[t], dest[t]), VICREG_OK);
}

static void set(int key, double v)
{
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, key, v), VICREG_OK);
}

/* |x - y| <= tol * scale, with a message. */
#define ASSERT_CLOSE(x, y, tol, scale, what)                                                  \
    ck_assert_msg(fabs((x) - (y)) <= (tol) * fmax((scale), DBL_MIN),                           \
                  "%s: %.17g vs %.17g", (what), (double)(x), (double)(y))

static double max_abs(const double *g, size_t count)
{
    double m = 0.0;
    for (size_t i = 0; i < count; i++)
        m = fmax(m, fabs(g[i]));
    return m;
}

/* For each k < count in turn: key set to values[k], then the loss of
 * (a, b), n x d, into o[k]. */
static void run_each(int key, const double *values, struct outcome *const *o, size_t count,
                     size_t n, size_t d, const double *a, const double *b)
{
    for (size_t k = 0; k < count; k++) {
        set(key, values[k]);
        run(ctx, n, d, a, b, o[k]);
    }
}

/* The coefficient `key` at 1, then 2, then 0, on the batch of the fixture. */
static void run_one_two_zero(int key, struct outcome *o0, struct outcome *o1, struct outcome *o2)
{
    run_each(key, (const double[]){ 1.0, 2.0, 0.0 }, (struct outcome *const[]){ o1, o2, o0 }, 3,
             BN, BD, za, zb);
}

/* L is affine in the coefficient `name` with slope `slope` (o0, o1, o2 at
 * 0, 1, 2), and so is the gradient g (g0, g1, g2 of those outcomes). */
static void assert_affine(const char *name, double slope, const struct outcome *o0,
                          const struct outcome *o1, const struct outcome *o2, const double *g0,
                          const double *g1, const double *g2)
{
    char what[64];
    snprintf(what, sizeof what, "L(%s=2) - L(%s=1)", name, name);
    ASSERT_CLOSE(o2->loss - o1->loss, slope, 1e-12, o2->loss, what);
    snprintf(what, sizeof what, "L(%s=1) - L(%s=0)", name, name);
    ASSERT_CLOSE(o1->loss - o0->loss, slope, 1e-12, o2->loss, what);
    snprintf(what, sizeof what, "gradient affine in %s", name);
    double scale = max_abs(g2, BN * BD);
    for (size_t i = 0; i < BN * BD; i++)
        ASSERT_CLOSE(g2[i] - g1[i], g1[i] - g0[i], 1e-12, scale, what);
}

START_TEST(lambda_linear)
{
    /* L is affine in lambda with the invariance term as slope, and so is
     * the gradient, with slope k_s (Za - Zb), k_s = 2/(n d) by default. */
    static struct outcome o0, o1, o2;
    run_each(VICREG_PARAM_INVARIANCE_COEFF, (const double[]){ 0.0, 1.0, 2.0 },
             (struct outcome *const[]){ &o0, &o1, &o2 }, 3, BN, BD, za, zb);
    ck_assert_double_gt(o1.inv, 0.0);
    ASSERT_CLOSE(o2.loss - o1.loss, o1.inv, 1e-12, o2.loss, "L(2) - L(1) vs s");
    ASSERT_CLOSE(o1.loss - o0.loss, o1.inv, 1e-12, o2.loss, "L(1) - L(0) vs s");
    ASSERT_CLOSE(o0.inv, o1.inv, 1e-15, o1.inv, "s does not depend on lambda");
    ASSERT_CLOSE(o2.inv, o1.inv, 1e-15, o1.inv, "s does not depend on lambda");
    const double ks = 2.0 / ((double)BN * (double)BD);
    double scale = fmax(max_abs(o2.ga, BN * BD), max_abs(o2.gb, BN * BD));
    for (size_t i = 0; i < BN * BD; i++) {
        ASSERT_CLOSE(o2.ga[i] - o1.ga[i], ks * (za[i] - zb[i]), 1e-12, scale, "dga/dlambda");
        ASSERT_CLOSE(o1.gb[i] - o0.gb[i], -ks * (za[i] - zb[i]), 1e-12, scale, "dgb/dlambda");
    }
}
END_TEST

START_TEST(mu_linear)
{
    /* L is affine in mu with slope w (v(Za) + v(Zb)), w = 1/2 in the
     * reference convention and 1 in the paper convention. */
    const int paper = _i;
    const double w = paper ? 1.0 : 0.5;
    static struct outcome o1, o2, o0;
    set(VICREG_PARAM_CONVENTION, paper ? VICREG_CONVENTION_PAPER : VICREG_CONVENTION_REFERENCE);
    run_one_two_zero(VICREG_PARAM_VARIANCE_COEFF, &o0, &o1, &o2);
    /* The data has columns below gamma = 1, so the slope is not zero. */
    ck_assert_double_gt(o1.var[0] + o1.var[1], 0.0);
    assert_affine("mu", w * (o1.var[0] + o1.var[1]), &o0, &o1, &o2, o0.ga, o1.ga, o2.ga);
}
END_TEST

START_TEST(nu_linear)
{
    static struct outcome o1, o2, o0;
    run_one_two_zero(VICREG_PARAM_COVARIANCE_COEFF, &o0, &o1, &o2);
    ck_assert_double_gt(o1.cov[0] + o1.cov[1], 0.0);
    assert_affine("nu", o1.cov[0] + o1.cov[1], &o0, &o1, &o2, o0.gb, o1.gb, o2.gb);
}
END_TEST

START_TEST(all_coefficients_zero)
{
    static struct outcome o;
    set(VICREG_PARAM_INVARIANCE_COEFF, 0.0);
    set(VICREG_PARAM_VARIANCE_COEFF, 0.0);
    set(VICREG_PARAM_COVARIANCE_COEFF, 0.0);
    run(ctx, BN, BD, za, zb, &o);
    ck_assert_double_eq(o.loss, 0.0);
    for (size_t i = 0; i < BN * BD; i++) {
        ck_assert_double_eq(o.ga[i], 0.0);
        ck_assert_double_eq(o.gb[i], 0.0);
    }
    /* The terms are still reported, unweighted. */
    ck_assert_double_gt(o.inv, 0.0);
    ck_assert_double_gt(o.cov[0], 0.0);
}
END_TEST

START_TEST(gamma_direction)
{
    static struct outcome prev, cur;
    const double gammas[] = { 0.25, 0.5, 1.0, 1.5, 2.0, 4.0 };
    for (size_t g = 0; g < sizeof gammas / sizeof gammas[0]; g++) {
        set(VICREG_PARAM_STD_TARGET, gammas[g]);
        run(ctx, BN, BD, za, zb, &cur);
        if (g > 0) {
            for (int b = 0; b < 2; b++) {
                ck_assert_double_ge(cur.var[b], prev.var[b]);
                ck_assert_double_ge(cur.collapsed[b], prev.collapsed[b]);
            }
            ck_assert_double_ge(cur.loss, prev.loss);
            if (cur.collapsed[0] + cur.collapsed[1] > 0.0)
                ck_assert_double_gt(cur.loss, prev.loss);
            /* gamma touches only the hinge. */
            ASSERT_CLOSE(cur.inv, prev.inv, 1e-15, prev.inv, "s independent of gamma");
            ASSERT_CLOSE(cur.cov[0], prev.cov[0], 1e-15, prev.cov[0], "c independent of gamma");
            ASSERT_CLOSE(cur.mean_std[0], prev.mean_std[0], 1e-15, 1.0, "std independent of gamma");
        }
        prev = cur;
    }
    /* Far above every std the hinge is gamma - mean std, every column below. */
    set(VICREG_PARAM_STD_TARGET, 1e9);
    run(ctx, BN, BD, za, zb, &cur);
    for (int b = 0; b < 2; b++) {
        ASSERT_CLOSE(cur.var[b], 1e9 - cur.mean_std[b], 1e-15, 1e9, "v at huge gamma");
        ck_assert_double_eq(cur.collapsed[b], 1.0);
    }
    /* Below every std the hinge is zero, no column below. */
    set(VICREG_PARAM_STD_TARGET, DBL_MIN);
    run(ctx, BN, BD, za, zb, &cur);
    for (int b = 0; b < 2; b++) {
        ck_assert_double_eq(cur.var[b], 0.0);
        ck_assert_double_eq(cur.collapsed[b], 0.0);
    }
}
END_TEST

START_TEST(eps_direction)
{
    static struct outcome prev, cur;
    const double epss[] = { DBL_MIN, 1e-8, 1e-4, 1e-2, 0.1, 1.0 };
    for (size_t e = 0; e < sizeof epss / sizeof epss[0]; e++) {
        set(VICREG_PARAM_EPSILON, epss[e]);
        run(ctx, BN, BD, za, zb, &cur);
        for (int b = 0; b < 2; b++) {
            /* s_j^2 - eps is the variance, whatever eps is. */
            if (e > 0) {
                double v_now = cur.min_std[b] * cur.min_std[b] - epss[e];
                double v_before = prev.min_std[b] * prev.min_std[b] - epss[e - 1];
                ASSERT_CLOSE(v_now, v_before, 1e-12, 1.0 + epss[e], "min variance");
                ck_assert_double_gt(cur.mean_std[b], prev.mean_std[b]);
                ck_assert_double_le(cur.var[b], prev.var[b]);
            }
        }
        if (e > 0)
            ASSERT_CLOSE(cur.inv, prev.inv, 1e-15, prev.inv, "s independent of eps");
        prev = cur;
    }
    /* A huge eps lifts every std above gamma = 1. */
    set(VICREG_PARAM_EPSILON, 1e9);
    run(ctx, BN, BD, za, zb, &cur);
    for (int b = 0; b < 2; b++) {
        ck_assert_double_eq(cur.var[b], 0.0);
        ck_assert_double_eq(cur.collapsed[b], 0.0);
        ck_assert_double_ge(cur.min_std[b], sqrt(1e9));
    }
}
END_TEST

START_TEST(convention_factor)
{
    /* Paper invariance = d * reference invariance; v and c do not change;
     * the loss moves by lambda (s_p - s_r) + mu (1 - 1/2) (v_a + v_b). */
    static struct outcome ref, pap;
    run(ctx, BN, BD, za, zb, &ref);
    set(VICREG_PARAM_CONVENTION, VICREG_CONVENTION_PAPER);
    run(ctx, BN, BD, za, zb, &pap);
    ASSERT_CLOSE(pap.inv, BD * ref.inv, 1e-14, pap.inv, "paper s = d * reference s");
    for (int b = 0; b < 2; b++) {
        ASSERT_CLOSE(pap.var[b], ref.var[b], 1e-15, 1.0, "v independent of convention");
        ASSERT_CLOSE(pap.cov[b], ref.cov[b], 1e-15, ref.cov[b], "c independent of convention");
    }
    ASSERT_CLOSE(pap.loss - ref.loss,
                 25.0 * (pap.inv - ref.inv) + 25.0 * 0.5 * (ref.var[0] + ref.var[1]), 1e-12,
                 pap.loss, "L_paper - L_reference");

    /* With mu = 0 the gradients differ by lambda (2/n - 2/(n d)) (Za - Zb). */
    static struct outcome ref0, pap0;
    set(VICREG_PARAM_VARIANCE_COEFF, 0.0);
    run(ctx, BN, BD, za, zb, &pap0);
    set(VICREG_PARAM_CONVENTION, VICREG_CONVENTION_REFERENCE);
    run(ctx, BN, BD, za, zb, &ref0);
    const double k = 25.0 * (2.0 / BN - 2.0 / (BN * BD));
    double scale = max_abs(pap0.ga, BN * BD);
    for (size_t i = 0; i < BN * BD; i++) {
        ASSERT_CLOSE(pap0.ga[i] - ref0.ga[i], k * (za[i] - zb[i]), 1e-12, scale, "ga");
        ASSERT_CLOSE(pap0.gb[i] - ref0.gb[i], -k * (za[i] - zb[i]), 1e-12, scale, "gb");
    }
}
END_TEST

START_TEST(path_same_result)
{
    /* Both paths agree; the term PATH_USED reports the path taken; AUTO
     * takes the covariance when n >= d and the Gram matrix when n < d. */
    const size_t shapes[][2] = { { BN, BD }, { BD, BN }, { 8, 8 }, { 7, 8 }, { 2, 9 } };
    static double a[BN * BD], b[BN * BD];
    static struct outcome cov, gram, aut;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t n = shapes[s][0], d = shapes[s][1];
        tu_make_batches(100 + s, n, d, d, a, b);
        run_each(VICREG_PARAM_PATH,
                 (const double[]){ VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM, VICREG_PATH_AUTO },
                 (struct outcome *const[]){ &cov, &gram, &aut }, 3, n, d, a, b);
        ck_assert_double_eq(cov.path, VICREG_PATH_COVARIANCE);
        ck_assert_double_eq(gram.path, VICREG_PATH_GRAM);
        ck_assert_double_eq(aut.path, n < d ? VICREG_PATH_GRAM : VICREG_PATH_COVARIANCE);
        ASSERT_CLOSE(gram.loss, cov.loss, 1e-10, cov.loss, "loss, Gram vs covariance");
        ASSERT_CLOSE(gram.cov[0] + gram.cov[1], cov.cov[0] + cov.cov[1], 1e-10, cov.loss,
                     "c, Gram vs covariance");
        double scale = max_abs(cov.ga, n * d);
        for (size_t i = 0; i < n * d; i++)
            ASSERT_CLOSE(gram.ga[i], cov.ga[i], 1e-10, scale, "ga, Gram vs covariance");
        scale = max_abs(cov.gb, n * d);
        for (size_t i = 0; i < n * d; i++)
            ASSERT_CLOSE(gram.gb[i], cov.gb[i], 1e-10, scale, "gb, Gram vs covariance");
    }
}
END_TEST

START_TEST(params_match_reference)
{
    /* A non-default setting of every parameter at once gives what the
     * plain reference computes with the same parameters. */
    struct ref_params p = { 3.5, 7.25, 0.4, 1.3, 1e-3, _i };
    struct ref_result r;
    static double ga[BN * BD], gb[BN * BD];
    static struct outcome o;
    tu_set_params(ctx, &p);
    ref_vicreg(&p, BN, BD, za, zb, &r, ga, gb);
    run(ctx, BN, BD, za, zb, &o);
    ck_assert_msg(tu_rel(o.loss, r.loss) < 1e-11, "loss %.17g, reference %.17g", o.loss, r.loss);
    ck_assert_msg(tu_rel(o.inv, r.invariance) < 1e-12, "s %.17g vs %.17g", o.inv, r.invariance);
    ck_assert_double_lt(tu_rel_err(BN, BD, o.ga, BD, ga, BD), 1e-11);
    ck_assert_double_lt(tu_rel_err(BN, BD, o.gb, BD, gb, BD), 1e-11);
}
END_TEST

START_TEST(rejected_set_keeps_result)
{
    /* A rejected value does not reach the computation. */
    static struct outcome before, after;
    set(VICREG_PARAM_STD_TARGET, 1.7);
    run(ctx, BN, BD, za, zb, &before);
    for (size_t k = 0; k < N_KEYS; k++) {
        ck_assert_int_eq(vicreg_ctx_set_param(ctx, keys[k].key, NAN), VICREG_ERR_OUT_OF_RANGE);
        ck_assert_int_eq(vicreg_ctx_set_param(ctx, keys[k].key, -1.0), VICREG_ERR_OUT_OF_RANGE);
    }
    run(ctx, BN, BD, za, zb, &after);
    ck_assert_mem_eq(&before, &after, sizeof before);
}
END_TEST

Suite *params_suite(void)
{
    int first_enum = 0;
    while (!keys[first_enum].enumerated)
        first_enum++;
    const struct tu_tcase tcases[] = {
        { .name = "bounds", .setup = setup, .teardown = teardown,
          .tests = { TU_LOOP(bounds_documented, 0, (int)N_KEYS), TU_TEST(bounds_null) } },
        { .name = "accept", .setup = setup, .teardown = teardown,
          .tests = { TU_LOOP(accept_bounds, 0, (int)N_KEYS),
                     TU_LOOP(set_changes_only_its_key, 0, (int)N_KEYS) } },
        { .name = "reject", .setup = setup, .teardown = teardown,
          .tests = { TU_LOOP(reject_outside, 0, (int)N_KEYS), TU_TEST(reject_coefficients_negative),
                     TU_TEST(reject_gamma_eps_nonpositive),
                     TU_LOOP(reject_enumerated, first_enum, (int)N_KEYS) } },
        { .name = "keys", .setup = setup, .teardown = teardown,
          .tests = { TU_LOOP(unknown_keys_rejected, 0, (int)N_UNKNOWN), TU_TEST(null_pointers) } },
        { .name = "behaviour", .setup = setup_data, .teardown = teardown,
          .tests = { TU_TEST(lambda_linear), TU_LOOP(mu_linear, 0, 2), TU_TEST(nu_linear),
                     TU_TEST(all_coefficients_zero), TU_TEST(gamma_direction),
                     TU_TEST(eps_direction), TU_TEST(convention_factor),
                     TU_TEST(path_same_result), TU_LOOP(params_match_reference, 0, 2),
                     TU_TEST(rejected_set_keeps_result) } },
    };
    return tu_suite("params", tcases, sizeof tcases / sizeof tcases[0]);
}
