/* test-errors.c - placeholder until the suite is written. */
#include "testutil.h"

Suite *errors_suite(void)
{
    return suite_create("errors");
}
