/*
 * bn.c - batch normalisation over the rows of a rows x channels matrix,
 * per group of rows in training, with an optional ReLU fused in (one pass
 * less over the largest arrays of the CNN). Column sums are taken in
 * double, in fixed chunks of rows (parallel.h), so that they are the same
 * whatever the number of threads.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bn.h"
#include "parallel.h"
#include "util.h"

static size_t n_chunks(size_t rows)
{
    return (rows + FM_CHUNK_ROWS - 1) / FM_CHUNK_ROWS;
}

/* part (chunks x c) = per chunk of rows, the column sums of y (or, with
 * mean, of (y - mean)^2); then out (c) = their sum in chunk order. */
static void column_sums(const float *y, size_t rows, size_t c, const double *mean, double *part,
                        double *out)
{
    const size_t nch = n_chunks(rows);
    FM_PARALLEL_FOR
    for (size_t k = 0; k < nch; k++) {
        double *p = part + k * c;
        const size_t r1 = (k + 1) * FM_CHUNK_ROWS < rows ? (k + 1) * FM_CHUNK_ROWS : rows;
        for (size_t j = 0; j < c; j++)
            p[j] = 0.0;
        for (size_t i = k * FM_CHUNK_ROWS; i < r1; i++) {
            const float *row = y + i * c;
            if (mean)
                for (size_t j = 0; j < c; j++) {
                    double d = row[j] - mean[j];
                    p[j] += d * d;
                }
            else
                for (size_t j = 0; j < c; j++)
                    p[j] += row[j];
        }
    }
    for (size_t j = 0; j < c; j++)
        out[j] = 0.0;
    for (size_t k = 0; k < nch; k++)
        for (size_t j = 0; j < c; j++)
            out[j] += part[k * c + j];
}

void fm_bn_forward_train(float *y, float *out, size_t rows, size_t c, size_t groups,
                         const float *gamma, const float *beta, float *inv_std, int relu)
{
    const size_t per = rows / groups;
    double *mean = fm_malloc(c, sizeof(double));
    double *ssq = fm_malloc(c, sizeof(double));
    double *part = fm_malloc(n_chunks(per) * c, sizeof(double));
    for (size_t g = 0; g < groups; g++) {
        float *yg = y + g * per * c;
        float *og = out + g * per * c;
        float *inv = inv_std + g * c;
        column_sums(yg, per, c, NULL, part, mean);
        for (size_t j = 0; j < c; j++)
            mean[j] /= (double)per;
        /* Two passes (squared deviations from the mean), so that a channel
         * with a large mean keeps an accurate variance. */
        column_sums(yg, per, c, mean, part, ssq);
        /* Biased variance, as batch normalisation uses in training. */
        for (size_t j = 0; j < c; j++)
            inv[j] = (float)(1.0 / sqrt(ssq[j] / (double)per + FM_BN_EPS));
        float *meanf = fm_malloc(c, sizeof(float));
        for (size_t j = 0; j < c; j++)
            meanf[j] = (float)mean[j];
        FM_PARALLEL_FOR
        for (size_t i = 0; i < per; i++)
            for (size_t j = 0; j < c; j++) {
                const size_t k = i * c + j;
                const float xh = (yg[k] - meanf[j]) * inv[j];
                const float v = gamma[j] * xh + beta[j];
                yg[k] = xh;
                og[k] = relu && v < 0.0f ? 0.0f : v;
            }
        free(meanf);
    }
    free(mean);
    free(ssq);
    free(part);
}

