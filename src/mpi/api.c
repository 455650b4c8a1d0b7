/*
 * api.c - libvicreg-mpi's local functions: status descriptions, the
 * strategy setting, the byte model and the report, and the layer's state
 * in the context's buffer.
 */
#include <string.h>

#include "internal.h"

/* "vicrmpi1": marks a layer buffer that this layer initialised. */
#define VMPI_MAGIC UINT64_C(0x766963726d706931)

const char *vicreg_mpi_strerror(int status)
{
    switch (status) {
    case VICREG_MPI_ERR_MISMATCH:
        return "the processes disagree on d, the precision, a parameter or the strategy";
    case VICREG_MPI_ERR_MPI:
        return "an MPI call failed";
    default:
        return vicreg_strerror(status);
    }
}

int vmpi_state_get(vicreg_ctx *ctx, size_t bytes, struct vmpi_state **out)
{
    void *p = NULL;
    int status = vicreg_ctx_buffer(ctx, 0, &p);
    if (status != VICREG_OK)
        return status;
    int fresh = p == NULL;
    /* The mark is read whatever another user wrote: vicreg_ctx_buffer()
     * allocates whole multiples of 64 bytes and zeroes what it did not
     * copy, so all 8 bytes are determinate (and a short foreign buffer
     * does not match). */
    if (!fresh && ((const struct vmpi_state *)p)->magic != VMPI_MAGIC)
        return VICREG_ERR_INVALID_ARGUMENT;
    if (bytes < VMPI_STATE_BYTES)
        bytes = VMPI_STATE_BYTES;
    status = vicreg_ctx_buffer(ctx, bytes, &p);
    if (status != VICREG_OK)
        return status;
    if (fresh) {
        struct vmpi_state init;
        memset(&init, 0, sizeof init);
        init.magic = VMPI_MAGIC;
        init.strategy = VICREG_MPI_STRATEGY_AUTO;
        memcpy(p, &init, sizeof init);
    }
    *out = p;
    return VICREG_OK;
}

int vicreg_mpi_set_strategy(vicreg_ctx *ctx, int strategy)
{
    if (!ctx || (strategy != VICREG_MPI_STRATEGY_AUTO && strategy != VICREG_MPI_STRATEGY_REDUCE
                 && strategy != VICREG_MPI_STRATEGY_GATHER))
        return VICREG_ERR_INVALID_ARGUMENT;
    struct vmpi_state *state;
    int status = vmpi_state_get(ctx, 0, &state);
    if (status == VICREG_OK)
        state->strategy = strategy;
    return status;
}

int vicreg_mpi_get_strategy(vicreg_ctx *ctx, int *strategy)
{
    if (!ctx || !strategy)
        return VICREG_ERR_INVALID_ARGUMENT;
    void *p = NULL;
    int status = vicreg_ctx_buffer(ctx, 0, &p);
    if (status != VICREG_OK)
        return status;
    if (!p) {
        /* Never used by this layer: the default, without allocating. */
        *strategy = VICREG_MPI_STRATEGY_AUTO;
        return VICREG_OK;
    }
    const struct vmpi_state *state = p;
    if (state->magic != VMPI_MAGIC)
        return VICREG_ERR_INVALID_ARGUMENT;
    *strategy = state->strategy;
    return VICREG_OK;
}

size_t vmpi_elem(int precision)
{
    return precision == VICREG_PRECISION_F32 ? sizeof(float) : sizeof(double);
}

double vmpi_volume(size_t n_global, size_t d, size_t elem, int strategy)
{
    double dd = (double)d;
    if (strategy == VICREG_MPI_STRATEGY_REDUCE) {
        /* A ring allreduce sends twice the buffer: the sums (2 + 2d) and the
         * packed scatters d (d + 1), all doubles. */
        return 2.0 * (double)sizeof(double) * (dd * dd + 3.0 * dd + 2.0);
    }
    /* Every process receives the other shards' rows of both branches. */
    return (double)n_global * 2.0 * dd * (double)elem;
}

int vicreg_mpi_bytes_per_step(size_t n_global, size_t d, int nprocs, int precision,
                              int strategy, double *bytes)
{
    if (!bytes || nprocs < 1
        || (precision != VICREG_PRECISION_F32 && precision != VICREG_PRECISION_F64)
        || (strategy != VICREG_MPI_STRATEGY_REDUCE && strategy != VICREG_MPI_STRATEGY_GATHER))
        return VICREG_ERR_INVALID_ARGUMENT;
    double share = (double)(nprocs - 1) / (double)nprocs;
    *bytes = share * vmpi_volume(n_global, d, vmpi_elem(precision), strategy);
    return VICREG_OK;
}

void vmpi_report(const struct vmpi_step *s)
{
    struct vmpi_state *state = s->state;
    state->has_report = 1;
    state->used = s->strategy;
    state->processes = s->nprocs;
    state->rows = (double)s->n_global;
    state->bytes_reduce = s->bytes_reduce;
    state->bytes_gather = s->bytes_gather;
}

int vicreg_mpi_get_info(vicreg_ctx *ctx, int key, double *value)
{
    if (!ctx || !value || key < VICREG_MPI_INFO_STRATEGY || key > VICREG_MPI_INFO_BYTES_GATHER)
        return VICREG_ERR_INVALID_ARGUMENT;
    void *p = NULL;
    int status = vicreg_ctx_buffer(ctx, 0, &p);
    if (status != VICREG_OK)
        return status;
    if (!p)
        return VICREG_ERR_NO_RESULT;
    const struct vmpi_state *state = p;
    if (state->magic != VMPI_MAGIC)
        return VICREG_ERR_INVALID_ARGUMENT;
    if (!state->has_report)
        return VICREG_ERR_NO_RESULT;
    switch (key) {
    case VICREG_MPI_INFO_STRATEGY:
        *value = state->used;
        break;
    case VICREG_MPI_INFO_ROWS:
        *value = state->rows;
        break;
    case VICREG_MPI_INFO_PROCESSES:
        *value = state->processes;
        break;
    case VICREG_MPI_INFO_BYTES:
        *value = state->used == VICREG_MPI_STRATEGY_REDUCE ? state->bytes_reduce
                                                           : state->bytes_gather;
        break;
    case VICREG_MPI_INFO_BYTES_REDUCE:
        *value = state->bytes_reduce;
        break;
    default:
        *value = state->bytes_gather;
        break;
    }
    return VICREG_OK;
}
