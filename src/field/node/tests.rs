//! Unit tests of the node families: Jacobians against finite differences, block vs per-point, layout.
use super::*;
use crate::field::test_support::{all_activations, away_from_kinks, check_block, check_field, normal_vec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// W x (+ b) for each row: the preactivations of Node / ResNetField.
fn preacts(m: usize, u: &[f64], x: &[f64], bias: bool) -> Vec<f64> {
    (0..m)
        .map(|r| dot(row(u, m, r), x) + if bias { u[m * m + r] } else { 0.0 })
        .collect()
}

/// Random (x, u) whose preactivations (per family) stay off the kinks of σ.
fn sample(f: &dyn VectorField, act: &Activation, kind: u8, rng: &mut ChaCha8Rng) -> (Vec<f64>, Vec<f64>) {
    let (m, d) = (f.state_dim(), f.control_dim());
    loop {
        let x: Vec<f64> = (0..m).map(|_| rng.gen_range(-1.5..1.5)).collect();
        let u: Vec<f64> = normal_vec(rng, d).iter().map(|z| 0.7 * z).collect();
        let pre = match kind {
            0 => preacts(m, &u, &x, true),
            1 => x.clone(),
            _ => preacts(m, &u, &x, false),
        };
        if away_from_kinks(act, &pre) {
            return (x, u);
        }
    }
}

#[test]
fn node_families_jacobians_match_finite_differences_for_every_activation() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    for act in all_activations() {
        for m in 1..=4 {
            let fields: [Box<dyn VectorField>; 3] = [
                Box::new(Node::new(m, act.clone())),
                Box::new(Node2::new(m, act.clone())),
                Box::new(ResNetField::new(m, act.clone())),
            ];
            for (kind, f) in fields.iter().enumerate() {
                for _ in 0..4 {
                    let (x, u) = sample(f.as_ref(), &act, kind as u8, &mut rng);
                    let (jx, ju) = check_field(f.as_ref(), &x, &u, &mut rng);
                    // ReLU can switch every unit off; otherwise the Jacobians must be non-trivial.
                    if act != Activation::Relu {
                        assert!(jx > 0.0 && ju > 0.0, "{}: trivial Jacobian", f.describe());
                    }
                }
            }
        }
    }
}

#[test]
fn block_methods_match_per_point_methods_for_every_family_and_activation() {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    for act in all_activations() {
        for m in 1..=5 {
            let fields: [Box<dyn VectorField>; 3] = [
                Box::new(Node::new(m, act.clone())),
                Box::new(Node2::new(m, act.clone())),
                Box::new(ResNetField::new(m, act.clone())),
            ];
            for f in &fields {
                for lanes in [crate::simd::LANES, 13, 1] {
                    let xs: Vec<Vec<f64>> = (0..lanes).map(|_| normal_vec(&mut rng, m)).collect();
                    let u: Vec<f64> = normal_vec(&mut rng, f.control_dim()).iter().map(|z| 0.7 * z).collect();
                    check_block(f.as_ref(), &xs, &u, &mut rng);
                }
            }
        }
    }
}

#[test]
fn control_dimensions_and_layout() {
    assert_eq!(Node::new(3, Activation::Tanh).control_dim(), 12);
    assert_eq!(Node2::new(3, Activation::Tanh).control_dim(), 12);
    assert_eq!(ResNetField::new(3, Activation::Tanh).control_dim(), 9);
    // W = [[1, 2], [3, 4]] row-major, b = (10, 20), σ = identity: W x + b at x = (1, −1) is (9, 19).
    let u = [1.0, 2.0, 3.0, 4.0, 10.0, 20.0];
    let mut out = [0.0; 2];
    Node::new(2, Activation::Identity).eval(&[1.0, -1.0], &u, &mut out, &mut []);
    assert_eq!(out, [9.0, 19.0]);
    let mut s = [0.0; 2];
    Node2::new(2, Activation::Identity).eval(&[1.0, -1.0], &u, &mut out, &mut s);
    assert_eq!(out, [9.0, 19.0]);
    ResNetField::new(2, Activation::Identity).eval(&[1.0, -1.0], &u[..4], &mut out, &mut []);
    assert_eq!(out, [-1.0, -1.0]);
    // Node2 with σ = relu: only positive coordinates of x are seen.
    Node2::new(2, Activation::Relu).eval(&[1.0, -1.0], &u, &mut out, &mut s);
    assert_eq!(out, [11.0, 23.0]);
}

#[test]
fn node2_basis_fields_agree_with_unit_controls() {
    let f = Node2::new(3, Activation::Sigmoid);
    let (x, v) = ([0.4, -1.2, 2.0], [0.5, -0.3, 0.9]);
    let (mut a, mut b, mut s) = ([0.0; 3], [0.0; 3], [0.0; 3]);
    for j in 0..12 {
        let mut u = [0.0; 12];
        u[j] = 1.0;
        f.eval(&x, &u, &mut a, &mut s);
        f.basis_eval(j, &x, &mut b);
        assert_eq!(a, b, "V_{j}");
        f.jvp_x(&x, &u, &v, &mut a, &mut s);
        f.basis_jvp(j, &x, &v, &mut b);
        assert_eq!(a, b, "DV_{j} v");
    }
}

#[test]
fn node2_is_affine_in_the_control() {
    let f = Node2::new(3, Activation::Tanh);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let x = normal_vec(&mut rng, 3);
    let (u1, u2) = (normal_vec(&mut rng, 12), normal_vec(&mut rng, 12));
    let sum: Vec<f64> = u1.iter().zip(&u2).map(|(a, b)| a + b).collect();
    let (mut a, mut b, mut c, mut s) = ([0.0; 3], [0.0; 3], [0.0; 3], [0.0; 3]);
    f.eval(&x, &u1, &mut a, &mut s);
    f.eval(&x, &u2, &mut b, &mut s);
    f.eval(&x, &sum, &mut c, &mut s);
    for i in 0..3 {
        assert!((a[i] + b[i] - c[i]).abs() < 1e-12);
    }
}
