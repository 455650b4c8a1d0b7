//! `Context`: a `vicreg_ctx` owned by Rust, freed on drop, with the safe
//! calls. Every call checks what C cannot (slice lengths, matching shapes)
//! and returns the C status as an [`Error`]; nothing panics on bad input.

use std::os::raw::c_int;
use std::ptr::{self, NonNull};

use crate::batch::{Batch, BatchMut};
use crate::error::{check, Error, Result};
use crate::real::Real;
use crate::sys;

/// The parameters of a context (`VICREG_PARAM_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Param {
    /// lambda, the invariance weight (default 25).
    InvarianceCoeff,
    /// mu, the variance weight (default 25).
    VarianceCoeff,
    /// nu, the covariance weight (default 1).
    CovarianceCoeff,
    /// gamma, the target standard deviation (default 1).
    StdTarget,
    /// eps, added to the variance under the square root (default 1e-4).
    Epsilon,
    /// A [`Convention`] value (see [`Context::set_convention`]).
    Convention,
    /// A [`Path`] value (see [`Context::set_path`]).
    Path,
    /// The factor of every gradient (default 1; since libvicreg 1.1).
    GradScale,
    /// G, how many of the views of a views call (the first ones) are
    /// global; 0, the default, means all (since libvicreg 1.2).
    GlobalViews,
    /// How many threads the library runs its streaming passes on, the
    /// caller's included; default 1 (since libvicreg 1.3).
    Threads,
}

impl Param {
    /// The C key.
    pub fn key(self) -> i32 {
        match self {
            Param::InvarianceCoeff => sys::VICREG_PARAM_INVARIANCE_COEFF,
            Param::VarianceCoeff => sys::VICREG_PARAM_VARIANCE_COEFF,
            Param::CovarianceCoeff => sys::VICREG_PARAM_COVARIANCE_COEFF,
            Param::StdTarget => sys::VICREG_PARAM_STD_TARGET,
            Param::Epsilon => sys::VICREG_PARAM_EPSILON,
            Param::Convention => sys::VICREG_PARAM_CONVENTION,
            Param::Path => sys::VICREG_PARAM_PATH,
            Param::GradScale => sys::VICREG_PARAM_GRAD_SCALE,
            Param::GlobalViews => sys::VICREG_PARAM_GLOBAL_VIEWS,
            Param::Threads => sys::VICREG_PARAM_THREADS,
        }
    }
}

/// How the invariance and variance terms are weighted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Convention {
    /// The authors' training code: mean squared error, variance weight 1/2.
    Reference,
    /// The paper: (1/n) sum of squared row distances, variance weight 1.
    Paper,
}

/// How the covariance term is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// The d x d covariance when n >= d, the n x n Gram matrix otherwise.
    Auto,
    Covariance,
    Gram,
}

/// The element type of a scratch query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    F32,
    F64,
}

impl Precision {
    fn key(self) -> c_int {
        match self {
            Precision::F32 => sys::VICREG_PRECISION_F32,
            Precision::F64 => sys::VICREG_PRECISION_F64,
        }
    }
}

/// The terms and diagnostics of the last successful loss call
/// (`VICREG_TERM_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Term {
    Loss,
    Invariance,
    VarianceA,
    VarianceB,
    CovarianceA,
    CovarianceB,
    MeanStdA,
    MeanStdB,
    MinStdA,
    MinStdB,
    CollapsedFractionA,
    CollapsedFractionB,
    EffectiveRankA,
    EffectiveRankB,
    /// The `VICREG_PATH_*` value the call took (1 covariance, 2 Gram).
    PathUsed,
}

