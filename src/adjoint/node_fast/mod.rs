//! Fast exact loss + gradient of a neural-ODE ensemble x' = tanh(W_k x + b_k) (the `node-grad` benchmark).
//!
//! # Problem
//! N points x_i ∈ R^m, K equal intervals of [0, T], control row k = (W_k row-major, b_k) ∈ R^d with d = m² + m,
//! frozen on interval k. Each interval takes `substeps` = s steps of size h = T / (K s) of
//!
//! * RK4: a₁ = σ(W x + b), a₂ = σ(W(x + h/2 a₁) + b), a₃ = σ(W(x + h/2 a₂) + b), a₄ = σ(W(x + h a₃) + b),
//!   x⁺ = x + h/6 (a₁ + 2a₂ + 2a₃ + a₄);
//! * Euler: a₁ = σ(W x + b), x⁺ = x + h a₁,
//!
//! with σ = tanh componentwise. Loss L = (1/N) Σ_i |x_i(T) − y_i|².
//!
//! # Gradient (discrete adjoint)
//! The gradient is the exact derivative of the discrete computation above. With λ = ∂L/∂x⁺ (starting from
//! λ(T) = 2/N (x(T) − y)), σ'(z) = 1 − tanh(z)² = 1 − a², stage inputs ξ₁ = x, ξ₂ = x + h/2 a₁, ξ₃ = x + h/2 a₂,
//! ξ₄ = x + h a₃, one RK4 step is reversed as
//!
//! * g₄ = (h/6 λ) ⊙ (1 − a₄²),                 γ₄ = Wᵀ g₄
//! * g₃ = (h/3 λ + h γ₄) ⊙ (1 − a₃²),          γ₃ = Wᵀ g₃
//! * g₂ = (h/3 λ + h/2 γ₃) ⊙ (1 − a₂²),        γ₂ = Wᵀ g₂
//! * g₁ = (h/6 λ + h/2 γ₂) ⊙ (1 − a₁²),        γ₁ = Wᵀ g₁
//! * λ ← λ + γ₁ + γ₂ + γ₃ + γ₄,
//! * ∂L/∂W_k += Σ_points Σ_stages g_s ξ_sᵀ,   ∂L/∂b_k += Σ_points Σ_stages g_s.
//!
//! Euler: g₁ = h λ ⊙ (1 − a₁²), λ ← λ + Wᵀ g₁, ∂L/∂W_k += g₁ xᵀ, ∂L/∂b_k += g₁.
//!
//! # Implementation
//! * Points are processed in fixed blocks of [`FAST_BLOCK`] points (the last one zero-padded; padded lanes get
//!   λ = 0, so they add exact zeros). Within a block the data is a structure of arrays (`[component][point]`),
//!   every loop runs over the points of the block, so it auto-vectorises.
//! * The forward sweep of a block stores the state at each step start and every stage's tanh value
//!   (K·s·(1 + stages)·m·B numbers: 513 KB for K = 100, m = 2, RK4, B = 64, it stays in L2). The backward sweep
//!   reuses them: σ' = 1 − a², and the stage inputs ξ are recomputed with the same expression as in the forward
//!   sweep (same bits).
//! * tanh is a branch-free, vectorisable kernel ([`tanh_kernel`]): an expm1-style reduction u = ±2|z| = n ln2 + r,
//!   a degree-13 polynomial for e^r − 1 (Estrin's scheme: short dependency chains), then with t = e^u − 1:
//!   −t/(t+2) for |z| < 1 (u = −2|z|) and 1 − 2/(t+2) otherwise (u = 2|z|) — the fdlibm split, no cancellation
//!   near 0 — one division, sign restored by copysign, NaN propagated, |z| clamped at 20 (tanh rounds to ±1).
//!   Against correctly rounded values (mpmath, 400 000 arguments over tiny … 20): 78.5 % exact, max 2 ulp
//!   (0.16 % of arguments), both paths; glibc's `f64::tanh` on the same set: 75 % exact, max 2 ulp.
//! * Blocks run in parallel with rayon (the current pool). Every block writes its own gradient partial (per-point
//!   accumulators summed over the block in a fixed lane order); the partials are combined in block order, so the
//!   result is bit-identical for any thread count.
//! * Runtime CPU-feature dispatch (no `target-cpu=native`, the binary stays portable): on x86-64 with AVX2 and
//!   FMA the same generic kernel is instantiated inside a `#[target_feature(enable = "avx2,fma")]` function and uses
//!   fused multiply–adds; when the CPU also has AVX-512 F/VL/DQ, a third copy enabled for those runs instead
//!   (wider vectors, 32 registers: ~30 % faster on Zen 4) and gives the *same bits* as the AVX2 + FMA copy (the same
//!   fused operations lane by lane, the same fixed reduction order). Otherwise (and on other architectures) the
//!   baseline build runs. Baseline and FMA results differ in the last bits (FMA rounds once); each is deterministic
//!   on a given machine. [`Isa`] forces a path (tests, comparisons); [`active_isa`] names the one `Auto` uses.
//! * m = 1, 2, 3, 4 are compiled with m as a constant (the inner loops over components unroll); 5 ≤ m ≤ [`MAX_M`]
//!   use the same kernel with a run-time m (correct, slower).
//!
//! # Errors and preconditions
//! [`try_loss_grad`] / [`try_loss`] validate the shapes and return `Err(String)` for bad input (never panic on
//! user data). [`loss_grad`] / [`loss`] have the benchmark's plain signatures: their precondition is that
//! [`NodeTanh::validate`] succeeds (the caller validates); they panic with the validation message otherwise.

