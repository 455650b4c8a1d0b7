//! The safe API against the committed PyTorch autograd vectors: every file
//! through f64 and f32, on both covariance paths, packed and with leading
//! dimensions larger than d. Tolerances as in the C test (tests/test-vectors.c
//! explains them): 1e-10 in f64, 1e-4 in f32; relative error for the loss
//! and the terms, normwise relative error for each gradient, and for a term
//! whose reference is exactly 0, |got| over the term's natural scale.

mod common;

use common::{load_all, rel_err, Case, TERMS, TERM_KEYS};
use vicreg::{Batch, BatchMut, Context, Convention, Param, Path, Real, Term};

/// The value gradient buffers hold before a call: written entries must lose
/// it, padding must keep it.
const SENTINEL: f64 = -7777.25;

trait Elem: Real {
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
}

impl Elem for f32 {
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Elem for f64 {
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// Leading dimensions: packed, or padded by different amounts so that a
/// mix-up between them shows.
fn layout(d: usize, padded: bool) -> [usize; 4] {
    if padded {
        [d + 1, d + 3, d + 2, d + 5]
    } else {
        [d; 4]
    }
}

/// `m` (n x d, packed) copied into rows of leading dimension ld, padding
/// filled with `pad`.
fn spread<T: Elem>(m: &[f64], n: usize, d: usize, ld: usize, pad: f64) -> Vec<T> {
    let mut out = vec![T::from_f64(pad); (n - 1) * ld + d + (ld - d)];
    for i in 0..n {
        for j in 0..d {
            out[i * ld + j] = T::from_f64(m[i * d + j]);
        }
    }
    out
}

struct Worst {
    terms: f64,
    grads: f64,
    failures: Vec<String>,
    runs: usize,
}

fn set_params(ctx: &mut Context, c: &Case, path: Path) {
    ctx.set_param(Param::InvarianceCoeff, c.lambda).unwrap();
    ctx.set_param(Param::VarianceCoeff, c.mu).unwrap();
    ctx.set_param(Param::CovarianceCoeff, c.nu).unwrap();
    ctx.set_param(Param::StdTarget, c.gamma).unwrap();
    ctx.set_param(Param::Epsilon, c.eps).unwrap();
    let convention = if c.paper { Convention::Paper } else { Convention::Reference };
    ctx.set_convention(convention).unwrap();
    ctx.set_path(path).unwrap();
}

fn run_case<T: Elem>(ctx: &mut Context, c: &Case, padded: bool, tol: f64, w: &mut Worst, what: &str) {
    let (n, d) = (c.n, c.d);
    let [lda, ldb, ldga, ldgb] = layout(d, padded);
    // NaN padding: a read of the padding would poison the results.
    let za: Vec<T> = spread(&c.za, n, d, lda, f64::NAN);
    let zb: Vec<T> = spread(&c.zb, n, d, ldb, f64::NAN);
    let mut ga: Vec<T> = vec![T::from_f64(SENTINEL); (n - 1) * ldga + d];
    let mut gb: Vec<T> = vec![T::from_f64(SENTINEL); n * ldgb];
    w.runs += 1;
    let loss = {
        let a = Batch::new(&za, n, d, lda).unwrap();
        let b = Batch::new(&zb, n, d, ldb).unwrap();
        let mut ba = BatchMut::new(&mut ga, n, d, ldga).unwrap();
        let mut bb = BatchMut::new(&mut gb, n, d, ldgb).unwrap();
        match ctx.loss_grad(&a, &b, &mut ba, &mut bb) {
            Ok(loss) => loss,
            Err(e) => {
                w.failures.push(format!("{}: {}", what, e));
                return;
            }
        }
    };
    let mut got = [0.0; 6];
    for k in 0..6 {
        got[k] = ctx.term(TERMS[k]).unwrap();
    }
    if got[0] != loss {
        w.failures.push(format!("{}: loss {} but Term::Loss {}", what, loss, got[0]));
    }
    for k in 0..6 {
        let want = c.terms[k];
        let err = if want != 0.0 {
            let e = (got[k] - want).abs() / want.abs();
            w.terms = w.terms.max(e);
            e
        } else {
            got[k].abs() / c.zero_scale[k]
        };
        if !(err <= tol) {
            w.failures.push(format!(
                "{}: {} got {:e} want {:e} (error {:e})",
                what, TERM_KEYS[k], got[k], want, err
            ));
        }
    }
    for (label, buf, ld, want) in [("grad_a", &ga, ldga, &c.ga), ("grad_b", &gb, ldgb, &c.gb)] {
        let mut packed = vec![0.0; n * d];
        for i in 0..n {
            for j in 0..d {
                packed[i * d + j] = buf[i * ld + j].to_f64();
            }
            for j in d..ld {
                if i * ld + j < buf.len() && buf[i * ld + j].to_f64() != SENTINEL {
                    w.failures.push(format!("{}: {} padding written", what, label));
                }
            }
        }
        let err = rel_err(&packed, want);
        w.grads = w.grads.max(err);
        if !(err <= tol) {
            w.failures.push(format!("{}: {} normwise error {:e}", what, label, err));
        }
    }
}

fn against_torch<T: Elem>(precision: &str, tol: f64) {
    let cases = load_all();
    let mut w = Worst { terms: 0.0, grads: 0.0, failures: Vec::new(), runs: 0 };
    for path in [Path::Covariance, Path::Gram] {
        // One context per path for every case: parameters change and the
        // scratch grows and shrinks between calls.
        let mut ctx = Context::new().unwrap();
        for c in &cases {
            set_params(&mut ctx, c, path);
            for padded in [false, true] {
                let what = format!("{} [{}, {:?}, {}]", c.name, precision, path,
                                   if padded { "padded" } else { "packed" });
                run_case::<T>(&mut ctx, c, padded, tol, &mut w, &what);
                let used = ctx.term(Term::PathUsed).unwrap();
                let want = if path == Path::Covariance { 1.0 } else { 2.0 };
                if used != want {
                    w.failures.push(format!("{}: path used {}", what, used));
                }
            }
        }
    }
    println!(
        "vectors {}: {} files, {} runs, max relative error of loss and terms {:.3e}, \
         max normwise relative error of gradients {:.3e}",
        precision, cases.len(), w.runs, w.terms, w.grads
    );
    assert!(w.failures.is_empty(), "{} failures, first: {}", w.failures.len(), w.failures[0]);
    assert_eq!(w.runs, cases.len() * 4);
}

#[test]
fn f64_against_torch() {
    against_torch::<f64>("f64", 1e-10);
}

#[test]
fn f32_against_torch() {
    against_torch::<f32>("f32", 1e-4);
}

/// The files are what the tests above rely on: the loss is the documented
/// combination of the terms, and the set has both conventions and both
/// shapes of path choice.
#[test]
fn vector_files() {
    let cases = load_all();
    let (mut paper, mut reference, mut wide, mut tall) = (false, false, false, false);
    for c in &cases {
        let w = if c.paper { 1.0 } else { 0.5 };
        let t = &c.terms;
        let sum = c.lambda * t[1] + c.mu * w * (t[2] + t[3]) + c.nu * (t[4] + t[5]);
        assert!(common::rel(sum, t[0]) < 1e-13, "{}: loss {} terms give {}", c.file, t[0], sum);
        paper |= c.paper;
        reference |= !c.paper;
        wide |= c.n < c.d;
        tall |= c.n > c.d;
    }
    assert!(paper && reference && wide && tall);
}
