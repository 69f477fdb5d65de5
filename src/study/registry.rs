//! The registry: scenario `study = "…"` → study. One line per study.

use super::Study;

/// Every study lieflow can run (a new study: its file plus one line here).
pub static STUDIES: &[&dyn Study] = &[
    &super::simulate::Simulate,
    &super::convergence::Convergence,
    &super::train::Train,
    &super::interpolate::Interpolate,
    &super::lie::Lie,
    &super::genericity::Genericity,
    &super::young::YoungConvergence,
    &super::horizon_sweep::HorizonSweep,
    &super::turnpike::Turnpike,
    &super::geshkovski_figure::GeshkovskiFigure,
    &super::depth_limit::DepthLimit,
    &super::l1_bangoff::L1Bangoff,
];

/// Look a study up by name.
pub fn lookup(name: &str) -> Option<&'static dyn Study> {
    STUDIES.iter().copied().find(|s| s.name() == name)
}

/// Names of all studies (for error messages).
pub fn names() -> Vec<&'static str> {
    STUDIES.iter().map(|s| s.name()).collect()
}
