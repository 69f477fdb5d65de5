//! Vector fields f(x, u) of the controlled ODE dX/dt = f(X, u(t)) (SPEC §1).
//!
//! Every family provides the exact derivatives later stages need, split by capability and in place
//! (ARCHITECTURE habit 3), in two forms:
//!
//! * **block methods** — the engine's: [`VectorField::eval_block`] and [`VectorField::vjp_block`] act on a block
//!   of up to [`LANES`] points in structure-of-arrays layout (one row of lanes per component). The evaluation
//!   fills a *tape* with what the reverse product needs (σ'(z), σ(x), an MLP's activations), so the reverse
//!   sweep never recomputes the field. Families implement them through [`crate::simd::BlockKernels`] (one
//!   kernel, generic over the arithmetic, run under the CPU's best instruction set); the defaults loop the
//!   per-point methods over the lanes, so a new family works on day one and becomes fast when it overrides them;
//! * **per-point methods** — for the adaptive reference solver, the Lie tools, the continuous adjoint and tests:
//!   the value, the Jacobian–vector product (∂f/∂x) v, and the vector–Jacobian products (∂f/∂x)ᵀ w and
//!   (∂f/∂u)ᵀ w.
//!
//! No method allocates: each takes scratch sized once per worker ([`VectorField::scratch_len`],
//! [`VectorField::block_scratch_rows`]). Control-affine families also expose their basis fields V_j through
//! [`ControlAffine`] (what the Young schemes need: Σ_j V_j ΔU^j and Σ_{j,l} (DV_l V_j) ΔU^j ΔU^l).
//!
//! Families: [`affine::AffineField`] (Σ_j u_j V_j(x) with linear, constant, polynomial or random-feature V_j),
//! [`node::Node`] (σ(Wx + b)), [`node::Node2`] (Wσ(x) + b), [`node::ResNetField`] (σ(Wx)), [`mlp::Mlp`] (an MLP
//! m → w_1 → … → m with u = its parameters). Each family's module also holds its `[model]` specification (a
//! [`family::ModelDef`]); the scenario layer's registry `scenario::families::FAMILIES` lists them, so a new family
//! is its file plus one registry line.

pub mod activation;
pub mod affine;
pub mod family;
pub mod mlp;
pub mod node;
#[cfg(test)]
pub(crate) mod test_support;

pub use crate::simd::{EvalArgs, VjpArgs};
pub use activation::Activation;

use crate::simd::{Lanes, LANES};
use nalgebra::DMatrix;

/// A control-affine field f(x, u) = Σ_j u_j V_j(x) (SPEC §1 (affine)), seen through its basis fields.
pub trait ControlAffine {
    /// out = V_j(x).
    fn basis_eval(&self, j: usize, x: &[f64], out: &mut [f64]);
    /// out = DV_j(x) · v.
    fn basis_jvp(&self, j: usize, x: &[f64], v: &[f64], out: &mut [f64]);
}

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

    /// Rows of tape one [`VectorField::eval_block`] fills for [`VectorField::vjp_block`] (default 0: the default
    /// reverse product recomputes from x).
    fn tape_rows(&self) -> usize {
        0
    }
    /// Rows of per-lane gradient accumulators [`VectorField::vjp_block`] uses ([`crate::simd::GradAcc`]): d for
    /// families with few control values (no horizontal sum per call), 0 (the default) for those that reduce
    /// into `acc_u` themselves.
    fn acc_lane_rows(&self) -> usize {
        0
    }
    /// Working rows of lanes the block methods need.
    fn block_scratch_rows(&self) -> usize {
        // The defaults: per-point scratch and four m-vectors, packed into rows.
        (self.scratch_len() + 4 * self.state_dim()).div_ceil(LANES)
    }
    /// out = f(x, u) for the first `lanes` points of the block, filling the tape (see [`EvalArgs`]).
    /// Default: [`VectorField::eval`] lane by lane.
    fn eval_block(&self, a: &mut EvalArgs) {
        per_point_eval_block(self, a)
    }
    /// out_x = (∂f/∂x)ᵀ w and acc_u += Σ_lanes (∂f/∂u)ᵀ w at the points whose evaluation filled the tape (see
    /// [`VjpArgs`]). Default: [`VectorField::vjp_both`] lane by lane, accumulating in lane order.
    fn vjp_block(&self, a: &mut VjpArgs) {
        per_point_vjp_block(self, a)
    }
    /// The basis fields, when f is control-affine (f(x, u) = Σ_j u_j V_j(x)).
    fn control_affine(&self) -> Option<&dyn ControlAffine> {
        None
    }
    /// Names of the d control values of one interval, in their storage order (CSV headers of controls files and
    /// gradients): `u1 … ud` unless the family knows its layout (nODE `W11, W12, …, b1, …`; MLP layer-wise).
    fn control_names(&self) -> Vec<String> {
        (1..=self.control_dim()).map(|j| format!("u{j}")).collect()
    }
}

/// [`VectorField::eval_block`] by the per-point [`VectorField::eval`], lane by lane (the default; needs
/// `scratch_len() + 4m` numbers of block scratch).
pub fn per_point_eval_block<F: VectorField + ?Sized>(f: &F, a: &mut EvalArgs) {
    let m = f.state_dim();
    let flat = lanes_flat(a.scratch);
    let (xp, rest) = flat.split_at_mut(m);
    let (fp, s) = rest.split_at_mut(m);
    for p in 0..a.lanes {
        gather(a.x, p, xp);
        f.eval(xp, a.u, fp, s);
        scatter(fp, a.out, p);
    }
}

/// [`VectorField::vjp_block`] by the per-point [`VectorField::vjp_both`], lane by lane, accumulating ∂/∂u into
/// `acc_u` in lane order (the default; the tape is not read).
pub fn per_point_vjp_block<F: VectorField + ?Sized>(f: &F, a: &mut VjpArgs) {
    let m = f.state_dim();
    let flat = lanes_flat(a.scratch);
    let (xp, rest) = flat.split_at_mut(m);
    let (wp, rest) = rest.split_at_mut(m);
    let (op, s) = rest.split_at_mut(m);
    for p in 0..a.lanes {
        gather(a.x, p, xp);
        gather(a.w, p, wp);
        f.vjp_both(xp, a.u, wp, op, a.acc_u, s);
        scatter(op, a.out_x, p);
    }
}

/// Rows of lanes as one flat slice of numbers (scratch for the per-point defaults).
fn lanes_flat(rows: &mut [Lanes]) -> &mut [f64] {
    rows.as_flattened_mut()
}

/// Point p of a block (one number per row).
#[inline]
pub fn gather(rows: &[Lanes], p: usize, out: &mut [f64]) {
    for (o, r) in out.iter_mut().zip(rows) {
        *o = r[p];
    }
}

/// Write point p of a block.
#[inline]
pub fn scatter(v: &[f64], rows: &mut [Lanes], p: usize) {
    for (r, &x) in rows.iter_mut().zip(v) {
        r[p] = x;
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
