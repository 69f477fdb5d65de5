//! Control-affine fields (SPEC §1 (affine), seed 003 Cuchiero–Larsson–Teichmann):
//!
//! ```text
//! f(x, u) = Σ_{j=1..d} u_j V_j(x),   x ∈ R^m, u ∈ R^d,
//! ∂f/∂u = [V_1(x) | … | V_d(x)]   (column j is V_j(x)),
//! ∂f/∂x = Σ_j u_j DV_j(x).
//! ```
//!
//! Each V_j is a [`Basis`] field:
//!
//! ```text
//! linear:          V(x) = A x,                        DV = A
//! constant:        V(x) = c,                          DV = 0
//! polynomial:      V(x)_c = Σ_{t: comp(t)=c} coef_t Π_i x_i^{e_{t,i}},
//!                  ∂V_c/∂x_i = Σ_t coef_t e_{t,i} x_i^{e_{t,i}−1} Π_{k≠i} x_k^{e_{t,k}}  (no division: exact at x_i = 0)
//! random feature:  V(x) = σ(C x + b) componentwise,   DV = diag σ'(C x + b) C,  C, b fixed (RandomFeature::draw)
//! ```
//!
//! No method allocates and none needs scratch (`scratch_len() == 0`): the products are formed row by row.
//! [`AffineField::basis_eval`], [`AffineField::basis_jvp`] and [`AffineField::basis_vjp`] expose V_j and DV_j
//! individually for the Lie tools and the Young integrator.

mod block;
mod spec;
pub use spec::{AffineSpec, BasisSpec, MonomialSpec};

use super::{Activation, ControlAffine, EvalArgs, VectorField, VjpArgs};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// One monomial term coef · Π_i x_i^`exponents[i]` in output component `component`.
#[derive(Clone, Debug, PartialEq)]
pub struct Monomial {
    /// Output component c < m the term contributes to.
    pub component: usize,
    /// Exponent of each state coordinate (length m).
    pub exponents: Vec<u32>,
    /// Coefficient.
    pub coef: f64,
}

impl Monomial {
    /// coef · Π_i x_i^{e_i}.
    #[inline]
    pub fn value(&self, x: &[f64]) -> f64 {
        let mut p = self.coef;
        for (&xi, &e) in x.iter().zip(&self.exponents) {
            if e > 0 {
                p *= powu(xi, e);
            }
        }
        p
    }

    /// ∂/∂x_i of the term: coef · e_i x_i^{e_i − 1} Π_{k≠i} x_k^{e_k}.
    #[inline]
    pub fn partial(&self, x: &[f64], i: usize) -> f64 {
        let ei = self.exponents[i];
        if ei == 0 {
            return 0.0;
        }
        let mut p = self.coef * ei as f64 * powu(x[i], ei - 1);
        for (k, (&xk, &e)) in x.iter().zip(&self.exponents).enumerate() {
            if k != i && e > 0 {
                p *= powu(xk, e);
            }
        }
        p
    }

    /// Total degree Σ_i e_i.
    pub fn degree(&self) -> u32 {
        self.exponents.iter().sum()
    }
}

#[inline]
fn powu(x: f64, e: u32) -> f64 {
    // Exponents are validated to fit in i32 by `AffineField::new`.
    x.powi(e as i32)
}

/// A fixed random feature V(x) = σ(C x + b), C ∈ R^{m×m}, b ∈ R^m.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomFeature {
    pub c: DMatrix<f64>,
    pub b: Vec<f64>,
    pub activation: Activation,
}

impl RandomFeature {
    /// Draws C (row by row) and then b with independent N(0, scale²) entries from ChaCha8Rng seeded with `seed`.
    /// Deterministic: the same (m, seed, scale) gives bit-identical features on every platform.
    pub fn draw(m: usize, activation: Activation, seed: u64, scale: f64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut c = DMatrix::zeros(m, m);
        for r in 0..m {
            for k in 0..m {
                c[(r, k)] = scale * rng.sample::<f64, _>(StandardNormal);
            }
        }
        let b = (0..m).map(|_| scale * rng.sample::<f64, _>(StandardNormal)).collect();
        RandomFeature { c, b, activation }
    }

