//! Classical Runge–Kutta (1/6, 2/6, 2/6, 1/6) with the control frozen over the step (SPEC §1–2):
//!   k1 = f(ξ1), ξ1 = x;  k2 = f(ξ2), ξ2 = x + h/2 k1;  k3 = f(ξ3), ξ3 = x + h/2 k2;  k4 = f(ξ4), ξ4 = x + h k3;
//!   x⁺ = x + h/6 (k1 + 2k2 + 2k3 + k4).
//! Reverse step (exact discrete adjoint of the above), with λ = ∂J/∂x⁺ and J(ξ)ᵀ the field's reverse product:
//!   k̄4 = h/6 λ, ȳ4 = J(ξ4)ᵀ k̄4;  k̄3 = h/3 λ + h ȳ4, ȳ3 = J(ξ3)ᵀ k̄3;  k̄2 = h/3 λ + h/2 ȳ3, ȳ2 = J(ξ2)ᵀ k̄2;
//!   k̄1 = h/6 λ + h/2 ȳ2, ȳ1 = J(ξ1)ᵀ k̄1;  λ_n = λ + ȳ4 + ȳ3 + ȳ2 + ȳ1;  ḡ_u += Σ_s J_u(ξs)ᵀ k̄s.
//! Tape of a block step: for s = 1..4, [ξs | the field's tape at ξs] — the reverse never re-evaluates the field.

use super::{axpy_into, take, Scheme, Term, Workspace};
use crate::control::Regularity;
use crate::field::{EvalArgs, VectorField, VjpArgs};
use crate::simd::{
    dispatch, lane_axpy, lane_axpy_into, lane_lincomb_into, row_add, row_copy, row_scale_into, Arith, GradAcc, Kernel,
    Lanes,
};

/// Classical RK4: order 4 for smooth drivers. For an α-Hölder path of non-commuting fields it matches the
/// simplified step-2 scheme's rate 2α − ½ (its second-order terms are the symmetric ½ ΔU^j ΔU^l ones; the Lévy
/// area is missing, SPEC §2).
pub struct Rk4;

const B: [f64; 4] = [1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0];

impl Scheme for Rk4 {
    fn name(&self) -> &'static str {
        "rk4"
    }
    fn label(&self) -> &'static str {
        "RK4"
    }
    fn order(&self, driver: Regularity) -> f64 {
        match driver {
            Regularity::Smooth => 4.0,
            Regularity::Holder(a) => 2.0 * a - 0.5,
        }
    }
    fn stages(&self) -> usize {
        4
    }
    fn workspace_len(&self, m: usize) -> usize {
        5 * m
    }
    fn step(&self, term: &Term, x: &mut [f64], ws: &mut Workspace) {
        let (f, u, h) = (term.field, term.u, term.h);
        let m = x.len();
        let (k1, rest) = ws.buf.split_at_mut(m);
        let (k2, rest) = rest.split_at_mut(m);
        let (k3, rest) = rest.split_at_mut(m);
        let (k4, rest) = rest.split_at_mut(m);
        let y = &mut rest[..m];
        let s = &mut ws.field;
        f.eval(x, u, k1, s);
        axpy_into(y, x, 0.5 * h, k1);
        f.eval(y, u, k2, s);
        axpy_into(y, x, 0.5 * h, k2);
        f.eval(y, u, k3, s);
        axpy_into(y, x, h, k3);
        f.eval(y, u, k4, s);
        let c = h / 6.0;
        for i in 0..m {
            x[i] += c * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
    fn block_work_rows(&self, f: &dyn VectorField) -> usize {
        3 * f.state_dim() + f.block_scratch_rows()
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
        let (m, h) = (f.state_dim(), term.h);
        let per = m + f.tape_rows();
        let (k, rest) = take(self.work, m);
        let (sum, scratch) = take(rest, m);
        let c = [0.0, 0.5 * h, 0.5 * h, h];
        for (s, &cs) in c.iter().enumerate() {
            let (xi, ftape) = take(&mut self.tape[s * per..(s + 1) * per], m);
            if s == 0 {
                for (r, xr) in xi.iter_mut().zip(self.x.iter()) {
                    row_copy(n, r, xr);
                }
            } else {
                for ((r, xr), kr) in xi.iter_mut().zip(self.x.iter()).zip(k.iter()) {
                    lane_axpy_into::<A>(n, r, cs, kr, xr);
                }
            }
            f.eval_block(&mut EvalArgs {
                lanes: n,
                u: term.u,
                x: xi,
                out: k,
                tape: ftape,
                scratch,
            });
            // sum = k1 + 2 k2 + 2 k3 + k4, accumulated stage by stage.
            let wgt = if s == 0 || s == 3 { 1.0 } else { 2.0 };
            for (ar, kr) in sum.iter_mut().zip(k.iter()) {
                if s == 0 {
                    row_copy(n, ar, kr);
                } else {
                    lane_axpy::<A>(n, ar, wgt, kr);
                }
            }
        }
        for (xr, ar) in self.x[..m].iter_mut().zip(sum.iter()) {
            lane_axpy::<A>(n, xr, h / 6.0, ar);
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
        let (m, h) = (f.state_dim(), term.h);
        let per = m + f.tape_rows();
        let (kbar, rest) = take(self.work, m);
        let (ybar, rest) = take(rest, m);
        let (sum, scratch) = take(rest, m);
        // Coefficient of ȳ_{s+1} in k̄_s (stage s = 3 has none).
        let c_next = [0.5 * h, 0.5 * h, h, 0.0];
        for (ar, lr) in sum.iter_mut().zip(self.lam.iter()) {
            row_copy(n, ar, lr);
        }
        for s in (0..4).rev() {
            let (xi, ftape) = self.tape[s * per..(s + 1) * per].split_at(m);
            for ((kr, lr), yr) in kbar.iter_mut().zip(self.lam.iter()).zip(ybar.iter()) {
                if s == 3 {
                    row_scale_into(n, kr, h * B[s], lr);
                } else {
                    lane_lincomb_into::<A>(n, kr, h * B[s], lr, c_next[s], yr);
                }
            }
            let (acc_u, acc_lanes) = self.acc.parts();
            f.vjp_block(&mut VjpArgs {
                lanes: n,
                u: term.u,
                x: xi,
                tape: ftape,
                w: kbar,
                out_x: ybar,
                acc_u,
                acc_lanes,
                scratch,
            });
            for (ar, yr) in sum.iter_mut().zip(ybar.iter()) {
                row_add(n, ar, yr);
            }
        }
        for (lr, ar) in self.lam[..m].iter_mut().zip(sum.iter()) {
            row_copy(n, lr, ar);
        }
    }
}