use rayon::prelude::*;

mod arith;
#[cfg(target_arch = "x86_64")]
use arith::Fused;
use arith::{tanh_k, Arith, Plain};

/// Time-stepping scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastScheme {
    /// Explicit Euler: x⁺ = x + h f(x).
    Euler,
    /// Classical fourth-order Runge–Kutta.
    Rk4,
}

impl FastScheme {
    fn stages(self) -> usize {
        match self {
            FastScheme::Euler => 1,
            FastScheme::Rk4 => 4,
        }
    }
}

/// One node-grad problem: borrowed data, row-major.
#[derive(Clone, Copy, Debug)]
pub struct NodeTanh<'a> {
    /// State dimension m ≥ 1 (at most [`MAX_M`]).
    pub m: usize,
    /// Initial points, N × m row-major.
    pub x0: &'a [f64],
    /// Targets, N × m row-major.
    pub y: &'a [f64],
    /// Controls, K × (m² + m): row k = (W_k row-major, b_k).
    pub controls: &'a [f64],
    /// Number K of equal control intervals of [0, horizon].
    pub intervals: usize,
    /// Final time T.
    pub horizon: f64,
    /// Steps per interval (≥ 1).
    pub substeps: usize,
    /// Time-stepping scheme.
    pub scheme: FastScheme,
}

/// Points per block: fixed, never derived from the thread count (it fixes the summation order).
pub const FAST_BLOCK: usize = 64;

/// Largest supported state dimension.
pub const MAX_M: usize = 16;

const B: usize = FAST_BLOCK;

/// Which instruction set the kernel uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// AVX2 + FMA when the CPU has them (x86-64), otherwise the baseline.
    Auto,
    /// Always the baseline build (no FMA), for tests and comparisons.
    Baseline,
    /// AVX2 + FMA even if AVX-512 is available (same bits as the AVX-512 path); baseline without AVX2/FMA.
    Avx2Fma,
}

impl<'a> NodeTanh<'a> {
    /// Number of points N.
    pub fn points(&self) -> usize {
        self.x0.len().checked_div(self.m).unwrap_or(0)
    }

    /// Control values per interval, d = m² + m.
    pub fn control_dim(&self) -> usize {
        self.m * self.m + self.m
    }

    /// Length of the gradient, K·d.
    pub fn grad_len(&self) -> usize {
        self.intervals * self.control_dim()
    }

