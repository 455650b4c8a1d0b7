#!/usr/bin/python3
"""Generate the PyTorch autograd test vectors of libvicreg (tests/vectors/).

How to re-run
-------------
From the top of the source tree, with Debian's Python (it has python3-torch
and python3-numpy; a different python3 on PATH may not):

    /usr/bin/python3 scripts/gen_torch_vectors.py

It deletes the old tests/vectors/*.vec files and writes the new ones. The
output is deterministic (fixed seeds, float64 arithmetic on one thread), so
re-running it on the same torch version and the same OpenBLAS kernel set
reproduces the files; commit them together with any change to this script
or to the reference it uses. An optional argument names another output
directory.

The matrix products (x.T @ x and their backward) run in Debian's OpenBLAS,
whose kernel set changes the last bits of the results. The committed files
are those of OpenBLAS 0.3.21's generic Prescott kernels: on any x86-64 CPU,

    OPENBLAS_CORETYPE=Prescott /usr/bin/python3 scripts/gen_torch_vectors.py /tmp/vec
    for f in tests/vectors/*.vec; do cmp "$f" /tmp/vec/"${f##*/}"; done

reproduces them byte for byte (torch 1.13.0a0); with the Haswell, SkylakeX
or Cooperlake kernels 28 of the 36 files differ in the last digits.

What it computes
----------------
For every case: two input batches Za, Zb (n x d), drawn as float32 numbers and
then widened to float64, so that the same inputs are exact for the library's
f32 and f64 entry points; then, with torch autograd in float64, the VICReg
loss, its terms (invariance, variance_a, variance_b, covariance_a,
covariance_b; variance and covariance unweighted) and dL/dZa, dL/dZb.

The loss is reference.vicreg_torch_terms() of bindings/python/tests/reference.py,
the Python reference of VICReg that the binding tests and bench/compare_torch.py
use too. It is written from the formulas of the VICReg paper and of the
authors' public training code (facebookresearch/vicreg, main_vicreg.py), not
from libvicreg's sources:

  reference convention (the default): exactly the authors' forward(),
      repr_loss = F.mse_loss(x, y)
      x = x - x.mean(dim=0); y = y - y.mean(dim=0)
      std_x = torch.sqrt(x.var(dim=0) + 0.0001)
      std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
      cov_x = (x.T @ x) / (batch_size - 1)
      cov_loss = off_diagonal(cov_x).pow_(2).sum().div(num_features) + (same for y)
      loss = sim_coeff * repr_loss + std_coeff * std_loss + cov_coeff * cov_loss
    with gamma and eps in place of the literal 1 and 0.0001.
  paper convention: invariance (1/n) sum_i ||Za_i - Zb_i||^2 and the variance
    hinges with weight 1 instead of 1/2; everything else the same.

File format (one file per case, tests/vectors/<name>.vec, ASCII)
-----------------------------------------------------------------
  * lines starting with '#' are comments;
  * then whitespace-separated tokens:
      vicreg-vector-v1                       (magic)
      key=value ...                          (metadata: name, n, d, convention
                                              (reference|paper), lambda, mu, nu,
                                              gamma, eps, seed, and the reference
                                              values loss, invariance, variance_a,
                                              variance_b, covariance_a, covariance_b)
      za      then n*d numbers, row-major (one row per line)
      zb      then n*d numbers
      grad_a  then n*d numbers (dL/dZa)
      grad_b  then n*d numbers (dL/dZb)
  * the metadata values and the gradients are float64 numbers printed with
    Python's repr(), which strtod() reads back to the identical double;
  * the inputs za and zb are float32 numbers printed with the shortest decimal
    that identifies the float32 (numpy's str()). Read them with strtod() and
    round the result to float: (double)(float)strtod(s) is exactly the input
    (the script checks this for every entry). The f64 reference values were
    computed from exactly these float32 values.
"""

import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The Python reference of VICReg, shared with the binding tests and the
# benchmark (bindings/python/tests/reference.py).
sys.path.insert(0, os.path.join(ROOT, "bindings", "python", "tests"))
import reference  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

DEFAULT = dict(lam=25.0, mu=25.0, nu=1.0, gamma=1.0, eps=1e-4)
CUSTOM = dict(lam=10.0, mu=5.0, nu=3.0, gamma=0.8, eps=1e-3)

SHAPES = [(2, 1), (2, 5), (3, 3), (8, 4), (16, 24), (24, 16), (32, 32), (5, 40)]

# No column's std may lie within this relative distance of gamma: the hinge
# max(0, gamma - s_j) is not differentiable there, and a float32 computation
# must see the same set of active hinges as the float64 reference.
HINGE_MARGIN = 1e-3

