/*
 * test-vectors.c - the library against values computed by an independent
 * implementation: PyTorch autograd in float64 (scripts/gen_torch_vectors.py,
 * files in tests/vectors/, format described at the top of that script).
 *
 * Every vector file is run through vicreg_loss_f64 and vicreg_loss_f32 (the
 * inputs are float32 numbers, so both entry points see exactly the inputs
 * torch saw), on both covariance paths, with packed arrays and with leading
 * dimensions larger than d. The largest errors are printed to the test log.
 *
 * Tolerances
 * ----------
 * f64: 1e-10. Every quantity is a sum of at most a few thousand products of
 *   well-scaled numbers; its rounding error is a small multiple of
 *   n * d * 2^-53 ~ 1e-13 relative, so 1e-10 leaves three orders of margin
 *   while still catching any formula slip (a wrong 1/n versus 1/(n-1), a
 *   missing factor 2, a wrong weight) by many orders.
 * f32: 1e-4 against the same f64 values. The centred copies, the BLAS
 *   products and the returned gradients are float (2^-24 ~ 6e-8 per
 *   operation, times a dot-product length of at most 40), so errors of
 *   1e-6 are expected; 1e-4 still catches any formula slip.
 * Loss and terms use the relative error |got - want| / |want|. Gradients use
 * the normwise relative error of tu_rel_err (largest entry error over the
 * largest reference entry), each gradient on its own.
 * A term whose reference value is exactly 0 (the variance terms when every
 * std is above gamma; the covariance terms when d = 1) has no relative
 * error; there the error is |got| / scale with the term's natural scale, and
 * the same tolerance:
 *   variance v(Z):   scale gamma. Each summand max(0, gamma - s_j) is a
 *     difference of numbers of size gamma, so a rounding error in s_j shows
 *     up in absolute units of gamma. (The generator keeps every s_j at least
 *     1e-3 gamma away from gamma, so a correct implementation returns 0
 *     exactly and the tolerance is only a formality.)
 *   covariance c(Z): scale (sum_j Var_j)^2 / d, an upper bound of
 *     ||C||_F^2 / d. The Gram path computes c as ||K||_F^2 / (d (n-1)^2)
 *     minus the diagonal part, so its rounding error is relative to that
 *     total, not to the off-diagonal part.
 *   invariance and loss: never 0 in these vectors; scale = the mean square
 *     entry of Za and Zb, and the coefficient-weighted sum of the scales.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "vecfile.h"

#ifndef VICREG_VECTORS_DIR
#error "VICREG_VECTORS_DIR must name the directory of the vector files"
#endif

#define TOL_F64 1e-10
#define TOL_F32 1e-4

/* The six values every file carries, in VICREG_TERM_* order (0..5). */
#define N_VTERMS 6
static const char *const term_keys[N_VTERMS] = {
    "loss", "invariance", "variance_a", "variance_b", "covariance_a", "covariance_b",
};

struct vcase {
    char file[256];
    char name[128];
    size_t n, d;
    struct ref_params p;
    double terms[N_VTERMS];      /* VICREG_TERM_LOSS .. VICREG_TERM_COVARIANCE_B */
    double zero_scale[N_VTERMS]; /* the scale of a term whose reference is 0 */
    double *za, *zb, *ga, *gb;   /* n x d, packed */
};

struct vset {
    struct vcase *cases;
    size_t count;
};

/* ------------------------------------------------------------------------
 * Loader (the reading itself is vecfile.c's)
 * ------------------------------------------------------------------------ */

/* The scales of section "Tolerances" above, from the inputs. */
static void set_zero_scales(struct vcase *c)
{
    const size_t n = c->n, d = c->d;
    const double *z[2] = { c->za, c->zb };
    double sum_var[2] = { 0.0, 0.0 }, sq = 0.0;
    for (int b = 0; b < 2; b++)
        for (size_t j = 0; j < d; j++)
            sum_var[b] += tu_column_variance(n, d, z[b], j);
    for (size_t k = 0; k < n * d; k++)
        sq += c->za[k] * c->za[k] + c->zb[k] * c->zb[k];
    c->zero_scale[VICREG_TERM_INVARIANCE] = sq / (double)(n * d) * (c->p.paper ? (double)d : 1.0);
    c->zero_scale[VICREG_TERM_VARIANCE_A] = c->p.gamma;
    c->zero_scale[VICREG_TERM_VARIANCE_B] = c->p.gamma;
    c->zero_scale[VICREG_TERM_COVARIANCE_A] = sum_var[0] * sum_var[0] / (double)d;
    c->zero_scale[VICREG_TERM_COVARIANCE_B] = sum_var[1] * sum_var[1] / (double)d;
    c->zero_scale[VICREG_TERM_LOSS] =
        c->p.lambda * c->zero_scale[VICREG_TERM_INVARIANCE] + 2.0 * c->p.mu * c->p.gamma +
        c->p.nu * (c->zero_scale[VICREG_TERM_COVARIANCE_A] +
                   c->zero_scale[VICREG_TERM_COVARIANCE_B]);
}

