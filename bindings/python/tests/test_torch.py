"""vicreg.torch: VICRegLoss and VICRegFunction against PyTorch autograd of
the same formulas, gradcheck, dtypes, devices and errors."""

import copy
import pickle
import threading

import numpy as np
import pytest
import torch

import vicreg
from vicreg.torch import VICRegFunction, VICRegLoss, vicreg_loss
from conftest import make_batches, normwise
from reference import torch_kwargs, vicreg_torch

PARAM_SETS = [
    {},
    dict(convention="paper"),
    dict(invariance_coeff=3.0, variance_coeff=7.0, covariance_coeff=0.5,
         std_target=1.3, eps=1e-3),
]


def leaves(za, zb):
    return (torch.tensor(za, requires_grad=True),
            torch.tensor(zb, requires_grad=True))


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12),
                                       (np.float32, 1e-5)])
@pytest.mark.parametrize("shape", [(32, 12), (6, 20)])
@pytest.mark.parametrize("params", PARAM_SETS)
def test_matches_torch_autograd(dtype, tol, shape, params):
    za, zb = make_batches(*shape, seed=30, dtype=dtype)
    ta, tb = leaves(za, zb)
    ours = VICRegLoss(**params)(ta, tb)
    ours.backward()
    ra, rb = leaves(za, zb)
    theirs = vicreg_torch(ra, rb, **torch_kwargs(**params))
    theirs.backward()
    assert ours.dtype == theirs.dtype == ta.dtype
    assert ours.shape == torch.Size([])
    assert ours.item() == pytest.approx(theirs.item(), rel=tol)
    assert ta.grad.dtype == ta.dtype
    assert normwise(ta.grad.numpy(), ra.grad.numpy()) < tol
    assert normwise(tb.grad.numpy(), rb.grad.numpy()) < tol


def test_default_module_is_the_library_default():
    za, zb = make_batches(16, 8, seed=31)
    module = VICRegLoss()
    assert module.context.params()["convention"] == "reference"
    loss = module(*leaves(za, zb))
    expected = vicreg_torch(*leaves(za, zb), sim_coeff=25.0, std_coeff=25.0,
                            cov_coeff=1.0, gamma=1.0, eps=1e-4)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)


@pytest.mark.parametrize("params", PARAM_SETS)
def test_gradcheck_float64(params):
    za, zb = make_batches(7, 5, seed=32)
    module = VICRegLoss(**params)
    ta, tb = leaves(za, zb)
    assert torch.autograd.gradcheck(module, (ta, tb), eps=1e-6, atol=1e-7,
                                    rtol=1e-5)


def test_gradcheck_with_one_input_needing_grad():
    za, zb = make_batches(6, 4, seed=33)
    module = VICRegLoss()
    ta = torch.tensor(za, requires_grad=True)
    tb = torch.tensor(zb)
    assert torch.autograd.gradcheck(module, (ta, tb))
    module(ta, tb).backward()
    assert tb.grad is None


def test_last_terms():
    za, zb = make_batches(20, 6, seed=34)
    module = VICRegLoss()
    assert module.last_terms is None
    loss = module(*leaves(za, zb))
    terms = module.last_terms
    assert terms["loss"] == pytest.approx(loss.item(), rel=1e-15)
    assert terms == vicreg.loss(za, zb).terms
    assert set(terms) == set(vicreg.TERMS)
    module(*leaves(za[:10], zb[:10]))
    assert module.last_terms["loss"] != terms["loss"]


def test_grad_output_scales_the_gradient():
    za, zb = make_batches(10, 4, seed=35)
    ta, tb = leaves(za, zb)
    (3.0 * VICRegLoss()(ta, tb)).backward()
    expected = vicreg.loss(za, zb)
    np.testing.assert_allclose(ta.grad.numpy(), 3.0 * expected.grad_a,
                               rtol=1e-15)
    np.testing.assert_allclose(tb.grad.numpy(), 3.0 * expected.grad_b,
                               rtol=1e-15)