void fm_bn_backward(const float *dout, float *dy, const float *xhat, const float *inv_std,
                    const float *gamma, const float *act, size_t rows, size_t c, size_t groups,
                    float *ggamma, float *gbeta)
{
    const size_t per = rows / groups, nch = n_chunks(per);
    double *s1 = fm_malloc(c, sizeof(double));
    double *s2 = fm_malloc(c, sizeof(double));
    double *part = fm_malloc(nch * 2 * c, sizeof(double));
    float *m1 = fm_malloc(c, sizeof(float)), *m2 = fm_malloc(c, sizeof(float));
    float *scale = fm_malloc(c, sizeof(float));
    for (size_t g = 0; g < groups; g++) {
        const float *d = dout + g * per * c;
        const float *xh = xhat + g * per * c;
        const float *a = act ? act + g * per * c : NULL;
        const float *inv = inv_std + g * c;
        float *dst = dy + g * per * c;
        /* Pass 1, per chunk: through the ReLU (dout where the output was
         * positive) into dst, and the sums of it and of it times xhat. */
        FM_PARALLEL_FOR
        for (size_t k = 0; k < nch; k++) {
            double *p1 = part + k * 2 * c, *p2 = p1 + c;
            const size_t r1 = (k + 1) * FM_CHUNK_ROWS < per ? (k + 1) * FM_CHUNK_ROWS : per;
            for (size_t j = 0; j < c; j++)
                p1[j] = p2[j] = 0.0;
            for (size_t i = k * FM_CHUNK_ROWS; i < r1; i++)
                for (size_t j = 0; j < c; j++) {
                    const size_t q = i * c + j;
                    const float v = a && !(a[q] > 0.0f) ? 0.0f : d[q];
                    dst[q] = v;
                    p1[j] += v;
                    p2[j] += (double)v * xh[q];
                }
        }
        for (size_t j = 0; j < c; j++)
            s1[j] = s2[j] = 0.0;
        for (size_t k = 0; k < nch; k++)
            for (size_t j = 0; j < c; j++) {
                s1[j] += part[k * 2 * c + j];
                s2[j] += part[k * 2 * c + c + j];
            }
        /* gamma and beta are shared by the groups: their gradients are the
         * sums over every row. */
        for (size_t j = 0; j < c; j++) {
            gbeta[j] += (float)s1[j];
            ggamma[j] += (float)s2[j];
            m1[j] = (float)(s1[j] / (double)per);
            m2[j] = (float)(s2[j] / (double)per);
            scale[j] = gamma[j] * inv[j];
        }
        /* Pass 2: dy = gamma inv_std (d - mean(d) - xhat mean(d xhat)), the
         * means over the group's rows. */
        FM_PARALLEL_FOR
        for (size_t i = 0; i < per; i++)
            for (size_t j = 0; j < c; j++) {
                const size_t q = i * c + j;
                dst[q] = scale[j] * (dst[q] - m1[j] - xh[q] * m2[j]);
            }
    }
    free(s1);
    free(s2);
    free(part);
    free(m1);
    free(m2);
    free(scale);
}

void fm_bn_forward_eval(const float *y, float *out, size_t rows, size_t c, const float *gamma,
                        const float *beta, const float *mean, const float *var, int relu)
{
    float *scale = fm_malloc(c, sizeof(float));
    float *shift = fm_malloc(c, sizeof(float));
    for (size_t j = 0; j < c; j++) {
        scale[j] = gamma[j] / sqrtf(var[j] + FM_BN_EPS);
        shift[j] = beta[j] - mean[j] * scale[j];
    }
    FM_PARALLEL_FOR
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < c; j++) {
            const float v = y[i * c + j] * scale[j] + shift[j];
            out[i * c + j] = relu && v < 0.0f ? 0.0f : v;
        }
    free(scale);
    free(shift);
}

void fm_bn_accumulate(const float *y, size_t rows, size_t c, double *sum, double *ssq)
{
    const size_t nch = n_chunks(rows);
    double *part = fm_malloc(nch * 2 * c, sizeof(double));
    FM_PARALLEL_FOR
    for (size_t k = 0; k < nch; k++) {
        double *p1 = part + k * 2 * c, *p2 = p1 + c;
        const size_t r1 = (k + 1) * FM_CHUNK_ROWS < rows ? (k + 1) * FM_CHUNK_ROWS : rows;
        for (size_t j = 0; j < c; j++)
            p1[j] = p2[j] = 0.0;
        for (size_t i = k * FM_CHUNK_ROWS; i < r1; i++)
            for (size_t j = 0; j < c; j++) {
                const double v = y[i * c + j];
                p1[j] += v;
                p2[j] += v * v;
            }
    }
    for (size_t k = 0; k < nch; k++)
        for (size_t j = 0; j < c; j++) {
            sum[j] += part[k * 2 * c + j];
            ssq[j] += part[k * 2 * c + c + j];
        }
    free(part);
}
