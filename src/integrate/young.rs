//! Step-2 Young schemes for dX = Σ_j V_j(X) dU^j driven by a path U of finite p-variation, p < 2 (SPEC §2;
//! seed 004 §2.1.1). Euler–Young X_{k+1} = X_k + Σ_j V_j(X_k) ΔU^j_k is the [`super::euler::Euler`] scheme driven
//! by a path (its rate u = ΔU/h gives h f(x, u) = Σ_j V_j(x) ΔU^j exactly for a control-affine field), so it is not
//! repeated here. This file adds the two second-order schemes:
//!
//! ```text
//!   step-2 with the area (Davie; Friz–Victoir step-2 Euler):
//!     X_{k+1} = X_k + Σ_j V_j ΔU^j + Σ_{j,l} (DV_l · V_j)(X_k) 𝕌^{jl},   𝕌^{jl} = ½ ΔU^j ΔU^l + A^{jl},
//!   simplified step-2 (no area; Deya–Neuenkirch–Tindel type):
//!     X_{k+1} = X_k + Σ_j V_j ΔU^j + ½ Σ_{j,l} (DV_l · V_j)(X_k) ΔU^j ΔU^l,
//! ```
//!
//! with A^{jl} = ½ ∫ (U^j − U^j_{t_k}) dU^l − (U^l − U^l_{t_k}) dU^j the Lévy area over the step
//! ([`super::PathIncrement::area`], computed by [`crate::control::path`] from the path's finer samples). The area
//! part equals Σ_{j<l} A^{jl} `[V_j, V_l](X_k)` with SPEC §5's bracket convention.
//!
//! **Evaluation.** For a control-affine field f(x, u) = Σ_j u_j V_j(x) ([`crate::field::ControlAffine`]),
//! ∂_x f(x, v) = Σ_l v_l DV_l(x), so with f = f(x, ΔU) and J(v) = ∂_x f(x, v):
//!   Σ_j V_j ΔU^j = f,   ½ Σ_{j,l} (DV_l V_j) ΔU^j ΔU^l = ½ J(ΔU) f,   Σ_{j,l} (DV_l V_j) A^{jl} = Σ_j J(A^{j·}) V_j,
//! i.e. one evaluation, one Jacobian–vector product, and d more of each for the area (skipping zero rows of A).
//!
//! **Rates and orders.** With an α-Hölder driver the strong rates are h^{3α−1} with the area and h^{2α−½} without
//! it for non-commuting fields (SPEC §2); for a smooth driver both are second order (the area over a step is
//! O(h³)). [`Scheme::order`] returns these.
//!
//! **Rate-driven terms** (piecewise-constant trainable controls, `term.path = None`, or a field that is not
//! control-affine): the step is the second-order Taylor step of the frozen ODE x' = f(x, u) over h,
//!   x⁺ = x + h f(x, u) + ½ h² (∂_x f)(x, u) f(x, u),
//! which is the simplified step-2 scheme of the path's linear interpolation over the step (ΔU = u h, A = 0).
//!
//! **Reverse step** (discrete adjoint, rate form), λ = ∂J/∂x⁺, w = ½ h² λ, y = f(x, u), J_x, J_u the field's
//! Jacobians at (x, u):
//!   z = h λ + J_xᵀ w,   λ_n = λ + J_xᵀ z + C_x,   ḡ_u += J_uᵀ z + C_u,
//! where (C_x, C_u) = ∂/∂(x, u) [wᵀ J_x(x, u) y] at fixed y are the curvature terms (second derivatives of f). The
//! field interface offers first derivatives only, so they are taken as a central difference of the exact reverse
//! products along y: (C_x, C_u) = [vjp(x + s y, u; w) − vjp(x − s y, u; w)] / (2s), s = ε^{1/3} (1 + ‖x‖∞)/‖y‖∞
//! (relative accuracy ≈ ε^{2/3} on the curvature term only; everything else is exact). Path drivers are data, not
//! trainable parameters, and no gradient path in lieflow builds a path-driven term, so the reverse of the path form
//! is not provided (a path term is reversed as its rate form; a debug build asserts it never happens).
//!
//! Block steps run the per-point arithmetic lane by lane (the field interface has no block Jacobian–vector
//! product); the tape is the step's start x_n (m rows).

