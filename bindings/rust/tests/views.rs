//! The views calls (since libvicreg 1.2) against the committed PyTorch
//! autograd vectors of tests/vectors/views (scripts/gen_views_vectors.py),
//! with the tolerances of the two-view vectors (1e-10 in f64, 1e-4 in f32);
//! two views against the two-batch call (the same bits); the per-view
//! terms, the global-views parameter, the rows variant, the sharded views
//! phases and every error the safe API can meet.

mod common;

use std::collections::HashMap;
use std::fs;

use common::{make_batches, rel, rel_err, to_f32, vectors_dir, Rng};
use vicreg::{
    Batch, BatchMut, Context, Convention, Error, Param, Precision, Term, ViewTerm, MAX_VIEWS,
};

/// The per-view terms the vector files carry, with their keys there.
const VIEW_TERMS: [(ViewTerm, &str); 5] = [
    (ViewTerm::Variance, "variance"),
    (ViewTerm::Covariance, "covariance"),
    (ViewTerm::MeanStd, "mean_std"),
    (ViewTerm::MinStd, "min_std"),
    (ViewTerm::CollapsedFraction, "collapsed_fraction"),
];

struct ViewsCase {
    name: String,
    views: usize,
    global_views: usize,
    n: usize,
    d: usize,
    paper: bool,
    f32_inputs: bool,
    meta: HashMap<String, f64>,
    z: Vec<Vec<f64>>,
    grad: Vec<Vec<f64>>,
}

fn load_views_case(file: &str, text: &str) -> ViewsCase {
    let body: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
    let mut toks = body.iter().flat_map(|line| line.split_whitespace()).peekable();
    assert_eq!(toks.next(), Some("vicreg-views-vector-v1"), "{}: magic", file);
    let mut words = HashMap::new();
    while let Some((key, value)) = toks.peek().and_then(|tok| tok.split_once('=')) {
        words.insert(key.to_string(), value.to_string());
        toks.next();
    }
    let word = |key: &str| words.get(key).unwrap_or_else(|| panic!("{}: no {}", file, key));
    let int = |key: &str| word(key).parse::<usize>().expect(key);
    let (views, n, d) = (int("views"), int("n"), int("d"));
    let f32_inputs = word("inputs") == "f32";
    let meta =
        words.iter().filter_map(|(k, v)| Some((k.clone(), v.parse::<f64>().ok()?))).collect();
    let mut matrix = |label: String, round: bool| -> Vec<f64> {
        assert_eq!(toks.next(), Some(label.as_str()), "{}: label", file);
        (0..n * d)
            .map(|_| {
                let v: f64 = toks.next().expect("value").parse().expect("number");
                if round {
                    v as f32 as f64
                } else {
                    v
                }
            })
            .collect()
    };
    let z = (0..views).map(|k| matrix(format!("z{}", k), f32_inputs)).collect();
    let grad = (0..views).map(|k| matrix(format!("grad{}", k), false)).collect();
    assert_eq!(toks.next(), None, "{}: trailing data", file);
    ViewsCase {
        name: word("name").clone(),
        views,
        global_views: int("global_views"),
        n,
        d,
        paper: word("convention") == "paper",
        f32_inputs,
        meta,
        z,
        grad,
    }
}

fn load_views_cases() -> Vec<ViewsCase> {
    let dir = vectors_dir().join("views");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {}", dir.display(), e))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".vec"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no vector files in {}", dir.display());
    names
        .iter()
        .map(|name| load_views_case(name, &fs::read_to_string(dir.join(name)).expect("read")))
        .collect()
}

fn context_for(c: &ViewsCase) -> Context {
    let mut ctx = Context::new().unwrap();
    for (param, key) in [
        (Param::InvarianceCoeff, "lambda"),
        (Param::VarianceCoeff, "mu"),
        (Param::CovarianceCoeff, "nu"),
        (Param::StdTarget, "gamma"),
        (Param::Epsilon, "eps"),
    ] {
        ctx.set_param(param, c.meta[key]).unwrap();
    }
    ctx.set_convention(if c.paper { Convention::Paper } else { Convention::Reference }).unwrap();
    ctx.set_param(Param::GlobalViews, c.global_views as f64).unwrap();
    ctx
}

/// `|got - want|` within `tol` of `want`, or of 1 for values near 0.
fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * want.abs().max(1.0)
}

