"""Makes the package of this source tree importable when pytest is run
without PYTHONPATH (meson's test sets it as well), and shares fixtures."""

import os
import sys

import numpy as np
import pytest

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)


# The parameter sets the value tests run through (test_values, test_views;
# test_torch_views those without a path, which the PyTorch formulas do not
# have): the defaults, the paper convention, non-default coefficients, and
# each covariance path forced.
PARAM_SETS = [
    {},
    dict(convention="paper"),
    dict(invariance_coeff=3.0, variance_coeff=7.0, covariance_coeff=0.5,
         std_target=1.3, eps=1e-3),
    dict(convention="paper", path="gram"),
    dict(path="covariance"),
]


def make_batches(n, d, seed, dtype=np.float64):
    """Two correlated batches whose column stds spread over roughly
    [0.3, 1.9] and stay at least 5% away from gamma = 1, where the variance
    hinge has its kink (finite differences and gradcheck straddling the
    kink would compare a one-sided slope with the other side's)."""
    rng = np.random.default_rng(seed)
    scales = np.concatenate([np.linspace(0.3, 0.95, (d + 1) // 2),
                             np.linspace(1.05, 1.9, d // 2)])
    shared = rng.standard_normal((n, 2)) @ rng.standard_normal((2, d)) * 0.3
    za = rng.standard_normal((n, d)) * scales + shared + rng.standard_normal(d)
    zb = za + 0.2 * rng.standard_normal((n, d)) * scales
    # Unbiased sample stds vary around the scales; rescale each column so
    # that its sample std is exactly the intended one.
    for z in (za, zb):
        z -= z.mean(axis=0)
        z *= scales / z.std(axis=0, ddof=1)
        z += np.arange(d) * 0.1
    return za.astype(dtype), zb.astype(dtype)


@pytest.fixture
def batches():
    return make_batches


def normwise(got, want):
    """||got - want||_F / ||want||_F."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    return np.linalg.norm(got - want) / np.linalg.norm(want)
