/*
 * step.c - the collective part of a step that does not depend on the
 * precision: this process's argument checks, the agreement between the
 * processes, the row counts, the choice of strategy, the layer's buffer
 * (the handle's own or the context's, see vmpi_state_get()), and the
 * helpers that move statuses and data.
 */
#include <float.h>
#include <limits.h>
#include <string.h>

#include "../checks.h"
#include "internal.h"

/* The largest count handed to one MPI call by vmpi_allreduce_sum(). The
 * tests build a copy of the layer with a tiny chunk to run that loop. */
#ifndef VMPI_CHUNK
#define VMPI_CHUNK ((size_t)1 << 30)
#endif

/* The parameters that every process must hold alike. */
static const int agreed_params[] = {
    VICREG_PARAM_INVARIANCE_COEFF, VICREG_PARAM_VARIANCE_COEFF,
    VICREG_PARAM_COVARIANCE_COEFF, VICREG_PARAM_STD_TARGET,
    VICREG_PARAM_EPSILON, VICREG_PARAM_CONVENTION,
    VICREG_PARAM_PATH, VICREG_PARAM_GRAD_SCALE,
    /* Since 1.2, for every call: the views calls read it, and a context
     * whose G differs between processes is a mistake whichever call finds
     * it. */
    VICREG_PARAM_GLOBAL_VIEWS,
};
#define N_PARAMS (sizeof agreed_params / sizeof agreed_params[0])

/* The fields of the agreement; F_STATUS carries -status. F_VIEWS is the
 * view count (2 for the two-batch calls). */
enum {
    F_STATUS, F_D, F_PRECISION, F_STRATEGY, F_VIEWS, F_PARAM0,
    N_FIELDS = F_PARAM0 + N_PARAMS
};

static size_t round64(size_t x)
{
    return x > SIZE_MAX - 63 ? 0 : (x + 63) / 64 * 64;
}

/* *acc += a, rounded up to 64 bytes; 0 on overflow. */
static int add_block(size_t *acc, size_t a)
{
    size_t r = round64(a);
    if ((a != 0 && r == 0) || r > SIZE_MAX - *acc)
        return 0;
    *acc += r;
    return 1;
}

/* This process's own arguments, before any communication, by libvicreg's
 * rules (src/checks.h; the views rules of vicreg_views_loss_*()): a shard
 * may have no row, and then no view, leading dimension or gradient is
 * read. Resolves s->ld and s->ldg. G is checked against the view count
 * last, as libvicreg checks it, and only for a views call. */
static int check_local(struct vmpi_step *s, size_t elem, const void *const *z,
                       const size_t *ldz, void *const *grad, const size_t *ldgrad)
{
    const size_t views = s->views, n = s->n, d = s->d;
    if (!s->ctx || (n > 0 && !z))
        return VICREG_ERR_INVALID_ARGUMENT;
    if (views < 1 || views > VICREG_MAX_VIEWS)
        return VICREG_ERR_BAD_SHAPE;
    for (size_t v = 0; v < views && n > 0; v++)
        if (!z[v])
            return VICREG_ERR_INVALID_ARGUMENT;
    if (d == 0)
        return VICREG_ERR_BAD_SHAPE;
    if (d > INT_MAX || n > INT_MAX)
        return VICREG_ERR_SIZE_OVERFLOW;
    for (size_t v = 0; v < views; v++)
        s->ld[v] = s->ldg[v] = d;
    int status = VICREG_OK;
    if (n > 0) {
        for (size_t v = 0; v < views && status == VICREG_OK; v++) {
            s->ld[v] = ldz ? ldz[v] : d;
            status = vicreg_check_ld(n, d, s->ld[v], elem);
        }
        for (size_t v = 0; v < views && status == VICREG_OK; v++) {
            s->ldg[v] = ldgrad ? ldgrad[v] : d;
            if (grad && grad[v])
                status = vicreg_check_ld(n, d, s->ldg[v], elem);
        }
        /* No gradient may share a byte with a view or another gradient;
         * views may overlap each other. */
        struct vicreg_span in[VICREG_MAX_VIEWS], out[VICREG_MAX_VIEWS];
        for (size_t v = 0; v < views && status == VICREG_OK; v++) {
            in[v] = vicreg_span_of(z[v], n, d, s->ld[v], elem);
            out[v] = vicreg_span_of(grad ? grad[v] : NULL, n, d, s->ldg[v], elem);
        }
        for (size_t k = 0; k < views && status == VICREG_OK; k++)
            for (size_t v = 0; v < views; v++)
                if (vicreg_overlaps(out[k], in[v]) || (v > k && vicreg_overlaps(out[k], out[v])))
                    status = VICREG_ERR_OVERLAP;
    }
    if (status == VICREG_OK && !s->two_batch) {
        double g = 0.0;
        status = vicreg_ctx_get_param(s->ctx, VICREG_PARAM_GLOBAL_VIEWS, &g);
        if (status == VICREG_OK && g > (double)views)
            status = VICREG_ERR_BAD_SHAPE;
    }
    return status;
}

