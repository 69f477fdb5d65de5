//! What the optimisation loop ([`super::executor`]) works with: the objective and observer types, the run
//! configuration (budget, learning rate and schedule, stopping rules, divergence rule), what the observer sees per
//! iteration, why a run ended, and [`minimize`] — the loop for a first-order [`Optimizer`].
//!
//! Minibatching is the caller's: `f` may draw a new batch per call (IterInfo::iter says which iteration it is).

use super::executor::{minimize_with, Divergence};
use super::schedule::{validate_lr, Schedule};
use super::Optimizer;
use crate::Result;
use serde::{Deserialize, Serialize};

/// The objective: `f(θ, g)` writes ∇J(θ) into g and returns J(θ) (it may draw a new minibatch per call).
pub type Objective<'a> = dyn FnMut(&[f64], &mut [f64]) -> Result<f64> + 'a;

/// The observer: sees every iteration's [`IterInfo`]; returning false stops the run.
pub type Observer<'a> = dyn FnMut(&IterInfo) -> bool + 'a;

/// Loop budget, learning rate and stopping rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Maximum number of steps K.
    pub max_iters: usize,
    /// Base learning rate η₀ (fed to the schedule).
    pub lr: f64,
    #[serde(default)]
    pub schedule: Schedule,
    /// Stop when ‖∇J‖_∞ ≤ tol_grad.
    #[serde(default)]
    pub tol_grad: f64,
    /// Stop when J ≤ target_loss.
    #[serde(default)]
    pub target_loss: Option<f64>,
    /// Stop when |J_k − J_{k−1}| ≤ tol_rel_loss · max(|J_{k−1}|, 1e-300).
    #[serde(default)]
    pub tol_rel_loss: Option<f64>,
    /// The sustained-growth divergence rule (the non-finite rule always applies).
    #[serde(default)]
    pub divergence: Divergence,
}

impl RunConfig {
    /// A run of `max_iters` steps at constant learning rate `lr`, no other stopping rule.
    pub fn new(max_iters: usize, lr: f64) -> Self {
        RunConfig {
            max_iters,
            lr,
            schedule: Schedule::Constant,
            tol_grad: 0.0,
            target_loss: None,
            tol_rel_loss: None,
            divergence: Divergence::default(),
        }
    }

    /// Checks η₀ (finite, positive), the schedule, and the tolerances (finite, non-negative).
    pub fn validate(&self) -> std::result::Result<(), String> {
        validate_lr(self.lr)?;
        self.schedule.validate()?;
        if !(self.tol_grad.is_finite() && self.tol_grad >= 0.0) {
            return Err(format!(
                "tol_grad must be finite and non-negative, got {}",
                self.tol_grad
            ));
        }
        if let Some(t) = self.target_loss.filter(|t| t.is_nan()) {
            return Err(format!("target_loss must not be NaN, got {t}"));
        }
        if let Some(t) = self.tol_rel_loss.filter(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(format!("tol_rel_loss must be finite and non-negative, got {t}"));
        }
        self.divergence.validate()
    }
}

/// What the observer sees once per iteration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct IterInfo {
    /// Iteration k (θ_k has been evaluated, not yet stepped).
    pub iter: usize,
    /// J(θ_k).
    pub loss: f64,
    /// ‖∇J(θ_k)‖_∞.
    pub grad_norm: f64,
    /// The learning rate of the step about to be taken (L-BFGS: the step length accepted last iteration).
    pub lr: f64,
    /// Evaluations of f so far, this one included.
    pub evals: usize,
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    MaxIters,
    GradTol,
    TargetLoss,
    RelLossTol,
    ObserverStop,
    LineSearchFailed,
}

/// Summary of a finished run (for the manifest).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunReport {
    /// Steps taken.
    pub iterations: usize,
    /// Evaluations of f.
    pub evaluations: usize,
    /// J at the returned θ.
    pub final_loss: f64,
    /// ‖∇J‖_∞ at the returned θ.
    pub final_grad_norm: f64,
    pub stop: StopReason,
}

/// ‖g‖_∞, or NaN if any component is not finite.
pub(crate) fn inf_norm(g: &[f64]) -> f64 {
    let mut n = 0.0f64;
    for &v in g {
        if !v.is_finite() {
            return f64::NAN;
        }
        n = n.max(v.abs());
    }
    n
}

/// The stopping rules, checked after the observer at iteration k.
pub(crate) fn check_stop(
    loss: f64,
    prev_loss: Option<f64>,
    gnorm: f64,
    tol_grad: f64,
    target_loss: Option<f64>,
    tol_rel_loss: Option<f64>,
) -> Option<StopReason> {
    if target_loss.is_some_and(|t| loss <= t) {
        return Some(StopReason::TargetLoss);
    }
    if gnorm <= tol_grad {
        return Some(StopReason::GradTol);
    }
    if let (Some(tol), Some(prev)) = (tol_rel_loss, prev_loss) {
        if (prev - loss).abs() <= tol * prev.abs().max(1e-300) {
            return Some(StopReason::RelLossTol);
        }
    }
    None
}

/// Minimises J with a first-order optimiser: [`minimize_with`] for `opt`. `f(θ, g)` writes ∇J(θ) into g and
/// returns J(θ); `observer` sees every iteration and returns false to stop. Allocates one gradient buffer of
/// θ.len() for the whole run.
pub fn minimize(
    f: &mut Objective<'_>,
    theta: &mut [f64],
    opt: &mut dyn Optimizer,
    cfg: &RunConfig,
    observer: &mut Observer<'_>,
) -> Result<RunReport> {
    minimize_with(f, theta, opt, cfg, observer)
}