use super::{Scheme, Term, Workspace};
use crate::control::Regularity;
use crate::field::{gather, scatter, ControlAffine, VectorField};
use crate::simd::{GradAcc, Lanes, LANES};

/// A step-2 Young scheme, with or without the Lévy area (module docs).
pub struct Step2 {
    with_area: bool,
}

/// Step-2 with the Lévy area: order 3α − 1 for an α-Hölder driver, 2 for a smooth one.
pub static STEP2: Step2 = Step2 { with_area: true };
/// Simplified step-2 without the area: order 2α − ½ for an α-Hölder driver of non-commuting fields, 2 for a smooth
/// one.
pub static STEP2_SIMPLIFIED: Step2 = Step2 { with_area: false };

/// Why a field cannot drive a Young scheme with a path: it must be control-affine (f(x, u) = Σ_j u_j V_j(x)).
/// Callers that build path-driven problems check this first and report it as an input error.
pub fn require_control_affine(field: &dyn VectorField) -> Result<&dyn ControlAffine, String> {
    field.control_affine().ok_or_else(|| {
        format!(
            "Young integration of dX = Σ_j V_j(X) dU^j needs a control-affine field f(x, u) = Σ_j u_j V_j(x) \
             (family `affine` or `node2`); {} is not",
            field.describe()
        )
    })
}

/// x ← x + (second-order increment) for one point; `buf` holds 3m numbers, `fs` the field's scratch.
fn forward_point(with_area: bool, term: &Term, x: &mut [f64], buf: &mut [f64], fs: &mut [f64]) {
    let f = term.field;
    let m = x.len();
    let (k1, rest) = buf.split_at_mut(m);
    let (k2, rest) = rest.split_at_mut(m);
    let v = &mut rest[..m];
    match term.path.zip(f.control_affine()) {
        Some((p, ca)) => {
            // k1 = f(x, ΔU) = Σ_j V_j ΔU^j, k2 = J(ΔU) k1.
            f.eval(x, p.du, k1, fs);
            f.jvp_x(x, p.du, k1, k2, fs);
            for (a, b) in k1.iter_mut().zip(k2.iter()) {
                *a += 0.5 * b;
            }
            if let (true, Some(area)) = (with_area, p.area) {
                let d = p.du.len();
                for (j, row) in area.chunks_exact(d).enumerate() {
                    if row.iter().all(|a| *a == 0.0) {
                        continue;
                    }
                    ca.basis_eval(j, x, v);
                    f.jvp_x(x, row, v, k2, fs);
                    for (a, b) in k1.iter_mut().zip(k2.iter()) {
                        *a += b;
                    }
                }
            }
            for (xi, a) in x.iter_mut().zip(k1.iter()) {
                *xi += a;
            }
        }
        None => {
            let h = term.h;
            f.eval(x, term.u, k1, fs);
            f.jvp_x(x, term.u, k1, k2, fs);
            for ((xi, a), b) in x.iter_mut().zip(k1.iter()).zip(k2.iter()) {
                *xi += h * a + 0.5 * h * h * b;
            }
        }
    }
}

/// Per-point numbers of the reverse step: x, y, w, z, out, xs, ws (7m) and the curvature's control accumulator (d).
fn reverse_len(m: usize, d: usize) -> usize {
    7 * m + d
}

