//! The 1.1 calls: a batch split into shards through the three phases, and
//! vicreg_loss_rows, against one loss call on the whole batch (tolerances
//! of the C tests: 1e-12 relative in f64, 1e-5 in f32).

mod common;

use common::{loss_grad, make_batches, rel, rel_err, to_f32, TERMS};
use vicreg::{Batch, BatchMut, Context};

/// The batches of `make_batches(seed, n, d)` and what one loss call on the
/// whole of them gives.
struct Whole {
    za: Vec<f64>,
    zb: Vec<f64>,
    loss: f64,
    terms: Vec<f64>,
    ga: Vec<f64>,
    gb: Vec<f64>,
}

fn whole(seed: u64, n: usize, d: usize) -> Whole {
    let (za, zb) = make_batches(seed, n, d);
    let mut ctx = Context::new().unwrap();
    let (loss, ga, gb) =
        loss_grad(&mut ctx, &Batch::packed(&za, d).unwrap(), &Batch::packed(&zb, d).unwrap());
    let terms = TERMS.iter().map(|&t| ctx.term(t).unwrap()).collect();
    Whole { za, zb, loss, terms, ga, gb }
}

#[test]
fn shards_equal_the_whole_batch_f64() {
    let (n, d) = (23, 6);
    let Whole { za, zb, loss: want_loss, terms: want_terms, ga: want_ga, gb: want_gb } =
        whole(29, n, d);
    // Shards of 0, 1, 7 and 15 rows, each with its own context.
    let bounds = [0, 0, 1, 8, n];
    let (sums_len, scatter_len) = vicreg::shard_sizes(d).unwrap();
    let mut ctxs: Vec<Context> = (0..4).map(|_| Context::new().unwrap()).collect();
    let shard = |k: usize, z: &[f64]| z[bounds[k] * d..bounds[k + 1] * d].to_vec();
    let mut sums = vec![0.0; sums_len];
    for (k, ctx) in ctxs.iter_mut().enumerate() {
        let (a, b) = (shard(k, &za), shard(k, &zb));
        let (a, b) = (Batch::new(&a, bounds[k + 1] - bounds[k], d, d).unwrap(),
                      Batch::new(&b, bounds[k + 1] - bounds[k], d, d).unwrap());
        ctx.shard_sums(&a, &b, &mut sums).unwrap();
    }
    assert_eq!(sums[0], n as f64);
    let mut scatter = vec![0.0; scatter_len];
    for (k, ctx) in ctxs.iter_mut().enumerate() {
        let (a, b) = (shard(k, &za), shard(k, &zb));
        let rows = bounds[k + 1] - bounds[k];
        let (a, b) = (Batch::new(&a, rows, d, d).unwrap(), Batch::new(&b, rows, d, d).unwrap());
        ctx.shard_scatter(&a, &b, &sums, &mut scatter).unwrap();
    }
    let (mut ga, mut gb) = (Vec::new(), Vec::new());
    for (k, ctx) in ctxs.iter_mut().enumerate() {
        let (a, b) = (shard(k, &za), shard(k, &zb));
        let rows = bounds[k + 1] - bounds[k];
        let (a, b) = (Batch::new(&a, rows, d, d).unwrap(), Batch::new(&b, rows, d, d).unwrap());
        let (mut sa, mut sb) = (vec![0.0; rows * d], vec![0.0; rows * d]);
        let loss = ctx
            .shard_finish(
                &a,
                &b,
                &sums,
                &scatter,
                Some(&mut BatchMut::new(&mut sa, rows, d, d).unwrap()),
                Some(&mut BatchMut::new(&mut sb, rows, d, d).unwrap()),
            )
            .unwrap();
        assert!(rel(loss, want_loss) < 1e-12, "shard {}: {} vs {}", k, loss, want_loss);
        for (i, &term) in TERMS.iter().enumerate() {
            let got = ctx.term(term).unwrap();
            assert!(rel(got, want_terms[i]) < 1e-12, "shard {} {:?}", k, term);
        }
        ga.extend(sa);
        gb.extend(sb);
    }
    assert!(rel_err(&ga, &want_ga) < 1e-12);
    assert!(rel_err(&gb, &want_gb) < 1e-12);
}

