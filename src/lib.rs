//! lieflow — deep learning as control theory.
pub mod adjoint;
pub mod error;
pub mod field;

pub use error::{Error, Result};
