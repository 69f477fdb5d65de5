//! `[model]` specifications of the node family: `node` σ(Wx + b), `node2` Wσ(x) + b, `resnet` σ(Wx).

use super::{Node, Node2, ResNetField};
use crate::field::family::{ModelDef, SpecError};
use crate::field::{Activation, VectorField};
use serde::Deserialize;

/// `family = "node"`: f(x, u) = σ(W x + b), u = (W row-major, b), d = m² + m.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// State dimension m.
    pub dim: usize,
    /// σ (default tanh).
    #[serde(default)]
    pub activation: Activation,
}

/// `family = "node2"`: f(x, u) = W σ(x) + b, d = m² + m.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node2Spec {
    /// State dimension m.
    pub dim: usize,
    /// σ (default tanh).
    #[serde(default)]
    pub activation: Activation,
}

/// `family = "resnet"`: f(x, u) = σ(W x), d = m² (the depth-limit ResNet field).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResnetSpec {
    /// State dimension m.
    pub dim: usize,
    /// σ (default tanh).
    #[serde(default)]
    pub activation: Activation,
}

/// σ(Wx + b) and σ(Wx) scale with u exactly when σ is positively homogeneous.
fn homogeneous(act: &Activation, form: &str) -> (bool, String) {
    if act.is_positively_homogeneous() {
        (
            true,
            format!(
                "σ = {} is positively homogeneous, so {form} scales with u: f(x, αu) = α f(x, u) for α > 0",
                act.name()
            ),
        )
    } else {
        (
            false,
            format!(
                "σ = {} is not positively homogeneous: {form} does not scale with u",
                act.name()
            ),
        )
    }
}

fn square_plus_bias(m: usize) -> (f64, &'static str) {
    let m = m as f64;
    (m * m + m, "model.dim")
}

impl ModelDef for NodeSpec {
    fn dim(&self) -> usize {
        self.dim
    }
    fn control_dim(&self) -> (f64, &'static str) {
        square_plus_bias(self.dim)
    }
    fn build(&self) -> Result<Box<dyn VectorField>, SpecError> {
        Ok(Box::new(Node::new(self.dim, self.activation.clone())))
    }
    fn scales_with_control(&self) -> (bool, String) {
        homogeneous(&self.activation, "σ(W x + b)")
    }
    fn activation(&self) -> Option<&Activation> {
        Some(&self.activation)
    }
}

impl ModelDef for Node2Spec {
    fn dim(&self) -> usize {
        self.dim
    }
    fn control_dim(&self) -> (f64, &'static str) {
        square_plus_bias(self.dim)
    }
    fn build(&self) -> Result<Box<dyn VectorField>, SpecError> {
        Ok(Box::new(Node2 {
            m: self.dim,
            act: self.activation.clone(),
        }))
    }
    fn scales_with_control(&self) -> (bool, String) {
        (
            true,
            format!(
                "nODE₂ Wσ(x) + b is linear in u = (W, b) for any σ (here {}): f(x, αu) = α f(x, u)",
                self.activation.name()
            ),
        )
    }
    fn activation(&self) -> Option<&Activation> {
        Some(&self.activation)
    }
}

impl ModelDef for ResnetSpec {
    fn dim(&self) -> usize {
        self.dim
    }
    fn control_dim(&self) -> (f64, &'static str) {
        let m = self.dim as f64;
        (m * m, "model.dim")
    }
    fn build(&self) -> Result<Box<dyn VectorField>, SpecError> {
        Ok(Box::new(ResNetField {
            m: self.dim,
            act: self.activation.clone(),
        }))
    }
    fn scales_with_control(&self) -> (bool, String) {
        homogeneous(&self.activation, "σ(W x)")
    }
    fn activation(&self) -> Option<&Activation> {
        Some(&self.activation)
    }
}
