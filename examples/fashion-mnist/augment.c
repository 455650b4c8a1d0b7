/*
 * augment.c - random crop with shift (and optional zoom), horizontal flip,
 * brightness/contrast jitter, Gaussian noise and cutout, on 0..1
 * intensities; then the standardisation of fm_pixels_to_input().
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <math.h>
#include <string.h>

#include "augment.h"

void fm_pixels_to_input(const uint8_t *src, size_t count, size_t pixels, float *dst)
{
    for (size_t k = 0; k < count * pixels; k++)
        dst[k] = ((float)src[k] * (1.0f / 255.0f) - FM_PIXEL_MEAN) / FM_PIXEL_STD;
}

struct fm_augment fm_augment_default(void)
{
    struct fm_augment a = {
        .shift = 1,
        .crop_p = 0.0,
        .crop_scale_min = 0.6,
        .crop_ratio = 4.0 / 3.0,
        .flip_p = 0.5,
        .shared_geometry = 1,
        .jitter_p = 0.8,
        .brightness = 0.3,
        .contrast = 0.4,
        .noise_p = 0.5,
        .noise_std = 0.05,
        .cutout_p = 0.0,
        .cutout_min = 6.0,
        .cutout_max = 12.0,
    };
    return a;
}

/* Bilinear sample of src at (y, x), zero outside the image. */
static float sample(const uint8_t *src, size_t rows, size_t cols, double y, double x)
{
    double fy = floor(y), fx = floor(x);
    long y0 = (long)fy, x0 = (long)fx;
    double wy = y - fy, wx = x - fx;
    double acc = 0.0;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            long yy = y0 + dy, xx = x0 + dx;
            if (yy < 0 || xx < 0 || yy >= (long)rows || xx >= (long)cols)
                continue;
            double w = (dy ? wy : 1.0 - wy) * (dx ? wx : 1.0 - wx);
            acc += w * src[(size_t)yy * cols + (size_t)xx];
        }
    return (float)(acc / 255.0);
}

struct geometry {
    double x0, y0, cw, ch;
    int flip;
};

static void draw_geometry(const struct fm_augment *a, size_t rows, size_t cols,
                          struct fm_rng *rng, struct geometry *g)
{
    const double H = (double)rows, W = (double)cols;
    g->cw = W;
    g->ch = H;
    g->x0 = g->y0 = 0.0;
    if (fm_rng_uniform(rng) < a->crop_p) {
        /* A box of a random area and aspect ratio at a random place,
         * resampled to the full size. */
        double scale = fm_rng_range(rng, a->crop_scale_min, 1.0);
        double log_r = log(a->crop_ratio);
        double ratio = exp(fm_rng_range(rng, -log_r, log_r));
        g->cw = fmin(W, W * sqrt(scale * ratio));
        g->ch = fmin(H, H * sqrt(scale / ratio));
        g->x0 = fm_rng_range(rng, 0.0, W - g->cw);
        g->y0 = fm_rng_range(rng, 0.0, H - g->ch);
    }
    if (a->shift > 0) {
        uint64_t span = 2 * (uint64_t)a->shift + 1;
        g->x0 += (double)((int)fm_rng_below(rng, span) - a->shift);
        g->y0 += (double)((int)fm_rng_below(rng, span) - a->shift);
    }
    g->flip = fm_rng_uniform(rng) < a->flip_p;
}

/* Renders the box of g, resampled to side x side, then the photometric
 * changes. For side == rows == cols this is the trainer's original view;
 * the cutout square is scaled with side / rows, so that it covers the same
 * fraction of a smaller view. */
