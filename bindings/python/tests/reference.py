"""The Python reference of VICReg, the one place its formulas are written
in Python. Nothing here calls libvicreg. Used by

  * the Python binding tests (this directory: test_values, test_shard,
    test_torch, test_training_parity, and test_reference, which checks the
    two halves below against finite differences and each other);
  * scripts/gen_torch_vectors.py, which writes tests/vectors/*.vec, the
    PyTorch vectors of the C tests, from vicreg_torch_terms();
  * bench/compare_torch.py, which times vicreg_torch() against libvicreg
    and checks both against vicreg() or vicreg_torch() in float64.

The generator and the benchmark put this directory on sys.path; the tests
find it as pytest does. It lives here, beside the tests, so that the
package's directory (bindings/python) stays complete on its own.

Two independent evaluations of the same definition, in two conventions:

  reference  the authors' training code (facebookresearch/vicreg,
             main_vicreg.py): invariance = mean squared error over the n x d
             entries, the variance hinges weighted 1/2 each;
  paper      the paper: invariance = (1/n) sum_i ||Za_i - Zb_i||^2, the
             hinges weighted 1.
  Both: loss = lambda * invariance + mu * w * (v(Za) + v(Zb))
               + nu * (c(Za) + c(Zb)),
    v(Z) = (1/d) sum_j max(0, gamma - sqrt(Var_j(Z) + eps)),
    c(Z) = (1/d) sum_{j != k} C(Z)_jk^2, C = Zc^T Zc / (n - 1), Var unbiased.

vicreg_torch(), vicreg_torch_terms()
    PyTorch, written as main_vicreg.py writes VICReg.forward() (with gamma
    and eps in place of its literals 1 and 0.0001, and the paper
    convention's two differences); gradients from autograd. torch is needed
    only for these two.
vicreg()
    NumPy float64, the formulas term by term with analytic gradients and
    the collapse diagnostics; needs NumPy only.
"""

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the NumPy reference does without
    torch = F = None

# The library's defaults, by the Python package's parameter names.
DEFAULTS = dict(invariance_coeff=25.0, variance_coeff=25.0,
                covariance_coeff=1.0, std_target=1.0, eps=1e-4,
                convention="reference")

# The weight w of the variance hinges, per convention.
VARIANCE_WEIGHT = {"reference": 0.5, "paper": 1.0}

# The package's parameter names -> the keyword names of vicreg_torch()
# (the authors' sim_coeff, std_coeff, cov_coeff; gamma).
TORCH_NAMES = dict(invariance_coeff="sim_coeff", variance_coeff="std_coeff",
                   covariance_coeff="cov_coeff", std_target="gamma")


def _check_convention(convention):
    if convention not in VARIANCE_WEIGHT:
        raise ValueError("unknown convention %r" % (convention,))
    return VARIANCE_WEIGHT[convention]


# --------------------------------------------------------------------------
# PyTorch, autograd
# --------------------------------------------------------------------------

def torch_kwargs(**params):
    """The keyword arguments of vicreg_torch() for parameters named as the
    package names them (invariance_coeff, ..., std_target, eps,
    convention)."""
    return {TORCH_NAMES.get(k, k): v for k, v in params.items()}


def off_diagonal(x):
    # As in the authors' code: a flattened view of the off-diagonal
    # elements of a square matrix.
    n, m = x.shape
    assert n == m
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def vicreg_torch_terms(x, y, sim_coeff=25.0, std_coeff=25.0, cov_coeff=1.0,
                       gamma=1.0, eps=1e-4, convention="reference"):
    """(loss, terms): the loss as a tensor of autograd, and a dict of
    tensors: invariance, variance_a, variance_b, covariance_a, covariance_b
    (the variance and covariance terms unweighted, as in vicreg.TERMS), and
    std_a, std_b (the regularised column stds). x, y: (batch, features)."""
    if torch is None:
        raise ImportError("the PyTorch reference needs torch")
    w = _check_convention(convention)
    batch_size, num_features = x.shape
    if convention == "reference":
        repr_loss = F.mse_loss(x, y)
    else:
        repr_loss = ((x - y) ** 2).sum(dim=1).mean()

    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)

    std_x = torch.sqrt(x.var(dim=0) + eps)
    std_y = torch.sqrt(y.var(dim=0) + eps)
    v_x = torch.mean(F.relu(gamma - std_x))
    v_y = torch.mean(F.relu(gamma - std_y))
    # The authors write v_x / 2 + v_y / 2: w * v is the same number.
    std_loss = w * v_x + w * v_y

    cov_x = (x.T @ x) / (batch_size - 1)
    cov_y = (y.T @ y) / (batch_size - 1)
    c_x = off_diagonal(cov_x).pow_(2).sum().div(num_features)
    c_y = off_diagonal(cov_y).pow_(2).sum().div(num_features)
    cov_loss = c_x + c_y

    loss = sim_coeff * repr_loss + std_coeff * std_loss + cov_coeff * cov_loss
    terms = dict(invariance=repr_loss, variance_a=v_x, variance_b=v_y,
                 covariance_a=c_x, covariance_b=c_y, std_a=std_x, std_b=std_y)
    return loss, terms


