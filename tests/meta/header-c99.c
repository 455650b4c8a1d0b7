/*
 * header-c99.c - the public header under strict ISO C99.
 *
 * Built with -std=c99 -pedantic -Werror -Wall -Wextra -Wstrict-prototypes
 * -Wundef: vicreg.h must compile on its own (it is included first, and twice
 * to exercise the include guard) and the program links and runs against the
 * library.
 */
#include <vicreg.h>
#include <vicreg.h>

#include <stdio.h>

static int failures = 0;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

int main(void)
{
    vicreg_ctx *ctx = NULL;
    double za[4 * 3] = { 0.1, 0.5, -0.3, 1.2, -0.7, 0.4, -0.9, 0.2, 0.8, 0.3, 0.6, -1.1 };
    double zb[4 * 3] = { 0.2, 0.4, -0.1, 1.0, -0.5, 0.6, -0.8, 0.1, 0.9, 0.4, 0.7, -1.0 };
    double ga[4 * 3], gb[4 * 3];
    double loss = -1.0, term = -1.0, value = 0.0;
    int status;

    check(vicreg_version_number() == VICREG_VERSION_NUMBER,
          "vicreg_version_number() == VICREG_VERSION_NUMBER");
    check(vicreg_version_string() != NULL, "vicreg_version_string() != NULL");
    check(vicreg_strerror(VICREG_ERR_NON_FINITE) != NULL, "vicreg_strerror() != NULL");

    status = vicreg_ctx_create(&ctx);
    check(status == VICREG_OK && ctx != NULL, "vicreg_ctx_create()");
    if (ctx == NULL)
        return 1;
    check(vicreg_ctx_set_param(ctx, VICREG_PARAM_CONVENTION, VICREG_CONVENTION_PAPER)
              == VICREG_OK, "vicreg_ctx_set_param(CONVENTION, PAPER)");
    check(vicreg_ctx_get_param(ctx, VICREG_PARAM_CONVENTION, &value) == VICREG_OK
              && value == VICREG_CONVENTION_PAPER, "vicreg_ctx_get_param(CONVENTION)");

    status = vicreg_loss_f64(ctx, 4, 3, za, 3, zb, 3, &loss, ga, 3, gb, 3);
    if (status != VICREG_OK)
        fprintf(stderr, "vicreg_loss_f64: %s\n", vicreg_strerror(status));
    check(status == VICREG_OK, "vicreg_loss_f64()");
    check(loss > 0.0 && loss < 1e6, "the loss is positive and finite");
    check(vicreg_ctx_get_term(ctx, VICREG_TERM_LOSS, &term) == VICREG_OK && term == loss,
          "vicreg_ctx_get_term(LOSS) equals the returned loss");

    /* The 1.1 calls: the batch as two shards (3 rows and 1) gives the
     * same loss through the three phases. */
    {
        double sums[2 + 2 * 3], scatter[3 * 4], shard_loss = -1.0, scale = 0.0;
        size_t sums_len = 0, scatter_len = 0;
        void *buffer = NULL;
        int k;
        check(vicreg_shard_sizes(3, &sums_len, &scatter_len) == VICREG_OK && sums_len == 8
                  && scatter_len == 12, "vicreg_shard_sizes(3)");
        for (k = 0; k < 8; k++)
            sums[k] = 0.0;
        for (k = 0; k < 12; k++)
            scatter[k] = 0.0;
        check(vicreg_shard_sums_f64(ctx, 3, 3, za, 3, zb, 3, sums) == VICREG_OK
                  && vicreg_shard_sums_f64(ctx, 1, 3, za + 9, 3, zb + 9, 3, sums) == VICREG_OK,
              "vicreg_shard_sums_f64()");
        check(vicreg_shard_scatter_f64(ctx, 3, 3, za, 3, zb, 3, sums, scatter) == VICREG_OK
                  && vicreg_shard_scatter_f64(ctx, 1, 3, za + 9, 3, zb + 9, 3, sums, scatter)
                         == VICREG_OK, "vicreg_shard_scatter_f64()");
        check(vicreg_shard_finish_f64(ctx, 1, 3, za + 9, 3, zb + 9, 3, sums, scatter,
                                      &shard_loss, ga, 3, gb, 3) == VICREG_OK,
              "vicreg_shard_finish_f64()");
        check(shard_loss > 0.99999999 * loss && shard_loss < 1.00000001 * loss,
              "the sharded loss equals the loss");
        check(vicreg_loss_rows_f64(ctx, 4, 3, za, 3, zb, 3, 1, 2, &shard_loss, ga, 3, NULL, 0)
                  == VICREG_OK, "vicreg_loss_rows_f64()");
        check(vicreg_ctx_get_param(ctx, VICREG_PARAM_GRAD_SCALE, &scale) == VICREG_OK
                  && scale == 1.0, "vicreg_ctx_get_param(GRAD_SCALE)");
        check(vicreg_ctx_buffer(ctx, 128, &buffer) == VICREG_OK && buffer != NULL,
              "vicreg_ctx_buffer()");
    }

    vicreg_ctx_destroy(ctx);
    vicreg_ctx_destroy(NULL);

    if (failures == 0)
        printf("OK: vicreg.h builds as C99 and the library answers (loss %g, version %s)\n",
               loss, vicreg_version_string());
    return failures == 0 ? 0 : 1;
}
