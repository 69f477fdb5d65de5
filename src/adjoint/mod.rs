//! Gradients of the discretised training objective (SPEC §3).
//! - [`discrete`]: exact discrete adjoint, generic over schemes, with √S checkpointing;
//! - [`pontryagin`]: continuous (Pontryagin) adjoint, a diagnostic differing by O(h^order);
//! - [`fdcheck`]: central finite differences of J, per parameter block.

pub mod discrete;
pub mod fdcheck;
pub mod node_fast;
pub mod pontryagin;

pub use discrete::{Checkpoint, GradProblem, LossGrad};
