"""Array layouts: what is passed to the library in place, what is copied,
and what is refused."""

import ctypes

import numpy as np
import pytest

import vicreg
from vicreg import _arrays
from conftest import make_batches


def address(array):
    return array.__array_interface__["data"][0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_strided_views_are_passed_in_place(dtype):
    base_a, base_b = make_batches(24, 10, seed=10, dtype=dtype)
    wide = np.zeros((24, 17), dtype=dtype)
    wide[:, 3:13] = base_a
    view = wide[:, 3:13]            # rows 17 elements apart
    every_other = np.zeros((48, 10), dtype=dtype)
    every_other[::2] = base_b
    rows = every_other[::2]         # rows 20 elements apart
    for array, ld in ((view, 17), (rows, 20), (base_a, 10)):
        passed, got_ld = _arrays.as_batch(array, "z")
        assert passed is array
        assert got_ld == ld
        assert address(passed) == address(array)
    # The library reads those views exactly as it reads contiguous copies.
    strided = vicreg.loss(view, rows)
    contiguous = vicreg.loss(base_a, base_b)
    assert strided.loss == contiguous.loss
    np.testing.assert_array_equal(strided.grad_a, contiguous.grad_a)
    np.testing.assert_array_equal(strided.grad_b, contiguous.grad_b)


def test_the_library_sees_the_callers_memory():
    # The end-to-end proof that nothing is copied: a gradient buffer that
    # lies between the rows of a strided view of za overlaps za's address
    # range only if the library is handed za's own memory.
    za_full, zb = make_batches(16, 8, seed=11)
    big = np.zeros((16, 16))
    big[:, :8] = za_full
    za = big[:, :8]
    grad_a = big[:, 8:]
    with pytest.raises(vicreg.VicregError) as info:
        vicreg.loss(za, zb, out=(grad_a, None))
    assert info.value.status == vicreg.ERR_OVERLAP
    assert np.all(grad_a == 0)  # nothing written on error


@pytest.mark.parametrize("make", [
    lambda z: np.asfortranarray(z),              # column-major
    lambda z: np.ascontiguousarray(z.T).T,       # a transpose
    lambda z: np.repeat(z, 2, axis=1)[:, ::2],   # every other column
    lambda z: np.ascontiguousarray(z[:, ::-1])[:, ::-1],  # columns reversed
    lambda z: z.astype(z.dtype.newbyteorder(">")),
])
def test_other_layouts_are_copied_and_give_the_same_result(make):
    za, zb = make_batches(12, 5, seed=12)
    odd = make(za)
    np.testing.assert_array_equal(odd, za)
    passed, ld = _arrays.as_batch(odd, "za")
    assert passed.flags.c_contiguous and ld == 5
    expected = vicreg.loss(za, zb)
    got = vicreg.loss(odd, zb)
    assert got.loss == expected.loss
    np.testing.assert_array_equal(got.grad_a, expected.grad_a)


def test_negative_row_stride_is_copied():
    za, zb = make_batches(12, 5, seed=13)
    flipped = za[::-1]
    passed, _ = _arrays.as_batch(flipped, "za")
    assert passed is not flipped
    assert vicreg.loss(flipped, zb[::-1]).loss == pytest.approx(
        vicreg.loss(za, zb).loss, rel=1e-14)


def test_a_copied_input_may_share_memory_with_the_gradient():
    # A Fortran-order za is copied before the call, so a gradient buffer
    # over za's own memory does not overlap what the library reads, and
    # the gradient written there is the right one.
    za, zb = make_batches(12, 5, seed=14)
    memory = np.empty(12 * 5)
    za_f = memory.reshape(5, 12).T        # Fortran order, same values below
    za_f[...] = za
    out_a = memory.reshape(12, 5)         # row-major over the same memory
    expected = vicreg.loss(za, zb)
    result = vicreg.loss(za_f, zb, out=(out_a, None))
    assert result.grad_a is out_a
    np.testing.assert_array_equal(out_a, expected.grad_a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_buffers_are_written_in_place(dtype):
    za, zb = make_batches(10, 6, seed=15, dtype=dtype)
    store = np.full((2, 10, 9), -7.0, dtype=dtype)
    out_a, out_b = store[0, :, :6], store[1, :, 2:8]
    result = vicreg.loss(za, zb, out=(out_a, out_b))
    assert result.grad_a is out_a and result.grad_b is out_b
    expected = vicreg.loss(za, zb)
    np.testing.assert_array_equal(out_a, expected.grad_a)
    np.testing.assert_array_equal(out_b, expected.grad_b)
    # Only the first d entries of each row are written.
    assert np.all(store[0, :, 6:] == -7.0)
    assert np.all(store[1, :, :2] == -7.0) and np.all(store[1, :, 8:] == -7.0)


def test_out_buffers_that_cannot_be_written_in_place_are_refused():
    za, zb = make_batches(10, 6, seed=16)
    with pytest.raises(ValueError):
        vicreg.loss(za, zb, out=(np.zeros((6, 10)).T, None))
    with pytest.raises(TypeError):
        vicreg.loss(za, zb, out=(np.zeros((10, 6), np.float32), None))
    with pytest.raises(ValueError):
        vicreg.loss(za, zb, out=(np.zeros((10, 5)), None))
    read_only = np.zeros((10, 6))
    read_only.flags.writeable = False
    with pytest.raises(ValueError):
        vicreg.loss(za, zb, out=(None, read_only))
    with pytest.raises(ValueError):
        vicreg.loss(za, zb, grad=False, out=(np.zeros((10, 6)), None))


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble, np.int32,
                                   np.int64, np.complex128, bool, object])
def test_other_dtypes_are_a_type_error(dtype):
    za, zb = make_batches(6, 3, seed=17)
    with pytest.raises(TypeError):
        vicreg.loss(za.astype(dtype), zb.astype(dtype))


def test_mixed_dtypes_and_shapes_are_refused():
    za, zb = make_batches(6, 3, seed=18)
    with pytest.raises(TypeError):
        vicreg.loss(za, zb.astype(np.float32))
    with pytest.raises(ValueError):
        vicreg.loss(za, zb[:5])
    with pytest.raises(ValueError):
        vicreg.loss(za.ravel(), zb.ravel())


def test_the_pointer_passed_is_the_arrays_own():
    # What Context.loss hands to ctypes for an in-place array is its own
    # data pointer, offset included for a view that starts mid-array.
    big = np.zeros((8, 12), dtype=np.float32)
    view = big[2:, 4:9]
    passed, ld = _arrays.as_batch(view, "za")
    pointer = passed.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    assert ctypes.addressof(pointer.contents) == address(big) + (2 * 12 + 4) * 4
    assert ld == 12
