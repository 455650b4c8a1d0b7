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

/* Row i of a batch's za or zb in its precision. */
const void *row_a(const struct batch *b, size_t i)
{
    return (const char *)b->za + i * b->d * elem_of(b->prec);
}

const void *row_b(const struct batch *b, size_t i)
{
    return (const char *)b->zb + i * b->d * elem_of(b->prec);
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

/* Two gradient buffers of count elements in prec, for the calls to write. */
static void grads_make(int prec, size_t count, void **ga, void **gb)
{
    *ga = malloc(count * elem_of(prec));
    *gb = malloc(count * elem_of(prec));
    ck_assert(*ga && *gb);
}

/* o's gradients: ga, gb (count elements in prec) widened; frees ga, gb. */
static void grads_take(struct outcome *o, int prec, size_t count, void *ga, void *gb)
{
    for (size_t i = 0; i < count; i++) {
        o->ga[i] = elem_get(prec, ga, i);
        o->gb[i] = elem_get(prec, gb, i);
    }
    free(ga);
    free(gb);
}

/* vicreg_loss_* on the whole batch. */
void single(const struct batch *b, vicreg_ctx *c, struct outcome *o)
{
    const size_t n = b->n, d = b->d;
    void *ga, *gb;
    grads_make(b->prec, n * d, &ga, &gb);
    ck_assert_int_eq(prec_loss(b->prec, c, n, d, b->za, d, b->zb, d, &o->loss, ga, d, gb, d),
                     VICREG_OK);
    read_terms(c, o->terms);
    grads_take(o, b->prec, n * d, ga, gb);
}

/* The batch split into shards, as separate processes (see shardutil.h). */
void sharded(const struct batch *b, const struct ref_params *p, double scale,
             const size_t *sizes, int shards, struct outcome *o)
{
    const int prec = b->prec;
    const size_t d = b->d;
    size_t sums_len, scatter_len;
    ck_assert_int_eq(vicreg_shard_sizes(d, &sums_len, &scatter_len), VICREG_OK);
    double *local = malloc(scatter_len * sizeof(double));
    double *sums = calloc(sums_len, sizeof(double));
    double *scatter = calloc(scatter_len, sizeof(double));
    ck_assert(local && sums && scatter);
    vicreg_ctx *c[MAX_SHARDS];
    size_t row0[MAX_SHARDS + 1] = { 0 };
    ck_assert_int_le(shards, MAX_SHARDS);
    for (int k = 0; k < shards; k++) {
        c[k] = make_ctx(p, VICREG_PATH_AUTO, scale);
        row0[k + 1] = row0[k] + sizes[k];
    }
    ck_assert_uint_eq(row0[shards], b->n);

    /* Phase 1 and its reduction. An empty shard passes NULL arrays. */
    for (int k = 0; k < shards; k++) {
        const size_t nk = sizes[k];
        memset(local, 0, sums_len * sizeof(double));
        ck_assert_int_eq(prec_shard_sums(prec, c[k], nk, d, nk ? row_a(b, row0[k]) : NULL, d,
                                         nk ? row_b(b, row0[k]) : NULL, d, local),
                         VICREG_OK);
        ck_assert(local[0] == (double)nk);
        for (size_t i = 0; i < sums_len; i++)
            sums[i] += local[i];
    }
    /* Phase 2 and its reduction. */
    for (int k = 0; k < shards; k++) {
        const size_t nk = sizes[k];
        memset(local, 0, scatter_len * sizeof(double));
        ck_assert_int_eq(prec_shard_scatter(prec, c[k], nk, d,
                                            nk ? row_a(b, row0[k]) : NULL, d,
                                            nk ? row_b(b, row0[k]) : NULL, d, sums, local),
                         VICREG_OK);
        for (size_t i = 0; i < scatter_len; i++)
            scatter[i] += local[i];
    }
    /* Phase 3: each shard its rows. */
    void *ga, *gb;
    grads_make(prec, b->n * d, &ga, &gb);
    for (int k = 0; k < shards; k++) {
        const size_t nk = sizes[k];
        char *gak = (char *)ga + row0[k] * d * elem_of(prec);
        char *gbk = (char *)gb + row0[k] * d * elem_of(prec);
        double loss = NAN, terms[TU_N_TERMS];
        ck_assert_int_eq(prec_shard_finish(prec, c[k], nk, d, nk ? row_a(b, row0[k]) : NULL,
                                           d, nk ? row_b(b, row0[k]) : NULL, d, sums, scatter,
                                           &loss, nk ? gak : NULL, d, nk ? gbk : NULL, d),
                         VICREG_OK);
        read_terms(c[k], terms);
        ck_assert(terms[0] == loss);
        if (k == 0) {
            o->loss = loss;
            memcpy(o->terms, terms, sizeof terms);
        } else {
            ck_assert_msg(memcmp(o->terms, terms, sizeof terms) == 0,
                          "shard %d reports other terms than shard 0", k);
        }
        vicreg_ctx_destroy(c[k]);
    }
    grads_take(o, prec, b->n * d, ga, gb);
    free(local);
    free(sums);
    free(scatter);
}

/* The batch as micro-batches in one context (see shardutil.h). */
void micro_batches_in(vicreg_ctx *c, const struct batch *b, const size_t *sizes, int parts,
                      struct outcome *o)
{
    const int prec = b->prec;
    const size_t d = b->d;
    size_t sums_len, scatter_len;
    ck_assert_int_eq(vicreg_shard_sizes(d, &sums_len, &scatter_len), VICREG_OK);
    double *sums = calloc(sums_len, sizeof(double));
    double *scatter = calloc(scatter_len, sizeof(double));
    void *ga, *gb;
    ck_assert(sums && scatter);
    grads_make(prec, b->n * d, &ga, &gb);
    size_t r;
    int k;
    for (k = 0, r = 0; k < parts; r += sizes[k++])
        ck_assert_int_eq(prec_shard_sums(prec, c, sizes[k], d, row_a(b, r), d, row_b(b, r), d,
                                         sums),
                         VICREG_OK);
    for (k = 0, r = 0; k < parts; r += sizes[k++])
        ck_assert_int_eq(prec_shard_scatter(prec, c, sizes[k], d, row_a(b, r), d, row_b(b, r),
                                            d, sums, scatter),
                         VICREG_OK);
    for (k = 0, r = 0; k < parts; r += sizes[k++]) {
        char *gak = (char *)ga + r * d * elem_of(prec), *gbk = (char *)gb + r * d * elem_of(prec);
        ck_assert_int_eq(prec_shard_finish(prec, c, sizes[k], d, row_a(b, r), d, row_b(b, r),
                                           d, sums, scatter, &o->loss, gak, d, gbk, d),
                         VICREG_OK);
    }
    ck_assert_uint_eq(r, b->n);
    read_terms(c, o->terms);
    grads_take(o, prec, b->n * d, ga, gb);
    free(sums);
    free(scatter);
}
