//! Lie-bracket tools (SPEC §5).
pub mod hall;
pub mod poly;
