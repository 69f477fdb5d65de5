//! Measurements shared by studies and tests: slopes and rates with confidence intervals.
pub mod fit;
pub mod order;
pub mod pvar;