    /// Preactivation (C x + b)_r.
    #[inline]
    pub fn preactivation(&self, x: &[f64], r: usize) -> f64 {
        let mut z = self.b[r];
        for (k, &xk) in x.iter().enumerate() {
            z += self.c[(r, k)] * xk;
        }
        z
    }
}

/// One basis field V_j : R^m → R^m.
#[derive(Clone, Debug, PartialEq)]
pub enum Basis {
    /// V(x) = A x, A ∈ R^{m×m}.
    Linear { a: DMatrix<f64> },
    /// V(x) = c.
    Constant { c: Vec<f64> },
    /// V(x)_c = Σ of the terms with component c (sparse, any degree).
    Polynomial { terms: Vec<Monomial> },
    /// V(x) = σ(C x + b).
    RandomFeature(RandomFeature),
}

impl From<RandomFeature> for Basis {
    fn from(rf: RandomFeature) -> Self {
        Basis::RandomFeature(rf)
    }
}

impl Basis {
    /// out += alpha · V(x).
    #[inline]
    pub fn eval_acc(&self, x: &[f64], alpha: f64, out: &mut [f64]) {
        match self {
            Basis::Linear { a } => gemv_acc(a, x, alpha, out),
            Basis::Constant { c } => out.iter_mut().zip(c).for_each(|(o, ci)| *o += alpha * ci),
            Basis::Polynomial { terms } => {
                for t in terms {
                    out[t.component] += alpha * t.value(x);
                }
            }
            Basis::RandomFeature(rf) => {
                for (r, o) in out.iter_mut().enumerate() {
                    *o += alpha * rf.activation.eval(rf.preactivation(x, r));
                }
            }
        }
    }

    /// out += alpha · DV(x) v.
    #[inline]
    pub fn jvp_acc(&self, x: &[f64], v: &[f64], alpha: f64, out: &mut [f64]) {
        match self {
            Basis::Linear { a } => gemv_acc(a, v, alpha, out),
            Basis::Constant { .. } => {}
            Basis::Polynomial { terms } => {
                for t in terms {
                    let s: f64 = (0..x.len()).map(|i| t.partial(x, i) * v[i]).sum();
                    out[t.component] += alpha * s;
                }
            }
            Basis::RandomFeature(rf) => {
                for (r, o) in out.iter_mut().enumerate() {
                    let mut cv = 0.0;
                    for (k, &vk) in v.iter().enumerate() {
                        cv += rf.c[(r, k)] * vk;
                    }
                    *o += alpha * rf.activation.deriv(rf.preactivation(x, r)) * cv;
                }
            }
        }
    }

    /// out += alpha · DV(x)ᵀ w.
    #[inline]
    pub fn vjp_acc(&self, x: &[f64], w: &[f64], alpha: f64, out: &mut [f64]) {
        match self {
            Basis::Linear { a } => {
                let m = a.nrows();
                for (k, o) in out.iter_mut().enumerate() {
                    let col = &a.as_slice()[k * m..(k + 1) * m];
                    *o += alpha * col.iter().zip(w).map(|(aik, wi)| aik * wi).sum::<f64>();
                }
            }
            Basis::Constant { .. } => {}
            Basis::Polynomial { terms } => {
                for t in terms {
                    let g = alpha * w[t.component];
                    for (i, o) in out.iter_mut().enumerate() {
                        *o += g * t.partial(x, i);
                    }
                }
            }
            Basis::RandomFeature(rf) => {
                for (r, &wr) in w.iter().enumerate() {
                    let g = alpha * rf.activation.deriv(rf.preactivation(x, r)) * wr;
                    for (k, o) in out.iter_mut().enumerate() {
                        *o += rf.c[(r, k)] * g;
                    }
                }
            }
        }
    }

    /// w · V(x), without forming V(x).
    #[inline]
    pub fn dot(&self, x: &[f64], w: &[f64]) -> f64 {
        match self {
            Basis::Linear { a } => {
                // w · A x = Σ_k x_k (A e_k · w), column k contiguous.
                let m = a.nrows();
                x.iter()
                    .enumerate()
                    .map(|(k, &xk)| {
                        xk * a.as_slice()[k * m..(k + 1) * m]
                            .iter()
                            .zip(w)
                            .map(|(p, q)| p * q)
                            .sum::<f64>()
                    })
                    .sum()
            }
            Basis::Constant { c } => c.iter().zip(w).map(|(p, q)| p * q).sum(),
            Basis::Polynomial { terms } => terms.iter().map(|t| w[t.component] * t.value(x)).sum(),
            Basis::RandomFeature(rf) => w
                .iter()
                .enumerate()
                .map(|(r, &wr)| wr * rf.activation.eval(rf.preactivation(x, r)))
                .sum(),
        }
    }

