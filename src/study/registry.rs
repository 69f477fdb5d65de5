//! The registry: scenario `study = "…"` → study. One line per study.

use super::{
    convergence::Convergence, genericity::Genericity, gradient_flow::GradientFlow, interpolate::Interpolate,
    l1_bangoff::L1Bangoff, lie::Lie, simulate::Simulate, train::Train, Study,
};

/// Every study lieflow can run.
pub static STUDIES: &[&dyn Study] = &[
    &Simulate,
    &Convergence,
    &Train,
    &Interpolate,
    &Lie,
    &Genericity,
    &L1Bangoff,
    &GradientFlow,
];

/// Look a study up by name.
pub fn lookup(name: &str) -> Option<&'static dyn Study> {
    STUDIES.iter().copied().find(|s| s.name() == name)
}

/// Names of all studies (for error messages).
pub fn names() -> Vec<&'static str> {
    STUDIES.iter().map(|s| s.name()).collect()
}
