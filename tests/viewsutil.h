/*
 * viewsutil.h - what the tests of the views API (1.2: vicreg_views_loss_*,
 * vicreg_views_loss_rows_*, the sharded views phases) share: the views
 * calls dispatched on the precision, V views in a precision with their
 * double copies, the outcome of one call widened to double, and a block
 * holding every array a views call can touch, with the bad-call machinery
 * that checks a status, that nothing the caller owns was written and that
 * the context kept its state.
 *
 * The test files: test-views.c, test-shard-views.c, test-views-vectors.c
 * and the hooked test-views-memory.c.
 */
#ifndef VICREG_TEST_VIEWSUTIL_H
#define VICREG_TEST_VIEWSUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "precision.h"
#include "testutil.h"

/* Room for one view more than the library takes, for the calls that must
 * reject it. */
#define VU_CAP (VICREG_MAX_VIEWS + 1)

/* The per-view term keys, VICREG_VIEW_TERM_VARIANCE .. EFFECTIVE_RANK. */
#define VU_N_VTERMS 6
extern const int vu_view_terms[VU_N_VTERMS];

/* The VICREG_TERM_* key of branch b (0: A, 1: B) that vicreg_ctx_get_term
 * reports for view term k (an index into vu_view_terms). */
int vu_branch_term(size_t k, int b);

/* Whether a key of tu_all_terms is one of the _B terms. */
int vu_is_b_term(int term);

/* ---------------------------------------------------------------------
 * The views calls in prec: the arrays are void * of the precision's
 * type; the pointer arrays are copied into arrays of the typed pointers
 * (at most VU_CAP entries are read) and passed as NULL when they are.
 * --------------------------------------------------------------------- */
int prec_views_loss(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                    const void *const *z, const size_t *ldz, double *loss, void *const *grad,
                    const size_t *ldgrad);

int prec_views_loss_rows(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                         const void *const *z, const size_t *ldz, size_t row0, size_t rows,
                         double *loss, void *const *grad, const size_t *ldgrad);

int prec_shard_views_sums(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                          const void *const *z, const size_t *ldz, double *sums);

int prec_shard_views_scatter(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                             const void *const *z, const size_t *ldz, const double *sums,
                             double *scatter);

int prec_shard_views_finish(int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                            const void *const *z, const size_t *ldz, const double *sums,
                            const double *scatter, double *loss, void *const *grad,
                            const size_t *ldgrad);

/* An array of void pointers as the const pointer array the calls take. */
#define VU_CZ(z) ((const void *const *)(z))

/* ---------------------------------------------------------------------
 * V views of n x d: packed doubles for the reference, and the
 * precision's copy with leading dimension ld[v] (d, or with `padded`
 * d + 1 + v % 3), its padding NaN so that a read of it shows.
 * --------------------------------------------------------------------- */
struct views {
    int prec;
    size_t count, n, d;
    size_t ld[VU_CAP];
    double *z64[VU_CAP]; /* n x d packed; float-representable values */
    void *z[VU_CAP];     /* n x ld[v] in prec */
};

/* Correlated views: views 2k and 2k+1 are the pair tu_make_batches makes
 * from seed + k (a last odd view is the first of its pair). */
void views_make(struct views *w, int prec, uint64_t seed, size_t count, size_t n, size_t d,
                int padded);

/* Views holding src[v] (n x d packed doubles; rounded to float for F32,
 * and z64 then holds the rounded values). */
void views_from(struct views *w, int prec, size_t count, size_t n, size_t d,
                const double *const *src, int padded);

void views_free(struct views *w);

/* 1 when every ld[v] is d (the call may then pass ldz = NULL). */
int views_packed(const struct views *w);

/* Row i of view v in its precision. */
const void *view_row(const struct views *w, size_t v, size_t i);

/* ---------------------------------------------------------------------
 * What one call gives, widened to double.
 * --------------------------------------------------------------------- */
struct vout {
    size_t count, n, d;
    double loss;
    double terms[TU_N_TERMS];               /* order of tu_all_terms */
    double vterms[VU_CAP][VU_N_VTERMS];     /* [view][key], views < count */
    double *g[VU_CAP];                      /* n x d packed, zeros when none */
};

void vout_init(struct vout *o, size_t count, size_t n, size_t d);
void vout_free(struct vout *o);

/* Every term of c's last result, a call of `count` views, into terms and
 * vterms, asserting the statuses: VICREG_OK for every term, except the _B
 * terms of a one-view call, which are VICREG_ERR_NO_RESULT (with the value
 * not written: they are left NAN); every view term of views below count
 * VICREG_OK, of view `count` VICREG_ERR_NO_RESULT (value not written); and
 * that the _A and _B terms are views 0 and 1, bit for bit. */