/// The reverse of the rate form at one point (module docs): `lam` ← ∂J/∂x_n, `acc_u` += ∂J/∂u.
fn reverse_point(term: &Term, x: &[f64], lam: &mut [f64], acc_u: &mut [f64], buf: &mut [f64], fs: &mut [f64]) {
    let f = term.field;
    let (m, d) = (x.len(), f.control_dim());
    let (h, u) = (term.h, term.u);
    let (y, rest) = buf.split_at_mut(m);
    let (w, rest) = rest.split_at_mut(m);
    let (z, rest) = rest.split_at_mut(m);
    let (out, rest) = rest.split_at_mut(m);
    let (xs, rest) = rest.split_at_mut(m);
    let (ws, rest) = rest.split_at_mut(m);
    let cu = &mut rest[..d];
    f.eval(x, u, y, fs);
    for (wi, li) in w.iter_mut().zip(lam.iter()) {
        *wi = 0.5 * h * h * li;
    }
    f.vjp_x(x, u, w, z, fs);
    for (zi, li) in z.iter_mut().zip(lam.iter()) {
        *zi += h * li;
    }
    f.vjp_both(x, u, z, out, acc_u, fs);
    for (li, oi) in lam.iter_mut().zip(out.iter()) {
        *li += oi;
    }
    // Curvature: central difference of the reverse products along y.
    let ynorm = y.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let wnorm = w.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    if ynorm == 0.0 || wnorm == 0.0 || !ynorm.is_finite() {
        return;
    }
    let xnorm = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let s = f64::EPSILON.cbrt() * (1.0 + xnorm) / ynorm;
    cu.fill(0.0);
    for sign in [1.0, -1.0] {
        for ((xi, x0), yi) in xs.iter_mut().zip(x).zip(y.iter()) {
            *xi = x0 + sign * s * yi;
        }
        for (wsi, wi) in ws.iter_mut().zip(w.iter()) {
            *wsi = sign * wi / (2.0 * s);
        }
        f.vjp_both(xs, u, ws, out, cu, fs);
        for (li, oi) in lam.iter_mut().zip(out.iter()) {
            *li += oi;
        }
    }
    for (a, c) in acc_u.iter_mut().zip(cu.iter()) {
        *a += c;
    }
}

impl Scheme for Step2 {
    fn name(&self) -> &'static str {
        if self.with_area {
            "young-step2"
        } else {
            "young-step2-simplified"
        }
    }
    fn label(&self) -> &'static str {
        if self.with_area {
            "step-2 (with area)"
        } else {
            "simplified step-2"
        }
    }
    fn order(&self, driver: Regularity) -> f64 {
        match (driver, self.with_area) {
            (Regularity::Smooth, _) => 2.0,
            (Regularity::Holder(a), true) => 3.0 * a - 1.0,
            (Regularity::Holder(a), false) => 2.0 * a - 0.5,
        }
    }
    fn stages(&self) -> usize {
        // One field evaluation and one Jacobian–vector product (plus d of each for the area of a path term).
        2
    }
    fn workspace_len(&self, m: usize) -> usize {
        3 * m
    }
    fn step(&self, term: &Term, x: &mut [f64], ws: &mut Workspace) {
        forward_point(self.with_area, term, x, &mut ws.buf, &mut ws.field);
    }
    fn tape_rows(&self, f: &dyn VectorField) -> usize {
        f.state_dim()
    }
    fn block_work_rows(&self, f: &dyn VectorField) -> usize {
        let m = f.state_dim();
        let numbers = 2 * m + reverse_len(m, f.control_dim()).max(3 * m) + f.scratch_len();
        numbers.div_ceil(LANES)
    }
    fn step_block(&self, term: &Term, lanes: usize, x: &mut [Lanes], tape: &mut [Lanes], work: &mut [Lanes]) {
        let m = term.field.state_dim();
        for (t, r) in tape[..m].iter_mut().zip(x.iter()) {
            *t = *r;
        }
        let flat = work.as_flattened_mut();
        let (xp, rest) = flat.split_at_mut(m);
        let (buf, rest) = rest.split_at_mut(3 * m);
        let fs = &mut rest[..term.field.scratch_len()];
        for p in 0..lanes {
            gather(x, p, xp);
            forward_point(self.with_area, term, xp, buf, fs);
            scatter(xp, x, p);
        }
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
        debug_assert!(term.path.is_none(), "the Young schemes reverse rate-driven terms only");
        let f = term.field;
        let (m, d) = (f.state_dim(), f.control_dim());
        let flat = work.as_flattened_mut();
        let (xp, rest) = flat.split_at_mut(m);
        let (lp, rest) = rest.split_at_mut(m);
        let (buf, rest) = rest.split_at_mut(reverse_len(m, d));
        let fs = &mut rest[..f.scratch_len()];
        let (acc_u, _) = acc.parts();
        for p in 0..lanes {
            gather(&tape[..m], p, xp);
            gather(lam, p, lp);
            reverse_point(term, xp, lp, acc_u, buf, fs);
            scatter(lp, lam, p);
        }
    }
}
