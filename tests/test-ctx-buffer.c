/*
 * test-ctx-buffer.c - vicreg_ctx_buffer(): its bad arguments, no buffer
 * before the first request, 64-byte alignment, the same buffer at or
 * below the size held, contents kept through loss and sharded calls and
 * through growth, and a request that cannot be met keeping the buffer.
 *
 * Its allocations (new bytes zero, allocating only to grow, a failed
 * growth) are in test-shard-memory.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shardutil.h"

START_TEST(ctx_buffer_grows_and_keeps)
{
    vicreg_ctx *c = NULL;
    void *out = (void *)&c, *first;
    ck_assert_int_eq(vicreg_ctx_buffer(NULL, 16, &out), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_eq(out, (void *)&c);
    ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_OK);
    ck_assert_int_eq(vicreg_ctx_buffer(c, 16, NULL), VICREG_ERR_INVALID_ARGUMENT);
    /* No buffer yet. */
    ck_assert_int_eq(vicreg_ctx_buffer(c, 0, &out), VICREG_OK);
    ck_assert_ptr_null(out);

    ck_assert_int_eq(vicreg_ctx_buffer(c, 100, &first), VICREG_OK);
    ck_assert_ptr_nonnull(first);
    ck_assert_uint_eq((uintptr_t)first % 64, 0);
    for (int i = 0; i < 100; i++)
        ((unsigned char *)first)[i] = (unsigned char)(i * 7 + 1);
    /* At or below the size held: the same buffer. */
    const size_t same[3] = { 0, 1, 100 };
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(vicreg_ctx_buffer(c, same[k], &out), VICREG_OK);
        ck_assert_ptr_eq(out, first);
    }
    /* Loss calls and sharded calls leave it alone. */
    struct batch b;
    const size_t parts[2] = { 3, 5 };
    batch_make(&b, F64, 1300, 8, 5);
    struct outcome o;
    outcome_init(&o, 8, 5);
    single(&b, c, &o);
    micro_batches_in(c, &b, parts, 2, &o);
    ck_assert_int_eq(vicreg_ctx_buffer(c, 0, &out), VICREG_OK);
    ck_assert_ptr_eq(out, first);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(((unsigned char *)first)[i], (unsigned char)(i * 7 + 1));
    /* Growth keeps the old bytes, aligned again; the pointer may move. */
    const size_t sizes[3] = { 101, 4096, 1 << 20 };
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(vicreg_ctx_buffer(c, sizes[k], &out), VICREG_OK);
        ck_assert_ptr_nonnull(out);
        ck_assert_uint_eq((uintptr_t)out % 64, 0);
        for (int i = 0; i < 100; i++)
            ck_assert_uint_eq(((unsigned char *)out)[i], (unsigned char)(i * 7 + 1));
        /* The whole size is usable (valgrind and ASan see a short one). */
        memset((char *)out + 100, 0x3C, sizes[k] - 100);
    }
    void *last = out;
    ck_assert_int_eq(vicreg_ctx_buffer(c, 0, &out), VICREG_OK);
    ck_assert_ptr_eq(out, last);
    /* A request that cannot be met keeps the buffer and *out. */
    void *keep = (void *)&b;
    out = keep;
    ck_assert_int_eq(vicreg_ctx_buffer(c, SIZE_MAX, &out), VICREG_ERR_NO_MEMORY);
    ck_assert_ptr_eq(out, keep);
    ck_assert_int_eq(vicreg_ctx_buffer(c, 0, &out), VICREG_OK);
    ck_assert_ptr_eq(out, last);
    ck_assert_uint_eq(((unsigned char *)last)[99], (unsigned char)(99 * 7 + 1));
    outcome_free(&o);
    batch_free(&b);
    vicreg_ctx_destroy(c); /* frees the buffer: valgrind's leak check */
}
END_TEST

Suite *ctx_buffer_suite(void)
{
    const struct tu_tcase tc = { .name = "buffer", .tests = { TU_TEST(ctx_buffer_grows_and_keeps) } };
    return tu_suite("ctx-buffer", &tc, 1);
}
