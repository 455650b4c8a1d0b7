"""vicreg.torch with any number of views (libvicreg >= 1.2): VICRegLoss on
a list of tensors or on several arguments, VICRegViewsFunction and
vicreg_views_loss, against the library's own views call and PyTorch
autograd of the same formulas (reference.py views_torch)."""

import numpy as np
import pytest
import torch

import vicreg
from vicreg.torch import VICRegLoss, VICRegViewsFunction, vicreg_views_loss
import conftest
from conftest import make_batches, normwise
from reference import views_kwargs, views_torch
from test_views_reference import make_views

# The PyTorch formulas have no covariance path to choose.
PARAM_SETS = [params for params in conftest.PARAM_SETS
              if "path" not in params]


def leaves(zs):
    return [torch.tensor(z, requires_grad=True) for z in zs]


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12),
                                       (np.float32, 1e-5)])
@pytest.mark.parametrize("v_count,g", [(1, 0), (3, 0), (3, 1), (5, 2),
                                       (6, 6)])
@pytest.mark.parametrize("params", PARAM_SETS)
def test_matches_torch_autograd_and_the_library(dtype, tol, v_count, g,
                                                params):
    zs = [z.astype(dtype) for z in make_views(
        v_count, 10, 6, seed=v_count + 7 * g,
        gamma=params.get("std_target", 1.0))]
    ours = leaves(zs)
    loss = VICRegLoss(global_views=g, **params)(ours)
    loss.backward()
    theirs = leaves(zs)
    want = views_torch(theirs, g, **views_kwargs(**params))
    want.backward()
    assert loss.dtype == ours[0].dtype and loss.shape == torch.Size([])
    assert loss.item() == pytest.approx(want.item(), rel=tol)
    library = vicreg.views_loss(zs, global_views=g, **params)
    assert loss.item() == torch.tensor(library.loss, dtype=loss.dtype).item()
    for t, r, grad in zip(ours, theirs, library.grads):
        assert t.grad.dtype == t.dtype
        assert normwise(t.grad.numpy(), r.grad.numpy()) < tol
        np.testing.assert_array_equal(t.grad.numpy(), grad)


def test_list_and_arguments_and_two_batch_forms_agree():
    za, zb = make_batches(12, 5, seed=50)
    module = VICRegLoss()
    pair = leaves([za, zb])
    module(*pair).backward()
    pair_terms = module.last_terms
    listed = leaves([za, zb])
    module(listed).backward()
    assert module.last_terms["loss"] == pair_terms["loss"]
    assert set(module.last_terms) == {"loss", "invariance", "path_used"} | \
        set(vicreg.VIEW_TERMS)
    for a, b in zip(pair, listed):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())

    zs = make_views(3, 8, 4, seed=51)
    as_list, as_args, as_tuple = leaves(zs), leaves(zs), leaves(zs)
    l1 = module(as_list)
    l2 = module(*as_args)
    l3 = module(tuple(as_tuple))
    assert l1.item() == l2.item() == l3.item()
    (l1 + l2 + l3).backward()
    for a, b, c in zip(as_list, as_args, as_tuple):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
        np.testing.assert_array_equal(a.grad.numpy(), c.grad.numpy())


def test_last_terms_are_the_view_terms():
    zs = make_views(4, 9, 3, seed=52)
    module = VICRegLoss(global_views=2)
    loss = module(leaves(zs))
    terms = module.last_terms
    assert terms["loss"] == loss.item()
    assert terms == vicreg.views_loss(zs, global_views=2).terms
    assert len(terms["effective_rank"]) == 4


@pytest.mark.parametrize("g", [0, 1])
def test_gradcheck_float64(g):
    zs = make_views(3, 6, 4, seed=53)
    module = VICRegLoss(global_views=g)
    assert torch.autograd.gradcheck(module, tuple(leaves(zs)), eps=1e-6,
                                    atol=1e-7, rtol=1e-5)


def test_only_some_views_need_grad():
    zs = make_views(3, 7, 4, seed=54)
    ts = leaves(zs)
    frozen = torch.tensor(zs[1])
    loss = VICRegLoss()([ts[0], frozen, ts[2]])
    loss.backward()
    assert frozen.grad is None
    full = vicreg.views_loss(zs)
    np.testing.assert_array_equal(ts[0].grad.numpy(), full.grads[0])
    np.testing.assert_array_equal(ts[2].grad.numpy(), full.grads[2])


def test_grad_output_scales_every_view():
    zs = make_views(3, 8, 3, seed=55)
    ts = leaves(zs)
    (2.0 * VICRegLoss()(ts)).backward()
    for t, grad in zip(ts, vicreg.views_loss(zs).grads):
        np.testing.assert_array_equal(t.grad.numpy(), 2.0 * grad)


def test_function_and_functional_form():
    zs = make_views(4, 8, 3, seed=56)
    terms = {}
    with vicreg.Context(global_views=1, convention="paper") as context:
        loss = VICRegViewsFunction.apply(context, terms, *leaves(zs))
        assert loss.item() == terms["loss"]
        assert vicreg_views_loss(leaves(zs), context).item() == loss.item()
    functional = vicreg_views_loss(leaves(zs), global_views=1,
                                   convention="paper")
    assert functional.item() == loss.item()
    with pytest.raises(TypeError):
        vicreg_views_loss(leaves(zs), vicreg.Context(), global_views=1)


def test_a_network_with_multi_crop_views():
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3).double()
    x = torch.randn(16, 4, dtype=torch.float64)
    views = [net(x + 0.1 * k) for k in range(5)]
    VICRegLoss(global_views=2)(views).backward()
    assert net.weight.grad is not None
    assert torch.all(torch.isfinite(net.weight.grad))


def test_errors():
    zs = make_views(3, 6, 3, seed=57)
    ts = leaves(zs)
    module = VICRegLoss(global_views=3)
    with pytest.raises(TypeError):
        module([ts[0], ts[1].float(), ts[2]])
    with pytest.raises(TypeError):
        module(zs)  # NumPy arrays are not tensors
    with pytest.raises(ValueError):
        module([ts[0], ts[1], ts[2][:5]])
    with pytest.raises(ValueError, match="CPU"):
        module([ts[0], ts[1],
                torch.empty(6, 3, device="meta", dtype=torch.float64)])
    with pytest.raises(vicreg.VicregError) as info:
        module(ts[:2] + [])  # a list of 2 views with G = 3 > V
    assert info.value.status == vicreg.ERR_BAD_SHAPE
    bad = ts[2].detach().clone()
    bad[0, 0] = float("inf")
    with pytest.raises(vicreg.VicregError) as info:
        module([ts[0], ts[1], bad])
    assert info.value.status == vicreg.ERR_NON_FINITE
    with pytest.raises(vicreg.VicregError) as info:
        VICRegLoss(global_views=1.5)
    assert info.value.status == vicreg.ERR_OUT_OF_RANGE
