//! Block kernels of the node families (lanes = points).
//!
//! ```text
//! σ(Wx + b), σ(Wx):  z_i = b_i + Σ_j W_ij x_j,  out_i = σ(z_i),  tape_i = σ'(z_i)                     (m tape rows)
//!                    g_i = w_i σ'(z_i),  (∂f/∂x)ᵀ w = Wᵀ g,  ∂/∂W_ij += Σ_p g_i x_j,  ∂/∂b_i += Σ_p g_i
//! Wσ(x) + b:         s_k = σ(x_k), d_k = σ'(x_k) → tape (2m rows),  out_r = b_r + Σ_k W_rk s_k
//!                    (∂f/∂x)ᵀ w = d ⊙ Wᵀ w,  ∂/∂W_rk += Σ_p w_r s_k,  ∂/∂b_r += Σ_p w_r
//! ```
//! For m ≤ [`MAX_CHUNKED`] a block is processed in vectors of 8 lanes with every component of the vector in
//! registers (one pass over the block per stage; m = 1…4 compiled with m constant, so the component loops
//! unroll), and the activation is instantiated per family ([`Activation::visit`]) so its match is outside the
//! lane loops; ∂/∂u is accumulated lane by lane (`acc_lanes`, d rows, reduced by the engine once per control
//! interval) so no call pays a horizontal sum. Larger m run row by row and reduce into `acc_u`. Lanes beyond `lanes` (up to the next multiple of 8) may be
//! written with values that are never read as results.

// Index loops over components and the 8 lanes of a vector are the kernels' shape (m is a compile-time constant
// in the specialised instances, the lane index addresses several arrays at once).
#![allow(clippy::needless_range_loop)]

use super::{Node2, SigmaWx};
use crate::field::activation::{ActFn, ActVisitor, Activation};
use crate::field::{EvalArgs, VjpArgs};
use crate::simd::{lane_axpy, lane_dot, lane_sum, Arith, BlockKernels, Lanes, LANES};

/// Rows of lane accumulators of a node family with state dimension m and d control values.
pub(super) fn acc_rows(m: usize, d: usize) -> usize {
    if m <= MAX_CHUNKED {
        d
    } else {
        0
    }
}
use std::marker::PhantomData;

/// Largest m processed in 8-lane vectors with all components in registers.
pub const MAX_CHUNKED: usize = 16;

const V: usize = 8;
type Vf = [f64; V];

#[inline(always)]
fn ld(r: &Lanes, c: usize) -> Vf {
    let mut v = [0.0; V];
    v.copy_from_slice(&r[c * V..(c + 1) * V]);
    v
}

#[inline(always)]
fn st(r: &mut Lanes, c: usize, v: &Vf) {
    r[c * V..(c + 1) * V].copy_from_slice(v);
}

/// Runs `$body` with the const CAP matching m (1..=4 exactly, ≤ MAX_CHUNKED generically), else `$rows`.
macro_rules! by_m {
    ($m:expr, $f:ident::<$($g:ty),*>($($arg:expr),*), $rows:expr) => {
        match $m {
            1 => $f::<1, $($g),*>(1, $($arg),*),
            2 => $f::<2, $($g),*>(2, $($arg),*),
            3 => $f::<3, $($g),*>(3, $($arg),*),
            4 => $f::<4, $($g),*>(4, $($arg),*),
            m if m <= MAX_CHUNKED => $f::<MAX_CHUNKED, $($g),*>(m, $($arg),*),
            _ => $rows,
        }
    };
}

// ---------------------------------------------------------------------------------------------------------------
// σ(Wx + b), σ(Wx)

struct SwEval<'k, 'a, 'b, A> {
    k: &'k SigmaWx<'k>,
    a: &'a mut EvalArgs<'b>,
    arith: PhantomData<A>,
}

impl<A: Arith> ActVisitor for SwEval<'_, '_, '_, A> {
    type Out = ();
    #[inline(always)]
    fn visit<F: ActFn>(self, f: F) {
        let (k, a) = (self.k, self.a);
        by_m!(k.m, sw_eval::<A, F>(k.bias, f, a), sw_eval_rows::<A>(k, a))
    }
}

#[inline(always)]
fn sw_eval<const CAP: usize, A: Arith, F: ActFn>(m: usize, bias: bool, f: F, a: &mut EvalArgs) {
    let (w, b) = a.u.split_at(m * m);
    for c in 0..a.lanes.div_ceil(V) {
        let mut xv = [[0.0; V]; CAP];
        for j in 0..m {
            xv[j] = ld(&a.x[j], c);
        }
        for i in 0..m {
            let mut z = [if bias { b[i] } else { 0.0 }; V];
            for j in 0..m {
                for q in 0..V {
                    z[q] = A::madd(w[i * m + j], xv[j][q], z[q]);
                }
            }
            let (mut t, mut d) = ([0.0; V], [0.0; V]);
            for q in 0..V {
                (t[q], d[q]) = f.ed::<A>(z[q]);
            }
            st(&mut a.out[i], c, &t);
            st(&mut a.tape[i], c, &d);
        }
    }
}

