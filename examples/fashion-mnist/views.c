/*
 * views.c - the batch of views: the MLP's augmented pair, or multi-crop.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <stdlib.h>

#include "parallel.h"
#include "views.h"

struct fm_views fm_views_multicrop_default(void)
{
    struct fm_views v = {
        .multicrop = 1,
        .n_global = 2,
        .n_local = 2,
        .global = {.side = 28, .scale_min = 0.5, .scale_max = 1.0},
        .local = {.side = 14, .scale_min = 0.25, .scale_max = 0.5},
        .aug = fm_augment_default(),
    };
    /* Every view draws its own geometry (multi-crop needs it, and a CNN
     * can learn the invariance an MLP could not); a translation of up to 1
     * pixel on top of the crop's position, and cutout on a quarter of the
     * views. Global crops of half the image or more and two local crops
     * of a quarter to a half: the best of the full-data runs in README.md
     * (smaller crops, four local crops and a 2-pixel shift did worse). */
    v.aug.shared_geometry = 0;
    v.aug.shift = 1;
    v.aug.cutout_p = 0.25;
    return v;
}

struct fm_views fm_views_pair_default(void)
{
    struct fm_views v = {
        .multicrop = 0,
        .n_global = 2,
        .n_local = 0,
        .global = {.side = 28, .scale_min = 1.0, .scale_max = 1.0},
        .local = {.side = 14, .scale_min = 0.1, .scale_max = 0.4},
        .aug = fm_augment_default(),
    };
    return v;
}

size_t fm_views_count(const struct fm_views *v)
{
    return v->n_global + v->n_local;
}

void fm_views_batch(const struct fm_views *v, const uint8_t *pixels, const uint32_t *idx,
                    size_t n, size_t rows, size_t cols, struct fm_rng *rng, float *x_global,
                    float *x_local)
{
    const size_t px = rows * cols;
    if (!v->multicrop) {
        for (size_t i = 0; i < n; i++)
            fm_augment_pair(&v->aug, pixels + (size_t)idx[i] * px, rows, cols, rng,
                            x_global + i * px, x_global + (n + i) * px);
        return;
    }
    const size_t gs = v->global.side * v->global.side, ls = v->local.side * v->local.side;
    uint64_t *seeds = fm_malloc(n, sizeof(uint64_t));
    for (size_t i = 0; i < n; i++)
        seeds[i] = fm_rng_next(rng);
    FM_PARALLEL_FOR
    for (size_t i = 0; i < n; i++) {
        struct fm_rng r;
        fm_rng_seed(&r, seeds[i], 0);
        const uint8_t *img = pixels + (size_t)idx[i] * px;
        for (size_t g = 0; g < v->n_global; g++)
            fm_augment_crop(&v->aug, &v->global, img, rows, cols, &r, x_global + (g * n + i) * gs);
        for (size_t l = 0; l < v->n_local; l++)
            fm_augment_crop(&v->aug, &v->local, img, rows, cols, &r, x_local + (l * n + i) * ls);
    }
    free(seeds);
}
