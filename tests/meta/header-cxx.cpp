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

    vicreg_ctx_destroy(ctx);

    if (failures == 0)
        std::printf("OK: vicreg.h builds as C++ and the library answers (loss %g)\n", loss);
    return failures == 0 ? 0 : 1;
}
