//! Tests of the fast node-grad kernel: the benchmark data against the JAX peer, thread-count determinism, a plain
//! slow reference on random problems, and central finite differences.
use lieflow::adjoint::node_fast::{
    loss, loss_grad, try_loss_grad_isa, try_loss_isa, FastScheme, Isa, NodeTanh, FAST_BLOCK,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DATA: &str = "scenarios/data/node_n2048_k100";
const REF_LOSS: f64 = 5.478332832926937;

fn read_csv(name: &str) -> (Vec<f64>, usize) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA).join(name);
    let (v, rows, _) = lieflow::output::table::read_matrix_csv(&path).unwrap();
    (v, rows)
}

struct Bench {
    x0: Vec<f64>,
    y: Vec<f64>,
    u: Vec<f64>,
    g_ref: Vec<f64>,
    k: usize,
}

fn bench_data() -> Bench {
    let (x0, n) = read_csv("x0.csv");
    let (y, ny) = read_csv("y.csv");
    let (u, k) = read_csv("controls.csv");
    let (g_ref, kg) = read_csv("grad_jax_scan.csv");
    assert_eq!(
        (n, ny, kg, x0.len(), u.len(), g_ref.len()),
        (2048, 2048, k, 4096, 6 * k, 6 * k)
    );
    Bench { x0, y, u, g_ref, k }
}

fn problem(b: &Bench) -> NodeTanh<'_> {
    NodeTanh {
        m: 2,
        x0: &b.x0,
        y: &b.y,
        controls: &b.u,
        intervals: b.k,
        horizon: 1.0,
        substeps: 1,
        scheme: FastScheme::Rk4,
    }
}

/// max |g − r| / max |r|
fn rel_max(g: &[f64], r: &[f64]) -> f64 {
    assert_eq!(g.len(), r.len());
    let num = g.iter().zip(r).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    let den = r.iter().map(|b| b.abs()).fold(0.0, f64::max);
    num / den
}

fn with_threads<T: Send>(t: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(t)
        .build()
        .unwrap()
        .install(f)
}

// ------------------------------------------------------------------------------------------------------------
// Slow reference: per point, forward storing every stage, then the reverse sweep, written plainly.

/// One step of the slow reference's tape: stage inputs ξ_s and stage values a_s.
type Tape = (Vec<Vec<f64>>, Vec<Vec<f64>>);

