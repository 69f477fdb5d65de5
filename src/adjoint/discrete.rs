//! Exact discrete adjoint: the gradient of the *discretised* objective J (Euler, RK4, any [`Scheme`]), equal to
//! reverse-mode differentiation of the same computation to rounding (SPEC §3). Generic over the scheme through
//! [`Scheme::step_vjp`] (ARCHITECTURE habit 3).
//!
//! Backward recursion over the S = K·s steps, with λ_n = ∂J/∂x_n:
//!   λ_S = ∇_x Φ(x_S),   λ_n = (∂Ψ_h/∂x)(x_n)ᵀ (λ_{n+1} + ∇_x ℓ_{n+1}),   ∂J/∂u_k += (∂Ψ_h/∂u)(x_n)ᵀ (·)
//! (with ℓ_{n+1} the running cost at x_{n+1}, added before stepping back through step n).
//!
//! Memory: with [`Checkpoint::Sqrt`] only every c-th state is kept in the forward sweep (c = ⌈√S⌉) and each
//! segment of c steps is recomputed from its checkpoint during the backward sweep: at most ⌈S/c⌉ + c + 2 = O(√S)
//! stored states per point, for one extra forward pass. The arithmetic is the same as with [`Checkpoint::All`],
//! so the gradient is bit-identical. Points are processed in fixed blocks of [`BLOCK`] in parallel; per-block
//! partial gradients are added in block order, so the result does not depend on the thread count.

use crate::control::TimeGrid;
use crate::field::VectorField;
use crate::integrate::{Scheme, Workspace, BLOCK};
use crate::objective::Objective;
use crate::{Error, Result};
use rayon::prelude::*;

/// How many forward states are stored for the backward sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checkpoint {
    /// Every state (S + 1 per point).
    All,
    /// Every ⌈√S⌉-th state, segments recomputed: O(√S) per point.
    Sqrt,
}

impl Checkpoint {
    /// Segment length for S steps.
    pub fn segment(self, steps: usize) -> usize {
        match self {
            Checkpoint::All => steps.max(1),
            Checkpoint::Sqrt => (steps as f64).sqrt().ceil().max(1.0) as usize,
        }
    }
    /// States stored per point for S steps (checkpoints + one recomputed segment).
    pub fn stored_states(self, steps: usize) -> usize {
        let c = self.segment(steps);
        match self {
            Checkpoint::All => steps + 1,
            Checkpoint::Sqrt => steps.div_ceil(c) + 1 + c + 1,
        }
    }
}

/// A discretised optimal-control problem: everything but the parameters.
pub struct GradProblem<'a> {
    /// The vector field f(x, u).
    pub field: &'a dyn VectorField,
    /// The integrator.
    pub scheme: &'a dyn Scheme,
    /// The control grid (K intervals of [0, T]).
    pub grid: TimeGrid,
    /// Sub-steps per interval.
    pub substeps: usize,
    /// Initial points, N × m.
    pub x0: &'a [f64],
    /// The objective.
    pub objective: &'a Objective,
    /// Storage strategy.
    pub checkpoint: Checkpoint,
}

/// Result of one loss + gradient evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct LossGrad {
    /// J (including the regulariser).
    pub loss: f64,
    /// ∂J/∂u, K × d row-major.
    pub controls: Vec<f64>,
    /// ∂J/∂ρ (readout parameters).
    pub readout: Vec<f64>,
}

impl LossGrad {
    /// Zero loss and gradients for `nu` controls and `nr` readout parameters.
    pub fn zeros(nu: usize, nr: usize) -> Self {
        Self {
            loss: 0.0,
            controls: vec![0.0; nu],
            readout: vec![0.0; nr],
        }
    }

    /// Sum per-block partial results in block order (fixed summation order: thread-count independent).
    pub fn sum_blocks(parts: Vec<Result<LossGrad>>, nu: usize, nr: usize) -> Result<LossGrad> {
        let mut total = Self::zeros(nu, nr);
        for p in parts {
            let p = p?;
            total.loss += p.loss;
            total.controls.iter_mut().zip(&p.controls).for_each(|(a, b)| *a += b);
            total.readout.iter_mut().zip(&p.readout).for_each(|(a, b)| *a += b);
        }
        Ok(total)
    }
}

