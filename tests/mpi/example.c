/* One VICReg step over MPI: every process holds 64 rows of the batch. This
 * program is the README's example; tests/mpi/check-install.py builds it
 * against the installed library with pkg-config and runs it under mpirun. */
#include <stdio.h>

#include <vicreg_mpi.h>

enum { N = 64, D = 32 };
static float za[N * D], zb[N * D], grad_a[N * D], grad_b[N * D];

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nprocs;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nprocs);

    /* This process's shard: rows rank*N .. rank*N + N - 1 of the batch. */
    unsigned seed = 1u + (unsigned)rank;
    for (int i = 0; i < N * D; i++) {
        seed = seed * 1664525u + 1013904223u;
        za[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
        zb[i] = za[i] + 0.1f * ((float)(seed & 255u) / 256.0f - 0.5f);
    }

    /* The loss parameters live in a vicreg_ctx; the handle binds it to the
     * communicator and keeps the layer's own state (libvicreg-mpi 1.1). */
    vicreg_ctx *ctx;
    vicreg_mpi_ctx *mpi;
    if (vicreg_ctx_create(&ctx) != VICREG_OK
        || vicreg_mpi_ctx_create(ctx, MPI_COMM_WORLD, &mpi) != VICREG_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    /* A data-parallel trainer averages parameter gradients over the
     * processes; scaling dL/dZ by P gives back the global loss's gradient. */
    vicreg_ctx_set_param(ctx, VICREG_PARAM_GRAD_SCALE, nprocs);

    double loss, strategy, bytes;
    int status = vicreg_mpi_ctx_loss_f32(mpi, N, D, za, D, zb, D, &loss, grad_a, D, grad_b, D);
    if (status != VICREG_OK) {
        fprintf(stderr, "rank %d: %s\n", rank, vicreg_mpi_strerror(status));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    vicreg_mpi_ctx_get_info(mpi, VICREG_MPI_INFO_STRATEGY, &strategy);
    vicreg_mpi_ctx_get_info(mpi, VICREG_MPI_INFO_BYTES, &bytes);
    if (rank == 0)
        printf("loss %.6f over %d rows (%s, %.0f bytes per process)\n", loss, N * nprocs,
               strategy == VICREG_MPI_STRATEGY_GATHER ? "gathered" : "reduced", bytes);
    /* ... backpropagate grad_a and grad_b through this process's encoder ... */
    vicreg_mpi_ctx_destroy(mpi);
    vicreg_ctx_destroy(ctx);
    MPI_Finalize();
    return 0;
}
