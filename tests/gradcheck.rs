//! Every gradient path against central finite differences (SPEC §3): the exact discrete adjoint for every field
//! family, loss, readout and regulariser, with Euler and RK4; √S checkpointing bit-identical to storing every
//! state; and the continuous (Pontryagin) adjoint's gap to the discrete gradient shrinking at the scheme's order.

use lieflow::adjoint::fdcheck::{fd_gradient, max_rel_err};
use lieflow::adjoint::pontryagin;
use lieflow::adjoint::{Checkpoint, GradProblem};
use lieflow::control::TimeGrid;
use lieflow::field::affine::{AffineField, Basis, Monomial, RandomFeature};
use lieflow::field::mlp::Mlp;
use lieflow::field::node::{Node, Node2, ResNetField};
use lieflow::field::{Activation, VectorField};
use lieflow::integrate::SchemeKind;
use lieflow::objective::{Loss, Objective, Readout, Regularizer, Targets};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};

const N: usize = 7;

fn rng(seed: u64) -> rand_chacha::ChaCha8Rng {
    rand_chacha::ChaCha8Rng::seed_from_u64(seed)
}

fn points(m: usize, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..N * m).map(|_| r.gen_range(-1.0..1.0)).collect()
}

fn objective(m: usize, loss: Loss, readout: Readout, reg: Option<Regularizer>, running: f64) -> Objective {
    let q = readout.out_dim(m);
    let mut r = rng(99);
    let targets = match loss {
        Loss::Squared | Loss::SmoothL1 { .. } => Targets::Vectors {
            q,
            data: (0..N * q).map(|_| r.gen_range(-1.0..1.0)).collect(),
        },
        Loss::CrossEntropy => Targets::Classes((0..N).map(|i| i % q).collect()),
        Loss::Logistic => Targets::Classes((0..N).map(|i| i % 2).collect()),
    };
    Objective {
        loss,
        readout,
        terminal_weight: 1.0,
        running_weight: running,
        regularizer: reg,
        targets,
        running_targets: None,
        n: N,
        m,
    }
}

fn params(len: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..len).map(|_| scale * r.gen_range(-1.0..1.0)).collect()
}

/// Discrete adjoint vs central differences (≤ 1e-6 relative, max-norm, per block) for both schemes.
fn check(field: &dyn VectorField, obj: &Objective, what: &str) {
    let m = field.state_dim();
    let x0 = points(m, 5);
    let grid = TimeGrid {
        horizon: 0.8,
        intervals: 5,
    };
    let u = params(grid.intervals * field.control_dim(), 0.6, 11);
    let rho: Vec<f64> = params(obj.readout.n_params(m), 0.5, 13)
        .iter()
        .map(|v| v + 0.5)
        .collect();
    for scheme in SchemeKind::fixed_all() {
        let p = GradProblem {
            field,
            scheme: scheme.fixed().unwrap(),
            grid,
            substeps: 2,
            x0: &x0,
            objective: obj,
            checkpoint: Checkpoint::All,
        };
        let g = p.loss_grad(&u, &rho).unwrap();
        let (fu, fr) = fd_gradient(&p, &u, &rho, None).unwrap();
        let eu = max_rel_err(&g.controls, &fu);
        let er = max_rel_err(&g.readout, &fr);
        assert!(eu <= 1e-6, "{what} / {}: controls rel err {eu:e}", scheme.name());
        assert!(er <= 1e-6, "{what} / {}: readout rel err {er:e}", scheme.name());
        assert!(
            g.controls.iter().any(|v| v.abs() > 1e-8),
            "{what}: zero gradient proves nothing"
        );
        assert!((g.loss - p.loss(&u, &rho).unwrap()).abs() <= 1e-14 * g.loss.abs().max(1.0));
    }
}

fn families() -> Vec<(&'static str, Box<dyn VectorField>)> {
    let m = 2;
    vec![
        (
            "node tanh",
            Box::new(Node::new(m, Activation::Tanh)) as Box<dyn VectorField>,
        ),
        ("node sigmoid", Box::new(Node::new(m, Activation::Sigmoid))),
        ("node2 tanh", Box::new(Node2::new(m, Activation::Tanh))),
        ("resnet tanh", Box::new(ResNetField::new(m, Activation::Tanh))),
        ("mlp tanh 2-5-4-2", Box::new(Mlp::new(m, vec![5, 4], Activation::Tanh))),
        (
            "affine linear+poly+feature",
            Box::new(
                AffineField::new(
                    m,
                    vec![
                        Basis::Linear {
                            a: DMatrix::from_row_slice(2, 2, &[0.0, 1.0, -1.0, 0.3]),
                        },
                        Basis::Constant { c: vec![0.2, -0.4] },
                        Basis::Polynomial {
                            terms: vec![
                                Monomial {
                                    component: 0,
                                    exponents: vec![1, 2],
                                    coef: 0.7,
                                },
                                Monomial {
                                    component: 1,
                                    exponents: vec![3, 0],
                                    coef: -0.2,
                                },
                            ],
                        },
                        Basis::RandomFeature(RandomFeature::draw(m, Activation::Tanh, 4, 1.0)),
                    ],
                )
                .unwrap(),
            ),
        ),
    ]
}

