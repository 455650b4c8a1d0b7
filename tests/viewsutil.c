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
struct typed {
    const float *zf[VU_CAP];
    const double *zd[VU_CAP];
    float *gf[VU_CAP];
    double *gd[VU_CAP];
};

static void typed_fill(struct typed *t, size_t views, const void *const *z, void *const *grad)
{
    memset(t, 0, sizeof *t);
    for (size_t k = 0; k < views && k < VU_CAP; k++) {
        if (z) {
            t->zf[k] = z[k];
            t->zd[k] = z[k];
        }
        if (grad) {
            t->gf[k] = grad[k];
            t->gd[k] = grad[k];
        }
    }
}

int prec_views_loss(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                    const void *const *z, const size_t *ldz, double *loss, void *const *grad,
                    const size_t *ldgrad)
{
    struct typed t;
    typed_fill(&t, views, z, grad);
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
    struct typed t;
    typed_fill(&t, views, z, grad);
    if (prec == F64)
        return vicreg_views_loss_rows_f64(c, views, n, d, z ? t.zd : NULL, ldz, row0, rows, loss,
                                          grad ? t.gd : NULL, ldgrad);
    return vicreg_views_loss_rows_f32(c, views, n, d, z ? t.zf : NULL, ldz, row0, rows, loss,
                                      grad ? t.gf : NULL, ldgrad);
}

int prec_shard_views_sums(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                          const void *const *z, const size_t *ldz, double *sums)
{
    struct typed t;
    typed_fill(&t, views, z, NULL);
    if (prec == F64)
        return vicreg_shard_views_sums_f64(c, views, n, d, z ? t.zd : NULL, ldz, sums);
    return vicreg_shard_views_sums_f32(c, views, n, d, z ? t.zf : NULL, ldz, sums);
}

int prec_shard_views_scatter(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                             const void *const *z, const size_t *ldz, const double *sums,
                             double *scatter)
{
    struct typed t;
    typed_fill(&t, views, z, NULL);
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
    struct typed t;
    typed_fill(&t, views, z, grad);
    if (prec == F64)
        return vicreg_shard_views_finish_f64(c, views, n, d, z ? t.zd : NULL, ldz, sums, scatter,
                                             loss, grad ? t.gd : NULL, ldgrad);
    return vicreg_shard_views_finish_f32(c, views, n, d, z ? t.zf : NULL, ldz, sums, scatter,
                                         loss, grad ? t.gf : NULL, ldgrad);
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
        is_rows ? prec_views_loss_rows(prec, c, count, n, d, z, ldz, row0, rows, &loss, grad,
                                       ldgrad)
                : prec_views_loss(prec, c, count, n, d, z, ldz, &loss, grad, ldgrad);
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
    static const char *const names[VK_KINDS] = { "views loss", "views rows", "views sums",
                                                 "views scatter", "views finish" };
    return names[kind];
}

static size_t round64(size_t x)
{
    return (x + 63) / 64 * 64;
}

void vworld_make(struct vworld *w, int prec)
{
    memset(w, 0, sizeof *w);
    const size_t arr = round64(VW_N * VW_D * elem_of(prec));
    ck_assert_int_eq(vicreg_shard_views_sizes(VW_V, VW_D, &w->sums_len, &w->scatter_len),
                     VICREG_OK);
    const size_t sb = round64(w->sums_len * sizeof(double));
    const size_t cb = round64(w->scatter_len * sizeof(double));
    w->prec = prec;
    w->arr_bytes = arr;
    w->bytes = 2 * VW_V * arr + sb + cb + 64;
    w->block = aligned_alloc(64, w->bytes);
    w->pristine = malloc(w->bytes);
    ck_assert(w->block && w->pristine);
    memset(w->block, SENTINEL_BYTE, w->bytes);
    struct views src;
    views_make(&src, prec, 1500, VW_V, VW_N, VW_D, 0);
    for (size_t v = 0; v < VW_V; v++) {
        w->z[v] = w->block + v * arr;
        w->g[v] = w->block + (VW_V + v) * arr;
        memcpy(w->z[v], src.z[v], VW_N * VW_D * elem_of(prec));
    }
    views_free(&src);
    w->sums = (double *)(void *)(w->block + 2 * VW_V * arr);
    w->scatter = (double *)(void *)(w->block + 2 * VW_V * arr + sb);
    w->loss = (double *)(void *)(w->block + 2 * VW_V * arr + sb + cb);
    /* The global statistics of the whole batch. */
    vicreg_ctx *c = tu_ctx_new();
    memset(w->sums, 0, w->sums_len * sizeof(double));
    memset(w->scatter, 0, w->scatter_len * sizeof(double));
    ck_assert_int_eq(prec_shard_views_sums(prec, c, VW_V, VW_N, VW_D, VU_CZ(w->z), NULL, w->sums),
                     VICREG_OK);
    ck_assert_int_eq(prec_shard_views_scatter(prec, c, VW_V, VW_N, VW_D, VU_CZ(w->z), NULL,
                                              w->sums, w->scatter),
                     VICREG_OK);
    vicreg_ctx_destroy(c);
    memcpy(w->pristine, w->block, w->bytes);
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
    c.views = VW_V;
    c.d = VW_D;
    c.n = kind == VK_LOSS || kind == VK_ROWS ? VW_N : VW_SHARD;
    for (size_t v = 0; v < VU_CAP; v++) {
        c.z[v] = w->z[v % VW_V];
        c.ldz[v] = VW_D;
        c.grad[v] = v < VW_V ? w->g[v] : NULL;
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
        return prec_views_loss(c->prec, x, c->views, c->n, c->d, z, ldz, c->loss, grad, ldgrad);
    case VK_ROWS:
        return prec_views_loss_rows(c->prec, x, c->views, c->n, c->d, z, ldz, c->row0, c->rows,
                                    c->loss, grad, ldgrad);
    case VK_SUMS:
        return prec_shard_views_sums(c->prec, x, c->views, c->n, c->d, z, ldz, c->sums);
    case VK_SCATTER:
        return prec_shard_views_scatter(c->prec, x, c->views, c->n, c->d, z, ldz, c->sums,
                                        c->scatter);
    default:
        return prec_shard_views_finish(c->prec, x, c->views, c->n, c->d, z, ldz, c->sums,
                                       c->scatter, c->loss, grad, ldgrad);
    }
}

