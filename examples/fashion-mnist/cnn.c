/*
 * cnn.c - the convolutional encoder: blocks of convolution, batch
 * normalisation, ReLU and optional max pooling, then global average
 * pooling; training forward and backward through a tape, evaluation
 * forward and calibration.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bn.h"
#include "cnn.h"
#include "conv.h"
#include "pool.h"

/* Images per chunk in evaluation and calibration. */
#define EVAL_CHUNK 256

void fm_cnn_init(struct fm_cnn *m, size_t in_channels, size_t n_blocks, const size_t *out,
                 const int *pool, size_t k, struct fm_rng *rng)
{
    if (n_blocks == 0 || n_blocks > FM_CNN_MAX_BLOCKS)
        fm_die("a convolutional encoder needs 1 to %d blocks", FM_CNN_MAX_BLOCKS);
    if (k % 2 == 0 || k > 9)
        fm_die("the kernel side must be odd and at most 9 (got %zu)", k);
    memset(m, 0, sizeof *m);
    m->n_blocks = n_blocks;
    m->in_channels = in_channels;
    size_t in = in_channels;
    for (size_t l = 0; l < n_blocks; l++) {
        struct fm_cnn_block *B = &m->block[l];
        if (out[l] == 0 || out[l] > 4096)
            fm_die("block width %zu out of range", out[l]);
        B->in = in;
        B->out = out[l];
        B->k = k;
        B->pool = pool[l];
        const size_t K = k * k * in;
        B->w = fm_malloc(K * B->out, sizeof(float));
        B->gw = fm_calloc(K * B->out, sizeof(float));
        const double bound = sqrt(6.0 / (double)K);
        for (size_t i = 0; i < K * B->out; i++)
            B->w[i] = (float)fm_rng_range(rng, -bound, bound);
        B->gamma = fm_malloc(B->out, sizeof(float));
        B->beta = fm_calloc(B->out, sizeof(float));
        B->ggamma = fm_calloc(B->out, sizeof(float));
        B->gbeta = fm_calloc(B->out, sizeof(float));
        B->mean = fm_calloc(B->out, sizeof(float));
        B->var = fm_malloc(B->out, sizeof(float));
        for (size_t j = 0; j < B->out; j++)
            B->gamma[j] = B->var[j] = 1.0f;
        in = B->out;
    }
}

void fm_cnn_free(struct fm_cnn *m)
{
    for (size_t l = 0; l < m->n_blocks; l++) {
        struct fm_cnn_block *B = &m->block[l];
        free(B->w);
        free(B->gw);
        free(B->gamma);
        free(B->beta);
        free(B->ggamma);
        free(B->gbeta);
        free(B->mean);
        free(B->var);
    }
    memset(m, 0, sizeof *m);
}

void fm_cnn_copy(struct fm_cnn *dst, const struct fm_cnn *src)
{
    memset(dst, 0, sizeof *dst);
    dst->n_blocks = src->n_blocks;
    dst->in_channels = src->in_channels;
    for (size_t l = 0; l < src->n_blocks; l++) {
        const struct fm_cnn_block *S = &src->block[l];
        struct fm_cnn_block *D = &dst->block[l];
        const size_t nw = S->k * S->k * S->in * S->out;
        *D = *S;
        D->w = fm_dup_floats(S->w, nw);
        D->gw = fm_calloc(nw, sizeof(float));
        D->gamma = fm_dup_floats(S->gamma, S->out);
        D->beta = fm_dup_floats(S->beta, S->out);
        D->mean = fm_dup_floats(S->mean, S->out);
        D->var = fm_dup_floats(S->var, S->out);
        D->ggamma = fm_calloc(S->out, sizeof(float));
        D->gbeta = fm_calloc(S->out, sizeof(float));
    }
}

size_t fm_cnn_out(const struct fm_cnn *m)
{
    return m->block[m->n_blocks - 1].out;
}

size_t fm_cnn_param_count(const struct fm_cnn *m)
{
    size_t n = 0;
    for (size_t l = 0; l < m->n_blocks; l++) {
        const struct fm_cnn_block *B = &m->block[l];
        n += B->k * B->k * B->in * B->out + 2 * B->out;
    }
    return n;
}

size_t fm_cnn_final_side(const struct fm_cnn *m, size_t side)
{
    for (size_t l = 0; l < m->n_blocks; l++)
        if (m->block[l].pool)
            side = fm_maxpool_side(side);
    return side;
}

double fm_cnn_macs(const struct fm_cnn *m, size_t side)
{
    double macs = 0.0;
    for (size_t l = 0; l < m->n_blocks; l++) {
        const struct fm_cnn_block *B = &m->block[l];
        macs += (double)(side * side) * (double)(B->k * B->k * B->in) * (double)B->out;
        if (B->pool)
            side = fm_maxpool_side(side);
    }
    return macs;
}

