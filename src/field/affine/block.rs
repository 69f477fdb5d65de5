//! Block kernels of [`AffineField`]: f = Σ_j u_j V_j(x) on a block of points (lanes).
//!
//! ```text
//! eval:  for each basis field j: V_j(x) → tape (m rows; random features also σ'(Cx + b), m rows), out += u_j V_j
//! vjp:   ∂/∂u_j += ⟨V_j(x_p), w_p⟩ lane by lane (from the tape; reduced by the engine once per interval),
//!        (∂f/∂x)ᵀ w = Σ_j u_j DV_jᵀ w:  linear Aᵀw;  constant 0;  random feature Cᵀ(σ'(Cx + b) ⊙ w);
//!        polynomial Σ_terms (∂_i term) w_component (partials formed without division, exact at x_i = 0)
//! ```
//! Monomials are evaluated by binary powering over the lanes (O(log e) products per exponent e).

use super::{AffineField, Basis, Monomial};
use crate::simd::{lane_axpy, Arith, BlockKernels, EvalArgs, Lanes, VjpArgs, LANES};

/// Tape rows of one basis field: its values, and σ'(Cx + b) for a random feature.
fn rows_of(b: &Basis, m: usize) -> usize {
    match b {
        Basis::RandomFeature(_) => 2 * m,
        _ => m,
    }
}

/// Tape rows of the whole field.
pub(super) fn tape_rows(f: &AffineField) -> usize {
    f.basis.iter().map(|b| rows_of(b, f.m)).sum()
}

/// out[p] *= x[p]^e for the first n lanes (binary powering; the bit pattern of e is the same in every lane).
#[inline(always)]
fn mul_pow(n: usize, out: &mut Lanes, x: &Lanes, e: u32) {
    if e == 0 {
        return;
    }
    let mut base = [0.0; LANES];
    base[..n].copy_from_slice(&x[..n]);
    let mut e = e;
    loop {
        if e & 1 == 1 {
            for (o, &b) in out[..n].iter_mut().zip(&base[..n]) {
                *o *= b;
            }
        }
        e >>= 1;
        if e == 0 {
            break;
        }
        for b in base[..n].iter_mut() {
            *b *= *b;
        }
    }
}

/// out = coef · Π_k x_k^{e_k} (skipping coordinate `skip`, whose power is `skip_pow` instead).
#[inline(always)]
fn monomial(n: usize, t: &Monomial, x: &[Lanes], skip: Option<(usize, u32)>, out: &mut Lanes) {
    out[..n].fill(t.coef);
    for (k, (xk, &e)) in x.iter().zip(&t.exponents).enumerate() {
        let e = match skip {
            Some((i, p)) if i == k => p,
            _ => e,
        };
        mul_pow(n, out, xk, e);
    }
}

impl BlockKernels for AffineField {
    #[inline(always)]
    fn eval_lanes<A: Arith>(&self, a: &mut EvalArgs) {
        let (m, n) = (self.m, a.lanes);
        for o in a.out[..m].iter_mut() {
            o[..n].fill(0.0);
        }
        let mut off = 0;
        let mut z = [0.0; LANES];
        for (b, &uj) in self.basis.iter().zip(a.u) {
            let rows = rows_of(b, m);
            let (v, rest) = a.tape[off..off + rows].split_at_mut(m);
            match b {
                Basis::Linear { a: mat } => {
                    let s = mat.as_slice(); // column-major: A_rk = s[k m + r]
                    for (r, vr) in v.iter_mut().enumerate() {
                        vr[..n].fill(0.0);
                        for (k, xk) in a.x[..m].iter().enumerate() {
                            lane_axpy::<A>(n, vr, s[k * m + r], xk);
                        }
                    }
                }
                Basis::Constant { c } => {
                    for (vr, &cr) in v.iter_mut().zip(c) {
                        vr[..n].fill(cr);
                    }
                }
                Basis::Polynomial { terms } => {
                    for vr in v.iter_mut() {
                        vr[..n].fill(0.0);
                    }
                    for t in terms {
                        monomial(n, t, &a.x[..m], None, &mut z);
                        for (o, &zp) in v[t.component][..n].iter_mut().zip(&z[..n]) {
                            *o += zp;
                        }
                    }
                }
                Basis::RandomFeature(rf) => {
                    let s = rf.c.as_slice();
                    for (r, (vr, dr)) in v.iter_mut().zip(rest.iter_mut()).enumerate() {
                        z[..n].fill(rf.b[r]);
                        for (k, xk) in a.x[..m].iter().enumerate() {
                            lane_axpy::<A>(n, &mut z, s[k * m + r], xk);
                        }
                        rf.activation.eval_deriv_lanes::<A>(n, &z, vr, dr);
                    }
                }
            }
            for (o, vr) in a.out[..m].iter_mut().zip(v.iter()) {
                lane_axpy::<A>(n, o, uj, vr);
            }
            off += rows;
        }
    }

    #[inline(always)]
    fn vjp_lanes<A: Arith>(&self, a: &mut VjpArgs) {
        let (m, n) = (self.m, a.lanes);
        for o in a.out_x[..m].iter_mut() {
            o[..n].fill(0.0);
        }
        let mut off = 0;
        let mut z = [0.0; LANES];
        for (j, (b, &uj)) in self.basis.iter().zip(a.u).enumerate() {
            let rows = rows_of(b, m);
            let (v, rest) = a.tape[off..off + rows].split_at(m);
            let acc = &mut a.acc_lanes[j];
            for (vr, wr) in v.iter().zip(a.w) {
                for ((o, &vp), &wp) in acc[..n].iter_mut().zip(&vr[..n]).zip(&wr[..n]) {
                    *o = A::madd(wp, vp, *o);
                }
            }
            match b {
                Basis::Linear { a: mat } => {
                    let s = mat.as_slice();
                    for (k, o) in a.out_x[..m].iter_mut().enumerate() {
                        for (r, wr) in a.w[..m].iter().enumerate() {
                            lane_axpy::<A>(n, o, uj * s[k * m + r], wr);
                        }
                    }
                }
                Basis::Constant { .. } => {}
                Basis::Polynomial { terms } => {
                    for t in terms {
                        let wc = &a.w[t.component];
                        for (i, &ei) in t.exponents.iter().enumerate() {
                            if ei == 0 {
                                continue;
                            }
                            // ∂_i term = coef e_i x_i^{e_i − 1} Π_{k≠i} x_k^{e_k}
                            monomial(n, t, &a.x[..m], Some((i, ei - 1)), &mut z);
                            let c = uj * ei as f64;
                            for ((o, &zp), &wp) in a.out_x[i][..n].iter_mut().zip(&z[..n]).zip(&wc[..n]) {
                                *o = A::madd(c * zp, wp, *o);
                            }
                        }
                    }
                }
                Basis::RandomFeature(rf) => {
                    let s = rf.c.as_slice();
                    for (r, (wr, dr)) in a.w[..m].iter().zip(rest).enumerate() {
                        for ((zp, &wp), &dp) in z[..n].iter_mut().zip(&wr[..n]).zip(&dr[..n]) {
                            *zp = uj * wp * dp;
                        }
                        for (k, o) in a.out_x[..m].iter_mut().enumerate() {
                            lane_axpy::<A>(n, o, s[k * m + r], &z);
                        }
                    }
                }
            }
            off += rows;
        }
    }
}
