//! Issue 12, item 5: every optimiser detects divergence — a non-finite loss or gradient, or the loss above
//! 10³ × its start for 10 consecutive iterations — and the run exits 1 naming the rule, with history.csv and
//! error.json kept.

mod common;
use common::*;

fn quickstart_with(lr: &str, method: &str) -> String {
    std::fs::read_to_string(scenario("quickstart.toml"))
        .unwrap()
        .replace("lr = 0.05", &format!("lr = {lr}"))
        .replace("method = \"adam\"", &format!("method = \"{method}\""))
}

#[test]
fn adam_with_a_huge_learning_rate_on_quickstart_exits_1_naming_the_rule() {
    let t = tempfile::tempdir().unwrap();
    let p = write(t.path(), "q.toml", &quickstart_with("1e6", "adam"));
    let (o, out) = run_study(t.path(), &p, "q", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("diverged at iteration") && e.contains("consecutive iterations"),
        "{e}"
    );
    assert!(e.contains("[train.divergence]"), "the rule's settings are named: {e}");
    let err = json(&out.join("error.json"));
    assert_eq!(err["kind"], "diverged");
    assert!(err["rule"].as_str().unwrap().contains("10 consecutive"), "{err}");
    let it = err["iteration"].as_u64().unwrap();
    let hist = std::fs::read_to_string(out.join("history.csv")).unwrap();
    assert_eq!(
        hist.lines().count() as u64,
        it + 2,
        "header plus iterations 0..=k: {hist}"
    );
    let s = json(&out.join("summary.json"));
    assert_eq!(s["stop_reason"], "diverged");
    assert_eq!(s["diverged_at_iteration"], it);
    assert!(s["divergence_rule"].as_str().unwrap().contains("1e3"), "{s}");
}

#[test]
fn every_first_order_method_and_the_rule_settings_are_covered() {
    let t = tempfile::tempdir().unwrap();
    for (method, lr) in [("gd", "1e6"), ("momentum", "1e6"), ("rmsprop", "1e6")] {
        let p = write(t.path(), &format!("{method}.toml"), &quickstart_with(lr, method));
        let (o, out) = run_study(t.path(), &p, method, &[]);
        assert_eq!(o.status.code(), Some(1), "{method}: {}", stderr(&o));
        assert_eq!(json(&out.join("error.json"))["kind"], "diverged", "{method}");
    }
    // A generous rule lets the same run go on to its budget; a bad rule is refused up front.
    let text = quickstart_with("1e6", "adam").replace(
        "[train.optimizer]",
        "[train.divergence]\nfactor = 1e300\n[train.optimizer]",
    );
    let p = write(t.path(), "loose.toml", &text);
    let (o, _) = run_study(t.path(), &p, "loose", &[]);
    assert!(
        o.status.code() == Some(0) || stderr(&o).contains("not finite"),
        "{}",
        stderr(&o)
    );
    let text = quickstart_with("0.05", "adam")
        .replace("[train.optimizer]", "[train.divergence]\nwindow = 0\n[train.optimizer]");
    let p = write(t.path(), "bad.toml", &text);
    let o = lieflow(t.path(), &["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("train.divergence"), "{}", stderr(&o));
}

#[test]
fn a_healthy_run_is_not_flagged() {
    let t = tempfile::tempdir().unwrap();
    let (o, out) = run_study(t.path(), &scenario("quickstart.toml"), "q", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&out.join("summary.json"))["stop_reason"], "MaxIters");
}
