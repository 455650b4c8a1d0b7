/*
 * vicreg_mpi.h - the VICReg loss of a batch split over MPI processes.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 *
 * This header is the manual of libvicreg-mpi (libvicreg-mpi.so.1), a small
 * layer over libvicreg (see vicreg.h for the loss itself) that is built
 * when an MPI implementation is found. Link with
 * `pkg-config --cflags --libs vicreg-mpi`.
 *
 * What it computes
 * ----------------
 * P processes of a communicator each hold a shard of the batch: n_p rows of
 * Za and the same n_p rows of Zb (the same samples in both branches). The
 * global batch is the concatenation of the shards in rank order, N = sum
 * n_p rows. One call per step, made by every process of the communicator
 * with its own shard, returns on every process
 *
 *   - the loss of the global batch, the same value on every process, and
 *     every term and collapse diagnostic of the global batch in the context
 *     (vicreg_ctx_get_term() as after vicreg_loss_*);
 *   - the gradient rows of this process's shard: row i of grad_a is
 *     dL/dZa of global row (first row of this shard) + i, exactly what
 *     vicreg_loss_* on the concatenated batch writes for that row, up to
 *     rounding (the tests require 1e-12 relative in float64 and 1e-5 in
 *     float32, against one process).
 *
 * A shard may hold any number of rows, 0 and 1 included; N must be at
 * least 2.
 *
 * Since 1.2 the same holds for V views (vicreg.h, "Any number of views"):
 * each process holds the same n_p rows of every view Z_0 .. Z_{V-1}, and
 * the views calls (vicreg_mpi_ctx_views_loss_f32() and _f64(), and
 * vicreg_mpi_views_loss_f32() and _f64() on a context) return the loss
 * and terms of vicreg_views_loss_*() on the concatenated views
 * (vicreg_ctx_get_view_term() included) and this shard's gradient rows of
 * each view. The two-batch calls are that step with two views: what this
 * header says of the two batches holds for V views, with 2 d replaced by
 * V d (see "Any number of views" below).
 *
 * Two ways to make the call, one step underneath: a handle,
 * vicreg_mpi_ctx (since 1.1), made once from a vicreg_ctx and a
 * communicator, which keeps the layer's state itself
 * (vicreg_mpi_ctx_loss_f32() and _f64()); or the 1.0 calls
 * vicreg_mpi_loss_f32() and _f64(), which take the context and the
 * communicator at each step and keep the layer's state in the context's
 * layer buffer. New code should use the handle. What this header says of
 * "the call" or "a step" holds for both.
 *
 * Gradient scaling for data-parallel training
 * -------------------------------------------
 * The gradient returned is exactly dL/dZ of the global loss for the shard's
 * rows, times the context's VICREG_PARAM_GRAD_SCALE (default 1). The
 * gradient of the global loss with respect to a parameter W shared by every
 * process (the encoder's weights) is the SUM over processes of what each
 * shard's rows contribute through backpropagation. A data-parallel trainer
 * that AVERAGES parameter gradients over its P processes (as PyTorch's
 * DistributedDataParallel and Horovod do) therefore gets 1/P of it; it
 * sets VICREG_PARAM_GRAD_SCALE to P on every process to get the exact
 * gradient back. A trainer that sums parameter gradients keeps the default.
 *
 * Two strategies
 * --------------
 * REDUCE  Each process computes its shard's column sums, reduces them
 *         (MPI_Allreduce of 2 + 2d doubles), then the scatter of its rows
 *         about the global means (the packed upper triangles of both
 *         branches) and reduces that (MPI_Allreduce of d (d + 1) doubles).
 *         Each process then has the global statistics and computes the loss
 *         and its own gradient rows (the d x d covariance path). With V
 *         views: 2 + V d and V d (d + 1) / 2 doubles (libvicreg's sharded
 *         views phases).
 * GATHER  Each process gathers every shard (MPI_Allgatherv of N rows of
 *         both branches, in the input precision; of every view) and
 *         computes the loss of the whole batch and the gradient of its own
 *         rows only. The batch's path rule applies, so when N < d the
 *         n x n Gram path is taken. Every process does the whole batch's
 *         statistics.
 *
 * Bytes per step, per process, by the usual ring algorithms (each process
 * sends and receives this much; e is the element size, 4 or 8; V = 2 for
 * the two-batch calls):
 *
 *   reduce:  2 (P - 1) / P * 8 * (V d (d + 1) / 2 + V d + 2)
 *            (two views: 2 (P - 1) / P * 8 * (d^2 + 3 d + 2))
 *   gather:      (P - 1) / P * N * V d * e        (equal shards)
 *
 * Both grow linearly with V. The automatic choice
 * (VICREG_MPI_STRATEGY_AUTO, the default) takes the strategy that moves
 * fewer bytes: GATHER exactly when
 * N * V d * e < 16 (V d (d + 1) / 2 + V d + 2) (two views:
 * N * 2 d * e < 16 (d^2 + 3 d + 2)), that is, whatever V, about N < d + 3
 * in float64 and N < 2 d + 6 in float32; on a tie, REDUCE. The factor
 * (P - 1) / P is the same on both sides and left out, so the choice does
 * not depend on P (with one process nothing moves, and the rule still lets
 * a short batch take the Gram path). Both sides are computed on every
 * process from N, V, d and the precision, so every process makes the same
 * choice. The rule weighs bytes only. Compute goes the other way: REDUCE
 * splits its d x d products over the processes (3 V (N / P) d^2 flops
 * each; 6 (N / P) d^2 for two views), while GATHER repeats the whole
 * batch's statistics on every process (V N^2 d on the Gram path, plus
 * 2 V (N / P) N d for its own rows). Where communication is cheap and N is
 * near d, forcing REDUCE can be faster.
 * vicreg_mpi_set_strategy() forces one; vicreg_mpi_get_info() reports
 * which one ran and the bytes of both. Besides the strategy's own
 * collectives, each step makes a few small ones (the agreement below, the
 * row counts, status checks): a few hundred bytes plus 8 P.
 *
 * Agreement, errors and collective behaviour
 * ------------------------------------------
 * Every call is collective over the communicator: every process must call
 * the same function (the _f32 or _f64 twin; a process calling the other
 * twin is reported as a mismatch) for the same step. Before anything else,
 * one small MPI_Allreduce compares across processes d, the view count
 * (since 1.2; 2 for the two-batch calls), the precision, every loss
 * parameter of the context (vicreg.h; since 1.2 VICREG_PARAM_GLOBAL_VIEWS
 * too, for every call, though only the views calls read it) and the
 * strategy setting, and collects each process's own argument checks.
 * Then:
 *
 *   - a process whose own arguments are bad (a NULL array, an ld < d, an
 *     overlap, ...) makes EVERY process return that status; if several
 *     processes fail, all return the most negative of their statuses;
 *   - otherwise, any difference in d, the view count, precision, a
 *     parameter or the strategy makes every process return
 *     VICREG_MPI_ERR_MISMATCH;
 *   - a failure later in the step on one process (NaN or Inf in its shard,
 *     memory) is shared the same way before the next collective, so no
 *     process is left waiting in a collective that others skipped.
 *
 * On any error nothing the caller owns is written (loss and gradient
 * buffers keep every byte), as in libvicreg; when the error came from
 * another process in the last phase, this process's context may already
 * hold the terms of the step. Two cases cannot be shared and are reported
 * only where they happen: MPI_COMM_NULL (or an inter-communicator, or MPI
 * not initialised) as VICREG_ERR_INVALID_ARGUMENT, and an MPI call that
 * fails (only possible when the communicator's error handler returns
 * errors; MPI's default aborts) as VICREG_MPI_ERR_MPI.
 *
 * Sizes
 * -----
 * The statistics are reduced in chunks, so no count passed to MPI exceeds
 * INT_MAX. The gather strategy moves whole rows as one MPI datatype, so it
 * needs N <= INT_MAX and 2 d <= INT_MAX (V d <= INT_MAX for V views;
 * VICREG_ERR_SIZE_OVERFLOW when forced otherwise; the automatic choice
 * then takes REDUCE).
 *
 * Memory and the context
 * ----------------------
 * The layer keeps its state (the strategy setting, the report of the last
 * call) and its buffers: the gathered batch (N x 2d elements; N x V d for
 * V views) or the two statistics buffers ((d^2 + 3 d + 2) doubles;
 * V d (d + 1) / 2 + V d + 2 for V views), plus a staging copy of the
 * shard's gradient rows (n_local x d for each view whose gradient is
 * asked for) and the P row counts. They grow to the largest
 * need seen and are reused: after the first call at a shape and strategy,
 * later calls at that shape allocate nothing (neither here nor in
 * libvicreg's scratch, with the path parameter unchanged). Where they live
 * depends on the calls:
 *
 *   - a handle (vicreg_mpi_ctx, since 1.1) keeps them itself, allocated by
 *     this layer and freed by vicreg_mpi_ctx_destroy(); it does not touch
 *     the context's layer buffer (vicreg_ctx_buffer()), which stays free
 *     for another layer such as a binding;
 *   - the 1.0 calls on a vicreg_ctx (vicreg_mpi_loss_*, _set_strategy,
 *     _get_strategy, _get_info; since 1.2 vicreg_mpi_views_loss_*) keep
 *     them in the context's layer buffer.
 *     That buffer belongs to libvicreg-mpi once any of these functions has
 *     used the context; do not use it for anything else (these calls then
 *     return VICREG_ERR_INVALID_ARGUMENT).
 *
 * The two are independent: a handle's strategy and report are not the 1.0
 * calls' on its context, and the other way round. Both run the same step.
 * One context per process and per thread, as for libvicreg. The layer
 * calls only libvicreg's public functions.
 *
 * Threads
 * -------
 * The layer makes its MPI calls from the calling thread and starts none:
 * MPI must be initialised at a thread level that allows calls from that
 * thread (MPI_THREAD_FUNNELED from the main thread; MPI_THREAD_MULTIPLE for
 * steps in several threads at once, each with its own context, handle and
 * communicator). A handle, its context and every other handle made from
 * that context are used by one thread at a time.
 */
