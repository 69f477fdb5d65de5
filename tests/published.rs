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
    let (o, out) = run_study(tmp.path(), &scenario("neural-ode-fit.toml"), "fit", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&out.join("summary.json"));
    let (first, last) = (s["initial_loss"].as_f64().unwrap(), s["final_loss"].as_f64().unwrap());
    assert_eq!(s["iterations"], 20000);
    assert!(last <= 2.93e-5, "final loss {last:e} above the published 2.93e-05");
    assert!(last > 0.0 && last < first / 100.0, "initial {first:e}, final {last:e}");
}
