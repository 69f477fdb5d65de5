//! The `depth-limit` study (seed 004, SPEC §6): the gradient it descends against central differences, the t = 0
//! law of the truncated initialisation, a tiny end-to-end run (thread-count independent), bad input, and — behind
//! LIEFLOW_FULL=1 — the bundled small scenario with every comparison passing.

mod common;
use common::*;

use lieflow::study::depth_limit::catalogue::{class_named, parse_model, t0_formula, t0_rel_spread, Init};
use lieflow::study::depth_limit::model::{initial_weights, rescaled_variation, setup};

/// The exact gradient of J(W) = (1/N) Σ (U_out h_L(U_in x_i) − 0.01)² (what the study descends) against central
/// differences of the same J, per component and along a random direction, at random weights of the truncated
/// scale blown up so that tanh is far from linear.
#[test]
fn gradient_of_the_trained_loss_matches_central_differences() {
    for (cls, l) in [("B12", 12usize), ("C23", 9)] {
        let c = class_named(cls).unwrap();
        let x: Vec<f64> = (0..70)
            .map(|i| -1.0 + 2.0 * ((i * 37 % 70) as f64 + 0.5) / 70.0)
            .collect();
        let st = setup(c, l, &x, 0.95, -0.77);
        let w: Vec<f64> = initial_weights(c, Init::TruncatedSigma, l, 3, 1)
            .iter()
            .enumerate()
            .map(|(k, v)| 400.0 * v + 0.3 * (k as f64).cos())
            .collect();
        let g = st.loss_grad(&w, &[]).unwrap();
        let gp = st.grad_problem();
        let j = |w: &[f64]| gp.loss(w, &[]).unwrap();
        assert!((g.loss - j(&w)).abs() <= 1e-15 * g.loss.abs());
        for k in 0..l {
            let h = 6e-6 * (1.0 + w[k].abs());
            let (mut wp, mut wm) = (w.clone(), w.clone());
            wp[k] += h;
            wm[k] -= h;
            let fd = (j(&wp) - j(&wm)) / (2.0 * h);
            assert!(
                (fd - g.controls[k]).abs() <= 1e-7 * (g.controls[k].abs() + 1e-3),
                "{cls} W_{k}: adjoint {} vs central difference {fd}",
                g.controls[k]
            );
        }
        let dir: Vec<f64> = (0..l).map(|k| ((k * 7 + 3) % 11) as f64 / 11.0 - 0.5).collect();
        let h = 1e-5;
        let shift = |s: f64| -> Vec<f64> { w.iter().zip(&dir).map(|(a, b)| a + s * h * b).collect() };
        let fd = (j(&shift(1.0)) - j(&shift(-1.0))) / (2.0 * h);
        let ad: f64 = g.controls.iter().zip(&dir).map(|(a, b)| a * b).sum();
        assert!((fd - ad).abs() <= 1e-7 * ad.abs().max(1e-3), "{cls}: {ad} vs {fd}");
    }
}

/// SPEC §6: one seed's t = 0 1-variation of L^β W_k for the ±1σ reading is 0.9337·(L − 1)/(3 L^{1/γ}) within
/// 4·0.76/√L; the σ = √m_L reading gives (L − 1)/(3 L^{1/γ}), which the ±1σ value must not be mistaken for.
#[test]
fn t0_variation_follows_the_truncated_normal_law() {
    for (model, l) in [("B11t", 1024usize), ("C23t", 512), ("B21t-sqrt", 1024)] {
        let (c, init) = parse_model(model).unwrap();
        let lf = l as f64;
        let w = initial_weights(c, init, l, 0, 0);
        assert!(
            w.iter().all(|v| v.abs() <= c.m_l(lf) * (1.0 + 1e-12)),
            "{model}: truncation"
        );
        let v = rescaled_variation(&w, c.beta());
        let want = t0_formula(init, c.gamma, lf).unwrap();
        let tol = 4.0 * t0_rel_spread(lf);
        assert!((v / want - 1.0).abs() <= tol, "{model} L = {l}: {v} vs {want} (±{tol})");
    }
    // The two readings differ by 6.6 %: the mean of 20 seeds (spread 0.76/√(20 L)) tells them apart.
    let l = 1024usize;
    for (model, other) in [("B11t", Init::TruncatedSqrt), ("B11t-sqrt", Init::TruncatedSigma)] {
        let (c, init) = parse_model(model).unwrap();
        let mean = (0..20u64)
            .map(|s| rescaled_variation(&initial_weights(c, init, l, 9, s), c.beta()))
            .sum::<f64>()
            / 20.0;
        let own = t0_formula(init, c.gamma, l as f64).unwrap();
        let wrong = t0_formula(other, c.gamma, l as f64).unwrap();
        assert!((mean / own - 1.0).abs() < 0.02, "{model}: mean {mean} vs {own}");
        assert!(
            (mean / wrong - 1.0).abs() > 0.04,
            "{model}: mean {mean} matches the other reading {wrong}"
        );
    }
    // Constant initialisation: a flat path.
    let (c, init) = parse_model("B12c").unwrap();
    assert_eq!(rescaled_variation(&initial_weights(c, init, 300, 0, 0), c.beta()), 0.0);
}

