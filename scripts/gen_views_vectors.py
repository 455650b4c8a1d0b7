#!/usr/bin/python3
"""Generate the PyTorch autograd test vectors of libvicreg's multi-view loss
(tests/vectors/views/, SPEC.md section 4).

How to re-run
-------------
From the top of the source tree, with Debian's Python (python3-torch and
python3-numpy), on OpenBLAS's generic Prescott kernels as for
scripts/gen_torch_vectors.py:

    OPENBLAS_CORETYPE=Prescott /usr/bin/python3 scripts/gen_views_vectors.py

It computes every case, checks them (below), and only then deletes the old
tests/vectors/views/*.vec files and writes the new ones. An optional
argument names another output directory; to check that the committed
files are reproduced byte for byte:

    OPENBLAS_CORETYPE=Prescott /usr/bin/python3 scripts/gen_views_vectors.py /tmp/views-vec
    for f in tests/vectors/views/*.vec; do cmp "$f" /tmp/views-vec/"${f##*/}"; done

The output is deterministic (fixed seeds, float64 on one thread); other
OpenBLAS kernel sets change the last digits of some values. Commit the
files together with any change to this script or to the reference.

What it computes
----------------
For every case: V views Z_0 .. Z_{V-1} (n x d), the first G global, and
with torch autograd in float64 the loss of
reference.views_torch_terms() (bindings/python/tests/reference.py):

    W_ij  = [i < G] + [j < G]          (G = 0: every view global)
    s_bar = sum_{i<j} W_ij s(Z_i, Z_j) / sum_{i<j} W_ij
    L     = lambda s_bar + mu w sum_v v(Z_v) + nu sum_v c(Z_v),
            w = 1/V (reference convention), 1 (paper)

with the per-view terms v, c as in the two-view vectors, and dL/dZ_v for
every view. The cases: every V from 1 to 8 with every G from 1 to V, and
G = 0 (every view global) for V = 1, 3 and 8; n > d and n < d in turn,
default and non-default coefficients in turn, and the two kinds of input
in turn; each in both conventions. The kinds of input:

  f32  the inputs are float32 numbers (drawn in float64, rounded to
       float32 and widened), so the library's f32 and f64 entry points see
       exactly the inputs torch saw;
  f64  the inputs are arbitrary float64 numbers: for the f64 entry point.

The reference values are float64 autograd in both.

Before writing anything the script checks each case's torch values against
two other evaluations of the same definition and refuses to write (exit
status 1, no file touched) if any disagrees:
  * reference.views(), the float64 NumPy reference with analytic gradients:
    loss, s_bar, per-view terms to 1e-12 relative, gradients 1e-12
    normwise;
  * reference.views_vicregl_loop(), the loss written as VICRegL's global
    loss is (each global view against every other view as ordered pairs,
    the regularisers averaged over the views, nu_VICRegL = V nu), with its
    own autograd gradients: the same tolerances.
It also checks that no column std lies within 1e-3 gamma of gamma (the
hinge's kink), that f32 inputs are float32 numbers, and that every file
reads back to exactly the numbers computed.

File format (one file per case, tests/vectors/views/<name>.vec, ASCII)
---------------------------------------------------------------------
The format of tests/vectors/*.vec (scripts/gen_torch_vectors.py), with the
views in place of the two batches:
  * lines starting with '#' are comments;
  * then whitespace-separated tokens:
      vicreg-views-vector-v1                (magic)
      key=value ...                         (metadata: name, views (V),
                                             global_views (G as given to
                                             the loss, 0: all global), n, d,
                                             convention (reference|paper),
                                             inputs (f32|f64), lambda, mu,
                                             nu, gamma, eps, seed)
      key=value ...                         (values: loss, invariance
                                             (s_bar), weight_sum (sum W_ij))
      key=value ...                         (per view k = 0 .. V-1:
                                             variance_k, covariance_k
                                             (unweighted), mean_std_k,
                                             min_std_k, collapsed_fraction_k)
      z0 .. z<V-1>        each then n*d numbers, row-major (a row a line)
      grad0 .. grad<V-1>  each then n*d numbers (dL/dZ_k)
  * values and gradients are float64 numbers printed with Python's repr(),
    which strtod() reads back to the identical double;
  * inputs=f64: the inputs likewise (repr(), read with strtod());
    inputs=f32: float32 numbers printed with the shortest decimal that
    identifies the float32 (numpy's str()); read with strtod() and round to
    float: (double)(float)strtod(s) is exactly the input.
"""

