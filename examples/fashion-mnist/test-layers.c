/*
 * test-layers.c - the trainer's own gradients, proven: every layer's
 * backward (convolution, batch normalisation in training mode, ReLU, 2 x 2
 * max pooling, global average pooling, the MLP's linear layer) against
 * central finite differences, then the composites (the MLP's Linear + BN +
 * ReLU layers of nn.c, and the whole CNN encoder of cnn.c).
 *
 * Single layers. Each check draws a random input and a random "upstream
 * gradient" R, and takes the scalar L = sum_i y_i R_i of the layer's float
 * output y, summed in double. The backward given dL/dy = R must give dL/dθ
 * for every input and parameter θ; the finite difference is
 * (L(θ + h) - L(θ - h)) / (2h) with the layer run in float, as the trainer
 * runs it. Every entry is checked (the shapes are small), and each must
 * satisfy
 *
 *   |fd - analytic| <= 1e-4 |analytic| + 8 FLT_EPSILON S / h,
 *   S = sum_i |y_i R_i|.
 *
 * The second term is the rounding of the float forward: each output is
 * correct to about an ulp of its magnitude, so L(θ ± h) is off by about
 * FLT_EPSILON S, and the difference quotient divides that by 2h; 8 leaves
 * a margin. The first is the truncation error of the central difference,
 * h^2/6 times the third derivative over the first: zero for the layers
 * that are linear in what is varied (convolution, linear, global average
 * pooling, and ReLU and max pooling away from their kinks), for which h is
 * large so that the rounding term is small; about 1e-5 for batch
 * normalisation with h = 1e-2. ReLU and max pooling are checked on inputs
 * placed away from their kinks (|x| >= 2h; pooling inputs 4h apart).
 *
 * Composites. Inside a network the ReLU and pooling kinks cannot be kept
 * away from every intermediate value, and float rounding, amplified
 * through the normalisations, swamps a difference quotient whose step is
 * small enough to miss the kinks. So the composites are checked against a
 * straightforward double-precision mirror of their forward written here
 * (naive loops): first the float forward must match the mirror's (to
 * 1e-4 relative), then the float backward must match central differences
 * of the mirror with h = 1e-6 (rounding near 1e-10, truncation near 1e-12,
 * and a kink crossed by about one step in 10^3; an entry that fails is
 * retried with h = 1e-8, which leaves any kink behind but not a wrong
 * gradient), to 1e-4 of the gradient's scale (|analytic| + its rms over
 * the array): the float backward's own rounding (sums of a few hundred
 * float products) is near 1e-6 of it.
 *
 * The measured errors are printed next to their tolerances. The test also
 * checks that the backward ADDS into the parameter gradients (the two
 * passes of a multi-crop step accumulate), and that calibrated evaluation
 * statistics reproduce the training forward.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bn.h"
#include "cnn.h"
#include "conv.h"
#include "nn.h"
#include "pool.h"
#include "util.h"

static int failures;
static struct fm_rng rng;

static float *rand_array(size_t n, double lo, double hi)
{
    float *a = fm_malloc(n, sizeof(float));
    for (size_t i = 0; i < n; i++)
        a[i] = (float)fm_rng_range(&rng, lo, hi);
    return a;
}

/* L = sum y_i R_i in double, and S = sum |y_i R_i|. */
static double dot(const float *y, const float *r, size_t n, double *s)
{
    double l = 0.0, a = 0.0;
    for (size_t i = 0; i < n; i++) {
        l += (double)y[i] * r[i];
        a += fabs((double)y[i] * r[i]);
    }
    if (s)
        *s = a;
    return l;
}

/* A forward: computes L from the current values of the checked arrays. */
typedef double (*loss_fn)(void *ctx, double *scale);

/* Checks dL/dp[i] = an[i] for every i < n by central differences of step
 * h on the float array p (see the top of the file for the tolerance). */
