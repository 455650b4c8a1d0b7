"""The Python reference of VICReg, the one place its formulas are written
in Python. Nothing here calls libvicreg. Used by

  * the Python binding tests (this directory: test_values, test_shard,
    test_torch, test_training_parity, and test_reference, which checks the
    two halves below against finite differences and each other);
  * scripts/gen_torch_vectors.py, which writes tests/vectors/*.vec, the
    PyTorch vectors of the C tests, from vicreg_torch_terms();
  * scripts/gen_views_vectors.py, which writes tests/vectors/views/*.vec,
    the multi-view vectors, from views_torch_terms() (checked against
    views() and views_vicregl_loop(); test_views_reference checks those
    three on their own);
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

More than two views (SPEC.md section 4): V batches Z_0 .. Z_{V-1}, the
first G of them global (G = 0: all global). The pair {i, j}, i < j, has
weight W_ij = [i < G] + [j < G];

    s_bar = sum_{i<j} W_ij s(Z_i, Z_j) / sum_{i<j} W_ij   (the sum is G (V - 1))
    L     = lambda s_bar + mu w sum_v v(Z_v) + nu sum_v c(Z_v),
            w = 1/V (reference) or 1 (paper); V = 1: s_bar = 0.

views_torch_terms()
    PyTorch, autograd; the per-batch terms are the operations of
    vicreg_torch_terms() (the same helpers), so with V = 2 its loss, terms
    and gradients are those of vicreg_torch_terms() bit for bit, for any G.
views()
    NumPy float64 with analytic gradients per view:
    dL/dZ_i = lambda k_s sum_{j != i} W_ij (Z_i - Z_j) / sum W
              + mu w dv/dZ_i + nu dc/dZ_i,  k_s = 2/n (paper), 2/(n d) (reference).
views_vicregl_loop()
    The same loss written as VICRegL's global loss is (facebookresearch/
    VICRegL, main_vicregl.py, VICRegL.global_loss()): each global view
    against every other view as ordered pairs, the invariances averaged,
    and the variance and covariance terms averaged over the views; a
    check of the weights W_ij, in PyTorch.
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


# The package's parameter names -> the keyword names of views() and
# views_torch() (the paper's lambda, mu, nu, gamma).
VIEWS_NAMES = dict(invariance_coeff="lambda_", variance_coeff="mu",
                   covariance_coeff="nu", std_target="gamma")


def views_kwargs(**params):
    """The keyword arguments of views() and views_torch() for parameters
    named as the package names them; path, which only the library has, is
    left out."""
    return {VIEWS_NAMES.get(k, k): v for k, v in params.items()
            if k != "path"}


def off_diagonal(x):
    # As in the authors' code: a flattened view of the off-diagonal
    # elements of a square matrix.
    n, m = x.shape
    assert n == m
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def _torch_invariance(x, y, convention):
    """s(x, y) of one pair of batches: the authors' F.mse_loss (reference)
    or the mean over rows of ||x_i - y_i||^2 (paper)."""
    if convention == "reference":
        return F.mse_loss(x, y)
    return ((x - y) ** 2).sum(dim=1).mean()


def _torch_view_terms(z, gamma, eps):
    """(v, c, std) of one batch z (batch, features), the operations of the
    authors' forward() for one branch: centre, unbiased variance, std =
    sqrt(Var + eps), the hinge mean, the off-diagonal covariance squares
    over the features."""
    batch_size, num_features = z.shape
    z = z - z.mean(dim=0)
    std = torch.sqrt(z.var(dim=0) + eps)
    v = torch.mean(F.relu(gamma - std))
    cov = (z.T @ z) / (batch_size - 1)
    c = off_diagonal(cov).pow_(2).sum().div(num_features)
    return v, c, std


def vicreg_torch_terms(x, y, sim_coeff=25.0, std_coeff=25.0, cov_coeff=1.0,
                       gamma=1.0, eps=1e-4, convention="reference"):
    """(loss, terms): the loss as a tensor of autograd, and a dict of
    tensors: invariance, variance_a, variance_b, covariance_a, covariance_b
    (the variance and covariance terms unweighted, as in vicreg.TERMS), and
    std_a, std_b (the regularised column stds). x, y: (batch, features)."""
    if torch is None:
        raise ImportError("the PyTorch reference needs torch")
    w = _check_convention(convention)
    repr_loss = _torch_invariance(x, y, convention)

    v_x, c_x, std_x = _torch_view_terms(x, gamma, eps)
    v_y, c_y, std_y = _torch_view_terms(y, gamma, eps)
    # The authors write v_x / 2 + v_y / 2: w * v is the same number.
    std_loss = w * v_x + w * v_y
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


def resolve_global_views(views, global_views):
    """G for `views` views: global_views, or views when it is 0. Raises
    ValueError unless 1 <= views and 0 <= global_views <= views."""
    if views < 1:
        raise ValueError("at least one view is needed")
    if global_views != int(global_views) or not 0 <= global_views <= views:
        raise ValueError("global_views must be an integer in [0, %d], not %r"
                         % (views, global_views))
    return views if global_views == 0 else int(global_views)


def pair_weights(views, global_views=0):
    """{(i, j): W_ij} for i < j with W_ij = [i < G] + [j < G] > 0, and
    sum_{i<j} W_ij (= G (V - 1); 0 when V = 1)."""
    g = resolve_global_views(views, global_views)
    weights = {}
    for i in range(views):
        for j in range(i + 1, views):
            w = (i < g) + (j < g)
            if w:
                weights[(i, j)] = w
    total = sum(weights.values())
    assert total == g * (views - 1)
    return weights, total


def views_variance_weight(convention, views):
    """w of the variance hinges with `views` views: 1/V (reference) or 1
    (paper); with V = 2 that of VARIANCE_WEIGHT."""
    _check_convention(convention)
    return 1.0 / views if convention == "reference" else 1.0


def _sum_in_order(terms):
    # a_0 + a_1 + ... from the left, without a leading 0 + a_0.
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def views_torch_terms(zs, global_views=0, convention="reference",
                      lambda_=25.0, mu=25.0, nu=1.0, gamma=1.0, eps=1e-4):
    """(loss, terms) of V views zs (a sequence of (batch, features) tensors),
    the first G = global_views global (0: all). The loss is a tensor of
    autograd; terms: invariance (s_bar; a zero tensor when V = 1), pairs
    ({(i, j): s(Z_i, Z_j)} over the pairs of non-zero weight), and per view,
    lists indexed by the view: variance, covariance (unweighted), std (the
    regularised column stds)."""
    if torch is None:
        raise ImportError("the PyTorch reference needs torch")
    zs = list(zs)
    v_count = len(zs)
    weights, total = pair_weights(v_count, global_views)
    w = views_variance_weight(convention, v_count)
    if any(z.shape != zs[0].shape for z in zs):
        raise ValueError("every view must have the shape of view 0")

    pairs = {ij: _torch_invariance(zs[ij[0]], zs[ij[1]], convention) for ij in weights}
    if pairs:
        s_bar = _sum_in_order([weights[ij] * s_ij for ij, s_ij in pairs.items()]) / total
    else:
        s_bar = zs[0].new_zeros(())

    per_view = [_torch_view_terms(z, gamma, eps) for z in zs]
    variance = [t[0] for t in per_view]
    covariance = [t[1] for t in per_view]
    std_loss = _sum_in_order([w * v for v in variance])
    cov_loss = _sum_in_order(covariance)
    loss = lambda_ * s_bar + mu * std_loss + nu * cov_loss
    terms = dict(invariance=s_bar, pairs=pairs, variance=variance,
                 covariance=covariance, std=[t[2] for t in per_view])
    return loss, terms


def views_torch(zs, global_views=0, **params):
    """The loss of views_torch_terms() alone (a tensor of autograd)."""
    return views_torch_terms(zs, global_views, **params)[0]


def views_vicregl_loop(zs, global_views=0, convention="reference",
                       lambda_=25.0, mu=25.0, nu=1.0, gamma=1.0, eps=1e-4):
    """(loss, inv, var, cov), tensors of autograd: the multi-view loss
    written as VICRegL's global loss is, generalised from its two global
    views to G. inv: the mean over the ordered pairs (i, j), i < G, j != i,
    of s(Z_i, Z_j); var, cov: the means over the views of v and c; loss =
    lambda inv + mu_l var + nu_l cov with VICRegL's coefficients mu_l = V w mu
    (= mu in the reference convention) and nu_l = V nu. No pair weight
    appears: that views_torch_terms() equals this checks the W_ij."""
    if torch is None:
        raise ImportError("the PyTorch reference needs torch")
    zs = list(zs)
    v_count = len(zs)
    g = resolve_global_views(v_count, global_views)
    w = views_variance_weight(convention, v_count)

    inv = zs[0].new_zeros(())
    count = 0
    for i in range(g):
        for j in range(v_count):
            if j == i:
                continue
            inv = inv + _torch_invariance(zs[i], zs[j], convention)
            count += 1
    if count:
        inv = inv / count

    var = zs[0].new_zeros(())
    cov = zs[0].new_zeros(())
    for z in zs:
        v, c, _ = _torch_view_terms(z, gamma, eps)
        var = var + v
        cov = cov + c
    var = var / v_count
    cov = cov / v_count

    mu_l = v_count * w * mu
    nu_l = v_count * nu
    loss = lambda_ * inv + mu_l * var + nu_l * cov
    return loss, inv, var, cov


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


def _views_invariance_numpy(zs, weights, total, per):
    """s_bar and {(i, j): s(Z_i, Z_j)}: each pair's sum of squared
    differences computed directly (no expansion through sums of squares,
    which cancels when views are close)."""
    pairs = {(i, j): ((zs[i] - zs[j]) ** 2).sum() / per for (i, j) in weights}
    if not pairs:
        return 0.0, pairs
    return sum(weights[ij] * s_ij for ij, s_ij in pairs.items()) / total, pairs


def views(zs, global_views=0, convention="reference", lambda_=25.0, mu=25.0,
          nu=1.0, gamma=1.0, eps=1e-4, grads=True, gram=False):
    """(loss, terms, grads) of V views zs (each n x d) in float64, the first
    G = global_views global (0: all). terms: loss, invariance (s_bar),
    pairs ({(i, j): s(Z_i, Z_j)}), weights ({(i, j): W_ij}), weight_sum,
    variance_weight (w), and lists indexed by the view: variance,
    covariance (unweighted), mean_std, min_std, collapsed_fraction,
    effective_rank. grads: the list of dL/dZ_v, or None when grads is
    False. gram: the covariance through the n x n Gram matrix (vicreg())."""
    zs = [np.asarray(z, dtype=np.float64) for z in zs]
    v_count = len(zs)
    weights, total = pair_weights(v_count, global_views)
    if zs[0].ndim != 2 or any(z.shape != zs[0].shape for z in zs):
        raise ValueError("every view must be a matrix of the shape of view 0")
    n, d = zs[0].shape
    _check_convention(convention)
    w = views_variance_weight(convention, v_count)
    per = n * d if convention == "reference" else n

    s_bar, pairs = _views_invariance_numpy(zs, weights, total, per)
    branches = [_branch(z, gamma, eps, gram) for z in zs]
    variance = [b[0] for b in branches]
    covariance = [b[1] for b in branches]
    loss = lambda_ * s_bar + mu * w * sum(variance) + nu * sum(covariance)

    terms = dict(loss=loss, invariance=s_bar, pairs=pairs, weights=weights,
                 weight_sum=total, variance_weight=w, variance=variance,
                 covariance=covariance)
    for key in ("mean_std", "min_std", "collapsed_fraction", "effective_rank"):
        terms[key] = [b[4][key] for b in branches]

    out = None
    if grads:
        ks = 2.0 / per
        out = []
        for i, z in enumerate(zs):
            inv_grad = np.zeros_like(z)
            for (a, b), wab in weights.items():
                if a == i:
                    inv_grad += wab * (z - zs[b])
                elif b == i:
                    inv_grad += wab * (z - zs[a])
            if total:
                inv_grad *= ks / total
            _, _, gv, gc, _ = branches[i]
            out.append(lambda_ * inv_grad + mu * w * gv + nu * gc)
    return loss, terms, out