const TINY: &str = r#"
study = "depth-limit"
seed = 4
[data]
kind = "c10k"
n = 300
[depth_limit]
depths = [16, 32]
seeds = 2
models = ["B12c", "B11t", "C23t-sqrt"]
u_in = 0.95
u_out = 0.77
"#;

#[test]
fn tiny_run_writes_the_tables_figures_and_summary_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "tiny.toml", TINY);
    let (o1, out1) = run_study(tmp.path(), &sc, "one", &["--threads", "1"]);
    assert!(o1.status.success(), "{}", stderr(&o1));
    let (o2, out2) = run_study(tmp.path(), &sc, "two", &["--threads", "2"]);
    assert!(o2.status.success(), "{}", stderr(&o2));
    for f in [
        "runs.csv",
        "table-4.3.csv",
        "table-4.3.md",
        "table-4.3.tex",
        "table-sqrt-reading.csv",
        "paths-B12c.svg",
        "variation-4.3.svg",
        "summary.json",
    ] {
        let a = std::fs::read(out1.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        if f.ends_with(".csv") || f.ends_with(".md") || f.ends_with(".tex") || f == "summary.json" {
            assert_eq!(
                a,
                std::fs::read(out2.join(f)).unwrap(),
                "{f} differs between 1 and 2 threads"
            );
        }
    }
    let runs = std::fs::read_to_string(out1.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 3 * 2 * 2, "{runs}");
    let s = json(&out1.join("summary.json"));
    let v = &s["variation"]["B12c"];
    assert_eq!(v["L"], serde_json::json!([16, 32]));
    assert_eq!(
        v["t0_max_over_seeds"],
        serde_json::json!([0.0, 0.0]),
        "constant init: flat path"
    );
    assert!(
        v["max_over_seeds"][1].as_f64().unwrap() > 0.0,
        "training moved the weights"
    );
    assert_eq!(s["steps"], serde_json::json!([14, 18]), "T_L = ⌈5 ln L⌉");
    let cs = s["comparisons"].as_array().unwrap();
    assert!(
        cs.iter().any(|c| c["quantity"].as_str().unwrap().contains("t = 0")),
        "{s}"
    );
    let md = std::fs::read_to_string(out1.join("table-4.3.md")).unwrap();
    assert!(md.contains("| L | B11t | 004 | dev. | B12c | 004 | dev. |"), "{md}");
}

#[test]
fn bad_input_is_located_and_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("\"B12c\", \"B11t\"", "\"B12x\", \"B11t\"", "unknown model `B12x`"),
        ("depths = [16, 32]", "depths = [32, 16]", "increasing"),
        ("depths = [16, 32]", "depths = [1, 32]", "2 ≤ L"),
        ("u_out = 0.77\n", "", "give u_out too"),
        ("seeds = 2", "seeds = 0", "1 ≤ seeds"),
        (
            "kind = \"c10k\"\nn = 300",
            "kind = \"moons\"\nn = 300",
            "expected kind = \"c10k\"",
        ),
        ("seeds = 2", "seeds = 2\nq = -1.0", "0 < q"),
        ("seeds = 2", "seeds = 2\nwidth = 3", "width"),
        (
            "u_in = 0.95\nu_out = 0.77\n",
            "fixed_embeddings_for = \"constant\"\n",
            "only with fixed embeddings",
        ),
        ("\"B12c\", \"B11t\"", "\"B12c\", \"B12c\"", "listed twice"),
        (
            "u_out = 0.77\n",
            "u_out = 0.77\n[model]\nfamily = \"resnet\"\ndim = 1\n",
            "remove [model]",
        ),
    ];
    for (from, to, msg) in cases {
        assert!(TINY.contains(from), "{from}");
        let sc = write(tmp.path(), "bad.toml", &TINY.replacen(from, to, 1));
        let o = lieflow(tmp.path(), &["validate", sc.to_str().unwrap()]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{to}: {e}");
        assert!(e.contains(msg), "{to}: expected `{msg}` in: {e}");
        assert!(e.contains("bad.toml"), "{to}: not located: {e}");
    }
}

/// LIEFLOW_FULL=1: the bundled `depth-limit-c10k-small.toml` (L ≤ 2^11, 3 seeds) reproduces the thesis' tables
/// within the acceptance tolerances of issue 14 — every comparison passes.
#[test]
fn small_scenario_reproduces_the_thesis_tables() {
    if std::env::var("LIEFLOW_FULL").map_or(true, |v| v != "1") {
        eprintln!("skipped: LIEFLOW_FULL=1 runs depth-limit-c10k-small.toml");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (o, out) = run_study(tmp.path(), &scenario("depth-limit-c10k-small.toml"), "small", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&out.join("summary.json"));
    let cs = s["comparisons"].as_array().unwrap();
    let failed: Vec<&serde_json::Value> = cs.iter().filter(|c| c["verdict"] != "pass").collect();
    assert!(
        failed.is_empty(),
        "{} of {} comparisons fail: {failed:#?}",
        failed.len(),
        cs.len()
    );
    for q in [
        "B11t 1-variation",
        "B12c 1-variation",
        "C11c 1-variation",
        "C23t 1-variation",
        "t = 0",
    ] {
        assert!(
            cs.iter().any(|c| c["quantity"].as_str().unwrap().contains(q)),
            "no comparison on {q}"
        );
    }
}
