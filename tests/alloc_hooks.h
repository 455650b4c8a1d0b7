/*
 * alloc_hooks.h - the allocation counter and the failure switch of the
 * hooked library (src/context.c built with VICREG_TEST_HOOKS), for the
 * memory tests.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef VICREG_TEST_ALLOC_HOOKS_H
#define VICREG_TEST_ALLOC_HOOKS_H

#include <stddef.h>

#include "context.h"
#include "vicreg.h"

/* Allocations the library has made so far. */
static inline long allocs(void)
{
    return vicreg_test_alloc_count;
}

/* The allocation after the next k succeed fails; -1: none fails. */
static inline void fail_after(long k)
{
    vicreg_test_fail_alloc_after = k;
}

/* Check fixture (setup and teardown): no allocation fails unless a test
 * asks for it, and a failing test does not leave the switch set. */
static inline void hooks_reset(void)
{
    fail_after(-1);
}

/* ---------------------------------------------------------------------
 * Every failure point of a scenario (alloc_hooks.c)
 * --------------------------------------------------------------------- */

/* Step s of a scenario on *c (NULL until a step creates it): returns the
 * step's status, and checks itself that a failing step wrote nothing the
 * caller owns and kept the context's terms. */
typedef int ah_step_fn(vicreg_ctx **c, size_t s, const char *what);

/* After step s failed, allocation allowed again: c (created anew if the
 * failure left none) computes step s's shape as a fresh context does. */
typedef void ah_recover_fn(vicreg_ctx *c, size_t s, const char *what);

/* Fails allocation k + 1 of the scenario of `steps` steps, for every k
 * until the scenario makes no more than k allocations (below max_k): the
 * step during which the allocation fails must return
 * VICREG_ERR_NO_MEMORY, every step before it VICREG_OK, and recover()
 * follows the failure. Asserts that every allocation of the scenario was
 * made to fail once; returns how many the scenario makes. */
long ah_every_failure_point(size_t steps, long max_k, ah_step_fn *step, ah_recover_fn *recover);

/* A create step: vicreg_ctx_create into *c, which a failure must leave
 * as it was (then *c is set to NULL). Returns the status. */
int ah_create_step(vicreg_ctx **c);

#endif
