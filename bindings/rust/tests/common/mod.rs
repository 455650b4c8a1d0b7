//! What the integration tests share: the committed PyTorch vectors
//! (tests/vectors/*.vec of the source tree; format in
//! scripts/gen_torch_vectors.py), a small deterministic generator and the
//! error measures of the C tests.
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;

use vicreg::{Batch, BatchMut, Context, Term};

/// The six values every vector file carries, in VICREG_TERM_* order.
pub const TERM_KEYS: [&str; 6] = [
    "loss",
    "invariance",
    "variance_a",
    "variance_b",
    "covariance_a",
    "covariance_b",
];

/// The same six, as terms of the safe API.
pub const TERMS: [Term; 6] = [
    Term::Loss,
    Term::Invariance,
    Term::VarianceA,
    Term::VarianceB,
    Term::CovarianceA,
    Term::CovarianceB,
];

#[derive(Debug)]
pub struct Case {
    pub file: String,
    pub name: String,
    pub n: usize,
    pub d: usize,
    pub paper: bool,
    pub lambda: f64,
    pub mu: f64,
    pub nu: f64,
    pub gamma: f64,
    pub eps: f64,
    /// loss, invariance, variance_a, variance_b, covariance_a, covariance_b
    pub terms: [f64; 6],
    /// The scale of a term whose reference value is 0 (see zero_scales).
    pub zero_scale: [f64; 6],
    pub za: Vec<f64>,
    pub zb: Vec<f64>,
    pub ga: Vec<f64>,
    pub gb: Vec<f64>,
}

/// VICREG_VECTORS_DIR, else tests/vectors of the source tree this crate is in.
pub fn vectors_dir() -> PathBuf {
    match std::env::var_os("VICREG_VECTORS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors"),
    }
}

fn number(file: &str, what: &str, tok: Option<&str>) -> f64 {
    let tok = tok.unwrap_or_else(|| panic!("{}: {}: unexpected end of file", file, what));
    match tok.parse::<f64>() {
        Ok(v) if v.is_finite() => v,
        _ => panic!("{}: {}: bad number '{}'", file, what, tok),
    }
}

/// One vector file; panics (fails the test) on anything malformed.
pub fn load_case(file: &str, text: &str) -> Case {
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let mut toks = body.split_whitespace().peekable();
    assert_eq!(toks.next(), Some("vicreg-vector-v1"), "{}: magic", file);
    let mut meta = std::collections::HashMap::new();
    while let Some(tok) = toks.peek() {
        match tok.split_once('=') {
            Some((key, value)) => {
                assert!(
                    meta.insert(key.to_string(), value.to_string()).is_none(),
                    "{}: duplicate key {}",
                    file,
                    key
                );
                toks.next();
            }
            None => break,
        }
    }
    let get = |key: &str| -> &str {
        meta.get(key)
            .unwrap_or_else(|| panic!("{}: missing key {}", file, key))
            .as_str()
    };
    let num = |key: &str| number(file, key, Some(get(key)));
    let n: usize = get("n").parse().expect("n");
    let d: usize = get("d").parse().expect("d");
    assert!(n >= 2 && d >= 1, "{}: shape {} x {}", file, n, d);
    let convention = get("convention");
    assert!(convention == "reference" || convention == "paper", "{}: convention", file);
    let mut terms = [0.0; 6];
    for (k, key) in TERM_KEYS.iter().enumerate() {
        terms[k] = num(key);
    }
    let mut matrix = |label: &str, round_f32: bool| -> Vec<f64> {
        assert_eq!(toks.next(), Some(label), "{}: label {}", file, label);
        (0..n * d)
            .map(|k| {
                let v = number(file, &format!("{}[{}]", label, k), toks.next());
                // The inputs are float32 numbers printed as shortest decimals.
                if round_f32 {
                    v as f32 as f64
                } else {
                    v
                }
            })
            .collect()
    };
    let za = matrix("za", true);
    let zb = matrix("zb", true);
    let ga = matrix("grad_a", false);
    let gb = matrix("grad_b", false);
    assert_eq!(toks.next(), None, "{}: trailing data", file);
    let mut case = Case {
        file: file.to_string(),
        name: get("name").to_string(),
        n,
        d,
        paper: convention == "paper",
        lambda: num("lambda"),
        mu: num("mu"),
        nu: num("nu"),
        gamma: num("gamma"),
        eps: num("eps"),
        terms,
        zero_scale: [0.0; 6],
        za,
        zb,
        ga,
        gb,
    };
    case.zero_scale = zero_scales(&case);
    case
}

