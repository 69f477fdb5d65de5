//! Timing of the Lie rank analysis (release): `cargo run --release --example lie_timing [N...]`.
use lieflow::lie::{analyze_polynomial, cuchiero_fields, RankConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

fn points(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..2).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect()
}

fn main() {
    let ns: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    let ns = if ns.is_empty() { vec![5, 6, 7, 20, 50, 200] } else { ns };
    let fields = cuchiero_fields(2);
    for n in ns {
        let pts = points(n, 1);
        let t = Instant::now();
        let rep = analyze_polynomial(&fields, &pts, &RankConfig::default()).unwrap();
        let dt = t.elapsed();
        let s = rep.summary();
        println!(
            "N={n:4} full_rank_depth={:?} numerical={:?} generic={:?} time={:.1} ms",
            rep.full_rank_depth,
            rep.numerical_full_rank_depth,
            rep.exact_generic_full_rank_depth,
            dt.as_secs_f64() * 1e3
        );
        println!(
            "   rank {:?}\n   exact {:?}\n   atpts {:?}\n   span {:?}\n   minsv {:?}",
            s.rank_by_depth,
            s.exact_rank_by_depth,
            s.exact_rank_at_points_by_depth,
            s.span_dim_by_depth,
            s.min_singular_value
        );
    }
    // exactness of rational coefficients for N = 200
    let rep = analyze_polynomial(&fields, &points(200, 1), &RankConfig::default()).unwrap();
    let exact = rep.brackets_json().iter().filter(|b| b.exact).count();
    println!(
        "N=200: {exact}/{} brackets with exact i128 rational coefficients",
        rep.brackets_json().len()
    );
    println!("notes: {:?}", rep.notes);
    // random tanh features, Hall brackets via jets
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let feats: Vec<lieflow::lie::FeatureField> = lieflow::lie::genericity::random_features7(2, &mut rng)
        .into_iter()
        .map(|f| lieflow::lie::FeatureField {
            sigma: lieflow::field::Activation::Tanh,
            ..f
        })
        .collect();
    for n in [3usize, 10, 30] {
        let t = Instant::now();
        let rep = lieflow::lie::analyze_features(
            &feats,
            &points(n, 2),
            &RankConfig {
                max_depth: 5,
                ..RankConfig::default()
            },
        )
        .unwrap();
        println!(
            "tanh features d=7 N={n}: full_rank_depth={:?} ranks {:?} {:.1} ms",
            rep.full_rank_depth,
            rep.summary().rank_by_depth,
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    let cfg = lieflow::lie::GenericityConfig {
        m: 2,
        n_points: 4,
        draws: 200,
        max_depth: 6,
        seed: 42,
        family: lieflow::lie::RandomFamily::Polynomial {
            d: 5,
            degree: 2,
            range: None,
        },
    };
    let t = Instant::now();
    let g = lieflow::lie::genericity(&cfg).unwrap();
    println!(
        "genericity 200 draws: p={} [{:.3},{:.3}] hist {:?} {:.1} ms",
        g.probability,
        g.wilson_low,
        g.wilson_high,
        g.depth_histogram,
        t.elapsed().as_secs_f64() * 1e3
    );
    // m = 3 Cuchiero fields, and random degree-3 fields
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let p3: Vec<Vec<f64>> = (0..30)
        .map(|_| (0..3).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect();
    let t = Instant::now();
    let rep = analyze_polynomial(&cuchiero_fields(3), &p3, &RankConfig::default()).unwrap();
    println!(
        "m=3 N=30 Cuchiero: full_rank_depth={:?} numerical={:?} {:.1} ms",
        rep.full_rank_depth,
        rep.numerical_full_rank_depth,
        t.elapsed().as_secs_f64() * 1e3
    );
    let rf = lieflow::lie::random_poly_fields(2, 5, 3, 3, 1);
    let t = Instant::now();
    let rep = analyze_polynomial(&rf, &points(50, 4), &RankConfig::default()).unwrap();
    println!(
        "random deg-3 d=5 N=50: full_rank_depth={:?} span {:?} {:.1} ms",
        rep.full_rank_depth,
        rep.summary().span_dim_by_depth,
        t.elapsed().as_secs_f64() * 1e3
    );
    // N = 6 at depth 5 regardless of full rank (sympy peer: 71.5 s)
    let pts = points(6, 1);
    let cfg = RankConfig {
        max_depth: 5,
        stop_at_full_rank: false,
        ..RankConfig::default()
    };
    let t = Instant::now();
    let rep = analyze_polynomial(&fields, &pts, &cfg).unwrap();
    println!(
        "N=6 depth 5 (no early stop): {:.2} ms, ranks {:?}",
        t.elapsed().as_secs_f64() * 1e3,
        rep.summary().rank_by_depth
    );
}
