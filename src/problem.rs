//! A validated, ready-to-run problem: field × control + data ensemble + solver (ARCHITECTURE data flow), and the
//! differentiable problem built on it ([`Setup`]: + objective, readout parameters, checkpointing).

pub use crate::adjoint::discrete::TAPE_BUDGET_BYTES;
pub use crate::adjoint::Checkpoint;

use crate::adjoint::GradProblem;
use crate::control::{Control, PiecewiseConstant};
use crate::data::Dataset;
use crate::field::VectorField;
use crate::integrate::{simulate_observed, SaveAt, Solver, Trajectory};
use crate::objective::Objective;
use crate::Result;

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

impl Problem {
    /// Simulate the points `x0` (N × m) under the problem's controls and solver, saving per `save`.
    pub fn simulate(&self, x0: &[f64], save: &SaveAt) -> Result<Trajectory> {
        self.simulate_observed(x0, save, &|_| ())
    }

    /// [`Problem::simulate`] reporting finished points to `done` (progress bars).
    pub fn simulate_observed(&self, x0: &[f64], save: &SaveAt, done: &(dyn Fn(u64) + Sync)) -> Result<Trajectory> {
        simulate_observed(self.field.as_ref(), &self.control, &self.solver, x0, save, done)
    }
}

/// A differentiable problem: [`Problem`] + objective J + readout parameters ρ + gradient storage. Everything
/// `grad`, `gradcheck`, `bench` and `train` need; the gradient is the exact gradient of the discretised J
/// ([`GradProblem`], the block engine's discrete adjoint).
pub struct Setup {
    /// Field, controls, solver and data.
    pub problem: Problem,
    /// The objective J.
    pub objective: Objective,
    /// Initial readout parameters ρ.
    pub rho: Vec<f64>,
    /// Gradient storage strategy.
    pub checkpoint: Checkpoint,
}

impl Setup {
    /// The discretised problem, borrowing from `self` (the scheme is fixed-step: checked when the setup is built).
    pub fn grad_problem(&self) -> GradProblem<'_> {
        let p = &self.problem;
        GradProblem {
            field: p.field.as_ref(),
            scheme: p.solver.scheme.fixed().expect("validated: fixed-step scheme"),
            grid: p.control.grid(),
            substeps: p.solver.substeps,
            x0: &p.data.x,
            objective: &self.objective,
            checkpoint: self.checkpoint,
        }
    }

    /// J and its exact gradient at (u, ρ) for the whole data set.
    pub fn loss_grad(&self, u: &[f64], rho: &[f64]) -> Result<crate::adjoint::LossGrad> {
        self.grad_problem().loss_grad(u, rho)
    }
}
