//! lieflow — deep learning as control theory.
pub mod data;
pub mod error;
pub mod field;

pub use error::{Error, Result};
