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
    Suite *(*const suites[])(void) = {
        lifecycle_suite,       params_suite,     errors_suite,      values_suite,
        gradients_suite,       vectors_suite,    threads_suite,     shard_values_suite,
        shard_gradients_suite, loss_rows_suite,  grad_scale_suite,  shard_errors_suite,
        ctx_buffer_suite,      views_exact_suite, views_suite,      shard_views_suite,
        views_vectors_suite,   pass_threads_suite,
    };
    SRunner *runner = srunner_create(suites[0]());
    for (size_t k = 1; k < sizeof suites / sizeof suites[0]; k++)
        srunner_add_suite(runner, suites[k]());
    return tu_run(runner);
}
