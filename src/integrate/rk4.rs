//! Classical Runge–Kutta (1/6, 2/6, 2/6, 1/6) with the control frozen over the step (SPEC §1–2):
//!   k1 = f(x), k2 = f(x + h/2 k1), k3 = f(x + h/2 k2), k4 = f(x + h k3), x⁺ = x + h/6 (k1 + 2k2 + 2k3 + k4).
//! Reverse step (exact discrete adjoint of the above), with λ = ∂J/∂x⁺:
//!   k̄4 = h/6 λ, ȳ4 = J(y4)ᵀ k̄4;  k̄3 = h/3 λ + h ȳ4, ȳ3 = J(y3)ᵀ k̄3;  k̄2 = h/3 λ + h/2 ȳ3, ȳ2 = J(y2)ᵀ k̄2;
//!   k̄1 = h/6 λ + h/2 ȳ2;  λ_n = λ + ȳ4 + ȳ3 + ȳ2 + J(x)ᵀ k̄1;  ḡ_u += Σ_s J_u(y_s)ᵀ k̄s.

use super::{axpy_into, Scheme, Workspace};
use crate::field::VectorField;

/// Classical RK4, order 4.
pub struct Rk4;

impl Scheme for Rk4 {
    fn name(&self) -> &'static str {
        "rk4"
    }
    fn order(&self) -> u32 {
        4
    }
    fn workspace_len(&self, m: usize) -> usize {
        8 * m
    }
    fn step(&self, f: &dyn VectorField, u: &[f64], h: f64, x: &mut [f64], ws: &mut Workspace) {
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
    #[allow(clippy::too_many_arguments)]
    fn step_vjp(
        &self,
        f: &dyn VectorField,
        u: &[f64],
        h: f64,
        x: &[f64],
        lam: &mut [f64],
        gu: &mut [f64],
        ws: &mut Workspace,
    ) {
        let m = x.len();
        let (y2, rest) = ws.buf.split_at_mut(m);
        let (y3, rest) = rest.split_at_mut(m);
        let (y4, rest) = rest.split_at_mut(m);
        let (k, rest) = rest.split_at_mut(m);
        let (kbar, rest) = rest.split_at_mut(m);
        let (ybar, rest) = rest.split_at_mut(m);
        let acc = &mut rest[..m];
        let s = &mut ws.field;
        // Recompute the stage inputs from x_n.
        f.eval(x, u, k, s);
        axpy_into(y2, x, 0.5 * h, k);
        f.eval(y2, u, k, s);
        axpy_into(y3, x, 0.5 * h, k);
        f.eval(y3, u, k, s);
        axpy_into(y4, x, h, k);
        acc.copy_from_slice(lam);
        // Stage 4.
        for i in 0..m {
            kbar[i] = h / 6.0 * lam[i];
        }
        f.vjp_both(y4, u, kbar, ybar, gu, s);
        // Stage 3: y4 = x + h k3.
        for i in 0..m {
            acc[i] += ybar[i];
            kbar[i] = h / 3.0 * lam[i] + h * ybar[i];
        }
        f.vjp_both(y3, u, kbar, ybar, gu, s);
        // Stage 2: y3 = x + h/2 k2.
        for i in 0..m {
            acc[i] += ybar[i];
            kbar[i] = h / 3.0 * lam[i] + 0.5 * h * ybar[i];
        }
        f.vjp_both(y2, u, kbar, ybar, gu, s);
        // Stage 1: y2 = x + h/2 k1.
        for i in 0..m {
            acc[i] += ybar[i];
            kbar[i] = h / 6.0 * lam[i] + 0.5 * h * ybar[i];
        }
        f.vjp_both(x, u, kbar, ybar, gu, s);
        for i in 0..m {
            lam[i] = acc[i] + ybar[i];
        }
    }
}
