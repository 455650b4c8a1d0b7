/*
 * test-views-vectors.c - the views calls against values computed by an
 * independent implementation: PyTorch autograd in float64
 * (scripts/gen_views_vectors.py, files in tests/vectors/views/, format
 * described at the top of that script, magic vicreg-views-vector-v1).
 *
 * Every file is run through vicreg_views_loss_f64 and, when its inputs are
 * float32 numbers (inputs=f32), vicreg_views_loss_f32 (both entry points
 * then see exactly the inputs torch saw), on both covariance paths, packed
 * and with leading dimensions larger than d; the loss, s_bar, every view's
 * terms and diagnostics and every view's gradient are compared. The test's
 * own reference (ref_views) is checked against the files too.
 *
 * Tolerances: those of test-vectors.c and for the same reasons (see
 * there): 1e-10 in f64, 1e-4 in f32, relative; gradients normwise
 * relative; a value whose reference is exactly 0 gets |got| / scale with
 * the value's natural scale: gamma for a variance term, (sum_j Var_j)^2 / d
 * for a covariance term, the mean square entry (times d in the paper
 * convention) for s_bar (0 with one view), 1 for a collapsed fraction.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vecfile.h"
#include "viewsutil.h"

#ifndef VICREG_VECTORS_DIR
#error "VICREG_VECTORS_DIR must name the directory of the vector files"
#endif

#define VIEWS_DIR VICREG_VECTORS_DIR "/views"

#define TOL_F64 1e-10
#define TOL_F32 1e-4

/* The per-view values of a file, in the order of vu_view_terms (the
 * files carry no effective rank). */
#define N_FILE_VTERMS 5
static const char *const vterm_keys[N_FILE_VTERMS] = {
    "variance", "covariance", "mean_std", "min_std", "collapsed_fraction",
};

struct vvcase {
    char file[256];
    char name[128];
    size_t views, n, d;
    int global_views, f32_inputs;
    struct ref_params p;
    double loss, invariance, weight_sum;
    double vterms[VU_CAP][N_FILE_VTERMS];
    double zero_scale_inv, zero_scale_v[VU_CAP][N_FILE_VTERMS];
    double *z[VU_CAP], *g[VU_CAP]; /* n x d packed */
};

/* ------------------------------------------------------------------------
 * Loader (the reading itself is vecfile.c's)
 * ------------------------------------------------------------------------ */

/* A vf_free_fn. */
static void vvcase_free(void *p)
{
    struct vvcase *c = p;
    for (size_t v = 0; v < VU_CAP; v++) {
        free(c->z[v]);
        free(c->g[v]);
        c->z[v] = c->g[v] = NULL;
    }
}

/* The scales of a zero reference (see the top of the file). */
static void set_zero_scales(struct vvcase *c)
{
    const size_t n = c->n, d = c->d;
    double sq = 0.0;
    for (size_t v = 0; v < c->views; v++) {
        double sum_var = 0.0;
        for (size_t j = 0; j < d; j++)
            sum_var += tu_column_variance(n, d, c->z[v], j);
        for (size_t e = 0; e < n * d; e++)
            sq += c->z[v][e] * c->z[v][e];
        c->zero_scale_v[v][0] = c->p.gamma;
        c->zero_scale_v[v][1] = sum_var * sum_var / (double)d;
        c->zero_scale_v[v][2] = c->zero_scale_v[v][3] = sqrt(c->p.eps);
        c->zero_scale_v[v][4] = 1.0;
    }
    c->zero_scale_inv = sq / (double)(c->views * n * d) * (c->p.paper ? (double)d : 1.0);
}

