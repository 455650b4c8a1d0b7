#!/usr/bin/python3
"""Side-by-side benchmark: libvicreg against the authors' PyTorch VICReg loss.

What it does
------------
For each shape (n rows x d features) and precision it

1. builds two batches Za, Zb as NumPy arrays (deterministic seed; non-zero
   column means, a shared low-rank component so that the covariance term is
   not trivial, per-column scales so that the variance hinge is active on
   part of the columns but no column's std lies within 1% of gamma, where
   the hinge has a kink) and hands the *same memory* to both
   implementations (torch.from_numpy; for libvicreg, pointers to the
   arrays, passed to its C function through the vicreg Python package);
2. checks agreement before timing anything: the loss of PyTorch and of
   libvicreg must agree to a relative difference below --loss-rtol (1e-5 in
   float32), both must agree with a float64 computation (--reference: the
   same PyTorch reference code run in float64 on the widened inputs, or,
   where that would take minutes, the NumPy float64 reference of the SPEC
   formulas), and the gradients
   dL/dZa, dL/dZb must agree normwise (||g - g_ref||_F / ||g_ref||_F below
   --grad-rtol, per branch). Any failure prints the numbers and exits with
   status 1;
3. times both, interleaved round by round (the order alternates between
   rounds) so that the noise of a shared machine hits both alike, and
   reports medians and the ratio torch / libvicreg. The timed unit is, for
   PyTorch, the forward pass plus loss.backward() on leaf tensors with
   requires_grad (producing both gradients); for libvicreg one
   vicreg_loss_f32/f64 call returning the loss and both gradients into
   buffers allocated beforehand;
4. measures the extra peak resident memory of one call of each in a fresh
   subprocess (this script with a hidden --measure-memory mode): the child
   allocates and touches the inputs (and, for libvicreg, the caller-owned
   gradient buffers), warms OpenBLAS up with a few GEMM/SYRK calls, resets
   the kernel's peak-RSS counter (writing 5 to /proc/self/clear_refs),
   makes one call at the shape and reports VmHWM after minus VmRSS before.
   The child runs with fixed glibc malloc thresholds (GLIBC_TUNABLES
   mmap_threshold and trim_threshold of 128 KiB) so that every large block
   is a fresh mapping returned on free: the figure is what the call needs,
   not an artefact of what the allocator kept from earlier frees.
   For PyTorch the figure includes the two gradient tensors autograd
   allocates (they are the call's output); for libvicreg it is the scratch
   of a fresh context (vicreg_ctx_scratch_bytes() is reported alongside).

Both references, the PyTorch one that is timed and the NumPy float64 one,
are those of bindings/python/tests/reference.py, shared with the Python
binding tests and scripts/gen_torch_vectors.py. The PyTorch one is written
as facebookresearch/vicreg's main_vicreg.py writes VICReg.forward() (single
process, so no all-gather; the reference convention with sim_coeff =
std_coeff = 25, cov_coeff = 1, gamma = 1, eps = 1e-4).

libvicreg is used through the vicreg Python package of this source tree
(bindings/python, put first on sys.path): its loader opens the library
chosen below (through VICREG_LIBRARY) and declares the C functions, a
vicreg.Context holds the context, and the timed call is the package's
declared vicreg_loss_f32/f64 on that context (vicreg.lib, Context.handle),
with every argument converted beforehand.

Threads
-------
Both sides get the same number of threads, --threads N (default 2):

* torch.set_num_threads(N) sets PyTorch's intra-op (OpenMP) threads;
* libvicreg's SYRK/GEMM run on the threads of the OpenBLAS pthread build
  it is linked with, whose count comes from the environment variable
  OPENBLAS_NUM_THREADS, read once when OpenBLAS is loaded. If it is not
  set, this script sets it to N for itself before loading NumPy, PyTorch or
  libvicreg; if it is set, it is left alone. Its streaming passes run on
  --lib-threads threads (VICREG_PARAM_THREADS, libvicreg >= 1.3; default
  N, 1 for an older library).

On Debian, PyTorch's matrix products go through libblas.so.3 from the same
OpenBLAS pthread build, so one OpenBLAS instance (and one BLAS thread pool)
is shared by PyTorch and libvicreg in this process; the header of the output
says so when it is the case.

Two things move the numbers a lot on a small shared machine, and the script
changes neither (it reports the first):

* OpenBLAS 0.3.21's DYNAMIC_ARCH falls back to its generic Prescott (SSE3)
  kernels on CPU models it does not know; both sides' products then run
  several times slower (OPENBLAS_CORETYPE selects a kernel set) and the
  ratio tends to the ratio of flops.
* PyTorch's OpenMP threads spin-wait (libgomp's default OMP_WAIT_POLICY).
  When other processes compete for the cores, every parallel elementwise
  op can cost a scheduler time slice, and PyTorch's small-shape times grow
  by an order of magnitude (OMP_WAIT_POLICY=passive avoids it). Check the
  load averages printed at the start and end of the run.

Usage
-----
From the top of the source tree, with Debian's Python (python3-torch,
python3-numpy):

    /usr/bin/python3 bench/compare_torch.py [--lib PATH] [--shapes 256x256,512x8192]
        [--precision f32|f64|both] [--threads N] [--csv FILE]

The library is --lib PATH, else $VICREG_LIBRARY, else build-release/ or
build/libvicreg.so.1 under the source tree; the vicreg package loads that
file. The table goes to stdout, progress to stderr. --csv FILE writes one
row per (shape, precision, impl):
    shape,n,d,precision,impl,median_s,peak_mib
with impl "pytorch" or "libvicreg" (the C benchmark's CSV uses the impl
values libvicreg and blas_floor, so the two files merge).

Exit status: 0 success, 1 the implementations disagree, 2 usage error or
libvicreg not found / not loadable, 3 a libvicreg call failed.
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

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEFAULT_SHAPES = "256x256,256x2048,1024x1024,2048x2048,512x8192,2048x8192,4096x128"

# Issue 3's targets, float32, 2 BLAS threads: minimum speed-up over PyTorch.
SPEEDUP_TARGETS = {(512, 8192): 50.0, (2048, 8192): 10.0, (2048, 2048): 2.5,
                   (1024, 1024): 2.5, (256, 256): 3.0}

# How the table names the covariance paths of vicreg.PATHS.
PATH_LABELS = {"covariance": "cov", "gram": "gram"}
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072"

# Set in run() after the thread environment is in place: NumPy, PyTorch,
# the shared reference (bindings/python/tests/reference.py) and the vicreg
# package (bindings/python).
np = None
torch = None
ref = None
vicreg = None


def die(msg, status=2):
    print(f"compare_torch.py: error: {msg}", file=sys.stderr)
    sys.exit(status)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Arguments and environment
# ---------------------------------------------------------------------------

def parse_shape(text):
    try:
        n_text, d_text = text.lower().split("x")
        n, d = int(n_text), int(d_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad shape {text!r}: expected NxD, e.g. 512x8192")
    if n < 2 or d < 1:
        raise argparse.ArgumentTypeError(f"bad shape {text!r}: need n >= 2 and d >= 1")
    return n, d


def parse_shapes(text):
    return [parse_shape(s) for s in text.split(",") if s.strip()]


def build_parser():
    p = argparse.ArgumentParser(
        description="Time libvicreg against the authors' PyTorch VICReg loss "
                    "(forward + autograd backward) on the same arrays and threads.")
    p.add_argument("--lib", metavar="PATH",
                   help="libvicreg.so.1 to load (default: $VICREG_LIBRARY, then "
                        "build-release/libvicreg.so.1, then build/libvicreg.so.1 "
                        "under the source tree)")
    p.add_argument("--shapes", type=parse_shapes, default=parse_shapes(DEFAULT_SHAPES),
                   metavar="NxD,...", help=f"shapes to run (default {DEFAULT_SHAPES})")
    p.add_argument("--precision", choices=["f32", "f64", "both"], default="f32",
                   help="floating-point type (default f32)")
    p.add_argument("--threads", type=int, default=2, metavar="N",
                   help="torch.set_num_threads(N); also OPENBLAS_NUM_THREADS=N for "
                        "OpenBLAS (libvicreg's BLAS threads) unless that variable is "
                        "already set (default 2)")
    p.add_argument("--lib-threads", type=int, default=None, metavar="T",
                   help="libvicreg's VICREG_PARAM_THREADS (default: --threads; "
                        "ignored by a library older than 1.3)")
    p.add_argument("--csv", metavar="FILE",
                   help="also write shape,n,d,precision,impl,median_s,peak_mib rows")
    p.add_argument("--budget", type=float, default=20.0, metavar="SECONDS",
                   help="approximate PyTorch time to spend timing each shape "
                        "(default 20; the number of rounds is budget / one call, "
                        "clamped to [--min-reps, --max-reps])")
    p.add_argument("--min-reps", type=int, default=3,
                   help="minimum PyTorch samples per shape (default 3)")
    p.add_argument("--max-reps", type=int, default=200,
                   help="maximum PyTorch samples per shape (default 200)")
    p.add_argument("--seed", type=int, default=20220101, help="data seed")
    p.add_argument("--loss-rtol", type=float, default=None,
                   help="relative loss tolerance (default 1e-5 in f32, 1e-10 in f64)")
    p.add_argument("--grad-rtol", type=float, default=None,
                   help="normwise relative gradient tolerance "
                        "(default 1e-4 in f32, 1e-9 in f64)")
    p.add_argument("--reference", choices=["auto", "torch", "numpy"], default="auto",
                   help="the float64 computation to check against: the PyTorch "
                        "reference in float64, or a NumPy float64 implementation of "
                        "the SPEC formulas (cheaper: Gram form when n < d); auto "
                        "takes PyTorch when that costs at most ~2e10 flops in a "
                        "float32 run (default auto)")
    p.add_argument("--no-memory", action="store_true",
                   help="skip the peak-memory subprocesses")
    p.add_argument("--measure-memory", nargs=3, metavar=("IMPL", "SHAPE", "PRECISION"),
                   help=argparse.SUPPRESS)
    return p


def lib_context(args):
    """A vicreg.Context whose passes run on --lib-threads threads (the
    --threads count unless given), when the library has the parameter."""
    ctx = vicreg.Context()
    threads = args.lib_threads if args.lib_threads is not None else args.threads
    if "threads" in ctx.params():
        ctx.set_param("threads", threads)
    return ctx


def configure_thread_env(threads):
    """Before NumPy, PyTorch or libvicreg loads OpenBLAS."""
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return False
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    return True


def shown_path(path):
    """The library's path for a report header: relative to the current
    folder when it lies inside it, so saved results name no machine's
    folders."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def find_library(cli_path):
    if cli_path:
        candidates, origin = [cli_path], "--lib"
    elif os.environ.get("VICREG_LIBRARY"):
        candidates, origin = [os.environ["VICREG_LIBRARY"]], "$VICREG_LIBRARY"
    else:
        candidates = [os.path.join(REPO_ROOT, "build-release", "libvicreg.so.1"),
                      os.path.join(REPO_ROOT, "build", "libvicreg.so.1")]
        origin = "the default locations"
    for c in candidates:
        if os.path.isfile(c):
            return os.path.abspath(c)
    die("libvicreg not found (looked at " + ", ".join(candidates) + f" from {origin}). "
        "Build it with `meson setup build-release && ninja -C build-release`, or pass "
        "--lib PATH or set VICREG_LIBRARY.")


