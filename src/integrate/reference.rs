//! Adaptive reference solver: Dormand–Prince 5(4) from `ode_solvers`, restarted at every control switch (and at
//! every save time) so the frozen control u_k is never looked up across an interval boundary (SPEC §1–2).
//! Each point is integrated on its own with its own step-size control (rtol, atol). A step-size collapse, the step
//! limit or a non-finite state is reported with the point and the time it happened.

use super::Solver;
use crate::control::Control;
use crate::field::VectorField;
use crate::{Error, Result};
use ode_solvers::dop_shared::IntegrationError;
use ode_solvers::{DVector, Dopri5, OutputType, System};
use std::cell::RefCell;

struct Frozen<'a> {
    f: &'a dyn VectorField,
    u: &'a [f64],
    scratch: RefCell<Vec<f64>>,
}

impl System<f64, DVector<f64>> for Frozen<'_> {
    fn system(&self, _t: f64, y: &DVector<f64>, dy: &mut DVector<f64>) {
        self.f
            .eval(y.as_slice(), self.u, dy.as_mut_slice(), &mut self.scratch.borrow_mut());
    }
}

/// Integrate `x` from `t0` to `t1` with control `u` frozen. Returns (state, RHS evaluations).
pub fn integrate_frozen(
    f: &dyn VectorField,
    u: &[f64],
    x: &[f64],
    t0: f64,
    t1: f64,
    rtol: f64,
    atol: f64,
) -> std::result::Result<(Vec<f64>, u64), (String, f64)> {
    if t1 <= t0 {
        return Ok((x.to_vec(), 0));
    }
    let sys = Frozen {
        f,
        u,
        scratch: RefCell::new(vec![0.0; f.scratch_len()]),
    };
    let span = t1 - t0;
    // Sparse output: the last recorded state is the accepted step that lands exactly on t1 (the dense-output
    // mode interpolates and can miss the endpoint). Controller settings are ode_solvers' defaults.
    let mut solver = Dopri5::from_param(
        sys,
        t0,
        t1,
        span,
        DVector::from_column_slice(x),
        rtol,
        atol,
        0.9,
        0.04,
        0.2,
        10.0,
        span,
        0.0,
        100_000,
        1000,
        OutputType::Sparse,
    );
    match solver.integrate() {
        Ok(stats) => {
            let y = solver.y_out().last().expect("Dopri5 records the final state");
            Ok((y.as_slice().to_vec(), stats.num_eval as u64))
        }
        Err(IntegrationError::StepSizeUnderflow { x }) => Err(("step-size collapse".into(), x)),
        Err(IntegrationError::MaxNumStepReached { x, n_step }) => {
            Err((format!("step limit reached ({n_step} steps)"), x))
        }
        Err(IntegrationError::StiffnessDetected { x }) => Err(("stiffness detected".into(), x)),
    }
}

pub(super) fn block(
    field: &dyn VectorField,
    control: &dyn Control,
    solver: &Solver,
    times: &[f64],
    xs: &[f64],
    out: &mut [f64],
    first_point: usize,
) -> Result<u64> {
    let m = field.state_dim();
    let grid = control.grid();
    let ns = times.len();
    let mut evals = 0;
    for (p, x0) in xs.chunks(m).enumerate() {
        let point = first_point + p;
        let mut x = x0.to_vec();
        let mut t = 0.0;
        let dst = &mut out[p * ns * m..(p + 1) * ns * m];
        let mut next = 0;
        for k in 0..grid.intervals {
            let t_end = grid.t(k + 1);
            loop {
                // Stop at save times inside this interval, then at its right end.
                let target = if next < ns && times[next] <= t_end {
                    times[next]
                } else {
                    t_end
                };
                let (y, e) = integrate_frozen(field, control.value(k), &x, t, target, solver.rtol, solver.atol)
                    .map_err(|(what, at)| Error::numerical(what, at, k, Some(point)))?;
                evals += e;
                if let Some(c) = y.iter().position(|v| !v.is_finite()) {
                    return Err(Error::numerical(
                        format!("non-finite state, component {c}"),
                        target,
                        k,
                        Some(point),
                    ));
                }
                x = y;
                t = target;
                if next < ns && times[next] <= t_end && times[next] == target {
                    dst[next * m..(next + 1) * m].copy_from_slice(&x);
                    next += 1;
                    continue;
                }
                break;
            }
        }
    }
    Ok(evals)
}
