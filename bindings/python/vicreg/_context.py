"""Context: one vicreg_ctx, its parameters, loss calls and terms."""

import collections
import ctypes
import threading

import numpy as np

from . import _arrays, _lib
from ._errors import ERR_NO_RESULT, VicregError, check

# Parameter keys (VICREG_PARAM_*), by the names the keyword arguments use.
PARAMS = {
    "invariance_coeff": 1,   # lambda
    "variance_coeff": 2,     # mu
    "covariance_coeff": 3,   # nu
    "std_target": 10,        # gamma
    "eps": 11,
    "convention": 20,
    "path": 30,
    "grad_scale": 40,        # libvicreg >= 1.1
    "global_views": 50,      # G, libvicreg >= 1.2
    "threads": 60,           # the passes' threads, libvicreg >= 1.3
}
CONVENTIONS = {"reference": 0, "paper": 1}
PATHS = {"auto": 0, "covariance": 1, "gram": 2}
_ENUMS = {"convention": CONVENTIONS, "path": PATHS}

# Term keys (VICREG_TERM_*), by the names of the terms dict.
TERMS = {
    "loss": 0,
    "invariance": 1,
    "variance_a": 2,
    "variance_b": 3,
    "covariance_a": 4,
    "covariance_b": 5,
    "mean_std_a": 10,
    "mean_std_b": 11,
    "min_std_a": 12,
    "min_std_b": 13,
    "collapsed_fraction_a": 14,
    "collapsed_fraction_b": 15,
    "effective_rank_a": 16,
    "effective_rank_b": 17,
    "path_used": 20,
}

# Per-view term keys (VICREG_VIEW_TERM_*, libvicreg >= 1.2), by the names
# of the per-view lists of a views call's terms.
VIEW_TERMS = {
    "variance": 1,
    "covariance": 2,
    "mean_std": 3,
    "min_std": 4,
    "collapsed_fraction": 5,
    "effective_rank": 6,
}

#: The most views one call takes (VICREG_MAX_VIEWS).
MAX_VIEWS = 64

PRECISIONS = {np.dtype(np.float32): 1, np.dtype(np.float64): 2}

# The libvicreg version that brought each family of calls.
_SINCE = (("vicreg_views_", "1.2"), ("vicreg_shard_views_", "1.2"),
          ("vicreg_ctx_views_", "1.2"), ("vicreg_ctx_get_view_term", "1.2"),
          ("vicreg_", "1.1"))

LossResult = collections.namedtuple("LossResult", "loss terms grad_a grad_b")
LossResult.__doc__ = """What a loss call returns: ``loss`` (a Python float,
computed in double), ``terms`` (dict: the terms and collapse diagnostics,
see Context.terms), ``grad_a`` and ``grad_b`` (dL/dZa and dL/dZb as NumPy
arrays of the batches' dtype, or None when grad=False)."""

ViewsResult = collections.namedtuple("ViewsResult", "loss terms grads")
ViewsResult.__doc__ = """What a views call returns: ``loss`` (a Python
float), ``terms`` (dict: see Context.view_terms) and ``grads`` (a list with
dL/dZ_v for each view v, a NumPy array of the views' dtype, or None for a
view whose gradient was not asked for)."""


def _param_key(name):
    if isinstance(name, str):
        try:
            return PARAMS[name]
        except KeyError:
            raise ValueError("unknown parameter %r; known: %s"
                             % (name, ", ".join(PARAMS))) from None
    return int(name)


def _param_value(name, value):
    """The double the C setter takes: enumerated parameters by name."""
    table = _ENUMS.get(name) if isinstance(name, str) else None
    if table is not None and isinstance(value, str):
        try:
            return float(table[value])
        except KeyError:
            raise ValueError("unknown %s %r; known: %s"
                             % (name, value, ", ".join(table))) from None
    return float(value)


def _real_p(dtype):
    """The ctypes pointer type of a batch of dtype (float32 or float64)."""
    return ctypes.POINTER(ctypes.c_float if dtype == np.float32
                          else ctypes.c_double)


def _precision(dtype):
    dtype = _arrays.check_dtype(dtype, "dtype")
    return PRECISIONS[dtype]


