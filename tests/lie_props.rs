//! Properties and published results of the Lie-bracket library (SPEC §5).
use lieflow::field::Activation;
use lieflow::lie::hall::HallBasis;
use lieflow::lie::poly::{monomials, Coef, Poly, PolyField, Rational};
use lieflow::lie::rank::hall_exact_rank_at_points;
use lieflow::lie::*;

mod common;
use common::pairwise_filtration_ranks;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn field_from(coefs: &[i64]) -> PolyField<Rational> {
    let mons = monomials(2, 2);
    let mut f = PolyField::zero(2);
    for (k, c) in coefs.iter().enumerate() {
        f.add_term(
            k / mons.len(),
            mons[k % mons.len()].clone(),
            Rational::integer(*c as i128),
        );
    }
    f
}

fn small_field() -> impl Strategy<Value = PolyField<Rational>> {
    prop::collection::vec(-3i64..=3, 12).prop_map(|c| field_from(&c))
}

fn rat() -> impl Strategy<Value = Rational> {
    (-5i128..=5, 1i128..=4).prop_map(|(n, d)| Rational::new(n, d))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn bracket_antisymmetric(u in small_field(), v in small_field()) {
        prop_assert_eq!(u.bracket(&v), v.bracket(&u).scale(&Rational::integer(-1)));
        prop_assert!(u.bracket(&u).is_zero());
    }

    #[test]
    fn bracket_jacobi(u in small_field(), v in small_field(), w in small_field()) {
        let j = u.bracket(&v.bracket(&w)).add(&v.bracket(&w.bracket(&u))).add(&w.bracket(&u.bracket(&v)));
        prop_assert!(j.is_zero());
    }

    #[test]
    fn bracket_bilinear(u in small_field(), v in small_field(), w in small_field(), a in rat(), b in rat()) {
        let lhs = u.scale(&a).add(&v.scale(&b)).bracket(&w);
        let rhs = u.bracket(&w).scale(&a).add(&v.bracket(&w).scale(&b));
        prop_assert_eq!(lhs, rhs);
        let lhs = w.bracket(&u.scale(&a).add(&v.scale(&b)));
        let rhs = w.bracket(&u).scale(&a).add(&w.bracket(&v).scale(&b));
        prop_assert_eq!(lhs, rhs);
    }

    /// [Ax, Bx] = (BA − AB)x for random integer matrices in dimension 3.
    #[test]
    fn linear_fields_give_ba_minus_ab(a in prop::collection::vec(-4i64..=4, 9), b in prop::collection::vec(-4i64..=4, 9)) {
        let am: Vec<Vec<i64>> = a.chunks(3).map(|r| r.to_vec()).collect();
        let bm: Vec<Vec<i64>> = b.chunks(3).map(|r| r.to_vec()).collect();
        let mut c = vec![vec![0i64; 3]; 3];
        for i in 0..3 { for j in 0..3 { for k in 0..3 {
            c[i][j] += bm[i][k] * am[k][j] - am[i][k] * bm[k][j];
        }}}
        prop_assert_eq!(PolyField::linear(&am).bracket(&PolyField::linear(&bm)), PolyField::linear(&c));
    }
}

/// V, W, −V, −W for time t moves x by t²[V, W](x) + O(t³); the opposite sign fails.
#[test]
fn flow_commutator_sign() {
    let v = field_from(&[1, 0, 1, 0, 2, 0, 0, 1, 0, -1, 0, 1]).to_f64();
    let w = field_from(&[0, 1, 0, 1, 0, -1, 2, 0, 1, 0, 1, 0]).to_f64();
    let br = v.bracket(&w);
    let x = [0.3, -0.2];
    let bx = br.eval(&x);
    assert!(bx.iter().any(|c| c.abs() > 0.1));
    let (mut right, mut wrong) = (Vec::new(), Vec::new());
    let mut t = 0.08;
    for _ in 0..4 {
        let dx = flow_commutator(|p| v.eval(p), |p| w.eval(p), &x, t);
        let r = |s: f64| {
            dx.iter()
                .zip(&bx)
                .map(|(d, b)| (d - s * t * t * b).powi(2))
                .sum::<f64>()
                .sqrt()
                / t.powi(3)
        };
        right.push(r(1.0));
        wrong.push(r(-1.0));
        t /= 2.0;
    }
    for k in 1..right.len() {
        assert!(
            right[k] < 1.5 * right[k - 1] + 1e-6,
            "remainder/t³ must stay bounded: {right:?}"
        );
        assert!(
            wrong[k] > 1.8 * wrong[k - 1],
            "opposite convention must blow up like 1/t: {wrong:?}"
        );
    }
    assert!(right.iter().all(|r| *r < 50.0), "{right:?}");
}

