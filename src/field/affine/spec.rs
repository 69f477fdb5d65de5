//! `[model] family = "affine"` with `[[model.fields]]`: the basis fields V_j, checked and built.

use super::{AffineField, Basis, Monomial, RandomFeature};
use crate::field::family::{MemoryTerm, ModelDef, SpecError};
use crate::field::{Activation, VectorField};
use nalgebra::DMatrix;
use serde::Deserialize;

/// `family = "affine"`: f(x, u) = Σ_j u_j V_j(x), one control per `[[model.fields]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffineSpec {
    /// State dimension m.
    pub dim: usize,
    /// The basis fields V_1 … V_d.
    pub fields: Vec<BasisSpec>,
}

/// One basis field V_j of an affine model (`[[model.fields]]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BasisSpec {
    /// V(x) = A x; `a` is m rows of m numbers.
    Linear { a: Vec<Vec<f64>> },
    /// V(x) = c.
    Constant { c: Vec<f64> },
    /// V(x)_component = Σ coef · Π x_i^{exponents_i}.
    Polynomial { terms: Vec<MonomialSpec> },
    /// V(x) = σ(C x + b) with C, b drawn N(0, scale²) from `seed`.
    RandomFeature {
        activation: Activation,
        seed: u64,
        #[serde(default = "one")]
        scale: f64,
    },
}

/// One monomial of a polynomial field.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonomialSpec {
    /// Output component (0-based).
    pub component: usize,
    /// Exponent of each coordinate (length m).
    pub exponents: Vec<u32>,
    /// Coefficient.
    pub coef: f64,
}

fn one() -> f64 {
    1.0
}

impl AffineSpec {
    fn basis(&self, j: usize) -> Result<Basis, SpecError> {
        let m = self.dim;
        let at = |key: &str| format!("model.fields[{j}].{key}");
        Ok(match &self.fields[j] {
            BasisSpec::Linear { a } => {
                if a.len() != m || a.iter().any(|r| r.len() != m) {
                    return Err(SpecError::new(
                        at("a"),
                        format!("expected {m} rows of {m} numbers (model.dim = {m})"),
                    ));
                }
                Basis::Linear {
                    a: DMatrix::from_fn(m, m, |r, c| a[r][c]),
                }
            }
            BasisSpec::Constant { c } => {
                if c.len() != m {
                    return Err(SpecError::new(
                        at("c"),
                        format!("expected {m} numbers, found {}", c.len()),
                    ));
                }
                Basis::Constant { c: c.clone() }
            }
            BasisSpec::Polynomial { terms } => {
                for (i, t) in terms.iter().enumerate() {
                    if t.component >= m || t.exponents.len() != m {
                        return Err(SpecError::new(
                            at("terms"),
                            format!("term {i}: component must be < {m} and exponents must have {m} entries"),
                        ));
                    }
                }
                Basis::Polynomial {
                    terms: terms
                        .iter()
                        .map(|t| Monomial {
                            component: t.component,
                            exponents: t.exponents.clone(),
                            coef: t.coef,
                        })
                        .collect(),
                }
            }
            BasisSpec::RandomFeature {
                activation,
                seed,
                scale,
            } => Basis::RandomFeature(RandomFeature::draw(m, activation.clone(), *seed, *scale)),
        })
    }
}

impl ModelDef for AffineSpec {
    fn dim(&self) -> usize {
        self.dim
    }

    fn control_dim(&self) -> (f64, &'static str) {
        (self.fields.len() as f64, "model.fields")
    }

    fn memory(&self) -> Vec<MemoryTerm> {
        let m = self.dim as f64;
        let random = self
            .fields
            .iter()
            .filter(|f| matches!(f, BasisSpec::RandomFeature { .. }))
            .count() as f64;
        let rf = vec![("model.fields", random), ("model.dim", m), ("model.dim", m + 1.0)];
        vec![
            MemoryTerm {
                what: "random-feature fields (C, b)",
                factors: rf,
                bytes: 8.0,
                drawn: true,
            },
            MemoryTerm {
                what: "linear fields (m × m)",
                factors: vec![
                    ("model.fields", self.fields.len() as f64),
                    ("model.dim", m),
                    ("model.dim", m),
                ],
                bytes: 8.0,
                drawn: false,
            },
        ]
    }

    fn scales_with_control(&self) -> (bool, String) {
        (true, "a control-affine field Σ u_j V_j(x) is linear in u".into())
    }

    fn build(&self) -> Result<Box<dyn VectorField>, SpecError> {
        if self.fields.is_empty() {
            return Err(SpecError::new(
                "model.fields",
                "an affine model needs at least one [[model.fields]]",
            ));
        }
        let basis = (0..self.fields.len())
            .map(|j| self.basis(j))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(
            AffineField::new(self.dim, basis).map_err(|e| SpecError::new("model.fields", e))?,
        ))
    }
}
