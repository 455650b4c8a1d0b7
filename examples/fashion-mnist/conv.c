/*
 * conv.c - k x k "same" convolution as im2col + one SGEMM, and its backward
 * (two SGEMMs and col2im). See conv.h for the layout.
 *
 * A convolution with few taps (K = k*k*in below DIRECT_MAX_K: the first
 * layer, one input channel) runs as direct loops instead: a GEMM with a
 * K of 9 is mostly packing overhead, and im2col would multiply the
 * largest activation of the network by K.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "conv.h"
#include "parallel.h"
#include "util.h"

#define DIRECT_MAX_K 16

size_t fm_conv_rows(const struct fm_conv_shape *s)
{
    return s->images * s->height * s->width;
}

size_t fm_conv_k(const struct fm_conv_shape *s)
{
    return s->k * s->k * s->in;
}

/* Row (b, y, x) of the im2col matrix: the k x k neighbourhood of pixel
 * (y, x) of image b, kernel offset after kernel offset, each offset's
 * channels contiguous (a copy of one input pixel), zeros off the image. */
static void im2col(const struct fm_conv_shape *s, const float *x, float *cols)
{
    const size_t H = s->height, W = s->width, C = s->in, k = s->k, pad = k / 2;
    const size_t K = fm_conv_k(s);
    FM_PARALLEL_FOR
    for (size_t b = 0; b < s->images; b++) {
        const float *img = x + b * H * W * C;
        for (size_t y = 0; y < H; y++)
            for (size_t xx = 0; xx < W; xx++) {
                float *row = cols + ((b * H + y) * W + xx) * K;
                for (size_t ky = 0; ky < k; ky++) {
                    /* sy = y + ky - pad, as unsigned arithmetic that wraps
                     * to a huge value (off the image) when negative. */
                    const size_t sy = y + ky - pad;
                    for (size_t kx = 0; kx < k; kx++) {
                        const size_t sx = xx + kx - pad;
                        float *dst = row + (ky * k + kx) * C;
                        if (sy < H && sx < W) {
                            const float *src = img + (sy * W + sx) * C;
                            for (size_t c = 0; c < C; c++)
                                dst[c] = src[c];
                        } else {
                            for (size_t c = 0; c < C; c++)
                                dst[c] = 0.0f;
                        }
                    }
                }
            }
    }
}

/* The adjoint of im2col: every entry of dcols is added back to the input
 * pixel it was copied from. The loop order is fixed, so the sums are the
 * same on every run. */
static void col2im(const struct fm_conv_shape *s, const float *dcols, float *dx)
{
    const size_t H = s->height, W = s->width, C = s->in, k = s->k, pad = k / 2;
    const size_t K = fm_conv_k(s);
    FM_PARALLEL_FOR
    for (size_t b = 0; b < s->images; b++) {
        float *img = dx + b * H * W * C;
        memset(img, 0, H * W * C * sizeof(float));
        for (size_t y = 0; y < H; y++)
            for (size_t xx = 0; xx < W; xx++) {
                const float *row = dcols + ((b * H + y) * W + xx) * K;
                for (size_t ky = 0; ky < k; ky++) {
                    const size_t sy = y + ky - pad;
                    if (sy >= H)
                        continue;
                    for (size_t kx = 0; kx < k; kx++) {
                        const size_t sx = xx + kx - pad;
                        if (sx >= W)
                            continue;
                        float *dst = img + (sy * W + sx) * C;
                        const float *src = row + (ky * k + kx) * C;
                        for (size_t c = 0; c < C; c++)
                            dst[c] += src[c];
                    }
                }
            }
    }
}

/* ------------------------------------------------------------------------
 * Direct loops, for few taps
 * ------------------------------------------------------------------------ */
/* y += a x over n floats; restrict lets the compiler vectorise it. */
static void axpy(size_t n, float a, const float *restrict x, float *restrict y)
{
    for (size_t j = 0; j < n; j++)
        y[j] += a * x[j];
}

static float dotf(size_t n, const float *restrict x, const float *restrict y)
{
    float acc = 0.0f;
    for (size_t j = 0; j < n; j++)
        acc += x[j] * y[j];
    return acc;
}

static int direct(const struct fm_conv_shape *s)
{
    return fm_conv_k(s) < DIRECT_MAX_K;
}

