//! Convergence-order measurement on problems with exact solutions (SPEC §7), shared by the `convergence` study and
//! the tests (ARCHITECTURE habit 2: one harness checks every registered scheme).
//!
//! - `linear`: x' = A x with A = [[−0.5, 2], [−2, −0.5]] (a damped rotation), x(0) = (1, 0.5), T = 1;
//!   exact X(T) = exp(T A) x(0).
//! - `logistic`: u' = −u − u², u(0) = 1 on [0, 1]; exact u(t) = 1 / (2eᵗ − 1), u(1) = 0.2254003… (seed 002
//!   §22.6.1).
//!
//! Both are written as control-affine fields with the constant control u ≡ 1, so they run through the same engine
//! as every scenario.

use super::fit::{order, LineFit};
use crate::control::{PiecewiseConstant, TimeGrid};
use crate::field::affine::{AffineField, Basis, Monomial};
use crate::integrate::{simulate, SaveAt, SchemeKind, Solver};
use crate::Result;
use nalgebra::DMatrix;

/// A test problem with a known exact final state.
pub struct ExactProblem {
    /// `linear` or `logistic`.
    pub name: &'static str,
    /// The field (d = 1, control ≡ 1).
    pub field: AffineField,
    /// Initial state.
    pub x0: Vec<f64>,
    /// Horizon.
    pub horizon: f64,
    /// Exact X(T).
    pub exact: Vec<f64>,
}

/// The damped-rotation matrix of the `linear` problem.
pub fn linear_matrix() -> DMatrix<f64> {
    DMatrix::from_row_slice(2, 2, &[-0.5, 2.0, -2.0, -0.5])
}

/// Look a problem up by name.
pub fn problem(name: &str) -> Option<ExactProblem> {
    match name {
        "linear" => {
            let a = linear_matrix();
            let x0 = vec![1.0, 0.5];
            let exact = (a.clone() * 1.0).exp() * nalgebra::DVector::from_column_slice(&x0);
            Some(ExactProblem {
                name: "linear",
                field: AffineField::new(2, vec![Basis::Linear { a }]).expect("2×2 linear field"),
                x0,
                horizon: 1.0,
                exact: exact.as_slice().to_vec(),
            })
        }
        "logistic" => {
            let terms = vec![
                Monomial {
                    component: 0,
                    exponents: vec![1],
                    coef: -1.0,
                },
                Monomial {
                    component: 0,
                    exponents: vec![2],
                    coef: -1.0,
                },
            ];
            Some(ExactProblem {
                name: "logistic",
                field: AffineField::new(1, vec![Basis::Polynomial { terms }]).expect("scalar polynomial field"),
                x0: vec![1.0],
                horizon: 1.0,
                exact: vec![1.0 / (2.0 * 1f64.exp() - 1.0)],
            })
        }
        _ => None,
    }
}

/// Names of the available problems.
pub const PROBLEMS: [&str; 2] = ["linear", "logistic"];

/// Max-norm error at T of `scheme` with each number of steps.
pub fn errors(p: &ExactProblem, scheme: SchemeKind, steps: &[usize]) -> Result<Vec<f64>> {
    steps
        .iter()
        .map(|&k| {
            let grid = TimeGrid {
                horizon: p.horizon,
                intervals: k,
            };
            let control = PiecewiseConstant::constant(grid, &[1.0]);
            let tr = simulate(&p.field, &control, &Solver::fixed(scheme, 1), &p.x0, &SaveAt::Final)?;
            Ok(tr
                .final_states()
                .iter()
                .zip(&p.exact)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max))
        })
        .collect()
}

/// Fitted order of `scheme` on `p` over `steps` (slope of log err against log h).
pub fn measured_order(p: &ExactProblem, scheme: SchemeKind, steps: &[usize]) -> Result<(Vec<f64>, Option<LineFit>)> {
    let errs = errors(p, scheme, steps)?;
    let hs: Vec<f64> = steps.iter().map(|&k| p.horizon / k as f64).collect();
    let fit = order(&hs, &errs);
    Ok((errs, fit))
}
