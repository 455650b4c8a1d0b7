/*
 * layout.h - how one scratch block is cut into the arrays a loss call uses.
 *
 *   double  sum[2][d]     column sums of Za, Zb; then their means
 *   double  var[2][d]     unbiased column variances
 *   double  diff_sq[d]    per-column sums of (Za - Zb)^2
 *   double  factor[2][d]  each column's factor on Zc in the gradient
 *   REAL    zc[2][n*d]    the centred batches, leading dimension d
 *   REAL    mat[m*m]      the d x d scatter (covariance path) or the
 *                         n x n Gram matrix (Gram path)
 *
 * Each array starts on a VICREG_ALIGN boundary. The total is about
 * 2 n d + min(n, d)^2 elements plus 7 d doubles.
 *
 * The sharded calls (shard.inc) use the same cut: the phase that sums takes
 * n = m = 0 (the per-column arrays only), the scatter and finish phases take
 * the shard's n and m = d, which is the covariance path's size at (n, d).
 * Never installed.
 */
#ifndef VICREG_LAYOUT_H
#define VICREG_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "vicreg.h"

#define VICREG_ALIGN 64

struct vicreg_layout {
    double *sum[2];
    double *var[2];
    double *diff_sq;
    double *factor[2];
    void *zc[2];
    void *mat;
};

/* Adds `count` elements of `size` bytes to *offset, rounded up to the
 * alignment, and reports overflow by setting *offset to SIZE_MAX. */
static inline size_t vicreg_layout_take(size_t *offset, size_t count, size_t size)
{
    size_t at = *offset;
    if (at == SIZE_MAX || (count && size > SIZE_MAX / count)) {
        *offset = SIZE_MAX;
        return at;
    }
    size_t bytes = count * size;
    size_t rounded = (bytes + VICREG_ALIGN - 1) / VICREG_ALIGN * VICREG_ALIGN;
    if (rounded < bytes || rounded > SIZE_MAX - at - 1)
        *offset = SIZE_MAX;
    else
        *offset = at + rounded;
    return at;
}

/* Fills *out (when base is not NULL) for n rows, d columns and an m x m
 * product matrix, and returns the bytes needed, or 0 when they do not fit
 * in size_t. */
static inline size_t vicreg_layout_cut(struct vicreg_layout *out, void *base, size_t n,
                                       size_t d, size_t m, size_t elem_size)
{
    size_t off = 0;
    size_t at_sum[2], at_var[2], at_zc[2];
    at_sum[0] = vicreg_layout_take(&off, d, sizeof(double));
    at_sum[1] = vicreg_layout_take(&off, d, sizeof(double));
    at_var[0] = vicreg_layout_take(&off, d, sizeof(double));
    at_var[1] = vicreg_layout_take(&off, d, sizeof(double));
    size_t at_diff_sq = vicreg_layout_take(&off, d, sizeof(double));
    size_t at_factor[2];
    at_factor[0] = vicreg_layout_take(&off, d, sizeof(double));
    at_factor[1] = vicreg_layout_take(&off, d, sizeof(double));
    size_t nd = n && d > SIZE_MAX / n ? SIZE_MAX : n * d;
    size_t mm = m && m > SIZE_MAX / m ? SIZE_MAX : m * m;
    at_zc[0] = vicreg_layout_take(&off, nd, elem_size);
    at_zc[1] = vicreg_layout_take(&off, nd, elem_size);
    size_t at_mat = vicreg_layout_take(&off, mm, elem_size);
    if (off == SIZE_MAX || nd == SIZE_MAX || mm == SIZE_MAX)
        return 0;
    if (out && base) {
        char *b = base;
        for (int k = 0; k < 2; k++) {
            out->sum[k] = (double *)(void *)(b + at_sum[k]);
            out->var[k] = (double *)(void *)(b + at_var[k]);
            out->zc[k] = b + at_zc[k];
            out->factor[k] = (double *)(void *)(b + at_factor[k]);
        }
        out->diff_sq = (double *)(void *)(b + at_diff_sq);
        out->mat = b + at_mat;
    }
    return off;
}

/* The layout of a loss call of shape (n, d) on the given path. */
static inline size_t vicreg_layout_build(struct vicreg_layout *out, void *base, int path,
                                         size_t n, size_t d, size_t elem_size)
{
    return vicreg_layout_cut(out, base, n, d, path == VICREG_PATH_GRAM ? n : d, elem_size);
}

#endif