#ifndef VICREG_MPI_H
#define VICREG_MPI_H

#include <stddef.h>

#include <mpi.h>

#include "vicreg.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VICREG_MPI_BUILDING_LIBRARY) && defined(__GNUC__)
#define VICREG_MPI_API __attribute__((visibility("default")))
#else
#define VICREG_MPI_API
#endif

/* ----------------------------------------------------------------------
 * Version of libvicreg-mpi, its own, apart from libvicreg's (vicreg.h).
 *
 * MAJOR is the soname's number, libvicreg-mpi.so.1: it changes only with
 * an incompatible change of the ABI (a removed or changed function), and
 * a program linked against any 1.x.y runs unchanged against every later
 * 1.x.y. MINOR rises with every addition, which goes into a new symbol
 * version node of src/mpi/vicreg_mpi.map (VICREG_MPI_1.<minor>) inheriting
 * the previous one; released nodes are never edited. PATCH rises with a
 * release that only fixes. 1.1.0 added the handle (vicreg_mpi_ctx) and the
 * version functions, in node VICREG_MPI_1.1; 1.2.0 the views calls and
 * their byte model, in node VICREG_MPI_1.2 (it needs libvicreg 1.2).
 * ---------------------------------------------------------------------- */
#define VICREG_MPI_VERSION_MAJOR 1
#define VICREG_MPI_VERSION_MINOR 2
#define VICREG_MPI_VERSION_PATCH 0
#define VICREG_MPI_VERSION_NUMBER \
    (VICREG_MPI_VERSION_MAJOR * 10000 + VICREG_MPI_VERSION_MINOR * 100 \
     + VICREG_MPI_VERSION_PATCH)

