/*
 * test-shard-values.c - the sharded computation gives the values of one
 * call: a batch split into 1 to 6 shards (equal and unequal sizes, a
 * 1-row shard, an empty shard) through sums -> reduce -> scatter ->
 * reduce -> finish, one context per shard as separate processes would
 * have, gives the loss, every term and the concatenated gradient rows of
 * vicreg_loss_*() on the whole batch (every path) and of the plain double
 * reference; so do micro-batches accumulated in one context and one pair
 * of buffers.
 *
 * The cases are test-shard-views.c's split cases with two views through
 * the two-batch calls (viewsutil.h, pair), so that the 1.1 calls and the
 * views phases are held to one set of checks.
 *
 * VICREG_SHARD_REPORT=1 prints the largest disagreements seen.
 */
#include "viewsutil.h"

START_TEST(sharded_equals_single)
{
    vu_split_sharded(_i, 1);
}
END_TEST

START_TEST(micro_batches_equal_single)
{
    vu_split_micro_batches(_i, 1);
}
END_TEST

/* A larger batch with many shards of random sizes, f64 and f32: the
 * agreement does not depend on the tiny shape. */
START_TEST(sharded_equals_single_larger)
{
    vu_split_larger(_i, 1);
}
END_TEST

/* Prints the figures once the equal test case has run (CK_FORK=no runs
 * see every test; with fork each test's figure is its own). */
static void report_worst(void)
{
    vu_split_report(1);
}

Suite *shard_values_suite(void)
{
    const struct tu_tcase tc = {
        .name = "equal",
        .unchecked_teardown = report_worst,
        .tests = { TU_LOOP(sharded_equals_single, 0, VU_SPLIT_CASES),
                   TU_LOOP(micro_batches_equal_single, 0, VU_SPLIT_CASES),
                   TU_LOOP(sharded_equals_single_larger, 0, 4) },
    };
    return tu_suite("shard-values", &tc, 1);
}