static void check_array(const char *what, float *p, const float *an, size_t n, double h,
                        loss_fn f, void *ctx)
{
    double max_err = 0.0, max_ratio = 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const float keep = p[i];
        double s1, s2;
        p[i] = (float)(keep + h);
        const double hp = (double)p[i] - keep; /* the step actually taken, in float */
        const double lp = f(ctx, &s1);
        p[i] = (float)(keep - h);
        const double hm = keep - (double)p[i];
        const double lm = f(ctx, &s2);
        p[i] = keep;
        const double fd = (lp - lm) / (hp + hm);
        const double err = fabs(fd - an[i]);
        const double tol = 1e-4 * fabs(an[i]) + 8.0 * FLT_EPSILON * fmax(s1, s2) / h;
        max_err = fmax(max_err, err);
        max_ratio = fmax(max_ratio, err / tol);
        if (err > tol && bad++ < 3)
            printf("    %s[%zu]: finite difference %.8g, backward %.8g (tolerance %.3g)\n",
                   what, i, fd, (double)an[i], tol);
    }
    printf("  %-26s %5zu entries, largest error %.1e (%.3f of its tolerance)%s\n", what, n,
           max_err, max_ratio, bad ? ": FAIL" : "");
    failures += bad != 0;
}

/* ------------------------------------------------------------------------
 * Convolution
 * ------------------------------------------------------------------------ */
struct conv_ctx {
    struct fm_conv_shape s;
    float *x, *w, *cols, *y, *r;
};

static double conv_loss(void *c, double *scale)
{
    struct conv_ctx *k = c;
    fm_conv_forward(&k->s, k->x, k->w, k->cols, k->y);
    return dot(k->y, k->r, fm_conv_rows(&k->s) * k->s.out, scale);
}

static void test_conv(size_t images, size_t side, size_t in, size_t out, size_t ks)
{
    struct conv_ctx k;
    k.s = (struct fm_conv_shape){images, side, side, in, out, ks};
    const size_t nx = images * side * side * in, nw = fm_conv_k(&k.s) * out;
    const size_t ny = fm_conv_rows(&k.s) * out;
    k.x = rand_array(nx, -1.0, 1.0);
    k.w = rand_array(nw, -0.5, 0.5);
    k.r = rand_array(ny, -1.0, 1.0);
    k.cols = fm_malloc(fm_conv_rows(&k.s) * fm_conv_k(&k.s), sizeof(float));
    k.y = fm_malloc(ny, sizeof(float));
    float *gw = fm_calloc(nw, sizeof(float)), *dx = fm_malloc(nx, sizeof(float));
    float *dcols = fm_malloc(fm_conv_rows(&k.s) * fm_conv_k(&k.s), sizeof(float));
    conv_loss(&k, NULL);
    fm_conv_backward(&k.s, k.x, k.cols, k.w, k.r, gw, dcols, dx);
    printf("convolution %zux%zu (%s), %zu images %zux%zu, %zu -> %zu channels\n", ks, ks,
           fm_conv_needs_cols(&k.s) ? "im2col + GEMM" : "direct", images, side, side, in, out);
    check_array("dL/dW", k.w, gw, nw, 0.25, conv_loss, &k);
    check_array("dL/dx", k.x, dx, nx, 0.25, conv_loss, &k);
    /* The backward adds: a second call doubles the weight gradient (up to
     * the rounding of the sum). */
    float *gw2 = fm_malloc(nw, sizeof(float));
    memcpy(gw2, gw, nw * sizeof(float));
    conv_loss(&k, NULL); /* the cols of the unperturbed input again */
    fm_conv_backward(&k.s, k.x, k.cols, k.w, k.r, gw2, dcols, NULL);
    double worst = 0.0;
    for (size_t i = 0; i < nw; i++)
        worst = fmax(worst, fabs(gw2[i] - 2.0 * gw[i]) / (1e-6 + 2.0 * fabs(gw[i])));
    printf("  %-26s relative difference %.1e%s\n", "a second backward adds", worst,
           worst < 1e-5 ? "" : ": FAIL");
    failures += !(worst < 1e-5);
    free(k.x);
    free(k.w);
    free(k.r);
    free(k.cols);
    free(k.y);
    free(gw);
    free(gw2);
    free(dx);
    free(dcols);
}

/* ------------------------------------------------------------------------
 * Batch normalisation, training mode
 * ------------------------------------------------------------------------ */
struct bn_ctx {
    size_t rows, c, groups;
    float *x, *gamma, *beta, *work, *out, *inv, *r;
};

