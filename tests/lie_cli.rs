//! End-to-end tests of the `lie` and `genericity` studies (the real binary, each in its own temporary folder).

mod common;
use common::*;
use lieflow::lie::cuchiero_fields;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `lieflow run SCENARIO --out TMP/out --quiet`; returns the output folder.
fn run_ok(tmp: &Path, scenario_path: &Path) -> PathBuf {
    let out = tmp.join("out");
    let o = lieflow(
        tmp,
        &[
            "run",
            scenario_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// SPEC §5 item 9 and the peer benchmark notes (bench/README.md) ("depth 3 → full rank 12"): Cuchiero's five fields at N = 6
/// random distinct points reach full rank mN = 12 at depth 3; depth ≤ 2 spans 11 dimensions (rank 11).
#[test]
fn lie_cuchiero5_full_rank_12_at_depth_3() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(tmp.path(), &scenario("lie-cuchiero5.toml"));
    let s = json(&out.join("summary.json"));
    assert_eq!(s["full_rank_depth"], 3);
    assert_eq!(s["target_rank"], 12);
    assert_eq!(usizes(&s["rank_by_depth"]), vec![5, 11, 12, 12, 12]);
    assert_eq!(usizes(&s["exact_rank_by_depth"]), vec![5, 11, 12, 12, 12]);
    assert_eq!(usizes(&s["exact_rank_at_points_by_depth"]), vec![5, 11, 12, 12, 12]);
    assert_eq!(usizes(&s["span_dim_by_depth"])[1], 11);
    // Witt's formula for d = 5: 5, 10, 40, 150, 624 Hall brackets of depth 1..5.
    assert_eq!(usizes(&s["n_brackets_by_depth"]), vec![5, 10, 40, 150, 624]);
    assert!(s["min_singular_value"].as_f64().unwrap() > 0.0);
    assert!(s["tolerance_rule"].as_str().unwrap().contains("tol"));
    assert!(s["rank_to_trust"].as_str().unwrap().contains("exact"));
    assert_eq!(s["disagreements"].as_array().unwrap().len(), 0);
    for f in [
        "ranks.csv",
        "singular_values.csv",
        "points.csv",
        "brackets.json",
        "singular-values.png",
        "singular-values.svg",
        "rank-vs-depth.png",
        "rank-vs-depth.svg",
        "manifest.json",
    ] {
        assert!(
            out.join(f).metadata().map(|m| m.len() > 0).unwrap_or(false),
            "missing {f}"
        );
    }
    let ranks = std::fs::read_to_string(out.join("ranks.csv")).unwrap();
    assert!(
        ranks.starts_with("depth,n_brackets,span_dim,numerical_rank,exact_rank_at_points,min_kept_sv,gap,tol_margin")
    );
    assert!(ranks.lines().nth(3).unwrap().starts_with("3,40,15,12,12,"), "{ranks}");
}

/// N = 50: the study's full_rank_depth equals the depth at which the independent pairwise filtration
/// L_{≤k} = L_{≤k−1} + Σ_{i+j=k} [B_i, B_j] (tests/common.rs, evaluated naively mod p at the same points, read
/// back from points.csv) first reaches rank mN = 100. That number is 13 for these points.
#[test]
fn lie_cuchiero5_n50_matches_independent_filtration() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(tmp.path(), &scenario("lie-cuchiero5-n50.toml"));
    let s = json(&out.join("summary.json"));
    let k = s["full_rank_depth"].as_u64().expect("full rank reached") as usize;
    let (vals, rows, cols) = lieflow::output::table::read_matrix_csv(&out.join("points.csv")).unwrap();
    assert_eq!((rows, cols), (50, 3));
    let pts: Vec<Vec<f64>> = (0..rows).map(|r| vals[r * cols + 1..r * cols + 3].to_vec()).collect();
    let indep = pairwise_filtration_ranks(&cuchiero_fields(2), &pts, k);
    assert_eq!(indep[k - 1], 100, "{indep:?}");
    assert!(indep[k - 2] < 100, "{indep:?}");
    assert_eq!(usizes(&s["exact_rank_at_points_by_depth"]), indep);
    assert_eq!(k, 13);
}

fn coefficient(b: &Value, component: u64, exponents: &[u64]) -> Option<String> {
    b["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["component"] == component
                && usizes(&c["exponents"]) == exponents.iter().map(|&e| e as usize).collect::<Vec<_>>()
        })
        .map(|c| c["value"].as_str().unwrap().to_string())
}

