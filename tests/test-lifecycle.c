/*
 * test-lifecycle.c - creating and destroying contexts, the defaults, the
 * terms of the last successful call, the version queries, the status
 * names and messages, and the scratch-size queries.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Keys that name no term (the gaps between the pinned values included). */
static const int bad_terms[] = { -1, 6, 7, 9, 18, 19, 21, 30, 9999, INT_MIN, INT_MAX };
#define N_BAD_TERMS (sizeof bad_terms / sizeof bad_terms[0])

/* ---------------------------------------------------------------------
 * A small batch pair in double, packed, for the calls of this suite.
 * --------------------------------------------------------------------- */
#define LN 12
#define LD 5

static vicreg_ctx *ctx;
static double za[LN * LD], zb[LN * LD];

static void setup(void)
{
    ctx = NULL;
    ck_assert_int_eq(vicreg_ctx_create(&ctx), VICREG_OK);
    ck_assert_ptr_nonnull(ctx);
    tu_make_batches(11, LN, LD, LD, za, zb);
}

static void teardown(void)
{
    vicreg_ctx_destroy(ctx);
    ctx = NULL;
}

/* Every term of the last call; asserts that each one is available. */
static void read_terms(const vicreg_ctx *c, double *out)
{
    for (size_t t = 0; t < TU_N_TERMS; t++) {
        out[t] = NAN;
        ck_assert_msg(vicreg_ctx_get_term(c, tu_all_terms[t], &out[t]) == VICREG_OK,
                      "term %d not available after a successful call", tu_all_terms[t]);
    }
}

/* ---------------------------------------------------------------------
 * create / destroy
 * --------------------------------------------------------------------- */
START_TEST(create_destroy)
{
    vicreg_ctx *a = NULL, *b = NULL;
    ck_assert_int_eq(vicreg_ctx_create(&a), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_create(&b), VICREG_OK);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    vicreg_ctx_destroy(a);
    vicreg_ctx_destroy(b);
}
END_TEST

START_TEST(create_many)
{
    /* Creating and destroying in a loop, with a call in between, works
     * every time (a leak would show under valgrind, a stale state here). */
    for (int k = 0; k < 50; k++) {
        vicreg_ctx *c = NULL;
        double loss = NAN;
        ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_OK);
        ck_assert_int_eq(vicreg_loss_f64(c, LN, LD, za, LD, zb, LD, &loss, NULL, 0, NULL, 0),
                         VICREG_OK);
        ck_assert(isfinite(loss));
        vicreg_ctx_destroy(c);
    }
}
END_TEST

START_TEST(destroy_null)
{
    vicreg_ctx_destroy(NULL); /* must be a no-op, not a crash */
    vicreg_ctx_destroy(NULL);
}
END_TEST

