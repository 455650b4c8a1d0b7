/*
 * eval.h - how good a representation is, the only place labels are used:
 * k-nearest-neighbour accuracy and a linear probe.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_EVAL_H
#define FM_EVAL_H

#include <stddef.h>
#include <stdint.h>

#define FM_KNN_K 20
#define FM_KNN_TEMPERATURE 0.07

/* k-nearest-neighbour classification accuracy (0..1) of the n_query
 * feature rows of `query` against the n_bank rows of `bank` (dim features
 * each, row-major). Similarity is the cosine; the k most similar bank rows
 * vote for their labels with weight exp(cosine / temperature) (the weighted
 * vote of Wu et al. 2018, also used by DINO); ties go to the smaller class
 * index and, among equally similar neighbours, to the earlier bank row. */
double fm_knn_accuracy(const float *bank, const uint8_t *bank_labels, size_t n_bank,
                       const float *query, const uint8_t *query_labels, size_t n_query,
                       size_t dim, size_t k, double temperature);

struct fm_probe_config {
    int epochs;          /* passes over the training features */
    size_t batch;        /* mini-batch size */
    double lr;           /* Adam learning rate, cosine-decayed to 0 */
    double weight_decay; /* L2 penalty on the weights */
};

struct fm_probe_config fm_probe_default(void);

/* Linear probe: multinomial logistic regression (10 classes, softmax cross
 * entropy) trained with Adam on the training features, each feature
 * standardised with the training features' mean and standard deviation;
 * returns the accuracy on the test features. Deterministic for a seed. */
double fm_linear_probe(const float *train, const uint8_t *train_labels, size_t n_train,
                       const float *test, const uint8_t *test_labels, size_t n_test,
                       size_t dim, const struct fm_probe_config *cfg, uint64_t seed);

#endif /* FM_EVAL_H */