fn points(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..2).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect()
}

fn all_depths(max_depth: usize) -> RankConfig {
    RankConfig {
        max_depth,
        stop_at_full_rank: false,
        ..RankConfig::default()
    }
}

/// SPEC §5 item 9 / lie_bench.py: N = 5, 6, 7 with Cuchiero's five fields.
#[test]
fn cuchiero_published_ranks() {
    let f = cuchiero_fields(2);
    for seed in [1u64, 2, 3] {
        let r6 = analyze_polynomial(&f, &points(6, seed), &all_depths(3)).unwrap();
        let s = r6.summary();
        assert_eq!(s.span_dim_by_depth[1], Some(11));
        assert_eq!(s.rank_by_depth, vec![5, 11, 12]);
        assert_eq!(s.exact_rank_by_depth, vec![Some(5), Some(11), Some(12)]);
        assert_eq!(r6.full_rank_depth, Some(3));

        let r5 = analyze_polynomial(&f, &points(5, seed), &RankConfig::default()).unwrap();
        assert_eq!(r5.full_rank_depth, Some(2));
        assert_eq!(r5.rank_at(2), Some(10));

        let r7 = analyze_polynomial(&f, &points(7, seed), &all_depths(3)).unwrap();
        assert_eq!(r7.rank_at(3), Some(13));
        assert_eq!(r7.depths[2].exact_rank_at_points, Some(13));
        assert_eq!(r7.full_rank_depth, None);
    }
}

/// N = 20: full-rank depth against the exact Z_p rank of the Hall-bracket evaluation matrix (no graded-span
/// shortcut) at the same points.
#[test]
fn cuchiero_n20_against_hall_brackets() {
    let f = cuchiero_fields(2);
    let pts = points(20, 7);
    let rep = analyze_polynomial(&f, &pts, &RankConfig::default()).unwrap();
    let k = rep.full_rank_depth.expect("full rank");
    assert_eq!(hall_exact_rank_at_points(&f, &pts, k), Some(40));
    assert!(hall_exact_rank_at_points(&f, &pts, k - 1).unwrap() < 40);
    for d in &rep.depths[..k - 1] {
        assert_eq!(
            Some(hall_exact_rank_at_points(&f, &pts, d.depth).unwrap()),
            d.exact_rank_at_points
        );
    }
}

/// N = 50: full-rank depth against the independent pairwise filtration.
#[test]
fn cuchiero_n50_against_pairwise_filtration() {
    let f = cuchiero_fields(2);
    let pts = points(50, 11);
    let rep = analyze_polynomial(&f, &pts, &RankConfig::default()).unwrap();
    let k = rep.full_rank_depth.expect("full rank");
    let indep = pairwise_filtration_ranks(&f, &pts, k);
    assert_eq!(indep[k - 1], 100);
    assert!(indep[k - 2] < 100);
    let ours: Vec<usize> = rep.depths.iter().map(|d| d.exact_rank_at_points.unwrap()).collect();
    assert_eq!(ours, indep);
    assert_eq!(rep.exact_generic_full_rank_depth, Some(k));
}

