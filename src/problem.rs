//! A validated, ready-to-run problem: field × control + data ensemble + solver (ARCHITECTURE data flow).

use crate::control::PiecewiseConstant;
use crate::data::Dataset;
use crate::field::VectorField;
use crate::integrate::{SaveAt, Solver};

/// Everything a study needs to integrate the ensemble.
pub struct Problem {
    /// The vector-field family f(x, u).
    pub field: Box<dyn VectorField>,
    /// Controls (piecewise constant, one row per interval).
    pub control: PiecewiseConstant,
    /// Integrator settings.
    pub solver: Solver,
    /// When to save states.
    pub save: SaveAt,
    /// The ensemble of initial points (and labels / targets).
    pub data: Dataset,
}
