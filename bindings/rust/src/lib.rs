#![doc = include_str!("../README.md")]
#![deny(unsafe_op_in_unsafe_fn)]

mod batch;
mod context;
mod error;
mod real;
pub mod sys;

pub use batch::{Batch, BatchMut};
pub use context::{
    param_bounds, param_bounds_key, shard_sizes, shard_views_sizes, Context, Convention, Param,
    Path, Precision, Term, ViewTerm,
};

/// The most views one views call takes (`VICREG_MAX_VIEWS`).
pub const MAX_VIEWS: usize = sys::VICREG_MAX_VIEWS;
pub use error::{Error, Result};
pub use real::Real;

/// The version of the running library: major * 10000 + minor * 100 + patch.
pub fn version_number() -> u32 {
    // SAFETY: no argument, no failure.
    unsafe { sys::vicreg_version_number() }
}

/// The version of the running library, such as `"1.3.0"`.
pub fn version_string() -> &'static str {
    // SAFETY: the C function returns a static string.
    unsafe { error::static_str(sys::vicreg_version_string()) }
}
