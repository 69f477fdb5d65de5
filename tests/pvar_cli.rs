//! End-to-end tests of `lieflow pvar PATH.csv --p P [--json]` (each in its own temporary folder).

mod common;
use common::*;

/// g = 0, 3, 1, 4 at t = 0, 1, 2, 3. By hand (all partitions of 0..3):
/// p = 3: {0,3}: 4³ = 64; full: 3³ + 2³ + 3³ = 62; {0,1,3}: 27 + 1 = 28; {0,2,3}: 1 + 27 = 28 → 64^{1/3} = 4, {0, 3}.
/// p = 2: full 9 + 4 + 9 = 22 > {0,3}: 16 > {0,1,3}, {0,2,3}: 10 → √22, {0, 1, 2, 3}.
/// Hölder at α = 1/3: |Δg|/Δt^{1/3} over the pairs: (0,1) 3, (1,2) 2, (2,3) 3, (0,2) and (1,3) 2^{−1/3}, (0,3)
/// 4/3^{1/3} ≈ 2.77 → 3, first attained at (0, 1); bound 3 · 3^{1/3} ≈ 4.33 ≥ 4.
const HAND: &str = "t,x\n0,0\n1,3\n2,1\n3,4\n";

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_out(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_str(stdout(o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn hand_computed_path_value_and_partition() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "g.csv", HAND);
    let o = lieflow(tmp.path(), &["pvar", f.to_str().unwrap(), "--p", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("4 points in R^1 (columns: x)"), "{s}");
    assert!(s.contains("p-variation (p = 3): 4\n"), "{s}");
    assert!(
        s.contains("maximising partition (2 points; data rows from 0): 0 3\n"),
        "{s}"
    );
    assert!(
        s.contains("Hölder seminorm (α = 1/p = 0.3333333333333333): 3 between rows 0 and 1"),
        "{s}"
    );

    let j = json_out(&lieflow(
        tmp.path(),
        &["pvar", f.to_str().unwrap(), "--p", "2", "--json"],
    ));
    assert!((j["value"].as_f64().unwrap() - 22f64.sqrt()).abs() < 1e-14, "{j}");
    assert_eq!(j["partition"], serde_json::json!([0, 1, 2, 3]));
}

#[test]
fn json_has_the_documented_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "g.csv", HAND);
    let j = json_out(&lieflow(
        tmp.path(),
        &["pvar", f.to_str().unwrap(), "--p", "3", "--json"],
    ));
    assert!((j["value"].as_f64().unwrap() - 4.0).abs() < 1e-14, "{j}");
    assert_eq!(j["partition"], serde_json::json!([0, 3]));
    assert_eq!(j["p"], 3.0);
    assert_eq!(j["points"], 4);
    assert_eq!(j["dim"], 1);
    assert_eq!(j["columns"], serde_json::json!(["x"]));
    let h = &j["holder"];
    assert_eq!(h["value"], 3.0);
    assert_eq!(h["pair"], serde_json::json!([0, 1]));
    assert!((h["bound"].as_f64().unwrap() - 3.0 * 3f64.cbrt()).abs() < 1e-13, "{h}");
    assert!(h["bound"].as_f64().unwrap() >= j["value"].as_f64().unwrap());
    // Exactly one JSON object on stdout.
    assert_eq!(
        stdout(&lieflow(
            tmp.path(),
            &["pvar", f.to_str().unwrap(), "--p", "3", "--json"]
        ))
        .lines()
        .count(),
        1
    );
}

