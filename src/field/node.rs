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

use super::{Activation, VectorField};

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
struct SigmaWx<'a> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::test_support::{all_activations, away_from_kinks, check_field, normal_vec};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// W x (+ b) for each row: the preactivations of Node / ResNetField.
    fn preacts(m: usize, u: &[f64], x: &[f64], bias: bool) -> Vec<f64> {
        (0..m)
            .map(|r| dot(row(u, m, r), x) + if bias { u[m * m + r] } else { 0.0 })
            .collect()
    }

    /// Random (x, u) whose preactivations (per family) stay off the kinks of σ.
    fn sample(f: &dyn VectorField, act: &Activation, kind: u8, rng: &mut ChaCha8Rng) -> (Vec<f64>, Vec<f64>) {
        let (m, d) = (f.state_dim(), f.control_dim());
        loop {
            let x: Vec<f64> = (0..m).map(|_| rng.gen_range(-1.5..1.5)).collect();
            let u: Vec<f64> = normal_vec(rng, d).iter().map(|z| 0.7 * z).collect();
            let pre = match kind {
                0 => preacts(m, &u, &x, true),
                1 => x.clone(),
                _ => preacts(m, &u, &x, false),
            };
            if away_from_kinks(act, &pre) {
                return (x, u);
            }
        }
    }

    #[test]
    fn node_families_jacobians_match_finite_differences_for_every_activation() {
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        for act in all_activations() {
            for m in 1..=4 {
                let fields: [Box<dyn VectorField>; 3] = [
                    Box::new(Node::new(m, act.clone())),
                    Box::new(Node2::new(m, act.clone())),
                    Box::new(ResNetField::new(m, act.clone())),
                ];
                for (kind, f) in fields.iter().enumerate() {
                    for _ in 0..4 {
                        let (x, u) = sample(f.as_ref(), &act, kind as u8, &mut rng);
                        let (jx, ju) = check_field(f.as_ref(), &x, &u, &mut rng);
                        // ReLU can switch every unit off; otherwise the Jacobians must be non-trivial.
                        if act != Activation::Relu {
                            assert!(jx > 0.0 && ju > 0.0, "{}: trivial Jacobian", f.describe());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn control_dimensions_and_layout() {
        assert_eq!(Node::new(3, Activation::Tanh).control_dim(), 12);
        assert_eq!(Node2::new(3, Activation::Tanh).control_dim(), 12);
        assert_eq!(ResNetField::new(3, Activation::Tanh).control_dim(), 9);
        // W = [[1, 2], [3, 4]] row-major, b = (10, 20), σ = identity: W x + b at x = (1, −1) is (9, 19).
        let u = [1.0, 2.0, 3.0, 4.0, 10.0, 20.0];
        let mut out = [0.0; 2];
        Node::new(2, Activation::Identity).eval(&[1.0, -1.0], &u, &mut out, &mut []);
        assert_eq!(out, [9.0, 19.0]);
        let mut s = [0.0; 2];
        Node2::new(2, Activation::Identity).eval(&[1.0, -1.0], &u, &mut out, &mut s);
        assert_eq!(out, [9.0, 19.0]);
        ResNetField::new(2, Activation::Identity).eval(&[1.0, -1.0], &u[..4], &mut out, &mut []);
        assert_eq!(out, [-1.0, -1.0]);
        // Node2 with σ = relu: only positive coordinates of x are seen.
        Node2::new(2, Activation::Relu).eval(&[1.0, -1.0], &u, &mut out, &mut s);
        assert_eq!(out, [11.0, 23.0]);
    }

    #[test]
    fn node2_basis_fields_agree_with_unit_controls() {
        let f = Node2::new(3, Activation::Sigmoid);
        let (x, v) = ([0.4, -1.2, 2.0], [0.5, -0.3, 0.9]);
        let (mut a, mut b, mut s) = ([0.0; 3], [0.0; 3], [0.0; 3]);
        for j in 0..12 {
            let mut u = [0.0; 12];
            u[j] = 1.0;
            f.eval(&x, &u, &mut a, &mut s);
            f.basis_eval(j, &x, &mut b);
            assert_eq!(a, b, "V_{j}");
            f.jvp_x(&x, &u, &v, &mut a, &mut s);
            f.basis_jvp(j, &x, &v, &mut b);
            assert_eq!(a, b, "DV_{j} v");
        }
    }

    #[test]
    fn node2_is_affine_in_the_control() {
        let f = Node2::new(3, Activation::Tanh);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let x = normal_vec(&mut rng, 3);
        let (u1, u2) = (normal_vec(&mut rng, 12), normal_vec(&mut rng, 12));
        let sum: Vec<f64> = u1.iter().zip(&u2).map(|(a, b)| a + b).collect();
        let (mut a, mut b, mut c, mut s) = ([0.0; 3], [0.0; 3], [0.0; 3], [0.0; 3]);
        f.eval(&x, &u1, &mut a, &mut s);
        f.eval(&x, &u2, &mut b, &mut s);
        f.eval(&x, &sum, &mut c, &mut s);
        for i in 0..3 {
            assert!((a[i] + b[i] - c[i]).abs() < 1e-12);
        }
    }
}
