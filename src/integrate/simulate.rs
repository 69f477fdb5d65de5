//! Forward simulation of an ensemble: every point x_i evolved under the same control, in fixed-size blocks of
//! [`BLOCK`] points processed in parallel (rayon). Each point's arithmetic is independent of the thread count, so
//! outputs are bit-identical for any `--threads`.

use super::block::{Block, Stepper};
use super::{reference, Scheme, SchemeKind};
use crate::control::Control;
use crate::field::VectorField;
use crate::simd::{Lanes, LANES};
use crate::{Error, Result};
use rayon::prelude::*;

/// Points per parallel work item (= [`LANES`]). Fixed (never derived from the thread count) so summation orders
/// are stable.
pub const BLOCK: usize = LANES;

/// Which solver drives the simulation.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Solver {
    /// Integrator.
    pub scheme: SchemeKind,
    /// Fixed-step sub-steps per control interval (s ≥ 1); ignored by the adaptive solver.
    pub substeps: usize,
    /// Relative tolerance of the adaptive solver.
    pub rtol: f64,
    /// Absolute tolerance of the adaptive solver.
    pub atol: f64,
}

impl Solver {
    /// A fixed-step solver with `substeps` steps per interval.
    pub fn fixed(scheme: SchemeKind, substeps: usize) -> Self {
        Self {
            scheme,
            substeps,
            rtol: 1e-9,
            atol: 1e-12,
        }
    }
}

/// When to record the state.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveAt {
    /// Only X(T).
    Final,
    /// At every interval boundary t_0..t_K.
    Intervals,
    /// At every sub-step boundary.
    Steps,
    /// At the given times in [0, T] (ascending). Between grid points a fixed-step scheme takes one partial step of
    /// its own (a continuous extension of the same order); the adaptive solver stops there exactly.
    Times(Vec<f64>),
}

/// Saved states, point-major: `states[(i * times.len() + s) * m + c]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// Save times.
    pub times: Vec<f64>,
    /// Number of points N.
    pub n: usize,
    /// State dimension m.
    pub m: usize,
    /// The states.
    pub states: Vec<f64>,
    /// Right-hand-side evaluations per point summed over the ensemble (work measure for the manifest).
    pub f_evals: u64,
}

impl Trajectory {
    /// State of point `i` at save index `s`.
    pub fn state(&self, i: usize, s: usize) -> &[f64] {
        let o = (i * self.times.len() + s) * self.m;
        &self.states[o..o + self.m]
    }
    /// The last saved state of every point (N × m, row-major).
    pub fn final_states(&self) -> Vec<f64> {
        let last = self.times.len() - 1;
        (0..self.n).flat_map(|i| self.state(i, last).iter().copied()).collect()
    }
}

/// A save request resolved against the step grid: record before global step `step`, after a partial step `dt`.
#[derive(Clone, Copy, Debug)]
struct SavePoint {
    step: usize,
    dt: f64,
}

/// The save times a [`SaveAt`] stands for on K intervals with s sub-steps over [0, horizon].
pub fn save_times(save: &SaveAt, horizon: f64, k: usize, s: usize) -> Result<Vec<f64>> {
    let steps = k * s;
    let grid = |n: usize, total: usize| -> Vec<f64> {
        (0..=total)
            .map(|j| {
                if j == total {
                    horizon
                } else {
                    horizon * j as f64 / (n as f64)
                }
            })
            .collect()
    };
    Ok(match save {
        SaveAt::Final => vec![horizon],
        SaveAt::Intervals => grid(k, k),
        SaveAt::Steps => grid(steps, steps),
        SaveAt::Times(ts) => {
            for w in ts.windows(2) {
                if w[1] < w[0] {
                    return Err(Error::input("", "solver.save_times", "times must be ascending"));
                }
            }
            if let Some(t) = ts.iter().find(|t| !(0.0..=horizon).contains(*t)) {
                return Err(Error::input(
                    "",
                    "solver.save_times",
                    format!("time {t} is outside [0, {horizon}]"),
                ));
            }
            if ts.is_empty() {
                return Err(Error::input("", "solver.save_times", "at least one time is needed"));
            }
            ts.clone()
        }
    })
}

