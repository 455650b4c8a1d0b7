/*
 * supervised.c - softmax cross entropy for the supervised ceiling.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <math.h>

#include "supervised.h"

double fm_softmax_xent(const float *logits, const uint8_t *labels, size_t rows, size_t classes,
                       float *dlogits, size_t *correct)
{
    double total = 0.0;
    size_t hits = 0;
    for (size_t i = 0; i < rows; i++) {
        const float *l = logits + i * classes;
        float *d = dlogits + i * classes;
        size_t best = 0;
        for (size_t c = 1; c < classes; c++)
            if (l[c] > l[best])
                best = c;
        hits += best == labels[i];
        /* Shifted by the largest logit, so that exp() cannot overflow. */
        const double mx = l[best];
        double z = 0.0;
        for (size_t c = 0; c < classes; c++)
            z += exp((double)l[c] - mx);
        total += log(z) - ((double)l[labels[i]] - mx);
        for (size_t c = 0; c < classes; c++) {
            double p = exp((double)l[c] - mx) / z;
            d[c] = (float)((p - (c == labels[i] ? 1.0 : 0.0)) / (double)rows);
        }
    }
    *correct = hits;
    return rows ? total / (double)rows : 0.0;
}