# ---------------------------------------------------------------------------
# libvicreg through the vicreg package
# ---------------------------------------------------------------------------

def load_vicreg(path):
    """Imports the vicreg package of this source tree with libvicreg loaded
    from path (the package's loader reads VICREG_LIBRARY)."""
    global vicreg
    os.environ["VICREG_LIBRARY"] = path
    sys.path.insert(0, os.path.join(REPO_ROOT, "bindings", "python"))
    try:
        import vicreg as package
    except OSError as e:  # vicreg.LibraryNotFoundError
        die(f"cannot load libvicreg from {path}: {e}")
    vicreg = package


def make_call(ctx, za, zb, ga, gb):
    """A zero-argument callable doing one vicreg_loss_f32/f64 call (loss and
    both gradients into ga, gb) on the vicreg.Context ctx, with every ctypes
    argument converted once, and the loss cell it fills."""
    n, d = za.shape
    if za.dtype == np.float32:
        fn, ptype = vicreg.lib.vicreg_loss_f32, ctypes.POINTER(ctypes.c_float)
    else:
        fn, ptype = vicreg.lib.vicreg_loss_f64, ctypes.POINTER(ctypes.c_double)
    for a in (za, zb, ga, gb):
        assert a.flags.c_contiguous and a.shape == (n, d) and a.dtype == za.dtype
    loss = ctypes.c_double(math.nan)
    args = (ctx.handle, n, d, za.ctypes.data_as(ptype), d, zb.ctypes.data_as(ptype), d,
            ctypes.byref(loss), ga.ctypes.data_as(ptype), d, gb.ctypes.data_as(ptype), d)
    name = fn.__name__

    def call():
        status = fn(*args)
        if status != 0:
            raise vicreg.VicregError(status, vicreg.status_name(status),
                                     vicreg.strerror(status), name)
    return call, loss


