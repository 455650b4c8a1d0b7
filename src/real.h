/*
 * real.h - the one precision switch of the templates (*.inc).
 *
 * A source file that instantiates them defines VICREG_REAL_F32 or
 * VICREG_REAL_F64 and includes this header first. Then the templates see
 *
 *   REAL       float or double: the element type of the caller's arrays,
 *              of the centred copies and of the BLAS products
 *   REAL_MIN   the smallest normal, and
 *   REAL_MAX   the largest finite value of REAL
 *   REAL_PRECISION   VICREG_PRECISION_F32 or VICREG_PRECISION_F64
 *   X(name)    name_f32 or name_f64: every function a template defines,
 *              and every precision-specific function it calls, is named
 *              through X(), so that both instances live side by side.
 *
 * Sums that feed the loss are double in both instances. Never installed.
 */
#ifndef VICREG_REAL_H
#define VICREG_REAL_H

#include <float.h>

#include "vicreg.h"

#if defined(VICREG_REAL_F32) && !defined(VICREG_REAL_F64)
#define REAL float
#define REAL_MIN FLT_MIN
#define REAL_MAX FLT_MAX
#define REAL_PRECISION VICREG_PRECISION_F32
#define X(name) name##_f32
#elif defined(VICREG_REAL_F64) && !defined(VICREG_REAL_F32)
#define REAL double
#define REAL_MIN DBL_MIN
#define REAL_MAX DBL_MAX
#define REAL_PRECISION VICREG_PRECISION_F64
#define X(name) name##_f64
#else
#error "define exactly one of VICREG_REAL_F32 and VICREG_REAL_F64 before real.h"
#endif

#endif