#[test]
fn discrete_adjoint_matches_fd_for_every_family() {
    for (name, f) in families() {
        check(
            f.as_ref(),
            &objective(2, Loss::Squared, Readout::Identity, None, 0.0),
            name,
        );
    }
}

#[test]
fn discrete_adjoint_matches_fd_for_every_loss_and_readout() {
    let f = Node::new(2, Activation::Tanh);
    let proj = DMatrix::from_row_slice(1, 2, &[0.6, -0.8]);
    let cases = [
        ("squared/projection", Loss::Squared, Readout::Projection(proj.clone())),
        ("squared/affine", Loss::Squared, Readout::Affine { q: 3 }),
        ("squared/interpolation", Loss::Squared, Readout::Interpolation),
        (
            "smooth-l1/projection",
            Loss::SmoothL1 { delta: 0.05 },
            Readout::Projection(proj.clone()),
        ),
        ("smooth-l1/identity", Loss::SmoothL1 { delta: 0.3 }, Readout::Identity),
        ("cross-entropy/affine", Loss::CrossEntropy, Readout::Affine { q: 3 }),
        ("cross-entropy/identity", Loss::CrossEntropy, Readout::Identity),
        ("logistic/projection", Loss::Logistic, Readout::Projection(proj)),
        ("logistic/affine", Loss::Logistic, Readout::Affine { q: 1 }),
    ];
    for (name, loss, readout) in cases {
        check(&f, &objective(2, loss, readout, None, 0.0), name);
    }
}

#[test]
fn discrete_adjoint_matches_fd_with_running_cost_and_regularisers() {
    let f = Node2::new(2, Activation::Tanh);
    for reg in [
        Regularizer::L2 { lambda: 0.1 },
        Regularizer::H1 { lambda: 0.05 },
        Regularizer::L1 {
            lambda: 0.2,
            bound: 5.0,
        },
    ] {
        let name = format!("{reg:?} + running cost");
        check(
            &f,
            &objective(2, Loss::Squared, Readout::Affine { q: 2 }, Some(reg.clone()), 0.7),
            &name,
        );
    }
    // The l1-bangoff study's path: nODE₂, running cost only, projection readout, smoothed ℓ¹.
    let mut obj = objective(
        2,
        Loss::SmoothL1 { delta: 0.1 },
        Readout::Projection(DMatrix::from_row_slice(1, 2, &[0.0, 1.0])),
        None,
        1.0,
    );
    obj.terminal_weight = 0.0;
    check(&f, &obj, "smooth-l1 running cost (l1-bangoff)");
}

#[test]
fn sqrt_checkpointing_gives_the_identical_gradient() {
    let f = Node::new(2, Activation::Tanh);
    let obj = objective(
        2,
        Loss::Squared,
        Readout::Identity,
        Some(Regularizer::L2 { lambda: 0.01 }),
        0.3,
    );
    let x0 = points(2, 8);
    let grid = TimeGrid {
        horizon: 1.0,
        intervals: 37,
    };
    let u = params(37 * 6, 0.8, 3);
    for scheme in SchemeKind::fixed_all() {
        let mk = |checkpoint| GradProblem {
            field: &f,
            scheme: scheme.fixed().unwrap(),
            grid,
            substeps: 3,
            x0: &x0,
            objective: &obj,
            checkpoint,
        };
        let all = mk(Checkpoint::All).loss_grad(&u, &[]).unwrap();
        let sqrt = mk(Checkpoint::Sqrt).loss_grad(&u, &[]).unwrap();
        let auto = mk(Checkpoint::Auto).loss_grad(&u, &[]).unwrap();
        assert_eq!(all, sqrt, "{}", scheme.name());
        assert_eq!(all, auto, "{}", scheme.name());
    }
    // Storage (rows of lanes per block, tapes of 10 rows per step, m = 2): 111 steps → segments of 11:
    // 11 tapes + 11 checkpoints (+1), against 111 tapes + 2 states.
    assert_eq!(Checkpoint::Sqrt.segment(111, 10), 11);
    assert_eq!(Checkpoint::Sqrt.stored_rows(111, 10, 2), 11 * 10 + (11 + 1) * 2);
    assert_eq!(Checkpoint::All.stored_rows(111, 10, 2), 111 * 10 + 2 * 2);
    assert!(Checkpoint::Sqrt.stored_rows(10_000, 10, 2) <= 100 * 10 + 102 * 2);
    // Auto keeps everything while it fits the budget and falls back to the longest segments that do.
    assert_eq!(Checkpoint::Auto.segment(111, 10), 111);
    let rows_fit = lieflow::adjoint::discrete::TAPE_BUDGET_BYTES / (1000 * std::mem::size_of::<lieflow::simd::Lanes>());
    assert_eq!(Checkpoint::Auto.segment(1_000_000, 1000), rows_fit.max(1000));
}