#[test]
fn the_t_column_is_not_part_of_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let with_t = write(tmp.path(), "a.csv", HAND);
    let without = write(tmp.path(), "b.csv", "x\n0\n3\n1\n4\n");
    let no_header = write(tmp.path(), "c.csv", "0\n3\n1\n4\n");
    for p in ["1", "2", "3", "3.7"] {
        let run =
            |f: &std::path::Path| json_out(&lieflow(tmp.path(), &["pvar", f.to_str().unwrap(), "--p", p, "--json"]));
        let (a, b, c) = (run(&with_t), run(&without), run(&no_header));
        assert_eq!((&a["value"], &a["partition"]), (&b["value"], &b["partition"]), "p={p}");
        assert_eq!((&a["value"], &a["partition"]), (&c["value"], &c["partition"]), "p={p}");
        assert!(b.get("holder").is_none() && c.get("holder").is_none());
    }
    // `t` in the middle of two components: the path is (x, y) ∈ R² — the unit square's corners, p = 3: the best
    // partitions {0,2,3} and {0,1,3} give 2^{3/2} + 1, so (1 + 2√2)^{1/3}.
    let mid = write(tmp.path(), "m.csv", "x,t,y\n0,0,0\n1,0.5,0\n1,1,1\n0,2,1\n");
    let j = json_out(&lieflow(
        tmp.path(),
        &["pvar", mid.to_str().unwrap(), "--p", "3", "--json"],
    ));
    assert_eq!(
        (&j["dim"], &j["columns"]),
        (&serde_json::json!(2), &serde_json::json!(["x", "y"]))
    );
    assert!(
        (j["value"].as_f64().unwrap() - (1.0 + 2f64.powf(1.5)).cbrt()).abs() < 1e-14,
        "{j}"
    );
}

/// Runs `lieflow pvar FILE --p P` on `text` and returns stderr after checking exit code 2.
fn fails(name: &str, text: Option<&str>, p: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let f = match text {
        Some(t) => write(tmp.path(), name, t),
        None => tmp.path().join(name),
    };
    let o = lieflow(tmp.path(), &["pvar", f.to_str().unwrap(), "--p", p]);
    assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
    assert!(o.stdout.is_empty(), "{name}: {}", stdout(&o));
    stderr(&o)
}

#[test]
fn bad_input_exits_2_naming_the_file_and_the_place() {
    let e = fails("missing.csv", None, "2");
    assert!(e.contains("missing.csv") && e.contains("cannot read the file"), "{e}");

    let e = fails("word.csv", Some("t,x\n0,1\n1,abc\n"), "2");
    assert!(
        e.contains("word.csv") && e.contains("row 3, column 2") && e.contains("found `abc`"),
        "{e}"
    );

    let e = fails("nan.csv", Some("t,x\n0,1\n1,NaN\n"), "2");
    assert!(
        e.contains("nan.csv: line 3:2: field `x`: expected a finite number, found NaN"),
        "{e}"
    );

    let e = fails("only_t.csv", Some("t\n0\n1\n"), "2");
    assert!(e.contains("only_t.csv") && e.contains("no path columns"), "{e}");

    let e = fails("ragged.csv", Some("t,x\n0,1\n1\n"), "2");
    assert!(
        e.contains("ragged.csv") && e.contains("row 3") && e.contains("expected 2 columns (as in row 2), found 1"),
        "{e}"
    );

    let e = fails("empty.csv", Some("t,x\n"), "2");
    assert!(e.contains("empty.csv") && e.contains("no data rows"), "{e}");

    let e = fails("time.csv", Some("t,x\n0,1\n1,2\n1,0\n"), "2");
    assert!(
        e.contains("time.csv: line 4:1: field `t`") && e.contains("strictly increasing"),
        "{e}"
    );

    let e = fails("header.csv", Some("t,x,y\n0,1\n1,2\n"), "2");
    assert!(
        e.contains("header.csv") && e.contains("names 3 columns, but the data rows have 2"),
        "{e}"
    );

    let good = "x\n0\n1\n";
    for p in ["0.5", "-1", "NaN", "inf"] {
        let e = fails("g.csv", Some(good), p);
        assert!(
            e.contains("--p") && e.contains("expected a finite number ≥ 1"),
            "p={p}: {e}"
        );
    }
}