static void view(const struct fm_augment *a, const uint8_t *src, size_t rows, size_t cols,
                 const struct geometry *g, struct fm_rng *rng, float *dst, size_t side)
{
    const double H = (double)side, W = (double)side;
    for (size_t i = 0; i < side; i++) {
        double sy = g->y0 + ((double)i + 0.5) * g->ch / H - 0.5;
        for (size_t j = 0; j < side; j++) {
            size_t jj = g->flip ? side - 1 - j : j;
            double sx = g->x0 + ((double)jj + 0.5) * g->cw / W - 0.5;
            dst[i * side + j] = sample(src, rows, cols, sy, sx);
        }
    }
    const size_t n = side * side;
    /* Brightness and contrast, around the view's mean intensity. */
    if (fm_rng_uniform(rng) < a->jitter_p) {
        float c = (float)fm_rng_range(rng, 1.0 - a->contrast, 1.0 + a->contrast);
        float b = (float)fm_rng_range(rng, -a->brightness, a->brightness);
        double mean = 0.0;
        for (size_t k = 0; k < n; k++)
            mean += dst[k];
        float mu = (float)(mean / (double)n);
        for (size_t k = 0; k < n; k++)
            dst[k] = (dst[k] - mu) * c + mu + b;
    }
    if (fm_rng_uniform(rng) < a->noise_p) {
        float s = (float)a->noise_std;
        for (size_t k = 0; k < n; k++)
            dst[k] += s * (float)fm_rng_normal(rng);
    }
    if (fm_rng_uniform(rng) < a->cutout_p) {
        const double f = (double)side / (double)rows;
        size_t cs = (size_t)fm_rng_range(rng, f * a->cutout_min, f * a->cutout_max + 1.0);
        size_t cy = (size_t)fm_rng_below(rng, side), cx = (size_t)fm_rng_below(rng, side);
        for (size_t i = cy >= cs / 2 ? cy - cs / 2 : 0; i < side && i < cy + (cs + 1) / 2; i++)
            for (size_t j = cx >= cs / 2 ? cx - cs / 2 : 0; j < side && j < cx + (cs + 1) / 2; j++)
                dst[i * side + j] = 0.0f;
    }
    for (size_t k = 0; k < n; k++) {
        float v = dst[k] < 0.0f ? 0.0f : dst[k] > 1.0f ? 1.0f : dst[k];
        dst[k] = (v - FM_PIXEL_MEAN) / FM_PIXEL_STD;
    }
}

void fm_augment_pair(const struct fm_augment *a, const uint8_t *src, size_t rows, size_t cols,
                     struct fm_rng *rng, float *dst_a, float *dst_b)
{
    struct geometry ga, gb;
    draw_geometry(a, rows, cols, rng, &ga);
    if (a->shared_geometry)
        gb = ga;
    else
        draw_geometry(a, rows, cols, rng, &gb);
    view(a, src, rows, cols, &ga, rng, dst_a, rows);
    view(a, src, rows, cols, &gb, rng, dst_b, rows);
}

void fm_augment_crop(const struct fm_augment *a, const struct fm_crop *c, const uint8_t *src,
                     size_t rows, size_t cols, struct fm_rng *rng, float *dst)
{
    /* A random resized crop: a box of area fraction in [scale_min,
     * scale_max] of the image and aspect ratio in [1/crop_ratio,
     * crop_ratio] (log-uniform), placed uniformly inside the image, then
     * moved by up to +-shift pixels (zero padding), flipped with
     * probability flip_p, and resampled to c->side pixels. */
    const double H = (double)rows, W = (double)cols;
    struct geometry g;
    double scale = fm_rng_range(rng, c->scale_min, c->scale_max);
    double log_r = log(a->crop_ratio);
    double ratio = exp(fm_rng_range(rng, -log_r, log_r));
    g.cw = fmin(W, W * sqrt(scale * ratio));
    g.ch = fmin(H, H * sqrt(scale / ratio));
    g.x0 = fm_rng_range(rng, 0.0, W - g.cw);
    g.y0 = fm_rng_range(rng, 0.0, H - g.ch);
    if (a->shift > 0) {
        uint64_t span = 2 * (uint64_t)a->shift + 1;
        g.x0 += (double)((int)fm_rng_below(rng, span) - a->shift);
        g.y0 += (double)((int)fm_rng_below(rng, span) - a->shift);
    }
    g.flip = fm_rng_uniform(rng) < a->flip_p;
    view(a, src, rows, cols, &g, rng, dst, c->side);
}
