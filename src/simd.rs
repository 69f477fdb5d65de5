//! Lanes of points and the vectorised kernels that act on them, with runtime CPU-feature dispatch.
//!
//! The block engine keeps a block of up to [`LANES`] points in structure-of-arrays layout: one row of
//! [`Lanes`] per state component, every loop runs over the points of a row, so it auto-vectorises. What makes it
//! fast on a given machine is decided once at run time (no `target-cpu=native`, the binary stays portable):
//!
//! * [`Isa::Avx512`] — AVX-512 F/VL/DQ with AVX2 + FMA: the same generic code compiled inside a
//!   `#[target_feature]` trampoline, with fused multiply–adds;
//! * [`Isa::Avx2Fma`] — AVX2 + FMA; gives the *same bits* as the AVX-512 path (the same fused operations lane by
//!   lane, the same fixed reduction orders), only narrower vectors;
//! * [`Isa::Baseline`] — the plain x86-64 / other-architecture build, two roundings per multiply–add.
//!
//! Baseline and FMA results differ in the last bits; each is deterministic on a machine. The environment
//! variable `LIEFLOW_ISA` = `baseline` | `avx2` | `avx512` lowers the choice (never above what the CPU has), for
//! comparisons and tests.
//!
//! A kernel is written once, generic over the arithmetic flavour [`Arith`] ([`Plain`] a·b + c, or [`Fused`]
//! fma(a, b, c)), marked `#[inline(always)]`, and run through [`BlockKernels`] + [`eval`] / [`vjp`], which pick
//! the trampoline for the active [`Isa`] once per call (per block, not per point).
//!
//! Transcendentals ([`tanh_k`], [`exp_neg_k`], [`sigmoid_k`]) are branch-free so they vectorise: an expm1-style
//! reduction u = n ln2 + r, |r| ≤ ln2/2, a degree-13 polynomial for e^r − 1 by Estrin's scheme (short dependency
//! chains), and the fdlibm split for tanh (no cancellation near 0). Against correctly rounded values (mpmath,
//! `tests/data/activation_reference.csv`): ≤ 2 ulp for tanh and sigmoid on both arithmetic flavours.

use std::sync::OnceLock;

/// Points per block: fixed, never derived from the thread count (it fixes every summation order).
pub const LANES: usize = 64;

/// One state component (or one stage value, one tape row) of a block of points.
pub type Lanes = [f64; LANES];

/// The arithmetic of a kernel build: how a·b + c is rounded.
pub trait Arith: Copy + Send + Sync + 'static {
    /// a·b + c.
    fn madd(a: f64, b: f64, c: f64) -> f64;
}

/// a·b + c with two roundings (baseline build).
#[derive(Clone, Copy, Debug)]
pub struct Plain;

impl Arith for Plain {
    #[inline(always)]
    fn madd(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

/// fma(a, b, c), one rounding (only used inside AVX2 + FMA / AVX-512 trampolines).
#[derive(Clone, Copy, Debug)]
pub struct Fused;

impl Arith for Fused {
    #[inline(always)]
    fn madd(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
}

/// The instruction set the block kernels run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Isa {
    /// Plain build (no FMA).
    Baseline,
    /// AVX2 + FMA.
    Avx2Fma,
    /// AVX-512 F/VL/DQ (+ AVX2, FMA); same bits as [`Isa::Avx2Fma`].
    Avx512,
}

impl Isa {
    /// Name as in manifests: "baseline", "avx2+fma", "avx512".
    pub fn name(self) -> &'static str {
        match self {
            Isa::Baseline => "baseline",
            Isa::Avx2Fma => "avx2+fma",
            Isa::Avx512 => "avx512",
        }
    }
}

/// The best instruction set this CPU has.
pub fn detected_isa() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx2") && has!("fma") {
            if has!("avx512f") && has!("avx512vl") && has!("avx512dq") {
                return Isa::Avx512;
            }
            return Isa::Avx2Fma;
        }
    }
    Isa::Baseline
}

/// The instruction set the kernels use: [`detected_isa`], lowered by `LIEFLOW_ISA` if set. Decided once.
pub fn active_isa() -> Isa {
    static ACTIVE: OnceLock<Isa> = OnceLock::new();
    *ACTIVE.get_or_init(|| {
        let best = detected_isa();
        let wanted = match std::env::var("LIEFLOW_ISA").as_deref() {
            Ok("baseline") => Isa::Baseline,
            Ok("avx2") | Ok("avx2+fma") => Isa::Avx2Fma,
            _ => best,
        };
        wanted.min(best)
    })
}

