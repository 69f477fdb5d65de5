//! Optimisers over a flat parameter vector θ ∈ R^P (SPEC §3: gradient descent, momentum, Adam, RMSprop, L-BFGS;
//! learning-rate schedules; full batch and minibatch).
//!
//! Kept apart as in argmin (ARCHITECTURE habit 5): the objective is a closure `f(θ, ∇) -> J(θ)` that writes the
//! gradient and returns the value (it may change its minibatch per call); a [`Method`] turns the current point
//! into the next — an [`Optimizer`] by one step from the gradient (GD, momentum, RMSprop, Adam, and the
//! [`prox::Proximal`] wrapper for the L¹ penalty), [`lbfgs::Lbfgs`] by its own line search; the one loop
//! [`executor::minimize_with`] evaluates, detects divergence for every method ([`Divergence`]), calls the
//! observer once per iteration, applies the stopping rules and ends with a [`runner::StopReason`].
//! [`runner::minimize`] and [`lbfgs::minimize_lbfgs`] are that loop for one kind of method.
//!
//! First-order updates follow PyTorch's `torch.optim` exactly (g = ∇J, η = learning rate):
//! ```text
//! gd:        θ ← θ − η g                                              (Euler step of the gradient flow θ̇ = −∇J)
//! momentum:  v ← β v + g;  θ ← θ − η v                                (torch SGD, dampening 0, no Nesterov)
//! adam:      m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  t ← t + 1
//!            θ ← θ − (η / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
//! rmsprop:   v ← αv + (1−α)g²;  θ ← θ − η g / (√v + ε)
//! ```

pub mod adam;
pub mod executor;
pub mod fista;
pub mod gd;
pub mod lbfgs;
pub mod prox;
pub mod runner;
pub mod schedule;

pub use adam::{Adam, Rmsprop};
pub use executor::{minimize_with, Divergence, Method, Outcome, Point};
pub use gd::{Gd, Momentum};
pub use lbfgs::{minimize_lbfgs, Lbfgs, LbfgsConfig};
pub use prox::Proximal;
pub use runner::{minimize, IterInfo, Objective, Observer, RunConfig, RunReport, StopReason};
pub use schedule::Schedule;

use serde::{Deserialize, Serialize};

/// A first-order method: turns the gradient at θ into a step, keeping its own state (moments, velocity).
pub trait Optimizer: Send {
    /// Name used in manifests ("gd", "adam", …).
    fn name(&self) -> &'static str;
    /// One update of θ in place from the gradient `grad` at θ, with learning rate `lr`. Never allocates.
    fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64);
    /// Forget the state (moments, velocity, step count), as if freshly built.
    fn reset(&mut self);
}

/// Which optimiser to run, as written in a scenario (`method = "adam"`, optional hyper-parameters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerSpec {
    /// Plain gradient descent.
    Gd,
    /// Heavy-ball momentum (PyTorch SGD with momentum β).
    Momentum {
        #[serde(default = "default_beta")]
        beta: f64,
    },
    /// Adam (Kingma & Ba 2015) with bias correction, PyTorch form.
    Adam {
        #[serde(default = "default_beta1")]
        beta1: f64,
        #[serde(default = "default_beta2")]
        beta2: f64,
        #[serde(default = "default_eps")]
        eps: f64,
    },
    /// RMSprop, PyTorch form (no centring, no momentum).
    Rmsprop {
        #[serde(default = "default_alpha")]
        alpha: f64,
        #[serde(default = "default_eps")]
        eps: f64,
    },
    /// L-BFGS with a backtracking Armijo line search ([`lbfgs::Lbfgs`], a [`Method`] but not an [`Optimizer`]).
    Lbfgs {
        #[serde(default = "default_memory")]
        memory: usize,
    },
}

