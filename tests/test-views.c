/*
 * test-views.c - the views calls of 1.2 (specification section 4):
 *
 *   reference  vicreg_views_loss_f64/_f32 against the plain-loop double
 *              reference ref_views() for V = 1 .. 8 and G = 0 .. V, both
 *              conventions, default and other coefficients, n > d and
 *              n < d on every path, packed and padded views and
 *              gradients, ldz NULL, some grad[v] NULL and grad NULL; 64
 *              views; n = 2 and d = 1 up to several BLAS blocks; a
 *              large common offset; views that alias or overlap each
 *              other; repeatability, fewer gradients, the gradient scale;
 *   fd         every view's gradient against central finite differences
 *              of the library's own loss (f64);
 *   two-batch  V = 2 is vicreg_loss_*() (and the rows call
 *              vicreg_loss_rows_*()) bit for bit for every G, and the
 *              terms of either call are read through both getters;
 *   one-view   V = 1 is the regulariser mu v + nu c alone;
 *   rows       vicreg_views_loss_rows_*() against the full call;
 *   errors     every documented status, nothing written, the context's
 *              terms and parameters kept, the context usable;
 *   params     VICREG_PARAM_GLOBAL_VIEWS and its bounds;
 *   scratch    vicreg_ctx_views_scratch_bytes() and _reserve().
 *
 * Allocation counting is in test-views-memory.c, the committed PyTorch
 * vectors in test-views-vectors.c, the sharded views in
 * test-shard-views.c.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viewsutil.h"

/* Against the double reference: the tolerances of test-values.c. f64
 * agrees with the reference to rounding; f32 differs by the float
 * rounding of the centred copies and of the BLAS products, relative to
 * the largest entry. */
#define TOL_F64 1e-11
#define TOL_F32 5e-5
/* Finite differences, as test-gradients.c. */
#define FD_TOL 1e-6

static double tol_of(int prec)
{
    return prec == F64 ? TOL_F64 : TOL_F32;
}

/* The other coefficients of test-values.c's sweep. */
static const struct ref_params custom_params = { 10.0, 5.0, 3.0, 0.8, 1e-3, 0 };

static const int all_paths[3] = { VICREG_PATH_AUTO, VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };

static int path_taken(int path, size_t n, size_t d)
{
    if (path == VICREG_PATH_AUTO)
        return n < d ? VICREG_PATH_GRAM : VICREG_PATH_COVARIANCE;
    return path;
}

/* ---------------------------------------------------------------------
 * reference: the library against ref_views()
 * --------------------------------------------------------------------- */

/* The error of one term as test-values.c measures it: relative, at a
 * scale of at least `floor` (the covariance terms: 1e-3 of the loss), and
 * absolute where the reference is 0. */
static double term_err(double got, double want, double floor)
{
    if (want == 0.0)
        return fabs(got);
    return fabs(got - want) / fmax(fmax(fabs(want), floor), DBL_MIN);
}

/* The reference's value of view term k of view v. */
static double ref_view_term(const struct ref_views_result *r, size_t v, size_t k)
{
    switch (vu_view_terms[k]) {
    case VICREG_VIEW_TERM_VARIANCE: return r->variance[v];
    case VICREG_VIEW_TERM_COVARIANCE: return r->covariance[v];
    case VICREG_VIEW_TERM_MEAN_STD: return r->mean_std[v];
    case VICREG_VIEW_TERM_MIN_STD: return r->min_std[v];
    case VICREG_VIEW_TERM_COLLAPSED_FRACTION: return r->collapsed_fraction[v];
    default: return r->effective_rank[v];
    }
}

/* o (a call on data whose reference is r, rg) against the reference: the
 * loss, s_bar, every view's terms and every asked gradient. Returns the
 * largest error. */
static double compare_ref(const struct vout *o, const struct ref_views_result *r,
                          double *const *rg, const struct vgrads *g, double tol, const char *what)
{
    const double cov_floor = 1e-3 * fabs(r->loss);
    double worst = term_err(o->loss, r->loss, 0.0);
    ck_assert_msg(worst <= tol, "%s: loss %.17g, reference %.17g", what, o->loss, r->loss);
    double e = term_err(o->terms[1], r->invariance, 0.0);
    ck_assert_msg(e <= tol, "%s: s_bar %.17g, reference %.17g", what, o->terms[1], r->invariance);
    worst = fmax(worst, e);
    for (size_t v = 0; v < o->count; v++) {
        for (size_t k = 0; k < VU_N_VTERMS; k++) {
            const double want = ref_view_term(r, v, k), got = o->vterms[v][k];
            e = term_err(got, want,
                         vu_view_terms[k] == VICREG_VIEW_TERM_COVARIANCE ? cov_floor : 0.0);
            ck_assert_msg(e <= tol, "%s: view %zu term %d is %.17g, reference %.17g (err %.3g)",
                          what, v, vu_view_terms[k], got, want, e);
            worst = fmax(worst, e);
        }
        if (g->none || !g->want[v])
            continue;
        e = tu_rel_err(o->n, o->d, o->g[v], o->d, rg[v], o->d);
        ck_assert_msg(e <= tol, "%s: gradient %zu error %.3g", what, v, e);
        worst = fmax(worst, e);
    }
    return worst;
}

static double **grads_new(size_t count, size_t n, size_t d)
{
    double **g = calloc(VU_CAP, sizeof *g);
    ck_assert_ptr_nonnull(g);
    for (size_t v = 0; v < count; v++) {
        g[v] = malloc(n * d * sizeof(double));
        ck_assert_ptr_nonnull(g[v]);
    }
    return g;
}

static void grads_free(double **g, size_t count)
{
    for (size_t v = 0; v < count; v++)
        free(g[v]);
    free(g);
}

/* The layouts each case runs in: 0 packed, ldz NULL, every gradient,
 * ldgrad NULL; 1 padded views and padded gradients; 2 padded views, the
 * odd views without a gradient (with one view: grad[0] NULL), ldgrad NULL;
 * 3 packed views with ldz given, grad NULL. */
#define N_LAYOUTS 4

static int layout_padded(int layout)
{
    return layout == 1 || layout == 2;
}

static void layout_grads(int layout, size_t count, size_t d, struct vgrads *g, int *ldz_null)
{
    *ldz_null = layout == 0;
    switch (layout) {
    case 0: vgrads_all(g, count); break;
    case 1: vgrads_some(g, count, d, 0, 2); break;
    case 2: vgrads_some(g, count, d, 0xAAAAAAAAAAAAAAAAull | (count == 1), 0); break;
    default:
        vgrads_all(g, count);
        g->none = 1;
        break;
    }
}

/* The library on the views src (packed doubles) in every precision, path
 * and layout, against the reference; returns the largest error per
 * precision in worst[]. */
static void check_views(const struct ref_params *p, int global_views, size_t count, size_t n,
                        size_t d, const double *const *src, double *worst)
{
    struct ref_views_result r;
    double **rg = grads_new(count, n, d);
    ref_views(p, global_views, count, n, d, src, &r, rg);
    for (int prec = F32; prec <= F64; prec++)
        for (int k = 0; k < 3; k++)
            for (int layout = 0; layout < N_LAYOUTS; layout++) {
                char what[160];
                struct views w;
                struct vgrads g;
                struct vout o;
                int ldz_null;
                snprintf(what, sizeof what, "%s V=%zu G=%d n=%zu d=%zu %s %s path %d layout %d",
                         prec_name(prec), count, global_views, n, d,
                         p->paper ? "paper" : "reference",
                         p->lambda == 25.0 ? "default" : "custom", all_paths[k], layout);
                views_from(&w, prec, count, n, d, src, layout_padded(layout));
                layout_grads(layout, count, d, &g, &ldz_null);
                vicreg_ctx *c = vu_ctx(p, all_paths[k], global_views, 1.0);
                vout_init(&o, count, n, d);
                const int st = vu_run(c, &w, ldz_null, &g, 0, SIZE_MAX, &o);
                ck_assert_msg(st == VICREG_OK, "%s: %s", what, vicreg_status_name(st));
                ck_assert_msg(o.terms[TU_N_TERMS - 1] == path_taken(all_paths[k], n, d),
                              "%s: VICREG_TERM_PATH_USED is %g", what, o.terms[TU_N_TERMS - 1]);
                worst[prec] = fmax(worst[prec], compare_ref(&o, &r, rg, &g, tol_of(prec), what));
                vout_free(&o);
                vicreg_ctx_destroy(c);
                views_free(&w);
            }
    grads_free(rg, count);
}

