/*
 * test-shard-views.c - the sharded views phases of 1.2
 * (vicreg_shard_views_sizes/_sums/_scatter/_finish):
 *
 *   equal      a V-view batch split into shards of uneven sizes (0 and 1
 *              rows included) through sums -> reduce -> scatter -> reduce
 *              -> finish, one context per shard as separate processes have,
 *              gives the loss, every term, every view's terms and the
 *              gradient rows of one vicreg_views_loss_* call on the whole
 *              batch (every path), to the tolerances of
 *              test-shard-values.c, and of the double reference; so do
 *              micro-batches in one context;
 *   two-views  with V = 2 the views phases give the bits of the 1.1
 *              two-batch phases, buffer for buffer, for every G;
 *   layout     the statistics buffers hold what the header says; an
 *              empty shard; the finish phase's gradient scale;
 *   errors     the main faults of each phase: the documented status,
 *              nothing written, the context's state kept.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viewsutil.h"

/* As test-shard-values.c: sharded against single-process on the same
 * data sums the same numbers in another order (and f32 rounds the scatter
 * at another point); against the double reference, the tolerances of
 * test-values.c. */
#define TOL_SAME_F64 1e-12
#define TOL_SAME_F32 1e-5
#define TOL_REF_F64 1e-11
#define TOL_REF_F32 5e-5

#define MAX_SHARDS 6

static size_t sizes_of(size_t views, size_t d, size_t *scatter_len)
{
    size_t sums_len = 0;
    ck_assert_int_eq(vicreg_shard_views_sizes(views, d, &sums_len, scatter_len), VICREG_OK);
    return sums_len;
}

/* The z argument of shard k's call: its rows of every view; for an empty
 * shard NULL (k even) or an array of NULL pointers (k odd), both allowed. */
static const void *const *shard_views(const struct views *w, size_t row0, size_t nk, int k,
                                      const void **z)
{
    for (size_t v = 0; v < w->count; v++)
        z[v] = nk ? view_row(w, v, row0) : NULL;
    return nk || k % 2 ? z : NULL;
}

/* The batch split into shards, as separate processes: one context per
 * shard (the parameters p, G, gradient scale 1, the automatic path),
 * each phase's buffers per shard then summed (the all-reduce), every
 * shard's finish writing its own rows; every shard must report the same
 * loss, terms and view terms, bit for bit. */
static void sharded(const struct views *w, const struct ref_params *p, int g, const size_t *sizes,
                    int shards, struct vout *o)
{
    const int prec = w->prec;
    const size_t count = w->count, d = w->d, elem = elem_of(prec);
    size_t scatter_len, sums_len = sizes_of(count, d, &scatter_len);
    double *local = malloc((sums_len > scatter_len ? sums_len : scatter_len) * sizeof(double));
    double *sums = calloc(sums_len, sizeof(double)), *scatter = calloc(scatter_len, sizeof(double));
    ck_assert(local && sums && scatter);
    vicreg_ctx *c[MAX_SHARDS];
    size_t row0[MAX_SHARDS + 1] = { 0 };
    const void *z[VU_CAP];
    ck_assert_int_le(shards, MAX_SHARDS);
    for (int k = 0; k < shards; k++) {
        c[k] = vu_ctx(p, VICREG_PATH_AUTO, g, 1.0);
        row0[k + 1] = row0[k] + sizes[k];
    }
    ck_assert_uint_eq(row0[shards], w->n);
    for (int k = 0; k < shards; k++) {
        memset(local, 0, sums_len * sizeof(double));
        const void *const *zk = shard_views(w, row0[k], sizes[k], k, z);
        ck_assert_int_eq(prec_shard_views_sums(prec, c[k], count, sizes[k], d, zk, w->ld, local),
                         VICREG_OK);
        ck_assert(local[0] == (double)sizes[k]);
        for (size_t i = 0; i < sums_len; i++)
            sums[i] += local[i];
    }
    for (int k = 0; k < shards; k++) {
        memset(local, 0, scatter_len * sizeof(double));
        const void *const *zk = shard_views(w, row0[k], sizes[k], k, z);
        ck_assert_int_eq(prec_shard_views_scatter(prec, c[k], count, sizes[k], d, zk, w->ld, sums,
                                                  local),
                         VICREG_OK);
        for (size_t i = 0; i < scatter_len; i++)
            scatter[i] += local[i];
    }
    void *gbuf[VU_CAP], *gk[VU_CAP];
    for (size_t v = 0; v < count; v++)
        gbuf[v] = sentinel_buffer(prec, w->n * d);
    for (int k = 0; k < shards; k++) {
        const size_t nk = sizes[k];
        double loss = NAN, terms[TU_N_TERMS], vterms[VU_CAP][VU_N_VTERMS];
        for (size_t v = 0; v < count; v++)
            gk[v] = (char *)gbuf[v] + row0[k] * d * elem;
        const void *const *zk = shard_views(w, row0[k], nk, k, z);
        ck_assert_int_eq(prec_shard_views_finish(prec, c[k], count, nk, d, zk, w->ld, sums,
                                                 scatter, &loss, nk ? gk : NULL, NULL),
                         VICREG_OK);
        vu_read_terms(c[k], count, terms, vterms);
        ck_assert(memcmp(&terms[0], &loss, sizeof loss) == 0);
        if (k == 0) {
            o->loss = loss;
            memcpy(o->terms, terms, sizeof terms);
            memcpy(o->vterms, vterms, sizeof vterms);
        } else {
            ck_assert_msg(memcmp(o->terms, terms, sizeof terms) == 0 &&
                              memcmp(o->vterms, vterms, count * sizeof vterms[0]) == 0,
                          "shard %d reports other terms than shard 0", k);
        }
        vicreg_ctx_destroy(c[k]);
    }
    for (size_t v = 0; v < count; v++) {
        for (size_t e = 0; e < w->n * d; e++)
            o->g[v][e] = elem_get(prec, gbuf[v], e);
        free(gbuf[v]);
    }
    free(local);
    free(sums);
    free(scatter);
}

