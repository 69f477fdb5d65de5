//! The split of the objective J = w_T Φ(X_T) + w_R Σ_n h ℓ(X_n) + λR(u) (SPEC §3) into its three parts, evaluated
//! on a saved trajectory, for training histories. It mirrors the discrete objective of [`crate::adjoint`] (terminal
//! loss at the last state, running cost as the right-endpoint sum over the integrator steps n = 1..S with the step
//! size h, regulariser on the controls) but is computed apart from the gradient engine, by a forward simulation.

use super::Objective;
use crate::integrate::Trajectory;

/// The three parts of J; their sum is J.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Split {
    /// w_T · (1/N) Σ_i loss(r(X_T^i), y_i).
    pub terminal: f64,
    /// w_R · (1/N) Σ_i Σ_{n=1..S} h · loss(r(X_n^i), y_n^i).
    pub running: f64,
    /// λ R(u).
    pub regularizer: f64,
}

impl Split {
    /// terminal + running + regulariser.
    pub fn total(&self) -> f64 {
        self.terminal + self.running + self.regularizer
    }
}

impl Objective {
    /// J split into its parts for a trajectory saved at every integrator step (`SaveAt::Steps`, S + 1 states per
    /// point), initial points `x0`, readout parameters `rho`, controls `u` (d per interval) on intervals of length
    /// `h_interval`, and integrator step `h_step`.
    #[allow(clippy::too_many_arguments)]
    pub fn split(
        &self,
        traj: &Trajectory,
        x0: &[f64],
        rho: &[f64],
        u: &[f64],
        d: usize,
        h_interval: f64,
        h_step: f64,
    ) -> Split {
        let m = self.m;
        let last = traj.times.len() - 1;
        let mut gx = vec![0.0; m];
        let mut gr = vec![0.0; rho.len()];
        let mut s = vec![0.0; self.scratch_len()];
        let (mut terminal, mut running) = (0.0, 0.0);
        for i in 0..traj.n {
            let xi0 = &x0[i * m..(i + 1) * m];
            terminal += self.terminal(i, traj.state(i, last), xi0, rho, &mut gx, &mut gr, &mut s);
            if self.has_running() {
                for n in 1..=last {
                    running += self.running(i, n, h_step, traj.state(i, n), xi0, rho, &mut gx, &mut gr, &mut s);
                }
            }
        }
        let mut g = vec![0.0; u.len()];
        let regularizer = self.regularizer_value_grad(u, d, h_interval, &mut g);
        Split {
            terminal,
            running,
            regularizer,
        }
    }
}
