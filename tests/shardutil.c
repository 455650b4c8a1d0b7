/*
 * shardutil.c - see shardutil.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shardutil.h"

void batch_make(struct batch *b, int prec, uint64_t seed, size_t n, size_t d)
{
    b->prec = prec;
    b->n = n;
    b->d = d;
    b->a64 = malloc(n * d * sizeof(double));
    b->b64 = malloc(n * d * sizeof(double));
    ck_assert(b->a64 && b->b64);
    tu_make_batches(seed, n, d, d, b->a64, b->b64);
    b->za = prec_copy_of(prec, b->a64, n * d);
    b->zb = prec_copy_of(prec, b->b64, n * d);
}

void batch_free(struct batch *b)
{
    free(b->a64);
    free(b->b64);
    free(b->za);
    free(b->zb);
}

void outcome_init(struct outcome *o, size_t n, size_t d)
{
    o->loss = NAN;
    o->ga = calloc(n * d, sizeof(double));
    o->gb = calloc(n * d, sizeof(double));
    ck_assert(o->ga && o->gb);
}

void outcome_free(struct outcome *o)
{
    free(o->ga);
    free(o->gb);
}

void read_terms(const vicreg_ctx *c, double *terms)
{
    for (size_t k = 0; k < TU_N_TERMS; k++)
        ck_assert_int_eq(vicreg_ctx_get_term(c, tu_all_terms[k], &terms[k]), VICREG_OK);
}

/* The context for a case: the reference parameters, a path, a scale. */
vicreg_ctx *make_ctx(const struct ref_params *p, int path, double scale)
{
    vicreg_ctx *c = tu_ctx_new();
    tu_set_params(c, p);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_PATH, path), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, scale), VICREG_OK);
    return c;
}

/* The batch as the views helpers' pair: two views, za and zb, that they
 * run through the two-batch calls; so the 1.1 tests and the views tests
 * compute their outcomes with one set of helpers. */
static void as_pair(const struct batch *b, struct views *w, struct vout *vo)
{
    const double *const src[2] = { b->a64, b->b64 };
    views_from(w, b->prec, 2, b->n, b->d, src, 0);
    w->pair = 1;
    vout_init(vo, 2, b->n, b->d);
}

/* o from the pair's outcome vo; frees w and vo. */
static void take_pair(struct outcome *o, struct views *w, struct vout *vo)
{
    o->loss = vo->loss;
    memcpy(o->terms, vo->terms, sizeof o->terms);
    memcpy(o->ga, vo->g[0], w->n * w->d * sizeof(double));
    memcpy(o->gb, vo->g[1], w->n * w->d * sizeof(double));
    vout_free(vo);
    views_free(w);
}

void single(const struct batch *b, vicreg_ctx *c, struct outcome *o)
{
    struct views w;
    struct vout vo;
    struct vgrads all;
    as_pair(b, &w, &vo);
    vgrads_all(&all, 2);
    ck_assert_int_eq(vu_run(c, &w, 0, &all, 0, SIZE_MAX, &vo), VICREG_OK);
    take_pair(o, &w, &vo);
}

void sharded(const struct batch *b, const struct ref_params *p, double scale,
             const size_t *sizes, int shards, struct outcome *o)
{
    struct views w;
    struct vout vo;
    as_pair(b, &w, &vo);
    vu_sharded(&w, p, 0, scale, sizes, shards, &vo);
    take_pair(o, &w, &vo);
}

void micro_batches_in(vicreg_ctx *c, const struct batch *b, const size_t *sizes, int parts,
                      struct outcome *o)
{
    struct views w;
    struct vout vo;
    as_pair(b, &w, &vo);
    vu_micro_batches_in(c, &w, sizes, parts, &vo);
    take_pair(o, &w, &vo);
}