/* n > d (the covariance path under AUTO) and n < d (the Gram path). */
static const size_t value_shapes[2][2] = { { 13, 7 }, { 7, 13 } };

START_TEST(values_against_reference)
{
    /* _i = (V - 1) + 8 * convention + 16 * coefficients. */
    const size_t count = 1 + (size_t)(_i % 8);
    struct ref_params p = _i / 16 ? custom_params : ref_default_params();
    p.paper = (_i / 8) % 2;
    double worst[2] = { 0.0, 0.0 };
    for (int g = 0; g <= (int)count; g++)
        for (size_t s = 0; s < 2; s++) {
            struct views base;
            views_make(&base, F64, 1000 + 37 * (uint64_t)_i + 5 * (uint64_t)g + s, count,
                       value_shapes[s][0], value_shapes[s][1], 0);
            check_views(&p, g, count, base.n, base.d, (const double *const *)base.z64, worst);
            views_free(&base);
        }
    printf("views: reference, V=%zu %s %s: worst error f64 %.3g f32 %.3g\n", count,
           p.paper ? "paper" : "reference", _i / 16 ? "custom" : "default", worst[F64],
           worst[F32]);
}
END_TEST

/* The most views the library takes, some global. */
START_TEST(values_max_views)
{
    const size_t count = VICREG_MAX_VIEWS, n = 5, d = 3;
    struct ref_params p = ref_default_params();
    p.paper = _i;
    double worst[2] = { 0.0, 0.0 };
    struct views base;
    views_make(&base, F64, 4242, count, n, d, 0);
    check_views(&p, 5, count, n, d, (const double *const *)base.z64, worst);
    check_views(&p, 0, count, n, d, (const double *const *)base.z64, worst);
    views_free(&base);
}
END_TEST

/* The smallest shapes (n = 2, d = 1) and larger ones (several BLAS
 * blocks), V and G rotating. */
START_TEST(values_other_shapes)
{
    static const size_t shapes[][2] = { { 2, 1 }, { 2, 3 }, { 3, 2 }, { 5, 5 }, { 64, 48 },
                                        { 40, 90 } };
    const size_t n = shapes[_i % 6][0], d = shapes[_i % 6][1];
    const size_t count = 1 + (size_t)(_i % 5);
    struct ref_params p = _i / 6 ? custom_params : ref_default_params();
    p.paper = (_i / 6) % 2;
    double worst[2] = { 0.0, 0.0 };
    struct views base;
    views_make(&base, F64, 2000 + (uint64_t)_i, count, n, d, 0);
    check_views(&p, (int)(_i % (count + 1)), count, n, d, (const double *const *)base.z64,
                worst);
    views_free(&base);
}
END_TEST

/* A common offset of 1e4 on a spread of 1 (each view centred first, the
 * invariance from differences): as accurate as without it, in float too.
 * The inputs are rounded through float, so that the reference sees the
 * numbers the f32 call gets. */
START_TEST(values_large_offset)
{
    const size_t count = 4, n = 32, d = 12;
    struct ref_params p = ref_default_params();
    p.paper = _i;
    double worst[2] = { 0.0, 0.0 };
    struct views base;
    views_make(&base, F64, 3000 + (uint64_t)_i, count, n, d, 0);
    for (size_t v = 0; v < count; v++)
        for (size_t e = 0; e < n * d; e++)
            base.z64[v][e] = (double)(float)(base.z64[v][e] + 1e4);
    check_views(&p, 2, count, n, d, (const double *const *)base.z64, worst);
    printf("views: offset 1e4 (paper=%d): worst error f64 %.3g f32 %.3g\n", p.paper, worst[F64],
           worst[F32]);
    views_free(&base);
}
END_TEST

/* Views may alias each other (the same batch passed twice) or overlap
 * (one shifted by a row): what the reference gives for the same numbers. */
START_TEST(values_aliased_views)
{
    const int prec = _i % 2, path = all_paths[_i / 2];
    const size_t n = 9, d = 6, count = 4;
    double *buf = malloc((n + 1) * d * sizeof(double)), *other = malloc(n * d * sizeof(double));
    ck_assert(buf && other);
    tu_make_batches(77, n, d, d, buf, other);
    for (size_t j = 0; j < d; j++)
        buf[n * d + j] = (double)(float)(0.25 * (double)j - 0.5);
    /* One allocation holds views 0, 1 (the same) and 2 (shifted a row). */
    void *block = prec_copy_of(prec, buf, (n + 1) * d), *third = prec_copy_of(prec, other, n * d);
    const void *z[4] = { block, block, (const char *)block + d * elem_of(prec), third };
    const double *z64[4] = { buf, buf, buf + d, other };
    for (int g = 0; g <= 4; g++) {
        struct ref_params p = ref_default_params();
        struct ref_views_result r;
        double **rg = grads_new(count, n, d);
        ref_views(&p, g, count, n, d, z64, &r, rg);
        vicreg_ctx *c = vu_ctx(&p, path, g, 1.0);
        void *gb[4];
        struct vout o;
        struct vgrads all;
        char what[96];
        vgrads_all(&all, count);
        vout_init(&o, count, n, d);
        for (size_t v = 0; v < count; v++)
            gb[v] = sentinel_buffer(prec, n * d);
        ck_assert_int_eq(prec_views_loss(prec, c, count, n, d, z, NULL, &o.loss, gb, NULL),
                         VICREG_OK);
        vu_read_terms(c, count, o.terms, o.vterms);
        for (size_t v = 0; v < count; v++) {
            for (size_t e = 0; e < n * d; e++)
                o.g[v][e] = elem_get(prec, gb[v], e);
            free(gb[v]);
        }
        snprintf(what, sizeof what, "%s aliased views, G=%d path %d", prec_name(prec), g, path);
        compare_ref(&o, &r, rg, &all, tol_of(prec), what);
        /* Views 0 and 1 are one batch: the same terms, bit for bit. */
        ck_assert(memcmp(o.vterms[0], o.vterms[1], sizeof o.vterms[0]) == 0);
        vout_free(&o);
        grads_free(rg, count);
        vicreg_ctx_destroy(c);
    }
    free(block);
    free(third);
    free(buf);
    free(other);
}
END_TEST

/* The same call gives the same bits, again and on a fresh context; asking
 * for fewer gradients, or none, changes neither the loss, the terms nor
 * the gradients asked for (as vicreg_loss_* does); every gradient is
 * multiplied by VICREG_PARAM_GRAD_SCALE (a power of two: exactly). */
