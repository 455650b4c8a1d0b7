/* test-memory.c - placeholder until the suite is written. */
#include <stdlib.h>
#include "testutil.h"
int main(void) { return EXIT_SUCCESS; }
