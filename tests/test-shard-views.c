/*
 * test-shard-views.c - the sharded views phases of 1.2
 * (vicreg_shard_views_sizes/_sums/_scatter/_finish):
 *
 *   equal      a V-view batch split into shards of uneven sizes (0 and 1
 *              rows included) through sums -> reduce -> scatter -> reduce
 *              -> finish, one context per shard as separate processes have,
 *              gives the loss, every term, every view's terms and the
 *              gradient rows of one vicreg_views_loss_* call on the whole
 *              batch (every path) and of the double reference, to the
 *              tolerances of the split cases in viewsutil.h (which
 *              test-shard-values.c runs as pairs); so do micro-batches in
 *              one context;
 *   two-views  with V = 2 the views phases give the bits of the 1.1
 *              two-batch phases, buffer for buffer, for every G;
 *   layout     the statistics buffers hold what the header says; an
 *              empty shard; the finish phase's gradient scale;
 *   errors     the main faults of each phase: the documented status,
 *              nothing written, the context's state kept.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viewsutil.h"

/* ---------------------------------------------------------------------
 * equal: the split cases of viewsutil.h
 * --------------------------------------------------------------------- */
START_TEST(sharded_equals_single)
{
    vu_split_sharded(_i, 0);
}
END_TEST

START_TEST(micro_batches_equal_single)
{
    vu_split_micro_batches(_i, 0);
}
END_TEST

/* A larger batch, many shards: the agreement does not depend on the tiny
 * shape. */
START_TEST(sharded_equals_single_larger)
{
    vu_split_larger(_i, 0);
}
END_TEST

static void report_worst(void)
{
    vu_split_report(0);
}

/* ---------------------------------------------------------------------
 * two-views: V = 2 is the 1.1 phases, bit for bit
 * --------------------------------------------------------------------- */