/* The version of the libvicreg-mpi that is running: major*10000 +
 * minor*100 + patch. Compare with VICREG_MPI_VERSION_NUMBER, the version
 * the caller was built with. Since 1.1. */
VICREG_MPI_API unsigned vicreg_mpi_version_number(void);

/* The running version as a static string such as "1.2.0"; never NULL.
 * Since 1.1. */
VICREG_MPI_API const char *vicreg_mpi_version_string(void);

/* ----------------------------------------------------------------------
 * Status codes of this layer, beyond libvicreg's VICREG_ERR_* (which it
 * also returns). Pinned; far from libvicreg's range so that both can grow.
 * ---------------------------------------------------------------------- */
enum {
    /* The processes disagree on d, the precision, a parameter or the
     * strategy setting; since 1.2 also on the view count. Returned by
     * every process. */
    VICREG_MPI_ERR_MISMATCH = -100,
    /* An MPI call returned an error (the communicator's error handler
     * returns errors instead of aborting). Returned where it happened. */
    VICREG_MPI_ERR_MPI = -101
};

/* A static description of a status: this layer's codes, and libvicreg's
 * through vicreg_strerror(). Never NULL. Since 1.0. */
VICREG_MPI_API const char *vicreg_mpi_strerror(int status);

/* ----------------------------------------------------------------------
 * Strategy
 * ---------------------------------------------------------------------- */
