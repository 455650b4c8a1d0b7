// The C++ views example of docs/bindings.md, built and run as a test.
#include <vicreg.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main()
{
    const std::size_t n = 8, d = 4, views = 5; // 2 global and 3 local crops
    std::vector<std::vector<float>> z(views, std::vector<float>(n * d)), grad;
    for (std::size_t v = 0; v < views; ++v)
        for (std::size_t k = 0; k < n * d; ++k)
            z[v][k] = std::sin(0.7f * k + 0.1f * v);

    vicreg::Context ctx;
    ctx.set_param(vicreg::Param::global_views, 2);
    const double loss = ctx.views_loss(d, z, grad); // grad[v]: dL/dZ_v
    std::printf("loss %.6f, invariance %.6f, min std of view 4: %.4f\n", loss,
                ctx.term(vicreg::Term::invariance),
                ctx.view_term(vicreg::ViewTerm::min_std, 4));

    // Two views are the two-batch call, bit for bit.
    std::vector<std::vector<float>> two(z.begin(), z.begin() + 2), g2;
    std::vector<float> ga, gb;
    return ctx.views_loss(d, two, g2) == ctx.loss(d, z[0], z[1], ga, gb) ? 0 : 1;
}