fn resolve(times: &[f64], horizon: f64, steps: usize) -> Vec<SavePoint> {
    let h = horizon / steps as f64;
    times
        .iter()
        .map(|&t| {
            let r = t / h;
            let n = r.round();
            if (r - n).abs() < 1e-9 * r.max(1.0) {
                SavePoint {
                    step: n as usize,
                    dt: 0.0,
                }
            } else {
                let n = r.floor() as usize;
                SavePoint {
                    step: n,
                    dt: t - h * n as f64,
                }
            }
        })
        .collect()
}

/// Simulate every point of `x0` (N × m row-major) under `control` with `solver`, recording states per `save`.
/// Fails with [`Error::Numerical`] naming the point and time of the first non-finite state or solver breakdown.
pub fn simulate(
    field: &dyn VectorField,
    control: &dyn Control,
    solver: &Solver,
    x0: &[f64],
    save: &SaveAt,
) -> Result<Trajectory> {
    simulate_observed(field, control, solver, x0, save, &|_| ())
}

/// [`simulate`], calling `done(points)` as each block of points finishes (progress reporting; the call order
/// depends on scheduling, the results do not).
pub fn simulate_observed(
    field: &dyn VectorField,
    control: &dyn Control,
    solver: &Solver,
    x0: &[f64],
    save: &SaveAt,
    done: &(dyn Fn(u64) + Sync),
) -> Result<Trajectory> {
    let m = field.state_dim();
    let n = x0.len() / m;
    let grid = control.grid();
    let substeps = solver.substeps.max(1);
    let times = save_times(save, grid.horizon, grid.intervals, substeps)?;
    let ns = times.len();
    let mut states = vec![0.0; n * ns * m];
    let results: Vec<Result<u64>> = states
        .par_chunks_mut(BLOCK * ns * m)
        .zip(x0.par_chunks(BLOCK * m))
        .enumerate()
        .map(|(b, (out, xs))| {
            let r = match solver.scheme.fixed() {
                Some(scheme) => fixed_block(field, control, scheme, substeps, &times, xs, out, b * BLOCK),
                None => reference::block(field, control, solver, &times, xs, out, b * BLOCK),
            };
            done((xs.len() / m) as u64);
            r
        })
        .collect();
    let mut f_evals = 0;
    for r in results {
        f_evals += r?;
    }
    Ok(Trajectory {
        times,
        n,
        m,
        states,
        f_evals,
    })
}

/// One block of points through every step of a fixed-step scheme on the block engine, saving per `times`.
#[allow(clippy::too_many_arguments)]
fn fixed_block(
    field: &dyn VectorField,
    control: &dyn Control,
    scheme: &dyn Scheme,
    substeps: usize,
    times: &[f64],
    xs: &[f64],
    out: &mut [f64],
    first_point: usize,
) -> Result<u64> {
    let m = field.state_dim();
    let stepper = Stepper {
        field,
        scheme,
        control,
        substeps,
    };
    let steps = stepper.steps();
    let saves = resolve(times, control.grid().horizon, steps);
    let ns = saves.len();
    let mut blk = Block::new(m);
    blk.load(first_point, xs);
    let n = blk.lanes;
    let mut tmp = vec![[0.0; LANES]; m];
    let mut tape = vec![[0.0; LANES]; stepper.tape_rows()];
    let mut work = vec![[0.0; LANES]; stepper.work_rows()];
    let write = |rows: &[Lanes], slot: usize, out: &mut [f64]| {
        for p in 0..n {
            for (c, r) in rows.iter().enumerate() {
                out[(p * ns + slot) * m + c] = r[p];
            }
        }
    };
    let mut next = 0;
    for step in 0..=steps {
        while next < ns && saves[next].step == step {
            if saves[next].dt == 0.0 {
                write(&blk.x, next, out);
            } else {
                tmp.copy_from_slice(&blk.x);
                let term = stepper.term(step.min(steps - 1)).with_h(saves[next].dt);
                scheme.step_block(&term, n, &mut tmp, &mut tape, &mut work);
                write(&tmp, next, out);
            }
            next += 1;
        }
        if step == steps {
            break;
        }
        scheme.step_block(&stepper.term(step), n, &mut blk.x, &mut tape, &mut work);
        if let Some(e) = blk.non_finite_error("", stepper.time_after(step), step + 1) {
            return Err(e);
        }
    }
    Ok((n * steps * scheme.stages()) as u64)
}