# The terms written to every file, in this order.
TERMS = ("invariance", "variance_a", "variance_b", "covariance_a", "covariance_b")


# --------------------------------------------------------------------------
# Inputs: float32 values, widened to float64.
# --------------------------------------------------------------------------
def to_f32(a):
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def random_pair(rng, n, d, scale_lo=0.2, scale_hi=2.0):
    """A correlated pair: per-column scales in [scale_lo, scale_hi] (so that
    some columns sit below gamma and some above), mixed columns (so that the
    covariance is not diagonal), non-zero column means, zb = za + noise."""
    base = rng.standard_normal((n, d))
    mix = np.eye(d) + 0.5 * rng.standard_normal((d, d)) / np.sqrt(d)
    scales = rng.uniform(scale_lo, scale_hi, size=d)
    means = rng.uniform(-2.0, 2.0, size=d)
    za = (base @ mix) * scales + means
    zb = za + 0.3 * rng.standard_normal((n, d))
    return to_f32(za), to_f32(zb)


def hinge_margin_ok(zs, gamma, eps):
    """No column std of any batch in zs within HINGE_MARGIN of gamma."""
    for z in zs:
        if z.shape[0] < 2:
            return False
        s = np.sqrt(np.var(z, axis=0, ddof=1) + eps)
        if np.any(np.abs(s - gamma) <= HINGE_MARGIN * gamma):
            return False
    return True


# --------------------------------------------------------------------------
# Cases.
# --------------------------------------------------------------------------
def make_cases():
    cases = []

    def add(name, seed, za, zb, convention, coeffs):
        cases.append(dict(name=name, seed=seed, za=za, zb=zb, convention=convention, **coeffs))

    def draw(seed, n, d, coeffs, make):
        # Deterministic: the first seed from `seed` on whose data no std lies
        # at the hinge's kink.
        for attempt in range(1000):
            s = seed + 7919 * attempt
            za, zb = make(np.random.default_rng(s), n, d)
            if hinge_margin_ok((za, zb), coeffs["gamma"], coeffs["eps"]):
                return s, za, zb
        raise RuntimeError("no seed found for %dx%d" % (n, d))

    # The sweep: every shape, both conventions, default and custom
    # coefficients (the custom ones skip 32x32 to keep the files small).
    for k, (n, d) in enumerate(SHAPES):
        for cname, coeffs in (("default", DEFAULT), ("custom", CUSTOM)):
            if cname == "custom" and (n, d) == (32, 32):
                continue
            seed0 = 1000 + 10 * k + (0 if cname == "default" else 5)
            seed, za, zb = draw(seed0, n, d, coeffs, random_pair)
            for conv in ("reference", "paper"):
                add("%s_%s_%dx%d" % (conv, cname, n, d), seed, za, zb, conv, coeffs)

    # Constant columns: Var_j = 0, std = sqrt(eps) < gamma, the hinge is
    # active and its gradient is zero on that column. Dyadic constants, so
    # the column mean is exact and the centred column exactly zero.
    def constant_cols(rng, n, d):
        za, zb = random_pair(rng, n, d)
        za[:, 1] = 3.5
        za[:, 4] = -0.75
        zb[:, 1] = 3.5
        zb[:, 2] = 0.0
        return za, zb

    for conv, cname, coeffs in (("reference", "default", DEFAULT), ("paper", "custom", CUSTOM)):
        seed, za, zb = draw(2000, 12, 6, coeffs, constant_cols)
        add("%s_%s_constant_columns_12x6" % (conv, cname), seed, za, zb, conv, coeffs)

    # Every std above gamma: the variance terms are exactly 0.
    def wide(rng, n, d):
        return random_pair(rng, n, d, scale_lo=3.0, scale_hi=6.0)

    for conv, cname, coeffs in (("reference", "default", DEFAULT), ("paper", "custom", CUSTOM)):
        seed, za, zb = draw(3000, 16, 6, coeffs, wide)
        add("%s_%s_all_above_gamma_16x6" % (conv, cname), seed, za, zb, conv, coeffs)

    # Column offsets of +-1e4 on a spread of about 1 (float32 spacing there
    # is 2^-10): the centring must happen before any product.
    def offset(rng, n, d):
        za, zb = random_pair(rng, n, d)
        signs = np.where(np.arange(d) % 2 == 0, 1.0, -1.0)
        return to_f32(za + 1e4 * signs), to_f32(zb + 1e4 * signs)

    for conv, cname, coeffs in (("reference", "default", DEFAULT), ("paper", "custom", CUSTOM)):
        seed, za, zb = draw(4000, 32, 12, coeffs, offset)
        add("%s_%s_offset_1e4_32x12" % (conv, cname), seed, za, zb, conv, coeffs)

    return cases


