//! The block engine end to end: every model family's loss and exact gradient on the peer benchmark problem against
//! the jax peer's (`family_bench.py --write`, shipped under `scenarios/data/node_n2048_k100/`), against an
//! independent per-point reference for every family × activation with partial blocks, bit-identical for any
//! thread count, and the same bits for the AVX2 + FMA and AVX-512 kernels (baseline within rounding).

mod common;

use lieflow::adjoint::{Checkpoint, GradProblem};
use lieflow::control::{PiecewiseConstant, TimeGrid};
use lieflow::field::affine::{AffineField, Basis, Monomial, RandomFeature};
use lieflow::field::mlp::Mlp;
use lieflow::field::node::{Node, Node2, ResNetField};
use lieflow::field::{Activation, VectorField};
use lieflow::integrate::{simulate, SaveAt, SchemeKind, Solver};
use lieflow::objective::{Loss, Objective, Readout, Targets};
use lieflow::output::table::read_matrix_csv;
use lieflow::scenario::ScenarioFile;
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use std::path::Path;

fn bundled(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(rel)
}

fn with_threads<T: Send>(t: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(t)
        .build()
        .unwrap()
        .install(f)
}

/// max |a − b| / max |b|.
fn rel_max(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / scale
}

/// The jax peer's losses, printed by `family_bench.py --family F --act A --write DIR` (N = 2048, K = 100, seed 7)
/// beside the gradients it wrote.
const PEER: [(&str, f64); 10] = [
    ("node-tanh", 5.478332832926937),
    ("node-relu", 6.634112901734255),
    ("node-sigmoid", 5.911672552509938),
    ("node-abs", 8.441915308698517),
    ("node2-tanh", 5.481068106942805),
    ("node2-relu", 5.616840924613806),
    ("node2-sigmoid", 5.412444956071655),
    ("resnet-tanh", 5.47682578310605),
    ("resnet-relu", 6.634435136910954),
    ("mlp-tanh", 5.39679742280245),
];

#[test]
fn every_family_matches_the_jax_peer_loss_and_gradient() {
    for (name, peer_loss) in PEER {
        let file = ScenarioFile::load(&bundled(&format!("bench/{name}.toml"))).unwrap();
        let setup = file.setup().unwrap();
        let g = setup.loss_grad(setup.problem.control.values(), &setup.rho).unwrap();
        let (want, _, _) = read_matrix_csv(&bundled(&format!(
            "data/node_n2048_k100/grad_jax_{}.csv",
            name.replace('-', "_")
        )))
        .unwrap();
        let e = rel_max(&g.controls, &want);
        assert!(e <= 1e-12, "{name}: gradient vs jax, max-norm relative error {e:e}");
        assert!(
            (g.loss - peer_loss).abs() <= 1e-13 * peer_loss,
            "{name}: loss {} vs jax {peer_loss}",
            g.loss
        );
    }
}

/// A field seen only through its per-point methods: the block methods are the trait's defaults (the per-point
/// methods lane by lane), an independent path to compare the families' own block kernels with.
struct PerPoint<'a>(&'a dyn VectorField);

impl VectorField for PerPoint<'_> {
    fn state_dim(&self) -> usize {
        self.0.state_dim()
    }
    fn control_dim(&self) -> usize {
        self.0.control_dim()
    }
    fn scratch_len(&self) -> usize {
        self.0.scratch_len()
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
        self.0.vjp_u_acc(x, u, w, out, s)
    }
    fn describe(&self) -> String {
        format!("per-point {}", self.0.describe())
    }
}

fn activations() -> Vec<Activation> {
    vec![
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.1 },
        Activation::Abs,
        Activation::Sigmoid,
        Activation::Polynomial {
            coeffs: vec![0.2, 1.0, -0.3, 0.05],
        },
        Activation::Identity,
    ]
}

fn families(m: usize, act: &Activation) -> Vec<Box<dyn VectorField>> {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    vec![
        Box::new(Node::new(m, act.clone())),
        Box::new(Node2::new(m, act.clone())),
        Box::new(ResNetField::new(m, act.clone())),
        Box::new(Mlp::new(m, vec![7, 5], act.clone())),
        Box::new(
            AffineField::new(
                m,
                vec![
                    Basis::Linear {
                        a: DMatrix::from_fn(m, m, |_, _| r.gen_range(-1.0..1.0)),
                    },
                    Basis::Constant {
                        c: (0..m).map(|_| r.gen_range(-1.0..1.0)).collect(),
                    },
                    Basis::Polynomial {
                        terms: vec![Monomial {
                            component: 0,
                            exponents: (0..m as u32).map(|i| i % 3).collect(),
                            coef: 0.4,
                        }],
                    },
                    Basis::RandomFeature(RandomFeature::draw(m, act.clone(), 3, 0.8)),
                ],
            )
            .unwrap(),
        ),
    ]
}

