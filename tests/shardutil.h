/*
 * shardutil.h - what the tests of the 1.1 additions (the sharded calls,
 * vicreg_loss_rows_*, VICREG_PARAM_GRAD_SCALE, vicreg_ctx_buffer) share:
 * a batch in a precision with its double copy, the outcome of one
 * computation widened to double, and the ways to compute it - one
 * vicreg_loss_* call on the whole batch, the batch split into shards as
 * separate processes, and micro-batches accumulated in one context.
 *
 * The test files: test-shard-gradients.c, test-loss-rows.c,
 * test-grad-scale.c and test-ctx-buffer.c; test-shard-values.c and
 * test-shard-errors.c use the views helpers' pairs (viewsutil.h)
 * directly; allocation behaviour is in test-shard-memory.c.
 */
#ifndef VICREG_TEST_SHARDUTIL_H
#define VICREG_TEST_SHARDUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "precision.h"
#include "testutil.h"
#include "viewsutil.h"

/* ---------------------------------------------------------------------
 * A batch: packed doubles for the reference, and the precision's copy.
 * --------------------------------------------------------------------- */
struct batch {
    int prec;
    size_t n, d;
    double *a64, *b64; /* n x d packed; values are float-representable */
    void *za, *zb;     /* n x d packed, in prec */
};

/* A correlated n x d pair (tu_make_batches with seed) in both forms. */
void batch_make(struct batch *b, int prec, uint64_t seed, size_t n, size_t d);
void batch_free(struct batch *b);

/* What one computation gives: the loss, every term, the gradients
 * widened to double (n x d packed). */
struct outcome {
    double loss;
    double terms[TU_N_TERMS];
    double *ga, *gb;
};

/* The loss NaN, the gradients n x d zeros. */
void outcome_init(struct outcome *o, size_t n, size_t d);
void outcome_free(struct outcome *o);

/* Every term of c's last result, in the order of tu_all_terms (asserts
 * that each is there). */
void read_terms(const vicreg_ctx *c, double *terms);

/* The context for a case: the reference parameters, a path, a scale. */
vicreg_ctx *make_ctx(const struct ref_params *p, int path, double scale);

/* The computations below are the views helpers' (viewsutil.h) on the
 * batch as a pair: two views run through the two-batch calls, with their
 * checks (nothing written outside the gradients, the view terms those of
 * the _A and _B terms). */

/* vicreg_loss_* on the whole batch. */
void single(const struct batch *b, vicreg_ctx *c, struct outcome *o);

/* The batch split into shards of sizes[0..shards) (at most VU_MAX_SHARDS),
 * as separate processes: one context per shard, each phase's buffers made
 * per shard and then summed (the all-reduce), every shard's finish writing
 * its own rows. All shards must report the same loss and terms, bit for
 * bit. */
void sharded(const struct batch *b, const struct ref_params *p, double scale,
             const size_t *sizes, int shards, struct outcome *o);

/* The batch as micro-batches of sizes[0..parts) in ONE context c and ONE
 * pair of buffers: sums accumulated over all micro-batches, then the
 * scatter, then each micro-batch's finish, as a single machine does it. */
void micro_batches_in(vicreg_ctx *c, const struct batch *b, const size_t *sizes, int parts,
                      struct outcome *o);

#endif