def openblas_info():
    """The OpenBLAS instance(s) mapped in this process and its settings."""
    mapped = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                # libblas.so.3 / liblapack.so.3 of Debian's openblas-pthread
                # are thin wrappers over libopenblas.so.0: count the latter.
                if len(parts) >= 6 and os.path.basename(parts[-1]).startswith("libopenblas"):
                    mapped.add(os.path.realpath(parts[-1]))
    except OSError:
        pass
    info = {"mapped": sorted(mapped)}
    lib = vicreg.lib  # dlsym on the handle also searches libvicreg's dependencies
    try:
        lib.openblas_get_num_threads.restype = ctypes.c_int
        info["threads"] = lib.openblas_get_num_threads()
        lib.openblas_get_config.restype = ctypes.c_char_p
        info["config"] = lib.openblas_get_config().decode().strip()
        lib.openblas_get_corename.restype = ctypes.c_char_p
        info["core"] = lib.openblas_get_corename().decode()
        lib.openblas_get_parallel.restype = ctypes.c_int
        info["parallel"] = {0: "sequential", 1: "pthreads", 2: "OpenMP"}.get(
            lib.openblas_get_parallel(), "?")
    except AttributeError:
        info["threads"] = None
    return info


# ---------------------------------------------------------------------------
# The references (bindings/python/tests/reference.py)
# ---------------------------------------------------------------------------