# --------------------------------------------------------------------------
# Output.
# --------------------------------------------------------------------------
def fmt(x):
    return repr(float(x))


def fmt_f32(x):
    s = str(np.float32(x))
    # What the C loader does: strtod, then round to float, then widen.
    assert float(np.float32(float(s))) == x, (x, s)
    return s


def write_matrix(f, label, m, fmt_entry=fmt):
    f.write(label + "\n")
    for row in m:
        f.write(" ".join(fmt_entry(v) for v in row) + "\n")


def run_case(c):
    za = torch.tensor(c["za"], dtype=torch.float64, requires_grad=True)
    zb = torch.tensor(c["zb"], dtype=torch.float64, requires_grad=True)
    loss, t = reference.vicreg_torch_terms(
        za, zb, sim_coeff=c["lam"], std_coeff=c["mu"], cov_coeff=c["nu"],
        gamma=c["gamma"], eps=c["eps"], convention=c["convention"])
    loss.backward()
    terms = {k: t[k].item() for k in TERMS}
    std_a, std_b = t["std_a"].detach().numpy(), t["std_b"].detach().numpy()
    return loss.item(), terms, za.grad.numpy(), zb.grad.numpy(), std_a, std_b


def check_case(c, loss, terms, std_a, std_b):
    # Properties the cases are meant to have.
    assert np.all(c["za"].astype(np.float32).astype(np.float64) == c["za"])
    assert np.all(c["zb"].astype(np.float32).astype(np.float64) == c["zb"])
    w = reference.VARIANCE_WEIGHT[c["convention"]]
    recomposed = (c["lam"] * terms["invariance"]
                  + c["mu"] * w * (terms["variance_a"] + terms["variance_b"])
                  + c["nu"] * (terms["covariance_a"] + terms["covariance_b"]))
    assert abs(recomposed - loss) <= 1e-13 * abs(loss), (c["name"], recomposed, loss)
    if "constant_columns" in c["name"]:
        assert std_a[1] == np.sqrt(c["eps"]) and std_a[4] == np.sqrt(c["eps"])
        assert std_b[1] == np.sqrt(c["eps"]) and std_b[2] == np.sqrt(c["eps"])
    if "all_above_gamma" in c["name"]:
        assert np.all(std_a > c["gamma"]) and np.all(std_b > c["gamma"])
        assert terms["variance_a"] == 0.0 and terms["variance_b"] == 0.0
    else:
        assert terms["variance_a"] > 0.0 or terms["variance_b"] > 0.0, c["name"]


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "vectors")
    os.makedirs(outdir, exist_ok=True)
    for old in os.listdir(outdir):
        if old.endswith(".vec"):
            os.remove(os.path.join(outdir, old))

    total = 0
    cases = make_cases()
    for c in cases:
        loss, terms, ga, gb, std_a, std_b = run_case(c)
        check_case(c, loss, terms, std_a, std_b)
        n, d = c["za"].shape
        path = os.path.join(outdir, c["name"] + ".vec")
        with open(path, "w") as f:
            f.write("# libvicreg test vector: generated by scripts/gen_torch_vectors.py with\n"
                    "# torch %s autograd in float64. Do not edit; re-run the script.\n"
                    % torch.__version__)
            meta = [("name", c["name"]), ("n", n), ("d", d), ("convention", c["convention"]),
                    ("lambda", fmt(c["lam"])), ("mu", fmt(c["mu"])), ("nu", fmt(c["nu"])),
                    ("gamma", fmt(c["gamma"])), ("eps", fmt(c["eps"])), ("seed", c["seed"])]
            vals = [("loss", fmt(loss))] + [(k, fmt(terms[k])) for k in TERMS]
            f.write("vicreg-vector-v1\n")
            f.write(" ".join("%s=%s" % kv for kv in meta) + "\n")
            f.write(" ".join("%s=%s" % kv for kv in vals) + "\n")
            write_matrix(f, "za", c["za"], fmt_f32)
            write_matrix(f, "zb", c["zb"], fmt_f32)
            write_matrix(f, "grad_a", ga)
            write_matrix(f, "grad_b", gb)
        total += os.path.getsize(path)
        print("%-40s loss=%-22s min std a=%.4g b=%.4g" % (
            c["name"], fmt(loss), std_a.min(), std_b.min()))
    print("%d files, %d bytes in %s" % (len(cases), total, outdir))


if __name__ == "__main__":
    main()
