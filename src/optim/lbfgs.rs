//! L-BFGS (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Alg. 7.4–7.5) with a backtracking Armijo line
//! search (Alg. 3.1, step chosen by safeguarded quadratic interpolation).
//!
//! ```text
//! d_k = −H_k g_k        two-loop recursion over the last `memory` pairs (s_i, y_i), H⁰ = γ_k I, γ_k = sᵀy / yᵀy
//! θ_{k+1} = θ_k + α d_k  α: largest trial with J(θ_k + α d) ≤ J(θ_k) + c₁ α g_kᵀd  (α₀ = 1; first step 1/‖g‖₂ ∧ 1)
//!                        or, once J's changes drown in rounding, the approximate Wolfe test of Hager & Zhang (2005):
//!                        J(θ_k + αd) ≤ J(θ_k) + ε|J(θ_k)| and (2c₁ − 1) g_kᵀd ≥ ∇J(θ_k + αd)ᵀd ≥ c₂ g_kᵀd
//! s = θ_{k+1} − θ_k, y = g_{k+1} − g_k   stored only if sᵀy > ε_curv · yᵀy (curvature check; else skipped)
//! ```
//! Safeguards: if d is not a descent direction the memory is cleared and d = −g; if the line search fails with a
//! non-empty memory it is retried once from the same point along −g; a failure along −g ends the run with
//! [`StopReason::LineSearchFailed`]. Trial points with a non-finite value or gradient count as too long a step.
//! A non-finite value or gradient at the starting point is a divergence error.
//!
//! Memory: the 2·memory·P pair buffers and four P-vectors are allocated once; no allocation per iteration.
//! [`Lbfgs`] is a [`Method`] run by the one loop ([`super::executor::minimize_with`]), which owns the stopping
//! rules, the observer and divergence detection; [`minimize_lbfgs`] is that loop with L-BFGS.

use super::executor::{minimize_with, Divergence, Method, Outcome, Point};
use super::runner::{inf_norm, Objective, Observer, RunConfig, RunReport, StopReason};
use super::schedule::Schedule;
use crate::Result;
use serde::{Deserialize, Serialize};

/// L-BFGS settings: memory, budget, stopping rules, line-search constants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LbfgsConfig {
    /// Number of (s, y) pairs kept.
    pub memory: usize,
    /// Maximum number of iterations (accepted steps).
    pub max_iters: usize,
    /// Stop when ‖∇J‖_∞ ≤ tol_grad.
    pub tol_grad: f64,
    /// Stop when J ≤ target_loss.
    pub target_loss: Option<f64>,
    /// Stop when |J_k − J_{k−1}| ≤ tol_rel_loss · max(|J_{k−1}|, 1e-300).
    pub tol_rel_loss: Option<f64>,
    /// Armijo constant c₁ ∈ (0, 1).
    pub c1: f64,
    /// Trials per line search before it fails.
    pub max_line_search: usize,
    /// Curvature constant c₂ ∈ (c₁, 1) of the approximate Wolfe test.
    pub c2: f64,
    /// Relative increase of J tolerated by the approximate Wolfe test (rounding allowance).
    pub approx_wolfe_eps: f64,
    /// Curvature threshold ε_curv: a pair is stored only if sᵀy > ε_curv · yᵀy.
    pub curvature_eps: f64,
    /// The sustained-growth divergence rule (the non-finite rule always applies).
    pub divergence: Divergence,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        LbfgsConfig {
            memory: 10,
            max_iters: 1000,
            tol_grad: 1e-8,
            target_loss: None,
            tol_rel_loss: None,
            c1: 1e-4,
            c2: 0.9,
            approx_wolfe_eps: 1e-10,
            max_line_search: 50,
            curvature_eps: 1e-12,
            divergence: Divergence::default(),
        }
    }
}