START_TEST(two_views_equal_two_batch_phases)
{
    /* _i = precision + 2 * G + 6 * convention; the views padded for odd G. */
    const int prec = _i % 2, g = (_i / 2) % 3;
    const size_t n = 13, d = 6, ldg = d + 2, elem = elem_of(prec);
    const size_t sizes[4] = { 5, 0, 1, 7 };
    struct ref_params p = ref_default_params();
    p.paper = _i / 6;
    struct views w;
    views_make(&w, prec, 800 + (uint64_t)_i, 2, n, d, g % 2);
    size_t sl2, cl2, sl, cl;
    ck_assert_int_eq(vicreg_shard_sizes(d, &sl2, &cl2), VICREG_OK);
    sl = vu_shard_sizes(2, d, &cl);
    ck_assert_uint_eq(sl, sl2);
    ck_assert_uint_eq(cl, cl2);
    vicreg_ctx *cv = vu_ctx(&p, VICREG_PATH_AUTO, g, 1.0), *c2 = vu_ctx(&p, VICREG_PATH_AUTO, 0, 1.0);
    double *sv = calloc(sl, sizeof(double)), *s2 = calloc(sl, sizeof(double));
    double *xv = calloc(cl, sizeof(double)), *x2 = calloc(cl, sizeof(double));
    ck_assert(sv && s2 && xv && x2);
    const void *z[2];
    size_t r = 0;
    for (int k = 0; k < 4; r += sizes[k++]) {
        const void *const *zk = view_shard(&w, r, sizes[k], k, z);
        ck_assert_int_eq(prec_shard_views_sums(prec, cv, 2, sizes[k], d, zk, w.ld, sv), VICREG_OK);
        ck_assert_int_eq(prec_shard_sums(prec, c2, sizes[k], d, sizes[k] ? z[0] : NULL, w.ld[0],
                                         sizes[k] ? z[1] : NULL, w.ld[1], s2),
                         VICREG_OK);
        ck_assert_msg(memcmp(sv, s2, sl * sizeof(double)) == 0, "G=%d shard %d: sums differ", g,
                      k);
    }
    r = 0;
    for (int k = 0; k < 4; r += sizes[k++]) {
        const void *const *zk = view_shard(&w, r, sizes[k], k, z);
        ck_assert_int_eq(prec_shard_views_scatter(prec, cv, 2, sizes[k], d, zk, w.ld, sv, xv),
                         VICREG_OK);
        ck_assert_int_eq(prec_shard_scatter(prec, c2, sizes[k], d, sizes[k] ? z[0] : NULL,
                                            w.ld[0], sizes[k] ? z[1] : NULL, w.ld[1], s2, x2),
                         VICREG_OK);
        ck_assert_msg(memcmp(xv, x2, cl * sizeof(double)) == 0, "G=%d shard %d: scatter differs",
                      g, k);
    }
    r = 0;
    for (int k = 0; k < 4; r += sizes[k++]) {
        const size_t nk = sizes[k];
        void *gv[2] = { sentinel_buffer(prec, (nk + 1) * ldg), sentinel_buffer(prec, (nk + 1) * ldg) };
        void *gt[2] = { sentinel_buffer(prec, (nk + 1) * ldg), sentinel_buffer(prec, (nk + 1) * ldg) };
        const size_t ldgrad[2] = { ldg, ldg };
        double lv = NAN, lt = NAN;
        double tv[TU_N_TERMS], tt[TU_N_TERMS], vv[VU_CAP][VU_N_VTERMS], vt[VU_CAP][VU_N_VTERMS];
        const void *const *zk = view_shard(&w, r, nk, k, z);
        ck_assert_int_eq(prec_shard_views_finish(prec, cv, 2, nk, d, zk, w.ld, sv, xv, &lv, gv,
                                                 ldgrad),
                         VICREG_OK);
        ck_assert_int_eq(prec_shard_finish(prec, c2, nk, d, nk ? z[0] : NULL, w.ld[0],
                                           nk ? z[1] : NULL, w.ld[1], s2, x2, &lt, gt[0], ldg,
                                           gt[1], ldg),
                         VICREG_OK);
        vu_read_terms(cv, 2, tv, vv);
        vu_read_terms(c2, 2, tt, vt);
        ck_assert_msg(memcmp(&lv, &lt, sizeof lv) == 0 && memcmp(tv, tt, sizeof tv) == 0 &&
                          memcmp(vv[0], vt[0], 2 * sizeof vv[0]) == 0,
                      "G=%d shard %d: loss or terms differ", g, k);
        for (int b = 0; b < 2; b++) {
            ck_assert_msg(memcmp(gv[b], gt[b], (nk + 1) * ldg * elem) == 0,
                          "G=%d shard %d: gradient %d differs", g, k, b);
            free(gv[b]);
            free(gt[b]);
        }
    }
    free(sv);
    free(s2);
    free(xv);
    free(x2);
    vicreg_ctx_destroy(cv);
    vicreg_ctx_destroy(c2);
    views_free(&w);
}
END_TEST

/* The finish phase's gradients are multiplied by VICREG_PARAM_GRAD_SCALE
 * (a power of two: exactly); the loss and terms are not. */
