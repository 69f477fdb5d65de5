//! One harness checks every registered fixed-step scheme's order against exact solutions (ARCHITECTURE habit 2),
//! with a ±0.1 tolerance; plus the published error table of SPEC §7 and the adaptive reference solver.

use lieflow::analysis::order::{errors, measured_order, problem, PROBLEMS};
use lieflow::control::{PiecewiseConstant, Regularity, TimeGrid};
use lieflow::integrate::{simulate, SaveAt, SchemeKind, Solver};

const STEPS: [usize; 5] = [10, 20, 40, 80, 160];

#[test]
fn every_fixed_scheme_converges_at_its_declared_order() {
    for &scheme in &SchemeKind::fixed_all() {
        let declared = scheme.fixed().unwrap().order(Regularity::Smooth);
        for name in PROBLEMS {
            let p = problem(name).unwrap();
            let (errs, fit) = measured_order(&p, scheme, &STEPS).unwrap();
            let fit = fit.unwrap();
            assert!(
                (fit.slope - declared).abs() <= 0.1,
                "{} on {name}: measured order {:.3} (errors {errs:?}), declared {declared}",
                scheme.name(),
                fit.slope
            );
        }
    }
}

/// SPEC §7 (seed 002 §22.6.1): u' = −u − u², u(0) = 1, errors at T = 1 with 10/20/40/80 steps.
#[test]
fn logistic_errors_match_the_published_table() {
    let p = problem("logistic").unwrap();
    // SPEC §7 prints u(1) = 0.2254003; the exact 1/(2e − 1) = 0.22539967…, so the printed value is good to 1e-6.
    assert!((p.exact[0] - 0.2254003).abs() < 1e-6, "u(1) = {}", p.exact[0]);
    assert!((p.exact[0] - 1.0 / (2.0 * std::f64::consts::E - 1.0)).abs() < 1e-16);
    let published_euler = [2.88e-2, 1.40e-2, 6.9e-3, 3.4e-3];
    let published_rk4 = [2.2e-6, 1.3e-7, 8.2e-9, 5.1e-10];
    let steps = [10, 20, 40, 80];
    for (scheme, table) in [(SchemeKind::Euler, published_euler), (SchemeKind::Rk4, published_rk4)] {
        let errs = errors(&p, scheme, &steps).unwrap();
        for (e, want) in errs.iter().zip(table) {
            // The table prints 2–3 significant digits: agree to 5 %.
            assert!(
                (e / want - 1.0).abs() < 0.05,
                "{}: {e:e} vs published {want:e}",
                scheme.name()
            );
        }
    }
}

#[test]
fn adaptive_reference_meets_its_tolerance_and_tightens_with_it() {
    for name in PROBLEMS {
        let p = problem(name).unwrap();
        let grid = TimeGrid {
            horizon: p.horizon,
            intervals: 3,
        };
        let control = PiecewiseConstant::constant(grid, &[1.0]);
        let mut prev = f64::INFINITY;
        for tol in [1e-5, 1e-8, 1e-11] {
            let solver = Solver {
                scheme: SchemeKind::Dopri5,
                substeps: 1,
                rtol: tol,
                atol: tol,
            };
            let tr = simulate(&p.field, &control, &solver, &p.x0, &SaveAt::Final).unwrap();
            let err = tr
                .final_states()
                .iter()
                .zip(&p.exact)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(err < 50.0 * tol, "{name}: tol {tol:e} gave error {err:e}");
            assert!(err < prev || err < 1e-14, "{name}: error did not shrink with tolerance");
            prev = err;
        }
    }
}

#[test]
fn save_times_between_grid_points_use_a_partial_step() {
    // x' = A x saved at t = 0.37 with RK4 on a coarse grid: the partial step keeps order 4 accuracy.
    let p = problem("linear").unwrap();
    let grid = TimeGrid {
        horizon: 1.0,
        intervals: 40,
    };
    let control = PiecewiseConstant::constant(grid, &[1.0]);
    let tr = simulate(
        &p.field,
        &control,
        &Solver::fixed(SchemeKind::Rk4, 1),
        &p.x0,
        &SaveAt::Times(vec![0.0, 0.37, 1.0]),
    )
    .unwrap();
    let a = lieflow::analysis::order::linear_matrix();
    let exact = (a * 0.37).exp() * nalgebra::DVector::from_column_slice(&p.x0);
    for c in 0..2 {
        assert!((tr.state(0, 1)[c] - exact[c]).abs() < 1e-7);
    }
    assert_eq!(tr.state(0, 0), &p.x0[..]);
}
