/*
 * standalone.h - what the test programs without Check (soak/test-soak.c,
 * test-threads-stress.c) share: FAIL(), which prints "<PROGRAM>: " and the
 * message to stderr and exits with EXIT_FAILURE, and a context that must
 * be created. Define PROGRAM (a string literal) before including it.
 */
#ifndef VICREG_TEST_STANDALONE_H
#define VICREG_TEST_STANDALONE_H

#include <stdio.h>
#include <stdlib.h>

#include "vicreg.h"

#define FAIL(...)                                                                          \
    do {                                                                                   \
        fprintf(stderr, PROGRAM ": ");                                                     \
        fprintf(stderr, __VA_ARGS__);                                                      \
        fputc('\n', stderr);                                                               \
        exit(EXIT_FAILURE);                                                                \
    } while (0)

/* A new context; FAIL("create") when vicreg_ctx_create fails. */
static inline vicreg_ctx *ctx_new_or_fail(void)
{
    vicreg_ctx *ctx;
    if (vicreg_ctx_create(&ctx) != VICREG_OK)
        FAIL("create");
    return ctx;
}

#endif
