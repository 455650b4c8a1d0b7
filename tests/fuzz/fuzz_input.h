/*
 * fuzz_input.h - what the libFuzzer harnesses share: the invariant check
 * and the reader that turns the fuzzer's bytes into values.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef VICREG_FUZZ_INPUT_H
#define VICREG_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vicreg.h"

/* An invariant of the library that the input broke: print it with the
 * harness's explanation and abort, which libFuzzer reports as a crash and
 * keeps the input for. */
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s: invariant failed at line %d: %s\n  ", __FILE__, __LINE__, \
                    #cond);                                                                \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* The input, read front to back. Once the bytes run out, a fixed
 * generator continues, so that every input describes a whole case. */
struct reader {
    const uint8_t *p;
    size_t left;
    uint64_t rng;
};

static inline uint8_t byte(struct reader *r)
{
    if (r->left == 0) {
        r->rng = r->rng * 6364136223846793005ull + 1442695040888963407ull;
        return (uint8_t)(r->rng >> 56);
    }
    r->left--;
    return *r->p++;
}

static inline uint64_t bits64(struct reader *r)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v = v << 8 | byte(r);
    return v;
}

static inline uint32_t bits32(struct reader *r)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++)
        v = v << 8 | byte(r);
    return v;
}

/* A status the library documents. */
static inline int known_status(int s)
{
    return s == VICREG_OK || (s <= VICREG_ERR_INVALID_ARGUMENT && s >= VICREG_ERR_NO_RESULT);
}

#endif
