/*
 * api.c - libvicreg-mpi's local functions: the version, status
 * descriptions, the handle, the strategy setting, the byte model and the
 * report, and the layer's state in its buffer (the handle's own, or the
 * context's layer buffer for the 1.0 calls).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* "vicrmpi1": marks a layer buffer that this layer initialised. */
#define VMPI_MAGIC UINT64_C(0x766963726d706931)

#define VMPI_STR2(x) #x
#define VMPI_STR(x) VMPI_STR2(x)

unsigned vicreg_mpi_version_number(void)
{
    return VICREG_MPI_VERSION_NUMBER;
}

const char *vicreg_mpi_version_string(void)
{
    return VMPI_STR(VICREG_MPI_VERSION_MAJOR) "." VMPI_STR(VICREG_MPI_VERSION_MINOR) "." VMPI_STR(
        VICREG_MPI_VERSION_PATCH);
}

const char *vicreg_mpi_strerror(int status)
{
    switch (status) {
    case VICREG_MPI_ERR_MISMATCH:
        return "the processes disagree on d, the view count, the precision, a parameter or "
               "the strategy";
    case VICREG_MPI_ERR_MPI:
        return "an MPI call failed";
    default:
        return vicreg_strerror(status);
    }
}

void vmpi_state_init(struct vmpi_state *state)
{
    memset(state, 0, sizeof *state);
    state->magic = VMPI_MAGIC;
    state->strategy = VICREG_MPI_STRATEGY_AUTO;
}

struct vicreg_mpi_ctx vmpi_slot_handle(vicreg_ctx *ctx, MPI_Comm comm)
{
    struct vicreg_mpi_ctx h;
    memset(&h, 0, sizeof h);
    h.ctx = ctx;
    h.comm = comm;
    h.in_slot = 1;
    return h;
}

/* The 1.0 calls' state in the context's layer buffer, without allocating:
 * *out is NULL when the context has no buffer yet; a buffer that another
 * user of the context made is refused (VICREG_ERR_INVALID_ARGUMENT). */
static int slot_state_peek(vicreg_ctx *ctx, struct vmpi_state **out)
{
    void *p = NULL;
    int status = vicreg_ctx_buffer(ctx, 0, &p);
    if (status != VICREG_OK)
        return status;
    /* The mark is read whatever another user wrote: vicreg_ctx_buffer()
     * allocates whole multiples of 64 bytes and zeroes what it did not
     * copy, so all 8 bytes are determinate (and a short foreign buffer
     * does not match). */
    if (p && ((const struct vmpi_state *)p)->magic != VMPI_MAGIC)
        return VICREG_ERR_INVALID_ARGUMENT;
    *out = p;
    return VICREG_OK;
}

/* The 1.0 calls: the state at the start of the context's layer buffer. */
static int slot_state_get(vicreg_ctx *ctx, size_t bytes, struct vmpi_state **out)
{
    struct vmpi_state *current = NULL;
    int status = slot_state_peek(ctx, &current);
    if (status != VICREG_OK)
        return status;
    int fresh = current == NULL;
    void *p = NULL;
    if (bytes < VMPI_STATE_BYTES)
        bytes = VMPI_STATE_BYTES;
    status = vicreg_ctx_buffer(ctx, bytes, &p);
    if (status != VICREG_OK)
        return status;
    if (fresh) {
        struct vmpi_state init;
        vmpi_state_init(&init);
        memcpy(p, &init, sizeof init);
    }
    *out = p;
    return VICREG_OK;
}

/* A handle's own buffer, made at least `bytes` long: a new block, the old
 * contents copied, the old block freed (so the address changes exactly
 * when it grows). */
static int own_state_get(struct vicreg_mpi_ctx *h, size_t bytes, struct vmpi_state **out)
{
    if (bytes > h->bytes) {
        if (bytes > SIZE_MAX - 63)
            return VICREG_ERR_SIZE_OVERFLOW;
        size_t size = (bytes + 63) / 64 * 64; /* aligned_alloc wants a multiple */
        unsigned char *p = aligned_alloc(64, size);
        if (!p)
            return VICREG_ERR_NO_MEMORY;
        if (h->bytes > 0)
            memcpy(p, h->buf, h->bytes);
        memset(p + h->bytes, 0, size - h->bytes);
        free(h->buf);
        h->buf = p;
        h->bytes = size;
        h->allocations++;
    }
    *out = (struct vmpi_state *)(void *)h->buf;
    return VICREG_OK;
}

int vmpi_state_get(struct vicreg_mpi_ctx *h, size_t bytes, struct vmpi_state **out)
{
    if (h->in_slot)
        return slot_state_get(h->ctx, bytes, out);
    return own_state_get(h, bytes, out);
}

/* The handle's state; never NULL (made by vicreg_mpi_ctx_create()). */
static struct vmpi_state *own_state(const vicreg_mpi_ctx *h)
{
    return (struct vmpi_state *)(void *)h->buf;
}

int vicreg_mpi_ctx_create(vicreg_ctx *ctx, MPI_Comm comm, vicreg_mpi_ctx **out)
{
    if (!out)
        return VICREG_ERR_INVALID_ARGUMENT;
    if (!ctx || !vmpi_usable(comm))
        return VICREG_ERR_INVALID_ARGUMENT;
    vicreg_mpi_ctx *h = malloc(sizeof *h);
    if (!h)
        return VICREG_ERR_NO_MEMORY;
    memset(h, 0, sizeof *h);
    h->ctx = ctx;
    h->comm = comm;
    struct vmpi_state *state;
    int status = own_state_get(h, VMPI_STATE_BYTES, &state);
    if (status != VICREG_OK) {
        free(h);
        return status;
    }
    vmpi_state_init(state);
    *out = h;
    return VICREG_OK;
}