/// One case through the f64 or f32 entry point, the views padded to
/// leading dimension d + 1 + v and the gradients to d + 2 + v; the failures
/// go into `failures`.
fn run_case<T: Copy + vicreg::Real>(
    c: &ViewsCase,
    conv: fn(f64) -> T,
    back: fn(T) -> f64,
    tol: f64,
    failures: &mut Vec<String>,
) {
    let (n, d) = (c.n, c.d);
    let zs: Vec<Vec<T>> = c
        .z
        .iter()
        .enumerate()
        .map(|(v, z)| {
            let ld = d + 1 + v;
            let mut out = vec![conv(f64::NAN); n * ld];
            for i in 0..n {
                for j in 0..d {
                    out[i * ld + j] = conv(z[i * d + j]);
                }
            }
            out
        })
        .collect();
    let batches: Vec<Batch<'_, T>> =
        zs.iter().enumerate().map(|(v, z)| Batch::new(z, n, d, d + 1 + v).unwrap()).collect();
    let mut gs: Vec<Vec<T>> = (0..c.views).map(|v| vec![conv(-7.0); n * (d + 2 + v)]).collect();
    let mut grads: Vec<BatchMut<'_, T>> = gs
        .iter_mut()
        .enumerate()
        .map(|(v, g)| BatchMut::new(g, n, d, d + 2 + v).unwrap())
        .collect();
    let mut ctx = context_for(c);
    let what = format!("{} ({})", c.name, std::any::type_name::<T>());
    let loss = ctx.views_loss_grad(&batches, &mut grads).unwrap();
    drop(grads);
    if !close(loss, c.meta["loss"], tol) {
        failures.push(format!("{}: loss {} vs {}", what, loss, c.meta["loss"]));
    }
    let inv = ctx.term(Term::Invariance).unwrap();
    if !close(inv, c.meta["invariance"], tol) {
        failures.push(format!("{}: invariance {} vs {}", what, inv, c.meta["invariance"]));
    }
    for v in 0..c.views {
        for (term, key) in VIEW_TERMS {
            let want = c.meta[&format!("{}_{}", key, v)];
            let got = ctx.view_term(term, v).unwrap();
            if !close(got, want, tol) {
                failures.push(format!("{}: {}_{} {} vs {}", what, key, v, got, want));
            }
        }
        let ld = d + 2 + v;
        let mut packed = Vec::with_capacity(n * d);
        for i in 0..n {
            packed.extend(gs[v][i * ld..i * ld + d].iter().map(|&x| back(x)));
            if gs[v][i * ld + d..(i + 1) * ld].iter().any(|&x| back(x) != -7.0) {
                failures.push(format!("{}: grad{} padding written", what, v));
            }
        }
        let err = rel_err(&packed, &c.grad[v]);
        if err > tol {
            failures.push(format!("{}: grad{} error {:e}", what, v, err));
        }
    }
    assert_eq!(ctx.view_term(ViewTerm::Variance, c.views), Err(Error::NoResult));
}

