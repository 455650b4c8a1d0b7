/*
 * loss_f32.c - the float instance of the loss computation and of the
 * sharded computation. The code is in the templates it includes;
 * this file only names the precision.
 */
#include <float.h>
#include <math.h>

#include "blas.h"
#include "context.h"
#include "layout.h"
#include "stats.h"

#define REAL float
#define REAL_MAX FLT_MAX
#define REAL_MIN FLT_MIN
#define FN(name) name##_f32

#include "colstats.inc"
#include "matrix.inc"
#include "covpath.inc"
#include "grampath.inc"
#include "loss.inc"
#include "shard.inc"