START_TEST(create_null)
{
    ck_assert_int_eq(vicreg_ctx_create(NULL), VICREG_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(contexts_independent)
{
    /* Parameters and terms belong to one context. */
    vicreg_ctx *other = NULL;
    double v = NAN, loss = NAN;
    ck_assert_int_eq(vicreg_ctx_create(&other), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_INVARIANCE_COEFF, 3.0), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_param(other, VICREG_PARAM_INVARIANCE_COEFF, &v), VICREG_OK);
    ck_assert_double_eq(v, 25.0);
    ck_assert_int_eq(vicreg_loss_f64(ctx, LN, LD, za, LD, zb, LD, &loss, NULL, 0, NULL, 0),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_term(other, VICREG_TERM_LOSS, &v), VICREG_ERR_NO_RESULT);
    vicreg_ctx_destroy(other);
}
END_TEST

/* ---------------------------------------------------------------------
 * defaults
 * --------------------------------------------------------------------- */
START_TEST(defaults)
{
    const struct {
        int key;
        double value;
    } want[] = {
        { VICREG_PARAM_INVARIANCE_COEFF, 25.0 },
        { VICREG_PARAM_VARIANCE_COEFF, 25.0 },
        { VICREG_PARAM_COVARIANCE_COEFF, 1.0 },
        { VICREG_PARAM_STD_TARGET, 1.0 },
        { VICREG_PARAM_EPSILON, 1e-4 },
        { VICREG_PARAM_CONVENTION, VICREG_CONVENTION_REFERENCE },
        { VICREG_PARAM_PATH, VICREG_PATH_AUTO },
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        double v = NAN;
        ck_assert_int_eq(vicreg_ctx_get_param(ctx, want[k].key, &v), VICREG_OK);
        ck_assert_msg(v == want[k].value, "param %d defaults to %.17g, want %.17g",
                      want[k].key, v, want[k].value);
    }
}
END_TEST

START_TEST(defaults_compute_reference)
{
    /* The defaults are the reference convention with the published
     * coefficients: the same loss as the plain reference with its defaults. */
    struct ref_params p = ref_default_params();
    struct ref_result r;
    double loss = NAN;
    ref_vicreg(&p, LN, LD, za, zb, &r, NULL, NULL);
    ck_assert_int_eq(vicreg_loss_f64(ctx, LN, LD, za, LD, zb, LD, &loss, NULL, 0, NULL, 0),
                     VICREG_OK);
    ck_assert_msg(tu_rel(loss, r.loss) < 1e-12, "default loss %.17g, reference %.17g",
                  loss, r.loss);
}
END_TEST

/* ---------------------------------------------------------------------
 * terms of the last successful call
 * --------------------------------------------------------------------- */
START_TEST(terms_before_call)
{
    for (size_t t = 0; t < TU_N_TERMS; t++) {
        double v = 42.0;
        ck_assert_int_eq(vicreg_ctx_get_term(ctx, tu_all_terms[t], &v), VICREG_ERR_NO_RESULT);
        ck_assert_double_eq(v, 42.0);
    }
}
END_TEST

START_TEST(terms_bad_arguments)
{
    double v = 42.0;
    ck_assert_int_eq(vicreg_ctx_get_term(NULL, VICREG_TERM_LOSS, &v),
                     VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, NULL),
                     VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_loss_f64(ctx, LN, LD, za, LD, zb, LD, NULL, NULL, 0, NULL, 0),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, NULL),
                     VICREG_ERR_INVALID_ARGUMENT);
    for (size_t t = 0; t < N_BAD_TERMS; t++) {
        ck_assert_msg(vicreg_ctx_get_term(ctx, bad_terms[t], &v) == VICREG_ERR_INVALID_ARGUMENT,
                      "unknown term %d accepted", bad_terms[t]);
        ck_assert_double_eq(v, 42.0);
    }
}
END_TEST

START_TEST(terms_after_call)
{
    double loss = NAN, got[TU_N_TERMS];
    struct ref_params p = ref_default_params();
    struct ref_result r;
    ref_vicreg(&p, LN, LD, za, zb, &r, NULL, NULL);
    ck_assert_int_eq(vicreg_loss_f64(ctx, LN, LD, za, LD, zb, LD, &loss, NULL, 0, NULL, 0),
                     VICREG_OK);
    read_terms(ctx, got);
    /* The loss term is the loss the call returned. */
    ck_assert_double_eq(got[0], loss);
    const double want[] = {
        r.loss, r.invariance, r.variance[0], r.variance[1], r.covariance[0], r.covariance[1],
        r.mean_std[0], r.mean_std[1], r.min_std[0], r.min_std[1], r.collapsed_fraction[0],
        r.collapsed_fraction[1], r.effective_rank[0], r.effective_rank[1],
    };
    for (size_t t = 0; t < sizeof want / sizeof want[0]; t++)
        ck_assert_msg(fabs(got[t] - want[t]) <= 1e-10 * fmax(1.0, fabs(want[t])),
                      "term %d = %.17g, reference %.17g", tu_all_terms[t], got[t], want[t]);
    /* LN >= LD: the automatic path takes the covariance. */
    ck_assert_double_eq(got[TU_N_TERMS - 1], VICREG_PATH_COVARIANCE);
}
END_TEST

