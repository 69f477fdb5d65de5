//! The one optimisation loop (argmin's executor, ARCHITECTURE habit 5): evaluate, watch for divergence, observe,
//! test the stopping rules, let the [`Method`] iterate; repeat. Every method — the first-order [`Optimizer`]s
//! (GD, momentum, RMSprop, Adam, the proximal wrapper) and L-BFGS with its line search — runs through
//! [`minimize_with`], so all of them share the same stopping rules, observer protocol and divergence detection.
//!
//! Iterates θ₀, θ₁, … θ_K: J(θ_k) and ∇J(θ_k) are known at iteration k; the loop checks divergence, reports
//! [`IterInfo`] for iteration k to the observer, stops if a rule holds (or k = max_iters), else asks the method
//! for θ_{k+1}. A first-order method only steps (θ_{k+1} = step(θ_k, ∇J(θ_k), η_k)) and the loop evaluates the new
//! point; a line-search method evaluates its trial points itself and hands back the accepted one. So a run of
//! `max_iters` = K first-order steps takes K + 1 evaluations, and the returned θ is the one whose loss is
//! `final_loss`. Minibatching is the objective's: `f` may draw a new batch per call.
//!
//! # Divergence ([`Divergence`], checked for every method)
//! 1. **Non-finite**: J(θ_k) or a component of ∇J(θ_k) is NaN or ±∞ — an error at once, before the observer sees
//!    iteration k (so the history holds only finite iterates).
//! 2. **Sustained growth**: J_k > `factor` · |J₀| for `window` consecutive iterations (default 10³ and 10;
//!    `[train.divergence]`) — an error at the iteration that completes the window, after the observer has seen
//!    it. A loss that spikes and recovers, as Adam's often does, does not fire; one that stays three orders of
//!    magnitude above where it started does. (With J₀ = 0 exactly, any positive loss counts as above.)
//!
//! Both are [`Error::Diverged`] (exit code 1) naming the iteration, the loss and the rule.

use super::runner::{check_stop, inf_norm, IterInfo, Objective, Observer, RunConfig, RunReport, StopReason};
use super::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The sustained-growth divergence rule (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Divergence {
    /// J_k > factor · |J₀| counts as diverging (factor > 1).
    pub factor: f64,
    /// Consecutive iterations above that before the run stops (≥ 1).
    pub window: usize,
}

impl Default for Divergence {
    fn default() -> Self {
        Divergence {
            factor: 1e3,
            window: 10,
        }
    }
}

impl Divergence {
    /// Checks factor > 1 (finite) and window ≥ 1; the message names the key.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(self.factor.is_finite() && self.factor > 1.0) {
            return Err(format!("factor must be a finite number > 1, got {}", self.factor));
        }
        if self.window == 0 {
            return Err("window must be at least 1".into());
        }
        Ok(())
    }

    /// The rule in words.
    pub fn describe(&self) -> String {
        format!(
            "J_k > factor · |J_0| for `window` consecutive iterations ([train.divergence] factor = {:e}, window = {})",
            self.factor, self.window
        )
    }
}

/// The iterate a method advances: θ with J(θ) and ∇J(θ), and the evaluation count.
pub struct Point<'a> {
    pub theta: &'a mut [f64],
    pub grad: &'a mut [f64],
    pub loss: f64,
    /// Evaluations of f so far; a method that evaluates adds its own.
    pub evals: usize,
}

/// What an iteration did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// θ moved; the loop evaluates J and ∇J there.
    Stepped,
    /// θ moved and `loss`, `grad` and `evals` of the [`Point`] are those of the new θ (line search).
    Evaluated,
    /// The method cannot go on (e.g. its line search failed); θ is unchanged.
    Stop(StopReason),
}