def batches(za, zb):
    """(za, lda, zb, ldb) for the C call: the same dtype and shape."""
    za, lda = _arrays.as_batch(za, "za")
    zb, ldb = _arrays.as_batch(zb, "zb")
    if za.dtype != zb.dtype:
        raise TypeError("za is %s and zb is %s; pass both in one dtype"
                        % (za.dtype, zb.dtype))
    if za.shape != zb.shape:
        raise ValueError("za has shape %s and zb %s; they must match"
                         % (za.shape, zb.shape))
    return za, lda, zb, ldb


def gradient_buffers(grad, out, shape, dtype):
    """([grad_a, grad_b], [ldga, ldgb]): view_gradient_buffers for the two
    batches, keeping the errors the two-batch calls have always raised (a
    pair; grad_a and grad_b rather than out[0] and out[1])."""
    if isinstance(grad, (tuple, list)):
        grad = tuple(bool(g) for g in grad)
        if len(grad) != 2:
            raise ValueError("grad must be a bool or a pair of bools")
    if out is not None:
        out = tuple(out)
        if len(out) != 2:
            raise ValueError("out must be a pair (grad_a, grad_b)")
    return view_gradient_buffers(
        grad, out, 2, shape, dtype, names=("grad_a", "grad_b"),
        unwanted="out gives %s but its gradient is not asked for")


def view_batches(views):
    """([arrays], [lds]) for a views call: every view of one dtype and
    shape. A 3-D array is taken as its 2-D slices."""
    arrays, lds = [], []
    for v, z in enumerate(views):
        array, ld = _arrays.as_batch(z, "views[%d]" % v)
        if arrays and array.dtype != arrays[0].dtype:
            raise TypeError("views[0] is %s and views[%d] is %s; pass every "
                            "view in one dtype"
                            % (arrays[0].dtype, v, array.dtype))
        if arrays and array.shape != arrays[0].shape:
            raise ValueError("views[0] has shape %s and views[%d] %s; they "
                             "must match" % (arrays[0].shape, v, array.shape))
        arrays.append(array)
        lds.append(ld)
    return arrays, lds


def view_gradient_buffers(grad, out, views, shape, dtype, *, names=None,
                          unwanted="%s is given but its gradient is not "
                                   "asked for"):
    """([grad per view], [ld per view]): the caller's buffers from ``out``,
    new arrays for the gradients asked for by ``grad`` and not given, None
    for the others, for ``views`` views: grad a bool or a sequence of one
    bool per view, out None or a sequence of one array (or None) per view.
    names: what the errors call each view's buffer (out[v] by default);
    unwanted: the message of a buffer given for a gradient not asked for."""
    if isinstance(grad, (tuple, list)):
        wanted = [bool(g) for g in grad]
        if len(wanted) != views:
            raise ValueError("grad has %d entries for %d views"
                             % (len(wanted), views))
    else:
        wanted = [bool(grad)] * views
    given = [None] * views if out is None else list(out)
    if len(given) != views:
        raise ValueError("out has %d entries for %d views"
                         % (len(given), views))
    grads = [None] * views
    lds = [max(shape[1], 1)] * views
    for v, buffer in enumerate(given):
        what = "out[%d]" % v if names is None else names[v]
        if not wanted[v]:
            if buffer is not None:
                raise ValueError(unwanted % what)
        elif buffer is None:
            grads[v] = np.empty(shape, dtype=dtype)
        else:
            grads[v], lds[v] = _arrays.as_output(buffer, shape, dtype, what)
    return grads, lds


