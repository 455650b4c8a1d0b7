/* loss_f64.c - the double instance of the step (see loss.inc). */
#define VICREG_REAL_F64
#include "../real.h"

#include "vicreg_mpi.h"

#define MPI_REAL_TYPE MPI_DOUBLE

#include "loss.inc"
