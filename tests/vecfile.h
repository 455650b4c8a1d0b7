/*
 * vecfile.h - the reader of the vector files in tests/vectors/, shared by
 * test-vectors.c (vicreg-vector-v1, scripts/gen_torch_vectors.py) and
 * test-views-vectors.c (vicreg-views-vector-v1,
 * scripts/gen_views_vectors.py). Both formats are a magic token, then
 * key=value tokens, then labelled matrices of numbers, with '#' comment
 * lines; what the keys and labels are is each test file's own.
 */
#ifndef VICREG_TEST_VECFILE_H
#define VICREG_TEST_VECFILE_H

#include <stddef.h>

#include <check.h>

#include "reference.h"

/* The metadata both formats have: name, n (2 or more), d (1 or more),
 * convention, lambda, mu, nu, gamma, eps and seed (only informative),
 * stored through the pointers as they are read. */
struct vf_meta {
    char *name;
    size_t name_len;
    size_t *n, *d;
    struct ref_params *p;
};

/* One file being read: its text with the comment lines blanked, and its
 * tokens in turn. */
struct vf_reader {
    char *buf;
    char *save;         /* strtok_r's state */
    char *tok;          /* the first label, until vf_matrix takes it */
    unsigned meta_seen; /* the metadata keys read */
};

/* The next key=value token that is not one of the common metadata (those
 * it stores where m says), split in place at its '=': 1 with *key and
 * *val; 0 at the first token that is no key=value (the first label, kept
 * for vf_matrix) when every metadata key was read; -1 at the end of the
 * file, on a bad, duplicate or missing metadata key, with a message in
 * err. */
int vf_next_key(struct vf_reader *r, const struct vf_meta *m, char **key, char **val, char *err,
                size_t errlen);

/* The index of key in keys[0 .. count), which sets its bit in *seen; -1
 * when key is none of them; -2 when its bit was set already, with a
 * message in err. */
int vf_key_index(const char *key, const char *const *keys, int count, unsigned *seen,
                 char *err, size_t errlen);

/* 1 when *seen has the bits of all `count` keys, else 0 with a message
 * in err. */
int vf_all_keys(unsigned seen, int count, char *err, size_t errlen);

/* A finite number, or a whole number from 0 to max: 1, or 0 when s is
 * not one (nothing stored then). */
int vf_double(const char *s, double *out);
int vf_count(const char *s, size_t max, size_t *out);

/* The token `label`, then `count` numbers into m, each rounded to float
 * when f32. Returns 1, or 0 with a message in err. */
int vf_matrix(struct vf_reader *r, const char *label, size_t count, double *m, int f32,
              char *err, size_t errlen);

/* A format's loader: the case at c (zeroed) from r, open on the file
 * fname past its magic, up to the end of its last matrix. Returns 1, or 0
 * with a message in err; what it allocated is the free function's to
 * free either way. */
typedef int vf_load_fn(struct vf_reader *r, const char *fname, void *c, char *err,
                       size_t errlen);
typedef void vf_free_fn(void *c);

/* Every *.vec file of dir, in name order, each starting with `magic`
 * and loaded by load() into an array of cases of `size` bytes each
 * (calloc'd; *count of them), nothing after its last matrix. Fails the
 * test when dir cannot be read, holds no vector file (then `script` makes
 * them) or a file does not load (its path and the message). */
void *vf_load_all(const char *dir, const char *magic, const char *script, size_t size,
                  vf_load_fn *load, vf_free_fn *free_case, size_t *count);

/* free_case() of each of the count cases, then the array. */
void vf_free_all(void *cases, size_t count, size_t size, vf_free_fn *free_case);

/* A vector suite: its three tests (the files themselves, the tests'
 * reference against them, the library against them, the last for _i = 0
 * in float64 and _i = 1 in float32) in one tcase, "torch". */
Suite *vf_suite(const char *name, const TTest *files, const TTest *reference,
                const TTest *library);

#endif