/* Bytes of the head of the layer buffer: the state and the three arrays
 * of P row counts. 0 when it does not fit. */
static size_t head_bytes(int nprocs)
{
    size_t p = (size_t)nprocs, bytes = VMPI_STATE_BYTES;
    if (p > SIZE_MAX / sizeof(uint64_t))
        return 0;
    if (!add_block(&bytes, p * sizeof(uint64_t)) || !add_block(&bytes, p * sizeof(int))
        || !add_block(&bytes, p * sizeof(int)))
        return 0;
    return bytes;
}

/* Where the head's arrays are in the buffer at p. */
static void head_layout(struct vmpi_step *s, unsigned char *p, uint64_t **counts64)
{
    size_t at = VMPI_STATE_BYTES, np = (size_t)s->nprocs;
    s->state = (struct vmpi_state *)(void *)p;
    *counts64 = (uint64_t *)(void *)(p + at);
    at += round64(np * sizeof(uint64_t));
    s->counts = (int *)(void *)(p + at);
    at += round64(np * sizeof(int));
    s->displs = (int *)(void *)(p + at);
}

/* The fields this process brings to the agreement. */
static int fill_fields(vicreg_ctx *ctx, size_t views, size_t d, int precision, int strategy,
                       double *x)
{
    x[F_D] = (double)d;
    x[F_PRECISION] = precision;
    x[F_STRATEGY] = strategy;
    x[F_VIEWS] = (double)views;
    for (size_t i = 0; i < N_PARAMS; i++) {
        int status = vicreg_ctx_get_param(ctx, agreed_params[i], &x[F_PARAM0 + i]);
        if (status != VICREG_OK)
            return status;
    }
    return VICREG_OK;
}

/* One MPI_Allreduce(MAX) over each field and its negation gives every
 * process the largest and the smallest value of each field; they are
 * equal exactly when the processes agree. A process that failed its own
 * checks brings only its status (-DBL_MAX elsewhere is neutral). */
static int agree(MPI_Comm comm, int status, const double *x)
{
    double v[2 * N_FIELDS];
    for (size_t i = 0; i < N_FIELDS; i++) {
        v[i] = status == VICREG_OK ? x[i] : -DBL_MAX;
        v[N_FIELDS + i] = status == VICREG_OK ? -x[i] : -DBL_MAX;
    }
    v[F_STATUS] = -(double)status;
    if (MPI_Allreduce(MPI_IN_PLACE, v, 2 * N_FIELDS, MPI_DOUBLE, MPI_MAX, comm) != MPI_SUCCESS)
        return VICREG_MPI_ERR_MPI;
    if (v[F_STATUS] != 0.0)
        return -(int)v[F_STATUS];
    for (size_t i = F_STATUS + 1; i < N_FIELDS; i++) {
        if (v[i] != -v[N_FIELDS + i])
            return VICREG_MPI_ERR_MISMATCH;
    }
    return VICREG_OK;
}

/* A communicator this layer can use; otherwise nothing can be shared. */
int vmpi_usable(MPI_Comm comm)
{
    int flag = 0;
    if (MPI_Initialized(&flag) != MPI_SUCCESS || !flag)
        return 0;
    if (MPI_Finalized(&flag) != MPI_SUCCESS || flag)
        return 0;
    if (comm == MPI_COMM_NULL)
        return 0;
    if (MPI_Comm_test_inter(comm, &flag) != MPI_SUCCESS || flag)
        return 0;
    return 1;
}