impl LbfgsConfig {
    /// The loop's share of the settings: budget, stopping and divergence rules (no learning rate: the line
    /// search picks the step).
    pub fn run_config(&self) -> RunConfig {
        RunConfig {
            max_iters: self.max_iters,
            lr: 1.0,
            schedule: Schedule::Constant,
            tol_grad: self.tol_grad,
            target_loss: self.target_loss,
            tol_rel_loss: self.tol_rel_loss,
            divergence: self.divergence,
        }
    }
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// The (s, y) ring buffer and the two-loop recursion.
struct Memory {
    p: usize,
    cap: usize,
    len: usize,
    /// Index of the oldest pair.
    head: usize,
    s: Vec<f64>,
    y: Vec<f64>,
    rho: Vec<f64>,
    alpha: Vec<f64>,
}

impl Memory {
    fn new(p: usize, cap: usize) -> Self {
        Memory {
            p,
            cap,
            len: 0,
            head: 0,
            s: vec![0.0; cap * p],
            y: vec![0.0; cap * p],
            rho: vec![0.0; cap],
            alpha: vec![0.0; cap],
        }
    }

    fn clear(&mut self) {
        self.len = 0;
        self.head = 0;
    }

    fn slot(&self, i: usize) -> usize {
        (self.head + i) % self.cap
    }

    /// Stores s = x_new − x, y = g_new − g (dropping the oldest pair when full) if sᵀy > eps · yᵀy; returns
    /// whether it did.
    fn push(&mut self, x_new: &[f64], x: &[f64], g_new: &[f64], g: &[f64], eps: f64) -> bool {
        let (mut sy, mut yy) = (0.0, 0.0);
        for i in 0..self.p {
            let (sv, yv) = (x_new[i] - x[i], g_new[i] - g[i]);
            sy += sv * yv;
            yy += yv * yv;
        }
        if !(sy > eps * yy && sy > 0.0 && sy.is_finite()) {
            return false;
        }
        let p = self.p;
        let k = if self.len < self.cap {
            self.len += 1;
            self.slot(self.len - 1)
        } else {
            let k = self.head;
            self.head = (self.head + 1) % self.cap;
            k
        };
        for i in 0..p {
            self.s[k * p + i] = x_new[i] - x[i];
            self.y[k * p + i] = g_new[i] - g[i];
        }
        self.rho[k] = 1.0 / sy;
        true
    }

    /// d = −H g by the two-loop recursion.
    fn direction(&mut self, g: &[f64], d: &mut [f64]) {
        let p = self.p;
        d.copy_from_slice(g);
        for i in (0..self.len).rev() {
            let k = self.slot(i);
            let a = self.rho[k] * dot(&self.s[k * p..(k + 1) * p], d);
            self.alpha[k] = a;
            for (q, &yv) in d.iter_mut().zip(&self.y[k * p..(k + 1) * p]) {
                *q -= a * yv;
            }
        }
        if self.len > 0 {
            let k = self.slot(self.len - 1);
            let y = &self.y[k * p..(k + 1) * p];
            let gamma = 1.0 / (self.rho[k] * dot(y, y));
            d.iter_mut().for_each(|q| *q *= gamma);
        }
        for i in 0..self.len {
            let k = self.slot(i);
            let b = self.rho[k] * dot(&self.y[k * p..(k + 1) * p], d);
            let c = self.alpha[k] - b;
            for (q, &sv) in d.iter_mut().zip(&self.s[k * p..(k + 1) * p]) {
                *q += c * sv;
            }
        }
        d.iter_mut().for_each(|q| *q = -*q);
    }
}

/// L-BFGS as a [`Method`]: the curvature memory, the direction and trial buffers, and the last accepted step.
pub struct Lbfgs {
    cfg: LbfgsConfig,
    mem: Memory,
    g_new: Vec<f64>,
    x_new: Vec<f64>,
    d: Vec<f64>,
    last_step: f64,
}

impl Lbfgs {
    /// L-BFGS for P parameters (all buffers allocated here, once).
    pub fn new(p: usize, cfg: &LbfgsConfig) -> Self {
        Lbfgs {
            cfg: cfg.clone(),
            mem: Memory::new(p, cfg.memory.max(1)),
            g_new: vec![0.0; p],
            x_new: vec![0.0; p],
            d: vec![0.0; p],
            last_step: 0.0,
        }
    }
}

impl Method for Lbfgs {
    fn method_name(&self) -> &'static str {
        "lbfgs"
    }

