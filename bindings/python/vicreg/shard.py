"""Sharded VICReg (libvicreg >= 1.1): one batch split across processes or
into micro-batches, its loss and gradients computed in three phases whose
results are plain sums.

    import numpy as np, vicreg, vicreg.shard as shard

    context = vicreg.Context()
    sums = shard.zeros_sums(d)
    for za, zb in shards:                    # or: this process's shard,
        shard.add_sums(context, za, zb, sums)   # then all-reduce sums
    scatter = shard.zeros_scatter(d)
    for za, zb in shards:
        shard.add_scatter(context, za, zb, sums, scatter)  # all-reduce
    for za, zb in shards:
        loss, terms, grad_a, grad_b = shard.finish(context, za, zb, sums,
                                                   scatter)

``finish`` gives every shard the loss and terms of the whole batch and
the gradient rows of its own rows. The statistics buffers are 1-D float64
arrays of the lengths ``sizes(d)`` gives; the phases add into them, so
start from zeros. See "Sharded and distributed computation" in vicreg.h,
including when to set the context's grad_scale.

With libvicreg >= 1.2 the same three phases take any number of views
(``add_views_sums``, ``add_views_scatter``, ``views_finish``, buffers from
``views_sizes``): each shard passes its rows of every view, and
``views_finish`` gives the loss and terms of ``Context.views_loss`` on the
whole batch and this shard's gradient rows of each view.
"""

import ctypes

import numpy as np

from . import _context
from ._errors import check
from ._lib import has

__all__ = ["sizes", "zeros_sums", "zeros_scatter", "add_sums",
           "add_scatter", "finish", "views_sizes", "add_views_sums",
           "add_views_scatter", "views_finish"]

_double_p = ctypes.POINTER(ctypes.c_double)


def _lib():
    from . import lib
    if not has(lib, "vicreg_shard_sizes"):
        raise NotImplementedError(
            "vicreg.shard needs libvicreg >= 1.1; the loaded library is %s"
            % lib.vicreg_version_string().decode())
    return lib


def sizes(d):
    """(sums_len, scatter_len): the statistics buffers' lengths for d
    columns, in doubles (2 + 2 d and d (d + 1))."""
    lib = _lib()
    sums_len, scatter_len = ctypes.c_size_t(), ctypes.c_size_t()
    check(lib, lib.vicreg_shard_sizes(d, ctypes.byref(sums_len),
                                      ctypes.byref(scatter_len)),
          "vicreg_shard_sizes")
    return sums_len.value, scatter_len.value


def zeros_sums(d):
    """A zeroed phase-1 buffer for d columns."""
    return np.zeros(sizes(d)[0])


def zeros_scatter(d):
    """A zeroed phase-2 buffer for d columns."""
    return np.zeros(sizes(d)[1])


def _statistics(array, length, what, writable):
    """A float64 1-D C-contiguous array of ``length``: the caller's own
    (never copied when it is written; copied if need be when only read)."""
    if writable:
        if not (isinstance(array, np.ndarray) and array.dtype == np.float64
                and array.ndim == 1 and array.flags.c_contiguous
                and array.flags.writeable and array.flags.aligned):
            raise ValueError("%s must be a writable, contiguous 1-D float64 "
                             "NumPy array" % what)
    else:
        array = np.ascontiguousarray(array, dtype=np.float64)
    if array.shape != (length,):
        raise ValueError("%s has shape %s; %d doubles are needed"
                         % (what, array.shape, length))
    return array


def _invoke(context, stem, za, lda, zb, ldb, *statistics):
    """Phases 1 and 2: the C call on checked batches and buffers."""
    n, d = za.shape
    function, ptr = context._function(stem, za.dtype)
    pointers = [array.ctypes.data_as(_double_p) for array in statistics]
    with context._lock:
        context._check_open()
        check(context._lib, function(context._handle, n, d, ptr(za), lda,
                                     ptr(zb), ldb, *pointers),
              function.__name__)


def add_sums(context, za, zb, sums):
    """Phase 1: adds this shard's row count, invariance sum and column
    sums into ``sums`` (from zeros_sums). za and zb may have 0 rows.
    Returns sums."""
    za, lda, zb, ldb = _context.batches(za, zb)
    sums = _statistics(sums, sizes(za.shape[1])[0], "sums", writable=True)
    _invoke(context, "vicreg_shard_sums", za, lda, zb, ldb, sums)
    return sums


def add_scatter(context, za, zb, sums, scatter):
    """Phase 2: adds this shard's scatter about the global means (from the
    GLOBAL ``sums``) into ``scatter`` (from zeros_scatter). Returns
    scatter."""
    za, lda, zb, ldb = _context.batches(za, zb)
    sums_len, scatter_len = sizes(za.shape[1])
    sums = _statistics(sums, sums_len, "sums", writable=False)
    scatter = _statistics(scatter, scatter_len, "scatter", writable=True)
    _invoke(context, "vicreg_shard_scatter", za, lda, zb, ldb, sums, scatter)
    return scatter