enum {
    VICREG_MPI_STRATEGY_AUTO = 0,   /* the fewer bytes (see above) */
    VICREG_MPI_STRATEGY_REDUCE = 1, /* reduce the d x d statistics */
    VICREG_MPI_STRATEGY_GATHER = 2  /* gather the N x d shards     */
};

/* Sets the strategy of the next calls on ctx (AUTO by default). Every
 * process must set the same (a difference is a mismatch). Returns
 * VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (NULL ctx, unknown strategy, the
 * context's layer buffer in use by something else); VICREG_ERR_NO_MEMORY
 * (the first use of the context's layer buffer). Local, not collective.
 * Since 1.0. */
VICREG_MPI_API int vicreg_mpi_set_strategy(vicreg_ctx *ctx, int strategy);

/* Stores the strategy setting of ctx in *strategy. Returns VICREG_OK or
 * VICREG_ERR_INVALID_ARGUMENT (NULL pointer, layer buffer in use by
 * something else). Since 1.0. */
VICREG_MPI_API int vicreg_mpi_get_strategy(vicreg_ctx *ctx, int *strategy);

/* The bytes one process sends (and receives) in the strategy's collectives
 * in one step of a global batch of n_global rows and d columns over nprocs
 * processes, by the formulas above (GATHER: equal shards), stored in
 * *bytes: the step of a two-batch call, vicreg_mpi_views_bytes_per_step()
 * with two views. precision is VICREG_PRECISION_F32 or _F64; strategy
 * REDUCE or GATHER. Returns VICREG_OK or VICREG_ERR_INVALID_ARGUMENT (NULL
 * bytes, unknown precision or strategy, nprocs < 1). Since 1.0. */
VICREG_MPI_API int vicreg_mpi_bytes_per_step(size_t n_global, size_t d, int nprocs,
                                             int precision, int strategy,
                                             double *bytes);

/* ----------------------------------------------------------------------
 * Compute (collective)
 * ---------------------------------------------------------------------- */

/* The VICReg loss of the global batch whose shard on this process is za,
 * zb (n_local x d, leading dimensions lda and ldb), with the context's
 * parameters, and this shard's gradient rows.
 *
 *   comm     an intra-communicator; every process of it calls this function
 *            for the step.
 *   n_local  rows of this shard; may be 0 (then za, zb, grad_a and grad_b
 *            may be NULL and nothing is written to them).
 *   loss     receives the global loss, the same on every process; may be
 *            NULL.
 *   grad_a   n_local x d (leading dimension ldga >= d) receiving dL/dZa of
 *            this shard's rows times VICREG_PARAM_GRAD_SCALE, or NULL;
 *            likewise grad_b. A gradient must not overlap za, zb or the
 *            other gradient (VICREG_ERR_OVERLAP), as in vicreg_loss_f32().
 *
 * The terms of the global batch go into ctx (vicreg_ctx_get_term()); the
 * strategy used and the bytes into the report (vicreg_mpi_get_info()).
 *
 * Returns VICREG_OK or, on every process alike (see the introduction):
 * VICREG_ERR_INVALID_ARGUMENT (NULL ctx, NULL za or zb with n_local > 0,
 * the layer buffer in use by something else), VICREG_ERR_BAD_SHAPE (d ==
 * 0, an ld < d, N < 2), VICREG_ERR_SIZE_OVERFLOW, VICREG_ERR_OVERLAP,
 * VICREG_ERR_NON_FINITE, VICREG_ERR_OVERFLOW, VICREG_ERR_NO_MEMORY,
 * VICREG_MPI_ERR_MISMATCH; and where it happened only,
 * VICREG_ERR_INVALID_ARGUMENT for an unusable communicator and
 * VICREG_MPI_ERR_MPI. On error nothing is written. Since 1.0. */
VICREG_MPI_API int vicreg_mpi_loss_f32(vicreg_ctx *ctx, MPI_Comm comm,
                                       size_t n_local, size_t d,
                                       const float *za, size_t lda,
                                       const float *zb, size_t ldb,
                                       double *loss,
                                       float *grad_a, size_t ldga,
                                       float *grad_b, size_t ldgb);

