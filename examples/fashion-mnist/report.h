/*
 * report.h - what a person watches: the progress lines, the CSV of the same
 * numbers, and the SVG plot drawn at the end.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_REPORT_H
#define FM_REPORT_H

#include <stdio.h>

/* One logged point of training: the averages over an epoch of the terms
 * libvicreg reports for every step (epoch 0: the first batch, before any
 * update). With multi-crop, A and B are views 0 and 1 (the two global
 * views) and the _local fields are means over the local views (NAN when
 * there are none). A supervised run (--supervised) logs its cross entropy
 * as the loss and the VICReg fields as NAN. */
struct fm_log_row {
    int epoch;
    long step;            /* optimiser steps done */
    double lr;            /* learning rate of the last step */
    double loss, invariance, variance_a, variance_b, covariance_a, covariance_b;
    double variance_local, covariance_local;
    double var_sum, cov_sum; /* sums over all views of v(Z_v) and c(Z_v) */
    double mean_std;      /* mean over steps and views of the mean column std */
    double min_std;       /* smallest std of any column, any view, any step */
    double collapsed;     /* mean fraction of columns with std < gamma */
    double eff_rank;      /* mean effective rank of views 0 and 1 */
    double eff_rank_local; /* mean effective rank of the local views */
    double train_acc;     /* supervised runs: accuracy on the training views */
    double knn;           /* kNN accuracy on the curve subset, or NAN */
    double steps_per_s;   /* over this epoch */
    double elapsed;       /* seconds since training started */
};

/* The loss coefficients, to plot each term's weighted contribution. */
struct fm_loss_weights {
    double lambda, mu_w, nu; /* mu_w = mu * w, w = 1/V (reference) or 1 (paper) */
};

/* CSV: writes the header line / one row. Columns, in order: epoch, step,
 * lr, loss, invariance, variance_a, variance_b, covariance_a,
 * covariance_b, mean_std, min_std, collapsed_fraction, effective_rank,
 * variance_local, covariance_local, effective_rank_local, knn_curve_acc,
 * steps_per_s, elapsed_s; a value not measured is left empty. Every column
 * before the last two is a deterministic function of the seed and thread
 * count. */
void fm_csv_header(FILE *f);
void fm_csv_row(FILE *f, const struct fm_log_row *r);

/* The progress line of one row; eta_s < 0 prints no time left. */
void fm_print_row(const struct fm_log_row *r, int epochs, double eta_s);

/* Writes the SVG plot: the weighted loss terms (log scale), the kNN
 * accuracy on the curve subset with the random initialisation's and the
 * raw pixels' accuracy on the same subset as dashed lines (either may be
 * NAN), and the mean and minimum std of the projector outputs. title and
 * subtitle head the picture, note (may be NULL) goes under the kNN panel;
 * none of them may contain '<' or '&'. Returns 0, or -1 when the file
 * cannot be written. */
int fm_svg_write(const char *path, const struct fm_log_row *rows, size_t n,
                 const struct fm_loss_weights *w, double init_knn, double raw_knn,
                 const char *title, const char *subtitle, const char *note);

/* "3m07s" style; buf of at least 32 bytes. */
const char *fm_format_duration(double seconds, char *buf);

#endif /* FM_REPORT_H */
