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

    vicreg_ctx_destroy(ctx);
    vicreg_ctx_destroy(NULL);

    if (failures == 0)
        printf("OK: vicreg.h builds as C99 and the library answers (loss %g, version %s)\n",
               loss, vicreg_version_string());
    return failures == 0 ? 0 : 1;
}
