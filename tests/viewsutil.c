/*
 * viewsutil.c - see viewsutil.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viewsutil.h"

const int vu_view_terms[VU_N_VTERMS] = {
    VICREG_VIEW_TERM_VARIANCE, VICREG_VIEW_TERM_COVARIANCE,
    VICREG_VIEW_TERM_MEAN_STD, VICREG_VIEW_TERM_MIN_STD,
    VICREG_VIEW_TERM_COLLAPSED_FRACTION, VICREG_VIEW_TERM_EFFECTIVE_RANK,
};

int vu_branch_term(size_t k, int b)
{
    static const int a_terms[VU_N_VTERMS] = {
        VICREG_TERM_VARIANCE_A, VICREG_TERM_COVARIANCE_A, VICREG_TERM_MEAN_STD_A,
        VICREG_TERM_MIN_STD_A, VICREG_TERM_COLLAPSED_FRACTION_A, VICREG_TERM_EFFECTIVE_RANK_A,
    };
    static const int b_terms[VU_N_VTERMS] = {
        VICREG_TERM_VARIANCE_B, VICREG_TERM_COVARIANCE_B, VICREG_TERM_MEAN_STD_B,
        VICREG_TERM_MIN_STD_B, VICREG_TERM_COLLAPSED_FRACTION_B, VICREG_TERM_EFFECTIVE_RANK_B,
    };
    return b ? b_terms[k] : a_terms[k];
}

int vu_is_b_term(int term)
{
    for (size_t k = 0; k < VU_N_VTERMS; k++)
        if (vu_branch_term(k, 1) == term)
            return 1;
    return 0;
}

/* The index of a term key in tu_all_terms. */
static size_t term_index(int term)
{
    for (size_t k = 0; k < TU_N_TERMS; k++)
        if (tu_all_terms[k] == term)
            return k;
    ck_abort_msg("term %d is not in tu_all_terms", term);
    return 0;
}

/* ---------------------------------------------------------------------
 * Dispatch
 * --------------------------------------------------------------------- */
int prec_views_loss(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                    const void *const *z, const size_t *ldz, double *loss, void *const *grad,
                    const size_t *ldgrad)
{
    struct views_typed t;
    views_typed_fill(&t, views, z, grad);
    if (prec == F64)
        return vicreg_views_loss_f64(c, views, n, d, z ? t.zd : NULL, ldz, loss,
                                     grad ? t.gd : NULL, ldgrad);
    return vicreg_views_loss_f32(c, views, n, d, z ? t.zf : NULL, ldz, loss, grad ? t.gf : NULL,
                                 ldgrad);
}

int prec_views_loss_rows(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                         const void *const *z, const size_t *ldz, size_t row0, size_t rows,
                         double *loss, void *const *grad, const size_t *ldgrad)
{
    struct views_typed t;
    views_typed_fill(&t, views, z, grad);
    if (prec == F64)
        return vicreg_views_loss_rows_f64(c, views, n, d, z ? t.zd : NULL, ldz, row0, rows, loss,
                                          grad ? t.gd : NULL, ldgrad);
    return vicreg_views_loss_rows_f32(c, views, n, d, z ? t.zf : NULL, ldz, row0, rows, loss,
                                      grad ? t.gf : NULL, ldgrad);
}

int prec_shard_views_sums(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                          const void *const *z, const size_t *ldz, double *sums)
{
    struct views_typed t;
    views_typed_fill(&t, views, z, NULL);
    if (prec == F64)
        return vicreg_shard_views_sums_f64(c, views, n, d, z ? t.zd : NULL, ldz, sums);
    return vicreg_shard_views_sums_f32(c, views, n, d, z ? t.zf : NULL, ldz, sums);
}

int prec_shard_views_scatter(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                             const void *const *z, const size_t *ldz, const double *sums,
                             double *scatter)
{
    struct views_typed t;
    views_typed_fill(&t, views, z, NULL);
    if (prec == F64)
        return vicreg_shard_views_scatter_f64(c, views, n, d, z ? t.zd : NULL, ldz, sums,
                                              scatter);
    return vicreg_shard_views_scatter_f32(c, views, n, d, z ? t.zf : NULL, ldz, sums, scatter);
}

int prec_shard_views_finish(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                            const void *const *z, const size_t *ldz, const double *sums,
                            const double *scatter, double *loss, void *const *grad,
                            const size_t *ldgrad)
{
    struct views_typed t;
    views_typed_fill(&t, views, z, grad);
    if (prec == F64)
        return vicreg_shard_views_finish_f64(c, views, n, d, z ? t.zd : NULL, ldz, sums, scatter,
                                             loss, grad ? t.gd : NULL, ldgrad);
    return vicreg_shard_views_finish_f32(c, views, n, d, z ? t.zf : NULL, ldz, sums, scatter,
                                         loss, grad ? t.gf : NULL, ldgrad);
}

/* ---------------------------------------------------------------------
 * A views call or its two-batch twin
 * --------------------------------------------------------------------- */

/* The arguments of the two-batch call from those of a views call. */
struct pair_args {
    const void *za, *zb;
    size_t lda, ldb;
    void *ga, *gb;
    size_t ldga, ldgb;
};

static struct pair_args pair_args(size_t d, const void *const *z, const size_t *ldz,
                                  void *const *grad, const size_t *ldgrad)
{
    const struct pair_args a = {
        .za = z ? z[0] : NULL,          .zb = z ? z[1] : NULL,
        .lda = ldz ? ldz[0] : d,        .ldb = ldz ? ldz[1] : d,
        .ga = grad ? grad[0] : NULL,    .gb = grad ? grad[1] : NULL,
        .ldga = ldgrad ? ldgrad[0] : d, .ldgb = ldgrad ? ldgrad[1] : d,
    };
    return a;
}

