//! The raw C ABI of libvicreg.so.1, declared by hand from `vicreg.h`: the
//! functions of symbol versions VICREG_1.0, VICREG_1.1 and VICREG_1.2 and
//! the pinned values of the enumerations. Every function is `unsafe`; the rules for the
//! pointers and sizes are those of the C header. `size_t` is `usize`.

use std::os::raw::{c_char, c_double, c_float, c_int, c_uint, c_void};

/// The opaque context of the C API.
#[repr(C)]
pub struct vicreg_ctx {
    _private: [u8; 0],
}

// The version this declaration was written against (VICREG_VERSION_*).
pub const VICREG_VERSION_MAJOR: c_uint = 1;
pub const VICREG_VERSION_MINOR: c_uint = 3;
pub const VICREG_VERSION_PATCH: c_uint = 0;
pub const VICREG_VERSION_NUMBER: c_uint =
    VICREG_VERSION_MAJOR * 10000 + VICREG_VERSION_MINOR * 100 + VICREG_VERSION_PATCH;

// Status codes.
pub const VICREG_OK: c_int = 0;
pub const VICREG_ERR_INVALID_ARGUMENT: c_int = -1;
pub const VICREG_ERR_OUT_OF_RANGE: c_int = -2;
pub const VICREG_ERR_NON_FINITE: c_int = -3;
pub const VICREG_ERR_NO_MEMORY: c_int = -4;
pub const VICREG_ERR_BAD_SHAPE: c_int = -5;
pub const VICREG_ERR_SIZE_OVERFLOW: c_int = -6;
pub const VICREG_ERR_OVERLAP: c_int = -7;
pub const VICREG_ERR_OVERFLOW: c_int = -8;
pub const VICREG_ERR_NO_RESULT: c_int = -9;

// Parameter keys.
pub const VICREG_PARAM_INVARIANCE_COEFF: c_int = 1;
pub const VICREG_PARAM_VARIANCE_COEFF: c_int = 2;
pub const VICREG_PARAM_COVARIANCE_COEFF: c_int = 3;
pub const VICREG_PARAM_STD_TARGET: c_int = 10;
pub const VICREG_PARAM_EPSILON: c_int = 11;
pub const VICREG_PARAM_CONVENTION: c_int = 20;
pub const VICREG_PARAM_PATH: c_int = 30;
pub const VICREG_PARAM_GRAD_SCALE: c_int = 40;
pub const VICREG_PARAM_GLOBAL_VIEWS: c_int = 50;
pub const VICREG_PARAM_THREADS: c_int = 60;

pub const VICREG_CONVENTION_REFERENCE: c_int = 0;
pub const VICREG_CONVENTION_PAPER: c_int = 1;

pub const VICREG_PATH_AUTO: c_int = 0;
pub const VICREG_PATH_COVARIANCE: c_int = 1;
pub const VICREG_PATH_GRAM: c_int = 2;

pub const VICREG_PRECISION_F32: c_int = 1;
pub const VICREG_PRECISION_F64: c_int = 2;

// Term keys.
pub const VICREG_TERM_LOSS: c_int = 0;
pub const VICREG_TERM_INVARIANCE: c_int = 1;
pub const VICREG_TERM_VARIANCE_A: c_int = 2;
pub const VICREG_TERM_VARIANCE_B: c_int = 3;
pub const VICREG_TERM_COVARIANCE_A: c_int = 4;
pub const VICREG_TERM_COVARIANCE_B: c_int = 5;
pub const VICREG_TERM_MEAN_STD_A: c_int = 10;
pub const VICREG_TERM_MEAN_STD_B: c_int = 11;
pub const VICREG_TERM_MIN_STD_A: c_int = 12;
pub const VICREG_TERM_MIN_STD_B: c_int = 13;
pub const VICREG_TERM_COLLAPSED_FRACTION_A: c_int = 14;
pub const VICREG_TERM_COLLAPSED_FRACTION_B: c_int = 15;
pub const VICREG_TERM_EFFECTIVE_RANK_A: c_int = 16;
pub const VICREG_TERM_EFFECTIVE_RANK_B: c_int = 17;
pub const VICREG_TERM_PATH_USED: c_int = 20;

// Views (since 1.2): the most views of one call, and the per-view term keys.
pub const VICREG_MAX_VIEWS: usize = 64;
pub const VICREG_VIEW_TERM_VARIANCE: c_int = 1;
pub const VICREG_VIEW_TERM_COVARIANCE: c_int = 2;
pub const VICREG_VIEW_TERM_MEAN_STD: c_int = 3;
pub const VICREG_VIEW_TERM_MIN_STD: c_int = 4;
pub const VICREG_VIEW_TERM_COLLAPSED_FRACTION: c_int = 5;
pub const VICREG_VIEW_TERM_EFFECTIVE_RANK: c_int = 6;

