"""An independent VICReg in plain NumPy, double precision: the formulas of
the specification written out one by one, values and analytic gradients.
Nothing here calls libvicreg."""

import numpy as np

DEFAULTS = dict(invariance_coeff=25.0, variance_coeff=25.0,
                covariance_coeff=1.0, std_target=1.0, eps=1e-4,
                convention="reference")


def _branch(z, gamma, eps):
    n, d = z.shape
    zc = z - z.mean(axis=0)
    var = (zc ** 2).sum(axis=0) / (n - 1)
    std = np.sqrt(var + eps)
    cov = zc.T @ zc / (n - 1)
    off = cov - np.diag(np.diag(cov))
    v = np.maximum(0.0, gamma - std).sum() / d
    c = (off ** 2).sum() / d
    active = (std < gamma).astype(np.float64)
    grad_v = -active * zc / (d * (n - 1) * std)
    grad_c = 4.0 / (d * (n - 1)) * zc @ off
    frob2 = (cov ** 2).sum()
    diagnostics = dict(mean_std=std.mean(), min_std=std.min(),
                       collapsed_fraction=active.mean(),
                       effective_rank=np.trace(cov) ** 2 / frob2
                       if frob2 > 0 else 0.0)
    return v, c, grad_v, grad_c, diagnostics


def vicreg(za, zb, **params):
    """(loss, terms dict, dL/dZa, dL/dZb) in float64."""
    p = dict(DEFAULTS, **params)
    za = np.asarray(za, dtype=np.float64)
    zb = np.asarray(zb, dtype=np.float64)
    n, d = za.shape
    lam, mu, nu = (p["invariance_coeff"], p["variance_coeff"],
                   p["covariance_coeff"])
    diff = za - zb
    if p["convention"] == "reference":
        inv = (diff ** 2).sum() / (n * d)
        k_s, w = 2.0 / (n * d), 0.5
    elif p["convention"] == "paper":
        inv = (diff ** 2).sum() / n
        k_s, w = 2.0 / n, 1.0
    else:
        raise ValueError(p["convention"])
    va, ca, gva, gca, da = _branch(za, p["std_target"], p["eps"])
    vb, cb, gvb, gcb, db = _branch(zb, p["std_target"], p["eps"])
    loss = lam * inv + mu * w * (va + vb) + nu * (ca + cb)
    grad_a = lam * k_s * diff + mu * w * gva + nu * gca
    grad_b = -lam * k_s * diff + mu * w * gvb + nu * gcb
    terms = dict(loss=loss, invariance=inv, variance_a=va, variance_b=vb,
                 covariance_a=ca, covariance_b=cb)
    for key, value in da.items():
        terms[key + "_a"] = value
    for key, value in db.items():
        terms[key + "_b"] = value
    return loss, terms, grad_a, grad_b


def loss_only(za, zb, **params):
    return vicreg(za, zb, **params)[0]
