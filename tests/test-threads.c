/* test-threads.c - placeholder until the suite is written. */
#include "testutil.h"

Suite *threads_suite(void)
{
    return suite_create("threads");
}