/* The batch as micro-batches in ONE context and ONE pair of buffers. */
static void micro_batches(const struct views *w, const struct ref_params *p, int g,
                          const size_t *sizes, int parts, struct vout *o)
{
    const int prec = w->prec;
    const size_t count = w->count, d = w->d, elem = elem_of(prec);
    size_t scatter_len, sums_len = sizes_of(count, d, &scatter_len);
    double *sums = calloc(sums_len, sizeof(double)), *scatter = calloc(scatter_len, sizeof(double));
    ck_assert(sums && scatter);
    vicreg_ctx *c = vu_ctx(p, VICREG_PATH_AUTO, g, 1.0);
    const void *z[VU_CAP];
    void *gbuf[VU_CAP], *gk[VU_CAP];
    for (size_t v = 0; v < count; v++)
        gbuf[v] = sentinel_buffer(prec, w->n * d);
    size_t r;
    int k;
    for (k = 0, r = 0; k < parts; r += sizes[k++])
        ck_assert_int_eq(prec_shard_views_sums(prec, c, count, sizes[k], d,
                                               shard_views(w, r, sizes[k], k, z), w->ld, sums),
                         VICREG_OK);
    for (k = 0, r = 0; k < parts; r += sizes[k++])
        ck_assert_int_eq(prec_shard_views_scatter(prec, c, count, sizes[k], d,
                                                  shard_views(w, r, sizes[k], k, z), w->ld, sums,
                                                  scatter),
                         VICREG_OK);
    for (k = 0, r = 0; k < parts; r += sizes[k++]) {
        for (size_t v = 0; v < count; v++)
            gk[v] = (char *)gbuf[v] + r * d * elem;
        ck_assert_int_eq(prec_shard_views_finish(prec, c, count, sizes[k], d,
                                                 shard_views(w, r, sizes[k], k, z), w->ld, sums,
                                                 scatter, &o->loss, gk, NULL),
                         VICREG_OK);
    }
    ck_assert_uint_eq(r, w->n);
    vu_read_terms(c, count, o->terms, o->vterms);
    for (size_t v = 0; v < count; v++) {
        for (size_t e = 0; e < w->n * d; e++)
            o->g[v][e] = elem_get(prec, gbuf[v], e);
        free(gbuf[v]);
    }
    vicreg_ctx_destroy(c);
    free(sums);
    free(scatter);
}

/* One vicreg_views_loss_* call on the whole batch on `path`. */
static void single(const struct views *w, const struct ref_params *p, int g, int path,
                   struct vout *o)
{
    vicreg_ctx *c = vu_ctx(p, path, g, 1.0);
    struct vgrads all;
    vgrads_all(&all, w->count);
    ck_assert_int_eq(vu_run(c, w, 0, &all, 0, SIZE_MAX, o), VICREG_OK);
    vicreg_ctx_destroy(c);
}

/* The reference's result as an outcome (the path term left out). */
static void reference(const struct views *w, const struct ref_params *p, int g, struct vout *o)
{
    struct ref_views_result r;
    ref_views(p, g, w->count, w->n, w->d, (const double *const *)w->z64, &r, o->g);
    o->loss = r.loss;
    o->terms[0] = r.loss;
    o->terms[1] = r.invariance;
    for (size_t v = 0; v < w->count; v++) {
        const double t[VU_N_VTERMS] = { r.variance[v],           r.covariance[v], r.mean_std[v],
                                        r.min_std[v], r.collapsed_fraction[v], r.effective_rank[v] };
        memcpy(o->vterms[v], t, sizeof t);
    }
    for (size_t k = 2; k + 1 < TU_N_TERMS; k++)
        for (size_t t = 0; t < VU_N_VTERMS; t++)
            for (int b = 0; b < 2; b++)
                if (vu_branch_term(t, b) == tu_all_terms[k])
                    o->terms[k] = (size_t)b < w->count ? o->vterms[b][t] : NAN;
    o->terms[TU_N_TERMS - 1] = VICREG_PATH_COVARIANCE;
}

/* One value against its reference: relative, absolute where the reference
 * is 0, and a missing (NaN) value must be missing in both. */
