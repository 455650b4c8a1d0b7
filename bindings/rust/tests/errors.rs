//! Every status, through the safe API where it can be reached and through
//! the raw API (`vicreg::sys`) for the rest; on every error nothing the
//! caller owns is written and the context keeps working.

mod common;

use std::ptr;

use common::make_batches;
use vicreg::{sys, Batch, BatchMut, Context, Error, Param, Path, Precision, Term};

const N: usize = 6;
const D: usize = 4;
const SENTINEL: f64 = -7777.25;

const ALL: [(Error, i32, &str); 9] = [
    (Error::InvalidArgument, -1, "VICREG_ERR_INVALID_ARGUMENT"),
    (Error::OutOfRange, -2, "VICREG_ERR_OUT_OF_RANGE"),
    (Error::NonFinite, -3, "VICREG_ERR_NON_FINITE"),
    (Error::NoMemory, -4, "VICREG_ERR_NO_MEMORY"),
    (Error::BadShape, -5, "VICREG_ERR_BAD_SHAPE"),
    (Error::SizeOverflow, -6, "VICREG_ERR_SIZE_OVERFLOW"),
    (Error::Overlap, -7, "VICREG_ERR_OVERLAP"),
    (Error::Overflow, -8, "VICREG_ERR_OVERFLOW"),
    (Error::NoResult, -9, "VICREG_ERR_NO_RESULT"),
];

#[test]
fn error_type_mirrors_the_status_codes() {
    assert_eq!(Error::from_status(0), None);
    for (err, status, name) in ALL {
        assert_eq!(err.status(), status);
        assert_eq!(Error::from_status(status), Some(err));
        assert_eq!(err.name(), name);
        let text = err.to_string();
        assert!(text.contains(name) && text.contains(err.description()), "{}", text);
        assert!(!err.description().is_empty() && err.description() != "unknown status");
    }
    let unknown = Error::from_status(-100).unwrap();
    assert_eq!(unknown, Error::Unknown(-100));
    assert_eq!(unknown.status(), -100);
    assert_eq!(unknown.name(), "VICREG_ERR_UNKNOWN");
    // The raw constants are the pinned values of the header.
    assert_eq!(
        [
            sys::VICREG_ERR_INVALID_ARGUMENT,
            sys::VICREG_ERR_OUT_OF_RANGE,
            sys::VICREG_ERR_NON_FINITE,
            sys::VICREG_ERR_NO_MEMORY,
            sys::VICREG_ERR_BAD_SHAPE,
            sys::VICREG_ERR_SIZE_OVERFLOW,
            sys::VICREG_ERR_OVERLAP,
            sys::VICREG_ERR_OVERFLOW,
            sys::VICREG_ERR_NO_RESULT
        ],
        [-1, -2, -3, -4, -5, -6, -7, -8, -9]
    );
}

/// A context that has made one successful call, and its loss.
fn primed() -> (Context, f64) {
    let (za, zb) = make_batches(7, N, D);
    let mut ctx = Context::new().unwrap();
    let loss = ctx.loss(&Batch::packed(&za, D).unwrap(), &Batch::packed(&zb, D).unwrap()).unwrap();
    (ctx, loss)
}

/// The context still holds the terms of its last successful call and
/// still computes.
fn still_works(ctx: &mut Context, loss: f64) {
    assert_eq!(ctx.term(Term::Loss), Ok(loss));
    let (za, zb) = make_batches(7, N, D);
    let again = ctx.loss(&Batch::packed(&za, D).unwrap(), &Batch::packed(&zb, D).unwrap());
    assert_eq!(again, Ok(loss));
}

/// A loss call with gradients on (za, zb) with the given leading
/// dimensions; checks that the gradient buffers were left alone and
/// returns the result.
fn call_f64(ctx: &mut Context, za: &[f64], zb: &[f64], n: usize, d: usize) -> Result<f64, Error> {
    let mut ga = vec![SENTINEL; za.len()];
    let mut gb = vec![SENTINEL; zb.len()];
    let result = (|| {
        let a = Batch::new(za, n, d, d)?;
        let b = Batch::new(zb, n, d, d)?;
        let mut a_grad = BatchMut::new(&mut ga, n, d, d)?;
        let mut b_grad = BatchMut::new(&mut gb, n, d, d)?;
        ctx.loss_grad(&a, &b, &mut a_grad, &mut b_grad)
    })();
    if result.is_err() {
        assert!(ga.iter().chain(gb.iter()).all(|&v| v == SENTINEL), "written on error");
    }
    result
}

