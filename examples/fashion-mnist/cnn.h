/*
 * cnn.h - the convolutional encoder of the trainer: a chain of blocks, each
 * a k x k "same" convolution without bias (conv.h), batch normalisation
 * (bn.h) and a ReLU, optionally followed by 2 x 2 max pooling (pool.h);
 * then global average pooling over the last block's pixels. The default,
 * for 28 x 28 inputs:
 *
 *   conv 3x3 1->32, BN, ReLU, max pool    28 -> 14
 *   conv 3x3 32->64, BN, ReLU, max pool   14 -> 7
 *   conv 3x3 64->128, BN, ReLU            7
 *   global average pooling                -> 128 features
 *
 * Because of the global average pooling the same weights encode a crop of
 * any side (a 28 x 28 global view or a 14 x 14 local view of multi-crop),
 * each at its own resolution.
 *
 * Training keeps the activations of a forward in a tape (struct
 * fm_cnn_tape), one per pass: a multi-crop step forwards the global views
 * through one tape and the local views through another, then runs both
 * backwards, the parameter gradients accumulating. Evaluation uses the
 * fixed batch-norm statistics of each block, which fm_cnn_calibrate() sets
 * to the exact statistics of a set of clean images.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_CNN_H
#define FM_CNN_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define FM_CNN_MAX_BLOCKS 8

struct fm_cnn_block {
    size_t in, out, k;     /* channels in and out, kernel side */
    int pool;              /* 2 x 2 max pooling after the ReLU */
    float *w, *gw;         /* k*k*in x out (conv.h), and its gradient */
    float *gamma, *beta;   /* BN scale and shift (out) */
    float *ggamma, *gbeta;
    float *mean, *var;     /* BN statistics for evaluation (out) */
};

struct fm_cnn {
    size_t n_blocks;
    size_t in_channels;    /* 1 for Fashion-MNIST */
    struct fm_cnn_block block[FM_CNN_MAX_BLOCKS];
};

/* The activations of one training forward, for its backward. */
struct fm_cnn_tape {
    size_t images, side, groups;     /* shape of the last forward */
    size_t cap_images, cap_side;     /* what the buffers hold */
    size_t n_blocks;
    struct {
        size_t side;                 /* input (and conv output) side */
        const float *in;             /* the block's input in the last forward */
        float *cols;                 /* im2col of the input (NULL for a direct conv) */
        float *xhat;                 /* normalised conv output */
        float *act;                  /* after BN and ReLU */
        float *inv_std;              /* groups x out */
        float *pooled;               /* after max pooling, when pool */
        uint8_t *arg;                /* max-pooling choices */
    } b[FM_CNN_MAX_BLOCKS];
    float *feat;                     /* images x out of the last block */
    float *scratch[2], *dcols;       /* backward buffers */
    size_t scratch_len, dcols_len;
};

/* Builds a network for in_channels input channels with n_blocks blocks of
 * out[i] channels, kernel side k (odd), max pooling after block i when
 * pool[i] is set. Weights He-uniform, U(-sqrt(6/fan_in), sqrt(6/fan_in))
 * with fan_in = k*k*in; gamma = 1, beta = 0, mean = 0, var = 1. */
void fm_cnn_init(struct fm_cnn *m, size_t in_channels, size_t n_blocks, const size_t *out,
                 const int *pool, size_t k, struct fm_rng *rng);
void fm_cnn_free(struct fm_cnn *m);
/* A deep copy of the parameters and statistics. */
void fm_cnn_copy(struct fm_cnn *dst, const struct fm_cnn *src);

size_t fm_cnn_out(const struct fm_cnn *m);
size_t fm_cnn_param_count(const struct fm_cnn *m);
/* Side of the last block's output for an input of side `side` (0 when the
 * pooling leaves nothing). */
size_t fm_cnn_final_side(const struct fm_cnn *m, size_t side);
/* Multiply-adds of one forward of one image of side `side`. */
double fm_cnn_macs(const struct fm_cnn *m, size_t side);

void fm_cnn_zero_grad(struct fm_cnn *m);

void fm_cnn_tape_free(struct fm_cnn_tape *t);

/* Training forward of `images` side x side x in_channels images (NHWC) in
 * `groups` equal groups (batch-norm statistics per group, one group per
 * view). Returns the features (images x out), owned by the tape and valid
 * until its next forward. x must stay alive until the backward. */
const float *fm_cnn_forward_train(const struct fm_cnn *m, struct fm_cnn_tape *t, const float *x,
                                  size_t images, size_t side, size_t groups);

/* Backward of the tape's last forward, from dfeat = dL/dfeatures (images x
 * out): ADDS the parameter gradients into gw, ggamma and gbeta (clear them
 * with fm_cnn_zero_grad() once per step). If dx is not NULL it receives
 * dL/dx (images x side x side x in_channels). */
void fm_cnn_backward(struct fm_cnn *m, struct fm_cnn_tape *t, const float *dfeat, float *dx);

/* Evaluation forward with the stored statistics, in chunks: out (rows x
 * out) from rows images of side x side. */
void fm_cnn_forward_eval(const struct fm_cnn *m, const float *x, size_t rows, size_t side,
                         float *out);

/* Sets every block's mean and var to the exact (biased) statistics of its
 * convolution outputs over all pixels of the `rows` images of x, block
 * after block, each using the statistics just set for the blocks before. */
void fm_cnn_calibrate(struct fm_cnn *m, const float *x, size_t rows, size_t side);

#endif /* FM_CNN_H */