static double value_err(double got, double want)
{
    if (isnan(want))
        return isnan(got) ? 0.0 : INFINITY;
    return want == 0.0 ? fabs(got) : tu_rel(got, want);
}

/* got against want: the loss, every term but the path, every view's
 * terms, every gradient (normwise relative). Returns the largest error. */
static double compare(const struct vout *got, const struct vout *want, double tol,
                      const char *what)
{
    double worst = value_err(got->loss, want->loss);
    ck_assert_msg(worst <= tol, "%s: loss %.17g, want %.17g", what, got->loss, want->loss);
    for (size_t k = 0; k + 1 < TU_N_TERMS; k++) {
        const double e = value_err(got->terms[k], want->terms[k]);
        ck_assert_msg(e <= tol, "%s: term %d is %.17g, want %.17g (err %.3g)", what,
                      tu_all_terms[k], got->terms[k], want->terms[k], e);
        worst = fmax(worst, e);
    }
    for (size_t v = 0; v < got->count; v++) {
        for (size_t k = 0; k < VU_N_VTERMS; k++) {
            const double e = value_err(got->vterms[v][k], want->vterms[v][k]);
            ck_assert_msg(e <= tol, "%s: view %zu term %d is %.17g, want %.17g (err %.3g)", what,
                          v, vu_view_terms[k], got->vterms[v][k], want->vterms[v][k], e);
            worst = fmax(worst, e);
        }
        const double e = tu_rel_err(got->n, got->d, got->g[v], got->d, want->g[v], got->d);
        ck_assert_msg(e <= tol, "%s: gradient %zu error %.3g", what, v, e);
        worst = fmax(worst, e);
    }
    return worst;
}

/* ---------------------------------------------------------------------
 * equal
 * --------------------------------------------------------------------- */

/* Splits of n = 13 rows, as test-shard-values.c's: 1 to 4 shards, equal
 * and unequal, a 1-row shard and an empty shard first, middle and last. */
static const struct split {
    int shards;
    size_t sizes[4];
} splits[] = {
    { 1, { 13 } },          { 2, { 7, 6 } },       { 2, { 1, 12 } },      { 2, { 13, 0 } },
    { 3, { 5, 4, 4 } },     { 3, { 0, 12, 1 } },   { 3, { 6, 1, 6 } },    { 4, { 4, 3, 3, 3 } },
    { 4, { 1, 0, 11, 1 } }, { 4, { 2, 9, 0, 2 } },
};
#define N_SPLITS (int)(sizeof splits / sizeof splits[0])
#define SPLIT_N 13

/* The view counts and G of the cases. */
static const struct {
    size_t views;
    int global_views;
} view_sets[] = { { 1, 0 }, { 2, 1 }, { 3, 0 }, { 3, 1 }, { 4, 2 }, { 6, 2 } };
#define N_VIEW_SETS (int)(sizeof view_sets / sizeof view_sets[0])

/* n > d (a single call takes the covariance path) and n < d (the Gram
 * path); both compared, and both paths forced. */
static const size_t split_d[2] = { 5, 21 };

static double worst_same[2], worst_ref[2];

struct split_case {
    const struct split *sp;
    struct ref_params p;
    int g;
    struct views w;
};

/* Loop index i: split, convention, precision, width; the view set and the
 * padding rotate with it. */
static void split_case_make(struct split_case *c, int i, uint64_t seed0)
{
    c->sp = &splits[i % N_SPLITS];
    c->p = ref_default_params();
    c->p.paper = (i / N_SPLITS) % 2;
    const int prec = (i / N_SPLITS / 2) % 2;
    const size_t d = split_d[i / N_SPLITS / 4];
    const int set = (i + i / N_SPLITS) % N_VIEW_SETS;
    c->g = view_sets[set].global_views;
    views_make(&c->w, prec, seed0 + (uint64_t)i, view_sets[set].views, SPLIT_N, d, i % 3 == 0);
}

static void case_name(char *buf, size_t len, const struct split_case *c, int i, const char *how)
{
    snprintf(buf, len, "%s %s %s V=%zu G=%d d=%zu split %d", how, prec_name(c->w.prec),
             c->p.paper ? "paper" : "reference", c->w.count, c->g, c->w.d, i % N_SPLITS);
}

static void compare_single(const struct split_case *c, const struct vout *got, const char *what)
{
    static const int paths[3] = { VICREG_PATH_AUTO, VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };
    const int prec = c->w.prec;
    for (int k = 0; k < 3; k++) {
        struct vout one;
        char label[200];
        vout_init(&one, c->w.count, c->w.n, c->w.d);
        single(&c->w, &c->p, c->g, paths[k], &one);
        snprintf(label, sizeof label, "%s, single call on path %d", what, paths[k]);
        worst_same[prec] = fmax(worst_same[prec],
                                compare(got, &one, prec == F64 ? TOL_SAME_F64 : TOL_SAME_F32,
                                        label));
        vout_free(&one);
    }
}

