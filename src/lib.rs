//! lieflow — deep learning as control theory.
pub mod error;
pub mod field;
pub mod lie;

pub use error::{Error, Result};
