/* loss_f64.c - the double twin of the step (see loss.inc). */
#include "vicreg_mpi.h"

#define REAL double
#define SFX(name) name##_f64
#define PRECISION VICREG_PRECISION_F64
#define MPI_REAL_TYPE MPI_DOUBLE

#include "loss.inc"
