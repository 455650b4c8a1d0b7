/* pass_costs_f32.c - the float instance of pass_costs.inc. */
#define VICREG_REAL_F32
#include "real.h"

#include "pass_costs.inc"
