/*
 * pool.c - ReLU, 2 x 2 max pooling and global average pooling on NHWC
 * images, forward and backward.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "pool.h"
#include "util.h"

void fm_relu_forward(const float *x, float *out, size_t n)
{
    FM_PARALLEL_FOR
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void fm_relu_backward(const float *out, const float *dout, float *dx, size_t n)
{
    FM_PARALLEL_FOR
    for (size_t i = 0; i < n; i++)
        dx[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

size_t fm_maxpool_side(size_t side)
{
    return side / 2;
}

void fm_maxpool_forward(const float *x, size_t images, size_t h, size_t w, size_t c, float *out,
                        uint8_t *arg)
{
    const size_t oh = h / 2, ow = w / 2;
    FM_PARALLEL_FOR
    for (size_t b = 0; b < images; b++)
        for (size_t y = 0; y < oh; y++)
            for (size_t xx = 0; xx < ow; xx++) {
                const float *p[4];
                for (int q = 0; q < 4; q++)
                    p[q] = x + ((b * h + 2 * y + (size_t)(q >> 1)) * w + 2 * xx + (size_t)(q & 1)) * c;
                float *o = out + ((b * oh + y) * ow + xx) * c;
                uint8_t *a = arg + ((b * oh + y) * ow + xx) * c;
                for (size_t j = 0; j < c; j++) {
                    float best = p[0][j];
                    uint8_t at = 0;
                    for (uint8_t q = 1; q < 4; q++)
                        if (p[q][j] > best) {
                            best = p[q][j];
                            at = q;
                        }
                    o[j] = best;
                    a[j] = at;
                }
            }
}

void fm_maxpool_backward(const float *dout, const uint8_t *arg, size_t images, size_t h,
                         size_t w, size_t c, float *dx)
{
    const size_t oh = h / 2, ow = w / 2;
    FM_PARALLEL_FOR
    for (size_t b = 0; b < images; b++) {
        memset(dx + b * h * w * c, 0, h * w * c * sizeof(float));
        for (size_t y = 0; y < oh; y++)
            for (size_t xx = 0; xx < ow; xx++) {
                const size_t o = ((b * oh + y) * ow + xx) * c;
                for (size_t j = 0; j < c; j++) {
                    const size_t q = arg[o + j];
                    const size_t at = ((b * h + 2 * y + (q >> 1)) * w + 2 * xx + (q & 1)) * c + j;
                    dx[at] = dout[o + j];
                }
            }
    }
}

void fm_gap_forward(const float *x, size_t images, size_t hw, size_t c, float *out)
{
    double *acc = fm_malloc(images * c, sizeof(double));
    FM_PARALLEL_FOR
    for (size_t b = 0; b < images; b++) {
        const float *img = x + b * hw * c;
        double *a = acc + b * c;
        for (size_t j = 0; j < c; j++)
            a[j] = 0.0;
        for (size_t p = 0; p < hw; p++)
            for (size_t j = 0; j < c; j++)
                a[j] += img[p * c + j];
        for (size_t j = 0; j < c; j++)
            out[b * c + j] = (float)(a[j] / (double)hw);
    }
    free(acc);
}

void fm_gap_backward(const float *dout, size_t images, size_t hw, size_t c, float *dx)
{
    const float inv = 1.0f / (float)hw;
    FM_PARALLEL_FOR
    for (size_t b = 0; b < images; b++)
        for (size_t p = 0; p < hw; p++)
            for (size_t j = 0; j < c; j++)
                dx[(b * hw + p) * c + j] = dout[b * c + j] * inv;
}
