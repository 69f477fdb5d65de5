//! Published results reproduced end to end (one test per result; the figure and its source are named in each).

mod common;
use common::*;

/// Seed 002 §22.6.1 ("Example 1: ODE"): a neural ODE with an MLP 1→200→200→1 (ReLU) field, Euler dt = 0.01,
/// RMSprop with the book's step schedule, 20 000 iterations, fitted to u' = −u − u², u(0) = 1. The book reports a
/// final loss of 2.93e−05 from one float32 run with PyTorch's random initialisation. We run the same objective in
/// f64 from a seeded PyTorch-style initialisation; the published figure is one noisy run, so the test requires
/// the reproduction to reach it (final loss ≤ 2.93e−05) and to have trained (loss down by ≥ 100× from the start).
/// Measured here: 1.33e−7 (seed 1).
#[test]
fn neural_ode_fit_reaches_the_books_final_loss() {
    let tmp = tempfile::tempdir().unwrap();
    // The bundled scenario also trains seeds 2 and 3 (`spread_seeds`, checked by the all-scenarios step of
    // .ci/run); here seed 1 alone keeps the suite fast. Data paths are made absolute for the copy.
    let text = std::fs::read_to_string(scenario("neural-ode-fit.toml"))
        .unwrap()
        .replace("spread_seeds = [2, 3]", "")
        .replace("\"data/", &format!("\"{}/", scenario("data").display()));
    let p = write(tmp.path(), "fit.toml", &text);
    let (o, out) = run_study(tmp.path(), &p, "fit", &["--figures", "column"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&out.join("summary.json"));
    let (first, last) = (s["initial_loss"].as_f64().unwrap(), s["final_loss"].as_f64().unwrap());
    assert_eq!(s["iterations"], 20000);
    assert!(last <= 2.93e-5, "final loss {last:e} above the published 2.93e-05");
    assert!(last > 0.0 && last < first / 100.0, "initial {first:e}, final {last:e}");
    // The published value is stated with source, rule and verdict.
    let c = &s["comparisons"][0];
    assert_eq!(c["expected"], 2.93e-5);
    assert!(c["source"].as_str().unwrap().contains("002 §22.6.1"), "{c}");
    assert_eq!(c["verdict"], "pass");
    assert_eq!(c["measured"], s["final_loss"]);
    // Learned vs target trajectory with the pointwise error; history with the split and the error measure.
    for f in ["fit.pdf", "fit-error.pdf", "loss.pdf"] {
        assert!(out.join(f).exists(), "missing {f}");
    }
    let hist = std::fs::read_to_string(out.join("history.csv")).unwrap();
    assert!(
        hist.starts_with("iteration,J,terminal,running,regularizer,max_running_error,"),
        "{hist:.200}"
    );
    // The book compares v_n with u_{n−1} (its index shift, see the scenario), so the pointwise error is of the
    // order of one step's change of u (≈ h·|u′(0)| = 0.02), not of the loss.
    assert!(s["max_running_error"].as_f64().unwrap() < 0.05, "{s}");
}