static void direct_forward(const struct fm_conv_shape *s, const float *x, const float *w,
                           float *y)
{
    const size_t H = s->height, W = s->width, C = s->in, k = s->k, pad = k / 2, O = s->out;
    FM_PARALLEL_FOR
    for (size_t b = 0; b < s->images; b++) {
        const float *img = x + b * H * W * C;
        for (size_t py = 0; py < H; py++)
            for (size_t px = 0; px < W; px++) {
                float *o = y + ((b * H + py) * W + px) * O;
                for (size_t j = 0; j < O; j++)
                    o[j] = 0.0f;
                for (size_t ky = 0; ky < k; ky++) {
                    const size_t sy = py + ky - pad; /* wraps when off the image */
                    if (sy >= H)
                        continue;
                    for (size_t kx = 0; kx < k; kx++) {
                        const size_t sx = px + kx - pad;
                        if (sx >= W)
                            continue;
                        for (size_t c = 0; c < C; c++) {
                            const float v = img[(sy * W + sx) * C + c];
                            axpy(O, v, w + ((ky * k + kx) * C + c) * O, o);
                        }
                    }
                }
            }
    }
}

/* gw += sum over pixels of x_tap dy, each image's sum in float and the
 * images' sums added in image order in double, so that the result does
 * not depend on how the images are shared among threads; and dx (if not
 * NULL) = the adjoint of the forward. */
static void direct_backward(const struct fm_conv_shape *s, const float *x, const float *w,
                            const float *dy, float *gw, float *dx)
{
    const size_t H = s->height, W = s->width, C = s->in, k = s->k, pad = k / 2, O = s->out;
    const size_t K = fm_conv_k(s);
    float *part = fm_malloc(s->images * K * O, sizeof(float));
    FM_PARALLEL_FOR
    for (size_t b = 0; b < s->images; b++) {
        const float *img = x + b * H * W * C;
        float *p = part + b * K * O;
        float *di = dx ? dx + b * H * W * C : NULL;
        memset(p, 0, K * O * sizeof(float));
        if (di)
            memset(di, 0, H * W * C * sizeof(float));
        for (size_t py = 0; py < H; py++)
            for (size_t px = 0; px < W; px++) {
                const float *g = dy + ((b * H + py) * W + px) * O;
                for (size_t ky = 0; ky < k; ky++) {
                    const size_t sy = py + ky - pad;
                    if (sy >= H)
                        continue;
                    for (size_t kx = 0; kx < k; kx++) {
                        const size_t sx = px + kx - pad;
                        if (sx >= W)
                            continue;
                        for (size_t c = 0; c < C; c++) {
                            const size_t t = (ky * k + kx) * C + c;
                            axpy(O, img[(sy * W + sx) * C + c], g, p + t * O);
                            if (di)
                                di[(sy * W + sx) * C + c] += dotf(O, g, w + t * O);
                        }
                    }
                }
            }
    }
    double *sum = fm_calloc(K * O, sizeof(double));
    for (size_t b = 0; b < s->images; b++)
        for (size_t q = 0; q < K * O; q++)
            sum[q] += part[b * K * O + q];
    for (size_t q = 0; q < K * O; q++)
        gw[q] += (float)sum[q];
    free(sum);
    free(part);
}

/* ------------------------------------------------------------------------
 * The entry points
 * ------------------------------------------------------------------------ */
int fm_conv_needs_cols(const struct fm_conv_shape *s)
{
    return !direct(s);
}

void fm_conv_forward(const struct fm_conv_shape *s, const float *x, const float *w, float *cols,
                     float *y)
{
    if (direct(s)) {
        direct_forward(s, x, w, y);
        return;
    }
    const size_t rows = fm_conv_rows(s), K = fm_conv_k(s);
    im2col(s, x, cols);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)s->out, (int)K, 1.0f,
                cols, (int)K, w, (int)s->out, 0.0f, y, (int)s->out);
}

void fm_conv_backward(const struct fm_conv_shape *s, const float *x, const float *cols,
                      const float *w, const float *dy, float *gw, float *dcols, float *dx)
{
    if (direct(s)) {
        direct_backward(s, x, w, dy, gw, dx);
        return;
    }
    const size_t rows = fm_conv_rows(s), K = fm_conv_k(s);
    /* gw += cols^T dy (K x out). */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)s->out, (int)rows, 1.0f,
                cols, (int)K, dy, (int)s->out, 1.0f, gw, (int)s->out);
    if (!dx)
        return;
    /* dcols = dy W^T (rows x K), then back onto the pixels. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)K, (int)s->out, 1.0f,
                dy, (int)s->out, w, (int)s->out, 0.0f, dcols, (int)K);
    col2im(s, dcols, dx);
}