static double bn_loss(void *p, double *scale)
{
    struct bn_ctx *b = p;
    memcpy(b->work, b->x, b->rows * b->c * sizeof(float));
    fm_bn_forward_train(b->work, b->out, b->rows, b->c, b->groups, b->gamma, b->beta, b->inv,
                        0);
    return dot(b->out, b->r, b->rows * b->c, scale);
}

static void test_bn(size_t rows, size_t c, size_t groups)
{
    struct bn_ctx b = {rows, c, groups, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    const size_t n = rows * c;
    b.x = rand_array(n, -2.0, 3.0);
    b.gamma = rand_array(c, 0.5, 1.5);
    b.beta = rand_array(c, -0.5, 0.5);
    b.r = rand_array(n, -1.0, 1.0);
    b.work = fm_malloc(n, sizeof(float));
    b.out = fm_malloc(n, sizeof(float));
    b.inv = fm_malloc(groups * c, sizeof(float));
    float *dx = fm_malloc(n, sizeof(float));
    float *gg = fm_calloc(c, sizeof(float)), *gb = fm_calloc(c, sizeof(float));
    bn_loss(&b, NULL);
    fm_bn_backward(b.r, dx, b.work, b.inv, b.gamma, NULL, rows, c, groups, gg, gb);
    printf("batch normalisation (training), %zu rows in %zu groups, %zu channels\n", rows,
           groups, c);
    check_array("dL/dx", b.x, dx, n, 1e-2, bn_loss, &b);
    check_array("dL/dgamma", b.gamma, gg, c, 1e-2, bn_loss, &b);
    check_array("dL/dbeta", b.beta, gb, c, 1e-2, bn_loss, &b);
    free(b.x);
    free(b.gamma);
    free(b.beta);
    free(b.r);
    free(b.work);
    free(b.out);
    free(b.inv);
    free(dx);
    free(gg);
    free(gb);
}

/* ------------------------------------------------------------------------
 * ReLU, max pooling, global average pooling
 * ------------------------------------------------------------------------ */
struct pw_ctx {
    int kind; /* 0 ReLU, 1 max pool, 2 GAP */
    size_t images, side, c;
    float *x, *y, *r;
    uint8_t *arg;
};

static size_t pw_out_len(const struct pw_ctx *k)
{
    if (k->kind == 0)
        return k->images * k->side * k->side * k->c;
    if (k->kind == 1) {
        size_t s = fm_maxpool_side(k->side);
        return k->images * s * s * k->c;
    }
    return k->images * k->c;
}

static double pw_loss(void *p, double *scale)
{
    struct pw_ctx *k = p;
    const size_t n = k->images * k->side * k->side * k->c;
    if (k->kind == 0)
        fm_relu_forward(k->x, k->y, n);
    else if (k->kind == 1)
        fm_maxpool_forward(k->x, k->images, k->side, k->side, k->c, k->y, k->arg);
    else
        fm_gap_forward(k->x, k->images, k->side * k->side, k->c, k->y);
    return dot(k->y, k->r, pw_out_len(k), scale);
}

static void test_pointwise(int kind, size_t images, size_t side, size_t c)
{
    static const char *const names[3] = {"ReLU", "max pooling 2x2", "global average pooling"};
    struct pw_ctx k = {kind, images, side, c, NULL, NULL, NULL, NULL};
    const size_t n = images * side * side * c, no = pw_out_len(&k);
    /* Piecewise linear: exact differences for any step that crosses no
     * kink; the ladder of the pooling input keeps its values of order n h. */
    const double h = kind == 1 ? 0.05 : 0.25;
    k.x = fm_malloc(n, sizeof(float));
    if (kind == 0) {
        /* Away from the kink: |x| >= 2h. */
        for (size_t i = 0; i < n; i++) {
            double v = fm_rng_range(&rng, 2.0 * h, 2.0);
            k.x[i] = (float)(fm_rng_uniform(&rng) < 0.5 ? -v : v);
        }
    } else {
        /* Distinct values 4h apart (a shuffled ladder), so that every
         * window's maximum stays the maximum under a step of h. */
        uint32_t *perm = fm_malloc(n, sizeof(uint32_t));
        for (size_t i = 0; i < n; i++)
            perm[i] = (uint32_t)i;
        fm_rng_shuffle(&rng, perm, n);
        for (size_t i = 0; i < n; i++)
            k.x[i] = (float)(4.0 * h * ((double)perm[i] - 0.5 * (double)n));
        free(perm);
    }
    k.y = fm_malloc(no, sizeof(float));
    k.r = rand_array(no, -1.0, 1.0);
    k.arg = fm_malloc(no, 1);
    float *dx = fm_malloc(n, sizeof(float));
    pw_loss(&k, NULL);
    if (kind == 0)
        fm_relu_backward(k.y, k.r, dx, n);
    else if (kind == 1)
        fm_maxpool_backward(k.r, k.arg, images, side, side, c, dx);
    else
        fm_gap_backward(k.r, images, side * side, c, dx);
    printf("%s, %zu images %zux%zu, %zu channels\n", names[kind], images, side, side, c);
    check_array("dL/dx", k.x, dx, n, h, pw_loss, &k);
    free(k.x);
    free(k.y);
    free(k.r);
    free(k.arg);
    free(dx);
}

/* ------------------------------------------------------------------------
 * The double-precision mirror of the composites
 * ------------------------------------------------------------------------ */
static double *to_double(const float *a, size_t n)
{
    double *d = fm_malloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++)
        d[i] = a[i];
    return d;
}