START_TEST(finish_grad_scale)
{
    const int prec = _i;
    struct vworld w;
    vworld_make(&w, prec);
    const size_t elem = elem_of(prec), count = VW_SHARD * VW_D;
    unsigned char *g1 = malloc(VW_V * count * elem);
    ck_assert_ptr_nonnull(g1);
    double l1 = NAN, l2 = NAN, t1[TU_N_TERMS], t2[TU_N_TERMS];
    double v1[VU_CAP][VU_N_VTERMS], v2[VU_CAP][VU_N_VTERMS];
    for (int k = 0; k < 2; k++) {
        vicreg_ctx *c = tu_ctx_new();
        ck_assert_int_eq(vicreg_ctx_set_param(c, VICREG_PARAM_GRAD_SCALE, k ? 4.0 : 1.0),
                         VICREG_OK);
        ck_assert_int_eq(prec_shard_views_finish(prec, c, VW_V, VW_SHARD, VW_D, VU_CZ(w.z), NULL,
                                                 w.sums, w.scatter, k ? &l2 : &l1, w.g, NULL),
                         VICREG_OK);
        vu_read_terms(c, VW_V, k ? t2 : t1, k ? v2 : v1);
        for (size_t v = 0; v < VW_V; v++)
            for (size_t e = 0; e < count; e++) {
                if (k == 0) {
                    memcpy(g1 + (v * count + e) * elem, (char *)w.g[v] + e * elem, elem);
                    continue;
                }
                const double a = elem_get(prec, g1 + v * count * elem, e);
                ck_assert_msg(elem_get(prec, w.g[v], e) == 4.0 * a,
                              "view %zu entry %zu: %.17g, unscaled %.17g", v, e,
                              elem_get(prec, w.g[v], e), a);
            }
        vicreg_ctx_destroy(c);
    }
    ck_assert(memcmp(&l1, &l2, sizeof l1) == 0 && memcmp(t1, t2, sizeof t1) == 0 &&
              memcmp(v1, v2, VW_V * sizeof v1[0]) == 0);
    free(g1);
    vworld_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * layout: what the buffers hold
 * --------------------------------------------------------------------- */
START_TEST(sizes_documented)
{
    size_t a = 7, b = 9;
    const size_t ds[4] = { 1, 2, 7, 8192 }, vs[4] = { 1, 2, 5, VICREG_MAX_VIEWS };
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++) {
            ck_assert_int_eq(vicreg_shard_views_sizes(vs[i], ds[k], &a, &b), VICREG_OK);
            ck_assert_uint_eq(a, 2 + vs[i] * ds[k]);
            ck_assert_uint_eq(b, vs[i] * ds[k] * (ds[k] + 1) / 2);
        }
    a = 7, b = 9;
    ck_assert_int_eq(vicreg_shard_views_sizes(3, 4, NULL, &b), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_shard_views_sizes(3, 4, &a, NULL), VICREG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vicreg_shard_views_sizes(0, 4, &a, &b), VICREG_ERR_BAD_SHAPE);
    ck_assert_int_eq(vicreg_shard_views_sizes(VICREG_MAX_VIEWS + 1, 4, &a, &b),
                     VICREG_ERR_BAD_SHAPE);
    ck_assert_int_eq(vicreg_shard_views_sizes(SIZE_MAX, 4, &a, &b), VICREG_ERR_BAD_SHAPE);
    ck_assert_int_eq(vicreg_shard_views_sizes(3, 0, &a, &b), VICREG_ERR_BAD_SHAPE);
    ck_assert_int_eq(vicreg_shard_views_sizes(3, (size_t)INT_MAX + 1, &a, &b),
                     VICREG_ERR_SIZE_OVERFLOW);
    ck_assert_int_eq(vicreg_shard_views_sizes(3, SIZE_MAX / 2, &a, &b), VICREG_ERR_SIZE_OVERFLOW);
    ck_assert_int_eq(vicreg_shard_views_sizes(VICREG_MAX_VIEWS, INT_MAX, &a, &b),
                     VICREG_ERR_SIZE_OVERFLOW);
    ck_assert(a == 7 && b == 9);
}
END_TEST