/* The same as vicreg_mpi_loss_f32() for double arrays. Since 1.0. */
VICREG_MPI_API int vicreg_mpi_loss_f64(vicreg_ctx *ctx, MPI_Comm comm,
                                       size_t n_local, size_t d,
                                       const double *za, size_t lda,
                                       const double *zb, size_t ldb,
                                       double *loss,
                                       double *grad_a, size_t ldga,
                                       double *grad_b, size_t ldgb);

/* ----------------------------------------------------------------------
 * Report of the last successful call on a context
 * ---------------------------------------------------------------------- */
enum {
    VICREG_MPI_INFO_STRATEGY = 1,     /* the strategy used: REDUCE or GATHER */
    VICREG_MPI_INFO_ROWS = 2,         /* N, the global row count             */
    VICREG_MPI_INFO_PROCESSES = 3,    /* P, the communicator's size          */
    VICREG_MPI_INFO_BYTES = 4,        /* bytes per process, strategy used    */
    VICREG_MPI_INFO_BYTES_REDUCE = 5, /* the same by REDUCE                  */
    VICREG_MPI_INFO_BYTES_GATHER = 6, /* the same by GATHER                  */
    VICREG_MPI_INFO_VIEWS = 7         /* V; 2 after a two-batch call (since 1.2) */
};

/* Stores in *value an entry of the report of the last successful
 * vicreg_mpi_loss_* call on ctx (since 1.2 also vicreg_mpi_views_loss_*;
 * the bytes by vicreg_mpi_views_bytes_per_step() with the step's V).
 * Returns VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (NULL pointer, unknown
 * key, layer buffer in use by something else); VICREG_ERR_NO_RESULT (no
 * successful call yet). Since 1.0. */
VICREG_MPI_API int vicreg_mpi_get_info(vicreg_ctx *ctx, int key, double *value);

/* ----------------------------------------------------------------------
 * The handle (since 1.1)
 *
 * A vicreg_mpi_ctx binds a vicreg_ctx (the loss parameters, the terms of
 * the last step, libvicreg's scratch) to a communicator, and holds the
 * layer's own state: the strategy setting, the report of its last
 * successful step and its buffers (see "Memory and the context"). Its
 * calls do what the 1.0 calls do, on the handle's state instead of the
 * context's layer buffer: a step through vicreg_mpi_ctx_loss_f32() gives
 * bit for bit the loss, terms and gradient rows of vicreg_mpi_loss_f32()
 * on the handle's context and communicator.
 * ---------------------------------------------------------------------- */
typedef struct vicreg_mpi_ctx vicreg_mpi_ctx;

/* Makes a handle for steps of ctx over comm and stores it in *out (written
 * only on success). The strategy is AUTO, there is no report yet.
 *
 *   ctx   kept, not owned and not copied: it must outlive the handle, and
 *         its parameters at each step are the step's. Several handles may
 *         share a context (one thread at a time, see "Threads").
 *   comm  an intra-communicator, kept as given, not duplicated: creation
 *         and destruction are local (no collective), and comm must stay
 *         valid (not freed) while the handle is used. The layer's
 *         collectives are blocking, so they do not mix with the caller's
 *         point-to-point messages on comm; the caller must not have its
 *         own collective pending on comm during a step.
 *
 * Returns VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (NULL ctx or out;
 * MPI_COMM_NULL, an inter-communicator, MPI not initialised or already
 * finalised); VICREG_ERR_NO_MEMORY. Local. Since 1.1. */
VICREG_MPI_API int vicreg_mpi_ctx_create(vicreg_ctx *ctx, MPI_Comm comm,
                                         vicreg_mpi_ctx **out);

/* Frees the handle and its buffers; the context and the communicator stay
 * the caller's. NULL does nothing. Local (no MPI call, so it may come
 * after MPI_Finalize()). Since 1.1. */
VICREG_MPI_API void vicreg_mpi_ctx_destroy(vicreg_mpi_ctx *h);

/* Sets the strategy of the handle's next steps, as
 * vicreg_mpi_set_strategy() does for the 1.0 calls. Every process must set
 * the same. Returns VICREG_OK or VICREG_ERR_INVALID_ARGUMENT (NULL h,
 * unknown strategy). Local. Since 1.1. */
VICREG_MPI_API int vicreg_mpi_ctx_set_strategy(vicreg_mpi_ctx *h, int strategy);