def finish(context, za, zb, sums, scatter, *, grad=True, out=None):
    """Phase 3: from the GLOBAL sums and scatter, the loss and terms of the
    whole batch and the gradient rows of this shard (times the context's
    grad_scale), as a LossResult. The terms are also kept in the context.
    grad and out as for Context.loss."""
    za, lda, zb, ldb = _context.batches(za, zb)
    n, d = za.shape
    sums_len, scatter_len = sizes(d)
    sums = _statistics(sums, sums_len, "sums", writable=False)
    scatter = _statistics(scatter, scatter_len, "scatter", writable=False)
    grads, lds = _context.gradient_buffers(grad, out, (n, d), za.dtype)
    function, ptr = context._function("vicreg_shard_finish", za.dtype)
    loss = ctypes.c_double()
    return context._call(function, n, d, ptr(za), lda, ptr(zb), ldb,
                         sums.ctypes.data_as(_double_p),
                         scatter.ctypes.data_as(_double_p),
                         ctypes.byref(loss), ptr(grads[0]), lds[0],
                         ptr(grads[1]), lds[1], loss=loss, grads=grads)


# -- any number of views (libvicreg >= 1.2) ---------------------------------

def views_sizes(views, d):
    """(sums_len, scatter_len) for `views` views of d columns, in doubles
    (2 + views d and views d (d + 1) / 2); zero them with np.zeros."""
    lib = _lib()
    if not has(lib, "vicreg_shard_views_sizes"):
        raise NotImplementedError(
            "the sharded views calls need libvicreg >= 1.2; the loaded "
            "library is %s" % lib.vicreg_version_string().decode())
    sums_len, scatter_len = ctypes.c_size_t(), ctypes.c_size_t()
    check(lib, lib.vicreg_shard_views_sizes(views, d, ctypes.byref(sums_len),
                                            ctypes.byref(scatter_len)),
          "vicreg_shard_views_sizes")
    return sums_len.value, scatter_len.value


def _views_invoke(context, stem, views, sums, scatter, writes, grad=False,
                  out=None):
    """A sharded views phase on checked views and buffers: sums (and
    scatter unless None) as the phase reads or writes them (``writes``:
    the one written, 'sums' or 'scatter'; None for phase 3, which also
    computes the gradients grad and out ask for). Returns (a ViewsResult,
    which only phase 3 fills, and [sums, scatter] as passed to C)."""
    arrays, lds = _context.view_batches(views)
    count = len(arrays)
    dtype = arrays[0].dtype if arrays else np.dtype(np.float64)
    n, d = arrays[0].shape if arrays else (0, 0)
    sums_len, scatter_len = views_sizes(count, d)
    sums = _statistics(sums, sums_len, "sums", writable=writes == "sums")
    buffers = [sums]
    if scatter is not None:
        buffers.append(_statistics(scatter, scatter_len, "scatter",
                                   writable=writes == "scatter"))
    function, ptr = context._function(stem, dtype)
    real_p = _context._real_p(dtype)
    args = [count, n, d, (real_p * count)(*[ptr(a) for a in arrays]),
            (ctypes.c_size_t * count)(*lds)]
    args += [array.ctypes.data_as(_double_p) for array in buffers]
    loss = ctypes.c_double()
    grads = [None] * count
    if writes is None:  # phase 3
        grads, glds = _context.view_gradient_buffers(grad, out, count, (n, d),
                                                     dtype)
        g = None
        if any(x is not None for x in grads):
            g = (real_p * count)(*[ptr(x) for x in grads])
        args += [ctypes.byref(loss), g, (ctypes.c_size_t * count)(*glds)]
    with context._lock:
        context._check_open()
        check(context._lib, function(context._handle, *args),
              function.__name__)
        terms = context._view_terms_locked(count) if writes is None else None
    return _context.ViewsResult(loss.value, terms, grads), buffers


def add_views_sums(context, views, sums):
    """Phase 1 for views: adds this shard's row count, weighted invariance
    sum (it reads the context's global_views) and every view's column sums
    into ``sums`` (views_sizes(V, d)[0] doubles, zeroed before the first
    shard). The views may have 0 rows. Returns sums."""
    return _views_invoke(context, "vicreg_shard_views_sums", views, sums,
                         None, "sums")[1][0]


def add_views_scatter(context, views, sums, scatter):
    """Phase 2 for views: adds each view's scatter about the global means
    (from the GLOBAL ``sums``) into ``scatter`` (views_sizes(V, d)[1]
    doubles, zeroed before the first shard). Returns scatter."""
    return _views_invoke(context, "vicreg_shard_views_scatter", views, sums,
                         scatter, "scatter")[1][1]


def views_finish(context, views, sums, scatter, *, grad=True, out=None):
    """Phase 3 for views: from the GLOBAL sums and scatter, the loss and
    terms of the whole batch and this shard's gradient rows of each view,
    as a ViewsResult (grad and out as for Context.views_loss)."""
    return _views_invoke(context, "vicreg_shard_views_finish", views, sums,
                         scatter, None, grad, out)[0]