impl Term {
    /// The C key.
    pub fn key(self) -> i32 {
        match self {
            Term::Loss => sys::VICREG_TERM_LOSS,
            Term::Invariance => sys::VICREG_TERM_INVARIANCE,
            Term::VarianceA => sys::VICREG_TERM_VARIANCE_A,
            Term::VarianceB => sys::VICREG_TERM_VARIANCE_B,
            Term::CovarianceA => sys::VICREG_TERM_COVARIANCE_A,
            Term::CovarianceB => sys::VICREG_TERM_COVARIANCE_B,
            Term::MeanStdA => sys::VICREG_TERM_MEAN_STD_A,
            Term::MeanStdB => sys::VICREG_TERM_MEAN_STD_B,
            Term::MinStdA => sys::VICREG_TERM_MIN_STD_A,
            Term::MinStdB => sys::VICREG_TERM_MIN_STD_B,
            Term::CollapsedFractionA => sys::VICREG_TERM_COLLAPSED_FRACTION_A,
            Term::CollapsedFractionB => sys::VICREG_TERM_COLLAPSED_FRACTION_B,
            Term::EffectiveRankA => sys::VICREG_TERM_EFFECTIVE_RANK_A,
            Term::EffectiveRankB => sys::VICREG_TERM_EFFECTIVE_RANK_B,
            Term::PathUsed => sys::VICREG_TERM_PATH_USED,
        }
    }
}

/// The per-view terms and diagnostics of the last successful loss call
/// (`VICREG_VIEW_TERM_*`, since libvicreg 1.2); after a two-batch call,
/// views 0 and 1 are branches A and B.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViewTerm {
    /// v(Z_v), unweighted.
    Variance,
    /// c(Z_v), unweighted.
    Covariance,
    MeanStd,
    MinStd,
    CollapsedFraction,
    EffectiveRank,
}

impl ViewTerm {
    /// The C key.
    pub fn key(self) -> i32 {
        match self {
            ViewTerm::Variance => sys::VICREG_VIEW_TERM_VARIANCE,
            ViewTerm::Covariance => sys::VICREG_VIEW_TERM_COVARIANCE,
            ViewTerm::MeanStd => sys::VICREG_VIEW_TERM_MEAN_STD,
            ViewTerm::MinStd => sys::VICREG_VIEW_TERM_MIN_STD,
            ViewTerm::CollapsedFraction => sys::VICREG_VIEW_TERM_COLLAPSED_FRACTION,
            ViewTerm::EffectiveRank => sys::VICREG_VIEW_TERM_EFFECTIVE_RANK,
        }
    }
}

/// The closed range of legal values of a parameter.
pub fn param_bounds(param: Param) -> Result<(f64, f64)> {
    param_bounds_key(param.key())
}

/// [`param_bounds`] by C key: `InvalidArgument` for a key the running
/// library does not know, so it doubles as a feature query.
pub fn param_bounds_key(key: i32) -> Result<(f64, f64)> {
    let (mut lower, mut upper) = (0.0, 0.0);
    // SAFETY: both pointers are to live locals.
    check(unsafe { sys::vicreg_param_bounds(key, &mut lower, &mut upper) })?;
    Ok((lower, upper))
}

/// The gradient pointer and leading dimension of an optional buffer, after
/// checking that it has `rows` x `cols` values.
fn grad_ptr<T: Real>(
    grad: Option<&mut BatchMut<'_, T>>,
    rows: usize,
    cols: usize,
) -> Result<(*mut T, usize)> {
    match grad {
        None => Ok((ptr::null_mut(), 0)),
        Some(g) if g.rows() == rows && g.cols() == cols => Ok((g.ptr(), g.ld())),
        Some(_) => Err(Error::BadShape),
    }
}

/// The arguments every entry point takes after the context, `n, d, za,
/// lda, zb, ldb`, of two batches checked to have one shape.
struct Pair<T> {
    n: usize,
    d: usize,
    za: *const T,
    lda: usize,
    zb: *const T,
    ldb: usize,
}

impl<T: Real> Pair<T> {
    /// `BadShape` when the batches differ in shape.
    fn new(za: &Batch<'_, T>, zb: &Batch<'_, T>) -> Result<Pair<T>> {
        if za.rows() != zb.rows() || za.cols() != zb.cols() {
            return Err(Error::BadShape);
        }
        let (n, d) = (za.rows(), za.cols());
        Ok(Pair { n, d, za: za.ptr(), lda: za.ld(), zb: zb.ptr(), ldb: zb.ld() })
    }
}

