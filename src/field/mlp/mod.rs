//! Multilayer-perceptron vector field (the neural ODE of Chen et al. 2018; SPEC §1, §3): the parameters θ of a
//! fixed-architecture MLP are the control u.
//!
//! ```text
//! f(x; θ) = A_L σ(… σ(A_1 x + c_1) …) + c_L,      x ∈ R^m, f ∈ R^m, hidden widths w_1 … w_{L−1}
//! θ = (A_1 row-major, c_1, A_2 row-major, c_2, …, A_L row-major, c_L),   d = Σ_l n_l (n_{l−1} + 1)
//!
//! forward:   a_0 = x,  z_l = A_l a_{l−1} + c_l,  a_l = σ(z_l)  (l < L),  f = z_L
//! backward:  δ_L = w,  ∂/∂A_l += δ_l a_{l−1}ᵀ,  ∂/∂c_l += δ_l,  g_{l−1} = A_lᵀ δ_l,  δ_{l−1} = σ'(z_{l−1}) ⊙ g_{l−1}
//!            (∂f/∂x)ᵀ w = g_0
//! tangent:   ż_1 = A_1 v,  ȧ_l = σ'(z_l) ⊙ ż_l,  ż_{l+1} = A_{l+1} ȧ_l,  (∂f/∂x) v = ż_L
//! ```
//!
//! The control may be piecewise constant over intervals like any other field; "parameters constant in time" is a
//! scenario with one interval and many sub-steps.
//!
//! Performance: the neural-ODE reproduction (1→200→200→1 ReLU, 40 801 parameters) calls eval, and in the backward
//! pass vjp_x and vjp_u_acc at the same point, 100 times per iteration. [`Mlp::vjp_both`] does one forward
//! recomputation and one backward sweep for both products; forward rows are dot products with independent
//! accumulators (so they vectorise), backward rows are axpys that skip units whose δ is exactly zero (dead ReLUs).
//!
//! Scratch layout (no allocation in any method): for each hidden layer l, `[a_l | s_l]` (2·w_l numbers), where
//! s_l holds the pre-activation z_l during the forward pass and is then overwritten by σ'(z_l); followed by two
//! ping-pong buffers of max(m, w_max) numbers for the backward cotangents / forward tangents.

mod block;
mod spec;
pub use spec::MlpSpec;

use super::{Activation, EvalArgs, VectorField, VjpArgs};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Dot product with eight independent accumulators (a fixed summation order, vectorisable without reassociation).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut acc = [0.0f64; 8];
    for (p, q) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += p[i] * q[i];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (p, q) in ra.iter().zip(rb) {
        s += p * q;
    }
    s
}

/// out += s · a.
#[inline]
fn axpy(s: f64, a: &[f64], out: &mut [f64]) {
    debug_assert_eq!(a.len(), out.len());
    for (o, &v) in out.iter_mut().zip(a) {
        *o += s * v;
    }
}

/// A multilayer perceptron R^m → R^m with hidden `widths` and activation `act` on every hidden layer (none on the
/// output), as a controlled vector field with u = θ.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    /// Input and output dimension.
    pub m: usize,
    /// Hidden widths w_1 … w_{L−1} (empty: the affine map A x + c).
    pub widths: Vec<usize>,
    /// Hidden activation σ.
    pub act: Activation,
}

impl Mlp {
    pub fn new(m: usize, widths: Vec<usize>, act: Activation) -> Self {
        Mlp { m, widths, act }
    }

    /// Number of layers L (hidden layers + output layer).
    pub fn n_layers(&self) -> usize {
        self.widths.len() + 1
    }

    /// (fan_in, fan_out) of layer l ∈ 0..L.
    #[inline]
    pub fn layer_dims(&self, l: usize) -> (usize, usize) {
        let nh = self.widths.len();
        let n_in = if l == 0 { self.m } else { self.widths[l - 1] };
        let n_out = if l == nh { self.m } else { self.widths[l] };
        (n_in, n_out)
    }

