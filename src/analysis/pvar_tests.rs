//! Tests of the p-variation and Hölder seminorm: hand-computed cases, fast vs dynamic programme on many seeded and
//! proptest-generated paths, invariances, and bad input.

use super::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Σ ‖g_{s_{i+1}} − g_{s_i}‖^p over `part`, after checking that it is a partition 0 = s_0 < … < s_r = n.
fn partition_sum(path: &[f64], dim: usize, p: f64, part: &[usize]) -> f64 {
    let n = path.len() / dim - 1;
    assert_eq!(part.first(), Some(&0), "{part:?}");
    assert_eq!(part.last(), Some(&n), "{part:?}");
    assert!(part.windows(2).all(|w| w[0] < w[1]) || n == 0, "{part:?}");
    part.windows(2)
        .map(|w| {
            let d2: f64 = (0..dim)
                .map(|c| (path[w[1] * dim + c] - path[w[0] * dim + c]).powi(2))
                .sum();
            d2.sqrt().powf(p)
        })
        .sum()
}

/// |a − b| / max(|a|, |b|, tiny).
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

/// Both algorithms, their agreement, and each partition's attainment of its value; returns the worst relative error.
fn check_both(path: &[f64], dim: usize, p: f64) -> f64 {
    let fast = pvar(path, dim, p).unwrap();
    let dp = pvar_dp(path, dim, p).unwrap();
    let agree = rel(fast.value, dp.value);
    let attains_fast = rel(partition_sum(path, dim, p, &fast.partition), fast.value.powf(p));
    let attains_dp = rel(partition_sum(path, dim, p, &dp.partition), dp.value.powf(p));
    let worst = agree.max(attains_fast).max(attains_dp);
    assert!(
        worst <= 1e-12,
        "d={dim} p={p} n={}: fast {} {:?} vs dp {} {:?} (agree {agree:e}, attain {attains_fast:e}/{attains_dp:e})",
        path.len() / dim - 1,
        fast.value,
        fast.partition,
        dp.value,
        dp.partition
    );
    worst
}

#[test]
fn hand_computed_scalar_and_planar_examples() {
    // g = 0, 3, 1, 4. p = 2: the full partition gives 9 + 4 + 9 = 22; {0,3}: 16; {0,1,3}: 9 + 1 = 10; {0,2,3}:
    // 1 + 9 = 10; so √22. p = 3: full 27 + 8 + 27 = 62 < {0,3}: 64 (the others 28), so 4.
    let g = [0.0, 3.0, 1.0, 4.0];
    for f in [pvar, pvar_dp] {
        let r = f(&g, 1, 2.0).unwrap();
        assert!((r.value - 22f64.sqrt()).abs() < 1e-15, "{r:?}");
        assert_eq!(r.partition, vec![0, 1, 2, 3]);
        let r = f(&g, 1, 3.0).unwrap();
        assert!((r.value - 4.0).abs() < 1e-14, "{r:?}");
        assert_eq!(r.partition, vec![0, 3]);
    }
    // Unit square corners (0,0), (1,0), (1,1), (0,1), p = 3: full 3; {0,2,3} and {0,1,3}: 2^{3/2} + 1; {0,3}: 1.
    let sq = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
    for f in [pvar, pvar_dp] {
        let r = f(&sq, 2, 3.0).unwrap();
        assert!((r.value - (1.0 + 2f64.powf(1.5)).cbrt()).abs() < 1e-14, "{r:?}");
        assert!(r.partition == [0, 2, 3] || r.partition == [0, 1, 3], "{r:?}");
    }
}

/// A seeded path of `n + 1` points in R^dim from one of several families.
fn family_path(rng: &mut ChaCha8Rng, family: usize, n: usize, dim: usize) -> Vec<f64> {
    let mut g = vec![0.0; (n + 1) * dim];
    for k in 1..=n {
        for c in 0..dim {
            let prev = g[(k - 1) * dim + c];
            g[k * dim + c] = match family {
                0 => prev + rng.sample::<f64, _>(StandardNormal), // random walk
                1 => rng.gen_range(-1.0..1.0),                    // i.i.d.
                2 => rng.gen_range(-2i32..=2) as f64,             // few values: plateaus, repeats and ties
                3 => (k as f64 * 0.05 * (c + 1) as f64).sin() + 0.05 * rng.sample::<f64, _>(StandardNormal),
                _ => prev + rng.gen_range(0.0..1.0) * if k % 7 < 4 { 1.0 } else { -1.0 }, // long monotone runs
            };
        }
    }
    g
}

