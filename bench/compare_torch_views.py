#!/usr/bin/python3
"""Side-by-side benchmark of the views call: libvicreg's vicreg_views_loss
against VICRegL's multi-crop global loss in PyTorch.

What it does
------------
For each shape (n rows x d features per view), with V views of which the
first G are global (default VICRegL's multi-crop setting: --num-crops 2 6,
V = 8, G = 2), it

1. builds V views as NumPy arrays (deterministic seed; one shared "input"
   per row with non-zero column means, a shared low-rank component and
   per-column scales, plus view noise, more for the local views; no
   column's std within 1% of gamma, where the variance hinge has a kink)
   and hands the *same memory* to both implementations (torch.from_numpy;
   for libvicreg, pointers to the arrays passed to its C function through
   the vicreg Python package of this source tree);
2. checks agreement before timing anything: the losses of PyTorch and of
   libvicreg must agree to a relative difference below --loss-rtol (1e-5
   in float32), both must agree with the NumPy float64 reference of the
   SPEC formulas (bindings/python/tests/reference.py, views(); Gram form
   when n < d), and every view's gradient must agree normwise
   (||g - g_ref||_F / ||g_ref||_F below --grad-rtol, the largest over the
   views is printed). Any failure prints the numbers and exits with
   status 1;
3. times both, interleaved round by round (the order alternating), and
   reports medians and the ratio PyTorch / libvicreg. The timed unit is,
   for PyTorch, the forward pass plus loss.backward() on V leaf tensors
   with requires_grad (all V gradients); for libvicreg one
   vicreg_views_loss_f32/f64 call returning the loss and all V gradients
   into buffers allocated beforehand;
4. measures the extra peak resident memory of one call of each in a fresh
   subprocess, as bench/compare_torch.py does (a hidden --measure-memory
   mode): the child allocates and touches the inputs (and, for libvicreg,
   the caller-owned gradient buffers), warms OpenBLAS up with the products
   of both implementations at the shape, resets the kernel's peak-RSS
   counter (5 into /proc/self/clear_refs), makes one call and reports
   VmHWM after minus VmRSS before, under fixed glibc malloc thresholds
   (GLIBC_TUNABLES). tracemalloc does not see PyTorch's allocations; this
   is the process's resident memory. For PyTorch the figure includes the V
   gradient tensors autograd allocates (the call's output, V n d elements;
   the table lists that part); for libvicreg it is the scratch of a fresh
   context (vicreg_ctx_views_scratch_bytes() is listed beside it).

The PyTorch loss
----------------
vicregl_global_loss() below is VICRegL.global_loss() of
facebookresearch/VICRegL, main_vicregl.py (commit 803ae4c, lines 421-446),
line by line, single process (utils.gather_center without the all-gather:
x - x.mean(dim=0)), with its `range(2)` (two global crops) as
range(num_global) and self.embedding_dim as d: each global view against
every other view as ordered pairs with F.mse_loss, the invariances
averaged; the variance hinge and the off-diagonal covariance of every view
averaged over the views; the three terms added (the global criterion
alone: VICRegL weights it by alpha = 0.75 and adds a criterion on feature
maps that has no counterpart here). Its coefficients are VICRegL's
defaults, inv 25, var 25, cov 1 (--inv-coeff, --var-coeff, --cov-coeff).
The same loss in libvicreg (vicreg.h, "Any number of views") is
lambda = inv, mu = var, nu = cov / V (VICRegL averages the covariance over
the views, libvicreg sums it), G = VICREG_PARAM_GLOBAL_VIEWS, the
reference convention.

Threads
-------
As bench/compare_torch.py: --threads N (default 2) is
torch.set_num_threads(N) and, unless already set, OPENBLAS_NUM_THREADS=N
for the OpenBLAS that libvicreg (and, on Debian, PyTorch's matrix
products) run on. OPENBLAS_CORETYPE is never set by this script; when it
is set in the environment it applies to both sides (one OpenBLAS
instance) and the header prints it.

Usage
-----
From the top of the source tree, with Debian's Python (python3-torch,
python3-numpy):

    /usr/bin/python3 bench/compare_torch_views.py [--lib PATH]
        [--shapes 256x2048,512x8192] [--views 8] [--global-views 2]
        [--precision f32|f64] [--threads N] [--csv FILE]

The library is found as bench/compare_torch.py finds it (--lib, then
$VICREG_LIBRARY, then build-release/ or build/libvicreg.so.1). The table
goes to stdout, progress to stderr. --csv FILE writes one row per (shape,
impl): shape,n,d,views,global_views,precision,impl,median_s,peak_mib.

Exit status: 0 success, 1 the implementations disagree, 2 usage error or
libvicreg not found / too old, 3 a libvicreg call failed.
"""