fn default_beta() -> f64 {
    0.9
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_eps() -> f64 {
    1e-8
}
fn default_alpha() -> f64 {
    0.99
}
fn default_memory() -> usize {
    10
}

impl OptimizerSpec {
    /// The method name ("gd", "momentum", "adam", "rmsprop", "lbfgs").
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerSpec::Gd => "gd",
            OptimizerSpec::Momentum { .. } => "momentum",
            OptimizerSpec::Adam { .. } => "adam",
            OptimizerSpec::Rmsprop { .. } => "rmsprop",
            OptimizerSpec::Lbfgs { .. } => "lbfgs",
        }
    }

    /// Whether this is a line-search method (it evaluates trial points itself).
    pub fn is_line_search(&self) -> bool {
        matches!(self, OptimizerSpec::Lbfgs { .. })
    }

    /// Checks hyper-parameters: β, β₁, β₂, α ∈ [0, 1), ε > 0, memory ≥ 1. The message names the field.
    pub fn validate(&self) -> Result<(), String> {
        fn unit(name: &str, v: f64) -> Result<(), String> {
            if v.is_finite() && (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be in [0, 1), got {v}"))
            }
        }
        fn pos(name: &str, v: f64) -> Result<(), String> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be finite and positive, got {v}"))
            }
        }
        match *self {
            OptimizerSpec::Gd => Ok(()),
            OptimizerSpec::Momentum { beta } => unit("beta", beta),
            OptimizerSpec::Adam { beta1, beta2, eps } => {
                unit("beta1", beta1)?;
                unit("beta2", beta2)?;
                pos("eps", eps)
            }
            OptimizerSpec::Rmsprop { alpha, eps } => {
                unit("alpha", alpha)?;
                pos("eps", eps)
            }
            OptimizerSpec::Lbfgs { memory } => {
                if memory >= 1 {
                    Ok(())
                } else {
                    Err("memory must be at least 1".into())
                }
            }
        }
    }

    /// The first-order optimiser for P parameters (state allocated here, once); `None` for L-BFGS, which is a
    /// [`Method`] but not an [`Optimizer`] ([`OptimizerSpec::method`] builds any of them).
    pub fn build(&self, p: usize) -> Option<Box<dyn Optimizer>> {
        Some(match *self {
            OptimizerSpec::Gd => Box::new(Gd),
            OptimizerSpec::Momentum { beta } => Box::new(Momentum::new(p, beta)),
            OptimizerSpec::Adam { beta1, beta2, eps } => Box::new(Adam::new(p, beta1, beta2, eps)),
            OptimizerSpec::Rmsprop { alpha, eps } => Box::new(Rmsprop::new(p, alpha, eps)),
            OptimizerSpec::Lbfgs { .. } => return None,
        })
    }

    /// The method for P parameters, any of them (L-BFGS with its default line-search constants).
    pub fn method(&self, p: usize) -> Box<dyn Method + Send> {
        match *self {
            OptimizerSpec::Gd => Box::new(Gd),
            OptimizerSpec::Momentum { beta } => Box::new(Momentum::new(p, beta)),
            OptimizerSpec::Adam { beta1, beta2, eps } => Box::new(Adam::new(p, beta1, beta2, eps)),
            OptimizerSpec::Rmsprop { alpha, eps } => Box::new(Rmsprop::new(p, alpha, eps)),
            OptimizerSpec::Lbfgs { memory } => Box::new(Lbfgs::new(
                p,
                &LbfgsConfig {
                    memory,
                    ..LbfgsConfig::default()
                },
            )),
        }
    }

    /// Runs this method on `f` from `theta` in the one loop ([`executor::minimize_with`]) with `cfg`'s budget,
    /// stopping and divergence rules (`cfg.lr` and `cfg.schedule` unused by L-BFGS: the line search picks the
    /// step).
    pub fn minimize(
        &self,
        f: &mut Objective<'_>,
        theta: &mut [f64],
        cfg: &RunConfig,
        observer: &mut Observer<'_>,
    ) -> crate::Result<RunReport> {
        let mut m = self.method(theta.len());
        minimize_with(f, theta, m.as_mut(), cfg, observer)
    }
}

#[cfg(test)]
mod tests;
