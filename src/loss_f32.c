/*
 * loss_f32.c - the float instance of the templates: every computation of
 * the library in this precision and its public entry points. The order
 * below is the order of use: each template calls only functions of the
 * ones before it.
 */
#define VICREG_REAL_F32
#include "real.h"

#include <math.h>

#include "api.h"
#include "blas.h"
#include "clones.h"
#include "context.h"
#include "layout.h"
#include "pool.h"
#include "stats.h"

#include "passes.inc"   /* pass 1 and pass 2 over the batches */
#include "gradient.inc" /* the elementwise gradient pass */
#include "parallel.inc" /* the passes on the context's threads */
#include "products.inc" /* the two paths: SYRK, GEMM, what differs */
#include "loss.inc"     /* one loss call */
#include "shard.inc"    /* the three phases of a sharded call */
#include "entry.inc"    /* the public entry points */
