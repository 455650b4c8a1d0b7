/*
 * loss_f64.c - the double instance of the loss computation and of the
 * sharded computation. The code is in the templates it includes;
 * this file only names the precision.
 */
#include <float.h>
#include <math.h>

#include "blas.h"
#include "context.h"
#include "layout.h"
#include "stats.h"

#define REAL double
#define REAL_MAX DBL_MAX
#define REAL_MIN DBL_MIN
#define FN(name) name##_f64

#include "colstats.inc"
#include "matrix.inc"
#include "covpath.inc"
#include "grampath.inc"
#include "loss.inc"
#include "shard.inc"