START_TEST(repeatable_partial_and_scaled)
{
    const int prec = _i % 2, path = all_paths[_i / 2];
    const size_t count = 5, n = 11, d = 8;
    struct ref_params p = ref_default_params();
    struct views w;
    views_make(&w, prec, 99, count, n, d, 1);
    vicreg_ctx *c = vu_ctx(&p, path, 2, 1.0), *fresh = vu_ctx(&p, path, 2, 1.0);
    struct vgrads all, some, none;
    struct vout o1, o2, o3;
    vgrads_some(&all, count, d, 0, 1);
    vgrads_some(&some, count, d, 0x15, 1); /* views 0, 2, 4 without */
    none = all;
    none.none = 1;
    vout_init(&o1, count, n, d);
    vout_init(&o2, count, n, d);
    vout_init(&o3, count, n, d);
    ck_assert_int_eq(vu_run(c, &w, 0, &all, 0, SIZE_MAX, &o1), VICREG_OK);
    ck_assert_int_eq(vu_run(c, &w, 0, &all, 0, SIZE_MAX, &o2), VICREG_OK);
    vout_assert_same(&o1, &o2, NULL, "repeated call");
    ck_assert_int_eq(vu_run(fresh, &w, 0, &all, 0, SIZE_MAX, &o2), VICREG_OK);
    vout_assert_same(&o1, &o2, NULL, "fresh context");
    ck_assert_int_eq(vu_run(c, &w, 0, &some, 0, SIZE_MAX, &o3), VICREG_OK);
    vout_assert_same(&o1, &o3, some.want, "some gradients");
    ck_assert_int_eq(vu_run(c, &w, 0, &none, 0, SIZE_MAX, &o3), VICREG_OK);
    vout_assert_same(&o1, &o3, (const unsigned char[VU_CAP]){ 0 }, "no gradient");
    /* Scaled by 4 and by 0.5. */
    const double scales[2] = { 4.0, 0.5 };
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, scales[k]), VICREG_OK);
        ck_assert_int_eq(vu_run(c, &w, 0, &all, 0, SIZE_MAX, &o3), VICREG_OK);
        vout_assert_same(&o1, &o3, (const unsigned char[VU_CAP]){ 0 }, "scaled: loss and terms");
        for (size_t v = 0; v < count; v++)
            for (size_t e = 0; e < n * d; e++)
                ck_assert_msg(o3.g[v][e] == scales[k] * o1.g[v][e],
                              "scale %g: gradient %zu entry %zu is %.17g, unscaled %.17g",
                              scales[k], v, e, o3.g[v][e], o1.g[v][e]);
    }
    vout_free(&o1);
    vout_free(&o2);
    vout_free(&o3);
    vicreg_ctx_destroy(c);
    vicreg_ctx_destroy(fresh);
    views_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * fd: central finite differences of the library's own loss
 * --------------------------------------------------------------------- */

static double views_loss_at(vicreg_ctx *c, const struct views *w)
{
    double loss;
    ck_assert_int_eq(prec_views_loss(F64, c, w->count, w->n, w->d, VU_CZ(w->z), NULL, &loss, NULL,
                                     NULL),
                     VICREG_OK);
    return loss;
}

/* A target std at least 1e-4 away from every column std of every view (so
 * that no step crosses the hinge's kink): the point of [0.5, 1.5] farthest
 * from them all, as test-gradients.c chooses it. */
static double gamma_away_from_kinks(const struct views *w, double eps)
{
    double best = 1.0, best_gap = -1.0;
    for (int k = 0; k <= 1000; k++) {
        const double g = 0.5 + k / 1000.0;
        double gap = INFINITY;
        for (size_t v = 0; v < w->count; v++)
            for (size_t j = 0; j < w->d; j++)
                gap = fmin(gap, fabs(sqrt(tu_column_variance(w->n, w->d, w->z64[v], j) + eps) - g));
        if (gap > best_gap) {
            best_gap = gap;
            best = g;
        }
    }
    ck_assert_msg(best_gap > 1e-4, "no gamma away from the kinks");
    return best;
}

static const struct {
    size_t views;
    int global_views;
} fd_cases[] = {
    { 1, 0 }, { 2, 1 }, { 3, 0 }, { 3, 1 }, { 3, 2 }, { 4, 2 }, { 5, 3 }, { 8, 2 },
};
#define N_FD_CASES (int)(sizeof fd_cases / sizeof fd_cases[0])

START_TEST(gradients_match_finite_differences)
{
    /* _i = case + N_FD_CASES * (convention + 2 * path + 4 * shape). */
    const size_t count = fd_cases[_i % N_FD_CASES].views;
    const int g = fd_cases[_i % N_FD_CASES].global_views, c2 = _i / N_FD_CASES;
    const int paper = c2 % 2, path = (c2 / 2) % 2 ? VICREG_PATH_GRAM : VICREG_PATH_COVARIANCE;
    const size_t n = (c2 / 4) ? 4 : 7, d = (c2 / 4) ? 7 : 4;
    struct ref_params p = { 7.0, 3.0, 11.0, 1.0, 1e-3, paper };
    struct views w;
    views_make(&w, F64, 300 + (uint64_t)_i, count, n, d, 0);
    p.gamma = gamma_away_from_kinks(&w, p.eps);
    vicreg_ctx *c = vu_ctx(&p, path, g, 1.0);
    struct vgrads all;
    struct vout o;
    vgrads_all(&all, count);
    vout_init(&o, count, n, d);
    ck_assert_int_eq(vu_run(c, &w, 1, &all, 0, SIZE_MAX, &o), VICREG_OK);
    double *fd = malloc(n * d * sizeof(double)), worst = 0.0;
    ck_assert_ptr_nonnull(fd);
    for (size_t v = 0; v < count; v++) {
        double *z = w.z[v];
        for (size_t e = 0; e < n * d; e++) {
            const double keep = z[e], h = 1e-5 * fmax(1.0, fabs(keep));
            z[e] = keep + h;
            const double up = views_loss_at(c, &w);
            z[e] = keep - h;
            const double down = views_loss_at(c, &w);
            z[e] = keep;
            fd[e] = (up - down) / (2.0 * h);
        }
        const double err = tu_rel_err(n, d, o.g[v], d, fd, d);
        ck_assert_msg(err < FD_TOL, "V=%zu G=%d paper=%d path=%d %zux%zu view %zu: FD error %.3g",
                      count, g, paper, path, n, d, v, err);
        worst = fmax(worst, err);
    }
    printf("views: finite differences V=%zu G=%d paper=%d path=%d %zux%zu: worst %.3g\n", count, g,
           paper, path, n, d, worst);
    free(fd);
    vout_free(&o);
    vicreg_ctx_destroy(c);
    views_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * two-batch: V = 2 is vicreg_loss_*()
 * --------------------------------------------------------------------- */

/* vicreg_loss_* on views 0 and 1 of w (their leading dimensions), the
 * gradients asked for by want_a, want_b into buffers with leading
 * dimension d + pad; the outcome as a two-view call's. */
static void two_batch_run(vicreg_ctx *c, const struct views *w, int want_a, int want_b, size_t pad,
                          struct vout *o)
{
    const int prec = w->prec;
    const size_t n = w->n, d = w->d, ldg = d + pad;
    void *ga = want_a ? sentinel_buffer(prec, n * ldg) : NULL;
    void *gb = want_b ? sentinel_buffer(prec, n * ldg) : NULL;
    double loss;
    ck_assert_int_eq(prec_loss(prec, c, n, d, w->z[0], w->ld[0], w->z[1], w->ld[1], &loss, ga,
                               ldg, gb, ldg),
                     VICREG_OK);
    /* A two-batch call's terms read as views 0 and 1, view 2 has none. */
    vu_read_terms(c, 2, o->terms, o->vterms);
    ck_assert(memcmp(&loss, &o->terms[0], sizeof loss) == 0);
    o->loss = loss;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            if (ga)
                o->g[0][i * d + j] = elem_get(prec, ga, i * ldg + j);
            if (gb)
                o->g[1][i * d + j] = elem_get(prec, gb, i * ldg + j);
        }
    free(ga);
    free(gb);
}