void vu_read_terms(const vicreg_ctx *c, size_t count, double *terms,
                   double (*vterms)[VU_N_VTERMS]);

/* Which gradients a call asks for and their leading dimensions. */
struct vgrads {
    int none;    /* pass grad = NULL */
    int ld_null; /* pass ldgrad = NULL (all d) */
    size_t ld[VU_CAP];
    unsigned char want[VU_CAP]; /* grad[v] NULL where 0 */
};

/* Every gradient, ldgrad NULL. */
void vgrads_all(struct vgrads *g, size_t count);

/* Every gradient but those of `mask` (bit v: none for view v), with the
 * leading dimensions d + pad + v % 2 (pad 0: ldgrad NULL). */
void vgrads_some(struct vgrads *g, size_t count, size_t d, uint64_t mask, size_t pad);

/* vicreg_views_loss_* (rows == SIZE_MAX) or vicreg_views_loss_rows_*
 * (rows rows from row0) on w, ldz NULL when ldz_null (w must be packed),
 * the gradients as g says, into sentinel-filled buffers. On VICREG_OK: the
 * returned loss is VICREG_TERM_LOSS, o gets the loss, every term (via
 * vu_read_terms) and the asked gradients (rows 0 .. rows of a rows call,
 * the others left as they were); the gradients' padding, a row past the
 * written ones and every view's inputs are asserted untouched. Returns the call's status; on an error
 * o is unchanged and the gradient buffers are asserted untouched. */
int vu_run(vicreg_ctx *c, const struct views *w, int ldz_null, const struct vgrads *g,
           size_t row0, size_t rows, struct vout *o);

/* Both outcomes the same bits: loss, every term, every view term, every
 * gradient where `grads` (NULL: all views). */
void vout_assert_same(const struct vout *x, const struct vout *y, const unsigned char *grads,
                      const char *what);

/* A context with the reference parameters, a path, G and a gradient
 * scale. */
vicreg_ctx *vu_ctx(const struct ref_params *p, int path, int global_views, double scale);

/* ---------------------------------------------------------------------
 * Bad calls: a world of VW_V views of VW_N x VW_D rows (a shard is the
 * first VW_SHARD rows), their gradients, the valid global statistics of
 * the whole batch (G = 0) and a loss, all in one block so that one
 * comparison covers every array.
 * --------------------------------------------------------------------- */
#define VW_V 3
#define VW_N 10
#define VW_SHARD 6
#define VW_D 4

enum { VK_LOSS, VK_ROWS, VK_SUMS, VK_SCATTER, VK_FINISH, VK_KINDS };
const char *vk_name(int kind);

struct vworld {
    int prec;
    unsigned char *block, *pristine; /* the arrays; their valid contents */
    size_t bytes, arr_bytes;
    void *z[VW_V], *g[VW_V];
    double *sums, *scatter, *loss;
    size_t sums_len, scatter_len;
};

void vworld_make(struct vworld *w, int prec);
void vworld_free(struct vworld *w);

/* One call of any kind, its arguments spelled out; the pointer arrays are
 * its own, so that a test changes one entry of a copy. */
struct vcall {
    int kind, prec, null_ctx;
    size_t views, n, d;
    int z_null, ldz_null, grad_null, ldgrad_null;
    const void *z[VU_CAP];
    size_t ldz[VU_CAP];
    void *grad[VU_CAP];
    size_t ldgrad[VU_CAP];
    double *sums, *scatter, *loss;
    size_t row0, rows;
    int global_views; /* set on the contexts before the call; -1: left */
};

int vcall_run(const struct vcall *c, vicreg_ctx *ctx);

/* The valid call of the kind on w: the three views (the extra entries of
 * the pointer arrays repeat them), a shard of VW_SHARD rows for the
 * sharded phases on the global statistics, the whole batch for the loss,
 * rows 2 .. 6 for the rows call. */
struct vcall vworld_call(const struct vworld *w, int kind);

/* The call returns `want` on a fresh context and on a used one (paper
 * convention, G = 1, gradient scale 2, a three-view result); neither
 * writes a byte of the block nor changes the context's terms, view terms
 * or parameters; the used context then computes the valid call of the
 * kind as a fresh one with its parameters does, bit for bit. */
void vexpect(const struct vworld *w, const struct vcall *call, int want, const char *what);

/* vexpect() with element idx of arr (an array of the block) set to value. */
void vexpect_with_entry(const struct vworld *w, void *arr, size_t idx, double value,
                        const struct vcall *call, int want, const char *what);

/* vexpect() with one double of the block set to value. */
void vexpect_with_double(const struct vworld *w, double *where, double value,
                         const struct vcall *call, int want, const char *what);

#endif