/// brackets.json against hand computations with [V, W] = DW·V − DV·W, A = diag(1, −1), B = [[0, 1], [1, 0]]:
/// * [V1, V2] = (BA − AB)x = (−2x₂, 2x₁);
/// * [V2, V3] = DV3·V2 − DV2·V3 = 0 − B e₂ = (−1, 0);
/// * [V3, V5] with V5 = (x₁x₂, x₂²): DV5·e₂ = (x₁, 2x₂), DV3 = 0, so (x₁, 2x₂);
/// * [V1, V3] = 0 − A e₂ = e₂ = V3 is dependent, so it is not a basis element.
#[test]
fn lie_brackets_json_matches_hand_computation() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(tmp.path(), &scenario("lie-cuchiero5.toml"));
    let b = json(&out.join("brackets.json"));
    assert!(b["convention"].as_str().unwrap().contains("DW·V − DV·W"));
    let list = b["brackets"].as_array().unwrap();
    let find = |w: &str| list.iter().find(|e| e["word"] == w).unwrap_or_else(|| panic!("no {w}"));
    let b12 = find("[1,2]");
    assert_eq!(b12["depth"], 2);
    assert_eq!(b12["exact"], true);
    assert_eq!(b12["coefficients"].as_array().unwrap().len(), 2);
    assert_eq!(coefficient(b12, 0, &[0, 1]).as_deref(), Some("-2"));
    assert_eq!(coefficient(b12, 1, &[1, 0]).as_deref(), Some("2"));
    let b23 = find("[2,3]");
    assert_eq!(b23["coefficients"].as_array().unwrap().len(), 1);
    assert_eq!(coefficient(b23, 0, &[0, 0]).as_deref(), Some("-1"));
    let b35 = find("[3,5]");
    assert_eq!(coefficient(b35, 0, &[1, 0]).as_deref(), Some("1"));
    assert_eq!(coefficient(b35, 1, &[0, 1]).as_deref(), Some("2"));
    assert!(list.iter().all(|e| e["word"] != "[1,3]"));
    assert_eq!(list.iter().filter(|e| e["depth"] == 2).count(), 6);
}

/// SPEC §5 item 10: random degree-2 polynomial fields satisfy the N-point condition with probability one.
#[test]
fn genericity_random_polynomials_full_rank_almost_surely() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(tmp.path(), &scenario("lie-generic.toml"));
    let s = json(&out.join("summary.json"));
    let p = s["probability_full_rank"].as_f64().unwrap();
    assert!(p >= 0.99, "{p}");
    let draws = s["draws"].as_u64().unwrap();
    assert!(draws >= 200);
    let ci = s["ci95"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() <= p && p <= ci[1].as_f64().unwrap());
    let hist_total: u64 = s["depth_histogram"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(hist_total, s["successes"].as_u64().unwrap());
    assert!(out.join("depth_histogram.csv").exists() && out.join("depth-histogram.png").exists());
}

/// Seven random polynomial-σ features: the jets path and the exact polynomial form agree on full rank.
#[test]
fn lie_random_features_jets_agree_with_exact_form() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(tmp.path(), &scenario("lie-random-features.toml"));
    let s = json(&out.join("summary.json"));
    assert_eq!(s["method"], "hall_jets");
    assert_eq!(s["target_rank"], 12);
    assert!(s["full_rank_depth"].is_u64());
    assert_eq!(s["exact_check"]["agrees_with_jets"], true);
    assert_eq!(*usizes(&s["rank_by_depth"]).last().unwrap(), 12);
}

/// Coincident points are bad input: exit 2, the message names the scenario file and `lie.points`, and no output
/// folder is created.
#[test]
fn lie_coincident_points_exit_2_naming_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(
        tmp.path(),
        "dup.toml",
        "study = \"lie\"\n[lie]\nfields = \"cuchiero\"\ndim = 2\npoints = [[0.5, 0.25], [1.0, 0.0], [0.5, 0.25]]\n",
    );
    let (o, out) = run_study(tmp.path(), &sc, "out", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("dup.toml") && e.contains("lie.points") && e.contains("line 5"),
        "{e}"
    );
    assert!(e.contains("points 1 and 3 coincide (1-based)"), "{e}");
    assert!(!e.contains("<lie>"), "{e}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "only the scenario file"
    );
    // A bad rational is caught while parsing, with its field path.
    let sc = write(
        tmp.path(),
        "rat.toml",
        "study = \"lie\"\n[lie]\npoints = [[0.0], [1.0]]\n[[lie.fields]]\nterms = [{ component = 0, exponents = [1], \
         coef = \"1/0\" }]\n",
    );
    let o = lieflow(tmp.path(), &["validate", sc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("rat.toml") && e.contains("coef") && e.contains("zero denominator"),
        "{e}"
    );
}

/// SPEC §5 item 11: on the line the rank condition holds, yet reordered targets are unreachable.
#[test]
fn lie_order_1d_obstruction_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(tmp.path(), &scenario("lie-order-1d.toml"));
    let s = json(&out.join("summary.json"));
    assert_eq!(s["order_obstruction"], true);
    assert_eq!(usizes(&s["offending_pair"]), vec![2, 3]);
    assert!(s["order_message"].as_str().unwrap().contains("ordering obstruction"));
    assert_eq!(s["m"], 1);
    assert!(
        s["full_rank_depth"].is_u64(),
        "the rank condition still holds (local controllability)"
    );
}

/// `lieflow bench` on the five-field problem prints one JSON line with the median time and the ranks.
#[test]
fn lie_bench_prints_json_with_median() {
    let tmp = tempfile::tempdir().unwrap();
    let o = lieflow(
        tmp.path(),
        &[
            "bench",
            scenario("lie-cuchiero5.toml").to_str().unwrap(),
            "--reps",
            "5",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let v: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert!(v["median_s"].as_f64().unwrap() > 0.0);
    assert_eq!(v["reps"], 5);
    assert_eq!(v["full_rank_depth"], 3);
    assert_eq!(v["rank"], 12);
}