START_TEST(two_views_equal_two_batch)
{
    /* _i = precision + 2 * shape + 4 * convention + 8 * path. */
    const int prec = _i % 2, paper = (_i / 4) % 2, path = all_paths[_i / 8];
    const size_t n = value_shapes[(_i / 2) % 2][0], d = value_shapes[(_i / 2) % 2][1];
    struct ref_params p = paper ? custom_params : ref_default_params();
    p.paper = paper;
    const double scale = path == VICREG_PATH_GRAM ? 0.75 : 1.0;
    for (int padded = 0; padded <= 1; padded++) {
        struct views w;
        views_make(&w, prec, 700 + (uint64_t)_i, 2, n, d, padded);
        const size_t pad = padded ? 3 : 0;
        /* The two-batch call, on contexts with every G: it does not read it. */
        struct vout two;
        vout_init(&two, 2, n, d);
        for (int g = 0; g <= 2; g++) {
            struct vout again;
            vicreg_ctx *c2 = vu_ctx(&p, path, g, scale);
            vout_init(&again, 2, n, d);
            two_batch_run(c2, &w, 1, 1, pad, g == 0 ? &two : &again);
            if (g > 0)
                vout_assert_same(&two, &again, NULL, "two-batch call with G set");
            vout_free(&again);
            vicreg_ctx_destroy(c2);
        }
        ck_assert(two.terms[TU_N_TERMS - 1] == path_taken(path, n, d));
        for (int g = 0; g <= 2; g++) {
            char what[128];
            snprintf(what, sizeof what, "%s %zux%zu %s path %d G=%d %s", prec_name(prec), n, d,
                     paper ? "paper" : "reference", path, g, padded ? "padded" : "packed");
            vicreg_ctx *c = vu_ctx(&p, path, g, scale);
            struct vgrads all;
            struct vout o;
            vgrads_some(&all, 2, d, 0, pad);
            if (pad)
                all.ld[1] = d + pad; /* the same as the two-batch buffers */
            vout_init(&o, 2, n, d);
            ck_assert_int_eq(vu_run(c, &w, !padded, &all, 0, SIZE_MAX, &o), VICREG_OK);
            vout_assert_same(&o, &two, NULL, what);
            /* One gradient, the other, none: as the two-batch call. */
            for (int k = 0; k < 3; k++) {
                struct vgrads one = all;
                struct vout x, y;
                one.want[0] = k == 1;
                one.want[1] = k == 0;
                one.none = k == 2;
                vout_init(&x, 2, n, d);
                vout_init(&y, 2, n, d);
                ck_assert_int_eq(vu_run(c, &w, !padded, &one, 0, SIZE_MAX, &x), VICREG_OK);
                vicreg_ctx *c2 = vu_ctx(&p, path, 0, scale);
                two_batch_run(c2, &w, k == 1, k == 0, pad, &y);
                vout_assert_same(&x, &y, NULL, what);
                vicreg_ctx_destroy(c2);
                vout_free(&x);
                vout_free(&y);
            }
            /* And the rows call is vicreg_loss_rows_* (rows 1 .. n - 2). */
            {
                const size_t row0 = 1, rows = n - 3, ldg = d + pad;
                struct vout x;
                vout_init(&x, 2, n, d);
                ck_assert_int_eq(vu_run(c, &w, !padded, &all, row0, rows, &x), VICREG_OK);
                vout_assert_same(&x, &two, (const unsigned char[VU_CAP]){ 0 }, what);
                vicreg_ctx *c2 = vu_ctx(&p, path, 0, scale);
                void *ga = sentinel_buffer(prec, rows * ldg), *gb = sentinel_buffer(prec, rows * ldg);
                double l2;
                ck_assert_int_eq(prec_loss_rows(prec, c2, n, d, w.z[0], w.ld[0], w.z[1], w.ld[1],
                                                row0, rows, &l2, ga, ldg, gb, ldg),
                                 VICREG_OK);
                ck_assert(memcmp(&l2, &x.loss, sizeof l2) == 0);
                for (size_t i = 0; i < rows; i++)
                    for (size_t j = 0; j < d; j++) {
                        const double a = elem_get(prec, ga, i * ldg + j);
                        const double b = elem_get(prec, gb, i * ldg + j);
                        ck_assert_msg(memcmp(&a, &x.g[0][(row0 + i) * d + j], sizeof a) == 0 &&
                                          memcmp(&b, &x.g[1][(row0 + i) * d + j], sizeof b) == 0,
                                      "%s: rows call, gradient row %zu differs", what, row0 + i);
                    }
                free(ga);
                free(gb);
                vicreg_ctx_destroy(c2);
                vout_free(&x);
            }
            vout_free(&o);
            vicreg_ctx_destroy(c);
        }
        vout_free(&two);
        views_free(&w);
    }
}
END_TEST

/* The terms always describe the last successful call, whichever kind:
 * no _B term or view term survives from an earlier call with more views,
 * and a failing call keeps them all. */
START_TEST(terms_follow_the_last_call)
{
    const int prec = _i;
    const size_t n = 8, d = 5;
    struct ref_params p = ref_default_params();
    struct views w;
    views_make(&w, prec, 31, 5, n, d, 0);
    vicreg_ctx *c = vu_ctx(&p, VICREG_PATH_AUTO, 0, 1.0);
    double t[TU_N_TERMS], vt[VU_CAP][VU_N_VTERMS], v = 3.0;
    ck_assert_int_eq(vicreg_ctx_get_view_term(c, VICREG_VIEW_TERM_VARIANCE, 0, &v),
                     VICREG_ERR_NO_RESULT);
    ck_assert(v == 3.0);
    const size_t counts[] = { 5, 1, 3, 2, 1 };
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GLOBAL_VIEWS, k % 2 ? 0 : 1),
                         VICREG_OK);
        ck_assert_int_eq(prec_views_loss(prec, c, counts[k], n, d, VU_CZ(w.z), NULL, NULL, NULL,
                                         NULL),
                         VICREG_OK);
        vu_read_terms(c, counts[k], t, vt);
        /* A two-batch call after it: two views again. */
        if (counts[k] == 1) {
            ck_assert_int_eq(prec_loss(prec, c, n, d, w.z[0], d, w.z[1], d, NULL, NULL, 0, NULL, 0),
                             VICREG_OK);
            vu_read_terms(c, 2, t, vt);
        }
    }
    /* A failing call (NaN in view 2) keeps the last terms. */
    double t2[TU_N_TERMS], vt2[VU_CAP][VU_N_VTERMS];
    const double keep = elem_get(prec, w.z[2], 3);
    elem_put(prec, w.z[2], 3, NAN);
    ck_assert_int_eq(prec_views_loss(prec, c, 4, n, d, VU_CZ(w.z), NULL, NULL, NULL, NULL),
                     VICREG_ERR_NON_FINITE);
    elem_put(prec, w.z[2], 3, keep);
    vu_read_terms(c, 2, t2, vt2);
    ck_assert(memcmp(t, t2, sizeof t) == 0 && memcmp(vt[0], vt2[0], 2 * sizeof vt[0]) == 0);
    vicreg_ctx_destroy(c);
    views_free(&w);
}
END_TEST

