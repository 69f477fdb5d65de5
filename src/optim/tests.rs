//! Optimiser tests: convergence on an ill-conditioned quadratic (κ = 100), the exact GD rate, L-BFGS on Rosenbrock,
//! PyTorch update traces, schedules, divergence reporting, validation and scenario parsing.

use super::*;
use crate::Error;
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// ½θᵀAθ − bᵀθ with A = Q diag(λ) Qᵀ, λ log-spaced in [1, 100] (κ = 100), and its minimiser A⁻¹b.
struct Quadratic {
    a: DMatrix<f64>,
    b: DVector<f64>,
    star: DVector<f64>,
}

impl Quadratic {
    fn new(p: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut n = || -> f64 { StandardNormal.sample(&mut rng) };
        let m = DMatrix::from_fn(p, p, |_, _| n());
        let q = m.qr().q();
        let lam = DVector::from_fn(p, |i, _| 100f64.powf(i as f64 / (p - 1) as f64));
        let a = &q * DMatrix::from_diagonal(&lam) * q.transpose();
        let b = DVector::from_fn(p, |_, _| n());
        let star = a.clone().lu().solve(&b).unwrap();
        Quadratic { a, b, star }
    }

    fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let t = DVector::from_column_slice(theta);
        let at = &self.a * &t;
        grad.copy_from_slice((&at - &self.b).as_slice());
        0.5 * t.dot(&at) - self.b.dot(&t)
    }

    fn dist(&self, theta: &[f64]) -> f64 {
        (DVector::from_column_slice(theta) - &self.star).norm() / self.star.norm()
    }
}

fn no_observer() -> impl FnMut(&IterInfo) -> bool {
    |_| true
}

fn run_first_order(spec: &OptimizerSpec, cfg: &RunConfig) -> (f64, RunReport) {
    let q = Quadratic::new(5, 11);
    let mut theta = vec![0.0; 5];
    let report = spec
        .minimize(&mut |t, g| Ok(q.eval(t, g)), &mut theta, cfg, &mut no_observer())
        .unwrap();
    (q.dist(&theta), report)
}

#[test]
fn every_optimiser_converges_on_an_ill_conditioned_quadratic() {
    let (l, g) = (100.0f64, 1.0f64);
    let cases = [
        (OptimizerSpec::Gd, RunConfig::new(3000, 2.0 / (l + g)), 1e-10),
        (
            OptimizerSpec::Momentum {
                beta: ((l.sqrt() - 1.0) / (l.sqrt() + 1.0)).powi(2),
            },
            RunConfig::new(1000, 4.0 / (l.sqrt() + g.sqrt()).powi(2)),
            1e-10,
        ),
        (
            OptimizerSpec::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            RunConfig {
                schedule: Schedule::Exponential { gamma: 0.998 },
                ..RunConfig::new(10_000, 0.05)
            },
            1e-9,
        ),
        (
            OptimizerSpec::Rmsprop { alpha: 0.99, eps: 1e-8 },
            RunConfig {
                schedule: Schedule::Exponential { gamma: 0.998 },
                ..RunConfig::new(10_000, 0.01)
            },
            1e-9,
        ),
        (OptimizerSpec::Lbfgs { memory: 5 }, RunConfig::new(200, 1.0), 1e-10),
    ];
    for (spec, mut cfg, tol) in cases {
        cfg.tol_grad = 1e-12;
        let (dist, report) = run_first_order(&spec, &cfg);
        assert!(
            dist <= tol,
            "{}: ‖θ − θ*‖/‖θ*‖ = {dist:e} after {report:?}",
            spec.name()
        );
        assert_eq!(report.stop, StopReason::GradTol, "{}", spec.name());
        if spec.is_line_search() {
            assert!(report.iterations < 60, "{report:?}");
        }
    }
}

#[test]
fn gd_attains_the_linear_rate_at_step_two_over_l_plus_gamma() {
    // Diagonal quadratic ½(γθ₁² + Lθ₂²): at η = 2/(L+γ) both error components are multiplied by ±(κ−1)/(κ+1)
    // each step, so ‖θ_{k+1}‖² / ‖θ_k‖² = ((κ−1)/(κ+1))² exactly (SPEC §4, seed 002 ch. 17).
    let (gamma, l) = (1.0, 100.0);
    let kappa: f64 = l / gamma;
    let rate = ((kappa - 1.0) / (kappa + 1.0)).powi(2);
    let mut d2 = Vec::new();
    let mut f = |t: &[f64], g: &mut [f64]| {
        d2.push(t[0] * t[0] + t[1] * t[1]);
        g[0] = gamma * t[0];
        g[1] = l * t[1];
        Ok(0.5 * (gamma * t[0] * t[0] + l * t[1] * t[1]))
    };
    let mut theta = [1.0, -0.5];
    let cfg = RunConfig::new(200, 2.0 / (l + gamma));
    let report = minimize(&mut f, &mut theta, &mut Gd, &cfg, &mut no_observer()).unwrap();
    assert_eq!(
        (report.iterations, report.evaluations, report.stop),
        (200, 201, StopReason::MaxIters)
    );
    for w in d2.windows(2) {
        let measured = w[1] / w[0];
        assert!((measured - rate).abs() <= 1e-6, "{measured} vs {rate}");
    }
}