START_TEST(terms_replaced_by_next_call)
{
    double first = NAN, second = NAN, loss = NAN;
    double zc[LN * LD];
    ck_assert_int_eq(vicreg_loss_f64(ctx, LN, LD, za, LD, zb, LD, &loss, NULL, 0, NULL, 0),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, &first), VICREG_OK);
    for (size_t i = 0; i < LN * LD; i++)
        zc[i] = 3.0 * za[i];
    ck_assert_int_eq(vicreg_loss_f64(ctx, LN, LD, zc, LD, zb, LD, &loss, NULL, 0, NULL, 0),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, &second), VICREG_OK);
    ck_assert_double_eq(second, loss);
    ck_assert_double_ne(second, first);
}
END_TEST

/* One failing call of each kind, after a successful one: the terms stay
 * those of the successful call, bit for bit. */
START_TEST(terms_survive_failure)
{
    double loss = NAN, before[TU_N_TERMS], after[TU_N_TERMS];
    double bad[LN * LD], huge[LN * LD], grad[LN * LD];
    ck_assert_int_eq(vicreg_loss_f64(ctx, LN, LD, za, LD, zb, LD, &loss, NULL, 0, NULL, 0),
                     VICREG_OK);
    read_terms(ctx, before);

    memcpy(bad, za, sizeof bad);
    bad[LN * LD / 2] = NAN;
    for (size_t i = 0; i < LN * LD; i++)
        huge[i] = 1e200 * za[i];
    int status;
    switch (_i) {
    case 0:
        status = vicreg_loss_f64(ctx, LN, LD, bad, LD, zb, LD, &loss, NULL, 0, NULL, 0);
        ck_assert_int_eq(status, VICREG_ERR_NON_FINITE);
        break;
    case 1:
        status = vicreg_loss_f64(ctx, 1, LD, za, LD, zb, LD, &loss, NULL, 0, NULL, 0);
        ck_assert_int_eq(status, VICREG_ERR_BAD_SHAPE);
        break;
    case 2:
        status = vicreg_loss_f64(ctx, LN, LD, NULL, LD, zb, LD, &loss, NULL, 0, NULL, 0);
        ck_assert_int_eq(status, VICREG_ERR_INVALID_ARGUMENT);
        break;
    case 3:
        status = vicreg_loss_f64(ctx, LN, LD, huge, LD, zb, LD, &loss, NULL, 0, NULL, 0);
        ck_assert_int_eq(status, VICREG_ERR_OVERFLOW);
        break;
    case 4:
        memcpy(grad, za, sizeof grad);
        status = vicreg_loss_f64(ctx, LN, LD, grad, LD, zb, LD, &loss, grad, LD, NULL, 0);
        ck_assert_int_eq(status, VICREG_ERR_OVERLAP);
        break;
    case 5:
        status = vicreg_loss_f64(ctx, (size_t)INT_MAX + 1, LD, za, LD, zb, LD, &loss, NULL, 0,
                                 NULL, 0);
        ck_assert_int_eq(status, VICREG_ERR_SIZE_OVERFLOW);
        break;
    default:
        /* A call at a larger shape that fails after the scratch has grown. */
        {
            double big[2 * LN * LD];
            memset(big, 0, sizeof big);
            for (size_t i = 0; i < 2 * LN * LD; i++)
                big[i] = (double)(i % 7);
            big[2 * LN * LD - 1] = INFINITY;
            status = vicreg_loss_f64(ctx, 2 * LN, LD, big, LD, za, 0, &loss, NULL, 0, NULL, 0);
            ck_assert_int_eq(status, VICREG_ERR_BAD_SHAPE);
            status = vicreg_loss_f64(ctx, 2 * LN, LD, big, LD, big, LD, &loss, NULL, 0, NULL, 0);
            ck_assert_int_eq(status, VICREG_ERR_NON_FINITE);
        }
        break;
    }
    read_terms(ctx, after);
    ck_assert_mem_eq(before, after, sizeof before);
}
END_TEST

START_TEST(failure_before_any_success)
{
    /* A failing call on a fresh context leaves it without a result. */
    double bad[LN * LD], v = 42.0, loss = 7.0;
    memcpy(bad, zb, sizeof bad);
    bad[0] = INFINITY;
    ck_assert_int_eq(vicreg_loss_f64(ctx, LN, LD, za, LD, bad, LD, &loss, NULL, 0, NULL, 0),
                     VICREG_ERR_NON_FINITE);
    ck_assert_double_eq(loss, 7.0);
    for (size_t t = 0; t < TU_N_TERMS; t++)
        ck_assert_int_eq(vicreg_ctx_get_term(ctx, tu_all_terms[t], &v), VICREG_ERR_NO_RESULT);
    ck_assert_double_eq(v, 42.0);
}
END_TEST

