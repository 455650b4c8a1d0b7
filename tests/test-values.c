/* test-values.c - placeholder until the suite is written. */
#include "testutil.h"

Suite *values_suite(void)
{
    return suite_create("values");
}
