/*
 * viewsutil.h - what the tests of the views API (1.2: vicreg_views_loss_*,
 * vicreg_views_loss_rows_*, the sharded views phases) share: the views
 * calls dispatched on the precision, V views in a precision with their
 * double copies, the outcome of one call widened to double, and a block
 * holding every array a views call can touch, with the bad-call machinery
 * that checks a status, that nothing the caller owns was written and that
 * the context kept its state; a batch split into shards and the split
 * cases of the shard tests.
 *
 * Two views can also be a pair: the same helpers then make the two-batch
 * calls of 1.0 and 1.1 (vicreg_loss_*, the shard phases), so that those
 * calls are held to the checks the views calls are held to.
 *
 * The test files: test-views.c, test-shard-views.c, test-views-vectors.c
 * and the hooked test-views-memory.c; as pairs test-shard-values.c,
 * test-shard-errors.c and shardutil.c's computations.
 */
#ifndef VICREG_TEST_VIEWSUTIL_H
#define VICREG_TEST_VIEWSUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "precision.h"
#include "testutil.h"
#include "views_typed.h"

/* Room for one view more than the library takes, for the calls that must
 * reject it (views_typed.h's). */
#define VU_CAP VT_CAP

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

/* The same calls, or with `pair` their two-batch twins (vicreg_loss_*,
 * vicreg_loss_rows_*, vicreg_shard_sums_* ...; views is 2 then): views 0
 * and 1 as za and zb, grad[0] and grad[1] as ga and gb (both NULL when
 * grad is), the leading dimensions ldz[0], ldz[1], ldgrad[0], ldgrad[1]
 * (d where ldz or ldgrad is NULL). The tests of the 1.0 and 1.1 calls go
 * through these, so that one helper checks both. */
int vu_loss(int pair, int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
            const void *const *z, const size_t *ldz, double *loss, void *const *grad,
            const size_t *ldgrad);
int vu_loss_rows(int pair, int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
                 const void *const *z, const size_t *ldz, size_t row0, size_t rows,
                 double *loss, void *const *grad, const size_t *ldgrad);
int vu_sums(int pair, int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
            const void *const *z, const size_t *ldz, double *sums);
int vu_scatter(int pair, int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
               const void *const *z, const size_t *ldz, const double *sums, double *scatter);
int vu_finish(int pair, int prec, vicreg_ctx *c, size_t views, size_t n, size_t d,
              const void *const *z, const size_t *ldz, const double *sums,
              const double *scatter, double *loss, void *const *grad, const size_t *ldgrad);

/* An array of void pointers as the const pointer array the calls take. */
#define VU_CZ(z) ((const void *const *)(z))

/* ---------------------------------------------------------------------
 * V views of n x d: packed doubles for the reference, and the
 * precision's copy with leading dimension ld[v] (d, or with `padded`
 * d + 1 + v % 3), its padding NaN so that a read of it shows.
 * --------------------------------------------------------------------- */
