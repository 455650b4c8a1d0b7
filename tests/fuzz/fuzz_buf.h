/*
 * fuzz_buf.h - the harnesses' guarded buffers: every array a harness
 * passes to the library lives inside FUZZ_GUARD bytes of a known pattern
 * on each side, and its inside is patterned too, so that any write the
 * library makes (or must not make) shows in a byte comparison. Uses
 * CHECK() of fuzz_input.h.
 */
#ifndef VICREG_FUZZ_BUF_H
#define VICREG_FUZZ_BUF_H

#include <stdlib.h>
#include <string.h>

#define FUZZ_GUARD 64
#define FUZZ_GUARD_BYTE 0xA5

struct buf {
    unsigned char *raw; /* FUZZ_GUARD + bytes + FUZZ_GUARD; NULL: none */
    size_t bytes;
};

/* A new buffer of `bytes` bytes between guards; returns its inside. */
static inline void *buf_make(struct buf *b, size_t bytes)
{
    b->bytes = bytes;
    b->raw = malloc(bytes + 2 * FUZZ_GUARD);
    CHECK(b->raw, "out of memory in the harness");
    memset(b->raw, FUZZ_GUARD_BYTE, FUZZ_GUARD);
    memset(b->raw + FUZZ_GUARD + bytes, FUZZ_GUARD_BYTE, FUZZ_GUARD);
    for (size_t k = 0; k < bytes; k++)
        b->raw[FUZZ_GUARD + k] = (unsigned char)(0x5A ^ k);
    return b->raw + FUZZ_GUARD;
}

/* A copy of the whole buffer, guards included (NULL for no buffer). */
static inline unsigned char *buf_copy(const struct buf *b)
{
    if (!b->raw)
        return NULL;
    unsigned char *c = malloc(b->bytes + 2 * FUZZ_GUARD);
    CHECK(c, "out of memory in the harness");
    memcpy(c, b->raw, b->bytes + 2 * FUZZ_GUARD);
    return c;
}

/* 1 when the buffer is byte for byte its copy (or there is none). */
static inline int buf_same(const struct buf *b, const unsigned char *copy)
{
    return !b->raw || memcmp(b->raw, copy, b->bytes + 2 * FUZZ_GUARD) == 0;
}

/* Gradient rows are written in columns 0..d-1 only: 1 when the padding of
 * the n rows (leading dimension ld, elements of elem bytes) and the guards
 * are as in the copy `ref`. */
static inline int untouched_outside(const struct buf *b, const unsigned char *ref, size_t elem,
                                    size_t n, size_t d, size_t ld)
{
    const size_t g = FUZZ_GUARD;
    if (memcmp(b->raw, ref, g) || memcmp(b->raw + g + b->bytes, ref + g + b->bytes, g))
        return 0;
    for (size_t i = 0; i + 1 < n; i++) {
        const size_t from = (i * ld + d) * elem, to = (i + 1) * ld * elem;
        if (memcmp(b->raw + g + from, ref + g + from, to - from))
            return 0;
    }
    return 1;
}

#endif
