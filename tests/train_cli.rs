//! The trainer end to end: `lieflow run` on training scenarios, `grad`, `gradcheck`, bad input and divergence.

mod common;
use common::*;
use std::path::Path;

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/data/node_n2048_k100")
        .join(name)
}

/// Rows of a numeric CSV file (header skipped), read with the library's own reader.
fn read_csv(p: &Path) -> Vec<Vec<f64>> {
    let (v, _, cols) = lieflow::output::table::read_matrix_csv(p).unwrap();
    v.chunks(cols).map(<[f64]>::to_vec).collect()
}

#[test]
fn quickstart_trains_and_writes_its_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let (o, out) = run_study(tmp.path(), &scenario("quickstart.toml"), "q", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [
        "manifest.json",
        "summary.json",
        "history.csv",
        "controls.csv",
        "final.csv",
        "loss.png",
        "loss.svg",
        "trajectories.png",
        "trajectories.svg",
    ] {
        assert!(
            out.join(f).metadata().map(|m| m.len() > 0).unwrap_or(false),
            "missing {f}"
        );
    }
    let s = json(&out.join("summary.json"));
    let (first, last) = (s["initial_loss"].as_f64().unwrap(), s["final_loss"].as_f64().unwrap());
    assert!(last < 0.5 * first, "training did not reduce the loss: {first} → {last}");
    assert!(s["accuracy"].as_f64().unwrap() > 0.8, "{s}");
    // The trained controls load back.
    let o = lieflow(
        tmp.path(),
        &[
            "grad",
            scenario("quickstart.toml").to_str().unwrap(),
            "--controls",
            out.join("controls.csv").to_str().unwrap(),
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let g: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let relative = (g["loss"].as_f64().unwrap() - last).abs() / last;
    assert!(relative < 1e-12, "reloaded controls give loss {} vs {last}", g["loss"]);
}

/// Acceptance: loss 5.478332832926937 and the jax_scan gradient (peer benchmark, exact gradient of the same
/// discrete problem) to ≤ 1e-10 relative in max-norm.
#[test]
fn grad_reproduces_the_peer_benchmark_loss_and_gradient() {
    let tmp = tempfile::tempdir().unwrap();
    let o = lieflow(
        tmp.path(),
        &["grad", scenario("bench-node-grad.toml").to_str().unwrap(), "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let g: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let loss = g["loss"].as_f64().unwrap();
    assert!((loss - 5.478332832926937).abs() <= 1e-12 * loss, "loss {loss}");
    let reference = read_csv(&data("grad_jax_scan.csv"));
    let ours: Vec<Vec<f64>> = serde_json::from_value(g["gradient"].clone()).unwrap();
    assert_eq!(ours.len(), 100);
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (a, b) in ours.iter().zip(&reference) {
        assert_eq!(a.len(), 6);
        for (x, y) in a.iter().zip(b) {
            num = num.max((x - y).abs());
            den = den.max(y.abs());
        }
    }
    assert!(num / den <= 1e-10, "gradient max-norm relative error {:e}", num / den);
}

const SMALL: &str = r#"study = "train"
seed = 3
[model]
family = "node"
dim = 2
[time]
horizon = 1.0
intervals = 6
[controls]
source = "random"
scale = 0.5
[data]
kind = "moons"
n = 40
noise = 0.05
[objective]
loss = "cross_entropy"
[objective.readout]
kind = "affine"
outputs = 2
[train]
max_iters = 20
lr = 0.05
[train.optimizer]
method = "adam"
"#;

#[test]
fn gradcheck_passes_on_a_classification_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "s.toml", SMALL);
    let o = lieflow(tmp.path(), &["gradcheck", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["pass"], true);
    assert!(r["blocks"]["controls"]["discrete_vs_fd"].as_f64().unwrap() < 1e-6);
    assert!(r["blocks"]["readout"]["discrete_vs_fd"].as_f64().unwrap() < 1e-6);
    let gap = r["blocks"]["controls"]["continuous_vs_discrete"].as_f64().unwrap();
    assert!(gap > 0.0 && gap < 1e-2, "continuous-vs-discrete gap {gap}");
}

fn expect_input_error(args: &[&str], dir: &Path, needles: &[&str]) {
    let o = lieflow(dir, args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    for n in needles {
        assert!(stderr(&o).contains(n), "expected `{n}` in {}", stderr(&o));
    }
}

#[test]
fn bad_training_input_is_rejected_with_the_field_named() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // A controls file with the wrong shape.
    let c = write(d, "c.csv", "1,2,3\n4,5,6\n");
    let p = write(d, "s.toml", SMALL);
    expect_input_error(
        &["grad", p.to_str().unwrap(), "--controls", c.to_str().unwrap()],
        d,
        &["c.csv", "--controls", "6 rows"],
    );
    // A loss that does not fit the data: logistic needs one readout value.
    let p = write(
        d,
        "l.toml",
        &SMALL.replace("loss = \"cross_entropy\"", "loss = \"logistic\""),
    );
    expect_input_error(
        &["run", p.to_str().unwrap(), "--quiet"],
        d,
        &["l.toml", "objective.readout", "logistic"],
    );
    // A non-finite learning rate.
    let p = write(d, "n.toml", &SMALL.replace("lr = 0.05", "lr = nan"));
    expect_input_error(&["run", p.to_str().unwrap(), "--quiet"], d, &["n.toml", "train.lr"]);
    assert!(!d.join("output").exists(), "bad input left an output folder");
}

#[test]
fn a_diverging_run_exits_1_and_keeps_its_history() {
    let tmp = tempfile::tempdir().unwrap();
    // Gradient descent with an absurd step on x' = u x² (blow-up in finite time once u grows).
    let text = r#"study = "train"
[model]
family = "affine"
dim = 1
[[model.fields]]
kind = "polynomial"
terms = [{ component = 0, exponents = [2], coef = 1.0 }]
[time]
horizon = 1.0
intervals = 4
[solver]
scheme = "rk4"
[controls]
source = "constant"
value = [0.1]
[data]
kind = "points"
points = [[0.5], [0.8]]
targets = [[3.0], [4.0]]
[objective]
loss = "squared"
[train]
max_iters = 50
lr = 1e3
[train.optimizer]
method = "gd"
"#;
    let p = write(tmp.path(), "div.toml", text);
    let (o, out) = run_study(tmp.path(), &p, "div", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let hist = read_csv(&out.join("history.csv"));
    assert!(!hist.is_empty(), "history lost");
    assert!(out.join("error.json").exists());
    let s = json(&out.join("summary.json"));
    assert_eq!(s["stop_reason"], "diverged");
}
