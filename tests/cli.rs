//! End-to-end tests of the `lieflow` binary (each in its own temporary folder).

mod common;
use common::*;

#[test]
fn simulate_writes_manifest_summary_csv_and_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let (o, out) = run_study(tmp.path(), &scenario("simulate-annuli.toml"), "q", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [
        "manifest.json",
        "summary.json",
        "trajectories.csv",
        "final.csv",
        "trajectories.png",
        "trajectories.svg",
    ] {
        let p = out.join(f);
        assert!(p.metadata().map(|m| m.len() > 0).unwrap_or(false), "missing {f}");
    }
    let m = json(&out.join("manifest.json"));
    assert_eq!(m["seed"], 7);
    assert!(m["scenario_text"].as_str().unwrap().contains("family = \"node\""));
    assert!(m["wall_time_s"].as_f64().unwrap() > 0.0);
    let png = std::fs::read(out.join("trajectories.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    // No temporary folders are left next to the output.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn convergence_orders_match_the_schemes() {
    let tmp = tempfile::tempdir().unwrap();
    let (o, out) = run_study(tmp.path(), &scenario("convergence-orders.toml"), "c", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&out.join("summary.json"));
    let euler = s["orders"]["euler"].as_f64().unwrap();
    let rk4 = s["orders"]["rk4"].as_f64().unwrap();
    assert!((euler - 1.0).abs() <= 0.1, "euler order {euler}");
    assert!((rk4 - 4.0).abs() <= 0.2, "rk4 order {rk4}");
    for p in ["linear", "logistic"] {
        for ext in ["pdf", "svg", "png"] {
            assert!(
                out.join(format!("convergence-{p}.{ext}")).exists(),
                "convergence-{p}.{ext}"
            );
        }
    }
}

#[test]
fn same_seed_gives_identical_csv_for_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for t in ["1", "2"] {
        let (o, out) = run_study(
            tmp.path(),
            &scenario("simulate-annuli.toml"),
            &format!("t{t}"),
            &["--threads", t, "--seed", "11"],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        outs.push(out);
    }
    for f in ["trajectories.csv", "final.csv", "controls.csv", "summary.json"] {
        assert_eq!(
            std::fs::read(outs[0].join(f)).unwrap(),
            std::fs::read(outs[1].join(f)).unwrap(),
            "{f} differs"
        );
    }
    // And the seed matters.
    let other = tmp.path().join("other");
    assert!(lieflow(
        tmp.path(),
        &[
            "run",
            scenario("simulate-annuli.toml").to_str().unwrap(),
            "--out",
            other.to_str().unwrap(),
            "--quiet"
        ]
    )
    .status
    .success());
    assert_ne!(
        std::fs::read(outs[0].join("final.csv")).unwrap(),
        std::fs::read(other.join("final.csv")).unwrap()
    );
}

const GOOD: &str = "study = \"simulate\"\n[model]\nfamily = \"node\"\ndim = 2\n[time]\nhorizon = 1.0\nintervals = 4\n[controls]\nsource = \"random\"\n[data]\nkind = \"points\"\npoints = [[0.0, 1.0], [1.0, 0.5]]\n";

fn bad_input(text: &str, expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "bad.toml", text);
    let (o, _) = run_study(tmp.path(), &p, "out", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("bad.toml"), "{err}");
    for e in expect {
        assert!(err.contains(e), "expected `{e}` in: {err}");
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "output left behind: {left:?}");
}

#[test]
fn the_good_scenario_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "good.toml", GOOD);
    let o = lieflow(tmp.path(), &["run", p.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(tmp.path().join("output/good/summary.json").exists());
}

#[test]
fn malformed_toml_is_rejected() {
    bad_input(&GOOD.replace("horizon = 1.0", "horizon = = 1.0"), &["line 6"]);
}

#[test]
fn unknown_key_is_rejected() {
    bad_input(
        &GOOD.replace("intervals = 4", "intervals = 4\nlayers = 3"),
        &["layers", "line 8"],
    );
}

#[test]
fn dimension_mismatch_is_rejected() {
    bad_input(&GOOD.replace("dim = 2", "dim = 3"), &["model.dim", "R^3", "R^2"]);
}

#[test]
fn nonpositive_horizon_is_rejected() {
    bad_input(
        &GOOD.replace("horizon = 1.0", "horizon = 0.0"),
        &["time.horizon", "> 0"],
    );
    bad_input(&GOOD.replace("horizon = 1.0", "horizon = -2.0"), &["time.horizon"]);
}

#[test]
fn nan_in_data_is_rejected() {
    bad_input(&GOOD.replace("[1.0, 0.5]", "[1.0, nan]"), &["NaN"]);
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "x.csv", "0.5,1\nnan,2\n");
    let text = GOOD.replace(
        "kind = \"points\"\npoints = [[0.0, 1.0], [1.0, 0.5]]",
        "kind = \"csv\"\ninputs = \"x.csv\"",
    );
    let p = write(tmp.path(), "bad.toml", &text);
    let o = lieflow(tmp.path(), &["run", p.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("x.csv") && stderr(&o).contains("row 2"),
        "{}",
        stderr(&o)
    );
    assert!(!tmp.path().join("output").exists());
}

#[test]
fn a_missing_data_file_is_bad_input() {
    let text = GOOD.replace(
        "kind = \"points\"\npoints = [[0.0, 1.0], [1.0, 0.5]]",
        "kind = \"csv\"\ninputs = \"nope.csv\"",
    );
    bad_input(&text, &["nope.csv", "data.inputs", "cannot read"]);
}

#[test]
fn unknown_study_is_rejected() {
    bad_input(&GOOD.replace("\"simulate\"", "\"simulat\""), &["study", "simulate"]);
}

#[test]
fn blow_up_reports_point_and_time_with_exit_1() {
    // x' = u x² blows up at t = 1/x0: the point starting at x0 = 4 goes first, before T = 1.
    let text = "study = \"simulate\"\n[model]\nfamily = \"affine\"\ndim = 1\n[[model.fields]]\nkind = \"polynomial\"\nterms = [{ component = 0, exponents = [2], coef = 1.0 }]\n[time]\nhorizon = 1.0\nintervals = 400\n[solver]\nscheme = \"euler\"\n[controls]\nsource = \"constant\"\nvalue = [1.0]\n[data]\nkind = \"points\"\npoints = [[0.1], [4.0], [0.2]]\n";
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "blow.toml", text);
    let o = lieflow(tmp.path(), &["run", p.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    // Points are named 1-based, like CSV rows: x0 = 4 is the second point.
    assert!(err.contains("point 2") && err.contains("t = "), "{err}");
    // A failed simulation leaves neither the result folder nor a temporary one.
    assert!(!tmp.path().join("output/blow").exists());
    let left: Vec<_> = std::fs::read_dir(tmp.path().join("output"))
        .unwrap()
        .filter_map(|e| e.ok())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn validate_and_list() {
    let tmp = tempfile::tempdir().unwrap();
    let o = lieflow(
        tmp.path(),
        &["validate", scenario("simulate-annuli.toml").to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lieflow(Path::new(env!("CARGO_MANIFEST_DIR")), &["list"]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("quickstart.toml") && s.contains("convergence-orders.toml"),
        "{s}"
    );
    assert!(!s.contains("INVALID"), "{s}");
}

use std::path::Path;

/// `lieflow list | head -1`: the reader closes the pipe early; lieflow stops quietly with exit 0 instead of
/// panicking on EPIPE.
#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_lieflow"))
        .args(["grad", scenario("quickstart.toml").to_str().unwrap(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is written
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
}
