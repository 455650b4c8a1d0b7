/*
 * test-hpp.cpp - vicreg.hpp, the C++17 header, against the C API it wraps
 * and against the plain double reference of the tests (reference.c).
 *
 * Built with -Wall -Wextra -Werror -pedantic -std=c++17. It checks that
 * every overload gives what the C function gives (bit for bit: it is the
 * same call) and what the reference gives (1e-10 in double, 1e-4 in float,
 * the tolerances of tests/test-vectors.c), that every failing call throws
 * vicreg::Error with the C status and writes nothing, and that Context
 * owns its vicreg_ctx: moves hand it over, destruction frees it (the
 * valgrind setup of `meson test` runs this program with leak checking).
 * The views calls (1.2) are checked the same way against ref_views().
 */
#include <vicreg.hpp>

extern "C" {
#include "reference.h"
}

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace {

int failures = 0;
int checks = 0;

void check(bool ok, const std::string &what)
{
    ++checks;
    if (!ok) {
        std::fprintf(stderr, "FAIL: %s\n", what.c_str());
        ++failures;
    }
}

/* Runs f, which must throw vicreg::Error with the given status. */
template <class F> void expect_error(int status, const std::string &what, F f)
{
    try {
        f();
        check(false, what + ": no exception, expected " + vicreg_status_name(status));
    } catch (const vicreg::Error &e) {
        check(e.status() == status, what + ": status " + e.name() + ", expected "
                                        + vicreg_status_name(status));
        check(std::strcmp(e.name(), vicreg_status_name(status)) == 0, what + ": name()");
        check(std::string(e.what()).find(vicreg_strerror(status)) != std::string::npos,
              what + ": what() has the description: " + e.what());
    }
}

/* splitmix64, so every run sees the same data. */
struct Rng {
    std::uint64_t state;
    double uniform()
    {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        return static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0;
    }
};

/* A correlated pair of n x d batches, packed, columns of different scales,
 * every value a float so the float and double calls see the same input. */
void make_batches(std::uint64_t seed, std::size_t n, std::size_t d, std::vector<double> &za,
                  std::vector<double> &zb)
{
    Rng rng{ seed };
    std::vector<double> scale(d);
    for (auto &s : scale)
        s = 1.1 + 0.9 * rng.uniform();
    za.assign(n * d, 0.0);
    zb.assign(n * d, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const double shared = rng.uniform();
        for (std::size_t j = 0; j < d; ++j) {
            const double v = scale[j] * (rng.uniform() + 0.5 * shared);
            za[i * d + j] = static_cast<float>(v);
            zb[i * d + j] = static_cast<float>(v + 0.3 * rng.uniform());
        }
    }
}

double rel(double got, double want)
{
    return std::fabs(got - want) / std::fmax(std::fabs(want), 1e-300);
}

/* Normwise relative error of n x d arrays (got with leading dimension ld). */
template <class T>
double rel_err(std::size_t n, std::size_t d, const T *got, std::size_t ld, const double *want)
{
    double err = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) {
            const double g = static_cast<double>(got[i * ld + j]);
            if (!std::isfinite(g))
                return INFINITY;
            err = std::fmax(err, std::fabs(g - want[i * d + j]));
            scale = std::fmax(scale, std::fabs(want[i * d + j]));
        }
    return err / std::fmax(scale, 1e-300);
}

template <class T> std::vector<T> spread(const std::vector<double> &m, std::size_t n,
                                         std::size_t d, std::size_t ld, double pad)
{
    std::vector<T> out(n * ld, static_cast<T>(pad));
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j)
            out[i * ld + j] = static_cast<T>(m[i * d + j]);
    return out;
}

/* The C function of each precision, for the comparison with the wrapper. */
int c_loss(vicreg_ctx *c, std::size_t n, std::size_t d, const float *a, std::size_t lda,
           const float *b, std::size_t ldb, double *loss, float *ga, std::size_t ldga,
           float *gb, std::size_t ldgb)
{
    return vicreg_loss_f32(c, n, d, a, lda, b, ldb, loss, ga, ldga, gb, ldgb);
}

int c_loss(vicreg_ctx *c, std::size_t n, std::size_t d, const double *a, std::size_t lda,
           const double *b, std::size_t ldb, double *loss, double *ga, std::size_t ldga,
           double *gb, std::size_t ldgb)
{
    return vicreg_loss_f64(c, n, d, a, lda, b, ldb, loss, ga, ldga, gb, ldgb);
}

const double sentinel = -7777.25;

/* The pointer overload on one shape, layout and convention: the same bits
 * as the C call, the values of the reference, padding left alone. */