/* The parameters, with the 1.1 and 1.2 ones. */
static const int snap_params[] = {
    VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF, VICREG_PARAM_COVARIANCE_COEFF,
    VICREG_PARAM_STD_TARGET,       VICREG_PARAM_EPSILON,        VICREG_PARAM_CONVENTION,
    VICREG_PARAM_PATH,             VICREG_PARAM_GRAD_SCALE,     VICREG_PARAM_GLOBAL_VIEWS,
};
#define N_SNAP_PARAMS (sizeof snap_params / sizeof snap_params[0])

/* Everything of a context an error must not change: each term's and each
 * view term's status and value, and the parameters. */
struct vsnap {
    int status[TU_N_TERMS];
    double terms[TU_N_TERMS];
    int vstatus[VU_CAP][VU_N_VTERMS];
    double vterms[VU_CAP][VU_N_VTERMS];
    double params[N_SNAP_PARAMS];
};

static void vsnap_take(const vicreg_ctx *c, struct vsnap *s)
{
    memset(s, 0, sizeof *s);
    for (size_t k = 0; k < TU_N_TERMS; k++)
        s->status[k] = vicreg_ctx_get_term(c, tu_all_terms[k], &s->terms[k]);
    for (size_t v = 0; v < VU_CAP; v++)
        for (size_t k = 0; k < VU_N_VTERMS; k++)
            s->vstatus[v][k] = vicreg_ctx_get_view_term(c, vu_view_terms[k], v, &s->vterms[v][k]);
    for (size_t k = 0; k < N_SNAP_PARAMS; k++)
        ck_assert_int_eq(vicreg_ctx_get_param(c, snap_params[k], &s->params[k]), VICREG_OK);
}

/* A context with a three-view result and parameters other than the
 * defaults. */
static vicreg_ctx *used_ctx(const struct vworld *w)
{
    vicreg_ctx *c = tu_ctx_new();
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_CONVENTION, VICREG_CONVENTION_PAPER),
                     VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, 2.0), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GLOBAL_VIEWS, 1.0), VICREG_OK);
    void *z[VW_V];
    for (size_t v = 0; v < VW_V; v++) {
        z[v] = malloc(w->arr_bytes);
        ck_assert_ptr_nonnull(z[v]);
        memcpy(z[v], w->pristine + ((unsigned char *)w->z[v] - w->block), w->arr_bytes);
    }
    ck_assert_int_eq(prec_views_loss(w->prec, c, VW_V, VW_N, VW_D, VU_CZ(z), NULL, NULL, NULL,
                                     NULL),
                     VICREG_OK);
    for (size_t v = 0; v < VW_V; v++)
        free(z[v]);
    return c;
}

/* The valid call of `kind`, on the valid contents of the arrays, on c and
 * on a fresh context with c's parameters writes the same bits and leaves
 * the same terms. The block is put back as it was. */
static void assert_like_fresh(const struct vworld *w, vicreg_ctx *c, int kind, const char *what)
{
    struct vsnap sc, sf;
    vicreg_ctx *fresh = tu_ctx_new();
    vsnap_take(c, &sc);
    for (size_t k = 0; k < N_SNAP_PARAMS; k++)
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
    snprintf(label, sizeof label, "%s %s: %s", prec_name(w->prec), vk_name(call->kind), what);
    unsigned char *keep = malloc(w->bytes);
    ck_assert_ptr_nonnull(keep);
    memcpy(keep, w->block, w->bytes);
    vicreg_ctx *ctxs[2] = { tu_ctx_new(), used_ctx(w) };
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
    assert_like_fresh(w, ctxs[1], call->kind, label);
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