/* The strategy for N rows of V views: the setting, or the fewer bytes.
 * GATHER moves one row of every view as one MPI element of V d values. */
static int choose(int setting, size_t views, size_t n_global, size_t d, size_t elem,
                  int *strategy)
{
    int gather_fits = n_global <= INT_MAX && d <= INT_MAX / views;
    if (setting == VICREG_MPI_STRATEGY_GATHER) {
        *strategy = setting;
        return gather_fits ? VICREG_OK : VICREG_ERR_SIZE_OVERFLOW;
    }
    if (setting == VICREG_MPI_STRATEGY_REDUCE || !gather_fits) {
        *strategy = VICREG_MPI_STRATEGY_REDUCE;
        return VICREG_OK;
    }
    double gather = vmpi_volume(views, n_global, d, elem, VICREG_MPI_STRATEGY_GATHER);
    double reduce = vmpi_volume(views, n_global, d, elem, VICREG_MPI_STRATEGY_REDUCE);
    *strategy = gather < reduce ? VICREG_MPI_STRATEGY_GATHER : VICREG_MPI_STRATEGY_REDUCE;
    return VICREG_OK;
}

/* Bytes of the strategy's region (statistics or gathered batch); 0 when
 * it does not fit. */
static size_t region_bytes(const struct vmpi_step *s, size_t elem)
{
    if (s->strategy == VICREG_MPI_STRATEGY_REDUCE) {
        size_t sums_len, scatter_len;
        if (vicreg_shard_views_sizes(s->views, s->d, &sums_len, &scatter_len) != VICREG_OK
            || sums_len > SIZE_MAX - scatter_len
            || sums_len + scatter_len > SIZE_MAX / sizeof(double))
            return 0;
        return (sums_len + scatter_len) * sizeof(double);
    }
    size_t w = s->views * s->d; /* <= INT_MAX: checked by choose() */
    if (s->n_global > SIZE_MAX / w || s->n_global * w > SIZE_MAX / elem)
        return 0;
    return s->n_global * w * elem;
}

/* Grows the layer's buffer for the strategy and lays it out: the head,
 * the region, then a staging block for each view whose gradient is asked
 * for (want[v]). */
static int layout(struct vmpi_step *s, size_t elem, const int *want)
{
    size_t head = head_bytes(s->nprocs), region = region_bytes(s, elem);
    size_t grad = s->n * s->d * elem; /* fits: checked against the ld */
    size_t total = head;
    if (head == 0 || region == 0 || !add_block(&total, region))
        return VICREG_ERR_SIZE_OVERFLOW;
    for (size_t v = 0; v < s->views; v++)
        if (want[v] && !add_block(&total, grad))
            return VICREG_ERR_SIZE_OVERFLOW;
    struct vmpi_state *state;
    int status = vmpi_state_get(s->home, total, &state);
    if (status != VICREG_OK)
        return status;
    unsigned char *p = (unsigned char *)state;
    uint64_t *counts64;
    head_layout(s, p, &counts64);
    s->region = p + head;
    size_t at = head + round64(region);
    for (size_t v = 0; v < s->views; v++) {
        s->stage[v] = want[v] && grad > 0 ? p + at : NULL;
        at += want[v] ? round64(grad) : 0;
    }
    return VICREG_OK;
}

