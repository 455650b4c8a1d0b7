/* test-lifecycle.c - placeholder until the suite is written. */
#include "testutil.h"

Suite *lifecycle_suite(void)
{
    return suite_create("lifecycle");
}
