/*
 * mpitest.h - what the MPI test files share: the process's place in
 * MPI_COMM_WORLD, the failure count, batches, shards and error measures.
 *
 * The tests run as one program under mpirun with 1 to 4 processes. Every
 * process runs every check; a failed check prints its rank and line and
 * counts; main() sums the counts over the processes and exits non-zero if
 * any process failed anywhere. Check's forking runner is not used: a
 * forked child of an MPI process cannot take part in collectives.
 */
#ifndef VICREG_MPITEST_H
#define VICREG_MPITEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vicreg_mpi.h"

extern int mt_rank, mt_nprocs;
extern long mt_failures;

#define MT_EXPECT(cond, ...)                                                   \
    do {                                                                       \
        if (!(cond)) {                                                         \
            mt_failures++;                                                     \
            fprintf(stderr, "rank %d, %s:%d: ", mt_rank, __FILE__, __LINE__);  \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* A status check that names both statuses. */
#define MT_EXPECT_STATUS(got, want, what)                                      \
    MT_EXPECT((got) == (want), "%s: got %s (%d), expected %s (%d)", (what),    \
              vicreg_mpi_strerror(got), (got), vicreg_mpi_strerror(want), (want))

/* The global batch, the same on every process: n x d, packed, values
 * exactly representable in float so that both precisions see the same
 * numbers. Columns have scales in [0.2, 2] (some below gamma = 1, some
 * above), neighbours are correlated, zb = za + noise. */
void mt_make_batch(uint64_t seed, size_t n, size_t d, double *za, double *zb);

/* Uniform in [-1, 1) from a splitmix64 state. */
double mt_uniform(uint64_t *state);

/* A shard layout: counts[p] rows on process p of a communicator of
 * nprocs processes. */
#define MT_MAX_PROCS 8
struct mt_layout {
    const char *name;
    int nprocs;
    size_t counts[MT_MAX_PROCS];
};
/* Where the rows of process `rank` start in the global batch. */
size_t mt_row0(const struct mt_layout *l, int rank);

/* The shard layouts for n rows over nprocs processes (equal, unequal,
 * with a 1-row shard, with an empty shard, ...), at most max; returns
 * how many. Every layout sums to n. */
int mt_layouts(size_t n, int nprocs, struct mt_layout *out, int max);

/* This process's shard of a packed n x d double batch, copied into a
 * buffer with leading dimension ld in the given precision (float or
 * double), the padding filled with a sentinel. Returns malloc'd memory
 * (never NULL; at least one element). */
void *mt_shard(const double *z, size_t d, size_t row0, size_t rows, size_t ld, int precision);

/* A buffer of rows x ld elements of the precision filled with the
 * sentinel, for gradients; and a check that the padding columns d..ld of
 * each row still hold it. */
void *mt_sentinel_buffer(size_t rows, size_t ld, int precision);
int mt_padding_intact(const void *buf, size_t rows, size_t d, size_t ld, int precision);
/* Every element still the sentinel. */
int mt_all_sentinel(const void *buf, size_t count, int precision);
#define MT_SENTINEL (-7.25)

/* Element (i, j) of an array of the precision as a double. */
double mt_at(const void *buf, size_t i, size_t j, size_t ld, int precision);

/* |x - y| / max(|y|, DBL_MIN). */
double mt_rel(double x, double y);

/* Calls the _f32 or _f64 MPI loss on arrays of that precision. */
int mt_mpi_loss(int precision, vicreg_ctx *ctx, MPI_Comm comm, size_t n, size_t d,
                const void *za, size_t lda, const void *zb, size_t ldb, double *loss,
                void *grad_a, size_t ldga, void *grad_b, size_t ldgb);

/* The same through a handle (vicreg_mpi_ctx_loss_*). */
int mt_mpi_ctx_loss(int precision, vicreg_mpi_ctx *h, size_t n, size_t d,
                    const void *za, size_t lda, const void *zb, size_t ldb, double *loss,
                    void *grad_a, size_t ldga, void *grad_b, size_t ldgb);

/* The same for the single-process vicreg_loss_*. */
int mt_loss(int precision, vicreg_ctx *ctx, size_t n, size_t d,
            const void *za, size_t lda, const void *zb, size_t ldb, double *loss,
            void *grad_a, size_t ldga, void *grad_b, size_t ldgb);

/* The views calls (since 1.2) on arrays of the precision: z and grad
 * hold `views` untyped pointers to arrays of that precision (or are
 * NULL; so may each grad[v] be). On a context and a communicator, through
 * a handle, and libvicreg's single-process vicreg_views_loss_*. */
int mt_mpi_views_loss(int precision, vicreg_ctx *ctx, MPI_Comm comm, size_t views, size_t n,
                      size_t d, const void *const *z, const size_t *ldz, double *loss,
                      void *const *grad, const size_t *ldgrad);
int mt_mpi_ctx_views_loss(int precision, vicreg_mpi_ctx *h, size_t views, size_t n, size_t d,
                          const void *const *z, const size_t *ldz, double *loss,
                          void *const *grad, const size_t *ldgrad);
int mt_views_loss(int precision, vicreg_ctx *ctx, size_t views, size_t n, size_t d,
                  const void *const *z, const size_t *ldz, double *loss, void *const *grad,
                  const size_t *ldgrad);

/* The error tests (test-mpi-errors.c): the 1.0 calls', and the handle's. */
void mt_error_tests(void);
void mt_handle_error_tests(void);

/* The views calls (test-mpi-views.c): against one process, bit for bit
 * against the two-batch calls, and their errors. */
void mt_views_tests(void);
void mt_views_error_tests(void);

#endif
