/*
 * internal.h - what the sources of libvicreg-mpi share: the layer's state
 * in the context's buffer, the bookkeeping of one step, and the collective
 * helpers. Never installed.
 */
#ifndef VICREG_MPI_INTERNAL_H
#define VICREG_MPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vicreg_mpi.h"

/* The first bytes of the context's layer buffer. The buffer keeps its first
 * bytes when it grows, so this survives every later growth. */
struct vmpi_state {
    uint64_t magic;       /* VMPI_MAGIC once initialised by this layer */
    int strategy;         /* the setting, a VICREG_MPI_STRATEGY_* value */
    int has_report;       /* a step has succeeded */
    int used;             /* the report: strategy that ran */
    int processes;
    double rows;
    double bytes_reduce;
    double bytes_gather;
};

/* What one step needs to know after the agreement. */
struct vmpi_step {
    vicreg_ctx *ctx;
    MPI_Comm comm;
    int rank, nprocs;
    size_t n, d;          /* this shard's rows; the columns */
    size_t n_global, row0;
    int strategy;         /* REDUCE or GATHER, the same on every process */
    double bytes_reduce, bytes_gather;
    /* Status of growing the layer buffer for the strategy: each strategy
     * shares it with the other processes before its first collective. */
    int alloc_status;
    /* Inside the layer buffer (valid when alloc_status is VICREG_OK). */
    struct vmpi_state *state;
    int *counts, *displs; /* rows of each shard and where it starts (gather) */
    void *region;         /* the strategy's statistics or gathered batch */
    void *stage_a;        /* this shard's gradient rows before the copy out, */
    void *stage_b;        /* n x d each, or NULL when not asked for */
};

/* The layer's state in ctx's layer buffer, which is made at least `bytes`
 * long (and at least the state's size). A buffer that another user of the
 * context made is refused: VICREG_ERR_INVALID_ARGUMENT. Otherwise VICREG_OK
 * or VICREG_ERR_NO_MEMORY. The buffer's address may change on growth; the
 * state is always at its start. */
int vmpi_state_get(vicreg_ctx *ctx, size_t bytes, struct vmpi_state **out);

/* Bytes of the state at the start of the buffer, a multiple of 64. */
#define VMPI_STATE_BYTES ((sizeof(struct vmpi_state) + 63) / 64 * 64)

/* Element size of a precision: 4 or 8. */
size_t vmpi_elem(int precision);

/* The per-step volume of a strategy without the (P - 1) / P factor, in
 * bytes: the quantity the automatic choice compares. */
double vmpi_volume(size_t n_global, size_t d, size_t elem, int strategy);

/* Everything a step does before its strategy's data moves: the checks of
 * this process's arguments, the agreement between processes, the row
 * counts, the choice of strategy and the buffer. Returns VICREG_OK, or a
 * status that every process returns alike (apart from the cases the
 * header names). s->alloc_status must still be shared by the caller. */
int vmpi_begin(struct vmpi_step *s, vicreg_ctx *ctx, MPI_Comm comm,
               size_t n, size_t d, int precision,
               const void *za, size_t lda, const void *zb, size_t ldb,
               const void *grad_a, size_t ldga, const void *grad_b, size_t ldgb);

/* Every process's status in, the same status out on every process: the
 * most negative of them (VICREG_OK when all are). */
int vmpi_consensus(MPI_Comm comm, int status);

/* MPI_Allreduce(SUM) in place over count doubles, in chunks whose counts
 * fit in int. Returns VICREG_OK or VICREG_MPI_ERR_MPI. */
int vmpi_allreduce_sum(double *buf, size_t count, MPI_Comm comm);

/* Makes every process's block of rows (2d elements of type `type` each)
 * known to all, in place in s->region. Returns VICREG_OK or
 * VICREG_MPI_ERR_MPI. */
int vmpi_allgather_rows(const struct vmpi_step *s, MPI_Datatype type);

/* Records a successful step in the report. */
void vmpi_report(const struct vmpi_step *s);

#endif