int vu_loss(int pair, int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
            const void *const *z, const size_t *ldz, double *loss, void *const *grad,
            const size_t *ldgrad)
{
    if (!pair)
        return prec_views_loss(prec, c, views, n, d, z, ldz, loss, grad, ldgrad);
    const struct pair_args a = pair_args(d, z, ldz, grad, ldgrad);
    return prec_loss(prec, c, n, d, a.za, a.lda, a.zb, a.ldb, loss, a.ga, a.ldga, a.gb, a.ldgb);
}

int vu_loss_rows(int pair, int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                 const void *const *z, const size_t *ldz, size_t row0, size_t rows,
                 double *loss, void *const *grad, const size_t *ldgrad)
{
    if (!pair)
        return prec_views_loss_rows(prec, c, views, n, d, z, ldz, row0, rows, loss, grad,
                                    ldgrad);
    const struct pair_args a = pair_args(d, z, ldz, grad, ldgrad);
    return prec_loss_rows(prec, c, n, d, a.za, a.lda, a.zb, a.ldb, row0, rows, loss, a.ga,
                          a.ldga, a.gb, a.ldgb);
}

int vu_sums(int pair, int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
            const void *const *z, const size_t *ldz, double *sums)
{
    if (!pair)
        return prec_shard_views_sums(prec, c, views, n, d, z, ldz, sums);
    const struct pair_args a = pair_args(d, z, ldz, NULL, NULL);
    return prec_shard_sums(prec, c, n, d, a.za, a.lda, a.zb, a.ldb, sums);
}

int vu_scatter(int pair, int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
               const void *const *z, const size_t *ldz, const double *sums, double *scatter)
{
    if (!pair)
        return prec_shard_views_scatter(prec, c, views, n, d, z, ldz, sums, scatter);
    const struct pair_args a = pair_args(d, z, ldz, NULL, NULL);
    return prec_shard_scatter(prec, c, n, d, a.za, a.lda, a.zb, a.ldb, sums, scatter);
}

int vu_finish(int pair, int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
              const void *const *z, const size_t *ldz, const double *sums,
              const double *scatter, double *loss, void *const *grad, const size_t *ldgrad)
{
    if (!pair)
        return prec_shard_views_finish(prec, c, views, n, d, z, ldz, sums, scatter, loss, grad,
                                       ldgrad);
    const struct pair_args a = pair_args(d, z, ldz, grad, ldgrad);
    return prec_shard_finish(prec, c, n, d, a.za, a.lda, a.zb, a.ldb, sums, scatter, loss,
                             a.ga, a.ldga, a.gb, a.ldgb);
}

/* ---------------------------------------------------------------------
 * Views
 * --------------------------------------------------------------------- */
void views_from(struct views *w, int prec, size_t count, size_t n, size_t d,
                const double *const *src, int padded)
{
    memset(w, 0, sizeof *w);
    ck_assert(count >= 1 && count <= VU_CAP);
    w->prec = prec;
    w->count = count;
    w->n = n;
    w->d = d;
    for (size_t v = 0; v < count; v++) {
        const size_t ld = padded ? d + 1 + v % 3 : d;
        w->ld[v] = ld;
        w->z64[v] = malloc(n * d * sizeof(double));
        w->z[v] = malloc(n * ld * elem_of(prec));
        ck_assert(w->z64[v] && w->z[v]);
        for (size_t e = 0; e < n * ld; e++)
            elem_put(prec, w->z[v], e, NAN);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) {
                elem_put(prec, w->z[v], i * ld + j, src[v][i * d + j]);
                w->z64[v][i * d + j] = elem_get(prec, w->z[v], i * ld + j);
            }
    }
}

void views_make(struct views *w, int prec, uint64_t seed, size_t count, size_t n, size_t d,
                int padded)
{
    double *src[VU_CAP + 1];
    ck_assert(count >= 1 && count <= VU_CAP);
    for (size_t v = 0; v < count + 1; v++) {
        src[v] = malloc(n * d * sizeof(double));
        ck_assert_ptr_nonnull(src[v]);
    }
    for (size_t v = 0; v < count; v += 2)
        tu_make_batches(seed + v, n, d, d, src[v], src[v + 1]);
    views_from(w, prec, count, n, d, (const double *const *)src, padded);
    for (size_t v = 0; v < count + 1; v++)
        free(src[v]);
}

void views_free(struct views *w)
{
    for (size_t v = 0; v < w->count; v++) {
        free(w->z64[v]);
        free(w->z[v]);
    }
    memset(w, 0, sizeof *w);
}

int views_packed(const struct views *w)
{
    for (size_t v = 0; v < w->count; v++)
        if (w->ld[v] != w->d)
            return 0;
    return 1;
}

const void *view_row(const struct views *w, size_t v, size_t i)
{
    return (const char *)w->z[v] + i * w->ld[v] * elem_of(w->prec);
}

/* ---------------------------------------------------------------------
 * Outcomes
 * --------------------------------------------------------------------- */
void vout_init(struct vout *o, size_t count, size_t n, size_t d)
{
    memset(o, 0, sizeof *o);
    o->count = count;
    o->n = n;
    o->d = d;
    o->loss = NAN;
    for (size_t k = 0; k < TU_N_TERMS; k++)
        o->terms[k] = NAN;
    for (size_t v = 0; v < VU_CAP; v++)
        for (size_t k = 0; k < VU_N_VTERMS; k++)
            o->vterms[v][k] = NAN;
    for (size_t v = 0; v < count; v++) {
        o->g[v] = calloc(n * d, sizeof(double));
        ck_assert_ptr_nonnull(o->g[v]);
    }
}