    /// Number of parameters d = Σ_l n_out (n_in + 1).
    pub fn n_params(&self) -> usize {
        (0..self.n_layers())
            .map(|l| {
                let (i, o) = self.layer_dims(l);
                o * (i + 1)
            })
            .sum()
    }

    fn max_width(&self) -> usize {
        self.widths.iter().copied().fold(self.m, usize::max)
    }

    /// PyTorch's default `nn.Linear` initialisation: every weight and bias of layer l drawn from
    /// U(−1/√fan_in, 1/√fan_in), in θ order, from a ChaCha8 stream seeded with `seed`.
    pub fn init_params(&self, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut theta = Vec::with_capacity(self.n_params());
        for l in 0..self.n_layers() {
            let (n_in, n_out) = self.layer_dims(l);
            let bound = 1.0 / (n_in as f64).sqrt();
            for _ in 0..n_out * (n_in + 1) {
                theta.push(rng.gen_range(-bound..bound));
            }
        }
        theta
    }

    /// Forward pass through the hidden layers: fills `[a_l | s_l]` for every hidden layer, with s_l = σ'(z_l)
    /// when `deriv` (else z_l). Returns the offset in `scratch` of the last hidden activation (unused if none).
    fn forward_hidden(&self, x: &[f64], u: &[f64], scratch: &mut [f64], deriv: bool) -> usize {
        let mut p_off = 0;
        let mut s_off = 0;
        let mut prev_off = 0;
        for l in 0..self.widths.len() {
            let (n_in, n_out) = self.layer_dims(l);
            let a_mat = &u[p_off..p_off + n_out * n_in];
            let c = &u[p_off + n_out * n_in..p_off + n_out * (n_in + 1)];
            let (before, here) = scratch.split_at_mut(s_off);
            let inp: &[f64] = if l == 0 { x } else { &before[prev_off..prev_off + n_in] };
            let (a, rest) = here.split_at_mut(n_out);
            let s = &mut rest[..n_out];
            for r in 0..n_out {
                let z = dot(&a_mat[r * n_in..(r + 1) * n_in], inp) + c[r];
                if deriv {
                    let (v, dv) = self.act.eval_deriv(z);
                    a[r] = v;
                    s[r] = dv;
                } else {
                    a[r] = self.act.eval(z);
                    s[r] = z;
                }
            }
            p_off += n_out * (n_in + 1);
            prev_off = s_off;
            s_off += 2 * n_out;
        }
        prev_off
    }

    /// Offset of the ping-pong buffers in scratch.
    fn buf_off(&self) -> usize {
        2 * self.widths.iter().sum::<usize>()
    }

