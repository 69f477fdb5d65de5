//! Gradient descent and heavy-ball momentum (PyTorch `torch.optim.SGD` semantics).
//!
//! ```text
//! gd:        θ ← θ − η g
//! momentum:  v ← β v + g  (v₀ = 0, so v₁ = g as in PyTorch);  θ ← θ − η v
//! ```
//! For a quadratic with Hessian eigenvalues in [γ, L], GD at η = 2/(L + γ) contracts the distance to the minimiser
//! by (κ − 1)/(κ + 1) per step, κ = L/γ (SPEC §4, seed 002 ch. 17).

use super::Optimizer;

/// Plain gradient descent θ ← θ − η g (stateless).
#[derive(Clone, Copy, Debug, Default)]
pub struct Gd;

impl Optimizer for Gd {
    fn name(&self) -> &'static str {
        "gd"
    }
    fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        debug_assert_eq!(theta.len(), grad.len());
        for (t, &g) in theta.iter_mut().zip(grad) {
            *t -= lr * g;
        }
    }
    fn reset(&mut self) {}
}

/// Heavy-ball momentum: v ← β v + g, θ ← θ − η v.
#[derive(Clone, Debug)]
pub struct Momentum {
    pub beta: f64,
    v: Vec<f64>,
}

impl Momentum {
    pub fn new(p: usize, beta: f64) -> Self {
        Momentum { beta, v: vec![0.0; p] }
    }
}

impl Optimizer for Momentum {
    fn name(&self) -> &'static str {
        "momentum"
    }
    fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        debug_assert!(theta.len() == grad.len() && grad.len() == self.v.len());
        let beta = self.beta;
        for ((t, &g), v) in theta.iter_mut().zip(grad).zip(self.v.iter_mut()) {
            *v = beta * *v + g;
            *t -= lr * *v;
        }
    }
    fn reset(&mut self) {
        self.v.fill(0.0);
    }
}