START_TEST(sharded_equals_single)
{
    struct split_case sc;
    char what[160];
    struct vout sh, ref;
    split_case_make(&sc, _i, 100);
    const int prec = sc.w.prec;
    vout_init(&sh, sc.w.count, sc.w.n, sc.w.d);
    vout_init(&ref, sc.w.count, sc.w.n, sc.w.d);
    sharded(&sc.w, &sc.p, sc.g, sc.sp->sizes, sc.sp->shards, &sh);
    ck_assert(sh.terms[TU_N_TERMS - 1] == VICREG_PATH_COVARIANCE);
    case_name(what, sizeof what, &sc, _i, "sharded");
    compare_single(&sc, &sh, what);
    reference(&sc.w, &sc.p, sc.g, &ref);
    worst_ref[prec] = fmax(worst_ref[prec],
                           compare(&sh, &ref, prec == F64 ? TOL_REF_F64 : TOL_REF_F32, what));
    vout_free(&sh);
    vout_free(&ref);
    views_free(&sc.w);
}
END_TEST

START_TEST(micro_batches_equal_single)
{
    struct split_case sc;
    char what[160];
    struct vout mb;
    split_case_make(&sc, _i, 300);
    vout_init(&mb, sc.w.count, sc.w.n, sc.w.d);
    micro_batches(&sc.w, &sc.p, sc.g, sc.sp->sizes, sc.sp->shards, &mb);
    case_name(what, sizeof what, &sc, _i, "micro-batches");
    compare_single(&sc, &mb, what);
    vout_free(&mb);
    views_free(&sc.w);
}
END_TEST

/* A larger batch, many shards: the agreement does not depend on the tiny
 * shape. */
START_TEST(sharded_equals_single_larger)
{
    const int prec = _i % 2;
    const size_t n = 97, d = 40;
    const size_t sizes[MAX_SHARDS] = { 31, 1, 0, 40, 17, 8 };
    struct split_case sc;
    struct vout sh;
    sc.p = ref_default_params();
    sc.p.paper = _i / 2;
    sc.g = 2;
    views_make(&sc.w, prec, 500 + (uint64_t)_i, 4, n, d, _i % 2);
    vout_init(&sh, 4, n, d);
    sharded(&sc.w, &sc.p, sc.g, sizes, MAX_SHARDS, &sh);
    compare_single(&sc, &sh, prec_name(prec));
    vout_free(&sh);
    views_free(&sc.w);
}
END_TEST

static void report_worst(void)
{
    if (getenv("VICREG_SHARD_REPORT"))
        fprintf(stderr,
                "shard-views: largest disagreement with single-process f64 %.3g f32 %.3g; "
                "with the reference f64 %.3g f32 %.3g\n",
                worst_same[F64], worst_same[F32], worst_ref[F64], worst_ref[F32]);
}

/* ---------------------------------------------------------------------
 * two-views: V = 2 is the 1.1 phases, bit for bit
 * --------------------------------------------------------------------- */
