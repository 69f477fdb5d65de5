//! lieflow — deep learning as control theory.
pub mod error;
pub mod field;
pub mod output;

pub use error::{Error, Result};