/* Reads one file into the struct vvcase at out (a vf_load_fn). */
static int load_case(struct vf_reader *r, const char *fname, void *out, char *err, size_t errlen)
{
    enum { K_VIEWS, K_G, K_INPUTS, K_LOSS, K_INV, K_WSUM, N_KEYS };
    static const char *const keys[N_KEYS] = {
        "views", "global_views", "inputs", "loss", "invariance", "weight_sum",
    };
    struct vvcase *c = out;
    const struct vf_meta m = { c->name, sizeof c->name, &c->n, &c->d, &c->p };
    char *key, *val;
    unsigned seen = 0;
    unsigned char vseen[VU_CAP][N_FILE_VTERMS];
    int more;

    memset(vseen, 0, sizeof vseen);
    snprintf(c->file, sizeof c->file, "%s", fname);
    /* After the metadata: the keys of this format. */
    while ((more = vf_next_key(r, &m, &key, &val, err, errlen)) > 0) {
        int good = 1;
        size_t u = 0;
        switch (vf_key_index(key, keys, N_KEYS, &seen, err, errlen)) {
        case -2: return 0;
        case K_VIEWS: good = vf_count(val, VICREG_MAX_VIEWS, &c->views) && c->views >= 1; break;
        case K_G:
            good = vf_count(val, VICREG_MAX_VIEWS, &u);
            c->global_views = (int)u;
            break;
        case K_INPUTS:
            good = strcmp(val, "f32") == 0 || strcmp(val, "f64") == 0;
            c->f32_inputs = strcmp(val, "f32") == 0;
            break;
        case K_LOSS: good = vf_double(val, &c->loss); break;
        case K_INV: good = vf_double(val, &c->invariance); break;
        case K_WSUM: good = vf_double(val, &c->weight_sum); break;
        default: {
            /* <value>_<view> */
            int handled = 0;
            for (int t = 0; t < N_FILE_VTERMS && !handled; t++) {
                const size_t len = strlen(vterm_keys[t]);
                size_t view;
                if (strncmp(key, vterm_keys[t], len) != 0 || key[len] != '_' ||
                    !vf_count(key + len + 1, VICREG_MAX_VIEWS - 1, &view))
                    continue;
                handled = 1;
                good = !vseen[view][t] && vf_double(val, &c->vterms[view][t]);
                vseen[view][t] = 1;
            }
            if (!handled) {
                snprintf(err, errlen, "unknown key '%s=%s'", key, val);
                return 0;
            }
        }
        }
        if (!good) {
            snprintf(err, errlen, "bad or duplicate key '%s=%s'", key, val);
            return 0;
        }
    }
    if (more < 0 || !vf_all_keys(seen, N_KEYS, err, errlen))
        return 0;
    if ((size_t)c->global_views > c->views) {
        snprintf(err, errlen, "global_views %d > views %zu", c->global_views, c->views);
        return 0;
    }
    for (size_t v = 0; v < VU_CAP; v++)
        for (int k = 0; k < N_FILE_VTERMS; k++)
            if (vseen[v][k] != (v < c->views)) {
                snprintf(err, errlen, "%s_%zu %s", vterm_keys[k], v,
                         vseen[v][k] ? "beyond the views" : "missing");
                return 0;
            }
    const size_t count = c->n * c->d;
    for (size_t v = 0; v < c->views; v++) {
        c->z[v] = malloc(count * sizeof(double));
        c->g[v] = malloc(count * sizeof(double));
        if (!c->z[v] || !c->g[v]) {
            snprintf(err, errlen, "out of memory");
            return 0;
        }
    }
    for (size_t v = 0; v < c->views; v++) {
        char label[32];
        snprintf(label, sizeof label, "z%zu", v);
        if (!vf_matrix(r, label, count, c->z[v], c->f32_inputs, err, errlen))
            return 0;
    }
    for (size_t v = 0; v < c->views; v++) {
        char label[32];
        snprintf(label, sizeof label, "grad%zu", v);
        if (!vf_matrix(r, label, count, c->g[v], 0, err, errlen))
            return 0;
    }
    set_zero_scales(c);
    return 1;
}

struct vvset {
    struct vvcase *cases;
    size_t count;
};

/* Every *.vec file of VIEWS_DIR, in name order; fails the test if there
 * is none or if any does not parse. */
static struct vvset load_all(void)
{
    struct vvset set;
    set.cases = vf_load_all(VIEWS_DIR, "vicreg-views-vector-v1", "scripts/gen_views_vectors.py",
                            sizeof *set.cases, load_case, vvcase_free, &set.count);
    return set;
}

static void free_all(struct vvset *set)
{
    vf_free_all(set->cases, set->count, sizeof *set->cases, vvcase_free);
}

/* ------------------------------------------------------------------------
 * Comparisons
 * ------------------------------------------------------------------------ */

struct tally {
    double values, zeros, grads; /* the largest errors */
    size_t checks;
};

static double value_err(double got, double want, double zero_scale)
{
    return want != 0.0 ? fabs(got - want) / fabs(want) : fabs(got) / zero_scale;
}