/* A vf_free_fn. */
static void vcase_free(void *p)
{
    struct vcase *c = p;
    free(c->za);
    free(c->zb);
    free(c->ga);
    free(c->gb);
    c->za = c->zb = c->ga = c->gb = NULL;
}

/* Reads one file into the struct vcase at out (a vf_load_fn). */
static int load_case(struct vf_reader *r, const char *fname, void *out, char *err, size_t errlen)
{
    struct vcase *c = out;
    const struct vf_meta m = { c->name, sizeof c->name, &c->n, &c->d, &c->p };
    char *key, *val;
    unsigned seen_terms = 0;
    int more;

    snprintf(c->file, sizeof c->file, "%s", fname);
    /* After the metadata, up to the "za" label: the six values. */
    while ((more = vf_next_key(r, &m, &key, &val, err, errlen)) > 0) {
        const int t = vf_key_index(key, term_keys, N_VTERMS, &seen_terms, err, errlen);
        if (t == -2)
            return 0;
        if (t < 0) {
            snprintf(err, errlen, "unknown key '%s'", key);
            return 0;
        }
        if (!vf_double(val, &c->terms[t])) {
            snprintf(err, errlen, "bad value %s=%s", key, val);
            return 0;
        }
    }
    if (more < 0 || !vf_all_keys(seen_terms, N_VTERMS, err, errlen))
        return 0;
    size_t count = c->n * c->d;
    c->za = malloc(count * sizeof(double));
    c->zb = malloc(count * sizeof(double));
    c->ga = malloc(count * sizeof(double));
    c->gb = malloc(count * sizeof(double));
    if (!c->za || !c->zb || !c->ga || !c->gb) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    if (!vf_matrix(r, "za", count, c->za, 1, err, errlen) ||
        !vf_matrix(r, "zb", count, c->zb, 1, err, errlen) ||
        !vf_matrix(r, "grad_a", count, c->ga, 0, err, errlen) ||
        !vf_matrix(r, "grad_b", count, c->gb, 0, err, errlen))
        return 0;
    set_zero_scales(c);
    return 1;
}

/* Loads every *.vec file of VICREG_VECTORS_DIR, in name order. Fails the
 * test if there is none or if any file does not parse. */
static struct vset load_all(void)
{
    struct vset set;
    set.cases = vf_load_all(VICREG_VECTORS_DIR, "vicreg-vector-v1", "scripts/gen_torch_vectors.py",
                            sizeof *set.cases, load_case, vcase_free, &set.count);
    return set;
}

static void free_all(struct vset *set)
{
    vf_free_all(set->cases, set->count, sizeof *set->cases, vcase_free);
}

/* ------------------------------------------------------------------------
 * Error bookkeeping
 * ------------------------------------------------------------------------ */

/* The largest error of one kind and where it was seen. */
struct worst {
    double err;
    char where[192];
};

struct tally {
    struct worst terms;     /* relative, reference != 0 */
    struct worst zero;      /* |got| / scale, reference == 0 */
    struct worst grads;     /* normwise relative */
    size_t checks, failures, zero_terms;
    char first_failure[512];
};

static void note(struct worst *w, double err, const char *fmt, ...)
{
    if (isnan(err))
        err = INFINITY;
    if (err > w->err || w->where[0] == '\0') {
        va_list ap;
        w->err = err;
        va_start(ap, fmt);
        vsnprintf(w->where, sizeof w->where, fmt, ap);
        va_end(ap);
    }
}

static void record_failure(struct tally *t, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (t->failures < 25)
        printf("vectors: FAIL %s\n", msg);
    if (t->failures == 0)
        snprintf(t->first_failure, sizeof t->first_failure, "%s", msg);
    t->failures++;
}

