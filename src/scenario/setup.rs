//! The differentiable problem assembled from a scenario: [`crate::problem::Problem`] + [`crate::objective::Objective`] + initial
//! readout parameters.

use super::ScenarioFile;
use crate::control::Control;
use crate::problem::Setup;
use crate::Result;

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
        Ok(Setup {
            problem,
            objective,
            rho,
            checkpoint,
        })
    }
}