/* y (rows x out) = x (rows x in) w (in x out). */
static void ref_linear(const double *x, size_t rows, size_t in, const double *w, size_t out,
                       double *y)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < out; j++) {
            double acc = 0.0;
            for (size_t k = 0; k < in; k++)
                acc += x[i * in + k] * w[k * out + j];
            y[i * out + j] = acc;
        }
}

/* The "same" convolution of conv.h, straight from its definition. */
static void ref_conv(const double *x, size_t images, size_t side, size_t in, const double *w,
                     size_t out, size_t k, double *y)
{
    const long pad = (long)(k / 2), S = (long)side;
    for (size_t b = 0; b < images; b++)
        for (long py = 0; py < S; py++)
            for (long px = 0; px < S; px++)
                for (size_t o = 0; o < out; o++) {
                    double acc = 0.0;
                    for (long ky = 0; ky < (long)k; ky++)
                        for (long kx = 0; kx < (long)k; kx++) {
                            long sy = py + ky - pad, sx = px + kx - pad;
                            if (sy < 0 || sx < 0 || sy >= S || sx >= S)
                                continue;
                            for (size_t c = 0; c < in; c++)
                                acc += x[((b * side + (size_t)sy) * side + (size_t)sx) * in + c] *
                                       w[(((size_t)ky * k + (size_t)kx) * in + c) * out + o];
                        }
                    y[((b * side + (size_t)py) * side + (size_t)px) * out + o] = acc;
                }
}

/* Batch normalisation per group (biased variance) then ReLU, in place. */
static void ref_bn_relu(double *y, size_t rows, size_t c, size_t groups, const double *gamma,
                        const double *beta)
{
    const size_t per = rows / groups;
    for (size_t g = 0; g < groups; g++)
        for (size_t j = 0; j < c; j++) {
            double *col = y + g * per * c + j;
            double mean = 0.0, var = 0.0;
            for (size_t i = 0; i < per; i++)
                mean += col[i * c];
            mean /= (double)per;
            for (size_t i = 0; i < per; i++)
                var += (col[i * c] - mean) * (col[i * c] - mean);
            var /= (double)per;
            for (size_t i = 0; i < per; i++) {
                double v = gamma[j] * (col[i * c] - mean) / sqrt(var + FM_BN_EPS) + beta[j];
                col[i * c] = v > 0.0 ? v : 0.0;
            }
        }
}

static void ref_pool(const double *x, size_t images, size_t side, size_t c, double *out)
{
    const size_t os = side / 2;
    for (size_t b = 0; b < images; b++)
        for (size_t py = 0; py < os; py++)
            for (size_t px = 0; px < os; px++)
                for (size_t j = 0; j < c; j++) {
                    double best = -INFINITY;
                    for (size_t q = 0; q < 4; q++) {
                        double v = x[((b * side + 2 * py + q / 2) * side + 2 * px + q % 2) * c + j];
                        best = v > best ? v : best;
                    }
                    out[((b * os + py) * os + px) * c + j] = best;
                }
}

