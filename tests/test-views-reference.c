/*
 * test-views-reference.c - the multi-view double reference ref_views()
 * (reference.c, specification section 4) checked on its own, before the
 * library's views calls are tested against it:
 *
 *   two-views    with V = 2 it is ref_vicreg() for every G (0, 1, 2), both
 *                conventions, default and custom coefficients: loss, terms,
 *                diagnostics and both gradients to 1e-13 relative;
 *   fd           its gradients against central finite differences of its
 *                own loss for V = 1, 3, 4 with G mixed (0 .. V);
 *   permutation  permuting the local views (and the global views among
 *                themselves) leaves the loss and terms unchanged and
 *                permutes the gradients; the weights follow the positions
 *                (a local view moved in front changes the loss).
 *
 * A standalone Check program (meson test 'views-reference', suite 'unit').
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAXV 8

static const struct ref_params custom_params = { 3.0, 7.0, 0.5, 1.3, 1e-3, 0 };

/* v_count views (n x d, packed) from tu_make_batches pairs: views 2k and
 * 2k+1 are the pair of seed + k. */
static double **make_views(uint64_t seed, size_t v_count, size_t n, size_t d)
{
    double **z = calloc(v_count, sizeof *z);
    double *spare = malloc(n * d * sizeof(double));
    ck_assert(z != NULL && spare != NULL);
    for (size_t v = 0; v < v_count; v++) {
        z[v] = malloc(n * d * sizeof(double));
        ck_assert(z[v] != NULL);
    }
    for (size_t v = 0; v < v_count; v += 2)
        tu_make_batches(seed + v, n, d, d, z[v], v + 1 < v_count ? z[v + 1] : spare);
    free(spare);
    return z;
}

static void free_views(double **z, size_t v_count)
{
    for (size_t v = 0; v < v_count; v++)
        free(z[v]);
    free(z);
}

/* No column std within 1e-3 gamma of gamma (the hinge's kink), so that a
 * finite difference does not straddle it. */
static int hinge_margin_ok(const struct ref_params *p, size_t v_count, size_t n, size_t d,
                           double *const *z)
{
    for (size_t v = 0; v < v_count; v++)
        for (size_t j = 0; j < d; j++) {
            double s = sqrt(tu_column_variance(n, d, z[v], j) + p->eps);
            if (fabs(s - p->gamma) <= 1e-3 * p->gamma)
                return 0;
        }
    return 1;
}

/* ------------------------------------------------------------------------
 * V = 2 is ref_vicreg() for every G
 * ------------------------------------------------------------------------ */

START_TEST(two_views_equal_ref_vicreg)
{
    static const size_t shapes[][2] = { { 2, 1 }, { 3, 3 }, { 8, 4 }, { 5, 12 }, { 16, 6 } };
    const int paper = _i & 1;
    struct ref_params p = (_i & 2) ? custom_params : ref_default_params();
    p.paper = paper;
    double worst = 0.0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const size_t n = shapes[s][0], d = shapes[s][1];
        double **z = make_views(40 + s, 2, n, d);
        double *ga = malloc(n * d * sizeof(double)), *gb = malloc(n * d * sizeof(double));
        double *g0 = malloc(n * d * sizeof(double)), *g1 = malloc(n * d * sizeof(double));
        struct ref_result two;
        ref_vicreg(&p, n, d, z[0], z[1], &two, ga, gb);
        for (int g = 0; g <= 2; g++) {
            struct ref_views_result r;
            double *grad[2] = { g0, g1 };
            ref_views(&p, g, 2, n, d, (const double *const *)z, &r, grad);
            const double errs[] = {
                tu_rel(r.loss, two.loss),
                tu_rel(r.invariance, two.invariance),
                tu_rel_err(n, d, g0, d, ga, d),
                tu_rel_err(n, d, g1, d, gb, d),
            };
            for (size_t k = 0; k < sizeof errs / sizeof errs[0]; k++) {
                ck_assert_msg(errs[k] <= 1e-13, "%zux%zu G=%d paper=%d: error %d is %g", n, d,
                              g, paper, (int)k, errs[k]);
                worst = fmax(worst, errs[k]);
            }
            ck_assert(r.weight_sum == (g == 0 ? 2.0 : (double)g));
            for (int b = 0; b < 2; b++) {
                /* The same loops over the same numbers: identical. */
                ck_assert(r.variance[b] == two.variance[b]);
                ck_assert(r.covariance[b] == two.covariance[b]);
                ck_assert(r.mean_std[b] == two.mean_std[b]);
                ck_assert(r.min_std[b] == two.min_std[b]);
                ck_assert(r.collapsed_fraction[b] == two.collapsed_fraction[b]);
                ck_assert(r.effective_rank[b] == two.effective_rank[b]);
            }
            /* No gradient buffers: the values alone. */
            struct ref_views_result r2;
            ref_views(&p, g, 2, n, d, (const double *const *)z, &r2, NULL);
            ck_assert(r2.loss == r.loss);
        }
        free(ga);
        free(gb);
        free(g0);
        free(g1);
        free_views(z, 2);
    }
    printf("views-reference: V = 2 vs ref_vicreg (paper=%d, %s): worst relative error %.3g\n",
           paper, (_i & 2) ? "custom" : "default", worst);
}
END_TEST