template <class T> void values_case(std::size_t n, std::size_t d, bool padded, bool paper)
{
    const double tol = std::is_same<T, float>::value ? 1e-4 : 1e-10;
    const std::string what = std::string(std::is_same<T, float>::value ? "float" : "double")
                             + " n=" + std::to_string(n) + " d=" + std::to_string(d)
                             + (padded ? " padded" : " packed") + (paper ? " paper" : " reference");
    const std::size_t lda = padded ? d + 1 : d, ldb = padded ? d + 3 : d;
    const std::size_t ldga = padded ? d + 2 : d, ldgb = padded ? d + 5 : d;
    std::vector<double> a, b;
    make_batches(100 + n * 31 + d, n, d, a, b);
    const std::vector<T> za = spread<T>(a, n, d, lda, NAN), zb = spread<T>(b, n, d, ldb, NAN);
    std::vector<T> ga(n * ldga, static_cast<T>(sentinel)), gb(n * ldgb, static_cast<T>(sentinel));
    std::vector<T> ca(ga), cb(gb);

    vicreg::Context ctx;
    if (paper)
        ctx.set_convention(vicreg::Convention::paper);
    ctx.set_param(vicreg::Param::std_target, 0.9);
    const double loss = ctx.loss(n, d, za.data(), lda, zb.data(), ldb, ga.data(), ldga,
                                 gb.data(), ldgb);

    vicreg_ctx *raw = nullptr;
    check(vicreg_ctx_create(&raw) == VICREG_OK, what + ": vicreg_ctx_create");
    vicreg_ctx_set_param(raw, VICREG_PARAM_CONVENTION, paper ? 1.0 : 0.0);
    vicreg_ctx_set_param(raw, VICREG_PARAM_STD_TARGET, 0.9);
    double want_loss = NAN;
    check(c_loss(raw, n, d, za.data(), lda, zb.data(), ldb, &want_loss, ca.data(), ldga,
                 cb.data(), ldgb) == VICREG_OK,
          what + ": C call");
    check(loss == want_loss, what + ": loss equals the C call's");
    check(ga == ca && gb == cb, what + ": gradients (and padding) equal the C call's");
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = d; j < ldga; ++j)
            check(ga[i * ldga + j] == static_cast<T>(sentinel), what + ": grad_a padding kept");
        for (std::size_t j = d; j < ldgb; ++j)
            check(gb[i * ldgb + j] == static_cast<T>(sentinel), what + ": grad_b padding kept");
    }
    vicreg_ctx_destroy(raw);

    ref_params p = ref_default_params();
    p.paper = paper ? 1 : 0;
    p.gamma = 0.9;
    ref_result r;
    std::vector<double> ra(n * d), rb(n * d);
    ref_vicreg(&p, n, d, a.data(), b.data(), &r, ra.data(), rb.data());
    check(rel(loss, r.loss) <= tol, what + ": loss vs reference");
    check(rel(ctx.term(vicreg::Term::invariance), r.invariance) <= tol, what + ": invariance");
    check(rel(ctx.term(vicreg::Term::variance_a), r.variance[0]) <= tol, what + ": variance_a");
    check(rel(ctx.term(vicreg::Term::variance_b), r.variance[1]) <= tol, what + ": variance_b");
    check(rel(ctx.term(vicreg::Term::covariance_a), r.covariance[0]) <= tol,
          what + ": covariance_a");
    check(rel(ctx.term(vicreg::Term::covariance_b), r.covariance[1]) <= tol,
          what + ": covariance_b");
    check(rel(ctx.term(vicreg::Term::effective_rank_a), r.effective_rank[0]) <= tol,
          what + ": effective_rank_a");
    check(rel(ctx.term(vicreg::Term::min_std_b), r.min_std[1]) <= tol, what + ": min_std_b");
    check(rel_err(n, d, ga.data(), ldga, ra.data()) <= tol, what + ": grad_a vs reference");
    check(rel_err(n, d, gb.data(), ldgb, rb.data()) <= tol, what + ": grad_b vs reference");
    const double used = ctx.term(vicreg::Term::path_used);
    check(used == (n >= d ? VICREG_PATH_COVARIANCE : VICREG_PATH_GRAM), what + ": automatic path");
}

void test_values()
{
    const std::size_t shapes[][2] = { { 12, 5 }, { 4, 9 }, { 2, 1 } };
    for (const auto &s : shapes)
        for (int padded = 0; padded <= 1; ++padded)
            for (int paper = 0; paper <= 1; ++paper) {
                values_case<float>(s[0], s[1], padded != 0, paper != 0);
                values_case<double>(s[0], s[1], padded != 0, paper != 0);
            }
}

/* The std::vector overloads: the same as the pointer overload on packed
 * batches; sizes checked before the call. */
