/* One multi-crop VICReg step over MPI: four views of every input, the first
 * two global crops, the other two local ones; every process holds 32 rows
 * of each view. This program is the example of docs/distributed.md; the
 * MPI tests run it under mpirun (mpi-example-views-np1 and -np3). */
#include <stdio.h>

#include <vicreg_mpi.h>

enum { V = 4, G = 2, N = 32, D = 16 };
static float z[V][N * D], grad[V][N * D];

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nprocs;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nprocs);

    /* This process's shard of every view: the same 32 inputs, each view
     * with noise of its own. */
    unsigned seed = 1u + (unsigned)rank;
    for (int i = 0; i < N * D; i++) {
        seed = seed * 1664525u + 1013904223u;
        float x = (float)(seed >> 8) / 16777216.0f - 0.5f;
        for (int v = 0; v < V; v++) {
            seed = seed * 1664525u + 1013904223u;
            z[v][i] = x + (v < G ? 0.05f : 0.2f) * ((float)(seed >> 8) / 16777216.0f - 0.5f);
        }
    }
    const float *views[V] = { z[0], z[1], z[2], z[3] };
    float *grads[V] = { grad[0], grad[1], grad[2], grad[3] };

    vicreg_ctx *ctx = NULL;
    vicreg_mpi_ctx *mpi = NULL;
    if (vicreg_ctx_create(&ctx) != VICREG_OK
        || vicreg_mpi_ctx_create(ctx, MPI_COMM_WORLD, &mpi) != VICREG_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, G);   /* the same everywhere */
    vicreg_ctx_set_param(ctx, VICREG_PARAM_GRAD_SCALE, nprocs); /* gradients averaged */

    double loss, invariance, bytes, low, high;
    int status = vicreg_mpi_ctx_views_loss_f32(mpi, V, N, D, views, NULL, &loss, grads, NULL);
    if (status != VICREG_OK) {
        fprintf(stderr, "rank %d: %s\n", rank, vicreg_mpi_strerror(status));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    vicreg_ctx_get_term(ctx, VICREG_TERM_INVARIANCE, &invariance);
    vicreg_mpi_ctx_get_info(mpi, VICREG_MPI_INFO_BYTES, &bytes);
    /* The global batch's loss: the same on every process. */
    MPI_Allreduce(&loss, &low, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&loss, &high, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0)
        printf("loss %.6f (invariance %.6f) over %d rows of %d views, %.0f bytes per process\n",
               loss, invariance, N * nprocs, V, bytes);
    /* ... backpropagate grad[v] through the encoder for view v ... */
    vicreg_mpi_ctx_destroy(mpi);
    vicreg_ctx_destroy(ctx);
    MPI_Finalize();
    return low == high ? 0 : 1;
}