/// The gradient arguments `grad_a, ldga, grad_b, ldgb` of two optional
/// buffers, each checked to have `rows` x `cols` values (see [`grad_ptr`]).
struct Grads<T> {
    a: *mut T,
    lda: usize,
    b: *mut T,
    ldb: usize,
}

impl<T: Real> Grads<T> {
    fn new(
        grad_a: Option<&mut BatchMut<'_, T>>,
        grad_b: Option<&mut BatchMut<'_, T>>,
        rows: usize,
        cols: usize,
    ) -> Result<Grads<T>> {
        let (a, lda) = grad_ptr(grad_a, rows, cols)?;
        let (b, ldb) = grad_ptr(grad_b, rows, cols)?;
        Ok(Grads { a, lda, b, ldb })
    }
}

/// The arguments every views call takes after the context, `views, n, d,
/// z, ldz`: the views' pointers and leading dimensions in arrays of
/// `VICREG_MAX_VIEWS` (no allocation), the views checked to have one shape.
struct Views<T> {
    count: usize,
    n: usize,
    d: usize,
    z: [*const T; sys::VICREG_MAX_VIEWS],
    ld: [usize; sys::VICREG_MAX_VIEWS],
}

impl<T: Real> Views<T> {
    /// `BadShape` for no view, more than `VICREG_MAX_VIEWS`, or views that
    /// differ in shape.
    fn new(views: &[Batch<'_, T>]) -> Result<Views<T>> {
        let first = match views.first() {
            Some(first) if views.len() <= sys::VICREG_MAX_VIEWS => first,
            _ => return Err(Error::BadShape),
        };
        let (n, d) = (first.rows(), first.cols());
        let mut out = Views {
            count: views.len(),
            n,
            d,
            z: [ptr::null(); sys::VICREG_MAX_VIEWS],
            ld: [0; sys::VICREG_MAX_VIEWS],
        };
        for (k, view) in views.iter().enumerate() {
            if view.rows() != n || view.cols() != d {
                return Err(Error::BadShape);
            }
            out.z[k] = view.ptr();
            out.ld[k] = view.ld();
        }
        Ok(out)
    }
}

/// The gradient arguments `grad, ldgrad` of a views call: one optional
/// buffer per view (`count` of them), each checked to have `rows` x
/// `cols` values; `grad` is NULL when no view has one.
struct ViewGrads<T> {
    any: bool,
    g: [*mut T; sys::VICREG_MAX_VIEWS],
    ld: [usize; sys::VICREG_MAX_VIEWS],
}

impl<T: Real> ViewGrads<T> {
    fn new<'a, 'b: 'a>(
        grads: impl ExactSizeIterator<Item = Option<&'a mut BatchMut<'b, T>>>,
        count: usize,
        rows: usize,
        cols: usize,
    ) -> Result<ViewGrads<T>> {
        if grads.len() != count {
            return Err(Error::BadShape);
        }
        let mut out = ViewGrads::none();
        for (k, grad) in grads.enumerate() {
            let (g, ld) = grad_ptr(grad, rows, cols)?;
            out.any |= !g.is_null();
            out.g[k] = g;
            out.ld[k] = ld.max(cols);
        }
        Ok(out)
    }

    /// No gradient for any view.
    fn none() -> ViewGrads<T> {
        ViewGrads {
            any: false,
            g: [ptr::null_mut(); sys::VICREG_MAX_VIEWS],
            ld: [0; sys::VICREG_MAX_VIEWS],
        }
    }

    /// `grad`: NULL when no view has a gradient buffer.
    fn ptr(&self) -> *const *mut T {
        if self.any {
            self.g.as_ptr()
        } else {
            ptr::null()
        }
    }

    /// `ldgrad`: NULL when no view has a gradient buffer.
    fn ld_ptr(&self) -> *const usize {
        if self.any {
            self.ld.as_ptr()
        } else {
            ptr::null()
        }
    }
}

