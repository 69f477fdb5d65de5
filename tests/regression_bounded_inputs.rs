//! Issue 12, items 4, 6 and 7: sizes a scenario sets are checked against the machine before anything is allocated
//! (exit code 2 naming the field, the estimate and the limit), `validate` stays fast for any input, no input makes
//! lieflow panic or abort, times stay finite, and `--threads` is bounded.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// `lieflow validate` on `text`: exit code, stderr and how long it took.
fn validate(dir: &Path, text: &str) -> (Option<i32>, String, Duration) {
    let p = write(dir, "case.toml", text);
    let t0 = Instant::now();
    let o = lieflow(dir, &["validate", p.to_str().unwrap()]);
    (o.status.code(), stderr(&o), t0.elapsed())
}

fn bundled(name: &str) -> String {
    std::fs::read_to_string(scenario(name)).unwrap()
}

/// Replaces the first line starting with `key =` by `key = value`.
fn set(text: &str, key: &str, value: &str) -> String {
    let mut done = false;
    text.lines()
        .map(|l| {
            if !done && l.trim_start().starts_with(&format!("{key} =")) {
                done = true;
                format!("{key} = {value}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn huge_sizes_are_refused_in_validate_naming_the_field_and_the_limit() {
    let t = tempfile::tempdir().unwrap();
    let cases = [
        ("quickstart.toml", "n", "9223372036854775807", "data.n"),
        ("simulate-annuli.toml", "intervals", "1000000000000", "time.intervals"),
        (
            "neural-ode-fit.toml",
            "widths",
            "[4611686018427387904, 200]",
            "model.widths",
        ),
        ("lie-cuchiero5.toml", "dim", "4294967296", "lie.dim"),
        ("lie-random-features.toml", "dim", "65536", "lie.dim"),
        ("lie-random-features.toml", "count", "4294967296", "lie.fields.count"),
        ("lie-generic.toml", "points", "100000", "genericity.points"),
        ("quickstart.toml", "max_iters", "4294967296", "train.max_iters"),
        ("simulate-annuli.toml", "substeps", "4294967296", "time.substeps"),
    ];
    for (sc, key, value, field) in cases {
        // (simulate-annuli saves every step, so sub-steps cost memory.)
        let text = set(&bundled(sc), key, value);
        assert!(text.contains(&format!("{key} = {value}")), "{sc}: no `{key}` to set");
        let (code, err, took) = validate(t.path(), &text);
        assert_eq!(code, Some(2), "{sc} {key} = {value}: {err}");
        assert!(
            err.contains(&format!("field `{field}`")) && err.contains("line "),
            "{sc} {key}: {err}"
        );
        assert!(err.contains("memory") && err.contains("available"), "{sc} {key}: {err}");
        assert!(took < Duration::from_secs(2), "{sc} {key}: validate took {took:?}");
    }
}

#[test]
fn random_draws_in_validate_are_bounded() {
    let t = tempfile::tempdir().unwrap();
    // 7 features of 2000 × 2001 coefficients: 28 million draws is fine; 60 000 features is not (memory would be).
    let text = set(
        &set(&bundled("lie-random-features.toml"), "dim", "2"),
        "count",
        "60000000",
    );
    let (code, err, took) = validate(t.path(), &text);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("lie.fields.count") && err.contains("validate"), "{err}");
    assert!(took < Duration::from_secs(2));
}

#[test]
fn the_memory_limit_can_be_set_and_is_named() {
    let t = tempfile::tempdir().unwrap();
    let p = write(t.path(), "q.toml", &bundled("quickstart.toml"));
    let o = Command::new(env!("CARGO_BIN_EXE_lieflow"))
        .env("LIEFLOW_MEMORY_LIMIT", "64k")
        .args(["validate", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("LIEFLOW_MEMORY_LIMIT") && stderr(&o).contains("64.0 KiB"),
        "{}",
        stderr(&o)
    );
    let o = Command::new(env!("CARGO_BIN_EXE_lieflow"))
        .env("LIEFLOW_MEMORY_LIMIT", "lots")
        .args(["validate", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(lieflow(t.path(), &["validate", p.to_str().unwrap()]).status.success());
}

#[test]
fn deep_brackets_at_many_points_finish_and_serialise() {
    // Cuchiero's fields at N = 400 to depth 40: Witt's counts exceed 2^64 and used to panic at the end.
    let t = tempfile::tempdir().unwrap();
    let text = bundled("lie-cuchiero5.toml")
        .replace("n = 6,", "n = 400,")
        .replace("max_depth = 5", "max_depth = 40");
    let p = write(t.path(), "deep.toml", &text);
    let (o, out) = run_study(t.path(), &p, "deep", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&out.join("summary.json"));
    let counts = s["n_brackets_by_depth"].as_array().unwrap();
    assert_eq!(counts[0], 5);
    let last = counts
        .last()
        .unwrap()
        .as_str()
        .expect("beyond 2^64: an exact decimal string");
    assert_eq!(last, "227373675443229675292959000");
}

#[test]
fn point_ranges_and_limits_that_would_overflow_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let text = bundled("lie-cuchiero5.toml").replace("low = -1.0, high = 1.0", "low = -1e308, high = 1e308");
    let (code, err, _) = validate(t.path(), &text);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("lie.random_points") && err.contains("width"), "{err}");
    let text = set(
        &bundled("quickstart.toml"),
        "method",
        "\"lbfgs\"\nmemory = 4611686018427387904",
    );
    let (code, err, _) = validate(t.path(), &text);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("train.optimizer.memory"), "{err}");
    let text = set(&bundled("convergence-orders.toml"), "steps", "[10, 20, 4294967296]");
    let (code, err, _) = validate(t.path(), &text);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("convergence.steps"), "{err}");
}

#[test]
fn horizons_and_steps_are_bounded_so_times_stay_finite() {
    let t = tempfile::tempdir().unwrap();
    let base = bundled("simulate-annuli.toml");
    for (h, k, want) in [
        ("1e308", "20", "time.horizon"),
        ("inf", "20", "time.horizon"),
        ("1.5e12", "20", "time.horizon"),
        ("5e-324", "20", "time.intervals"),
        ("1e-300", "100000000", "time.intervals"),
    ] {
        let text = set(&set(&base, "horizon", h), "intervals", k);
        let (code, err, _) = validate(t.path(), &text);
        assert_eq!(code, Some(2), "horizon {h}, intervals {k}: {err}");
        assert!(err.contains(&format!("field `{want}`")), "{err}");
        assert!(
            !err.contains("0000000000000000000000"),
            "a number printed in full: {err}"
        );
    }
    // The largest horizon still runs and writes finite times.
    let text = set(&base, "horizon", "1e12");
    let p = write(t.path(), "h.toml", &text);
    let (o, out) = run_study(t.path(), &p, "h", &[]);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{}",
        stderr(&o)
    );
    if o.status.success() {
        let csv = std::fs::read_to_string(out.join("trajectories.csv")).unwrap();
        assert!(!csv.contains("inf") && !csv.contains("NaN"));
    }
}

#[test]
fn threads_are_bounded_and_a_large_count_is_quick() {
    let t = tempfile::tempdir().unwrap();
    let sc = scenario("simulate-annuli.toml");
    let t0 = Instant::now();
    let (o, _) = run_study(t.path(), &sc, "a", &["--threads", "100000"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("--threads") && e.contains("8 × the"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(2));
    let max = 8 * std::thread::available_parallelism().unwrap().get();
    let t0 = Instant::now();
    let (o, _) = run_study(t.path(), &sc, "b", &["--threads", &max.to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "{max} threads took {:?}",
        t0.elapsed()
    );
    let (o, _) = run_study(t.path(), &sc, "c", &["--threads", &(max + 1).to_string()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn oversized_scenario_and_data_files_are_refused_before_reading() {
    let t = tempfile::tempdir().unwrap();
    // A sparse file: 100 MiB long, nothing written.
    let big = std::fs::File::create(t.path().join("big.toml")).unwrap();
    big.set_len(100 << 20).unwrap();
    let o = lieflow(t.path(), &["validate", "big.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("MiB"), "{}", stderr(&o));
}
