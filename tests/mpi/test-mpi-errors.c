/*
 * test-mpi-errors.c - a mistake on one process is an error on every
 * process, never a hang.
 *
 * Each case makes one process (the last) differ or misbehave: another d,
 * another parameter or strategy, the other precision, a NULL array or
 * context, NaN in its shard, a bad leading dimension, an overlap, a layer
 * buffer that something else owns. Every process must return the status
 * the header promises, write nothing the caller owns (loss and gradient
 * buffers keep their sentinels), and its context must give the right loss
 * on the next, correct step. A hang would fail the test by its timeout.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpitest.h"

enum fault {
    F_NONE,
    F_D,            /* d + 1 on the faulty process */
    F_PARAM,        /* another lambda */
    F_SCALE,        /* another gradient scale */
    F_STRATEGY,     /* another strategy setting */
    F_PRECISION,    /* the float32 call where the others make the float64 one */
    F_NULL_ZA,
    F_NULL_ZB,
    F_NULL_CTX,
    F_NAN,          /* NaN in the faulty process's shard */
    F_INF_B,        /* +Inf in zb */
    F_LD,           /* lda < d */
    F_GRAD_LD,      /* ldgb < d */
    F_OVERLAP,      /* grad_a is za */
    F_FOREIGN,      /* the context's layer buffer made by someone else */
    F_FOREIGN_SHORT, /* the same, 4 bytes asked for and written: fewer than
                        the layer's 8-byte mark */
    F_TOO_FEW_ROWS, /* one row in all: N < 2, everywhere */
    F_EMPTY_NULLS,  /* not a fault: an empty shard passes NULL arrays */
};

static const struct {
    const char *name;
    enum fault fault;
    int status;
    int cross; /* needs two processes to exist */
} faults[] = {
    { "d differs", F_D, VICREG_MPI_ERR_MISMATCH, 1 },
    { "lambda differs", F_PARAM, VICREG_MPI_ERR_MISMATCH, 1 },
    { "gradient scale differs", F_SCALE, VICREG_MPI_ERR_MISMATCH, 1 },
    { "strategy differs", F_STRATEGY, VICREG_MPI_ERR_MISMATCH, 1 },
    { "precision differs", F_PRECISION, VICREG_MPI_ERR_MISMATCH, 1 },
    { "NULL za", F_NULL_ZA, VICREG_ERR_INVALID_ARGUMENT, 0 },
    { "NULL zb", F_NULL_ZB, VICREG_ERR_INVALID_ARGUMENT, 0 },
    { "NULL context", F_NULL_CTX, VICREG_ERR_INVALID_ARGUMENT, 0 },
    { "NaN in a shard", F_NAN, VICREG_ERR_NON_FINITE, 0 },
    { "Inf in a shard of zb", F_INF_B, VICREG_ERR_NON_FINITE, 0 },
    { "lda < d", F_LD, VICREG_ERR_BAD_SHAPE, 0 },
    { "ldgb < d", F_GRAD_LD, VICREG_ERR_BAD_SHAPE, 0 },
    { "grad_a overlaps za", F_OVERLAP, VICREG_ERR_OVERLAP, 0 },
    { "foreign layer buffer", F_FOREIGN, VICREG_ERR_INVALID_ARGUMENT, 0 },
    { "foreign 4-byte layer buffer", F_FOREIGN_SHORT, VICREG_ERR_INVALID_ARGUMENT, 0 },
    { "one row in all", F_TOO_FEW_ROWS, VICREG_ERR_BAD_SHAPE, 0 },
    { "empty shard with NULL arrays", F_EMPTY_NULLS, VICREG_OK, 0 },
};

#define N_ROWS 10
#define D 6
#define LD (D + 2) /* room for the d + 1 fault */