/* ------------------------------------------------------------------------
 * Central finite differences
 * ------------------------------------------------------------------------ */

static const struct {
    size_t views;
    int global_views;
} fd_cases[] = {
    { 1, 0 }, { 1, 1 }, { 3, 0 }, { 3, 1 }, { 3, 2 }, { 3, 3 }, { 4, 0 }, { 4, 1 }, { 4, 2 }, { 4, 3 },
};
#define N_FD_CASES (int)(sizeof fd_cases / sizeof fd_cases[0])

START_TEST(gradients_match_finite_differences)
{
    const size_t v_count = fd_cases[_i / 2].views, n = 6, d = 5;
    const int g = fd_cases[_i / 2].global_views;
    struct ref_params p = (_i / 2) % 2 ? custom_params : ref_default_params();
    p.paper = _i % 2;
    uint64_t seed = 500 + 16 * (uint64_t)_i;
    double **z = NULL;
    struct ref_views_result r;
    for (int attempt = 0;; attempt++) {
        ck_assert_msg(attempt < 50, "no data away from the hinge's kink");
        z = make_views(seed + 1000 * (uint64_t)attempt, v_count, n, d);
        if (hinge_margin_ok(&p, v_count, n, d, z))
            break;
        free_views(z, v_count);
    }
    double *grad[MAXV];
    for (size_t v = 0; v < v_count; v++)
        grad[v] = malloc(n * d * sizeof(double));
    ref_views(&p, g, v_count, n, d, (const double *const *)z, &r, grad);

    double *fd = malloc(n * d * sizeof(double));
    const double h = 1e-6;
    double worst = 0.0;
    for (size_t v = 0; v < v_count; v++) {
        for (size_t e = 0; e < n * d; e++) {
            const double old = z[v][e];
            struct ref_views_result up, down;
            z[v][e] = old + h;
            ref_views(&p, g, v_count, n, d, (const double *const *)z, &up, NULL);
            z[v][e] = old - h;
            ref_views(&p, g, v_count, n, d, (const double *const *)z, &down, NULL);
            z[v][e] = old;
            fd[e] = (up.loss - down.loss) / (2.0 * h);
        }
        const double err = tu_rel_err(n, d, grad[v], d, fd, d);
        ck_assert_msg(err < 1e-7, "V=%zu G=%d paper=%d view %zu: finite-difference error %g",
                      v_count, g, p.paper, v, err);
        worst = fmax(worst, err);
    }
    printf("views-reference: finite differences V=%zu G=%d paper=%d: worst %.3g\n", v_count, g,
           p.paper, worst);
    free(fd);
    for (size_t v = 0; v < v_count; v++)
        free(grad[v]);
    free_views(z, v_count);
}
END_TEST

/* With one view: no invariance, the regulariser alone, lambda irrelevant. */
START_TEST(one_view_is_the_regulariser)
{
    const size_t n = 7, d = 4;
    struct ref_params p = custom_params;
    p.paper = _i;
    double **z = make_views(77, 1, n, d);
    double *g1 = malloc(n * d * sizeof(double)), *g2 = malloc(n * d * sizeof(double));
    struct ref_views_result r, r0;
    ref_views(&p, 0, 1, n, d, (const double *const *)z, &r, &g1);
    ck_assert(r.invariance == 0.0 && r.weight_sum == 0.0);
    ck_assert(tu_rel(r.loss, p.mu * r.variance[0] + p.nu * r.covariance[0]) <= 1e-15);
    p.lambda = 0.0;
    ref_views(&p, 1, 1, n, d, (const double *const *)z, &r0, &g2);
    ck_assert(r0.loss == r.loss);
    ck_assert(memcmp(g1, g2, n * d * sizeof(double)) == 0);
    free(g1);
    free(g2);
    free_views(z, 1);
}
END_TEST

/* ------------------------------------------------------------------------
 * Permutations
 * ------------------------------------------------------------------------ */

