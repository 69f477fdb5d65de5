//! Criterion bench of the exact p-variation (analysis::pvar): the pruned algorithm against the O(n²) dynamic
//! programme on n = 20 000-step paths — a Gaussian random walk in R¹ and R², and an fBm path (H = 0.75, exact
//! Davies–Harte). Both are run once first and must agree to 1e−12 relative.
//!
//! `cargo bench --bench pvar` (the DP cases take a few seconds per iteration; about 6 minutes in all).
//!
//! Measured on the 2-core development machine (shared, so ±20 %), median of 10:
//!
//! | path                | DP (p = 2.5) | fast p = 1.5 | 2      | 2.5     | 3.7     | speed-up at 2.5 |
//! |---------------------|--------------|--------------|--------|---------|---------|-----------------|
//! | random walk, d = 1  | 5.94 s       | 11.5 ms      | 3.3 ms | 28.1 ms | 27.8 ms | 211×            |
//! | random walk, d = 2  | 6.38 s       | 63.8 ms      | 22 ms  | 69.6 ms | 74.0 ms | 92×             |
//! | fBm H = 0.75, d = 1 | 6.64 s       | 31.0 ms      | 5.6 ms | 21.0 ms | 18.7 ms | 316×            |
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use lieflow::analysis::pvar::{pvar, pvar_dp};
use lieflow::control::fbm::{Fbm, FbmSampler};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

const N: usize = 20_000;

fn random_walk(dim: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut g = vec![0.0; (N + 1) * dim];
    for k in dim..g.len() {
        g[k] = g[k - dim] + rng.sample::<f64, _>(StandardNormal);
    }
    g
}

fn bench(c: &mut Criterion) {
    let fbm = FbmSampler::new(&Fbm {
        hurst: 0.75,
        horizon: 1.0,
        steps: N,
    })
    .unwrap();
    let inputs = [
        ("walk_d1", 1, random_walk(1, 1)),
        ("walk_d2", 2, random_walk(2, 2)),
        ("fbm075_d1", 1, fbm.sample(3, 1).remove(0)),
    ];
    let mut g = c.benchmark_group("pvar_n20000");
    g.sample_size(10);
    for (name, dim, path) in &inputs {
        for p in [1.5, 2.0, 2.5, 3.7] {
            if p == 2.5 {
                let (a, b) = (pvar(path, *dim, p).unwrap(), pvar_dp(path, *dim, p).unwrap());
                assert!(
                    (a.value - b.value).abs() <= 1e-12 * b.value,
                    "{name}: {} vs {}",
                    a.value,
                    b.value
                );
                g.bench_function(format!("dp/{name}/p{p}"), |b| {
                    b.iter(|| pvar_dp(black_box(path), *dim, p))
                });
            }
            g.bench_function(format!("fast/{name}/p{p}"), |b| {
                b.iter(|| pvar(black_box(path), *dim, p))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