START_TEST(view_term_arguments)
{
    struct views w;
    views_make(&w, F64, 32, 3, 6, 4, 0);
    vicreg_ctx *c = tu_ctx_new();
    double v = 3.0;
    ck_assert_int_eq(vicreg_ctx_get_view_term(NULL, VICREG_VIEW_TERM_VARIANCE, 0, &v),
                     VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(prec_views_loss(F64, c, 3, 6, 4, VU_CZ(w.z), NULL, NULL, NULL, NULL),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_view_term(c, VICREG_VIEW_TERM_VARIANCE, 0, NULL),
                     VICREG_ERR_INVALID_ARGUMENT);
    const int unknown[] = { 0, 7, -1, 100, VICREG_TERM_EFFECTIVE_RANK_A, INT_MIN, INT_MAX };
    for (size_t k = 0; k < sizeof unknown / sizeof unknown[0]; k++)
        ck_assert_msg(vicreg_ctx_get_view_term(c, unknown[k], 0, &v) ==
                          VICREG_ERR_INVALID_ARGUMENT,
                      "view term key %d", unknown[k]);
    ck_assert(v == 3.0);
    const size_t beyond[] = { 3, 4, VICREG_MAX_VIEWS, VICREG_MAX_VIEWS + 1, SIZE_MAX };
    for (size_t k = 0; k < sizeof beyond / sizeof beyond[0]; k++)
        ck_assert_int_eq(vicreg_ctx_get_view_term(c, VICREG_VIEW_TERM_MIN_STD, beyond[k], &v),
                         VICREG_ERR_NO_RESULT);
    ck_assert(v == 3.0);
    vicreg_ctx_destroy(c);
    views_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * one-view: the regulariser alone
 * --------------------------------------------------------------------- */
START_TEST(one_view_is_the_regulariser)
{
    /* _i = precision + 2 * convention + 4 * G + 8 * path (covariance,
     * Gram). */
    const int prec = _i % 2, g = (_i / 4) % 2;
    const int path = _i / 8 ? VICREG_PATH_GRAM : VICREG_PATH_COVARIANCE;
    const size_t n = 9, d = 5;
    struct ref_params p = custom_params;
    p.paper = (_i / 2) % 2;
    struct views w;
    views_make(&w, prec, 55 + (uint64_t)_i, 1, n, d, 0);
    struct ref_views_result r;
    double **rg = grads_new(1, n, d);
    ref_views(&p, g, 1, n, d, (const double *const *)w.z64, &r, rg);
    vicreg_ctx *c = vu_ctx(&p, path, g, 1.0);
    struct vgrads all;
    struct vout o, o2;
    vgrads_all(&all, 1);
    vout_init(&o, 1, n, d);
    vout_init(&o2, 1, n, d);
    ck_assert_int_eq(vu_run(c, &w, 1, &all, 0, SIZE_MAX, &o), VICREG_OK);
    compare_ref(&o, &r, rg, &all, tol_of(prec), "one view");
    /* No pair: s_bar is 0; the loss is mu v + nu c (w = 1 in both
     * conventions), from the call's own terms to a rounding. */
    ck_assert(o.terms[1] == 0.0);
    const double recomposed = p.mu * o.vterms[0][0] + p.nu * o.vterms[0][1];
    ck_assert_msg(tu_rel(o.loss, recomposed) <= 4 * DBL_EPSILON,
                  "loss %.17g, mu v + nu c = %.17g", o.loss, recomposed);
    ck_assert(tu_rel(r.loss, p.mu * r.variance[0] + p.nu * r.covariance[0]) <= 4 * DBL_EPSILON);
    /* lambda plays no part. */
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_INVARIANCE_COEFF, 1e9), VICREG_OK);
    ck_assert_int_eq(vu_run(c, &w, 1, &all, 0, SIZE_MAX, &o2), VICREG_OK);
    ck_assert(tu_rel(o2.loss, o.loss) <= 4 * DBL_EPSILON);
    ck_assert(tu_rel_err(n, d, o2.g[0], d, o.g[0], d) <= 4 * (prec == F64 ? DBL_EPSILON : FLT_EPSILON));
    vout_free(&o);
    vout_free(&o2);
    grads_free(rg, 1);
    vicreg_ctx_destroy(c);
    views_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * rows
 * --------------------------------------------------------------------- */
START_TEST(rows_equal_full_call)
{
    /* _i = precision + 2 * shape + 4 * (V = 1 or 3) + 8 * path. */
    const int prec = _i % 2, path = all_paths[_i / 8];
    const size_t n = (_i / 2) % 2 ? 5 : 9, d = (_i / 2) % 2 ? 9 : 5;
    const size_t count = (_i / 4) % 2 ? 3 : 1;
    /* As test-loss-rows.c: a different row count changes how BLAS blocks
     * the product, not what it sums; the full range is the same call. */
    const double tol = prec == F64 ? 1e-14 : 1e-6;
    struct ref_params p = ref_default_params();
    struct views w;
    views_make(&w, prec, 900 + (uint64_t)_i, count, n, d, 1);
    vicreg_ctx *c = vu_ctx(&p, path, count == 3 ? 1 : 0, 1.0);
    struct vgrads all, padded;
    struct vout full;
    vgrads_all(&all, count);
    vgrads_some(&padded, count, d, 0, 2);
    vout_init(&full, count, n, d);
    ck_assert_int_eq(vu_run(c, &w, 0, &all, 0, SIZE_MAX, &full), VICREG_OK);
    int ranges = 0, bitwise = 0;
    for (size_t row0 = 0; row0 <= n; row0++)
        for (size_t rows = 0; row0 + rows <= n; rows++) {
            struct vout o;
            struct vgrads g = padded;
            /* A middle range with view 1's gradient left out. */
            if (count == 3 && row0 == 1 && rows == 2)
                g.want[1] = 0;
            vout_init(&o, count, n, d);
            ck_assert_int_eq(vu_run(c, &w, 0, &g, row0, rows, &o), VICREG_OK);
            /* The loss and terms are the whole batch's: the same bits. */
            vout_assert_same(&o, &full, (const unsigned char[VU_CAP]){ 0 }, "rows: terms");
            int same = 1;
            for (size_t v = 0; v < count; v++) {
                if (!g.want[v])
                    continue;
                double err = 0.0, sc = 0.0;
                for (size_t i = row0; i < row0 + rows; i++)
                    for (size_t j = 0; j < d; j++) {
                        err = fmax(err, fabs(o.g[v][i * d + j] - full.g[v][i * d + j]));
                        sc = fmax(sc, fabs(full.g[v][i * d + j]));
                    }
                same &= err == 0.0;
                ck_assert_msg(err <= tol * sc, "rows %zu+%zu of view %zu: error %g (scale %g)",
                              row0, rows, v, err, sc);
            }
            if (row0 == 0 && rows == n)
                vout_assert_same(&o, &full, NULL, "rows 0 .. n");
            ranges++;
            bitwise += same;
            vout_free(&o);
        }
    /* No gradient at all. */
    struct vout o;
    struct vgrads none = all;
    none.none = 1;
    vout_init(&o, count, n, d);
    ck_assert_int_eq(vu_run(c, &w, 0, &none, 1, 2, &o), VICREG_OK);
    vout_assert_same(&o, &full, (const unsigned char[VU_CAP]){ 0 }, "rows, no gradient");
    vout_free(&o);
    printf("views: rows %s %zux%zu V=%zu path %d: %d of %d ranges bitwise equal\n",
           prec_name(prec), n, d, count, path, bitwise, ranges);
    vout_free(&full);
    vicreg_ctx_destroy(c);
    views_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * errors
 * --------------------------------------------------------------------- */
START_TEST(errors_views_calls)
{
    /* _i = precision + 2 * kind (the loss, the rows). */
    const int prec = _i % 2, kind = _i / 2 ? VK_ROWS : VK_LOSS;
    const size_t elem = elem_of(prec);
    struct vworld w;
    vworld_make(&w, prec);
    const struct vcall base = vworld_call(&w, kind);
    struct vcall c;
    const size_t big = (size_t)INT_MAX + 1;
    const double huge = prec == F64 ? 1e200 : 1e30, top = prec == F64 ? DBL_MAX : FLT_MAX;
    const size_t last = (VW_N - 1) * VW_D + VW_D - 1;

    c = base, c.null_ctx = 1;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL ctx");
    c = base, c.z_null = 1;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "z NULL");
    c = base, c.z_null = 1, c.grad_null = 1;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "z NULL, no gradient");
    for (size_t v = 0; v < VW_V; v++) {
        char what[64];
        snprintf(what, sizeof what, "z[%zu] NULL", v);
        c = base, c.z[v] = NULL;
        vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, what);
    }
    /* The view count. */
    c = base, c.views = 0;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "no view");
    c = base, c.views = VICREG_MAX_VIEWS + 1, c.grad_null = 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "VICREG_MAX_VIEWS + 1 views");
    c = base, c.views = SIZE_MAX, c.grad_null = 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "SIZE_MAX views");
    /* G above the view count. */
    c = base, c.global_views = VW_V + 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "G = views + 1");
    c = base, c.global_views = VICREG_MAX_VIEWS, c.grad_null = 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "G = VICREG_MAX_VIEWS, no gradient");
    c = base, c.views = 1, c.global_views = 2;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "one view, G = 2");
    /* Shapes. */
    c = base, c.n = 0, c.row0 = c.rows = 0;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "n = 0");
    c = base, c.n = 1, c.row0 = 0, c.rows = 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "n = 1");
    c = base, c.n = 1, c.row0 = c.rows = 0, c.grad_null = 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "n = 1, no gradient");
    c = base, c.d = 0;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "d = 0");
    c = base, c.ldz[0] = VW_D - 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldz[0] < d");
    c = base, c.ldz[VW_V - 1] = 0, c.grad_null = 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldz[last] = 0, no gradient");
    c = base, c.ldgrad[1] = VW_D - 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldgrad[1] < d");
    c = base, c.ldgrad[VW_V - 1] = 0;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldgrad[last] = 0");
    if (kind == VK_ROWS)
        vexpect_bad_rows(&w, &base);
    /* Sizes beyond size_t or BLAS's int. */
    c = base, c.n = big, c.row0 = 0;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n > INT_MAX");
    c = base, c.d = big;
    for (size_t v = 0; v < VU_CAP; v++)
        c.ldz[v] = c.ldgrad[v] = big;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "d > INT_MAX");
    c = base, c.ldz[1] = SIZE_MAX / 4;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n * ldz[1] overflows");
    c = base, c.ldz[2] = big, c.grad_null = 1;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "ldz[2] > INT_MAX");
    c = base, c.ldgrad[0] = SIZE_MAX / 4;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n * ldgrad[0] overflows");

    /* NaN and Inf in any view, anywhere in the batch (the rows call reads
     * every row). */
    vexpect_with_entry(&w, w.z[0], 0, NAN, &base, VICREG_ERR_NON_FINITE, "NaN at z[0][0]");
    vexpect_with_entry(&w, w.z[1], last, INFINITY, &base, VICREG_ERR_NON_FINITE,
                       "+Inf at the end of z[1]");
    vexpect_with_entry(&w, w.z[2], 5 * VW_D + 2, -INFINITY, &base, VICREG_ERR_NON_FINITE,
                       "-Inf inside z[2]");
    c = base, c.grad_null = 1;
    vexpect_with_entry(&w, w.z[2], last, NAN, &c, VICREG_ERR_NON_FINITE,
                       "NaN at the end of z[2], no gradient");
    /* Finite but too large. */
    vexpect_with_entry(&w, w.z[1], VW_D + 1, huge, &base, VICREG_ERR_OVERFLOW, "huge entry in z[1]");
    vexpect_with_entry(&w, w.z[2], last, -top, &base, VICREG_ERR_OVERFLOW,
                       "-max at the end of z[2]");
    c = base, c.grad_null = 1;
    vexpect_with_entry(&w, w.z[0], 7, top, &c, VICREG_ERR_OVERFLOW, "max in z[0], no gradient");
    {
        /* A whole view scaled up. */
        unsigned char *keep = malloc(w.arr_bytes);
        ck_assert_ptr_nonnull(keep);
        memcpy(keep, w.z[2], w.arr_bytes);
        for (size_t e = 0; e < VW_N * VW_D; e++)
            elem_put(prec, w.z[2], e, elem_get(prec, w.z[2], e) * huge);
        vexpect(&w, &base, VICREG_ERR_OVERFLOW, "z[2] times a huge scale");
        memcpy(w.z[2], keep, w.arr_bytes);
        free(keep);
    }

    /* Overlaps: no gradient on a view or on another gradient. */
    c = base, c.grad[1] = (void *)(uintptr_t)w.z[1];
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[1] on z[1] (in place)");
    c = base, c.grad[0] = (char *)w.z[2] + elem * (VW_D + 1);
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[0] inside z[2]");
    c = base, c.grad[2] = (char *)w.g[0] + elem * 3;
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[2] inside grad[0]");
    c = base, c.grad[1] = c.grad[0];
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[1] == grad[0]");
    c = base, c.ldgrad[0] = 2 * VW_D;
    if (kind == VK_ROWS)
        c.ldgrad[0] = 3 * VW_D;
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[0]'s padding reaches grad[1]");
    {
        /* Interleaved: grad[0]'s rows in the padding of z[0]'s rows, no
         * element shared; overlap is judged on address ranges. Five rows
         * of leading dimension 2 d fit every array. */
        c = base, c.n = 5;
        if (kind == VK_ROWS)
            c.row0 = 0, c.rows = 5;
        for (size_t v = 0; v < VU_CAP; v++)
            c.ldz[v] = 2 * VW_D;
        c.grad[0] = (char *)w.z[0] + elem * VW_D;
        c.ldgrad[0] = 2 * VW_D;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[0] interleaved with z[0]'s rows");
    }
    vworld_free(&w);
}
END_TEST

