//! The context's life and settings: version, parameters and their bounds,
//! terms, scratch queries, the gradient scale, a context moved to another
//! thread.

mod common;

use common::{loss_grad, make_batches};
use vicreg::{sys, Batch, BatchMut, Context, Convention, Param, Path, Precision, Term};

#[test]
fn version_of_the_running_library() {
    let number = vicreg::version_number();
    // Same major version, and at least the version the crate declares.
    assert_eq!(number / 10000, sys::VICREG_VERSION_MAJOR);
    assert!(number >= sys::VICREG_VERSION_NUMBER);
    let text = format!("{}.{}.{}", number / 10000, number / 100 % 100, number % 100);
    assert_eq!(vicreg::version_string(), text);
}

#[test]
fn defaults_and_round_trips() {
    let mut ctx = Context::new().unwrap();
    let defaults = [
        (Param::InvarianceCoeff, 25.0),
        (Param::VarianceCoeff, 25.0),
        (Param::CovarianceCoeff, 1.0),
        (Param::StdTarget, 1.0),
        (Param::Epsilon, 1e-4),
        (Param::Convention, 0.0),
        (Param::Path, 0.0),
        (Param::GradScale, 1.0),
    ];
    for (param, value) in defaults {
        assert_eq!(ctx.param(param), Ok(value), "{:?}", param);
        assert_eq!(ctx.param_key(param.key()), Ok(value));
    }
    for (param, value) in [
        (Param::InvarianceCoeff, 3.5),
        (Param::VarianceCoeff, 0.0),
        (Param::CovarianceCoeff, 1e9),
        (Param::StdTarget, 0.25),
        (Param::Epsilon, f64::MIN_POSITIVE),
        (Param::GradScale, 4.0),
    ] {
        ctx.set_param(param, value).unwrap();
        assert_eq!(ctx.param(param), Ok(value));
    }
    ctx.set_convention(Convention::Paper).unwrap();
    assert_eq!(ctx.param(Param::Convention), Ok(f64::from(sys::VICREG_CONVENTION_PAPER)));
    ctx.set_path(Path::Gram).unwrap();
    assert_eq!(ctx.param(Param::Path), Ok(f64::from(sys::VICREG_PATH_GRAM)));
    // A second context keeps its own parameters.
    assert_eq!(Context::new().unwrap().param(Param::InvarianceCoeff), Ok(25.0));
}

#[test]
fn bounds_as_documented() {
    assert_eq!(vicreg::param_bounds(Param::InvarianceCoeff), Ok((0.0, 1e9)));
    assert_eq!(vicreg::param_bounds(Param::Epsilon), Ok((f64::MIN_POSITIVE, 1e9)));
    assert_eq!(vicreg::param_bounds(Param::StdTarget), Ok((f64::MIN_POSITIVE, 1e9)));
    assert_eq!(vicreg::param_bounds(Param::GradScale), Ok((0.0, 1e9)));
    assert_eq!(vicreg::param_bounds(Param::Convention), Ok((0.0, 1.0)));
    assert_eq!(vicreg::param_bounds(Param::Path), Ok((0.0, 2.0)));
}

#[test]
fn terms_and_paths() {
    let (n, d) = (5, 12);
    let (za, zb) = make_batches(11, n, d);
    let (a, b) = (Batch::packed(&za, d).unwrap(), Batch::packed(&zb, d).unwrap());
    let mut ctx = Context::new().unwrap();
    let loss = ctx.loss(&a, &b).unwrap();
    assert_eq!(ctx.term(Term::Loss), Ok(loss));
    // n < d: the automatic path takes the Gram matrix.
    assert_eq!(ctx.term(Term::PathUsed), Ok(2.0));
    // The loss is the documented combination of the terms (reference
    // convention: weights 25, 25/2, 1).
    let t = |term| ctx.term(term).unwrap();
    let sum = 25.0 * t(Term::Invariance)
        + 12.5 * (t(Term::VarianceA) + t(Term::VarianceB))
        + t(Term::CovarianceA)
        + t(Term::CovarianceB);
    assert!(common::rel(sum, loss) < 1e-13);
    // Diagnostics in their documented ranges: an effective rank between 1
    // and min(n - 1, d), a fraction of columns, a mean std above the min.
    for (rank, frac, mean, min) in [
        (Term::EffectiveRankA, Term::CollapsedFractionA, Term::MeanStdA, Term::MinStdA),
        (Term::EffectiveRankB, Term::CollapsedFractionB, Term::MeanStdB, Term::MinStdB),
    ] {
        assert!(t(rank) >= 1.0 && t(rank) <= (n - 1) as f64 + 1e-12);
        assert!((0.0..=1.0).contains(&t(frac)));
        assert!(t(mean) >= t(min) && t(min) > 0.0);
    }
    ctx.set_path(Path::Covariance).unwrap();
    let again = ctx.loss(&a, &b).unwrap();
    assert_eq!(ctx.term(Term::PathUsed), Ok(1.0));
    assert!(common::rel(again, loss) < 1e-12);
}