#[test]
fn gradient_does_not_depend_on_the_thread_count() {
    let f = Node::new(2, Activation::Tanh);
    let obj = objective(2, Loss::Squared, Readout::Identity, None, 0.0);
    let mut r = rng(1);
    let x0: Vec<f64> = (0..300 * 2).map(|_| r.gen_range(-2.0..2.0)).collect();
    let obj = Objective {
        n: 300,
        targets: Targets::Vectors {
            q: 2,
            data: (0..600).map(|_| r.gen_range(-1.0..1.0)).collect(),
        },
        ..obj
    };
    let grid = TimeGrid {
        horizon: 1.0,
        intervals: 10,
    };
    let u = params(60, 0.5, 2);
    let p = GradProblem {
        field: &f,
        scheme: SchemeKind::Rk4.fixed().unwrap(),
        grid,
        substeps: 1,
        x0: &x0,
        objective: &obj,
        checkpoint: Checkpoint::Sqrt,
    };
    let run = |t| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
            .install(|| p.loss_grad(&u, &[]).unwrap())
    };
    assert_eq!(run(1), run(2));
}

/// |continuous − discrete| shrinks like h^order as K doubles (terminal cost only: the running-cost quadrature
/// is first order by design).
#[test]
fn continuous_adjoint_gap_shrinks_at_the_scheme_order() {
    let f = Node::new(2, Activation::Tanh);
    let obj = objective(2, Loss::Squared, Readout::Identity, None, 0.0);
    let x0 = points(2, 21);
    for scheme in SchemeKind::fixed_all() {
        let order = scheme.fixed().unwrap().order(lieflow::control::Regularity::Smooth);
        let mut gaps = Vec::new();
        let mut hs = Vec::new();
        for k in [4usize, 8, 16] {
            // The same smooth control sampled on K intervals: u(t) = (sin t, cos 2t, …) at the interval midpoints
            // would change with K; instead keep one constant control so only the step changes.
            let grid = TimeGrid {
                horizon: 1.0,
                intervals: k,
            };
            let base = [0.9, -0.5, 0.4, 0.7, 0.1, -0.3];
            let u: Vec<f64> = (0..k).flat_map(|_| base).collect();
            let p = GradProblem {
                field: &f,
                scheme: scheme.fixed().unwrap(),
                grid,
                substeps: 1,
                x0: &x0,
                objective: &obj,
                checkpoint: Checkpoint::All,
            };
            let disc = p.loss_grad(&u, &[]).unwrap();
            let cont = pontryagin::gradient(&p, &u, &[]).unwrap();
            // Compare the gradient with respect to the constant control (sum over intervals).
            let sum = |g: &[f64]| {
                (0..6)
                    .map(|j| g.iter().skip(j).step_by(6).sum::<f64>())
                    .collect::<Vec<_>>()
            };
            let (a, b) = (sum(&disc.controls), sum(&cont.controls));
            gaps.push(a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max));
            hs.push(1.0 / k as f64);
        }
        let fit = lieflow::analysis::fit::order(&hs, &gaps).unwrap();
        assert!(
            (fit.slope - order).abs() <= 0.3,
            "{}: gap order {:.3}, gaps {gaps:?}",
            scheme.name(),
            fit.slope
        );
    }
}

