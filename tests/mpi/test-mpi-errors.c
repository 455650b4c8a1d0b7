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
 * Every case runs through the 1.0 calls and through a handle
 * (vicreg_mpi_ctx), which returns the same statuses, except that it does
 * not use the context's layer buffer: a foreign one is no error there.
 * Then the statuses of the handle's own functions.
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

/* One fault, one strategy, one precision of the correct processes; the
 * 1.0 calls, or a handle (via_handle). */
static void fault_case(int k, int strategy, int precision, const double *za, const double *zb,
                       int via_handle)
{
    enum fault fault = faults[k].fault;
    int faulty = mt_rank == mt_nprocs - 1;
    int foreign = fault == F_FOREIGN || fault == F_FOREIGN_SHORT;
    int want = via_handle && foreign ? VICREG_OK : faults[k].status;
    char what[128];
    snprintf(what, sizeof what, "%s (%s, %s, P=%d%s)", faults[k].name,
             mt_strategy_name(strategy), mt_precision_name(precision), mt_nprocs,
             via_handle ? ", handle" : "");

    /* Equal shards; for the N < 2 case one row on process 0 and none
     * elsewhere; for the NULL arrays, the last process's shard is empty. */
    const struct mt_layout l =
        mt_fault_layout(N_ROWS, fault == F_TOO_FEW_ROWS, fault == F_EMPTY_NULLS);
    size_t rows = l.counts[mt_rank], row0 = mt_row0(&l, mt_rank);

    const int p = fault == F_PRECISION && faulty ? mt_other_precision(precision) : precision;
    void *sa = mt_shard(za, D, row0, rows, LD, p), *sb = mt_shard(zb, D, row0, rows, LD, p);
    void *ga = mt_sentinel_buffer(rows, LD, p), *gb = mt_sentinel_buffer(rows, LD, p);
    vicreg_ctx *ctx = NULL;
    MT_EXPECT(vicreg_ctx_create(&ctx) == VICREG_OK, "vicreg_ctx_create failed");
    vicreg_mpi_ctx *h = mt_strategy_on(ctx, via_handle, strategy, what);

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
        case F_STRATEGY: {
            int other = strategy == VICREG_MPI_STRATEGY_REDUCE ? VICREG_MPI_STRATEGY_GATHER
                                                               : VICREG_MPI_STRATEGY_REDUCE;
            mt_set_strategy(ctx, h, other);
            break;
        }
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
            mt_put(sa, LD + 1, NAN, p);
            break;
        case F_INF_B:
            mt_put(sb, 2, INFINITY, p);
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
            vicreg_mpi_ctx_destroy(h);
            vicreg_ctx_destroy(ctx);
            vicreg_ctx_create(&ctx);
            void *buf = NULL;
            MT_EXPECT(vicreg_ctx_buffer(ctx, bytes, &buf) == VICREG_OK,
                      "vicreg_ctx_buffer failed");
            memset(buf, 0x5a, bytes);
            use = ctx;
            MT_EXPECT_STATUS(vicreg_mpi_set_strategy(ctx, strategy), VICREG_ERR_INVALID_ARGUMENT,
                             "set_strategy on a foreign buffer");
            if (via_handle)
                h = mt_strategy_on(ctx, 1, strategy, what);
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
    void *grad_b = (fault == F_EMPTY_NULLS && rows == 0) ? NULL : gb;
    int status = via_handle ? mt_mpi_ctx_loss(p, h, rows, d, a, lda, b, LD, &loss, grad_a, LD,
                                              grad_b, ldgb)
                            : mt_mpi_loss(p, use, MPI_COMM_WORLD, rows, d, a, lda, b, LD, &loss,
                                          grad_a, LD, grad_b, ldgb);
    MT_EXPECT_STATUS(status, want, what);
    if (via_handle && status != VICREG_OK) {
        double v = 0.0;
        MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(h, VICREG_MPI_INFO_ROWS, &v),
                         VICREG_ERR_NO_RESULT, what);
    }
    if (want != VICREG_OK) {
        MT_EXPECT(loss == MT_SENTINEL, "%s: the loss was written", what);
        if (grad_a == ga)
            MT_EXPECT(mt_all_sentinel(ga, rows * LD, p), "%s: grad_a was written", what);
        MT_EXPECT(mt_all_sentinel(gb, rows * LD, p), "%s: grad_b was written", what);
    }

    /* The next, correct step on the same contexts gives the loss of the
     * whole batch, the same on every process. */
    if ((fault == F_FOREIGN || fault == F_FOREIGN_SHORT) && faulty && !via_handle) {
        vicreg_ctx_destroy(ctx);
        vicreg_ctx_create(&ctx);
    }
    vicreg_ctx_set_param(ctx, VICREG_PARAM_INVARIANCE_COEFF, 25.0);
    vicreg_ctx_set_param(ctx, VICREG_PARAM_GRAD_SCALE, 1.0);
    mt_set_strategy(ctx, h, strategy);
    if (fault != F_TOO_FEW_ROWS) {
        void *ca = mt_shard(za, D, row0, rows, LD, precision);
        void *cb = mt_shard(zb, D, row0, rows, LD, precision);
        double again = 0.0;
        status = via_handle ? mt_mpi_ctx_loss(precision, h, rows, D, ca, LD, cb, LD, &again,
                                              NULL, 0, NULL, 0)
                            : mt_mpi_loss(precision, ctx, MPI_COMM_WORLD, rows, D, ca, LD, cb,
                                          LD, &again, NULL, 0, NULL, 0);
        MT_EXPECT_STATUS(status, VICREG_OK, what);
        mt_expect_same_loss(again, what);
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
    vicreg_mpi_ctx_destroy(h);
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
                fault_case(k, s, p, za, zb, 0);
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

void mt_handle_error_tests(void)
{
    double *za = malloc(N_ROWS * D * sizeof *za), *zb = malloc(N_ROWS * D * sizeof *zb);
    mt_make_batch(78, N_ROWS, D, za, zb);
    /* The faults through a handle; a NULL handle is below (it cannot be
     * shared: there is no communicator without it). */
    for (int k = 0; k < (int)(sizeof faults / sizeof faults[0]); k++) {
        if ((faults[k].cross && mt_nprocs < 2) || faults[k].fault == F_NULL_CTX)
            continue;
        for (int s = VICREG_MPI_STRATEGY_REDUCE; s <= VICREG_MPI_STRATEGY_GATHER; s++)
            for (int p = VICREG_PRECISION_F32; p <= VICREG_PRECISION_F64; p++)
                fault_case(k, s, p, za, zb, 1);
    }
    free(za);
    free(zb);

    vicreg_ctx *ctx = NULL;
    vicreg_mpi_ctx *h = NULL, *untouched = (vicreg_mpi_ctx *)(void *)&ctx;
    vicreg_ctx_create(&ctx);

    /* Creation: local, so every refusal is this process's alone. */
    MT_EXPECT_STATUS(vicreg_mpi_ctx_create(ctx, MPI_COMM_WORLD, NULL),
                     VICREG_ERR_INVALID_ARGUMENT, "ctx_create(NULL out)");
    h = untouched;
    MT_EXPECT_STATUS(vicreg_mpi_ctx_create(NULL, MPI_COMM_WORLD, &h), VICREG_ERR_INVALID_ARGUMENT,
                     "ctx_create(NULL ctx)");
    MT_EXPECT(h == untouched, "ctx_create(NULL ctx) wrote *out");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_create(ctx, MPI_COMM_NULL, &h), VICREG_ERR_INVALID_ARGUMENT,
                     "ctx_create(MPI_COMM_NULL)");
    MT_EXPECT(h == untouched, "ctx_create(MPI_COMM_NULL) wrote *out");
    if (mt_nprocs >= 2) {
        /* An inter-communicator between the even and the odd ranks. */
        MPI_Comm half, inter;
        MPI_Comm_split(MPI_COMM_WORLD, mt_rank % 2, mt_rank, &half);
        MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, mt_rank % 2 == 0 ? 1 : 0, 17, &inter);
        MT_EXPECT_STATUS(vicreg_mpi_ctx_create(ctx, inter, &h), VICREG_ERR_INVALID_ARGUMENT,
                         "ctx_create(inter-communicator)");
        MPI_Comm_free(&inter);
        MPI_Comm_free(&half);
    }
    vicreg_mpi_ctx_destroy(NULL); /* nothing */

    h = NULL;
    MT_EXPECT_STATUS(vicreg_mpi_ctx_create(ctx, MPI_COMM_WORLD, &h), VICREG_OK, "ctx_create");
    int s = -1;
    double v = MT_SENTINEL;
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_strategy(h, &s), VICREG_OK, "ctx_get_strategy, fresh");
    MT_EXPECT(s == VICREG_MPI_STRATEGY_AUTO, "a fresh handle's strategy is %d", s);
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_strategy(NULL, &s), VICREG_ERR_INVALID_ARGUMENT,
                     "ctx_get_strategy(NULL handle)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_strategy(h, NULL), VICREG_ERR_INVALID_ARGUMENT,
                     "ctx_get_strategy(NULL out)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_set_strategy(NULL, VICREG_MPI_STRATEGY_REDUCE),
                     VICREG_ERR_INVALID_ARGUMENT, "ctx_set_strategy(NULL)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_set_strategy(h, 3), VICREG_ERR_INVALID_ARGUMENT,
                     "ctx_set_strategy(3)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_set_strategy(h, -1), VICREG_ERR_INVALID_ARGUMENT,
                     "ctx_set_strategy(-1)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_strategy(h, &s), VICREG_OK, "ctx_get_strategy");
    MT_EXPECT(s == VICREG_MPI_STRATEGY_AUTO, "a refused setting changed the strategy to %d", s);
    MT_EXPECT_STATUS(vicreg_mpi_ctx_set_strategy(h, VICREG_MPI_STRATEGY_GATHER), VICREG_OK,
                     "ctx_set_strategy(GATHER)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_strategy(h, &s), VICREG_OK, "ctx_get_strategy");
    MT_EXPECT(s == VICREG_MPI_STRATEGY_GATHER, "the handle's strategy read back as %d", s);

    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(h, VICREG_MPI_INFO_STRATEGY, &v),
                     VICREG_ERR_NO_RESULT, "ctx_get_info before any step");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(NULL, VICREG_MPI_INFO_ROWS, &v),
                     VICREG_ERR_INVALID_ARGUMENT, "ctx_get_info(NULL handle)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(h, VICREG_MPI_INFO_ROWS, NULL),
                     VICREG_ERR_INVALID_ARGUMENT, "ctx_get_info(NULL value)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(h, 0, &v), VICREG_ERR_INVALID_ARGUMENT,
                     "ctx_get_info(0)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(h, 8, &v), VICREG_ERR_INVALID_ARGUMENT,
                     "ctx_get_info(8)");
    MT_EXPECT(v == MT_SENTINEL, "a refused ctx_get_info wrote %g", v);

    /* A NULL handle: every process passes one here, so none waits. */
    double x[4] = { 1, 2, 3, 4 };
    float xf[4] = { 1, 2, 3, 4 };
    double loss = MT_SENTINEL;
    MT_EXPECT_STATUS(vicreg_mpi_ctx_loss_f64(NULL, 2, 2, x, 2, x + 0, 2, &loss, NULL, 0, NULL, 0),
                     VICREG_ERR_INVALID_ARGUMENT, "ctx_loss_f64(NULL handle)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_loss_f32(NULL, 2, 2, xf, 2, xf, 2, &loss, NULL, 0, NULL, 0),
                     VICREG_ERR_INVALID_ARGUMENT, "ctx_loss_f32(NULL handle)");
    MT_EXPECT(loss == MT_SENTINEL, "a refused step wrote the loss");

    /* A failed step leaves no report; a good one makes it; a later failed
     * one keeps it. The shards: rows 2 rank, 2 rank + 1. */
    double za2[4], zb2[4];
    for (int i = 0; i < 4; i++) {
        za2[i] = (double)(mt_rank * 4 + i) * 0.25 + (i % 2 ? 1.0 : -0.5);
        zb2[i] = za2[i] * 0.75 + 0.125;
    }
    MT_EXPECT_STATUS(vicreg_mpi_ctx_loss_f64(h, 2, 0, za2, 2, zb2, 2, &loss, NULL, 0, NULL, 0),
                     VICREG_ERR_BAD_SHAPE, "ctx_loss_f64(d = 0)");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(h, VICREG_MPI_INFO_ROWS, &v), VICREG_ERR_NO_RESULT,
                     "ctx_get_info after a failed step");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_loss_f64(h, 2, 2, za2, 2, zb2, 2, &loss, NULL, 0, NULL, 0),
                     VICREG_OK, "ctx_loss_f64");
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(h, VICREG_MPI_INFO_ROWS, &v), VICREG_OK,
                     "ctx_get_info after a step");
    MT_EXPECT(v == 2.0 * mt_nprocs, "the handle's report says N=%g", v);
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(h, VICREG_MPI_INFO_STRATEGY, &v), VICREG_OK,
                     "ctx_get_info(STRATEGY)");
    MT_EXPECT(v == VICREG_MPI_STRATEGY_GATHER, "the handle's step used strategy %g", v);
    za2[1] = NAN;
    MT_EXPECT_STATUS(vicreg_mpi_ctx_loss_f64(h, 2, 2, za2, 2, zb2, 2, &loss, NULL, 0, NULL, 0),
                     VICREG_ERR_NON_FINITE, "ctx_loss_f64(NaN)");
    v = 0.0;
    MT_EXPECT_STATUS(vicreg_mpi_ctx_get_info(h, VICREG_MPI_INFO_PROCESSES, &v), VICREG_OK,
                     "ctx_get_info after a failed step that followed a good one");
    MT_EXPECT(v == mt_nprocs, "the report says P=%g", v);
    vicreg_mpi_ctx_destroy(h);
    vicreg_ctx_destroy(ctx);
}
