//! Unit tests of the affine fields: Jacobians against finite differences, basis access, validation.
use super::*;
use crate::field::test_support::{all_activations, away_from_kinks, check_field, normal_vec};

fn random_polynomial(m: usize, n_terms: usize, rng: &mut ChaCha8Rng) -> Basis {
    let terms = (0..n_terms)
        .map(|_| Monomial {
            component: rng.gen_range(0..m),
            exponents: (0..m).map(|_| rng.gen_range(0..4)).collect(),
            coef: rng.gen_range(-1.0..1.0),
        })
        .collect();
    Basis::Polynomial { terms }
}

/// A field mixing all four basis kinds, with one random feature per activation.
fn mixed_field(m: usize, seed: u64) -> AffineField {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut basis = vec![
        Basis::Linear {
            a: DMatrix::from_fn(m, m, |_, _| rng.sample(StandardNormal)),
        },
        Basis::Constant {
            c: normal_vec(&mut rng, m),
        },
        random_polynomial(m, 5, &mut rng),
    ];
    for (i, act) in all_activations().into_iter().enumerate() {
        basis.push(RandomFeature::draw(m, act, seed * 100 + i as u64, 0.8).into());
    }
    AffineField::new(m, basis).unwrap()
}

fn rf_preactivations_ok(f: &AffineField, x: &[f64]) -> bool {
    f.basis().iter().all(|b| match b {
        Basis::RandomFeature(rf) => {
            let pre: Vec<f64> = (0..x.len()).map(|r| rf.preactivation(x, r)).collect();
            away_from_kinks(&rf.activation, &pre)
        }
        _ => true,
    })
}

#[test]
fn affine_field_jacobians_match_finite_differences_for_all_bases_and_activations() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for (m, seed) in [(1, 1), (2, 2), (3, 3), (4, 4)] {
        let f = mixed_field(m, seed);
        let d = f.control_dim();
        for _ in 0..5 {
            let x = loop {
                let x: Vec<f64> = (0..m).map(|_| rng.gen_range(-1.5..1.5)).collect();
                if rf_preactivations_ok(&f, &x) {
                    break x;
                }
            };
            let u = normal_vec(&mut rng, d);
            let (jx, ju) = check_field(&f, &x, &u, &mut rng);
            assert!(jx > 1e-3 && ju > 1e-3, "trivial Jacobians {jx} {ju}");
        }
    }
}

#[test]
fn each_basis_kind_alone_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let m = 3;
    let mut fields = vec![
        Basis::Linear {
            a: DMatrix::from_fn(m, m, |_, _| rng.sample(StandardNormal)),
        },
        random_polynomial(m, 6, &mut rng),
    ];
    for (i, act) in all_activations().into_iter().enumerate() {
        fields.push(RandomFeature::draw(m, act, 40 + i as u64, 1.0).into());
    }
    for b in fields {
        let f = AffineField::new(
            m,
            vec![
                b.clone(),
                Basis::Constant {
                    c: vec![1.0, -2.0, 0.5],
                },
            ],
        )
        .unwrap();
        for _ in 0..4 {
            let x = loop {
                let x = normal_vec(&mut rng, m);
                if rf_preactivations_ok(&f, &x) {
                    break x;
                }
            };
            let u = normal_vec(&mut rng, 2);
            let (jx, ju) = check_field(&f, &x, &u, &mut rng);
            assert!(jx > 0.0 && ju > 0.0, "{}", b.describe());
        }
    }
}

#[test]
fn basis_methods_agree_with_field_at_unit_controls() {
    let f = mixed_field(3, 5);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = [0.3, -0.7, 1.1];
    let v = normal_vec(&mut rng, 3);
    let (mut a, mut b) = (vec![0.0; 3], vec![0.0; 3]);
    for j in 0..f.control_dim() {
        let mut u = vec![0.0; f.control_dim()];
        u[j] = 1.0;
        f.eval(&x, &u, &mut a, &mut []);
        f.basis_eval(j, &x, &mut b);
        assert_eq!(a, b, "V_{j}");
        f.jvp_x(&x, &u, &v, &mut a, &mut []);
        f.basis_jvp(j, &x, &v, &mut b);
        assert_eq!(a, b, "DV_{j} v");
        f.vjp_x(&x, &u, &v, &mut a, &mut []);
        f.basis_vjp(j, &x, &v, &mut b);
        assert_eq!(a, b, "DV_{j}ᵀ v");
    }
}