/* Over a sweep of scales, view counts, coefficients and data, as
 * test-errors.c's overflow_never_silent: a call either fails with
 * VICREG_ERR_OVERFLOW and writes nothing (vu_run checks), or succeeds
 * with a finite loss, finite terms and finite gradients. */
START_TEST(overflow_never_silent)
{
    /* _i = precision + 2 * (V = 3, V = 8 with G = 2). */
    const int prec = _i % 2;
    const size_t count = _i / 2 ? 8 : 3, n = 6, d = 4;
    const double top = prec == F64 ? DBL_MAX : FLT_MAX;
    struct views base;
    views_make(&base, F64, 93, count, n, d, 0);
    int ok = 0, overflow = 0;
    for (int kind = 0; kind < 3; kind++)
        for (int coeffs = 0; coeffs < 4; coeffs++) {
            struct ref_params p = ref_default_params();
            p.lambda = coeffs & 1 ? 1e9 : 25.0;
            p.nu = coeffs & 2 ? 1e9 : 1.0;
            vicreg_ctx *c = vu_ctx(&p, VICREG_PATH_AUTO, count == 8 ? 2 : 0, 1.0);
            for (double scale = 1.0; scale < top; scale *= prec == F64 ? 1e10 : 10.0) {
                double *src[VU_CAP];
                for (size_t v = 0; v < count; v++) {
                    src[v] = malloc(n * d * sizeof(double));
                    ck_assert_ptr_nonnull(src[v]);
                    for (size_t e = 0; e < n * d; e++) {
                        double x = base.z64[v][e];
                        if (kind == 1) /* constant columns, alternating signs: all invariance */
                            x = (v % 2 ? -1.0 : 1.0) * (1.0 + (double)(e % d));
                        else if (kind == 2) /* one outlier in a modest batch */
                            x = v == count - 1 && e == 5 ? 1.0 : x / scale;
                        src[v][e] = fmax(fmin(x * scale, top), -top);
                    }
                }
                struct views w;
                struct vgrads all;
                struct vout o;
                views_from(&w, prec, count, n, d, (const double *const *)src, 0);
                vgrads_all(&all, count);
                vout_init(&o, count, n, d);
                const int got = vu_run(c, &w, 1, &all, 0, SIZE_MAX, &o);
                ck_assert_msg(got == VICREG_OK || got == VICREG_ERR_OVERFLOW,
                              "kind %d, scale %g: %s", kind, scale, vicreg_status_name(got));
                if (got == VICREG_OK) {
                    ok++;
                    ck_assert_msg(isfinite(o.loss), "kind %d, coefficients %d, scale %g: loss %g",
                                  kind, coeffs, scale, o.loss);
                    for (size_t k = 0; k < TU_N_TERMS; k++)
                        ck_assert_msg(isfinite(o.terms[k]), "kind %d, scale %g: term %d = %g",
                                      kind, scale, tu_all_terms[k], o.terms[k]);
                    for (size_t v = 0; v < count; v++) {
                        for (size_t k = 0; k < VU_N_VTERMS; k++)
                            ck_assert(isfinite(o.vterms[v][k]));
                        for (size_t e = 0; e < n * d; e++)
                            ck_assert_msg(isfinite(o.g[v][e]),
                                          "kind %d, coefficients %d, scale %g: gradient %zu "
                                          "entry %zu is %g",
                                          kind, coeffs, scale, v, e, o.g[v][e]);
                    }
                } else {
                    overflow++;
                }
                vout_free(&o);
                views_free(&w);
                for (size_t v = 0; v < count; v++)
                    free(src[v]);
            }
            vicreg_ctx_destroy(c);
        }
    /* The sweep reached both outcomes. */
    ck_assert_int_gt(ok, 0);
    ck_assert_int_gt(overflow, 0);
    views_free(&base);
}
END_TEST

/* A rows call's gradient buffers are rows x d: buffers packed back to
 * back at that size overlap nothing, and get what separate buffers get. */
