/*
 * supervised.h - the supervised ceiling (--supervised): the same encoder
 * trained with labels, through a linear classifier and the softmax cross
 * entropy, on the same views. It is not part of the main job; it says how
 * far self-supervised training is from what the architecture can reach.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_SUPERVISED_H
#define FM_SUPERVISED_H

#include <stddef.h>
#include <stdint.h>

/* Mean softmax cross entropy of rows x classes logits against labels;
 * writes its gradient with respect to the logits into dlogits (rows x
 * classes, may be logits) and the number of rows whose largest logit is
 * the label into *correct. */
double fm_softmax_xent(const float *logits, const uint8_t *labels, size_t rows, size_t classes,
                       float *dlogits, size_t *correct);

#endif /* FM_SUPERVISED_H */
