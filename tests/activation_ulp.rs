//! The vectorised activations against correctly rounded references (`tests/data/activation_reference.csv`,
//! 10 031 points symmetric in z over [−750, 750], computed with mpmath at 50 digits and rounded to f64): tanh and
//! the logistic sigmoid within 2 ulp, for both arithmetic flavours the runtime dispatch can pick (separate
//! multiply–add = baseline, fused = AVX2+FMA), through the slice form the block kernels call. The derivatives are
//! checked against the reference values too: tanh' = 1 − tanh² and σ' = σ(z)·σ(−z).

use lieflow::field::Activation;
use lieflow::simd::{Arith, Fused, Plain};

struct Reference {
    z: Vec<f64>,
    tanh: Vec<f64>,
    sigmoid: Vec<f64>,
}

fn reference() -> Reference {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/activation_reference.csv"
    ))
    .expect("reference file");
    let mut r = Reference {
        z: vec![],
        tanh: vec![],
        sigmoid: vec![],
    };
    for line in text.lines().skip(1) {
        let v: Vec<f64> = line.split(',').map(|s| s.parse().expect("number")).collect();
        r.z.push(v[0]);
        r.tanh.push(v[1]);
        r.sigmoid.push(v[2]);
    }
    assert!(r.z.len() > 10_000);
    r
}

/// Distance in units in the last place: the number of representable doubles between a and b (same sign);
/// ±0 compare equal.
fn ulps(a: f64, b: f64) -> u64 {
    if a == b {
        return 0;
    }
    assert!(a.is_finite() && b.is_finite(), "{a} vs {b}");
    let key = |x: f64| {
        let i = x.to_bits() as i64;
        if i < 0 {
            i64::MIN - i
        } else {
            i
        }
    };
    key(a).abs_diff(key(b))
}

fn eval<A: Arith>(act: &Activation, z: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut val = vec![0.0; z.len()];
    let mut der = vec![0.0; z.len()];
    // In blocks of the engine's lane count, as the kernels call it.
    for ((zc, vc), dc) in z.chunks(64).zip(val.chunks_mut(64)).zip(der.chunks_mut(64)) {
        act.eval_deriv_slice::<A>(zc, vc, dc);
    }
    (val, der)
}

fn check<A: Arith>(flavour: &str) {
    let r = reference();
    // The file is symmetric in z: the row of −z for each row.
    let mut order: Vec<usize> = (0..r.z.len()).collect();
    order.sort_by(|&a, &b| r.z[a].total_cmp(&r.z[b]));
    let mut neg_of = vec![0; r.z.len()];
    for (k, &i) in order.iter().enumerate() {
        neg_of[i] = order[r.z.len() - 1 - k];
        assert_eq!(r.z[neg_of[i]], -r.z[i], "reference not symmetric at z = {}", r.z[i]);
    }
    let neg = |i: usize| neg_of[i];
    for (name, act, want) in [
        ("tanh", Activation::Tanh, &r.tanh),
        ("sigmoid", Activation::Sigmoid, &r.sigmoid),
    ] {
        let (val, der) = eval::<A>(&act, &r.z);
        let (mut worst, mut at) = (0, 0.0);
        for i in 0..r.z.len() {
            let u = ulps(val[i], want[i]);
            if u > worst {
                (worst, at) = (u, r.z[i]);
            }
        }
        eprintln!("{flavour} {name}: max {worst} ulp (at z = {at:e})");
        assert!(worst <= 2, "{flavour} {name}: {worst} ulp at z = {at:e}");
        // Derivatives against the reference values (3 roundings each: ≤ 4 ulp-equivalents relative, where the
        // derivative is not itself the result of a cancellation that the reference shares).
        let mut worst_rel: f64 = 0.0;
        for i in 0..r.z.len() {
            let exact = match name {
                "tanh" => 1.0 - want[i] * want[i],
                _ => want[i] * want[neg(i)],
            };
            if exact < 1e-300 || (name == "tanh" && want[i].abs() > 0.5) {
                continue; // 1 − t² with |t| > ½ cancels in the reference too; covered by the σ' = σ(z)σ(−z) form
            }
            worst_rel = worst_rel.max((der[i] - exact).abs() / exact);
        }
        eprintln!("{flavour} {name}': max relative error {worst_rel:e}");
        assert!(
            worst_rel <= 8.0 * f64::EPSILON,
            "{flavour} {name}': relative error {worst_rel:e}"
        );
    }
}

#[test]
fn tanh_and_sigmoid_within_two_ulp_baseline() {
    check::<Plain>("baseline");
}

#[test]
fn tanh_and_sigmoid_within_two_ulp_fused() {
    check::<Fused>("fused");
}

/// NaN propagates, infinities saturate, and the piecewise-linear activations are exact with the right derivative
/// at their kinks.
#[test]
fn special_values_and_kinks() {
    for act in [Activation::Tanh, Activation::Sigmoid] {
        let (v, _) = eval::<Plain>(&act, &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
        assert!(v[0].is_nan());
        let lo = if matches!(act, Activation::Tanh) { -1.0 } else { 0.0 };
        assert_eq!((v[1], v[2]), (1.0, lo));
    }
    let z = [-2.0, -0.0, 0.0, 3.5];
    let (v, d) = eval::<Plain>(&Activation::Relu, &z);
    assert_eq!(v, vec![0.0, 0.0, 0.0, 3.5]);
    assert_eq!(d, z.iter().map(|&zi| Activation::Relu.deriv(zi)).collect::<Vec<_>>());
    assert_eq!(d[0], 0.0);
    let (v, _) = eval::<Plain>(&Activation::Abs, &z);
    assert_eq!(v, vec![2.0, 0.0, 0.0, 3.5]);
}
