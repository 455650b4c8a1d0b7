"""The references the binding is judged against, checked first: the NumPy
analytic gradients against central finite differences of the NumPy loss,
and the PyTorch formulas against the NumPy ones."""

import numpy as np
import pytest
import torch

from conftest import make_batches, normwise
from reference import loss_only, vicreg
from torch_reference import vicreg_torch

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
def test_torch_formulas_match_numpy(params):
    za, zb = make_batches(12, 5, seed=2)
    loss, _, grad_a, grad_b = vicreg(za, zb, **params)
    ta = torch.tensor(za, requires_grad=True)
    tb = torch.tensor(zb, requires_grad=True)
    names = dict(invariance_coeff="sim_coeff", variance_coeff="std_coeff",
                 covariance_coeff="cov_coeff", std_target="gamma")
    tloss = vicreg_torch(ta, tb, **{names.get(k, k): v
                                    for k, v in params.items()})
    tloss.backward()
    assert tloss.item() == pytest.approx(loss, rel=1e-13)
    assert normwise(ta.grad.numpy(), grad_a) < 1e-12
    assert normwise(tb.grad.numpy(), grad_b) < 1e-12