/* ---------------------------------------------------------------------
 * version
 * --------------------------------------------------------------------- */
START_TEST(version_number)
{
    ck_assert_uint_eq(vicreg_version_number(), VICREG_VERSION_NUMBER);
    ck_assert_uint_eq(VICREG_VERSION_NUMBER, VICREG_VERSION_MAJOR * 10000u +
                                                 VICREG_VERSION_MINOR * 100u +
                                                 VICREG_VERSION_PATCH);
    ck_assert_int_ge(VICREG_VERSION_MAJOR, 1);
    ck_assert_int_lt(VICREG_VERSION_MINOR, 100);
    ck_assert_int_lt(VICREG_VERSION_PATCH, 100);
}
END_TEST

START_TEST(version_string)
{
    const char *s = vicreg_version_string();
    char want[64];
    ck_assert_ptr_nonnull(s);
    snprintf(want, sizeof want, "%d.%d.%d", VICREG_VERSION_MAJOR, VICREG_VERSION_MINOR,
             VICREG_VERSION_PATCH);
    ck_assert_str_eq(s, want);
    /* And it agrees with the number the library reports. */
    unsigned major = 0, minor = 0, patch = 0;
    ck_assert_int_eq(sscanf(s, "%u.%u.%u", &major, &minor, &patch), 3);
    ck_assert_uint_eq(major * 10000u + minor * 100u + patch, vicreg_version_number());
}
END_TEST

/* ---------------------------------------------------------------------
 * status names and messages
 * --------------------------------------------------------------------- */
static const struct {
    int status;
    const char *name;
} known_status[] = {
    { VICREG_OK, "VICREG_OK" },
    { VICREG_ERR_INVALID_ARGUMENT, "VICREG_ERR_INVALID_ARGUMENT" },
    { VICREG_ERR_OUT_OF_RANGE, "VICREG_ERR_OUT_OF_RANGE" },
    { VICREG_ERR_NON_FINITE, "VICREG_ERR_NON_FINITE" },
    { VICREG_ERR_NO_MEMORY, "VICREG_ERR_NO_MEMORY" },
    { VICREG_ERR_BAD_SHAPE, "VICREG_ERR_BAD_SHAPE" },
    { VICREG_ERR_SIZE_OVERFLOW, "VICREG_ERR_SIZE_OVERFLOW" },
    { VICREG_ERR_OVERLAP, "VICREG_ERR_OVERLAP" },
    { VICREG_ERR_OVERFLOW, "VICREG_ERR_OVERFLOW" },
    { VICREG_ERR_NO_RESULT, "VICREG_ERR_NO_RESULT" },
};
#define N_KNOWN (sizeof known_status / sizeof known_status[0])

static int is_known(int status)
{
    for (size_t k = 0; k < N_KNOWN; k++)
        if (known_status[k].status == status)
            return 1;
    return 0;
}

START_TEST(status_pinned_values)
{
    /* The values are pinned by the header; a change is an ABI break. */
    ck_assert_int_eq(VICREG_OK, 0);
    ck_assert_int_eq(VICREG_ERR_INVALID_ARGUMENT, -1);
    ck_assert_int_eq(VICREG_ERR_OUT_OF_RANGE, -2);
    ck_assert_int_eq(VICREG_ERR_NON_FINITE, -3);
    ck_assert_int_eq(VICREG_ERR_NO_MEMORY, -4);
    ck_assert_int_eq(VICREG_ERR_BAD_SHAPE, -5);
    ck_assert_int_eq(VICREG_ERR_SIZE_OVERFLOW, -6);
    ck_assert_int_eq(VICREG_ERR_OVERLAP, -7);
    ck_assert_int_eq(VICREG_ERR_OVERFLOW, -8);
    ck_assert_int_eq(VICREG_ERR_NO_RESULT, -9);
}
END_TEST

