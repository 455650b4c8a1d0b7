/*
 * encoder.h - the encoder under training and evaluation, either the
 * convolutional encoder of cnn.h (the default) or the MLP of nn.h (--model
 * mlp, the trainer's first model, kept for comparison). The training loop,
 * the evaluation and the checkpoint go through these calls and do not care
 * which one it is.
 *
 * Inputs are images of side x side standardised pixels (augment.h), one
 * image per row: for the MLP a row of side * side inputs, for the CNN an
 * NHWC image with one channel, which is the same array.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_ENCODER_H
#define FM_ENCODER_H

#include <stddef.h>

#include "cnn.h"
#include "nn.h"
#include "optim.h"

enum { FM_MODEL_CNN = 0, FM_MODEL_MLP = 1 };

/* Training passes per step: the global views and the local views. */
#define FM_ENCODER_PASSES 2

struct fm_encoder {
    int kind;
    size_t side;                 /* side of the (square) evaluation images */
    struct fm_mlp mlp;           /* kind == FM_MODEL_MLP */
    struct fm_cnn cnn;           /* kind == FM_MODEL_CNN */
    struct fm_cnn_tape tape[FM_ENCODER_PASSES];
    const float *mlp_x;          /* the MLP's last training input */
};

void fm_encoder_free(struct fm_encoder *e);
/* A deep copy of the parameters and statistics (no training state). */
void fm_encoder_copy(struct fm_encoder *dst, const struct fm_encoder *src);

size_t fm_encoder_dim(const struct fm_encoder *e);
size_t fm_encoder_param_count(const struct fm_encoder *e);
/* "conv 3x3 1-32p-64p-128 + GAP" or "MLP 784-1024-512". */
const char *fm_encoder_describe(const struct fm_encoder *e, char *buf, size_t len);
/* Registers the parameters with the optimiser (weights with decay, the
 * batch-norm scales and shifts without). */
void fm_encoder_add_params(struct fm_encoder *e, struct fm_optim *opt);

/* Training forward of pass `pass` (0 or 1; the MLP has only pass 0 and
 * side x side must be its input width): `images` images in `groups` groups
 * (one per view). Returns images x dim features, valid until the pass's
 * next forward; x must stay alive until the pass's backward. */
const float *fm_encoder_forward_train(struct fm_encoder *e, int pass, const float *x,
                                      size_t images, size_t side, size_t groups);
/* Clears the parameter gradients; once per step, before the backwards. */
void fm_encoder_zero_grad(struct fm_encoder *e);
/* Backward of the pass's last forward from dL/dfeatures: adds into the
 * parameter gradients. */
void fm_encoder_backward(struct fm_encoder *e, int pass, const float *dfeat);

/* Evaluation features (rows x dim) of rows clean side x side images. */
void fm_encoder_features(const struct fm_encoder *e, const float *x, size_t rows, float *out);
/* Sets the batch-norm statistics to the exact ones of rows clean images. */
void fm_encoder_calibrate(struct fm_encoder *e, const float *x, size_t rows);

#endif /* FM_ENCODER_H */