    /// Checks shapes and parameters; the message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        let m = self.m;
        if m == 0 || m > MAX_M {
            return Err(format!("m = {m}: must be in 1..={MAX_M}"));
        }
        if self.x0.is_empty() || !self.x0.len().is_multiple_of(m) {
            return Err(format!(
                "x0 has {} values: expected N·m with N ≥ 1, m = {m}",
                self.x0.len()
            ));
        }
        if self.y.len() != self.x0.len() {
            return Err(format!(
                "y has {} values, x0 has {}: must match (N × m)",
                self.y.len(),
                self.x0.len()
            ));
        }
        if self.intervals == 0 {
            return Err("intervals must be ≥ 1".into());
        }
        if self.substeps == 0 {
            return Err("substeps must be ≥ 1".into());
        }
        if self.controls.len() != self.grad_len() {
            return Err(format!(
                "controls has {} values: expected K·(m²+m) = {}·{} = {}",
                self.controls.len(),
                self.intervals,
                self.control_dim(),
                self.grad_len()
            ));
        }
        if !self.horizon.is_finite() || self.horizon <= 0.0 {
            return Err(format!("horizon = {}: must be finite and > 0", self.horizon));
        }
        Ok(())
    }
}

/// Loss and exact gradient. Overwrites `grad` (length K·d, same layout as `controls`) and returns the loss.
///
/// Precondition: `p.validate()` is `Ok` and `grad.len() == p.grad_len()`; panics otherwise (use
/// [`try_loss_grad`] for unvalidated input). Uses the current rayon pool; bit-identical for any thread count.
pub fn loss_grad(p: &NodeTanh, grad: &mut [f64]) -> f64 {
    try_loss_grad(p, grad).unwrap_or_else(|e| panic!("node_fast::loss_grad: {e}"))
}

/// Forward-only loss. Precondition: `p.validate()` is `Ok`; panics otherwise (see [`try_loss`]).
pub fn loss(p: &NodeTanh) -> f64 {
    try_loss(p).unwrap_or_else(|e| panic!("node_fast::loss: {e}"))
}

/// [`loss_grad`] returning `Err` on invalid shapes instead of panicking.
pub fn try_loss_grad(p: &NodeTanh, grad: &mut [f64]) -> Result<f64, String> {
    try_loss_grad_isa(p, grad, Isa::Auto)
}

/// [`loss`] returning `Err` on invalid shapes instead of panicking.
pub fn try_loss(p: &NodeTanh) -> Result<f64, String> {
    try_loss_isa(p, Isa::Auto)
}

/// [`try_loss_grad`] with an explicit instruction-set choice.
pub fn try_loss_grad_isa(p: &NodeTanh, grad: &mut [f64], isa: Isa) -> Result<f64, String> {
    p.validate()?;
    if grad.len() != p.grad_len() {
        return Err(format!(
            "grad has {} values: expected K·(m²+m) = {}",
            grad.len(),
            p.grad_len()
        ));
    }
    let ctx = Ctx::new(p, isa);
    let kd = p.grad_len();
    let nb = ctx.blocks;
    let mut partials = vec![0.0; nb * kd];
    let mut losses = vec![0.0; nb];
    partials
        .par_chunks_mut(kd)
        .zip(losses.par_iter_mut())
        .enumerate()
        .for_each_init(
            || Work::new(&ctx, true),
            |ws, (blk, (g, l))| {
                *l = run_block(&ctx, ws, blk, Some(g));
            },
        );
    // Combine the block partials in block order (fixed summation order → thread-count independent bits).
    grad.copy_from_slice(&partials[..kd]);
    for part in partials.chunks_exact(kd).skip(1) {
        for (g, v) in grad.iter_mut().zip(part) {
            *g += *v;
        }
    }
    Ok(losses.iter().sum::<f64>() / ctx.n as f64)
}