def vicreg_torch(x, y, sim_coeff=25.0, std_coeff=25.0, cov_coeff=1.0,
                 gamma=1.0, eps=1e-4, convention="reference"):
    """The loss of vicreg_torch_terms() alone, a tensor of autograd (the
    authors' forward(): a criterion for a training loop)."""
    return vicreg_torch_terms(x, y, sim_coeff, std_coeff, cov_coeff, gamma,
                              eps, convention)[0]


# --------------------------------------------------------------------------
# NumPy, float64, analytic gradients
# --------------------------------------------------------------------------

def _branch(z, gamma, eps, gram):
    n, d = z.shape
    zc = z - z.mean(axis=0)
    var = (zc ** 2).sum(axis=0) / (n - 1)
    std = np.sqrt(var + eps)
    if gram:
        # Through K = Zc Zc^T (n x n), cheaper when n < d: ||C||_F^2 =
        # ||K||_F^2 / (n-1)^2, diag C = Var, Zc C = K Zc / (n-1).
        k = zc @ zc.T
        frob2 = (k ** 2).sum() / (n - 1) ** 2
        off2 = frob2 - (var ** 2).sum()
        zc_off = k @ zc / (n - 1) - zc * var      # Zc (C - diag C)
    else:
        cov = zc.T @ zc / (n - 1)
        off = cov - np.diag(np.diag(cov))
        frob2 = (cov ** 2).sum()
        off2 = (off ** 2).sum()
        zc_off = zc @ off
    v = np.maximum(0.0, gamma - std).sum() / d
    c = off2 / d
    active = (std < gamma).astype(np.float64)
    grad_v = -active * zc / (d * (n - 1) * std)
    grad_c = 4.0 / (d * (n - 1)) * zc_off
    diagnostics = dict(mean_std=std.mean(), min_std=std.min(),
                       collapsed_fraction=active.mean(),
                       effective_rank=var.sum() ** 2 / frob2
                       if frob2 > 0 else 0.0)
    return v, c, grad_v, grad_c, diagnostics


def vicreg(za, zb, gram=False, **params):
    """(loss, terms dict, dL/dZa, dL/dZb) in float64. params: the package's
    names (DEFAULTS). gram=True evaluates the covariance terms through the
    n x n Gram matrix instead of the d x d covariance (the same numbers up
    to rounding; for n < d at large shapes)."""
    p = dict(DEFAULTS, **params)
    za = np.asarray(za, dtype=np.float64)
    zb = np.asarray(zb, dtype=np.float64)
    n, d = za.shape
    lam, mu, nu = (p["invariance_coeff"], p["variance_coeff"],
                   p["covariance_coeff"])
    w = _check_convention(p["convention"])
    # The invariance: the mean of ||Za_i - Zb_i||^2 / d (reference) or of
    # ||Za_i - Zb_i||^2 (paper) over the rows.
    per = n * d if p["convention"] == "reference" else n
    diff = za - zb
    inv = (diff ** 2).sum() / per
    va, ca, gva, gca, da = _branch(za, p["std_target"], p["eps"], gram)
    vb, cb, gvb, gcb, db = _branch(zb, p["std_target"], p["eps"], gram)
    loss = lam * inv + mu * w * (va + vb) + nu * (ca + cb)
    grad_a = lam * 2.0 / per * diff + mu * w * gva + nu * gca
    grad_b = -lam * 2.0 / per * diff + mu * w * gvb + nu * gcb
    terms = dict(loss=loss, invariance=inv, variance_a=va, variance_b=vb,
                 covariance_a=ca, covariance_b=cb)
    for key, value in da.items():
        terms[key + "_a"] = value
    for key, value in db.items():
        terms[key + "_b"] = value
    return loss, terms, grad_a, grad_b


def loss_only(za, zb, **params):
    return vicreg(za, zb, **params)[0]