#[test]
fn bad_shape_from_the_safe_api() {
    let (mut ctx, loss) = primed();
    let (za, zb) = make_batches(3, N, D);
    // Checked by the wrapper before any call.
    assert_eq!(Batch::new(&za, N, D, D - 1).err(), Some(Error::BadShape), "ld < d");
    assert_eq!(Batch::new(&za[..N * D - 1], N, D, D).err(), Some(Error::BadShape), "short");
    assert_eq!(Batch::new(&za, N, D, D + 1).err(), Some(Error::BadShape), "short for ld");
    assert_eq!(Batch::packed(&za, 0).err(), Some(Error::BadShape), "no column");
    assert_eq!(Batch::packed(&za, 5).err(), Some(Error::BadShape), "5 does not divide 24");
    let mut g = vec![0.0; N * D];
    assert_eq!(BatchMut::new(&mut g, N, D, 2).err(), Some(Error::BadShape));
    assert_eq!(BatchMut::new(&mut g, N + 1, D, D).err(), Some(Error::BadShape));
    let a = Batch::packed(&za, D).unwrap();
    let b_fewer = Batch::new(&zb, N - 1, D, D).unwrap();
    let b_narrower = Batch::new(&zb, N, D - 1, D).unwrap();
    assert_eq!(ctx.loss(&a, &b_fewer), Err(Error::BadShape));
    assert_eq!(ctx.loss(&a, &b_narrower), Err(Error::BadShape));
    let b = Batch::packed(&zb, D).unwrap();
    let mut small = vec![SENTINEL; (N - 1) * D];
    let mut ga_small = BatchMut::packed(&mut small, D).unwrap();
    assert_eq!(ctx.loss_with(&a, &b, Some(&mut ga_small), None), Err(Error::BadShape));
    assert!(small.iter().all(|&v| v == SENTINEL));
    // Legal views that the library refuses: one row, no column.
    assert_eq!(call_f64(&mut ctx, &za[..D], &zb[..D], 1, D), Err(Error::BadShape));
    assert_eq!(call_f64(&mut ctx, &[], &[], N, 0), Err(Error::BadShape));
    // loss_rows past the end of the batch.
    let mut rows = vec![SENTINEL; 2 * D];
    let mut g2 = BatchMut::packed(&mut rows, D).unwrap();
    assert_eq!(ctx.loss_rows(&a, &b, N - 1, 2, Some(&mut g2), None), Err(Error::BadShape));
    assert!(rows.iter().all(|&v| v == SENTINEL));
    // Sharded statistics buffers too short, and d = 0.
    let (sums_len, scatter_len) = vicreg::shard_sizes(D).unwrap();
    assert_eq!((sums_len, scatter_len), (2 + 2 * D, D * (D + 1)));
    let mut sums = vec![0.0; sums_len - 1];
    assert_eq!(ctx.shard_sums(&a, &b, &mut sums), Err(Error::BadShape));
    let sums = vec![0.0; sums_len];
    let mut scatter = vec![0.0; scatter_len - 1];
    assert_eq!(ctx.shard_scatter(&a, &b, &sums, &mut scatter), Err(Error::BadShape));
    assert_eq!(vicreg::shard_sizes(0), Err(Error::BadShape));
    still_works(&mut ctx, loss);
}

#[test]
fn size_overflow() {
    let (ctx, _) = primed();
    // The span of the view does not fit usize: refused by the wrapper.
    assert_eq!(Batch::<f64>::new(&[], usize::MAX, 2, 2).err(), Some(Error::SizeOverflow));
    assert_eq!(Batch::<f32>::new(&[], 3, 4, usize::MAX).err(), Some(Error::SizeOverflow));
    // And by the library, where no slice is involved.
    assert_eq!(ctx.scratch_bytes(usize::MAX / 2, 4, Precision::F64), Err(Error::SizeOverflow));
    assert_eq!(vicreg::shard_sizes(usize::MAX / 2), Err(Error::SizeOverflow));
}