import argparse
import ctypes
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
# The shared machinery of the two-batch comparison: finding and loading the
# library, OpenBLAS introspection, the peak-RSS helpers, the interleaved
# timing loop, the table formatting. It imports nothing heavy at load time;
# its module globals np, torch, ref and vicreg are set below.
import compare_torch as ct  # noqa: E402

REPO_ROOT = ct.REPO_ROOT
DEFAULT_SHAPES = "256x2048,512x2048,256x8192,512x8192"

np = None
torch = None
F = None
ref = None
vicreg = None


def die(msg, status=2):
    print(f"compare_torch_views.py: error: {msg}", file=sys.stderr)
    sys.exit(status)


log = ct.log


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

def build_parser():
    p = argparse.ArgumentParser(
        description="Time libvicreg's views call against VICRegL's multi-crop "
                    "global loss in PyTorch (forward + autograd backward) on the "
                    "same arrays and threads.")
    p.add_argument("--lib", metavar="PATH",
                   help="libvicreg.so.1 to load (default: $VICREG_LIBRARY, then "
                        "build-release/libvicreg.so.1, then build/libvicreg.so.1)")
    p.add_argument("--shapes", type=ct.parse_shapes, default=ct.parse_shapes(DEFAULT_SHAPES),
                   metavar="NxD,...", help=f"shapes of each view (default {DEFAULT_SHAPES})")
    p.add_argument("--views", type=int, default=8, metavar="V",
                   help="views per call (default 8: VICRegL's 2 + 6 crops)")
    p.add_argument("--global-views", type=int, default=2, metavar="G",
                   help="how many of the views are global (default 2; 0 means all)")
    p.add_argument("--precision", choices=["f32", "f64"], default="f32",
                   help="floating-point type (default f32)")
    p.add_argument("--threads", type=int, default=2, metavar="N",
                   help="torch.set_num_threads(N); also OPENBLAS_NUM_THREADS=N unless "
                        "that variable is already set (default 2)")
    p.add_argument("--inv-coeff", type=float, default=25.0,
                   help="VICRegL's --inv-coeff (default 25); libvicreg's lambda")
    p.add_argument("--var-coeff", type=float, default=25.0,
                   help="VICRegL's --var-coeff (default 25); libvicreg's mu")
    p.add_argument("--cov-coeff", type=float, default=1.0,
                   help="VICRegL's --cov-coeff (default 1); libvicreg's nu is it / V")
    p.add_argument("--csv", metavar="FILE",
                   help="also write shape,n,d,views,global_views,precision,impl,"
                        "median_s,peak_mib rows")
    p.add_argument("--budget", type=float, default=10.0, metavar="SECONDS",
                   help="approximate PyTorch time to spend timing each shape (default "
                        "10; the number of rounds is budget / one call, clamped to "
                        "[--min-reps, --max-reps])")
    p.add_argument("--min-reps", type=int, default=3,
                   help="minimum PyTorch samples per shape (default 3)")
    p.add_argument("--max-reps", type=int, default=100,
                   help="maximum PyTorch samples per shape (default 100)")
    p.add_argument("--seed", type=int, default=20220101, help="data seed")
    p.add_argument("--loss-rtol", type=float, default=None,
                   help="relative loss tolerance (default 1e-5 in f32, 1e-10 in f64)")
    p.add_argument("--grad-rtol", type=float, default=None,
                   help="normwise relative gradient tolerance, per view "
                        "(default 1e-4 in f32, 1e-9 in f64)")
    p.add_argument("--no-memory", action="store_true",
                   help="skip the peak-memory subprocesses")
    p.add_argument("--measure-memory", nargs=2, metavar=("IMPL", "SHAPE"),
                   help=argparse.SUPPRESS)
    return p