class Context:
    """A libvicreg context: parameters, reusable scratch, and the terms of
    the last successful call.

    ``Context(**params)`` creates one with the library's defaults
    (reference convention, invariance_coeff = variance_coeff = 25,
    covariance_coeff = 1, std_target = 1, eps = 1e-4, path 'auto') and then
    sets the parameters given; see ``set``.

    Close it with ``close()`` or use it as a context manager; a context
    that is garbage collected is closed too. Scratch memory grows to the
    largest shape seen and is reused, so one Context per training loop
    allocates only on its first call.

    Threads: calls on one Context are serialised by a lock (the C context
    must be used by one thread at a time; the lock keeps that true when a
    Context is shared). The library call itself runs with the GIL released,
    so different Contexts in different threads run in parallel.
    """

    def __init__(self, **params):
        from . import lib  # the loaded library, bound at package import
        self._lib = lib
        self._lock = threading.Lock()
        handle = ctypes.c_void_p()
        check(lib, lib.vicreg_ctx_create(ctypes.byref(handle)),
              "vicreg_ctx_create")
        self._handle = handle
        try:
            self.set(**params)
        except BaseException:
            self.close()
            raise

    # -- lifecycle -------------------------------------------------------

    @property
    def closed(self):
        return self._handle is None

    @property
    def handle(self):
        """The vicreg_ctx * as a ctypes.c_void_p, for calling the raw
        functions of ``vicreg.lib``."""
        self._check_open()
        return self._handle

    def close(self):
        """Frees the C context. Closing twice is harmless."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None:
            self._lib.vicreg_ctx_destroy(handle)

    def __enter__(self):
        self._check_open()
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _check_open(self):
        if self._handle is None:
            raise ValueError("the vicreg Context is closed")

    def copy(self):
        """A new Context with the same parameters (no scratch, no terms)."""
        return Context(**self.params())

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        # Pickled as its parameters: a C pointer means nothing elsewhere.
        return (_from_params, (self.params(),))

    def __repr__(self):
        if self.closed:
            return "<vicreg.Context closed>"
        return "<vicreg.Context %s>" % ", ".join(
            "%s=%r" % item for item in self.params().items())

    # -- parameters ------------------------------------------------------

    def set(self, **params):
        """Sets parameters by name: invariance_coeff (lambda),
        variance_coeff (mu), covariance_coeff (nu), std_target (gamma), eps,
        convention ('reference' or 'paper'), path ('auto', 'covariance' or
        'gram'), with libvicreg >= 1.1 grad_scale, and with libvicreg >=
        1.2 global_views (G, how many of the views of a views call, the
        first ones, are global; 0, the default, means all), with libvicreg
        >= 1.3 threads (how many threads the library runs its streaming
        passes on, the caller's included; default 1). None leaves a
        parameter as it is. An out-of-range value raises VicregError
        (VICREG_ERR_OUT_OF_RANGE) and leaves that parameter unchanged."""
        for name, value in params.items():
            if value is not None:
                self.set_param(name, value)

    def set_param(self, key, value):
        """Sets one parameter, by name or by its VICREG_PARAM_* number."""
        number = _param_key(key)
        value = _param_value(key, value)
        with self._lock:
            self._check_open()
            check(self._lib, self._lib.vicreg_ctx_set_param(
                self._handle, number, value), "vicreg_ctx_set_param")

    def get_param(self, key):
        """One parameter's value as a float, by name or number."""
        number = _param_key(key)
        value = ctypes.c_double()
        with self._lock:
            self._check_open()
            check(self._lib, self._lib.vicreg_ctx_get_param(
                self._handle, number, ctypes.byref(value)),
                "vicreg_ctx_get_param")
        return value.value

    def params(self):
        """Every parameter the library knows, by name; convention and path
        as names."""
        out = {}
        for name in PARAMS:
            try:
                value = self.get_param(name)
            except VicregError:
                if name in ("grad_scale", "global_views", "threads"):  # newer keys
                    continue
                raise
            table = _ENUMS.get(name)
            if table is not None:
                value = {v: k for k, v in table.items()}.get(int(value), value)
            out[name] = value
        return out

    # -- compute ---------------------------------------------------------

    def loss(self, za, zb, *, grad=True, out=None):
        """The VICReg loss of two batches (n x d NumPy arrays, float32 or
        float64, the same dtype and shape) with this context's parameters.

        grad: True computes dL/dZa and dL/dZb too, False neither; a pair
        of bools such as (True, False) computes only the ones asked for
        (the other comes back as None).
        out: optional pair (grad_a, grad_b) of arrays to write the gradients
        into (the batches' dtype and shape, a row-major layout; either may
        be None to have it allocated). Reusing them saves two allocations
        per call.

        Returns a LossResult (loss, terms, grad_a, grad_b). Errors of the
        library raise VicregError; nothing passed in is changed then.
        """
        return self._loss("vicreg_loss", za, zb, grad, out)

    def loss_rows(self, za, zb, row0, rows, *, grad=True, out=None):
        """The loss of the whole batch, as ``loss``, but the gradient rows
        row0 .. row0 + rows - 1 only (arrays of rows x d): for a process
        that holds the whole batch and needs its own shard's gradient.
        Needs libvicreg >= 1.1."""
        return self._loss("vicreg_loss_rows", za, zb, grad, out,
                          rows=rows, between=(row0, rows))

    def _loss(self, stem, za, zb, grad, out, rows=None, between=()):
        """The loss call ``stem`` (vicreg_loss or vicreg_loss_rows) on two
        batches, with the gradients grad and out ask for: n x d, or rows x
        d where rows is given. between: the arguments the call takes after
        the batches and before the loss pointer."""
        za, lda, zb, ldb = batches(za, zb)
        n, d = za.shape
        shape = (n if rows is None else rows, d)
        grads, lds = gradient_buffers(grad, out, shape, za.dtype)
        function, ptr = self._function(stem, za.dtype)
        loss = ctypes.c_double()
        return self._call(function, n, d, ptr(za), lda, ptr(zb), ldb, *between,
                          ctypes.byref(loss), ptr(grads[0]), lds[0],
                          ptr(grads[1]), lds[1], loss=loss, grads=grads)

    def _function(self, stem, dtype):
        """The _f32 or _f64 C function for dtype, and a function turning an
        array (or None) into the pointer it takes."""
        suffix = "_f32" if dtype == np.float32 else "_f64"
        real_p = _real_p(dtype)

        def ptr(array):
            return None if array is None else array.ctypes.data_as(real_p)
        return self._raw(stem + suffix), ptr

    def _raw(self, name):
        """The C function ``name``; NotImplementedError when the loaded
        library is older than it."""
        if not _lib.has(self._lib, name):
            since = next(v for prefix, v in _SINCE if name.startswith(prefix))
            raise NotImplementedError(
                "%s needs libvicreg >= %s; the loaded library is %s"
                % (name, since, self._lib.vicreg_version_string().decode()))
        return getattr(self._lib, name)

    def _call(self, function, *args, loss, grads):
        """Calls a loss function on this context, then reads the terms
        under the same lock so that they belong to this call."""
        with self._lock:
            self._check_open()
            check(self._lib, function(self._handle, *args), function.__name__)
            terms = self._terms_locked()
        return LossResult(loss.value, terms, grads[0], grads[1])

    # -- any number of views (libvicreg >= 1.2) ----------------------------

    def views_loss(self, views, *, grad=True, out=None):
        """The loss of V views (a sequence of n x d NumPy arrays, float32
        or float64, one dtype and shape; or a V x n x d array) with this
        context's parameters; the first global_views of them are global
        (see vicreg.h, "Any number of views"). With V = 2 it is
        Context.loss exactly.

        grad: True computes every view's gradient, False none, a sequence
        of V bools the ones asked for (the others come back as None).
        out: optional sequence of V arrays (or None) to write the gradients
        into, as for Context.loss.

        Returns a ViewsResult (loss, terms, grads); terms as view_terms().
        Errors of the library (among them BAD_SHAPE for no view, more than
        MAX_VIEWS views or global_views above V) raise VicregError; nothing
        passed in is changed then.
        """
        return self._views("vicreg_views_loss", views, grad, out)

    def views_loss_rows(self, views, row0, rows, *, grad=True, out=None):
        """views_loss on the whole batch, but only the gradient rows row0 ..
        row0 + rows - 1 (arrays of rows x d)."""
        return self._views("vicreg_views_loss_rows", views, grad, out,
                           rows=rows, between=(row0, rows))

    def _views(self, stem, views, grad, out, rows=None, between=()):
        """The views call ``stem`` (vicreg_views_loss or _rows)."""
        arrays, lds = view_batches(views)
        count = len(arrays)
        dtype = arrays[0].dtype if arrays else np.dtype(np.float64)
        n, d = arrays[0].shape if arrays else (0, 0)
        grads, glds = view_gradient_buffers(
            grad, out, count, (n if rows is None else rows, d), dtype)
        function, ptr = self._function(stem, dtype)
        real_p = _real_p(dtype)
        z = (real_p * count)(*[ptr(a) for a in arrays])
        g = None
        if any(x is not None for x in grads):
            g = (real_p * count)(*[ptr(x) for x in grads])
        loss = ctypes.c_double()
        with self._lock:
            self._check_open()
            check(self._lib, function(self._handle, count, n, d, z,
                                      (ctypes.c_size_t * count)(*lds),
                                      *between, ctypes.byref(loss), g,
                                      (ctypes.c_size_t * count)(*glds)),
                  function.__name__)
            terms = self._view_terms_locked(count)
        return ViewsResult(loss.value, terms, grads)

    def views_scratch_bytes(self, views, n, d, dtype=np.float64):
        """The scratch bytes a views call of shape (views, n, d) in
        ``dtype`` needs with this context's path parameter."""
        function = self._raw("vicreg_ctx_views_scratch_bytes")
        size = ctypes.c_size_t()
        with self._lock:
            self._check_open()
            check(self._lib, function(self._handle, views, n, d,
                                      _precision(dtype), ctypes.byref(size)),
                  function.__name__)
        return size.value

    def views_reserve(self, views, n, d, dtype=np.float64):
        """Allocates the scratch for a views call of shape (views, n, d)
        now, so that later calls at that shape or smaller allocate
        nothing."""
        function = self._raw("vicreg_ctx_views_reserve")
        with self._lock:
            self._check_open()
            check(self._lib, function(self._handle, views, n, d,
                                      _precision(dtype)), function.__name__)

    def view_term(self, key, view):
        """One per-view term of the last successful call (a views call, or
        a two-batch call: views 0 and 1 are branches a and b), by name (a
        key of VIEW_TERMS) or VICREG_VIEW_TERM_* number. VicregError
        (VICREG_ERR_NO_RESULT) before a call or for a view past the last
        call's view count."""
        if isinstance(key, str):
            try:
                number = VIEW_TERMS[key]
            except KeyError:
                raise ValueError("unknown view term %r; known: %s"
                                 % (key, ", ".join(VIEW_TERMS))) from None
        else:
            number = int(key)
        function = self._raw("vicreg_ctx_get_view_term")
        value = ctypes.c_double()
        with self._lock:
            self._check_open()
            check(self._lib, function(self._handle, number, view,
                                      ctypes.byref(value)), function.__name__)
        return value.value

    def view_terms(self):
        """The terms of the last successful call, view by view: loss,
        invariance (s_bar, the weighted mean over the pairs of views),
        path_used, and for each name of VIEW_TERMS (variance, covariance,
        unweighted; mean_std, min_std, collapsed_fraction, effective_rank)
        a list with one float per view."""
        self._raw("vicreg_ctx_get_view_term")
        with self._lock:
            self._check_open()
            return self._view_terms_locked()

    def _view_terms_locked(self, count=MAX_VIEWS):
        """The view terms of views 0 .. count - 1, or up to the last call's
        view count when that is smaller."""
        get = self._lib.vicreg_ctx_get_view_term
        terms = {name: self._term_locked(TERMS[name])
                 for name in ("loss", "invariance", "path_used")}
        paths = {v: k for k, v in PATHS.items()}
        terms["path_used"] = paths.get(int(terms["path_used"]),
                                       terms["path_used"])
        for name in VIEW_TERMS:
            terms[name] = []
        value = ctypes.c_double()
        for view in range(count):
            for name, number in VIEW_TERMS.items():
                status = get(self._handle, number, view, ctypes.byref(value))
                if status == ERR_NO_RESULT and view > 0:
                    return terms  # past the last call's view count
                check(self._lib, status, "vicreg_ctx_get_view_term")
                terms[name].append(value.value)
        return terms

    def scratch_bytes(self, n, d, dtype=np.float64):
        """The scratch bytes a loss call of shape (n, d) in ``dtype`` needs
        with this context's path parameter."""
        size = ctypes.c_size_t()
        with self._lock:
            self._check_open()
            check(self._lib, self._lib.vicreg_ctx_scratch_bytes(
                self._handle, n, d, _precision(dtype), ctypes.byref(size)),
                "vicreg_ctx_scratch_bytes")
        return size.value

    def reserve(self, n, d, dtype=np.float64):
        """Allocates the scratch for shape (n, d) now, so that later calls
        at that size or smaller allocate nothing."""
        with self._lock:
            self._check_open()
            check(self._lib, self._lib.vicreg_ctx_reserve(
                self._handle, n, d, _precision(dtype)), "vicreg_ctx_reserve")

    # -- terms -----------------------------------------------------------

    def term(self, key):
        """One term of the last successful call, by name (a key of
        ``terms()``) or VICREG_TERM_* number, as a float. Raises VicregError
        (VICREG_ERR_NO_RESULT) before the first successful call."""
        if isinstance(key, str):
            try:
                number = TERMS[key]
            except KeyError:
                raise ValueError("unknown term %r; known: %s"
                                 % (key, ", ".join(TERMS))) from None
        else:
            number = int(key)
        with self._lock:
            self._check_open()
            return self._term_locked(number)

    def terms(self):
        """The terms and diagnostics of the last successful call: loss,
        invariance (in the context's convention), variance_a/_b and
        covariance_a/_b (unweighted), mean_std_a/_b, min_std_a/_b,
        collapsed_fraction_a/_b, effective_rank_a/_b (floats) and path_used
        ('covariance' or 'gram')."""
        with self._lock:
            self._check_open()
            return self._terms_locked()

    def _term_locked(self, number):
        value = ctypes.c_double()
        check(self._lib, self._lib.vicreg_ctx_get_term(
            self._handle, number, ctypes.byref(value)), "vicreg_ctx_get_term")
        return value.value

    def _terms_locked(self):
        terms = {name: self._term_locked(number)
                 for name, number in TERMS.items()}
        paths = {v: k for k, v in PATHS.items()}
        terms["path_used"] = paths.get(int(terms["path_used"]),
                                       terms["path_used"])
        return terms


def _from_params(params):
    return Context(**params)


def loss(za, zb, *, convention=None, invariance_coeff=None,
         variance_coeff=None, covariance_coeff=None, std_target=None,
         eps=None, path=None, grad_scale=None, grad=True, out=None):
    """The VICReg loss of two batches in one call.

    Creates a Context with the parameters given (None keeps the library's
    default: convention 'reference', invariance_coeff = variance_coeff = 25,
    covariance_coeff = 1, std_target = 1, eps = 1e-4, path 'auto'; see
    Context.set) and returns ``Context.loss(za, zb, grad=grad, out=out)``:
    a LossResult (loss, terms, grad_a, grad_b). In a loop keep a Context
    instead, which reuses its scratch memory.
    """
    params = dict(convention=convention, invariance_coeff=invariance_coeff,
                  variance_coeff=variance_coeff,
                  covariance_coeff=covariance_coeff, std_target=std_target,
                  eps=eps, path=path, grad_scale=grad_scale)
    with Context(**params) as context:
        return context.loss(za, zb, grad=grad, out=out)


def views_loss(views, *, global_views=None, convention=None,
               invariance_coeff=None, variance_coeff=None,
               covariance_coeff=None, std_target=None, eps=None, path=None,
               grad_scale=None, grad=True, out=None):
    """The loss of V views in one call (libvicreg >= 1.2): a Context with
    the parameters given (None keeps the library's default; global_views 0,
    the default, makes every view global) and its
    ``views_loss(views, grad=grad, out=out)``: a ViewsResult (loss, terms,
    grads). In a loop keep a Context instead."""
    params = dict(global_views=global_views, convention=convention,
                  invariance_coeff=invariance_coeff,
                  variance_coeff=variance_coeff,
                  covariance_coeff=covariance_coeff, std_target=std_target,
                  eps=eps, path=path, grad_scale=grad_scale)
    with Context(**params) as context:
        return context.views_loss(views, grad=grad, out=out)