fn reference(p: &NodeTanh) -> (f64, Vec<f64>) {
    let m = p.m;
    let d = m * m + m;
    let n = p.x0.len() / m;
    let steps = p.intervals * p.substeps;
    let h = p.horizon / steps as f64;
    let mut grad = vec![0.0; p.intervals * d];
    let mut total = 0.0;
    let f = |k: usize, x: &[f64]| -> Vec<f64> {
        let u = &p.controls[k * d..(k + 1) * d];
        (0..m)
            .map(|i| {
                let mut z = 0.0;
                for j in 0..m {
                    z += u[i * m + j] * x[j];
                }
                (z + u[m * m + i]).tanh()
            })
            .collect()
    };
    for pt in 0..n {
        let mut x = p.x0[pt * m..(pt + 1) * m].to_vec();
        // per step: (stage inputs ξ_s, stage values a_s)
        let mut tape: Vec<Tape> = Vec::new();
        for t in 0..steps {
            let k = t / p.substeps;
            match p.scheme {
                FastScheme::Euler => {
                    let a = f(k, &x);
                    let xn: Vec<f64> = (0..m).map(|i| x[i] + h * a[i]).collect();
                    tape.push((vec![x.clone()], vec![a]));
                    x = xn;
                }
                FastScheme::Rk4 => {
                    let a1 = f(k, &x);
                    let x2: Vec<f64> = (0..m).map(|i| x[i] + h / 2.0 * a1[i]).collect();
                    let a2 = f(k, &x2);
                    let x3: Vec<f64> = (0..m).map(|i| x[i] + h / 2.0 * a2[i]).collect();
                    let a3 = f(k, &x3);
                    let x4: Vec<f64> = (0..m).map(|i| x[i] + h * a3[i]).collect();
                    let a4 = f(k, &x4);
                    let xn: Vec<f64> = (0..m)
                        .map(|i| x[i] + h / 6.0 * (a1[i] + 2.0 * a2[i] + 2.0 * a3[i] + a4[i]))
                        .collect();
                    tape.push((vec![x.clone(), x2, x3, x4], vec![a1, a2, a3, a4]));
                    x = xn;
                }
            }
        }
        let yv = &p.y[pt * m..(pt + 1) * m];
        let mut lam: Vec<f64> = (0..m).map(|i| 2.0 / n as f64 * (x[i] - yv[i])).collect();
        total += (0..m).map(|i| (x[i] - yv[i]).powi(2)).sum::<f64>();
        for t in (0..steps).rev() {
            let k = t / p.substeps;
            let w = &p.controls[k * d..k * d + m * m];
            let (xi, a) = &tape[t];
            let ns = a.len();
            // weights of the stages in x⁺ and the coefficient of a_{s-1} in ξ_s
            let (bw, cw): (Vec<f64>, Vec<f64>) = if ns == 1 {
                (vec![h], vec![])
            } else {
                (vec![h / 6.0, h / 3.0, h / 3.0, h / 6.0], vec![h / 2.0, h / 2.0, h])
            };
            let mut gx_total = lam.clone();
            let mut gxi_next = vec![0.0; m]; // ∂L/∂ξ_{s+1}
            for s in (0..ns).rev() {
                // ∂L/∂a_s = b_s λ + c_{s} ∂L/∂ξ_{s+1}
                let g: Vec<f64> = (0..m)
                    .map(|i| {
                        let mut ga = bw[s] * lam[i];
                        if s + 1 < ns {
                            ga += cw[s] * gxi_next[i];
                        }
                        ga * (1.0 - a[s][i] * a[s][i])
                    })
                    .collect();
                for i in 0..m {
                    for j in 0..m {
                        grad[k * d + i * m + j] += g[i] * xi[s][j];
                    }
                    grad[k * d + m * m + i] += g[i];
                }
                let gxi: Vec<f64> = (0..m).map(|j| (0..m).map(|i| w[i * m + j] * g[i]).sum()).collect();
                for j in 0..m {
                    gx_total[j] += gxi[j];
                }
                gxi_next = gxi;
            }
            lam = gx_total;
        }
    }
    (total / n as f64, grad)
}

fn random_problem(rng: &mut ChaCha8Rng, m: usize, n: usize, k: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let d = m * m + m;
    let x0 = (0..n * m).map(|_| rng.gen_range(-3.0..3.0)).collect();
    let y = (0..n * m).map(|_| rng.gen_range(-1.5..1.5)).collect();
    let u = (0..k * d).map(|_| rng.gen_range(-1.5..1.5)).collect();
    (x0, y, u)
}

// ------------------------------------------------------------------------------------------------------------

#[test]
fn bench_problem_matches_jax() {
    let b = bench_data();
    let p = problem(&b);
    for isa in [Isa::Auto, Isa::Avx2Fma, Isa::Baseline] {
        let mut g = vec![0.0; p.grad_len()];
        let l = try_loss_grad_isa(&p, &mut g, isa).unwrap();
        let rl = ((l - REF_LOSS) / REF_LOSS).abs();
        let rg = rel_max(&g, &b.g_ref);
        eprintln!("{isa:?}: loss {l:.17} (rel err {rl:.2e}), grad rel max-norm err {rg:.2e}");
        assert!(rl <= 1e-12, "{isa:?}: loss {l} vs {REF_LOSS}");
        assert!(rg <= 1e-10, "{isa:?}: grad rel err {rg}");
        let lf = try_loss_isa(&p, isa).unwrap();
        assert_eq!(lf.to_bits(), l.to_bits(), "{isa:?}: forward-only loss differs");
    }
    let mut g = vec![0.0; p.grad_len()];
    assert_eq!(loss_grad(&p, &mut g).to_bits(), loss(&p).to_bits());
}

