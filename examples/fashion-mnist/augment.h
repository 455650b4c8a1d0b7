/*
 * augment.h - the two random views of an image, and the pixel scaling that
 * every network input (augmented or not) goes through.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_AUGMENT_H
#define FM_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Inputs are the pixel intensity p/255 standardised with the mean and
 * standard deviation of the Fashion-MNIST training images (one pair of
 * numbers for all pixels): x = (p/255 - FM_PIXEL_MEAN) / FM_PIXEL_STD. */
#define FM_PIXEL_MEAN 0.2860f
#define FM_PIXEL_STD 0.3530f

/* Converts `count` images of `pixels` bytes each into network inputs. */
void fm_pixels_to_input(const uint8_t *src, size_t count, size_t pixels, float *dst);

/* The augmentations. Each training image gives two views:
 *
 *   geometry    a random crop with shift: the 28 x 28 window moves by a
 *               whole number of pixels in [-shift, shift] in each direction
 *               (zero padding), and with probability crop_p it is first
 *               shrunk to a random area fraction in [crop_scale_min, 1] and
 *               aspect ratio in [1/crop_ratio, crop_ratio] and resampled to
 *               28 x 28 (bilinear); then a horizontal flip with probability
 *               flip_p. With shared_geometry both views get the same crop,
 *               shift and flip (the geometry augments the data set); else
 *               each view draws its own (the network must become invariant
 *               to it);
 *   photometric per view: with probability jitter_p, contrast scaled by a
 *               factor in [1 - contrast, 1 + contrast] around the view's
 *               mean and brightness shifted by up to +-brightness; with
 *               probability noise_p, Gaussian noise of std noise_std; with
 *               probability cutout_p, a zeroed square of side cutout_min ..
 *               cutout_max pixels. Intensities (0..1) are clipped to 0..1.
 */
struct fm_augment {
    int shift;               /* pixels */
    double crop_p;           /* probability of a resized (zoomed) crop */
    double crop_scale_min;   /* its area fraction in [min, 1] */
    double crop_ratio;       /* its aspect ratio in [1/ratio, ratio], log-uniform */
    double flip_p;           /* horizontal flip probability */
    int shared_geometry;     /* 1: both views share the geometry */
    double jitter_p;         /* probability of brightness/contrast jitter */
    double brightness;       /* added intensity in [-b, b] (intensities 0..1) */
    double contrast;         /* contrast factor in [1 - c, 1 + c] */
    double noise_p;          /* probability of Gaussian pixel noise */
    double noise_std;        /* its standard deviation (intensities 0..1) */
    double cutout_p;         /* probability of a zeroed square */
    double cutout_min, cutout_max; /* its side, in pixels */
};

/* The defaults used by the trainer (see README.md). */
struct fm_augment fm_augment_default(void);

/* Writes two augmented views of the rows x cols image src into dst_a and
 * dst_b (rows * cols network inputs each), drawing every random choice from
 * rng. */
void fm_augment_pair(const struct fm_augment *a, const uint8_t *src, size_t rows, size_t cols,
                     struct fm_rng *rng, float *dst_a, float *dst_b);

/* One view of multi-crop (the CNN's views): every view draws its own
 * geometry, a random resized crop of area fraction [scale_min, scale_max]
 * (aspect ratio as crop_ratio), moved by up to +-shift pixels and flipped
 * with probability flip_p, resampled to side x side; then the photometric
 * changes of fm_augment (jitter, noise, cutout, the cutout square scaled
 * with side / rows). crop_p and shared_geometry are not used. */
struct fm_crop {
    size_t side;                 /* output side in pixels */
    double scale_min, scale_max; /* area fraction of the source image */
};

/* Writes one view of the rows x cols image src into dst (side * side
 * network inputs). */
void fm_augment_crop(const struct fm_augment *a, const struct fm_crop *c, const uint8_t *src,
                     size_t rows, size_t cols, struct fm_rng *rng, float *dst);

#endif /* FM_AUGMENT_H */
