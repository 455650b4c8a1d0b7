/*
 * bn.h - batch normalisation of a rows x channels matrix (the NHWC output
 * of a convolution, one row per pixel of every image), per channel.
 *
 * In training the statistics are those of the batch, taken separately for
 * each of `groups` equal blocks of rows (one block per view, as if the
 * views were forwarded one after the other); the variance is the biased
 * one. In evaluation the layer uses fixed statistics (mean, var), which
 * the encoder sets to the exact statistics of clean images (calibration).
 *
 *   out = gamma * (y - mean) / sqrt(var + FM_BN_EPS) + beta
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_BN_H
#define FM_BN_H

#include <stddef.h>

#include "nn.h" /* FM_BN_EPS, shared with the MLP */

/* Training forward. y (rows x c) is replaced by its normalised values xhat
 * (which the backward needs); out (rows x c, a separate array) receives
 * gamma xhat + beta, or with relu set max(gamma xhat + beta, 0) (the ReLU
 * of pool.h fused in); inv_std (groups x c) receives 1/sqrt(var + eps) of
 * each group. rows must be a multiple of groups. */
void fm_bn_forward_train(float *y, float *out, size_t rows, size_t c, size_t groups,
                         const float *gamma, const float *beta, float *inv_std, int relu);

/* Backward: from dout = dL/dout (rows x c) writes dL/dy into dy (which may
 * be dout itself) and ADDS dL/dgamma and dL/dbeta into ggamma and gbeta
 * (c each), so that several passes accumulate. act is NULL, or for a
 * forward with relu its output out: dout then goes through the ReLU
 * first (kept where act > 0). */
void fm_bn_backward(const float *dout, float *dy, const float *xhat, const float *inv_std,
                    const float *gamma, const float *act, size_t rows, size_t c, size_t groups,
                    float *ggamma, float *gbeta);

/* Evaluation forward with fixed statistics, and the ReLU when relu is
 * set; out may be y. */
void fm_bn_forward_eval(const float *y, float *out, size_t rows, size_t c, const float *gamma,
                        const float *beta, const float *mean, const float *var, int relu);

/* Adds the column sums of y and of its squares (rows x c) into sum and ssq
 * (c doubles each): the statistics a calibration accumulates. */
void fm_bn_accumulate(const float *y, size_t rows, size_t c, double *sum, double *ssq);

#endif /* FM_BN_H */
