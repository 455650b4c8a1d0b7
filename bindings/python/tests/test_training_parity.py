"""Training parity: the same small MLP, trained on the same data with the
same augmentation noise, once with VICReg written in plain PyTorch (the
authors' formulation, reference convention, default coefficients) and once
with vicreg.torch.VICRegLoss, follows the same loss curve step by step.

Each run: a 32 -> 64 -> 32 MLP with fixed initial weights, 300 steps of a
64-row batch drawn from 512 fixed inputs, two views with independent
Gaussian noise (std 0.2), Adam (lr 1e-3) or SGD with momentum (lr 0.01).
Both runs draw from generators seeded alike, so the only difference is the
loss implementation. The losses are compared at every step; so are the
trained weights at the end (all but the output bias, see below).

Tolerances. float64: the two losses differ by rounding only, and the runs
stay within a few ulps (measured largest relative difference 6e-16); the
bound is 1e-12. float32: every step's loss and gradients differ in the
last bits (the library rounds a double-accumulated loss to float32;
PyTorch accumulates in float32) and the optimiser carries those
differences forward, so the bound is 1e-5 relative at every step, about a
hundred float32 ulps (measured largest: 2.5e-7). A faster learning rate
(SGD, lr 0.05, momentum 0.9) makes the training itself chaotic, and any
two float32 implementations drift apart there; that setting is not
tested.
"""

import numpy as np
import pytest
import torch

from vicreg.torch import VICRegLoss
from reference import vicreg_torch

STEPS = 300
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}


def train(criterion, dtype, optimiser):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 32)).to(dtype)
    generator = torch.Generator().manual_seed(1)
    data = torch.randn(512, 32, generator=generator, dtype=dtype)
    if optimiser == "adam":
        step = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        step = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = []
    for _ in range(STEPS):
        rows = torch.randint(0, 512, (64,), generator=generator)
        x = data[rows]
        view_a = x + 0.2 * torch.randn(x.shape, generator=generator,
                                       dtype=dtype)
        view_b = x + 0.2 * torch.randn(x.shape, generator=generator,
                                       dtype=dtype)
        loss = criterion(model(view_a), model(view_b))
        assert loss.dtype == dtype
        step.zero_grad()
        loss.backward()
        step.step()
        losses.append(loss.item())
    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    return np.array(losses), weights.numpy()


@pytest.mark.parametrize("optimiser", ["adam", "sgd"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_same_loss_curve(dtype, optimiser, capsys):
    plain, plain_weights = train(vicreg_torch, dtype, optimiser)
    ours, our_weights = train(VICRegLoss(), dtype, optimiser)
    # The run must actually train: the loss falls well below its start.
    assert plain[-20:].mean() < 0.5 * plain[:5].mean()
    relative = np.abs(ours - plain) / np.abs(plain)
    with capsys.disabled():
        print("\ntraining parity %s %s: loss %.4f -> %.4f over %d steps, "
              "largest relative loss difference %.3g (step %d)"
              % (str(dtype).replace("torch.", ""), optimiser, plain[0],
                 plain[-1], STEPS, relative.max(), relative.argmax()))
    assert relative.max() < TOLERANCE[dtype]
    # The output layer's bias is left out of the weight comparison: VICReg
    # does not change when the same vector is added to every output row
    # (centring removes it from the variance and covariance terms, and it
    # cancels in za - zb), so that bias's gradient is zero in exact
    # arithmetic and rounding noise (~1e-9) in both runs. SGD leaves it
    # near where it started; Adam divides by the gradient's running
    # magnitude and moves it by about lr per step in a direction set by
    # the noise, so the two runs' output biases part ways while the losses
    # agree as above.
    weight_gap = (np.linalg.norm(our_weights[:-32] - plain_weights[:-32])
                  / np.linalg.norm(plain_weights[:-32]))
    with capsys.disabled():
        print("  relative difference of the trained weights (output bias "
              "aside) %.3g" % weight_gap)
    assert weight_gap < TOLERANCE[dtype] * 10