typedef double (*ref_fn)(void *ctx);

/* Checks the float backward an[] against central differences of the
 * double mirror f in the double array p (see the top of the file). */
static void check_ref(const char *what, double *p, const float *an, size_t n, ref_fn f,
                      void *ctx)
{
    double rms = 0.0;
    for (size_t i = 0; i < n; i++)
        rms += (double)an[i] * an[i];
    rms = sqrt(rms / (double)(n ? n : 1));
    double max_err = 0.0, max_ratio = 0.0;
    size_t bad = 0, retried = 0;
    for (size_t i = 0; i < n; i++) {
        const double keep = p[i], tol = 1e-4 * (fabs(an[i]) + rms);
        double err = 0.0, fd = 0.0;
        for (double h = 1e-6; h >= 1e-8; h *= 1e-2) {
            p[i] = keep + h;
            const double lp = f(ctx);
            p[i] = keep - h;
            const double lm = f(ctx);
            p[i] = keep;
            fd = (lp - lm) / (2.0 * h);
            err = fabs(fd - an[i]);
            if (err <= tol)
                break;
            if (h == 1e-6)
                retried++;
        }
        max_err = fmax(max_err, err);
        max_ratio = fmax(max_ratio, err / tol);
        if (err > tol && bad++ < 3)
            printf("    %s[%zu]: finite difference %.8g, backward %.8g (tolerance %.3g)\n",
                   what, i, fd, (double)an[i], tol);
    }
    printf("  %-26s %5zu entries, largest error %.1e (%.3f of its tolerance)", what, n, max_err,
           max_ratio);
    if (retried)
        printf(", %zu retried with h = 1e-8", retried);
    printf("%s\n", bad ? ": FAIL" : "");
    failures += bad != 0;
}

/* The float forward against the mirror's: features y (float) and yr. */
static void check_forward(const char *what, const float *y, const double *yr, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)y[i] - yr[i]) / (1.0 + fabs(yr[i])));
    printf("  %-26s %5zu values, largest relative difference %.1e%s\n", what, n, worst,
           worst < 1e-4 ? "" : ": FAIL");
    failures += !(worst < 1e-4);
}

/* ------------------------------------------------------------------------
 * The MLP of nn.c: Linear + BN + ReLU layers, then a linear one
 * ------------------------------------------------------------------------ */
struct mlp_ref {
    const struct fm_mlp *m;
    double *w[FM_MAX_LAYERS], *gamma[FM_MAX_LAYERS], *beta[FM_MAX_LAYERS];
    double *x, *r, *buf[2], *out;
    size_t rows, groups;
};

static double mlp_ref_loss(void *p)
{
    struct mlp_ref *k = p;
    const double *cur = k->x;
    for (size_t l = 0; l < k->m->n_layers; l++) {
        const struct fm_layer *L = &k->m->layer[l];
        double *y = k->buf[l % 2];
        ref_linear(cur, k->rows, L->in, k->w[l], L->out, y);
        if (L->has_bn)
            ref_bn_relu(y, k->rows, L->out, k->groups, k->gamma[l], k->beta[l]);
        cur = y;
    }
    const size_t n = k->rows * fm_mlp_out(k->m);
    memcpy(k->out, cur, n * sizeof(double));
    double loss = 0.0;
    for (size_t i = 0; i < n; i++)
        loss += cur[i] * k->r[i];
    return loss;
}