void vicreg_mpi_ctx_destroy(vicreg_mpi_ctx *h)
{
    if (!h)
        return;
    free(h->buf);
    free(h);
}

static int valid_strategy(int strategy)
{
    return strategy == VICREG_MPI_STRATEGY_AUTO || strategy == VICREG_MPI_STRATEGY_REDUCE
           || strategy == VICREG_MPI_STRATEGY_GATHER;
}

int vicreg_mpi_ctx_set_strategy(vicreg_mpi_ctx *h, int strategy)
{
    if (!h || !valid_strategy(strategy))
        return VICREG_ERR_INVALID_ARGUMENT;
    own_state(h)->strategy = strategy;
    return VICREG_OK;
}

int vicreg_mpi_ctx_get_strategy(const vicreg_mpi_ctx *h, int *strategy)
{
    if (!h || !strategy)
        return VICREG_ERR_INVALID_ARGUMENT;
    *strategy = own_state(h)->strategy;
    return VICREG_OK;
}

int vicreg_mpi_set_strategy(vicreg_ctx *ctx, int strategy)
{
    if (!ctx || !valid_strategy(strategy))
        return VICREG_ERR_INVALID_ARGUMENT;
    struct vmpi_state *state;
    int status = slot_state_get(ctx, 0, &state);
    if (status == VICREG_OK)
        state->strategy = strategy;
    return status;
}

int vicreg_mpi_get_strategy(vicreg_ctx *ctx, int *strategy)
{
    if (!ctx || !strategy)
        return VICREG_ERR_INVALID_ARGUMENT;
    /* A context this layer never used has the default, and gets no buffer. */
    struct vmpi_state *state = NULL;
    int status = slot_state_peek(ctx, &state);
    if (status == VICREG_OK)
        *strategy = state ? state->strategy : VICREG_MPI_STRATEGY_AUTO;
    return status;
}

size_t vmpi_elem(int precision)
{
    return precision == VICREG_PRECISION_F32 ? sizeof(float) : sizeof(double);
}

double vmpi_volume(size_t views, size_t n_global, size_t d, size_t elem, int strategy)
{
    double vv = (double)views, dd = (double)d;
    if (strategy == VICREG_MPI_STRATEGY_REDUCE) {
        /* A ring allreduce sends twice the buffer: the sums (2 + V d) and
         * the packed scatters V d (d + 1) / 2, all doubles. With two views,
         * d^2 + 3 d + 2. */
        return 2.0 * (double)sizeof(double) * (vv * dd * (dd + 1.0) / 2.0 + vv * dd + 2.0);
    }
    /* Every process receives the other shards' rows of every view. */
    return (double)n_global * vv * dd * (double)elem;
}

/* The arguments of the byte model, apart from the view count. */
static int bytes_args_ok(int nprocs, int precision, int strategy, const double *bytes)
{
    return bytes && nprocs >= 1
           && (precision == VICREG_PRECISION_F32 || precision == VICREG_PRECISION_F64)
           && (strategy == VICREG_MPI_STRATEGY_REDUCE || strategy == VICREG_MPI_STRATEGY_GATHER);
}

int vicreg_mpi_views_bytes_per_step(size_t views, size_t n_global, size_t d, int nprocs,
                                    int precision, int strategy, double *bytes)
{
    if (!bytes_args_ok(nprocs, precision, strategy, bytes))
        return VICREG_ERR_INVALID_ARGUMENT;
    if (views < 1 || views > VICREG_MAX_VIEWS)
        return VICREG_ERR_BAD_SHAPE;
    double share = (double)(nprocs - 1) / (double)nprocs;
    *bytes = share * vmpi_volume(views, n_global, d, vmpi_elem(precision), strategy);
    return VICREG_OK;
}

/* The two-batch model is that of two views. */
int vicreg_mpi_bytes_per_step(size_t n_global, size_t d, int nprocs, int precision,
                              int strategy, double *bytes)
{
    return vicreg_mpi_views_bytes_per_step(2, n_global, d, nprocs, precision, strategy, bytes);
}

void vmpi_report(const struct vmpi_step *s)
{
    struct vmpi_state *state = s->state;
    state->has_report = 1;
    state->used = s->strategy;
    state->processes = s->nprocs;
    state->views = (int)s->views;
    state->rows = (double)s->n_global;
    state->bytes_reduce = s->bytes_reduce;
    state->bytes_gather = s->bytes_gather;
}

/* An entry of the report in state. */
static int report_value(const struct vmpi_state *state, int key, double *value)
{
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
    case VICREG_MPI_INFO_VIEWS:
        *value = state->views;
        break;
    default:
        *value = state->bytes_gather;
        break;
    }
    return VICREG_OK;
}

static int valid_key(int key)
{
    return key >= VICREG_MPI_INFO_STRATEGY && key <= VICREG_MPI_INFO_VIEWS;
}

int vicreg_mpi_get_info(vicreg_ctx *ctx, int key, double *value)
{
    if (!ctx || !value || !valid_key(key))
        return VICREG_ERR_INVALID_ARGUMENT;
    struct vmpi_state *state = NULL;
    int status = slot_state_peek(ctx, &state);
    if (status != VICREG_OK)
        return status;
    return state ? report_value(state, key, value) : VICREG_ERR_NO_RESULT;
}

int vicreg_mpi_ctx_get_info(const vicreg_mpi_ctx *h, int key, double *value)
{
    if (!h || !value || !valid_key(key))
        return VICREG_ERR_INVALID_ARGUMENT;
    return report_value(own_state(h), key, value);
}
