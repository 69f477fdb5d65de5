//! Vector fields f(x, u) of the controlled ODE dX/dt = f(X, u(t)) (SPEC §1), evaluated one point at a time.
//!
//! Every family provides the exact derivatives later stages need, split by capability and in place
//! (ARCHITECTURE habit 3): the value, the Jacobian–vector product (∂f/∂x) v, and the vector–Jacobian products
//! (∂f/∂x)ᵀ w and (∂f/∂u)ᵀ w. Methods never allocate: each takes a `scratch` slice of at least
//! [`VectorField::scratch_len`] numbers, sized once per worker.
//!
//! Families: [`affine::AffineField`] (Σ_j u_j V_j(x) with linear, constant, polynomial or random-feature V_j),
//! [`node::Node`] (σ(Wx + b)), [`node::Node2`] (Wσ(x) + b), [`node::ResNetField`] (σ(Wx)), [`mlp::Mlp`] (an MLP
//! m → w_1 → … → m with u = its parameters).

pub mod activation;
pub mod affine;
pub mod mlp;
pub mod node;
#[cfg(test)]
pub(crate) mod test_support;

pub use activation::Activation;

use nalgebra::DMatrix;

/// A controlled vector field f : R^m × R^d → R^m.
pub trait VectorField: Send + Sync {
    /// State dimension m.
    fn state_dim(&self) -> usize;
    /// Control dimension d (number of control values per interval).
    fn control_dim(&self) -> usize;
    /// Scratch numbers the methods below need.
    fn scratch_len(&self) -> usize {
        0
    }
    /// out = f(x, u).
    fn eval(&self, x: &[f64], u: &[f64], out: &mut [f64], scratch: &mut [f64]);
    /// out = (∂f/∂x)(x, u) · v.
    fn jvp_x(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64], scratch: &mut [f64]);
    /// out = (∂f/∂x)(x, u)ᵀ · w.
    fn vjp_x(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], scratch: &mut [f64]);
    /// out += (∂f/∂u)(x, u)ᵀ · w (accumulates, so per-point contributions add up in place).
    fn vjp_u_acc(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], scratch: &mut [f64]);
    /// Both reverse products at one point: out_x = (∂f/∂x)ᵀ w and out_u += (∂f/∂u)ᵀ w. Families whose two
    /// products share work (the MLP's forward recomputation) override this fused version; the result must be
    /// bit-identical to calling [`VectorField::vjp_x`] and [`VectorField::vjp_u_acc`].
    fn vjp_both(&self, x: &[f64], u: &[f64], w: &[f64], out_x: &mut [f64], out_u_acc: &mut [f64], scratch: &mut [f64]) {
        self.vjp_x(x, u, w, out_x, scratch);
        self.vjp_u_acc(x, u, w, out_u_acc, scratch);
    }
    /// Short human-readable description (for manifests and `lieflow list`).
    fn describe(&self) -> String;
    /// Names of the d control values of one interval, in their storage order (CSV headers of controls files and
    /// gradients): `u1 … ud` unless the family knows its layout (nODE `W11, W12, …, b1, …`; MLP layer-wise).
    fn control_names(&self) -> Vec<String> {
        (1..=self.control_dim()).map(|j| format!("u{j}")).collect()
    }
}

/// `W11, W12, …` (row-major m × m) — `W1_10` style with an underscore once an index has two digits.
pub(crate) fn matrix_names(name: &str, rows: usize, cols: usize) -> Vec<String> {
    let sep = if rows > 9 || cols > 9 { "_" } else { "" };
    (1..=rows)
        .flat_map(|i| (1..=cols).map(move |j| format!("{name}{i}{sep}{j}")))
        .collect()
}

/// Dense ∂f/∂x (m × m), assembled column by column from [`VectorField::jvp_x`]. Allocates: for tests,
/// diagnostics and the Lie tools, not for step loops.
pub fn jacobian_x(f: &dyn VectorField, x: &[f64], u: &[f64]) -> DMatrix<f64> {
    let m = f.state_dim();
    let mut scratch = vec![0.0; f.scratch_len()];
    let mut j = DMatrix::zeros(m, m);
    let mut e = vec![0.0; m];
    let mut col = vec![0.0; m];
    for c in 0..m {
        e.iter_mut().for_each(|v| *v = 0.0);
        e[c] = 1.0;
        f.jvp_x(x, u, &e, &mut col, &mut scratch);
        for r in 0..m {
            j[(r, c)] = col[r];
        }
    }
    j
}

/// Dense ∂f/∂u (m × d), assembled row by row from [`VectorField::vjp_u_acc`]. Allocates.
pub fn jacobian_u(f: &dyn VectorField, x: &[f64], u: &[f64]) -> DMatrix<f64> {
    let (m, d) = (f.state_dim(), f.control_dim());
    let mut scratch = vec![0.0; f.scratch_len()];
    let mut j = DMatrix::zeros(m, d);
    let mut e = vec![0.0; m];
    let mut row = vec![0.0; d];
    for r in 0..m {
        e.iter_mut().for_each(|v| *v = 0.0);
        e[r] = 1.0;
        row.iter_mut().for_each(|v| *v = 0.0);
        f.vjp_u_acc(x, u, &e, &mut row, &mut scratch);
        for c in 0..d {
            j[(r, c)] = row[c];
        }
    }
    j
}

/// Central finite-difference Jacobians (∂f/∂x, ∂f/∂u) with step h_i = ε^{1/3}(1 + |z_i|) (ARCHITECTURE habit 10).
pub fn fd_jacobians(f: &dyn VectorField, x: &[f64], u: &[f64]) -> (DMatrix<f64>, DMatrix<f64>) {
    let (m, d) = (f.state_dim(), f.control_dim());
    let mut scratch = vec![0.0; f.scratch_len()];
    let eps3 = f64::EPSILON.cbrt();
    let mut fp = vec![0.0; m];
    let mut fm = vec![0.0; m];
    let mut jx = DMatrix::zeros(m, m);
    let mut jx_in = x.to_vec();
    for c in 0..m {
        let h = eps3 * (1.0 + x[c].abs());
        jx_in[c] = x[c] + h;
        f.eval(&jx_in, u, &mut fp, &mut scratch);
        jx_in[c] = x[c] - h;
        f.eval(&jx_in, u, &mut fm, &mut scratch);
        jx_in[c] = x[c];
        for r in 0..m {
            jx[(r, c)] = (fp[r] - fm[r]) / (2.0 * h);
        }
    }
    let mut ju = DMatrix::zeros(m, d);
    let mut ju_in = u.to_vec();
    for c in 0..d {
        let h = eps3 * (1.0 + u[c].abs());
        ju_in[c] = u[c] + h;
        f.eval(x, &ju_in, &mut fp, &mut scratch);
        ju_in[c] = u[c] - h;
        f.eval(x, &ju_in, &mut fm, &mut scratch);
        ju_in[c] = u[c];
        for r in 0..m {
            ju[(r, c)] = (fp[r] - fm[r]) / (2.0 * h);
        }
    }
    (jx, ju)
}