#[test]
fn fast_equals_dynamic_programme_on_seeded_paths() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut worst: f64 = 0.0;
    let mut cases = 0;
    for family in 0..5 {
        for dim in 1..=3 {
            for _ in 0..12 {
                let n = rng.gen_range(1..=300);
                let g = family_path(&mut rng, family, n, dim);
                let extra: f64 = rng.gen_range(1.0..6.0);
                for p in [1.0, 1.5, 2.0, 3.7, extra] {
                    worst = worst.max(check_both(&g, dim, p));
                    cases += 1;
                }
            }
        }
    }
    eprintln!("fast vs DP: {cases} cases, worst relative difference or attainment error {worst:.2e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn fast_equals_dynamic_programme_proptest(
        dim in 1usize..=3,
        raw in prop::collection::vec(-100i32..=100, 1..=240),
        walk in any::<bool>(),
        p in prop_oneof![Just(1.0), Just(1.5), Just(2.0), Just(3.7), 1.0f64..8.0],
    ) {
        let len = raw.len() / dim * dim;
        prop_assume!(len >= dim);
        let mut g: Vec<f64> = raw[..len].iter().map(|&v| v as f64 / 7.0).collect();
        if walk {
            for k in dim..len {
                g[k] += g[k - dim];
            }
        }
        check_both(&g, dim, p);
    }
}

#[test]
fn one_variation_is_the_sum_of_increment_norms() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for dim in 1..=3 {
        let g = family_path(&mut rng, 0, 200, dim);
        let sum: f64 = (0..200)
            .map(|k| {
                (0..dim)
                    .map(|c| (g[(k + 1) * dim + c] - g[k * dim + c]).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .sum();
        for f in [pvar, pvar_dp] {
            let r = f(&g, dim, 1.0).unwrap();
            assert!(rel(r.value, sum) <= 1e-13, "d={dim}: {} vs {sum}", r.value);
        }
    }
}

#[test]
fn monotone_scalar_path_has_its_total_increment_for_every_p() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut g: Vec<f64> = vec![1.5];
    for _ in 0..150 {
        let last = g[g.len() - 1];
        g.push(last - rng.gen_range(0.01..1.0)); // strictly decreasing
    }
    let total = (g[150] - g[0]).abs();
    for p in [1.0, 1.01, 1.5, 2.0, 3.7, 10.0] {
        for f in [pvar, pvar_dp] {
            let r = f(&g, 1, p).unwrap();
            assert!(rel(r.value, total) <= 1e-13, "p={p}: {} vs {total}", r.value);
            if p > 1.0 {
                // Strict superadditivity of x^p: the one-interval partition is the only maximiser.
                assert_eq!(r.partition, vec![0, 150], "p={p}");
            }
        }
    }
}

#[test]
fn reversal_leaves_the_p_variation_unchanged() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for dim in 1..=3 {
        for family in [0, 1, 2] {
            let g = family_path(&mut rng, family, 257, dim);
            let rev: Vec<f64> = g.chunks_exact(dim).rev().flatten().copied().collect();
            for p in [1.0, 1.5, 2.0, 3.7] {
                let (a, b) = (pvar(&g, dim, p).unwrap(), pvar(&rev, dim, p).unwrap());
                assert!(
                    rel(a.value, b.value) <= 1e-12,
                    "d={dim} p={p}: {} vs {}",
                    a.value,
                    b.value
                );
            }
        }
    }
}

#[test]
fn short_and_constant_paths() {
    for f in [pvar, pvar_dp] {
        let one = f(&[2.0, -1.0], 2, 2.5).unwrap();
        assert_eq!((one.value, one.partition), (0.0, vec![0]));
        let two = f(&[1.0, 1.0, 4.0, 5.0], 2, 2.5).unwrap();
        assert!((two.value - 5.0).abs() < 1e-14, "{two:?}");
        assert_eq!(two.partition, vec![0, 1]);
        let constant = f(&[0.25; 30], 3, 1.7).unwrap();
        assert_eq!(constant.value, 0.0);
        assert_eq!((constant.partition[0], *constant.partition.last().unwrap()), (0, 9));
    }
}

#[test]
fn units_do_not_overflow_or_underflow_and_powers_of_two_scale_exactly() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let g = family_path(&mut rng, 0, 120, 2);
    let base = pvar(&g, 2, 3.7).unwrap();
    // (1e−120)^3.7 underflows to 0 in f64: without the internal rescaling these would return 0 or ∞.
    for k in [1e-120, 1e-30, 1e150] {
        let scaled: Vec<f64> = g.iter().map(|v| v * k).collect();
        for f in [pvar, pvar_dp] {
            let r = f(&scaled, 2, 3.7).unwrap();
            assert!(
                rel(r.value, base.value * k) <= 1e-12,
                "k={k}: {} vs {}",
                r.value,
                base.value * k
            );
        }
    }
    let two: Vec<f64> = g.iter().map(|v| v * 2f64.powi(-400)).collect();
    assert_eq!(pvar(&two, 2, 3.7).unwrap().value, base.value * 2f64.powi(-400));
}

