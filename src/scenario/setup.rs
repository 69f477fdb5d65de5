//! A differentiable problem assembled from a scenario: [`Problem`] + [`Objective`] + initial readout parameters.

use super::ScenarioFile;
use crate::adjoint::node_fast::FastScheme;
use crate::adjoint::{Checkpoint, GradProblem};
use crate::control::Control;
use crate::objective::Objective;
use crate::objective::{Loss, Readout, Targets};
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
    /// Set when the blocked, vectorised tanh-nODE kernel ([`crate::adjoint::node_fast`]) computes the same
    /// discrete objective: nODE with tanh, Euler or RK4, squared loss, identity readout, no running cost.
    pub fast_node: Option<FastScheme>,
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
        let plain = objective.loss == Loss::Squared
            && objective.readout == Readout::Identity
            && !objective.has_running()
            && matches!(objective.targets, Targets::Vectors { .. });
        let fast_node = problem.fast_node.filter(|_| plain);
        Ok(Setup {
            problem,
            objective,
            rho,
            checkpoint,
            fast_node,
        })
    }
}