    fn backward(
        &self,
        x: &[f64],
        u: &[f64],
        w: &[f64],
        mut out_x: Option<&mut [f64]>,
        mut out_u: Option<&mut [f64]>,
        scratch: &mut [f64],
    ) {
        let m = self.m;
        debug_assert!(x.len() == m && w.len() == m && u.len() == self.n_params());
        debug_assert!(scratch.len() >= self.scratch_len());
        debug_assert!(out_x.as_ref().is_none_or(|o| o.len() == m));
        debug_assert!(out_u.as_ref().is_none_or(|o| o.len() == self.n_params()));
        self.forward_hidden(x, u, scratch, true);
        let nh = self.widths.len();
        let bw = self.max_width();
        let b_off = self.buf_off();
        let (acts, bufs) = scratch.split_at_mut(b_off);
        let (buf0, buf1) = bufs.split_at_mut(bw);
        let mut cur: &mut [f64] = &mut buf0[..bw];
        let mut nxt: &mut [f64] = &mut buf1[..bw];
        cur[..m].copy_from_slice(w);

        let mut p_end = self.n_params();
        let mut a_end = b_off; // end of [a_l | s_l] for the layer feeding the current one
        for l in (0..=nh).rev() {
            let (n_in, n_out) = self.layer_dims(l);
            let p_start = p_end - n_out * (n_in + 1);
            let a_mat = &u[p_start..p_start + n_out * n_in];
            // The input of layer l: x, or a_{l−1} with σ'(z_{l−1}) right after it.
            let (inp, dsig): (&[f64], &[f64]) = if l == 0 {
                (x, &[])
            } else {
                let start = a_end - 2 * n_in;
                let (a, s) = acts[start..a_end].split_at(n_in);
                (a, s)
            };
            let delta = &cur[..n_out];
            let want_in = l > 0 || out_x.is_some();
            let g_in: &mut [f64] = if l == 0 {
                match out_x.as_deref_mut() {
                    Some(o) => o,
                    None => &mut nxt[..n_in],
                }
            } else {
                &mut nxt[..n_in]
            };
            if want_in {
                g_in.fill(0.0);
            }
            match out_u.as_deref_mut() {
                Some(gu) => {
                    let (g_a, g_c) = gu[p_start..p_end].split_at_mut(n_out * n_in);
                    for r in 0..n_out {
                        let dr = delta[r];
                        if dr == 0.0 {
                            continue;
                        }
                        let row = &a_mat[r * n_in..(r + 1) * n_in];
                        axpy(dr, inp, &mut g_a[r * n_in..(r + 1) * n_in]);
                        g_c[r] += dr;
                        if want_in {
                            axpy(dr, row, g_in);
                        }
                    }
                }
                None => {
                    for r in 0..n_out {
                        let dr = delta[r];
                        if dr != 0.0 {
                            axpy(dr, &a_mat[r * n_in..(r + 1) * n_in], g_in);
                        }
                    }
                }
            }
            if l > 0 {
                // δ_{l−1} = σ'(z_{l−1}) ⊙ g_{l−1}
                for (g, &ds) in g_in.iter_mut().zip(dsig) {
                    *g *= ds;
                }
                std::mem::swap(&mut cur, &mut nxt);
                a_end -= 2 * n_in;
            }
            p_end = p_start;
        }
    }
}