fn objective(n: usize, m: usize, running: f64) -> Objective {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    Objective {
        loss: Loss::Squared,
        readout: Readout::Identity,
        terminal_weight: 1.0,
        running_weight: running,
        regularizer: None,
        targets: Targets::Vectors {
            q: m,
            data: (0..n * m).map(|_| r.gen_range(-1.0..1.0)).collect(),
        },
        running_targets: None,
        n,
        m,
    }
}

/// Every family × activation, both schemes, a running cost and N = 70 points (a full block and a partial one):
/// the block kernels give the per-point path's loss and gradient to rounding, and the same forward states.
#[test]
fn block_kernels_match_the_per_point_path_for_every_family_and_activation() {
    let (n, k) = (70, 6);
    let grid = TimeGrid {
        horizon: 0.8,
        intervals: k,
    };
    for act in activations() {
        for m in [1, 2, 3] {
            for f in families(m, &act) {
                let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(m as u64 * 31 + 7);
                let x0: Vec<f64> = (0..n * m).map(|_| r.gen_range(-1.0..1.0)).collect();
                let u: Vec<f64> = (0..k * f.control_dim()).map(|_| 0.6 * r.gen_range(-1.0..1.0)).collect();
                let obj = objective(n, m, 0.3);
                for scheme in SchemeKind::fixed_all() {
                    let slow = PerPoint(f.as_ref());
                    let mk = |field: &dyn VectorField| {
                        GradProblem {
                            field,
                            scheme: scheme.fixed().unwrap(),
                            grid,
                            substeps: 2,
                            x0: &x0,
                            objective: &obj,
                            checkpoint: Checkpoint::Sqrt,
                        }
                        .loss_grad(&u, &[])
                        .unwrap()
                    };
                    let (fast, reference) = (mk(f.as_ref()), mk(&slow));
                    let what = format!("{} / {}", f.describe(), scheme.name());
                    assert!(
                        (fast.loss - reference.loss).abs() <= 1e-13 * reference.loss.abs().max(1.0),
                        "{what}: loss {} vs {}",
                        fast.loss,
                        reference.loss
                    );
                    let e = rel_max(&fast.controls, &reference.controls);
                    assert!(e <= 1e-11, "{what}: gradient rel err {e:e}");
                    let control = PiecewiseConstant::new(grid, f.control_dim(), u.clone());
                    let solver = Solver::fixed(scheme, 2);
                    let a = simulate(f.as_ref(), &control, &solver, &x0, &SaveAt::Intervals).unwrap();
                    let b = simulate(&slow, &control, &solver, &x0, &SaveAt::Intervals).unwrap();
                    let e = rel_max(&a.states, &b.states);
                    assert!(e <= 1e-13, "{what}: forward states rel err {e:e}");
                }
            }
        }
    }
}

#[test]
fn every_family_is_bit_identical_for_any_thread_count() {
    for name in ["node-tanh", "node2-relu", "resnet-tanh", "mlp-tanh"] {
        let setup = ScenarioFile::load(&bundled(&format!("bench/{name}.toml")))
            .unwrap()
            .setup()
            .unwrap();
        let u = setup.problem.control.values().to_vec();
        let one = with_threads(1, || setup.loss_grad(&u, &[]).unwrap());
        let two = with_threads(2, || setup.loss_grad(&u, &[]).unwrap());
        let three = with_threads(3, || setup.loss_grad(&u, &[]).unwrap());
        assert_eq!(one, two, "{name}");
        assert_eq!(one, three, "{name}");
        let p = &setup.problem;
        let s1 = with_threads(1, || p.simulate(&p.data.x, &SaveAt::Intervals).unwrap());
        let s2 = with_threads(2, || p.simulate(&p.data.x, &SaveAt::Intervals).unwrap());
        assert_eq!(s1, s2, "{name}: forward states");
    }
}

/// The kernel choice is made once per process (`LIEFLOW_ISA`): the AVX2 + FMA and AVX-512 builds give the same
/// bits, the baseline build (two roundings per multiply–add) agrees to rounding. Run through the CLI so each
/// choice gets its own process.
#[test]
fn instruction_set_paths_agree() {
    let dir = tempfile::tempdir().unwrap();
    let scen = bundled("bench/node-tanh.toml");
    let grad = |isa: &str| -> Vec<f64> {
        let out = dir.path().join(format!("g-{isa}.csv"));
        let st = std::process::Command::new(env!("CARGO_BIN_EXE_lieflow"))
            .env("LIEFLOW_ISA", isa)
            .args(["grad", scen.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(st.status.success(), "{}", common::stderr(&st));
        read_matrix_csv(&out).unwrap().0
    };
    let (base, avx2, best) = (grad("baseline"), grad("avx2"), grad("auto"));
    let e = rel_max(&base, &best);
    assert!(
        e <= 1e-13,
        "baseline vs {}: {e:e}",
        lieflow::simd::detected_isa().name()
    );
    if lieflow::simd::detected_isa() >= lieflow::simd::Isa::Avx2Fma {
        assert_eq!(
            avx2,
            best,
            "avx2+fma and {} must give the same bits",
            lieflow::simd::detected_isa().name()
        );
    }
}