/* got: the loss, s_bar, per-view values (N_FILE_VTERMS each) and
 * gradients of a run, against the case. */
static void check_run(struct tally *t, const struct vvcase *c, double loss, double inv,
                      double (*vterms)[VU_N_VTERMS], double *const *g, double tol,
                      const char *what)
{
    double e = value_err(loss, c->loss, 1.0);
    ck_assert_msg(e <= tol, "%s: loss %.17g, torch %.17g (err %.3g)", what, loss, c->loss, e);
    t->values = fmax(t->values, e);
    e = value_err(inv, c->invariance, c->zero_scale_inv);
    ck_assert_msg(e <= tol, "%s: s_bar %.17g, torch %.17g (err %.3g)", what, inv, c->invariance,
                  e);
    if (c->invariance == 0.0)
        t->zeros = fmax(t->zeros, e);
    else
        t->values = fmax(t->values, e);
    t->checks += 2;
    for (size_t v = 0; v < c->views; v++) {
        for (int k = 0; k < N_FILE_VTERMS; k++) {
            const double want = c->vterms[v][k];
            e = value_err(vterms[v][k], want, c->zero_scale_v[v][k]);
            ck_assert_msg(e <= tol, "%s: %s_%zu %.17g, torch %.17g (err %.3g)", what,
                          vterm_keys[k], v, vterms[v][k], want, e);
            if (want == 0.0)
                t->zeros = fmax(t->zeros, e);
            else
                t->values = fmax(t->values, e);
            t->checks++;
        }
        int finite = 1;
        for (size_t i = 0; i < c->n * c->d; i++)
            finite &= isfinite(g[v][i]) != 0;
        e = finite ? tu_rel_err(c->n, c->d, g[v], c->d, c->g[v], c->d) : INFINITY;
        ck_assert_msg(e <= tol, "%s: gradient %zu normwise error %.3g", what, v, e);
        t->grads = fmax(t->grads, e);
        t->checks++;
    }
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

/* The files themselves: the loss is the documented combination of the
 * terms, the weight sum is G (V - 1), f32 inputs are float32 numbers, and
 * the set covers what it should. */
START_TEST(view_vector_files)
{
    struct vvset set = load_all();
    int have_paper = 0, have_reference = 0, have_one = 0, have_all_global = 0, have_local = 0,
        have_eight = 0, have_f32 = 0, have_f64 = 0, have_zero_variance = 0;
    for (size_t k = 0; k < set.count; k++) {
        const struct vvcase *c = &set.cases[k];
        const size_t g = c->global_views ? (size_t)c->global_views : c->views;
        const double w = c->p.paper ? 1.0 : 1.0 / (double)c->views;
        double vsum = 0.0, csum = 0.0;
        for (size_t v = 0; v < c->views; v++) {
            vsum += c->vterms[v][0];
            csum += c->vterms[v][1];
            have_zero_variance |= c->vterms[v][0] == 0.0;
        }
        const double sum = c->p.lambda * c->invariance + c->p.mu * w * vsum + c->p.nu * csum;
        ck_assert_msg(tu_rel(sum, c->loss) < 1e-13, "%s: loss %.17g, terms give %.17g", c->file,
                      c->loss, sum);
        ck_assert_msg(c->weight_sum == (double)(g * (c->views - 1)), "%s: weight sum %g",
                      c->file, c->weight_sum);
        if (c->views == 1)
            ck_assert_msg(c->invariance == 0.0, "%s: one view with an invariance", c->file);
        for (size_t v = 0; v < c->views && c->f32_inputs; v++)
            for (size_t e = 0; e < c->n * c->d; e++)
                ck_assert_msg((double)(float)c->z[v][e] == c->z[v][e],
                              "%s: an f32 input is not a float32 number", c->file);
        have_paper |= c->p.paper;
        have_reference |= !c->p.paper;
        have_one |= c->views == 1;
        have_all_global |= c->views > 2 && g == c->views;
        have_local |= g < c->views;
        have_eight |= c->views >= 8;
        have_f32 |= c->f32_inputs;
        have_f64 |= !c->f32_inputs;
    }
    printf("views-vectors: %zu vector files in %s\n", set.count, VIEWS_DIR);
    free_all(&set);
    ck_assert(have_paper && have_reference && have_one && have_all_global && have_local &&
              have_eight && have_f32 && have_f64 && have_zero_variance);
}
END_TEST

/* The test's own double reference against the torch values. */
START_TEST(reference_against_view_vectors)
{
    struct vvset set = load_all();
    struct tally t = { 0 };
    for (size_t k = 0; k < set.count; k++) {
        const struct vvcase *c = &set.cases[k];
        struct ref_views_result r;
        double *g[VU_CAP] = { 0 }, vt[VU_CAP][VU_N_VTERMS];
        for (size_t v = 0; v < c->views; v++) {
            g[v] = malloc(c->n * c->d * sizeof(double));
            ck_assert_ptr_nonnull(g[v]);
        }
        ref_views(&c->p, c->global_views, c->views, c->n, c->d, (const double *const *)c->z, &r,
                  g);
        ck_assert(r.weight_sum == c->weight_sum);
        for (size_t v = 0; v < c->views; v++) {
            vt[v][0] = r.variance[v];
            vt[v][1] = r.covariance[v];
            vt[v][2] = r.mean_std[v];
            vt[v][3] = r.min_std[v];
            vt[v][4] = r.collapsed_fraction[v];
        }
        check_run(&t, c, r.loss, r.invariance, vt, g, TOL_F64, c->name);
        for (size_t v = 0; v < c->views; v++)
            free(g[v]);
    }
    printf("views-vectors: tests/reference.c: %zu checks, max relative error %.3g, "
           "scaled error of zero values %.3g, gradients %.3g\n",
           t.checks, t.values, t.zeros, t.grads);
    free_all(&set);
}
END_TEST

/* _i = 0: vicreg_views_loss_f64 on every file; _i = 1: vicreg_views_loss_f32
 * on the files with float32 inputs. Both paths, packed and padded; one
 * context per path serves every case, so the parameters change and the
 * scratch grows and shrinks between calls. */
START_TEST(library_against_view_vectors)
{
    static const int paths[2] = { VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };
    const int prec = _i ? F32 : F64;
    const double tol = prec == F64 ? TOL_F64 : TOL_F32;
    struct vvset set = load_all();
    struct tally t = { 0 };
    size_t runs = 0;
    for (int p = 0; p < 2; p++) {
        vicreg_ctx *ctx = tu_ctx_new();
        for (size_t k = 0; k < set.count; k++) {
            const struct vvcase *c = &set.cases[k];
            if (prec == F32 && !c->f32_inputs)
                continue;
            tu_set_params(ctx, &c->p);
            ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, paths[p]), VICREG_OK);
            ck_assert_int_eq(vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, c->global_views),
                             VICREG_OK);
            for (int padded = 0; padded <= 1; padded++) {
                struct views w;
                struct vgrads g;
                struct vout o;
                char what[256];
                snprintf(what, sizeof what, "%s [%s, path %d, %s]", c->name, prec_name(prec),
                         paths[p], padded ? "padded" : "packed");
                views_from(&w, prec, c->views, c->n, c->d, (const double *const *)c->z, padded);
                if (padded)
                    vgrads_some(&g, c->views, c->d, 0, 2);
                else
                    vgrads_all(&g, c->views);
                vout_init(&o, c->views, c->n, c->d);
                const int st = vu_run(ctx, &w, !padded, &g, 0, SIZE_MAX, &o);
                ck_assert_msg(st == VICREG_OK, "%s: %s", what, vicreg_status_name(st));
                ck_assert_msg(o.terms[TU_N_TERMS - 1] == paths[p], "%s: path used %g", what,
                              o.terms[TU_N_TERMS - 1]);
                check_run(&t, c, o.loss, o.terms[1], o.vterms, o.g, tol, what);
                runs++;
                vout_free(&o);
                views_free(&w);
            }
        }
        vicreg_ctx_destroy(ctx);
    }
    printf("views-vectors: vicreg_views_loss_%s: %zu runs, %zu checks, max relative error %.3g, "
           "scaled error of zero values %.3g, gradients %.3g\n",
           prec_name(prec), runs, t.checks, t.values, t.zeros, t.grads);
    ck_assert_uint_gt(runs, 0);
    free_all(&set);
}
END_TEST

Suite *views_vectors_suite(void)
{
    return vf_suite("views-vectors", view_vector_files, reference_against_view_vectors,
                    library_against_view_vectors);
}