START_TEST(status_known_names)
{
    for (size_t k = 0; k < N_KNOWN; k++) {
        const char *name = vicreg_status_name(known_status[k].status);
        const char *msg = vicreg_strerror(known_status[k].status);
        ck_assert_ptr_nonnull(name);
        ck_assert_ptr_nonnull(msg);
        ck_assert_str_eq(name, known_status[k].name);
        ck_assert_msg(strlen(msg) > 0, "empty message for %d", known_status[k].status);
        ck_assert_str_ne(msg, "unknown status");
        for (size_t m = 0; m < k; m++) {
            ck_assert_str_ne(name, vicreg_status_name(known_status[m].status));
            ck_assert_str_ne(msg, vicreg_strerror(known_status[m].status));
        }
    }
}
END_TEST

/* Each message names every case the header documents for its status,
 * the 1.1 ones included (a sharded call's statistics and row ranges). */
START_TEST(status_messages_cover_header)
{
    static const struct {
        int status;
        const char *words[4];
    } cases[] = {
        { VICREG_ERR_INVALID_ARGUMENT, { "NULL", "unknown", "statistics" } },
        { VICREG_ERR_OUT_OF_RANGE, { "parameter", "bounds" } },
        { VICREG_ERR_NON_FINITE, { "NaN", "Inf" } },
        { VICREG_ERR_BAD_SHAPE, { "n < 2", "d == 0", "row range", "row count" } },
        { VICREG_ERR_SIZE_OVERFLOW, { "overflow" } },
        { VICREG_ERR_OVERLAP, { "gradient", "statistics", "overlaps" } },
        { VICREG_ERR_OVERFLOW, { "overflow" } },
        { VICREG_ERR_NO_RESULT, { "no successful" } },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (size_t w = 0; w < 4 && cases[k].words[w]; w++)
            ck_assert_msg(strstr(vicreg_strerror(cases[k].status), cases[k].words[w]),
                          "%s: \"%s\" does not say \"%s\"", vicreg_status_name(cases[k].status),
                          vicreg_strerror(cases[k].status), cases[k].words[w]);
}
END_TEST

static void check_any_status(int status)
{
    const char *name = vicreg_status_name(status);
    const char *msg = vicreg_strerror(status);
    ck_assert_msg(name != NULL, "vicreg_status_name(%d) is NULL", status);
    ck_assert_msg(msg != NULL, "vicreg_strerror(%d) is NULL", status);
    ck_assert_msg(strlen(msg) > 0 && strncmp(name, "VICREG_", 7) == 0,
                  "status %d: name \"%s\", message \"%s\"", status, name, msg);
    if (!is_known(status)) {
        ck_assert_msg(strcmp(msg, "unknown status") == 0, "strerror(%d) = \"%s\"", status, msg);
        ck_assert_msg(strcmp(name, "VICREG_ERR_UNKNOWN") == 0, "status_name(%d) = \"%s\"",
                      status, name);
    } else {
        ck_assert_str_ne(name, "VICREG_ERR_UNKNOWN");
    }
}

START_TEST(status_every_int)
{
    for (int s = -1000; s <= 1000; s++)
        check_any_status(s);
    const int edges[] = { INT_MIN, INT_MIN + 1, INT_MAX, INT_MAX - 1, -65536, 65536 };
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++)
        check_any_status(edges[k]);
}
END_TEST

/* ---------------------------------------------------------------------
 * scratch queries
 * --------------------------------------------------------------------- */
static size_t scratch(const vicreg_ctx *c, size_t n, size_t d, int precision)
{
    size_t bytes = 0;
    ck_assert_msg(vicreg_ctx_scratch_bytes(c, n, d, precision, &bytes) == VICREG_OK,
                  "scratch_bytes(%zu, %zu, %d) failed", n, d, precision);
    return bytes;
}

