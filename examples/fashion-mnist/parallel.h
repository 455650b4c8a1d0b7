/*
 * parallel.h - the trainer's own loops over images and rows, spread over
 * threads with OpenMP when the compiler has it (the BLAS products are
 * threaded by the BLAS library).
 *
 * Reproducibility: every loop marked FM_PARALLEL_FOR computes each output
 * value by the same code in the same order whichever thread runs it, and
 * sums over rows are taken in fixed chunks (FM_CHUNK_ROWS rows each, a
 * partial sum per chunk) that are then added in chunk order. So the
 * results do not depend on the number of threads, nor on OpenMP being
 * there at all; only the BLAS products depend on the thread count.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_PARALLEL_H
#define FM_PARALLEL_H

#ifdef _OPENMP
#define FM_PARALLEL_FOR _Pragma("omp parallel for schedule(static)")
#else
#define FM_PARALLEL_FOR
#endif

/* Rows per chunk of a chunked column sum. */
#define FM_CHUNK_ROWS 1024

/* Sets the number of threads of the trainer's own loops (n > 0), or leaves
 * OpenMP's default (n == 0); returns the number in use (1 without OpenMP). */
int fm_parallel_setup(int n);

#endif /* FM_PARALLEL_H */