/* One fault, one strategy, one precision of the correct processes. */
static void fault_case(int k, int strategy, int precision, const double *za, const double *zb)
{
    enum fault fault = faults[k].fault;
    int faulty = mt_rank == mt_nprocs - 1;
    char what[128];
    snprintf(what, sizeof what, "%s (%s, %s, P=%d)", faults[k].name,
             strategy == VICREG_MPI_STRATEGY_REDUCE ? "reduce" : "gather",
             precision == VICREG_PRECISION_F32 ? "f32" : "f64", mt_nprocs);

    /* Equal shards; for the N < 2 case one row on process 0 and none
     * elsewhere; for the NULL arrays, the last process's shard is empty. */
    struct mt_layout l;
    mt_layouts(N_ROWS, mt_nprocs, &l, 1);
    if (fault == F_TOO_FEW_ROWS) {
        memset(l.counts, 0, sizeof l.counts);
        l.counts[0] = 1;
    }
    if (fault == F_EMPTY_NULLS && mt_nprocs > 1) {
        l.counts[0] += l.counts[mt_nprocs - 1];
        l.counts[mt_nprocs - 1] = 0;
    }
    size_t rows = l.counts[mt_rank], row0 = mt_row0(&l, mt_rank);

    int p = precision;
    if (fault == F_PRECISION && faulty)
        p = precision == VICREG_PRECISION_F64 ? VICREG_PRECISION_F32 : VICREG_PRECISION_F64;
    void *sa = mt_shard(za, D, row0, rows, LD, p), *sb = mt_shard(zb, D, row0, rows, LD, p);
    void *ga = mt_sentinel_buffer(rows, LD, p), *gb = mt_sentinel_buffer(rows, LD, p);
    vicreg_ctx *ctx = NULL;
    MT_EXPECT(vicreg_ctx_create(&ctx) == VICREG_OK, "vicreg_ctx_create failed");
    vicreg_mpi_set_strategy(ctx, strategy);

    /* The fault, on the last process only. */
    const void *a = sa, *b = sb;
    void *grad_a = ga;
    size_t d = D, lda = LD, ldgb = LD;
    vicreg_ctx *use = ctx;
    if (faulty) {
        switch (fault) {
        case F_D:
            d = D + 1;
            break;
        case F_PARAM:
            vicreg_ctx_set_param(ctx, VICREG_PARAM_INVARIANCE_COEFF, 24.0);
            break;
        case F_SCALE:
            vicreg_ctx_set_param(ctx, VICREG_PARAM_GRAD_SCALE, 2.0);
            break;
        case F_STRATEGY:
            vicreg_mpi_set_strategy(ctx, strategy == VICREG_MPI_STRATEGY_REDUCE
                                             ? VICREG_MPI_STRATEGY_GATHER
                                             : VICREG_MPI_STRATEGY_REDUCE);
            break;
        case F_NULL_ZA:
            a = NULL;
            break;
        case F_NULL_ZB:
            b = NULL;
            break;
        case F_NULL_CTX:
            use = NULL;
            break;
        case F_NAN:
            if (p == VICREG_PRECISION_F32)
                ((float *)sa)[LD + 1] = NAN;
            else
                ((double *)sa)[LD + 1] = NAN;
            break;
        case F_INF_B:
            if (p == VICREG_PRECISION_F32)
                ((float *)sb)[2] = INFINITY;
            else
                ((double *)sb)[2] = INFINITY;
            break;
        case F_LD:
            lda = D - 1;
            break;
        case F_GRAD_LD:
            ldgb = D - 1;
            break;
        case F_OVERLAP:
            grad_a = sa;
            break;
        case F_FOREIGN:
        case F_FOREIGN_SHORT: {
            const size_t bytes = fault == F_FOREIGN ? 256 : 4;
            vicreg_ctx_destroy(ctx);
            vicreg_ctx_create(&ctx);
            void *buf = NULL;
            MT_EXPECT(vicreg_ctx_buffer(ctx, bytes, &buf) == VICREG_OK,
                      "vicreg_ctx_buffer failed");
            memset(buf, 0x5a, bytes);
            use = ctx;
            MT_EXPECT_STATUS(vicreg_mpi_set_strategy(ctx, strategy), VICREG_ERR_INVALID_ARGUMENT,
                             "set_strategy on a foreign buffer");
            break;
        }
        case F_EMPTY_NULLS:
            if (rows == 0) {
                a = b = NULL;
                grad_a = NULL;
            }
            break;
        default:
            break;
        }
    }

    double loss = MT_SENTINEL;
    int status = mt_mpi_loss(p, use, MPI_COMM_WORLD, rows, d, a, lda, b, LD, &loss, grad_a, LD,
                             (fault == F_EMPTY_NULLS && rows == 0) ? NULL : gb, ldgb);
    MT_EXPECT_STATUS(status, faults[k].status, what);
    if (faults[k].status != VICREG_OK) {
        MT_EXPECT(loss == MT_SENTINEL, "%s: the loss was written", what);
        if (grad_a == ga)
            MT_EXPECT(mt_all_sentinel(ga, rows * LD, p), "%s: grad_a was written", what);
        MT_EXPECT(mt_all_sentinel(gb, rows * LD, p), "%s: grad_b was written", what);
    }

    /* The next, correct step on the same contexts gives the loss of the
     * whole batch, the same on every process. */
    if ((fault == F_FOREIGN || fault == F_FOREIGN_SHORT) && faulty) {
        vicreg_ctx_destroy(ctx);
        vicreg_ctx_create(&ctx);
    }
    vicreg_ctx_set_param(ctx, VICREG_PARAM_INVARIANCE_COEFF, 25.0);
    vicreg_ctx_set_param(ctx, VICREG_PARAM_GRAD_SCALE, 1.0);
    vicreg_mpi_set_strategy(ctx, strategy);
    if (fault != F_TOO_FEW_ROWS) {
        void *ca = mt_shard(za, D, row0, rows, LD, precision);
        void *cb = mt_shard(zb, D, row0, rows, LD, precision);
        double again = 0.0;
        status = mt_mpi_loss(precision, ctx, MPI_COMM_WORLD, rows, D, ca, LD, cb, LD, &again,
                             NULL, 0, NULL, 0);
        MT_EXPECT_STATUS(status, VICREG_OK, what);
        double first = again;
        MPI_Bcast(&first, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        MT_EXPECT(again == first && isfinite(again), "%s: after the error, loss %.17g here, %.17g on 0",
                  what, again, first);
        if (fault == F_EMPTY_NULLS) {
            MT_EXPECT(loss == again, "%s: loss %.17g with NULL arrays, %.17g without", what, loss,
                      again);
        }
        free(ca);
        free(cb);
    }
    free(sa);
    free(sb);
    free(ga);
    free(gb);
    vicreg_ctx_destroy(ctx);
}

void mt_error_tests(void)
{
    double *za = malloc(N_ROWS * D * sizeof *za), *zb = malloc(N_ROWS * D * sizeof *zb);
    mt_make_batch(77, N_ROWS, D, za, zb);
    for (int k = 0; k < (int)(sizeof faults / sizeof faults[0]); k++) {
        if (faults[k].cross && mt_nprocs < 2)
            continue; /* one process cannot disagree with itself */
        for (int s = VICREG_MPI_STRATEGY_REDUCE; s <= VICREG_MPI_STRATEGY_GATHER; s++)
            for (int p = VICREG_PRECISION_F32; p <= VICREG_PRECISION_F64; p++)
                fault_case(k, s, p, za, zb);
    }
    free(za);
    free(zb);

    /* A communicator that cannot be used is refused where it is passed
     * (every process here passes it, so none waits). */
    vicreg_ctx *ctx = NULL;
    vicreg_ctx_create(&ctx);
    double x[4] = { 1, 2, 3, 4 };
    MT_EXPECT_STATUS(vicreg_mpi_loss_f64(ctx, MPI_COMM_NULL, 2, 2, x, 2, x, 2, NULL, NULL, 0,
                                         NULL, 0),
                     VICREG_ERR_INVALID_ARGUMENT, "MPI_COMM_NULL");
    vicreg_ctx_destroy(ctx);
}
