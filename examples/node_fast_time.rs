//! Timing of the fast node-grad kernel on the benchmark data (N = 2048, K = 100, m = 2, RK4, s = 1).
//!
//!     cargo run --release --example node_fast_time [-- REPS ROUNDS]
//!
//! Prints, for 1 and 2 rayon threads and both instruction-set paths, the median over ROUNDS of the
//! per-call mean over REPS calls of `loss_grad`, and of the forward-only `loss`.
use lieflow::adjoint::node_fast::{active_isa, try_loss_grad_isa, try_loss_isa, FastScheme, Isa, NodeTanh};
use std::time::Instant;

fn read_csv(name: &str) -> Vec<f64> {
    let path = format!("{}/scenarios/data/node_n2048_k100/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f64>().unwrap_or_else(|e| panic!("{path}: {t}: {e}")))
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(reps: usize, rounds: usize, mut f: impl FnMut()) -> (f64, f64, f64) {
    f();
    let mut ts = Vec::new();
    for _ in 0..rounds {
        let t0 = Instant::now();
        for _ in 0..reps {
            f();
        }
        ts.push(t0.elapsed().as_secs_f64() / reps as f64);
    }
    let lo = ts.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = ts.iter().cloned().fold(0.0, f64::max);
    (median(ts), lo, hi)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("REPS ROUNDS"))
        .collect();
    let reps = args.first().copied().unwrap_or(20);
    let rounds = args.get(1).copied().unwrap_or(15);
    let (x0, y, u) = (read_csv("x0.csv"), read_csv("y.csv"), read_csv("controls.csv"));
    let p = NodeTanh {
        m: 2,
        x0: &x0,
        y: &y,
        controls: &u,
        intervals: 100,
        horizon: 1.0,
        substeps: 1,
        scheme: FastScheme::Rk4,
    };
    let mut g = vec![0.0; p.grad_len()];
    println!("Auto kernel: {}; {reps} calls × {rounds} rounds", active_isa());
    for isa in [Isa::Auto, Isa::Avx2Fma, Isa::Baseline] {
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let (lg, lo, hi) = time(reps, rounds, || {
                    try_loss_grad_isa(&p, &mut g, isa).unwrap();
                });
                let (fw, flo, fhi) = time(reps, rounds, || {
                    try_loss_isa(&p, isa).unwrap();
                });
                println!(
                    "{isa:?} threads={threads}: loss_grad median {:.3} ms (min {:.3}, max {:.3}); \
                     loss median {:.3} ms (min {:.3}, max {:.3})",
                    lg * 1e3,
                    lo * 1e3,
                    hi * 1e3,
                    fw * 1e3,
                    flo * 1e3,
                    fhi * 1e3
                );
            });
        }
    }
    let l = try_loss_grad_isa(&p, &mut g, Isa::Auto).unwrap();
    println!("loss {l:.17}");
}
