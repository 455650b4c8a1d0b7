/*
 * checkpoint.c - the encoder file format of checkpoint.h, written and read
 * byte by byte so that it is little-endian on every host.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "augment.h"
#include "checkpoint.h"
#include "util.h"

struct buf {
    unsigned char *p;
    size_t len, cap;
};

/* The arrays of a layer in the order the file holds them, into arr with
 * their lengths into len: the weights (in x out), then, with batch norm,
 * gamma, beta and the running mean and variance (out each). Returns how
 * many. The writer and the reader both go by it. */
#define LAYER_ARRAYS 5
static size_t layer_arrays(const struct fm_layer *L, float *arr[LAYER_ARRAYS],
                           size_t len[LAYER_ARRAYS])
{
    float *const all[LAYER_ARRAYS] = { L->w, L->gamma, L->beta, L->mean, L->var };
    const size_t count = L->has_bn ? LAYER_ARRAYS : 1;
    for (size_t k = 0; k < count; k++) {
        arr[k] = all[k];
        len[k] = k == 0 ? L->in * L->out : L->out;
    }
    return count;
}

static void put(struct buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            fm_die("out of memory writing a checkpoint");
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(b, c, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f32(struct buf *b, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(b, v);
}

static void put_f32s(struct buf *b, const float *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_f32(b, f[i]);
}

void fm_checkpoint_save(const char *path, const struct fm_mlp *m, const struct fm_ckpt_info *info)
{
    struct buf b = {0};
    put(&b, FM_CKPT_MAGIC, 8);
    put_u32(&b, FM_CKPT_VERSION);
    put_u32(&b, (uint32_t)m->n_layers);
    put_u32(&b, (uint32_t)m->layer[0].in);
    for (size_t l = 0; l < m->n_layers; l++)
        put_u32(&b, (uint32_t)m->layer[l].out);
    for (size_t l = 0; l < m->n_layers; l++)
        put_u32(&b, m->layer[l].has_bn ? 1u : 0u);
    put_f32(&b, FM_PIXEL_MEAN);
    put_f32(&b, FM_PIXEL_STD);
    put_f32(&b, FM_BN_EPS);
    put_u64(&b, info->seed);
    put_u32(&b, info->epochs);
    for (size_t l = 0; l < m->n_layers; l++) {
        float *arr[LAYER_ARRAYS];
        size_t len[LAYER_ARRAYS];
        size_t count = layer_arrays(&m->layer[l], arr, len);
        for (size_t k = 0; k < count; k++)
            put_f32s(&b, arr[k], len[k]);
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t off = 0; off < b.len; off += 1u << 30) {
        size_t n = b.len - off < (1u << 30) ? b.len - off : (1u << 30);
        crc = crc32(crc, b.p + off, (uInt)n);
    }
    put_u32(&b, (uint32_t)crc);

    size_t tl = strlen(path) + 8;
    char *tmp = fm_malloc(tl, 1);
    snprintf(tmp, tl, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        fm_die("cannot write %s", tmp);
    if (fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0)
        fm_die("error writing %s", tmp);
    if (rename(tmp, path) != 0)
        fm_die("cannot rename %s to %s", tmp, path);
    free(tmp);
    free(b.p);
}

struct reader {
    const unsigned char *p;
    size_t len, pos;
    const char *path;
};

static const unsigned char *take(struct reader *r, size_t n)
{
    if (r->len - r->pos < n)
        fm_die("%s: truncated checkpoint (%zu bytes)", r->path, r->len);
    const unsigned char *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static uint32_t get_u32(struct reader *r)
{
    const unsigned char *c = take(r, 4);
    return (uint32_t)c[0] | ((uint32_t)c[1] << 8) | ((uint32_t)c[2] << 16) | ((uint32_t)c[3] << 24);
}

static float get_f32(struct reader *r)
{
    uint32_t v = get_u32(r);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static void get_f32s(struct reader *r, float *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        f[i] = get_f32(r);
}

void fm_checkpoint_load(const char *path, struct fm_mlp *m, struct fm_ckpt_info *info)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fm_die("cannot open checkpoint %s", path);
    struct buf b = {0};
    unsigned char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        put(&b, chunk, got);
        if (b.len > ((size_t)1 << 32))
            fm_die("%s: too large for a checkpoint", path);
    }
    if (ferror(f))
        fm_die("error reading %s", path);
    fclose(f);

    struct reader r = {b.p, b.len, 0, path};
    if (b.len < 8 + 4 + 4 || memcmp(take(&r, 8), FM_CKPT_MAGIC, 8) != 0)
        fm_die("%s: not a libvicreg Fashion-MNIST checkpoint (bad magic)", path);
    uint32_t version = get_u32(&r);
    if (version != FM_CKPT_VERSION)
        fm_die("%s: checkpoint format version %u, this program reads version %u", path,
               (unsigned)version, FM_CKPT_VERSION);
    /* The CRC first, so that damaged sizes are reported as damage. */
    if (b.len < 4)
        fm_die("%s: truncated checkpoint", path);
    struct reader tail = {b.p, b.len, b.len - 4, path};
    uint32_t stored = get_u32(&tail);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t off = 0; off < b.len - 4; off += 1u << 30) {
        size_t n = b.len - 4 - off < (1u << 30) ? b.len - 4 - off : (1u << 30);
        crc = crc32(crc, b.p + off, (uInt)n);
    }
    if ((uint32_t)crc != stored)
        fm_die("%s: CRC mismatch (the file is damaged)", path);
    r.len = b.len - 4;

    uint32_t nl = get_u32(&r);
    if (nl == 0 || nl > FM_MAX_LAYERS)
        fm_die("%s: %u layers (1..%d supported)", path, (unsigned)nl, FM_MAX_LAYERS);
    size_t widths[FM_MAX_LAYERS + 1];
    int flags[FM_MAX_LAYERS];
    for (uint32_t l = 0; l <= nl; l++) {
        widths[l] = get_u32(&r);
        if (widths[l] == 0 || widths[l] > (1u << 20))
            fm_die("%s: layer width %zu out of range", path, widths[l]);
    }
    for (uint32_t l = 0; l < nl; l++) {
        uint32_t fl = get_u32(&r);
        if (fl > 1)
            fm_die("%s: unknown layer flag %u", path, (unsigned)fl);
        flags[l] = (int)fl;
    }
    for (uint32_t l = 0; l + 1 < nl; l++)
        if (!flags[l])
            fm_die("%s: only the last layer may be a plain linear map", path);
    float mean = get_f32(&r), std = get_f32(&r), eps = get_f32(&r);
    if (mean != FM_PIXEL_MEAN || std != FM_PIXEL_STD || eps != FM_BN_EPS)
        fm_die("%s: input scaling (%g, %g) or BN epsilon %g differ from this program's", path,
               (double)mean, (double)std, (double)eps);
    uint32_t lo = get_u32(&r), hi = get_u32(&r);
    info->seed = ((uint64_t)hi << 32) | lo;
    info->epochs = get_u32(&r);

    /* The arrays must fill the rest of the file exactly; checked before
     * anything is allocated. */
    size_t need = 0;
    for (uint32_t l = 0; l < nl; l++)
        need += 4 * widths[l] * widths[l + 1] + (flags[l] ? 16 * widths[l + 1] : 0);
    if (need != r.len - r.pos)
        fm_die("%s: the header promises %zu bytes of weights, the file holds %zu", path, need,
               r.len - r.pos);
    struct fm_rng rng;
    fm_rng_seed(&rng, 0, 0);
    fm_mlp_init(m, nl, widths, !flags[nl - 1], &rng);
    for (size_t l = 0; l < nl; l++) {
        float *arr[LAYER_ARRAYS];
        size_t len[LAYER_ARRAYS];
        size_t count = layer_arrays(&m->layer[l], arr, len);
        for (size_t k = 0; k < count; k++)
            get_f32s(&r, arr[k], len[k]);
    }
    if (r.pos != r.len)
        fm_die("%s: %zu unexpected bytes before the CRC", path, r.len - r.pos);
    free(b.p);
}