START_TEST(buffers_hold_the_documented_sums)
{
    /* _i = precision + 2 * view set; one shard holding the whole batch. */
    const int prec = _i % 2, set = _i / 2;
    const size_t count = vu_view_sets[set].views, n = 9, d = 4;
    const int gp = vu_view_sets[set].global_views;
    const size_t g = gp == 0 ? count : (size_t)gp;
    struct ref_params p = ref_default_params();
    struct views w;
    views_make(&w, prec, 1200 + (uint64_t)_i, count, n, d, 1);
    size_t cl, sl = vu_shard_sizes(count, d, &cl);
    double *sums = calloc(sl, sizeof(double)), *scatter = calloc(cl, sizeof(double));
    ck_assert(sums && scatter);
    vicreg_ctx *c = vu_ctx(&p, VICREG_PATH_AUTO, gp, 1.0);
    ck_assert_int_eq(prec_shard_views_sums(prec, c, count, n, d, VU_CZ(w.z), w.ld, sums), VICREG_OK);
    ck_assert_int_eq(prec_shard_views_scatter(prec, c, count, n, d, VU_CZ(w.z), w.ld, sums, scatter),
                     VICREG_OK);
    ck_assert(sums[0] == (double)n);
    /* The weighted invariance sum, plainly. */
    double inv = 0.0;
    for (size_t a = 0; a < count; a++)
        for (size_t b = a + 1; b < count; b++) {
            const double wab = (double)((a < g) + (b < g));
            for (size_t e = 0; e < n * d; e++)
                inv += wab * (w.z64[a][e] - w.z64[b][e]) * (w.z64[a][e] - w.z64[b][e]);
        }
    if (count == 1)
        ck_assert(sums[1] == 0.0);
    else
        ck_assert_msg(tu_rel(sums[1], inv / (double)(g * (count - 1))) <=
                          (prec == F64 ? VU_TOL_SAME_F64 : VU_TOL_SAME_F32),
                      "invariance sum %.17g, want %.17g", sums[1], inv / (double)(g * (count - 1)));
    for (size_t v = 0; v < count; v++) {
        double mean[4];
        for (size_t j = 0; j < d; j++) {
            double s = 0.0, abs_s = 0.0;
            for (size_t i = 0; i < n; i++) {
                s += w.z64[v][i * d + j];
                abs_s += fabs(w.z64[v][i * d + j]);
            }
            ck_assert_msg(fabs(sums[2 + v * d + j] - s) <= 1e-14 * abs_s,
                          "view %zu column sum %zu: %.17g, want %.17g", v, j, sums[2 + v * d + j],
                          s);
            mean[j] = s / (double)n;
        }
        /* The scatter about the global means, upper triangle row by row. */
        const double *sv = scatter + v * d * (d + 1) / 2;
        double scale = 0.0;
        for (size_t j = 0; j < d; j++)
            scale = fmax(scale, tu_column_variance(n, d, w.z64[v], j) * (double)(n - 1));
        size_t at = 0;
        for (size_t j = 0; j < d; j++)
            for (size_t k = j; k < d; k++, at++) {
                double s = 0.0;
                for (size_t i = 0; i < n; i++)
                    s += (w.z64[v][i * d + j] - mean[j]) * (w.z64[v][i * d + k] - mean[k]);
                ck_assert_msg(fabs(sv[at] - s) <= (prec == F64 ? VU_TOL_SAME_F64 : VU_TOL_SAME_F32) * scale,
                              "view %zu scatter (%zu, %zu): %.17g, want %.17g", v, j, k, sv[at], s);
            }
    }
    vicreg_ctx_destroy(c);
    free(sums);
    free(scatter);
    views_free(&w);
}
END_TEST

/* An empty shard: z NULL or every z[v] NULL; phases 1 and 2 change
 * nothing, phase 3 gives the loss and terms alone. */
