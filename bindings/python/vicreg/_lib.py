"""Finding and loading libvicreg.so.1, and the C signature of every function.

Where the library comes from, first match wins:

1. the path in the environment variable VICREG_LIBRARY, when it is set and
   not empty (nothing else is tried if that file cannot be loaded: an
   explicit choice that fails is an error, not a reason to pick another
   copy);
2. the package's own copy, ``libvicreg.so.1`` beside this file: the wheel
   built from the repository root (``pip install .``) carries one. It is
   linked to the system's OpenBLAS (``libopenblas.so.0``, Debian's
   libopenblas0), which the dynamic loader finds as for any library; if
   the copy cannot be loaded, that is an error too (with the loader's
   reason), not a reason to pick another copy;
3. the system's dynamic loader asked for ``libvicreg.so.1`` (LD_LIBRARY_PATH,
   the ld.so cache, the default directories: where ``meson install`` and
   Debian's libvicreg1 put it);
4. the build tree of the source checkout this package sits in:
   ``<source root>/build/libvicreg.so.1``, where ``<source root>`` is three
   directories above this file (``bindings/python/vicreg/``) and is taken for
   the libvicreg source tree only when it holds ``include/vicreg.h``. Other
   build directories are not searched (a sanitizer build's library cannot be
   loaded into an ordinary interpreter); point VICREG_LIBRARY at them.
"""

import ctypes
import os
import pathlib

SONAME = "libvicreg.so.1"

c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_double_p = ctypes.POINTER(ctypes.c_double)
c_float_p = ctypes.POINTER(ctypes.c_float)
c_ctx_p = ctypes.c_void_p  # vicreg_ctx * is opaque: an address is all we hold

# Every function of the library's ABI: name -> (restype, argtypes). The
# names of later versions are declared too; they are bound only when the
# loaded library has them (see ``has``). A test compares this table with the
# symbols the library exports.
_F = ctypes.c_float
_D = ctypes.c_double
_SZ = ctypes.c_size_t
_INT = ctypes.c_int


def _loss_args(real_p):
    return [c_ctx_p, _SZ, _SZ, real_p, _SZ, real_p, _SZ,
            c_double_p, real_p, _SZ, real_p, _SZ]


def _rows_args(real_p):
    return [c_ctx_p, _SZ, _SZ, real_p, _SZ, real_p, _SZ, _SZ, _SZ,
            c_double_p, real_p, _SZ, real_p, _SZ]


def _sums_args(real_p):
    return [c_ctx_p, _SZ, _SZ, real_p, _SZ, real_p, _SZ, c_double_p]


def _scatter_args(real_p):
    return [c_ctx_p, _SZ, _SZ, real_p, _SZ, real_p, _SZ, c_double_p,
            c_double_p]


def _finish_args(real_p):
    return [c_ctx_p, _SZ, _SZ, real_p, _SZ, real_p, _SZ, c_double_p,
            c_double_p, c_double_p, real_p, _SZ, real_p, _SZ]


# The views calls (1.2) take an array of pointers, one per view, and an
# array of leading dimensions: ctx, views, n, d, z, ldz, ...
def _views_args(real_p, *middle):
    return ([c_ctx_p, _SZ, _SZ, _SZ, ctypes.POINTER(real_p), c_size_p]
            + list(middle))


def _views_loss_args(real_p, *middle):
    return _views_args(real_p, *middle) + [c_double_p, ctypes.POINTER(real_p),
                                           c_size_p]