/// With a running cost the discrete objective uses the right-endpoint rule (first order in h), so the continuous
/// adjoint (Simpson along the costate sweep) and the exact discrete gradient differ by O(h) even for RK4 — and
/// that gap, including the readout block, shrinks at order 1 as K doubles.
#[test]
fn continuous_adjoint_with_running_cost_converges_at_first_order() {
    let f = Node2::new(2, Activation::Tanh);
    let obj = objective(2, Loss::Squared, Readout::Affine { q: 2 }, None, 0.8);
    let x0 = points(2, 17);
    let rho = params(obj.readout.n_params(2), 0.5, 4);
    let mut gaps = Vec::new();
    let mut hs = Vec::new();
    for k in [8usize, 16, 32, 64] {
        let grid = TimeGrid {
            horizon: 1.0,
            intervals: k,
        };
        let base = [0.4, -0.3, 0.2, 0.5, 0.1, -0.2];
        let u: Vec<f64> = (0..k).flat_map(|_| base).collect();
        let p = GradProblem {
            field: &f,
            scheme: SchemeKind::Rk4.fixed().unwrap(),
            grid,
            substeps: 1,
            x0: &x0,
            objective: &obj,
            checkpoint: Checkpoint::All,
        };
        let disc = p.loss_grad(&u, &rho).unwrap();
        let cont = pontryagin::gradient(&p, &u, &rho).unwrap();
        let sum = |g: &[f64]| {
            (0..6)
                .map(|j| g.iter().skip(j).step_by(6).sum::<f64>())
                .collect::<Vec<_>>()
        };
        let gu = sum(&disc.controls)
            .iter()
            .zip(&sum(&cont.controls))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let gr = disc
            .readout
            .iter()
            .zip(&cont.readout)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        gaps.push(gu.max(gr));
        hs.push(1.0 / k as f64);
    }
    let fit = lieflow::analysis::fit::order(&hs, &gaps).unwrap();
    assert!(
        (fit.slope - 1.0).abs() <= 0.15,
        "gap order {:.3}, gaps {gaps:?}",
        fit.slope
    );
}

mod directional {
    //! Property test (ARCHITECTURE habit 10): for random problems, random controls and a random direction v, the
    //! discrete adjoint's ⟨∇J, v⟩ equals the central difference (J(θ + εv) − J(θ − εv)) / 2ε.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
        #[test]
        fn directional_derivative_matches_central_difference(
            seed in 0u64..10_000,
            k in 1usize..6,
            s in 1usize..3,
            rk4 in any::<bool>(),
            family in 0usize..4,
        ) {
            let f: Box<dyn VectorField> = match family {
                0 => Box::new(Node::new(2, Activation::Tanh)),
                1 => Box::new(Node2::new(2, Activation::Sigmoid)),
                2 => Box::new(ResNetField::new(2, Activation::Tanh)),
                _ => Box::new(Mlp::new(2, vec![4], Activation::Tanh)),
            };
            let obj = objective(2, Loss::Squared, Readout::Affine { q: 2 }, Some(Regularizer::H1 { lambda: 0.1 }), 0.3);
            let x0 = points(2, seed);
            let grid = TimeGrid { horizon: 0.7, intervals: k };
            let u = params(k * f.control_dim(), 0.7, seed + 1);
            let rho = params(obj.readout.n_params(2), 0.6, seed + 2);
            let scheme = if rk4 { SchemeKind::Rk4 } else { SchemeKind::Euler };
            let p = GradProblem {
                field: f.as_ref(),
                scheme: scheme.fixed().unwrap(),
                grid,
                substeps: s,
                x0: &x0,
                objective: &obj,
                checkpoint: Checkpoint::Sqrt,
            };
            let g = p.loss_grad(&u, &rho).unwrap();
            let vu = params(u.len(), 1.0, seed + 3);
            let vr = params(rho.len(), 1.0, seed + 4);
            let analytic: f64 = g.controls.iter().zip(&vu).chain(g.readout.iter().zip(&vr)).map(|(a, b)| a * b).sum();
            let eps = 1e-5;
            let shift = |t: f64| -> f64 {
                let uu: Vec<f64> = u.iter().zip(&vu).map(|(a, b)| a + t * b).collect();
                let rr: Vec<f64> = rho.iter().zip(&vr).map(|(a, b)| a + t * b).collect();
                p.loss(&uu, &rr).unwrap()
            };
            let fd = (shift(eps) - shift(-eps)) / (2.0 * eps);
            prop_assert!((analytic - fd).abs() <= 1e-6 * analytic.abs().max(1.0), "⟨∇J, v⟩ = {analytic}, FD = {fd}");
        }
    }
}
