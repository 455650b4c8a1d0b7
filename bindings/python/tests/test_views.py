"""The views calls (libvicreg >= 1.2): vicreg.views_loss, Context.views_loss
and its rows variant, the per-view terms, the global_views parameter and
the scratch queries, against the multi-view NumPy reference (reference.py
views(), itself checked against PyTorch autograd and VICRegL's loop by
test_views_reference.py); V = 2 against the two-batch call; every error
through the package's exceptions."""

import ctypes

import numpy as np
import pytest

import vicreg
from conftest import PARAM_SETS, make_batches, normwise
from reference import views as reference, views_kwargs
from test_views_reference import make_views

# As test_values.py: float64 differs from NumPy by rounding only, float32
# runs its products in single precision (sums in double).
TOL = {np.float64: dict(loss=1e-12, grad=1e-11),
       np.float32: dict(loss=1e-6, grad=1e-5)}
PER_VIEW = list(vicreg.VIEW_TERMS)


def reference_of(zs, global_views, params):
    return reference(zs, global_views, **views_kwargs(**params))


def vg_cases(max_views):
    return [(v, g) for v in range(1, max_views + 1) for g in range(0, v + 1)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("v_count,g", vg_cases(5))
def test_matches_the_reference(dtype, v_count, g):
    for k, params in enumerate(PARAM_SETS):
        shape = ((9, 5), (4, 11), (2, 3))[(v_count + g + k) % 3]
        zs = [z.astype(dtype) for z in make_views(
            v_count, *shape, seed=100 * v_count + 10 * g + k,
            gamma=params.get("std_target", 1.0))]
        result = vicreg.views_loss(zs, global_views=g, **params)
        ref_loss, ref_terms, ref_grads = reference_of(zs, g, params)
        tol = TOL[dtype]
        assert isinstance(result.loss, float)
        assert result.loss == pytest.approx(ref_loss, rel=tol["loss"])
        assert result.terms["loss"] == result.loss
        assert result.terms["invariance"] == pytest.approx(
            ref_terms["invariance"], rel=tol["loss"] * 10,
            abs=tol["loss"] * abs(ref_loss))
        assert len(result.grads) == v_count
        for v in range(v_count):
            assert result.grads[v].dtype == dtype
            assert result.grads[v].shape == shape
            assert normwise(result.grads[v], ref_grads[v]) < tol["grad"], v
            for name in PER_VIEW:
                assert result.terms[name][v] == pytest.approx(
                    ref_terms[name][v], rel=tol["loss"] * 10,
                    abs=tol["loss"] * abs(ref_loss)), (name, v)
        for name in PER_VIEW:
            assert len(result.terms[name]) == v_count
        n, d = shape
        want_path = params.get("path", "covariance" if n >= d else "gram")
        assert result.terms["path_used"] == want_path


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("g", [0, 1, 2])
@pytest.mark.parametrize("params", PARAM_SETS)
def test_two_views_are_the_two_batch_call(dtype, g, params):
    za, zb = make_batches(12, 7, seed=40 + g, dtype=dtype)
    with vicreg.Context(global_views=g, **params) as context:
        views = context.views_loss([za, zb])
        after_views = context.terms()
        pair = context.loss(za, zb)
        after_pair = context.view_terms()
    assert views.loss == pair.loss
    np.testing.assert_array_equal(views.grads[0], pair.grad_a)
    np.testing.assert_array_equal(views.grads[1], pair.grad_b)
    assert after_views == pair.terms
    # After the two-batch call, views 0 and 1 are branches a and b.
    assert after_pair == views.terms
    for name in PER_VIEW:
        assert after_pair[name] == [pair.terms[name + "_a"],
                                    pair.terms[name + "_b"]]


def test_a_three_dimensional_array_is_a_list_of_views():
    zs = make_views(3, 8, 4, seed=1)
    stacked = vicreg.views_loss(np.stack(zs), global_views=1)
    listed = vicreg.views_loss(zs, global_views=1)
    assert stacked.loss == listed.loss
    for a, b in zip(stacked.grads, listed.grads):
        np.testing.assert_array_equal(a, b)


def test_the_same_array_twice_and_strided_views():
    z, other = make_batches(10, 6, seed=2)
    wide = np.zeros((10, 9))
    wide[:, 1:7] = other
    result = vicreg.views_loss([z, z, wide[:, 1:7]])
    expected = vicreg.views_loss([z, z.copy(), other])
    assert result.loss == expected.loss
    for a, b in zip(result.grads, expected.grads):
        np.testing.assert_array_equal(a, b)


def test_grad_false_partial_and_out():
    zs = make_views(4, 10, 5, seed=3)
    full = vicreg.views_loss(zs, global_views=2)
    none = vicreg.views_loss(zs, global_views=2, grad=False)
    assert none.loss == full.loss and none.grads == [None] * 4
    some = vicreg.views_loss(zs, global_views=2,
                             grad=(False, True, False, True))
    assert some.grads[0] is None and some.grads[2] is None
    np.testing.assert_array_equal(some.grads[1], full.grads[1])
    np.testing.assert_array_equal(some.grads[3], full.grads[3])
    out = [np.full((10, 5), 9.0), None, np.zeros((10, 5)), None]
    given = vicreg.views_loss(zs, global_views=2, out=out)
    assert given.grads[0] is out[0] and given.grads[2] is out[2]
    for a, b in zip(given.grads, full.grads):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        vicreg.views_loss(zs, grad=(True, False))
    with pytest.raises(ValueError):
        vicreg.views_loss(zs, out=[None])
    with pytest.raises(ValueError):
        vicreg.views_loss(zs, grad=False, out=[None, None, None, out[0]])


def test_rows_variant():
    zs = make_views(3, 12, 4, seed=4)
    with vicreg.Context(global_views=1) as context:
        full = context.views_loss(zs)
        part = context.views_loss_rows(zs, 5, 4)
        assert part.loss == full.loss
        assert part.terms == full.terms
        for a, b in zip(part.grads, full.grads):
            assert a.shape == (4, 4)
            np.testing.assert_array_equal(a, b[5:9])
        whole = context.views_loss_rows(zs, 0, 12)
        for a, b in zip(whole.grads, full.grads):
            np.testing.assert_array_equal(a, b)
        expect(vicreg.ERR_BAD_SHAPE, context.views_loss_rows, zs, 10, 3)


def test_global_views_parameter():
    assert vicreg.param_bounds("global_views") == (0.0, vicreg.MAX_VIEWS)
    with vicreg.Context(global_views=3) as context:
        assert context.get_param("global_views") == 3.0
        assert context.params()["global_views"] == 3.0
        assert context.copy().get_param("global_views") == 3.0
        context.set(global_views=0)
        assert context.get_param("global_views") == 0.0
    for bad in (-1, 2.5, vicreg.MAX_VIEWS + 1, float("nan")):
        expect(vicreg.ERR_OUT_OF_RANGE, vicreg.Context, global_views=bad)
    # G = V and G = 0 are one loss; local views change it.
    zs = make_views(4, 8, 3, seed=5)
    assert vicreg.views_loss(zs, global_views=4).loss == \
        vicreg.views_loss(zs, global_views=0).loss
    assert vicreg.views_loss(zs, global_views=1).loss != \
        vicreg.views_loss(zs).loss


def test_one_view_is_the_regulariser_alone():
    z = make_views(1, 16, 6, seed=6)[0]
    result = vicreg.views_loss([z], convention="paper", variance_coeff=2.0,
                               covariance_coeff=3.0)
    terms = result.terms
    assert terms["invariance"] == 0.0
    assert result.loss == pytest.approx(
        2.0 * terms["variance"][0] + 3.0 * terms["covariance"][0], rel=1e-15)
    with vicreg.Context() as context:
        context.views_loss([z])
        expect(vicreg.ERR_NO_RESULT, context.term, "variance_b")
        assert context.term("variance_a") == terms["variance"][0]


def test_view_terms_by_key_and_number():
    zs = make_views(3, 9, 4, seed=7)
    with vicreg.Context() as context:
        expect(vicreg.ERR_NO_RESULT, context.view_terms)
        expect(vicreg.ERR_NO_RESULT, context.view_term, "variance", 0)
        result = context.views_loss(zs)
        assert context.view_terms() == result.terms
        for name, number in vicreg.VIEW_TERMS.items():
            for v in range(3):
                assert context.view_term(name, v) == result.terms[name][v]
                assert context.view_term(number, v) == result.terms[name][v]
        expect(vicreg.ERR_NO_RESULT, context.view_term, "variance", 3)
        expect(vicreg.ERR_INVALID_ARGUMENT, context.view_term, 99, 0)
        with pytest.raises(ValueError):
            context.view_term("nonsense", 0)


def test_scratch_query_and_reserve():
    with vicreg.Context() as context:
        small = context.views_scratch_bytes(2, 16, 8)
        big = context.views_scratch_bytes(6, 16, 8)
        assert 0 < small <= big
        assert context.views_scratch_bytes(6, 16, 8, np.float32) <= big
        context.views_reserve(6, 16, 8)
        result = context.views_loss(make_views(6, 16, 8, seed=8))
        assert np.isfinite(result.loss)
        expect(vicreg.ERR_BAD_SHAPE, context.views_scratch_bytes, 0, 16, 8)
        expect(vicreg.ERR_BAD_SHAPE, context.views_reserve,
               vicreg.MAX_VIEWS + 1, 16, 8)
    with pytest.raises(TypeError):
        vicreg.Context().views_scratch_bytes(2, 16, 8, np.int32)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------
def expect(status, call, *args, **kwargs):
    with pytest.raises(vicreg.VicregError) as info:
        call(*args, **kwargs)
    assert info.value.status == status, info.value
    assert info.value.name == vicreg.status_name(status)
    assert info.value.function.startswith("vicreg_")
    return info.value


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_leaves_everything_untouched(dtype, bad):
    zs = [z.astype(dtype) for z in make_views(3, 8, 4, seed=9)]
    with vicreg.Context() as context:
        good = context.views_loss(zs)
        zs[2][4, 1] = bad
        out = [np.full((8, 4), 5.0, dtype=dtype) for _ in range(3)]
        expect(vicreg.ERR_NON_FINITE, context.views_loss, zs, out=out)
        assert all(np.all(o == 5.0) for o in out)
        assert context.view_terms() == good.terms


def test_bad_shapes_and_counts():
    zs = make_views(3, 6, 4, seed=10)
    expect(vicreg.ERR_BAD_SHAPE, vicreg.views_loss, [])
    expect(vicreg.ERR_BAD_SHAPE, vicreg.views_loss,
           [zs[0]] * (vicreg.MAX_VIEWS + 1))
    assert np.isfinite(vicreg.views_loss([zs[0]] * vicreg.MAX_VIEWS,
                                         grad=False).loss)
    expect(vicreg.ERR_BAD_SHAPE, vicreg.views_loss, [z[:1] for z in zs])
    expect(vicreg.ERR_BAD_SHAPE, vicreg.views_loss, [z[:, :0] for z in zs])
    error = expect(vicreg.ERR_BAD_SHAPE, vicreg.views_loss, zs, global_views=4)
    assert error.function == "vicreg_views_loss_f64"
    with pytest.raises(ValueError):
        vicreg.views_loss([zs[0], zs[1][:5]])
    with pytest.raises(TypeError):
        vicreg.views_loss([zs[0], zs[1].astype(np.float32)])
    with pytest.raises(TypeError):
        vicreg.views_loss([zs[0].astype(np.float16)])
    with pytest.raises(ValueError):
        vicreg.views_loss([zs[0][0]])  # 1-D


def test_overlap_and_overflow():
    zs = make_views(3, 6, 4, seed=11)
    keep = [z.copy() for z in zs]
    expect(vicreg.ERR_OVERLAP, vicreg.views_loss, zs, out=[None, zs[0], None])
    shared = np.zeros((6, 4))
    expect(vicreg.ERR_OVERLAP, vicreg.views_loss, zs,
           out=[shared, None, shared])
    assert np.all(shared == 0)
    for z, k in zip(zs, keep):
        np.testing.assert_array_equal(z, k)
    expect(vicreg.ERR_OVERFLOW, vicreg.views_loss, [zs[0] * 1e300] + zs[1:])


def test_null_pointers_through_the_raw_call():
    with vicreg.Context() as context:
        status = vicreg.lib.vicreg_views_loss_f64(context.handle, 2, 4, 2,
                                                  None, None, None, None, None)
        assert status == vicreg.ERR_INVALID_ARGUMENT
        z = np.ones((4, 2))
        ptrs = (ctypes.POINTER(ctypes.c_double) * 2)(
            z.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), None)
        status = vicreg.lib.vicreg_views_loss_f64(context.handle, 2, 4, 2,
                                                  ptrs, None, None, None, None)
        assert status == vicreg.ERR_INVALID_ARGUMENT