#[test]
fn non_finite() {
    let (mut ctx, loss) = primed();
    for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for branch in 0..2 {
            let (mut za, mut zb) = make_batches(5, N, D);
            if branch == 0 {
                za[N * D - 1] = value;
            } else {
                zb[3] = value;
            }
            assert_eq!(call_f64(&mut ctx, &za, &zb, N, D), Err(Error::NonFinite));
            let (fa, fb) = (common::to_f32(&za), common::to_f32(&zb));
            let mut ga = vec![1.5f32; N * D];
            let r = ctx.loss_with(
                &Batch::packed(&fa, D).unwrap(),
                &Batch::packed(&fb, D).unwrap(),
                Some(&mut BatchMut::packed(&mut ga, D).unwrap()),
                None,
            );
            assert_eq!(r, Err(Error::NonFinite));
            assert!(ga.iter().all(|&v| v == 1.5));
        }
    }
    still_works(&mut ctx, loss);
}

#[test]
fn overflow() {
    let (mut ctx, loss) = primed();
    let (za, zb) = make_batches(5, N, D);
    let big: Vec<f64> = za.iter().map(|v| v * 1e200).collect();
    assert_eq!(call_f64(&mut ctx, &big, &zb, N, D), Err(Error::Overflow));
    let big32: Vec<f32> = za.iter().map(|&v| (v * 1e30) as f32).collect();
    let zb32 = common::to_f32(&zb);
    let r = ctx.loss(&Batch::packed(&big32, D).unwrap(), &Batch::packed(&zb32, D).unwrap());
    assert_eq!(r, Err(Error::Overflow));
    still_works(&mut ctx, loss);
}

#[test]
fn out_of_range_keeps_the_parameter() {
    let (mut ctx, loss) = primed();
    let cases = [
        (Param::InvarianceCoeff, -1.0),
        (Param::VarianceCoeff, f64::NAN),
        (Param::CovarianceCoeff, 2e9),
        (Param::StdTarget, 0.0),
        (Param::Epsilon, 0.0),
        (Param::Epsilon, f64::INFINITY),
        (Param::Convention, 2.0),
        (Param::Convention, 0.5),
        (Param::Path, 3.0),
        (Param::Path, -1.0),
        (Param::GradScale, -0.5),
    ];
    for (param, value) in cases {
        let before = ctx.param(param).unwrap();
        assert_eq!(ctx.set_param(param, value), Err(Error::OutOfRange), "{:?} = {}", param, value);
        assert_eq!(ctx.param(param).unwrap().to_bits(), before.to_bits());
    }
    still_works(&mut ctx, loss);
}

#[test]
fn invalid_argument() {
    let (mut ctx, loss) = primed();
    assert_eq!(ctx.set_param_key(999, 1.0), Err(Error::InvalidArgument));
    assert_eq!(ctx.param_key(999), Err(Error::InvalidArgument));
    assert_eq!(ctx.term_key(999), Err(Error::InvalidArgument));
    assert_eq!(vicreg::param_bounds_key(999), Err(Error::InvalidArgument));
    // Statistics no batch can produce: a negative invariance sum.
    let (za, zb) = make_batches(5, N, D);
    let (a, b) = (Batch::packed(&za, D).unwrap(), Batch::packed(&zb, D).unwrap());
    let (sums_len, scatter_len) = vicreg::shard_sizes(D).unwrap();
    let mut sums = vec![0.0; sums_len];
    ctx.shard_sums(&a, &b, &mut sums).unwrap();
    sums[1] = -1.0;
    let mut scatter = vec![0.0; scatter_len];
    assert_eq!(ctx.shard_scatter(&a, &b, &sums, &mut scatter), Err(Error::InvalidArgument));
    assert!(scatter.iter().all(|&v| v == 0.0));
    still_works(&mut ctx, loss);
}

#[test]
fn no_memory() {
    let (mut ctx, loss) = primed();
    // A d x d covariance of 2^25 columns: 8 PiB, more than any machine
    // has, yet every size fits its type.
    ctx.set_path(Path::Covariance).unwrap();
    assert_eq!(ctx.reserve(2, 1 << 25, Precision::F64), Err(Error::NoMemory));
    still_works(&mut ctx, loss);
}