#[test]
fn the_views_vectors() {
    let cases = load_views_cases();
    let mut failures = Vec::new();
    for c in &cases {
        run_case::<f64>(c, |x| x, |x| x, 1e-10, &mut failures);
        if c.f32_inputs {
            run_case::<f32>(c, |x| x as f32, f64::from, 1e-4, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
    println!("{} views vectors", cases.len());
}

#[test]
fn two_views_are_the_two_batch_call() {
    let (n, d) = (11, 5);
    let (za, zb) = make_batches(7, n, d);
    for g in 0..=2 {
        let mut ctx = Context::new().unwrap();
        ctx.set_param(Param::GlobalViews, f64::from(g)).unwrap();
        let (a, b) = (Batch::packed(&za, d).unwrap(), Batch::packed(&zb, d).unwrap());
        let (mut ga, mut gb) = (vec![0.0; n * d], vec![0.0; n * d]);
        let pair = ctx
            .loss_grad(&a, &b, &mut BatchMut::packed(&mut ga, d).unwrap(),
                       &mut BatchMut::packed(&mut gb, d).unwrap())
            .unwrap();
        let pair_terms: Vec<f64> =
            VIEW_TERMS.iter().flat_map(|&(t, _)| (0..2).map(move |v| (t, v)))
                .map(|(t, v)| ctx.view_term(t, v).unwrap()).collect();
        assert_eq!(ctx.view_term(ViewTerm::EffectiveRank, 1).unwrap(),
                   ctx.term(Term::EffectiveRankB).unwrap());
        let (mut va, mut vb) = (vec![0.0; n * d], vec![0.0; n * d]);
        let mut grads =
            [BatchMut::packed(&mut va, d).unwrap(), BatchMut::packed(&mut vb, d).unwrap()];
        let views = ctx.views_loss_grad(&[a, b], &mut grads).unwrap();
        assert_eq!(views, pair, "G = {}", g);
        assert_eq!(va, ga);
        assert_eq!(vb, gb);
        let views_terms: Vec<f64> =
            VIEW_TERMS.iter().flat_map(|&(t, _)| (0..2).map(move |v| (t, v)))
                .map(|(t, v)| ctx.view_term(t, v).unwrap()).collect();
        assert_eq!(views_terms, pair_terms);
        assert_eq!(ctx.term(Term::VarianceB).unwrap(),
                   ctx.view_term(ViewTerm::Variance, 1).unwrap());
    }
}

/// `count` correlated views of n x d, packed.
fn make_views(seed: u64, count: usize, n: usize, d: usize) -> Vec<Vec<f64>> {
    let (base, _) = make_batches(seed, n, d);
    let mut rng = Rng::new(seed + 1);
    (0..count).map(|_| base.iter().map(|&x| x + 0.3 * rng.uniform()).collect()).collect()
}

fn packed(zs: &[Vec<f64>], d: usize) -> Vec<Batch<'_, f64>> {
    zs.iter().map(|z| Batch::packed(z, d).unwrap()).collect()
}

#[test]
fn partial_gradients_rows_and_float32() {
    let (n, d) = (12, 4);
    let zs = make_views(11, 4, n, d);
    let mut ctx = Context::new().unwrap();
    ctx.set_param(Param::GlobalViews, 2.0).unwrap();
    assert_eq!(ctx.param(Param::GlobalViews).unwrap(), 2.0);
    let views = packed(&zs, d);
    let mut full: Vec<Vec<f64>> = vec![vec![0.0; n * d]; 4];
    let mut bufs: Vec<BatchMut<'_, f64>> =
        full.iter_mut().map(|g| BatchMut::packed(g, d).unwrap()).collect();
    let loss = ctx.views_loss_grad(&views, &mut bufs).unwrap();
    drop(bufs);
    assert_eq!(ctx.views_loss(&views).unwrap(), loss);

    let (mut g1, mut g3) = (vec![0.0; n * d], vec![0.0; n * d]);
    let mut some = [None, Some(BatchMut::packed(&mut g1, d).unwrap()), None,
                    Some(BatchMut::packed(&mut g3, d).unwrap())];
    assert_eq!(ctx.views_loss_with(&views, &mut some).unwrap(), loss);
    drop(some);
    assert_eq!(g1, full[1]);
    assert_eq!(g3, full[3]);

    let (row0, rows) = (5, 4);
    let mut parts: Vec<Vec<f64>> = vec![vec![0.0; rows * d]; 4];
    let mut bufs: Vec<Option<BatchMut<'_, f64>>> =
        parts.iter_mut().map(|g| Some(BatchMut::packed(g, d).unwrap())).collect();
    assert_eq!(ctx.views_loss_rows(&views, row0, rows, &mut bufs).unwrap(), loss);
    drop(bufs);
    for (part, whole) in parts.iter().zip(&full) {
        assert_eq!(part[..], whole[row0 * d..(row0 + rows) * d]);
    }

    let zf: Vec<Vec<f32>> = zs.iter().map(|z| to_f32(z)).collect();
    let vf: Vec<Batch<'_, f32>> = zf.iter().map(|z| Batch::packed(z, d).unwrap()).collect();
    let mut gf: Vec<Vec<f32>> = vec![vec![0.0; n * d]; 4];
    let mut bufs: Vec<BatchMut<'_, f32>> =
        gf.iter_mut().map(|g| BatchMut::packed(g, d).unwrap()).collect();
    let lf = ctx.views_loss_grad(&vf, &mut bufs).unwrap();
    drop(bufs);
    assert!(rel(lf, loss) < 1e-5, "f32 loss {} vs {}", lf, loss);
    for (g, want) in gf.iter().zip(&full) {
        let g: Vec<f64> = g.iter().map(|&x| f64::from(x)).collect();
        assert!(rel_err(&g, want) < 1e-4);
    }
}

#[test]
fn one_view_and_the_global_views_parameter() {
    let (n, d) = (16, 5);
    let zs = make_views(21, 5, n, d);
    let views = packed(&zs, d);
    let mut ctx = Context::new().unwrap();
    assert_eq!(vicreg::param_bounds(Param::GlobalViews).unwrap(), (0.0, MAX_VIEWS as f64));
    ctx.set_convention(Convention::Paper).unwrap();
    let one = ctx.views_loss(&views[..1]).unwrap();
    assert_eq!(ctx.term(Term::Invariance).unwrap(), 0.0);
    let (v, c) = (ctx.view_term(ViewTerm::Variance, 0).unwrap(),
                  ctx.view_term(ViewTerm::Covariance, 0).unwrap());
    assert!(rel(one, 25.0 * v + c) < 1e-15);
    assert_eq!(ctx.term(Term::VarianceB), Err(Error::NoResult));

    let all = ctx.views_loss(&views).unwrap();
    ctx.set_param(Param::GlobalViews, 5.0).unwrap();
    assert_eq!(ctx.views_loss(&views).unwrap(), all);
    ctx.set_param(Param::GlobalViews, 2.0).unwrap();
    assert_ne!(ctx.views_loss(&views).unwrap(), all);
    for bad in [-1.0, 1.5, 65.0, f64::NAN] {
        assert_eq!(ctx.set_param(Param::GlobalViews, bad), Err(Error::OutOfRange));
    }
    assert_eq!(ctx.param(Param::GlobalViews).unwrap(), 2.0);
}

#[test]
fn scratch_query_and_reserve() {
    let mut ctx = Context::new().unwrap();
    let small = ctx.views_scratch_bytes(2, 16, 8, Precision::F64).unwrap();
    let big = ctx.views_scratch_bytes(6, 16, 8, Precision::F64).unwrap();
    assert!(0 < small && small <= big);
    ctx.views_reserve(6, 16, 8, Precision::F64).unwrap();
    assert_eq!(ctx.views_scratch_bytes(0, 16, 8, Precision::F64), Err(Error::BadShape));
    assert_eq!(ctx.views_reserve(MAX_VIEWS + 1, 16, 8, Precision::F32), Err(Error::BadShape));
    let zs = make_views(31, 6, 16, 8);
    assert!(ctx.views_loss(&packed(&zs, 8)).unwrap().is_finite());
}

#[test]
fn errors() {
    let (n, d) = (6, 3);
    let zs = make_views(41, 3, n, d);
    let views = packed(&zs, d);
    let mut ctx = Context::new().unwrap();
    assert_eq!(ctx.view_term(ViewTerm::Variance, 0), Err(Error::NoResult));
    assert_eq!(ctx.views_loss::<f64>(&[]), Err(Error::BadShape));
    let many: Vec<Batch<'_, f64>> = (0..=MAX_VIEWS).map(|_| views[0]).collect();
    assert_eq!(ctx.views_loss(&many), Err(Error::BadShape));
    assert!(ctx.views_loss(&many[..MAX_VIEWS]).unwrap().is_finite());
    let short = Batch::packed(&zs[2][..(n - 1) * d], d).unwrap();
    assert_eq!(ctx.views_loss(&[views[0], views[1], short]), Err(Error::BadShape));
    let one_row: Vec<Batch<'_, f64>> = zs.iter().map(|z| Batch::new(z, 1, d, d).unwrap()).collect();
    assert_eq!(ctx.views_loss(&one_row), Err(Error::BadShape));

    let good = ctx.views_loss(&views).unwrap();
    let mut g: Vec<Vec<f64>> = vec![vec![5.0; n * d]; 3];
    {
        let mut two: Vec<BatchMut<'_, f64>> =
            g.iter_mut().take(2).map(|g| BatchMut::packed(g, d).unwrap()).collect();
        assert_eq!(ctx.views_loss_grad(&views, &mut two), Err(Error::BadShape));
    }
    ctx.set_param(Param::GlobalViews, 4.0).unwrap();
    assert_eq!(ctx.views_loss(&views), Err(Error::BadShape));
    ctx.set_param(Param::GlobalViews, 0.0).unwrap();

    let mut bad = zs.clone();
    bad[1][4] = f64::NAN;
    {
        let mut bufs: Vec<BatchMut<'_, f64>> =
            g.iter_mut().map(|g| BatchMut::packed(g, d).unwrap()).collect();
        assert_eq!(ctx.views_loss_grad(&packed(&bad, d), &mut bufs), Err(Error::NonFinite));
        let mut rows: Vec<Option<BatchMut<'_, f64>>> = bufs.into_iter().map(Some).collect();
        assert_eq!(ctx.views_loss_rows(&views, n - 1, 2, &mut rows), Err(Error::BadShape));
    }
    assert!(g.iter().all(|g| g.iter().all(|&x| x == 5.0)), "a failed call wrote a gradient");
    assert_eq!(ctx.term(Term::Loss).unwrap(), good);
    assert_eq!(ctx.view_term_key(99, 0), Err(Error::InvalidArgument));
    assert_eq!(ctx.view_term(ViewTerm::Variance, 3), Err(Error::NoResult));
    let huge: Vec<f64> = zs[0].iter().map(|x| x * 1e300).collect();
    let over = [Batch::packed(&huge, d).unwrap(), views[1]];
    assert_eq!(ctx.views_loss(&over), Err(Error::Overflow));
    // The same batch twice is allowed (views may overlap; gradients may not,
    // which the borrows rule out).
    assert!(ctx.views_loss(&[views[0], views[0], views[1]]).unwrap().is_finite());
}

#[test]
fn sharded_views_equal_the_whole_batch() {
    let (n, d, count) = (13, 4, 4);
    let zs = make_views(51, count, n, d);
    let mut ctx = Context::new().unwrap();
    ctx.set_param(Param::GlobalViews, 2.0).unwrap();
    let mut want: Vec<Vec<f64>> = vec![vec![0.0; n * d]; count];
    let mut bufs: Vec<BatchMut<'_, f64>> =
        want.iter_mut().map(|g| BatchMut::packed(g, d).unwrap()).collect();
    let whole = ctx.views_loss_grad(&packed(&zs, d), &mut bufs).unwrap();
    drop(bufs);

    let cuts = [(0, 0), (0, 6), (6, 7), (7, n)];
    let shard = |a: usize, b: usize| -> Vec<Batch<'_, f64>> {
        zs.iter().map(|z| Batch::new(&z[a * d..b * d], b - a, d, d).unwrap()).collect()
    };
    let (sums_len, scatter_len) = vicreg::shard_views_sizes(count, d).unwrap();
    assert_eq!((sums_len, scatter_len), (2 + count * d, count * d * (d + 1) / 2));
    let mut sums = vec![0.0; sums_len];
    for &(a, b) in &cuts {
        ctx.shard_views_sums(&shard(a, b), &mut sums).unwrap();
    }
    assert_eq!(sums[0], n as f64);
    let mut scatter = vec![0.0; scatter_len];
    for &(a, b) in &cuts {
        ctx.shard_views_scatter(&shard(a, b), &sums, &mut scatter).unwrap();
    }
    let mut got: Vec<Vec<f64>> = vec![Vec::new(); count];
    for &(a, b) in &cuts {
        let mut rows: Vec<Vec<f64>> = vec![vec![0.0; (b - a) * d]; count];
        let mut bufs: Vec<Option<BatchMut<'_, f64>>> =
            rows.iter_mut().map(|g| Some(BatchMut::new(g, b - a, d, d).unwrap())).collect();
        let loss = ctx.shard_views_finish(&shard(a, b), &sums, &scatter, &mut bufs).unwrap();
        drop(bufs);
        assert!(rel(loss, whole) < 1e-12, "shard loss {} vs {}", loss, whole);
        for (g, r) in got.iter_mut().zip(rows) {
            g.extend(r);
        }
    }
    for (g, w) in got.iter().zip(&want) {
        assert!(rel_err(g, w) < 1e-12);
    }
    assert_eq!(ctx.shard_views_sums(&shard(0, n), &mut sums[..sums_len - 1]), Err(Error::BadShape));
    assert_eq!(vicreg::shard_views_sizes(0, d), Err(Error::BadShape));
}

#[test]
fn threads_give_the_same_bits() {
    // Param::Threads (libvicreg 1.3): the passes on three threads give the
    // loss and every gradient bit for bit as on one.
    let (n, d) = (300, 500);
    let zs = make_views(21, 3, n, d);
    let views = packed(&zs, d);
    let mut results = Vec::new();
    for threads in [1.0, 3.0] {
        let mut ctx = Context::new().unwrap();
        ctx.set_param(Param::Threads, threads).unwrap();
        assert_eq!(ctx.param(Param::Threads).unwrap(), threads);
        let mut grads: Vec<Vec<f64>> = vec![vec![0.0; n * d]; 3];
        let mut bufs: Vec<BatchMut<'_, f64>> =
            grads.iter_mut().map(|g| BatchMut::packed(g, d).unwrap()).collect();
        let loss = ctx.views_loss_grad(&views, &mut bufs).unwrap();
        drop(bufs);
        results.push((loss, grads));
    }
    assert_eq!(results[0].0.to_bits(), results[1].0.to_bits());
    assert_eq!(results[0].1, results[1].1);
}