#[test]
fn lbfgs_solves_rosenbrock_from_the_standard_start() {
    let mut f = |t: &[f64], g: &mut [f64]| {
        let (x, y) = (t[0], t[1]);
        g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
        g[1] = 200.0 * (y - x * x);
        Ok((1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2))
    };
    let mut theta = [-1.2, 1.0];
    let cfg = LbfgsConfig {
        tol_grad: 1e-10,
        ..LbfgsConfig::default()
    };
    let mut seen = Vec::new();
    let report = minimize_lbfgs(&mut f, &mut theta, &cfg, &mut |i| {
        seen.push(*i);
        true
    })
    .unwrap();
    let err = ((theta[0] - 1.0).powi(2) + (theta[1] - 1.0).powi(2)).sqrt();
    assert!(err < 1e-6, "{theta:?} {report:?}");
    assert_eq!(seen.len(), report.iterations + 1);
    assert!(report.iterations < 100, "{report:?}");
    // Monotone decrease (Armijo, or approximate Wolfe within rounding).
    assert!(seen
        .windows(2)
        .all(|w| w[1].loss <= w[0].loss + 1e-10 * w[0].loss.abs()));
}

#[test]
fn rmsprop_matches_a_hand_computed_pytorch_trace() {
    // J = θ₁² + θ₂², g = 2θ, lr = 0.01, α = 0.99, ε = 1e-8, θ₀ = (1, −2).
    // Step 1, coordinate 1: g = 2, v = 0.01·4 = 0.04, √v = 0.2, θ = 1 − 0.01·2/(0.2 + 1e-8) = 0.900000005.
    let expected = [
        [0.9000000049999998, -1.9000000025],
        [0.8329179679700331, -1.8309433291098638],
        [0.7799822732436351, -1.7753494456014602],
    ];
    let mut opt = Rmsprop::new(2, 0.99, 1e-8);
    let mut theta = [1.0, -2.0];
    for want in expected {
        let g = [2.0 * theta[0], 2.0 * theta[1]];
        opt.step(&mut theta, &g, 0.01);
        for i in 0..2 {
            assert!((theta[i] - want[i]).abs() <= 1e-15, "{theta:?} vs {want:?}");
        }
    }
    opt.reset();
    let mut t2 = [1.0, -2.0];
    opt.step(&mut t2, &[2.0, -4.0], 0.01);
    assert_eq!(t2[0], expected[0][0]);
}

#[test]
fn adam_first_step_is_lr_times_sign_and_momentum_is_heavy_ball() {
    // Bias correction makes Adam's first step η g/(|g| + ε√(1−β₂)) ≈ η sign(g).
    let mut adam = Adam::new(3, 0.9, 0.999, 1e-8);
    let mut t = [0.0; 3];
    adam.step(&mut t, &[3.0, -0.001, 100.0], 0.1);
    for (ti, s) in t.iter().zip([-0.1, 0.1, -0.1]) {
        assert!((ti - s).abs() < 1e-6, "{t:?}");
    }
    // PyTorch momentum v ← βv + g, θ ← θ − ηv equals θ_{k+1} = θ_k − η g_k + β(θ_k − θ_{k−1}).
    let (eta, beta) = (0.1, 0.7);
    let grads = [[1.0, -2.0], [0.5, 0.25], [-1.0, 3.0]];
    let mut m = Momentum::new(2, beta);
    let mut th = [1.0, 1.0];
    let (mut prev, mut hb) = ([1.0, 1.0], [1.0, 1.0]);
    for g in grads {
        m.step(&mut th, &g, eta);
        let next = [0, 1].map(|i| hb[i] - eta * g[i] + beta * (hb[i] - prev[i]));
        prev = hb;
        hb = next;
        for i in 0..2 {
            assert!((th[i] - hb[i]).abs() < 1e-14);
        }
    }
}