START_TEST(rows_buffers_back_to_back)
{
    const int prec = _i;
    const size_t count = 3, n = 10, d = 4, row0 = 3, rows = 2, elem = elem_of(prec);
    struct ref_params p = ref_default_params();
    struct views w;
    views_make(&w, prec, 66, count, n, d, 0);
    vicreg_ctx *c = vu_ctx(&p, VICREG_PATH_AUTO, 0, 1.0);
    void *block = sentinel_buffer(prec, count * rows * d);
    void *grad[3], *sep[3];
    for (size_t v = 0; v < count; v++) {
        grad[v] = (char *)block + v * rows * d * elem;
        sep[v] = sentinel_buffer(prec, rows * d);
    }
    double l1, l2;
    int st = prec_views_loss_rows(prec, c, count, n, d, VU_CZ(w.z), NULL, row0, rows, &l1, grad,
                                  NULL);
    ck_assert_msg(st == VICREG_OK, "rows x d gradients back to back: %s", vicreg_status_name(st));
    ck_assert_int_eq(prec_views_loss_rows(prec, c, count, n, d, VU_CZ(w.z), NULL, row0, rows, &l2,
                                          sep, NULL),
                     VICREG_OK);
    ck_assert(memcmp(&l1, &l2, sizeof l1) == 0);
    for (size_t v = 0; v < count; v++) {
        ck_assert(memcmp(grad[v], sep[v], rows * d * elem) == 0);
        free(sep[v]);
    }
    free(block);
    vicreg_ctx_destroy(c);
    views_free(&w);
}
END_TEST

/* What the arguments of a call may leave out: the leading dimension of a
 * NULL gradient plays no part (as in vicreg_loss_*), the leading
 * dimensions of the gradients none when grad is NULL, and a NULL grad[v]
 * may overlap anything. */
START_TEST(ignored_arguments)
{
    const int prec = _i;
    const size_t count = 3, n = 7, d = 5;
    struct ref_params p = ref_default_params();
    struct views w;
    views_make(&w, prec, 61, count, n, d, 0);
    vicreg_ctx *c = vu_ctx(&p, VICREG_PATH_AUTO, 0, 1.0);
    struct vgrads some, none;
    struct vout o1, o2;
    vgrads_some(&some, count, d, 0x2, 0);
    some.ld_null = 0; /* ldgrad given, grad[1] NULL */
    vout_init(&o1, count, n, d);
    vout_init(&o2, count, n, d);
    ck_assert_int_eq(vu_run(c, &w, 1, &some, 0, SIZE_MAX, &o1), VICREG_OK);
    some.ld[1] = 0;
    ck_assert_msg(vu_run(c, &w, 1, &some, 0, SIZE_MAX, &o2) == VICREG_OK,
                  "ldgrad[1] = 0 with grad[1] NULL is refused");
    vout_assert_same(&o1, &o2, some.want, "ldgrad[1] = 0 with grad[1] NULL");
    none = some;
    none.none = 1;
    for (size_t v = 0; v < count; v++)
        none.ld[v] = 0;
    ck_assert_msg(vu_run(c, &w, 1, &none, 0, SIZE_MAX, &o2) == VICREG_OK,
                  "ldgrad of zeros with grad NULL is refused");
    vout_assert_same(&o1, &o2, (const unsigned char[VU_CAP]){ 0 }, "ldgrad ignored");
    vout_free(&o1);
    vout_free(&o2);
    vicreg_ctx_destroy(c);
    views_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * params: VICREG_PARAM_GLOBAL_VIEWS
 * --------------------------------------------------------------------- */
START_TEST(global_views_param)
{
    double lo = -1.0, hi = -1.0, v = -1.0;
    ck_assert_int_eq(vicreg_param_bounds(VICREG_PARAM_GLOBAL_VIEWS, &lo, &hi), VICREG_OK);
    ck_assert(lo == 0.0 && hi == (double)VICREG_MAX_VIEWS);
    ck_assert_int_eq(vicreg_param_bounds(VICREG_PARAM_GLOBAL_VIEWS, NULL, &hi),
                     VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_param_bounds(VICREG_PARAM_GLOBAL_VIEWS, &lo, NULL),
                     VICREG_ERR_INVALID_ARGUMENT);
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_GLOBAL_VIEWS, &v), VICREG_OK);
    ck_assert(v == 0.0);
    for (int g = 0; g <= VICREG_MAX_VIEWS; g++) {
        ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GLOBAL_VIEWS, g), VICREG_OK);
        ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_GLOBAL_VIEWS, &v), VICREG_OK);
        ck_assert(v == (double)g);
    }
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GLOBAL_VIEWS, 7.0), VICREG_OK);
    const double bad[] = {
        -1.0, 65.0, nextafter(64.0, 65.0), nextafter(0.0, -1.0), 0.5, 63.5, nextafter(1.0, 2.0),
        nextafter(7.0, 0.0), 1e300, -1e300, NAN, INFINITY, -INFINITY, DBL_MIN,
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_msg(vicreg_ctx_set_param(c, VICREG_PARAM_GLOBAL_VIEWS, bad[k]) ==
                          VICREG_ERR_OUT_OF_RANGE,
                      "G = %.17g accepted", bad[k]);
        ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_GLOBAL_VIEWS, &v), VICREG_OK);
        ck_assert(v == 7.0);
    }
    ck_assert_int_eq(vicreg_ctx_set_param(NULL, VICREG_PARAM_GLOBAL_VIEWS, 1.0),
                     VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_ctx_get_param(c, VICREG_PARAM_GLOBAL_VIEWS, NULL),
                     VICREG_ERR_INVALID_ARGUMENT);
    vicreg_ctx_destroy(c);
}
END_TEST

/* G decides the weights: G = V and G = 0 are the same loss (to a
 * rounding), and a G that leaves local views changes it. */
