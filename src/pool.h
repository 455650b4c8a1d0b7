/*
 * pool.h - the context's own threads, started only when the caller asks
 * for them (VICREG_PARAM_THREADS > 1): a fork-join team that runs one
 * function over the parts of a range, part 0 on the caller's thread and
 * part k on worker k. Between jobs the workers sleep (after a short spin),
 * so they take no processor time from the BLAS's threads during the
 * products. The passes split their work by columns or by rows, never
 * inside a sum, so the results do not depend on the number of parts.
 * Never installed.
 */
#ifndef VICREG_POOL_H
#define VICREG_POOL_H

#include <stddef.h>

#include "layout.h"

/* The most threads a context may run its passes on (the caller's
 * included): VICREG_PARAM_THREADS's upper bound. */
#define VICREG_MAX_THREADS 64

/* Per-part temporaries a pass may use (4 rows of VICREG_COLUMN_BLOCK
 * doubles, as the layout's row[4]). */
#define VICREG_POOL_TEMP_DOUBLES (4 * VICREG_COLUMN_BLOCK)

struct vicreg_pool;

/* One part of a job: the half-open range [begin, end) of its count. */
typedef void vicreg_part_fn(void *arg, size_t begin, size_t end, int part);

/* Starts threads - 1 workers (2 <= threads <= VICREG_MAX_THREADS).
 * Returns VICREG_OK or VICREG_ERR_NO_MEMORY (nothing is left running). */
int vicreg_pool_create(struct vicreg_pool **out, int threads);

/* Stops and joins the workers and frees the pool; NULL is a no-op. */
void vicreg_pool_destroy(struct vicreg_pool *pool);

/* How many parts a job of `count` items, each costing about `item_work`
 * element operations, is split into: 1 without a pool or when the job is
 * too small for a worker's wake-up to pay, at most one per thread. */
int vicreg_pool_parts(const struct vicreg_pool *pool, size_t count, size_t item_work);

/* Runs fn over [0, count) in `parts` contiguous parts (part k: [count k /
 * parts, count (k + 1) / parts)) and returns when all have finished. With
 * parts == 1 (or no pool) it is one call fn(arg, 0, count, 0) here. */
void vicreg_pool_run(struct vicreg_pool *pool, int parts, size_t count, vicreg_part_fn *fn,
                     void *arg);

/* Part k's temporaries, VICREG_POOL_TEMP_DOUBLES doubles (k >= 1; part 0
 * uses the call's scratch). */
double *vicreg_pool_temp(struct vicreg_pool *pool, int part);

#endif
