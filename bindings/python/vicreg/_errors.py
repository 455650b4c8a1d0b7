"""The library's status codes as a Python exception."""

# The pinned VICREG_* status values of include/vicreg.h.
OK = 0
ERR_INVALID_ARGUMENT = -1
ERR_OUT_OF_RANGE = -2
ERR_NON_FINITE = -3
ERR_NO_MEMORY = -4
ERR_BAD_SHAPE = -5
ERR_SIZE_OVERFLOW = -6
ERR_OVERLAP = -7
ERR_OVERFLOW = -8
ERR_NO_RESULT = -9


class VicregError(Exception):
    """A call into libvicreg returned an error status.

    Attributes: ``status`` (the negative int, one of the ``vicreg.ERR_*``
    constants), ``name`` (its C name, such as ``"VICREG_ERR_NON_FINITE"``,
    from vicreg_status_name), ``message`` (vicreg_strerror's text) and
    ``function`` (the C function that returned it). One class for every
    status: tell them apart by ``status``.
    """

    def __init__(self, status, name, message, function):
        self.status = status
        self.name = name
        self.message = message
        self.function = function
        super().__init__("%s: %s (%s, status %d)"
                         % (function, message, name, status))


def check(lib, status, function):
    """Raises VicregError when ``status`` is not VICREG_OK."""
    if status != OK:
        raise VicregError(status,
                          lib.vicreg_status_name(status).decode(),
                          lib.vicreg_strerror(status).decode(),
                          function)
