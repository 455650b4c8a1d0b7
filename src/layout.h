/*
 * layout.h - how one scratch block is cut into the arrays a loss call uses.
 *
 *   double  sum[V][d]   each view's column sums; then its means (kept
 *                       across views)
 *   double  var[V][d]   each view's column variances (in a sharded call,
 *                       its column sums of squares about the global means)
 *   double  pair_sq[d]  per-column weighted sums of squared differences
 *                       between the views (the invariance)
 *   double  row[4][b]   per-row temporaries of the invariance passes, for
 *                       b = min(d, VICREG_COLUMN_BLOCK) columns at a time
 *   double  factor[V][d] each view's factors on Zc in the gradient
 *   REAL    zc[n*d]     one view's centred copy, leading dimension d
 *   REAL    mat[m*m]    one view's d x d scatter (covariance path) or
 *                       n x n Gram matrix (Gram path)
 *
 * Each array starts on a VICREG_ALIGN boundary. One view is centred and
 * multiplied at a time, so the total is about n d + min(n, d)^2 elements
 * plus (3 V + 1) d + 4 b doubles: every entry grows with V, n, d, m and the
 * element size, so a call at a smaller shape fits in the scratch of a
 * larger one.
 *
 * The sharded calls (shard.inc) use the same cut: the phase that sums
 * takes n = m = 0 (the per-column arrays only), the scatter and finish
 * phases take the shard's n and m = d, the covariance path's size.
 * Never installed.
 */
#ifndef VICREG_LAYOUT_H
#define VICREG_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "vicreg.h"

#define VICREG_ALIGN 64

/* The column block of the invariance passes (passes.inc). */
#define VICREG_COLUMN_BLOCK 256

struct vicreg_layout {
    double *sum;     /* view v at sum + v * d */
    double *var;     /* view v at var + v * d */
    double *pair_sq;
    double *row[4];
    double *factor;  /* view v at factor + v * d */
    void *zc;
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

/* a * b, or SIZE_MAX when it does not fit. */
static inline size_t vicreg_layout_mul(size_t a, size_t b)
{
    return a && b > SIZE_MAX / a ? SIZE_MAX : a * b;
}

/* Fills *out (when base is not NULL) for `views` views of n rows and d
 * columns and an m x m product matrix, and returns the bytes needed, or 0
 * when they do not fit in size_t. */
static inline size_t vicreg_layout_cut(struct vicreg_layout *out, void *base, size_t views,
                                       size_t n, size_t d, size_t m, size_t elem_size)
{
    size_t off = 0;
    const size_t vd = vicreg_layout_mul(views, d);
    const size_t nd = vicreg_layout_mul(n, d), mm = vicreg_layout_mul(m, m);
    size_t at_sum = vicreg_layout_take(&off, vd, sizeof(double));
    size_t at_var = vicreg_layout_take(&off, vd, sizeof(double));
    size_t at_pair_sq = vicreg_layout_take(&off, d, sizeof(double));
    size_t at_row[4];
    const size_t block = d < VICREG_COLUMN_BLOCK ? d : VICREG_COLUMN_BLOCK;
    for (int k = 0; k < 4; k++)
        at_row[k] = vicreg_layout_take(&off, block, sizeof(double));
    size_t at_factor = vicreg_layout_take(&off, vd, sizeof(double));
    size_t at_zc = vicreg_layout_take(&off, nd, elem_size);
    size_t at_mat = vicreg_layout_take(&off, mm, elem_size);
    if (off == SIZE_MAX || vd == SIZE_MAX || nd == SIZE_MAX || mm == SIZE_MAX)
        return 0;
    if (out && base) {
        char *b = base;
        out->sum = (double *)(void *)(b + at_sum);
        out->var = (double *)(void *)(b + at_var);
        out->pair_sq = (double *)(void *)(b + at_pair_sq);
        for (int k = 0; k < 4; k++)
            out->row[k] = (double *)(void *)(b + at_row[k]);
        out->factor = (double *)(void *)(b + at_factor);
        out->zc = b + at_zc;
        out->mat = b + at_mat;
    }
    return off;
}

/* The layout of a loss call of `views` views of shape (n, d) on the given
 * path. */
static inline size_t vicreg_layout_build(struct vicreg_layout *out, void *base, int path,
                                         size_t views, size_t n, size_t d, size_t elem_size)
{
    return vicreg_layout_cut(out, base, views, n, d, path == VICREG_PATH_GRAM ? n : d,
                             elem_size);
}

#endif