/// Kernels of a vector-field family, generic over the arithmetic; the object-safe block methods of
/// [`crate::field::VectorField`] call [`eval`] / [`vjp`], which run these under the active [`Isa`].
/// Implementations must be `#[inline(always)]` so that they are compiled with the trampoline's features.
pub trait BlockKernels: Sync {
    /// See [`crate::field::VectorField::eval_block`].
    fn eval_lanes<A: Arith>(&self, a: &mut EvalArgs);
    /// See [`crate::field::VectorField::vjp_block`].
    fn vjp_lanes<A: Arith>(&self, a: &mut VjpArgs);
}

/// Arguments of one block evaluation out = f(x, u) of `lanes` points (rows of [`Lanes`], one per component).
pub struct EvalArgs<'a> {
    /// Points to compute (≤ [`LANES`]); lanes beyond are left untouched.
    pub lanes: usize,
    /// The control value (rate) u.
    pub u: &'a [f64],
    /// The points: m rows.
    pub x: &'a [Lanes],
    /// f(x, u): m rows.
    pub out: &'a mut [Lanes],
    /// What the reverse product needs (σ'(z), σ(x), activations): `tape_rows()` rows.
    pub tape: &'a mut [Lanes],
    /// Working rows: `block_scratch_rows()`.
    pub scratch: &'a mut [Lanes],
}

/// Arguments of one block reverse product at the points `x` whose evaluation filled `tape`.
pub struct VjpArgs<'a> {
    /// Points to compute (≤ [`LANES`]).
    pub lanes: usize,
    /// The control value u.
    pub u: &'a [f64],
    /// The points: m rows.
    pub x: &'a [Lanes],
    /// The tape written by the evaluation at `x`.
    pub tape: &'a [Lanes],
    /// The cotangent w: m rows.
    pub w: &'a [Lanes],
    /// (∂f/∂x)ᵀ w: m rows (overwritten).
    pub out_x: &'a mut [Lanes],
    /// += Σ over lanes of (∂f/∂u)ᵀ w, reduced in a fixed lane order: d numbers (fields without lane
    /// accumulators).
    pub acc_u: &'a mut [f64],
    /// += (∂f/∂u)ᵀ w lane by lane, d rows, for fields with `acc_lane_rows() == d` (no horizontal sum per call;
    /// see [`GradAcc`]). Lanes beyond `lanes` must receive exact zeros.
    pub acc_lanes: &'a mut [Lanes],
    /// Working rows: `block_scratch_rows()`.
    pub scratch: &'a mut [Lanes],
}

/// Where block reverse products accumulate ∂J/∂u for one control interval: lane-by-lane rows (fields with few
/// control values; reduced once per interval by [`GradAcc::flush`] in the fixed order of [`lane_sum`]) and
/// reduced numbers (the others, e.g. the MLP's GEMMs).
pub struct GradAcc<'a> {
    /// Per-lane accumulators: `acc_lane_rows()` rows (0 for fields that reduce themselves).
    pub lanes: &'a mut [Lanes],
    /// Reduced accumulators: d numbers.
    pub reduced: &'a mut [f64],
}

impl GradAcc<'_> {
    /// The arguments' accumulator fields, reborrowed.
    #[inline]
    pub fn parts(&mut self) -> (&mut [f64], &mut [Lanes]) {
        (&mut *self.reduced, &mut *self.lanes)
    }
    /// `reduced[q] += Σ_p lanes[q][p]` (fixed order), then zero the lane rows.
    pub fn flush(&mut self) {
        struct Flush<'a, 'b>(&'a mut GradAcc<'b>);
        impl Kernel for Flush<'_, '_> {
            #[inline(always)]
            fn run<A: Arith>(&mut self) {
                for (r, row) in self.0.reduced.iter_mut().zip(self.0.lanes.iter_mut()) {
                    *r += lane_sum(LANES, row);
                    row.fill(0.0);
                }
            }
        }
        dispatch(&mut Flush(self))
    }
}