/// Graded span of Cuchiero's fields in m = 3 grows and reaches full rank for a few points.
#[test]
fn cuchiero_m3_reaches_full_rank() {
    let f = cuchiero_fields(3);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let pts: Vec<Vec<f64>> = (0..6)
        .map(|_| (0..3).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect();
    let rep = analyze_polynomial(
        &f,
        &pts,
        &RankConfig {
            max_depth: 10,
            ..RankConfig::default()
        },
    )
    .unwrap();
    assert!(rep.full_rank_depth.is_some(), "{:?}", rep.summary());
}

#[test]
fn coincident_points_rejected() {
    let f = cuchiero_fields(2);
    let pts = vec![vec![0.1, 0.2], vec![0.3, 0.4], vec![0.1, 0.2]];
    match analyze_polynomial(&f, &pts, &RankConfig::default()) {
        Err(lieflow::Error::Input { msg, .. }) => assert!(msg.contains("1 and 3 coincide (1-based)"), "{msg}"),
        other => panic!("expected input error, got {other:?}"),
    }
    let feats = vec![FeatureField {
        c: vec![vec![1.0, 0.0], vec![0.0, 1.0]],
        b: vec![0.0, 0.0],
        sigma: Activation::Tanh,
    }];
    assert!(matches!(
        analyze_features(&feats, &pts, &RankConfig::default()),
        Err(lieflow::Error::Input { .. })
    ));
}

/// Random polynomial fields (degree 2, d = 5, Gaussian coefficients) reach full rank in ≥ 99 % of 200 draws
/// (N = 8 needs depth ≥ 3: depth ≤ 2 has at most 5 + 10 = 15 < 16 columns).
#[test]
fn genericity_random_polynomials() {
    let cfg = GenericityConfig {
        m: 2,
        n_points: 8,
        draws: 200,
        max_depth: 6,
        seed: 42,
        family: RandomFamily::Polynomial {
            d: 5,
            degree: 2,
            range: None,
        },
    };
    let r = genericity(&cfg).unwrap();
    assert!(r.probability >= 0.99, "{r:?}");
    assert!(r.wilson_low > 0.95 && r.wilson_high <= 1.0);
    assert_eq!(r.depth_histogram.values().sum::<usize>(), r.successes);
    assert!(r.depth_histogram.keys().all(|&k| k >= 3));
    // integer coefficients, exact path
    let cfg = GenericityConfig {
        family: RandomFamily::Polynomial {
            d: 5,
            degree: 2,
            range: Some(5),
        },
        draws: 100,
        ..cfg
    };
    assert!(genericity(&cfg).unwrap().probability >= 0.99);
}

/// d = 7 random features with polynomial σ (linear, then quadratic) reach full rank generically.
#[test]
fn genericity_random_features() {
    let cfg = GenericityConfig {
        m: 2,
        n_points: 8,
        draws: 100,
        max_depth: 6,
        seed: 7,
        family: RandomFamily::Features7,
    };
    let r = genericity(&cfg).unwrap();
    assert!(r.probability >= 0.99, "{r:?}");
}

/// Jet/Hall path for polynomial features agrees with the exact graded-span path; tanh features reach full rank.
#[test]
fn features_jets_vs_polynomial_path() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let feats = lieflow::lie::genericity::random_features7(2, &mut rng);
    let pts = points(3, 9);
    let cfg = all_depths(3);
    let a = analyze_features(&feats, &pts, &cfg).unwrap();
    let polys: Vec<PolyField<f64>> = feats.iter().map(|f| f.to_poly().unwrap()).collect();
    let b = analyze_polynomial_f64(&polys, &pts, &cfg).unwrap();
    assert_eq!(a.summary().rank_by_depth, b.summary().rank_by_depth);
    assert_eq!(a.full_rank_depth, b.full_rank_depth);
    let tanh: Vec<FeatureField> = feats
        .into_iter()
        .map(|f| FeatureField {
            sigma: Activation::Tanh,
            ..f
        })
        .collect();
    let t = analyze_features(
        &tanh,
        &pts,
        &RankConfig {
            max_depth: 4,
            ..RankConfig::default()
        },
    )
    .unwrap();
    assert!(t.full_rank_depth.is_some(), "{:?}", t.summary());
    assert_eq!(t.method, "hall_jets");
}

#[test]
fn order_obstruction_on_the_line() {
    let r = check_order_1d(&[-1.0, 0.5, 2.0], &[1.0, 0.0, 3.0]).unwrap();
    assert!(!r.preserved);
    assert_eq!(r.violations, vec![(0, 1)]);
    assert!(check_order_1d(&[-1.0, 0.5, 2.0], &[-3.0, 0.0, 3.0]).unwrap().preserved);
}

