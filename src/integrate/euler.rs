//! Explicit Euler: x_{n+1} = x_n + h f(x_n, u) — a residual layer (SPEC §1 "layer = timestep", §2).
//! Reverse step: λ_n = λ_{n+1} + h (∂f/∂x)ᵀ λ_{n+1}, ḡ_u += h (∂f/∂u)ᵀ λ_{n+1}.

use super::{Scheme, Workspace};
use crate::field::VectorField;

/// Explicit Euler, order 1.
pub struct Euler;

impl Scheme for Euler {
    fn name(&self) -> &'static str {
        "euler"
    }
    fn order(&self) -> u32 {
        1
    }
    fn workspace_len(&self, m: usize) -> usize {
        2 * m
    }
    fn step(&self, f: &dyn VectorField, u: &[f64], h: f64, x: &mut [f64], ws: &mut Workspace) {
        let m = x.len();
        let k = &mut ws.buf[..m];
        f.eval(x, u, k, &mut ws.field);
        for (xi, ki) in x.iter_mut().zip(k.iter()) {
            *xi += h * ki;
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
        let (w, jt) = ws.buf.split_at_mut(m);
        let jt = &mut jt[..m];
        for (wi, li) in w.iter_mut().zip(lam.iter()) {
            *wi = h * li;
        }
        f.vjp_both(x, u, w, jt, gu, &mut ws.field);
        for (li, ji) in lam.iter_mut().zip(jt.iter()) {
            *li += ji;
        }
    }
}