class TorchRunner:
    """Leaf tensors sharing the NumPy arrays' memory; one call = forward +
    loss.backward(), leaving x.grad and y.grad."""

    def __init__(self, za, zb):
        self.x = torch.from_numpy(za).requires_grad_(True)
        self.y = torch.from_numpy(zb).requires_grad_(True)
        self.loss = None

    def reset(self):
        self.x.grad = None
        self.y.grad = None
        self.loss = None

    def call(self):
        loss = ref.vicreg_torch(self.x, self.y)
        loss.backward()
        self.loss = loss

    def result(self):
        return (float(self.loss.detach()), self.x.grad.numpy(), self.y.grad.numpy())


def reference_f64(za, zb, precision, choice):
    """The float64 computation both implementations are checked against:
    the PyTorch reference run in float64 on the widened inputs, or the
    NumPy float64 reference (analytic gradients; the covariance terms
    through the n x n Gram matrix when n < d, where that is the cheaper
    form). 'auto' takes PyTorch for float32 runs whose
    float64 autograd costs at most ~2e10 flops (12 n d^2), NumPy otherwise
    (and for float64 runs, where PyTorch-in-float64 is the run under test)."""
    n, d = za.shape
    if choice == "auto":
        choice = "torch" if precision == "f32" and 12.0 * n * d * d <= 2e10 else "numpy"
    if choice == "numpy":
        loss, _, ga, gb = ref.vicreg(za, zb, gram=n < d)
        return "numpy", (loss, ga, gb)
    runner = TorchRunner(za.astype(np.float64), zb.astype(np.float64))
    runner.call()
    loss, ga, gb = runner.result()
    return "torch", (loss, ga.copy(), gb.copy())


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def make_batches(n, d, seed):
    """Two correlated float32 batches that look like projector outputs: column
    offsets, a shared rank-r component (a non-trivial covariance term),
    per-column scales putting about half the columns under the std target,
    and no column's std within 1% of gamma (the hinge's kink)."""
    gamma, eps = ref.DEFAULTS["std_target"], ref.DEFAULTS["eps"]
    rng = np.random.default_rng([seed, n, d])
    r = min(16, d)
    scale = rng.uniform(0.5, 1.5, size=d).astype(np.float32)
    offset = rng.uniform(-1.0, 1.0, size=d).astype(np.float32)
    low = rng.standard_normal((n, r), dtype=np.float32) @ \
        (rng.standard_normal((r, d), dtype=np.float32) * np.float32(0.25))
    za = rng.standard_normal((n, d), dtype=np.float32)
    za += low
    za *= scale / np.float32(math.sqrt(1.0 + 0.0625 * r))
    zb = rng.standard_normal((n, d), dtype=np.float32)
    zb *= np.float32(0.5) * scale
    zb += za
    za += offset
    zb += offset
    for z in (za, zb):
        var = z.var(axis=0, ddof=1, dtype=np.float64)
        s = np.sqrt(var + eps)
        near = np.abs(s - gamma) < 0.01 * gamma
        if near.any():
            mean = z.mean(axis=0, dtype=np.float64).astype(np.float32)
            z[:, near] = (z[:, near] - mean[near]) * np.float32(0.97) + mean[near]
    return np.ascontiguousarray(za), np.ascontiguousarray(zb)