START_TEST(two_views_equal_two_batch_phases)
{
    /* _i = precision + 2 * G + 6 * convention; the views padded for odd G. */
    const int prec = _i % 2, g = (_i / 2) % 3;
    const size_t n = 13, d = 6, ldg = d + 2, elem = elem_of(prec);
    const size_t sizes[4] = { 5, 0, 1, 7 };
    struct ref_params p = ref_default_params();
    p.paper = _i / 6;
    struct views w;
    views_make(&w, prec, 800 + (uint64_t)_i, 2, n, d, g % 2);
    size_t sl2, cl2, sl, cl;
    ck_assert_int_eq(vicreg_shard_sizes(d, &sl2, &cl2), VICREG_OK);
    sl = sizes_of(2, d, &cl);
    ck_assert_uint_eq(sl, sl2);
    ck_assert_uint_eq(cl, cl2);
    vicreg_ctx *cv = vu_ctx(&p, VICREG_PATH_AUTO, g, 1.0), *c2 = vu_ctx(&p, VICREG_PATH_AUTO, 0, 1.0);
    double *sv = calloc(sl, sizeof(double)), *s2 = calloc(sl, sizeof(double));
    double *xv = calloc(cl, sizeof(double)), *x2 = calloc(cl, sizeof(double));
    ck_assert(sv && s2 && xv && x2);
    const void *z[2];
    size_t r = 0;
    for (int k = 0; k < 4; r += sizes[k++]) {
        const void *const *zk = shard_views(&w, r, sizes[k], k, z);
        ck_assert_int_eq(prec_shard_views_sums(prec, cv, 2, sizes[k], d, zk, w.ld, sv), VICREG_OK);
        ck_assert_int_eq(prec_shard_sums(prec, c2, sizes[k], d, sizes[k] ? z[0] : NULL, w.ld[0],
                                         sizes[k] ? z[1] : NULL, w.ld[1], s2),
                         VICREG_OK);
        ck_assert_msg(memcmp(sv, s2, sl * sizeof(double)) == 0, "G=%d shard %d: sums differ", g,
                      k);
    }
    r = 0;
    for (int k = 0; k < 4; r += sizes[k++]) {
        const void *const *zk = shard_views(&w, r, sizes[k], k, z);
        ck_assert_int_eq(prec_shard_views_scatter(prec, cv, 2, sizes[k], d, zk, w.ld, sv, xv),
                         VICREG_OK);
        ck_assert_int_eq(prec_shard_scatter(prec, c2, sizes[k], d, sizes[k] ? z[0] : NULL,
                                            w.ld[0], sizes[k] ? z[1] : NULL, w.ld[1], s2, x2),
                         VICREG_OK);
        ck_assert_msg(memcmp(xv, x2, cl * sizeof(double)) == 0, "G=%d shard %d: scatter differs",
                      g, k);
    }
    r = 0;
    for (int k = 0; k < 4; r += sizes[k++]) {
        const size_t nk = sizes[k];
        void *gv[2] = { sentinel_buffer(prec, (nk + 1) * ldg), sentinel_buffer(prec, (nk + 1) * ldg) };
        void *gt[2] = { sentinel_buffer(prec, (nk + 1) * ldg), sentinel_buffer(prec, (nk + 1) * ldg) };
        const size_t ldgrad[2] = { ldg, ldg };
        double lv = NAN, lt = NAN;
        double tv[TU_N_TERMS], tt[TU_N_TERMS], vv[VU_CAP][VU_N_VTERMS], vt[VU_CAP][VU_N_VTERMS];
        const void *const *zk = shard_views(&w, r, nk, k, z);
        ck_assert_int_eq(prec_shard_views_finish(prec, cv, 2, nk, d, zk, w.ld, sv, xv, &lv, gv,
                                                 ldgrad),
                         VICREG_OK);
        ck_assert_int_eq(prec_shard_finish(prec, c2, nk, d, nk ? z[0] : NULL, w.ld[0],
                                           nk ? z[1] : NULL, w.ld[1], s2, x2, &lt, gt[0], ldg,
                                           gt[1], ldg),
                         VICREG_OK);
        vu_read_terms(cv, 2, tv, vv);
        vu_read_terms(c2, 2, tt, vt);
        ck_assert_msg(memcmp(&lv, &lt, sizeof lv) == 0 && memcmp(tv, tt, sizeof tv) == 0 &&
                          memcmp(vv[0], vt[0], 2 * sizeof vv[0]) == 0,
                      "G=%d shard %d: loss or terms differ", g, k);
        for (int b = 0; b < 2; b++) {
            ck_assert_msg(memcmp(gv[b], gt[b], (nk + 1) * ldg * elem) == 0,
                          "G=%d shard %d: gradient %d differs", g, k, b);
            free(gv[b]);
            free(gt[b]);
        }
    }
    free(sv);
    free(s2);
    free(xv);
    free(x2);
    vicreg_ctx_destroy(cv);
    vicreg_ctx_destroy(c2);
    views_free(&w);
}
END_TEST

/* The finish phase's gradients are multiplied by VICREG_PARAM_GRAD_SCALE
 * (a power of two: exactly); the loss and terms are not. */
START_TEST(finish_grad_scale)
{
    const int prec = _i;
    struct vworld w;
    vworld_make(&w, prec);
    const size_t elem = elem_of(prec), count = VW_SHARD * VW_D;
    unsigned char *g1 = malloc(VW_V * count * elem);
    ck_assert_ptr_nonnull(g1);
    double l1 = NAN, l2 = NAN, t1[TU_N_TERMS], t2[TU_N_TERMS];
    double v1[VU_CAP][VU_N_VTERMS], v2[VU_CAP][VU_N_VTERMS];
    for (int k = 0; k < 2; k++) {
        vicreg_ctx *c = tu_ctx_new();
        ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, k ? 4.0 : 1.0),
                         VICREG_OK);
        ck_assert_int_eq(prec_shard_views_finish(prec, c, VW_V, VW_SHARD, VW_D, VU_CZ(w.z), NULL,
                                                 w.sums, w.scatter, k ? &l2 : &l1, w.g, NULL),
                         VICREG_OK);
        vu_read_terms(c, VW_V, k ? t2 : t1, k ? v2 : v1);
        for (size_t v = 0; v < VW_V; v++)
            for (size_t e = 0; e < count; e++) {
                if (k == 0) {
                    memcpy(g1 + (v * count + e) * elem, (char *)w.g[v] + e * elem, elem);
                    continue;
                }
                const double a = elem_get(prec, g1 + v * count * elem, e);
                ck_assert_msg(elem_get(prec, w.g[v], e) == 4.0 * a,
                              "view %zu entry %zu: %.17g, unscaled %.17g", v, e,
                              elem_get(prec, w.g[v], e), a);
            }
        vicreg_ctx_destroy(c);
    }
    ck_assert(memcmp(&l1, &l2, sizeof l1) == 0 && memcmp(t1, t2, sizeof t1) == 0 &&
              memcmp(v1, v2, VW_V * sizeof v1[0]) == 0);
    free(g1);
    vworld_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * layout: what the buffers hold
 * --------------------------------------------------------------------- */
