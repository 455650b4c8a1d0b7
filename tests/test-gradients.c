/* test-gradients.c - placeholder until the suite is written. */
#include "testutil.h"

Suite *gradients_suite(void)
{
    return suite_create("gradients");
}