def batches_for(n, d, precision, seed):
    za, zb = make_batches(n, d, seed)
    if precision == "f64":
        za, zb = za.astype(np.float64), zb.astype(np.float64)
    return za, zb


# ---------------------------------------------------------------------------
# Agreement
# ---------------------------------------------------------------------------

def rel(a, b):
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def normwise(g, ref):
    g64 = g.astype(np.float64, copy=False)
    r64 = ref.astype(np.float64, copy=False)
    den = float(np.linalg.norm(r64))
    num = float(np.linalg.norm(g64 - r64))
    return num / den if den > 0 else num


def check_agreement(shape_label, precision, torch_res, lib_res, ref_res, loss_tol, grad_tol):
    """torch_res, lib_res, ref_res: (loss, grad_a, grad_b). Returns the
    measured differences; exits with status 1 on a disagreement."""
    lt, gat, gbt = torch_res
    ll, gal, gbl = lib_res
    lr, gar, gbr = ref_res
    out = {
        "loss_torch": lt, "loss_lib": ll, "loss_f64": lr,
        "loss_torch_vs_lib": rel(lt, ll),
        "loss_torch_vs_f64": rel(lt, lr),
        "loss_lib_vs_f64": rel(ll, lr),
        "grad_torch_vs_lib": max(normwise(gat, gal), normwise(gbt, gbl)),
        "grad_torch_vs_f64": max(normwise(gat, gar), normwise(gbt, gbr)),
        "grad_lib_vs_f64": max(normwise(gal, gar), normwise(gbl, gbr)),
    }
    bad = []
    for key in ("loss_torch_vs_lib", "loss_torch_vs_f64", "loss_lib_vs_f64"):
        if not out[key] < loss_tol:
            bad.append(f"{key} = {out[key]:.3g} (tolerance {loss_tol:g})")
    for key in ("grad_torch_vs_lib", "grad_torch_vs_f64", "grad_lib_vs_f64"):
        if not out[key] < grad_tol:
            bad.append(f"{key} = {out[key]:.3g} (tolerance {grad_tol:g})")
    if bad:
        print(f"compare_torch.py: DISAGREEMENT at {shape_label} {precision}: "
              f"loss torch {lt!r}, libvicreg {ll!r}, float64 {lr!r}", file=sys.stderr)
        for b in bad:
            print("  " + b, file=sys.stderr)
        print("compare_torch.py: aborting before timing", file=sys.stderr)
        sys.exit(1)
    return out


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

def time_once(fn, before=None):
    if before is not None:
        before()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_interleaved(torch_runner, lib_call, t_torch_est, t_lib_est, args):
    """Rounds of one PyTorch sample and m libvicreg samples, the order
    alternating between rounds. Returns the two sample lists."""
    reps = int(math.ceil(args.budget / max(t_torch_est, 1e-9)))
    reps = max(args.min_reps, min(args.max_reps, reps))
    # libvicreg is cheap: several samples per round, about a quarter of the
    # PyTorch time, between 1 and 10.
    m = int(0.25 * t_torch_est / max(t_lib_est, 1e-9))
    m = max(1, min(10, m))
    ts_torch, ts_lib = [], []
    for k in range(reps):
        def do_torch():
            ts_torch.append(time_once(torch_runner.call, torch_runner.reset))

        def do_lib():
            for _ in range(m):
                ts_lib.append(time_once(lib_call))
        if k % 2 == 0:
            do_torch()
            do_lib()
        else:
            do_lib()
            do_torch()
    torch_runner.reset()
    return ts_torch, ts_lib


# ---------------------------------------------------------------------------
# Peak memory (the hidden --measure-memory mode and its driver)
# ---------------------------------------------------------------------------

def proc_status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def warm_up_openblas():
    """Touch OpenBLAS's thread pool and packing buffers with products of the
    kinds both implementations use, so that its one-time allocations are
    not charged to either."""
    for dt in (np.float32, np.float64):
        a = np.ones((768, 768), dtype=dt)
        b = np.ones((768, 768), dtype=dt)
        _ = a @ b
        _ = a.T @ a  # NumPy's SYRK shortcut
        _ = a @ a.T


