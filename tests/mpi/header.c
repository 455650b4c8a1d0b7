/* vicreg_mpi.h compiles as strict C99 with every warning an error (and as
 * C++, see header.cpp), and its functions link: the handle's and the views
 * calls' (since 1.2) with the prototypes below, and the version macros,
 * the version functions and the layer's Meson version (argv[1]) agree. */
#include "vicreg_mpi.h"

#include <stdio.h>
#include <string.h>

#if VICREG_MPI_VERSION_NUMBER \
    != VICREG_MPI_VERSION_MAJOR * 10000 + VICREG_MPI_VERSION_MINOR * 100 + VICREG_MPI_VERSION_PATCH
#error "VICREG_MPI_VERSION_NUMBER is not major*10000 + minor*100 + patch"
#endif

int main(int argc, char **argv)
{
    int (*create)(vicreg_ctx *, MPI_Comm, vicreg_mpi_ctx **) = vicreg_mpi_ctx_create;
    void (*destroy)(vicreg_mpi_ctx *) = vicreg_mpi_ctx_destroy;
    int (*set_strategy)(vicreg_mpi_ctx *, int) = vicreg_mpi_ctx_set_strategy;
    int (*get_strategy)(const vicreg_mpi_ctx *, int *) = vicreg_mpi_ctx_get_strategy;
    int (*get_info)(const vicreg_mpi_ctx *, int, double *) = vicreg_mpi_ctx_get_info;
    int (*loss_f32)(vicreg_mpi_ctx *, size_t, size_t, const float *, size_t, const float *,
                    size_t, double *, float *, size_t, float *, size_t) = vicreg_mpi_ctx_loss_f32;
    int (*loss_f64)(vicreg_mpi_ctx *, size_t, size_t, const double *, size_t, const double *,
                    size_t, double *, double *, size_t, double *, size_t) = vicreg_mpi_ctx_loss_f64;
    int (*views_f32)(vicreg_ctx *, MPI_Comm, size_t, size_t, size_t, const float *const *,
                     const size_t *, double *, float *const *, const size_t *)
        = vicreg_mpi_views_loss_f32;
    int (*views_f64)(vicreg_ctx *, MPI_Comm, size_t, size_t, size_t, const double *const *,
                     const size_t *, double *, double *const *, const size_t *)
        = vicreg_mpi_views_loss_f64;
    int (*ctx_views_f32)(vicreg_mpi_ctx *, size_t, size_t, size_t, const float *const *,
                         const size_t *, double *, float *const *, const size_t *)
        = vicreg_mpi_ctx_views_loss_f32;
    int (*ctx_views_f64)(vicreg_mpi_ctx *, size_t, size_t, size_t, const double *const *,
                         const size_t *, double *, double *const *, const size_t *)
        = vicreg_mpi_ctx_views_loss_f64;
    int (*views_bytes)(size_t, size_t, size_t, int, int, int, double *)
        = vicreg_mpi_views_bytes_per_step;
    char version[32];
    double bytes = 0.0;
    int strategy = -1, ok = 1;
    int status = vicreg_mpi_bytes_per_step(8, 4, 2, VICREG_PRECISION_F64,
                                           VICREG_MPI_STRATEGY_REDUCE, &bytes);
    printf("%s %g\n", vicreg_mpi_strerror(VICREG_MPI_ERR_MISMATCH), bytes);
    ok = status == VICREG_OK && bytes > 0.0;
    double views_bytes2 = 0.0;
    ok = ok && views_bytes(2, 8, 4, 2, VICREG_PRECISION_F64, VICREG_MPI_STRATEGY_REDUCE,
                           &views_bytes2) == VICREG_OK
         && views_bytes2 == bytes && VICREG_MPI_INFO_VIEWS == 7;
    /* Not called: the calls on a context need MPI initialised. */
    ok = ok && views_f32 != NULL && views_f64 != NULL;

    /* No MPI here: only the calls that refuse a NULL handle first. */
    destroy(NULL);
    ok = ok && create(NULL, MPI_COMM_NULL, NULL) == VICREG_ERR_INVALID_ARGUMENT
         && set_strategy(NULL, VICREG_MPI_STRATEGY_AUTO) == VICREG_ERR_INVALID_ARGUMENT
         && get_strategy(NULL, &strategy) == VICREG_ERR_INVALID_ARGUMENT
         && get_info(NULL, VICREG_MPI_INFO_ROWS, &bytes) == VICREG_ERR_INVALID_ARGUMENT
         && loss_f32(NULL, 0, 1, NULL, 1, NULL, 1, NULL, NULL, 0, NULL, 0)
                == VICREG_ERR_INVALID_ARGUMENT
         && loss_f64(NULL, 0, 1, NULL, 1, NULL, 1, NULL, NULL, 0, NULL, 0)
                == VICREG_ERR_INVALID_ARGUMENT
         && ctx_views_f32(NULL, 3, 0, 1, NULL, NULL, NULL, NULL, NULL)
                == VICREG_ERR_INVALID_ARGUMENT
         && ctx_views_f64(NULL, 3, 0, 1, NULL, NULL, NULL, NULL, NULL)
                == VICREG_ERR_INVALID_ARGUMENT;

    snprintf(version, sizeof version, "%d.%d.%d", VICREG_MPI_VERSION_MAJOR,
             VICREG_MPI_VERSION_MINOR, VICREG_MPI_VERSION_PATCH);
    printf("libvicreg-mpi %s (%u), header %s, Meson %s\n", vicreg_mpi_version_string(),
           vicreg_mpi_version_number(), version, argc > 1 ? argv[1] : "(not given)");
    ok = ok && vicreg_mpi_version_number() == (unsigned)VICREG_MPI_VERSION_NUMBER
         && strcmp(vicreg_mpi_version_string(), version) == 0 && argc == 2
         && strcmp(argv[1], version) == 0;
    return ok ? 0 : 1;
}
