//! The two element types of the library, `f32` and `f64`, each tied to its
//! entry points (`vicreg_*_f32`, `vicreg_*_f64`). The trait is sealed: no
//! other type can implement it.

use std::os::raw::c_int;

use crate::context::Precision;
use crate::sys::{self, vicreg_ctx};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

// The C signatures shared by the two twins, with the element type T.

/// `vicreg_loss_*`.
pub type LossFn<T> = unsafe extern "C" fn(
    *mut vicreg_ctx, usize, usize, *const T, usize, *const T, usize,
    *mut f64, *mut T, usize, *mut T, usize,
) -> c_int;
/// `vicreg_loss_rows_*`.
pub type LossRowsFn<T> = unsafe extern "C" fn(
    *mut vicreg_ctx, usize, usize, *const T, usize, *const T, usize,
    usize, usize, *mut f64, *mut T, usize, *mut T, usize,
) -> c_int;
/// `vicreg_shard_sums_*`.
pub type ShardSumsFn<T> = unsafe extern "C" fn(
    *mut vicreg_ctx, usize, usize, *const T, usize, *const T, usize, *mut f64,
) -> c_int;
/// `vicreg_shard_scatter_*`.
pub type ShardScatterFn<T> = unsafe extern "C" fn(
    *mut vicreg_ctx, usize, usize, *const T, usize, *const T, usize, *const f64, *mut f64,
) -> c_int;
/// `vicreg_shard_finish_*`.
pub type ShardFinishFn<T> = unsafe extern "C" fn(
    *mut vicreg_ctx, usize, usize, *const T, usize, *const T, usize, *const f64,
    *const f64, *mut f64, *mut T, usize, *mut T, usize,
) -> c_int;

/// `vicreg_views_loss_*` (since 1.2).
pub type ViewsLossFn<T> = unsafe extern "C" fn(
    *mut vicreg_ctx, usize, usize, usize, *const *const T, *const usize,
    *mut f64, *const *mut T, *const usize,
) -> c_int;
/// `vicreg_views_loss_rows_*`.
pub type ViewsLossRowsFn<T> = unsafe extern "C" fn(
    *mut vicreg_ctx, usize, usize, usize, *const *const T, *const usize,
    usize, usize, *mut f64, *const *mut T, *const usize,
) -> c_int;
/// `vicreg_shard_views_sums_*`.
pub type ShardViewsSumsFn<T> = unsafe extern "C" fn(
    *mut vicreg_ctx, usize, usize, usize, *const *const T, *const usize, *mut f64,
) -> c_int;
/// `vicreg_shard_views_scatter_*`.
pub type ShardViewsScatterFn<T> = unsafe extern "C" fn(
    *mut vicreg_ctx, usize, usize, usize, *const *const T, *const usize,
    *const f64, *mut f64,
) -> c_int;
/// `vicreg_shard_views_finish_*`.
pub type ShardViewsFinishFn<T> = unsafe extern "C" fn(
    *mut vicreg_ctx, usize, usize, usize, *const *const T, *const usize,
    *const f64, *const f64, *mut f64, *const *mut T, *const usize,
) -> c_int;

/// `f32` or `f64`. The constants are the raw C functions of the type, with
/// the C contract; the safe calls of [`crate::Context`] use them.
pub trait Real: sealed::Sealed + Copy + std::fmt::Debug + 'static {
    /// The precision key of the type, for the scratch queries.
    const PRECISION: Precision;
    #[doc(hidden)]
    const LOSS: LossFn<Self>;
    #[doc(hidden)]
    const LOSS_ROWS: LossRowsFn<Self>;
    #[doc(hidden)]
    const SHARD_SUMS: ShardSumsFn<Self>;
    #[doc(hidden)]
    const SHARD_SCATTER: ShardScatterFn<Self>;
    #[doc(hidden)]
    const SHARD_FINISH: ShardFinishFn<Self>;
    #[doc(hidden)]
    const VIEWS_LOSS: ViewsLossFn<Self>;
    #[doc(hidden)]
    const VIEWS_LOSS_ROWS: ViewsLossRowsFn<Self>;
    #[doc(hidden)]
    const SHARD_VIEWS_SUMS: ShardViewsSumsFn<Self>;
    #[doc(hidden)]
    const SHARD_VIEWS_SCATTER: ShardViewsScatterFn<Self>;
    #[doc(hidden)]
    const SHARD_VIEWS_FINISH: ShardViewsFinishFn<Self>;
}

/// `impl Real` for one of the two types: its precision key and its twin of
/// each entry point.
macro_rules! impl_real {
    ($t:ty, $precision:ident, $loss:ident, $rows:ident, $sums:ident, $scatter:ident,
     $finish:ident, $vloss:ident, $vrows:ident, $vsums:ident, $vscatter:ident,
     $vfinish:ident) => {
        impl Real for $t {
            const PRECISION: Precision = Precision::$precision;
            const LOSS: LossFn<$t> = sys::$loss;
            const LOSS_ROWS: LossRowsFn<$t> = sys::$rows;
            const SHARD_SUMS: ShardSumsFn<$t> = sys::$sums;
            const SHARD_SCATTER: ShardScatterFn<$t> = sys::$scatter;
            const SHARD_FINISH: ShardFinishFn<$t> = sys::$finish;
            const VIEWS_LOSS: ViewsLossFn<$t> = sys::$vloss;
            const VIEWS_LOSS_ROWS: ViewsLossRowsFn<$t> = sys::$vrows;
            const SHARD_VIEWS_SUMS: ShardViewsSumsFn<$t> = sys::$vsums;
            const SHARD_VIEWS_SCATTER: ShardViewsScatterFn<$t> = sys::$vscatter;
            const SHARD_VIEWS_FINISH: ShardViewsFinishFn<$t> = sys::$vfinish;
        }
    };
}

impl_real!(f32, F32, vicreg_loss_f32, vicreg_loss_rows_f32, vicreg_shard_sums_f32,
           vicreg_shard_scatter_f32, vicreg_shard_finish_f32, vicreg_views_loss_f32,
           vicreg_views_loss_rows_f32, vicreg_shard_views_sums_f32,
           vicreg_shard_views_scatter_f32, vicreg_shard_views_finish_f32);
impl_real!(f64, F64, vicreg_loss_f64, vicreg_loss_rows_f64, vicreg_shard_sums_f64,
           vicreg_shard_scatter_f64, vicreg_shard_finish_f64, vicreg_views_loss_f64,
           vicreg_views_loss_rows_f64, vicreg_shard_views_sums_f64,
           vicreg_shard_views_scatter_f64, vicreg_shard_views_finish_f64);
