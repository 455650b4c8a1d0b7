/*
 * test-loss-rows.c - vicreg_loss_rows_*() against vicreg_loss_*() for
 * every row range, both precisions and every path: the loss and terms
 * bit for bit, the rows' gradients to a few roundings (bitwise for the
 * full range), nothing written outside the range or into the padding, and
 * one gradient or none.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shardutil.h"

START_TEST(rows_equal_full_call)
{
    /* _i: precision, shape (covariance or Gram path under AUTO), path. */
    const int prec = _i % 2;
    const size_t shapes[2][2] = { { 9, 5 }, { 5, 9 } };
    const size_t n = shapes[(_i / 2) % 2][0], d = shapes[(_i / 2) % 2][1];
    const int paths[3] = { VICREG_PATH_AUTO, VICREG_PATH_COVARIANCE, VICREG_PATH_GRAM };
    const int path = paths[_i / 4];
    const size_t ldg = d + 2, elem = elem_of(prec);
    /* A different row count changes how BLAS blocks the product, not
     * what it sums: allow a few roundings. */
    const double tol = prec == F64 ? 1e-14 : 1e-6;
    struct ref_params p = ref_default_params();
    struct batch b;
    batch_make(&b, prec, 900 + (uint64_t)_i, n, d);
    vicreg_ctx *c = make_ctx(&p, path, 1.0);
    double full_loss = NAN, full_terms[TU_N_TERMS];
    void *ga = malloc(n * d * elem), *gb = malloc(n * d * elem);
    ck_assert(ga && gb);
    ck_assert_int_eq(prec_loss(prec, c, n, d, b.za, d, b.zb, d, &full_loss, ga, d, gb, d),
                     VICREG_OK);
    read_terms(c, full_terms);

    /* One row more than asked for, and padding, to see that nothing
     * outside the range is written. */
    void *ra = malloc((n + 1) * ldg * elem), *rb = malloc((n + 1) * ldg * elem);
    ck_assert(ra && rb);
    for (size_t row0 = 0; row0 <= n; row0++)
        for (size_t rows = 0; row0 + rows <= n; rows++) {
            memset(ra, 0xA5, (n + 1) * ldg * elem);
            memset(rb, 0x5A, (n + 1) * ldg * elem);
            double loss = NAN, terms[TU_N_TERMS];
            ck_assert_int_eq(prec_loss_rows(prec, c, n, d, b.za, d, b.zb, d, row0, rows, &loss, ra,
                                            ldg, rb, ldg),
                             VICREG_OK);
            read_terms(c, terms);
            ck_assert(memcmp(&loss, &full_loss, sizeof loss) == 0);
            ck_assert(memcmp(terms, full_terms, sizeof terms) == 0);
            double ea = 0.0, eb = 0.0, sc = 0.0;
            for (size_t i = 0; i < rows; i++)
                for (size_t j = 0; j < d; j++) {
                    const size_t src = (row0 + i) * d + j, dst = i * ldg + j;
                    ea = fmax(ea, fabs(elem_get(prec, ra, dst) - elem_get(prec, ga, src)));
                    eb = fmax(eb, fabs(elem_get(prec, rb, dst) - elem_get(prec, gb, src)));
                    sc = fmax(sc,
                              fmax(fabs(elem_get(prec, ga, src)), fabs(elem_get(prec, gb, src))));
                }
            ck_assert_msg(ea <= tol * sc && eb <= tol * sc, "rows %zu+%zu differ: %g %g (%g)",
                          row0, rows, ea, eb, sc);
            /* Padding and the rows beyond the range keep their bytes. */
            for (size_t i = 0; i <= n; i++)
                for (size_t j = 0; j < ldg; j++) {
                    if (i < rows && j < d)
                        continue;
                    const unsigned char *pa = (unsigned char *)ra + (i * ldg + j) * elem;
                    const unsigned char *pb = (unsigned char *)rb + (i * ldg + j) * elem;
                    for (size_t k = 0; k < elem; k++)
                        ck_assert_msg(pa[k] == 0xA5 && pb[k] == 0x5A,
                                      "rows %zu+%zu wrote outside the range (%zu, %zu)", row0,
                                      rows, i, j);
                }
            if (row0 == 0 && rows == n) {
                /* The full range is the same call: the same bits. */
                for (size_t i = 0; i < n; i++) {
                    ck_assert(memcmp((char *)ra + i * ldg * elem, (char *)ga + i * d * elem,
                                     d * elem) == 0);
                    ck_assert(memcmp((char *)rb + i * ldg * elem, (char *)gb + i * d * elem,
                                     d * elem) == 0);
                }
            }
        }

    /* One gradient only, and none, for a middle range. */
    memset(ra, 0xA5, (n + 1) * ldg * elem);
    double loss = NAN;
    ck_assert_int_eq(prec_loss_rows(prec, c, n, d, b.za, d, b.zb, d, 1, 2, &loss, NULL, 0, ra, ldg),
                     VICREG_OK);
    ck_assert(memcmp(&loss, &full_loss, sizeof loss) == 0);
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < d; j++)
            ck_assert(fabs(elem_get(prec, ra, i * ldg + j) - elem_get(prec, gb, (1 + i) * d + j)) <=
                      tol * fmax(1.0, fabs(elem_get(prec, gb, (1 + i) * d + j))));
    loss = NAN;
    ck_assert_int_eq(prec_loss_rows(prec, c, n, d, b.za, d, b.zb, d, 1, 2, &loss, NULL, 0, NULL, 0),
                     VICREG_OK);
    ck_assert(memcmp(&loss, &full_loss, sizeof loss) == 0);

    free(ra);
    free(rb);
    free(ga);
    free(gb);
    vicreg_ctx_destroy(c);
    batch_free(&b);
}
END_TEST

Suite *loss_rows_suite(void)
{
    const struct tu_tcase tc = { .name = "rows", .tests = { TU_LOOP(rows_equal_full_call, 0, 12) } };
    return tu_suite("loss-rows", &tc, 1);
}