START_TEST(empty_shard)
{
    const int prec = _i;
    struct vworld w;
    vworld_make(&w, prec);
    vicreg_ctx *c = tu_ctx_new();
    const void *nulls[VW_V] = { NULL, NULL, NULL };
    const size_t bytes = w.bytes;
    unsigned char *keep = malloc(bytes);
    ck_assert_ptr_nonnull(keep);
    for (int k = 0; k < 2; k++) {
        const void *const *z = k ? nulls : NULL;
        memcpy(keep, w.block, bytes);
        ck_assert_int_eq(prec_shard_views_sums(prec, c, VW_V, 0, VW_D, z, NULL, w.sums), VICREG_OK);
        ck_assert_int_eq(prec_shard_views_scatter(prec, c, VW_V, 0, VW_D, z, NULL, w.sums,
                                                  w.scatter),
                         VICREG_OK);
        ck_assert(memcmp(keep, w.block, bytes) == 0);
        double loss = NAN, l2 = NAN;
        ck_assert_int_eq(prec_shard_views_finish(prec, c, VW_V, 0, VW_D, z, NULL, w.sums,
                                                 w.scatter, &loss, NULL, NULL),
                         VICREG_OK);
        ck_assert(isfinite(loss));
        /* The loss is the global batch's: what a shard with rows gets. */
        vicreg_ctx *c2 = tu_ctx_new();
        ck_assert_int_eq(prec_shard_views_finish(prec, c2, VW_V, VW_SHARD, VW_D, VU_CZ(w.z), NULL,
                                                 w.sums, w.scatter, &l2, NULL, NULL),
                         VICREG_OK);
        ck_assert(memcmp(&loss, &l2, sizeof loss) == 0);
        vicreg_ctx_destroy(c2);
    }
    free(keep);
    vicreg_ctx_destroy(c);
    vworld_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------
 * errors
 * --------------------------------------------------------------------- */
START_TEST(errors_common)
{
    /* _i = precision + 2 * phase. */
    const int prec = _i % 2, kind = VK_SUMS + _i / 2;
    struct vworld w;
    vworld_make(&w, prec);
    const struct vcall base = vworld_call(&w, kind);
    struct vcall c;
    const double huge = prec == F64 ? 1e200 : 1e30;
    const size_t last = (VW_SHARD - 1) * VW_D + VW_D - 1;

    c = base, c.null_ctx = 1;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "NULL ctx");
    c = base, c.z_null = 1;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "z NULL with rows");
    c = base, c.z[1] = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "z[1] NULL with rows");
    c = base, c.views = 0;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "no view");
    c = base, c.views = VICREG_MAX_VIEWS + 1, c.grad_null = 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "VICREG_MAX_VIEWS + 1 views");
    c = base, c.d = 0;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "d = 0");
    c = base, c.ldz[2] = VW_D - 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldz[2] < d");
    c = base, c.n = (size_t)INT_MAX + 1;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n > INT_MAX");
    c = base, c.ldz[0] = SIZE_MAX / 4;
    vexpect(&w, &c, VICREG_ERR_SIZE_OVERFLOW, "n * ldz[0] overflows");
    c = base, c.sums = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "sums NULL");

    /* NaN and Inf in any view, the first and last entries of the shard. */
    vexpect_with_entry(&w, w.z[0], 0, NAN, &base, VICREG_ERR_NON_FINITE, "NaN in z[0]");
    vexpect_with_entry(&w, w.z[2], last, -INFINITY, &base, VICREG_ERR_NON_FINITE, "-Inf in z[2]");
    vexpect_with_entry(&w, w.z[1], last, INFINITY, &base, VICREG_ERR_NON_FINITE, "Inf in z[1]");
    /* Too large to square (the sums of a float shard cannot overflow a
     * double). */
    if (!(kind == VK_SUMS && prec == F32))
        vexpect_with_entry(&w, w.z[1], VW_D + 1, huge, &base, VICREG_ERR_OVERFLOW, "huge entry");
    /* The statistics passed in. */
    vexpect_with_double(&w, &w.sums[2 + VW_D + 1], NAN, &base, VICREG_ERR_NON_FINITE,
                        "NaN in the column sums of view 1");
    vexpect_with_double(&w, &w.sums[1], -1.0, &base, VICREG_ERR_INVALID_ARGUMENT,
                        "negative invariance sum");
    vexpect_with_double(&w, &w.sums[0], 2.5, &base, VICREG_ERR_BAD_SHAPE, "row count 2.5");
    /* A statistics buffer on a view. */
    c = base, c.sums = (double *)(uintptr_t)w.z[1];
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "sums on z[1]");
    vworld_free(&w);
}
END_TEST

START_TEST(errors_sums)
{
    const int prec = _i;
    struct vworld w;
    vworld_make(&w, prec);
    const struct vcall base = vworld_call(&w, VK_SUMS);
    struct vcall c;
    c = base, c.global_views = VW_V + 1;
    vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "G = views + 1");
    vexpect_with_double(&w, &w.sums[0], -1.0, &base, VICREG_ERR_BAD_SHAPE, "row count -1");
    vexpect_with_double(&w, &w.sums[0], 0x1p53 - 1.0, &base, VICREG_ERR_SIZE_OVERFLOW,
                        "row count passes 2^53");
    c = base, c.n = 0, c.z_null = 1;
    vexpect_with_double(&w, &w.sums[0], 0.5, &c, VICREG_ERR_BAD_SHAPE, "empty shard, count 0.5");
    c = base, c.sums = (double *)(void *)((char *)w.z[2] + 8);
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "sums inside z[2]");
    vworld_free(&w);
}
END_TEST