START_TEST(sizes_documented)
{
    size_t a = 7, b = 9;
    const size_t ds[4] = { 1, 2, 7, 8192 }, vs[4] = { 1, 2, 5, VICREG_MAX_VIEWS };
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++) {
            ck_assert_int_eq(vicreg_shard_views_sizes(vs[i], ds[k], &a, &b), VICREG_OK);
            ck_assert_uint_eq(a, 2 + vs[i] * ds[k]);
            ck_assert_uint_eq(b, vs[i] * ds[k] * (ds[k] + 1) / 2);
        }
    a = 7, b = 9;
    ck_assert_int_eq(vicreg_shard_views_sizes(3, 4, NULL, &b), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_shard_views_sizes(3, 4, &a, NULL), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_shard_views_sizes(0, 4, &a, &b), VICREG_ERR_BAD_SHAPE);
    ck_assert_int_eq(vicreg_shard_views_sizes(VICREG_MAX_VIEWS + 1, 4, &a, &b),
                     VICREG_ERR_BAD_SHAPE);
    ck_assert_int_eq(vicreg_shard_views_sizes(SIZE_MAX, 4, &a, &b), VICREG_ERR_BAD_SHAPE);
    ck_assert_int_eq(vicreg_shard_views_sizes(3, 0, &a, &b), VICREG_ERR_BAD_SHAPE);
    ck_assert_int_eq(vicreg_shard_views_sizes(3, (size_t)INT_MAX + 1, &a, &b),
                     VICREG_ERR_SIZE_OVERFLOW);
    ck_assert_int_eq(vicreg_shard_views_sizes(3, SIZE_MAX / 2, &a, &b), VICREG_ERR_SIZE_OVERFLOW);
    ck_assert_int_eq(vicreg_shard_views_sizes(VICREG_MAX_VIEWS, INT_MAX, &a, &b),
                     VICREG_ERR_SIZE_OVERFLOW);
    ck_assert(a == 7 && b == 9);
}
END_TEST

START_TEST(buffers_hold_the_documented_sums)
{
    /* _i = precision + 2 * view set; one shard holding the whole batch. */
    const int prec = _i % 2, set = _i / 2;
    const size_t count = view_sets[set].views, n = 9, d = 4;
    const int gp = view_sets[set].global_views;
    const size_t g = gp == 0 ? count : (size_t)gp;
    struct ref_params p = ref_default_params();
    struct views w;
    views_make(&w, prec, 1200 + (uint64_t)_i, count, n, d, 1);
    size_t cl, sl = sizes_of(count, d, &cl);
    double *sums = calloc(sl, sizeof(double)), *scatter = calloc(cl, sizeof(double));
    ck_assert(sums && scatter);
    vicreg_ctx *c = vu_ctx(&p, VICREG_PATH_AUTO, gp, 1.0);
    ck_assert_int_eq(prec_shard_views_sums(prec, c, count, n, d, VU_CZ(w.z), w.ld, sums), VICREG_OK);
    ck_assert_int_eq(prec_shard_views_scatter(prec, c, count, n, d, VU_CZ(w.z), w.ld, sums, scatter),
                     VICREG_OK);
    ck_assert(sums[0] == (double)n);
    /* The weighted invariance sum, plainly. */
    double inv = 0.0;
    for (size_t a = 0; a < count; a++)
        for (size_t b = a + 1; b < count; b++) {
            const double wab = (double)((a < g) + (b < g));
            for (size_t e = 0; e < n * d; e++)
                inv += wab * (w.z64[a][e] - w.z64[b][e]) * (w.z64[a][e] - w.z64[b][e]);
        }
    if (count == 1)
        ck_assert(sums[1] == 0.0);
    else
        ck_assert_msg(tu_rel(sums[1], inv / (double)(g * (count - 1))) <=
                          (prec == F64 ? TOL_SAME_F64 : TOL_SAME_F32),
                      "invariance sum %.17g, want %.17g", sums[1], inv / (double)(g * (count - 1)));
    for (size_t v = 0; v < count; v++) {
        double mean[4];
        for (size_t j = 0; j < d; j++) {
            double s = 0.0, abs_s = 0.0;
            for (size_t i = 0; i < n; i++) {
                s += w.z64[v][i * d + j];
                abs_s += fabs(w.z64[v][i * d + j]);
            }
            ck_assert_msg(fabs(sums[2 + v * d + j] - s) <= 1e-14 * abs_s,
                          "view %zu column sum %zu: %.17g, want %.17g", v, j, sums[2 + v * d + j],
                          s);
            mean[j] = s / (double)n;
        }
        /* The scatter about the global means, upper triangle row by row. */
        const double *sv = scatter + v * d * (d + 1) / 2;
        double scale = 0.0;
        for (size_t j = 0; j < d; j++)
            scale = fmax(scale, tu_column_variance(n, d, w.z64[v], j) * (double)(n - 1));
        size_t at = 0;
        for (size_t j = 0; j < d; j++)
            for (size_t k = j; k < d; k++, at++) {
                double s = 0.0;
                for (size_t i = 0; i < n; i++)
                    s += (w.z64[v][i * d + j] - mean[j]) * (w.z64[v][i * d + k] - mean[k]);
                ck_assert_msg(fabs(sv[at] - s) <= (prec == F64 ? TOL_SAME_F64 : TOL_SAME_F32) * scale,
                              "view %zu scatter (%zu, %zu): %.17g, want %.17g", v, j, k, sv[at], s);
            }
    }
    vicreg_ctx_destroy(c);
    free(sums);
    free(scatter);
    views_free(&w);
}
END_TEST