/// [`try_loss`] with an explicit instruction-set choice.
pub fn try_loss_isa(p: &NodeTanh, isa: Isa) -> Result<f64, String> {
    p.validate()?;
    let ctx = Ctx::new(p, isa);
    let mut losses = vec![0.0; ctx.blocks];
    losses.par_iter_mut().enumerate().for_each_init(
        || Work::new(&ctx, false),
        |ws, (blk, l)| *l = run_block(&ctx, ws, blk, None),
    );
    Ok(losses.iter().sum::<f64>() / ctx.n as f64)
}

/// Forward states of every point at the given global step indices (0 = the initial state, S = K·s the final
/// one), written point-major into `out`: `out[(i · steps.len() + j) · m + c]` is component c of point i after
/// `steps[j]` steps — the layout of [`crate::integrate::Trajectory`]. `p.y` is not used (pass any N × m slice,
/// e.g. `x0`). Same kernel, blocks and bits as [`try_loss`]; thread-count independent.
pub fn try_states(p: &NodeTanh, steps: &[usize], out: &mut [f64]) -> Result<(), String> {
    p.validate()?;
    let ctx = Ctx::new(p, Isa::Auto);
    let (m, ns) = (p.m, steps.len());
    if let Some(t) = steps.iter().find(|&&t| t > ctx.steps) {
        return Err(format!("step {t} is beyond the last step {}", ctx.steps));
    }
    if ns == 0 || out.len() != ctx.n * ns * m {
        return Err(format!(
            "out has {} values: expected N · steps · m = {}",
            out.len(),
            ctx.n * ns * m
        ));
    }
    out.par_chunks_mut(B * ns * m).enumerate().for_each_init(
        || Work::new(&ctx, true),
        |ws, (blk, o)| {
            run_block(&ctx, ws, blk, None);
            for (p, dst) in o.chunks_mut(ns * m).enumerate() {
                for (j, &t) in steps.iter().enumerate() {
                    for c in 0..m {
                        dst[j * m + c] = ws.xs[t * m + c][p];
                    }
                }
            }
        },
    );
    Ok(())
}

fn avx512_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        fma_path_active()
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512dq")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The kernel [`Isa::Auto`] runs on this machine: "avx512" (same bits as "avx2+fma"), "avx2+fma" or "baseline".
pub fn active_isa() -> &'static str {
    if avx512_available() {
        "avx512"
    } else if fma_path_active() {
        "avx2+fma"
    } else {
        "baseline"
    }
}

/// True when the CPU has AVX2 and FMA ([`Isa::Auto`] then runs a fused-multiply–add kernel).
pub fn fma_path_active() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Branch-free tanh used by the kernel (baseline arithmetic, no FMA), exposed for tests. Max error vs the
/// correctly rounded value is about 1–2 ulp; tanh(±0) = ±0, tanh(±∞) = ±1, NaN in → NaN out.
pub fn tanh_kernel(x: f64) -> f64 {
    tanh_k::<Plain>(x)
}

/// [`tanh_kernel`] as compiled in the AVX2 + FMA path (None when the CPU lacks AVX2/FMA), exposed for tests.
pub fn tanh_kernel_fma(x: f64) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        if fma_path_active() {
            // SAFETY: the CPU supports AVX2 and FMA (checked above).
            return Some(unsafe { tanh_fma(x) });
        }
    }
    let _ = x;
    None
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tanh_fma(x: f64) -> f64 {
    tanh_k::<Fused>(x)
}

// ---------------------------------------------------------------------------------------------------------------
// Per-call context and per-worker workspace

struct Ctx<'a> {
    m: usize,
    d: usize,
    n: usize,
    blocks: usize,
    s: usize,
    steps: usize,
    stages: usize,
    h: f64,
    scheme: FastScheme,
    x0: &'a [f64],
    y: &'a [f64],
    controls: &'a [f64],
    fma: bool,
    avx512: bool,
}

