//! The two element types of the library, `f32` and `f64`, each tied to its
//! entry points (`vicreg_*_f32`, `vicreg_*_f64`). The trait is sealed: no
//! other type can implement it.

use std::os::raw::c_int;

use crate::context::Precision;
use crate::sys;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64`. The methods are the raw C functions of the type, with
/// the C contract; the safe calls of [`crate::Context`] use them.
pub trait Real: sealed::Sealed + Copy + std::fmt::Debug + 'static {
    /// The precision key of the type, for the scratch queries.
    const PRECISION: Precision;

    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn raw_loss(
        ctx: *mut sys::vicreg_ctx,
        n: usize,
        d: usize,
        za: *const Self,
        lda: usize,
        zb: *const Self,
        ldb: usize,
        loss: *mut f64,
        ga: *mut Self,
        ldga: usize,
        gb: *mut Self,
        ldgb: usize,
    ) -> c_int;

    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn raw_loss_rows(
        ctx: *mut sys::vicreg_ctx,
        n: usize,
        d: usize,
        za: *const Self,
        lda: usize,
        zb: *const Self,
        ldb: usize,
        row0: usize,
        rows: usize,
        loss: *mut f64,
        ga: *mut Self,
        ldga: usize,
        gb: *mut Self,
        ldgb: usize,
    ) -> c_int;

    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn raw_shard_sums(
        ctx: *mut sys::vicreg_ctx,
        n: usize,
        d: usize,
        za: *const Self,
        lda: usize,
        zb: *const Self,
        ldb: usize,
        sums: *mut f64,
    ) -> c_int;

    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn raw_shard_scatter(
        ctx: *mut sys::vicreg_ctx,
        n: usize,
        d: usize,
        za: *const Self,
        lda: usize,
        zb: *const Self,
        ldb: usize,
        sums: *const f64,
        scatter: *mut f64,
    ) -> c_int;

    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn raw_shard_finish(
        ctx: *mut sys::vicreg_ctx,
        n: usize,
        d: usize,
        za: *const Self,
        lda: usize,
        zb: *const Self,
        ldb: usize,
        sums: *const f64,
        scatter: *const f64,
        loss: *mut f64,
        ga: *mut Self,
        ldga: usize,
        gb: *mut Self,
        ldgb: usize,
    ) -> c_int;
}

// One impl per type; the bodies only forward to the C function of the type.
macro_rules! real_impl {
    ($t:ty, $prec:expr, $loss:ident, $rows:ident, $sums:ident, $scatter:ident, $finish:ident) => {
        impl Real for $t {
            const PRECISION: Precision = $prec;

            unsafe fn raw_loss(
                ctx: *mut sys::vicreg_ctx,
                n: usize,
                d: usize,
                za: *const Self,
                lda: usize,
                zb: *const Self,
                ldb: usize,
                loss: *mut f64,
                ga: *mut Self,
                ldga: usize,
                gb: *mut Self,
                ldgb: usize,
            ) -> c_int {
                // SAFETY: the caller keeps the C contract.
                unsafe { sys::$loss(ctx, n, d, za, lda, zb, ldb, loss, ga, ldga, gb, ldgb) }
            }

            unsafe fn raw_loss_rows(
                ctx: *mut sys::vicreg_ctx,
                n: usize,
                d: usize,
                za: *const Self,
                lda: usize,
                zb: *const Self,
                ldb: usize,
                row0: usize,
                rows: usize,
                loss: *mut f64,
                ga: *mut Self,
                ldga: usize,
                gb: *mut Self,
                ldgb: usize,
            ) -> c_int {
                // SAFETY: the caller keeps the C contract.
                unsafe {
                    sys::$rows(ctx, n, d, za, lda, zb, ldb, row0, rows, loss, ga, ldga, gb, ldgb)
                }
            }

            unsafe fn raw_shard_sums(
                ctx: *mut sys::vicreg_ctx,
                n: usize,
                d: usize,
                za: *const Self,
                lda: usize,
                zb: *const Self,
                ldb: usize,
                sums: *mut f64,
            ) -> c_int {
                // SAFETY: the caller keeps the C contract.
                unsafe { sys::$sums(ctx, n, d, za, lda, zb, ldb, sums) }
            }

            unsafe fn raw_shard_scatter(
                ctx: *mut sys::vicreg_ctx,
                n: usize,
                d: usize,
                za: *const Self,
                lda: usize,
                zb: *const Self,
                ldb: usize,
                sums: *const f64,
                scatter: *mut f64,
            ) -> c_int {
                // SAFETY: the caller keeps the C contract.
                unsafe { sys::$scatter(ctx, n, d, za, lda, zb, ldb, sums, scatter) }
            }

            unsafe fn raw_shard_finish(
                ctx: *mut sys::vicreg_ctx,
                n: usize,
                d: usize,
                za: *const Self,
                lda: usize,
                zb: *const Self,
                ldb: usize,
                sums: *const f64,
                scatter: *const f64,
                loss: *mut f64,
                ga: *mut Self,
                ldga: usize,
                gb: *mut Self,
                ldgb: usize,
            ) -> c_int {
                // SAFETY: the caller keeps the C contract.
                unsafe {
                    sys::$finish(
                        ctx, n, d, za, lda, zb, ldb, sums, scatter, loss, ga, ldga, gb, ldgb,
                    )
                }
            }
        }
    };
}

real_impl!(
    f32,
    Precision::F32,
    vicreg_loss_f32,
    vicreg_loss_rows_f32,
    vicreg_shard_sums_f32,
    vicreg_shard_scatter_f32,
    vicreg_shard_finish_f32
);
real_impl!(
    f64,
    Precision::F64,
    vicreg_loss_f64,
    vicreg_loss_rows_f64,
    vicreg_shard_sums_f64,
    vicreg_shard_scatter_f64,
    vicreg_shard_finish_f64
);