/* An empty shard: z NULL or every z[v] NULL; phases 1 and 2 change
 * nothing, phase 3 gives the loss and terms alone. */
START_TEST(empty_shard)
{
    const int prec = _i;
    struct vworld w;
    vworld_make(&w, prec);
    vicreg_ctx *c = tu_ctx_new();
    const void *nulls[VW_V] = { NULL, NULL, NULL };
    const size_t bytes = w.bytes;
    unsigned char *keep = malloc(bytes);
    ck_assert_ptr_nonnull(keep);
    for (int k = 0; k < 2; k++) {
        const void *const *z = k ? nulls : NULL;
        memcpy(keep, w.block, bytes);
        ck_assert_int_eq(prec_shard_views_sums(prec, c, VW_V, 0, VW_D, z, NULL, w.sums), VICREG_OK);
        ck_assert_int_eq(prec_shard_views_scatter(prec, c, VW_V, 0, VW_D, z, NULL, w.sums,
                                                  w.scatter),
                         VICREG_OK);
        ck_assert(memcmp(keep, w.block, bytes) == 0);
        double loss = NAN, l2 = NAN;
        ck_assert_int_eq(prec_shard_views_finish(prec, c, VW_V, 0, VW_D, z, NULL, w.sums,
                                                 w.scatter, &loss, NULL, NULL),
                         VICREG_OK);
        ck_assert(isfinite(loss));
        /* The loss is the global batch's: what a shard with rows gets. */
        vicreg_ctx *c2 = tu_ctx_new();
        ck_assert_int_eq(prec_shard_views_finish(prec, c2, VW_V, VW_SHARD, VW_D, VU_CZ(w.z), NULL,
                                                 w.sums, w.scatter, &l2, NULL, NULL),
                         VICREG_OK);
        ck_assert(memcmp(&loss, &l2, sizeof loss) == 0);
        vicreg_ctx_destroy(c2);
    }
    free(keep);
    vicreg_ctx_destroy(c);
    vworld_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * errors
 * --------------------------------------------------------------------- */
START_TEST(errors_common)
{
    /* _i = precision + 2 * phase. */
    const int prec = _i % 2, kind = VK_SUMS + _i / 2;
    struct vworld w;
    vworld_make(&w, prec);
    const struct vcall base = vworld_call(&w, kind);
    struct vcall c;
    const double huge = prec == F64 ? 1e200 : 1e30;
    const size_t last = (VW_SHARD - 1) * VW_D + VW_D - 1;

    c = base, c.null_ctx = 1;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL ctx");
    c = base, c.z_null = 1;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "z NULL with rows");
    c = base, c.z[1] = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "z[1] NULL with rows");
    c = base, c.views = 0;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "no view");
    c = base, c.views = VICREG_MAX_VIEWS + 1, c.grad_null = 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "VICREG_MAX_VIEWS + 1 views");
    c = base, c.d = 0;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "d = 0");
    c = base, c.ldz[2] = VW_D - 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldz[2] < d");
    c = base, c.n = (size_t)INT_MAX + 1;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n > INT_MAX");
    c = base, c.ldz[0] = SIZE_MAX / 4;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n * ldz[0] overflows");
    c = base, c.sums = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "sums NULL");

    /* NaN and Inf in any view, the first and last entries of the shard. */
    vexpect_with_entry(&w, w.z[0], 0, NAN, &base, VICREG_ERR_NON_FINITE, "NaN in z[0]");
    vexpect_with_entry(&w, w.z[2], last, -INFINITY, &base, VICREG_ERR_NON_FINITE, "-Inf in z[2]");
    vexpect_with_entry(&w, w.z[1], last, INFINITY, &base, VICREG_ERR_NON_FINITE, "Inf in z[1]");
    /* Too large to square (the sums of a float shard cannot overflow a
     * double). */
    if (!(kind == VK_SUMS && prec == F32))
        vexpect_with_entry(&w, w.z[1], VW_D + 1, huge, &base, VICREG_ERR_OVERFLOW, "huge entry");
    /* The statistics passed in. */
    vexpect_with_double(&w, &w.sums[2 + VW_D + 1], NAN, &base, VICREG_ERR_NON_FINITE,
                        "NaN in the column sums of view 1");
    vexpect_with_double(&w, &w.sums[1], -1.0, &base, VICREG_ERR_INVALID_ARGUMENT,
                        "negative invariance sum");
    vexpect_with_double(&w, &w.sums[0], 2.5, &base, VICREG_ERR_BAD_SHAPE, "row count 2.5");
    /* A statistics buffer on a view. */
    c = base, c.sums = (double *)(uintptr_t)w.z[1];
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "sums on z[1]");
    vworld_free(&w);
}
END_TEST

