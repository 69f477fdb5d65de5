//! A differentiable problem assembled from a scenario: [`Problem`] + [`Objective`] + initial readout parameters.

use super::ScenarioFile;
use crate::adjoint::{Checkpoint, GradProblem};
use crate::control::Control;
use crate::objective::Objective;
use crate::problem::Problem;
use crate::Result;

/// Everything `grad`, `gradcheck`, `bench` and `train` need.
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
    /// The discretised problem, borrowing from `self`.
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
}

impl ScenarioFile {
    /// Build and validate the differentiable problem (the scheme must be fixed-step: the gradient is the exact
    /// gradient of the discretised objective).
    pub fn setup(&self) -> Result<Setup> {
        let problem = self.problem()?;
        if problem.solver.scheme.fixed().is_none() {
            return Err(self.error("solver.scheme", "gradients need a fixed-step scheme (`euler` or `rk4`)"));
        }
        let steps = problem.control.grid().intervals * problem.solver.substeps;
        let (objective, rho) = self.objective(&problem.data, steps)?;
        let checkpoint = self.objective_spec()?.checkpoint;
        Ok(Setup { problem, objective, rho, checkpoint })
    }
}