def resolved_global(args):
    return args.views if args.global_views == 0 else args.global_views


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def make_views(n, d, views, global_views, seed, precision):
    """V float32 views of n inputs that look like projector outputs of
    multi-crop training: one shared representation per row (column offsets,
    a shared rank-r component, per-column scales putting part of the
    columns under the std target) plus independent noise per view (0.5 of
    the column scale for the global views, 0.8 for the local ones), and no
    column's std within 1% of gamma (the hinge's kink)."""
    gamma, eps = 1.0, 1e-4
    rng = np.random.default_rng([seed, n, d, views, global_views])
    r = min(16, d)
    scale = rng.uniform(0.5, 1.5, size=d).astype(np.float32)
    offset = rng.uniform(-1.0, 1.0, size=d).astype(np.float32)
    low = rng.standard_normal((n, r), dtype=np.float32) @ \
        (rng.standard_normal((r, d), dtype=np.float32) * np.float32(0.25))
    base = rng.standard_normal((n, d), dtype=np.float32)
    base += low
    base *= scale / np.float32(math.sqrt(1.0 + 0.0625 * r))
    out = []
    for v in range(views):
        noise = np.float32(0.5 if v < global_views else 0.8)
        z = rng.standard_normal((n, d), dtype=np.float32)
        z *= noise * scale
        z += base
        z += offset
        var = z.var(axis=0, ddof=1, dtype=np.float64)
        near = np.abs(np.sqrt(var + eps) - gamma) < 0.01 * gamma
        if near.any():
            mean = z.mean(axis=0, dtype=np.float64).astype(np.float32)
            z[:, near] = (z[:, near] - mean[near]) * np.float32(0.97) + mean[near]
        out.append(np.ascontiguousarray(z if precision == "f32" else z.astype(np.float64)))
    return out


# ---------------------------------------------------------------------------
# PyTorch: VICRegL's global loss
# ---------------------------------------------------------------------------

def off_diagonal(x):
    # utils.off_diagonal of VICRegL (and of VICReg).
    n, m = x.shape
    assert n == m
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def vicregl_global_loss(embedding, num_global, inv_coeff, var_coeff, cov_coeff):
    """(inv_loss, var_loss, cov_loss): VICRegL.global_loss() of
    facebookresearch/VICRegL main_vicregl.py (commit 803ae4c), single
    process, range(2) -> range(num_global), self.embedding_dim -> d."""
    embedding_dim = embedding[0].size(1)
    num_views = len(embedding)
    inv_loss = 0.0
    iter_ = 0
    for i in range(num_global):
        for j in np.delete(np.arange(np.sum(num_views)), i):
            inv_loss = inv_loss + F.mse_loss(embedding[i], embedding[j])
            iter_ = iter_ + 1
    inv_loss = inv_coeff * inv_loss / iter_

    var_loss = 0.0
    cov_loss = 0.0
    iter_ = 0
    for i in range(num_views):
        x = embedding[i] - embedding[i].mean(dim=0)  # utils.gather_center, one process
        std_x = torch.sqrt(x.var(dim=0) + 0.0001)
        var_loss = var_loss + torch.mean(torch.relu(1.0 - std_x))
        cov_x = (x.T @ x) / (x.size(0) - 1)
        cov_loss = cov_loss + off_diagonal(cov_x).pow_(2).sum().div(embedding_dim)
        iter_ = iter_ + 1
    var_loss = var_coeff * var_loss / iter_
    cov_loss = cov_coeff * cov_loss / iter_
    return inv_loss, var_loss, cov_loss


