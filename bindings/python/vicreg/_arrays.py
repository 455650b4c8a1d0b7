"""Turning NumPy arrays into the (pointer, leading dimension) pairs of the C
API, without a copy whenever the C layout can describe the array.

The C API reads a batch as row-major rows that start ``ld`` elements apart
(``ld >= d``), elements within a row adjacent. A 2-D NumPy array of float32
or float64 in native byte order, aligned, whose column stride is the item
size and whose row stride is a positive multiple of it, at least ``d``
items, is exactly that: it is passed as it is, ``ld = strides[0] /
itemsize``. That covers C-contiguous arrays and row-strided views such as
``big[:, :d]`` or ``big[::2]``.

Anything else of a supported dtype (Fortran order, a transpose, every other
column, negative strides, broadcast rows, byte-swapped or misaligned data)
is copied into a C-contiguous array first: the result is the same, only
slower. Gradient buffers passed with ``out=`` are written, so they are never
copied: one the C layout cannot describe is a ValueError.

Dtypes: float32 and float64 only. Any other dtype (float16, longdouble,
integers, complex, objects) is a TypeError: float16 and integer data
converted silently would hide a mistake, and longdouble would lose
precision without saying so.
"""

import numpy as np

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_dtype(dtype, what):
    dtype = np.dtype(dtype)
    if dtype.kind != "f" or dtype.newbyteorder("=") not in DTYPES:
        raise TypeError("%s has dtype %s; libvicreg takes float32 or float64"
                        % (what, dtype))
    return dtype.newbyteorder("=")


def leading_dimension(array):
    """``ld`` for an array the C API can read in place, else None."""
    if array.ndim != 2 or not array.dtype.isnative or not array.flags.aligned:
        return None
    n, d = array.shape
    item = array.itemsize
    row_stride, col_stride = array.strides
    if d > 1 and col_stride != item:
        return None
    if n <= 1 or d == 0:
        # One row (or none, or empty rows): how far apart rows are does not
        # matter; the library refuses these shapes itself (BAD_SHAPE).
        return max(d, 1)
    if row_stride <= 0 or row_stride % item != 0 or row_stride // item < d:
        return None
    return row_stride // item


def as_batch(array, what):
    """(array to pass, ld): ``array`` itself when its layout allows, else a
    C-contiguous copy."""
    array = np.asarray(array)
    dtype = check_dtype(array.dtype, what)
    if array.ndim != 2:
        raise ValueError("%s must be 2-D (rows x features), not %d-D"
                         % (what, array.ndim))
    ld = leading_dimension(array)
    if ld is None:
        array = np.ascontiguousarray(array, dtype=dtype)
        ld = leading_dimension(array)
    return array, ld


def as_output(array, shape, dtype, what):
    """(array, ld) for a caller's gradient buffer, which must be writable,
    of ``shape`` and ``dtype`` and in a layout the C API can write."""
    if not isinstance(array, np.ndarray):
        raise TypeError("%s must be a NumPy array" % what)
    if array.dtype != dtype:
        raise TypeError("%s has dtype %s; the batches are %s"
                        % (what, array.dtype, dtype))
    if array.shape != shape:
        raise ValueError("%s has shape %s; the batches are %s"
                         % (what, array.shape, shape))
    if not array.flags.writeable:
        raise ValueError("%s is read-only" % what)
    ld = leading_dimension(array)
    if ld is None:
        raise ValueError("%s must have unit column stride and a positive row "
                         "stride of at least one row (a row-major layout): "
                         "strides %s" % (what, array.strides))
    return array, ld
