/*
 * eval.c - kNN accuracy (cosine similarity by GEMM, top-k by insertion) and
 * the linear probe (softmax regression trained with Adam).
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "eval.h"
#include "util.h"

#define N_CLASSES 10
#define QUERY_BLOCK 256

/* Copies rows x dim into a new array with every row scaled to unit length
 * (all-zero rows stay zero). */
static float *normalised_copy(const float *x, size_t rows, size_t dim)
{
    float *y = fm_malloc(rows * dim, sizeof(float));
    for (size_t i = 0; i < rows; i++) {
        double s = 0.0;
        for (size_t j = 0; j < dim; j++)
            s += (double)x[i * dim + j] * x[i * dim + j];
        float inv = s > 1e-30 ? (float)(1.0 / sqrt(s)) : 0.0f;
        for (size_t j = 0; j < dim; j++)
            y[i * dim + j] = x[i * dim + j] * inv;
    }
    return y;
}

double fm_knn_accuracy(const float *bank, const uint8_t *bank_labels, size_t n_bank,
                       const float *query, const uint8_t *query_labels, size_t n_query,
                       size_t dim, size_t k, double temperature)
{
    if (k > n_bank)
        k = n_bank;
    float *b = normalised_copy(bank, n_bank, dim);
    float *q = normalised_copy(query, n_query, dim);
    float *sim = fm_malloc(QUERY_BLOCK * n_bank, sizeof(float));
    float *topv = fm_malloc(k, sizeof(float));
    size_t *topi = fm_malloc(k, sizeof(size_t));
    size_t correct = 0;
    for (size_t q0 = 0; q0 < n_query; q0 += QUERY_BLOCK) {
        size_t nq = n_query - q0 < QUERY_BLOCK ? n_query - q0 : QUERY_BLOCK;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)n_bank, (int)dim,
                    1.0f, q + q0 * dim, (int)dim, b, (int)dim, 0.0f, sim, (int)n_bank);
        for (size_t r = 0; r < nq; r++) {
            const float *s = sim + r * n_bank;
            size_t filled = 0;
            for (size_t i = 0; i < n_bank; i++) {
                float v = s[i];
                if (filled == k && !(v > topv[k - 1]))
                    continue;
                size_t pos = filled < k ? filled++ : k - 1;
                while (pos > 0 && v > topv[pos - 1]) {
                    topv[pos] = topv[pos - 1];
                    topi[pos] = topi[pos - 1];
                    pos--;
                }
                topv[pos] = v;
                topi[pos] = i;
            }
            double votes[N_CLASSES] = {0};
            for (size_t t = 0; t < filled; t++)
                votes[bank_labels[topi[t]]] += exp((double)topv[t] / temperature);
            int best = 0;
            for (int c = 1; c < N_CLASSES; c++)
                if (votes[c] > votes[best])
                    best = c;
            correct += best == query_labels[q0 + r];
        }
    }
    free(b);
    free(q);
    free(sim);
    free(topv);
    free(topi);
    return n_query ? (double)correct / (double)n_query : 0.0;
}

struct fm_probe_config fm_probe_default(void)
{
    struct fm_probe_config c = {.epochs = 20, .batch = 256, .lr = 1e-3, .weight_decay = 1e-4};
    return c;
}

/* Standardises x in place with the given per-feature mean and 1/std. */
static void standardise(float *x, size_t rows, size_t dim, const float *mean, const float *istd)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < dim; j++)
            x[i * dim + j] = (x[i * dim + j] - mean[j]) * istd[j];
}

/* logits (rows x 10) = x W + b. */
static void affine(const float *x, size_t rows, size_t dim, const float *w, const float *bias,
                   float *logits)
{
    for (size_t i = 0; i < rows; i++)
        memcpy(logits + i * N_CLASSES, bias, N_CLASSES * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, N_CLASSES, (int)dim,
                1.0f, x, (int)dim, w, N_CLASSES, 1.0f, logits, N_CLASSES);
}

