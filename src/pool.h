/*
 * pool.h - the context's own threads, started only when the caller asks
 * for them (VICREG_PARAM_THREADS > 1): a fork-join team that runs one
 * function over the chunks of a range on the caller's thread and its
 * workers. Between jobs the workers sleep (after a short spin),
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

/* One chunk of a job: the half-open range [begin, end) of its count;
 * part says whose temporaries to use (0: the caller's thread). */
typedef void vicreg_part_fn(void *arg, size_t begin, size_t end, int part);

/* Starts threads - 1 workers (2 <= threads <= VICREG_MAX_THREADS).
 * Returns VICREG_OK or VICREG_ERR_NO_MEMORY (nothing is left running). */
int vicreg_pool_create(struct vicreg_pool **out, int threads);

/* Stops and joins the workers and frees the pool; NULL is a no-op. */
void vicreg_pool_destroy(struct vicreg_pool *pool);

/* The chunks per thread of most jobs: enough that a thread sharing its
 * core with another program takes fewer of them instead of holding the
 * others up. */
#define VICREG_POOL_CHUNKS_PER_THREAD 8

/* Runs fn over [0, count), a job of `count` items each costing about
 * `item_work` element operations, and returns when it is done. Without a
 * pool, or when the job is too small for a worker's wake-up to pay, that
 * is one call fn(arg, 0, count, 0) here. Otherwise [0, count) is cut into
 * up to chunks_per_thread contiguous chunks per taking thread, which the
 * caller's thread (part 0) and the workers (part k) take in turn, each
 * calling fn(arg, begin, end, part) on its chunks: fn must give the same
 * result whoever computes a chunk. */
void vicreg_pool_run(struct vicreg_pool *pool, size_t count, size_t item_work,
                     size_t chunks_per_thread, vicreg_part_fn *fn, void *arg);

/* Part k's temporaries, VICREG_POOL_TEMP_DOUBLES doubles (k >= 1; part 0
 * uses the call's scratch). */
double *vicreg_pool_temp(struct vicreg_pool *pool, int part);

#endif