impl<'a> Ctx<'a> {
    fn new(p: &NodeTanh<'a>, isa: Isa) -> Self {
        let n = p.points();
        let steps = p.intervals * p.substeps;
        Ctx {
            m: p.m,
            d: p.control_dim(),
            n,
            blocks: n.div_ceil(B),
            s: p.substeps,
            steps,
            stages: p.scheme.stages(),
            h: p.horizon / steps as f64,
            scheme: p.scheme,
            x0: p.x0,
            y: p.y,
            controls: p.controls,
            fma: isa != Isa::Baseline && fma_path_active(),
            avx512: isa == Isa::Auto && avx512_available(),
        }
    }
}

/// Workspace of one worker, reused for all its blocks. Layout `[…][component][point]`, rows of B points.
struct Work {
    /// States at step starts: (steps + 1) × m rows when storing, 2 × m rows (ping-pong) for the forward only.
    xs: Vec<[f64; B]>,
    /// Stage tanh values: steps × stages × m rows when storing, stages × m rows for the forward only.
    st: Vec<[f64; B]>,
    /// Adjoint λ: m rows.
    lam: Vec<[f64; B]>,
    /// Per-point gradient accumulators of the current interval: d rows.
    acc: Vec<[f64; B]>,
    /// Targets of the block: m rows.
    y: Vec<[f64; B]>,
    store: bool,
}

impl Work {
    fn new(c: &Ctx, store: bool) -> Self {
        let (xr, sr) = if store { (c.steps + 1, c.steps) } else { (2, 1) };
        Work {
            xs: vec![[0.0; B]; xr * c.m],
            st: vec![[0.0; B]; sr * c.stages * c.m],
            lam: vec![[0.0; B]; c.m],
            acc: vec![[0.0; B]; c.d],
            y: vec![[0.0; B]; c.m],
            store,
        }
    }
}

fn run_block(c: &Ctx, ws: &mut Work, blk: usize, grad: Option<&mut [f64]>) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if c.fma && c.avx512 {
            // SAFETY: `c.avx512` is only set when the CPU supports AVX-512 F/VL/DQ (and AVX2, FMA).
            return unsafe { run_block_avx512(c, ws, blk, grad) };
        }
        if c.fma {
            // SAFETY: `c.fma` is only set when the CPU supports AVX2 and FMA.
            return unsafe { run_block_fma(c, ws, blk, grad) };
        }
    }
    block_dispatch::<Plain>(c, ws, blk, grad)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