def test_retained_graph_backward_twice():
    za, zb = make_batches(10, 4, seed=36)
    ta, tb = leaves(za, zb)
    loss = VICRegLoss()(ta, tb)
    loss.backward(retain_graph=True)
    first = ta.grad.clone()
    loss.backward()
    np.testing.assert_allclose(ta.grad.numpy(), 2 * first.numpy(), rtol=1e-15)


def test_non_contiguous_tensors():
    za, zb = make_batches(12, 5, seed=37)
    wide = torch.zeros(12, 9, dtype=torch.float64)
    wide[:, 2:7] = torch.from_numpy(za)
    view = wide[:, 2:7].requires_grad_()    # a strided leaf
    transposed = torch.tensor(zb.T.copy()).t().requires_grad_()
    loss = vicreg_loss(view, transposed)
    loss.backward()
    expected = vicreg.loss(za, zb)
    assert loss.item() == expected.loss
    np.testing.assert_array_equal(view.grad.numpy(), expected.grad_a)
    np.testing.assert_array_equal(transposed.grad.numpy(), expected.grad_b)


def test_a_module_in_a_network_trains_both_branches():
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3).double()
    x = torch.randn(16, 4, dtype=torch.float64)
    loss = VICRegLoss()(net(x), net(x + 0.1))
    loss.backward()
    assert net.weight.grad is not None
    assert torch.all(torch.isfinite(net.weight.grad))


def test_errors():
    za, zb = make_batches(6, 3, seed=38)
    ta, tb = leaves(za, zb)
    module = VICRegLoss()
    with pytest.raises(ValueError, match="CPU"):
        module(torch.empty(6, 3, device="meta", dtype=torch.float64), tb)
    with pytest.raises(TypeError):
        module(ta.half(), tb.half())
    with pytest.raises(TypeError):
        module(ta.bfloat16(), tb.bfloat16())
    with pytest.raises(TypeError):
        module(ta, tb.float())
    with pytest.raises(TypeError):
        module(za, zb)  # NumPy arrays are not tensors
    with pytest.raises(ValueError):
        module(ta, tb[:5])
    bad = ta.detach().clone()
    bad[0, 0] = float("nan")
    with pytest.raises(vicreg.VicregError) as info:
        module(bad, tb)
    assert info.value.status == vicreg.ERR_NON_FINITE
    with pytest.raises(vicreg.VicregError) as info:
        VICRegLoss(eps=-1.0)
    assert info.value.name == "VICREG_ERR_OUT_OF_RANGE"
    with pytest.raises(TypeError):
        vicreg_loss(ta, tb, vicreg.Context(), eps=1.0)


def test_copies_and_pickles_have_their_own_context():
    module = VICRegLoss(convention="paper", covariance_coeff=2.0)
    clone = copy.deepcopy(module)
    thawed = pickle.loads(pickle.dumps(module))
    for other in (clone, thawed):
        assert other.context is not module.context
        assert other.context.params() == module.context.params()
    za, zb = make_batches(8, 3, seed=39)
    assert thawed(*leaves(za, zb)).item() == module(*leaves(za, zb)).item()


def test_one_module_shared_by_threads():
    # The context's lock serialises the calls; every thread gets the same
    # answer as a lone call.
    za, zb = make_batches(40, 16, seed=40)
    module = VICRegLoss()
    expected = module(*leaves(za, zb)).item()
    results = []

    def work():
        for _ in range(20):
            results.append(module(*leaves(za, zb)).item())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 80


def test_function_apply_directly():
    za, zb = make_batches(9, 4, seed=41)
    terms = {}
    with vicreg.Context(convention="paper") as context:
        loss = VICRegFunction.apply(*leaves(za, zb), context, terms)
    assert loss.item() == terms["loss"]
    assert loss.item() == vicreg.loss(za, zb, convention="paper").loss
