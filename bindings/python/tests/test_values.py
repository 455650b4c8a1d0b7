"""Loss, terms, diagnostics and gradients of the binding against the
independent NumPy reference, in both precisions, both conventions, both
covariance paths and non-default coefficients."""

import numpy as np
import pytest

import vicreg
from conftest import PARAM_SETS, make_batches, normwise
from reference import vicreg as reference

SHAPES = [(64, 16), (8, 40), (2, 3), (50, 1)]

# float64: the library and NumPy sum in different orders; what differs is
# rounding, a few ulps times the conditioning of the sums (measured: 5e-16).
# float32: the library's products run in single precision (sums in double):
# allow about a hundred float32 ulps (measured: 1.5e-7 normwise).
TOL = {np.float64: dict(loss=1e-13, grad=1e-12),
       np.float32: dict(loss=1e-6, grad=1e-5)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("params", PARAM_SETS)
def test_loss_terms_and_gradients(dtype, shape, params):
    za, zb = make_batches(*shape, seed=hash(shape) % 1000, dtype=dtype)
    result = vicreg.loss(za, zb, **params)
    ref_params = {k: v for k, v in params.items() if k != "path"}
    ref_loss, ref_terms, ref_ga, ref_gb = reference(za, zb, **ref_params)
    tol = TOL[dtype]
    assert isinstance(result.loss, float)
    assert result.loss == pytest.approx(ref_loss, rel=tol["loss"])
    assert result.grad_a.dtype == dtype and result.grad_b.dtype == dtype
    assert result.grad_a.shape == shape and result.grad_b.shape == shape
    assert normwise(result.grad_a, ref_ga) < tol["grad"]
    assert normwise(result.grad_b, ref_gb) < tol["grad"]
    for name, value in ref_terms.items():
        # Terms that are exactly zero (no column below gamma, d = 1 has no
        # off-diagonal covariance) must come out as zero, give or take
        # rounding of the same size as the loss's.
        assert result.terms[name] == pytest.approx(
            value, rel=tol["loss"] * 10, abs=tol["loss"] * abs(ref_loss)), name
    assert result.terms["loss"] == result.loss
    if "path" in params:
        assert result.terms["path_used"] == params["path"]
    else:
        n, d = shape
        assert result.terms["path_used"] == ("covariance" if n >= d
                                             else "gram")


def test_unpacks_as_loss_terms_gradients():
    za, zb = make_batches(10, 4, seed=3)
    loss, terms, grad_a, grad_b = vicreg.loss(za, zb)
    assert loss == terms["loss"]
    assert grad_a is not None and grad_b is not None


def test_grad_false_and_partial():
    za, zb = make_batches(10, 4, seed=4)
    full = vicreg.loss(za, zb)
    none = vicreg.loss(za, zb, grad=False)
    assert none.grad_a is None and none.grad_b is None
    assert none.loss == full.loss
    only_b = vicreg.loss(za, zb, grad=(False, True))
    assert only_b.grad_a is None
    np.testing.assert_array_equal(only_b.grad_b, full.grad_b)


def test_defaults_are_the_documented_ones():
    with vicreg.Context() as context:
        assert context.params() == dict(
            invariance_coeff=25.0, variance_coeff=25.0, covariance_coeff=1.0,
            std_target=1.0, eps=1e-4, convention="reference", path="auto",
            **({"grad_scale": 1.0} if "grad_scale" in context.params()
               else {}),
            **({"global_views": 0.0} if "global_views" in context.params()
               else {}),
            **({"threads": 1.0} if "threads" in context.params() else {}))


def test_context_reuse_matches_one_call_and_keeps_terms():
    za, zb = make_batches(30, 6, seed=5)
    small_a, small_b = make_batches(5, 6, seed=6)
    with vicreg.Context(convention="paper", variance_coeff=10) as context:
        first = context.loss(za, zb)
        context.loss(small_a, small_b)
        again = context.loss(za, zb)
        assert context.terms() == again.terms
        assert context.term("invariance") == again.terms["invariance"]
    one_call = vicreg.loss(za, zb, convention="paper", variance_coeff=10)
    assert first.loss == again.loss == one_call.loss
    np.testing.assert_array_equal(first.grad_a, one_call.grad_a)
    np.testing.assert_array_equal(again.grad_b, one_call.grad_b)


def test_lists_are_accepted_as_float64():
    za, zb = make_batches(4, 3, seed=7)
    result = vicreg.loss(za.tolist(), zb.tolist())
    assert result.grad_a.dtype == np.float64
    assert result.loss == vicreg.loss(za, zb).loss