SIGNATURES = {
    # VICREG_1.0
    "vicreg_version_number": (ctypes.c_uint, []),
    "vicreg_version_string": (ctypes.c_char_p, []),
    "vicreg_strerror": (ctypes.c_char_p, [_INT]),
    "vicreg_status_name": (ctypes.c_char_p, [_INT]),
    "vicreg_ctx_create": (_INT, [ctypes.POINTER(c_ctx_p)]),
    "vicreg_ctx_destroy": (None, [c_ctx_p]),
    "vicreg_ctx_set_param": (_INT, [c_ctx_p, _INT, _D]),
    "vicreg_ctx_get_param": (_INT, [c_ctx_p, _INT, c_double_p]),
    "vicreg_param_bounds": (_INT, [_INT, c_double_p, c_double_p]),
    "vicreg_loss_f32": (_INT, _loss_args(c_float_p)),
    "vicreg_loss_f64": (_INT, _loss_args(c_double_p)),
    "vicreg_ctx_scratch_bytes": (_INT, [c_ctx_p, _SZ, _SZ, _INT, c_size_p]),
    "vicreg_ctx_reserve": (_INT, [c_ctx_p, _SZ, _SZ, _INT]),
    "vicreg_ctx_get_term": (_INT, [c_ctx_p, _INT, c_double_p]),
    # VICREG_1.1
    "vicreg_shard_sizes": (_INT, [_SZ, c_size_p, c_size_p]),
    "vicreg_shard_sums_f32": (_INT, _sums_args(c_float_p)),
    "vicreg_shard_sums_f64": (_INT, _sums_args(c_double_p)),
    "vicreg_shard_scatter_f32": (_INT, _scatter_args(c_float_p)),
    "vicreg_shard_scatter_f64": (_INT, _scatter_args(c_double_p)),
    "vicreg_shard_finish_f32": (_INT, _finish_args(c_float_p)),
    "vicreg_shard_finish_f64": (_INT, _finish_args(c_double_p)),
    "vicreg_loss_rows_f32": (_INT, _rows_args(c_float_p)),
    "vicreg_loss_rows_f64": (_INT, _rows_args(c_double_p)),
    "vicreg_ctx_buffer": (_INT, [c_ctx_p, _SZ, ctypes.POINTER(ctypes.c_void_p)]),
    # VICREG_1.2
    "vicreg_views_loss_f32": (_INT, _views_loss_args(c_float_p)),
    "vicreg_views_loss_f64": (_INT, _views_loss_args(c_double_p)),
    "vicreg_views_loss_rows_f32": (_INT, _views_loss_args(
        c_float_p, _SZ, _SZ)),
    "vicreg_views_loss_rows_f64": (_INT, _views_loss_args(
        c_double_p, _SZ, _SZ)),
    "vicreg_ctx_views_scratch_bytes": (_INT, [c_ctx_p, _SZ, _SZ, _SZ, _INT,
                                              c_size_p]),
    "vicreg_ctx_views_reserve": (_INT, [c_ctx_p, _SZ, _SZ, _SZ, _INT]),
    "vicreg_ctx_get_view_term": (_INT, [c_ctx_p, _INT, _SZ, c_double_p]),
    "vicreg_shard_views_sizes": (_INT, [_SZ, _SZ, c_size_p, c_size_p]),
    "vicreg_shard_views_sums_f32": (_INT, _views_args(c_float_p, c_double_p)),
    "vicreg_shard_views_sums_f64": (_INT, _views_args(c_double_p, c_double_p)),
    "vicreg_shard_views_scatter_f32": (_INT, _views_args(
        c_float_p, c_double_p, c_double_p)),
    "vicreg_shard_views_scatter_f64": (_INT, _views_args(
        c_double_p, c_double_p, c_double_p)),
    "vicreg_shard_views_finish_f32": (_INT, _views_loss_args(
        c_float_p, c_double_p, c_double_p)),
    "vicreg_shard_views_finish_f64": (_INT, _views_loss_args(
        c_double_p, c_double_p, c_double_p)),
}

# The functions this package cannot work without.
REQUIRED_VERSION_NODE = "VICREG_1.0"
REQUIRED = [name for name in SIGNATURES
            if not name.startswith(("vicreg_shard_", "vicreg_loss_rows_",
                                    "vicreg_ctx_buffer", "vicreg_views_",
                                    "vicreg_ctx_views_",
                                    "vicreg_ctx_get_view_term"))]


