//! Explicit Euler: x_{n+1} = x_n + h f(x_n, u) — a residual layer (SPEC §1 "layer = timestep", §2); with a path
//! driver of a control-affine field it is the Euler–Young scheme x + Σ_j V_j(x) ΔU^j (004 (2.21)).
//! Reverse step: λ_n = λ_{n+1} + (∂f/∂x)ᵀ (h λ_{n+1}), ḡ_u += (∂f/∂u)ᵀ (h λ_{n+1}).
//! Tape of a block step: [ξ₁ = x_n | field tape].

use super::{take, Scheme, Term, Workspace};
use crate::control::Regularity;
use crate::field::{EvalArgs, VectorField, VjpArgs};
use crate::simd::{dispatch, lane_axpy, row_add, row_copy, row_scale_into, Arith, GradAcc, Kernel, Lanes};

/// Explicit Euler: order 1 for smooth drivers, 2α − 1 for α-Hölder paths (Euler–Young, SPEC §2).
pub struct Euler;

impl Scheme for Euler {
    fn name(&self) -> &'static str {
        "euler"
    }
    fn label(&self) -> &'static str {
        "Euler"
    }
    fn order(&self, driver: Regularity) -> f64 {
        match driver {
            Regularity::Smooth => 1.0,
            Regularity::Holder(a) => 2.0 * a - 1.0,
        }
    }
    fn stages(&self) -> usize {
        1
    }
    fn workspace_len(&self, m: usize) -> usize {
        m
    }
    fn step(&self, term: &Term, x: &mut [f64], ws: &mut Workspace) {
        let m = x.len();
        let k = &mut ws.buf[..m];
        term.field.eval(x, term.u, k, &mut ws.field);
        for (xi, ki) in x.iter_mut().zip(k.iter()) {
            *xi += term.h * ki;
        }
    }
    fn block_work_rows(&self, f: &dyn VectorField) -> usize {
        2 * f.state_dim() + f.block_scratch_rows()
    }
    fn step_block(&self, term: &Term, lanes: usize, x: &mut [Lanes], tape: &mut [Lanes], work: &mut [Lanes]) {
        dispatch(&mut Forward {
            term,
            lanes,
            x,
            tape,
            work,
        })
    }
    fn step_block_vjp(
        &self,
        term: &Term,
        lanes: usize,
        tape: &[Lanes],
        lam: &mut [Lanes],
        acc: &mut GradAcc,
        work: &mut [Lanes],
    ) {
        dispatch(&mut Reverse {
            term,
            lanes,
            tape,
            lam,
            acc,
            work,
        })
    }
}

/// One block step (a [`Kernel`], so the row arithmetic runs with the CPU's best instruction set).
struct Forward<'a, 'b> {
    term: &'a Term<'b>,
    lanes: usize,
    x: &'a mut [Lanes],
    tape: &'a mut [Lanes],
    work: &'a mut [Lanes],
}

impl Kernel for Forward<'_, '_> {
    #[inline(always)]
    fn run<A: Arith>(&mut self) {
        let (term, n) = (self.term, self.lanes);
        let f = term.field;
        let m = f.state_dim();
        let (xi, ftape) = take(self.tape, m);
        for (r, xr) in xi.iter_mut().zip(self.x.iter()) {
            row_copy(n, r, xr);
        }
        let (k, scratch) = take(self.work, m);
        f.eval_block(&mut EvalArgs {
            lanes: n,
            u: term.u,
            x: xi,
            out: k,
            tape: ftape,
            scratch,
        });
        for (xr, kr) in self.x[..m].iter_mut().zip(k.iter()) {
            lane_axpy::<A>(n, xr, term.h, kr);
        }
    }
}

/// The exact reverse of one block step (a [`Kernel`]).
struct Reverse<'a, 'b, 'c> {
    term: &'a Term<'b>,
    lanes: usize,
    tape: &'a [Lanes],
    lam: &'a mut [Lanes],
    acc: &'a mut GradAcc<'c>,
    work: &'a mut [Lanes],
}

impl Kernel for Reverse<'_, '_, '_> {
    #[inline(always)]
    fn run<A: Arith>(&mut self) {
        let (term, n) = (self.term, self.lanes);
        let f = term.field;
        let m = f.state_dim();
        let (xi, ftape) = self.tape.split_at(m);
        let (w, rest) = take(self.work, m);
        let (ybar, scratch) = take(rest, m);
        for (wr, lr) in w.iter_mut().zip(self.lam.iter()) {
            row_scale_into(n, wr, term.h, lr);
        }
        let (acc_u, acc_lanes) = self.acc.parts();
        f.vjp_block(&mut VjpArgs {
            lanes: n,
            u: term.u,
            x: xi,
            tape: ftape,
            w,
            out_x: ybar,
            acc_u,
            acc_lanes,
            scratch,
        });
        for (lr, yr) in self.lam[..m].iter_mut().zip(ybar.iter()) {
            row_add(n, lr, yr);
        }
    }
}