void vout_free(struct vout *o)
{
    for (size_t v = 0; v < o->count; v++)
        free(o->g[v]);
    memset(o, 0, sizeof *o);
}

/* A value a failing query must leave as it is. */
#define UNTOUCHED (-7777.25)

void vu_read_terms(const vicreg_ctx *c, size_t count, double *terms,
                   double (*vterms)[VU_N_VTERMS])
{
    for (size_t k = 0; k < TU_N_TERMS; k++) {
        const int one_view_b = count == 1 && vu_is_b_term(tu_all_terms[k]);
        double v = UNTOUCHED;
        const int got = vicreg_ctx_get_term(c, tu_all_terms[k], &v);
        ck_assert_msg(got == (one_view_b ? VICREG_ERR_NO_RESULT : VICREG_OK),
                      "%zu views: vicreg_ctx_get_term(%d) gave %s", count, tu_all_terms[k],
                      vicreg_status_name(got));
        if (one_view_b) {
            ck_assert_msg(v == UNTOUCHED, "a failing vicreg_ctx_get_term wrote its value");
            v = NAN;
        }
        terms[k] = v;
    }
    for (size_t view = 0; view <= count && view < VU_CAP; view++)
        for (size_t k = 0; k < VU_N_VTERMS; k++) {
            double v = UNTOUCHED;
            const int got = vicreg_ctx_get_view_term(c, vu_view_terms[k], view, &v);
            if (view < count) {
                ck_assert_msg(got == VICREG_OK, "%zu views: view term %d of view %zu gave %s",
                              count, vu_view_terms[k], view, vicreg_status_name(got));
                vterms[view][k] = v;
            } else {
                ck_assert_msg(got == VICREG_ERR_NO_RESULT,
                              "%zu views: view term %d of view %zu gave %s, want "
                              "VICREG_ERR_NO_RESULT",
                              count, vu_view_terms[k], view, vicreg_status_name(got));
                ck_assert_msg(v == UNTOUCHED, "a failing vicreg_ctx_get_view_term wrote");
            }
        }
    /* The _A and _B terms are views 0 and 1. */
    for (size_t k = 0; k < VU_N_VTERMS; k++)
        for (int b = 0; b < 2 && (size_t)b < count; b++) {
            const double t = terms[term_index(vu_branch_term(k, b))];
            ck_assert_msg(memcmp(&t, &vterms[b][k], sizeof t) == 0,
                          "term %d is %.17g, view %d's term %d is %.17g", vu_branch_term(k, b), t,
                          b, vu_view_terms[k], vterms[b][k]);
        }
}

void vgrads_all(struct vgrads *g, size_t count)
{
    memset(g, 0, sizeof *g);
    g->ld_null = 1;
    for (size_t v = 0; v < count; v++)
        g->want[v] = 1;
}

void vgrads_some(struct vgrads *g, size_t count, size_t d, uint64_t mask, size_t pad)
{
    memset(g, 0, sizeof *g);
    g->ld_null = pad == 0;
    for (size_t v = 0; v < count; v++) {
        g->want[v] = !((mask >> (v % 64)) & 1u);
        g->ld[v] = pad ? d + pad + v % 2 : d;
    }
}

int vu_run(vicreg_ctx *c, const struct views *w, int ldz_null, const struct vgrads *g,
           size_t row0, size_t rows, struct vout *o)
{
    const int prec = w->prec;
    const size_t count = w->count, n = w->n, d = w->d, elem = elem_of(prec);
    const int is_rows = rows != SIZE_MAX;
    const size_t nrows = is_rows ? rows : n;
    void *buf[VU_CAP] = { 0 };
    size_t gld[VU_CAP];
    unsigned char *zcopy[VU_CAP];
    unsigned char pattern[sizeof(double)];
    memset(pattern, SENTINEL_BYTE, sizeof pattern);
    ck_assert(!ldz_null || views_packed(w));
    for (size_t v = 0; v < count; v++) {
        gld[v] = g->ld_null ? d : g->ld[v];
        if (!g->none && g->want[v])
            buf[v] = sentinel_buffer(prec, (nrows + 1) * gld[v]); /* one row more */
        zcopy[v] = malloc(n * w->ld[v] * elem);
        ck_assert_ptr_nonnull(zcopy[v]);
        memcpy(zcopy[v], w->z[v], n * w->ld[v] * elem);
    }
    double loss;
    memset(&loss, SENTINEL_BYTE, sizeof loss);
    const double loss0 = loss;
    const void *const *z = VU_CZ(w->z);
    const size_t *ldz = ldz_null ? NULL : w->ld;
    void *const *grad = g->none ? NULL : buf;
    const size_t *ldgrad = g->ld_null ? NULL : g->ld;
    const int status =
        is_rows ? vu_loss_rows(w->pair, prec, c, count, n, d, z, ldz, row0, rows, &loss, grad,
                               ldgrad)
                : vu_loss(w->pair, prec, c, count, n, d, z, ldz, &loss, grad, ldgrad);
    for (size_t v = 0; v < count; v++) {
        ck_assert_msg(memcmp(zcopy[v], w->z[v], n * w->ld[v] * elem) == 0,
                      "the call wrote into view %zu", v);
        free(zcopy[v]);
    }
    if (status == VICREG_OK) {
        vu_read_terms(c, count, o->terms, o->vterms);
        ck_assert_msg(memcmp(&loss, &o->terms[0], sizeof loss) == 0,
                      "the loss %.17g is not VICREG_TERM_LOSS %.17g", loss, o->terms[0]);
        o->loss = loss;
    } else {
        ck_assert_msg(memcmp(&loss, &loss0, sizeof loss) == 0, "a failing call wrote the loss");
    }
    for (size_t v = 0; v < count; v++) {
        if (!buf[v])
            continue;
        for (size_t i = 0; i <= nrows; i++)
            for (size_t j = 0; j < gld[v]; j++) {
                const unsigned char *e = (const unsigned char *)buf[v] + (i * gld[v] + j) * elem;
                if (status == VICREG_OK && i < nrows && j < d) {
                    o->g[v][(row0 + i) * d + j] = elem_get(prec, buf[v], i * gld[v] + j);
                } else {
                    ck_assert_msg(memcmp(e, pattern, elem) == 0,
                                  "%s: gradient %zu written at (%zu, %zu)",
                                  status == VICREG_OK ? "outside the rows" : "a failing call", v,
                                  i, j);
                }
            }
        free(buf[v]);
    }
    return status;
}