START_TEST(scratch_positive_and_precision)
{
    const size_t ns[] = { 2, 3, 7, 16, 33, 100 }, ds[] = { 1, 2, 5, 16, 40, 129 };
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof ds / sizeof ds[0]; b++) {
            size_t n = ns[a], d = ds[b];
            size_t s32 = scratch(ctx, n, d, VICREG_PRECISION_F32);
            size_t s64 = scratch(ctx, n, d, VICREG_PRECISION_F64);
            size_t m = n < d ? n : d;
            ck_assert_uint_gt(s32, 0);
            ck_assert_msg(s64 >= s32, "(%zu, %zu): f64 %zu < f32 %zu", n, d, s64, s32);
            /* Either path holds a min(n, d)-square matrix. */
            ck_assert_uint_ge(s32, m * m * sizeof(float));
            ck_assert_uint_ge(s64, m * m * sizeof(double));
        }
}
END_TEST

START_TEST(scratch_grows)
{
    const int prec = _i == 0 ? VICREG_PRECISION_F32 : VICREG_PRECISION_F64;
    /* Never smaller for a larger shape, over a grid with both paths. */
    for (size_t n = 2; n <= 40; n += 3)
        for (size_t d = 1; d <= 40; d += 3) {
            size_t here = scratch(ctx, n, d, prec);
            ck_assert_msg(scratch(ctx, n + 3, d, prec) >= here, "shrinks from n=%zu, d=%zu", n, d);
            ck_assert_msg(scratch(ctx, n, d + 3, prec) >= here, "shrinks from n=%zu, d=%zu", n, d);
        }
    /* Strictly larger once the shape grows by a real factor. */
    const size_t sizes[] = { 16, 32, 64, 200 };
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 4; b++) {
            size_t n = sizes[a], d = sizes[b];
            size_t here = scratch(ctx, n, d, prec);
            ck_assert_uint_gt(scratch(ctx, 4 * n, d, prec), here);
            ck_assert_uint_gt(scratch(ctx, n, 4 * d, prec), here);
            ck_assert_uint_gt(scratch(ctx, 4 * n, 4 * d, prec), here);
        }
}
END_TEST

START_TEST(scratch_follows_path)
{
    /* The Gram path needs n^2, the covariance path d^2; AUTO takes the
     * covariance when n >= d and the Gram matrix when n < d. */
    const int prec = _i == 0 ? VICREG_PRECISION_F32 : VICREG_PRECISION_F64;
    const size_t shapes[][2] = { { 256, 8 }, { 8, 256 }, { 64, 64 }, { 65, 64 }, { 64, 65 } };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        size_t n = shapes[k][0], d = shapes[k][1];
        size_t sauto = scratch(ctx, n, d, prec);
        ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, VICREG_PATH_COVARIANCE),
                         VICREG_OK);
        size_t scov = scratch(ctx, n, d, prec);
        ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, VICREG_PATH_GRAM),
                         VICREG_OK);
        size_t sgram = scratch(ctx, n, d, prec);
        ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, VICREG_PATH_AUTO),
                         VICREG_OK);
        ck_assert_uint_eq(sauto, n < d ? sgram : scov);
        if (n > 4 * d)
            ck_assert_uint_gt(sgram, scov);
        if (d > 4 * n)
            ck_assert_uint_gt(scov, sgram);
    }
}
END_TEST

