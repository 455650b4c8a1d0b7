/*
 * internal.h - what the sources of libvicreg-mpi share: the layer's state,
 * the handle that holds it (its own, or for the 1.0 calls a stand-in whose
 * storage is the context's layer buffer), the bookkeeping of one step, and
 * the collective helpers. Never installed; the tests read the handle's
 * fields to see that its buffer is reused.
 */
#ifndef VICREG_MPI_INTERNAL_H
#define VICREG_MPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vicreg_mpi.h"

/* The first bytes of the layer's buffer: the handle's own, or the
 * context's layer buffer for the 1.0 calls. Either buffer keeps its first
 * bytes when it grows, so this survives every later growth. */
struct vmpi_state {
    uint64_t magic;       /* VMPI_MAGIC once initialised by this layer */
    int strategy;         /* the setting, a VICREG_MPI_STRATEGY_* value */
    int has_report;       /* a step has succeeded */
    int used;             /* the report: strategy that ran */
    int processes;
    int views;            /* the report: V (2 for the two-batch calls) */
    double rows;
    double bytes_reduce;
    double bytes_gather;
};

/* The handle (vicreg_mpi_ctx). Its buffer holds, in this order, the state,
 * the P row counts (three arrays) and the strategy's region and staging
 * rows (see step.c); it grows to the largest step and keeps its contents
 * when it grows. The 1.0 calls run the same step on a stand-in made on the
 * stack by vmpi_slot_handle(): in_slot set, and the buffer is then the
 * context's layer buffer (vicreg_ctx_buffer()), buf and bytes unused. */
struct vicreg_mpi_ctx {
    vicreg_ctx *ctx;      /* not owned */
    MPI_Comm comm;        /* the caller's, kept as given (not a duplicate) */
    int in_slot;
    unsigned char *buf;   /* 64-byte aligned, `bytes` long; the state first */
    size_t bytes;
    size_t allocations;   /* of buf so far: the tests watch it */
};

/* The stand-in handle of a 1.0 call on ctx and comm. */
struct vicreg_mpi_ctx vmpi_slot_handle(vicreg_ctx *ctx, MPI_Comm comm);

/* A communicator this layer can use: MPI initialised and not finalised, an
 * intra-communicator, not MPI_COMM_NULL. Local. */
int vmpi_usable(MPI_Comm comm);

/* What one step needs to know after the agreement. Every step is a step
 * of V views; the two-batch calls (vicreg_mpi_loss_*,
 * vicreg_mpi_ctx_loss_*) are V = 2 with two_batch set: they call
 * libvicreg's two-batch functions, which do not read
 * VICREG_PARAM_GLOBAL_VIEWS, where a views step calls the views ones. */
struct vmpi_step {
    struct vicreg_mpi_ctx *home; /* where the state and buffers are */
    vicreg_ctx *ctx;
    MPI_Comm comm;
    int rank, nprocs;
    size_t views;         /* V, 1 .. VICREG_MAX_VIEWS */
    int two_batch;
    size_t n, d;          /* this shard's rows; the columns */
    size_t ld[VICREG_MAX_VIEWS];  /* each view's leading dimension (d when */
    size_t ldg[VICREG_MAX_VIEWS]; /* not given, or when n == 0); each grad's */
    size_t n_global, row0;
    int strategy;         /* REDUCE or GATHER, the same on every process */
    double bytes_reduce, bytes_gather;
    /* Status of growing the layer buffer for the strategy: each strategy
     * shares it with the other processes before its first collective. */
    int alloc_status;
    /* Inside the layer's buffer (valid when alloc_status is VICREG_OK). */
    struct vmpi_state *state;
    int *counts, *displs; /* rows of each shard and where it starts (gather) */
    void *region;         /* the strategy's statistics or gathered batch */
    /* This shard's gradient rows of each view before the copy out, n x d
     * packed, or NULL when not asked for (or n == 0). */
    void *stage[VICREG_MAX_VIEWS];
};

/* The layer's state at the start of h's buffer, which is made at least
 * `bytes` long (and at least the state's size): the handle's own buffer,
 * or, for a stand-in, h->ctx's layer buffer, where a buffer that another
 * user of the context made is refused (VICREG_ERR_INVALID_ARGUMENT).
 * Otherwise VICREG_OK, VICREG_ERR_NO_MEMORY or VICREG_ERR_SIZE_OVERFLOW.
 * The buffer's address may change on growth; the state is always at its
 * start. */
int vmpi_state_get(struct vicreg_mpi_ctx *h, size_t bytes, struct vmpi_state **out);

/* A fresh state: the default strategy, no report. */
void vmpi_state_init(struct vmpi_state *state);

/* Bytes of the state at the start of the buffer, a multiple of 64. */
#define VMPI_STATE_BYTES ((sizeof(struct vmpi_state) + 63) / 64 * 64)

/* Element size of a precision: 4 or 8. */
size_t vmpi_elem(int precision);

/* The per-step volume of a strategy for V views without the (P - 1) / P
 * factor, in bytes: the quantity the automatic choice compares. */
double vmpi_volume(size_t views, size_t n_global, size_t d, size_t elem, int strategy);

/* Everything a step of `views` views does before its strategy's data
 * moves: the checks of this process's arguments, the agreement between
 * processes, the row counts, the choice of strategy and the buffer. z and
 * grad are the caller's arrays of view and gradient pointers, untyped
 * (NULL when the caller passed NULL); ldz and ldgrad as the caller passed
 * them (NULL: d for all). Returns VICREG_OK, or a status that every
 * process returns alike (apart from the cases the header names).
 * s->alloc_status must still be shared by the caller. */
int vmpi_begin(struct vmpi_step *s, struct vicreg_mpi_ctx *h, size_t views, int two_batch,
               size_t n, size_t d, int precision, const void *const *z, const size_t *ldz,
               void *const *grad, const size_t *ldgrad);

/* Every process's status in, the same status out on every process: the
 * most negative of them (VICREG_OK when all are). */
int vmpi_consensus(MPI_Comm comm, int status);

/* MPI_Allreduce(SUM) in place over count doubles, in chunks whose counts
 * fit in int. Returns VICREG_OK or VICREG_MPI_ERR_MPI. */
int vmpi_allreduce_sum(double *buf, size_t count, MPI_Comm comm);

/* Makes every process's block of rows (V d elements of type `type` each)
 * known to all, in place in s->region. Returns VICREG_OK or
 * VICREG_MPI_ERR_MPI. */
int vmpi_allgather_rows(const struct vmpi_step *s, MPI_Datatype type);

/* Records a successful step in the report. */
void vmpi_report(const struct vmpi_step *s);

#endif