/* Checks the six values got[] against a case's reference values. */
static void check_terms(struct tally *t, const struct vcase *c, const double *got, double tol,
                        const char *what)
{
    for (int k = 0; k < N_VTERMS; k++) {
        double want = c->terms[k], err;
        t->checks++;
        if (want != 0.0) {
            err = fabs(got[k] - want) / fabs(want);
            note(&t->terms, err, "%s %s", what, term_keys[k]);
        } else {
            err = fabs(got[k]) / c->zero_scale[k];
            note(&t->zero, err, "%s %s", what, term_keys[k]);
            t->zero_terms++;
        }
        if (!(err <= tol))
            record_failure(t, "%s: %s got %.17g want %.17g (%s error %.3g > %g)", what,
                           term_keys[k], got[k], want,
                           want != 0.0 ? "relative" : "scaled absolute", err, tol);
    }
}

/* Checks a gradient (n x d, packed) against the reference. */
static void check_grad(struct tally *t, const struct vcase *c, const double *got,
                       const double *want, const char *label, double tol, const char *what)
{
    size_t count = c->n * c->d;
    double err;
    int finite = 1;
    for (size_t k = 0; k < count; k++)
        finite &= isfinite(got[k]) != 0;
    err = finite ? tu_rel_err(c->n, c->d, got, c->d, want, c->d) : INFINITY;
    t->checks++;
    note(&t->grads, err, "%s %s", what, label);
    if (!(err <= tol))
        record_failure(t, "%s: %s normwise relative error %.3g > %g%s", what, label, err, tol,
                       finite ? "" : " (non-finite entries)");
}

static void print_tally(const char *title, const struct tally *t, size_t runs)
{
    printf("vectors: %s: %zu runs, %zu checks, %zu failed\n"
           "vectors: %s: max relative error, loss and terms: %.3g (%s)\n",
           title, runs, t->checks, t->failures, title, t->terms.err, t->terms.where);
    if (t->zero_terms > 0)
        printf("vectors: %s: max scaled error, %zu zero-reference terms: %.3g (%s)\n", title,
               t->zero_terms, t->zero.err, t->zero.where);
    printf("vectors: %s: max normwise relative error, gradients: %.3g (%s)\n", title,
           t->grads.err, t->grads.where);
    fflush(stdout);
}

/* ------------------------------------------------------------------------
 * Running the library
 * ------------------------------------------------------------------------ */

/* Leading dimensions of one run: packed, or padded by different amounts so
 * that a mix-up between them shows. */
struct layout {
    size_t lda, ldb, ldga, ldgb;
};

static struct layout make_layout(size_t d, int padded)
{
    struct layout l = { d, d, d, d };
    if (padded) {
        l.lda = d + 1;
        l.ldb = d + 3;
        l.ldga = d + 2;
        l.ldgb = d + 5;
    }
    return l;
}

/* The value the gradient buffers are filled with before a call: entries
 * the library must write must not keep it, padding must keep it. */
#define SENTINEL (-7777.25)

/* One call of the library on a case; fills got[] with the loss and terms
 * and ga, gb (packed) with the gradients. Input padding is NaN, so that a
 * read of the padding shows. Returns 0 and records a failure if the call or
 * the padding check fails. */