/// `BadShape` unless the caller's sharded statistics buffers (`sums`
/// doubles, and `scatter` doubles where the call takes a scatter buffer)
/// are at least [`shard_sizes`]`(d)` long.
fn check_shard_buffers(d: usize, sums: usize, scatter: Option<usize>) -> Result<()> {
    let (sums_len, scatter_len) = shard_sizes(d)?;
    if sums < sums_len || scatter.map_or(false, |len| len < scatter_len) {
        return Err(Error::BadShape);
    }
    Ok(())
}

/// The lengths of the sharded statistics buffers for `d` columns, in
/// doubles: `(2 + 2 d, d (d + 1))`. `BadShape` for `d == 0`.
pub fn shard_sizes(d: usize) -> Result<(usize, usize)> {
    let (mut sums, mut scatter) = (0, 0);
    // SAFETY: both pointers are to live locals.
    check(unsafe { sys::vicreg_shard_sizes(d, &mut sums, &mut scatter) })?;
    Ok((sums, scatter))
}

/// The lengths of the sharded views statistics buffers for `views` views
/// of `d` columns, in doubles: `(2 + views d, views d (d + 1) / 2)` (since
/// libvicreg 1.2). `BadShape` for no view, more than `VICREG_MAX_VIEWS` or
/// `d == 0`.
pub fn shard_views_sizes(views: usize, d: usize) -> Result<(usize, usize)> {
    let (mut sums, mut scatter) = (0, 0);
    // SAFETY: both pointers are to live locals.
    check(unsafe { sys::vicreg_shard_views_sizes(views, d, &mut sums, &mut scatter) })?;
    Ok((sums, scatter))
}

/// `BadShape` unless the sharded views buffers are at least
/// [`shard_views_sizes`] long (`scatter` where the call takes one).
fn check_views_buffers(
    views: usize,
    d: usize,
    sums: usize,
    scatter: Option<usize>,
) -> Result<()> {
    let (sums_len, scatter_len) = shard_views_sizes(views, d)?;
    if sums < sums_len || scatter.map_or(false, |len| len < scatter_len) {
        return Err(Error::BadShape);
    }
    Ok(())
}

/// A libvicreg context: parameters, scratch and the terms of the last call.
///
/// It may move to another thread (`Send`) but is used by one thread at a
/// time (`&mut self` for every call that computes), as the C library asks.
#[derive(Debug)]
pub struct Context {
    ptr: NonNull<sys::vicreg_ctx>,
}

// SAFETY: the C library has no global mutable state, and a context may be
// used from any thread as long as one thread at a time does; a Context is
// not Sync and its computing calls take &mut self.
unsafe impl Send for Context {}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: the pointer came from vicreg_ctx_create and is freed once.
        unsafe { sys::vicreg_ctx_destroy(self.ptr.as_ptr()) }
    }
}

impl Context {
    /// A context with the default parameters.
    pub fn new() -> Result<Context> {
        let mut raw: *mut sys::vicreg_ctx = ptr::null_mut();
        // SAFETY: raw is a live local.
        check(unsafe { sys::vicreg_ctx_create(&mut raw) })?;
        NonNull::new(raw).map(|ptr| Context { ptr }).ok_or(Error::NoMemory)
    }

    /// The C context, for the raw API; it stays owned by `self`.
    pub fn as_ptr(&self) -> *const sys::vicreg_ctx {
        self.ptr.as_ptr()
    }

    /// The C context, for the raw API; it stays owned by `self`.
    pub fn as_mut_ptr(&mut self) -> *mut sys::vicreg_ctx {
        self.ptr.as_ptr()
    }

    /// Sets a parameter; `OutOfRange` outside [`param_bounds`] (the value
    /// is kept).
    pub fn set_param(&mut self, param: Param, value: f64) -> Result<()> {
        self.set_param_key(param.key(), value)
    }

    /// A parameter's value.
    pub fn param(&self, param: Param) -> Result<f64> {
        self.param_key(param.key())
    }

    /// [`Context::set_param`] by C key, for keys newer than this crate;
    /// `InvalidArgument` for a key the running library does not know.
    pub fn set_param_key(&mut self, key: i32, value: f64) -> Result<()> {
        // SAFETY: the context is live.
        check(unsafe { sys::vicreg_ctx_set_param(self.ptr.as_ptr(), key, value) })
    }