#[test]
fn avx512_and_avx2_paths_give_the_same_bits() {
    // Both use the same fused multiply–adds lane by lane and the same fixed reduction order; only the vector
    // width differs. (Without AVX-512, Auto runs the AVX2 path and this is trivially true.)
    let b = bench_data();
    let p = problem(&b);
    let run = |isa| {
        let mut g = vec![0.0; p.grad_len()];
        let l = try_loss_grad_isa(&p, &mut g, isa).unwrap();
        (l.to_bits(), g.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
    };
    assert_eq!(run(Isa::Auto), run(Isa::Avx2Fma));
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for m in [1usize, 2, 3, 6] {
        let (x0, y, u) = random_problem(&mut rng, m, 100, 5);
        let q = NodeTanh {
            m,
            x0: &x0,
            y: &y,
            controls: &u,
            intervals: 5,
            horizon: 1.0,
            substeps: 2,
            scheme: FastScheme::Rk4,
        };
        let run = |isa| {
            let mut g = vec![0.0; q.grad_len()];
            let l = try_loss_grad_isa(&q, &mut g, isa).unwrap();
            (l.to_bits(), g.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        };
        assert_eq!(run(Isa::Auto), run(Isa::Avx2Fma), "m = {m}");
    }
}

#[test]
fn bit_identical_for_any_thread_count() {
    let b = bench_data();
    let p = problem(&b);
    for isa in [Isa::Auto, Isa::Avx2Fma, Isa::Baseline] {
        let run = |t: usize| {
            with_threads(t, || {
                let mut g = vec![0.0; p.grad_len()];
                let l = try_loss_grad_isa(&p, &mut g, isa).unwrap();
                (l.to_bits(), g.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            })
        };
        let one = run(1);
        assert_eq!(one, run(2), "{isa:?}: 1 vs 2 threads");
        assert_eq!(one, run(3), "{isa:?}: 1 vs 3 threads");
        assert_eq!(one, run(2), "{isa:?}: repeat");
    }
}

#[test]
fn random_small_problems_match_slow_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut cases = 0;
    for &m in &[1usize, 2, 3, 4, 5] {
        for &(n, k, s) in &[
            (1usize, 1usize, 1usize),
            (5, 3, 2),
            (FAST_BLOCK + 1, 4, 1),
            (130, 7, 3),
            (64, 2, 1),
        ] {
            for scheme in [FastScheme::Euler, FastScheme::Rk4] {
                let (x0, y, u) = random_problem(&mut rng, m, n, k);
                let horizon = rng.gen_range(0.5..2.0);
                let p = NodeTanh {
                    m,
                    x0: &x0,
                    y: &y,
                    controls: &u,
                    intervals: k,
                    horizon,
                    substeps: s,
                    scheme,
                };
                let (rl, rg) = reference(&p);
                for isa in [Isa::Auto, Isa::Avx2Fma, Isa::Baseline] {
                    let mut g = vec![0.0; p.grad_len()];
                    let l = try_loss_grad_isa(&p, &mut g, isa).unwrap();
                    let el = ((l - rl) / rl).abs();
                    let eg = rel_max(&g, &rg);
                    assert!(
                        el <= 1e-12,
                        "m={m} n={n} k={k} s={s} {scheme:?} {isa:?}: loss {l} vs {rl}"
                    );
                    assert!(
                        eg <= 1e-12,
                        "m={m} n={n} k={k} s={s} {scheme:?} {isa:?}: grad rel err {eg:e}"
                    );
                    let lf = try_loss_isa(&p, isa).unwrap();
                    assert_eq!(lf.to_bits(), l.to_bits());
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 50);
}

#[test]
fn n1000_k37_matches_slow_reference_and_is_thread_independent() {
    let mut rng = ChaCha8Rng::seed_from_u64(1000);
    let (n, k) = (1000, 37);
    let (x0, y, u) = random_problem(&mut rng, 2, n, k);
    let p = NodeTanh {
        m: 2,
        x0: &x0,
        y: &y,
        controls: &u,
        intervals: k,
        horizon: 1.0,
        substeps: 1,
        scheme: FastScheme::Rk4,
    };
    let (rl, rg) = reference(&p);
    let run = |t: usize| {
        with_threads(t, || {
            let mut g = vec![0.0; p.grad_len()];
            let l = loss_grad(&p, &mut g);
            (l, g)
        })
    };
    let (l1, g1) = run(1);
    let (l2, g2) = run(2);
    assert_eq!(l1.to_bits(), l2.to_bits());
    assert!(g1.iter().zip(&g2).all(|(a, b)| a.to_bits() == b.to_bits()));
    let (el, eg) = (((l1 - rl) / rl).abs(), rel_max(&g1, &rg));
    eprintln!("N=1000 K=37: loss rel err {el:.2e}, grad rel err {eg:.2e}");
    assert!(el <= 1e-12 && eg <= 1e-12, "loss err {el:e}, grad err {eg:e}");
}

#[test]
fn gradient_matches_central_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (m, scheme, s) in [
        (2usize, FastScheme::Rk4, 2usize),
        (3, FastScheme::Euler, 3),
        (1, FastScheme::Rk4, 1),
    ] {
        let (n, k) = (5, 3);
        let (x0, y, u) = random_problem(&mut rng, m, n, k);
        let p = NodeTanh {
            m,
            x0: &x0,
            y: &y,
            controls: &u,
            intervals: k,
            horizon: 1.3,
            substeps: s,
            scheme,
        };
        let mut g = vec![0.0; p.grad_len()];
        loss_grad(&p, &mut g);
        let eps = 1e-6;
        let fd: Vec<f64> = (0..u.len())
            .map(|q| {
                let mut up = u.clone();
                up[q] += eps;
                let lp = loss(&NodeTanh { controls: &up, ..p });
                up[q] -= 2.0 * eps;
                let lm = loss(&NodeTanh { controls: &up, ..p });
                (lp - lm) / (2.0 * eps)
            })
            .collect();
        let e = rel_max(&g, &fd);
        eprintln!("m={m} {scheme:?}: finite-difference rel err {e:.2e}");
        assert!(e <= 1e-6, "m={m} {scheme:?}: fd rel err {e:e}");
    }
}

#[test]
fn invalid_input_is_an_error_not_a_panic() {
    let x0 = [0.0; 6];
    let u = [0.0; 6];
    let p = NodeTanh {
        m: 2,
        x0: &x0,
        y: &x0[..4],
        controls: &u,
        intervals: 1,
        horizon: 1.0,
        substeps: 1,
        scheme: FastScheme::Rk4,
    };
    let mut g = [0.0; 6];
    assert!(try_loss_grad_isa(&p, &mut g, Isa::Auto).is_err());
    assert!(try_loss_isa(&p, Isa::Auto).is_err());
}

/// The simulate path through the blocked kernel saves the same states as the generic engine (up to the kernel's
/// own tanh rounding) at every save mode, for Euler and RK4 with sub-steps, N not a multiple of the block.
#[test]
fn fast_forward_states_match_the_generic_engine() {
    use lieflow::control::{PiecewiseConstant, TimeGrid};
    use lieflow::data::Dataset;
    use lieflow::field::node::Node;
    use lieflow::field::Activation;
    use lieflow::integrate::{simulate, SaveAt, SchemeKind, Solver};
    use lieflow::problem::Problem;
    let n = 150;
    let x: Vec<f64> = (0..2 * n).map(|i| ((i as f64) * 0.37).sin() * 2.0).collect();
    for (scheme, fast) in [
        (SchemeKind::Euler, FastScheme::Euler),
        (SchemeKind::Rk4, FastScheme::Rk4),
    ] {
        let grid = TimeGrid {
            horizon: 1.3,
            intervals: 7,
        };
        let control = PiecewiseConstant::random(grid, 6, 0.8, 9);
        let p = Problem {
            field: Box::new(Node::new(2, Activation::Tanh)),
            control,
            solver: Solver::fixed(scheme, 3),
            save: SaveAt::Steps,
            data: Dataset {
                m: 2,
                x: x.clone(),
                labels: None,
                n_classes: 0,
                targets: None,
            },
            fast_node: Some(fast),
        };
        for save in [SaveAt::Final, SaveAt::Intervals, SaveAt::Steps] {
            let a = p.simulate(&p.data.x, &save).unwrap();
            let b = simulate(p.field.as_ref(), &p.control, &p.solver, &p.data.x, &save).unwrap();
            assert_eq!(a.times, b.times);
            assert_eq!(a.states.len(), b.states.len());
            let err = a
                .states
                .iter()
                .zip(&b.states)
                .map(|(u, v)| (u - v).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-13, "{scheme:?} {save:?}: max difference {err:e}");
        }
    }
}
