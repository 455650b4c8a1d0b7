//! The error type: one variant per `VICREG_ERR_*` status of the C API.

use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_int;

use crate::sys;

/// A failed call. Each variant is one `VICREG_ERR_*` status and has its
/// value (`status()`); `Unknown` keeps a status this crate does not name.
///
/// The safe wrapper reports what it checks before calling C with the status
/// C would give: a slice too short for its shape, a leading dimension below
/// the column count, or arrays of different shapes are [`Error::BadShape`];
/// a size whose element count does not fit `usize` is
/// [`Error::SizeOverflow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// `VICREG_ERR_INVALID_ARGUMENT`: an unknown parameter or term key, or
    /// statistics that no batch can produce.
    InvalidArgument,
    /// `VICREG_ERR_OUT_OF_RANGE`: a parameter value outside its bounds.
    OutOfRange,
    /// `VICREG_ERR_NON_FINITE`: NaN or infinity in a batch.
    NonFinite,
    /// `VICREG_ERR_NO_MEMORY`: scratch memory could not be allocated.
    NoMemory,
    /// `VICREG_ERR_BAD_SHAPE`: fewer than 2 rows, no column, a leading
    /// dimension below the column count, a slice too short or shapes that
    /// differ.
    BadShape,
    /// `VICREG_ERR_SIZE_OVERFLOW`: a size does not fit its integer type.
    SizeOverflow,
    /// `VICREG_ERR_OVERLAP`: an output buffer overlaps another array
    /// (reachable through the raw API only: borrows rule it out).
    Overlap,
    /// `VICREG_ERR_OVERFLOW`: values so large that a result could overflow.
    Overflow,
    /// `VICREG_ERR_NO_RESULT`: no successful loss call yet.
    NoResult,
    /// A status this version of the crate does not know.
    Unknown(i32),
}

/// What the safe calls return.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The error of a C status; `None` for `VICREG_OK`.
    pub fn from_status(status: c_int) -> Option<Error> {
        Some(match status {
            sys::VICREG_OK => return None,
            sys::VICREG_ERR_INVALID_ARGUMENT => Error::InvalidArgument,
            sys::VICREG_ERR_OUT_OF_RANGE => Error::OutOfRange,
            sys::VICREG_ERR_NON_FINITE => Error::NonFinite,
            sys::VICREG_ERR_NO_MEMORY => Error::NoMemory,
            sys::VICREG_ERR_BAD_SHAPE => Error::BadShape,
            sys::VICREG_ERR_SIZE_OVERFLOW => Error::SizeOverflow,
            sys::VICREG_ERR_OVERLAP => Error::Overlap,
            sys::VICREG_ERR_OVERFLOW => Error::Overflow,
            sys::VICREG_ERR_NO_RESULT => Error::NoResult,
            other => Error::Unknown(other),
        })
    }

    /// The C status value, such as -5 for `BadShape`.
    pub fn status(&self) -> i32 {
        match *self {
            Error::InvalidArgument => sys::VICREG_ERR_INVALID_ARGUMENT,
            Error::OutOfRange => sys::VICREG_ERR_OUT_OF_RANGE,
            Error::NonFinite => sys::VICREG_ERR_NON_FINITE,
            Error::NoMemory => sys::VICREG_ERR_NO_MEMORY,
            Error::BadShape => sys::VICREG_ERR_BAD_SHAPE,
            Error::SizeOverflow => sys::VICREG_ERR_SIZE_OVERFLOW,
            Error::Overlap => sys::VICREG_ERR_OVERLAP,
            Error::Overflow => sys::VICREG_ERR_OVERFLOW,
            Error::NoResult => sys::VICREG_ERR_NO_RESULT,
            Error::Unknown(status) => status,
        }
    }

    /// The library's name of the status, such as `"VICREG_ERR_BAD_SHAPE"`.
    pub fn name(&self) -> &'static str {
        // SAFETY: the C function returns a static string for every int.
        unsafe { static_str(sys::vicreg_status_name(self.status())) }
    }

    /// The library's description of the status.
    pub fn description(&self) -> &'static str {
        // SAFETY: as above.
        unsafe { static_str(sys::vicreg_strerror(self.status())) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.description(), self.name())
    }
}

impl std::error::Error for Error {}

/// `Ok(())` for `VICREG_OK`, else the error of the status.
pub(crate) fn check(status: c_int) -> Result<()> {
    match Error::from_status(status) {
        None => Ok(()),
        Some(err) => Err(err),
    }
}

/// A static NUL-terminated string of the library as `&'static str`.
///
/// # Safety
/// `ptr` must point to a static NUL-terminated string.
pub(crate) unsafe fn static_str(ptr: *const std::os::raw::c_char) -> &'static str {
    if ptr.is_null() {
        return "";
    }
    // SAFETY: the caller's promise.
    unsafe { CStr::from_ptr(ptr) }.to_str().unwrap_or("")
}
