/*
 * optim.c - AdamW and LARS updates.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"
#include "util.h"

void fm_optim_init(struct fm_optim *o, int kind, double weight_decay)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->weight_decay = weight_decay;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->momentum = 0.9;
    o->eta = 0.001;
}

void fm_optim_add(struct fm_optim *o, float *p, float *g, size_t n, int decay)
{
    if (o->count == FM_OPTIM_MAX_TENSORS)
        fm_die("too many parameter tensors");
    struct fm_tensor *t = &o->t[o->count++];
    t->p = p;
    t->g = g;
    t->n = n;
    t->decay = decay;
    t->m = fm_calloc(n, sizeof(float));
    t->v = o->kind == FM_OPTIM_ADAMW ? fm_calloc(n, sizeof(float)) : NULL;
}

static void adamw_step(struct fm_optim *o, struct fm_tensor *t, double lr)
{
    const float b1 = (float)o->beta1, b2 = (float)o->beta2;
    const double c1 = 1.0 - pow(o->beta1, (double)o->steps);
    const double c2 = 1.0 - pow(o->beta2, (double)o->steps);
    const float step = (float)(lr / c1);
    const float rc2 = (float)(1.0 / sqrt(c2));
    const float eps = (float)o->eps;
    const float decay = t->decay ? (float)(1.0 - lr * o->weight_decay) : 1.0f;
    for (size_t i = 0; i < t->n; i++) {
        float g = t->g[i];
        t->m[i] = b1 * t->m[i] + (1.0f - b1) * g;
        t->v[i] = b2 * t->v[i] + (1.0f - b2) * g * g;
        t->p[i] = t->p[i] * decay - step * t->m[i] / (sqrtf(t->v[i]) * rc2 + eps);
    }
}

static void lars_step(struct fm_optim *o, struct fm_tensor *t, double lr)
{
    double trust = 1.0;
    const float wd = t->decay ? (float)o->weight_decay : 0.0f;
    if (t->decay) {
        double pn = 0.0, un = 0.0;
        for (size_t i = 0; i < t->n; i++) {
            double u = (double)t->g[i] + (double)wd * t->p[i];
            pn += (double)t->p[i] * t->p[i];
            un += u * u;
        }
        pn = sqrt(pn);
        un = sqrt(un);
        if (pn > 0.0 && un > 0.0)
            trust = o->eta * pn / un;
    }
    const float mom = (float)o->momentum, tr = (float)trust, step = (float)lr;
    for (size_t i = 0; i < t->n; i++) {
        float u = (t->g[i] + wd * t->p[i]) * tr;
        t->m[i] = mom * t->m[i] + u;
        t->p[i] -= step * t->m[i];
    }
}

void fm_optim_step(struct fm_optim *o, double lr)
{
    o->steps++;
    for (size_t k = 0; k < o->count; k++) {
        if (o->kind == FM_OPTIM_ADAMW)
            adamw_step(o, &o->t[k], lr);
        else
            lars_step(o, &o->t[k], lr);
    }
}

void fm_optim_free(struct fm_optim *o)
{
    for (size_t k = 0; k < o->count; k++) {
        free(o->t[k].m);
        free(o->t[k].v);
    }
    memset(o, 0, sizeof *o);
}

const char *fm_optim_name(int kind)
{
    return kind == FM_OPTIM_LARS ? "LARS" : "AdamW";
}

double fm_lr_schedule(double base, long step, long warmup, long total)
{
    if (step < warmup)
        return base * (double)(step + 1) / (double)warmup;
    double span = (double)(total - warmup);
    double t = span > 0.0 ? (double)(step - warmup) / span : 1.0;
    if (t > 1.0)
        t = 1.0;
    const double floor_lr = base * 1e-3;
    return floor_lr + (base - floor_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * t));
}