extern "C" {
    // VICREG_1.0
    pub fn vicreg_version_number() -> c_uint;
    pub fn vicreg_version_string() -> *const c_char;
    pub fn vicreg_strerror(status: c_int) -> *const c_char;
    pub fn vicreg_status_name(status: c_int) -> *const c_char;
    pub fn vicreg_ctx_create(out: *mut *mut vicreg_ctx) -> c_int;
    pub fn vicreg_ctx_destroy(ctx: *mut vicreg_ctx);
    pub fn vicreg_ctx_set_param(ctx: *mut vicreg_ctx, param: c_int, value: c_double) -> c_int;
    pub fn vicreg_ctx_get_param(ctx: *const vicreg_ctx, param: c_int, value: *mut c_double)
        -> c_int;
    pub fn vicreg_param_bounds(param: c_int, lower: *mut c_double, upper: *mut c_double) -> c_int;
    pub fn vicreg_ctx_scratch_bytes(
        ctx: *const vicreg_ctx,
        n: usize,
        d: usize,
        precision: c_int,
        bytes: *mut usize,
    ) -> c_int;
    pub fn vicreg_ctx_reserve(ctx: *mut vicreg_ctx, n: usize, d: usize, precision: c_int)
        -> c_int;
    pub fn vicreg_ctx_get_term(ctx: *const vicreg_ctx, term: c_int, value: *mut c_double)
        -> c_int;

    // VICREG_1.1
    pub fn vicreg_shard_sizes(d: usize, sums_len: *mut usize, scatter_len: *mut usize) -> c_int;
    pub fn vicreg_ctx_buffer(ctx: *mut vicreg_ctx, bytes: usize, out: *mut *mut c_void) -> c_int;

    // VICREG_1.2
    pub fn vicreg_ctx_views_scratch_bytes(
        ctx: *const vicreg_ctx,
        views: usize,
        n: usize,
        d: usize,
        precision: c_int,
        bytes: *mut usize,
    ) -> c_int;
    pub fn vicreg_ctx_views_reserve(
        ctx: *mut vicreg_ctx,
        views: usize,
        n: usize,
        d: usize,
        precision: c_int,
    ) -> c_int;
    pub fn vicreg_ctx_get_view_term(
        ctx: *const vicreg_ctx,
        term: c_int,
        view: usize,
        value: *mut c_double,
    ) -> c_int;
    pub fn vicreg_shard_views_sizes(
        views: usize,
        d: usize,
        sums_len: *mut usize,
        scatter_len: *mut usize,
    ) -> c_int;
}

/// Declares one entry point that takes two batches: the context, the
/// `n, d, za, lda, zb, ldb` every such call begins with (element type
/// `$t`), then the call's own arguments.
macro_rules! pair_fn {
    ($t:ty, $name:ident($($arg:ident: $ty:ty),*)) => {
        pub fn $name(
            ctx: *mut vicreg_ctx,
            n: usize,
            d: usize,
            za: *const $t,
            lda: usize,
            zb: *const $t,
            ldb: usize,
            $($arg: $ty),*
        ) -> c_int;
    };
}

/// Declares one entry point that takes views: the context, the `views, n,
/// d, z, ldz` every such call begins with (element type `$t`), then the
/// call's own arguments.
macro_rules! views_fn {
    ($t:ty, $name:ident($($arg:ident: $ty:ty),*)) => {
        pub fn $name(
            ctx: *mut vicreg_ctx,
            views: usize,
            n: usize,
            d: usize,
            z: *const *const $t,
            ldz: *const usize,
            $($arg: $ty),*
        ) -> c_int;
    };
}

/// The entry points that come as an `_f32` and an `_f64` twin, declared
/// once for the element type `$t` (`c_float` or `c_double`) and the twin's
/// names.
macro_rules! twins {
    ($t:ty, $loss:ident, $sums:ident, $scatter:ident, $finish:ident, $rows:ident,
     $vloss:ident, $vrows:ident, $vsums:ident, $vscatter:ident, $vfinish:ident) => {
        extern "C" {
            // VICREG_1.0
            pair_fn!($t, $loss(
                loss: *mut c_double, grad_a: *mut $t, ldga: usize, grad_b: *mut $t, ldgb: usize
            ));

            // VICREG_1.1
            pair_fn!($t, $sums(sums: *mut c_double));
            pair_fn!($t, $scatter(sums: *const c_double, scatter: *mut c_double));
            pair_fn!($t, $finish(
                sums: *const c_double, scatter: *const c_double,
                loss: *mut c_double, grad_a: *mut $t, ldga: usize, grad_b: *mut $t, ldgb: usize
            ));
            pair_fn!($t, $rows(
                row0: usize, rows: usize,
                loss: *mut c_double, grad_a: *mut $t, ldga: usize, grad_b: *mut $t, ldgb: usize
            ));

            // VICREG_1.2
            views_fn!($t, $vloss(
                loss: *mut c_double, grad: *const *mut $t, ldgrad: *const usize
            ));
            views_fn!($t, $vrows(
                row0: usize, rows: usize,
                loss: *mut c_double, grad: *const *mut $t, ldgrad: *const usize
            ));
            views_fn!($t, $vsums(sums: *mut c_double));
            views_fn!($t, $vscatter(sums: *const c_double, scatter: *mut c_double));
            views_fn!($t, $vfinish(
                sums: *const c_double, scatter: *const c_double,
                loss: *mut c_double, grad: *const *mut $t, ldgrad: *const usize
            ));
        }
    };
}

twins!(
    c_float,
    vicreg_loss_f32,
    vicreg_shard_sums_f32,
    vicreg_shard_scatter_f32,
    vicreg_shard_finish_f32,
    vicreg_loss_rows_f32,
    vicreg_views_loss_f32,
    vicreg_views_loss_rows_f32,
    vicreg_shard_views_sums_f32,
    vicreg_shard_views_scatter_f32,
    vicreg_shard_views_finish_f32
);
twins!(
    c_double,
    vicreg_loss_f64,
    vicreg_shard_sums_f64,
    vicreg_shard_scatter_f64,
    vicreg_shard_finish_f64,
    vicreg_loss_rows_f64,
    vicreg_views_loss_f64,
    vicreg_views_loss_rows_f64,
    vicreg_shard_views_sums_f64,
    vicreg_shard_views_scatter_f64,
    vicreg_shard_views_finish_f64
);
