"""The libvicreg 1.1 surface: vicreg.shard (the three phases),
Context.loss_rows and the grad_scale parameter."""

import numpy as np
import pytest
import torch

import vicreg
import vicreg.shard as shard
from vicreg.torch import VICRegLoss
from conftest import make_batches, normwise
from reference import vicreg as reference

# Sharded against whole-batch: the header promises 1e-12 relative in
# float64 and 1e-5 in float32.
TOL = {np.float64: 1e-12, np.float32: 1e-5}
SPLITS = [[0, 1, 5, 10], [16], [8, 0, 8]]


def sharded(context, za, zb, split):
    d = za.shape[1]
    bounds = np.cumsum([0] + split)
    pieces = [(za[a:b], zb[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    sums = shard.zeros_sums(d)
    for a, b in pieces:
        shard.add_sums(context, a, b, sums)
    scatter = shard.zeros_scatter(d)
    for a, b in pieces:
        shard.add_scatter(context, a, b, sums, scatter)
    return [shard.finish(context, a, b, sums, scatter) for a, b in pieces]


def test_sizes():
    assert shard.sizes(7) == (2 + 2 * 7, 7 * 8)
    assert shard.zeros_sums(3).shape == (8,)
    assert shard.zeros_scatter(3).shape == (12,)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("params", [{}, dict(convention="paper",
                                              covariance_coeff=0.3)])
def test_shards_give_the_whole_batch(dtype, split, params):
    za, zb = make_batches(16, 6, seed=50, dtype=dtype)
    with vicreg.Context(**params) as context:
        results = sharded(context, za, zb, split)
        terms_in_context = context.terms()
    whole = vicreg.loss(za, zb, **params)
    ref_loss, ref_terms, ref_ga, ref_gb = reference(za, zb, **params)
    for result in results:
        assert result.loss == results[0].loss  # every shard, the same loss
        assert result.loss == pytest.approx(whole.loss, rel=TOL[dtype])
        assert result.loss == pytest.approx(ref_loss, rel=TOL[dtype])
        assert result.terms["path_used"] == "covariance"
    assert terms_in_context == results[-1].terms
    grad_a = np.concatenate([r.grad_a for r in results])
    grad_b = np.concatenate([r.grad_b for r in results])
    assert grad_a.dtype == dtype
    assert normwise(grad_a, whole.grad_a) < TOL[dtype]
    assert normwise(grad_b, ref_gb) < TOL[dtype]
    for name, value in ref_terms.items():
        assert results[0].terms[name] == pytest.approx(
            value, rel=TOL[dtype] * 10, abs=TOL[dtype]), name


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_rows(dtype):
    za, zb = make_batches(20, 7, seed=51, dtype=dtype)
    with vicreg.Context() as context:
        whole = context.loss(za, zb)
        everything = context.loss_rows(za, zb, 0, 20)
        part = context.loss_rows(za, zb, 5, 9)
        none = context.loss_rows(za, zb, 20, 0)
        with pytest.raises(vicreg.VicregError) as info:
            context.loss_rows(za, zb, 15, 6)
        assert info.value.status == vicreg.ERR_BAD_SHAPE
    # The whole range is the same computation as loss(), bit for bit.
    assert everything.loss == whole.loss
    np.testing.assert_array_equal(everything.grad_a, whole.grad_a)
    np.testing.assert_array_equal(everything.grad_b, whole.grad_b)
    assert part.loss == whole.loss and part.terms == whole.terms
    assert part.grad_a.shape == (9, 7)
    assert normwise(part.grad_a, whole.grad_a[5:14]) < TOL[dtype]
    assert normwise(part.grad_b, whole.grad_b[5:14]) < TOL[dtype]
    assert none.grad_a.shape == (0, 7)


def test_grad_scale_scales_gradients_only():
    za, zb = make_batches(12, 5, seed=52)
    plain = vicreg.loss(za, zb)
    scaled = vicreg.loss(za, zb, grad_scale=4)
    assert scaled.loss == plain.loss and scaled.terms == plain.terms
    # A power of two scales exactly.
    np.testing.assert_array_equal(scaled.grad_a, 4 * plain.grad_a)
    np.testing.assert_array_equal(scaled.grad_b, 4 * plain.grad_b)
    with vicreg.Context(grad_scale=4) as context:
        assert context.params()["grad_scale"] == 4.0
        rows = context.loss_rows(za, zb, 2, 3)
        np.testing.assert_array_equal(rows.grad_a, 4 * plain.grad_a[2:5])
        parts = sharded(context, za, zb, [6, 6])
    grad_a = np.concatenate([p.grad_a for p in parts])
    assert normwise(grad_a, 4 * plain.grad_a) < 1e-12
    with pytest.raises(vicreg.VicregError) as info:
        vicreg.Context(grad_scale=-1)
    assert info.value.status == vicreg.ERR_OUT_OF_RANGE


def test_grad_scale_in_the_torch_module():
    za, zb = make_batches(12, 5, seed=53)
    ta = torch.tensor(za, requires_grad=True)
    VICRegLoss(grad_scale=2)(ta, torch.tensor(zb)).backward()
    np.testing.assert_array_equal(ta.grad.numpy(),
                                  2 * vicreg.loss(za, zb).grad_a)


def test_shard_errors():
    za, zb = make_batches(8, 3, seed=54)
    with vicreg.Context() as context:
        with pytest.raises(ValueError):
            shard.add_sums(context, za, zb, np.zeros(5))
        with pytest.raises(ValueError):
            shard.add_sums(context, za, zb, np.zeros(8, np.float32))
        # A statistics buffer inside za's memory: the library sees za
        # itself (no copy), so it reports the overlap.
        memory = za.copy()
        inside = memory.ravel()[8:16]
        with pytest.raises(vicreg.VicregError) as info:
            shard.add_sums(context, memory, zb, inside)
        assert info.value.status == vicreg.ERR_OVERLAP
        np.testing.assert_array_equal(memory, za)  # nothing written
        # Phase 3 with the sums of a single row: N < 2.
        sums = shard.add_sums(context, za[:1], zb[:1], shard.zeros_sums(3))
        with pytest.raises(vicreg.VicregError) as info:
            shard.finish(context, za[:1], zb[:1], sums, shard.zeros_scatter(3))
        assert info.value.status == vicreg.ERR_BAD_SHAPE
        bad = shard.zeros_sums(3)
        shard.add_sums(context, za, zb, bad)
        bad[3] = np.nan
        with pytest.raises(vicreg.VicregError) as info:
            shard.add_scatter(context, za, zb, bad, shard.zeros_scatter(3))
        assert info.value.status == vicreg.ERR_NON_FINITE
