/*
 * vicreg.hpp - a C++17 face of libvicreg, header only, over vicreg.h.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 *
 * vicreg::Context owns a vicreg_ctx: created by the constructor, freed by
 * the destructor, movable and not copyable. Every call of the C library
 * that fails throws vicreg::Error, which carries the VICREG_ERR_* status;
 * there is no other exception type (std::bad_alloc aside, from building
 * the message). A moved-from Context holds no context: every call on it
 * throws vicreg::Error with VICREG_ERR_INVALID_ARGUMENT, and assigning a
 * Context to it makes it usable again.
 *
 * The calls take the arrays as the C functions do (pointer, row count,
 * column count, leading dimension; see vicreg.h for the layout and every
 * status), overloaded for float and double. The std::vector overloads take
 * packed batches (leading dimension = d), derive n from the size and check
 * the sizes before calling the library (VICREG_ERR_BAD_SHAPE). The views
 * calls (since 1.2.0) take an array of `views` pointers, as the C functions
 * do, or a std::vector of packed views.
 *
 * Link with -lvicreg (pkg-config vicreg); nothing else is needed.
 */
#ifndef VICREG_HPP
#define VICREG_HPP

#include <vicreg.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace vicreg {

/* A failed call: what() names the function, the description and the name
 * of the status; status() is the VICREG_ERR_* value. */
class Error : public std::runtime_error {
public:
    Error(int status, const char *function)
        : std::runtime_error(std::string(function) + ": " + vicreg_strerror(status) + " ("
                             + vicreg_status_name(status) + ")"),
          status_(status)
    {
    }

    int status() const noexcept { return status_; }

    /* "VICREG_ERR_NON_FINITE" and so on; never null. */
    const char *name() const noexcept { return vicreg_status_name(status_); }

private:
    int status_;
};

namespace detail {

inline void check(int status, const char *function)
{
    if (status != VICREG_OK)
        throw Error(status, function);
}

/* n for a packed batch of `size` values in d columns, after checking that
 * the sizes agree. */
inline std::size_t packed_rows(std::size_t d, std::size_t size_a, std::size_t size_b,
                               const char *function)
{
    if (d == 0 || size_a % d != 0 || size_b != size_a)
        throw Error(VICREG_ERR_BAD_SHAPE, function);
    return size_a / d;
}

/* n for packed views of d columns, after checking that there is at least
 * one view and that every view has the size of the first. */
template <class T>
std::size_t packed_views(std::size_t d, const std::vector<std::vector<T>> &z,
                         const char *function)
{
    if (z.empty())
        throw Error(VICREG_ERR_BAD_SHAPE, function);
    for (const auto &view : z)
        packed_rows(d, z[0].size(), view.size(), function);
    return z[0].size() / d;
}

} // namespace detail

enum class Param : int {
    invariance_coeff = VICREG_PARAM_INVARIANCE_COEFF,
    variance_coeff = VICREG_PARAM_VARIANCE_COEFF,
    covariance_coeff = VICREG_PARAM_COVARIANCE_COEFF,
    std_target = VICREG_PARAM_STD_TARGET,
    epsilon = VICREG_PARAM_EPSILON,
    convention = VICREG_PARAM_CONVENTION,
    path = VICREG_PARAM_PATH,
    grad_scale = VICREG_PARAM_GRAD_SCALE, /* since 1.1.0 */
    global_views = VICREG_PARAM_GLOBAL_VIEWS, /* since 1.2.0 */
    threads = VICREG_PARAM_THREADS            /* since 1.3.0 */
};

enum class Convention : int {
    reference = VICREG_CONVENTION_REFERENCE,
    paper = VICREG_CONVENTION_PAPER
};

enum class Path : int {
    automatic = VICREG_PATH_AUTO,
    covariance = VICREG_PATH_COVARIANCE,
    gram = VICREG_PATH_GRAM
};

enum class Precision : int {
    f32 = VICREG_PRECISION_F32,
    f64 = VICREG_PRECISION_F64
};

enum class Term : int {
    loss = VICREG_TERM_LOSS,
    invariance = VICREG_TERM_INVARIANCE,
    variance_a = VICREG_TERM_VARIANCE_A,
    variance_b = VICREG_TERM_VARIANCE_B,
    covariance_a = VICREG_TERM_COVARIANCE_A,
    covariance_b = VICREG_TERM_COVARIANCE_B,
    mean_std_a = VICREG_TERM_MEAN_STD_A,
    mean_std_b = VICREG_TERM_MEAN_STD_B,
    min_std_a = VICREG_TERM_MIN_STD_A,
    min_std_b = VICREG_TERM_MIN_STD_B,
    collapsed_fraction_a = VICREG_TERM_COLLAPSED_FRACTION_A,
    collapsed_fraction_b = VICREG_TERM_COLLAPSED_FRACTION_B,
    effective_rank_a = VICREG_TERM_EFFECTIVE_RANK_A,
    effective_rank_b = VICREG_TERM_EFFECTIVE_RANK_B,
    path_used = VICREG_TERM_PATH_USED
};