#[test]
fn no_result_before_the_first_call() {
    let mut ctx = Context::new().unwrap();
    assert_eq!(ctx.term(Term::Loss), Err(Error::NoResult));
    // A failed call does not make a result either.
    let (za, zb) = make_batches(5, N, D);
    let mut bad = za.clone();
    bad[0] = f64::NAN;
    assert_eq!(call_f64(&mut ctx, &bad, &zb, N, D), Err(Error::NonFinite));
    assert_eq!(ctx.term(Term::EffectiveRankA), Err(Error::NoResult));
    assert!(call_f64(&mut ctx, &za, &zb, N, D).is_ok());
    assert!(ctx.term(Term::EffectiveRankA).is_ok());
}

/// The raw declarations: every status the C functions give for arguments
/// the safe API cannot express (NULL pointers, aliasing buffers, arbitrary
/// sizes).
#[test]
fn raw_api_statuses() {
    let (mut ctx, loss) = primed();
    let (za, zb) = make_batches(5, N, D);
    let c = ctx.as_mut_ptr();
    let mut value = 0.0;
    let mut out = SENTINEL;
    let mut buf = za.clone();
    // Two spare entries: the second gradient starts two entries in.
    let mut gb = vec![SENTINEL; N * D + 2];
    unsafe {
        assert_eq!(sys::vicreg_ctx_create(ptr::null_mut()), sys::VICREG_ERR_INVALID_ARGUMENT);
        sys::vicreg_ctx_destroy(ptr::null_mut()); // a no-op
        assert_eq!(sys::vicreg_ctx_set_param(ptr::null_mut(), 1, 1.0), -1);
        assert_eq!(sys::vicreg_ctx_get_param(c, 1, ptr::null_mut()), -1);
        assert_eq!(sys::vicreg_ctx_get_param(c, 12345, &mut value), -1);
        assert_eq!(sys::vicreg_ctx_set_param(c, sys::VICREG_PARAM_EPSILON, -1.0), -2);
        assert_eq!(sys::vicreg_ctx_get_term(c, -3, &mut value), -1);
        assert_eq!(sys::vicreg_ctx_scratch_bytes(c, N, D, 7, ptr::null_mut()), -1);
        let loss_f64 = |ctx, n, d, a: *const f64, lda, b: *const f64, ldb, out: *mut f64,
                        ga: *mut f64, ldga, gbp: *mut f64, ldgb| {
            sys::vicreg_loss_f64(ctx, n, d, a, lda, b, ldb, out, ga, ldga, gbp, ldgb)
        };
        let (a, b) = (za.as_ptr(), zb.as_ptr());
        let g = gb.as_mut_ptr();
        let null = ptr::null_mut::<f64>();
        assert_eq!(loss_f64(ptr::null_mut(), N, D, a, D, b, D, &mut out, null, 0, null, 0), -1);
        assert_eq!(loss_f64(c, N, D, ptr::null(), D, b, D, &mut out, null, 0, null, 0), -1);
        assert_eq!(loss_f64(c, N, D, a, D - 1, b, D, &mut out, null, 0, null, 0), -5);
        assert_eq!(loss_f64(c, N, D, a, D, b, D, &mut out, g, D - 1, null, 0), -5);
        assert_eq!(loss_f64(c, 1, D, a, D, b, D, &mut out, null, 0, null, 0), -5);
        assert_eq!(loss_f64(c, usize::MAX / 2, D, a, D, b, D, &mut out, null, 0, null, 0), -6);
        // Overlap: a gradient onto its own input, onto the other input, or
        // onto the other gradient; refused before anything is written.
        let p = buf.as_mut_ptr();
        assert_eq!(loss_f64(c, N, D, p, D, b, D, &mut out, p, D, null, 0), -7);
        assert_eq!(loss_f64(c, N, D, a, D, p, D, &mut out, p, D, null, 0), -7);
        assert_eq!(loss_f64(c, N, D, a, D, b, D, &mut out, g, D, g.add(2), D), -7);
    }
    assert_eq!(out, SENTINEL, "the loss was written on error");
    assert_eq!(buf, za, "the overlapping buffer was written");
    assert!(gb.iter().all(|&v| v == SENTINEL));
    still_works(&mut ctx, loss);
}