void test_vectors()
{
    const std::size_t n = 7, d = 3;
    std::vector<double> a, b;
    make_batches(5, n, d, a, b);
    std::vector<float> fa(a.begin(), a.end()), fb(b.begin(), b.end());
    vicreg::Context ctx;
    std::vector<float> ga, gb, pa(n * d), pb(n * d);
    const double loss = ctx.loss(d, fa, fb, ga, gb);
    check(ga.size() == n * d && gb.size() == n * d, "vector overload resizes the gradients");
    const double want = ctx.loss(n, d, fa.data(), d, fb.data(), d, pa.data(), d, pb.data(), d);
    check(loss == want && ga == pa && gb == pb, "vector overload == pointer overload (float)");
    check(ctx.loss(d, a, b) == ctx.loss(n, d, a.data(), d, b.data(), d),
          "vector overload == pointer overload (double)");

    std::vector<double> short_b(b.begin(), b.end() - static_cast<std::ptrdiff_t>(d));
    std::vector<double> gx(5, sentinel), gy(5, sentinel);
    expect_error(VICREG_ERR_BAD_SHAPE, "vector sizes differ", [&] { ctx.loss(d, a, short_b); });
    expect_error(VICREG_ERR_BAD_SHAPE, "vector d = 0", [&] { ctx.loss(0, a, b); });
    expect_error(VICREG_ERR_BAD_SHAPE, "vector size not a multiple of d",
                 [&] { ctx.loss(4, a, b, gx, gy); });
    check(gx.size() == 5 && gy.size() == 5 && gx[0] == sentinel, "gradients untouched on error");
}

void test_params()
{
    vicreg::Context ctx;
    check(ctx.param(vicreg::Param::invariance_coeff) == 25.0, "default lambda");
    check(ctx.param(vicreg::Param::variance_coeff) == 25.0, "default mu");
    check(ctx.param(vicreg::Param::covariance_coeff) == 1.0, "default nu");
    check(ctx.param(vicreg::Param::std_target) == 1.0, "default gamma");
    check(ctx.param(vicreg::Param::epsilon) == 1e-4, "default eps");
    check(ctx.param(vicreg::Param::convention) == 0.0, "default convention");
    check(ctx.param(vicreg::Param::path) == 0.0, "default path");
    check(ctx.param(vicreg::Param::grad_scale) == 1.0, "default grad_scale");
    ctx.set_param(vicreg::Param::covariance_coeff, 0.04);
    check(ctx.param(vicreg::Param::covariance_coeff) == 0.04, "set/get nu");
    ctx.set_path(vicreg::Path::gram);
    check(ctx.param(vicreg::Param::path) == VICREG_PATH_GRAM, "set_path");
    ctx.set_convention(vicreg::Convention::paper);
    check(ctx.param(vicreg::Param::convention) == VICREG_CONVENTION_PAPER, "set_convention");
    const auto eps = vicreg::param_bounds(vicreg::Param::epsilon);
    check(eps.first == std::numeric_limits<double>::min() && eps.second == 1e9, "eps bounds");
    const auto scale = vicreg::param_bounds(vicreg::Param::grad_scale);
    check(scale.first == 0.0 && scale.second == 1e9, "grad_scale bounds");
    check(vicreg::version_number() == vicreg_version_number()
              && vicreg::version_number() / 10000 == VICREG_VERSION_MAJOR,
          "version_number");
    check(std::strcmp(vicreg::version_string(), vicreg_version_string()) == 0, "version_string");
}

/* Every status through the wrapper: the exception carries it, nothing the
 * caller owns is written, and the context still works afterwards. */
