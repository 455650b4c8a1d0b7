/*
 * views_typed.h - the views calls take typed pointer arrays (const float
 * *const *z, double *const *grad, ...); the tests hold their views as void
 * pointers of either precision. This is the copy from one to the other,
 * the one thing the Check tests (viewsutil.c) and the MPI tests
 * (mpi/mpitest.c, which link neither Check nor the tests' helpers) share,
 * so it is all in this header.
 */
#ifndef VICREG_TEST_VIEWS_TYPED_H
#define VICREG_TEST_VIEWS_TYPED_H

#include <stddef.h>
#include <string.h>

#include "vicreg.h"

/* Room for one view more than the library takes, for the calls that must
 * reject it. */
#define VT_CAP (VICREG_MAX_VIEWS + 1)

struct views_typed {
    const float *zf[VT_CAP];
    const double *zd[VT_CAP];
    float *gf[VT_CAP];
    double *gd[VT_CAP];
};

/* The first `count` entries (at most VT_CAP) of z and of grad, each of
 * which may be NULL, as typed pointers; the other entries NULL. */
static inline void views_typed_fill(struct views_typed *t, size_t count, const void *const *z,
                                    void *const *grad)
{
    memset(t, 0, sizeof *t);
    for (size_t k = 0; k < count && k < VT_CAP; k++) {
        if (z) {
            t->zf[k] = z[k];
            t->zd[k] = z[k];
        }
        if (grad) {
            t->gf[k] = grad[k];
            t->gd[k] = grad[k];
        }
    }
}

#endif