def measure_memory_child(args):
    impl, shape_text, precision = args.measure_memory
    n, d = parse_shape(shape_text)
    import resource
    za, zb = batches_for(n, d, precision, args.seed)
    result = {"impl": impl, "n": n, "d": d, "precision": precision}
    if impl == "libvicreg":
        load_vicreg(find_library(args.lib))
        ga = np.zeros_like(za)
        gb = np.zeros_like(zb)
        ga.fill(1.0)  # make sure every page of the caller's buffers is resident
        gb.fill(1.0)
        warm_up_openblas()
        ctx = lib_context(args)
        result["scratch_bytes"] = ctx.scratch_bytes(n, d, za.dtype)
        call, _ = make_call(ctx, za, zb, ga, gb)
        run = call
    elif impl == "pytorch":
        runner = TorchRunner(za, zb)
        # autograd engine and allocator start-up, at a tiny shape
        small = TorchRunner(*batches_for(8, 4, precision, args.seed))
        small.call()
        small.reset()
        del small
        warm_up_openblas()
        run = runner.call
    else:
        die(f"unknown impl {impl!r}")
    exact = reset_peak()
    rss0 = proc_status_kib("VmRSS")
    maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run()
    hwm1 = proc_status_kib("VmHWM")
    maxrss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if exact and hwm1 is not None:
        extra_kib = hwm1 - rss0
        result["method"] = "VmHWM after clear_refs"
    else:
        # ru_maxrss cannot be reset: a lower bound when the process had a
        # higher peak before the call.
        extra_kib = max(0, maxrss1 - max(maxrss0, rss0))
        result["method"] = "ru_maxrss (lower bound)"
    result["extra_mib"] = extra_kib / 1024.0
    print(json.dumps(result))