/// The natural scale of each term, for a term whose reference is exactly 0
/// (no relative error exists): as tests/test-vectors.c explains, gamma for
/// a variance term, (sum_j Var_j)^2 / d for a covariance term, the mean
/// square entry for the invariance and the weighted sum for the loss.
fn zero_scales(c: &Case) -> [f64; 6] {
    let (n, d) = (c.n, c.d);
    let mut sum_var = [0.0; 2];
    for (b, z) in [&c.za, &c.zb].iter().enumerate() {
        for j in 0..d {
            let mean = (0..n).map(|i| z[i * d + j]).sum::<f64>() / n as f64;
            let var = (0..n).map(|i| (z[i * d + j] - mean).powi(2)).sum::<f64>();
            sum_var[b] += var / (n - 1) as f64;
        }
    }
    let sq: f64 = c.za.iter().chain(c.zb.iter()).map(|v| v * v).sum();
    let inv = sq / (n * d) as f64 * if c.paper { d as f64 } else { 1.0 };
    let cov = [sum_var[0].powi(2) / d as f64, sum_var[1].powi(2) / d as f64];
    let loss = c.lambda * inv + 2.0 * c.mu * c.gamma + c.nu * (cov[0] + cov[1]);
    [loss, inv, c.gamma, c.gamma, cov[0], cov[1]]
}

/// Every *.vec file of the vector directory, in name order; fails the test
/// when there is none.
pub fn load_all() -> Vec<Case> {
    let dir = vectors_dir();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {}", dir.display(), e))
        .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".vec") && !name.starts_with('.'))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no vector files in {}", dir.display());
    names
        .iter()
        .map(|name| {
            let text = fs::read_to_string(dir.join(name))
                .unwrap_or_else(|e| panic!("cannot read {}: {}", name, e));
            load_case(name, &text)
        })
        .collect()
}

/// max_k |got_k - want_k| / max_k |want_k|: the normwise relative error.
pub fn rel_err(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let mut err: f64 = 0.0;
    let mut scale: f64 = 0.0;
    for (g, w) in got.iter().zip(want) {
        if !g.is_finite() {
            return f64::INFINITY;
        }
        err = err.max((g - w).abs());
        scale = scale.max(w.abs());
    }
    err / scale.max(f64::MIN_POSITIVE)
}

/// |got - want| / |want|.
pub fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(f64::MIN_POSITIVE)
}

/// splitmix64: the same data on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 52) as f64) - 1.0
    }
}

/// A correlated pair of n x d batches (packed): columns of different scales
/// (some below gamma = 1, some above), zb = za + noise; every value a
/// float32 number so that the f32 and f64 calls see the same inputs.
pub fn make_batches(seed: u64, n: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let scale: Vec<f64> = (0..d).map(|_| 1.1 + 0.9 * rng.uniform()).collect();
    let mut za = vec![0.0; n * d];
    let mut zb = vec![0.0; n * d];
    for i in 0..n {
        let shared = rng.uniform();
        for j in 0..d {
            let v = scale[j] * (rng.uniform() + 0.5 * shared);
            za[i * d + j] = v as f32 as f64;
            zb[i * d + j] = (v + 0.3 * rng.uniform()) as f32 as f64;
        }
    }
    (za, zb)
}

/// `v` as a vector of f32.
pub fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// `ctx.loss_grad` of `a` and `b` into new packed gradient buffers: the
/// loss, grad_a and grad_b.
pub fn loss_grad(
    ctx: &mut Context,
    a: &Batch<'_, f64>,
    b: &Batch<'_, f64>,
) -> (f64, Vec<f64>, Vec<f64>) {
    let (len, d) = (a.rows() * a.cols(), a.cols());
    let (mut ga, mut gb) = (vec![0.0; len], vec![0.0; len]);
    let loss = ctx
        .loss_grad(
            a,
            b,
            &mut BatchMut::packed(&mut ga, d).unwrap(),
            &mut BatchMut::packed(&mut gb, d).unwrap(),
        )
        .unwrap();
    (loss, ga, gb)
}
