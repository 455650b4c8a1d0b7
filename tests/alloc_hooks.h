/*
 * alloc_hooks.h - the allocation counter and the failure switch of the
 * hooked library (src/context.c built with VICREG_TEST_HOOKS), for the
 * memory tests.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef VICREG_TEST_ALLOC_HOOKS_H
#define VICREG_TEST_ALLOC_HOOKS_H

#include "context.h"

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

#endif