    /// [`Context::param`] by C key.
    pub fn param_key(&self, key: i32) -> Result<f64> {
        let mut value = 0.0;
        // SAFETY: the context and the local are live.
        check(unsafe { sys::vicreg_ctx_get_param(self.ptr.as_ptr(), key, &mut value) })?;
        Ok(value)
    }

    pub fn set_convention(&mut self, convention: Convention) -> Result<()> {
        let value = match convention {
            Convention::Reference => sys::VICREG_CONVENTION_REFERENCE,
            Convention::Paper => sys::VICREG_CONVENTION_PAPER,
        };
        self.set_param(Param::Convention, f64::from(value))
    }

    pub fn set_path(&mut self, path: Path) -> Result<()> {
        let value = match path {
            Path::Auto => sys::VICREG_PATH_AUTO,
            Path::Covariance => sys::VICREG_PATH_COVARIANCE,
            Path::Gram => sys::VICREG_PATH_GRAM,
        };
        self.set_param(Param::Path, f64::from(value))
    }

    /// A term of the last successful loss call; `NoResult` before one.
    pub fn term(&self, term: Term) -> Result<f64> {
        self.term_key(term.key())
    }

    /// [`Context::term`] by C key; `InvalidArgument` for an unknown key.
    pub fn term_key(&self, key: i32) -> Result<f64> {
        let mut value = 0.0;
        // SAFETY: the context and the local are live.
        check(unsafe { sys::vicreg_ctx_get_term(self.ptr.as_ptr(), key, &mut value) })?;
        Ok(value)
    }

    /// The scratch bytes a loss call of shape (n, d) needs.
    pub fn scratch_bytes(&self, n: usize, d: usize, precision: Precision) -> Result<usize> {
        let mut bytes = 0;
        // SAFETY: the context and the local are live.
        check(unsafe {
            sys::vicreg_ctx_scratch_bytes(self.ptr.as_ptr(), n, d, precision.key(), &mut bytes)
        })?;
        Ok(bytes)
    }

    /// Allocates the scratch for shape (n, d) now.
    pub fn reserve(&mut self, n: usize, d: usize, precision: Precision) -> Result<()> {
        // SAFETY: the context is live.
        check(unsafe { sys::vicreg_ctx_reserve(self.ptr.as_ptr(), n, d, precision.key()) })
    }

    /// The loss of the batches `za`, `zb` (same shape), no gradient.
    pub fn loss<T: Real>(&mut self, za: &Batch<'_, T>, zb: &Batch<'_, T>) -> Result<f64> {
        self.loss_with(za, zb, None, None)
    }

    /// The loss, with dL/dZa into `grad_a` and dL/dZb into `grad_b` (each
    /// of the batches' shape, any leading dimension).
    pub fn loss_grad<T: Real>(
        &mut self,
        za: &Batch<'_, T>,
        zb: &Batch<'_, T>,
        grad_a: &mut BatchMut<'_, T>,
        grad_b: &mut BatchMut<'_, T>,
    ) -> Result<f64> {
        self.loss_with(za, zb, Some(grad_a), Some(grad_b))
    }

    /// The loss, with either gradient optional. On error nothing is
    /// written.
    pub fn loss_with<T: Real>(
        &mut self,
        za: &Batch<'_, T>,
        zb: &Batch<'_, T>,
        grad_a: Option<&mut BatchMut<'_, T>>,
        grad_b: Option<&mut BatchMut<'_, T>>,
    ) -> Result<f64> {
        let p = Pair::new(za, zb)?;
        let g = Grads::new(grad_a, grad_b, p.n, p.d)?;
        let mut loss = 0.0;
        // SAFETY: every array holds its rows (checked by Batch and
        // grad_ptr), and the gradients are exclusive borrows.
        check(unsafe {
            (T::LOSS)(self.ptr.as_ptr(), p.n, p.d, p.za, p.lda, p.zb, p.ldb,
                      &mut loss, g.a, g.lda, g.b, g.ldb)
        })?;
        Ok(loss)
    }

