// The C++ example of the README, built and run as a test.
#include <vicreg.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main()
{
    const std::size_t n = 8, d = 4; // 8 samples of 4 features, row-major
    std::vector<float> za(n * d), zb(n * d), ga, gb;
    for (std::size_t k = 0; k < n * d; ++k) {
        za[k] = std::sin(0.7f * k);
        zb[k] = std::sin(0.7f * k + 0.1f);
    }

    vicreg::Context ctx; // freed when it goes out of scope
    ctx.set_param(vicreg::Param::covariance_coeff, 0.5);
    const double loss = ctx.loss(d, za, zb, ga, gb); // ga, gb: dL/dZa, dL/dZb
    std::printf("loss %.6f, invariance %.6f\n", loss, ctx.term(vicreg::Term::invariance));

    try {
        ctx.set_param(vicreg::Param::epsilon, 0.0); // eps must be > 0
    } catch (const vicreg::Error &e) {
        std::printf("%s (status %d)\n", e.what(), e.status());
        return e.status() == VICREG_ERR_OUT_OF_RANGE ? 0 : 1;
    }
    return 1;
}