void vout_assert_same(const struct vout *x, const struct vout *y, const unsigned char *grads,
                      const char *what)
{
    ck_assert_uint_eq(x->count, y->count);
    ck_assert_msg(memcmp(&x->loss, &y->loss, sizeof x->loss) == 0, "%s: loss %.17g vs %.17g",
                  what, x->loss, y->loss);
    for (size_t k = 0; k < TU_N_TERMS; k++)
        ck_assert_msg(memcmp(&x->terms[k], &y->terms[k], sizeof(double)) == 0,
                      "%s: term %d is %.17g vs %.17g", what, tu_all_terms[k], x->terms[k],
                      y->terms[k]);
    for (size_t v = 0; v < x->count; v++) {
        ck_assert_msg(memcmp(x->vterms[v], y->vterms[v], sizeof x->vterms[v]) == 0,
                      "%s: the terms of view %zu differ", what, v);
        if (grads && !grads[v])
            continue;
        ck_assert_msg(memcmp(x->g[v], y->g[v], x->n * x->d * sizeof(double)) == 0,
                      "%s: gradient %zu differs", what, v);
    }
}

vicreg_ctx *vu_ctx(const struct ref_params *p, int path, int global_views, double scale)
{
    vicreg_ctx *c = tu_ctx_new();
    tu_set_params(c, p);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, path), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GLOBAL_VIEWS, global_views),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, scale), VICREG_OK);
    return c;
}

/* ---------------------------------------------------------------------
 * Bad calls
 * --------------------------------------------------------------------- */
const char *vk_name(int kind)
{
    static const char *const names[VK_KINDS] = { "loss", "rows", "sums", "scatter", "finish" };
    return names[kind];
}

static size_t round64(size_t x)
{
    return (x + 63) / 64 * 64;
}

/* A world of `views` views; pair: two views whose calls are the
 * two-batch ones. */
static void world_make(struct vworld *w, int prec, size_t views, int pair)
{
    memset(w, 0, sizeof *w);
    const size_t arr = round64(VW_N * VW_D * elem_of(prec));
    ck_assert_int_eq(vicreg_shard_views_sizes(views, VW_D, &w->sums_len, &w->scatter_len),
                     VICREG_OK);
    const size_t sb = round64(w->sums_len * sizeof(double));
    const size_t cb = round64(w->scatter_len * sizeof(double));
    w->prec = prec;
    w->pair = pair;
    w->views = views;
    w->arr_bytes = arr;
    w->bytes = 2 * views * arr + sb + cb + 64;
    w->block = aligned_alloc(64, w->bytes);
    w->pristine = malloc(w->bytes);
    ck_assert(w->block && w->pristine);
    memset(w->block, SENTINEL_BYTE, w->bytes);
    struct views src;
    views_make(&src, prec, 1500, views, VW_N, VW_D, 0);
    for (size_t v = 0; v < views; v++) {
        w->z[v] = w->block + v * arr;
        w->g[v] = w->block + (views + v) * arr;
        memcpy(w->z[v], src.z[v], VW_N * VW_D * elem_of(prec));
    }
    views_free(&src);
    w->sums = (double *)(void *)(w->block + 2 * views * arr);
    w->scatter = (double *)(void *)(w->block + 2 * views * arr + sb);
    w->loss = (double *)(void *)(w->block + 2 * views * arr + sb + cb);
    /* The global statistics of the whole batch. */
    vicreg_ctx *c = tu_ctx_new();
    memset(w->sums, 0, w->sums_len * sizeof(double));
    memset(w->scatter, 0, w->scatter_len * sizeof(double));
    ck_assert_int_eq(vu_sums(pair, prec, c, views, VW_N, VW_D, VU_CZ(w->z), NULL, w->sums),
                     VICREG_OK);
    ck_assert_int_eq(vu_scatter(pair, prec, c, views, VW_N, VW_D, VU_CZ(w->z), NULL, w->sums,
                                w->scatter),
                     VICREG_OK);
    vicreg_ctx_destroy(c);
    memcpy(w->pristine, w->block, w->bytes);
}

void vworld_make(struct vworld *w, int prec)
{
    world_make(w, prec, VW_V, 0);
}

void vworld_make_pair(struct vworld *w, int prec)
{
    world_make(w, prec, 2, 1);
}

void vworld_free(struct vworld *w)
{
    free(w->block);
    free(w->pristine);
}

struct vcall vworld_call(const struct vworld *w, int kind)
{
    struct vcall c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.prec = w->prec;
    c.pair = w->pair;
    c.views = w->views;
    c.d = VW_D;
    c.n = kind == VK_LOSS || kind == VK_ROWS ? VW_N : VW_SHARD;
    for (size_t v = 0; v < VU_CAP; v++) {
        c.z[v] = w->z[v % w->views];
        c.ldz[v] = VW_D;
        c.grad[v] = v < w->views ? w->g[v] : NULL;
        c.ldgrad[v] = VW_D;
    }
    c.grad_null = !(kind == VK_LOSS || kind == VK_ROWS || kind == VK_FINISH);
    c.sums = w->sums;
    c.scatter = w->scatter;
    c.loss = w->loss;
    if (kind == VK_ROWS) {
        c.row0 = 2;
        c.rows = 5;
    }
    c.global_views = -1;
    return c;
}