class TorchRunner:
    """V leaf tensors sharing the NumPy arrays' memory; one call = forward +
    loss.backward() (alpha = 1: inv + var + cov), leaving every z.grad."""

    def __init__(self, zs, num_global, coeffs):
        self.zs = [torch.from_numpy(z).requires_grad_(True) for z in zs]
        self.num_global = num_global
        self.coeffs = coeffs
        self.loss = None

    def reset(self):
        for z in self.zs:
            z.grad = None
        self.loss = None

    def call(self):
        inv, var, cov = vicregl_global_loss(self.zs, self.num_global, *self.coeffs)
        loss = inv + var + cov
        loss.backward()
        self.loss = loss

    def result(self):
        return float(self.loss.detach()), [z.grad.numpy() for z in self.zs]


# ---------------------------------------------------------------------------
# libvicreg through the vicreg package
# ---------------------------------------------------------------------------

def lib_params(args):
    # threads: the library's passes on as many threads as PyTorch's.
    return dict(global_views=args.global_views, invariance_coeff=args.inv_coeff,
                variance_coeff=args.var_coeff,
                covariance_coeff=args.cov_coeff / args.views, threads=args.threads)


def make_views_call(ctx, zs, grads):
    """A zero-argument callable doing one vicreg_views_loss_f32/f64 call
    (loss and every gradient into grads) on the vicreg.Context ctx, every
    ctypes argument converted once, and the loss cell it fills. The
    function and its signature are the package's (vicreg._lib)."""
    n, d = zs[0].shape
    f32 = zs[0].dtype == np.float32
    name = "vicreg_views_loss_f32" if f32 else "vicreg_views_loss_f64"
    if not vicreg._lib.has(vicreg.lib, name):
        die(f"the loaded libvicreg {vicreg.library_version()} has no {name} "
            "(the views calls are libvicreg >= 1.2)")
    fn = getattr(vicreg.lib, name)
    real_p = ctypes.POINTER(ctypes.c_float if f32 else ctypes.c_double)
    for a in list(zs) + list(grads):
        assert a.flags.c_contiguous and a.shape == (n, d) and a.dtype == zs[0].dtype
    count = len(zs)
    z_ptrs = (real_p * count)(*[a.ctypes.data_as(real_p) for a in zs])
    g_ptrs = (real_p * count)(*[a.ctypes.data_as(real_p) for a in grads])
    loss = ctypes.c_double(math.nan)
    # ldz and ldgrad NULL: every array packed (leading dimension d).
    call_args = (ctx.handle, count, n, d, z_ptrs, None, ctypes.byref(loss), g_ptrs, None)

    def call():
        status = fn(*call_args)
        if status != 0:
            raise vicreg.VicregError(status, vicreg.status_name(status),
                                     vicreg.strerror(status), name)
    call.keep = (z_ptrs, g_ptrs, zs, grads)  # the arrays outlive the pointers
    return call, loss


# ---------------------------------------------------------------------------
# Agreement
# ---------------------------------------------------------------------------