void test_errors()
{
    const std::size_t n = 6, d = 4;
    std::vector<double> za, zb;
    make_batches(9, n, d, za, zb);
    std::vector<double> ga(n * d, sentinel), gb(n * d, sentinel);
    vicreg::Context ctx;

    expect_error(VICREG_ERR_NO_RESULT, "term before any call",
                 [&] { ctx.term(vicreg::Term::loss); });
    const double loss = ctx.loss(n, d, za.data(), d, zb.data(), d);

    const auto bad_param = static_cast<vicreg::Param>(999);
    expect_error(VICREG_ERR_INVALID_ARGUMENT, "unknown parameter (set)",
                 [&] { ctx.set_param(bad_param, 1.0); });
    expect_error(VICREG_ERR_INVALID_ARGUMENT, "unknown parameter (get)",
                 [&] { ctx.param(bad_param); });
    expect_error(VICREG_ERR_INVALID_ARGUMENT, "unknown parameter (bounds)",
                 [&] { vicreg::param_bounds(bad_param); });
    expect_error(VICREG_ERR_INVALID_ARGUMENT, "unknown term",
                 [&] { ctx.term(static_cast<vicreg::Term>(999)); });
    expect_error(VICREG_ERR_INVALID_ARGUMENT, "null za", [&] {
        ctx.loss(n, d, static_cast<const double *>(nullptr), d, zb.data(), d, ga.data(), d);
    });
    expect_error(VICREG_ERR_OUT_OF_RANGE, "eps = 0",
                 [&] { ctx.set_param(vicreg::Param::epsilon, 0.0); });
    check(ctx.param(vicreg::Param::epsilon) == 1e-4, "eps kept after OUT_OF_RANGE");
    expect_error(VICREG_ERR_OUT_OF_RANGE, "convention 2",
                 [&] { ctx.set_param(vicreg::Param::convention, 2.0); });

    std::vector<double> bad(za);
    bad[5] = NAN;
    expect_error(VICREG_ERR_NON_FINITE, "NaN in za", [&] {
        ctx.loss(n, d, bad.data(), d, zb.data(), d, ga.data(), d, gb.data(), d);
    });
    std::vector<float> fbad(bad.begin(), bad.end()), fzb(zb.begin(), zb.end());
    fbad[5] = INFINITY;
    expect_error(VICREG_ERR_NON_FINITE, "Inf in float za",
                 [&] { ctx.loss(n, d, fbad.data(), d, fzb.data(), d); });

    expect_error(VICREG_ERR_BAD_SHAPE, "n = 1",
                 [&] { ctx.loss(1, d, za.data(), d, zb.data(), d, ga.data(), d); });
    expect_error(VICREG_ERR_BAD_SHAPE, "lda < d",
                 [&] { ctx.loss(n, d, za.data(), d - 1, zb.data(), d); });
    expect_error(VICREG_ERR_BAD_SHAPE, "loss_rows past the end", [&] {
        ctx.loss_rows(n, d, za.data(), d, zb.data(), d, n - 1, 2, ga.data(), d, nullptr, 0);
    });
    expect_error(VICREG_ERR_BAD_SHAPE, "shard_sizes(0)", [&] { vicreg::shard_sizes(0); });
    expect_error(VICREG_ERR_SIZE_OVERFLOW, "n * ld wraps", [&] {
        ctx.loss(std::numeric_limits<std::size_t>::max() / 2, d, za.data(), d, zb.data(), d);
    });
    expect_error(VICREG_ERR_SIZE_OVERFLOW, "scratch of a huge shape", [&] {
        ctx.scratch_bytes(std::numeric_limits<std::size_t>::max() / 2, d, vicreg::Precision::f64);
    });
    std::vector<double> alias(za);
    expect_error(VICREG_ERR_OVERLAP, "grad_a on za", [&] {
        ctx.loss(n, d, alias.data(), d, zb.data(), d, alias.data(), d, gb.data(), d);
    });
    check(alias == za, "the overlapping buffer was not written");
    std::vector<double> huge(za);
    for (auto &v : huge)
        v *= 1e200;
    expect_error(VICREG_ERR_OVERFLOW, "values near the double limit", [&] {
        ctx.loss(n, d, huge.data(), d, zb.data(), d, ga.data(), d, gb.data(), d);
    });
    // 2^25 columns on the covariance path: an 8 PiB d x d matrix, which no
    // allocation can give, though every size fits its type.
    ctx.set_path(vicreg::Path::covariance);
    expect_error(VICREG_ERR_NO_MEMORY, "reserve 8 PiB",
                 [&] { ctx.reserve(2, std::size_t{ 1 } << 25, vicreg::Precision::f64); });

    bool untouched = true;
    for (std::size_t k = 0; k < n * d; ++k)
        untouched = untouched && ga[k] == sentinel && gb[k] == sentinel;
    check(untouched, "no gradient written by a failed call");
    check(ctx.term(vicreg::Term::loss) == loss, "terms of the last success kept");
    check(ctx.loss(n, d, za.data(), d, zb.data(), d) == loss, "context usable after errors");

    try {
        ctx.set_param(vicreg::Param::std_target, -1.0);
    } catch (const std::runtime_error &e) { // Error is a std::runtime_error
        check(std::string(e.what()).rfind("vicreg_ctx_set_param: ", 0) == 0,
              std::string("what() starts with the function: ") + e.what());
    }
}

void test_moves()
{
    static_assert(!std::is_copy_constructible<vicreg::Context>::value, "not copyable");
    static_assert(!std::is_copy_assignable<vicreg::Context>::value, "not copy-assignable");
    static_assert(std::is_nothrow_move_constructible<vicreg::Context>::value, "noexcept move");
    static_assert(std::is_nothrow_move_assignable<vicreg::Context>::value, "noexcept move =");
    static_assert(std::is_base_of<std::runtime_error, vicreg::Error>::value, "runtime_error");

    const std::size_t n = 8, d = 3;
    std::vector<double> za, zb;
    make_batches(21, n, d, za, zb);

    vicreg::Context a;
    a.set_param(vicreg::Param::invariance_coeff, 2.0);
    const double la = a.loss(n, d, za.data(), d, zb.data(), d);
    vicreg_ctx *const raw = a.get();
    vicreg::Context b(std::move(a));
    check(b.get() == raw && a.get() == nullptr, "move construction hands the context over");
    check(b.param(vicreg::Param::invariance_coeff) == 2.0 && b.term(vicreg::Term::loss) == la,
          "the moved context keeps its parameters and terms");
    expect_error(VICREG_ERR_INVALID_ARGUMENT, "loss on a moved-from context",
                 [&] { a.loss(n, d, za.data(), d, zb.data(), d); });
    expect_error(VICREG_ERR_INVALID_ARGUMENT, "param of a moved-from context",
                 [&] { a.param(vicreg::Param::epsilon); });

    // Assignment over a live context frees the old one (valgrind would
    // report it lost otherwise) and takes the other.
    vicreg::Context c;
    c.reserve(64, 16, vicreg::Precision::f64);
    c = std::move(b);
    check(c.get() == raw && b.get() == nullptr, "move assignment hands the context over");
    a = vicreg::Context();
    check(a.get() != nullptr && a.param(vicreg::Param::invariance_coeff) == 25.0,
          "a moved-from context is usable again after assignment");
    vicreg::Context &alias = c;
    c = std::move(alias);
    check(c.get() == raw, "self-move-assignment keeps the context");

    // Contexts in a growing vector are moved, not copied; each keeps its
    // own parameters.
    std::vector<vicreg::Context> many;
    for (int k = 0; k < 20; ++k) {
        many.emplace_back();
        many.back().set_param(vicreg::Param::covariance_coeff, k);
        many.back().loss(n, d, za.data(), d, zb.data(), d);
    }
    bool own = true;
    for (int k = 0; k < 20; ++k)
        own = own && many[static_cast<std::size_t>(k)].param(vicreg::Param::covariance_coeff) == k;
    check(own, "contexts moved by a vector keep their parameters");
}