#[test]
fn shards_equal_the_whole_batch_f32() {
    let (n, d) = (12, 5);
    let Whole { za, zb, loss: want_loss, ga: want_ga, .. } = whole(31, n, d);
    let (fa, fb) = (to_f32(&za), to_f32(&zb));
    let half = n / 2 * d;
    let parts = [(&fa[..half], &fb[..half]), (&fa[half..], &fb[half..])];
    let (sums_len, scatter_len) = vicreg::shard_sizes(d).unwrap();
    let mut ctx = Context::new().unwrap();
    let mut sums = vec![0.0; sums_len];
    let mut scatter = vec![0.0; scatter_len];
    for (a, b) in parts {
        ctx.shard_sums(&Batch::packed(a, d).unwrap(), &Batch::packed(b, d).unwrap(), &mut sums)
            .unwrap();
    }
    for (a, b) in parts {
        let (a, b) = (Batch::packed(a, d).unwrap(), Batch::packed(b, d).unwrap());
        ctx.shard_scatter(&a, &b, &sums, &mut scatter).unwrap();
    }
    let mut ga = Vec::new();
    for (a, b) in parts {
        let (a, b) = (Batch::packed(a, d).unwrap(), Batch::packed(b, d).unwrap());
        let mut g = vec![0.0f32; a.rows() * d];
        let loss = ctx
            .shard_finish(&a, &b, &sums, &scatter, Some(&mut BatchMut::packed(&mut g, d).unwrap()), None)
            .unwrap();
        assert!(rel(loss, want_loss) < 1e-5);
        ga.extend(g.iter().map(|&v| f64::from(v)));
    }
    assert!(rel_err(&ga, &want_ga) < 1e-5);
}

#[test]
fn loss_rows_equals_the_rows_of_the_loss() {
    let (n, d) = (10, 7);
    let Whole { za, zb, loss: want_loss, ga: want_ga, gb: want_gb, .. } = whole(37, n, d);
    let (a, b) = (Batch::packed(&za, d).unwrap(), Batch::packed(&zb, d).unwrap());
    let mut ctx = Context::new().unwrap();
    // All rows: the same bits as the whole call.
    let (mut ga, mut gb) = (vec![0.0; n * d], vec![0.0; n * d]);
    let loss = ctx
        .loss_rows(&a, &b, 0, n, Some(&mut BatchMut::packed(&mut ga, d).unwrap()),
                   Some(&mut BatchMut::packed(&mut gb, d).unwrap()))
        .unwrap();
    assert_eq!(loss.to_bits(), want_loss.to_bits());
    assert_eq!(ga, want_ga);
    assert_eq!(gb, want_gb);
    // Rows 3..7 into a padded buffer.
    let (row0, rows, ld) = (3, 4, d + 2);
    let mut part = vec![-1.0; rows * ld];
    let loss = ctx
        .loss_rows(&a, &b, row0, rows, Some(&mut BatchMut::new(&mut part, rows, d, ld).unwrap()), None)
        .unwrap();
    assert!(rel(loss, want_loss) < 1e-12);
    let mut got = Vec::new();
    for i in 0..rows {
        got.extend_from_slice(&part[i * ld..i * ld + d]);
        assert!(part[i * ld + d..(i + 1) * ld].iter().all(|&v| v == -1.0), "padding written");
    }
    assert!(rel_err(&got, &want_ga[row0 * d..(row0 + rows) * d]) < 1e-12);
    // No row at all: the loss only.
    assert!(rel(ctx.loss_rows(&a, &b, n, 0, None, None).unwrap(), want_loss) < 1e-12);
}