def check_agreement(label, torch_res, lib_res, ref_res, loss_tol, grad_tol):
    """Each res: (loss, [grad per view]). Returns the differences; exits
    with status 1 on a disagreement."""
    lt, gt = torch_res
    ll, gl = lib_res
    lr, gr = ref_res
    out = {
        "loss_torch": lt, "loss_lib": ll, "loss_f64": lr,
        "loss_torch_vs_lib": ct.rel(lt, ll),
        "loss_torch_vs_f64": ct.rel(lt, lr),
        "loss_lib_vs_f64": ct.rel(ll, lr),
        "grad_torch_vs_lib": max(ct.normwise(a, b) for a, b in zip(gt, gl)),
        "grad_torch_vs_f64": max(ct.normwise(a, b) for a, b in zip(gt, gr)),
        "grad_lib_vs_f64": max(ct.normwise(a, b) for a, b in zip(gl, gr)),
    }
    bad = []
    for key in ("loss_torch_vs_lib", "loss_torch_vs_f64", "loss_lib_vs_f64"):
        if not out[key] < loss_tol:
            bad.append(f"{key} = {out[key]:.3g} (tolerance {loss_tol:g})")
    for key in ("grad_torch_vs_lib", "grad_torch_vs_f64", "grad_lib_vs_f64"):
        if not out[key] < grad_tol:
            bad.append(f"{key} = {out[key]:.3g} (tolerance {grad_tol:g})")
    if bad:
        print(f"compare_torch_views.py: DISAGREEMENT at {label}: loss torch {lt!r}, "
              f"libvicreg {ll!r}, float64 {lr!r}", file=sys.stderr)
        for b in bad:
            print("  " + b, file=sys.stderr)
        print("compare_torch_views.py: aborting before timing", file=sys.stderr)
        sys.exit(1)
    return out


# ---------------------------------------------------------------------------
# Peak memory (the hidden --measure-memory mode and its driver)
# ---------------------------------------------------------------------------

def warm_up_blas_at(z):
    """The products both implementations run at this shape, once, so that
    OpenBLAS's buffers and thread pool are resident before the peak counter
    is reset: neither side is charged for them. PyTorch's CPU matmuls and
    NumPy's go to the same OpenBLAS on Debian."""
    ct.warm_up_openblas()
    k = z @ z.T          # the Gram path's SYRK shape (NumPy takes SYRK for a @ a.T)
    _ = k @ z            # and its GEMM
    del k, _
    c = z.T @ z          # the d x d products of PyTorch's forward and backward
    _ = z @ c
    del c, _