impl GradProblem<'_> {
    /// Total integrator steps S = K·s.
    pub fn steps(&self) -> usize {
        self.grid.intervals * self.substeps
    }
    /// Step length h = T / S.
    pub fn h(&self) -> f64 {
        self.grid.h() / self.substeps as f64
    }

    /// J(u, ρ) only (forward sweep, no storage).
    pub fn loss(&self, u: &[f64], rho: &[f64]) -> Result<f64> {
        self.run(u, rho, false).map(|r| r.loss)
    }

    /// J and its exact gradient.
    pub fn loss_grad(&self, u: &[f64], rho: &[f64]) -> Result<LossGrad> {
        self.run(u, rho, true)
    }

    fn run(&self, u: &[f64], rho: &[f64], grad: bool) -> Result<LossGrad> {
        let m = self.field.state_dim();
        let d = self.field.control_dim();
        assert_eq!(u.len(), self.grid.intervals * d, "controls must be K × d");
        let parts: Vec<Result<LossGrad>> = self
            .x0
            .par_chunks(BLOCK * m)
            .enumerate()
            .map(|(b, xs)| self.block(b * BLOCK, xs, u, rho, grad))
            .collect();
        // Non-gradient runs carry empty partial gradients, which add nothing.
        let mut total = LossGrad::sum_blocks(parts, u.len(), rho.len())?;
        let mut scratch_g = vec![0.0; u.len()];
        total.loss += self
            .objective
            .regularizer_value_grad(u, d, self.grid.h(), &mut scratch_g);
        if grad {
            total.controls.iter_mut().zip(&scratch_g).for_each(|(a, b)| *a += b);
        }
        if !total.loss.is_finite() {
            return Err(Error::numerical(
                "objective is not finite",
                self.grid.horizon,
                self.steps(),
                None,
            ));
        }
        Ok(total)
    }

    fn block(&self, first: usize, xs: &[f64], u: &[f64], rho: &[f64], grad: bool) -> Result<LossGrad> {
        let f = self.field;
        let m = f.state_dim();
        let d = f.control_dim();
        let obj = self.objective;
        let steps = self.steps();
        let h = self.h();
        let s = self.substeps;
        let c = self.checkpoint.segment(steps);
        let n_ck = steps.div_ceil(c) + 1;
        let mut ws = Workspace::new(self.scheme, f);
        let mut ck = vec![0.0; if grad { n_ck * m } else { 0 }];
        let mut seg = vec![0.0; if grad { (c + 1) * m } else { 0 }];
        let mut x = vec![0.0; m];
        let mut lam = vec![0.0; m];
        let mut os = vec![0.0; obj.scratch_len()];
        let mut dummy_gx = vec![0.0; m];
        let mut dummy_gr = vec![0.0; rho.len()];
        let mut out = LossGrad {
            loss: 0.0,
            controls: vec![0.0; if grad { u.len() } else { 0 }],
            readout: vec![0.0; if grad { rho.len() } else { 0 }],
        };
        let all = self.checkpoint == Checkpoint::All;
        for (p, x0) in xs.chunks(m).enumerate() {
            let i = first + p;
            x.copy_from_slice(x0);
            if grad {
                ck[..m].copy_from_slice(&x);
                seg[..m].copy_from_slice(&x);
            }
            // Forward sweep.
            for n in 0..steps {
                let k = n / s;
                self.scheme.step(f, &u[k * d..(k + 1) * d], h, &mut x, &mut ws);
                if let Some(comp) = x.iter().position(|v| !v.is_finite()) {
                    return Err(Error::numerical(
                        format!("non-finite state (component {comp}) in the forward sweep"),
                        h * (n + 1) as f64,
                        n + 1,
                        Some(i),
                    ));
                }
                if obj.has_running() {
                    out.loss += obj.running(i, n + 1, h, &x, x0, rho, &mut dummy_gx, &mut dummy_gr, &mut os);
                }
                if grad && all {
                    seg[(n + 1) * m..(n + 2) * m].copy_from_slice(&x);
                } else if grad && (n + 1) % c == 0 {
                    let j = (n + 1) / c;
                    ck[j * m..(j + 1) * m].copy_from_slice(&x);
                }
            }
            lam.iter_mut().for_each(|v| *v = 0.0);
            let gr = if grad { &mut out.readout[..] } else { &mut dummy_gr[..] };
            out.loss += obj.terminal(i, &x, x0, rho, &mut lam, gr, &mut os);
            if !grad {
                continue;
            }
            // Backward sweep, one segment at a time (last first); seg holds x_{n0..=n1}.
            let n_seg = steps.div_ceil(c);
            for sgi in (0..n_seg).rev() {
                let n0 = sgi * c;
                let n1 = (n0 + c).min(steps);
                // Recompute the segment from its checkpoint (with `All` the forward sweep stored it already).
                if !all {
                    seg[..m].copy_from_slice(&ck[sgi * m..(sgi + 1) * m]);
                }
                for n in (n0..n1).filter(|_| !all) {
                    let k = n / s;
                    let (a, b) = seg.split_at_mut((n - n0 + 1) * m);
                    b[..m].copy_from_slice(&a[(n - n0) * m..]);
                    self.scheme.step(f, &u[k * d..(k + 1) * d], h, &mut b[..m], &mut ws);
                }
                for n in (n0..n1).rev() {
                    let k = n / s;
                    if obj.has_running() {
                        let xn1 = &seg[(n + 1 - n0) * m..(n + 2 - n0) * m];
                        obj.running(i, n + 1, h, xn1, x0, rho, &mut lam, &mut out.readout, &mut os);
                    }
                    let xn = &seg[(n - n0) * m..(n - n0 + 1) * m];
                    self.scheme.step_vjp(
                        f,
                        &u[k * d..(k + 1) * d],
                        h,
                        xn,
                        &mut lam,
                        &mut out.controls[k * d..(k + 1) * d],
                        &mut ws,
                    );
                }
            }
        }
        Ok(out)
    }
}
