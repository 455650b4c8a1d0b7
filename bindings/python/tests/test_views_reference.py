"""The multi-view reference of reference.py (SPEC.md section 4) checked on
its own, before any library code uses it:

  (a) the NumPy views() against the PyTorch views_torch_terms() (values,
      per-view terms and diagnostics, autograd gradients) for V = 1..5,
      every G in 0..V, both conventions;
  (b) V = 2 is the two-view reference for every G: bit for bit in PyTorch
      (the same operations), to rounding in NumPy;
  (c) the weighted pairs W_ij equal VICRegL's global-loss loop
      (views_vicregl_loop(): each global view against every other view as
      ordered pairs, the regularisers averaged over the views);
  (d) central finite differences of the NumPy loss for every view's
      analytic gradient;
  (e) the invariance, computed as a direct sum of squared differences,
      keeps its digits when the views nearly coincide, where the expansion
      ||a||^2 + ||b||^2 - 2 a.b cancels (the figures are printed to the
      test log);
  the committed vectors tests/vectors/views/*.vec (PyTorch autograd,
  scripts/gen_views_vectors.py) against views();
  and the properties: permuting the local views (or the global views among
  themselves) leaves the loss unchanged, V = 1 is the regulariser alone,
  bad G is refused.
"""

import math
import os

import numpy as np
import pytest
import torch

from conftest import make_batches, normwise
from reference import (pair_weights, views, views_torch_terms,
                       views_vicregl_loop, vicreg, vicreg_torch_terms)

CUSTOM = dict(lambda_=3.0, mu=7.0, nu=0.5, gamma=1.3, eps=1e-3)
DEFAULT = dict(lambda_=25.0, mu=25.0, nu=1.0, gamma=1.0, eps=1e-4)
# The package's parameter names of vicreg() for the same numbers.
PACKAGE_NAMES = dict(lambda_="invariance_coeff", mu="variance_coeff",
                     nu="covariance_coeff", gamma="std_target", eps="eps")


