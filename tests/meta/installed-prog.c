/*
 * installed-prog.c - a user program built against the installed library
 * with nothing but `cc installed-prog.c $(pkg-config --cflags --libs vicreg)`
 * (check-install.py). It prints what the script checks:
 *
 *   version <vicreg_version_string()>
 *   number <vicreg_version_number()>
 *   loss <the loss of a small batch, %.17g>
 *   sharded <the same loss through the 1.1 sharded calls, two shards>
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
    double sums[2 + 2 * D] = { 0 }, scatter[D * (D + 1)] = { 0 };
    double loss = NAN, sharded = NAN;
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
    /* Rows 0..2 and 3..7 as two shards. */
    if (status == VICREG_OK)
        status = vicreg_shard_sums_f32(ctx, 3, D, za, D, zb, D, sums);
    if (status == VICREG_OK)
        status = vicreg_shard_sums_f32(ctx, N - 3, D, za + 3 * D, D, zb + 3 * D, D, sums);
    if (status == VICREG_OK)
        status = vicreg_shard_scatter_f32(ctx, 3, D, za, D, zb, D, sums, scatter);
    if (status == VICREG_OK)
        status = vicreg_shard_scatter_f32(ctx, N - 3, D, za + 3 * D, D, zb + 3 * D, D, sums,
                                          scatter);
    if (status == VICREG_OK)
        status = vicreg_shard_finish_f32(ctx, 0, D, NULL, D, NULL, D, sums, scatter, &sharded,
                                         NULL, 0, NULL, 0);
    vicreg_ctx_destroy(ctx);
    if (status != VICREG_OK) {
        fprintf(stderr, "vicreg_loss_f32 or a sharded call: %s (%s)\n", vicreg_strerror(status),
                vicreg_status_name(status));
        return 1;
    }
    printf("loss %.17g\n", loss);
    printf("sharded %.17g\n", sharded);
    return isfinite(loss) ? 0 : 1;
}
