/* test-params.c - placeholder until the suite is written. */
#include "testutil.h"

Suite *params_suite(void)
{
    return suite_create("params");
}