void fm_cnn_zero_grad(struct fm_cnn *m)
{
    for (size_t l = 0; l < m->n_blocks; l++) {
        struct fm_cnn_block *B = &m->block[l];
        memset(B->gw, 0, B->k * B->k * B->in * B->out * sizeof(float));
        memset(B->ggamma, 0, B->out * sizeof(float));
        memset(B->gbeta, 0, B->out * sizeof(float));
    }
}

void fm_cnn_tape_free(struct fm_cnn_tape *t)
{
    for (size_t l = 0; l < t->n_blocks; l++) {
        free(t->b[l].cols);
        free(t->b[l].xhat);
        free(t->b[l].act);
        free(t->b[l].inv_std);
        free(t->b[l].pooled);
        free(t->b[l].arg);
    }
    free(t->feat);
    free(t->scratch[0]);
    free(t->scratch[1]);
    free(t->dcols);
    memset(t, 0, sizeof *t);
}

/* Makes the tape's buffers hold a forward of `images` images of side
 * `side`; reallocates only when they do not. inv_std gets a row per image,
 * enough for any number of groups (there are at most images / 2). */
static void tape_reserve(const struct fm_cnn *m, struct fm_cnn_tape *t, size_t images,
                         size_t side)
{
    if (t->n_blocks == m->n_blocks && t->cap_side == side && images <= t->cap_images)
        return;
    fm_cnn_tape_free(t);
    t->n_blocks = m->n_blocks;
    t->cap_images = images;
    t->cap_side = side;
    size_t s = side, scratch = images * side * side * m->in_channels, dcols = 0;
    for (size_t l = 0; l < m->n_blocks; l++) {
        const struct fm_cnn_block *B = &m->block[l];
        if (s == 0)
            fm_die("a %zu x %zu input is too small for %zu pooling blocks", side, side,
                   m->n_blocks);
        const size_t px = images * s * s, K = B->k * B->k * B->in;
        const struct fm_conv_shape cs = {images, s, s, B->in, B->out, B->k};
        t->b[l].side = s;
        t->b[l].cols = fm_conv_needs_cols(&cs) ? fm_malloc(px * K, sizeof(float)) : NULL;
        t->b[l].xhat = fm_malloc(px * B->out, sizeof(float));
        t->b[l].act = fm_malloc(px * B->out, sizeof(float));
        t->b[l].inv_std = fm_malloc(images * B->out, sizeof(float));
        if (px * B->out > scratch)
            scratch = px * B->out;
        if (t->b[l].cols && px * K > dcols)
            dcols = px * K;
        if (B->pool) {
            s = fm_maxpool_side(s);
            t->b[l].pooled = fm_malloc(images * s * s * B->out, sizeof(float));
            t->b[l].arg = fm_malloc(images * s * s * B->out, 1);
        }
    }
    if (s == 0)
        fm_die("a %zu x %zu input is too small for the encoder's pooling", side, side);
    t->feat = fm_malloc(images * fm_cnn_out(m), sizeof(float));
    t->scratch[0] = fm_malloc(scratch, sizeof(float));
    t->scratch[1] = fm_malloc(scratch, sizeof(float));
    t->dcols = dcols ? fm_malloc(dcols, sizeof(float)) : NULL;
    t->scratch_len = scratch;
    t->dcols_len = dcols;
}

enum { MODE_TRAIN, MODE_EVAL };

/* Runs blocks [0, upto) on x into the tape; with stop_pre_bn, block `upto`
 * stops after its convolution (its output left in b[upto].xhat), for the
 * calibration. Returns the last output computed (the block's output after
 * pooling, or the convolution output with stop_pre_bn). */
static const float *forward_blocks(const struct fm_cnn *m, struct fm_cnn_tape *t, const float *x,
                                   size_t images, size_t groups, int mode, size_t upto,
                                   int stop_pre_bn)
{
    const float *in = x;
    const size_t last = stop_pre_bn ? upto + 1 : upto;
    for (size_t l = 0; l < last; l++) {
        const struct fm_cnn_block *B = &m->block[l];
        const size_t s = t->b[l].side, rows = images * s * s;
        const struct fm_conv_shape cs = {images, s, s, B->in, B->out, B->k};
        t->b[l].in = in;
        fm_conv_forward(&cs, in, B->w, t->b[l].cols, t->b[l].xhat);
        if (stop_pre_bn && l == upto)
            return t->b[l].xhat;
        /* Batch normalisation with the ReLU fused in. */
        if (mode == MODE_TRAIN)
            fm_bn_forward_train(t->b[l].xhat, t->b[l].act, rows, B->out, groups, B->gamma,
                                B->beta, t->b[l].inv_std, 1);
        else
            fm_bn_forward_eval(t->b[l].xhat, t->b[l].act, rows, B->out, B->gamma, B->beta,
                               B->mean, B->var, 1);
        in = t->b[l].act;
        if (B->pool) {
            fm_maxpool_forward(t->b[l].act, images, s, s, B->out, t->b[l].pooled, t->b[l].arg);
            in = t->b[l].pooled;
        }
    }
    return in;
}