    /// Checks the dimensions (and finiteness) for state dimension m.
    pub fn validate(&self, m: usize) -> Result<(), String> {
        let finite = |v: &[f64], what: &str| -> Result<(), String> {
            match v.iter().position(|z| !z.is_finite()) {
                Some(i) => Err(format!("{what} has a non-finite entry ({}) at index {i}", v[i])),
                None => Ok(()),
            }
        };
        match self {
            Basis::Linear { a } => {
                if a.shape() != (m, m) {
                    return Err(format!(
                        "linear matrix A is {}×{}, expected {m}×{m}",
                        a.nrows(),
                        a.ncols()
                    ));
                }
                finite(a.as_slice(), "linear matrix A (column-major)")
            }
            Basis::Constant { c } => {
                if c.len() != m {
                    return Err(format!("constant vector has length {}, expected {m}", c.len()));
                }
                finite(c, "constant vector")
            }
            Basis::Polynomial { terms } => {
                for (ti, t) in terms.iter().enumerate() {
                    if t.component >= m {
                        return Err(format!(
                            "polynomial term {ti}: component {} is not < m = {m}",
                            t.component
                        ));
                    }
                    if t.exponents.len() != m {
                        return Err(format!(
                            "polynomial term {ti}: {} exponents, expected m = {m}",
                            t.exponents.len()
                        ));
                    }
                    if t.exponents.iter().any(|&e| e > i32::MAX as u32) {
                        return Err(format!("polynomial term {ti}: exponent too large"));
                    }
                    if !t.coef.is_finite() {
                        return Err(format!("polynomial term {ti}: coefficient {} is not finite", t.coef));
                    }
                }
                Ok(())
            }
            Basis::RandomFeature(rf) => {
                if rf.c.shape() != (m, m) {
                    return Err(format!(
                        "random-feature matrix C is {}×{}, expected {m}×{m}",
                        rf.c.nrows(),
                        rf.c.ncols()
                    ));
                }
                if rf.b.len() != m {
                    return Err(format!("random-feature bias b has length {}, expected {m}", rf.b.len()));
                }
                finite(rf.c.as_slice(), "random-feature matrix C (column-major)")?;
                finite(&rf.b, "random-feature bias b")?;
                match &rf.activation {
                    Activation::LeakyRelu { slope } if !slope.is_finite() => {
                        Err("leaky ReLU slope is not finite".into())
                    }
                    Activation::Polynomial { coeffs } => finite(coeffs, "activation polynomial coefficients"),
                    _ => Ok(()),
                }
            }
        }
    }

    /// Short description, e.g. `poly(3 terms, deg 2)`.
    pub fn describe(&self) -> String {
        match self {
            Basis::Linear { .. } => "linear".into(),
            Basis::Constant { .. } => "constant".into(),
            Basis::Polynomial { terms } => format!(
                "poly({} terms, deg {})",
                terms.len(),
                terms.iter().map(Monomial::degree).max().unwrap_or(0)
            ),
            Basis::RandomFeature(rf) => format!("rf({})", rf.activation.name()),
        }
    }
}

/// out += alpha · A y for a square column-major A.
#[inline]
fn gemv_acc(a: &DMatrix<f64>, y: &[f64], alpha: f64, out: &mut [f64]) {
    let m = a.nrows();
    for (k, &yk) in y.iter().enumerate() {
        let s = alpha * yk;
        let col = &a.as_slice()[k * m..(k + 1) * m];
        for (o, aik) in out.iter_mut().zip(col) {
            *o += aik * s;
        }
    }
}

/// f(x, u) = Σ_j u_j V_j(x) on R^m with d = `basis.len()` controls.
#[derive(Clone, Debug, PartialEq)]
pub struct AffineField {
    m: usize,
    basis: Vec<Basis>,
}

