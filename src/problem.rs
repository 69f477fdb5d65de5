//! A validated, ready-to-run problem: field × control + data ensemble + solver (ARCHITECTURE data flow).

use crate::adjoint::node_fast::{self, FastScheme, NodeTanh};
use crate::control::{Control, PiecewiseConstant};
use crate::data::Dataset;
use crate::field::VectorField;
use crate::integrate::{save_times, simulate_observed, SaveAt, Solver, Trajectory};
use crate::{Error, Result};

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
    /// Set when the field is the tanh nODE σ(Wx + b) with a fixed-step scheme: forward passes then run through
    /// the blocked, vectorised kernel ([`node_fast`]) — same scheme, same steps, its own ≤ 2-ulp tanh.
    pub fast_node: Option<FastScheme>,
}

impl Problem {
    /// Simulate the points `x0` (N × m) under the problem's controls and solver, saving per `save`.
    pub fn simulate(&self, x0: &[f64], save: &SaveAt) -> Result<Trajectory> {
        self.simulate_observed(x0, save, &|_| ())
    }

    /// [`Problem::simulate`] reporting finished points to `done` (progress bars).
    pub fn simulate_observed(&self, x0: &[f64], save: &SaveAt, done: &(dyn Fn(u64) + Sync)) -> Result<Trajectory> {
        let Some(scheme) = self.fast_node.filter(|_| !matches!(save, SaveAt::Times(_))) else {
            return simulate_observed(self.field.as_ref(), &self.control, &self.solver, x0, save, done);
        };
        let grid = self.control.grid();
        let s = self.solver.substeps.max(1);
        let (k, m) = (grid.intervals, self.field.state_dim());
        let times = save_times(save, grid.horizon, k, s)?;
        let steps: Vec<usize> = match save {
            SaveAt::Final => vec![k * s],
            SaveAt::Intervals => (0..=k).map(|j| j * s).collect(),
            _ => (0..=k * s).collect(),
        };
        let n = x0.len() / m;
        let mut states = vec![0.0; n * steps.len() * m];
        let fast = NodeTanh {
            m,
            x0,
            y: x0,
            controls: self.control.values(),
            intervals: k,
            horizon: grid.horizon,
            substeps: s,
            scheme,
        };
        node_fast::try_states(&fast, &steps, &mut states).map_err(|e| Error::input("", "model", e))?;
        done(n as u64);
        // Report the first point whose state stops being finite, at the first saved time it does.
        let ns = steps.len();
        for i in 0..n {
            if let Some(j) = (0..ns).find(|&j| {
                states[(i * ns + j) * m..(i * ns + j + 1) * m]
                    .iter()
                    .any(|v| !v.is_finite())
            }) {
                return Err(Error::numerical("non-finite state", times[j], steps[j], Some(i)));
            }
        }
        Ok(Trajectory {
            times,
            n,
            m,
            states,
            f_evals: (n * k * s * scheme_evals(scheme)) as u64,
        })
    }
}

fn scheme_evals(s: FastScheme) -> usize {
    match s {
        FastScheme::Euler => 1,
        FastScheme::Rk4 => 4,
    }
}