int vcall_run(const struct vcall *c, vicreg_ctx *ctx)
{
    vicreg_ctx *x = c->null_ctx ? NULL : ctx;
    const void *const *z = c->z_null ? NULL : c->z;
    const size_t *ldz = c->ldz_null ? NULL : c->ldz;
    void *const *grad = c->grad_null ? NULL : c->grad;
    const size_t *ldgrad = c->ldgrad_null ? NULL : c->ldgrad;
    switch (c->kind) {
    case VK_LOSS:
        return vu_loss(c->pair, c->prec, x, c->views, c->n, c->d, z, ldz, c->loss, grad, ldgrad);
    case VK_ROWS:
        return vu_loss_rows(c->pair, c->prec, x, c->views, c->n, c->d, z, ldz, c->row0, c->rows,
                            c->loss, grad, ldgrad);
    case VK_SUMS:
        return vu_sums(c->pair, c->prec, x, c->views, c->n, c->d, z, ldz, c->sums);
    case VK_SCATTER:
        return vu_scatter(c->pair, c->prec, x, c->views, c->n, c->d, z, ldz, c->sums,
                          c->scatter);
    default:
        return vu_finish(c->pair, c->prec, x, c->views, c->n, c->d, z, ldz, c->sums, c->scatter,
                         c->loss, grad, ldgrad);
    }
}

/* The parameters, with the 1.1 and 1.2 ones. */
static const int snap_params[VU_N_SNAP_PARAMS] = {
    VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF, VICREG_PARAM_COVARIANCE_COEFF,
    VICREG_PARAM_STD_TARGET,       VICREG_PARAM_EPSILON,        VICREG_PARAM_CONVENTION,
    VICREG_PARAM_PATH,             VICREG_PARAM_GRAD_SCALE,     VICREG_PARAM_GLOBAL_VIEWS,
};

void vsnap_take(const vicreg_ctx *c, struct vsnap *s)
{
    memset(s, 0, sizeof *s);
    for (size_t k = 0; k < TU_N_TERMS; k++)
        s->status[k] = vicreg_ctx_get_term(c, tu_all_terms[k], &s->terms[k]);
    for (size_t v = 0; v < VU_CAP; v++)
        for (size_t k = 0; k < VU_N_VTERMS; k++)
            s->vstatus[v][k] = vicreg_ctx_get_view_term(c, vu_view_terms[k], v, &s->vterms[v][k]);
    for (size_t k = 0; k < VU_N_SNAP_PARAMS; k++)
        ck_assert_int_eq(vicreg_ctx_get_param(c, snap_params[k], &s->params[k]), VICREG_OK);
}

vicreg_ctx *vworld_used_ctx(const struct vworld *w)
{
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_CONVENTION, VICREG_CONVENTION_PAPER),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, 2.0), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GLOBAL_VIEWS, 1.0), VICREG_OK);
    void *z[VW_V];
    for (size_t v = 0; v < w->views; v++) {
        z[v] = malloc(w->arr_bytes);
        ck_assert_ptr_nonnull(z[v]);
        memcpy(z[v], w->pristine + ((unsigned char *)w->z[v] - w->block), w->arr_bytes);
    }
    ck_assert_int_eq(vu_loss(w->pair, w->prec, c, w->views, VW_N, VW_D, VU_CZ(z), NULL, NULL,
                             NULL, NULL),
                     VICREG_OK);
    for (size_t v = 0; v < w->views; v++)
        free(z[v]);
    return c;
}

void vworld_like_fresh(const struct vworld *w, vicreg_ctx *c, int kind, const char *what)
{
    struct vsnap sc, sf;
    vicreg_ctx *fresh = tu_ctx_new();
    vsnap_take(c, &sc);
    for (size_t k = 0; k < VU_N_SNAP_PARAMS; k++)
        ck_assert_int_eq(vicreg_ctx_set_param(fresh, snap_params[k], sc.params[k]), VICREG_OK);
    unsigned char *keep = malloc(w->bytes), *after = malloc(w->bytes);
    ck_assert(keep && after);
    memcpy(keep, w->block, w->bytes);
    memcpy(w->block, w->pristine, w->bytes);
    const struct vcall call = vworld_call(w, kind);
    const int st = vcall_run(&call, c);
    ck_assert_msg(st == VICREG_OK, "%s: the context fails afterwards (%s)", what,
                  vicreg_status_name(st));
    memcpy(after, w->block, w->bytes);
    memcpy(w->block, w->pristine, w->bytes);
    ck_assert_int_eq(vcall_run(&call, fresh), VICREG_OK);
    ck_assert_msg(memcmp(after, w->block, w->bytes) == 0,
                  "%s: the outputs differ from a fresh context's", what);
    memcpy(w->block, keep, w->bytes);
    vsnap_take(c, &sc);
    vsnap_take(fresh, &sf);
    if (kind == VK_LOSS || kind == VK_ROWS || kind == VK_FINISH)
        ck_assert_msg(memcmp(&sc, &sf, sizeof sc) == 0, "%s: terms differ from a fresh context's",
                      what);
    free(keep);
    free(after);
    vicreg_ctx_destroy(fresh);
}

