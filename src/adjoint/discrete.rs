//! Exact discrete adjoint: the gradient of the *discretised* objective J (Euler, RK4, any [`Scheme`]), equal to
//! reverse-mode differentiation of the same computation to rounding (SPEC §3), on the block engine: blocks of
//! [`LANES`] points in structure-of-arrays layout, the scheme's block step forward (writing its tape) and its exact
//! block reverse step backward (ARCHITECTURE habit 3, 6).
//!
//! Backward recursion over the S = K·s steps, with λ_n = ∂J/∂x_n:
//!   λ_S = ∇_x Φ(x_S),   λ_n = (∂Ψ_h/∂x)(x_n)ᵀ (λ_{n+1} + ∇_x ℓ_{n+1}),   ∂J/∂u_k += (∂Ψ_h/∂u)(x_n)ᵀ (·)
//! (with ℓ_{n+1} the running cost at x_{n+1}, added before stepping back through step n).
//!
//! Memory ([`Checkpoint`]): the forward sweep keeps the state at the start of every segment of c steps and the
//! tapes of the current segment; the backward sweep recomputes each earlier segment from its checkpoint (the last
//! segment's tapes are still in place when the forward sweep ends). `All` is one segment (no recomputation),
//! `Sqrt` c = ⌈√S⌉ (O(√S) storage, one extra forward pass), `Auto` (the default) one segment when the whole tape
//! fits [`TAPE_BUDGET_BYTES`] per worker and otherwise the longest segments that fit (at least ⌈√S⌉). The
//! recomputation repeats the same arithmetic, so every mode gives the same bits. Points are processed in fixed
//! blocks in parallel; per-block partial gradients are added in block order, so the result does not depend on the
//! thread count.

use crate::control::{PiecewiseView, RowsMut, TimeGrid};
use crate::field::VectorField;
use crate::integrate::block::{Block, Stepper};
use crate::integrate::Scheme;
use crate::objective::Objective;
use crate::simd::{GradAcc, Lanes, Rows, LANES};
use crate::{Error, Result};
use rayon::prelude::*;

/// Tape memory per worker that `Checkpoint::Auto` keeps without recomputation (bytes).
pub const TAPE_BUDGET_BYTES: usize = 64 << 20;

/// How many forward steps' tapes are kept for the backward sweep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checkpoint {
    /// Every step's tape (one segment, no recomputation).
    All,
    /// Segments of ⌈√S⌉ steps, recomputed from their checkpoints: O(√S) storage.
    Sqrt,
    /// `All` when the whole tape fits [`TAPE_BUDGET_BYTES`], else the longest segments that fit.
    #[default]
    Auto,
}

impl Checkpoint {
    /// Segment length c for S steps whose tapes have `tape_rows` rows of lanes each.
    pub fn segment(self, steps: usize, tape_rows: usize) -> usize {
        let steps = steps.max(1);
        let sqrt = ((steps as f64).sqrt().ceil() as usize).max(1);
        match self {
            Checkpoint::All => steps,
            Checkpoint::Sqrt => sqrt,
            Checkpoint::Auto => {
                let fit = TAPE_BUDGET_BYTES / (tape_rows.max(1) * std::mem::size_of::<Lanes>());
                fit.clamp(sqrt.min(steps), steps)
            }
        }
    }
    /// Rows of lanes stored per block for S steps: the tapes of one segment and the segment checkpoints (m rows
    /// each).
    pub fn stored_rows(self, steps: usize, tape_rows: usize, m: usize) -> usize {
        let c = self.segment(steps, tape_rows);
        c * tape_rows + (steps.div_ceil(c) + 1) * m
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
        let control = PiecewiseView::new(self.grid, d, u);
        let stepper = Stepper {
            field: self.field,
            scheme: self.scheme,
            control: &control,
            substeps: self.substeps,
        };
        let parts: Vec<Result<LossGrad>> = self
            .x0
            .par_chunks(LANES * m)
            .enumerate()
            .map_init(
                || Sweep::new(&stepper, self, rho.len(), grad),
                |sw, (b, xs)| sw.block(&stepper, self, b * LANES, xs, rho),
            )
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
}

/// One worker's buffers, sized once and reused for all its blocks.
struct Sweep {
    grad: bool,
    /// Segment length c.
    c: usize,
    /// Tape rows per step.
    tr: usize,
    blk: Block,
    /// Tapes of one segment (c steps; one step without gradient).
    tapes: Rows,
    /// Segment start states (⌈S/c⌉ × m rows).
    ck: Rows,
    lam: Rows,
    /// x_{n+1} during the backward sweep (running cost).
    next: Rows,
    work: Rows,
    /// Per-lane gradient accumulators of the current interval (the field's `acc_lane_rows`).
    acc_lanes: Rows,
    /// Per-point buffers: state, its gradient, objective scratch, a throw-away readout gradient.
    xp: Vec<f64>,
    gx: Vec<f64>,
    os: Vec<f64>,
    dummy_gr: Vec<f64>,
}

impl Sweep {
    fn new(st: &Stepper, p: &GradProblem, nr: usize, grad: bool) -> Self {
        let m = st.field.state_dim();
        let steps = st.steps();
        let tr = st.tape_rows();
        let c = if grad { p.checkpoint.segment(steps, tr) } else { 1 };
        Sweep {
            grad,
            c,
            tr,
            blk: Block::new(m),
            tapes: Rows::new(c * tr),
            ck: Rows::new(if grad { steps.div_ceil(c) * m } else { 0 }),
            lam: Rows::new(m),
            next: Rows::new(m),
            work: Rows::new(st.work_rows()),
            acc_lanes: Rows::zeros(if grad { st.field.acc_lane_rows() } else { 0 }),
            xp: vec![0.0; m],
            gx: vec![0.0; m],
            os: vec![0.0; p.objective.scratch_len()],
            dummy_gr: vec![0.0; nr],
        }
    }