    /// The loss of the whole batch and the gradient rows `row0 .. row0 +
    /// rows` only (since libvicreg 1.1): each gradient buffer has `rows`
    /// rows, its row 0 receiving batch row `row0`. `BadShape` when the rows
    /// pass the end of the batch.
    pub fn loss_rows<T: Real>(
        &mut self,
        za: &Batch<'_, T>,
        zb: &Batch<'_, T>,
        row0: usize,
        rows: usize,
        grad_a: Option<&mut BatchMut<'_, T>>,
        grad_b: Option<&mut BatchMut<'_, T>>,
    ) -> Result<f64> {
        let p = Pair::new(za, zb)?;
        let g = Grads::new(grad_a, grad_b, rows, p.d)?;
        let mut loss = 0.0;
        // SAFETY: as in loss_with; the gradients hold `rows` rows, all the
        // C call writes (it checks row0 + rows <= n itself).
        check(unsafe {
            (T::LOSS_ROWS)(self.ptr.as_ptr(), p.n, p.d, p.za, p.lda, p.zb, p.ldb,
                           row0, rows, &mut loss, g.a, g.lda, g.b, g.ldb)
        })?;
        Ok(loss)
    }

    /// Sharded phase 1 (since libvicreg 1.1): adds this shard's row count,
    /// invariance sum and column sums into `sums` (at least
    /// [`shard_sizes`]`(d).0` doubles, zeroed before the first shard). The
    /// shard may have 0 rows.
    pub fn shard_sums<T: Real>(
        &mut self,
        za: &Batch<'_, T>,
        zb: &Batch<'_, T>,
        sums: &mut [f64],
    ) -> Result<()> {
        let p = Pair::new(za, zb)?;
        check_shard_buffers(p.d, sums.len(), None)?;
        // SAFETY: the arrays hold their rows; sums holds sums_len doubles.
        check(unsafe {
            (T::SHARD_SUMS)(self.ptr.as_ptr(), p.n, p.d, p.za, p.lda, p.zb, p.ldb,
                            sums.as_mut_ptr())
        })
    }

    /// Sharded phase 2: adds this shard's scatter about the global means
    /// (from the GLOBAL `sums`) into `scatter` (at least
    /// [`shard_sizes`]`(d).1` doubles, zeroed before the first shard).
    pub fn shard_scatter<T: Real>(
        &mut self,
        za: &Batch<'_, T>,
        zb: &Batch<'_, T>,
        sums: &[f64],
        scatter: &mut [f64],
    ) -> Result<()> {
        let p = Pair::new(za, zb)?;
        check_shard_buffers(p.d, sums.len(), Some(scatter.len()))?;
        // SAFETY: as in shard_sums; scatter is an exclusive borrow, so it
        // cannot overlap sums.
        check(unsafe {
            (T::SHARD_SCATTER)(self.ptr.as_ptr(), p.n, p.d, p.za, p.lda, p.zb, p.ldb,
                               sums.as_ptr(), scatter.as_mut_ptr())
        })
    }

    /// Sharded phase 3: from the GLOBAL `sums` and `scatter`, the loss of
    /// the global batch (every term kept, as for [`Context::loss`]) and the
    /// gradient rows of this shard's rows.
    #[allow(clippy::too_many_arguments)]
    pub fn shard_finish<T: Real>(
        &mut self,
        za: &Batch<'_, T>,
        zb: &Batch<'_, T>,
        sums: &[f64],
        scatter: &[f64],
        grad_a: Option<&mut BatchMut<'_, T>>,
        grad_b: Option<&mut BatchMut<'_, T>>,
    ) -> Result<f64> {
        let p = Pair::new(za, zb)?;
        check_shard_buffers(p.d, sums.len(), Some(scatter.len()))?;
        let g = Grads::new(grad_a, grad_b, p.n, p.d)?;
        let mut loss = 0.0;
        // SAFETY: every array holds what the call reads or writes.
        check(unsafe {
            (T::SHARD_FINISH)(self.ptr.as_ptr(), p.n, p.d, p.za, p.lda, p.zb, p.ldb,
                              sums.as_ptr(), scatter.as_ptr(), &mut loss, g.a, g.lda, g.b, g.ldb)
        })?;
        Ok(loss)
    }

