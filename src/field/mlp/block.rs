//! Block kernels of the [`Mlp`]: every layer is one matrix–matrix product over the block (the `nano-gemm` crate:
//! small-matrix microkernels, no allocation, runtime CPU dispatch of its own), activations are the vectorised lane
//! kernels.
//!
//! A block's activations are matrices with one row of lanes per unit (row stride [`LANES`], `lanes` columns):
//! ```text
//! forward:  Z_l = A_l · H_{l−1} + c_l 1ᵀ,  H_l = σ(Z_l) → tape,  σ'(Z_l) → tape   (l < L),   F = A_L H_{L−1} + c_L 1ᵀ
//! reverse:  Δ_L = W;   ∂/∂A_l += Δ_l H_{l−1}ᵀ,   ∂/∂c_l += Δ_l 1,   G_{l−1} = A_lᵀ Δ_l,   Δ_{l−1} = σ'(Z_{l−1}) ⊙ G_{l−1}
//!           (∂f/∂x)ᵀ W = G_0
//! ```
//! The products over lanes (∂/∂A_l) are reductions in the GEMM kernel's fixed order, so results do not depend
//! on the thread count. Tape: [H_1 | σ'(Z_1) | H_2 | σ'(Z_2) | …], each unit-major and *dense* (n lanes per
//! unit, not a full row of LANES), so a block of a few points — a single trajectory, as in the neural-ODE fit —
//! stores and streams only what it uses; scratch: two dense cotangent buffers of max-width units.

use super::Mlp;
use crate::simd::{Arith, BlockKernels, EvalArgs, VjpArgs, LANES};

const RS: isize = LANES as isize;

/// Fewest points per block for which the layers run as GEMMs (below, the per-point code is faster).
pub const GEMM_MIN_LANES: usize = 4;

/// dst (m × n) = [dst +] lhs (m × k) · rhs (k × n) with explicit (row, column) strides, by `nano-gemm` (small-matrix
/// microkernels, no packing, no allocation, no threads; its own runtime CPU dispatch).
///
/// # Safety
/// Every index (i, j) < (m, n) of dst and the matching lhs / rhs indices must lie inside the allocations the
/// pointers come from, and dst must not overlap lhs or rhs.
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: *mut f64,
    (dst_rs, dst_cs): (isize, isize),
    accumulate: bool,
    lhs: *const f64,
    (lhs_rs, lhs_cs): (isize, isize),
    rhs: *const f64,
    (rhs_rs, rhs_cs): (isize, isize),
) {
    if m == 0 || n == 0 {
        return;
    }
    let plan = if dst_rs == 1 && lhs_rs == 1 {
        nano_gemm::Plan::new_colmajor_lhs_and_dst_f64(m, n, k)
    } else {
        nano_gemm::Plan::new_f64(m, n, k)
    };
    // dst = α dst + β lhs·rhs with α = 0 (dst not read) or 1.
    plan.execute_unchecked(
        m,
        n,
        k,
        dst,
        dst_rs,
        dst_cs,
        lhs,
        lhs_rs,
        lhs_cs,
        rhs,
        rhs_rs,
        rhs_cs,
        if accumulate { 1.0 } else { 0.0 },
        1.0,
        false,
        false,
    )
}

impl Mlp {
    /// Offsets of layer l's weights A_l and bias c_l in θ.
    #[inline]
    fn layer_offsets(&self, l: usize) -> (usize, usize) {
        let mut off = 0;
        for j in 0..l {
            let (i, o) = self.layer_dims(j);
            off += o * (i + 1);
        }
        let (n_in, n_out) = self.layer_dims(l);
        (off, off + n_out * n_in)
    }
}

impl BlockKernels for Mlp {
    #[inline(always)]
    fn eval_lanes<A: Arith>(&self, a: &mut EvalArgs) {
        let n = a.lanes;
        let nh = self.widths.len();
        // Hidden activations are stored densely (unit-major, `n` lanes per unit) in the flattened tape, so a block
        // with few points touches only what it uses (one point: a plain vector).
        let tape = a.tape.as_flattened_mut();
        let mut t_off = 0;
        for l in 0..=nh {
            let (n_in, n_out) = self.layer_dims(l);
            let (pa, pc) = self.layer_offsets(l);
            let bias = &a.u[pc..pc + n_out];
            let (before, here) = tape.split_at_mut(t_off);
            // Input: the block's rows (row stride LANES) or the previous layer's dense activations (stride n).
            let (inp, inp_rs): (*const f64, isize) = if l == 0 {
                (a.x.as_ptr().cast(), RS)
            } else {
                (before[t_off - 2 * n_in * n..].as_ptr(), n as isize)
            };
            if l == nh {
                // SAFETY: out is n_out rows × LANES; A_l is n_out × n_in row-major inside u; the input has n_in rows
                // of at least n lanes at stride inp_rs; n ≤ LANES columns are touched; out is disjoint from both.
                // Zᵀ (n × n_out) = Hᵀ (n × n_in) · A_lᵀ: lanes are the unit-stride rows.
                unsafe {
                    matmul(
                        (n, n_out, n_in),
                        a.out.as_mut_ptr().cast(),
                        (1, RS),
                        false,
                        inp,
                        (1, inp_rs),
                        a.u[pa..].as_ptr(),
                        (1, n_in as isize),
                    );
                }
                for (o, &c) in a.out[..n_out].iter_mut().zip(bias) {
                    for op in o[..n].iter_mut() {
                        *op += c;
                    }
                }
            } else {
                let (h, rest) = here.split_at_mut(n_out * n);
                let d = &mut rest[..n_out * n];
                // SAFETY: h holds n_out × n numbers (stride n); as above for A_l and the input, disjoint from h.
                unsafe {
                    matmul(
                        (n, n_out, n_in),
                        h.as_mut_ptr(),
                        (1, n as isize),
                        false,
                        inp,
                        (1, inp_rs),
                        a.u[pa..].as_ptr(),
                        (1, n_in as isize),
                    );
                }
                // z = A_l H + c_l, then (σ(z), σ'(z)) in one pass per unit.
                let mut z = [0.0; LANES];
                for ((hr, dr), &c) in h.chunks_exact_mut(n).zip(d.chunks_exact_mut(n)).zip(bias) {
                    for (zp, &hp) in z[..n].iter_mut().zip(hr.iter()) {
                        *zp = hp + c;
                    }
                    self.act.eval_deriv_slice::<A>(&z[..n], hr, dr);
                }
                t_off += 2 * n_out * n;
            }
        }
    }

