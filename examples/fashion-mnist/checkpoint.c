/*
 * checkpoint.c - the encoder file formats of checkpoint.h (version 1 for
 * the MLP, 2 for the CNN), written and read byte by byte so that they are
 * little-endian on every host.
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

/* The arrays of a CNN block in file order: W, gamma, beta, mean, var. */
static size_t block_arrays(const struct fm_cnn_block *B, float *arr[LAYER_ARRAYS],
                           size_t len[LAYER_ARRAYS])
{
    float *const all[LAYER_ARRAYS] = { B->w, B->gamma, B->beta, B->mean, B->var };
    for (size_t k = 0; k < LAYER_ARRAYS; k++) {
        arr[k] = all[k];
        len[k] = k == 0 ? B->k * B->k * B->in * B->out : B->out;
    }
    return LAYER_ARRAYS;
}

static void put_common(struct buf *b, const struct fm_ckpt_info *info)
{
    put_f32(b, FM_PIXEL_MEAN);
    put_f32(b, FM_PIXEL_STD);
    put_f32(b, FM_BN_EPS);
    put_u64(b, info->seed);
    put_u32(b, info->epochs);
}

static void put_cnn(struct buf *b, const struct fm_cnn *m, const struct fm_ckpt_info *info)
{
    put(b, FM_CKPT_MAGIC, 8);
    put_u32(b, FM_CKPT_VERSION_CNN);
    put_u32(b, (uint32_t)m->n_blocks);
    put_u32(b, (uint32_t)m->in_channels);
    put_u32(b, (uint32_t)m->block[0].k);
    for (size_t l = 0; l < m->n_blocks; l++) {
        put_u32(b, (uint32_t)m->block[l].out);
        put_u32(b, m->block[l].pool ? 1u : 0u);
    }
    put_common(b, info);
    for (size_t l = 0; l < m->n_blocks; l++) {
        float *arr[LAYER_ARRAYS];
        size_t len[LAYER_ARRAYS];
        size_t count = block_arrays(&m->block[l], arr, len);
        for (size_t k = 0; k < count; k++)
            put_f32s(b, arr[k], len[k]);
    }
}

static void put_mlp(struct buf *b, const struct fm_mlp *m, const struct fm_ckpt_info *info)
{
    put(b, FM_CKPT_MAGIC, 8);
    put_u32(b, FM_CKPT_VERSION_MLP);
    put_u32(b, (uint32_t)m->n_layers);
    put_u32(b, (uint32_t)m->layer[0].in);
    for (size_t l = 0; l < m->n_layers; l++)
        put_u32(b, (uint32_t)m->layer[l].out);
    for (size_t l = 0; l < m->n_layers; l++)
        put_u32(b, m->layer[l].has_bn ? 1u : 0u);
    put_common(b, info);
    for (size_t l = 0; l < m->n_layers; l++) {
        float *arr[LAYER_ARRAYS];
        size_t len[LAYER_ARRAYS];
        size_t count = layer_arrays(&m->layer[l], arr, len);
        for (size_t k = 0; k < count; k++)
            put_f32s(b, arr[k], len[k]);
    }
}

void fm_checkpoint_save(const char *path, const struct fm_encoder *e,
                        const struct fm_ckpt_info *info)
{
    struct buf b = {0};
    if (e->kind == FM_MODEL_MLP)
        put_mlp(&b, &e->mlp, info);
    else
        put_cnn(&b, &e->cnn, info);
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

/* The input scaling, the BN epsilon, the seed and the epochs. */
static void get_common(struct reader *r, struct fm_ckpt_info *info)
{
    float mean = get_f32(r), std = get_f32(r), eps = get_f32(r);
    if (mean != FM_PIXEL_MEAN || std != FM_PIXEL_STD || eps != FM_BN_EPS)
        fm_die("%s: input scaling (%g, %g) or BN epsilon %g differ from this program's",
               r->path, (double)mean, (double)std, (double)eps);
    uint32_t lo = get_u32(r), hi = get_u32(r);
    info->seed = ((uint64_t)hi << 32) | lo;
    info->epochs = get_u32(r);
}

/* The body of a version 2 file, after the version field. */
static void load_cnn(struct reader *r, struct fm_cnn *m, struct fm_ckpt_info *info)
{
    const char *path = r->path;
    uint32_t nb = get_u32(r), in_ch = get_u32(r), k = get_u32(r);
    if (nb == 0 || nb > FM_CNN_MAX_BLOCKS)
        fm_die("%s: %u blocks (1..%d supported)", path, (unsigned)nb, FM_CNN_MAX_BLOCKS);
    if (in_ch == 0 || in_ch > 16)
        fm_die("%s: %u input channels", path, (unsigned)in_ch);
    if (k % 2 == 0 || k > 9)
        fm_die("%s: kernel side %u (odd, at most 9)", path, (unsigned)k);
    size_t out[FM_CNN_MAX_BLOCKS];
    int pool[FM_CNN_MAX_BLOCKS];
    for (uint32_t l = 0; l < nb; l++) {
        out[l] = get_u32(r);
        uint32_t p = get_u32(r);
        if (out[l] == 0 || out[l] > 4096)
            fm_die("%s: block width %zu out of range", path, out[l]);
        if (p > 1)
            fm_die("%s: unknown pooling flag %u", path, (unsigned)p);
        pool[l] = (int)p;
    }
    get_common(r, info);
    size_t need = 0, in = in_ch;
    for (uint32_t l = 0; l < nb; l++) {
        need += 4 * (k * k * in * out[l] + 4 * out[l]);
        in = out[l];
    }
    if (need != r->len - r->pos)
        fm_die("%s: the header promises %zu bytes of weights, the file holds %zu", path, need,
               r->len - r->pos);
    struct fm_rng rng;
    fm_rng_seed(&rng, 0, 0);
    fm_cnn_init(m, in_ch, nb, out, pool, k, &rng);
    for (size_t l = 0; l < nb; l++) {
        float *arr[LAYER_ARRAYS];
        size_t len[LAYER_ARRAYS];
        size_t count = block_arrays(&m->block[l], arr, len);
        for (size_t a = 0; a < count; a++)
            get_f32s(r, arr[a], len[a]);
    }
    if (r->pos != r->len)
        fm_die("%s: %zu unexpected bytes before the CRC", path, r->len - r->pos);
}

void fm_checkpoint_load(const char *path, struct fm_encoder *e, struct fm_ckpt_info *info)
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
    if (version != FM_CKPT_VERSION_MLP && version != FM_CKPT_VERSION_CNN)
        fm_die("%s: checkpoint format version %u, this program reads versions %u and %u", path,
               (unsigned)version, FM_CKPT_VERSION_MLP, FM_CKPT_VERSION_CNN);
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

    memset(e, 0, sizeof *e);
    if (version == FM_CKPT_VERSION_CNN) {
        e->kind = FM_MODEL_CNN;
        load_cnn(&r, &e->cnn, info);
        free(b.p);
        return;
    }
    e->kind = FM_MODEL_MLP;
    struct fm_mlp *m = &e->mlp;
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
    get_common(&r, info);

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
