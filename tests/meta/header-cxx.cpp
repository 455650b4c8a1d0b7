/*
 * header-cxx.cpp - the public header in a C++ program.
 *
 * Built as C++11 with -pedantic -Werror -Wall -Wextra: vicreg.h must compile
 * as C++, and its extern "C" block must give the C names, so the program
 * links against the C library.
 */
#include <vicreg.h>

#include <cmath>
#include <cstdio>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "FAIL: %s\n", what);
        ++failures;
    }
}

} // namespace

int main()
{
    const std::size_t n = 6, d = 4;
    std::vector<float> za(n * d), zb(n * d), ga(n * d), gb(n * d);
    for (std::size_t i = 0; i < n * d; ++i) {
        za[i] = static_cast<float>(std::sin(0.7 * static_cast<double>(i) + 0.3));
        zb[i] = static_cast<float>(std::cos(1.3 * static_cast<double>(i) - 0.2));
    }

    check(vicreg_version_number() == VICREG_VERSION_NUMBER,
          "vicreg_version_number() == VICREG_VERSION_NUMBER");
    check(vicreg_status_name(VICREG_OK) != nullptr, "vicreg_status_name() != nullptr");

    vicreg_ctx *ctx = nullptr;
    check(vicreg_ctx_create(&ctx) == VICREG_OK && ctx != nullptr, "vicreg_ctx_create()");
    if (ctx == nullptr)
        return 1;

    double lo = 0.0, hi = 0.0;
    check(vicreg_param_bounds(VICREG_PARAM_EPSILON, &lo, &hi) == VICREG_OK && lo > 0.0
              && hi >= lo, "vicreg_param_bounds(EPSILON)");

    double loss = -1.0;
    int status = vicreg_loss_f32(ctx, n, d, za.data(), d, zb.data(), d, &loss,
                                 ga.data(), d, gb.data(), d);
    if (status != VICREG_OK)
        std::fprintf(stderr, "vicreg_loss_f32: %s\n", vicreg_strerror(status));
    check(status == VICREG_OK, "vicreg_loss_f32()");
    check(std::isfinite(loss) && loss > 0.0, "the loss is positive and finite");

    // The 1.1 calls from C++.
    std::size_t sums_len = 0, scatter_len = 0;
    check(vicreg_shard_sizes(d, &sums_len, &scatter_len) == VICREG_OK, "vicreg_shard_sizes()");
    std::vector<double> sums(sums_len), scatter(scatter_len);
    double shard_loss = -1.0;
    check(vicreg_shard_sums_f32(ctx, n, d, za.data(), d, zb.data(), d, sums.data()) == VICREG_OK
              && vicreg_shard_scatter_f32(ctx, n, d, za.data(), d, zb.data(), d, sums.data(),
                                          scatter.data()) == VICREG_OK
              && vicreg_shard_finish_f32(ctx, n, d, za.data(), d, zb.data(), d, sums.data(),
                                         scatter.data(), &shard_loss, ga.data(), d, nullptr,
                                         0) == VICREG_OK,
          "the three phases");
    check(std::fabs(shard_loss - loss) <= 1e-5 * loss, "one shard gives the loss");
    void *buffer = nullptr;
    check(vicreg_ctx_buffer(ctx, 64, &buffer) == VICREG_OK && buffer != nullptr,
          "vicreg_ctx_buffer()");
    check(vicreg_ctx_set_param(ctx, VICREG_PARAM_GRAD_SCALE, 2.0) == VICREG_OK,
          "vicreg_ctx_set_param(GRAD_SCALE)");

    vicreg_ctx_destroy(ctx);

    if (failures == 0)
        std::printf("OK: vicreg.h builds as C++ and the library answers (loss %g)\n", loss);
    return failures == 0 ? 0 : 1;
}
