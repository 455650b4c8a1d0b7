/*
 * vecfile.c - see vecfile.h.
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "testutil.h"
#include "vecfile.h"

#define SEPARATORS " \t\r\n"

/* The whole file, NUL-terminated, its comment lines blanked; NULL with a
 * message in err. */
static char *read_text(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 4097) {
            size_t ncap = cap ? 2 * cap : 65536;
            char *nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "out of memory");
                return NULL;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "read error");
        return NULL;
    }
    buf[len] = '\0';
    for (char *line = buf; *line != '\0';) {
        char *end = strchr(line, '\n');
        if (*line == '#')
            memset(line, ' ', end ? (size_t)(end - line) : strlen(line));
        if (end == NULL)
            break;
        line = end + 1;
    }
    return buf;
}

static void vf_close(struct vf_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

/* Reads dir/fname and checks that its first token is `magic`. Returns 1,
 * or 0 with a message in err (r then holds nothing). */
static int vf_open(struct vf_reader *r, const char *dir, const char *fname, const char *magic,
                   char *err, size_t errlen)
{
    char path[1024];
    memset(r, 0, sizeof *r);
    snprintf(path, sizeof path, "%s/%s", dir, fname);
    r->buf = read_text(path, err, errlen);
    if (r->buf == NULL)
        return 0;
    const char *tok = strtok_r(r->buf, SEPARATORS, &r->save);
    if (tok == NULL || strcmp(tok, magic) != 0) {
        snprintf(err, errlen, "not a %s file", magic);
        vf_close(r);
        return 0;
    }
    return 1;
}

/* The metadata keys of every format (struct vf_meta). */
enum { K_NAME, K_N, K_D, K_CONV, K_LAMBDA, K_MU, K_NU, K_GAMMA, K_EPS, K_SEED, N_META };
static const char *const meta_keys[N_META] = {
    "name", "n", "d", "convention", "lambda", "mu", "nu", "gamma", "eps", "seed",
};

/* Stores key=val when key is one of the metadata: 1; 0 when it is none of
 * them; -1 when it is a duplicate or val is bad, with a message in err. */
static int meta_key(struct vf_reader *r, const struct vf_meta *m, const char *key,
                    const char *val, char *err, size_t errlen)
{
    int good = 1;
    const int k = vf_key_index(key, meta_keys, N_META, &r->meta_seen, err, errlen);
    switch (k) {
    case -1: return 0;
    case -2: return -1;
    case K_NAME: snprintf(m->name, m->name_len, "%s", val); break;
    case K_N: good = vf_count(val, 100000, m->n) && *m->n >= 2; break;
    case K_D: good = vf_count(val, 100000, m->d) && *m->d >= 1; break;
    case K_CONV:
        good = strcmp(val, "reference") == 0 || strcmp(val, "paper") == 0;
        m->p->paper = strcmp(val, "paper") == 0;
        break;
    case K_LAMBDA: good = vf_double(val, &m->p->lambda); break;
    case K_MU: good = vf_double(val, &m->p->mu); break;
    case K_NU: good = vf_double(val, &m->p->nu); break;
    case K_GAMMA: good = vf_double(val, &m->p->gamma); break;
    case K_EPS: good = vf_double(val, &m->p->eps); break;
    default: break; /* seed */
    }
    if (!good) {
        snprintf(err, errlen, "bad value %s=%s", key, val);
        return -1;
    }
    return 1;
}

int vf_next_key(struct vf_reader *r, const struct vf_meta *m, char **key, char **val, char *err,
                size_t errlen)
{
    for (;;) {
        char *tok = strtok_r(NULL, SEPARATORS, &r->save);
        if (tok == NULL) {
            snprintf(err, errlen, "no data");
            return -1;
        }
        char *eq = strchr(tok, '=');
        if (eq == NULL) {
            r->tok = tok;
            return vf_all_keys(r->meta_seen, N_META, err, errlen) ? 0 : -1;
        }
        *eq = '\0';
        *key = tok;
        *val = eq + 1;
        const int meta = meta_key(r, m, *key, *val, err, errlen);
        if (meta <= 0)
            return meta < 0 ? -1 : 1;
    }
}

int vf_key_index(const char *key, const char *const *keys, int count, unsigned *seen,
                 char *err, size_t errlen)
{
    for (int k = 0; k < count; k++) {
        if (strcmp(key, keys[k]) != 0)
            continue;
        if (*seen & (1u << k)) {
            snprintf(err, errlen, "duplicate key %s", key);
            return -2;
        }
        *seen |= 1u << k;
        return k;
    }
    return -1;
}

int vf_all_keys(unsigned seen, int count, char *err, size_t errlen)
{
    if (seen != (1u << count) - 1) {
        snprintf(err, errlen, "missing keys (seen 0x%x of 0x%x)", seen, (1u << count) - 1);
        return 0;
    }
    return 1;
}

int vf_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    const double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int vf_count(const char *s, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    const unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v > max)
        return 0;
    *out = (size_t)v;
    return 1;
}

