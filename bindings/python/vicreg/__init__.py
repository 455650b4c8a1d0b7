"""libvicreg from Python: the VICReg loss and its gradients on NumPy arrays.

    import numpy as np
    import vicreg

    za = np.random.default_rng(0).standard_normal((256, 128), dtype=np.float32)
    zb = za + 0.1
    loss, terms, grad_a, grad_b = vicreg.loss(za, zb)

``vicreg.loss`` is the one-call form; ``vicreg.views_loss`` (libvicreg >=
1.2) takes any number of views, the first ``global_views`` of them global
(multi-crop training, VICRegL's global loss); ``vicreg.Context`` keeps
parameters and scratch memory between calls; ``vicreg.torch`` (imported
separately) has PyTorch autograd Functions and the ``VICRegLoss`` module;
``vicreg.shard`` (libvicreg >= 1.1) computes one batch in shards. Errors of
the library raise ``vicreg.VicregError``. The shared library is found as
described in ``vicreg._lib`` (VICREG_LIBRARY, then the package's own copy
that a wheel carries, then the system loader, then ``build/`` of the source
tree this package sits in).
"""

from . import _lib
from ._errors import (OK, ERR_INVALID_ARGUMENT, ERR_OUT_OF_RANGE,
                      ERR_NON_FINITE, ERR_NO_MEMORY, ERR_BAD_SHAPE,
                      ERR_SIZE_OVERFLOW, ERR_OVERLAP, ERR_OVERFLOW,
                      ERR_NO_RESULT, VicregError)
from ._lib import LibraryNotFoundError

#: The loaded libvicreg.so.1 (a ctypes.CDLL with every function declared),
#: for calling the C API directly.
lib, _lib_path = _lib.load()

from ._context import (Context, LossResult, loss, PARAMS, TERMS,  # noqa: E402
                       CONVENTIONS, PATHS, ViewsResult, views_loss,
                       VIEW_TERMS, MAX_VIEWS)

__version__ = "1.3.0"

__all__ = [
    "Context", "LossResult", "loss", "ViewsResult", "views_loss",
    "VicregError", "LibraryNotFoundError",
    "lib", "library_path", "library_version", "param_bounds", "strerror",
    "status_name", "PARAMS", "TERMS", "CONVENTIONS", "PATHS", "VIEW_TERMS",
    "MAX_VIEWS",
    "OK", "ERR_INVALID_ARGUMENT", "ERR_OUT_OF_RANGE", "ERR_NON_FINITE",
    "ERR_NO_MEMORY", "ERR_BAD_SHAPE", "ERR_SIZE_OVERFLOW", "ERR_OVERLAP",
    "ERR_OVERFLOW", "ERR_NO_RESULT",
]


def library_path():
    """The file libvicreg was loaded from (None if it cannot be told)."""
    return _lib.loaded_path(_lib_path)


def library_version():
    """The running library's version string, such as "1.3.0"."""
    return lib.vicreg_version_string().decode()


def strerror(status):
    """The library's description of a status code."""
    return lib.vicreg_strerror(status).decode()


def status_name(status):
    """The C name of a status code, such as "VICREG_ERR_NON_FINITE"."""
    return lib.vicreg_status_name(status).decode()


def param_bounds(key):
    """(lower, upper): the closed range of a parameter, by name or number."""
    import ctypes
    from ._context import _param_key
    from ._errors import check
    lower, upper = ctypes.c_double(), ctypes.c_double()
    check(lib, lib.vicreg_param_bounds(_param_key(key), ctypes.byref(lower),
                                       ctypes.byref(upper)),
          "vicreg_param_bounds")
    return lower.value, upper.value