void vexpect(const struct vworld *w, const struct vcall *call, int want, const char *what)
{
    char label[256];
    snprintf(label, sizeof label, "%s %s%s: %s", prec_name(w->prec), call->pair ? "" : "views ",
             vk_name(call->kind), what);
    unsigned char *keep = malloc(w->bytes);
    ck_assert_ptr_nonnull(keep);
    memcpy(keep, w->block, w->bytes);
    vicreg_ctx *ctxs[2] = { tu_ctx_new(), vworld_used_ctx(w) };
    for (int k = 0; k < 2; k++) {
        struct vsnap before, after;
        double g_old = 0.0;
        if (call->global_views >= 0) {
            ck_assert_int_eq(vicreg_ctx_get_param(ctxs[k], VICREG_PARAM_GLOBAL_VIEWS, &g_old),
                             VICREG_OK);
            ck_assert_int_eq(
                vicreg_ctx_set_param(ctxs[k], VICREG_PARAM_GLOBAL_VIEWS, call->global_views),
                VICREG_OK);
        }
        vsnap_take(ctxs[k], &before);
        const int got = vcall_run(call, ctxs[k]);
        ck_assert_msg(got == want, "%s (%s context): got %s, want %s", label,
                      k ? "used" : "fresh", vicreg_status_name(got), vicreg_status_name(want));
        ck_assert_msg(memcmp(keep, w->block, w->bytes) == 0, "%s (%s context): the call wrote",
                      label, k ? "used" : "fresh");
        vsnap_take(ctxs[k], &after);
        ck_assert_msg(memcmp(&before, &after, sizeof before) == 0,
                      "%s (%s context): the context's terms or parameters changed", label,
                      k ? "used" : "fresh");
        if (call->global_views >= 0)
            ck_assert_int_eq(vicreg_ctx_set_param(ctxs[k], VICREG_PARAM_GLOBAL_VIEWS, g_old),
                             VICREG_OK);
    }
    free(keep);
    vworld_like_fresh(w, ctxs[1], call->kind, label);
    vicreg_ctx_destroy(ctxs[0]);
    vicreg_ctx_destroy(ctxs[1]);
}

void vexpect_with_entry(const struct vworld *w, void *arr, size_t idx, double value,
                        const struct vcall *call, int want, const char *what)
{
    unsigned char keep[sizeof(double)];
    const size_t elem = elem_of(w->prec);
    memcpy(keep, (unsigned char *)arr + idx * elem, elem);
    elem_put(w->prec, arr, idx, value);
    vexpect(w, call, want, what);
    memcpy((unsigned char *)arr + idx * elem, keep, elem);
}

void vexpect_with_double(const struct vworld *w, double *where, double value,
                         const struct vcall *call, int want, const char *what)
{
    const double keep = *where;
    *where = value;
    vexpect(w, call, want, what);
    *where = keep;
}

void vexpect_bad_rows(const struct vworld *w, const struct vcall *base)
{
    struct vcall c;
    c = *base, c.row0 = 6, c.rows = 5;
    vexpect(w, &c, VICREG_ERR_BAD_SHAPE, "row0 + rows > n");
    c = *base, c.row0 = VW_N + 1, c.rows = 0;
    vexpect(w, &c, VICREG_ERR_BAD_SHAPE, "row0 > n, no rows");
    c = *base, c.row0 = SIZE_MAX, c.rows = 2;
    vexpect(w, &c, VICREG_ERR_BAD_SHAPE, "row0 + rows wraps");
    c = *base, c.row0 = 1, c.rows = SIZE_MAX;
    vexpect(w, &c, VICREG_ERR_BAD_SHAPE, "rows = SIZE_MAX");
    c.grad_null = 1;
    vexpect(w, &c, VICREG_ERR_BAD_SHAPE, "rows = SIZE_MAX, no gradient");
}

/* ---------------------------------------------------------------------
 * Shards
 * --------------------------------------------------------------------- */
size_t vu_shard_sizes(size_t views, size_t d, size_t *scatter_len)
{
    size_t sums_len = 0;
    ck_assert_int_eq(vicreg_shard_views_sizes(views, d, &sums_len, scatter_len), VICREG_OK);
    return sums_len;
}

const void *const *view_shard(const struct views *w, size_t row0, size_t nk, int k,
                              const void **z)
{
    for (size_t v = 0; v < w->count; v++)
        z[v] = nk ? view_row(w, v, row0) : NULL;
    return nk || k % 2 ? z : NULL;
}

/* The gradients of a run: count buffers of n x d in prec, sentinel-filled. */
static void shard_grads_make(const struct views *w, void **gbuf)
{
    for (size_t v = 0; v < w->count; v++)
        gbuf[v] = sentinel_buffer(w->prec, w->n * w->d);
}

/* o's gradients from gbuf (widened), which are freed. */
static void shard_grads_take(const struct views *w, void **gbuf, struct vout *o)
{
    for (size_t v = 0; v < w->count; v++) {
        for (size_t e = 0; e < w->n * w->d; e++)
            o->g[v][e] = elem_get(w->prec, gbuf[v], e);
        free(gbuf[v]);
    }
}