impl AffineField {
    /// Validates that every basis field maps R^m → R^m (m ≥ 1, at least one basis field, finite coefficients).
    pub fn new(m: usize, basis: Vec<Basis>) -> Result<Self, String> {
        if m == 0 {
            return Err("state dimension m must be at least 1".into());
        }
        if basis.is_empty() {
            return Err("an affine field needs at least one basis field".into());
        }
        for (j, b) in basis.iter().enumerate() {
            b.validate(m)
                .map_err(|e| format!("basis field {j} ({}): {e}", b.describe()))?;
        }
        Ok(AffineField { m, basis })
    }

    /// The basis fields V_1..V_d.
    pub fn basis(&self) -> &[Basis] {
        &self.basis
    }

    /// out = V_j(x).
    pub fn basis_eval(&self, j: usize, x: &[f64], out: &mut [f64]) {
        debug_assert!(x.len() == self.m && out.len() == self.m);
        out.fill(0.0);
        self.basis[j].eval_acc(x, 1.0, out);
    }

    /// out = DV_j(x) · v.
    pub fn basis_jvp(&self, j: usize, x: &[f64], v: &[f64], out: &mut [f64]) {
        debug_assert!(x.len() == self.m && v.len() == self.m && out.len() == self.m);
        out.fill(0.0);
        self.basis[j].jvp_acc(x, v, 1.0, out);
    }

    /// out = DV_j(x)ᵀ · w.
    pub fn basis_vjp(&self, j: usize, x: &[f64], w: &[f64], out: &mut [f64]) {
        debug_assert!(x.len() == self.m && w.len() == self.m && out.len() == self.m);
        out.fill(0.0);
        self.basis[j].vjp_acc(x, w, 1.0, out);
    }
}

impl VectorField for AffineField {
    fn state_dim(&self) -> usize {
        self.m
    }

    fn control_dim(&self) -> usize {
        self.basis.len()
    }

    fn eval(&self, x: &[f64], u: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(x.len() == self.m && u.len() == self.basis.len() && out.len() == self.m);
        out.fill(0.0);
        for (b, &uj) in self.basis.iter().zip(u) {
            b.eval_acc(x, uj, out);
        }
    }

    fn jvp_x(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(v.len() == self.m && out.len() == self.m);
        out.fill(0.0);
        for (b, &uj) in self.basis.iter().zip(u) {
            b.jvp_acc(x, v, uj, out);
        }
    }

    fn vjp_x(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(w.len() == self.m && out.len() == self.m);
        out.fill(0.0);
        for (b, &uj) in self.basis.iter().zip(u) {
            b.vjp_acc(x, w, uj, out);
        }
    }

    fn vjp_u_acc(&self, x: &[f64], _u: &[f64], w: &[f64], out: &mut [f64], _scratch: &mut [f64]) {
        debug_assert!(w.len() == self.m && out.len() == self.basis.len());
        for (o, b) in out.iter_mut().zip(&self.basis) {
            *o += b.dot(x, w);
        }
    }

    fn tape_rows(&self) -> usize {
        block::tape_rows(self)
    }
    fn acc_lane_rows(&self) -> usize {
        self.basis.len()
    }
    fn block_scratch_rows(&self) -> usize {
        0
    }
    fn eval_block(&self, a: &mut EvalArgs) {
        crate::simd::eval(self, a)
    }
    fn vjp_block(&self, a: &mut VjpArgs) {
        crate::simd::vjp(self, a)
    }
    fn control_affine(&self) -> Option<&dyn ControlAffine> {
        Some(self)
    }
    fn control_names(&self) -> Vec<String> {
        // One scalar per basis field V_j.
        (1..=self.basis.len()).map(|j| format!("u{j}")).collect()
    }
    fn describe(&self) -> String {
        let parts: Vec<String> = self.basis.iter().map(Basis::describe).collect();
        format!(
            "affine Σ u_j V_j(x), m = {}, d = {}: [{}]",
            self.m,
            self.basis.len(),
            parts.join(", ")
        )
    }
}

impl ControlAffine for AffineField {
    fn basis_eval(&self, j: usize, x: &[f64], out: &mut [f64]) {
        AffineField::basis_eval(self, j, x, out)
    }
    fn basis_jvp(&self, j: usize, x: &[f64], v: &[f64], out: &mut [f64]) {
        AffineField::basis_jvp(self, j, x, v, out)
    }
}

#[cfg(test)]
mod tests;
