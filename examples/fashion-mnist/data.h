/*
 * data.h - the Fashion-MNIST images: finding and reading the IDX files
 * (gzip-compressed or not) with zlib, and generated stand-in images for
 * tests on machines without the data set.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_DATA_H
#define FM_DATA_H

#include <stddef.h>
#include <stdint.h>

/* Where Debian's dataset-fashion-mnist package puts the four files. */
#define FM_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

/* One split: count images of rows x cols bytes (0 = black, 255 = white),
 * row-major, image after image, and one label (0..9) per image. */
struct fm_split {
    size_t count, rows, cols;
    uint8_t *pixels;
    uint8_t *labels;
};

struct fm_dataset {
    struct fm_split train, test;
    char source[512]; /* the directory read, or a description of the generator */
    int synthetic;    /* 1 for generated images */
};

/* The class names of Fashion-MNIST, for the report. */
extern const char *const fm_class_names[10];

/* Looks for the four files (train-images-idx3-ubyte[.gz] and the others) in
 * `dir` if it is not NULL, else in $FASHION_MNIST_DIR and then in
 * FM_DEFAULT_DATA_DIR. On success copies the directory into out and returns
 * 1; returns 0 when the files are in none of them. */
int fm_data_find(const char *dir, char *out, size_t out_len);

/* Reads the four IDX files of `dir` into ds. Exits with a message naming the
 * file on any error (missing file, bad magic, truncated data, labels and
 * images of different counts, labels outside 0..9). */
void fm_data_load(const char *dir, struct fm_dataset *ds);

/* Fills ds with generated 28 x 28 images of ten simple shape classes (bars,
 * rings, crosses, ...), randomly placed, scaled and noisy: a stand-in with
 * the same layout as the real data, so that tests run without it. */
void fm_data_synthetic(struct fm_dataset *ds, size_t n_train, size_t n_test, uint64_t seed);

void fm_data_free(struct fm_dataset *ds);

/* Prints what to install (or how to point --data at the files) to stderr. */
void fm_data_print_missing(const char *dir);

#endif /* FM_DATA_H */
