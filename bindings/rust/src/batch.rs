//! Views of the caller's arrays: a batch (or gradient buffer) is `rows` rows
//! of `cols` values, row i starting at element `i * ld` of a slice. The
//! constructors check that the slice holds every row, so the C library never
//! reads or writes outside it.

use crate::error::{Error, Result};
use crate::real::Real;

/// The number of elements `rows` rows of `cols` values with leading
/// dimension `ld` span: `(rows - 1) * ld + cols`, 0 for no row.
fn span(rows: usize, cols: usize, ld: usize) -> Result<usize> {
    if ld < cols {
        return Err(Error::BadShape);
    }
    if rows == 0 {
        return Ok(0);
    }
    (rows - 1)
        .checked_mul(ld)
        .and_then(|k| k.checked_add(cols))
        .ok_or(Error::SizeOverflow)
}

/// A slice of `len` elements for `cols` columns, packed: the row count.
fn packed_rows(len: usize, cols: usize) -> Result<usize> {
    if cols == 0 || len % cols != 0 {
        return Err(Error::BadShape);
    }
    Ok(len / cols)
}

/// `BadShape` unless a slice of `len` elements holds `rows` rows of `cols`
/// values with leading dimension `ld` (see [`span`]).
fn holds(len: usize, rows: usize, cols: usize, ld: usize) -> Result<()> {
    if len < span(rows, cols, ld)? {
        return Err(Error::BadShape);
    }
    Ok(())
}

/// The shape accessors `rows`, `cols` and `ld` of [`Batch`] and
/// [`BatchMut`].
macro_rules! shape_accessors {
    () => {
        pub fn rows(&self) -> usize {
            self.rows
        }

        pub fn cols(&self) -> usize {
            self.cols
        }

        pub fn ld(&self) -> usize {
            self.ld
        }
    };
}

/// A read-only row-major batch in the caller's slice.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a, T: Real> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    ld: usize,
}

impl<'a, T: Real> Batch<'a, T> {
    /// `rows` x `cols` values, row i at `data[i * ld..]`. `BadShape` when
    /// `ld < cols` or the slice is too short; `SizeOverflow` when the span
    /// does not fit `usize`. Padding between rows is never read.
    pub fn new(data: &'a [T], rows: usize, cols: usize, ld: usize) -> Result<Self> {
        holds(data.len(), rows, cols, ld)?;
        Ok(Batch { data, rows, cols, ld })
    }

    /// A packed batch (`ld == cols`) of `data.len() / cols` rows. `BadShape`
    /// when `cols` is 0 or does not divide the length.
    pub fn packed(data: &'a [T], cols: usize) -> Result<Self> {
        let rows = packed_rows(data.len(), cols)?;
        Batch::new(data, rows, cols, cols)
    }

    shape_accessors!();

    pub fn data(&self) -> &'a [T] {
        self.data
    }

    pub(crate) fn ptr(&self) -> *const T {
        self.data.as_ptr()
    }
}

/// A writable row-major buffer in the caller's slice, for gradients. Only
/// the first `cols` values of each row are written.
#[derive(Debug)]
pub struct BatchMut<'a, T: Real> {
    data: &'a mut [T],
    rows: usize,
    cols: usize,
    ld: usize,
}

impl<'a, T: Real> BatchMut<'a, T> {
    /// As [`Batch::new`].
    pub fn new(data: &'a mut [T], rows: usize, cols: usize, ld: usize) -> Result<Self> {
        holds(data.len(), rows, cols, ld)?;
        Ok(BatchMut { data, rows, cols, ld })
    }

    /// As [`Batch::packed`].
    pub fn packed(data: &'a mut [T], cols: usize) -> Result<Self> {
        let rows = packed_rows(data.len(), cols)?;
        BatchMut::new(data, rows, cols, cols)
    }

    shape_accessors!();

    pub fn data(&self) -> &[T] {
        self.data
    }

    pub(crate) fn ptr(&mut self) -> *mut T {
        self.data.as_mut_ptr()
    }
}
