//! `[model] family = "mlp"`: the MLP vector field and its sizes.

use super::Mlp;
use crate::field::family::{MemoryTerm, ModelDef, SpecError, PER_THREAD};
use crate::field::{Activation, VectorField};
use serde::Deserialize;

/// `family = "mlp"`: f(x; θ) = A_L σ(… σ(A_1 x + c_1) …) + c_L, θ the control (constant in time with one interval,
/// or piecewise constant per interval).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpSpec {
    /// Input and output dimension m.
    pub dim: usize,
    /// Hidden widths (each ≥ 1; empty: the affine map A x + c).
    pub widths: Vec<usize>,
    /// Hidden activation (default tanh).
    #[serde(default)]
    pub activation: Activation,
}

impl MlpSpec {
    fn mlp(&self) -> Mlp {
        Mlp::new(self.dim, self.widths.clone(), self.activation.clone())
    }
}

impl ModelDef for MlpSpec {
    fn dim(&self) -> usize {
        self.dim
    }

    /// d = Σ_l n_out (n_in + 1).
    fn control_dim(&self) -> (f64, &'static str) {
        let mut dims = vec![self.dim as f64];
        dims.extend(self.widths.iter().map(|&w| w as f64));
        dims.push(self.dim as f64);
        let d = dims.windows(2).map(|w| w[1] * (w[0] + 1.0)).sum();
        (
            d,
            if self.widths.is_empty() {
                "model.dim"
            } else {
                "model.widths"
            },
        )
    }

    fn memory(&self) -> Vec<MemoryTerm> {
        let w: f64 = self.widths.iter().map(|&w| w as f64).sum();
        vec![MemoryTerm {
            what: "MLP scratch per thread",
            factors: vec![("model.widths", 4.0 * w + 4.0 * self.dim as f64), (PER_THREAD, 1.0)],
            bytes: 8.0,
            drawn: false,
        }]
    }

    fn build(&self) -> Result<Box<dyn VectorField>, SpecError> {
        if self.widths.contains(&0) {
            return Err(SpecError::new("model.widths", "hidden widths must be ≥ 1"));
        }
        Ok(Box::new(self.mlp()))
    }

    fn scales_with_control(&self) -> (bool, String) {
        (false, "an MLP field does not scale with its parameters".into())
    }

    fn init_params(&self, seed: u64) -> Option<Vec<f64>> {
        Some(self.mlp().init_params(seed))
    }
}