def measure_memory(args, lib_path, impl, n, d, precision):
    cmd = [sys.executable, os.path.abspath(__file__), "--measure-memory", impl,
           f"{n}x{d}", precision, "--lib", lib_path, "--threads", str(args.threads),
           "--seed", str(args.seed)]
    env = os.environ.copy()
    # Fixed malloc thresholds: every large block is a fresh mmap and every
    # free returns it, so the figure is what the call needs, not what glibc's
    # dynamically raised thresholds happened to keep from earlier frees.
    env["GLIBC_TUNABLES"] = ":".join(
        t for t in (env.get("GLIBC_TUNABLES", ""), MALLOC_TUNABLES) if t)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env)
    if proc.returncode != 0:
        log(f"  memory measurement of {impl} at {n}x{d} {precision} failed "
            f"(status {proc.returncode}):\n{proc.stderr.strip()}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def fmt_time(s):
    if s is None:
        return "-"
    if s >= 1.0:
        return f"{s:.3f}"
    if s >= 1e-3:
        return f"{s:.4f}"
    return f"{s:.2e}"


def fmt_ratio(x):
    return f"{x:.2f}x" if x < 10 else f"{x:.1f}x"


def fmt_mib(x):
    return "-" if x is None else f"{x:.2f}" if x < 10 else f"{x:.1f}"


def run_case(args, lib_path, n, d, precision):
    label = f"{n}x{d}"
    loss_tol = args.loss_rtol if args.loss_rtol is not None else (1e-5 if precision == "f32" else 1e-10)
    grad_tol = args.grad_rtol if args.grad_rtol is not None else (1e-4 if precision == "f32" else 1e-9)
    log(f"[{label} {precision}] data")
    za, zb = batches_for(n, d, precision, args.seed)

    # Agreement (these first calls also warm both implementations up).
    log(f"[{label} {precision}] agreement check: PyTorch")
    runner = TorchRunner(za, zb)
    t_torch_first = time_once(runner.call, runner.reset)
    torch_res = runner.result()
    torch_res = (torch_res[0], torch_res[1].copy(), torch_res[2].copy())
    runner.reset()

    log(f"[{label} {precision}] agreement check: libvicreg")
    ctx = lib_context(args)
    ga, gb = np.empty_like(za), np.empty_like(zb)
    lib_call, lib_loss = make_call(ctx, za, zb, ga, gb)
    time_once(lib_call)  # first call: allocates the scratch
    lib_res = (lib_loss.value, ga.copy(), gb.copy())
    path = PATH_LABELS.get(ctx.terms()["path_used"], "?")
    scratch = ctx.scratch_bytes(n, d, za.dtype)
    t_lib_est = min(time_once(lib_call) for _ in range(3))

    log(f"[{label} {precision}] agreement check: float64 reference")
    ref_name, ref_res = reference_f64(za, zb, precision, args.reference)
    agree = check_agreement(label, precision, torch_res, lib_res, ref_res, loss_tol, grad_tol)
    agree["reference"] = ref_name
    del torch_res, lib_res, ref_res

    log(f"[{label} {precision}] timing (one PyTorch call took {t_torch_first:.3g} s, "
        f"libvicreg {t_lib_est:.3g} s)")
    ts_torch, ts_lib = time_interleaved(runner, lib_call, t_torch_first, t_lib_est, args)
    ctx.close()
    del runner, lib_call, ga, gb, za, zb

    med_t, med_l = statistics.median(ts_torch), statistics.median(ts_lib)
    row = {"n": n, "d": d, "shape": label, "precision": precision, "path": path,
           "scratch_bytes": scratch, "torch_s": med_t, "lib_s": med_l,
           "ratio": med_t / med_l, "torch_reps": len(ts_torch), "lib_reps": len(ts_lib),
           "torch_min": min(ts_torch), "lib_min": min(ts_lib),
           "torch_peak_mib": None, "lib_peak_mib": None, **agree}
    log(f"[{label} {precision}] torch {fmt_time(med_t)} s ({len(ts_torch)} samples), "
        f"libvicreg {fmt_time(med_l)} s ({len(ts_lib)} samples), ratio {row['ratio']:.1f}")

    if not args.no_memory:
        log(f"[{label} {precision}] peak memory (subprocesses)")
        for impl, key in (("pytorch", "torch_peak_mib"), ("libvicreg", "lib_peak_mib")):
            res = measure_memory(args, lib_path, impl, n, d, precision)
            if res is not None:
                row[key] = res["extra_mib"]
                row["memory_method"] = res["method"]
                if impl == "libvicreg":
                    row["child_scratch_bytes"] = res["scratch_bytes"]
        log(f"[{label} {precision}] peak extra MiB: torch {fmt_mib(row['torch_peak_mib'])}, "
            f"libvicreg {fmt_mib(row['lib_peak_mib'])} (scratch {scratch / 2**20:.1f} MiB)")
    return row


def print_table(rows, header_lines):
    for line in header_lines:
        print(line)
    print()
    cols = ["shape", "prec", "torch s", "libvicreg s", "ratio", "torch MiB",
            "libvicreg MiB", "loss agreement"]
    table = []
    for r in rows:
        table.append([r["shape"], r["precision"], fmt_time(r["torch_s"]), fmt_time(r["lib_s"]),
                      fmt_ratio(r["ratio"]), fmt_mib(r["torch_peak_mib"]),
                      fmt_mib(r["lib_peak_mib"]), f"ok, rel diff {r['loss_torch_vs_lib']:.1e}"])
    print_aligned(cols, table)

    print()
    print("Details: samples (PyTorch/libvicreg), libvicreg path and scratch, the float64 "
          "reference used (torch: the PyTorch code in float64; numpy: the SPEC formulas in "
          "float64); loss relative differences and normwise gradient differences (max over "
          "the two branches), t = PyTorch, l = libvicreg; the float64 loss")
    cols = ["shape", "prec", "samples", "path", "scratch MiB", "f64 ref", "loss t-vs-f64",
            "loss l-vs-f64", "grad t-vs-l", "grad t-vs-f64", "grad l-vs-f64", "loss"]
    table = []
    for r in rows:
        table.append([r["shape"], r["precision"], f"{r['torch_reps']}/{r['lib_reps']}",
                      r["path"], f"{r['scratch_bytes'] / 2**20:.1f}", r["reference"],
                      f"{r['loss_torch_vs_f64']:.1e}", f"{r['loss_lib_vs_f64']:.1e}",
                      f"{r['grad_torch_vs_lib']:.1e}", f"{r['grad_torch_vs_f64']:.1e}",
                      f"{r['grad_lib_vs_f64']:.1e}", f"{r['loss_f64']:.6g}"])
    print_aligned(cols, table)


def print_aligned(cols, table):
    widths = [max(len(c), *(len(row[i]) for row in table)) if table else len(c)
              for i, c in enumerate(cols)]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))


