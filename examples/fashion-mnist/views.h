/*
 * views.h - the views of a training batch: for the MLP the trainer's
 * original pair (augment.c, fm_augment_pair: shared geometry, photometric
 * changes per view); for the CNN multi-crop, G global crops and L smaller
 * local crops of every image, each with its own geometry and photometric
 * changes (fm_augment_crop), each at its own resolution.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_VIEWS_H
#define FM_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "augment.h"
#include "util.h"

struct fm_views {
    int multicrop;           /* 0: the MLP's pair (n_global = 2, n_local = 0) */
    size_t n_global, n_local;
    struct fm_crop global, local;
    struct fm_augment aug;   /* geometry (shift, flip, ratio) and photometric changes */
};

/* The defaults of the CNN's multi-crop and of the MLP's pair. */
struct fm_views fm_views_multicrop_default(void);
struct fm_views fm_views_pair_default(void);

size_t fm_views_count(const struct fm_views *v);

/* Renders the views of the n images idx[0..n) of `pixels` (rows x cols
 * bytes each): x_global receives n_global * n images of global.side
 * squared inputs, view-major (view g of image i at image g * n + i), and
 * x_local the n_local * n local views the same way (unused when n_local
 * is 0). For the pair, global.side is rows (= cols).
 *
 * Multi-crop draws one 64-bit seed per image from rng, in order, and
 * renders each image's views from a generator seeded with it, so the
 * views do not depend on the order in which images are rendered. */
void fm_views_batch(const struct fm_views *v, const uint8_t *pixels, const uint32_t *idx,
                    size_t n, size_t rows, size_t cols, struct fm_rng *rng, float *x_global,
                    float *x_local);

#endif /* FM_VIEWS_H */