int vmpi_begin(struct vmpi_step *s, struct vicreg_mpi_ctx *h, size_t views, int two_batch,
               size_t n, size_t d, int precision, const void *const *z, const size_t *ldz,
               void *const *grad, const size_t *ldgrad)
{
    vicreg_ctx *ctx = h->ctx;
    MPI_Comm comm = h->comm;
    memset(s, 0, sizeof *s);
    if (!vmpi_usable(comm))
        return VICREG_ERR_INVALID_ARGUMENT;
    if (MPI_Comm_rank(comm, &s->rank) != MPI_SUCCESS
        || MPI_Comm_size(comm, &s->nprocs) != MPI_SUCCESS)
        return VICREG_MPI_ERR_MPI;
    s->home = h;
    s->ctx = ctx;
    s->comm = comm;
    s->views = views;
    s->two_batch = two_batch;
    s->n = n;
    s->d = d;
    size_t elem = vmpi_elem(precision);

    /* This process's checks; then its state and the head of the buffer,
     * which the row counts need. */
    double x[N_FIELDS] = { 0 };
    int status = check_local(s, elem, z, ldz, grad, ldgrad);
    struct vmpi_state *state = NULL;
    if (status == VICREG_OK) {
        size_t head = head_bytes(s->nprocs);
        status = head == 0 ? VICREG_ERR_SIZE_OVERFLOW : vmpi_state_get(h, head, &state);
    }
    if (status == VICREG_OK)
        status = fill_fields(ctx, views, d, precision, state->strategy, x);

    status = agree(comm, status, x);
    if (status != VICREG_OK)
        return status;

    /* Every process now holds a valid context and buffer head. */
    uint64_t *counts64;
    head_layout(s, (unsigned char *)state, &counts64);
    uint64_t mine = n;
    if (MPI_Allgather(&mine, 1, MPI_UINT64_T, counts64, 1, MPI_UINT64_T, comm) != MPI_SUCCESS)
        return VICREG_MPI_ERR_MPI;
    uint64_t total = 0, before = 0;
    for (int p = 0; p < s->nprocs; p++) {
        if (p == s->rank)
            before = total;
        total += counts64[p]; /* each <= INT_MAX: no wrap for P <= INT_MAX */
    }
    if (total > SIZE_MAX)
        return VICREG_ERR_SIZE_OVERFLOW;
    s->n_global = (size_t)total;
    s->row0 = (size_t)before;
    if (s->n_global < 2)
        return VICREG_ERR_BAD_SHAPE;

    status = choose(state->strategy, views, s->n_global, d, elem, &s->strategy);
    if (status != VICREG_OK)
        return status;
    vicreg_mpi_views_bytes_per_step(views, s->n_global, d, s->nprocs, precision,
                                    VICREG_MPI_STRATEGY_REDUCE, &s->bytes_reduce);
    vicreg_mpi_views_bytes_per_step(views, s->n_global, d, s->nprocs, precision,
                                    VICREG_MPI_STRATEGY_GATHER, &s->bytes_gather);

    /* The counts as MPI wants them; then the strategy's buffer, whose
     * status each strategy shares before its first collective. */
    if (s->strategy == VICREG_MPI_STRATEGY_GATHER) {
        int at = 0;
        for (int p = 0; p < s->nprocs; p++) {
            s->counts[p] = (int)counts64[p];
            s->displs[p] = at;
            at += (int)counts64[p]; /* total <= INT_MAX: checked by choose() */
        }
    }
    int want[VICREG_MAX_VIEWS];
    for (size_t v = 0; v < views; v++)
        want[v] = n > 0 && grad && grad[v];
    s->alloc_status = layout(s, elem, want);
    return VICREG_OK;
}

int vmpi_consensus(MPI_Comm comm, int status)
{
    int worst = -status;
    if (MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS)
        return VICREG_MPI_ERR_MPI;
    return -worst;
}

int vmpi_allreduce_sum(double *buf, size_t count, MPI_Comm comm)
{
    while (count > 0) {
        size_t chunk = count < VMPI_CHUNK ? count : VMPI_CHUNK;
        if (MPI_Allreduce(MPI_IN_PLACE, buf, (int)chunk, MPI_DOUBLE, MPI_SUM, comm)
            != MPI_SUCCESS)
            return VICREG_MPI_ERR_MPI;
        buf += chunk;
        count -= chunk;
    }
    return VICREG_OK;
}

int vmpi_allgather_rows(const struct vmpi_step *s, MPI_Datatype type)
{
    /* One row of every view is one element of this type, so the counts
     * and displacements are rows, which fit in int. */
    MPI_Datatype row;
    if (MPI_Type_contiguous((int)(s->views * s->d), type, &row) != MPI_SUCCESS)
        return VICREG_MPI_ERR_MPI;
    int status = VICREG_OK;
    if (MPI_Type_commit(&row) != MPI_SUCCESS
        || MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, s->region, s->counts, s->displs,
                          row, s->comm) != MPI_SUCCESS)
        status = VICREG_MPI_ERR_MPI;
    MPI_Type_free(&row);
    return status;
}