static void test_mlp(void)
{
    const size_t widths[4] = {6, 8, 7, 4}, rows = 12, groups = 2;
    struct fm_mlp m;
    fm_mlp_init(&m, 3, widths, 1, &rng);
    for (size_t l = 0; l < 2; l++)
        for (size_t j = 0; j < m.layer[l].out; j++) {
            m.layer[l].gamma[j] = (float)fm_rng_range(&rng, 0.5, 1.5);
            m.layer[l].beta[j] = (float)fm_rng_range(&rng, -0.5, 0.5);
        }
    float *x = rand_array(rows * widths[0], -1.0, 1.0);
    float *r = rand_array(rows * widths[3], -1.0, 1.0);
    float *dx = fm_malloc(rows * widths[0], sizeof(float));
    const float *y = fm_mlp_forward_train(&m, x, rows, groups);
    struct mlp_ref k = {&m, {0}, {0}, {0}, NULL, NULL, {NULL, NULL}, NULL, rows, groups};
    for (size_t l = 0; l < 3; l++) {
        k.w[l] = to_double(m.layer[l].w, m.layer[l].in * m.layer[l].out);
        if (m.layer[l].has_bn) {
            k.gamma[l] = to_double(m.layer[l].gamma, m.layer[l].out);
            k.beta[l] = to_double(m.layer[l].beta, m.layer[l].out);
        }
    }
    k.x = to_double(x, rows * widths[0]);
    k.r = to_double(r, rows * widths[3]);
    k.buf[0] = fm_malloc(rows * 8, sizeof(double));
    k.buf[1] = fm_malloc(rows * 8, sizeof(double));
    k.out = fm_malloc(rows * widths[3], sizeof(double));
    printf("MLP 6-8-7-4 (nn.c: Linear + BN + ReLU twice, then linear), %zu rows in %zu groups\n",
           rows, groups);
    mlp_ref_loss(&k);
    check_forward("forward", y, k.out, rows * widths[3]);
    fm_mlp_backward(&m, x, r, dx);
    char what[64];
    for (size_t l = 0; l < 3; l++) {
        struct fm_layer *L = &m.layer[l];
        snprintf(what, sizeof what, "layer %zu dL/dW", l);
        check_ref(what, k.w[l], L->gw, L->in * L->out, mlp_ref_loss, &k);
        if (L->has_bn) {
            snprintf(what, sizeof what, "layer %zu dL/dgamma", l);
            check_ref(what, k.gamma[l], L->ggamma, L->out, mlp_ref_loss, &k);
            snprintf(what, sizeof what, "layer %zu dL/dbeta", l);
            check_ref(what, k.beta[l], L->gbeta, L->out, mlp_ref_loss, &k);
        }
    }
    check_ref("dL/dx", k.x, dx, rows * widths[0], mlp_ref_loss, &k);
    for (size_t l = 0; l < 3; l++) {
        free(k.w[l]);
        free(k.gamma[l]);
        free(k.beta[l]);
    }
    free(k.x);
    free(k.r);
    free(k.buf[0]);
    free(k.buf[1]);
    free(k.out);
    free(x);
    free(r);
    free(dx);
    fm_mlp_free(&m);
}

/* ------------------------------------------------------------------------
 * The whole CNN encoder of cnn.c
 * ------------------------------------------------------------------------ */
struct cnn_ref {
    const struct fm_cnn *m;
    double *w[FM_CNN_MAX_BLOCKS], *gamma[FM_CNN_MAX_BLOCKS], *beta[FM_CNN_MAX_BLOCKS];
    double *x, *r, *buf[2], *feat;
    size_t images, side, groups;
};

static double cnn_ref_loss(void *p)
{
    struct cnn_ref *k = p;
    const double *cur = k->x;
    size_t s = k->side;
    double *bufs[2] = {k->buf[0], k->buf[1]};
    int nb = 0;
    for (size_t l = 0; l < k->m->n_blocks; l++) {
        const struct fm_cnn_block *B = &k->m->block[l];
        double *y = bufs[nb];
        nb ^= 1;
        ref_conv(cur, k->images, s, B->in, k->w[l], B->out, B->k, y);
        ref_bn_relu(y, k->images * s * s, B->out, k->groups, k->gamma[l], k->beta[l]);
        cur = y;
        if (B->pool) {
            double *o = bufs[nb];
            nb ^= 1;
            ref_pool(cur, k->images, s, B->out, o);
            s /= 2;
            cur = o;
        }
    }
    const size_t c = fm_cnn_out(k->m);
    double loss = 0.0;
    for (size_t b = 0; b < k->images; b++)
        for (size_t j = 0; j < c; j++) {
            double acc = 0.0;
            for (size_t q = 0; q < s * s; q++)
                acc += cur[(b * s * s + q) * c + j];
            k->feat[b * c + j] = acc / (double)(s * s);
            loss += k->feat[b * c + j] * k->r[b * c + j];
        }
    return loss;
}