struct views {
    int prec;
    int pair; /* two views run through the two-batch calls (see vu_loss) */
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

/* Everything of a context an error must not change: each term's and each
 * view term's status and value, and the parameters (all nine). */
#define VU_N_SNAP_PARAMS 9
struct vsnap {
    int status[TU_N_TERMS];
    double terms[TU_N_TERMS];
    int vstatus[VU_CAP][VU_N_VTERMS];
    double vterms[VU_CAP][VU_N_VTERMS];
    double params[VU_N_SNAP_PARAMS];
};

/* c's state, zero-filled first so that two snapshots compare with
 * memcmp. */
void vsnap_take(const vicreg_ctx *c, struct vsnap *s);

/* A context with the reference parameters, a path, G and a gradient
 * scale. */
vicreg_ctx *vu_ctx(const struct ref_params *p, int path, int global_views, double scale);

/* ---------------------------------------------------------------------
 * Bad calls: a world of VW_V views of VW_N x VW_D rows (a shard is the
 * first VW_SHARD rows), their gradients, the valid global statistics of
 * the whole batch (G = 0) and a loss, all in one block so that one
 * comparison covers every array. A pair world has two views, and its
 * calls are the two-batch ones (test-shard-errors.c).
 * --------------------------------------------------------------------- */
#define VW_V 3
#define VW_N 10
#define VW_SHARD 6
#define VW_D 4

enum { VK_LOSS, VK_ROWS, VK_SUMS, VK_SCATTER, VK_FINISH, VK_KINDS };
const char *vk_name(int kind);

struct vworld {
    int prec, pair;
    size_t views; /* VW_V, or 2 for a pair */
    unsigned char *block, *pristine; /* the arrays; their valid contents */
    size_t bytes, arr_bytes;
    void *z[VW_V], *g[VW_V];
    double *sums, *scatter, *loss;
    size_t sums_len, scatter_len;
};

void vworld_make(struct vworld *w, int prec);
void vworld_make_pair(struct vworld *w, int prec);
void vworld_free(struct vworld *w);

/* One call of any kind, its arguments spelled out; the pointer arrays are
 * its own, so that a test changes one entry of a copy. */
struct vcall {
    int kind, prec, null_ctx;
    int pair; /* the two-batch call (see vu_loss) */
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

/* The valid call of the kind on w: its views (the extra entries of
 * the pointer arrays repeat them), a shard of VW_SHARD rows for the
 * sharded phases on the global statistics, the whole batch for the loss,
 * rows 2 .. 6 for the rows call. */
struct vcall vworld_call(const struct vworld *w, int kind);

/* A used context: paper convention, G = 1, gradient scale 2, the result
 * of w's loss call on its views. */
vicreg_ctx *vworld_used_ctx(const struct vworld *w);

/* The valid call of `kind`, on the valid contents of w's arrays, on c and
 * on a fresh context with c's parameters writes the same bits and leaves
 * the same terms. The block is put back as it was. */
void vworld_like_fresh(const struct vworld *w, vicreg_ctx *c, int kind, const char *what);

/* The call returns `want` on a fresh context and on a used one
 * (vworld_used_ctx); neither
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

/* The row ranges a rows call (base: VK_ROWS on VW_N rows) must refuse
 * with VICREG_ERR_BAD_SHAPE, each through vexpect(): past the end, row0
 * past n with no rows, a range that wraps around, rows = SIZE_MAX with
 * and without the gradients. */
void vexpect_bad_rows(const struct vworld *w, const struct vcall *base);

/* ---------------------------------------------------------------------
 * Shards: a batch of views (or a pair) split into shards
 * --------------------------------------------------------------------- */
#define VU_MAX_SHARDS 6

/* Sharded against single-process on the same data: both sum the same
 * numbers in another order (and f32 rounds the scatter at another point),
 * so they agree to a few units of rounding of the precision. Against the
 * double reference, the tolerances of test-values.c. */
#define VU_TOL_SAME_F64 1e-12
#define VU_TOL_SAME_F32 1e-5
#define VU_TOL_REF_F64 1e-11
#define VU_TOL_REF_F32 5e-5

/* vicreg_shard_views_sizes (asserted): the sums' length; the scatter's
 * into *scatter_len. */
size_t vu_shard_sizes(size_t views, size_t d, size_t *scatter_len);

/* The z argument of shard k's call, its rows from row0 of every view of
 * w: for an empty shard NULL (k even) or an array of NULL pointers (k
 * odd), both allowed; z is the array filled. */
const void *const *view_shard(const struct views *w, size_t row0, size_t nk, int k,
                              const void **z);

/* The batch split into shards of sizes[0 .. shards), as separate
 * processes: one context per shard (the parameters p, G, the gradient
 * scale, the automatic path), each phase's buffers per shard then summed
 * (the all-reduce), every shard's finish writing its own rows; every
 * shard must report the same loss, terms and view terms, bit for bit. */
void vu_sharded(const struct views *w, const struct ref_params *p, int g, double scale,
                const size_t *sizes, int shards, struct vout *o);

/* The batch as micro-batches of sizes[0 .. parts) in ONE context c and
 * ONE set of buffers: sums over all micro-batches, then the scatter, then
 * each micro-batch's finish, as a single machine does it. */
void vu_micro_batches_in(vicreg_ctx *c, const struct views *w, const size_t *sizes, int parts,
                         struct vout *o);

/* The double reference's result (ref_views; ref_vicreg for a pair) as an
 * outcome, the path term VICREG_PATH_COVARIANCE. */
void vu_reference(const struct views *w, const struct ref_params *p, int g, struct vout *o);

/* got against want: the loss, every term but the path, every view's
 * terms (relative; absolute where want is 0; a missing value, NaN, must
 * be missing in both) and every gradient (normwise relative), each within
 * tol. Returns the largest error. */
double vout_compare(const struct vout *got, const struct vout *want, double tol,
                    const char *what);

/* The view counts and G of the split cases (and of the shard-views
 * layout tests). */
struct vu_view_set {
    size_t views;
    int global_views;
};
#define VU_N_VIEW_SETS 6
extern const struct vu_view_set vu_view_sets[VU_N_VIEW_SETS];

/* The equal tests of test-shard-views.c and, as pairs (two views through
 * the two-batch calls), of test-shard-values.c: loop index i of
 * [0, VU_SPLIT_CASES) picks the split of 13 rows (1 to 4 shards, 1-row
 * and empty shards), the convention, the precision and the width (n > d
 * and n < d); the view set and the padding rotate with it.
 *   sharded:       the sharded outcome equals one call on the whole batch
 *                  on every path, and the double reference;
 *   micro_batches: micro-batches in one context equal one call;
 *   larger:        (i in [0, 4): precision, convention) a 97 x 40 batch in
 *                  six shards equals one call. */
#define VU_SPLIT_CASES (10 * 8)
void vu_split_sharded(int i, int pair);
void vu_split_micro_batches(int i, int pair);
void vu_split_larger(int i, int pair);

/* With VICREG_SHARD_REPORT set, prints the largest disagreements the
 * split tests saw. */
void vu_split_report(int pair);

#endif