START_TEST(scratch_errors)
{
    const size_t sentinel = 12345;
    size_t bytes = sentinel;
    struct {
        const vicreg_ctx *c;
        size_t n, d;
        int precision;
        size_t *out;
        int want;
    } cases[] = {
        { NULL, 4, 4, VICREG_PRECISION_F32, &bytes, VICREG_ERR_INVALID_ARGUMENT },
        { ctx, 4, 4, VICREG_PRECISION_F32, NULL, VICREG_ERR_INVALID_ARGUMENT },
        { ctx, 4, 4, 0, &bytes, VICREG_ERR_INVALID_ARGUMENT },
        { ctx, 4, 4, 3, &bytes, VICREG_ERR_INVALID_ARGUMENT },
        { ctx, 4, 4, -1, &bytes, VICREG_ERR_INVALID_ARGUMENT },
        { ctx, 0, 4, VICREG_PRECISION_F64, &bytes, VICREG_ERR_BAD_SHAPE },
        { ctx, 1, 4, VICREG_PRECISION_F64, &bytes, VICREG_ERR_BAD_SHAPE },
        { ctx, 4, 0, VICREG_PRECISION_F64, &bytes, VICREG_ERR_BAD_SHAPE },
        { ctx, (size_t)INT_MAX + 1, 4, VICREG_PRECISION_F32, &bytes, VICREG_ERR_SIZE_OVERFLOW },
        { ctx, 4, (size_t)INT_MAX + 1, VICREG_PRECISION_F32, &bytes, VICREG_ERR_SIZE_OVERFLOW },
        { ctx, SIZE_MAX, SIZE_MAX, VICREG_PRECISION_F64, &bytes, VICREG_ERR_SIZE_OVERFLOW },
        /* n and d fit int, but a min(n, d)-square matrix of doubles does
         * not fit size_t. */
        { ctx, INT_MAX, INT_MAX, VICREG_PRECISION_F64, &bytes, VICREG_ERR_SIZE_OVERFLOW },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int got = vicreg_ctx_scratch_bytes(cases[k].c, cases[k].n, cases[k].d,
                                           cases[k].precision, cases[k].out);
        ck_assert_msg(got == cases[k].want, "case %zu: %s, want %s", k, vicreg_status_name(got),
                      vicreg_status_name(cases[k].want));
        ck_assert_uint_eq(bytes, sentinel);
        /* reserve checks the same things. */
        if (cases[k].out) {
            got = vicreg_ctx_reserve((vicreg_ctx *)cases[k].c, cases[k].n, cases[k].d,
                                     cases[k].precision);
            ck_assert_msg(got == cases[k].want, "reserve case %zu: %s, want %s", k,
                          vicreg_status_name(got), vicreg_status_name(cases[k].want));
        }
    }
}
END_TEST

START_TEST(reserve_then_compute)
{
    /* reserve succeeds, changes no result and leaves no terms behind. */
    double v = 0.0, l1 = NAN, l2 = NAN;
    vicreg_ctx *fresh = NULL;
    ck_assert_int_eq(vicreg_ctx_reserve(ctx, 64, 48, VICREG_PRECISION_F64), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_reserve(ctx, 8, 4, VICREG_PRECISION_F32), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, &v), VICREG_ERR_NO_RESULT);
    ck_assert_int_eq(vicreg_ctx_create(&fresh), VICREG_OK);
    ck_assert_int_eq(vicreg_loss_f64(ctx, LN, LD, za, LD, zb, LD, &l1, NULL, 0, NULL, 0),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_loss_f64(fresh, LN, LD, za, LD, zb, LD, &l2, NULL, 0, NULL, 0),
                     VICREG_OK);
    ck_assert_double_eq(l1, l2);
    vicreg_ctx_destroy(fresh);
}
END_TEST

Suite *lifecycle_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "create", .setup = setup, .teardown = teardown,
          .tests = { TU_TEST(create_destroy), TU_TEST(create_many), TU_TEST(destroy_null),
                     TU_TEST(create_null), TU_TEST(contexts_independent) } },
        { .name = "defaults", .setup = setup, .teardown = teardown,
          .tests = { TU_TEST(defaults), TU_TEST(defaults_compute_reference) } },
        { .name = "terms", .setup = setup, .teardown = teardown,
          .tests = { TU_TEST(terms_before_call), TU_TEST(terms_bad_arguments),
                     TU_TEST(terms_after_call), TU_TEST(terms_replaced_by_next_call),
                     TU_LOOP(terms_survive_failure, 0, 7), TU_TEST(failure_before_any_success) } },
        { .name = "version", .tests = { TU_TEST(version_number), TU_TEST(version_string) } },
        { .name = "status",
          .tests = { TU_TEST(status_pinned_values), TU_TEST(status_known_names),
                     TU_TEST(status_messages_cover_header), TU_TEST(status_every_int) } },
        { .name = "scratch", .setup = setup, .teardown = teardown,
          .tests = { TU_TEST(scratch_positive_and_precision), TU_LOOP(scratch_grows, 0, 2),
                     TU_LOOP(scratch_follows_path, 0, 2), TU_TEST(scratch_errors),
                     TU_TEST(reserve_then_compute) } },
    };
    return tu_suite("lifecycle", tcases, sizeof tcases / sizeof tcases[0]);
}
