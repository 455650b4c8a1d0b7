"""Every error status of the library surfaces as a VicregError carrying the
status code, its C name and the library's message, and leaves the caller's
buffers and the context as they were."""

import ctypes
import math

import numpy as np
import pytest

import vicreg
from conftest import make_batches

ALL_STATUSES = {
    "VICREG_ERR_INVALID_ARGUMENT": vicreg.ERR_INVALID_ARGUMENT,
    "VICREG_ERR_OUT_OF_RANGE": vicreg.ERR_OUT_OF_RANGE,
    "VICREG_ERR_NON_FINITE": vicreg.ERR_NON_FINITE,
    "VICREG_ERR_NO_MEMORY": vicreg.ERR_NO_MEMORY,
    "VICREG_ERR_BAD_SHAPE": vicreg.ERR_BAD_SHAPE,
    "VICREG_ERR_SIZE_OVERFLOW": vicreg.ERR_SIZE_OVERFLOW,
    "VICREG_ERR_OVERLAP": vicreg.ERR_OVERLAP,
    "VICREG_ERR_OVERFLOW": vicreg.ERR_OVERFLOW,
    "VICREG_ERR_NO_RESULT": vicreg.ERR_NO_RESULT,
}


def expect(status, call, *args, **kwargs):
    with pytest.raises(vicreg.VicregError) as info:
        call(*args, **kwargs)
    error = info.value
    assert error.status == status
    assert error.name == vicreg.status_name(status)
    assert error.message == vicreg.strerror(status)
    assert error.message and error.message != vicreg.strerror(12345)
    assert error.name in str(error) and error.message in str(error)
    assert error.function.startswith("vicreg_")
    return error


def test_status_constants_match_the_library():
    assert vicreg.status_name(vicreg.OK) == "VICREG_OK"
    for name, status in ALL_STATUSES.items():
        assert vicreg.status_name(status) == name
    assert vicreg.status_name(-100) == "VICREG_ERR_UNKNOWN"


def test_invalid_argument():
    with vicreg.Context() as context:
        expect(vicreg.ERR_INVALID_ARGUMENT, context.set_param, 99, 1.0)
        expect(vicreg.ERR_INVALID_ARGUMENT, context.get_param, 99)
        expect(vicreg.ERR_INVALID_ARGUMENT, context.term, 99)
        expect(vicreg.ERR_INVALID_ARGUMENT, vicreg.param_bounds, 99)
        # NULL data pointers can only come through the raw C functions.
        status = vicreg.lib.vicreg_loss_f64(context.handle, 4, 2, None, 2,
                                            None, 2, None, None, 0, None, 0)
        assert status == vicreg.ERR_INVALID_ARGUMENT
        assert vicreg.lib.vicreg_ctx_create(None) == vicreg.ERR_INVALID_ARGUMENT