#[test]
fn hand_computed_linear_and_polynomial_values() {
    // V_1(x) = A x with A = [[0, -1], [1, 0]] (rotation), V_2(x)_0 = 3 x_0² x_1, V_2(x)_1 = -x_1.
    let a = DMatrix::from_row_slice(2, 2, &[0.0, -1.0, 1.0, 0.0]);
    let poly = Basis::Polynomial {
        terms: vec![
            Monomial {
                component: 0,
                exponents: vec![2, 1],
                coef: 3.0,
            },
            Monomial {
                component: 1,
                exponents: vec![0, 1],
                coef: -1.0,
            },
        ],
    };
    let f = AffineField::new(2, vec![Basis::Linear { a }, poly]).unwrap();
    let x = [2.0, -1.0];
    let mut out = [0.0; 2];
    f.eval(&x, &[2.0, 0.5], &mut out, &mut []);
    // 2·(1, 2) + 0.5·(−12, 1) = (−4, 4.5)
    assert_eq!(out, [-4.0, 4.5]);
    // DV_2 = [[6 x0 x1, 3 x0²], [0, −1]] = [[−12, 12], [0, −1]]; at x_0 = 0 the x_1-derivative is 0 (no 0/0).
    f.basis_jvp(1, &x, &[1.0, 0.0], &mut out);
    assert_eq!(out, [-12.0, 0.0]);
    f.basis_jvp(1, &[0.0, 5.0], &[1.0, 1.0], &mut out);
    assert_eq!(out, [0.0, -1.0]);
    let mut g = [10.0, 20.0];
    f.vjp_u_acc(&x, &[2.0, 0.5], &[1.0, 1.0], &mut g, &mut []);
    assert_eq!(g, [10.0 + 3.0, 20.0 - 11.0]);
}

#[test]
fn random_feature_draw_is_deterministic_and_scaled() {
    let a = RandomFeature::draw(3, Activation::Tanh, 42, 0.5);
    let b = RandomFeature::draw(3, Activation::Tanh, 42, 0.5);
    let c = RandomFeature::draw(3, Activation::Tanh, 43, 0.5);
    assert_eq!(a, b);
    assert_ne!(a.c, c.c);
    let unit = RandomFeature::draw(3, Activation::Tanh, 42, 1.0);
    assert_eq!(a.c, unit.c * 0.5);
    assert!(a.c.amax() > 0.0 && a.b.iter().any(|&z| z != 0.0));
}

#[test]
fn validation_rejects_wrong_dimensions() {
    let bad = |b: Basis| AffineField::new(2, vec![b]).unwrap_err();
    assert!(bad(Basis::Linear {
        a: DMatrix::zeros(2, 3)
    })
    .contains("2×3"));
    assert!(bad(Basis::Constant { c: vec![1.0] }).contains("length 1"));
    let mono = |component, exponents: Vec<u32>| Basis::Polynomial {
        terms: vec![Monomial {
            component,
            exponents,
            coef: 1.0,
        }],
    };
    assert!(bad(mono(2, vec![1, 0])).contains("component 2"));
    assert!(bad(mono(0, vec![1, 0, 0])).contains("3 exponents"));
    let mut rf = RandomFeature::draw(2, Activation::Relu, 1, 1.0);
    rf.b.push(0.0);
    assert!(bad(rf.into()).contains("bias"));
    assert!(bad(RandomFeature::draw(3, Activation::Relu, 1, 1.0).into()).contains("3×3"));
    assert!(bad(Basis::Constant { c: vec![1.0, f64::NAN] }).contains("non-finite"));
    assert!(AffineField::new(2, vec![]).is_err());
    assert!(AffineField::new(0, vec![Basis::Constant { c: vec![] }]).is_err());
    assert!(AffineField::new(2, vec![Basis::Constant { c: vec![1.0, 2.0] }]).is_ok());
}

#[test]
fn block_methods_match_per_point_methods() {
    use crate::field::test_support::check_block;
    let mut rng = ChaCha8Rng::seed_from_u64(404);
    for m in 1..=4 {
        let f = mixed_field(m, 10 + m as u64);
        for lanes in [crate::simd::LANES, 7] {
            let xs: Vec<Vec<f64>> = (0..lanes).map(|_| normal_vec(&mut rng, m)).collect();
            let u = normal_vec(&mut rng, f.control_dim());
            check_block(&f, &xs, &u, &mut rng);
        }
    }
    // High exponents exercise the binary powering of the block monomials.
    let f = AffineField::new(
        2,
        vec![Basis::Polynomial {
            terms: vec![Monomial {
                component: 1,
                exponents: vec![13, 6],
                coef: 0.7,
            }],
        }],
    )
    .unwrap();
    let xs: Vec<Vec<f64>> = (0..9).map(|_| normal_vec(&mut rng, 2)).collect();
    check_block(&f, &xs, &[1.3], &mut rng);
}
