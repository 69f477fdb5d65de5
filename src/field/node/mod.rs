//! Neural-ODE fields (SPEC §1 table; seed 001 nODE / nODE₂, seed 004 (2.4)). W ∈ R^{m×m} is stored row-major in u
//! (u[r·m + k] = W_rk), followed by b ∈ R^m where present. σ is applied componentwise.
//!
//! ```text
//! Node:        f = σ(z), z = W x + b, d = m² + m;  ∂f/∂x = diag σ'(z) W,  ∂f_r/∂W_rk = σ'(z_r) x_k,  ∂f_r/∂b_r = σ'(z_r)
//! Node2:       f = W σ(x) + b, d = m² + m;         ∂f/∂x = W diag σ'(x),  ∂f_r/∂W_rk = σ(x_k),        ∂f_r/∂b_r = 1
//! ResNetField: f = σ(W x), d = m² (no bias);       ∂f/∂x = diag σ'(Wx) W, ∂f_r/∂W_rk = σ'((Wx)_r) x_k
//! ```
//! [`Node`] is the nODE of seed 001, [`Node2`] its control-affine variant nODE₂, [`ResNetField`] the depth-limit
//! ResNet of SPEC §6 (seed 004 (2.4)).
//!
//! Allocation-free: [`Node`] and [`ResNetField`] work row by row without scratch; [`Node2`] keeps σ(x) (or σ'(x)⊙v)
//! in `scratch[..m]`.
//!
//! Block forms (lanes = points): Node/ResNet compute z_i = b_i + Σ_j W_ij x_j row by row, then (σ(z), σ'(z)) with
//! the vectorised activation, σ'(z) going to the tape (m rows); the reverse product forms g = w ⊙ σ'(z),
//! (∂f/∂x)ᵀ w = Wᵀ g, ∂/∂W_ij += Σ_p g_i x_j, ∂/∂b_i += Σ_p g_i. Node₂ tapes σ(x) and σ'(x) (2m rows):
//! (∂f/∂x)ᵀ w = σ'(x) ⊙ Wᵀ w, ∂/∂W_rk += Σ_p w_r σ(x_k), ∂/∂b_r += Σ_p w_r.

use super::{Activation, ControlAffine, EvalArgs, VectorField, VjpArgs};
use crate::simd;

mod block;
mod spec;
pub use spec::{Node2Spec, NodeSpec, ResnetSpec};

/// Row r of W (row-major in u).
#[inline]
fn row(u: &[f64], m: usize, r: usize) -> &[f64] {
    &u[r * m..(r + 1) * m]
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// Shared implementation of σ(W x + b) (bias = true) and σ(W x) (bias = false).
#[derive(Clone, Copy)]
pub(super) struct SigmaWx<'a> {
    m: usize,
    act: &'a Activation,
    bias: bool,
}

impl SigmaWx<'_> {
    #[inline]
    fn pre(&self, x: &[f64], u: &[f64], r: usize) -> f64 {
        let z = dot(row(u, self.m, r), x);
        if self.bias {
            z + u[self.m * self.m + r]
        } else {
            z
        }
    }

    fn eval(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        for (r, o) in out.iter_mut().enumerate() {
            *o = self.act.eval(self.pre(x, u, r));
        }
    }

    fn jvp_x(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        for (r, o) in out.iter_mut().enumerate() {
            *o = self.act.deriv(self.pre(x, u, r)) * dot(row(u, self.m, r), v);
        }
    }

    fn vjp_x(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for (r, &wr) in w.iter().enumerate() {
            let g = self.act.deriv(self.pre(x, u, r)) * wr;
            for (o, &wrk) in out.iter_mut().zip(row(u, self.m, r)) {
                *o += wrk * g;
            }
        }
    }

    fn vjp_u_acc(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64]) {
        let m = self.m;
        for (r, &wr) in w.iter().enumerate() {
            let g = self.act.deriv(self.pre(x, u, r)) * wr;
            for (o, &xk) in out[r * m..(r + 1) * m].iter_mut().zip(x) {
                *o += g * xk;
            }
            if self.bias {
                out[m * m + r] += g;
            }
        }
    }
}

/// nODE f(x, u) = σ(W x + b), u = (W row-major, b), d = m² + m.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub m: usize,
    pub act: Activation,
}

impl Node {
    pub fn new(m: usize, act: Activation) -> Self {
        Node { m, act }
    }

    fn imp(&self) -> SigmaWx<'_> {
        SigmaWx {
            m: self.m,
            act: &self.act,
            bias: true,
        }
    }
}