    /// A per-view term of the last successful loss call (since libvicreg
    /// 1.2): `NoResult` before one, or for a view not below that call's
    /// view count (2 after a two-batch call).
    pub fn view_term(&self, term: ViewTerm, view: usize) -> Result<f64> {
        self.view_term_key(term.key(), view)
    }

    /// [`Context::view_term`] by C key; `InvalidArgument` for an unknown key.
    pub fn view_term_key(&self, key: i32, view: usize) -> Result<f64> {
        let mut value = 0.0;
        // SAFETY: the context and the local are live.
        check(unsafe { sys::vicreg_ctx_get_view_term(self.ptr.as_ptr(), key, view, &mut value) })?;
        Ok(value)
    }

    /// The scratch bytes a views call of shape (views, n, d) needs.
    pub fn views_scratch_bytes(
        &self,
        views: usize,
        n: usize,
        d: usize,
        precision: Precision,
    ) -> Result<usize> {
        let mut bytes = 0;
        // SAFETY: the context and the local are live.
        check(unsafe {
            sys::vicreg_ctx_views_scratch_bytes(self.ptr.as_ptr(), views, n, d, precision.key(),
                                                &mut bytes)
        })?;
        Ok(bytes)
    }

    /// Allocates the scratch for a views call of shape (views, n, d) now.
    pub fn views_reserve(
        &mut self,
        views: usize,
        n: usize,
        d: usize,
        precision: Precision,
    ) -> Result<()> {
        // SAFETY: the context is live.
        check(unsafe {
            sys::vicreg_ctx_views_reserve(self.ptr.as_ptr(), views, n, d, precision.key())
        })
    }