/* Stores the handle's strategy setting in *strategy. Returns VICREG_OK or
 * VICREG_ERR_INVALID_ARGUMENT (NULL pointer). Since 1.1. */
VICREG_MPI_API int vicreg_mpi_ctx_get_strategy(const vicreg_mpi_ctx *h, int *strategy);

/* Stores in *value an entry (VICREG_MPI_INFO_*) of the report of the
 * handle's last successful step. Returns VICREG_OK;
 * VICREG_ERR_INVALID_ARGUMENT (NULL pointer, unknown key);
 * VICREG_ERR_NO_RESULT (no successful step on this handle yet). Since
 * 1.1. */
VICREG_MPI_API int vicreg_mpi_ctx_get_info(const vicreg_mpi_ctx *h, int key,
                                           double *value);

/* vicreg_mpi_loss_f32() on the handle's context and communicator, with
 * the handle's strategy setting, its report and its buffers: the same
 * arguments after them, the same collective behaviour, results and
 * statuses, except that the context's layer buffer is not used (so never
 * "in use by something else"). A NULL h is VICREG_ERR_INVALID_ARGUMENT on
 * this process only: without a handle there is no communicator to tell
 * the others. Since 1.1. */
VICREG_MPI_API int vicreg_mpi_ctx_loss_f32(vicreg_mpi_ctx *h,
                                           size_t n_local, size_t d,
                                           const float *za, size_t lda,
                                           const float *zb, size_t ldb,
                                           double *loss,
                                           float *grad_a, size_t ldga,
                                           float *grad_b, size_t ldgb);

/* The same as vicreg_mpi_ctx_loss_f32() for double arrays. Since 1.1. */
VICREG_MPI_API int vicreg_mpi_ctx_loss_f64(vicreg_mpi_ctx *h,
                                           size_t n_local, size_t d,
                                           const double *za, size_t lda,
                                           const double *zb, size_t ldb,
                                           double *loss,
                                           double *grad_a, size_t ldga,
                                           double *grad_b, size_t ldgb);

/* ----------------------------------------------------------------------
 * Any number of views (since 1.2)
 *
 * The views twins of the compute calls: one step over V views (vicreg.h,
 * "Any number of views"), each process holding the same n_local rows of
 * every view, gives on every process the loss and every term of
 * vicreg_views_loss_*() on the concatenated views (vicreg_ctx_get_term()
 * and vicreg_ctx_get_view_term()) and this shard's gradient rows of each
 * view, up to rounding (the tests require what they require of the
 * two-batch calls: 1e-12 relative in float64, 1e-5 in float32). The view
 * count, the context's VICREG_PARAM_GLOBAL_VIEWS (G) and everything else
 * the agreement compares must be the same on every process.
 *
 *   REDUCE  libvicreg's sharded views phases (vicreg_shard_views_*()),
 *           with MPI_Allreduce of the sums (2 + V d doubles) and of the
 *           scatter (V d (d + 1) / 2 doubles);
 *   GATHER  every shard of every view gathered (N rows of V d elements),
 *           then vicreg_views_loss_rows_*() for this process's rows.
 *
 * The two-batch calls are this step with two views: with V = 2 and z =
 * { za, zb } the views calls give bit for bit the loss, terms, gradient
 * rows and report of the two-batch calls, for every G they take (0, 1 or
 * 2). The two-batch calls do not read G: they run libvicreg's two-batch
 * functions, which are its views functions with two views, so a G above 2,
 * which fails a views call of two views, does not fail them (the agreement
 * still requires the same G on every process). Bytes, the automatic
 * choice, errors and memory are as described above with V in place of 2.
 * ---------------------------------------------------------------------- */

/* The bytes one process sends (and receives) in the strategy's
 * collectives in one step of `views` views of n_global rows and d columns
 * over nprocs processes, by the formulas of "Two strategies" (both linear
 * in V), stored in *bytes. vicreg_mpi_bytes_per_step() is this with two
 * views. Returns VICREG_OK; VICREG_ERR_INVALID_ARGUMENT (NULL bytes,
 * unknown precision or strategy, nprocs < 1); VICREG_ERR_BAD_SHAPE (views
 * == 0 or above VICREG_MAX_VIEWS). Since 1.2. */
VICREG_MPI_API int vicreg_mpi_views_bytes_per_step(size_t views, size_t n_global, size_t d,
                                                   int nprocs, int precision, int strategy,
                                                   double *bytes);