/* 1.1: the sharded phases and loss_rows against one whole-batch call, at
 * the tolerances of the C tests; the gradient scale. */
void test_shards()
{
    const std::size_t n = 11, d = 4, cut = 5;
    std::vector<double> za, zb;
    make_batches(33, n, d, za, zb);
    vicreg::Context whole;
    std::vector<double> ga(n * d), gb(n * d);
    const double want = whole.loss(n, d, za.data(), d, zb.data(), d, ga.data(), d, gb.data(), d);

    const auto sizes = vicreg::shard_sizes(d);
    check(sizes.first == 2 + 2 * d && sizes.second == d * (d + 1), "shard_sizes");
    std::vector<double> sums(sizes.first, 0.0), scatter(sizes.second, 0.0);
    const std::size_t row0[2] = { 0, cut }, rows[2] = { cut, n - cut };
    vicreg::Context ctx;
    for (int s = 0; s < 2; ++s)
        ctx.shard_sums(rows[s], d, za.data() + row0[s] * d, d, zb.data() + row0[s] * d, d,
                       sums.data());
    for (int s = 0; s < 2; ++s)
        ctx.shard_scatter(rows[s], d, za.data() + row0[s] * d, d, zb.data() + row0[s] * d, d,
                          sums.data(), scatter.data());
    std::vector<double> sa(n * d);
    for (int s = 0; s < 2; ++s) {
        const double loss =
            ctx.shard_finish(rows[s], d, za.data() + row0[s] * d, d, zb.data() + row0[s] * d, d,
                             sums.data(), scatter.data(), sa.data() + row0[s] * d, d);
        check(rel(loss, want) < 1e-12, "shard loss == whole loss");
    }
    check(rel_err(n, d, sa.data(), d, ga.data()) < 1e-12, "shard gradients == whole gradients");

    std::vector<double> part(2 * d);
    const double lr = ctx.loss_rows(n, d, za.data(), d, zb.data(), d, 3, 2, part.data(), d,
                                    nullptr, 0);
    check(rel(lr, want) < 1e-12, "loss_rows loss");
    check(rel_err(2, d, part.data(), d, ga.data() + 3 * d) < 1e-12, "loss_rows gradient rows");

    std::vector<float> fa(za.begin(), za.end()), fb(zb.begin(), zb.end()), g1(n * d), g4(n * d);
    vicreg::Context scaled;
    scaled.loss(n, d, fa.data(), d, fb.data(), d, g1.data(), d);
    scaled.set_param(vicreg::Param::grad_scale, 4.0);
    scaled.loss(n, d, fa.data(), d, fb.data(), d, g4.data(), d);
    bool exact = true;
    for (std::size_t k = 0; k < n * d; ++k)
        exact = exact && g4[k] == 4.0f * g1[k];
    check(exact, "grad_scale 4 scales the float gradients exactly");
}

/* `count` correlated packed views of n x d (float numbers, as make_batches
 * makes them): view 0 the first batch of a pair, each other view the second
 * batch of a pair with its own seed. */
std::vector<std::vector<double>> make_views(std::uint64_t seed, std::size_t count, std::size_t n,
                                            std::size_t d)
{
    std::vector<std::vector<double>> views(count);
    std::vector<double> base, other;
    make_batches(seed, n, d, base, other);
    for (std::size_t v = 0; v < count; ++v) {
        std::vector<double> a, b;
        make_batches(seed + 1 + v, n, d, a, b);
        views[v].resize(n * d);
        for (std::size_t k = 0; k < n * d; ++k)
            views[v][k] = static_cast<float>(0.5 * base[k] + b[k]);
    }
    return views;
}

/* 1.2, the views: the pointer overload on one case against the C call
 * (bits) and ref_views() (1e-10 in double, 1e-4 in float), with padded
 * layouts; the per-view terms. */