/* Per-view terms (Context::view_term, since 1.2.0). */
enum class ViewTerm : int {
    variance = VICREG_VIEW_TERM_VARIANCE,
    covariance = VICREG_VIEW_TERM_COVARIANCE,
    mean_std = VICREG_VIEW_TERM_MEAN_STD,
    min_std = VICREG_VIEW_TERM_MIN_STD,
    collapsed_fraction = VICREG_VIEW_TERM_COLLAPSED_FRACTION,
    effective_rank = VICREG_VIEW_TERM_EFFECTIVE_RANK
};

/* The running library's version (vicreg_version_number/_string). */
inline unsigned version_number() noexcept { return vicreg_version_number(); }
inline const char *version_string() noexcept { return vicreg_version_string(); }

/* The closed range of legal values of a parameter. */
inline std::pair<double, double> param_bounds(Param param)
{
    double lower = 0.0, upper = 0.0;
    detail::check(vicreg_param_bounds(static_cast<int>(param), &lower, &upper),
                  "vicreg_param_bounds");
    return { lower, upper };
}

/* The lengths in doubles of the sharded statistics buffers for d columns:
 * { 2 + 2 d, d (d + 1) }. Since 1.1.0. */
inline std::pair<std::size_t, std::size_t> shard_sizes(std::size_t d)
{
    std::size_t sums = 0, scatter = 0;
    detail::check(vicreg_shard_sizes(d, &sums, &scatter), "vicreg_shard_sizes");
    return { sums, scatter };
}

/* The lengths in doubles of the sharded views statistics buffers for
 * `views` views of d columns: { 2 + views d, views d (d + 1) / 2 }.
 * Since 1.2.0. */
inline std::pair<std::size_t, std::size_t> shard_views_sizes(std::size_t views, std::size_t d)
{
    std::size_t sums = 0, scatter = 0;
    detail::check(vicreg_shard_views_sizes(views, d, &sums, &scatter),
                  "vicreg_shard_views_sizes");
    return { sums, scatter };
}

class Context {
public:
    Context()
    {
        detail::check(vicreg_ctx_create(&ctx_), "vicreg_ctx_create");
    }

    ~Context() { vicreg_ctx_destroy(ctx_); }

    Context(const Context &) = delete;
    Context &operator=(const Context &) = delete;

