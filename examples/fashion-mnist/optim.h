/*
 * optim.h - the optimisers: AdamW (the default) and LARS (as in the VICReg
 * paper), with a linear warm-up and a cosine decay of the learning rate.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_OPTIM_H
#define FM_OPTIM_H

#include <stddef.h>

enum { FM_OPTIM_ADAMW = 0, FM_OPTIM_LARS = 1 };

#define FM_OPTIM_MAX_TENSORS 64

struct fm_tensor {
    float *p, *g;      /* parameters and their gradient, n floats each */
    size_t n;
    int decay;         /* weights: weight decay (and the LARS trust ratio);
                        * batch-norm scales and shifts: neither */
    float *m, *v;      /* optimiser state */
};

struct fm_optim {
    int kind;
    double weight_decay;
    double beta1, beta2, eps;   /* AdamW */
    double momentum, eta;       /* LARS */
    long steps;
    size_t count;
    struct fm_tensor t[FM_OPTIM_MAX_TENSORS];
};

/* kind: FM_OPTIM_ADAMW (beta1 0.9, beta2 0.999, eps 1e-8, decoupled decay)
 * or FM_OPTIM_LARS (momentum 0.9, trust coefficient eta 0.001, decay added
 * to the gradient before the trust ratio, as in the VICReg code). */
void fm_optim_init(struct fm_optim *o, int kind, double weight_decay);
void fm_optim_add(struct fm_optim *o, float *p, float *g, size_t n, int decay);
/* One update of every tensor with learning rate lr. */
void fm_optim_step(struct fm_optim *o, double lr);
void fm_optim_free(struct fm_optim *o);
const char *fm_optim_name(int kind);

/* Learning rate at step `step` of `total`: linear warm-up from 0 over
 * `warmup` steps, then a cosine decay from base to base / 1000. */
double fm_lr_schedule(double base, long step, long warmup, long total);

#endif /* FM_OPTIM_H */