impl VectorField for Node {
    fn state_dim(&self) -> usize {
        self.m
    }
    fn control_dim(&self) -> usize {
        self.m * self.m + self.m
    }
    fn eval(&self, x: &[f64], u: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(x.len() == self.m && u.len() == self.control_dim() && out.len() == self.m);
        self.imp().eval(x, u, out)
    }
    fn jvp_x(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(v.len() == self.m && out.len() == self.m);
        self.imp().jvp_x(x, u, v, out)
    }
    fn vjp_x(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(w.len() == self.m && out.len() == self.m);
        self.imp().vjp_x(x, u, w, out)
    }
    fn vjp_u_acc(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(w.len() == self.m && out.len() == self.control_dim());
        self.imp().vjp_u_acc(x, u, w, out)
    }
    fn tape_rows(&self) -> usize {
        self.m
    }
    fn acc_lane_rows(&self) -> usize {
        block::acc_rows(self.m, self.control_dim())
    }
    fn block_scratch_rows(&self) -> usize {
        self.m
    }
    fn eval_block(&self, a: &mut EvalArgs) {
        simd::eval(&self.imp(), a)
    }
    fn vjp_block(&self, a: &mut VjpArgs) {
        simd::vjp(&self.imp(), a)
    }
    fn control_names(&self) -> Vec<String> {
        let mut v = super::matrix_names("W", self.m, self.m);
        v.extend((1..=self.m).map(|i| format!("b{i}")));
        v
    }
    fn describe(&self) -> String {
        format!(
            "nODE σ(Wx + b), m = {}, d = {}, σ = {}",
            self.m,
            self.control_dim(),
            self.act.name()
        )
    }
}

/// Depth-limit ResNet field f(x, u) = σ(W x), u = W row-major, d = m² (SPEC §6, seed 004 (2.4)).
#[derive(Clone, Debug, PartialEq)]
pub struct ResNetField {
    pub m: usize,
    pub act: Activation,
}

impl ResNetField {
    pub fn new(m: usize, act: Activation) -> Self {
        ResNetField { m, act }
    }

    fn imp(&self) -> SigmaWx<'_> {
        SigmaWx {
            m: self.m,
            act: &self.act,
            bias: false,
        }
    }
}

impl VectorField for ResNetField {
    fn state_dim(&self) -> usize {
        self.m
    }
    fn control_dim(&self) -> usize {
        self.m * self.m
    }
    fn eval(&self, x: &[f64], u: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(x.len() == self.m && u.len() == self.control_dim() && out.len() == self.m);
        self.imp().eval(x, u, out)
    }
    fn jvp_x(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(v.len() == self.m && out.len() == self.m);
        self.imp().jvp_x(x, u, v, out)
    }
    fn vjp_x(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(w.len() == self.m && out.len() == self.m);
        self.imp().vjp_x(x, u, w, out)
    }
    fn vjp_u_acc(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(w.len() == self.m && out.len() == self.control_dim());
        self.imp().vjp_u_acc(x, u, w, out)
    }
    fn tape_rows(&self) -> usize {
        self.m
    }
    fn acc_lane_rows(&self) -> usize {
        block::acc_rows(self.m, self.control_dim())
    }
    fn block_scratch_rows(&self) -> usize {
        self.m
    }
    fn eval_block(&self, a: &mut EvalArgs) {
        simd::eval(&self.imp(), a)
    }
    fn vjp_block(&self, a: &mut VjpArgs) {
        simd::vjp(&self.imp(), a)
    }
    fn control_names(&self) -> Vec<String> {
        super::matrix_names("W", self.m, self.m)
    }
    fn describe(&self) -> String {
        format!(
            "ResNet σ(Wx), m = {}, d = {}, σ = {}",
            self.m,
            self.control_dim(),
            self.act.name()
        )
    }
}

/// nODE₂ f(x, u) = W σ(x) + b, u = (W row-major, b), d = m² + m (control-affine).
#[derive(Clone, Debug, PartialEq)]
pub struct Node2 {
    pub m: usize,
    pub act: Activation,
}

impl Node2 {
    pub fn new(m: usize, act: Activation) -> Self {
        Node2 { m, act }
    }

    /// out = V_j(x) for the control-affine form f = Σ_j u_j V_j: V_{r·m+k}(x) = σ(x_k) e_r, V_{m²+r}(x) = e_r.
    pub fn basis_eval(&self, j: usize, x: &[f64], out: &mut [f64]) {
        let m = self.m;
        debug_assert!(j < m * m + m && x.len() == m && out.len() == m);
        out.fill(0.0);
        if j < m * m {
            out[j / m] = self.act.eval(x[j % m]);
        } else {
            out[j - m * m] = 1.0;
        }
    }