START_TEST(errors_scatter_finish)
{
    /* _i = precision + 2 * (phase 2, phase 3). */
    const int prec = _i % 2, kind = _i / 2 ? VK_FINISH : VK_SCATTER;
    struct vworld w;
    vworld_make(&w, prec);
    const struct vcall base = vworld_call(&w, kind);
    struct vcall c;
    const size_t tri = VW_D * (VW_D + 1) / 2, elem = elem_of(prec);

    c = base, c.scatter = NULL;
    vexpect(&w, &c, VICREG_ERR_INVALID_ARGUMENT, "scatter NULL");
    vexpect_with_double(&w, &w.scatter[2 * tri + 1], -INFINITY, &base, VICREG_ERR_NON_FINITE,
                        "-Inf in view 2's scatter");
    /* The global row count. */
    vexpect_with_double(&w, &w.sums[0], 1.0, &base, VICREG_ERR_BAD_SHAPE, "N = 1");
    vexpect_with_double(&w, &w.sums[0], (double)VW_SHARD - 1.0, &base, VICREG_ERR_BAD_SHAPE,
                        "N < n");
    c = base, c.n = 0, c.z_null = 1, c.grad_null = 1;
    vexpect_with_double(&w, &w.sums[0], 1.0, &c, VICREG_ERR_BAD_SHAPE, "empty shard, N = 1");
    /* The diagonal entry (2, 2) of view 2's scatter: row 2 starts at
     * 2 d - 1 of its triangle. */
    vexpect_with_double(&w, &w.scatter[2 * tri + 2 * VW_D - 1], -1.0, &base,
                        VICREG_ERR_INVALID_ARGUMENT, "negative scatter diagonal of view 2");
    c = base, c.scatter = (double *)(void *)((char *)w.z[0] + 16);
    vexpect(&w, &c, VICREG_ERR_OVERLAP, "scatter inside z[0]");
    if (kind == VK_SCATTER) {
        c = base, c.scatter = w.sums + 1;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "scatter on sums");
        /* An accumulator so large that the sum would overflow. */
        vexpect_with_double(&w, &w.scatter[tri + 1], 0.9 * DBL_MAX, &base, VICREG_ERR_OVERFLOW,
                            "view 1's scatter near DBL_MAX");
    } else {
        c = base, c.global_views = VW_V + 1;
        vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "G = views + 1");
        c = base, c.ldgrad[1] = VW_D - 1;
        vexpect(&w, &c, VICREG_ERR_BAD_SHAPE, "ldgrad[1] < d");
        c = base, c.grad[0] = w.sums + 2;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[0] on sums");
        c = base, c.grad[2] = w.scatter + tri;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[2] on scatter");
        c = base, c.grad[1] = (void *)(uintptr_t)w.z[2];
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[1] on z[2]");
        c = base, c.grad[2] = (char *)w.g[1] + 5 * elem;
        vexpect(&w, &c, VICREG_ERR_OVERLAP, "grad[2] inside grad[1]");
        vexpect_with_double(&w, &w.scatter[tri + 1], 1e300, &base, VICREG_ERR_OVERFLOW,
                            "huge scatter entry of view 1");
    }
    vworld_free(&w);
}
END_TEST

Suite *shard_views_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "equal", .timeout = 120, .unchecked_teardown = report_worst,
          .tests = { TU_LOOP(sharded_equals_single, 0, VU_SPLIT_CASES),
                     TU_LOOP(micro_batches_equal_single, 0, VU_SPLIT_CASES),
                     TU_LOOP(sharded_equals_single_larger, 0, 4) } },
        { .name = "two-views", .tests = { TU_LOOP(two_views_equal_two_batch_phases, 0, 12) } },
        { .name = "layout",
          .tests = { TU_TEST(sizes_documented), TU_LOOP(finish_grad_scale, 0, 2),
                     TU_LOOP(buffers_hold_the_documented_sums, 0, 2 * VU_N_VIEW_SETS),
                     TU_LOOP(empty_shard, 0, 2) } },
        { .name = "errors", .timeout = 120,
          .tests = { TU_LOOP(errors_common, 0, 6), TU_LOOP(errors_sums, 0, 2),
                     TU_LOOP(errors_scatter_finish, 0, 4) } },
    };
    return tu_suite("shard-views", tcases, sizeof tcases / sizeof tcases[0]);
}
