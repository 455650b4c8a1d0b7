/*
 * installed-prog.c - a user program built against the installed library
 * with nothing but `cc installed-prog.c $(pkg-config --cflags --libs vicreg)`
 * (check-install.py). It prints what the script checks:
 *
 *   version <vicreg_version_string()>
 *   number <vicreg_version_number()>
 *   loss <the loss of a small batch, %.17g>
 *
 * and exits with status 0 only if every call succeeded and the loss is
 * finite.
 */
#include <vicreg.h>

#include <math.h>
#include <stdio.h>

#define N 8
#define D 5

int main(void)
{
    float za[N * D], zb[N * D], ga[N * D];
    double loss = NAN;
    vicreg_ctx *ctx = NULL;
    int i, status;

    for (i = 0; i < N * D; i++) {
        za[i] = (float)((i * 37 % 23) - 11) / 7.0f;
        zb[i] = za[i] + (float)((i * 13 % 7) - 3) / 20.0f;
    }

    printf("version %s\n", vicreg_version_string());
    printf("number %u\n", vicreg_version_number());

    status = vicreg_ctx_create(&ctx);
    if (status != VICREG_OK) {
        fprintf(stderr, "vicreg_ctx_create: %s\n", vicreg_strerror(status));
        return 1;
    }
    status = vicreg_loss_f32(ctx, N, D, za, D, zb, D, &loss, ga, D, NULL, 0);
    vicreg_ctx_destroy(ctx);
    if (status != VICREG_OK) {
        fprintf(stderr, "vicreg_loss_f32: %s (%s)\n", vicreg_strerror(status),
                vicreg_status_name(status));
        return 1;
    }
    printf("loss %.17g\n", loss);
    return isfinite(loss) ? 0 : 1;
}