impl VectorField for Mlp {
    fn state_dim(&self) -> usize {
        self.m
    }
    fn control_dim(&self) -> usize {
        self.n_params()
    }
    fn scratch_len(&self) -> usize {
        self.buf_off() + 2 * self.max_width()
    }
    fn eval(&self, x: &[f64], u: &[f64], out: &mut [f64], scratch: &mut [f64]) {
        let m = self.m;
        debug_assert!(x.len() == m && u.len() == self.n_params() && out.len() == m);
        let last = self.forward_hidden(x, u, scratch, false);
        let (n_in, _) = self.layer_dims(self.widths.len());
        let p_start = self.n_params() - m * (n_in + 1);
        let a_mat = &u[p_start..p_start + m * n_in];
        let c = &u[p_start + m * n_in..];
        let inp: &[f64] = if self.widths.is_empty() {
            x
        } else {
            &scratch[last..last + n_in]
        };
        for (r, o) in out.iter_mut().enumerate() {
            *o = dot(&a_mat[r * n_in..(r + 1) * n_in], inp) + c[r];
        }
    }
    fn jvp_x(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64], scratch: &mut [f64]) {
        let m = self.m;
        debug_assert!(x.len() == m && v.len() == m && out.len() == m && u.len() == self.n_params());
        let bw = self.max_width();
        let b_off = self.buf_off();
        let (acts, bufs) = scratch.split_at_mut(b_off);
        let (buf0, buf1) = bufs.split_at_mut(bw);
        let mut cur: &mut [f64] = &mut buf0[..bw];
        let mut nxt: &mut [f64] = &mut buf1[..bw];
        cur[..m].copy_from_slice(v);
        let nh = self.widths.len();
        let mut p_off = 0;
        let mut s_off = 0;
        let mut prev_off = 0;
        for l in 0..=nh {
            let (n_in, n_out) = self.layer_dims(l);
            let a_mat = &u[p_off..p_off + n_out * n_in];
            let tan = &cur[..n_in];
            if l == nh {
                for (r, o) in out.iter_mut().enumerate() {
                    *o = dot(&a_mat[r * n_in..(r + 1) * n_in], tan);
                }
                break;
            }
            let c = &u[p_off + n_out * n_in..p_off + n_out * (n_in + 1)];
            let (before, here) = acts.split_at_mut(s_off);
            let inp: &[f64] = if l == 0 { x } else { &before[prev_off..prev_off + n_in] };
            let a = &mut here[..n_out];
            let t_out = &mut nxt[..n_out];
            for r in 0..n_out {
                let row = &a_mat[r * n_in..(r + 1) * n_in];
                let z = dot(row, inp) + c[r];
                let (s, ds) = self.act.eval_deriv(z);
                a[r] = s;
                t_out[r] = if ds == 0.0 { 0.0 } else { ds * dot(row, tan) };
            }
            std::mem::swap(&mut cur, &mut nxt);
            p_off += n_out * (n_in + 1);
            prev_off = s_off;
            s_off += 2 * n_out;
        }
    }
    fn vjp_x(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], scratch: &mut [f64]) {
        self.backward(x, u, w, Some(out), None, scratch)
    }
    fn vjp_u_acc(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], scratch: &mut [f64]) {
        self.backward(x, u, w, None, Some(out), scratch)
    }
    /// One forward recomputation and one backward sweep for both products.
    fn vjp_both(&self, x: &[f64], u: &[f64], w: &[f64], out_x: &mut [f64], out_u_acc: &mut [f64], scratch: &mut [f64]) {
        self.backward(x, u, w, Some(out_x), Some(out_u_acc), scratch)
    }
    fn tape_rows(&self) -> usize {
        2 * self.widths.iter().sum::<usize>()
    }
    fn block_scratch_rows(&self) -> usize {
        (2 * self.max_width()).max((self.scratch_len() + 4 * self.m).div_ceil(crate::simd::LANES))
    }
    /// Blocks of fewer than `GEMM_MIN_LANES` (4) points (a single trajectory, as in the neural-ODE fit) use
    /// the per-point matrix–vector code: a GEMM would repack the weights for a product with one column.
    fn eval_block(&self, a: &mut EvalArgs) {
        if a.lanes < block::GEMM_MIN_LANES {
            super::per_point_eval_block(self, a)
        } else {
            crate::simd::eval(self, a)
        }
    }
    fn vjp_block(&self, a: &mut VjpArgs) {
        if a.lanes < block::GEMM_MIN_LANES {
            super::per_point_vjp_block(self, a)
        } else {
            crate::simd::vjp(self, a)
        }
    }
    fn control_names(&self) -> Vec<String> {
        // θ = (A_1 row-major, c_1, …, A_L, c_L): `A{l}_{i}_{j}` and `c{l}_{i}` (1-based layer, row, column).
        let mut dims = vec![self.m];
        dims.extend(&self.widths);
        dims.push(self.m);
        let mut v = Vec::with_capacity(self.n_params());
        for l in 1..dims.len() {
            let (rows, cols) = (dims[l], dims[l - 1]);
            v.extend((1..=rows).flat_map(|i| (1..=cols).map(move |j| format!("A{l}_{i}_{j}"))));
            v.extend((1..=rows).map(|i| format!("c{l}_{i}")));
        }
        v
    }
    fn describe(&self) -> String {
        let mut s = format!("MLP {}", self.m);
        for w in &self.widths {
            s.push_str(&format!("→{w}"));
        }
        format!("{s}→{}, σ = {}, d = {}", self.m, self.act.name(), self.n_params())
    }
}

#[cfg(test)]
mod tests;