import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python", "tests"))
import reference  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_torch_vectors import fmt, fmt_f32, hinge_margin_ok  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

MAGIC = "vicreg-views-vector-v1"
DEFAULT = dict(lambda_=25.0, mu=25.0, nu=1.0, gamma=1.0, eps=1e-4)
CUSTOM = dict(lambda_=10.0, mu=5.0, nu=3.0, gamma=0.8, eps=1e-3)

# (V, G, n, d, coefficients name, inputs): every view count 1 .. 8 with
# every G from 1 to V, and G = 0 (every view global, the parameter's
# default) for a few; the shapes alternate between n > d and n < d (the
# library's covariance and Gram paths), the coefficients between the
# defaults and non-default ones, the inputs between the two kinds below.
def _all_cases():
    cases = []
    for v_count in range(1, 9):
        for g in [0] * (v_count in (1, 3, 8)) + list(range(1, v_count + 1)):
            k = len(cases)
            n, d = ((7, 4), (4, 7))[k % 2]
            cases.append((v_count, g, n, d, ("default", "custom")[(k // 2) % 2],
                          INPUTS[(k // 4) % 2]))
    return cases


INPUTS = ("f32", "f64")
CASES = _all_cases()
CONVENTIONS = ("reference", "paper")

TOL_VALUE = 1e-12
TOL_GRAD = 1e-12


def to_f32(a):
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def random_views(rng, v_count, n, d):
    """Correlated views: a shared mixed base with non-zero column means,
    each view the base plus its own noise with its own per-column scales in
    [0.2, 2] (some columns below gamma, some above)."""
    mix = np.eye(d) + 0.5 * rng.standard_normal((d, d)) / np.sqrt(d)
    base = rng.standard_normal((n, d)) @ mix + rng.uniform(-2.0, 2.0, d)
    out = []
    for _ in range(v_count):
        scales = rng.uniform(0.2, 2.0, d)
        out.append((base + 0.3 * rng.standard_normal((n, d))) * scales)
    return out


def make_cases():
    cases = []
    for k, (v_count, g, n, d, cname, inputs) in enumerate(CASES):
        coeffs = DEFAULT if cname == "default" else CUSTOM
        seed0 = 5000 + 100 * k + (0 if inputs == "f32" else 50)
        for attempt in range(1000):
            seed = seed0 + 7919 * attempt
            zs = random_views(np.random.default_rng(seed), v_count, n, d)
            if inputs == "f32":
                zs = [to_f32(z) for z in zs]
            if hinge_margin_ok(zs, coeffs["gamma"], coeffs["eps"]):
                break
        else:
            raise RuntimeError("no seed for case %d" % k)
        for conv in CONVENTIONS:
            name = "%s_%s_v%dg%d_%dx%d_%s" % (conv, cname, v_count, g, n, d, inputs)
            cases.append(dict(name=name, views=v_count, global_views=g, n=n, d=d,
                              convention=conv, inputs=inputs, seed=seed, zs=zs,
                              coeffs=coeffs))
    return cases


def run_case(c):
    ts = [torch.tensor(z, dtype=torch.float64, requires_grad=True) for z in c["zs"]]
    loss, t = reference.views_torch_terms(ts, c["global_views"], c["convention"], **c["coeffs"])
    loss.backward()
    gamma = c["coeffs"]["gamma"]
    stds = [s.detach().numpy() for s in t["std"]]
    return dict(
        loss=loss.item(), invariance=t["invariance"].item(),
        weight_sum=float(reference.pair_weights(c["views"], c["global_views"])[1]),
        variance=[v.item() for v in t["variance"]],
        covariance=[v.item() for v in t["covariance"]],
        mean_std=[float(s.mean()) for s in stds], min_std=[float(s.min()) for s in stds],
        collapsed_fraction=[float((s < gamma).mean()) for s in stds],
        grads=[x.grad.numpy().copy() for x in ts])


def rel(got, want):
    return abs(got - want) / max(abs(want), 1e-300)


def normwise(got, want):
    scale = np.linalg.norm(want)
    return np.linalg.norm(got - want) / (scale if scale > 0 else 1.0)


def check_case(c, r):
    """The problems found, as strings (empty: the case is good)."""
    bad = []
    name, g, conv, coeffs = c["name"], c["global_views"], c["convention"], c["coeffs"]
    if c["inputs"] == "f32":
        for z in c["zs"]:
            if not np.array_equal(to_f32(z), z):
                bad.append("%s: f32 inputs are not float32 numbers" % name)

    # NumPy, analytic gradients.
    loss, terms, grads = reference.views(c["zs"], g, conv, **coeffs)
    if rel(r["loss"], loss) > TOL_VALUE:
        bad.append("%s: loss %r, NumPy %r" % (name, r["loss"], loss))
    if c["views"] > 1 and rel(r["invariance"], terms["invariance"]) > TOL_VALUE:
        bad.append("%s: s_bar %r, NumPy %r" % (name, r["invariance"], terms["invariance"]))
    if c["views"] == 1 and (r["invariance"] != 0.0 or terms["invariance"] != 0.0):
        bad.append("%s: one view with a non-zero invariance" % name)
    for k in range(c["views"]):
        if abs(r["variance"][k] - terms["variance"][k]) > TOL_VALUE * max(terms["variance"][k],
                                                                         coeffs["gamma"]):
            bad.append("%s: variance %d differs from NumPy" % (name, k))
        if rel(r["covariance"][k], terms["covariance"][k]) > TOL_VALUE:
            bad.append("%s: covariance %d differs from NumPy" % (name, k))
        if r["collapsed_fraction"][k] != terms["collapsed_fraction"][k]:
            bad.append("%s: collapsed fraction %d differs from NumPy" % (name, k))
        if normwise(r["grads"][k], grads[k]) > TOL_GRAD:
            bad.append("%s: gradient %d differs from NumPy by %g"
                       % (name, k, normwise(r["grads"][k], grads[k])))
    w = reference.views_variance_weight(conv, c["views"])
    recomposed = (coeffs["lambda_"] * r["invariance"] + coeffs["mu"] * w * sum(r["variance"])
                  + coeffs["nu"] * sum(r["covariance"]))
    if rel(recomposed, r["loss"]) > 1e-13:
        bad.append("%s: the terms do not recompose the loss" % name)

    # VICRegL's loop, its own autograd.
    ts = [torch.tensor(z, dtype=torch.float64, requires_grad=True) for z in c["zs"]]
    lloss, inv, _, _ = reference.views_vicregl_loop(ts, g, conv, **coeffs)
    lloss.backward()
    if rel(r["loss"], lloss.item()) > TOL_VALUE:
        bad.append("%s: loss %r, VICRegL loop %r" % (name, r["loss"], lloss.item()))
    if c["views"] > 1 and rel(r["invariance"], inv.item()) > TOL_VALUE:
        bad.append("%s: s_bar %r, VICRegL loop %r" % (name, r["invariance"], inv.item()))
    for k, t in enumerate(ts):
        if normwise(r["grads"][k], t.grad.numpy()) > TOL_GRAD:
            bad.append("%s: gradient %d differs from the VICRegL loop" % (name, k))
    if not any(v > 0.0 for v in r["variance"]):
        bad.append("%s: no active hinge" % name)
    return bad


# --------------------------------------------------------------------------
# Output.
# --------------------------------------------------------------------------
def render(c, r):
    n, d, v_count = c["n"], c["d"], c["views"]
    entry = fmt_f32 if c["inputs"] == "f32" else fmt
    co = c["coeffs"]
    lines = ["# libvicreg multi-view test vector: generated by scripts/gen_views_vectors.py",
             "# with torch %s autograd in float64. Do not edit; re-run the script."
             % torch.__version__,
             MAGIC]
    meta = [("name", c["name"]), ("views", v_count), ("global_views", c["global_views"]),
            ("n", n), ("d", d), ("convention", c["convention"]), ("inputs", c["inputs"]),
            ("lambda", fmt(co["lambda_"])), ("mu", fmt(co["mu"])), ("nu", fmt(co["nu"])),
            ("gamma", fmt(co["gamma"])), ("eps", fmt(co["eps"])), ("seed", c["seed"])]
    lines.append(" ".join("%s=%s" % kv for kv in meta))
    lines.append(" ".join("%s=%s" % (k, fmt(r[k])) for k in ("loss", "invariance", "weight_sum")))
    for k in range(v_count):
        lines.append(" ".join("%s_%d=%s" % (key, k, fmt(r[key][k])) for key in
                              ("variance", "covariance", "mean_std", "min_std",
                               "collapsed_fraction")))
    for k, z in enumerate(c["zs"]):
        lines.append("z%d" % k)
        lines.extend(" ".join(entry(v) for v in row) for row in z)
    for k, gk in enumerate(r["grads"]):
        lines.append("grad%d" % k)
        lines.extend(" ".join(fmt(v) for v in row) for row in gk)
    return "\n".join(lines) + "\n"


def parse(text):
    """What a reader gets back from a file: (metadata and values dict,
    {label: matrix}), with f32 inputs rounded to float32."""
    tokens = [t for line in text.splitlines() if not line.startswith("#")
              for t in line.split()]
    assert tokens[0] == MAGIC
    kv, mats, pos = {}, {}, 1
    while "=" in tokens[pos]:
        key, value = tokens[pos].split("=", 1)
        kv[key] = value
        pos += 1
    v_count, n, d = int(kv["views"]), int(kv["n"]), int(kv["d"])
    for label in ["z%d" % k for k in range(v_count)] + ["grad%d" % k for k in range(v_count)]:
        assert tokens[pos] == label, (tokens[pos], label)
        m = np.array([float(t) for t in tokens[pos + 1:pos + 1 + n * d]]).reshape(n, d)
        if label.startswith("z") and kv["inputs"] == "f32":
            m = to_f32(m)
        mats[label] = m
        pos += 1 + n * d
    assert pos == len(tokens)
    return kv, mats


def check_round_trip(c, r, text):
    kv, mats = parse(text)
    ok = float(kv["loss"]) == r["loss"] and float(kv["invariance"]) == r["invariance"]
    for k in range(c["views"]):
        ok &= np.array_equal(mats["z%d" % k], c["zs"][k])
        ok &= np.array_equal(mats["grad%d" % k], r["grads"][k])
        ok &= float(kv["variance_%d" % k]) == r["variance"][k]
        ok &= float(kv["covariance_%d" % k]) == r["covariance"][k]
    return bool(ok)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "vectors", "views")
    cases = make_cases()
    rendered, problems = [], []
    for c in cases:
        r = run_case(c)
        problems += check_case(c, r)
        text = render(c, r)
        if not check_round_trip(c, r, text):
            problems.append("%s: the file does not read back exactly" % c["name"])
        rendered.append((c, r, text))
    if problems:
        sys.stderr.write("gen_views_vectors.py: the references disagree; nothing written:\n  "
                         + "\n  ".join(problems) + "\n")
        sys.exit(1)

    os.makedirs(outdir, exist_ok=True)
    for old in os.listdir(outdir):
        if old.endswith(".vec"):
            os.remove(os.path.join(outdir, old))
    total = 0
    for c, r, text in rendered:
        path = os.path.join(outdir, c["name"] + ".vec")
        with open(path, "w") as f:
            f.write(text)
        total += os.path.getsize(path)
        print("%-36s loss=%-22s s_bar=%.6g min std %.4g" % (
            c["name"], fmt(r["loss"]), r["invariance"], min(r["min_std"])))
    print("%d files, %d bytes in %s (checked against reference.views() and the "
          "VICRegL-style loop)" % (len(rendered), total, outdir))


if __name__ == "__main__":
    main()