/// An optimisation method: how θ_{k+1} follows from θ_k, J(θ_k), ∇J(θ_k).
pub trait Method {
    /// Name used in manifests.
    fn method_name(&self) -> &'static str;
    /// The step length the observer sees for an iteration whose scheduled learning rate is `scheduled`.
    fn reported_lr(&self, scheduled: f64) -> f64 {
        scheduled
    }
    /// One iteration from `p` with learning rate `lr` (first-order methods) — `f` for methods that evaluate.
    fn iterate(&mut self, p: &mut Point<'_>, lr: f64, f: &mut Objective<'_>) -> Result<Outcome>;
}

/// Every first-order optimiser is a method that steps from the gradient.
impl<O: Optimizer + ?Sized> Method for O {
    fn method_name(&self) -> &'static str {
        self.name()
    }
    fn iterate(&mut self, p: &mut Point<'_>, lr: f64, _f: &mut Objective<'_>) -> Result<Outcome> {
        self.step(p.theta, p.grad, lr);
        Ok(Outcome::Stepped)
    }
}

/// The non-finite divergence error at iteration `iter`.
fn non_finite(loss: f64, grad: &[f64], iter: usize) -> Error {
    let what = if loss.is_finite() {
        let i = grad.iter().position(|g| !g.is_finite()).unwrap_or(0);
        format!(
            "the gradient is not finite (component {} is {}); rule: the loss and its gradient must stay finite",
            i + 1,
            grad.get(i).copied().unwrap_or(f64::NAN)
        )
    } else {
        format!("the loss is {loss}; rule: the loss and its gradient must stay finite")
    };
    Error::Diverged {
        rule: what,
        iteration: iter,
        loss,
    }
}