void vu_sharded(const struct views *w, const struct ref_params *p, int g, double scale,
                const size_t *sizes, int shards, struct vout *o)
{
    const int prec = w->prec, pair = w->pair;
    const size_t count = w->count, d = w->d, elem = elem_of(prec);
    size_t scatter_len, sums_len = vu_shard_sizes(count, d, &scatter_len);
    double *local = malloc((sums_len > scatter_len ? sums_len : scatter_len) * sizeof(double));
    double *sums = calloc(sums_len, sizeof(double)), *scatter = calloc(scatter_len, sizeof(double));
    ck_assert(local && sums && scatter);
    vicreg_ctx *c[VU_MAX_SHARDS];
    size_t row0[VU_MAX_SHARDS + 1] = { 0 };
    const void *z[VU_CAP];
    ck_assert_int_le(shards, VU_MAX_SHARDS);
    for (int k = 0; k < shards; k++) {
        c[k] = vu_ctx(p, VICREG_PATH_AUTO, g, scale);
        row0[k + 1] = row0[k] + sizes[k];
    }
    ck_assert_uint_eq(row0[shards], w->n);
    /* Phase 1 and its reduction. */
    for (int k = 0; k < shards; k++) {
        memset(local, 0, sums_len * sizeof(double));
        const void *const *zk = view_shard(w, row0[k], sizes[k], k, z);
        ck_assert_int_eq(vu_sums(pair, prec, c[k], count, sizes[k], d, zk, w->ld, local),
                         VICREG_OK);
        ck_assert(local[0] == (double)sizes[k]);
        for (size_t i = 0; i < sums_len; i++)
            sums[i] += local[i];
    }
    /* Phase 2 and its reduction. */
    for (int k = 0; k < shards; k++) {
        memset(local, 0, scatter_len * sizeof(double));
        const void *const *zk = view_shard(w, row0[k], sizes[k], k, z);
        ck_assert_int_eq(vu_scatter(pair, prec, c[k], count, sizes[k], d, zk, w->ld, sums, local),
                         VICREG_OK);
        for (size_t i = 0; i < scatter_len; i++)
            scatter[i] += local[i];
    }
    /* Phase 3: each shard its rows. */
    void *gbuf[VU_CAP], *gk[VU_CAP];
    shard_grads_make(w, gbuf);
    for (int k = 0; k < shards; k++) {
        const size_t nk = sizes[k];
        double loss = NAN, terms[TU_N_TERMS], vterms[VU_CAP][VU_N_VTERMS];
        for (size_t v = 0; v < count; v++)
            gk[v] = (char *)gbuf[v] + row0[k] * d * elem;
        const void *const *zk = view_shard(w, row0[k], nk, k, z);
        ck_assert_int_eq(vu_finish(pair, prec, c[k], count, nk, d, zk, w->ld, sums, scatter, &loss,
                                   nk ? gk : NULL, NULL),
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
    shard_grads_take(w, gbuf, o);
    free(local);
    free(sums);
    free(scatter);
}

void vu_micro_batches_in(vicreg_ctx *c, const struct views *w, const size_t *sizes, int parts,
                         struct vout *o)
{
    const int prec = w->prec, pair = w->pair;
    const size_t count = w->count, d = w->d, elem = elem_of(prec);
    size_t scatter_len, sums_len = vu_shard_sizes(count, d, &scatter_len);
    double *sums = calloc(sums_len, sizeof(double)), *scatter = calloc(scatter_len, sizeof(double));
    ck_assert(sums && scatter);
    const void *z[VU_CAP];
    void *gbuf[VU_CAP], *gk[VU_CAP];
    shard_grads_make(w, gbuf);
    size_t r;
    int k;
    for (k = 0, r = 0; k < parts; r += sizes[k++])
        ck_assert_int_eq(vu_sums(pair, prec, c, count, sizes[k], d,
                                 view_shard(w, r, sizes[k], k, z), w->ld, sums),
                         VICREG_OK);
    for (k = 0, r = 0; k < parts; r += sizes[k++])
        ck_assert_int_eq(vu_scatter(pair, prec, c, count, sizes[k], d,
                                    view_shard(w, r, sizes[k], k, z), w->ld, sums, scatter),
                         VICREG_OK);
    for (k = 0, r = 0; k < parts; r += sizes[k++]) {
        for (size_t v = 0; v < count; v++)
            gk[v] = (char *)gbuf[v] + r * d * elem;
        ck_assert_int_eq(vu_finish(pair, prec, c, count, sizes[k], d,
                                   view_shard(w, r, sizes[k], k, z), w->ld, sums, scatter,
                                   &o->loss, gk, NULL),
                         VICREG_OK);
    }
    ck_assert_uint_eq(r, w->n);
    vu_read_terms(c, count, o->terms, o->vterms);
    shard_grads_take(w, gbuf, o);
    free(sums);
    free(scatter);
}

void vu_reference(const struct views *w, const struct ref_params *p, int g, struct vout *o)
{
    struct ref_views_result r;
    if (w->pair) {
        /* The two-batch reference, as the views result it is. */
        struct ref_result r2;
        ref_vicreg(p, w->n, w->d, w->z64[0], w->z64[1], &r2, o->g[0], o->g[1]);
        r.loss = r2.loss;
        r.invariance = r2.invariance;
        for (int b = 0; b < 2; b++) {
            r.variance[b] = r2.variance[b];
            r.covariance[b] = r2.covariance[b];
            r.mean_std[b] = r2.mean_std[b];
            r.min_std[b] = r2.min_std[b];
            r.collapsed_fraction[b] = r2.collapsed_fraction[b];
            r.effective_rank[b] = r2.effective_rank[b];
        }
    } else {
        ref_views(p, g, w->count, w->n, w->d, (const double *const *)w->z64, &r, o->g);
    }
    o->loss = r.loss;
    o->terms[0] = r.loss;
    o->terms[1] = r.invariance;
    for (size_t v = 0; v < w->count; v++) {
        const double t[VU_N_VTERMS] = { r.variance[v],           r.covariance[v],
                                        r.mean_std[v],           r.min_std[v],
                                        r.collapsed_fraction[v], r.effective_rank[v] };
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

double vout_compare(const struct vout *got, const struct vout *want, double tol,
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
 * Split cases
 * --------------------------------------------------------------------- */

/* Splits of n = 13 rows: 1 to 4 shards, equal and unequal, a 1-row shard
 * and an empty shard first, middle and last. */
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

/* n > d (a single call takes the covariance path) and n < d (the Gram
 * path); both compared, and both paths forced. */
static const size_t split_d[2] = { 5, 21 };

const struct vu_view_set vu_view_sets[VU_N_VIEW_SETS] = {
    { 1, 0 }, { 2, 1 }, { 3, 0 }, { 3, 1 }, { 4, 2 }, { 6, 2 },
};

/* The largest disagreements seen, [pair][precision]. */
static double worst_same[2][2], worst_ref[2][2];

struct split_case {
    const struct split *sp;
    struct ref_params p;
    int g;
    struct views w;
};

/* Loop index i: split, convention, precision, width; for views the view
 * set rotates with it; the padding too. A pair: two views, G = 0. */
static void split_case_make(struct split_case *c, int i, uint64_t seed0, int pair)
{
    c->sp = &splits[i % N_SPLITS];
    c->p = ref_default_params();
    c->p.paper = (i / N_SPLITS) % 2;
    const int prec = (i / N_SPLITS / 2) % 2;
    const size_t d = split_d[i / N_SPLITS / 4];
    const int set = (i + i / N_SPLITS) % VU_N_VIEW_SETS;
    c->g = pair ? 0 : vu_view_sets[set].global_views;
    views_make(&c->w, prec, seed0 + (uint64_t)i, pair ? 2 : vu_view_sets[set].views, SPLIT_N, d,
               i % 3 == 0);
    c->w.pair = pair;
}

static void case_name(char *buf, size_t len, const struct split_case *c, int i, const char *how)
{
    snprintf(buf, len, "%s %s %s %s V=%zu G=%d d=%zu split %d", how,
             c->w.pair ? "two-batch" : "views", prec_name(c->w.prec),
             c->p.paper ? "paper" : "reference", c->w.count, c->g, c->w.d, i % N_SPLITS);
}

/* got against one call on the whole batch on every path, to the
 * single-process tolerance. */
static void compare_single(const struct split_case *c, const struct vout *got, const char *what)
{
    static const int paths[3] = { VICREG_PATH_AUTO, VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };
    const int prec = c->w.prec;
    for (int k = 0; k < 3; k++) {
        struct vout one;
        struct vgrads all;
        char label[200];
        vout_init(&one, c->w.count, c->w.n, c->w.d);
        vgrads_all(&all, c->w.count);
        vicreg_ctx *ctx = vu_ctx(&c->p, paths[k], c->g, 1.0);
        ck_assert_int_eq(vu_run(ctx, &c->w, 0, &all, 0, SIZE_MAX, &one), VICREG_OK);
        vicreg_ctx_destroy(ctx);
        snprintf(label, sizeof label, "%s, single call on path %d", what, paths[k]);
        worst_same[c->w.pair][prec] =
            fmax(worst_same[c->w.pair][prec],
                 vout_compare(got, &one, prec == F64 ? VU_TOL_SAME_F64 : VU_TOL_SAME_F32, label));
        vout_free(&one);
    }
}

void vu_split_sharded(int i, int pair)
{
    struct split_case sc;
    char what[160];
    struct vout sh, ref;
    split_case_make(&sc, i, 100, pair);
    const int prec = sc.w.prec;
    vout_init(&sh, sc.w.count, sc.w.n, sc.w.d);
    vout_init(&ref, sc.w.count, sc.w.n, sc.w.d);
    vu_sharded(&sc.w, &sc.p, sc.g, 1.0, sc.sp->sizes, sc.sp->shards, &sh);
    ck_assert(sh.terms[TU_N_TERMS - 1] == VICREG_PATH_COVARIANCE);
    case_name(what, sizeof what, &sc, i, "sharded");
    compare_single(&sc, &sh, what);
    vu_reference(&sc.w, &sc.p, sc.g, &ref);
    worst_ref[pair][prec] =
        fmax(worst_ref[pair][prec],
             vout_compare(&sh, &ref, prec == F64 ? VU_TOL_REF_F64 : VU_TOL_REF_F32, what));
    vout_free(&sh);
    vout_free(&ref);
    views_free(&sc.w);
}

void vu_split_micro_batches(int i, int pair)
{
    struct split_case sc;
    char what[160];
    struct vout mb;
    split_case_make(&sc, i, 300, pair);
    vout_init(&mb, sc.w.count, sc.w.n, sc.w.d);
    vicreg_ctx *c = vu_ctx(&sc.p, VICREG_PATH_AUTO, sc.g, 1.0);
    vu_micro_batches_in(c, &sc.w, sc.sp->sizes, sc.sp->shards, &mb);
    vicreg_ctx_destroy(c);
    case_name(what, sizeof what, &sc, i, "micro-batches");
    compare_single(&sc, &mb, what);
    vout_free(&mb);
    views_free(&sc.w);
}

void vu_split_larger(int i, int pair)
{
    const int prec = i % 2;
    const size_t n = 97, d = 40, count = pair ? 2 : 4;
    const size_t sizes[VU_MAX_SHARDS] = { 31, 1, 0, 40, 17, 8 };
    struct split_case sc;
    struct vout sh;
    sc.p = ref_default_params();
    sc.p.paper = i / 2;
    sc.g = pair ? 0 : 2;
    views_make(&sc.w, prec, 500 + (uint64_t)i, count, n, d, i % 2);
    sc.w.pair = pair;
    vout_init(&sh, count, n, d);
    vu_sharded(&sc.w, &sc.p, sc.g, 1.0, sizes, VU_MAX_SHARDS, &sh);
    compare_single(&sc, &sh, prec_name(prec));
    vout_free(&sh);
    views_free(&sc.w);
}

void vu_split_report(int pair)
{
    if (getenv("VICREG_SHARD_REPORT"))
        fprintf(stderr,
                "%s: largest disagreement with single-process f64 %.3g f32 %.3g; "
                "with the reference f64 %.3g f32 %.3g\n",
                pair ? "shard" : "shard-views", worst_same[pair][F64], worst_same[pair][F32],
                worst_ref[pair][F64], worst_ref[pair][F32]);
}