double fm_linear_probe(const float *train, const uint8_t *train_labels, size_t n_train,
                       const float *test, const uint8_t *test_labels, size_t n_test,
                       size_t dim, const struct fm_probe_config *cfg, uint64_t seed)
{
    /* Standardisation with the training features' statistics; a constant
     * feature (a ReLU that never fires, say) becomes 0. */
    float *mean = fm_malloc(dim, sizeof(float)), *istd = fm_malloc(dim, sizeof(float));
    for (size_t j = 0; j < dim; j++) {
        double s = 0.0, ss = 0.0;
        for (size_t i = 0; i < n_train; i++)
            s += train[i * dim + j];
        s /= (double)n_train;
        for (size_t i = 0; i < n_train; i++) {
            double c = train[i * dim + j] - s;
            ss += c * c;
        }
        double sd = sqrt(ss / (double)n_train);
        mean[j] = (float)s;
        istd[j] = sd > 1e-6 ? (float)(1.0 / sd) : 0.0f;
    }
    float *xtr = fm_malloc(n_train * dim, sizeof(float));
    float *xte = fm_malloc(n_test * dim, sizeof(float));
    memcpy(xtr, train, n_train * dim * sizeof(float));
    memcpy(xte, test, n_test * dim * sizeof(float));
    standardise(xtr, n_train, dim, mean, istd);
    standardise(xte, n_test, dim, mean, istd);

    const size_t nw = dim * N_CLASSES, B = cfg->batch;
    float *w = fm_calloc(nw, sizeof(float)), *gw = fm_malloc(nw, sizeof(float));
    float *mw = fm_calloc(nw, sizeof(float)), *vw = fm_calloc(nw, sizeof(float));
    float bias[N_CLASSES] = {0}, gb[N_CLASSES], mb[N_CLASSES] = {0}, vb[N_CLASSES] = {0};
    float *xb = fm_malloc(B * dim, sizeof(float));
    uint8_t *yb = fm_malloc(B, 1);
    float *logits = fm_malloc((B > n_test ? B : n_test) * N_CLASSES, sizeof(float));
    uint32_t *order = fm_malloc(n_train, sizeof(uint32_t));
    for (size_t i = 0; i < n_train; i++)
        order[i] = (uint32_t)i;
    struct fm_rng rng;
    fm_rng_seed(&rng, seed, 7);

    const size_t steps_per_epoch = n_train / B ? n_train / B : 1;
    const long total = (long)steps_per_epoch * cfg->epochs;
    long step = 0;
    const double b1 = 0.9, b2 = 0.999;
    for (int e = 0; e < cfg->epochs; e++) {
        fm_rng_shuffle(&rng, order, n_train);
        for (size_t s = 0; s < steps_per_epoch; s++, step++) {
            size_t nb = n_train < B ? n_train : B;
            for (size_t i = 0; i < nb; i++) {
                size_t src = order[s * B + i];
                memcpy(xb + i * dim, xtr + src * dim, dim * sizeof(float));
                yb[i] = train_labels[src];
            }
            affine(xb, nb, dim, w, bias, logits);
            /* dL/dlogits = (softmax - onehot) / nb. */
            for (size_t i = 0; i < nb; i++) {
                float *l = logits + i * N_CLASSES;
                float mx = l[0];
                for (int c = 1; c < N_CLASSES; c++)
                    mx = l[c] > mx ? l[c] : mx;
                double z = 0.0;
                for (int c = 0; c < N_CLASSES; c++)
                    z += exp((double)(l[c] - mx));
                for (int c = 0; c < N_CLASSES; c++)
                    l[c] = (float)(exp((double)(l[c] - mx)) / z) / (float)nb;
                l[yb[i]] -= 1.0f / (float)nb;
            }
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)dim, N_CLASSES, (int)nb,
                        1.0f, xb, (int)dim, logits, N_CLASSES, 0.0f, gw, N_CLASSES);
            for (int c = 0; c < N_CLASSES; c++) {
                double g = 0.0;
                for (size_t i = 0; i < nb; i++)
                    g += logits[i * N_CLASSES + c];
                gb[c] = (float)g;
            }
            for (size_t k = 0; k < nw; k++)
                gw[k] += (float)cfg->weight_decay * w[k];
            /* Adam with a cosine-decayed rate. */
            double lr = cfg->lr * 0.5 * (1.0 + cos(3.14159265358979323846 * (double)step / (double)total));
            double c1 = 1.0 - pow(b1, (double)(step + 1)), c2 = 1.0 - pow(b2, (double)(step + 1));
            float a = (float)(lr / c1), rc2 = (float)(1.0 / sqrt(c2));
            for (size_t k = 0; k < nw; k++) {
                mw[k] = 0.9f * mw[k] + 0.1f * gw[k];
                vw[k] = 0.999f * vw[k] + 0.001f * gw[k] * gw[k];
                w[k] -= a * mw[k] / (sqrtf(vw[k]) * rc2 + 1e-8f);
            }
            for (int c = 0; c < N_CLASSES; c++) {
                mb[c] = 0.9f * mb[c] + 0.1f * gb[c];
                vb[c] = 0.999f * vb[c] + 0.001f * gb[c] * gb[c];
                bias[c] -= a * mb[c] / (sqrtf(vb[c]) * rc2 + 1e-8f);
            }
        }
    }
    affine(xte, n_test, dim, w, bias, logits);
    size_t correct = 0;
    for (size_t i = 0; i < n_test; i++) {
        const float *l = logits + i * N_CLASSES;
        int best = 0;
        for (int c = 1; c < N_CLASSES; c++)
            if (l[c] > l[best])
                best = c;
        correct += best == test_labels[i];
    }
    free(mean);
    free(istd);
    free(xtr);
    free(xte);
    free(w);
    free(gw);
    free(mw);
    free(vw);
    free(xb);
    free(yb);
    free(logits);
    free(order);
    return n_test ? (double)correct / (double)n_test : 0.0;
}
