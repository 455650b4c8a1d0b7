/*
 * blasinfo.h - which BLAS the benchmark programs run on, and with how many
 * threads: OpenBLAS (VICREG_BENCH_OPENBLAS) and BLIS (VICREG_BENCH_BLIS)
 * say it themselves; another BLAS is reported as unknown. bench/meson.build
 * defines the macro from what the BLAS library exports.
 */
#ifndef VICREG_BENCH_BLASINFO_H
#define VICREG_BENCH_BLASINFO_H

#include <stdio.h>
#include <stdlib.h>

#include <cblas.h>
#ifdef VICREG_BENCH_BLIS
#include <blis.h>
#endif

/* The BLAS's thread count, or -1 when it cannot say. */
static inline int blas_threads(void)
{
#if defined(VICREG_BENCH_OPENBLAS)
    return openblas_get_num_threads();
#elif defined(VICREG_BENCH_BLIS)
    return (int)bli_thread_get_num_threads();
#else
    return -1;
#endif
}

/* OpenBLAS's kernel set, such as "Haswell", or "none". */
static inline const char *blas_core(void)
{
#if defined(VICREG_BENCH_OPENBLAS)
    return openblas_get_corename();
#else
    return "none";
#endif
}

/* One "# BLAS: ..." line, and the environment that sets its threads and
 * kernels. */
static inline void print_blas(void)
{
#if defined(VICREG_BENCH_OPENBLAS)
    printf("# BLAS: %s; core %s; threads in use: %d (openblas_get_num_threads)\n",
           openblas_get_config(), openblas_get_corename(), openblas_get_num_threads());
#elif defined(VICREG_BENCH_BLIS)
    printf("# BLAS: BLIS %s; threads in use: %d (bli_thread_get_num_threads)\n",
           bli_info_get_version_str(), blas_threads());
#else
    printf("# BLAS: neither OpenBLAS nor BLIS (thread count unknown)\n");
#endif
    const char *names[] = { "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                            "OPENBLAS_THREAD_TIMEOUT", "BLIS_NUM_THREADS", "OMP_NUM_THREADS" };
    printf("#");
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        printf(" %s=%s", names[k], getenv(names[k]) ? getenv(names[k]) : "unset");
    printf("\n");
}

#endif
