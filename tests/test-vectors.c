/* test-vectors.c - placeholder until the suite is written. */
#include "testutil.h"

Suite *vectors_suite(void)
{
    return suite_create("vectors");
}