const float *fm_cnn_forward_train(const struct fm_cnn *m, struct fm_cnn_tape *t, const float *x,
                                  size_t images, size_t side, size_t groups)
{
    if (groups == 0 || images % groups != 0 || images / groups < 2)
        fm_die("forward: %zu images cannot form %zu groups of 2 or more", images, groups);
    tape_reserve(m, t, images, side);
    t->images = images;
    t->side = side;
    t->groups = groups;
    const float *last = forward_blocks(m, t, x, images, groups, MODE_TRAIN, m->n_blocks, 0);
    const size_t fs = fm_cnn_final_side(m, side);
    fm_gap_forward(last, images, fs * fs, fm_cnn_out(m), t->feat);
    return t->feat;
}

void fm_cnn_backward(struct fm_cnn *m, struct fm_cnn_tape *t, const float *dfeat, float *dx)
{
    const size_t images = t->images, groups = t->groups;
    const size_t fs = fm_cnn_final_side(m, t->side);
    /* g: dL/d(output of block l), in one of the two scratch buffers. */
    float *g = t->scratch[0], *other = t->scratch[1];
    fm_gap_backward(dfeat, images, fs * fs, fm_cnn_out(m), g);
    for (size_t l = m->n_blocks; l-- > 0;) {
        struct fm_cnn_block *B = &m->block[l];
        const size_t s = t->b[l].side, rows = images * s * s;
        float *dact = g;
        if (B->pool) {
            fm_maxpool_backward(g, t->b[l].arg, images, s, s, B->out, other);
            dact = other;
            other = g;
        }
        /* In place: through the ReLU, then the normalisation. */
        fm_bn_backward(dact, dact, t->b[l].xhat, t->b[l].inv_std, B->gamma, t->b[l].act, rows,
                       B->out, groups, B->ggamma, B->gbeta);
        const struct fm_conv_shape cs = {images, s, s, B->in, B->out, B->k};
        float *dst = l == 0 ? dx : other;
        fm_conv_backward(&cs, t->b[l].in, t->b[l].cols, B->w, dact, B->gw, t->dcols, dst);
        other = dact;
        g = dst;
    }
}

void fm_cnn_forward_eval(const struct fm_cnn *m, const float *x, size_t rows, size_t side,
                         float *out)
{
    struct fm_cnn_tape t = {0};
    const size_t chunk = rows < EVAL_CHUNK ? rows : EVAL_CHUNK;
    const size_t in_len = side * side * m->in_channels, nout = fm_cnn_out(m);
    const size_t fs = fm_cnn_final_side(m, side);
    tape_reserve(m, &t, chunk ? chunk : 1, side);
    for (size_t r = 0; r < rows; r += EVAL_CHUNK) {
        const size_t nr = rows - r < EVAL_CHUNK ? rows - r : EVAL_CHUNK;
        const float *last = forward_blocks(m, &t, x + r * in_len, nr, 1, MODE_EVAL, m->n_blocks, 0);
        fm_gap_forward(last, nr, fs * fs, nout, out + r * nout);
    }
    fm_cnn_tape_free(&t);
}

void fm_cnn_calibrate(struct fm_cnn *m, const float *x, size_t rows, size_t side)
{
    struct fm_cnn_tape t = {0};
    const size_t chunk = rows < EVAL_CHUNK ? rows : EVAL_CHUNK;
    const size_t in_len = side * side * m->in_channels;
    tape_reserve(m, &t, chunk ? chunk : 1, side);
    for (size_t l = 0; l < m->n_blocks; l++) {
        struct fm_cnn_block *B = &m->block[l];
        double *sum = fm_calloc(B->out, sizeof(double));
        double *ssq = fm_calloc(B->out, sizeof(double));
        const size_t s = t.b[l].side;
        /* One pass of sums of y and y^2 in double: the convolution outputs
         * of inputs standardised by the earlier blocks are of order one,
         * so E[y^2] - E[y]^2 loses nothing that matters. */
        for (size_t r = 0; r < rows; r += EVAL_CHUNK) {
            const size_t nr = rows - r < EVAL_CHUNK ? rows - r : EVAL_CHUNK;
            const float *y = forward_blocks(m, &t, x + r * in_len, nr, 1, MODE_EVAL, l, 1);
            fm_bn_accumulate(y, nr * s * s, B->out, sum, ssq);
        }
        const double count = (double)rows * (double)(s * s);
        for (size_t j = 0; j < B->out; j++) {
            double mu = sum[j] / count, var = ssq[j] / count - mu * mu;
            B->mean[j] = (float)mu;
            B->var[j] = (float)(var > 0.0 ? var : 0.0);
        }
        free(sum);
        free(ssq);
    }
    fm_cnn_tape_free(&t);
}