def test_out_of_range():
    for params in (dict(eps=0.0), dict(invariance_coeff=-1.0),
                   dict(covariance_coeff=math.inf),
                   dict(variance_coeff=math.nan), dict(std_target=0.0),
                   dict(convention=7), dict(path=2.5)):
        expect(vicreg.ERR_OUT_OF_RANGE, vicreg.Context, **params)
    with vicreg.Context(eps=1e-3) as context:
        expect(vicreg.ERR_OUT_OF_RANGE, context.set, eps=-1)
        assert context.get_param("eps") == 1e-3  # kept its value
    za, zb = make_batches(5, 3, seed=20)
    expect(vicreg.ERR_OUT_OF_RANGE, vicreg.loss, za, zb, std_target=-2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_leaves_buffers_untouched(dtype, bad):
    za, zb = make_batches(8, 4, seed=21, dtype=dtype)
    zb[3, 2] = bad
    out_a = np.full((8, 4), 5.0, dtype=dtype)
    out_b = np.full((8, 4), 6.0, dtype=dtype)
    expect(vicreg.ERR_NON_FINITE, vicreg.loss, za, zb, out=(out_a, out_b))
    assert np.all(out_a == 5.0) and np.all(out_b == 6.0)


def test_no_memory():
    # 8 PiB of scratch (d = 2^25 on the covariance path): more than a
    # 48-bit (x86-64) or 52-bit (arm64) address space holds, so the
    # allocation fails whatever the overcommit policy.
    with vicreg.Context(path="covariance") as context:
        need = context.scratch_bytes(2, 2 ** 25)
        assert need > 2 ** 52
        expect(vicreg.ERR_NO_MEMORY, context.reserve, 2, 2 ** 25)
        za, zb = make_batches(6, 3, seed=22)
        assert context.loss(za, zb).loss > 0  # still usable


def test_bad_shape():
    za, zb = make_batches(5, 3, seed=23)
    expect(vicreg.ERR_BAD_SHAPE, vicreg.loss, za[:1], zb[:1])
    expect(vicreg.ERR_BAD_SHAPE, vicreg.loss, za[:0], zb[:0])
    expect(vicreg.ERR_BAD_SHAPE, vicreg.loss, za[:, :0], zb[:, :0])
    with vicreg.Context() as context:
        expect(vicreg.ERR_BAD_SHAPE, context.scratch_bytes, 1, 4)
        # A leading dimension below d can only be passed to the raw call.
        p = za.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        status = vicreg.lib.vicreg_loss_f64(context.handle, 5, 3, p, 2, p, 3,
                                            None, None, 0, None, 0)
        assert status == vicreg.ERR_BAD_SHAPE


def test_size_overflow():
    with vicreg.Context() as context:
        expect(vicreg.ERR_SIZE_OVERFLOW, context.scratch_bytes, 2 ** 40,
               2 ** 40, np.float32)
        expect(vicreg.ERR_SIZE_OVERFLOW, context.reserve, 2, 2 ** 33)


def test_overlap():
    za, zb = make_batches(6, 4, seed=24)
    keep_a = za.copy()
    expect(vicreg.ERR_OVERLAP, vicreg.loss, za, zb, out=(za, None))
    np.testing.assert_array_equal(za, keep_a)
    shared = np.zeros((6, 4))
    expect(vicreg.ERR_OVERLAP, vicreg.loss, za, zb, out=(shared, shared))
    assert np.all(shared == 0)


@pytest.mark.parametrize("dtype,big", [(np.float64, 1e300),
                                       (np.float32, 1e30)])
def test_overflow(dtype, big):
    za, zb = make_batches(6, 4, seed=25, dtype=dtype)
    za *= dtype(big)
    assert np.all(np.isfinite(za))
    expect(vicreg.ERR_OVERFLOW, vicreg.loss, za, zb)


def test_no_result_then_terms_of_the_last_success():
    with vicreg.Context() as context:
        expect(vicreg.ERR_NO_RESULT, context.terms)
        expect(vicreg.ERR_NO_RESULT, context.term, "loss")
        za, zb = make_batches(6, 4, seed=26)
        good = context.loss(za, zb)
        bad = za.copy()
        bad[0, 0] = np.nan
        expect(vicreg.ERR_NON_FINITE, context.loss, bad, zb)
        assert context.terms() == good.terms


def _provoke(status):
    """One way through the Python API to each status."""
    za, zb = make_batches(6, 4, seed=27)
    huge = za * 1e300
    nan = za.copy()
    nan[1, 1] = np.nan
    context = vicreg.Context(path="covariance")
    calls = {
        vicreg.ERR_INVALID_ARGUMENT: lambda: context.set_param(99, 0),
        vicreg.ERR_OUT_OF_RANGE: lambda: context.set(eps=0),
        vicreg.ERR_NON_FINITE: lambda: context.loss(nan, zb),
        vicreg.ERR_NO_MEMORY: lambda: context.reserve(2, 2 ** 25),
        vicreg.ERR_BAD_SHAPE: lambda: context.loss(za[:1], zb[:1]),
        vicreg.ERR_SIZE_OVERFLOW: lambda: context.reserve(2 ** 40, 2 ** 40),
        vicreg.ERR_OVERLAP: lambda: context.loss(za, zb, out=(zb, None)),
        vicreg.ERR_OVERFLOW: lambda: context.loss(huge, zb),
        vicreg.ERR_NO_RESULT: lambda: context.terms(),
    }
    with context:
        expect(status, calls[status])


@pytest.mark.parametrize("name", sorted(ALL_STATUSES))
def test_each_status_through_the_python_api(name):
    _provoke(ALL_STATUSES[name])


def test_the_library_has_no_status_this_package_does_not_know():
    known = {vicreg.status_name(s) for s in range(-1, -64, -1)} - {
        "VICREG_ERR_UNKNOWN"}
    assert known == set(ALL_STATUSES)


def test_python_side_errors_are_not_vicreg_errors():
    with pytest.raises(ValueError):
        vicreg.Context(colour="blue")
    with pytest.raises(ValueError):
        vicreg.Context(convention="sideways")
    with pytest.raises(ValueError):
        vicreg.Context().term("nonsense")
    context = vicreg.Context()
    context.close()
    context.close()
    assert context.closed
    with pytest.raises(ValueError):
        context.terms()