/* The VICReg loss of the global batch of `views` views whose shard on
 * this process is z[0] .. z[views - 1] (each n_local x d; view v with
 * leading dimension ldz[v] >= d, or d for all when ldz is NULL), with the
 * context's parameters, and this shard's gradient rows of each view: the
 * twin of vicreg_mpi_loss_f32(), on a context and a communicator, its
 * state in the context's layer buffer.
 *
 *   comm     an intra-communicator; every process of it calls this
 *            function for the step, with the same views.
 *   n_local  rows of this shard, in every view; may be 0 (then z, ldz,
 *            grad and ldgrad may be NULL, and so may each z[v] and
 *            grad[v]; nothing is read from the views or written to the
 *            gradients).
 *   loss     receives the global loss, the same on every process; may be
 *            NULL.
 *   grad     NULL for no gradient, or `views` pointers: grad[v] an
 *            n_local x d buffer (leading dimension ldgrad[v] >= d, or d
 *            for all when ldgrad is NULL) receiving dL/dZ_v of this
 *            shard's rows times VICREG_PARAM_GRAD_SCALE, or NULL for none
 *            for view v. No gradient may overlap any view or any other
 *            gradient (VICREG_ERR_OVERLAP); views may overlap each other.
 *
 * The terms of the global batch go into ctx (vicreg_ctx_get_term() and
 * vicreg_ctx_get_view_term()), the strategy, V and the bytes into the
 * report (vicreg_mpi_get_info()).
 *
 * Returns VICREG_OK or, on every process alike:
 * VICREG_ERR_INVALID_ARGUMENT (NULL ctx; z NULL or a z[v] NULL with
 * n_local > 0; the layer buffer in use by something else),
 * VICREG_ERR_BAD_SHAPE (views == 0 or above VICREG_MAX_VIEWS, d == 0, an
 * ld < d, N < 2, G above views), VICREG_ERR_SIZE_OVERFLOW,
 * VICREG_ERR_OVERLAP, VICREG_ERR_NON_FINITE, VICREG_ERR_OVERFLOW,
 * VICREG_ERR_NO_MEMORY, VICREG_MPI_ERR_MISMATCH (the view count, G, d, the
 * precision, another parameter or the strategy differs); and where it
 * happened only, VICREG_ERR_INVALID_ARGUMENT for an unusable communicator
 * and VICREG_MPI_ERR_MPI. On error nothing is written. Since 1.2. */
VICREG_MPI_API int vicreg_mpi_views_loss_f32(vicreg_ctx *ctx, MPI_Comm comm, size_t views,
                                             size_t n_local, size_t d,
                                             const float *const *z, const size_t *ldz,
                                             double *loss,
                                             float *const *grad, const size_t *ldgrad);

/* The same as vicreg_mpi_views_loss_f32() for double arrays. Since 1.2. */
VICREG_MPI_API int vicreg_mpi_views_loss_f64(vicreg_ctx *ctx, MPI_Comm comm, size_t views,
                                             size_t n_local, size_t d,
                                             const double *const *z, const size_t *ldz,
                                             double *loss,
                                             double *const *grad, const size_t *ldgrad);

/* vicreg_mpi_views_loss_f32() on the handle's context and communicator,
 * with the handle's strategy setting, report and buffers, as
 * vicreg_mpi_ctx_loss_f32() is to vicreg_mpi_loss_f32(): the same results
 * bit for bit, the same statuses, except that the context's layer buffer
 * is not used. A NULL h is VICREG_ERR_INVALID_ARGUMENT on this process
 * only. Since 1.2. */
VICREG_MPI_API int vicreg_mpi_ctx_views_loss_f32(vicreg_mpi_ctx *h, size_t views,
                                                 size_t n_local, size_t d,
                                                 const float *const *z, const size_t *ldz,
                                                 double *loss,
                                                 float *const *grad, const size_t *ldgrad);

/* The same as vicreg_mpi_ctx_views_loss_f32() for double arrays.
 * Since 1.2. */
VICREG_MPI_API int vicreg_mpi_ctx_views_loss_f64(vicreg_mpi_ctx *h, size_t views,
                                                 size_t n_local, size_t d,
                                                 const double *const *z, const size_t *ldz,
                                                 double *loss,
                                                 double *const *grad, const size_t *ldgrad);

#ifdef __cplusplus
}
#endif

#endif /* VICREG_MPI_H */