/// Row-by-row σ(Wx + b) for large m (z in scratch rows).
#[inline(always)]
fn sw_eval_rows<A: Arith>(k: &SigmaWx, a: &mut EvalArgs) {
    let (m, n) = (k.m, a.lanes);
    for i in 0..m {
        let zi = &mut a.scratch[i];
        zi[..n].fill(if k.bias { a.u[m * m + i] } else { 0.0 });
        for j in 0..m {
            lane_axpy::<A>(n, zi, a.u[i * m + j], &a.x[j]);
        }
        k.act.eval_deriv_lanes::<A>(n, zi, &mut a.out[i], &mut a.tape[i]);
    }
}

#[inline(always)]
fn sw_vjp<const CAP: usize, A: Arith>(m: usize, bias: bool, a: &mut VjpArgs) {
    let n = a.lanes;
    let full = n / V;
    for c in 0..full {
        sw_vjp_chunk::<CAP, A, false>(m, bias, c, V, a);
    }
    if !n.is_multiple_of(V) {
        sw_vjp_chunk::<CAP, A, true>(m, bias, full, n % V, a);
    }
}

/// One 8-lane vector of [`sw_vjp`], accumulating ∂/∂u lane by lane; with `MASK`, lanes ≥ `valid` contribute
/// exact zeros.
#[inline(always)]
fn sw_vjp_chunk<const CAP: usize, A: Arith, const MASK: bool>(
    m: usize,
    bias: bool,
    c: usize,
    valid: usize,
    a: &mut VjpArgs,
) {
    let w = &a.u[..m * m];
    let mut g = [[0.0; V]; CAP];
    for i in 0..m {
        let (wv, dv) = (ld(&a.w[i], c), ld(&a.tape[i], c));
        for q in 0..V {
            g[i][q] = wv[q] * dv[q];
        }
        if MASK {
            // Masked lanes stay exactly 0 even where the tape holds padding.
            g[i][valid..].fill(0.0);
        }
    }
    for j in 0..m {
        let xv = ld(&a.x[j], c);
        for i in 0..m {
            let row = &mut a.acc_lanes[i * m + j];
            let mut r = ld(row, c);
            for q in 0..V {
                r[q] = A::madd(g[i][q], xv[q], r[q]);
            }
            st(row, c, &r);
        }
    }
    if bias {
        for i in 0..m {
            let row = &mut a.acc_lanes[m * m + i];
            let mut r = ld(row, c);
            for q in 0..V {
                r[q] += g[i][q];
            }
            st(row, c, &r);
        }
    }
    for j in 0..m {
        let mut o = [0.0; V];
        for i in 0..m {
            for q in 0..V {
                o[q] = A::madd(w[i * m + j], g[i][q], o[q]);
            }
        }
        st(&mut a.out_x[j], c, &o);
    }
}

/// Row-by-row reverse product of σ(Wx + b) for large m (g in scratch rows).
#[inline(always)]
fn sw_vjp_rows<A: Arith>(k: &SigmaWx, a: &mut VjpArgs) {
    let (m, n) = (k.m, a.lanes);
    let g = &mut a.scratch[..m];
    for (gi, (wi, di)) in g.iter_mut().zip(a.w.iter().zip(a.tape)) {
        for ((gp, &wp), &dp) in gi[..n].iter_mut().zip(&wi[..n]).zip(&di[..n]) {
            *gp = wp * dp;
        }
    }
    for (i, gi) in g.iter().enumerate() {
        for (j, xj) in a.x[..m].iter().enumerate() {
            a.acc_u[i * m + j] += lane_dot::<A>(n, gi, xj);
        }
        if k.bias {
            a.acc_u[m * m + i] += lane_sum(n, gi);
        }
    }
    for (j, o) in a.out_x[..m].iter_mut().enumerate() {
        o[..n].fill(0.0);
        for (i, gi) in g.iter().enumerate() {
            lane_axpy::<A>(n, o, a.u[i * m + j], gi);
        }
    }
}

impl BlockKernels for SigmaWx<'_> {
    #[inline(always)]
    fn eval_lanes<A: Arith>(&self, a: &mut EvalArgs) {
        self.act.visit(SwEval::<A> {
            k: self,
            a,
            arith: PhantomData,
        })
    }

    #[inline(always)]
    fn vjp_lanes<A: Arith>(&self, a: &mut VjpArgs) {
        by_m!(self.m, sw_vjp::<A>(self.bias, a), sw_vjp_rows::<A>(self, a))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Wσ(x) + b

struct N2Eval<'k, 'a, 'b, A> {
    k: &'k Node2,
    a: &'a mut EvalArgs<'b>,
    arith: PhantomData<A>,
}

impl<A: Arith> ActVisitor for N2Eval<'_, '_, '_, A> {
    type Out = ();
    #[inline(always)]
    fn visit<F: ActFn>(self, f: F) {
        let (k, a) = (self.k, self.a);
        by_m!(k.m, n2_eval::<A, F>(f, a), n2_eval_rows::<A>(&k.act, k.m, a))
    }
}