    /// Step n forward, storing its tape in segment slot `slot`; then check the state and add the running cost.
    #[allow(clippy::too_many_arguments)]
    fn forward_step(
        &mut self,
        st: &Stepper,
        p: &GradProblem,
        n: usize,
        slot: usize,
        xs: &[f64],
        rho: &[f64],
        loss: &mut f64,
    ) -> Result<()> {
        let tape = &mut self.tapes[slot * self.tr..(slot + 1) * self.tr];
        st.scheme
            .step_block(&st.term(n), self.blk.lanes, &mut self.blk.x, tape, &mut self.work);
        if let Some(e) = self
            .blk
            .non_finite_error(" in the forward sweep", st.time_after(n), n + 1)
        {
            return Err(e);
        }
        let obj = p.objective;
        if obj.has_running() {
            let m = self.xp.len();
            for q in 0..self.blk.lanes {
                self.blk.gather(q, &mut self.xp);
                let x0 = &xs[q * m..(q + 1) * m];
                *loss += obj.running(
                    self.blk.first + q,
                    n + 1,
                    st.h(),
                    &self.xp,
                    x0,
                    rho,
                    &mut self.gx,
                    &mut self.dummy_gr,
                    &mut self.os,
                );
            }
        }
        Ok(())
    }

    fn block(&mut self, st: &Stepper, p: &GradProblem, first: usize, xs: &[f64], rho: &[f64]) -> Result<LossGrad> {
        let m = self.xp.len();
        let obj = p.objective;
        let steps = st.steps();
        let (c, grad) = (self.c, self.grad);
        self.blk.load(first, xs);
        let n_pts = self.blk.lanes;
        let mut out = LossGrad {
            loss: 0.0,
            controls: vec![
                0.0;
                if grad {
                    p.grid.intervals * st.field.control_dim()
                } else {
                    0
                }
            ],
            readout: vec![0.0; if grad { rho.len() } else { 0 }],
        };
        // Forward sweep: checkpoints at segment starts, tapes into the segment's slots.
        for n in 0..steps {
            if grad && n % c == 0 {
                self.ck[(n / c) * m..(n / c + 1) * m].copy_from_slice(&self.blk.x);
            }
            let slot = if grad { n % c } else { 0 };
            let mut loss = out.loss;
            self.forward_step(st, p, n, slot, xs, rho, &mut loss)?;
            out.loss = loss;
        }
        // Terminal loss and λ_S.
        for row in self.lam.iter_mut() {
            row.fill(0.0);
        }
        for q in 0..n_pts {
            self.blk.gather(q, &mut self.xp);
            self.gx.iter_mut().for_each(|v| *v = 0.0);
            let x0 = &xs[q * m..(q + 1) * m];
            let gr = if grad {
                &mut out.readout[..]
            } else {
                &mut self.dummy_gr[..]
            };
            out.loss += obj.terminal(first + q, &self.xp, x0, rho, &mut self.gx, gr, &mut self.os);
            crate::field::scatter(&self.gx, &mut self.lam, q);
        }
        if !grad {
            return Ok(out);
        }
        // Backward sweep, one segment at a time (last first; its tapes are still in place).
        self.next.copy_from_slice(&self.blk.x);
        let d = st.field.control_dim();
        let mut rows = RowsMut::new(d, &mut out.controls);
        let n_seg = steps.div_ceil(c);
        for sg in (0..n_seg).rev() {
            let (n0, n1) = (sg * c, ((sg + 1) * c).min(steps));
            if sg + 1 < n_seg {
                self.blk.x.copy_from_slice(&self.ck[sg * m..(sg + 1) * m]);
                for n in n0..n1 {
                    let tape = &mut self.tapes[(n - n0) * self.tr..(n - n0 + 1) * self.tr];
                    st.scheme
                        .step_block(&st.term(n), n_pts, &mut self.blk.x, tape, &mut self.work);
                }
            }
            for n in (n0..n1).rev() {
                if obj.has_running() {
                    for q in 0..n_pts {
                        crate::field::gather(&self.next, q, &mut self.xp);
                        crate::field::gather(&self.lam, q, &mut self.gx);
                        let x0 = &xs[q * m..(q + 1) * m];
                        obj.running(
                            first + q,
                            n + 1,
                            st.h(),
                            &self.xp,
                            x0,
                            rho,
                            &mut self.gx,
                            &mut out.readout,
                            &mut self.os,
                        );
                        crate::field::scatter(&self.gx, &mut self.lam, q);
                    }
                }
                let tape = &self.tapes[(n - n0) * self.tr..(n - n0 + 1) * self.tr];
                let k = st.interval(n);
                let mut acc = GradAcc {
                    lanes: &mut self.acc_lanes,
                    reduced: rows.row(k),
                };
                st.scheme
                    .step_block_vjp(&st.term(n), n_pts, tape, &mut self.lam, &mut acc, &mut self.work);
                if n == 0 || st.interval(n - 1) != k {
                    // First step of interval k: reduce its lane accumulators (fixed order).
                    acc.flush();
                }
                self.next.copy_from_slice(&tape[..m]);
            }
        }
        Ok(out)
    }
}