class LibraryNotFoundError(OSError):
    """libvicreg.so.1 could not be found or loaded."""


def source_root():
    """The libvicreg source tree this package sits in, or None."""
    root = pathlib.Path(__file__).resolve().parents[3]
    if (root / "include" / "vicreg.h").is_file():
        return root
    return None


def package_library():
    """The package's own copy of the library (a wheel's), or None."""
    path = pathlib.Path(__file__).resolve().parent / SONAME
    return path if path.is_file() else None


def _build_tree_candidate():
    root = source_root()
    if root is None:
        return None
    path = root / "build" / SONAME
    return path if path.is_file() else None


def _open(path):
    return ctypes.CDLL(str(path))


def load():
    """Loads the library (see the module docstring) and declares its
    functions. Returns (CDLL, the path it came from or None when the system
    loader found it)."""
    tried = []
    explicit = os.environ.get("VICREG_LIBRARY")
    if explicit:
        try:
            lib, path = _open(explicit), explicit
        except OSError as exc:
            raise LibraryNotFoundError(
                "VICREG_LIBRARY is set to %r, which could not be loaded: %s"
                % (explicit, exc)) from None
    elif package_library() is not None:
        bundled = package_library()
        try:
            lib, path = _open(bundled), str(bundled)
        except OSError as exc:
            raise LibraryNotFoundError(
                "the package's own %s could not be loaded: %s. It needs the "
                "system's OpenBLAS (libopenblas.so.0; on Debian and Ubuntu "
                "`apt install libopenblas0`). Set VICREG_LIBRARY to use "
                "another libvicreg.so.1." % (bundled, exc)) from None
    else:
        lib = path = None
        try:
            lib = _open(SONAME)
        except OSError as exc:
            tried.append("the system loader (%s)" % exc)
        if lib is None:
            candidate = _build_tree_candidate()
            if candidate is None:
                root = source_root()
                tried.append("the build tree (%s)" % (
                    root / "build" / SONAME if root else
                    "this package is not inside a libvicreg source tree"))
            else:
                try:
                    lib, path = _open(candidate), str(candidate)
                except OSError as exc:
                    tried.append("the build tree (%s)" % exc)
        if lib is None:
            raise LibraryNotFoundError(
                "libvicreg.so.1 was not found. Set VICREG_LIBRARY to the path "
                "of libvicreg.so.1 (for example <build dir>/libvicreg.so.1 "
                "after `meson setup build && ninja -C build`), install the "
                "library where the dynamic loader finds it, or install the "
                "wheel that carries it (`pip install .` from the libvicreg "
                "source tree; docs/install.md). Tried: "
                + "; ".join(tried))
    _declare(lib)
    return lib, path


def has(lib, name):
    """Whether the loaded library exports the function ``name``."""
    try:
        getattr(lib, name)
    except AttributeError:
        return False
    return True


def _declare(lib):
    missing = [name for name in REQUIRED if not has(lib, name)]
    if missing:
        raise LibraryNotFoundError(
            "the loaded libvicreg lacks %s: it is not a libvicreg.so.1 "
            "(node %s)" % (", ".join(missing), REQUIRED_VERSION_NODE))
    for name, (restype, argtypes) in SIGNATURES.items():
        if has(lib, name):
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes
    major = lib.vicreg_version_number() // 10000
    if major != 1:
        raise LibraryNotFoundError(
            "the loaded libvicreg is version %s; this package needs 1.x"
            % lib.vicreg_version_string().decode())


def loaded_path(lib_path):
    """The file the library was loaded from: the path we opened, or for the
    system loader's pick the mapping in /proc/self/maps."""
    if lib_path is not None:
        return os.path.realpath(lib_path)
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) >= 6 and os.path.basename(
                        fields[5]).startswith("libvicreg.so"):
                    return fields[5]
    except OSError:
        pass
    return None