    /// The step length accepted in the previous iteration (0 before the first).
    fn reported_lr(&self, _scheduled: f64) -> f64 {
        self.last_step
    }

    /// Direction and line search, retried once along −g if it fails with curvature memory.
    fn iterate(&mut self, p: &mut Point<'_>, _lr: f64, f: &mut Objective<'_>) -> Result<Outcome> {
        let cfg = &self.cfg;
        let (mem, d, x_new, g_new) = (&mut self.mem, &mut self.d, &mut self.x_new, &mut self.g_new);
        let loss = p.loss;
        let accepted = loop {
            mem.direction(p.grad, d);
            let mut slope = dot(p.grad, d);
            if !(slope < 0.0 && slope.is_finite()) {
                mem.clear();
                mem.direction(p.grad, d);
                slope = dot(p.grad, d);
            }
            let mut alpha = if mem.len == 0 {
                (1.0 / dot(p.grad, p.grad).sqrt()).min(1.0)
            } else {
                1.0
            };
            let mut found = None;
            for _ in 0..cfg.max_line_search {
                for ((xn, &x), &dv) in x_new.iter_mut().zip(p.theta.iter()).zip(d.iter()) {
                    *xn = x + alpha * dv;
                }
                if x_new.iter().zip(p.theta.iter()).all(|(a, b)| a == b) {
                    break; // the step no longer moves θ
                }
                let ft = f(x_new, g_new)?;
                p.evals += 1;
                if ft.is_finite() && !inf_norm(g_new).is_nan() {
                    let armijo = ft <= loss + cfg.c1 * alpha * slope;
                    // Approximate Wolfe (Hager & Zhang 2005): near a minimiser J changes by less than its rounding
                    // error, so decide with the directional derivative φ'(α) = ∇J(θ + αd)ᵀd instead.
                    let approx_wolfe = ft <= loss + cfg.approx_wolfe_eps * loss.abs() && {
                        let dphi = dot(g_new, d);
                        (2.0 * cfg.c1 - 1.0) * slope >= dphi && dphi >= cfg.c2 * slope
                    };
                    if armijo || approx_wolfe {
                        found = Some((alpha, ft));
                        break;
                    }
                }
                // Minimiser of the quadratic through φ(0), φ'(0), φ(α), kept in [0.1α, 0.5α].
                let next = if ft.is_finite() {
                    let denom = 2.0 * (ft - loss - slope * alpha);
                    let q = -slope * alpha * alpha / denom;
                    if q.is_finite() && denom > 0.0 {
                        q.clamp(0.1 * alpha, 0.5 * alpha)
                    } else {
                        0.5 * alpha
                    }
                } else {
                    0.1 * alpha
                };
                alpha = next;
            }
            match found {
                Some(a) => break Some(a),
                None if mem.len > 0 => mem.clear(),
                None => break None,
            }
        };
        let Some((alpha, ft)) = accepted else {
            return Ok(Outcome::Stop(StopReason::LineSearchFailed));
        };
        mem.push(x_new, p.theta, g_new, p.grad, cfg.curvature_eps);
        p.theta.copy_from_slice(x_new);
        p.grad.copy_from_slice(g_new);
        p.loss = ft;
        self.last_step = alpha;
        Ok(Outcome::Evaluated)
    }
}

/// Minimises J by L-BFGS: the one loop ([`minimize_with`]) with [`Lbfgs`]. `f(θ, g)` writes ∇J(θ) into g and
/// returns J(θ); `observer` sees every iteration and returns false to stop. On return `theta` holds the last
/// accepted iterate.
pub fn minimize_lbfgs(
    f: &mut Objective<'_>,
    theta: &mut [f64],
    cfg: &LbfgsConfig,
    observer: &mut Observer<'_>,
) -> Result<RunReport> {
    let mut method = Lbfgs::new(theta.len(), cfg);
    minimize_with(f, theta, &mut method, &cfg.run_config(), observer)
}