    #[inline(always)]
    fn vjp_lanes<A: Arith>(&self, a: &mut VjpArgs) {
        let n = a.lanes;
        let nh = self.widths.len();
        let bw = self.max_width();
        let tape = a.tape.as_flattened();
        let scratch = a.scratch.as_flattened_mut();
        let (b0, b1) = scratch[..2 * bw * n].split_at_mut(bw * n);
        let (mut cur, mut nxt) = (b0, b1);
        // Δ_L = W (dense, stride n).
        for (c, wr) in cur.chunks_exact_mut(n).zip(&a.w[..self.m]) {
            c.copy_from_slice(&wr[..n]);
        }
        let mut t_end = 2 * n * self.widths.iter().sum::<usize>();
        for l in (0..=nh).rev() {
            let (n_in, n_out) = self.layer_dims(l);
            let (pa, pc) = self.layer_offsets(l);
            let (inp, inp_rs, dsig): (*const f64, isize, &[f64]) = if l == 0 {
                (a.x.as_ptr().cast(), RS, &[])
            } else {
                let s = t_end - 2 * n_in * n;
                let (h, d) = tape[s..t_end].split_at(n_in * n);
                (h.as_ptr(), n as isize, d)
            };
            let delta = &cur[..n_out * n];
            // ∂/∂A_l += Δ_l H_{l−1}ᵀ: (n_out × n) · (n × n_in); rhs(k, j) = H_{l−1}[j][k].
            // SAFETY: the gradient block A_l is n_out × n_in row-major inside acc_u; delta is n_out × n dense; the
            // input has n_in rows of ≥ n lanes at stride inp_rs; acc_u is disjoint from both.
            unsafe {
                matmul(
                    (n_out, n_in, n),
                    a.acc_u[pa..].as_mut_ptr(),
                    (n_in as isize, 1),
                    true,
                    delta.as_ptr(),
                    (n as isize, 1),
                    inp,
                    (1, inp_rs),
                );
            }
            for (g, d) in a.acc_u[pc..pc + n_out].iter_mut().zip(delta.chunks_exact(n)) {
                *g += lane_sum_slice(d);
            }
            // G_{l−1} = A_lᵀ Δ_l: (n_in × n_out) · (n_out × n); lhs(i, r) = A_l[r n_in + i].
            if l == 0 {
                // SAFETY: out_x is n_in = m rows × LANES, disjoint from u and delta.
                // Gᵀ (n × n_in) = Δᵀ (n × n_out) · A_l.
                unsafe {
                    matmul(
                        (n, n_in, n_out),
                        a.out_x.as_mut_ptr().cast(),
                        (1, RS),
                        false,
                        delta.as_ptr(),
                        (1, n as isize),
                        a.u[pa..].as_ptr(),
                        (n_in as isize, 1),
                    );
                }
            } else {
                let g_in = &mut nxt[..n_in * n];
                // SAFETY: g_in holds n_in × n numbers, disjoint from u and delta (the other buffer).
                unsafe {
                    matmul(
                        (n, n_in, n_out),
                        g_in.as_mut_ptr(),
                        (1, n as isize),
                        false,
                        delta.as_ptr(),
                        (1, n as isize),
                        a.u[pa..].as_ptr(),
                        (n_in as isize, 1),
                    );
                }
                for (gp, &dp) in g_in.iter_mut().zip(dsig) {
                    *gp *= dp;
                }
                std::mem::swap(&mut cur, &mut nxt);
                t_end -= 2 * n_in * n;
            }
        }
    }
}

/// Σ of a slice in the fixed order of [`crate::simd::lane_sum`] (8 accumulators, then a fixed tree).
#[inline(always)]
fn lane_sum_slice(v: &[f64]) -> f64 {
    let mut l = [0.0; 8];
    let (c, r) = v.as_chunks::<8>();
    for x in c {
        for k in 0..8 {
            l[k] += x[k];
        }
    }
    for (k, x) in r.iter().enumerate() {
        l[k] += *x;
    }
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}