    /// The loss of any number of views (since libvicreg 1.2), each of one
    /// shape, the first [`Param::GlobalViews`] of them global; no gradient.
    /// With two views it is [`Context::loss`] exactly.
    pub fn views_loss<T: Real>(&mut self, views: &[Batch<'_, T>]) -> Result<f64> {
        let v = Views::new(views)?;
        self.views_raw(&v, &ViewGrads::none())
    }

    /// The loss, with dL/dZ_v into `grads[v]` for every view (one buffer
    /// per view, each of the views' shape).
    pub fn views_loss_grad<T: Real>(
        &mut self,
        views: &[Batch<'_, T>],
        grads: &mut [BatchMut<'_, T>],
    ) -> Result<f64> {
        let v = Views::new(views)?;
        let g = ViewGrads::new(grads.iter_mut().map(Some), v.count, v.n, v.d)?;
        self.views_raw(&v, &g)
    }

    /// The loss, with a gradient for each view whose entry of `grads` (one
    /// per view) is `Some`. On error nothing is written.
    pub fn views_loss_with<T: Real>(
        &mut self,
        views: &[Batch<'_, T>],
        grads: &mut [Option<BatchMut<'_, T>>],
    ) -> Result<f64> {
        let v = Views::new(views)?;
        let g = ViewGrads::new(grads.iter_mut().map(|g| g.as_mut()), v.count, v.n, v.d)?;
        self.views_raw(&v, &g)
    }

    /// The loss of the whole batch of views and the gradient rows `row0 ..
    /// row0 + rows` only, each `Some` entry of `grads` a buffer of `rows`
    /// rows. `BadShape` when the rows pass the end of the batch.
    pub fn views_loss_rows<T: Real>(
        &mut self,
        views: &[Batch<'_, T>],
        row0: usize,
        rows: usize,
        grads: &mut [Option<BatchMut<'_, T>>],
    ) -> Result<f64> {
        let v = Views::new(views)?;
        let g = ViewGrads::new(grads.iter_mut().map(|g| g.as_mut()), v.count, rows, v.d)?;
        let mut loss = 0.0;
        // SAFETY: every view holds its rows, every gradient `rows` rows
        // (checked by Batch and ViewGrads); the arrays of pointers hold
        // v.count entries; the C call checks row0 + rows <= n.
        check(unsafe {
            (T::VIEWS_LOSS_ROWS)(self.ptr.as_ptr(), v.count, v.n, v.d, v.z.as_ptr(),
                                 v.ld.as_ptr(), row0, rows, &mut loss, g.ptr(), g.ld_ptr())
        })?;
        Ok(loss)
    }

    fn views_raw<T: Real>(&mut self, v: &Views<T>, g: &ViewGrads<T>) -> Result<f64> {
        let mut loss = 0.0;
        // SAFETY: every view holds its n rows and every gradient buffer
        // its rows (checked by Batch and ViewGrads); the gradients are
        // exclusive borrows; the arrays of pointers hold v.count entries.
        check(unsafe {
            (T::VIEWS_LOSS)(self.ptr.as_ptr(), v.count, v.n, v.d, v.z.as_ptr(), v.ld.as_ptr(),
                            &mut loss, g.ptr(), g.ld_ptr())
        })?;
        Ok(loss)
    }

    /// Sharded views phase 1 (since libvicreg 1.2): adds this shard's row
    /// count, weighted invariance sum (it reads [`Param::GlobalViews`]) and
    /// every view's column sums into `sums` (at least
    /// [`shard_views_sizes`]`(views, d).0` doubles, zeroed before the first
    /// shard). The views may have 0 rows.
    pub fn shard_views_sums<T: Real>(
        &mut self,
        views: &[Batch<'_, T>],
        sums: &mut [f64],
    ) -> Result<()> {
        let v = Views::new(views)?;
        check_views_buffers(v.count, v.d, sums.len(), None)?;
        // SAFETY: the views hold their rows; sums holds sums_len doubles.
        check(unsafe {
            (T::SHARD_VIEWS_SUMS)(self.ptr.as_ptr(), v.count, v.n, v.d, v.z.as_ptr(),
                                  v.ld.as_ptr(), sums.as_mut_ptr())
        })
    }

    /// Sharded views phase 2: adds each view's scatter about the global
    /// means (from the GLOBAL `sums`) into `scatter` (at least
    /// [`shard_views_sizes`]`(views, d).1` doubles, zeroed before the first
    /// shard).
    pub fn shard_views_scatter<T: Real>(
        &mut self,
        views: &[Batch<'_, T>],
        sums: &[f64],
        scatter: &mut [f64],
    ) -> Result<()> {
        let v = Views::new(views)?;
        check_views_buffers(v.count, v.d, sums.len(), Some(scatter.len()))?;
        // SAFETY: as in shard_views_sums; scatter is an exclusive borrow.
        check(unsafe {
            (T::SHARD_VIEWS_SCATTER)(self.ptr.as_ptr(), v.count, v.n, v.d, v.z.as_ptr(),
                                     v.ld.as_ptr(), sums.as_ptr(), scatter.as_mut_ptr())
        })
    }

    /// Sharded views phase 3: from the GLOBAL `sums` and `scatter`, the
    /// loss of the whole batch (its terms kept, as for
    /// [`Context::views_loss`]) and this shard's gradient rows for each view
    /// whose entry of `grads` (one per view) is `Some`.
    pub fn shard_views_finish<T: Real>(
        &mut self,
        views: &[Batch<'_, T>],
        sums: &[f64],
        scatter: &[f64],
        grads: &mut [Option<BatchMut<'_, T>>],
    ) -> Result<f64> {
        let v = Views::new(views)?;
        check_views_buffers(v.count, v.d, sums.len(), Some(scatter.len()))?;
        let g = ViewGrads::new(grads.iter_mut().map(|g| g.as_mut()), v.count, v.n, v.d)?;
        let mut loss = 0.0;
        // SAFETY: every array holds what the call reads or writes.
        check(unsafe {
            (T::SHARD_VIEWS_FINISH)(self.ptr.as_ptr(), v.count, v.n, v.d, v.z.as_ptr(),
                                    v.ld.as_ptr(), sums.as_ptr(), scatter.as_ptr(), &mut loss,
                                    g.ptr(), g.ld_ptr())
        })?;
        Ok(loss)
    }
}
