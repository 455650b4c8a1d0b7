/*
 * conv.h - the convolution of the CNN encoder: k x k kernels, stride 1,
 * zero "same" padding (k odd, k / 2 pixels on each side), no bias, forward
 * and backward through one GEMM each (im2col + SGEMM).
 *
 * Layout. Images are NHWC: image after image, row after row, pixel after
 * pixel, the channels of a pixel contiguous, so x[((b * H + y) * W + x) * C
 * + c]. A layer's output is then an (images * H * W) x out matrix, which is
 * what batch normalisation and the next layers take as rows x channels.
 *
 * The weights are a K x out matrix, K = k * k * in, row (ky * k + kx) * in
 * + c holding the weights from input channel c at kernel offset (ky, kx):
 * the im2col matrix (images * H * W) x K times W gives the output.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_CONV_H
#define FM_CONV_H

#include <stddef.h>

struct fm_conv_shape {
    size_t images, height, width; /* input and output spatial size (same padding) */
    size_t in, out;               /* channels */
    size_t k;                     /* kernel side, odd */
};

/* Rows of the im2col matrix (images * H * W) and its columns (k * k * in). */
size_t fm_conv_rows(const struct fm_conv_shape *s);
size_t fm_conv_k(const struct fm_conv_shape *s);

/* Whether the layer goes through im2col (and needs the cols and dcols
 * buffers below); layers with few taps (k * k * in < 16) run as direct
 * loops and ignore them. */
int fm_conv_needs_cols(const struct fm_conv_shape *s);

/* y (rows x out) = im2col(x) W. cols receives im2col(x) (rows x K floats),
 * which the backward needs. */
void fm_conv_forward(const struct fm_conv_shape *s, const float *x, const float *w, float *cols,
                     float *y);

/* The backward of fm_conv_forward() given its input x, the cols it wrote
 * and dy = dL/dy (rows x out): ADDS dL/dW to gw (K x out), so that the two
 * passes of a multi-crop step (global and local views) accumulate into
 * one gradient; if dx is not NULL, writes dL/dx (images x H x W x in) into
 * it, using dcols (rows x K floats) as scratch. */
void fm_conv_backward(const struct fm_conv_shape *s, const float *x, const float *cols,
                      const float *w, const float *dy, float *gw, float *dcols, float *dx);

#endif /* FM_CONV_H */
