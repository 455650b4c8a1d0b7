/*
 * nn.c - MLP layers (linear, batch normalisation, ReLU), forward and
 * backward; every product is a single-precision GEMM in CBLAS.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "nn.h"

#define EVAL_CHUNK 1024

/* C (m x n) = A (m x k) B (k x n), all row-major and contiguous. */
static void gemm_nn(size_t m, size_t n, size_t k, const float *a, const float *b, float *c)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k,
                1.0f, a, (int)k, b, (int)n, 0.0f, c, (int)n);
}

void fm_mlp_init(struct fm_mlp *m, size_t n_layers, const size_t *widths,
                 int last_plain, struct fm_rng *rng)
{
    if (n_layers == 0 || n_layers > FM_MAX_LAYERS)
        fm_die("a network needs 1 to %d layers", FM_MAX_LAYERS);
    memset(m, 0, sizeof *m);
    m->n_layers = n_layers;
    for (size_t l = 0; l < n_layers; l++) {
        struct fm_layer *L = &m->layer[l];
        L->in = widths[l];
        L->out = widths[l + 1];
        if (L->in == 0 || L->out == 0 || L->in > (1u << 20) || L->out > (1u << 20))
            fm_die("layer width out of range");
        L->has_bn = !(last_plain && l + 1 == n_layers);
        L->w = fm_malloc(L->in * L->out, sizeof(float));
        L->gw = fm_calloc(L->in * L->out, sizeof(float));
        const double bound = sqrt(6.0 / (double)L->in);
        for (size_t i = 0; i < L->in * L->out; i++)
            L->w[i] = (float)fm_rng_range(rng, -bound, bound);
        if (L->has_bn) {
            L->gamma = fm_malloc(L->out, sizeof(float));
            L->beta = fm_calloc(L->out, sizeof(float));
            L->ggamma = fm_calloc(L->out, sizeof(float));
            L->gbeta = fm_calloc(L->out, sizeof(float));
            L->mean = fm_calloc(L->out, sizeof(float));
            L->var = fm_malloc(L->out, sizeof(float));
            for (size_t j = 0; j < L->out; j++)
                L->gamma[j] = L->var[j] = 1.0f;
        }
    }
}

static void free_caches(struct fm_mlp *m)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        struct fm_layer *L = &m->layer[l];
        free(L->xhat);
        free(L->act);
        free(L->inv_std);
        L->xhat = L->act = L->inv_std = NULL;
    }
    free(m->grad_buf[0]);
    free(m->grad_buf[1]);
    m->grad_buf[0] = m->grad_buf[1] = NULL;
    m->cap_rows = 0;
}

void fm_mlp_free(struct fm_mlp *m)
{
    free_caches(m);
    for (size_t l = 0; l < m->n_layers; l++) {
        struct fm_layer *L = &m->layer[l];
        free(L->w);
        free(L->gw);
        free(L->gamma);
        free(L->beta);
        free(L->ggamma);
        free(L->gbeta);
        free(L->mean);
        free(L->var);
    }
    memset(m, 0, sizeof *m);
}

void fm_mlp_copy(struct fm_mlp *dst, const struct fm_mlp *src)
{
    memset(dst, 0, sizeof *dst);
    dst->n_layers = src->n_layers;
    for (size_t l = 0; l < src->n_layers; l++) {
        const struct fm_layer *S = &src->layer[l];
        struct fm_layer *D = &dst->layer[l];
        D->in = S->in;
        D->out = S->out;
        D->has_bn = S->has_bn;
        D->w = fm_dup_floats(S->w, S->in * S->out);
        D->gw = fm_calloc(S->in * S->out, sizeof(float));
        if (S->has_bn) {
            D->gamma = fm_dup_floats(S->gamma, S->out);
            D->beta = fm_dup_floats(S->beta, S->out);
            D->mean = fm_dup_floats(S->mean, S->out);
            D->var = fm_dup_floats(S->var, S->out);
            D->ggamma = fm_calloc(S->out, sizeof(float));
            D->gbeta = fm_calloc(S->out, sizeof(float));
        }
    }
}

size_t fm_mlp_in(const struct fm_mlp *m)
{
    return m->layer[0].in;
}

size_t fm_mlp_out(const struct fm_mlp *m)
{
    return m->layer[m->n_layers - 1].out;
}

size_t fm_mlp_param_count(const struct fm_mlp *m)
{
    size_t n = 0;
    for (size_t l = 0; l < m->n_layers; l++)
        n += m->layer[l].in * m->layer[l].out + (m->layer[l].has_bn ? 2 * m->layer[l].out : 0);
    return n;
}

static size_t max_width(const struct fm_mlp *m)
{
    size_t w = m->layer[0].in;
    for (size_t l = 0; l < m->n_layers; l++)
        if (m->layer[l].out > w)
            w = m->layer[l].out;
    return w;
}

