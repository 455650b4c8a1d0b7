/* pass_costs_f64.c - the double instance of pass_costs.inc. */
#define VICREG_REAL_F64
#include "real.h"

#include "pass_costs.inc"