int vf_matrix(struct vf_reader *r, const char *label, size_t count, double *m, int f32,
              char *err, size_t errlen)
{
    char *tok = r->tok ? r->tok : strtok_r(NULL, SEPARATORS, &r->save);
    r->tok = NULL;
    if (tok == NULL || strcmp(tok, label) != 0) {
        snprintf(err, errlen, "expected '%s', found '%s'", label, tok ? tok : "end of file");
        return 0;
    }
    for (size_t k = 0; k < count; k++) {
        double v;
        tok = strtok_r(NULL, SEPARATORS, &r->save);
        if (tok == NULL || !vf_double(tok, &v)) {
            snprintf(err, errlen, "%s: entry %zu: bad number '%s'", label, k,
                     tok ? tok : "end of file");
            return 0;
        }
        m[k] = f32 ? (double)(float)v : v;
    }
    return 1;
}

/* 1 when nothing follows the last matrix, else 0 with a message in err. */
static int vf_end(struct vf_reader *r, char *err, size_t errlen)
{
    const char *tok = strtok_r(NULL, SEPARATORS, &r->save);
    if (tok != NULL) {
        snprintf(err, errlen, "trailing data '%s'", tok);
        return 0;
    }
    return 1;
}

static int is_vec_file(const char *name)
{
    size_t len = strlen(name);
    return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".vec") == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One file into the case at c: 1, or 0 with a message in err and the
 * case freed. */
static int load_file(const char *dir, const char *fname, const char *magic, vf_load_fn *load,
                     vf_free_fn *free_case, void *c, char *err, size_t errlen)
{
    struct vf_reader r;
    if (!vf_open(&r, dir, fname, magic, err, errlen))
        return 0;
    const int ok = load(&r, fname, c, err, errlen) && vf_end(&r, err, errlen);
    vf_close(&r);
    if (!ok)
        free_case(c);
    return ok;
}

void *vf_load_all(const char *dir, const char *magic, const char *script, size_t size,
                  vf_load_fn *load, vf_free_fn *free_case, size_t *count)
{
    char **names = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open the vector directory %s: %s", dir, strerror(errno));
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!is_vec_file(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof *names);
            ck_assert_ptr_nonnull(names);
        }
        names[n] = malloc(strlen(e->d_name) + 1);
        ck_assert_ptr_nonnull(names[n]);
        strcpy(names[n++], e->d_name);
    }
    closedir(d);
    ck_assert_msg(n > 0, "no vector files (*.vec) in %s: run %s", dir, script);
    qsort(names, n, sizeof *names, cmp_names);
    unsigned char *cases = calloc(n, size);
    ck_assert_ptr_nonnull(cases);
    for (size_t k = 0; k < n; k++) {
        char err[256];
        ck_assert_msg(load_file(dir, names[k], magic, load, free_case, cases + k * size, err,
                                sizeof err),
                      "%s/%s: %s", dir, names[k], err);
        free(names[k]);
    }
    free(names);
    *count = n;
    return cases;
}

void vf_free_all(void *cases, size_t count, size_t size, vf_free_fn *free_case)
{
    for (size_t k = 0; k < count; k++)
        free_case((unsigned char *)cases + k * size);
    free(cases);
}

Suite *vf_suite(const char *name, const TTest *files, const TTest *reference,
                const TTest *library)
{
    const struct tu_tcase tc = {
        .name = "torch",
        .timeout = 120,
        .tests = { TU_TEST(files), TU_TEST(reference), TU_LOOP(library, 0, 2) },
    };
    return tu_suite(name, &tc, 1);
}