START_TEST(permuting_local_views_keeps_the_loss)
{
    const size_t v_count = 6, n = 8, d = 5;
    const int g = 2;
    struct ref_params p = ref_default_params();
    p.paper = _i;
    double **z = make_views(900, v_count, n, d);
    double *grad[MAXV], *pgrad[MAXV];
    for (size_t v = 0; v < v_count; v++) {
        grad[v] = malloc(n * d * sizeof(double));
        pgrad[v] = malloc(n * d * sizeof(double));
    }
    struct ref_views_result r;
    ref_views(&p, g, v_count, n, d, (const double *const *)z, &r, grad);

    /* Locals permuted; globals swapped; both. */
    static const size_t perms[][6] = {
        { 0, 1, 5, 4, 3, 2 }, { 0, 1, 3, 4, 5, 2 }, { 1, 0, 2, 3, 4, 5 }, { 1, 0, 4, 2, 5, 3 },
    };
    double worst = 0.0;
    for (size_t k = 0; k < sizeof perms / sizeof perms[0]; k++) {
        const double *pz[MAXV];
        for (size_t v = 0; v < v_count; v++)
            pz[v] = z[perms[k][v]];
        struct ref_views_result q;
        ref_views(&p, g, v_count, n, d, pz, &q, pgrad);
        const double err = fmax(tu_rel(q.loss, r.loss), tu_rel(q.invariance, r.invariance));
        ck_assert_msg(err <= 1e-14, "permutation %zu: loss error %g", k, err);
        worst = fmax(worst, err);
        for (size_t v = 0; v < v_count; v++) {
            ck_assert(q.variance[v] == r.variance[perms[k][v]]);
            ck_assert(q.covariance[v] == r.covariance[perms[k][v]]);
            ck_assert(tu_rel_err(n, d, pgrad[v], d, grad[perms[k][v]], d) <= 1e-14);
        }
    }
    /* A local view swapped with a global one: the weights move with the
     * positions, and the loss changes. */
    const double *sw[MAXV] = { z[2], z[1], z[0], z[3], z[4], z[5] };
    struct ref_views_result q;
    ref_views(&p, g, v_count, n, d, sw, &q, NULL);
    ck_assert_msg(tu_rel(q.invariance, r.invariance) > 1e-6,
                  "swapping a global and a local view left s_bar unchanged");
    printf("views-reference: permutations (paper=%d): worst loss error %.3g\n", p.paper, worst);
    for (size_t v = 0; v < v_count; v++) {
        free(grad[v]);
        free(pgrad[v]);
    }
    free_views(z, v_count);
}
END_TEST

/* Bad arguments: NaN everywhere, no gradient written. */
START_TEST(bad_arguments)
{
    const size_t n = 4, d = 3;
    double **z = make_views(5, 3, n, d);
    double *g = malloc(n * d * sizeof(double));
    for (size_t e = 0; e < n * d; e++)
        g[e] = 42.0;
    double *grad[3] = { g, g, g };
    struct ref_params p = ref_default_params();
    struct ref_views_result r;
    ref_views(&p, 4, 3, n, d, (const double *const *)z, &r, grad);
    ck_assert(isnan(r.loss) && isnan(r.invariance) && isnan(r.variance[0]));
    ref_views(&p, -1, 3, n, d, (const double *const *)z, &r, grad);
    ck_assert(isnan(r.loss));
    ref_views(&p, 0, 0, n, d, (const double *const *)z, &r, grad);
    ck_assert(isnan(r.loss));
    ref_views(&p, 0, 3, 1, d, (const double *const *)z, &r, grad);
    ck_assert(isnan(r.loss));
    for (size_t e = 0; e < n * d; e++)
        ck_assert(g[e] == 42.0);
    free(g);
    free_views(z, 3);
}
END_TEST

static Suite *views_reference_suite(void)
{
    const struct tu_tcase tcases[] = {
        { .name = "two-views", .tests = { TU_LOOP(two_views_equal_ref_vicreg, 0, 4) } },
        { .name = "fd", .timeout = 60,
          .tests = { TU_LOOP(gradients_match_finite_differences, 0, 2 * N_FD_CASES),
                     TU_LOOP(one_view_is_the_regulariser, 0, 2) } },
        { .name = "permutation",
          .tests = { TU_LOOP(permuting_local_views_keeps_the_loss, 0, 2),
                     TU_TEST(bad_arguments) } },
    };
    return tu_suite("views-reference", tcases, sizeof tcases / sizeof tcases[0]);
}

int main(void)
{
    return tu_run(srunner_create(views_reference_suite()));
}
