/*
 * data.c - reading the IDX files with zlib, and the synthetic stand-in.
 *
 * The IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian 32-bit
 * magic 0x00000803 for images (unsigned bytes, three dimensions) or
 * 0x00000801 for labels (one dimension), then one big-endian 32-bit size per
 * dimension, then the bytes. gzread() also reads uncompressed files, so the
 * .gz suffix is optional.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "data.h"
#include "util.h"

const char *const fm_class_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

static const char *const file_stems[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
};

/* The path of one file in dir: the .gz name if it exists, else the plain
 * name if that exists. Returns 0 when neither does. */
static int file_path(const char *dir, const char *stem, char *out, size_t len)
{
    static const char *const suffixes[2] = {".gz", ""};
    for (int s = 0; s < 2; s++) {
        int w = snprintf(out, len, "%s/%s%s", dir, stem, suffixes[s]);
        if (w > 0 && (size_t)w < len && access(out, R_OK) == 0)
            return 1;
    }
    return 0;
}

static int dir_has_all(const char *dir)
{
    char path[1024];
    for (int f = 0; f < 4; f++)
        if (!file_path(dir, file_stems[f], path, sizeof path))
            return 0;
    return 1;
}

int fm_data_find(const char *dir, char *out, size_t out_len)
{
    const char *candidates[2];
    size_t nc = 0;
    if (dir) {
        candidates[nc++] = dir;
    } else {
        const char *env = getenv("FASHION_MNIST_DIR");
        if (env && *env)
            candidates[nc++] = env;
        candidates[nc++] = FM_DEFAULT_DATA_DIR;
    }
    for (size_t i = 0; i < nc; i++)
        if (dir_has_all(candidates[i])) {
            snprintf(out, out_len, "%s", candidates[i]);
            return 1;
        }
    return 0;
}

void fm_data_print_missing(const char *dir)
{
    fprintf(stderr,
            "%s: the Fashion-MNIST files were not found in %s.\n"
            "  On Debian or Ubuntu install them with:\n"
            "      sudo apt-get install dataset-fashion-mnist\n"
            "  (they go to " FM_DEFAULT_DATA_DIR "), or pass --data DIR for a\n"
            "  directory holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,\n"
            "  t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzip or not),\n"
            "  or use --synthetic for generated stand-in images.\n",
            FM_PROG, dir ? dir : "$FASHION_MNIST_DIR or " FM_DEFAULT_DATA_DIR);
}

static void read_exact(gzFile f, const char *path, void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        unsigned chunk = len > (1u << 30) ? (1u << 30) : (unsigned)len;
        int got = gzread(f, p, chunk);
        if (got <= 0) {
            int errnum = 0;
            const char *msg = gzerror(f, &errnum);
            fm_die("%s: %s", path, got == 0 ? "file is truncated" : msg);
        }
        p += got;
        len -= (size_t)got;
    }
}

static uint32_t read_be32(gzFile f, const char *path)
{
    unsigned char b[4];
    read_exact(f, path, b, 4);
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* Reads an IDX file of `ndim` dimensions of unsigned bytes. */
static uint8_t *read_idx(const char *path, unsigned ndim, uint32_t dims[3])
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        fm_die("cannot open %s", path);
    uint32_t magic = read_be32(f, path);
    if (magic != (0x0800u | ndim))
        fm_die("%s: not an IDX file of %u-dimensional unsigned bytes (magic 0x%08x)",
               path, ndim, (unsigned)magic);
    size_t total = 1;
    for (unsigned i = 0; i < ndim; i++) {
        dims[i] = read_be32(f, path);
        if (dims[i] == 0 || dims[i] > (1u << 24) || total > ((size_t)1 << 34) / dims[i])
            fm_die("%s: implausible dimension %u", path, (unsigned)dims[i]);
        total *= dims[i];
    }
    uint8_t *data = fm_malloc(total, 1);
    read_exact(f, path, data, total);
    unsigned char extra;
    if (gzread(f, &extra, 1) != 0)
        fm_die("%s: unexpected data after the last item", path);
    gzclose(f);
    return data;
}

static void load_split(const char *dir, const char *img_stem, const char *lbl_stem,
                       struct fm_split *s)
{
    char path[1024];
    uint32_t dims[3];
    if (!file_path(dir, img_stem, path, sizeof path))
        fm_die("%s/%s[.gz] not found", dir, img_stem);
    s->pixels = read_idx(path, 3, dims);
    s->count = dims[0];
    s->rows = dims[1];
    s->cols = dims[2];
    if (!file_path(dir, lbl_stem, path, sizeof path))
        fm_die("%s/%s[.gz] not found", dir, lbl_stem);
    s->labels = read_idx(path, 1, dims);
    if (dims[0] != s->count)
        fm_die("%s: %u labels for %zu images", path, (unsigned)dims[0], s->count);
    for (size_t i = 0; i < s->count; i++)
        if (s->labels[i] > 9)
            fm_die("%s: label %u outside 0..9", path, (unsigned)s->labels[i]);
}