template <class T> void views_case(std::size_t count, int g, std::size_t n, std::size_t d,
                                   bool paper)
{
    const double tol = std::is_same<T, float>::value ? 1e-4 : 1e-10;
    const std::string what = std::string(std::is_same<T, float>::value ? "float" : "double")
                             + " views V=" + std::to_string(count) + " G=" + std::to_string(g)
                             + " n=" + std::to_string(n) + " d=" + std::to_string(d)
                             + (paper ? " paper" : " reference");
    const auto m = make_views(200 + count * 7 + static_cast<std::size_t>(g), count, n, d);
    std::vector<std::vector<T>> z(count), grad(count), cgrad(count);
    std::vector<const T *> zp(count);
    std::vector<T *> gp(count), cgp(count);
    std::vector<std::size_t> ldz(count), ldg(count);
    for (std::size_t v = 0; v < count; ++v) {
        ldz[v] = d + v % 3;
        ldg[v] = d + (v + 1) % 3;
        z[v] = spread<T>(m[v], n, d, ldz[v], NAN);
        grad[v].assign(n * ldg[v], static_cast<T>(sentinel));
        cgrad[v] = grad[v];
        zp[v] = z[v].data();
        gp[v] = grad[v].data();
        cgp[v] = cgrad[v].data();
    }
    vicreg::Context ctx;
    ctx.set_param(vicreg::Param::global_views, g);
    if (paper)
        ctx.set_convention(vicreg::Convention::paper);
    const double loss = ctx.views_loss(count, n, d, zp.data(), ldz.data(), gp.data(), ldg.data());

    vicreg_ctx *raw = nullptr;
    check(vicreg_ctx_create(&raw) == VICREG_OK, what + ": vicreg_ctx_create");
    vicreg_ctx_set_param(raw, VICREG_PARAM_GLOBAL_VIEWS, g);
    vicreg_ctx_set_param(raw, VICREG_PARAM_CONVENTION, paper ? 1.0 : 0.0);
    double want_loss = NAN;
    int status;
    if constexpr (std::is_same<T, float>::value)
        status = vicreg_views_loss_f32(raw, count, n, d, zp.data(), ldz.data(), &want_loss,
                                       cgp.data(), ldg.data());
    else
        status = vicreg_views_loss_f64(raw, count, n, d, zp.data(), ldz.data(), &want_loss,
                                       cgp.data(), ldg.data());
    check(status == VICREG_OK, what + ": C call");
    vicreg_ctx_destroy(raw);
    check(loss == want_loss && grad == cgrad, what + ": loss and gradients equal the C call's");

    ref_params p = ref_default_params();
    p.paper = paper ? 1 : 0;
    static ref_views_result r;
    std::vector<std::vector<double>> rg(count, std::vector<double>(n * d));
    std::vector<const double *> rz(count);
    std::vector<double *> rgp(count);
    for (std::size_t v = 0; v < count; ++v) {
        rz[v] = m[v].data();
        rgp[v] = rg[v].data();
    }
    ref_views(&p, g, count, n, d, rz.data(), &r, rgp.data());
    check(rel(loss, r.loss) <= tol, what + ": loss vs reference");
    const double inv = ctx.term(vicreg::Term::invariance);
    check(count == 1 ? inv == 0.0 : rel(inv, r.invariance) <= tol, what + ": invariance");
    for (std::size_t v = 0; v < count; ++v) {
        const std::string view = what + " view " + std::to_string(v);
        check(std::fabs(ctx.view_term(vicreg::ViewTerm::variance, v) - r.variance[v]) <= tol,
              view + ": variance");
        check(rel(ctx.view_term(vicreg::ViewTerm::covariance, v), r.covariance[v]) <= tol,
              view + ": covariance");
        check(rel(ctx.view_term(vicreg::ViewTerm::min_std, v), r.min_std[v]) <= tol,
              view + ": min_std");
        check(rel(ctx.view_term(vicreg::ViewTerm::mean_std, v), r.mean_std[v]) <= tol,
              view + ": mean_std");
        // A column std within float rounding of gamma may count either way
        // in float: one column of d.
        check(std::fabs(ctx.view_term(vicreg::ViewTerm::collapsed_fraction, v)
                        - r.collapsed_fraction[v])
                  <= (std::is_same<T, float>::value ? 1.0 / static_cast<double>(d) : 0.0),
              view + ": collapsed_fraction");
        check(rel(ctx.view_term(vicreg::ViewTerm::effective_rank, v), r.effective_rank[v]) <= tol,
              view + ": effective_rank");
        check(rel_err(n, d, grad[v].data(), ldg[v], rg[v].data()) <= tol, view + ": gradient");
        bool kept = true;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = d; j < ldg[v]; ++j)
                kept = kept && grad[v][i * ldg[v] + j] == static_cast<T>(sentinel);
        check(kept, view + ": gradient padding kept");
    }
    expect_error(VICREG_ERR_NO_RESULT, what + ": view term past the view count",
                 [&] { ctx.view_term(vicreg::ViewTerm::variance, count); });
}

