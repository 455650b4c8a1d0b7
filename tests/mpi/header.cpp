/* vicreg_mpi.h compiles as strict C++11 with every warning an error: the
 * C99 program header.c (the same checks, and its functions link), built
 * as C++. */
#include "header.c"
