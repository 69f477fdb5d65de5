//! Arithmetic flavours of the node_fast kernels (a·b + c with two roundings, or one with FMA) and the branch-free
//! tanh they share: tanh(x) = sign(x)·(1 − 2/(e^{2|x|} + 1)) evaluated through expm1 with a degree-13 polynomial
//! after argument reduction by ln 2, so both kernels vectorise.

pub(super) trait Arith: Copy {
    fn madd(a: f64, b: f64, c: f64) -> f64;
}

#[derive(Clone, Copy)]
pub(super) struct Plain;

impl Arith for Plain {
    #[inline(always)]
    fn madd(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Fused;

#[cfg(target_arch = "x86_64")]
impl Arith for Fused {
    #[inline(always)]
    fn madd(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// tanh

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

#[inline(always)]
pub(super) fn tanh_k<A: Arith>(x: f64) -> f64 {
    let ax = x.abs();
    // Clamp: tanh(20) rounds to 1. NaN compares false and stays NaN (x86 min keeps the second operand).
    let a = if ax > 20.0 { 20.0 } else { ax };
    let small = a < 1.0;
    // e^u with u = −2a (small) or +2a (large): u = n ln2 + r, |r| ≤ ln2/2, e^u = 2^n (1 + p), p = e^r − 1.
    let u = if small { -2.0 * a } else { 2.0 * a };
    let s = A::madd(u, INV_LN2, SHIFT);
    let nf = s - SHIFT;
    let r = A::madd(-nf, LN2_HI, u);
    let r = A::madd(-nf, LN2_LO, r);
    // q(r) = Σ_{k<12} C[k] r^k by Estrin's scheme (short dependency chains: the kernel is latency-bound).
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
    let p = A::madd(r2, q, r);
    // 2^n from the integer held in the low mantissa bits of s (n ∈ [−3, 58] here, no overflow / subnormals).
    let scale = f64::from_bits(s.to_bits().wrapping_add(1023) << 52);
    // t = e^u − 1 = scale·p + (scale − 1); t + 2 = scale·p + (scale + 1); 1 − e^u = −scale·p + (1 − scale).
    let den = A::madd(scale, p, scale + 1.0);
    let num = if small { A::madd(-scale, p, 1.0 - scale) } else { 2.0 };
    let qv = num / den;
    // small: tanh a = (1 − e^{−2a}) / (1 + e^{−2a});  large: tanh a = 1 − 2 / (e^{2a} + 1).
    // The select tests n ≤ 0, which is equivalent to `small` (a < 1 ⇔ u ∈ (−2, 0] ⇔ n ∈ [−3, 0]; a ≥ 1 ⇒ n ≥ 3)
    // but not provably so for LLVM: a select on `small` itself lets it specialise qv under each arm and emit two
    // divisions per tanh.
    let t = if nf < 1.5 { qv } else { 1.0 - qv };
    // NaN propagates through the arithmetic (the clamp keeps NaN, nf is NaN), no explicit NaN select needed.
    t.copysign(x)
}