#[test]
fn scratch_queries() {
    let mut ctx = Context::new().unwrap();
    let f32_bytes = ctx.scratch_bytes(64, 16, Precision::F32).unwrap();
    let f64_bytes = ctx.scratch_bytes(64, 16, Precision::F64).unwrap();
    assert!(f32_bytes > 0 && f64_bytes >= f32_bytes);
    ctx.reserve(64, 16, Precision::F64).unwrap();
    ctx.set_path(Path::Gram).unwrap();
    // The Gram path of 64 rows needs a 64 x 64 matrix, more than 16 x 16.
    assert!(ctx.scratch_bytes(64, 16, Precision::F64).unwrap() > f64_bytes);
}

/// Gradients with and without buffers, one at a time, and the gradient
/// scale: a power of two scales them exactly.
#[test]
fn gradients_optional_and_scaled() {
    let (n, d) = (9, 5);
    let (za, zb) = make_batches(13, n, d);
    let (a, b) = (Batch::packed(&za, d).unwrap(), Batch::packed(&zb, d).unwrap());
    let mut ctx = Context::new().unwrap();
    let (loss, ga, gb) = loss_grad(&mut ctx, &a, &b);
    assert_eq!(ctx.loss(&a, &b), Ok(loss));
    let mut only_b = vec![0.0; n * d];
    let r = ctx.loss_with(&a, &b, None, Some(&mut BatchMut::packed(&mut only_b, d).unwrap()));
    assert_eq!(r, Ok(loss));
    assert_eq!(only_b, gb);
    // The gradient of the invariance term pulls za towards zb: not zero.
    assert!(ga.iter().any(|&v| v != 0.0));

    ctx.set_param(Param::GradScale, 4.0).unwrap();
    let (loss4, ga4, gb4) = loss_grad(&mut ctx, &a, &b);
    assert_eq!(loss4, loss, "the scale applies to gradients only");
    for k in 0..n * d {
        assert_eq!(ga4[k], 4.0 * ga[k]);
        assert_eq!(gb4[k], 4.0 * gb[k]);
    }
}

/// A context moves to another thread (Send) and computes there what it
/// computes here; contexts in different threads run at the same time.
#[test]
fn contexts_in_threads() {
    let (n, d) = (16, 8);
    let (za, zb) = make_batches(17, n, d);
    let mut here = Context::new().unwrap();
    let want = here.loss(&Batch::packed(&za, d).unwrap(), &Batch::packed(&zb, d).unwrap()).unwrap();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (za, zb) = (za.clone(), zb.clone());
            let mut ctx = Context::new().unwrap();
            std::thread::spawn(move || {
                let (a, b) = (Batch::packed(&za, d).unwrap(), Batch::packed(&zb, d).unwrap());
                (0..20).map(|_| ctx.loss(&a, &b).unwrap().to_bits()).collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for bits in h.join().unwrap() {
            assert_eq!(bits, want.to_bits());
        }
    }
}

/// Many contexts made and dropped, each after a call that allocated its
/// scratch; a leak would show under valgrind or as growth, a double free
/// as a crash.
#[test]
fn create_and_drop() {
    let (za, zb) = make_batches(19, 8, 4);
    for _ in 0..200 {
        let mut ctx = Context::new().unwrap();
        ctx.loss(&Batch::packed(&za, 4).unwrap(), &Batch::packed(&zb, 4).unwrap()).unwrap();
    }
}
