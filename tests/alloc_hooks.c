/*
 * alloc_hooks.c - see alloc_hooks.h.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <stdio.h>

#include <check.h>

#include "alloc_hooks.h"

long ah_every_failure_point(size_t steps, long max_k, ah_step_fn *step, ah_recover_fn *recover)
{
    long k;
    long injected = 0;
    for (k = 0; k < max_k; k++) {
        vicreg_ctx *c = NULL;
        int failed = 0;
        fail_after(k);
        for (size_t s = 0; s < steps && !failed; s++) {
            const long fail_before = vicreg_test_fail_alloc_after, allocs_before = allocs();
            char what[96];
            snprintf(what, sizeof what, "allocation %ld fails, step %zu", k + 1, s);
            const int status = step(&c, s, what);
            /* Did the allocation that was set to fail happen in this step? */
            const int hit = fail_before >= 0 && allocs() - allocs_before > fail_before;
            ck_assert_msg(status == (hit ? VICREG_ERR_NO_MEMORY : VICREG_OK), "%s: got %s", what,
                          vicreg_status_name(status));
            if (hit) {
                failed = 1;
                injected++;
                fail_after(-1);
                if (!c)
                    ck_assert_int_eq(vicreg_ctx_create(&c), VICREG_OK);
                recover(c, s, what);
            }
        }
        fail_after(-1);
        vicreg_ctx_destroy(c);
        if (!failed)
            break; /* the scenario makes at most k allocations */
    }
    ck_assert_msg(k < max_k, "the scenario never ran to its end");
    ck_assert_int_eq(injected, k);
    return k;
}

int ah_create_step(vicreg_ctx **c)
{
    vicreg_ctx *const marker = (vicreg_ctx *)(void *)c; /* any non-NULL pointer */
    *c = marker;
    const int status = vicreg_ctx_create(c);
    if (status != VICREG_OK) {
        ck_assert_ptr_eq(*c, marker);
        *c = NULL;
    }
    return status;
}
