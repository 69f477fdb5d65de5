//! Proximal gradient methods for a non-smooth regulariser R (SPEC §3: the L¹ penalty with bound M):
//!
//! ```text
//! θ ← prox_{ηR}(step(θ, ∇J_smooth(θ), η)),   prox_{ηR}(z) = argmin_x ½‖x − z‖² + ηR(x)
//! ```
//! [`Proximal`] wraps any first-order [`Optimizer`] (usually [`super::Gd`], giving ISTA) with the caller's prox
//! map, which sees θ after the inner step and the learning rate η. It is an optimiser like any other, so it runs
//! in the one loop ([`super::executor`]) with the same stopping and divergence rules.

use super::Optimizer;

/// `inner` followed by the proximal map `prox(θ, η)`.
pub struct Proximal<O, P> {
    name: &'static str,
    inner: O,
    prox: P,
}

impl<O: Optimizer, P: FnMut(&mut [f64], f64) + Send> Proximal<O, P> {
    /// A proximal method called `name` (for manifests, e.g. "proximal_gd").
    pub fn new(name: &'static str, inner: O, prox: P) -> Self {
        Proximal { name, inner, prox }
    }
}

impl<O: Optimizer, P: FnMut(&mut [f64], f64) + Send> Optimizer for Proximal<O, P> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        self.inner.step(theta, grad, lr);
        (self.prox)(theta, lr);
    }
    fn reset(&mut self) {
        self.inner.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{minimize, Gd, RunConfig};

    #[test]
    fn ista_soft_thresholds_to_the_lasso_solution() {
        // J = ½(θ − 3)² + λ|θ| with λ = 1: the minimiser is θ* = 3 − 1 = 2 (soft threshold of 3 at 1).
        let lambda = 1.0;
        let mut opt = Proximal::new("proximal_gd", Gd, move |t: &mut [f64], lr: f64| {
            for v in t.iter_mut() {
                *v = v.signum() * (v.abs() - lr * lambda).max(0.0);
            }
        });
        let mut theta = [0.0];
        let r = minimize(
            &mut |t, g| {
                g[0] = t[0] - 3.0;
                Ok(0.5 * (t[0] - 3.0).powi(2) + lambda * t[0].abs())
            },
            &mut theta,
            &mut opt,
            &RunConfig::new(200, 0.5),
            &mut |_| true,
        )
        .unwrap();
        assert!((theta[0] - 2.0).abs() < 1e-12, "{theta:?} {r:?}");
        assert_eq!(opt.name(), "proximal_gd");
    }
}