macro_rules! trampolines {
    ($run:ident, $args:ident, $method:ident, $avx512:ident, $fma:ident) => {
        /// Run the kernel under the active [`Isa`].
        #[inline]
        pub fn $run<K: BlockKernels + ?Sized>(k: &K, a: &mut $args) {
            #[cfg(target_arch = "x86_64")]
            {
                match active_isa() {
                    // SAFETY: `active_isa` only returns an ISA the CPU supports.
                    Isa::Avx512 => return unsafe { $avx512(k, a) },
                    // SAFETY: as above.
                    Isa::Avx2Fma => return unsafe { $fma(k, a) },
                    Isa::Baseline => {}
                }
            }
            k.$method::<Plain>(a)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
        unsafe fn $avx512<K: BlockKernels + ?Sized>(k: &K, a: &mut $args) {
            k.$method::<Fused>(a)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $fma<K: BlockKernels + ?Sized>(k: &K, a: &mut $args) {
            k.$method::<Fused>(a)
        }
    };
}

trampolines!(eval, EvalArgs, eval_lanes, eval_avx512, eval_fma);

/// A computation generic over the arithmetic, run under the active [`Isa`] by [`dispatch`] (schemes' block steps:
/// a struct holding the arguments implements it). `run` must be `#[inline(always)]`.
pub trait Kernel {
    /// The computation.
    fn run<A: Arith>(&mut self);
}

/// Run `k` under the active [`Isa`] (one trampoline per call).
#[inline]
pub fn dispatch<K: Kernel>(k: &mut K) {
    #[cfg(target_arch = "x86_64")]
    {
        match active_isa() {
            // SAFETY: `active_isa` only returns an ISA the CPU supports.
            Isa::Avx512 => return unsafe { kernel_avx512(k) },
            // SAFETY: as above.
            Isa::Avx2Fma => return unsafe { kernel_fma(k) },
            Isa::Baseline => {}
        }
    }
    k.run::<Plain>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
unsafe fn kernel_avx512<K: Kernel>(k: &mut K) {
    k.run::<Fused>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_fma<K: Kernel>(k: &mut K) {
    k.run::<Fused>()
}
trampolines!(vjp, VjpArgs, vjp_lanes, vjp_avx512, vjp_fma);

/// Row buffers reused across calls on the same thread (the engine's tapes and checkpoints can be tens of MB;
/// allocating and zeroing them per loss evaluation costs more than the evaluation for small problems).
/// [`Rows::new`] takes a buffer of at least the requested length from the thread's pool (contents unspecified:
/// callers write before they read), dropping it returns the buffer to the pool.
pub struct Rows(Vec<Lanes>);

thread_local! {
    static POOL: std::cell::RefCell<Vec<Vec<Lanes>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Buffers kept per thread.
const POOL_MAX: usize = 16;

impl Rows {
    /// `len` rows (reused storage; values unspecified).
    pub fn new(len: usize) -> Self {
        let mut v = POOL
            .with(|p| {
                let mut p = p.borrow_mut();
                let best = p
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.capacity() >= len)
                    .min_by_key(|(_, b)| b.capacity())
                    .map(|(i, _)| i);
                best.map(|i| p.swap_remove(i))
            })
            .unwrap_or_default();
        if v.len() < len {
            v.resize(len, [0.0; LANES]);
        }
        v.truncate(len);
        Rows(v)
    }
    /// `len` rows of zeros.
    pub fn zeros(len: usize) -> Self {
        let mut r = Rows::new(len);
        r.0.iter_mut().for_each(|row| row.fill(0.0));
        r
    }
}

impl Drop for Rows {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        if v.capacity() > 0 {
            POOL.with(|p| {
                let mut p = p.borrow_mut();
                if p.len() < POOL_MAX {
                    p.push(v);
                }
            });
        }
    }
}

impl std::ops::Deref for Rows {
    type Target = [Lanes];
    fn deref(&self) -> &[Lanes] {
        &self.0
    }
}

impl std::ops::DerefMut for Rows {
    fn deref_mut(&mut self) -> &mut [Lanes] {
        &mut self.0
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Lane helpers (inline into the kernels that call them)

/// `Σ_p a[p] b[p]` over the first `n` lanes in a fixed order (8 accumulators, then a fixed tree): vectorises and is
/// independent of where the lanes came from.
#[inline(always)]
pub fn lane_dot<A: Arith>(n: usize, a: &Lanes, b: &Lanes) -> f64 {
    let mut l = [0.0; 8];
    let (ca, ra) = a[..n].as_chunks::<8>();
    let (cb, rb) = b[..n].as_chunks::<8>();
    for (x, y) in ca.iter().zip(cb) {
        for k in 0..8 {
            l[k] = A::madd(x[k], y[k], l[k]);
        }
    }
    for (k, (x, y)) in ra.iter().zip(rb).enumerate() {
        l[k] = A::madd(*x, *y, l[k]);
    }
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

/// `Σ_p a[p]` over the first `n` lanes in the fixed order of [`lane_dot`].
#[inline(always)]
pub fn lane_sum(n: usize, a: &Lanes) -> f64 {
    let mut l = [0.0; 8];
    let (ca, ra) = a[..n].as_chunks::<8>();
    for x in ca {
        for k in 0..8 {
            l[k] += x[k];
        }
    }
    for (k, x) in ra.iter().enumerate() {
        l[k] += *x;
    }
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

/// Lanes a row operation touches for `n` points: n rounded up to whole vectors of 8 lanes (≤ [`LANES`]). Row
/// operations may write the padding lanes of the last vector; reductions ([`lane_dot`], [`lane_sum`]) read only
/// the first n.
#[inline(always)]
pub fn span(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// 8-lane vector c of a row, as a value (loading into locals first keeps the row operations vectorised
/// whatever LLVM can prove about aliasing between rows).
#[inline(always)]
pub fn vload(r: &Lanes, c: usize) -> [f64; 8] {
    let mut v = [0.0; 8];
    v.copy_from_slice(&r[c * 8..(c + 1) * 8]);
    v
}

/// Store 8-lane vector c of a row.
#[inline(always)]
pub fn vstore(r: &mut Lanes, c: usize, v: &[f64; 8]) {
    r[c * 8..(c + 1) * 8].copy_from_slice(v);
}

/// `out[q] = op(out[q], x[q])` over the vectors covering the first `n` lanes.
#[inline(always)]
fn rows2(n: usize, out: &mut Lanes, x: &Lanes, op: impl Fn(f64, f64) -> f64) {
    if n == LANES {
        let xv = *x;
        for q in 0..LANES {
            out[q] = op(out[q], xv[q]);
        }
        return;
    }
    for c in 0..n.div_ceil(8) {
        let (mut o, xv) = (vload(out, c), vload(x, c));
        for q in 0..8 {
            o[q] = op(o[q], xv[q]);
        }
        vstore(out, c, &o);
    }
}

/// `out[q] = op(x[q], y[q])` over the vectors covering the first `n` lanes.
#[inline(always)]
fn rows3(n: usize, out: &mut Lanes, x: &Lanes, y: &Lanes, op: impl Fn(f64, f64) -> f64) {
    if n == LANES {
        let (xv, yv) = (*x, *y);
        for q in 0..LANES {
            out[q] = op(xv[q], yv[q]);
        }
        return;
    }
    for c in 0..n.div_ceil(8) {
        let (xv, yv) = (vload(x, c), vload(y, c));
        let mut o = [0.0; 8];
        for q in 0..8 {
            o[q] = op(xv[q], yv[q]);
        }
        vstore(out, c, &o);
    }
}

/// out = x over the first `n` lanes (whole vectors).
#[inline(always)]
pub fn row_copy(n: usize, out: &mut Lanes, x: &Lanes) {
    rows2(n, out, x, |_, xv| xv)
}

/// out = a·x over the first `n` lanes (whole vectors).
#[inline(always)]
pub fn row_scale_into(n: usize, out: &mut Lanes, a: f64, x: &Lanes) {
    rows2(n, out, x, |_, xv| a * xv)
}

/// out += x over the first `n` lanes (whole vectors).
#[inline(always)]
pub fn row_add(n: usize, out: &mut Lanes, x: &Lanes) {
    rows2(n, out, x, |o, xv| o + xv)
}

/// out = v over the first `n` lanes (whole vectors).
#[inline(always)]
pub fn row_fill(n: usize, out: &mut Lanes, v: f64) {
    out[..span(n)].fill(v)
}

/// out += a·x over the first `n` lanes (whole vectors).
#[inline(always)]
pub fn lane_axpy<A: Arith>(n: usize, out: &mut Lanes, a: f64, x: &Lanes) {
    rows2(n, out, x, |o, xv| A::madd(a, xv, o))
}

/// out = a·x + y over the first `n` lanes (whole vectors).
#[inline(always)]
pub fn lane_axpy_into<A: Arith>(n: usize, out: &mut Lanes, a: f64, x: &Lanes, y: &Lanes) {
    rows3(n, out, x, y, |xv, yv| A::madd(a, xv, yv))
}

/// out = a·x + b·y over the first `n` lanes (whole vectors).
#[inline(always)]
pub fn lane_lincomb_into<A: Arith>(n: usize, out: &mut Lanes, a: f64, x: &Lanes, b: f64, y: &Lanes) {
    rows3(n, out, x, y, |xv, yv| A::madd(b, yv, a * xv))
}

// ---------------------------------------------------------------------------------------------------------------
// Transcendentals

const INV_LN2: f64 = std::f64::consts::LOG2_E;
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 6.93147180369123816490e-1: n·LN2_HI exact for |n| < 2^20
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // 1.90821492927058770002e-10 = ln2 − LN2_HI
const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5·2^52: adding it rounds to an integer kept in the low bits
/// 1/k! for k = 2..=13 (Taylor coefficients of (e^r − 1 − r)/r²); |r| ≤ ln2/2 keeps the truncation < 0.1 ulp.
const C: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
    1.0 / 6227020800.0,
];

/// u = n ln2 + r with |r| ≤ ln2/2: returns (n as f64, r, the shifted value carrying n in its low bits).
#[inline(always)]
fn reduce<A: Arith>(u: f64) -> (f64, f64, f64) {
    let s = A::madd(u, INV_LN2, SHIFT);
    let nf = s - SHIFT;
    let r = A::madd(-nf, LN2_HI, u);
    let r = A::madd(-nf, LN2_LO, r);
    (nf, r, s)
}

/// e^r − 1 for |r| ≤ ln2/2 (Estrin's scheme).
#[inline(always)]
fn expm1_reduced<A: Arith>(r: f64) -> f64 {
    let r2 = r * r;
    let r4 = r2 * r2;
    let e0 = A::madd(C[1], r, C[0]);
    let e1 = A::madd(C[3], r, C[2]);
    let e2 = A::madd(C[5], r, C[4]);
    let e3 = A::madd(C[7], r, C[6]);
    let e4 = A::madd(C[9], r, C[8]);
    let e5 = A::madd(C[11], r, C[10]);
    let f0 = A::madd(e1, r2, e0);
    let f1 = A::madd(e3, r2, e2);
    let f2 = A::madd(e5, r2, e4);
    let q = A::madd(A::madd(f2, r4, f1), r4, f0);
    A::madd(r2, q, r)
}

/// 2^n for an integer n ∈ [−1022, 1023] held in the low mantissa bits of `s` (see [`reduce`]).
#[inline(always)]
fn pow2(s: f64) -> f64 {
    f64::from_bits(s.to_bits().wrapping_add(1023) << 52)
}

/// tanh(x), branch-free: with a = min(|x|, 20) (tanh rounds to ±1 beyond), t = e^u − 1 for u = −2a (a < 1) or
/// u = 2a (a ≥ 1): tanh a = −t/(t + 2) resp. 1 − 2/(t + 2) — the fdlibm split, no cancellation near 0 — one
/// division; sign restored by copysign; NaN propagates. Max 2 ulp against correctly rounded values.
#[inline(always)]
pub fn tanh_k<A: Arith>(x: f64) -> f64 {
    let ax = x.abs();
    // Clamp: tanh(20) rounds to 1. NaN compares false and stays NaN.
    let a = if ax > 20.0 { 20.0 } else { ax };
    let small = a < 1.0;
    let u = if small { -2.0 * a } else { 2.0 * a };
    let (nf, r, s) = reduce::<A>(u);
    let p = expm1_reduced::<A>(r);
    // n ∈ [−3, 58] here: no overflow, no subnormals.
    let scale = pow2(s);
    // t + 2 = scale·p + (scale + 1); 1 − e^u = −scale·p + (1 − scale).
    let den = A::madd(scale, p, scale + 1.0);
    let num = if small { A::madd(-scale, p, 1.0 - scale) } else { 2.0 };
    let qv = num / den;
    // The select tests n ≤ 0, equivalent to `small` (a < 1 ⇔ n ∈ [−3, 0]; a ≥ 1 ⇒ n ≥ 3) but not provably so
    // for LLVM: selecting on `small` itself lets it specialise qv under each arm (two divisions per tanh).
    let t = if nf < 1.5 { qv } else { 1.0 - qv };
    t.copysign(x)
}

/// e^{−a} for a ≥ 0 (and NaN → NaN), branch-free; a > 745.2 gives 0. Max 1 ulp for normal results.
#[inline(always)]
pub fn exp_neg_k<A: Arith>(a: f64) -> f64 {
    let a = if a > 746.0 { 746.0 } else { a };
    let (nf, r, _) = reduce::<A>(-a);
    let p = expm1_reduced::<A>(r);
    // 2^n with n ∈ [−1077, 0] as 2^{n1}·2^{n2}, n1 = ⌊n/2⌋, both factors normal; the last product may round
    // into the subnormals.
    let n1 = (nf * 0.5).floor();
    let n2 = nf - n1;
    let s1 = f64::from_bits(((n1 as i64 + 1023) as u64) << 52);
    let s2 = f64::from_bits(((n2 as i64 + 1023) as u64) << 52);
    // NaN propagates through p (the casts of a NaN n give 0, a harmless scale).
    (1.0 + p) * s1 * s2
}

/// (σ(z), σ'(z)) for the logistic σ(z) = 1/(1 + e^{−z}), branch-free: with e = e^{−|z|} and i = 1/(1 + e) (the one
/// division), σ = i (z ≥ 0) or e·i (z < 0) — no cancellation — and σ' = σ(z)σ(−z) = e·i². Max 2 ulp.
#[inline(always)]
pub fn sigmoid_k<A: Arith>(z: f64) -> (f64, f64) {
    let e = exp_neg_k::<A>(z.abs());
    let inv = 1.0 / (1.0 + e);
    let ei = e * inv;
    (if z >= 0.0 { inv } else { ei }, ei * inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_reductions_are_fixed_order_and_ignore_lanes_beyond_n() {
        let mut a = [0.0; LANES];
        let mut b = [0.0; LANES];
        for p in 0..LANES {
            a[p] = (p as f64 + 1.0).sqrt();
            b[p] = 1.0 / (p as f64 + 3.0);
        }
        let full = lane_dot::<Plain>(LANES, &a, &b);
        let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((full - naive).abs() <= 1e-14 * naive.abs());
        // Zeroing the tail lanes and reducing over all of them gives the same bits as reducing over the head.
        let n = 37;
        let mut bz = b;
        bz[n..].iter_mut().for_each(|v| *v = 0.0);
        assert_eq!(
            lane_dot::<Plain>(n, &a, &b).to_bits(),
            lane_dot::<Plain>(LANES, &a, &bz).to_bits()
        );
        let mut az = a;
        az[n..].iter_mut().for_each(|v| *v = 0.0);
        assert_eq!(lane_sum(n, &a).to_bits(), lane_sum(LANES, &az).to_bits());
    }

    #[test]
    fn isa_override_never_exceeds_the_cpu() {
        assert!(active_isa() <= detected_isa());
        assert_eq!(Isa::Avx2Fma.name(), "avx2+fma");
    }

    #[test]
    fn exp_neg_special_values() {
        assert_eq!(exp_neg_k::<Plain>(0.0), 1.0);
        assert_eq!(exp_neg_k::<Plain>(800.0), 0.0);
        assert_eq!(exp_neg_k::<Plain>(f64::INFINITY), 0.0);
        assert!(exp_neg_k::<Plain>(f64::NAN).is_nan());
        // Subnormal results: e^{−745} ≈ 4.94e−324 (the smallest subnormal).
        assert_eq!(exp_neg_k::<Plain>(745.0), 5e-324);
        for a in [1e-300, 1e-10, 0.3, 1.0, 10.0, 100.0, 700.0] {
            let e = exp_neg_k::<Plain>(a);
            let r = (-a).exp();
            assert!((e - r).abs() <= 2.0 * f64::EPSILON * r, "a = {a}: {e} vs {r}");
        }
    }
}