/// Minimises J with `method` under `cfg` (budget, learning-rate schedule, stopping rules, divergence rule).
/// `f(θ, g)` writes ∇J(θ) into g and returns J(θ); `observer` sees every iteration and returns false to stop.
/// Allocates one gradient buffer of θ.len() for the whole run.
pub fn minimize_with<M: Method + ?Sized>(
    f: &mut Objective<'_>,
    theta: &mut [f64],
    method: &mut M,
    cfg: &RunConfig,
    observer: &mut Observer<'_>,
) -> Result<RunReport> {
    let mut grad = vec![0.0; theta.len()];
    let mut loss = f(theta, &mut grad)?;
    let mut evals = 1;
    let j0 = loss.abs();
    let threshold = cfg.divergence.factor * j0;
    let mut above = 0usize;
    let mut prev_loss = None;
    let mut iter = 0;
    loop {
        let gnorm = inf_norm(&grad);
        if !loss.is_finite() || gnorm.is_nan() {
            return Err(non_finite(loss, &grad, iter));
        }
        above = if loss > threshold { above + 1 } else { 0 };
        let lr = cfg.schedule.lr(cfg.lr, iter);
        let info = IterInfo {
            iter,
            loss,
            grad_norm: gnorm,
            lr: method.reported_lr(lr),
            evals,
        };
        let observed = observer(&info);
        if above >= cfg.divergence.window {
            return Err(Error::Diverged {
                rule: format!(
                    "the loss stayed above {:e} · |J_0| = {threshold:.4e} (J_0 = {j0:.4e}) for {} consecutive \
                     iterations; rule: {}",
                    cfg.divergence.factor,
                    cfg.divergence.window,
                    cfg.divergence.describe(),
                ),
                iteration: iter,
                loss,
            });
        }
        let stop = if !observed {
            Some(StopReason::ObserverStop)
        } else if let Some(s) = check_stop(loss, prev_loss, gnorm, cfg.tol_grad, cfg.target_loss, cfg.tol_rel_loss) {
            Some(s)
        } else if iter >= cfg.max_iters {
            Some(StopReason::MaxIters)
        } else {
            None
        };
        let report = |stop, evals| RunReport {
            iterations: iter,
            evaluations: evals,
            final_loss: loss,
            final_grad_norm: gnorm,
            stop,
        };
        if let Some(stop) = stop {
            return Ok(report(stop, evals));
        }
        let mut p = Point {
            theta: &mut *theta,
            grad: &mut grad,
            loss,
            evals,
        };
        match method.iterate(&mut p, lr, f)? {
            Outcome::Stepped => {
                loss = f(theta, &mut grad)?;
                evals += 1;
            }
            Outcome::Evaluated => {
                (loss, evals) = (p.loss, p.evals);
                prev_loss = Some(info.loss);
                iter += 1;
                continue;
            }
            Outcome::Stop(reason) => return Ok(report(reason, p.evals)),
        }
        prev_loss = Some(info.loss);
        iter += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Adam, Gd};

    /// J = ½θ², started at 1: GD at η = 3 multiplies θ by −2 per step, J by 4.
    fn quad(t: &[f64], g: &mut [f64]) -> Result<f64> {
        g[0] = t[0];
        Ok(0.5 * t[0] * t[0])
    }

    #[test]
    fn sustained_growth_stops_at_the_end_of_the_window_with_the_rule() {
        let cfg = RunConfig::new(1000, 3.0);
        let mut seen = Vec::new();
        let err = minimize_with(&mut quad, &mut [1.0], &mut Gd, &cfg, &mut |i| {
            seen.push(i.loss);
            true
        })
        .unwrap_err();
        let Error::Diverged { rule, iteration, loss } = &err else {
            panic!("{err}")
        };
        // J_k = 0.5 · 4^k > 500 from k = 5 on (4^5 = 1024): ten iterations above end at k = 14.
        assert_eq!(*iteration, 14, "{err}");
        assert_eq!(*loss, 0.5 * 4f64.powi(14));
        assert!(
            rule.contains("10 consecutive iterations") && rule.contains("factor = 1e3"),
            "{rule}"
        );
        assert_eq!(
            seen.len(),
            15,
            "the observer saw every iteration up to the one that fired"
        );
        assert_eq!(err.exit_code(), 1);
    }

    #[test]
    fn a_spike_that_recovers_does_not_fire_and_the_rule_is_configurable() {
        // Loss 1, then 10^4 for 5 iterations, then back to 1.
        let mut k = 0usize;
        let mut f = |_: &[f64], g: &mut [f64]| {
            k += 1;
            g[0] = 1e-3;
            Ok(if (2..7).contains(&k) { 1e4 } else { 1.0 })
        };
        let cfg = RunConfig::new(20, 1e-9);
        assert_eq!(
            minimize_with(&mut f, &mut [0.0], &mut Gd, &cfg, &mut |_| true)
                .unwrap()
                .stop,
            StopReason::MaxIters
        );
        let mut k = 0usize;
        let mut f = |_: &[f64], g: &mut [f64]| {
            k += 1;
            g[0] = 1e-3;
            Ok(if (2..7).contains(&k) { 1e4 } else { 1.0 })
        };
        let tight = RunConfig {
            divergence: Divergence {
                factor: 10.0,
                window: 3,
            },
            ..cfg
        };
        let err = minimize_with(&mut f, &mut [0.0], &mut Gd, &tight, &mut |_| true).unwrap_err();
        assert!(matches!(err, Error::Diverged { iteration: 3, .. }), "{err}");
        assert!(Divergence { factor: 1.0, window: 3 }.validate().is_err());
        assert!(Divergence {
            factor: 10.0,
            window: 0
        }
        .validate()
        .is_err());
    }

    #[test]
    fn a_non_finite_gradient_names_its_component() {
        let mut f = |t: &[f64], g: &mut [f64]| {
            g[0] = 1.0;
            g[1] = if t[0] < 0.5 { f64::INFINITY } else { 0.0 };
            Ok(1.0)
        };
        let err = minimize_with(
            &mut f,
            &mut [1.0, 0.0],
            &mut Adam::new(2, 0.9, 0.999, 1e-8),
            &RunConfig::new(10, 1.0),
            &mut |_| true,
        )
        .unwrap_err();
        let Error::Diverged { rule, iteration: 1, .. } = &err else {
            panic!("{err}")
        };
        assert!(rule.contains("component 2") && rule.contains("inf"), "{rule}");
    }
}
