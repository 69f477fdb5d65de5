//! Gradients of the discretised training objective (SPEC §3).
//! - [`discrete`]: exact discrete adjoint on the block engine, generic over schemes, with segment checkpointing;
//! - [`pontryagin`]: continuous (Pontryagin) adjoint, a diagnostic differing by O(h^order);
//! - [`fdcheck`]: central finite differences of J, per parameter block.

pub mod discrete;
pub mod fdcheck;
pub mod pontryagin;

pub use discrete::{Checkpoint, GradProblem, LossGrad};
