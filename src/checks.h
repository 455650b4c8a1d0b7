/*
 * checks.h - the argument rules that every entry point applies before it
 * touches anything: the shape, the leading dimensions, and which arrays may
 * not overlap. Shared by src/api.c and the MPI layer (src/mpi/step.c), so
 * that both keep exactly the same rules. Never installed.
 */
#ifndef VICREG_CHECKS_H
#define VICREG_CHECKS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "vicreg.h"

/* One batch or gradient array: where it starts and how far it reaches. */
struct vicreg_span {
    uintptr_t begin, end; /* [begin, end) in bytes; begin == end: absent */
};

/* The bytes of an array of n rows of d elements, ld elements apart;
 * absent when p is NULL or n == 0. The extent was checked by
 * vicreg_check_ld(). */
static inline struct vicreg_span vicreg_span_of(const void *p, size_t n, size_t d, size_t ld,
                                                size_t elem)
{
    struct vicreg_span s = { 0, 0 };
    if (p && n > 0) {
        s.begin = (uintptr_t)p;
        s.end = s.begin + ((n - 1) * ld + d) * elem;
    }
    return s;
}

/* 1 when two present spans share a byte. */
static inline int vicreg_overlaps(struct vicreg_span a, struct vicreg_span b)
{
    return a.begin != a.end && b.begin != b.end && a.begin < b.end && b.begin < a.end;
}

/* A whole batch: n >= 2 rows (the unbiased variance needs two) and
 * d >= 1 columns, each a dimension BLAS indexes with int (so is the
 * n x n or d x d scratch matrix). */
static inline int vicreg_check_shape(size_t n, size_t d)
{
    if (n < 2 || d == 0)
        return VICREG_ERR_BAD_SHAPE;
    if (n > INT_MAX || d > INT_MAX)
        return VICREG_ERR_SIZE_OVERFLOW;
    return VICREG_OK;
}

/* The leading dimension of an n x d array the caller passes (n >= 1):
 * ld >= d, and the array's extent fits in size_t bytes and BLAS's int. */
static inline int vicreg_check_ld(size_t n, size_t d, size_t ld, size_t elem)
{
    if (ld < d)
        return VICREG_ERR_BAD_SHAPE;
    if (ld > INT_MAX || n - 1 > (SIZE_MAX - d) / ld)
        return VICREG_ERR_SIZE_OVERFLOW;
    size_t count = (n - 1) * ld + d;
    if (count > SIZE_MAX / elem || count * elem > UINTPTR_MAX)
        return VICREG_ERR_SIZE_OVERFLOW;
    return VICREG_OK;
}

/* The leading dimensions of the gradient buffers that are present, each
 * holding `rows` rows (none when rows == 0). */
static inline int vicreg_check_grad_ld(size_t rows, size_t d, size_t elem, const void *grad_a,
                                       size_t ldga, const void *grad_b, size_t ldgb)
{
    int status = VICREG_OK;
    if (rows && grad_a)
        status = vicreg_check_ld(rows, d, ldga, elem);
    if (status == VICREG_OK && rows && grad_b)
        status = vicreg_check_ld(rows, d, ldgb, elem);
    return status;
}

/* VICREG_ERR_OVERLAP when a gradient buffer (rows rows) shares a byte with
 * za or zb (n rows) or with the other gradient buffer. */
static inline int vicreg_check_grad_overlap(size_t n, size_t d, size_t elem, const void *za,
                                            size_t lda, const void *zb, size_t ldb,
                                            size_t rows, const void *grad_a, size_t ldga,
                                            const void *grad_b, size_t ldgb)
{
    struct vicreg_span a = vicreg_span_of(za, n, d, lda, elem);
    struct vicreg_span b = vicreg_span_of(zb, n, d, ldb, elem);
    struct vicreg_span ga = vicreg_span_of(grad_a, rows, d, ldga, elem);
    struct vicreg_span gb = vicreg_span_of(grad_b, rows, d, ldgb, elem);
    if (vicreg_overlaps(ga, a) || vicreg_overlaps(ga, b) || vicreg_overlaps(gb, a) ||
        vicreg_overlaps(gb, b) || vicreg_overlaps(ga, gb))
        return VICREG_ERR_OVERLAP;
    return VICREG_OK;
}

#endif
