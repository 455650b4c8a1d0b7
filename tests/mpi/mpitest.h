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

/* The element size of a precision; element k of a buffer of it set to v
 * (rounded to float for float32); the other precision. */
size_t mt_elem_size(int precision);
void mt_put(void *buf, size_t k, double v, int precision);
int mt_other_precision(int precision);

/* "reduce", "gather" or "auto"; "f32" or "f64". */
const char *mt_strategy_name(int strategy);
const char *mt_precision_name(int precision);

/* free() of each of the count pointers. */
void mt_free_all(void *const *p, size_t count);

/* The parameters of the agreement tests, not the defaults everywhere so
 * that the agreement compares real values: the convention, mu = 20,
 * eps = 1e-3, and the parameter key set to value. */
void mt_set_params(vicreg_ctx *ctx, int convention, int key, double value);

/* This process's gradient rows (rows x d of a buffer with leading
 * dimension ld) gathered, in rank order of comm as the layout l places
 * them, into a new packed n x d array on rank 0 of comm (NULL elsewhere). */
double *mt_gather_rows(const void *g, size_t rows, size_t d, size_t ld, int precision,
                       const struct mt_layout *l, MPI_Comm comm);

/* max |rows - scale want| / max |scale want| over n x d (want packed in
 * the precision): gathered gradient rows against one process's. */
double mt_rows_error(const double *rows, const void *want, size_t n, size_t d, int precision,
                     double scale);

/* The agreement with one process that vicreg_mpi.h claims, and the
 * largest errors seen, worst[precision is float64][values, gradients]:
 * noted, and printed by rank 0 (reduced over the processes; every process
 * calls it). */
#define MT_TOL_F64 1e-12
#define MT_TOL_F32 1e-5
void mt_note_worst(double worst[2][2], int precision, int which, double err);
void mt_print_worst(const char *what, double worst[2][2]);

/* The header's byte model for a step of `views` views (two for the
 * two-batch calls) written out independently, without the (P - 1) / P
 * factor, and the strategy its automatic rule picks. */
double mt_reduce_volume(size_t views, size_t d);
double mt_gather_volume(size_t views, size_t n, size_t d, int precision);
int mt_expected_strategy(int setting, size_t views, size_t n, size_t d, int precision);

/* The strategy set, and a report key read, through the handle h when it
 * is not NULL, else on ctx (the 1.0 calls' state). */
int mt_set_strategy(vicreg_ctx *ctx, vicreg_mpi_ctx *h, int strategy);
int mt_get_info(vicreg_ctx *ctx, const vicreg_mpi_ctx *h, int key, double *value);

/* The strategy of a case's steps: through a new handle on ctx over
 * MPI_COMM_WORLD (returned) when via_handle, else on ctx (NULL returned);
 * both expected to succeed. */
vicreg_mpi_ctx *mt_strategy_on(vicreg_ctx *ctx, int via_handle, int strategy, const char *what);

/* The report of the last step, through the handle h or else ctx's, on a
 * communicator of nprocs processes: every key there, the strategy the
 * setting picks, V, N and P, the bytes of both strategies by the model and
 * the bytes of the one used. */
void mt_expect_report(vicreg_ctx *ctx, vicreg_mpi_ctx *h, int nprocs, size_t views, size_t n,
                      size_t d, int precision, int setting, const char *what);

/* The layout of the error tests: equal shards of n rows; with one_row,
 * one row on process 0 and none elsewhere (N < 2); with empty_last, the
 * last process's rows on process 0 (an empty shard). */
struct mt_layout mt_fault_layout(size_t n, int one_row, int empty_last);

/* The next, correct step after an error gives the loss of the whole
 * batch: finite, and the same on every process (every process calls it). */
void mt_expect_same_loss(double loss, const char *what);

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
 * NULL; so may each grad[v] be). Through the handle h when it is not NULL
 * (vicreg_mpi_ctx_views_loss_*), else on ctx over MPI_COMM_WORLD
 * (vicreg_mpi_views_loss_*); and libvicreg's single-process
 * vicreg_views_loss_*. */
int mt_mpi_views_loss(int precision, vicreg_ctx *ctx, vicreg_mpi_ctx *h, size_t views, size_t n,
                      size_t d, const void *const *z, const size_t *ldz, double *loss,
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