unsafe fn run_block_avx512(c: &Ctx, ws: &mut Work, blk: usize, grad: Option<&mut [f64]>) -> f64 {
    block_dispatch::<Fused>(c, ws, blk, grad)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_block_fma(c: &Ctx, ws: &mut Work, blk: usize, grad: Option<&mut [f64]>) -> f64 {
    block_dispatch::<Fused>(c, ws, blk, grad)
}

#[inline(always)]
fn block_dispatch<A: Arith>(c: &Ctx, ws: &mut Work, blk: usize, grad: Option<&mut [f64]>) -> f64 {
    match c.m {
        1 => block::<1, A>(1, c, ws, blk, grad),
        2 => block::<2, A>(2, c, ws, blk, grad),
        3 => block::<3, A>(3, c, ws, blk, grad),
        4 => block::<4, A>(4, c, ws, blk, grad),
        m => block::<MAX_M, A>(m, c, ws, blk, grad),
    }
}

/// One block: load, forward sweep (storing), loss, and (if `grad`) the backward sweep writing this block's
/// gradient partial. `m ≤ CAP`; when called with a literal m = CAP the component loops unroll.
#[inline(always)]
fn block<const CAP: usize, A: Arith>(m: usize, c: &Ctx, ws: &mut Work, blk: usize, grad: Option<&mut [f64]>) -> f64 {
    let start = blk * B;
    let valid = (c.n - start).min(B);
    // Load the block (transpose AoS → SoA, zero padding).
    for i in 0..m {
        let (x0r, yr) = (&mut ws.xs[i], &mut ws.y[i]);
        for p in 0..B {
            let (xv, yv) = if p < valid {
                let q = (start + p) * m + i;
                (c.x0[q], c.y[q])
            } else {
                (0.0, 0.0)
            };
            x0r[p] = xv;
            yr[p] = yv;
        }
    }

    forward::<CAP, A>(m, c, ws);

    // Loss partial and λ(T) = 2/N (x(T) − y), zero on padded lanes.
    let last = if ws.store { c.steps * m } else { (c.steps & 1) * m };
    let two_n = 2.0 / c.n as f64;
    let mut loss = 0.0;
    for p in 0..valid {
        for i in 0..m {
            let e = ws.xs[last + i][p] - ws.y[i][p];
            loss += e * e;
        }
    }
    let Some(grad) = grad else {
        return loss;
    };
    for i in 0..m {
        for p in 0..B {
            ws.lam[i][p] = if p < valid {
                two_n * (ws.xs[last + i][p] - ws.y[i][p])
            } else {
                0.0
            };
        }
    }
    backward::<CAP, A>(m, c, ws, grad);
    loss
}

#[inline(always)]
fn forward<const CAP: usize, A: Arith>(m: usize, c: &Ctx, ws: &mut Work) {
    let (h, d, ns) = (c.h, c.d, c.stages);
    let h2 = 0.5 * h;
    let h6 = h / 6.0;
    for t in 0..c.steps {
        let u = &c.controls[(t / c.s) * d..(t / c.s + 1) * d];
        let (w, b) = u.split_at(m * m);
        let (xi, xo, si) = if ws.store {
            (t, t + 1, t)
        } else {
            (t & 1, (t + 1) & 1, 0)
        };
        let (lo, hi) = ws.xs.split_at_mut(xi.max(xo) * m);
        let (x, xn) = if xi < xo {
            (&lo[xi * m..], &mut hi[..m])
        } else {
            (&hi[..m], &mut lo[xo * m..xo * m + m])
        };
        let x = &x[..m];
        let st = &mut ws.st[si * ns * m..(si + 1) * ns * m];
        match c.scheme {
            FastScheme::Euler => {
                stage::<CAP, A, true>(m, w, b, x, x, 0.0, &mut st[..m]);
                update_euler::<A>(m, h, x, &st[..m], xn);
            }
            FastScheme::Rk4 => {
                let (a1, rest) = st.split_at_mut(m);
                let (a2, rest) = rest.split_at_mut(m);
                let (a3, a4) = rest.split_at_mut(m);
                stage::<CAP, A, true>(m, w, b, x, x, 0.0, a1);
                stage::<CAP, A, false>(m, w, b, x, a1, h2, a2);
                stage::<CAP, A, false>(m, w, b, x, a2, h2, a3);
                stage::<CAP, A, false>(m, w, b, x, a3, h, a4);
                update_rk4::<A>(m, h6, x, a1, a2, a3, a4, xn);
            }
        }
    }
}

/// x⁺ = x + h a₁ over the block.
#[inline(always)]
fn update_euler<A: Arith>(m: usize, h: f64, x: &[[f64; B]], a1: &[[f64; B]], xn: &mut [[f64; B]]) {
    for j in 0..m {
        let (xr, ar, nr) = (&x[j], &a1[j], &mut xn[j]);
        for p in 0..B {
            nr[p] = A::madd(h, ar[p], xr[p]);
        }
    }
}

/// x⁺ = x + h/6 (a₁ + 2a₂ + 2a₃ + a₄) over the block.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn update_rk4<A: Arith>(
    m: usize,
    h6: f64,
    x: &[[f64; B]],
    a1: &[[f64; B]],
    a2: &[[f64; B]],
    a3: &[[f64; B]],
    a4: &[[f64; B]],
    xn: &mut [[f64; B]],
) {
    for j in 0..m {
        let (xr, r1, r2, r3, r4, nr) = (&x[j], &a1[j], &a2[j], &a3[j], &a4[j], &mut xn[j]);
        for p in 0..B {
            let sum = A::madd(2.0, r3[p], A::madd(2.0, r2[p], r1[p])) + r4[p];
            nr[p] = A::madd(h6, sum, xr[p]);
        }
    }
}