#[test]
fn schedules_give_the_right_values_at_boundaries() {
    let book = Schedule::Piecewise {
        boundaries: vec![1000, 2000, 3000, 4000, 5000],
        values: vec![0.01, 0.005, 0.0025, 0.001, 0.0005, 0.0001],
    };
    book.validate().unwrap();
    for (k, want) in [
        (0, 0.01),
        (999, 0.01),
        (1000, 0.005),
        (1999, 0.005),
        (2000, 0.0025),
        (3000, 0.001),
        (4999, 0.0005),
        (5000, 0.0001),
        (19_999, 0.0001),
    ] {
        assert_eq!(book.lr(0.123, k), want, "iteration {k}");
    }
    assert_eq!(Schedule::Constant.lr(0.3, 12345), 0.3);
    let e = Schedule::Exponential { gamma: 0.5 };
    assert_eq!((e.lr(0.8, 0), e.lr(0.8, 3)), (0.8, 0.1));
    let c = Schedule::Cosine {
        min_lr: 0.1,
        period: 100,
    };
    assert_eq!(c.lr(1.0, 0), 1.0);
    assert!((c.lr(1.0, 50) - 0.55).abs() < 1e-15);
    assert!((c.lr(1.0, 99) - 0.1).abs() < 1e-3);
    assert_eq!(c.lr(1.0, 100), 1.0); // warm restart
}

#[test]
fn validation_rejects_bad_rates_and_shapes() {
    for lr in [f64::NAN, -0.1, 0.0, f64::INFINITY] {
        assert!(RunConfig::new(10, lr).validate().is_err(), "lr {lr}");
    }
    assert!(RunConfig::new(10, 0.1).validate().is_ok());
    let bad = [
        Schedule::Piecewise {
            boundaries: vec![10],
            values: vec![0.1, f64::NAN],
        },
        Schedule::Piecewise {
            boundaries: vec![10],
            values: vec![0.1, -0.01],
        },
        Schedule::Piecewise {
            boundaries: vec![10, 20],
            values: vec![0.1, 0.01],
        },
        Schedule::Piecewise {
            boundaries: vec![20, 10],
            values: vec![0.1, 0.01, 0.001],
        },
        Schedule::Exponential { gamma: f64::NAN },
        Schedule::Exponential { gamma: 1.5 },
        Schedule::Cosine {
            min_lr: -1.0,
            period: 10,
        },
        Schedule::Cosine { min_lr: 0.0, period: 0 },
    ];
    for s in bad {
        assert!(s.validate().is_err(), "{s:?}");
        let cfg = RunConfig {
            schedule: s,
            ..RunConfig::new(10, 0.1)
        };
        assert!(cfg.validate().is_err());
    }
    assert!(OptimizerSpec::Adam {
        beta1: 1.0,
        beta2: 0.999,
        eps: 1e-8
    }
    .validate()
    .is_err());
    assert!(OptimizerSpec::Rmsprop {
        alpha: 0.99,
        eps: f64::NAN
    }
    .validate()
    .is_err());
    assert!(OptimizerSpec::Lbfgs { memory: 0 }.validate().is_err());
}

#[test]
fn divergence_is_an_error_at_the_iteration_and_the_observer_kept_the_history() {
    let q = Quadratic::new(3, 5);
    // With the growth rule out of reach, the loss overflows: the non-finite rule fires before the observer sees
    // that iteration, so the history holds only finite iterates.
    let mut theta = vec![1.0; 3];
    let mut history = Vec::new();
    let cfg = RunConfig {
        divergence: Divergence {
            factor: 1e300,
            window: 1,
        },
        ..RunConfig::new(100_000, 1e3)
    };
    let err = minimize(&mut |t, g| Ok(q.eval(t, g)), &mut theta, &mut Gd, &cfg, &mut |i| {
        history.push(*i);
        true
    })
    .unwrap_err();
    let Error::Diverged { rule, iteration, .. } = &err else {
        panic!("{err}")
    };
    assert!(rule.contains("finite"), "{rule}");
    assert!(*iteration > 10 && *iteration < 1000, "{err}");
    assert_eq!(history.len(), *iteration);
    assert!(history.iter().all(|i| i.loss.is_finite() && i.grad_norm.is_finite()));
    assert!(history.iter().enumerate().all(|(k, i)| i.iter == k && i.evals == k + 1));
    assert_eq!(err.exit_code(), 1);
    // With the default rule the sustained growth is caught long before: the observer saw the iteration it fired at.
    let mut theta = vec![1.0; 3];
    let mut seen = 0;
    let err = minimize(
        &mut |t, g| Ok(q.eval(t, g)),
        &mut theta,
        &mut Gd,
        &RunConfig::new(100_000, 1e3),
        &mut |_| {
            seen += 1;
            true
        },
    )
    .unwrap_err();
    let Error::Diverged { rule, iteration, .. } = &err else {
        panic!("{err}")
    };
    assert!(rule.contains("10 consecutive iterations"), "{rule}");
    assert_eq!(seen, iteration + 1);
}

