/*
 * encoder.c - one interface over the two encoders (cnn.c and nn.c).
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <stdio.h>
#include <string.h>

#include "encoder.h"

void fm_encoder_free(struct fm_encoder *e)
{
    if (e->kind == FM_MODEL_MLP)
        fm_mlp_free(&e->mlp);
    else
        fm_cnn_free(&e->cnn);
    for (int p = 0; p < FM_ENCODER_PASSES; p++)
        fm_cnn_tape_free(&e->tape[p]);
    memset(e, 0, sizeof *e);
}

void fm_encoder_copy(struct fm_encoder *dst, const struct fm_encoder *src)
{
    memset(dst, 0, sizeof *dst);
    dst->kind = src->kind;
    dst->side = src->side;
    if (src->kind == FM_MODEL_MLP)
        fm_mlp_copy(&dst->mlp, &src->mlp);
    else
        fm_cnn_copy(&dst->cnn, &src->cnn);
}

size_t fm_encoder_dim(const struct fm_encoder *e)
{
    return e->kind == FM_MODEL_MLP ? fm_mlp_out(&e->mlp) : fm_cnn_out(&e->cnn);
}

size_t fm_encoder_param_count(const struct fm_encoder *e)
{
    return e->kind == FM_MODEL_MLP ? fm_mlp_param_count(&e->mlp) : fm_cnn_param_count(&e->cnn);
}

const char *fm_encoder_describe(const struct fm_encoder *e, char *buf, size_t len)
{
    int w;
    if (e->kind == FM_MODEL_MLP) {
        const struct fm_mlp *m = &e->mlp;
        w = snprintf(buf, len, "MLP %zu", m->layer[0].in);
        for (size_t l = 0; l < m->n_layers && w > 0 && (size_t)w < len; l++)
            w += snprintf(buf + w, len - (size_t)w, "-%zu", m->layer[l].out);
        return buf;
    }
    const struct fm_cnn *m = &e->cnn;
    w = snprintf(buf, len, "CNN %zux%zu %zu", m->block[0].k, m->block[0].k, m->in_channels);
    for (size_t l = 0; l < m->n_blocks && w > 0 && (size_t)w < len; l++)
        w += snprintf(buf + w, len - (size_t)w, "-%zu%s", m->block[l].out,
                      m->block[l].pool ? "p" : "");
    if (w > 0 && (size_t)w < len)
        snprintf(buf + w, len - (size_t)w, " + GAP");
    return buf;
}

void fm_encoder_add_params(struct fm_encoder *e, struct fm_optim *opt)
{
    if (e->kind == FM_MODEL_MLP) {
        for (size_t l = 0; l < e->mlp.n_layers; l++) {
            struct fm_layer *L = &e->mlp.layer[l];
            fm_optim_add(opt, L->w, L->gw, L->in * L->out, 1);
            if (L->has_bn) {
                fm_optim_add(opt, L->gamma, L->ggamma, L->out, 0);
                fm_optim_add(opt, L->beta, L->gbeta, L->out, 0);
            }
        }
        return;
    }
    for (size_t l = 0; l < e->cnn.n_blocks; l++) {
        struct fm_cnn_block *B = &e->cnn.block[l];
        fm_optim_add(opt, B->w, B->gw, B->k * B->k * B->in * B->out, 1);
        fm_optim_add(opt, B->gamma, B->ggamma, B->out, 0);
        fm_optim_add(opt, B->beta, B->gbeta, B->out, 0);
    }
}

const float *fm_encoder_forward_train(struct fm_encoder *e, int pass, const float *x,
                                      size_t images, size_t side, size_t groups)
{
    if (pass < 0 || pass >= FM_ENCODER_PASSES)
        fm_die("encoder pass %d out of range", pass);
    if (e->kind == FM_MODEL_MLP) {
        if (pass != 0 || side * side != fm_mlp_in(&e->mlp))
            fm_die("the MLP encoder takes one pass of %zu-pixel images", fm_mlp_in(&e->mlp));
        e->mlp_x = x;
        return fm_mlp_forward_train(&e->mlp, x, images, groups);
    }
    return fm_cnn_forward_train(&e->cnn, &e->tape[pass], x, images, side, groups);
}

void fm_encoder_zero_grad(struct fm_encoder *e)
{
    /* The MLP's backward overwrites its gradients (it has one pass). */
    if (e->kind == FM_MODEL_CNN)
        fm_cnn_zero_grad(&e->cnn);
}

void fm_encoder_backward(struct fm_encoder *e, int pass, const float *dfeat)
{
    if (e->kind == FM_MODEL_MLP)
        fm_mlp_backward(&e->mlp, e->mlp_x, dfeat, NULL);
    else
        fm_cnn_backward(&e->cnn, &e->tape[pass], dfeat, NULL);
}

void fm_encoder_features(const struct fm_encoder *e, const float *x, size_t rows, float *out)
{
    if (e->kind == FM_MODEL_MLP)
        fm_mlp_forward_eval(&e->mlp, x, rows, out);
    else
        fm_cnn_forward_eval(&e->cnn, x, rows, e->side, out);
}

void fm_encoder_calibrate(struct fm_encoder *e, const float *x, size_t rows)
{
    if (e->kind == FM_MODEL_MLP)
        fm_mlp_calibrate(&e->mlp, x, rows);
    else
        fm_cnn_calibrate(&e->cnn, x, rows, e->side);
}