void fm_data_load(const char *dir, struct fm_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    load_split(dir, file_stems[0], file_stems[1], &ds->train);
    load_split(dir, file_stems[2], file_stems[3], &ds->test);
    if (ds->train.rows != ds->test.rows || ds->train.cols != ds->test.cols)
        fm_die("%s: training images are %zux%zu but test images %zux%zu", dir,
               ds->train.rows, ds->train.cols, ds->test.rows, ds->test.cols);
    snprintf(ds->source, sizeof ds->source, "%s", dir);
}

/* ------------------------------------------------------------------------
 * Synthetic images: one shape per class drawn with a random offset, scale,
 * stroke width and brightness, plus pixel noise.
 * ------------------------------------------------------------------------ */
static double shape_value(int cls, double u, double v, double w)
{
    /* u, v: coordinates centred on the shape, in units of its size (about
     * -1..1 inside); w: stroke half-width. Returns coverage in 0..1. */
    double r = sqrt(u * u + v * v);
    switch (cls) {
    case 0: return fabs(v) < w && fabs(u) < 1.0;                    /* horizontal bar */
    case 1: return fabs(u) < w && fabs(v) < 1.0;                    /* vertical bar */
    case 2: return r < 0.8;                                         /* disc */
    case 3: return fabs(r - 0.75) < w;                              /* ring */
    case 4: return (fabs(u) < w || fabs(v) < w) && r < 1.0;         /* plus */
    case 5: return fabs(u - v) < 1.4 * w && fabs(u) < 0.9;          /* diagonal */
    case 6: return (fabs(u - v) < 1.4 * w || fabs(u + v) < 1.4 * w) && fabs(u) < 0.9; /* x */
    case 7: return fmax(fabs(u), fabs(v)) < 0.85 &&
                   fmax(fabs(u), fabs(v)) > 0.85 - 2.0 * w;          /* square outline */
    case 8: return v < 0.0 && v > -0.9 && fabs(u) < 0.9;            /* upper half block */
    default: return fabs(v) < 0.9 && fabs(u) < 0.9 &&
                    ((int)floor((u + 1.0) * 2.0) + (int)floor((v + 1.0) * 2.0)) % 2 == 0; /* checks */
    }
}

static void synth_split(struct fm_split *s, size_t count, struct fm_rng *rng)
{
    s->count = count;
    s->rows = s->cols = 28;
    s->pixels = fm_malloc(count, 28 * 28);
    s->labels = fm_malloc(count, 1);
    for (size_t i = 0; i < count; i++) {
        int cls = (int)fm_rng_below(rng, 10);
        double cx = 13.5 + fm_rng_range(rng, -3.0, 3.0);
        double cy = 13.5 + fm_rng_range(rng, -3.0, 3.0);
        double size = fm_rng_range(rng, 7.0, 11.0);
        double w = fm_rng_range(rng, 0.15, 0.3);
        double bright = fm_rng_range(rng, 150.0, 255.0);
        uint8_t *img = s->pixels + i * 28 * 28;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) {
                double val = bright * shape_value(cls, ((double)x - cx) / size,
                                                  ((double)y - cy) / size, w);
                val += 20.0 * fm_rng_normal(rng);
                img[y * 28 + x] = (uint8_t)(val < 0.0 ? 0.0 : val > 255.0 ? 255.0 : val);
            }
        s->labels[i] = (uint8_t)cls;
    }
}

void fm_data_synthetic(struct fm_dataset *ds, size_t n_train, size_t n_test, uint64_t seed)
{
    struct fm_rng rng;
    memset(ds, 0, sizeof *ds);
    fm_rng_seed(&rng, seed, 101);
    synth_split(&ds->train, n_train, &rng);
    synth_split(&ds->test, n_test, &rng);
    ds->synthetic = 1;
    snprintf(ds->source, sizeof ds->source,
             "synthetic (generated shapes, %zu training and %zu test images)", n_train, n_test);
}

void fm_data_free(struct fm_dataset *ds)
{
    free(ds->train.pixels);
    free(ds->train.labels);
    free(ds->test.pixels);
    free(ds->test.labels);
    memset(ds, 0, sizeof *ds);
}
