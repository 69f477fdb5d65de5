//! Adam and RMSprop with the exact update formulas of PyTorch's `torch.optim.Adam` / `torch.optim.RMSprop`
//! (default flags: no AMSGrad, no weight decay, RMSprop not centred and without momentum).
//!
//! ```text
//! adam:     t ← t + 1;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
//!           θ ← θ − (η / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
//! rmsprop:  v ← αv + (1−α)g²;  θ ← θ − η g / (√v + ε)
//! ```

use super::Optimizer;

/// Adam (Kingma & Ba 2015), PyTorch form of the bias correction.
#[derive(Clone, Debug)]
pub struct Adam {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    t: i32,
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    pub fn new(p: usize, beta1: f64, beta2: f64, eps: f64) -> Self {
        Adam {
            beta1,
            beta2,
            eps,
            t: 0,
            m: vec![0.0; p],
            v: vec![0.0; p],
        }
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        "adam"
    }
    fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        debug_assert!(theta.len() == grad.len() && grad.len() == self.m.len());
        self.t = self.t.saturating_add(1);
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        let bc1 = 1.0 - b1.powi(self.t);
        let bc2_sqrt = (1.0 - b2.powi(self.t)).sqrt();
        let step_size = lr / bc1;
        for (((t, &g), m), v) in theta.iter_mut().zip(grad).zip(self.m.iter_mut()).zip(self.v.iter_mut()) {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            let denom = v.sqrt() / bc2_sqrt + eps;
            *t -= step_size * *m / denom;
        }
    }
    fn reset(&mut self) {
        self.t = 0;
        self.m.fill(0.0);
        self.v.fill(0.0);
    }
}

/// RMSprop (Tieleman & Hinton 2012), PyTorch form: ε outside the square root, v₀ = 0.
#[derive(Clone, Debug)]
pub struct Rmsprop {
    pub alpha: f64,
    pub eps: f64,
    v: Vec<f64>,
}

impl Rmsprop {
    pub fn new(p: usize, alpha: f64, eps: f64) -> Self {
        Rmsprop {
            alpha,
            eps,
            v: vec![0.0; p],
        }
    }
}

impl Optimizer for Rmsprop {
    fn name(&self) -> &'static str {
        "rmsprop"
    }
    fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        debug_assert!(theta.len() == grad.len() && grad.len() == self.v.len());
        let (a, eps) = (self.alpha, self.eps);
        for ((t, &g), v) in theta.iter_mut().zip(grad).zip(self.v.iter_mut()) {
            *v = a * *v + (1.0 - a) * g * g;
            *t -= lr * g / (v.sqrt() + eps);
        }
    }
    fn reset(&mut self) {
        self.v.fill(0.0);
    }
}
