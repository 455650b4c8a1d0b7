/* loss_f32.c - the float twin of the step (see loss.inc). */
#include "vicreg_mpi.h"

#define REAL float
#define SFX(name) name##_f32
#define PRECISION VICREG_PRECISION_F32
#define MPI_REAL_TYPE MPI_FLOAT

#include "loss.inc"
