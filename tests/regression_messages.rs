//! Issue 12, items 10–12: messages name the scenario field and line (also for errors inside a CSV file), points
//! and rows are counted from 1, types are in the scenario's words, flags are named once, columns point at the
//! value; output CSVs carry no NaN placeholders; `lieflow list` works from any folder.

mod common;
use common::*;

const BASE: &str = "study = \"simulate\"\n[model]\nfamily = \"node\"\ndim = 2\n[time]\nhorizon = 1.0\nintervals = 4\n\
                    [controls]\nsource = \"random\"\n[data]\nkind = \"points\"\npoints = [[0.0, 1.0], [1.0, 0.5]]\n";

fn refused(dir: &std::path::Path, text: &str) -> String {
    let p = write(dir, "s.toml", text);
    let o = lieflow(dir, &["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    stderr(&o)
}

#[test]
fn an_error_inside_a_data_csv_names_the_scenario_field_and_line() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "x.csv", "a,b\n1,2\n3,abc\n");
    let text = BASE.replace(
        "kind = \"points\"\npoints = [[0.0, 1.0], [1.0, 0.5]]",
        "kind = \"csv\"\ninputs = \"x.csv\"",
    );
    let e = refused(t.path(), &text);
    for want in [
        "s.toml",
        "line 12:10",
        "data.inputs",
        "x.csv",
        "row 3, column 2",
        "`abc`",
    ] {
        assert!(e.contains(want), "`{want}` missing: {e}");
    }
    write(t.path(), "y.csv", "1\nnan\n");
    write(t.path(), "x.csv", "1,2\n3,4\n");
    let text = text.replace("inputs = \"x.csv\"", "inputs = \"x.csv\"\ntargets = \"y.csv\"");
    let e = refused(t.path(), &text);
    assert!(
        e.contains("data.targets") && e.contains("y.csv") && e.contains("row 2"),
        "{e}"
    );
}

#[test]
fn an_inline_non_finite_point_is_located_and_counted_from_one() {
    let t = tempfile::tempdir().unwrap();
    let e = refused(t.path(), &BASE.replace("[1.0, 0.5]", "[1.0, nan]"));
    // Located at the value itself (line 12, column 29), counted from 1 in words.
    assert!(e.contains("field `data.points`") && e.contains("line 12:29"), "{e}");
    assert!(e.contains("point 2, coordinate 2"), "{e}");
    let e = refused(
        t.path(),
        &BASE.replace(
            "source = \"random\"",
            "source = \"constant\"\nvalue = [1, 2, 3, 4, 5, inf]",
        ),
    );
    assert!(e.contains("field `controls.value`") && e.contains("entry 6"), "{e}");
}

#[test]
fn types_are_named_in_the_scenarios_words() {
    let t = tempfile::tempdir().unwrap();
    let e = refused(t.path(), &BASE.replace("intervals = 4", "intervals = -1"));
    assert!(e.contains("non-negative integer") && !e.contains("usize"), "{e}");
    let e = refused(t.path(), &BASE.replace("dim = 2", "dim = 2.5"));
    // [model] is read by its family's own type, so the key itself is named.
    assert!(
        !e.contains("usize") && e.contains("field `model.dim`") && e.contains("2.5"),
        "{e}"
    );
}

#[test]
fn semantic_errors_point_at_the_value() {
    let t = tempfile::tempdir().unwrap();
    let e = refused(t.path(), &BASE.replace("horizon = 1.0", "horizon =   -2.0"));
    assert!(e.contains("line 6:13") && e.contains("time.horizon"), "{e}");
}

#[test]
fn flags_are_named_once_and_seeds_say_what_they_accept() {
    let t = tempfile::tempdir().unwrap();
    let p = write(t.path(), "s.toml", BASE);
    let o = lieflow(t.path(), &["run", p.to_str().unwrap(), "--threads", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).matches("--threads").count(), 1, "{}", stderr(&o));
    let o = lieflow(t.path(), &["run", p.to_str().unwrap(), "--seed", "-1"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("seeds are whole numbers from 0") && !e.contains("-- -1"),
        "{e}"
    );
    let o = lieflow(t.path(), &["bench", p.to_str().unwrap(), "--reps", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).matches("--reps").count(), 1, "{}", stderr(&o));
}

#[test]
fn output_csvs_have_no_nan_placeholders() {
    let t = tempfile::tempdir().unwrap();
    // Unlabelled points: no `label` column.
    let p = write(t.path(), "s.toml", BASE);
    let (o, out) = run_study(t.path(), &p, "u", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["trajectories.csv", "final.csv"] {
        let csv = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(
            !csv.lines().next().unwrap().contains("label") && !csv.contains("NaN"),
            "{f}: {csv}"
        );
    }
    // Labelled data keep it.
    let (o, out) = run_study(t.path(), &scenario("simulate-annuli.toml"), "l", &[]);
    assert!(o.status.success());
    assert!(std::fs::read_to_string(out.join("final.csv"))
        .unwrap()
        .starts_with("point,label,"));
    // ranks.csv of tanh features (no exact polynomial form): no exact ranks, empty cells.
    let text = std::fs::read_to_string(scenario("lie-random-features.toml"))
        .unwrap()
        .replace("seed = 7          #", "activation = \"tanh\"\nseed = 7          #");
    let rf = write(t.path(), "rf.toml", &text);
    let (o, out) = run_study(t.path(), &rf, "r", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ranks = std::fs::read_to_string(out.join("ranks.csv")).unwrap();
    assert!(!ranks.contains("NaN"), "{ranks}");
    assert!(ranks.lines().nth(1).unwrap().contains(",,"), "{ranks}");
}

#[test]
fn list_works_from_any_folder() {
    let t = tempfile::tempdir().unwrap();
    let o = lieflow(t.path(), &["list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("quickstart.toml") && s.contains("lie-generic.toml") && !s.contains("INVALID"),
        "{s}"
    );
    // Absolute paths from elsewhere, so they can be run as printed.
    let first = s.split_whitespace().next().unwrap();
    assert!(std::path::Path::new(first).is_file(), "{first}");
    write(t.path(), "mine.toml", BASE);
    let o = lieflow(t.path(), &["list", "--dir", "."]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("mine.toml"));
}
