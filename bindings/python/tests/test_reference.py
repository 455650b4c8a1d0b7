"""The reference the binding is judged against (reference.py), checked
first: the NumPy analytic gradients against central finite differences of
the NumPy loss, the NumPy Gram-matrix evaluation against the covariance
one, and the PyTorch formulas (loss, terms, autograd gradients) against the
NumPy ones."""

import numpy as np
import pytest
import torch

from conftest import make_batches, normwise
from reference import loss_only, torch_kwargs, vicreg, vicreg_torch_terms

PARAM_SETS = [
    {},
    dict(convention="paper"),
    dict(invariance_coeff=3.0, variance_coeff=7.0, covariance_coeff=0.5,
         std_target=1.3, eps=1e-3),
]


def finite_difference(f, z, h=1e-6):
    grad = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        old = z[index]
        z[index] = old + h
        up = f(z)
        z[index] = old - h
        down = f(z)
        z[index] = old
        grad[index] = (up - down) / (2 * h)
    return grad


@pytest.mark.parametrize("params", PARAM_SETS)
@pytest.mark.parametrize("shape", [(6, 4), (3, 7)])
def test_numpy_gradients_match_finite_differences(params, shape):
    za, zb = make_batches(*shape, seed=1)
    _, _, grad_a, grad_b = vicreg(za, zb, **params)
    fd_a = finite_difference(lambda z: loss_only(z, zb, **params), za.copy())
    fd_b = finite_difference(lambda z: loss_only(za, z, **params), zb.copy())
    # Central differences with h = 1e-6 are good to about 1e-9 relative.
    assert normwise(grad_a, fd_a) < 1e-7
    assert normwise(grad_b, fd_b) < 1e-7


@pytest.mark.parametrize("params", PARAM_SETS)
@pytest.mark.parametrize("shape", [(6, 4), (5, 40), (40, 5)])
def test_numpy_gram_form_matches_covariance_form(params, shape):
    # The benchmark's float64 check uses the Gram form when n < d.
    za, zb = make_batches(*shape, seed=3)
    loss, terms, grad_a, grad_b = vicreg(za, zb, **params)
    g_loss, g_terms, g_grad_a, g_grad_b = vicreg(za, zb, gram=True, **params)
    assert g_loss == pytest.approx(loss, rel=1e-13)
    assert set(g_terms) == set(terms)
    for name, value in terms.items():
        assert g_terms[name] == pytest.approx(value, rel=1e-12,
                                              abs=1e-14 * loss), name
    assert normwise(g_grad_a, grad_a) < 1e-12
    assert normwise(g_grad_b, grad_b) < 1e-12


@pytest.mark.parametrize("params", PARAM_SETS)
@pytest.mark.parametrize("shape", [(12, 5), (2, 1)])
def test_torch_formulas_match_numpy(params, shape):
    za, zb = make_batches(*shape, seed=2)
    loss, terms, grad_a, grad_b = vicreg(za, zb, **params)
    ta = torch.tensor(za, requires_grad=True)
    tb = torch.tensor(zb, requires_grad=True)
    tloss, tterms = vicreg_torch_terms(ta, tb, **torch_kwargs(**params))
    tloss.backward()
    assert tloss.item() == pytest.approx(loss, rel=1e-13)
    for name in ("invariance", "variance_a", "variance_b", "covariance_a",
                 "covariance_b"):
        assert tterms[name].item() == pytest.approx(
            terms[name], rel=1e-12, abs=1e-14 * loss), name
    for branch in "ab":
        std = tterms["std_" + branch].detach().numpy()
        assert std.mean() == pytest.approx(terms["mean_std_" + branch],
                                           rel=1e-13)
        assert std.min() == pytest.approx(terms["min_std_" + branch],
                                          rel=1e-13)
    assert normwise(ta.grad.numpy(), grad_a) < 1e-12
    assert normwise(tb.grad.numpy(), grad_b) < 1e-12