void test_views()
{
    const std::size_t cases[][4] = { { 1, 0, 9, 4 }, { 2, 1, 7, 5 }, { 3, 0, 5, 8 },
                                     { 4, 2, 12, 6 }, { 6, 2, 8, 3 } };
    for (const auto &c : cases)
        for (int paper = 0; paper <= 1; ++paper) {
            views_case<float>(c[0], static_cast<int>(c[1]), c[2], c[3], paper != 0);
            views_case<double>(c[0], static_cast<int>(c[1]), c[2], c[3], paper != 0);
        }

    // The vector overloads are the pointer overload on packed views.
    const std::size_t n = 10, d = 4;
    const auto m = make_views(3, 3, n, d);
    std::vector<std::vector<float>> zf;
    for (const auto &v : m)
        zf.emplace_back(v.begin(), v.end());
    vicreg::Context ctx;
    ctx.set_param(vicreg::Param::global_views, 1);
    check(ctx.param(vicreg::Param::global_views) == 1.0, "set/get global_views");
    std::vector<std::vector<float>> gf;
    const double loss = ctx.views_loss(d, zf, gf);
    check(gf.size() == 3 && gf[2].size() == n * d, "views vector overload sizes the gradients");
    std::vector<std::vector<float>> pg(3, std::vector<float>(n * d));
    const float *zp[3] = { zf[0].data(), zf[1].data(), zf[2].data() };
    float *gp[3] = { pg[0].data(), pg[1].data(), pg[2].data() };
    check(ctx.views_loss(3, n, d, zp, nullptr, gp) == loss && pg == gf,
          "views vector overload == pointer overload");
    check(ctx.views_loss(d, m) == ctx.views_loss(d, std::vector<std::vector<double>>(m)),
          "views vector overload without gradients (double)");

    // Two views are the two-batch call, bit for bit, whatever G.
    for (int g = 0; g <= 2; ++g) {
        ctx.set_param(vicreg::Param::global_views, g);
        std::vector<float> ga, gb;
        const double pair = ctx.loss(d, zf[0], zf[1], ga, gb);
        const double rank_b = ctx.view_term(vicreg::ViewTerm::effective_rank, 1);
        check(rank_b == ctx.term(vicreg::Term::effective_rank_b),
              "after a two-batch call view 1 is branch b");
        std::vector<std::vector<float>> two(zf.begin(), zf.begin() + 2), g2;
        check(ctx.views_loss(d, two, g2) == pair && g2[0] == ga && g2[1] == gb,
              "two views == the two-batch call, G = " + std::to_string(g));
        check(ctx.term(vicreg::Term::effective_rank_b) == rank_b, "the same terms");
    }
    ctx.set_param(vicreg::Param::global_views, 1);

    // The rows variant: the same loss, the rows of the whole gradients.
    std::vector<std::vector<float>> rows(3, std::vector<float>(2 * d));
    float *rp[3] = { rows[0].data(), rows[1].data(), rows[2].data() };
    check(ctx.views_loss_rows(3, n, d, zp, nullptr, 4, 2, rp) == loss, "views_loss_rows loss");
    bool same = true;
    for (std::size_t v = 0; v < 3; ++v)
        same = same && std::equal(rows[v].begin(), rows[v].end(), gf[v].begin() + 4 * d);
    check(same, "views_loss_rows gradient rows");

    // The sharded views phases against the whole batch (double).
    std::vector<double> zd[3] = { m[0], m[1], m[2] }, gd[3];
    const double *dp[3] = { zd[0].data(), zd[1].data(), zd[2].data() };
    double *gdp[3];
    for (int v = 0; v < 3; ++v) {
        gd[v].assign(n * d, 0.0);
        gdp[v] = gd[v].data();
    }
    const double whole = ctx.views_loss(3, n, d, dp, nullptr, gdp);
    const auto sizes = vicreg::shard_views_sizes(3, d);
    check(sizes.first == 2 + 3 * d && sizes.second == 3 * d * (d + 1) / 2, "shard_views_sizes");
    std::vector<double> sums(sizes.first, 0.0), scatter(sizes.second, 0.0);
    const std::size_t cut[3] = { 0, 3, n };
    auto shard = [&](int s, std::vector<const double *> &out) {
        for (int v = 0; v < 3; ++v)
            out[static_cast<std::size_t>(v)] = dp[v] + cut[s] * d;
    };
    std::vector<const double *> sp(3);
    for (int s = 0; s < 2; ++s) {
        shard(s, sp);
        ctx.shard_views_sums(3, cut[s + 1] - cut[s], d, sp.data(), nullptr, sums.data());
    }
    for (int s = 0; s < 2; ++s) {
        shard(s, sp);
        ctx.shard_views_scatter(3, cut[s + 1] - cut[s], d, sp.data(), nullptr, sums.data(),
                                scatter.data());
    }
    std::vector<double> sg[3];
    for (auto &g : sg)
        g.assign(n * d, 0.0);
    for (int s = 0; s < 2; ++s) {
        shard(s, sp);
        double *out[3] = { sg[0].data() + cut[s] * d, sg[1].data() + cut[s] * d,
                           sg[2].data() + cut[s] * d };
        const double l = ctx.shard_views_finish(3, cut[s + 1] - cut[s], d, sp.data(), nullptr,
                                                sums.data(), scatter.data(), out);
        check(rel(l, whole) < 1e-12, "shard views loss == whole loss");
    }
    for (int v = 0; v < 3; ++v)
        check(rel_err(n, d, sg[v].data(), d, gd[v].data()) < 1e-12,
              "shard views gradients == whole gradients");

    // Scratch query and reserve.
    const std::size_t small = ctx.views_scratch_bytes(2, 16, 8, vicreg::Precision::f64);
    const std::size_t big = ctx.views_scratch_bytes(6, 16, 8, vicreg::Precision::f64);
    check(0 < small && small <= big, "views_scratch_bytes grows with the views");
    ctx.views_reserve(6, 16, 8, vicreg::Precision::f64);

    // Errors: each throws with the C status and writes nothing.
    std::vector<std::vector<float>> keep(gf);
    expect_error(VICREG_ERR_BAD_SHAPE, "no views",
                 [&] { ctx.views_loss(d, std::vector<std::vector<float>>{}, gf); });
    expect_error(VICREG_ERR_BAD_SHAPE, "views of different sizes", [&] {
        std::vector<std::vector<float>> odd(zf);
        odd[1].resize(odd[1].size() - d);
        ctx.views_loss(d, odd, gf);
    });
    check(gf == keep, "gradients untouched by a refused vector call");
    expect_error(VICREG_ERR_BAD_SHAPE, "views = 0", [&] { ctx.views_loss(0, n, d, zp); });
    const std::vector<const float *> many(VICREG_MAX_VIEWS + 1, zp[0]);
    expect_error(VICREG_ERR_BAD_SHAPE, "more than VICREG_MAX_VIEWS views",
                 [&] { ctx.views_loss(many.size(), n, d, many.data()); });
    check(std::isfinite(ctx.views_loss(VICREG_MAX_VIEWS, n, d, many.data())),
          "VICREG_MAX_VIEWS views of one batch");
    ctx.set_param(vicreg::Param::global_views, 3);
    expect_error(VICREG_ERR_BAD_SHAPE, "G above the view count",
                 [&] { ctx.views_loss(2, n, d, zp); });
    expect_error(VICREG_ERR_OUT_OF_RANGE, "G = 1.5",
                 [&] { ctx.set_param(vicreg::Param::global_views, 1.5); });
    check(ctx.param(vicreg::Param::global_views) == 3.0, "G kept after OUT_OF_RANGE");
    const float *with_null[3] = { zp[0], nullptr, zp[2] };
    expect_error(VICREG_ERR_INVALID_ARGUMENT, "a null view",
                 [&] { ctx.views_loss(3, n, d, with_null); });
    std::vector<float> nan_view(zf[2]);
    nan_view[7] = NAN;
    const float *bad[3] = { zp[0], zp[1], nan_view.data() };
    expect_error(VICREG_ERR_NON_FINITE, "NaN in a view",
                 [&] { ctx.views_loss(3, n, d, bad, nullptr, gp); });
    std::vector<float> alias(zf[1]);
    const float *az[3] = { zp[0], alias.data(), zp[2] };
    float *ag[3] = { gp[0], alias.data(), nullptr };
    expect_error(VICREG_ERR_OVERLAP, "a gradient on a view",
                 [&] { ctx.views_loss(3, n, d, az, nullptr, ag); });
    check(alias == zf[1] && pg == gf, "nothing written by the failed views calls");
    expect_error(VICREG_ERR_BAD_SHAPE, "views_loss_rows past the end",
                 [&] { ctx.views_loss_rows(3, n, d, zp, nullptr, n - 1, 2, rp); });
    expect_error(VICREG_ERR_BAD_SHAPE, "shard_views_sizes(0, d)",
                 [&] { vicreg::shard_views_sizes(0, d); });
}

/* Contexts made and destroyed after allocating scratch: with the valgrind
 * setup a missing vicreg_ctx_destroy is a definite leak, a double one an
 * invalid free. */
void test_lifetimes()
{
    std::vector<double> za, zb;
    make_batches(41, 10, 6, za, zb);
    for (int k = 0; k < 50; ++k) {
        vicreg::Context ctx;
        ctx.loss(10, 6, za.data(), 6, zb.data(), 6);
    }
}

} // namespace

int main()
{
    test_values();
    test_vectors();
    test_params();
    test_errors();
    test_moves();
    test_shards();
    test_views();
    test_lifetimes();
    std::printf("test-hpp: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