static void test_cnn(void)
{
    struct fm_cnn m;
    struct fm_cnn_tape t = {0};
    const size_t out[3] = {4, 6, 5}, nblocks = 3;
    const int pool[3] = {1, 1, 0};
    fm_cnn_init(&m, 1, nblocks, out, pool, 3, &rng);
    for (size_t l = 0; l < nblocks; l++)
        for (size_t j = 0; j < out[l]; j++) {
            m.block[l].gamma[j] = (float)fm_rng_range(&rng, 0.5, 1.5);
            m.block[l].beta[j] = (float)fm_rng_range(&rng, -0.5, 0.5);
        }
    /* 9 -> 4 -> 2: both poolings drop an odd row and column. */
    const size_t images = 6, side = 9, groups = 2;
    const size_t nx = images * side * side, nf = images * fm_cnn_out(&m);
    float *x = rand_array(nx, -1.5, 1.5);
    float *r = rand_array(nf, -1.0, 1.0);
    float *dx = fm_malloc(nx, sizeof(float));
    fm_cnn_zero_grad(&m);
    const float *f = fm_cnn_forward_train(&m, &t, x, images, side, groups);
    struct cnn_ref k;
    memset(&k, 0, sizeof k);
    k.m = &m;
    k.images = images;
    k.side = side;
    k.groups = groups;
    for (size_t l = 0; l < nblocks; l++) {
        const struct fm_cnn_block *B = &m.block[l];
        k.w[l] = to_double(B->w, B->k * B->k * B->in * B->out);
        k.gamma[l] = to_double(B->gamma, B->out);
        k.beta[l] = to_double(B->beta, B->out);
    }
    k.x = to_double(x, nx);
    k.r = to_double(r, nf);
    k.buf[0] = fm_malloc(images * side * side * 6, sizeof(double));
    k.buf[1] = fm_malloc(images * side * side * 6, sizeof(double));
    k.feat = fm_malloc(nf, sizeof(double));
    printf("CNN encoder 1-4p-6p-5 + GAP (cnn.c, 3x3), %zu images %zux%zu in %zu groups\n",
           images, side, side, groups);
    cnn_ref_loss(&k);
    check_forward("forward", f, k.feat, nf);
    fm_cnn_backward(&m, &t, r, dx);
    char what[64];
    for (size_t l = 0; l < nblocks; l++) {
        struct fm_cnn_block *B = &m.block[l];
        snprintf(what, sizeof what, "block %zu dL/dW", l);
        check_ref(what, k.w[l], B->gw, B->k * B->k * B->in * B->out, cnn_ref_loss, &k);
        snprintf(what, sizeof what, "block %zu dL/dgamma", l);
        check_ref(what, k.gamma[l], B->ggamma, B->out, cnn_ref_loss, &k);
        snprintf(what, sizeof what, "block %zu dL/dbeta", l);
        check_ref(what, k.beta[l], B->gbeta, B->out, cnn_ref_loss, &k);
    }
    check_ref("dL/dx", k.x, dx, nx, cnn_ref_loss, &k);

    /* Two passes at different sides (the global and local views of a
     * multi-crop step) accumulate: the gradient after both backwards is
     * the sum of each alone. */
    struct fm_cnn_tape t2 = {0};
    const size_t side2 = 6;
    float *x2 = rand_array(4 * side2 * side2, -1.5, 1.5);
    float *r2 = rand_array(4 * fm_cnn_out(&m), -1.0, 1.0);
    const size_t nw0 = 9 * out[0];
    float *g_a = fm_malloc(nw0, sizeof(float)), *g_b = fm_malloc(nw0, sizeof(float));
    fm_cnn_zero_grad(&m);
    fm_cnn_forward_train(&m, &t, x, images, side, groups);
    fm_cnn_backward(&m, &t, r, NULL);
    memcpy(g_a, m.block[0].gw, nw0 * sizeof(float));
    fm_cnn_zero_grad(&m);
    fm_cnn_forward_train(&m, &t2, x2, 4, side2, 2);
    fm_cnn_backward(&m, &t2, r2, NULL);
    memcpy(g_b, m.block[0].gw, nw0 * sizeof(float));
    fm_cnn_zero_grad(&m);
    fm_cnn_forward_train(&m, &t, x, images, side, groups);
    fm_cnn_forward_train(&m, &t2, x2, 4, side2, 2);
    fm_cnn_backward(&m, &t, r, NULL);
    fm_cnn_backward(&m, &t2, r2, NULL);
    double worst = 0.0;
    for (size_t i = 0; i < nw0; i++)
        worst = fmax(worst, fabs(m.block[0].gw[i] - ((double)g_a[i] + g_b[i])) /
                                (1e-6 + fabs(g_a[i]) + fabs(g_b[i])));
    printf("  %-26s relative difference %.1e%s\n", "two passes (9x9, 6x6) add", worst,
           worst < 1e-5 ? "" : ": FAIL");
    failures += !(worst < 1e-5);

    /* Calibration: with one group, the evaluation forward with the
     * calibrated statistics of the same images is the training forward. */
    const float *ft = fm_cnn_forward_train(&m, &t, x, images, side, 1);
    float *fe = fm_malloc(nf, sizeof(float));
    fm_cnn_calibrate(&m, x, images, side);
    fm_cnn_forward_eval(&m, x, images, side, fe);
    double diff = 0.0;
    for (size_t i = 0; i < nf; i++)
        diff = fmax(diff, fabs((double)fe[i] - ft[i]));
    printf("  %-26s largest difference %.1e%s\n", "calibrated eval = training", diff,
           diff < 1e-4 ? "" : ": FAIL");
    failures += !(diff < 1e-4);

    for (size_t l = 0; l < nblocks; l++) {
        free(k.w[l]);
        free(k.gamma[l]);
        free(k.beta[l]);
    }
    free(k.x);
    free(k.r);
    free(k.buf[0]);
    free(k.buf[1]);
    free(k.feat);
    free(fe);
    free(x2);
    free(r2);
    free(g_a);
    free(g_b);
    free(x);
    free(r);
    free(dx);
    fm_cnn_tape_free(&t2);
    fm_cnn_tape_free(&t);
    fm_cnn_free(&m);
}

