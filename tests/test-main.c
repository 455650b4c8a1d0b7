/*
 * test-main.c - one runner over every suite; the exit status is
 * EXIT_SUCCESS when every test passed, EXIT_FAILURE otherwise.
 *
 * With no CK_RUN_SUITE it runs them all. tests/meson.build registers one
 * meson test per suite, named after it, with CK_RUN_SUITE=<name>: Check
 * then runs that suite alone.
 */
#include <stdlib.h>

#include "testutil.h"

int main(void)
{
    SRunner *runner = srunner_create(lifecycle_suite());
    srunner_add_suite(runner, params_suite());
    srunner_add_suite(runner, errors_suite());
    srunner_add_suite(runner, values_suite());
    srunner_add_suite(runner, gradients_suite());
    srunner_add_suite(runner, vectors_suite());
    srunner_add_suite(runner, threads_suite());
    srunner_add_suite(runner, shard_values_suite());
    srunner_add_suite(runner, shard_gradients_suite());
    srunner_add_suite(runner, loss_rows_suite());
    srunner_add_suite(runner, grad_scale_suite());
    srunner_add_suite(runner, shard_errors_suite());
    srunner_add_suite(runner, ctx_buffer_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