/// summary.json / brackets.json shapes, rational coefficients as strings.
#[test]
fn json_outputs() {
    let mut f = cuchiero_fields(2);
    f[2] = f[2].scale(&Rational::new(3, 2));
    let rep = analyze_polynomial(&f, &points(6, 1), &RankConfig::default()).unwrap();
    let s = serde_json::to_value(rep.summary()).unwrap();
    for key in [
        "full_rank_depth",
        "rank_by_depth",
        "exact_rank_by_depth",
        "span_dim_by_depth",
        "n_brackets_by_depth",
        "min_singular_value",
    ] {
        assert!(s.get(key).is_some(), "{key}");
    }
    assert_eq!(s["full_rank_depth"], 3);
    assert_eq!(s["n_brackets_by_depth"], serde_json::json!([5, 10, 40]));
    let b = serde_json::to_value(rep.brackets_json()).unwrap();
    let arr = b.as_array().unwrap();
    assert_eq!(arr.len(), 15);
    assert_eq!(arr[2]["word"], "3");
    assert_eq!(arr[2]["coefficients"][0]["value"], "3/2");
    let words: Vec<&str> = arr.iter().map(|e| e["word"].as_str().unwrap()).collect();
    assert!(words.iter().any(|w| w.len() == 9 && w.contains(",[")), "{words:?}");
    serde_json::to_string(&rep).unwrap();
    assert_eq!(Poly::<Rational>::var(2, 1).deriv(1), Poly::constant(2, Rational::one()));
    assert_eq!(HallBasis::new(2, 2).elems.len(), 3);
}

/// N = 200: exact rank reaches 400; wherever the column-scaled SVD under-reports (conditioning), the report
/// flags the disagreement.
#[test]
fn cuchiero_n200_flags_conditioning() {
    let rep = analyze_polynomial(&cuchiero_fields(2), &points(200, 1), &RankConfig::default()).unwrap();
    assert!(rep.full_rank_depth.is_some());
    assert_eq!(rep.full_rank_depth, rep.exact_generic_full_rank_depth);
    for d in &rep.depths {
        assert_eq!(
            d.disagreement.is_some(),
            Some(d.rank) != d.exact_rank_at_points,
            "depth {}",
            d.depth
        );
        assert!(d.rank <= d.exact_rank_at_points.unwrap());
    }
}

/// Genericity results do not depend on the number of threads.
#[test]
fn genericity_thread_count_independent() {
    let cfg = GenericityConfig {
        m: 2,
        n_points: 5,
        draws: 24,
        max_depth: 5,
        seed: 3,
        family: RandomFamily::Polynomial {
            d: 5,
            degree: 2,
            range: Some(3),
        },
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| genericity(&cfg).unwrap());
    let many = genericity(&cfg).unwrap();
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&many).unwrap()
    );
}

/// Fields generating a finite-dimensional Lie algebra (linear fields: sl(2)) stop growing; the report says so.
#[test]
fn closed_lie_algebra_is_reported() {
    let f = cuchiero_fields(2);
    let lin = vec![f[0].clone(), f[1].clone()];
    let rep = analyze_polynomial(&lin, &points(3, 2), &RankConfig::default()).unwrap();
    assert_eq!(rep.full_rank_depth, None);
    assert_eq!(rep.summary().span_dim_by_depth.last().copied().flatten(), Some(3));
    assert!(
        rep.notes.iter().any(|n| n.contains("finite-dimensional")),
        "{:?}",
        rep.notes
    );
}

/// m = 1: the report carries the ordering caveat.
#[test]
fn m1_report_has_order_note() {
    let mut v = PolyField::zero(1);
    v.add_term(0, vec![0], Rational::integer(1));
    let mut w = PolyField::zero(1);
    w.add_term(0, vec![2], Rational::integer(1));
    let rep = analyze_polynomial(&[v, w], &[vec![-0.5], vec![0.25], vec![0.75]], &RankConfig::default()).unwrap();
    assert!(rep.full_rank_depth.is_some());
    assert!(rep.notes.iter().any(|n| n.contains("order")));
}

/// Huge points overflow f64 at high degree: a numerical error, not a silent wrong rank.
#[test]
fn non_finite_values_are_reported() {
    let pts = vec![vec![1e200, 1e200], vec![-1e200, 3e199]];
    let cfg = RankConfig {
        max_depth: 4,
        stop_at_full_rank: false,
        exact_generic: false,
        ..RankConfig::default()
    };
    assert!(matches!(
        analyze_polynomial(&cuchiero_fields(2), &pts, &cfg),
        Err(lieflow::Error::Numerical { .. })
    ));
}