/// One stage over the block: out_i = tanh(Σ_j W_ij ξ_j + b_i), ξ = x (FIRST) or x + c·prev.
#[inline(always)]
fn stage<const CAP: usize, A: Arith, const FIRST: bool>(
    m: usize,
    w: &[f64],
    b: &[f64],
    x: &[[f64; B]],
    prev: &[[f64; B]],
    c: f64,
    out: &mut [[f64; B]],
) {
    let (x, prev, out, w, b) = (&x[..m], &prev[..m], &mut out[..m], &w[..m * m], &b[..m]);
    for p in 0..B {
        let mut xi = [0.0; CAP];
        for j in 0..m {
            xi[j] = if FIRST {
                x[j][p]
            } else {
                A::madd(c, prev[j][p], x[j][p])
            };
        }
        for i in 0..m {
            let mut z = w[i * m] * xi[0];
            for j in 1..m {
                z = A::madd(w[i * m + j], xi[j], z);
            }
            out[i][p] = tanh_k::<A>(z + b[i]);
        }
    }
}

/// Sum of a row of B numbers in a fixed order (8 lanes, then a fixed tree): vectorises, deterministic.
#[inline(always)]
fn row_sum(r: &[f64; B]) -> f64 {
    let mut l = [0.0; 8];
    for ch in r.chunks_exact(8) {
        for k in 0..8 {
            l[k] += ch[k];
        }
    }
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

#[inline(always)]
fn backward<const CAP: usize, A: Arith>(m: usize, c: &Ctx, ws: &mut Work, grad: &mut [f64]) {
    let (d, ns) = (c.d, c.stages);
    for row in ws.acc.iter_mut() {
        *row = [0.0; B];
    }
    for t in (0..c.steps).rev() {
        let k = t / c.s;
        let w = &c.controls[k * d..k * d + m * m];
        let x = &ws.xs[t * m..(t + 1) * m];
        let st = &ws.st[t * ns * m..(t + 1) * ns * m];
        // Separate slice arguments (noalias) so the point loops vectorise.
        match c.scheme {
            FastScheme::Euler => back_euler::<CAP, A>(m, c.h, w, x, st, &mut ws.lam[..m], &mut ws.acc[..d]),
            FastScheme::Rk4 => back_rk4::<CAP, A>(m, c.h, w, x, st, &mut ws.lam[..m], &mut ws.acc[..d]),
        }
        if t % c.s == 0 {
            // First step of interval k: reduce the per-point accumulators into this block's partial.
            let gk = &mut grad[k * d..(k + 1) * d];
            for (q, row) in ws.acc[..d].iter_mut().enumerate() {
                gk[q] = row_sum(row);
                *row = [0.0; B];
            }
        }
    }
}

/// One Euler step reversed over the block: λ ← λ + Wᵀ g, acc += g xᵀ (and g for b), g = h λ ⊙ (1 − a²).
#[inline(always)]
fn back_euler<const CAP: usize, A: Arith>(
    m: usize,
    h: f64,
    w: &[f64],
    x: &[[f64; B]],
    st: &[[f64; B]],
    lam: &mut [[f64; B]],
    acc: &mut [[f64; B]],
) {
    let mm = m * m;
    let (w, x, st, lam, acc) = (&w[..mm], &x[..m], &st[..m], &mut lam[..m], &mut acc[..mm + m]);
    for p in 0..B {
        let mut g = [0.0; CAP];
        for i in 0..m {
            let a = st[i][p];
            g[i] = (h * lam[i][p]) * A::madd(-a, a, 1.0);
        }
        for i in 0..m {
            for j in 0..m {
                acc[i * m + j][p] = A::madd(g[i], x[j][p], acc[i * m + j][p]);
            }
            acc[mm + i][p] += g[i];
        }
        for j in 0..m {
            let mut s = lam[j][p];
            for i in 0..m {
                s = A::madd(w[i * m + j], g[i], s);
            }
            lam[j][p] = s;
        }
    }
}

/// One RK4 step reversed over the block (equations in the module docs).
#[inline(always)]
fn back_rk4<const CAP: usize, A: Arith>(
    m: usize,
    h: f64,
    w: &[f64],
    x: &[[f64; B]],
    st: &[[f64; B]],
    lam: &mut [[f64; B]],
    acc: &mut [[f64; B]],
) {
    let h2 = 0.5 * h;
    let h3 = h / 3.0;
    let h6 = h / 6.0;
    let mm = m * m;
    let (w, x, lam, acc) = (&w[..mm], &x[..m], &mut lam[..m], &mut acc[..mm + m]);
    let (a1, rest) = st[..4 * m].split_at(m);
    let (a2, rest) = rest.split_at(m);
    let (a3, a4) = rest.split_at(m);
    for p in 0..B {
        let mut l = [0.0; CAP];
        let mut xv = [0.0; CAP];
        let (mut g1, mut g2, mut g3, mut g4) = ([0.0; CAP], [0.0; CAP], [0.0; CAP], [0.0; CAP]);
        let (mut y1, mut y2, mut y3, mut y4) = ([0.0; CAP], [0.0; CAP], [0.0; CAP], [0.0; CAP]);
        for i in 0..m {
            l[i] = lam[i][p];
            xv[i] = x[i][p];
        }
        // stage 4
        for i in 0..m {
            let a = a4[i][p];
            g4[i] = (h6 * l[i]) * A::madd(-a, a, 1.0);
        }
        wt_mul::<CAP, A>(m, w, &g4, &mut y4);
        // stage 3
        for i in 0..m {
            let a = a3[i][p];
            g3[i] = A::madd(h, y4[i], h3 * l[i]) * A::madd(-a, a, 1.0);
        }
        wt_mul::<CAP, A>(m, w, &g3, &mut y3);
        // stage 2
        for i in 0..m {
            let a = a2[i][p];
            g2[i] = A::madd(h2, y3[i], h3 * l[i]) * A::madd(-a, a, 1.0);
        }
        wt_mul::<CAP, A>(m, w, &g2, &mut y2);
        // stage 1
        for i in 0..m {
            let a = a1[i][p];
            g1[i] = A::madd(h2, y2[i], h6 * l[i]) * A::madd(-a, a, 1.0);
        }
        wt_mul::<CAP, A>(m, w, &g1, &mut y1);
        for j in 0..m {
            lam[j][p] = ((l[j] + y4[j]) + (y3[j] + y2[j])) + y1[j];
        }
        // parameter accumulators: Σ_s g_s ξ_sᵀ, stage inputs recomputed exactly as in the forward sweep
        for j in 0..m {
            let x1 = xv[j];
            let x2 = A::madd(h2, a1[j][p], x1);
            let x3 = A::madd(h2, a2[j][p], x1);
            let x4 = A::madd(h, a3[j][p], x1);
            for i in 0..m {
                let q = i * m + j;
                let mut s = acc[q][p];
                s = A::madd(g1[i], x1, s);
                s = A::madd(g2[i], x2, s);
                s = A::madd(g3[i], x3, s);
                s = A::madd(g4[i], x4, s);
                acc[q][p] = s;
            }
        }
        for i in 0..m {
            acc[mm + i][p] += ((g1[i] + g2[i]) + g3[i]) + g4[i];
        }
    }
}

/// y = Wᵀ g (y_j = Σ_i W_ij g_i).
#[inline(always)]
fn wt_mul<const CAP: usize, A: Arith>(m: usize, w: &[f64], g: &[f64; CAP], y: &mut [f64; CAP]) {
    for j in 0..m {
        let mut s = w[j] * g[0];
        for i in 1..m {
            s = A::madd(w[i * m + j], g[i], s);
        }
        y[j] = s;
    }
}

#[cfg(test)]
mod tests;