static int run_case(struct tally *t, vicreg_ctx *ctx, const struct vcase *c, int f32,
                    const struct layout *l, double *got, double *ga, double *gb,
                    const char *what)
{
    const size_t n = c->n, d = c->d;
    const size_t na = n * l->lda, nb = n * l->ldb, nga = n * l->ldga, ngb = n * l->ldgb;
    const size_t elem = f32 ? sizeof(float) : sizeof(double);
    void *a = malloc(na * elem), *b = malloc(nb * elem);
    void *gpa = malloc(nga * elem), *gpb = malloc(ngb * elem);
    double loss = NAN;
    int status, ok = 1;
    ck_assert(a && b && gpa && gpb);

#define FILL(T)                                                                             \
    do {                                                                                    \
        T *pa = a, *pb = b, *qa = gpa, *qb = gpb;                                           \
        for (size_t k = 0; k < na; k++)                                                     \
            pa[k] = (T)NAN;                                                                 \
        for (size_t k = 0; k < nb; k++)                                                     \
            pb[k] = (T)NAN;                                                                 \
        for (size_t k = 0; k < nga; k++)                                                    \
            qa[k] = (T)SENTINEL;                                                            \
        for (size_t k = 0; k < ngb; k++)                                                    \
            qb[k] = (T)SENTINEL;                                                            \
        for (size_t i = 0; i < n; i++)                                                      \
            for (size_t j = 0; j < d; j++) {                                                \
                pa[i * l->lda + j] = (T)c->za[i * d + j];                                   \
                pb[i * l->ldb + j] = (T)c->zb[i * d + j];                                   \
            }                                                                               \
    } while (0)
#define UNPACK(T)                                                                           \
    do {                                                                                    \
        const T *qa = gpa, *qb = gpb;                                                       \
        for (size_t i = 0; i < n; i++) {                                                    \
            for (size_t j = 0; j < d; j++) {                                                \
                ga[i * d + j] = qa[i * l->ldga + j];                                        \
                gb[i * d + j] = qb[i * l->ldgb + j];                                        \
            }                                                                               \
            for (size_t j = d; j < l->ldga; j++)                                            \
                ok &= qa[i * l->ldga + j] == (T)SENTINEL;                                   \
            for (size_t j = d; j < l->ldgb; j++)                                            \
                ok &= qb[i * l->ldgb + j] == (T)SENTINEL;                                   \
        }                                                                                   \
    } while (0)

    if (f32) {
        FILL(float);
        status = vicreg_loss_f32(ctx, n, d, a, l->lda, b, l->ldb, &loss, gpa, l->ldga, gpb,
                                 l->ldgb);
        if (status == VICREG_OK)
            UNPACK(float);
    } else {
        FILL(double);
        status = vicreg_loss_f64(ctx, n, d, a, l->lda, b, l->ldb, &loss, gpa, l->ldga, gpb,
                                 l->ldgb);
        if (status == VICREG_OK)
            UNPACK(double);
    }
#undef FILL
#undef UNPACK
    free(a), free(b), free(gpa), free(gpb);

    if (status != VICREG_OK) {
        record_failure(t, "%s: the call returned %s", what, vicreg_status_name(status));
        return 0;
    }
    if (!ok) {
        record_failure(t, "%s: the library wrote into the padding of a gradient buffer", what);
        return 0;
    }
    for (int k = 0; k < N_VTERMS; k++) {
        status = vicreg_ctx_get_term(ctx, k, &got[k]);
        if (status != VICREG_OK) {
            record_failure(t, "%s: vicreg_ctx_get_term(%s) returned %s", what, term_keys[k],
                           vicreg_status_name(status));
            return 0;
        }
    }
    if (!(got[VICREG_TERM_LOSS] == loss)) {
        record_failure(t, "%s: the returned loss %.17g differs from VICREG_TERM_LOSS %.17g",
                       what, loss, got[VICREG_TERM_LOSS]);
        return 0;
    }
    return 1;
}

/* Prints the tally of `who` over `runs` runs, frees the set and asserts
 * that no check failed. */
static void finish_tally(const char *who, const struct tally *t, size_t runs, struct vset *set)
{
    print_tally(who, t, runs);
    size_t count = set->count;
    free_all(set);
    ck_assert_msg(t->failures == 0, "%zu of %zu checks over %zu files failed; first: %s",
                  t->failures, t->checks, count, t->first_failure);
}

static const int paths[] = { VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };
static const char *const path_names[] = { "covariance", "gram" };

/* _i = 0: vicreg_loss_f64, _i = 1: vicreg_loss_f32. Every case on both paths
 * and two layouts. One context per path serves every case, so the
 * parameters change and the scratch grows and shrinks between calls. */
START_TEST(test_library_against_torch)
{
    const int f32 = _i;
    const double tol = f32 ? TOL_F32 : TOL_F64;
    struct vset set = load_all();
    struct tally t;
    size_t runs = 0;
    memset(&t, 0, sizeof t);

    for (size_t p = 0; p < 2; p++) {
        vicreg_ctx *ctx = tu_ctx_new();
        for (size_t k = 0; k < set.count; k++) {
            const struct vcase *c = &set.cases[k];
            double *ga = malloc(c->n * c->d * sizeof(double));
            double *gb = malloc(c->n * c->d * sizeof(double));
            ck_assert(ga && gb);
            tu_set_params(ctx, &c->p);
            ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, paths[p]), VICREG_OK);
            for (int padded = 0; padded <= 1; padded++) {
                struct layout l = make_layout(c->d, padded);
                double got[N_VTERMS], used;
                char what[256];
                snprintf(what, sizeof what, "%s [%s, %s, %s]", c->name, f32 ? "f32" : "f64",
                         path_names[p], padded ? "padded" : "packed");
                runs++;
                if (!run_case(&t, ctx, c, f32, &l, got, ga, gb, what))
                    continue;
                ck_assert_int_eq(vicreg_ctx_get_term(ctx, VICREG_TERM_PATH_USED, &used),
                                 VICREG_OK);
                if (used != paths[p])
                    record_failure(&t, "%s: VICREG_TERM_PATH_USED is %g", what, used);
                check_terms(&t, c, got, tol, what);
                check_grad(&t, c, ga, c->ga, "grad_a", tol, what);
                check_grad(&t, c, gb, c->gb, "grad_b", tol, what);
            }
            free(ga), free(gb);
        }
        vicreg_ctx_destroy(ctx);
    }
    finish_tally(f32 ? "vicreg_loss_f32" : "vicreg_loss_f64", &t, runs, &set);
}
END_TEST

