// The Rust views example of docs/bindings.md, run by `cargo test`.
use vicreg::{Batch, BatchMut, Context, Error, Param, Term, ViewTerm};

fn main() -> Result<(), Error> {
    let (n, d, views) = (8, 4, 5); // 2 global and 3 local crops
    let z: Vec<Vec<f32>> = (0..views)
        .map(|v| (0..n * d).map(|k| (0.7 * k as f32 + 0.1 * v as f32).sin()).collect())
        .collect();
    let mut g = vec![vec![0.0f32; n * d]; views];

    let mut ctx = Context::new()?;
    ctx.set_param(Param::GlobalViews, 2.0)?;
    let batches = z.iter().map(|z| Batch::packed(z, d)).collect::<Result<Vec<_>, _>>()?;
    let mut grads = g.iter_mut().map(|g| BatchMut::packed(g, d)).collect::<Result<Vec<_>, _>>()?;
    let loss = ctx.views_loss_grad(&batches, &mut grads)?; // grads[v]: dL/dZ_v
    println!(
        "loss {:.6}, invariance {:.6}, min std of view 4: {:.4}",
        loss,
        ctx.term(Term::Invariance)?,
        ctx.view_term(ViewTerm::MinStd, 4)?
    );

    // Two views are the two-batch call, bit for bit.
    assert_eq!(ctx.views_loss(&batches[..2])?, ctx.loss(&batches[0], &batches[1])?);
    Ok(())
}
