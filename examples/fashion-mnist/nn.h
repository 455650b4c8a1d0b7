/*
 * nn.h - the multilayer perceptrons of the trainer (encoder and projector),
 * forward and backward through CBLAS.
 *
 * A network is a chain of layers. Every layer is a linear map without bias,
 * y = x W with W stored in x out (row-major: W[i * out + j] takes input i
 * to output j), optionally followed by batch normalisation and a ReLU:
 *
 *   encoder    784 -> 1024 -> 512, each layer Linear + BN + ReLU;
 *   projector  512 -> 1024 -> 1024, Linear + BN + ReLU, then a plain Linear.
 *
 * (No bias: batch normalisation removes it, and the VICReg loss does not
 * depend on a constant shift of the last layer.)
 *
 * Training forwards both augmented views in one matrix of 2n rows, so each
 * product is one GEMM; batch normalisation takes its statistics per view
 * (rows 0..n-1 and n..2n-1 separately), as if the views were forwarded one
 * after the other. Evaluation uses fixed per-feature statistics (mean, var)
 * held in the layer, which fm_mlp_calibrate() sets to the exact statistics
 * of a set of clean images.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_NN_H
#define FM_NN_H

#include <stddef.h>

#include "util.h"

#define FM_BN_EPS 1e-5f
#define FM_MAX_LAYERS 8

struct fm_layer {
    size_t in, out;
    int has_bn;                  /* BN + ReLU after the linear map */
    float *w, *gw;               /* in x out, and its gradient */
    float *gamma, *beta;         /* BN scale and shift (out), when has_bn */
    float *ggamma, *gbeta;
    float *mean, *var;           /* BN statistics for evaluation (out) */
    /* Training caches for up to cap_rows rows. */
    float *xhat;                 /* normalised pre-activations (or the output, no BN) */
    float *act;                  /* output of the layer (after ReLU) */
    float *inv_std;              /* groups x out */
};

struct fm_mlp {
    size_t n_layers;
    struct fm_layer layer[FM_MAX_LAYERS];
    size_t cap_rows;             /* rows the caches hold */
    size_t rows, groups;         /* shape of the last training forward */
    float *grad_buf[2];          /* ping-pong buffers for dL/d(activations) */
};

/* Builds a network with widths[0] inputs and widths[1..n_layers] outputs
 * per layer; every layer has BN + ReLU except the last when last_plain is
 * set. Weights are He-uniform, U(-sqrt(6/in), sqrt(6/in)); BN gamma = 1,
 * beta = 0, mean = 0, var = 1. */
void fm_mlp_init(struct fm_mlp *m, size_t n_layers, const size_t *widths,
                 int last_plain, struct fm_rng *rng);
void fm_mlp_free(struct fm_mlp *m);
/* A deep copy of the parameters and statistics (no caches). */
void fm_mlp_copy(struct fm_mlp *dst, const struct fm_mlp *src);

size_t fm_mlp_in(const struct fm_mlp *m);
size_t fm_mlp_out(const struct fm_mlp *m);
/* Number of parameters (weights, BN scales and shifts). */
size_t fm_mlp_param_count(const struct fm_mlp *m);

/* Training forward of `rows` rows in `groups` equal groups (BN statistics
 * per group). Returns a pointer to the output (rows x out), owned by m and
 * valid until the next forward. x must stay alive until the backward. */
const float *fm_mlp_forward_train(struct fm_mlp *m, const float *x, size_t rows, size_t groups);

/* Backward of the last training forward: dy is dL/d(output) (rows x out).
 * Sets the parameter gradients (gw, ggamma, gbeta: overwritten, not
 * accumulated). If dx is not NULL it receives dL/dx (rows x in). */
void fm_mlp_backward(struct fm_mlp *m, const float *x, const float *dy, float *dx);

/* Evaluation forward with the stored BN statistics: out (rows x out) from
 * x (rows x in), in chunks of at most 1024 rows. */
void fm_mlp_forward_eval(const struct fm_mlp *m, const float *x, size_t rows, float *out);

/* Sets every BN layer's mean and var to the exact (biased) statistics of
 * its pre-activations over the `rows` images of x, layer after layer, each
 * layer using the statistics just computed for the ones before it. */
void fm_mlp_calibrate(struct fm_mlp *m, const float *x, size_t rows);

#endif /* FM_NN_H */