#[test]
fn runner_stops_on_target_gradient_observer_and_relative_change() {
    let q = Quadratic::new(4, 3);
    let base = RunConfig::new(10_000, 1.0 / 100.0);
    let run = |cfg: &RunConfig, obs: &mut dyn FnMut(&IterInfo) -> bool| {
        let mut th = vec![0.0; 4];
        minimize(&mut |t, g| Ok(q.eval(t, g)), &mut th, &mut Gd, cfg, obs).unwrap()
    };
    let mut g = vec![0.0; 4];
    let fstar = q.eval(q.star.as_slice(), &mut g);
    let r = run(
        &RunConfig {
            target_loss: Some(fstar + 1e-3),
            ..base.clone()
        },
        &mut |_| true,
    );
    assert_eq!(r.stop, StopReason::TargetLoss);
    assert!(r.final_loss <= fstar + 1e-3);
    let r = run(
        &RunConfig {
            tol_grad: 1e-6,
            ..base.clone()
        },
        &mut |_| true,
    );
    assert_eq!(r.stop, StopReason::GradTol);
    assert!(r.final_grad_norm <= 1e-6);
    let r = run(&base, &mut |i| i.iter < 7);
    assert_eq!((r.stop, r.iterations, r.evaluations), (StopReason::ObserverStop, 7, 8));
    let r = run(
        &RunConfig {
            tol_rel_loss: Some(1e-12),
            ..base.clone()
        },
        &mut |_| true,
    );
    assert_eq!(r.stop, StopReason::RelLossTol);
    let r = run(&RunConfig::new(0, 0.1), &mut |_| true);
    assert_eq!((r.stop, r.iterations, r.evaluations), (StopReason::MaxIters, 0, 1));
}

#[test]
fn lbfgs_reports_line_search_failure_and_initial_divergence() {
    // A "gradient" pointing uphill: no step along −g decreases J.
    let mut f = |t: &[f64], g: &mut [f64]| {
        g[0] = -2.0 * t[0];
        Ok(t[0] * t[0])
    };
    let mut th = [1.0];
    let r = minimize_lbfgs(&mut f, &mut th, &LbfgsConfig::default(), &mut |_| true).unwrap();
    assert_eq!((r.stop, r.iterations), (StopReason::LineSearchFailed, 0));
    assert_eq!(th, [1.0]);
    let mut nan = |_: &[f64], g: &mut [f64]| {
        g[0] = 1.0;
        Ok(f64::NAN)
    };
    let err = minimize_lbfgs(&mut nan, &mut th, &LbfgsConfig::default(), &mut |_| true).unwrap_err();
    assert!(matches!(err, Error::Diverged { iteration: 0, .. }), "{err}");
}

#[test]
fn specs_parse_with_defaults_and_reject_unknown_fields() {
    let parse = |s: &str| toml::from_str::<OptimizerSpec>(s);
    assert_eq!(parse(r#"method = "gd""#).unwrap(), OptimizerSpec::Gd);
    assert_eq!(
        parse(r#"method = "adam""#).unwrap(),
        OptimizerSpec::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8
        }
    );
    assert_eq!(
        parse("method = \"rmsprop\"\nalpha = 0.9").unwrap(),
        OptimizerSpec::Rmsprop { alpha: 0.9, eps: 1e-8 }
    );
    assert_eq!(
        parse(r#"method = "momentum""#).unwrap(),
        OptimizerSpec::Momentum { beta: 0.9 }
    );
    assert_eq!(
        parse(r#"method = "lbfgs""#).unwrap(),
        OptimizerSpec::Lbfgs { memory: 10 }
    );
    assert!(parse("method = \"adam\"\nbeta3 = 0.5").is_err());
    assert!(parse(r#"method = "newton""#).is_err());
    assert!(OptimizerSpec::Lbfgs { memory: 3 }.build(4).is_none());
    for spec in [
        parse(r#"method = "gd""#).unwrap(),
        OptimizerSpec::Momentum { beta: 0.9 },
    ] {
        assert_eq!(spec.build(4).unwrap().name(), spec.name());
    }
    let cfg: RunConfig = toml::from_str(
        "max_iters = 20000\nlr = 0.01\n[schedule]\nkind = \"piecewise\"\nboundaries = [1000]\nvalues = [0.01, 0.005]",
    )
    .unwrap();
    assert_eq!(cfg.schedule.lr(cfg.lr, 1000), 0.005);
    assert!(toml::from_str::<RunConfig>("max_iters = 1\nlr = 0.1\nlr_decay = 2").is_err());
    assert_eq!(
        toml::from_str::<Schedule>(r#"kind = "constant""#).unwrap(),
        Schedule::Constant
    );
}