static void reserve(struct fm_mlp *m, size_t rows)
{
    if (rows <= m->cap_rows)
        return;
    free_caches(m);
    for (size_t l = 0; l < m->n_layers; l++) {
        struct fm_layer *L = &m->layer[l];
        L->xhat = fm_malloc(rows * L->out, sizeof(float));
        if (L->has_bn) {
            L->act = fm_malloc(rows * L->out, sizeof(float));
            L->inv_std = fm_malloc(rows * L->out, sizeof(float)); /* >= groups x out */
        }
    }
    m->grad_buf[0] = fm_malloc(rows * max_width(m), sizeof(float));
    m->grad_buf[1] = fm_malloc(rows * max_width(m), sizeof(float));
    m->cap_rows = rows;
}

const float *fm_mlp_forward_train(struct fm_mlp *m, const float *x, size_t rows, size_t groups)
{
    if (groups == 0 || rows % groups != 0 || rows / groups < 2)
        fm_die("forward: %zu rows cannot form %zu groups of 2 or more", rows, groups);
    reserve(m, rows);
    m->rows = rows;
    m->groups = groups;
    const size_t per = rows / groups;
    const size_t wmax = max_width(m);
    double *mean = fm_malloc(wmax, sizeof(double));
    double *ssq = fm_malloc(wmax, sizeof(double));
    const float *in = x;
    for (size_t l = 0; l < m->n_layers; l++) {
        struct fm_layer *L = &m->layer[l];
        const size_t out = L->out;
        gemm_nn(rows, out, L->in, in, L->w, L->xhat);
        if (!L->has_bn) {
            in = L->xhat;
            continue;
        }
        for (size_t g = 0; g < groups; g++) {
            float *y = L->xhat + g * per * out;
            float *a = L->act + g * per * out;
            float *inv = L->inv_std + g * out;
            for (size_t j = 0; j < out; j++)
                mean[j] = ssq[j] = 0.0;
            for (size_t i = 0; i < per; i++)
                for (size_t j = 0; j < out; j++)
                    mean[j] += y[i * out + j];
            for (size_t j = 0; j < out; j++)
                mean[j] /= (double)per;
            for (size_t i = 0; i < per; i++)
                for (size_t j = 0; j < out; j++) {
                    double c = y[i * out + j] - mean[j];
                    ssq[j] += c * c;
                }
            /* Biased variance, as batch normalisation uses in training. */
            for (size_t j = 0; j < out; j++)
                inv[j] = (float)(1.0 / sqrt(ssq[j] / (double)per + FM_BN_EPS));
            for (size_t i = 0; i < per; i++)
                for (size_t j = 0; j < out; j++) {
                    float xh = (y[i * out + j] - (float)mean[j]) * inv[j];
                    float v = L->gamma[j] * xh + L->beta[j];
                    y[i * out + j] = xh;
                    a[i * out + j] = v > 0.0f ? v : 0.0f;
                }
        }
        in = L->act;
    }
    free(mean);
    free(ssq);
    return in;
}

void fm_mlp_backward(struct fm_mlp *m, const float *x, const float *dy, float *dx)
{
    const size_t rows = m->rows, groups = m->groups, per = rows / groups;
    const size_t wmax = max_width(m);
    double *s1 = fm_malloc(wmax, sizeof(double));
    double *s2 = fm_malloc(wmax, sizeof(double));
    const float *grad = dy; /* dL/d(output of layer l) */
    for (size_t li = m->n_layers; li-- > 0;) {
        struct fm_layer *L = &m->layer[li];
        const size_t out = L->out;
        const float *input = li == 0 ? x : m->layer[li - 1].act;
        /* The buffer that will hold dL/d(pre-activation): in place when the
         * incoming gradient is one of ours, else the first scratch buffer. */
        float *dpre = grad == m->grad_buf[1] ? m->grad_buf[1] : m->grad_buf[0];
        float *other = dpre == m->grad_buf[0] ? m->grad_buf[1] : m->grad_buf[0];
        if (L->has_bn) {
            /* Through the ReLU: dOut = dA where the output is positive. */
            for (size_t k = 0; k < rows * out; k++)
                dpre[k] = L->act[k] > 0.0f ? grad[k] : 0.0f;
            for (size_t j = 0; j < out; j++)
                s1[j] = s2[j] = 0.0;
            for (size_t i = 0; i < rows; i++)
                for (size_t j = 0; j < out; j++) {
                    s1[j] += dpre[i * out + j];
                    s2[j] += (double)dpre[i * out + j] * L->xhat[i * out + j];
                }
            for (size_t j = 0; j < out; j++) {
                L->gbeta[j] = (float)s1[j];
                L->ggamma[j] = (float)s2[j];
            }
            /* Through the normalisation, per group:
             * dy = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),
             * with dxhat = gamma * dOut. */
            for (size_t g = 0; g < groups; g++) {
                float *d = dpre + g * per * out;
                const float *xh = L->xhat + g * per * out;
                const float *inv = L->inv_std + g * out;
                for (size_t j = 0; j < out; j++)
                    s1[j] = s2[j] = 0.0;
                for (size_t i = 0; i < per; i++)
                    for (size_t j = 0; j < out; j++) {
                        s1[j] += d[i * out + j];
                        s2[j] += (double)d[i * out + j] * xh[i * out + j];
                    }
                for (size_t j = 0; j < out; j++) {
                    s1[j] = s1[j] / (double)per;
                    s2[j] = s2[j] / (double)per;
                }
                for (size_t i = 0; i < per; i++)
                    for (size_t j = 0; j < out; j++) {
                        size_t k = i * out + j;
                        d[k] = L->gamma[j] * inv[j] *
                               (float)((double)d[k] - s1[j] - (double)xh[k] * s2[j]);
                    }
            }
        } else if (dpre != grad) {
            memcpy(dpre, grad, rows * out * sizeof(float));
        }
        /* dW = input^T dpre (in x out). */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)L->in, (int)out, (int)rows,
                    1.0f, input, (int)L->in, dpre, (int)out, 0.0f, L->gw, (int)out);
        /* d(input) = dpre W^T (rows x in). */
        float *dst = li == 0 ? dx : other;
        if (dst)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)L->in, (int)out,
                        1.0f, dpre, (int)out, L->w, (int)out, 0.0f, dst, (int)L->in);
        grad = dst;
    }
    free(s1);
    free(s2);
}