# --------------------------------------------------------------------------
# the sharded views phases (vicreg.shard)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12),
                                       (np.float32, 1e-5)])
@pytest.mark.parametrize("v_count,g", [(1, 0), (2, 0), (4, 2), (5, 0)])
def test_sharded_views_equal_the_whole_batch(dtype, tol, v_count, g):
    import vicreg.shard as shard
    zs = [z.astype(dtype) for z in make_views(v_count, 13, 5, seed=60 + g)]
    cuts = [(0, 0), (0, 6), (6, 7), (7, 13)]   # an empty shard, one of 1 row
    context = vicreg.Context(global_views=g)
    whole = context.views_loss(zs)
    sums_len, scatter_len = shard.views_sizes(v_count, 5)
    assert (sums_len, scatter_len) == (2 + v_count * 5, v_count * 5 * 6 // 2)
    sums = np.zeros(sums_len)
    for a, b in cuts:
        shard.add_views_sums(context, [z[a:b] for z in zs], sums)
    assert sums[0] == 13
    scatter = np.zeros(scatter_len)
    for a, b in cuts:
        shard.add_views_scatter(context, [z[a:b] for z in zs], sums, scatter)
    parts = [shard.views_finish(context, [z[a:b] for z in zs], sums, scatter)
             for a, b in cuts]
    for part in parts:
        assert part.loss == pytest.approx(whole.loss, rel=tol)
        for name in vicreg.VIEW_TERMS:
            np.testing.assert_allclose(part.terms[name], whole.terms[name],
                                       rtol=tol * 10, atol=tol * whole.loss)
    for v in range(v_count):
        rows = np.concatenate([p.grads[v] for p in parts])
        assert rows.dtype == dtype
        assert normwise(rows, whole.grads[v]) < tol
    with pytest.raises(ValueError):
        shard.add_views_sums(context, zs, np.zeros(sums_len - 1))
    expect(vicreg.ERR_BAD_SHAPE, shard.views_sizes, 0, 5)


def test_threads_give_the_same_bits():
    """VICREG_PARAM_THREADS (libvicreg >= 1.3): the passes on three threads
    give the loss and every gradient bit for bit as on one."""
    rng = np.random.default_rng(3)
    views = [rng.standard_normal((300, 500)) for _ in range(3)]
    with vicreg.Context(global_views=2) as one, \
            vicreg.Context(global_views=2, threads=3) as three:
        assert three.get_param("threads") == 3.0
        a = one.views_loss(views)
        b = three.views_loss(views)
    assert a.loss == b.loss
    for ga, gb in zip(a.grads, b.grads):
        np.testing.assert_array_equal(ga, gb)