START_TEST(global_views_weights)
{
    const size_t count = 4, n = 8, d = 5;
    struct ref_params p = ref_default_params();
    struct views w;
    views_make(&w, F64, 63, count, n, d, 0);
    double loss[5];
    for (int g = 0; g <= 4; g++) {
        vicreg_ctx *c = vu_ctx(&p, VICREG_PATH_AUTO, g, 1.0);
        ck_assert_int_eq(prec_views_loss(F64, c, count, n, d, VU_CZ(w.z), NULL, &loss[g], NULL,
                                         NULL),
                         VICREG_OK);
        vicreg_ctx_destroy(c);
    }
    ck_assert(tu_rel(loss[0], loss[4]) <= TOL_F64);
    for (int g = 1; g <= 3; g++)
        ck_assert_msg(tu_rel(loss[g], loss[0]) > 1e-6, "G = %d gives the loss of G = 0", g);
    views_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * scratch
 * --------------------------------------------------------------------- */
static size_t vscratch(const vicreg_ctx *c, size_t views, size_t n, size_t d, int precision)
{
    size_t bytes = 0;
    const int st = vicreg_ctx_views_scratch_bytes(c, views, n, d, precision, &bytes);
    ck_assert_msg(st == VICREG_OK, "views_scratch_bytes(%zu, %zu, %zu, %d): %s", views, n, d,
                  precision, vicreg_status_name(st));
    return bytes;
}

START_TEST(scratch_errors)
{
    const size_t sentinel = 12345;
    size_t bytes = sentinel;
    vicreg_ctx *ctx = tu_ctx_new();
    const int F32K = VICREG_PRECISION_F32, F64K = VICREG_PRECISION_F64;
    const size_t big = (size_t)INT_MAX + 1;
    struct {
        const vicreg_ctx *c;
        size_t views, n, d;
        int precision;
        size_t *out;
        int want;
    } cases[] = {
        { NULL, 3, 4, 4, F32K, &bytes, VICREG_ERR_INVALID_ARGUMENT },
        { ctx, 3, 4, 4, F32K, NULL, VICREG_ERR_INVALID_ARGUMENT },
        { ctx, 3, 4, 4, 0, &bytes, VICREG_ERR_INVALID_ARGUMENT },
        { ctx, 3, 4, 4, 3, &bytes, VICREG_ERR_INVALID_ARGUMENT },
        { ctx, 3, 4, 4, -1, &bytes, VICREG_ERR_INVALID_ARGUMENT },
        { ctx, 0, 4, 4, F64K, &bytes, VICREG_ERR_BAD_SHAPE },
        { ctx, VICREG_MAX_VIEWS + 1, 4, 4, F64K, &bytes, VICREG_ERR_BAD_SHAPE },
        { ctx, SIZE_MAX, 4, 4, F64K, &bytes, VICREG_ERR_BAD_SHAPE },
        { ctx, 3, 0, 4, F64K, &bytes, VICREG_ERR_BAD_SHAPE },
        { ctx, 3, 1, 4, F64K, &bytes, VICREG_ERR_BAD_SHAPE },
        { ctx, 3, 4, 0, F64K, &bytes, VICREG_ERR_BAD_SHAPE },
        { ctx, 3, big, 4, F32K, &bytes, VICREG_ERR_SIZE_OVERFLOW },
        { ctx, 3, 4, big, F32K, &bytes, VICREG_ERR_SIZE_OVERFLOW },
        { ctx, 3, SIZE_MAX, SIZE_MAX, F64K, &bytes, VICREG_ERR_SIZE_OVERFLOW },
        { ctx, VICREG_MAX_VIEWS, INT_MAX, INT_MAX, F64K, &bytes, VICREG_ERR_SIZE_OVERFLOW },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int got = vicreg_ctx_views_scratch_bytes(cases[k].c, cases[k].views, cases[k].n,
                                                 cases[k].d, cases[k].precision, cases[k].out);
        ck_assert_msg(got == cases[k].want, "case %zu: %s, want %s", k, vicreg_status_name(got),
                      vicreg_status_name(cases[k].want));
        ck_assert_uint_eq(bytes, sentinel);
        /* reserve checks the same things and keeps the terms. */
        if (cases[k].out) {
            got = vicreg_ctx_views_reserve((vicreg_ctx *)cases[k].c, cases[k].views, cases[k].n,
                                           cases[k].d, cases[k].precision);
            ck_assert_msg(got == cases[k].want, "reserve case %zu: %s, want %s", k,
                          vicreg_status_name(got), vicreg_status_name(cases[k].want));
        }
    }
    vicreg_ctx_destroy(ctx);
}
END_TEST

START_TEST(scratch_grows)
{
    /* _i = precision + 2 * path. */
    const int precision = _i % 2 ? VICREG_PRECISION_F64 : VICREG_PRECISION_F32;
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, all_paths[_i / 2]), VICREG_OK);
    /* Never smaller for more views, rows or columns. */
    for (size_t v = 1; v <= 9; v += 4)
        for (size_t n = 2; n <= 40; n += 6)
            for (size_t d = 1; d <= 40; d += 6) {
                const size_t here = vscratch(c, v, n, d, precision);
                ck_assert_uint_gt(here, 0);
                ck_assert_msg(vscratch(c, v + 1, n, d, precision) >= here, "shrinks from V");
                ck_assert_msg(vscratch(c, v, n + 1, d, precision) >= here, "shrinks from n");
                ck_assert_msg(vscratch(c, v, n, d + 1, precision) >= here, "shrinks from d");
                ck_assert(vscratch(c, v, n, d, VICREG_PRECISION_F64) >=
                          vscratch(c, v, n, d, VICREG_PRECISION_F32));
            }
    /* Strictly larger once the shape grows by a real factor. */
    const size_t sizes[] = { 16, 64 };
    for (size_t a = 0; a < 2; a++)
        for (size_t b = 0; b < 2; b++) {
            const size_t n = sizes[a], d = sizes[b], here = vscratch(c, 2, n, d, precision);
            ck_assert_uint_gt(vscratch(c, 2 * 8, n, d, precision), here);
            ck_assert_uint_gt(vscratch(c, VICREG_MAX_VIEWS, n, d, precision),
                              vscratch(c, 16, n, d, precision));
            ck_assert_uint_gt(vscratch(c, 2, 4 * n, d, precision), here);
            ck_assert_uint_gt(vscratch(c, 2, n, 4 * d, precision), here);
        }
    vicreg_ctx_destroy(c);
}
END_TEST

START_TEST(scratch_follows_path)
{
    /* The Gram path's product is n x n, the covariance path's d x d. */
    const int precision = _i ? VICREG_PRECISION_F64 : VICREG_PRECISION_F32;
    vicreg_ctx *c = tu_ctx_new();
    const size_t shapes[][2] = { { 256, 8 }, { 8, 256 } };
    for (size_t k = 0; k < 2; k++) {
        const size_t n = shapes[k][0], d = shapes[k][1];
        size_t s[3];
        for (int p = 0; p < 3; p++) {
            ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, all_paths[p]), VICREG_OK);
            s[p] = vscratch(c, 4, n, d, precision);
        }
        ck_assert_uint_eq(s[0], n < d ? s[2] : s[1]);
        if (n > d)
            ck_assert_uint_gt(s[2], s[1]);
        else
            ck_assert_uint_gt(s[1], s[2]);
    }
    vicreg_ctx_destroy(c);
}
END_TEST

START_TEST(reserve_keeps_terms)
{
    /* A reserve neither makes nor changes a result, and the calls after
     * it compute what a fresh context computes. */
    struct views w;
    views_make(&w, F64, 71, 3, 6, 4, 0);
    vicreg_ctx *c = tu_ctx_new(), *fresh = tu_ctx_new();
    double v = 0.0, l1 = NAN, l2 = NAN;
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, 8, 64, 48, VICREG_PRECISION_F64), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, 2, 8, 4, VICREG_PRECISION_F32), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_get_term(c, VICREG_TERM_LOSS, &v), VICREG_ERR_NO_RESULT);
    ck_assert_int_eq(vicreg_ctx_get_view_term(c, VICREG_VIEW_TERM_VARIANCE, 0, &v),
                     VICREG_ERR_NO_RESULT);
    ck_assert_int_eq(prec_views_loss(F64, c, 3, 6, 4, VU_CZ(w.z), NULL, &l1, NULL, NULL),
                     VICREG_OK);
    double t1[TU_N_TERMS], t2[TU_N_TERMS], vt1[VU_CAP][VU_N_VTERMS], vt2[VU_CAP][VU_N_VTERMS];
    vu_read_terms(c, 3, t1, vt1);
    ck_assert_int_eq(vicreg_ctx_views_reserve(c, 16, 80, 80, VICREG_PRECISION_F64), VICREG_OK);
    vu_read_terms(c, 3, t2, vt2);
    ck_assert(memcmp(t1, t2, sizeof t1) == 0 && memcmp(vt1[0], vt2[0], 3 * sizeof vt1[0]) == 0);
    ck_assert_int_eq(prec_views_loss(F64, fresh, 3, 6, 4, VU_CZ(w.z), NULL, &l2, NULL, NULL),
                     VICREG_OK);
    ck_assert(memcmp(&l1, &l2, sizeof l1) == 0);
    vicreg_ctx_destroy(c);
    vicreg_ctx_destroy(fresh);
    views_free(&w);
}
END_TEST

Suite *views_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "reference", .timeout = 300,
          .tests = { TU_LOOP(values_against_reference, 0, 32), TU_LOOP(values_max_views, 0, 2),
                     TU_LOOP(values_other_shapes, 0, 12), TU_LOOP(values_large_offset, 0, 2),
                     TU_LOOP(values_aliased_views, 0, 6),
                     TU_LOOP(repeatable_partial_and_scaled, 0, 6) } },
        { .name = "fd", .timeout = 120,
          .tests = { TU_LOOP(gradients_match_finite_differences, 0, 8 * N_FD_CASES) } },
        { .name = "two-batch",
          .tests = { TU_LOOP(two_views_equal_two_batch, 0, 24),
                     TU_LOOP(terms_follow_the_last_call, 0, 2), TU_TEST(view_term_arguments) } },
        { .name = "one-view", .tests = { TU_LOOP(one_view_is_the_regulariser, 0, 16) } },
        { .name = "rows", .tests = { TU_LOOP(rows_equal_full_call, 0, 24) } },
        { .name = "errors", .timeout = 120,
          .tests = { TU_LOOP(errors_views_calls, 0, 4), TU_LOOP(ignored_arguments, 0, 2),
                     TU_LOOP(overflow_never_silent, 0, 4),
                     TU_LOOP(rows_buffers_back_to_back, 0, 2) } },
        { .name = "params",
          .tests = { TU_TEST(global_views_param), TU_TEST(global_views_weights) } },
        { .name = "scratch",
          .tests = { TU_TEST(scratch_errors), TU_LOOP(scratch_grows, 0, 6),
                     TU_LOOP(scratch_follows_path, 0, 2), TU_TEST(reserve_keeps_terms) } },
    };
    return tu_suite("views", tcases, sizeof tcases / sizeof tcases[0]);
}
