/* loss_f32.c - the float instance of the step (see loss.inc). */
#define VICREG_REAL_F32
#include "../real.h"

#include "vicreg_mpi.h"

#define MPI_REAL_TYPE MPI_FLOAT

#include "loss.inc"
