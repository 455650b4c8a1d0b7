/*
 * pool.h - the CNN's pointwise and pooling layers on NHWC images (see
 * conv.h): ReLU, 2 x 2 max pooling with stride 2, and global average
 * pooling, forward and backward.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_POOL_H
#define FM_POOL_H

#include <stddef.h>
#include <stdint.h>

/* out = max(x, 0) for n values; out may be x. */
void fm_relu_forward(const float *x, float *out, size_t n);
/* dx = dout where the forward's output was positive, else 0; dx may be
 * dout. out is the forward's output. */
void fm_relu_backward(const float *out, const float *dout, float *dx, size_t n);

/* Output side of a 2 x 2, stride-2 max pooling: floor(side / 2) (an odd
 * last row or column is dropped, as in PyTorch's default). */
size_t fm_maxpool_side(size_t side);

/* Max pooling of `images` H x W x c images into floor(H/2) x floor(W/2)
 * x c. arg receives, for every output value, which of the four inputs
 * (0..3: dy * 2 + dx) was the largest (the first one on ties). */
void fm_maxpool_forward(const float *x, size_t images, size_t h, size_t w, size_t c, float *out,
                        uint8_t *arg);
/* dx (images x H x W x c) = dout routed to the recorded maxima, 0
 * elsewhere. */
void fm_maxpool_backward(const float *dout, const uint8_t *arg, size_t images, size_t h,
                         size_t w, size_t c, float *dx);

/* Global average pooling: out (images x c) = the mean over the h * w
 * pixels of each image, summed in double. The backward spreads dout / (h w)
 * over the pixels. Because the encoder ends with it, one set of weights
 * encodes crops of any size (the local views of multi-crop). */
void fm_gap_forward(const float *x, size_t images, size_t hw, size_t c, float *out);
void fm_gap_backward(const float *dout, size_t images, size_t hw, size_t c, float *dx);

#endif /* FM_POOL_H */