/* The test's own double reference (reference.c, plain loops) against the
 * torch values: two independent implementations that must agree, so that
 * the other suites' reference is itself checked. Same tolerances as f64. */
START_TEST(test_reference_against_torch)
{
    struct vset set = load_all();
    struct tally t;
    memset(&t, 0, sizeof t);
    for (size_t k = 0; k < set.count; k++) {
        const struct vcase *c = &set.cases[k];
        double *ga = malloc(c->n * c->d * sizeof(double));
        double *gb = malloc(c->n * c->d * sizeof(double));
        struct ref_result r;
        ck_assert(ga && gb);
        ref_vicreg(&c->p, c->n, c->d, c->za, c->zb, &r, ga, gb);
        double got[N_VTERMS] = { r.loss, r.invariance, r.variance[0], r.variance[1],
                                 r.covariance[0], r.covariance[1] };
        check_terms(&t, c, got, TOL_F64, c->name);
        check_grad(&t, c, ga, c->ga, "grad_a", TOL_F64, c->name);
        check_grad(&t, c, gb, c->gb, "grad_b", TOL_F64, c->name);
        free(ga), free(gb);
    }
    finish_tally("tests/reference.c", &t, set.count, &set);
}
END_TEST

/* The files themselves: the loss is the documented combination of the
 * terms, the inputs are float32 numbers, and the set covers what it is
 * meant to cover (both conventions, n = 2, d = 1, n < d, n > d, a zero
 * variance term, a constant column). */
START_TEST(test_vector_files)
{
    struct vset set = load_all();
    int have_paper = 0, have_reference = 0, have_n2 = 0, have_d1 = 0, have_wide = 0,
        have_tall = 0, have_zero_variance = 0, have_custom = 0;
    for (size_t k = 0; k < set.count; k++) {
        const struct vcase *c = &set.cases[k];
        const double *v = c->terms;
        double w = c->p.paper ? 1.0 : 0.5;
        double sum = c->p.lambda * v[VICREG_TERM_INVARIANCE] +
                     c->p.mu * w * (v[VICREG_TERM_VARIANCE_A] + v[VICREG_TERM_VARIANCE_B]) +
                     c->p.nu * (v[VICREG_TERM_COVARIANCE_A] + v[VICREG_TERM_COVARIANCE_B]);
        ck_assert_msg(tu_rel(sum, v[VICREG_TERM_LOSS]) < 1e-13, "%s: loss %.17g, terms give %.17g",
                      c->file, v[VICREG_TERM_LOSS], sum);
        for (size_t j = 0; j < c->n * c->d; j++)
            ck_assert_msg((double)(float)c->za[j] == c->za[j] &&
                              (double)(float)c->zb[j] == c->zb[j],
                          "%s: an input is not a float32 number", c->file);
        have_paper |= c->p.paper;
        have_reference |= !c->p.paper;
        have_n2 |= c->n == 2;
        have_d1 |= c->d == 1;
        have_wide |= c->n < c->d;
        have_tall |= c->n > c->d;
        have_zero_variance |= v[VICREG_TERM_VARIANCE_A] == 0.0 && v[VICREG_TERM_VARIANCE_B] == 0.0;
        have_custom |= c->p.lambda != 25.0 || c->p.gamma != 1.0 || c->p.eps != 1e-4;
    }
    printf("vectors: %zu vector files in %s\n", set.count, VICREG_VECTORS_DIR);
    fflush(stdout);
    free_all(&set);
    ck_assert(have_paper && have_reference && have_n2 && have_d1 && have_wide && have_tall &&
              have_zero_variance && have_custom);
}
END_TEST

Suite *vectors_suite(void)
{
    return vf_suite("vectors", test_vector_files, test_reference_against_torch,
                    test_library_against_torch);
}