def print_targets(rows):
    f32 = [r for r in rows if r["precision"] == "f32"]
    if not f32:
        return
    print()
    print("Issue 3 targets (float32):")
    for r in f32:
        target = SPEEDUP_TARGETS.get((r["n"], r["d"]))
        if target is not None:
            met = "met" if r["ratio"] >= target else "NOT met"
            print(f"  speed-up at {r['shape']:>9}: {fmt_ratio(r['ratio']):>7}, "
                  f"target >= {target:g}x: {met}")
    for r in f32:
        if r["torch_peak_mib"] is None or r["lib_peak_mib"] is None:
            continue
        met = "met" if r["lib_peak_mib"] < r["torch_peak_mib"] else "NOT met"
        print(f"  peak memory at {r['shape']:>9}: libvicreg {r['lib_peak_mib']:.1f} MiB "
              f"< PyTorch {r['torch_peak_mib']:.1f} MiB: {met}")


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write("shape,n,d,precision,impl,median_s,peak_mib\n")
        for r in rows:
            for impl, t, m in (("pytorch", r["torch_s"], r["torch_peak_mib"]),
                               ("libvicreg", r["lib_s"], r["lib_peak_mib"])):
                peak = "" if m is None else f"{m:.3f}"
                f.write(f"{r['shape']},{r['n']},{r['d']},{r['precision']},{impl},"
                        f"{t:.9g},{peak}\n")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def main(argv=None):
    try:
        return run(argv)
    except Exception as e:
        if vicreg is None or not isinstance(e, vicreg.VicregError):
            raise
        print(f"compare_torch.py: error: {e.function} failed: {e.message} ({e.status})",
              file=sys.stderr)
        return 3


def run(argv):
    global np, torch, ref
    args = build_parser().parse_args(argv)
    if args.threads < 1:
        die("--threads must be at least 1")
    set_by_us = configure_thread_env(args.threads)

    try:
        import numpy
        import torch as torch_module
    except ImportError as e:
        die(f"{e}; run with Debian's /usr/bin/python3 (python3-torch, python3-numpy)")
    np, torch = numpy, torch_module
    torch.set_num_threads(args.threads)
    sys.path.insert(0, os.path.join(REPO_ROOT, "bindings", "python", "tests"))
    import reference
    ref = reference

    if args.measure_memory:
        measure_memory_child(args)
        return 0

    lib_path = find_library(args.lib)
    load_vicreg(lib_path)
    blas = openblas_info()
    precisions = ["f32", "f64"] if args.precision == "both" else [args.precision]

    header = [
        f"libvicreg {vicreg.library_version()} ({shown_path(lib_path)}) vs PyTorch {torch.__version__} "
        f"(NumPy {np.__version__}, Python {platform.python_version()})",
        f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs; {platform.platform()}",
        f"threads: torch.get_num_threads() = {torch.get_num_threads()}; libvicreg runs on "
        f"OpenBLAS's {blas.get('parallel', '?')} threads: {blas.get('threads')} "
        f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
        f"{'set by this script' if set_by_us else 'from the environment'}); "
        f"its passes on {args.lib_threads or args.threads} (VICREG_PARAM_THREADS)",
        f"OpenBLAS: {blas.get('config', '?')}, core {blas.get('core', '?')}"
        + (f", OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}"
           if "OPENBLAS_CORETYPE" in os.environ else ""),
        "OpenBLAS libraries mapped: " + (", ".join(blas["mapped"]) or "none found")
        + (" (one instance and one BLAS thread pool, shared by PyTorch's matrix products "
           "and libvicreg)" if len(blas["mapped"]) == 1 else ""),
        "load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "timed unit: PyTorch forward + loss.backward() (both gradients); libvicreg one "
        "vicreg_loss call with loss and both gradients; medians of interleaved samples",
        "peak MiB: extra peak RSS of one call in a fresh process (inputs excluded; PyTorch's "
        "figure includes the gradient tensors it allocates, libvicreg's is its scratch)",
    ]
    flags = cpu_flags()
    if blas.get("core") == "Prescott" and "avx2" in flags:
        header.append(
            "WARNING: OpenBLAS runs its generic Prescott (SSE3) kernels on a CPU with AVX2"
            + ("/AVX-512" if "avx512f" in flags else "") + " (its DYNAMIC_ARCH does not "
            "know this CPU model); both implementations' matrix products are slowed alike. "
            "OPENBLAS_CORETYPE=Haswell or SkylakeX selects faster kernels.")
    for line in header:
        log(line)

    rows = []
    t_start = time.perf_counter()
    for n, d in args.shapes:
        for precision in precisions:
            rows.append(run_case(args, lib_path, n, d, precision))
    elapsed = time.perf_counter() - t_start
    header.append("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
                  + f"; total run time {elapsed:.0f} s")
    log(header[-1])

    print_table(rows, header)
    print_targets(rows)
    if args.csv:
        write_csv(args.csv, rows)
        print(f"\nCSV: {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