    Context(Context &&other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

    Context &operator=(Context &&other) noexcept
    {
        if (this != &other) {
            vicreg_ctx_destroy(ctx_);
            ctx_ = std::exchange(other.ctx_, nullptr);
        }
        return *this;
    }

    /* The C context, for calls of vicreg.h; it stays owned by *this. Null
     * after a move. */
    vicreg_ctx *get() const noexcept { return ctx_; }

    /* ---- parameters ---------------------------------------------------- */

    void set_param(Param param, double value)
    {
        detail::check(vicreg_ctx_set_param(ctx_, static_cast<int>(param), value),
                      "vicreg_ctx_set_param");
    }

    double param(Param param) const
    {
        double value = 0.0;
        detail::check(vicreg_ctx_get_param(ctx_, static_cast<int>(param), &value),
                      "vicreg_ctx_get_param");
        return value;
    }

    void set_convention(Convention convention)
    {
        set_param(Param::convention, static_cast<double>(static_cast<int>(convention)));
    }

    void set_path(Path path)
    {
        set_param(Param::path, static_cast<double>(static_cast<int>(path)));
    }

    /* ---- terms and scratch --------------------------------------------- */

    /* A term of the last successful loss call. */
    double term(Term term) const
    {
        double value = 0.0;
        detail::check(vicreg_ctx_get_term(ctx_, static_cast<int>(term), &value),
                      "vicreg_ctx_get_term");
        return value;
    }

    std::size_t scratch_bytes(std::size_t n, std::size_t d, Precision precision) const
    {
        std::size_t bytes = 0;
        detail::check(vicreg_ctx_scratch_bytes(ctx_, n, d, static_cast<int>(precision), &bytes),
                      "vicreg_ctx_scratch_bytes");
        return bytes;
    }

    void reserve(std::size_t n, std::size_t d, Precision precision)
    {
        detail::check(vicreg_ctx_reserve(ctx_, n, d, static_cast<int>(precision)),
                      "vicreg_ctx_reserve");
    }

    /* ---- the loss ------------------------------------------------------ */

    /* vicreg_loss_f32 / _f64: the loss of za, zb (n x d, leading
     * dimensions lda, ldb), with dL/dZa into grad_a and dL/dZb into grad_b
     * unless they are null. */
    double loss(std::size_t n, std::size_t d, const float *za, std::size_t lda,
                const float *zb, std::size_t ldb, float *grad_a = nullptr,
                std::size_t ldga = 0, float *grad_b = nullptr, std::size_t ldgb = 0)
    {
        double value = 0.0;
        detail::check(vicreg_loss_f32(ctx_, n, d, za, lda, zb, ldb, &value, grad_a, ldga, grad_b,
                                      ldgb),
                      "vicreg_loss_f32");
        return value;
    }

    double loss(std::size_t n, std::size_t d, const double *za, std::size_t lda,
                const double *zb, std::size_t ldb, double *grad_a = nullptr,
                std::size_t ldga = 0, double *grad_b = nullptr, std::size_t ldgb = 0)
    {
        double value = 0.0;
        detail::check(vicreg_loss_f64(ctx_, n, d, za, lda, zb, ldb, &value, grad_a, ldga, grad_b,
                                      ldgb),
                      "vicreg_loss_f64");
        return value;
    }

    /* Packed batches of d columns, no gradient. */
    template <class T>
    double loss(std::size_t d, const std::vector<T> &za, const std::vector<T> &zb)
    {
        const std::size_t n = detail::packed_rows(d, za.size(), zb.size(), "vicreg::Context::loss");
        return loss(n, d, za.data(), d, zb.data(), d);
    }

    /* Packed batches of d columns; the gradients are resized to the
     * batches' size and filled. */
    template <class T>
    double loss(std::size_t d, const std::vector<T> &za, const std::vector<T> &zb,
                std::vector<T> &grad_a, std::vector<T> &grad_b)
    {
        const std::size_t n = detail::packed_rows(d, za.size(), zb.size(), "vicreg::Context::loss");
        grad_a.resize(za.size());
        grad_b.resize(zb.size());
        return loss(n, d, za.data(), d, zb.data(), d, grad_a.data(), d, grad_b.data(), d);
    }

    /* ---- since 1.1.0 --------------------------------------------------- */

    /* vicreg_loss_rows_f32 / _f64: the loss of the whole batch, the
     * gradient rows row0 .. row0 + rows - 1 only. */
    double loss_rows(std::size_t n, std::size_t d, const float *za, std::size_t lda,
                     const float *zb, std::size_t ldb, std::size_t row0, std::size_t rows,
                     float *grad_a, std::size_t ldga, float *grad_b, std::size_t ldgb)
    {
        double value = 0.0;
        detail::check(vicreg_loss_rows_f32(ctx_, n, d, za, lda, zb, ldb, row0, rows, &value,
                                           grad_a, ldga, grad_b, ldgb),
                      "vicreg_loss_rows_f32");
        return value;
    }

    double loss_rows(std::size_t n, std::size_t d, const double *za, std::size_t lda,
                     const double *zb, std::size_t ldb, std::size_t row0, std::size_t rows,
                     double *grad_a, std::size_t ldga, double *grad_b, std::size_t ldgb)
    {
        double value = 0.0;
        detail::check(vicreg_loss_rows_f64(ctx_, n, d, za, lda, zb, ldb, row0, rows, &value,
                                           grad_a, ldga, grad_b, ldgb),
                      "vicreg_loss_rows_f64");
        return value;
    }

    /* The three phases of a sharded batch (see vicreg.h): sums and scatter
     * are double buffers of shard_sizes(d) lengths, zeroed by the caller
     * before the first shard. */
    void shard_sums(std::size_t n, std::size_t d, const float *za, std::size_t lda,
                    const float *zb, std::size_t ldb, double *sums)
    {
        detail::check(vicreg_shard_sums_f32(ctx_, n, d, za, lda, zb, ldb, sums),
                      "vicreg_shard_sums_f32");
    }

    void shard_sums(std::size_t n, std::size_t d, const double *za, std::size_t lda,
                    const double *zb, std::size_t ldb, double *sums)
    {
        detail::check(vicreg_shard_sums_f64(ctx_, n, d, za, lda, zb, ldb, sums),
                      "vicreg_shard_sums_f64");
    }

    void shard_scatter(std::size_t n, std::size_t d, const float *za, std::size_t lda,
                       const float *zb, std::size_t ldb, const double *sums, double *scatter)
    {
        detail::check(vicreg_shard_scatter_f32(ctx_, n, d, za, lda, zb, ldb, sums, scatter),
                      "vicreg_shard_scatter_f32");
    }

    void shard_scatter(std::size_t n, std::size_t d, const double *za, std::size_t lda,
                       const double *zb, std::size_t ldb, const double *sums, double *scatter)
    {
        detail::check(vicreg_shard_scatter_f64(ctx_, n, d, za, lda, zb, ldb, sums, scatter),
                      "vicreg_shard_scatter_f64");
    }

    double shard_finish(std::size_t n, std::size_t d, const float *za, std::size_t lda,
                        const float *zb, std::size_t ldb, const double *sums,
                        const double *scatter, float *grad_a = nullptr, std::size_t ldga = 0,
                        float *grad_b = nullptr, std::size_t ldgb = 0)
    {
        double value = 0.0;
        detail::check(vicreg_shard_finish_f32(ctx_, n, d, za, lda, zb, ldb, sums, scatter,
                                              &value, grad_a, ldga, grad_b, ldgb),
                      "vicreg_shard_finish_f32");
        return value;
    }

    double shard_finish(std::size_t n, std::size_t d, const double *za, std::size_t lda,
                        const double *zb, std::size_t ldb, const double *sums,
                        const double *scatter, double *grad_a = nullptr, std::size_t ldga = 0,
                        double *grad_b = nullptr, std::size_t ldgb = 0)
    {
        double value = 0.0;
        detail::check(vicreg_shard_finish_f64(ctx_, n, d, za, lda, zb, ldb, sums, scatter,
                                              &value, grad_a, ldga, grad_b, ldgb),
                      "vicreg_shard_finish_f64");
        return value;
    }

    /* ---- since 1.2.0: any number of views ------------------------------ */

    /* A per-view term of the last successful loss call (after a two-batch
     * call, views 0 and 1 are branches A and B). */
    double view_term(ViewTerm term, std::size_t view) const
    {
        double value = 0.0;
        detail::check(vicreg_ctx_get_view_term(ctx_, static_cast<int>(term), view, &value),
                      "vicreg_ctx_get_view_term");
        return value;
    }

    std::size_t views_scratch_bytes(std::size_t views, std::size_t n, std::size_t d,
                                    Precision precision) const
    {
        std::size_t bytes = 0;
        detail::check(vicreg_ctx_views_scratch_bytes(ctx_, views, n, d,
                                                     static_cast<int>(precision), &bytes),
                      "vicreg_ctx_views_scratch_bytes");
        return bytes;
    }

    void views_reserve(std::size_t views, std::size_t n, std::size_t d, Precision precision)
    {
        detail::check(vicreg_ctx_views_reserve(ctx_, views, n, d, static_cast<int>(precision)),
                      "vicreg_ctx_views_reserve");
    }

    /* vicreg_views_loss_f32 / _f64: the loss of the views z[0] ..
     * z[views - 1] (each n x d, leading dimensions ldz[v], or d when ldz
     * is null), the first Param::global_views of them global, with dL/dZ_v
     * into grad[v] unless grad or grad[v] is null (leading dimensions
     * ldgrad[v], or d when ldgrad is null). */
    double views_loss(std::size_t views, std::size_t n, std::size_t d, const float *const *z,
                      const std::size_t *ldz = nullptr, float *const *grad = nullptr,
                      const std::size_t *ldgrad = nullptr)
    {
        double value = 0.0;
        detail::check(vicreg_views_loss_f32(ctx_, views, n, d, z, ldz, &value, grad, ldgrad),
                      "vicreg_views_loss_f32");
        return value;
    }

    double views_loss(std::size_t views, std::size_t n, std::size_t d, const double *const *z,
                      const std::size_t *ldz = nullptr, double *const *grad = nullptr,
                      const std::size_t *ldgrad = nullptr)
    {
        double value = 0.0;
        detail::check(vicreg_views_loss_f64(ctx_, views, n, d, z, ldz, &value, grad, ldgrad),
                      "vicreg_views_loss_f64");
        return value;
    }

    /* Packed views of d columns, all of one size, no gradient. */
    template <class T> double views_loss(std::size_t d, const std::vector<std::vector<T>> &z)
    {
        const std::size_t n = detail::packed_views(d, z, "vicreg::Context::views_loss");
        std::vector<const T *> ptrs;
        for (const auto &view : z)
            ptrs.push_back(view.data());
        return views_loss(z.size(), n, d, ptrs.data());
    }

    /* Packed views of d columns; grad is resized to one gradient per view,
     * each of the views' size, and filled. */
    template <class T>
    double views_loss(std::size_t d, const std::vector<std::vector<T>> &z,
                      std::vector<std::vector<T>> &grad)
    {
        const std::size_t n = detail::packed_views(d, z, "vicreg::Context::views_loss");
        std::vector<const T *> ptrs;
        std::vector<T *> grads;
        grad.resize(z.size());
        for (std::size_t v = 0; v < z.size(); ++v) {
            grad[v].resize(z[v].size());
            ptrs.push_back(z[v].data());
            grads.push_back(grad[v].data());
        }
        return views_loss(z.size(), n, d, ptrs.data(), nullptr, grads.data());
    }

    /* vicreg_views_loss_rows_f32 / _f64: the loss of the whole batch of
     * views, the gradient rows row0 .. row0 + rows - 1 only. */
    double views_loss_rows(std::size_t views, std::size_t n, std::size_t d,
                           const float *const *z, const std::size_t *ldz, std::size_t row0,
                           std::size_t rows, float *const *grad,
                           const std::size_t *ldgrad = nullptr)
    {
        double value = 0.0;
        detail::check(vicreg_views_loss_rows_f32(ctx_, views, n, d, z, ldz, row0, rows, &value,
                                                 grad, ldgrad),
                      "vicreg_views_loss_rows_f32");
        return value;
    }

    double views_loss_rows(std::size_t views, std::size_t n, std::size_t d,
                           const double *const *z, const std::size_t *ldz, std::size_t row0,
                           std::size_t rows, double *const *grad,
                           const std::size_t *ldgrad = nullptr)
    {
        double value = 0.0;
        detail::check(vicreg_views_loss_rows_f64(ctx_, views, n, d, z, ldz, row0, rows, &value,
                                                 grad, ldgrad),
                      "vicreg_views_loss_rows_f64");
        return value;
    }

    /* The three sharded phases for views (see vicreg.h): sums and scatter
     * are double buffers of shard_views_sizes(views, d) lengths, zeroed by
     * the caller before the first shard. */
    void shard_views_sums(std::size_t views, std::size_t n, std::size_t d,
                          const float *const *z, const std::size_t *ldz, double *sums)
    {
        detail::check(vicreg_shard_views_sums_f32(ctx_, views, n, d, z, ldz, sums),
                      "vicreg_shard_views_sums_f32");
    }

    void shard_views_sums(std::size_t views, std::size_t n, std::size_t d,
                          const double *const *z, const std::size_t *ldz, double *sums)
    {
        detail::check(vicreg_shard_views_sums_f64(ctx_, views, n, d, z, ldz, sums),
                      "vicreg_shard_views_sums_f64");
    }

    void shard_views_scatter(std::size_t views, std::size_t n, std::size_t d,
                             const float *const *z, const std::size_t *ldz, const double *sums,
                             double *scatter)
    {
        detail::check(vicreg_shard_views_scatter_f32(ctx_, views, n, d, z, ldz, sums, scatter),
                      "vicreg_shard_views_scatter_f32");
    }

    void shard_views_scatter(std::size_t views, std::size_t n, std::size_t d,
                             const double *const *z, const std::size_t *ldz, const double *sums,
                             double *scatter)
    {
        detail::check(vicreg_shard_views_scatter_f64(ctx_, views, n, d, z, ldz, sums, scatter),
                      "vicreg_shard_views_scatter_f64");
    }

    double shard_views_finish(std::size_t views, std::size_t n, std::size_t d,
                              const float *const *z, const std::size_t *ldz,
                              const double *sums, const double *scatter,
                              float *const *grad = nullptr, const std::size_t *ldgrad = nullptr)
    {
        double value = 0.0;
        detail::check(vicreg_shard_views_finish_f32(ctx_, views, n, d, z, ldz, sums, scatter,
                                                    &value, grad, ldgrad),
                      "vicreg_shard_views_finish_f32");
        return value;
    }

    double shard_views_finish(std::size_t views, std::size_t n, std::size_t d,
                              const double *const *z, const std::size_t *ldz,
                              const double *sums, const double *scatter,
                              double *const *grad = nullptr, const std::size_t *ldgrad = nullptr)
    {
        double value = 0.0;
        detail::check(vicreg_shard_views_finish_f64(ctx_, views, n, d, z, ldz, sums, scatter,
                                                    &value, grad, ldgrad),
                      "vicreg_shard_views_finish_f64");
        return value;
    }

private:
    vicreg_ctx *ctx_ = nullptr;
};

} // namespace vicreg

#endif /* VICREG_HPP */