/* The MLP's plain linear layer (nn.c), as a single layer. */
struct lin_ctx {
    struct fm_mlp m;
    size_t rows;
    float *x, *r;
};

static double lin_loss(void *p, double *scale)
{
    struct lin_ctx *k = p;
    const float *y = fm_mlp_forward_train(&k->m, k->x, k->rows, 2);
    return dot(y, k->r, k->rows * fm_mlp_out(&k->m), scale);
}

static void test_linear(void)
{
    struct lin_ctx k;
    const size_t widths[2] = {7, 5};
    fm_mlp_init(&k.m, 1, widths, 1, &rng);
    k.rows = 8;
    k.x = rand_array(k.rows * widths[0], -1.0, 1.0);
    k.r = rand_array(k.rows * widths[1], -1.0, 1.0);
    float *dx = fm_malloc(k.rows * widths[0], sizeof(float));
    lin_loss(&k, NULL);
    fm_mlp_backward(&k.m, k.x, k.r, dx);
    printf("linear layer (nn.c), %zu rows, %zu -> %zu\n", k.rows, widths[0], widths[1]);
    check_array("dL/dW", k.m.layer[0].w, k.m.layer[0].gw, widths[0] * widths[1], 0.25, lin_loss,
                &k);
    check_array("dL/dx", k.x, dx, k.rows * widths[0], 0.25, lin_loss, &k);
    fm_mlp_free(&k.m);
    free(k.x);
    free(k.r);
    free(dx);
}

int main(void)
{
    fm_rng_seed(&rng, 20260101, 0);
    /* im2col + GEMM (k*k*in >= 16) and direct loops (the first layer). */
    test_conv(2, 5, 3, 4, 3);
    test_conv(2, 6, 1, 3, 5);
    test_conv(3, 5, 1, 4, 3);
    test_conv(1, 4, 2, 3, 1);
    test_bn(12, 3, 2);
    test_bn(10, 4, 1);
    test_pointwise(0, 2, 4, 3);
    test_pointwise(1, 2, 5, 3);
    test_pointwise(2, 2, 3, 4);
    test_linear();
    test_mlp();
    test_cnn();
    if (failures) {
        printf("FAIL: %d check%s failed\n", failures, failures == 1 ? "" : "s");
        return 1;
    }
    printf("every backward agrees with central finite differences\n");
    return 0;
}