START_TEST(errors_sums)
{
    const int prec = _i;
    struct vworld w;
    vworld_make(&w, prec);
    const struct vcall base = vworld_call(&w, VK_SUMS);
    struct vcall c;
    c = base, c.global_views = VW_V + 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "G = views + 1");
    vexpect_with_double(&w, &w.sums[0], -1.0, &base, VICREG_ERR_BAD_SHAPE, "row count -1");
    vexpect_with_double(&w, &w.sums[0], 0x1p53 - 1.0, &base, VICREG_ERR_SIZE_OVERFLOW,
                        "row count passes 2^53");
    c = base, c.n = 0, c.z_null = 1;
    vexpect_with_double(&w, &w.sums[0], 0.5, &c, VICREG_ERR_BAD_SHAPE, "empty shard, count 0.5");
    c = base, c.sums = (double *)(void *)((char *)w.z[2] + 8);
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "sums inside z[2]");
    vworld_free(&w);
}
END_TEST

START_TEST(errors_scatter_finish)
{
    /* _i = precision + 2 * (phase 2, phase 3). */
    const int prec = _i % 2, kind = _i / 2 ? VK_FINISH : VK_SCATTER;
    struct vworld w;
    vworld_make(&w, prec);
    const struct vcall base = vworld_call(&w, kind);
    struct vcall c;
    const size_t tri = VW_D * (VW_D + 1) / 2, elem = elem_of(prec);

    c = base, c.scatter = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "scatter NULL");
    vexpect_with_double(&w, &w.scatter[2 * tri + 1], -INFINITY, &base, VICREG_ERR_NON_FINITE,
                        "-Inf in view 2's scatter");
    /* The global row count. */
    vexpect_with_double(&w, &w.sums[0], 1.0, &base, VICREG_ERR_BAD_SHAPE, "N = 1");
    vexpect_with_double(&w, &w.sums[0], (double)VW_SHARD - 1.0, &base, VICREG_ERR_BAD_SHAPE,
                        "N < n");
    c = base, c.n = 0, c.z_null = 1, c.grad_null = 1;
    vexpect_with_double(&w, &w.sums[0], 1.0, &c, VICREG_ERR_BAD_SHAPE, "empty shard, N = 1");
    /* The diagonal entry (2, 2) of view 2's scatter: row 2 starts at
     * 2 d - 1 of its triangle. */
    vexpect_with_double(&w, &w.scatter[2 * tri + 2 * VW_D - 1], -1.0, &base,
                        VICREG_ERR_INVALID_ARGUMENT, "negative scatter diagonal of view 2");
    c = base, c.scatter = (double *)(void *)((char *)w.z[0] + 16);
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "scatter inside z[0]");
    if (kind == VK_SCATTER) {
        c = base, c.scatter = w.sums + 1;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "scatter on sums");
        /* An accumulator so large that the sum would overflow. */
        vexpect_with_double(&w, &w.scatter[tri + 1], 0.9 * DBL_MAX, &base, VICREG_ERR_OVERFLOW,
                            "view 1's scatter near DBL_MAX");
    } else {
        c = base, c.global_views = VW_V + 1;
        vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "G = views + 1");
        c = base, c.ldgrad[1] = VW_D - 1;
        vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldgrad[1] < d");
        c = base, c.grad[0] = w.sums + 2;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[0] on sums");
        c = base, c.grad[2] = w.scatter + tri;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[2] on scatter");
        c = base, c.grad[1] = (void *)(uintptr_t)w.z[2];
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[1] on z[2]");
        c = base, c.grad[2] = (char *)w.g[1] + 5 * elem;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[2] inside grad[1]");
        vexpect_with_double(&w, &w.scatter[tri + 1], 1e300, &base, VICREG_ERR_OVERFLOW,
                            "huge scatter entry of view 1");
    }
    vworld_free(&w);
}
END_TEST

Suite *shard_views_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "equal", .timeout = 120, .unchecked_teardown = report_worst,
          .tests = { TU_LOOP(sharded_equals_single, 0, N_SPLITS * 8),
                     TU_LOOP(micro_batches_equal_single, 0, N_SPLITS * 8),
                     TU_LOOP(sharded_equals_single_larger, 0, 4) } },
        { .name = "two-views", .tests = { TU_LOOP(two_views_equal_two_batch_phases, 0, 12) } },
        { .name = "layout",
          .tests = { TU_TEST(sizes_documented), TU_LOOP(finish_grad_scale, 0, 2),
                     TU_LOOP(buffers_hold_the_documented_sums, 0, 2 * N_VIEW_SETS),
                     TU_LOOP(empty_shard, 0, 2) } },
        { .name = "errors", .timeout = 120,
          .tests = { TU_LOOP(errors_common, 0, 6), TU_LOOP(errors_sums, 0, 2),
                     TU_LOOP(errors_scatter_finish, 0, 4) } },
    };
    return tu_suite("shard-views", tcases, sizeof tcases / sizeof tcases[0]);
}
