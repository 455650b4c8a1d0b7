/* vicreg_mpi.h compiles as strict C99 with every warning an error (and as
 * C++, see header.cpp), and its functions link. */
#include "vicreg_mpi.h"

#include <stdio.h>

int main(void)
{
    double bytes = 0.0;
    int status = vicreg_mpi_bytes_per_step(8, 4, 2, VICREG_PRECISION_F64,
                                           VICREG_MPI_STRATEGY_REDUCE, &bytes);
    printf("%s %g\n", vicreg_mpi_strerror(VICREG_MPI_ERR_MISMATCH), bytes);
    return status == VICREG_OK && bytes > 0.0 ? 0 : 1;
}
