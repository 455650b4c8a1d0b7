/*
 * test-main.c - one runner over every suite; the exit status is
 * EXIT_SUCCESS when every test passed, EXIT_FAILURE otherwise.
 */
#include <stdlib.h>

#include "testutil.h"

/* The 1.1 additions (test-shard.c). */
Suite *shard_suite(void);

int main(void)
{
    SRunner *runner = srunner_create(lifecycle_suite());
    srunner_add_suite(runner, params_suite());
    srunner_add_suite(runner, errors_suite());
    srunner_add_suite(runner, values_suite());
    srunner_add_suite(runner, gradients_suite());
    srunner_add_suite(runner, vectors_suite());
    srunner_add_suite(runner, threads_suite());
    srunner_add_suite(runner, shard_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