def measure_memory_child(args):
    impl, shape_text = args.measure_memory
    n, d = ct.parse_shape(shape_text)
    g = resolved_global(args)
    zs = make_views(n, d, args.views, g, args.seed, args.precision)
    result = {"impl": impl, "n": n, "d": d, "views": args.views}
    if impl == "libvicreg":
        load_package(ct.find_library(args.lib))
        grads = [np.zeros_like(z) for z in zs]
        for a in grads:
            a.fill(1.0)  # every page of the caller's buffers resident
        warm_up_blas_at(zs[0])
        ctx = vicreg.Context(**lib_params(args))
        result["scratch_bytes"] = ctx.views_scratch_bytes(args.views, n, d, zs[0].dtype)
        run, _ = make_views_call(ctx, zs, grads)
    elif impl == "pytorch":
        coeffs = (args.inv_coeff, args.var_coeff, args.cov_coeff)
        small = TorchRunner(make_views(8, 4, args.views, g, args.seed, args.precision), g,
                            coeffs)
        small.call()  # autograd engine and allocator start-up, at a tiny shape
        small.reset()
        del small
        runner = TorchRunner(zs, g, coeffs)
        warm_up_blas_at(zs[0])
        run = runner.call
    else:
        die(f"unknown impl {impl!r}")
    exact = ct.reset_peak()
    rss0 = ct.proc_status_kib("VmRSS")
    run()
    hwm1 = ct.proc_status_kib("VmHWM")
    if exact and hwm1 is not None:
        result["extra_mib"] = (hwm1 - rss0) / 1024.0
        result["method"] = "VmHWM after clear_refs"
    else:
        import resource
        result["extra_mib"] = None
        result["method"] = "unavailable (no /proc/self/clear_refs)"
        result["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(result))


def measure_memory(args, lib_path, impl, n, d):
    cmd = [sys.executable, os.path.abspath(__file__), "--measure-memory", impl, f"{n}x{d}",
           "--lib", lib_path, "--threads", str(args.threads), "--seed", str(args.seed),
           "--views", str(args.views), "--global-views", str(args.global_views),
           "--precision", args.precision, "--inv-coeff", repr(args.inv_coeff),
           "--var-coeff", repr(args.var_coeff), "--cov-coeff", repr(args.cov_coeff)]
    env = os.environ.copy()
    env["GLIBC_TUNABLES"] = ":".join(
        t for t in (env.get("GLIBC_TUNABLES", ""), ct.MALLOC_TUNABLES) if t)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env)
    if proc.returncode != 0:
        log(f"  memory measurement of {impl} at {n}x{d} failed (status {proc.returncode}):\n"
            f"{proc.stderr.strip()}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# One shape
# ---------------------------------------------------------------------------

def run_case(args, lib_path, n, d):
    label = f"{n}x{d}"
    g = resolved_global(args)
    f32 = args.precision == "f32"
    loss_tol = args.loss_rtol if args.loss_rtol is not None else (1e-5 if f32 else 1e-10)
    grad_tol = args.grad_rtol if args.grad_rtol is not None else (1e-4 if f32 else 1e-9)
    coeffs = (args.inv_coeff, args.var_coeff, args.cov_coeff)
    log(f"[{label} V={args.views} G={g}] data")
    zs = make_views(n, d, args.views, g, args.seed, args.precision)

    log(f"[{label}] agreement check: PyTorch")
    runner = TorchRunner(zs, g, coeffs)
    t_torch_first = ct.time_once(runner.call, runner.reset)
    lt, gt = runner.result()
    torch_res = (lt, [a.copy() for a in gt])
    runner.reset()

    log(f"[{label}] agreement check: libvicreg")
    ctx = vicreg.Context(**lib_params(args))
    first = ctx.views_loss(zs)  # through the package's own call
    lib_res = (first.loss, [a.copy() for a in first.grads])
    path = ct.PATH_LABELS.get(first.terms.get("path_used"), str(first.terms.get("path_used")))
    scratch = ctx.views_scratch_bytes(args.views, n, d, zs[0].dtype)
    grads = [np.empty_like(z) for z in zs]
    lib_call, lib_loss = make_views_call(ctx, zs, grads)
    ct.time_once(lib_call)
    if lib_loss.value != first.loss:
        die(f"the timed call's loss {lib_loss.value!r} differs from the package's "
            f"{first.loss!r}", 3)
    t_lib_est = min(ct.time_once(lib_call) for _ in range(3))

    log(f"[{label}] agreement check: NumPy float64 reference")
    loss64, _, grads64 = ref.views(zs, global_views=g, convention="reference",
                                   lambda_=args.inv_coeff, mu=args.var_coeff,
                                   nu=args.cov_coeff / args.views, gram=n < d)
    agree = check_agreement(label, torch_res, lib_res, (loss64, grads64), loss_tol, grad_tol)
    del torch_res, lib_res, grads64, first

    log(f"[{label}] timing (one PyTorch call took {t_torch_first:.3g} s, "
        f"libvicreg {t_lib_est:.3g} s)")
    ts_torch, ts_lib = ct.time_interleaved(runner, lib_call, t_torch_first, t_lib_est, args)
    ctx.close()
    del runner, lib_call, grads

    med_t, med_l = statistics.median(ts_torch), statistics.median(ts_lib)
    elem = zs[0].itemsize
    row = {"n": n, "d": d, "shape": label, "views": args.views, "global_views": g,
           "precision": args.precision, "path": path, "scratch_bytes": scratch,
           "grad_mib": args.views * n * d * elem / 2**20,
           "torch_s": med_t, "lib_s": med_l, "ratio": med_t / med_l,
           "torch_reps": len(ts_torch), "lib_reps": len(ts_lib),
           "torch_min": min(ts_torch), "lib_min": min(ts_lib),
           "torch_peak_mib": None, "lib_peak_mib": None, "memory_method": "-", **agree}
    del zs
    log(f"[{label}] torch {ct.fmt_time(med_t)} s ({len(ts_torch)} samples), libvicreg "
        f"{ct.fmt_time(med_l)} s ({len(ts_lib)} samples), ratio {row['ratio']:.1f}")

    if not args.no_memory:
        log(f"[{label}] peak memory (subprocesses)")
        for impl, key in (("pytorch", "torch_peak_mib"), ("libvicreg", "lib_peak_mib")):
            res = measure_memory(args, lib_path, impl, n, d)
            if res is not None:
                row[key] = res["extra_mib"]
                row["memory_method"] = res["method"]
        log(f"[{label}] peak extra MiB: torch {ct.fmt_mib(row['torch_peak_mib'])}, "
            f"libvicreg {ct.fmt_mib(row['lib_peak_mib'])} (scratch {scratch / 2**20:.1f} MiB)")
    return row


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

def fmt_ms(s):
    ms = s * 1e3
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 1 else f"{ms:.3f}"


def print_table(rows, header_lines):
    for line in header_lines:
        print(line)
    print()
    cols = ["shape", "V", "G", "path", "torch ms", "libvicreg ms", "ratio", "torch MiB",
            "(grads)", "libvicreg MiB", "scratch MiB", "loss rel diff"]
    table = []
    for r in rows:
        table.append([r["shape"], str(r["views"]), str(r["global_views"]), r["path"],
                      fmt_ms(r["torch_s"]), fmt_ms(r["lib_s"]), ct.fmt_ratio(r["ratio"]),
                      ct.fmt_mib(r["torch_peak_mib"]), ct.fmt_mib(r["grad_mib"]),
                      ct.fmt_mib(r["lib_peak_mib"]), ct.fmt_mib(r["scratch_bytes"] / 2**20),
                      f"{r['loss_torch_vs_lib']:.1e}"])
    ct.print_aligned(cols, table)
    print()
    print("Details: samples (PyTorch/libvicreg) and the fastest sample of each (ms); loss "
          "relative differences and the largest "
          "normwise gradient difference over the views, t = PyTorch, l = libvicreg, f64 = "
          "the NumPy float64 reference (bindings/python/tests/reference.py views()); the "
          "float64 loss")
    cols = ["shape", "samples", "torch min", "lib min", "loss t-vs-l", "loss t-vs-f64", "loss l-vs-f64",
            "grad t-vs-l", "grad t-vs-f64", "grad l-vs-f64", "loss"]
    table = []
    for r in rows:
        table.append([r["shape"], f"{r['torch_reps']}/{r['lib_reps']}",
                      fmt_ms(r["torch_min"]), fmt_ms(r["lib_min"]),
                      f"{r['loss_torch_vs_lib']:.1e}", f"{r['loss_torch_vs_f64']:.1e}",
                      f"{r['loss_lib_vs_f64']:.1e}", f"{r['grad_torch_vs_lib']:.1e}",
                      f"{r['grad_torch_vs_f64']:.1e}", f"{r['grad_lib_vs_f64']:.1e}",
                      f"{r['loss_f64']:.7g}"])
    ct.print_aligned(cols, table)


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write("shape,n,d,views,global_views,precision,impl,median_s,peak_mib\n")
        for r in rows:
            for impl, t, m in (("pytorch", r["torch_s"], r["torch_peak_mib"]),
                               ("libvicreg", r["lib_s"], r["lib_peak_mib"])):
                peak = "" if m is None else f"{m:.3f}"
                f.write(f"{r['shape']},{r['n']},{r['d']},{r['views']},{r['global_views']},"
                        f"{r['precision']},{impl},{t:.9g},{peak}\n")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def load_package(path):
    global vicreg
    ct.load_vicreg(path)
    vicreg = ct.vicreg


def main(argv=None):
    try:
        return run(argv)
    except Exception as e:
        if vicreg is None or not isinstance(e, vicreg.VicregError):
            raise
        print(f"compare_torch_views.py: error: {e.function} failed: {e.message} "
              f"({e.status})", file=sys.stderr)
        return 3


def run(argv):
    global np, torch, F, ref
    args = build_parser().parse_args(argv)
    if args.threads < 1:
        die("--threads must be at least 1")
    if not 1 <= args.views <= 64:
        die("--views must be from 1 to 64 (VICREG_MAX_VIEWS)")
    if not 0 <= args.global_views <= args.views:
        die("--global-views must be from 0 to --views")
    if resolved_global(args) * (args.views - 1) == 0:
        die("VICRegL's loss needs a pair of views: V >= 2")
    set_by_us = ct.configure_thread_env(args.threads)

    try:
        import numpy
        import torch as torch_module
        import torch.nn.functional as functional
    except ImportError as e:
        die(f"{e}; run with Debian's /usr/bin/python3 (python3-torch, python3-numpy)")
    np, torch, F = numpy, torch_module, functional
    ct.np, ct.torch = numpy, torch_module
    torch.set_num_threads(args.threads)
    sys.path.insert(0, os.path.join(REPO_ROOT, "bindings", "python", "tests"))
    import reference
    ref = ct.ref = reference

    if args.measure_memory:
        measure_memory_child(args)
        return 0

    lib_path = ct.find_library(args.lib)
    load_package(lib_path)
    blas = ct.openblas_info()
    g = resolved_global(args)
    header = [
        f"libvicreg {vicreg.library_version()} ({ct.shown_path(lib_path)}) vs PyTorch {torch.__version__} "
        f"(NumPy {np.__version__}, Python {platform.python_version()})",
        f"machine: {ct.cpu_model()}, {os.cpu_count()} logical CPUs; {platform.platform()}",
        f"threads: torch.get_num_threads() = {torch.get_num_threads()}; libvicreg runs on "
        f"OpenBLAS's {blas.get('parallel', '?')} threads: {blas.get('threads')} "
        f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
        f"{'set by this script' if set_by_us else 'from the environment'})",
        f"OpenBLAS: {blas.get('config', '?')}, core {blas.get('core', '?')}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}",
        "OpenBLAS libraries mapped: " + (", ".join(blas["mapped"]) or "none found")
        + (" (one instance and one BLAS thread pool, shared by PyTorch's matrix products "
           "and libvicreg)" if len(blas["mapped"]) == 1 else ""),
        "load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()),
        f"views: V = {args.views}, G = {g} global ({args.precision}); PyTorch: VICRegL's "
        f"global_loss (inv {args.inv_coeff:g}, var {args.var_coeff:g}, cov "
        f"{args.cov_coeff:g}); libvicreg: lambda {args.inv_coeff:g}, mu {args.var_coeff:g}, "
        f"nu = cov / V = {args.cov_coeff / args.views:g}",
        "timed unit: PyTorch forward + loss.backward() (all V gradients); libvicreg one "
        "vicreg_views_loss call with the loss and all V gradients; medians of interleaved "
        "samples",
        "peak MiB: extra peak RSS (VmHWM - VmRSS) of one call in a fresh process (inputs "
        "excluded; PyTorch's figure includes the V gradient tensors it allocates, listed "
        "as (grads); libvicreg's is its scratch)",
    ]
    flags = ct.cpu_flags()
    if blas.get("core") == "Prescott" and "avx2" in flags:
        header.append("WARNING: OpenBLAS runs its generic Prescott (SSE3) kernels on a CPU "
                      "with AVX2; both implementations' matrix products are slowed alike.")
    for line in header:
        log(line)

    rows = []
    t_start = time.perf_counter()
    for n, d in args.shapes:
        rows.append(run_case(args, lib_path, n, d))
    elapsed = time.perf_counter() - t_start
    header.append("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
                  + f"; total run time {elapsed:.0f} s")
    log(header[-1])
    print_table(rows, header)
    if args.csv:
        write_csv(args.csv, rows)
        print(f"\nCSV: {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
