//! Exact Jacobians of every field family against central differences (ARCHITECTURE habit 10), through the public
//! API only: `jacobian_x` / `jacobian_u` (assembled from jvp_x / vjp_u_acc) vs `fd_jacobians`, relative error
//! ≤ 1e-6 of max(1, ‖J‖_max); vjp_x(w) = Jᵀw and jvp_x(v) = J v for random v, w. Points whose preactivations come
//! within 1e-3 of a kink of a nonsmooth σ are rejected (resampled by proptest).

use lieflow::field::affine::{AffineField, Basis, Monomial, RandomFeature};
use lieflow::field::node::{Node, Node2, ResNetField};
use lieflow::field::{fd_jacobians, jacobian_u, jacobian_x, Activation, VectorField};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;

const TOL: f64 = 1e-6;

fn activations() -> Vec<Activation> {
    vec![
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.2 },
        Activation::Abs,
        Activation::Sigmoid,
        Activation::Polynomial {
            coeffs: vec![0.1, 1.0, -0.5, 0.2],
        },
        Activation::Identity,
    ]
}

fn rel(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).amax() / a.amax().max(1.0)
}

/// Every check of the brief at (x, u) with directions v, w; returns the largest normalised error.
fn max_error(f: &dyn VectorField, x: &[f64], u: &[f64], v: &[f64], w: &[f64]) -> f64 {
    let jx = jacobian_x(f, x, u);
    let ju = jacobian_u(f, x, u);
    let (fx, fu) = fd_jacobians(f, x, u);
    let mut scratch = vec![0.0; f.scratch_len()];
    let m = f.state_dim();
    let mut jv = vec![0.0; m];
    f.jvp_x(x, u, v, &mut jv, &mut scratch);
    let mut jtw = vec![0.0; m];
    f.vjp_x(x, u, w, &mut jtw, &mut scratch);
    let (v, w) = (DVector::from_column_slice(v), DVector::from_column_slice(w));
    let jv_err = (DVector::from_column_slice(&jv) - &fx * &v).amax() / (fx.amax() * v.lp_norm(1)).max(1.0);
    let jtw_err = (DVector::from_column_slice(&jtw) - fx.transpose() * &w).amax() / (fx.amax() * w.lp_norm(1)).max(1.0);
    [rel(&jx, &fx), rel(&ju, &fu), jv_err, jtw_err]
        .into_iter()
        .fold(0.0, f64::max)
}

fn kink_free(act: &Activation, pre: impl IntoIterator<Item = f64>) -> bool {
    act.is_smooth() || pre.into_iter().all(|z| z.abs() >= 1e-3)
}

fn wx(m: usize, u: &[f64], x: &[f64], bias: bool) -> Vec<f64> {
    (0..m)
        .map(|r| (0..m).map(|k| u[r * m + k] * x[k]).sum::<f64>() + if bias { u[m * m + r] } else { 0.0 })
        .collect()
}