#[test]
fn bad_input_is_an_error_with_a_clear_message() {
    let g = [0.0, 1.0, 2.0, 3.0];
    let msg = |r: Result<PVar, PathError>| r.unwrap_err().to_string();
    for f in [pvar, pvar_dp] {
        assert_eq!(f(&g, 1, 0.5).unwrap_err(), PathError::Exponent(0.5));
        assert!(msg(f(&g, 1, f64::NAN)).contains("p must be a finite number ≥ 1, found NaN"));
        assert!(f(&g, 1, f64::INFINITY).is_err());
        assert_eq!(f(&[], 1, 2.0).unwrap_err(), PathError::Empty);
        assert_eq!(f(&g, 0, 2.0).unwrap_err(), PathError::ZeroDimension);
        assert!(msg(f(&g, 3, 2.0)).contains("4 values, not a whole number of points of dimension 3"));
        let bad = [0.0, 1.0, 2.0, f64::NAN];
        assert!(msg(f(&bad, 2, 2.0)).contains("point 1, component 1: expected a finite number, found NaN"));
        assert_eq!(
            f(&[-f64::MAX, f64::MAX], 1, 2.0).unwrap_err(),
            PathError::RangeOverflow { component: 0 }
        );
    }
    let ragged = vec![vec![0.0, 1.0], vec![2.0, 3.0], vec![4.0]];
    assert_eq!(
        flatten_rows(&ragged).unwrap_err().to_string(),
        "point 2 has 1 components, but point 0 has 2"
    );
    assert_eq!(flatten_rows(&[]).unwrap_err(), PathError::Empty);
    assert_eq!(flatten_rows(&ragged[..2]).unwrap(), (vec![0.0, 1.0, 2.0, 3.0], 2));
}

/// max_{k<l} ‖g_l − g_k‖ / (t_l − t_k)^α by brute force.
fn holder_brute(g: &[f64], t: &[f64], dim: usize, alpha: f64) -> f64 {
    let mut best: f64 = 0.0;
    for l in 0..t.len() {
        for k in 0..l {
            let d2: f64 = (0..dim).map(|c| (g[l * dim + c] - g[k * dim + c]).powi(2)).sum();
            best = best.max(d2.sqrt() / (t[l] - t[k]).powf(alpha));
        }
    }
    best
}

#[test]
fn holder_seminorm_matches_brute_force_and_bounds_the_p_variation() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for family in 0..5 {
        for dim in 1..=3 {
            let n = rng.gen_range(1..=250);
            let g = family_path(&mut rng, family, n, dim);
            let mut t = vec![rng.gen_range(-1.0..1.0)];
            for _ in 0..n {
                let last = t[t.len() - 1];
                t.push(last + rng.gen_range(0.001..0.1));
            }
            for alpha in [0.2, 0.5, 1.0 / 1.5, 1.0, 1.3] {
                let h = holder(&g, &t, dim, alpha).unwrap();
                let want = holder_brute(&g, &t, dim, alpha);
                assert!(rel(h.value, want) <= 1e-13, "α={alpha} d={dim}: {} vs {want}", h.value);
                let (k, l) = h.pair;
                let at: f64 = (0..dim)
                    .map(|c| (g[l * dim + c] - g[k * dim + c]).powi(2))
                    .sum::<f64>()
                    .sqrt()
                    / (t[l] - t[k]).powf(alpha);
                assert!(k < l && rel(at, h.value) <= 1e-13, "pair {:?}", h.pair);
                if alpha <= 1.0 {
                    // Σ ‖Δg‖^p ≤ ‖g‖_α^p Σ Δt = ‖g‖_α^p (t_n − t_0) for α = 1/p.
                    let p = 1.0 / alpha;
                    let bound = h.value * (t[n] - t[0]).powf(alpha);
                    let v = pvar(&g, dim, p).unwrap().value;
                    assert!(v <= bound * (1.0 + 1e-12), "p={p}: {v} > {bound}");
                }
            }
        }
    }
    // A straight line g = c t is 1-Hölder with constant |c| (and (n, α) = (0, 1) gives 0).
    let t: Vec<f64> = (0..50).map(|k| (k as f64).powf(1.5)).collect();
    let g: Vec<f64> = t.iter().flat_map(|&s| [3.0 * s, -4.0 * s]).collect();
    assert!((holder(&g, &t, 2, 1.0).unwrap().value - 5.0).abs() < 1e-13);
    assert_eq!(
        holder(&[1.0], &[0.0], 1, 1.0).unwrap(),
        Holder {
            value: 0.0,
            pair: (0, 0)
        }
    );
}

#[test]
fn holder_rejects_bad_times_and_exponents() {
    let g = [0.0, 1.0, 0.5];
    assert_eq!(
        holder(&g, &[0.0, 1.0, 2.0], 1, 0.0).unwrap_err(),
        PathError::HolderExponent(0.0)
    );
    assert!(holder(&g, &[0.0, 1.0, 2.0], 1, f64::NAN).is_err());
    assert_eq!(
        holder(&g, &[0.0, 1.0], 1, 0.5).unwrap_err(),
        PathError::TimesLength { points: 3, times: 2 }
    );
    assert_eq!(
        holder(&g, &[0.0, 1.0, 1.0], 1, 0.5).unwrap_err().to_string(),
        "times must be strictly increasing: time 2 = 1 does not exceed time 1 = 1"
    );
    assert!(holder(&g, &[0.0, f64::INFINITY, 3.0], 1, 0.5)
        .unwrap_err()
        .to_string()
        .contains("time 1"));
}