    /// out = DV_j(x) · v: σ'(x_k) v_k e_r for j = r·m + k, and 0 for the bias fields.
    pub fn basis_jvp(&self, j: usize, x: &[f64], v: &[f64], out: &mut [f64]) {
        let m = self.m;
        debug_assert!(j < m * m + m && x.len() == m && v.len() == m && out.len() == m);
        out.fill(0.0);
        if j < m * m {
            let k = j % m;
            out[j / m] = self.act.deriv(x[k]) * v[k];
        }
    }
}

impl VectorField for Node2 {
    fn state_dim(&self) -> usize {
        self.m
    }
    fn control_dim(&self) -> usize {
        self.m * self.m + self.m
    }
    fn scratch_len(&self) -> usize {
        self.m
    }
    fn eval(&self, x: &[f64], u: &[f64], out: &mut [f64], scratch: &mut [f64]) {
        let m = self.m;
        debug_assert!(x.len() == m && u.len() == self.control_dim() && out.len() == m && scratch.len() >= m);
        let s = &mut scratch[..m];
        for (sk, &xk) in s.iter_mut().zip(x) {
            *sk = self.act.eval(xk);
        }
        for (r, o) in out.iter_mut().enumerate() {
            *o = dot(row(u, m, r), s) + u[m * m + r];
        }
    }
    fn jvp_x(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64], scratch: &mut [f64]) {
        let m = self.m;
        debug_assert!(v.len() == m && out.len() == m && scratch.len() >= m);
        let s = &mut scratch[..m];
        for ((sk, &xk), &vk) in s.iter_mut().zip(x).zip(v) {
            *sk = self.act.deriv(xk) * vk;
        }
        for (r, o) in out.iter_mut().enumerate() {
            *o = dot(row(u, m, r), s);
        }
    }
    fn vjp_x(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        let m = self.m;
        debug_assert!(w.len() == m && out.len() == m);
        out.fill(0.0);
        for (r, &wr) in w.iter().enumerate() {
            for (o, &wrk) in out.iter_mut().zip(row(u, m, r)) {
                *o += wrk * wr;
            }
        }
        for (o, &xk) in out.iter_mut().zip(x) {
            *o *= self.act.deriv(xk);
        }
    }
    fn vjp_u_acc(&self, x: &[f64], _u: &[f64], w: &[f64], out: &mut [f64], scratch: &mut [f64]) {
        let m = self.m;
        debug_assert!(w.len() == m && out.len() == self.control_dim() && scratch.len() >= m);
        let s = &mut scratch[..m];
        for (sk, &xk) in s.iter_mut().zip(x) {
            *sk = self.act.eval(xk);
        }
        for (r, &wr) in w.iter().enumerate() {
            for (o, &sk) in out[r * m..(r + 1) * m].iter_mut().zip(s.iter()) {
                *o += wr * sk;
            }
            out[m * m + r] += wr;
        }
    }
    fn tape_rows(&self) -> usize {
        2 * self.m
    }
    fn acc_lane_rows(&self) -> usize {
        block::acc_rows(self.m, self.control_dim())
    }
    fn block_scratch_rows(&self) -> usize {
        0
    }
    fn eval_block(&self, a: &mut EvalArgs) {
        simd::eval(self, a)
    }
    fn vjp_block(&self, a: &mut VjpArgs) {
        simd::vjp(self, a)
    }
    fn control_affine(&self) -> Option<&dyn ControlAffine> {
        Some(self)
    }
    fn control_names(&self) -> Vec<String> {
        let mut v = super::matrix_names("W", self.m, self.m);
        v.extend((1..=self.m).map(|i| format!("b{i}")));
        v
    }
    fn describe(&self) -> String {
        format!(
            "nODE₂ Wσ(x) + b, m = {}, d = {}, σ = {}",
            self.m,
            self.control_dim(),
            self.act.name()
        )
    }
}

impl ControlAffine for Node2 {
    fn basis_eval(&self, j: usize, x: &[f64], out: &mut [f64]) {
        Node2::basis_eval(self, j, x, out)
    }
    fn basis_jvp(&self, j: usize, x: &[f64], v: &[f64], out: &mut [f64]) {
        Node2::basis_jvp(self, j, x, v, out)
    }
}

#[cfg(test)]
mod tests;