/// (m, x, u, v, w) with m in 1..=4, entries of x in [-1.5, 1.5], the rest in [-1, 1].
fn inputs(d_of_m: fn(usize) -> usize) -> impl Strategy<Value = (usize, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    (1usize..=4).prop_flat_map(move |m| {
        (
            Just(m),
            prop::collection::vec(-1.5f64..1.5, m),
            prop::collection::vec(-1.0f64..1.0, d_of_m(m)),
            prop::collection::vec(-1.0f64..1.0, m),
            prop::collection::vec(-1.0f64..1.0, m),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn node_jacobians_match_finite_differences(
        (m, x, u, v, w) in inputs(|m| m * m + m), a in 0usize..7
    ) {
        let act = activations()[a].clone();
        prop_assume!(kink_free(&act, wx(m, &u, &x, true)));
        let e = max_error(&Node::new(m, act), &x, &u, &v, &w);
        prop_assert!(e <= TOL, "error {e:e}");
    }

    #[test]
    fn node2_jacobians_match_finite_differences(
        (m, x, u, v, w) in inputs(|m| m * m + m), a in 0usize..7
    ) {
        let act = activations()[a].clone();
        prop_assume!(kink_free(&act, x.iter().copied()));
        let e = max_error(&Node2::new(m, act), &x, &u, &v, &w);
        prop_assert!(e <= TOL, "error {e:e}");
    }

    #[test]
    fn resnet_jacobians_match_finite_differences(
        (m, x, u, v, w) in inputs(|m| m * m), a in 0usize..7
    ) {
        let act = activations()[a].clone();
        prop_assume!(kink_free(&act, wx(m, &u, &x, false)));
        let e = max_error(&ResNetField::new(m, act), &x, &u, &v, &w);
        prop_assert!(e <= TOL, "error {e:e}");
    }

    #[test]
    fn affine_jacobians_match_finite_differences(
        (m, x, u, v, w) in inputs(|_| 4), a in 0usize..7, seed in 0u64..1000,
        coefs in prop::collection::vec(-2.0f64..2.0, 3), exps in prop::collection::vec(0u32..4, 12)
    ) {
        let act = activations()[a].clone();
        let rf = RandomFeature::draw(m, act.clone(), seed, 1.0);
        prop_assume!(kink_free(&act, (0..m).map(|r| rf.preactivation(&x, r))));
        let terms = (0..3)
            .map(|t| Monomial {
                component: t % m,
                exponents: (0..m).map(|i| exps[(t * 4 + i) % 12]).collect(),
                coef: coefs[t],
            })
            .collect();
        let a_mat = DMatrix::from_fn(m, m, |r, c| ((r * m + c) as f64 * 0.37).sin());
        let basis = vec![
            Basis::Linear { a: a_mat },
            Basis::Constant { c: vec![0.5; m] },
            Basis::Polynomial { terms },
            rf.into(),
        ];
        let f = AffineField::new(m, basis).unwrap();
        let e = max_error(&f, &x, &u, &v, &w);
        prop_assert!(e <= TOL, "error {e:e}");
    }
}

/// The check is not vacuous: a field whose ∂f/∂u is off by a relative 1e-5 fails it.
#[test]
fn error_measure_detects_a_wrong_control_derivative() {
    struct Off(Node);
    impl VectorField for Off {
        fn state_dim(&self) -> usize {
            self.0.state_dim()
        }
        fn control_dim(&self) -> usize {
            self.0.control_dim()
        }
        fn eval(&self, x: &[f64], u: &[f64], out: &mut [f64], s: &mut [f64]) {
            self.0.eval(x, u, out, s)
        }
        fn jvp_x(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64], s: &mut [f64]) {
            self.0.jvp_x(x, u, v, out, s)
        }
        fn vjp_x(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], s: &mut [f64]) {
            self.0.vjp_x(x, u, w, out, s)
        }
        fn vjp_u_acc(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], s: &mut [f64]) {
            self.0.vjp_u_acc(x, u, w, out, s);
            out.iter_mut().for_each(|o| *o *= 1.0 + 1e-5);
        }
        fn describe(&self) -> String {
            "off".into()
        }
    }
    let (x, u) = ([1.2, -0.9], [1.0, -0.5, 0.8, 0.3, 0.2, -0.1]);
    let (v, w) = ([0.3, 0.4], [-0.5, 0.7]);
    let good = max_error(&Node::new(2, Activation::Tanh), &x, &u, &v, &w);
    let bad = max_error(&Off(Node::new(2, Activation::Tanh)), &x, &u, &v, &w);
    assert!(good <= 1e-8, "{good:e}");
    assert!(bad > TOL, "{bad:e}");
}

/// Every family names its d control values in storage order (controls.csv headers).
#[test]
fn control_names_follow_each_familys_layout() {
    use lieflow::field::mlp::Mlp;
    let node = Node::new(2, Activation::Tanh);
    assert_eq!(node.control_names(), ["W11", "W12", "W21", "W22", "b1", "b2"]);
    assert_eq!(Node2::new(2, Activation::Tanh).control_names(), node.control_names());
    assert_eq!(
        ResNetField::new(2, Activation::Tanh).control_names(),
        ["W11", "W12", "W21", "W22"]
    );
    let big = Node::new(10, Activation::Tanh).control_names();
    assert_eq!((big[9].as_str(), big[10].as_str()), ("W1_10", "W2_1"));
    let mlp = Mlp::new(1, vec![3, 2], Activation::Tanh);
    let n = mlp.control_names();
    assert_eq!(n.len(), mlp.control_dim());
    assert_eq!(&n[..6], ["A1_1_1", "A1_2_1", "A1_3_1", "c1_1", "c1_2", "c1_3"]);
    assert_eq!(n.last().unwrap(), "c3_1");
    let aff = AffineField::new(
        1,
        vec![
            Basis::Constant { c: vec![1.0] },
            Basis::Linear {
                a: DMatrix::identity(1, 1),
            },
        ],
    )
    .unwrap();
    assert_eq!(aff.control_names(), ["u1", "u2"]);
    for f in [&node as &dyn VectorField, &mlp, &aff] {
        let names = f.control_names();
        let mut uniq = names.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), names.len(), "duplicate names");
    }
}