#[inline(always)]
fn n2_eval<const CAP: usize, A: Arith, F: ActFn>(m: usize, f: F, a: &mut EvalArgs) {
    let (w, b) = a.u.split_at(m * m);
    for c in 0..a.lanes.div_ceil(V) {
        let mut sv = [[0.0; V]; CAP];
        for k in 0..m {
            let xv = ld(&a.x[k], c);
            let mut d = [0.0; V];
            for q in 0..V {
                (sv[k][q], d[q]) = f.ed::<A>(xv[q]);
            }
            st(&mut a.tape[k], c, &sv[k]);
            st(&mut a.tape[m + k], c, &d);
        }
        for r in 0..m {
            let mut o = [b[r]; V];
            for k in 0..m {
                for q in 0..V {
                    o[q] = A::madd(w[r * m + k], sv[k][q], o[q]);
                }
            }
            st(&mut a.out[r], c, &o);
        }
    }
}

/// Row-by-row Wσ(x) + b for large m.
#[inline(always)]
fn n2_eval_rows<A: Arith>(act: &Activation, m: usize, a: &mut EvalArgs) {
    let n = a.lanes;
    let (sig, dsig) = a.tape[..2 * m].split_at_mut(m);
    for k in 0..m {
        act.eval_deriv_lanes::<A>(n, &a.x[k], &mut sig[k], &mut dsig[k]);
    }
    for (r, o) in a.out[..m].iter_mut().enumerate() {
        o[..n].fill(a.u[m * m + r]);
        for (k, sk) in sig.iter().enumerate() {
            lane_axpy::<A>(n, o, a.u[r * m + k], sk);
        }
    }
}

#[inline(always)]
fn n2_vjp<const CAP: usize, A: Arith>(m: usize, a: &mut VjpArgs) {
    let n = a.lanes;
    let full = n / V;
    for c in 0..full {
        n2_vjp_chunk::<CAP, A, false>(m, c, V, a);
    }
    if !n.is_multiple_of(V) {
        n2_vjp_chunk::<CAP, A, true>(m, full, n % V, a);
    }
}

/// One 8-lane vector of [`n2_vjp`], accumulating ∂/∂u lane by lane; with `MASK`, lanes ≥ `valid` contribute
/// exact zeros.
#[inline(always)]
fn n2_vjp_chunk<const CAP: usize, A: Arith, const MASK: bool>(m: usize, c: usize, valid: usize, a: &mut VjpArgs) {
    let w = &a.u[..m * m];
    let mut wv = [[0.0; V]; CAP];
    for r in 0..m {
        wv[r] = ld(&a.w[r], c);
        if MASK {
            wv[r][valid..].fill(0.0);
        }
    }
    for k in 0..m {
        let sv = ld(&a.tape[k], c);
        for r in 0..m {
            let row = &mut a.acc_lanes[r * m + k];
            let mut acc = ld(row, c);
            for q in 0..V {
                acc[q] = A::madd(wv[r][q], sv[q], acc[q]);
            }
            st(row, c, &acc);
        }
    }
    for r in 0..m {
        let row = &mut a.acc_lanes[m * m + r];
        let mut acc = ld(row, c);
        for q in 0..V {
            acc[q] += wv[r][q];
        }
        st(row, c, &acc);
    }
    for k in 0..m {
        let dv = ld(&a.tape[m + k], c);
        let mut o = [0.0; V];
        for r in 0..m {
            for q in 0..V {
                o[q] = A::madd(w[r * m + k], wv[r][q], o[q]);
            }
        }
        for q in 0..V {
            o[q] *= dv[q];
        }
        st(&mut a.out_x[k], c, &o);
    }
}

/// Row-by-row reverse product of Wσ(x) + b for large m.
#[inline(always)]
fn n2_vjp_rows<A: Arith>(m: usize, a: &mut VjpArgs) {
    let n = a.lanes;
    let (sig, dsig) = a.tape[..2 * m].split_at(m);
    for (r, wr) in a.w[..m].iter().enumerate() {
        for (k, sk) in sig.iter().enumerate() {
            a.acc_u[r * m + k] += lane_dot::<A>(n, wr, sk);
        }
        a.acc_u[m * m + r] += lane_sum(n, wr);
    }
    for (k, o) in a.out_x[..m].iter_mut().enumerate() {
        o[..n].fill(0.0);
        for (r, wr) in a.w[..m].iter().enumerate() {
            lane_axpy::<A>(n, o, a.u[r * m + k], wr);
        }
        for (op, &dp) in o[..n].iter_mut().zip(&dsig[k][..n]) {
            *op *= dp;
        }
    }
}

impl BlockKernels for Node2 {
    #[inline(always)]
    fn eval_lanes<A: Arith>(&self, a: &mut EvalArgs) {
        self.act.visit(N2Eval::<A> {
            k: self,
            a,
            arith: PhantomData,
        })
    }

    #[inline(always)]
    fn vjp_lanes<A: Arith>(&self, a: &mut VjpArgs) {
        by_m!(self.m, n2_vjp::<A>(a), n2_vjp_rows::<A>(self.m, a))
    }
}

/// Padding sanity: a block has a whole number of 8-lane vectors.
const _: () = assert!(LANES.is_multiple_of(V));