def make_views(v_count, n, d, seed, gamma=1.0):
    """v_count correlated views (n x d, float64) whose column stds are set
    exactly to values at least 5% away from gamma (the hinge's kink), with
    non-zero column means: view 0 is a shared base plus noise, every other
    view the base plus its own noise."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, d)) + 0.3 * (
        rng.standard_normal((n, 2)) @ rng.standard_normal((2, d)))
    out = []
    for _ in range(v_count):
        scales = gamma * rng.choice(
            np.concatenate([np.linspace(0.3, 0.95, 8), np.linspace(1.05, 1.9, 8)]), d)
        z = base + 0.3 * rng.standard_normal((n, d))
        z -= z.mean(axis=0)
        z *= scales / z.std(axis=0, ddof=1)
        z += rng.uniform(-1.0, 1.0, d)
        out.append(z)
    return out


def torch_run(zs, global_views, convention, params, dtype=torch.float64):
    ts = [torch.tensor(z, dtype=dtype, requires_grad=True) for z in zs]
    loss, terms = views_torch_terms(ts, global_views, convention, **params)
    loss.backward()
    return loss, terms, [t.grad.numpy().copy() for t in ts]


def rel(got, want):
    return abs(got - want) / max(abs(want), 1e-300)


def vg_cases(max_views):
    return [(v, g) for v in range(1, max_views + 1) for g in range(0, v + 1)]


# --------------------------------------------------------------------------
# (a) NumPy against PyTorch
# --------------------------------------------------------------------------
@pytest.mark.parametrize("convention", ["reference", "paper"])
@pytest.mark.parametrize("v_count,g", vg_cases(5))
def test_numpy_matches_torch(v_count, g, convention):
    for params, shape in ((DEFAULT, (7, 5)), (CUSTOM, (4, 9))):
        zs = make_views(v_count, *shape, seed=10 * v_count + g, gamma=params["gamma"])
        loss, terms, grads = views(zs, g, convention, **params)
        tloss, tterms, tgrads = torch_run(zs, g, convention, params)
        assert rel(loss, tloss.item()) < 1e-13
        if v_count == 1:
            assert terms["invariance"] == 0.0 and tterms["invariance"].item() == 0.0
        else:
            assert rel(terms["invariance"], tterms["invariance"].item()) < 1e-13
            assert set(terms["pairs"]) == set(tterms["pairs"])
            for ij, s_ij in terms["pairs"].items():
                assert rel(s_ij, tterms["pairs"][ij].item()) < 1e-13
        for k in range(v_count):
            assert abs(terms["variance"][k] - tterms["variance"][k].item()) <= \
                1e-13 * max(terms["variance"][k], params["gamma"])
            assert rel(terms["covariance"][k], tterms["covariance"][k].item()) < 1e-12
            std = tterms["std"][k].detach().numpy()
            assert rel(terms["mean_std"][k], std.mean()) < 1e-13
            assert rel(terms["min_std"][k], std.min()) < 1e-13
            assert terms["collapsed_fraction"][k] == (std < params["gamma"]).mean()
            assert normwise(grads[k], tgrads[k]) < 1e-12


def test_float32_torch_close_to_numpy():
    # The autograd reference runs in float32 as well (the library's f32
    # path is judged against float64 values, but a float32 torch run of the
    # same formula must land near them).
    zs = make_views(4, 8, 6, seed=3)
    loss, _, grads = views(zs, 2)
    tloss, _, tgrads = torch_run(zs, 2, "reference", DEFAULT, dtype=torch.float32)
    assert rel(tloss.item(), loss) < 1e-5
    for g, tg in zip(grads, tgrads):
        assert normwise(tg, g) < 1e-4


# --------------------------------------------------------------------------
# (b) V = 2 is the two-view loss, for every G
# --------------------------------------------------------------------------
@pytest.mark.parametrize("convention", ["reference", "paper"])
@pytest.mark.parametrize("g", [0, 1, 2])
@pytest.mark.parametrize("params", [DEFAULT, CUSTOM])
def test_two_views_equal_two_view_reference(g, convention, params):
    za, zb = make_batches(9, 6, seed=5 + g)
    # NumPy: views() against vicreg(), to rounding.
    loss, terms, grads = views([za, zb], g, convention, **params)
    pkg = {PACKAGE_NAMES[k]: v for k, v in params.items()}
    loss2, terms2, ga, gb = vicreg(za, zb, convention=convention, **pkg)
    assert rel(loss, loss2) < 1e-14
    assert rel(terms["invariance"], terms2["invariance"]) < 1e-14
    for k, ab in enumerate("ab"):
        assert terms["variance"][k] == terms2["variance_" + ab]
        assert terms["covariance"][k] == terms2["covariance_" + ab]
        for key in ("mean_std", "min_std", "collapsed_fraction", "effective_rank"):
            assert terms[key][k] == terms2[key + "_" + ab]
    assert normwise(grads[0], ga) < 1e-14
    assert normwise(grads[1], gb) < 1e-14

    # PyTorch: bit for bit, values and autograd gradients, in both dtypes.
    for dtype in (torch.float64, torch.float32):
        tloss, tterms, tgrads = torch_run([za, zb], g, convention, params, dtype)
        x = torch.tensor(za, dtype=dtype, requires_grad=True)
        y = torch.tensor(zb, dtype=dtype, requires_grad=True)
        l2, t2 = vicreg_torch_terms(x, y, params["lambda_"], params["mu"], params["nu"],
                                    params["gamma"], params["eps"], convention)
        l2.backward()
        assert tloss.item() == l2.item()
        assert tterms["invariance"].item() == t2["invariance"].item()
        for k, ab in enumerate("ab"):
            assert tterms["variance"][k].item() == t2["variance_" + ab].item()
            assert tterms["covariance"][k].item() == t2["covariance_" + ab].item()
            assert torch.equal(tterms["std"][k], t2["std_" + ab])
        assert np.array_equal(tgrads[0], x.grad.numpy())
        assert np.array_equal(tgrads[1], y.grad.numpy())


# --------------------------------------------------------------------------
# (c) the weighted pairs against VICRegL's loop
# --------------------------------------------------------------------------
def test_pair_weights_by_hand():
    # 2 global + 2 local (VICRegL's 2 x 224 + 6 x 96 has the same pattern).
    weights, total = pair_weights(4, 2)
    assert weights == {(0, 1): 2, (0, 2): 1, (0, 3): 1, (1, 2): 1, (1, 3): 1}
    assert total == 6 == 2 * (4 - 1)
    weights, total = pair_weights(3, 0)
    assert weights == {(0, 1): 2, (0, 2): 2, (1, 2): 2} and total == 6
    assert pair_weights(1, 0) == ({}, 0)
    assert pair_weights(5, 1)[1] == 4


@pytest.mark.parametrize("convention", ["reference", "paper"])
@pytest.mark.parametrize("v_count,g", vg_cases(5) + [(8, 2), (8, 0), (8, 8)])
def test_weighted_pairs_equal_vicregl_loop(v_count, g, convention):
    params = CUSTOM if (v_count + g) % 2 else DEFAULT
    zs = make_views(v_count, 6, 4, seed=100 + 10 * v_count + g, gamma=params["gamma"])
    loss, terms, grads = views(zs, g, convention, **params)
    ts = [torch.tensor(z, requires_grad=True) for z in zs]
    lloss, inv, var, cov = views_vicregl_loop(ts, g, convention, **params)
    lloss.backward()
    assert rel(lloss.item(), loss) < 1e-13
    if v_count == 1:
        assert inv.item() == 0.0 == terms["invariance"]
    else:
        assert rel(inv.item(), terms["invariance"]) < 1e-13
    assert rel(var.item() * v_count, sum(terms["variance"])) < 1e-13
    assert rel(cov.item() * v_count, sum(terms["covariance"])) < 1e-13
    for grad, t in zip(grads, ts):
        assert normwise(grad, t.grad.numpy()) < 1e-12


def test_vicregl_coefficients():
    # VICRegL's own global loss with its coefficients (inv, var, cov) is the
    # reference-convention loss with lambda = inv, mu = var, nu = cov / V.
    zs = make_views(6, 8, 5, seed=77)
    inv_c, var_c, cov_c = 25.0, 25.0, 1.0
    ts = [torch.tensor(z) for z in zs]
    _, inv, var, cov = views_vicregl_loop(ts, 2, "reference")
    vicregl = inv_c * inv.item() + var_c * var.item() + cov_c * cov.item()
    loss = views(zs, 2, "reference", lambda_=inv_c, mu=var_c, nu=cov_c / 6,
                 grads=False)[0]
    assert rel(loss, vicregl) < 1e-13


# --------------------------------------------------------------------------
# (d) finite differences
# --------------------------------------------------------------------------
def finite_difference(f, z, h=1e-6):
    grad = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        old = z[index]
        z[index] = old + h
        up = f()
        z[index] = old - h
        down = f()
        z[index] = old
        grad[index] = (up - down) / (2 * h)
    return grad


@pytest.mark.parametrize("convention", ["reference", "paper"])
@pytest.mark.parametrize("v_count,g", [(1, 0), (1, 1), (2, 1), (3, 0), (3, 1), (3, 2),
                                       (4, 2), (4, 3), (5, 1)])
def test_gradients_match_finite_differences(v_count, g, convention):
    params = CUSTOM if g % 2 else DEFAULT
    zs = make_views(v_count, 5, 4, seed=200 + 10 * v_count + g, gamma=params["gamma"])
    _, _, grads = views(zs, g, convention, **params)
    for k in range(v_count):
        fd = finite_difference(lambda: views(zs, g, convention, grads=False, **params)[0],
                               zs[k])
        assert normwise(grads[k], fd) < 1e-7, (k, normwise(grads[k], fd))


# --------------------------------------------------------------------------
# (e) the invariance of nearly equal views
# --------------------------------------------------------------------------
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    c = 134217729.0 * a  # 2^27 + 1 (Veltkamp)
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a, b):
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def exact_sum_sq_diff(a, b):
    """sum (a - b)^2 to about 2^-100 relative: a - b = s + e exactly
    (TwoSum), s^2 = p + q exactly (Dekker's product), the remaining
    2 s e + e^2 is 2^-52 of s^2 and its rounding is negligible; math.fsum
    rounds the sum of every piece correctly."""
    s, e = _two_sum(a.ravel(), -b.ravel())
    p, q = _two_prod(s, s)
    return math.fsum(np.concatenate([p, q, 2.0 * s * e, e * e]).tolist())


def test_invariance_of_nearly_equal_views_keeps_its_digits(capsys):
    rng = np.random.default_rng(2024)
    n, d = 64, 32
    zi = rng.standard_normal((n, d)) + rng.uniform(-3.0, 3.0, d)
    zj = zi + 1e-7 * rng.standard_normal((n, d))

    exact = exact_sum_sq_diff(zi, zj)
    direct = ((zi - zj) ** 2).sum()
    expansion = (zi * zi).sum() + (zj * zj).sum() - 2.0 * (zi * zj).sum()
    err_direct = rel(direct, exact)
    err_expansion = rel(expansion, exact)

    # The extended-precision sum agrees with the compensated one (where
    # long double has a 64-bit significand, as on x86-64).
    longdouble = None
    if np.finfo(np.longdouble).nmant >= 63:
        dl = zi.astype(np.longdouble) - zj.astype(np.longdouble)
        longdouble = float((dl * dl).sum())
        assert rel(longdouble, exact) < 1e-15

    # The references compute it directly: views() in both conventions.
    for convention, per in (("reference", n * d), ("paper", n)):
        _, terms, _ = views([zi, zj], 0, convention, grads=False)
        assert rel(terms["invariance"], exact / per) < 1e-12
        assert rel(terms["pairs"][(0, 1)], exact / per) < 1e-12

    with capsys.disabled():
        print("\n[views invariance, %dx%d, Z_j = Z_i + 1e-7 * noise]" % (n, d))
        print("  exact (compensated)       %.17g" % exact)
        if longdouble is not None:
            print("  long double               %.17g" % longdouble)
        print("  direct sum (a-b)^2        %.17g   relative error %.3g" % (direct, err_direct))
        print("  ||a||^2+||b||^2-2a.b      %.17g   relative error %.3g" % (expansion, err_expansion))
    assert err_direct < 1e-12
    # What the direct form avoids: the expansion has lost most digits.
    assert err_expansion > 1e-6


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------
@pytest.mark.parametrize("convention", ["reference", "paper"])
def test_permuting_views_within_their_class(convention):
    zs = make_views(6, 7, 5, seed=9)
    g = 2
    loss, terms, grads = views(zs, g, convention)
    for perm in ([0, 1, 5, 4, 3, 2], [1, 0, 2, 3, 4, 5], [1, 0, 4, 2, 5, 3]):
        loss_p, terms_p, grads_p = views([zs[k] for k in perm], g, convention)
        assert rel(loss_p, loss) < 1e-14
        assert rel(terms_p["invariance"], terms["invariance"]) < 1e-14
        for pos, k in enumerate(perm):
            assert normwise(grads_p[pos], grads[k]) < 1e-14
    # Moving a local view in front of the globals changes the loss.
    loss_x = views([zs[2], zs[1], zs[0]] + zs[3:], g, convention, grads=False)[0]
    assert rel(loss_x, loss) > 1e-6


def test_all_global_is_the_plain_pair_mean():
    zs = make_views(5, 6, 3, seed=11)
    for convention, per in (("reference", 6 * 3), ("paper", 6)):
        _, terms, _ = views(zs, 0, convention, grads=False)
        pairs = [((zs[i] - zs[j]) ** 2).sum() / per
                 for i in range(5) for j in range(i + 1, 5)]
        assert rel(terms["invariance"], np.mean(pairs)) < 1e-14
        assert views(zs, 5, convention, grads=False)[0] == \
            views(zs, 0, convention, grads=False)[0]


@pytest.mark.parametrize("convention", ["reference", "paper"])
def test_one_view_is_the_regulariser_alone(convention):
    (z,) = make_views(1, 8, 5, seed=12)
    for g in (0, 1):
        loss, terms, grads = views([z], g, convention, **CUSTOM)
        assert terms["invariance"] == 0.0 and terms["pairs"] == {}
        # w = 1/V = 1 in both conventions when V = 1.
        assert loss == CUSTOM["mu"] * terms["variance"][0] + CUSTOM["nu"] * terms["covariance"][0]
        # The invariance coefficient has no effect.
        loss0, _, grads0 = views([z], g, convention, **dict(CUSTOM, lambda_=0.0))
        assert loss0 == loss and np.array_equal(grads0[0], grads[0])


def test_bad_global_views_refused():
    zs = make_views(3, 4, 2, seed=1)
    for g in (-1, 4, 1.5):
        with pytest.raises(ValueError):
            views(zs, g)
        with pytest.raises(ValueError):
            views_torch_terms([torch.tensor(z) for z in zs], g)
    with pytest.raises(ValueError):
        views([zs[0], zs[1][:, :1]])


# --------------------------------------------------------------------------
# The committed vectors (scripts/gen_views_vectors.py) against views()
# --------------------------------------------------------------------------
VIEWS_VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "..", "..", "tests", "vectors", "views")


def read_views_vector(path):
    with open(path) as f:
        tokens = [t for line in f if not line.startswith("#") for t in line.split()]
    assert tokens[0] == "vicreg-views-vector-v1"
    kv, pos = {}, 1
    while "=" in tokens[pos]:
        key, value = tokens[pos].split("=", 1)
        kv[key] = value
        pos += 1
    v_count, n, d = int(kv["views"]), int(kv["n"]), int(kv["d"])
    mats = {}
    for label in ["z%d" % k for k in range(v_count)] + ["grad%d" % k for k in range(v_count)]:
        assert tokens[pos] == label
        m = np.array([float(t) for t in tokens[pos + 1:pos + 1 + n * d]]).reshape(n, d)
        if label.startswith("z") and kv["inputs"] == "f32":
            m = m.astype(np.float32).astype(np.float64)
        mats[label] = m
        pos += 1 + n * d
    assert pos == len(tokens)
    return kv, mats


def test_committed_views_vectors_match_numpy():
    if not os.path.isdir(VIEWS_VECTORS):
        pytest.skip("no tests/vectors/views beside this source tree")
    files = sorted(f for f in os.listdir(VIEWS_VECTORS) if f.endswith(".vec"))
    assert files, "no vector files: run scripts/gen_views_vectors.py"
    for name in files:
        kv, mats = read_views_vector(os.path.join(VIEWS_VECTORS, name))
        v_count = int(kv["views"])
        params = dict(lambda_=float(kv["lambda"]), mu=float(kv["mu"]), nu=float(kv["nu"]),
                      gamma=float(kv["gamma"]), eps=float(kv["eps"]))
        zs = [mats["z%d" % k] for k in range(v_count)]
        loss, terms, grads = views(zs, int(kv["global_views"]), kv["convention"], **params)
        assert rel(loss, float(kv["loss"])) < 1e-12, name
        assert abs(terms["invariance"] - float(kv["invariance"])) <= \
            1e-12 * abs(terms["invariance"]), name
        assert terms["weight_sum"] == float(kv["weight_sum"]), name
        for k in range(v_count):
            assert rel(terms["covariance"][k], float(kv["covariance_%d" % k])) < 1e-12, name
            assert abs(terms["variance"][k] - float(kv["variance_%d" % k])) <= 1e-12, name
            assert normwise(grads[k], mats["grad%d" % k]) < 1e-12, name