/* Applies layers [0, upto) in evaluation mode to `rows` rows of x (at most
 * EVAL_CHUNK), then the linear map of layer `upto` if pre_only is set
 * (stopping before its normalisation). Returns the buffer with the result;
 * buf0 and buf1 hold EVAL_CHUNK x max_width floats each. */
static const float *eval_chunk(const struct fm_mlp *m, const float *x, size_t rows,
                               size_t upto, int pre_only, float *buf0, float *buf1)
{
    const float *in = x;
    float *bufs[2] = {buf0, buf1};
    size_t nl = pre_only ? upto + 1 : upto;
    for (size_t l = 0; l < nl; l++) {
        const struct fm_layer *L = &m->layer[l];
        float *y = bufs[l % 2];
        gemm_nn(rows, L->out, L->in, in, L->w, y);
        if (L->has_bn && !(pre_only && l == upto)) {
            for (size_t j = 0; j < L->out; j++) {
                float inv = 1.0f / sqrtf(L->var[j] + FM_BN_EPS);
                float scale = L->gamma[j] * inv;
                float shift = L->beta[j] - L->mean[j] * scale;
                for (size_t i = 0; i < rows; i++) {
                    float v = y[i * L->out + j] * scale + shift;
                    y[i * L->out + j] = v > 0.0f ? v : 0.0f;
                }
            }
        }
        in = y;
    }
    return in;
}

void fm_mlp_forward_eval(const struct fm_mlp *m, const float *x, size_t rows, float *out)
{
    const size_t wmax = max_width(m), in = fm_mlp_in(m), nout = fm_mlp_out(m);
    float *b0 = fm_malloc(EVAL_CHUNK * wmax, sizeof(float));
    float *b1 = fm_malloc(EVAL_CHUNK * wmax, sizeof(float));
    for (size_t r = 0; r < rows; r += EVAL_CHUNK) {
        size_t nr = rows - r < EVAL_CHUNK ? rows - r : EVAL_CHUNK;
        const float *y = eval_chunk(m, x + r * in, nr, m->n_layers, 0, b0, b1);
        memcpy(out + r * nout, y, nr * nout * sizeof(float));
    }
    free(b0);
    free(b1);
}

void fm_mlp_calibrate(struct fm_mlp *m, const float *x, size_t rows)
{
    const size_t wmax = max_width(m), in = fm_mlp_in(m);
    float *b0 = fm_malloc(EVAL_CHUNK * wmax, sizeof(float));
    float *b1 = fm_malloc(EVAL_CHUNK * wmax, sizeof(float));
    double *sum = fm_malloc(wmax, sizeof(double));
    double *ssq = fm_malloc(wmax, sizeof(double));
    for (size_t l = 0; l < m->n_layers; l++) {
        struct fm_layer *L = &m->layer[l];
        if (!L->has_bn)
            continue;
        const size_t out = L->out;
        for (size_t j = 0; j < out; j++)
            sum[j] = ssq[j] = 0.0;
        /* One pass: sums of y and y^2 in double (the pre-activations are of
         * order one, so the cancellation in E[y^2] - E[y]^2 is harmless). */
        for (size_t r = 0; r < rows; r += EVAL_CHUNK) {
            size_t nr = rows - r < EVAL_CHUNK ? rows - r : EVAL_CHUNK;
            const float *y = eval_chunk(m, x + r * in, nr, l, 1, b0, b1);
            for (size_t i = 0; i < nr; i++)
                for (size_t j = 0; j < out; j++) {
                    double v = y[i * out + j];
                    sum[j] += v;
                    ssq[j] += v * v;
                }
        }
        for (size_t j = 0; j < out; j++) {
            sum[j] /= (double)rows;
            ssq[j] = ssq[j] / (double)rows - sum[j] * sum[j];
            if (ssq[j] < 0.0)
                ssq[j] = 0.0;
        }
        for (size_t j = 0; j < out; j++) {
            L->mean[j] = (float)sum[j];
            L->var[j] = (float)ssq[j];
        }
    }
    free(b0);
    free(b1);
    free(sum);
    free(ssq);
}
