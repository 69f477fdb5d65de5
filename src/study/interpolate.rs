//! `interpolate`: steer N points to N targets, X_T^{x_i} = y_i (or λ(X_T − x_i) = y_i with the interpolation
//! readout), by training the controls of the scenario's fields — e.g. Cuchiero's five polynomial fields, or random
//! features with only the controls (and λ) trained: Md + 1 numbers (SPEC §5 items 9, 12; seed 003). Runs the
//! `train` study (same `[objective]`, `[train]` tables), then reports `max_error` = max_i ‖r(X_T^{x_i}) − y_i‖ and
//! whether it meets `[interpolate] tolerance`.
//!
//! On the line (m = 1, identity readout) flows preserve order (SPEC §5 item 11): when the targets are in another
//! order than the points, the study reports the obstruction (`"order_obstruction": true` with the offending pair)
//! instead of training towards a poor fit.

use super::train::TrainPlan;
use super::{Context, Plan, Study, StudyOutput};
use crate::lie::check_order_1d;
use crate::objective::Readout;
use crate::output::plot::{Figure, Mark, Series};
use crate::scenario::ScenarioFile;
use crate::Result;
use serde::Deserialize;

/// `[interpolate]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterpolateSpec {
    /// Interpolation succeeds when max_i error ≤ tolerance.
    #[serde(default = "tol")]
    pub tolerance: f64,
}

fn tol() -> f64 {
    1e-6
}

/// Interpolation study.
pub struct Interpolate;

impl Study for Interpolate {
    fn name(&self) -> &'static str {
        "interpolate"
    }
    fn about(&self) -> &'static str {
        "steer N points to N targets by training the controls; max error, trajectories, 1-D order obstruction"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["interpolate", "train"]
    }
    fn prepare<'a>(&self, f: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        let spec: Option<InterpolateSpec> = f.table("interpolate")?;
        let tolerance = spec.map(|s| s.tolerance).unwrap_or_else(tol);
        if !(tolerance.is_finite() && tolerance > 0.0) {
            return Err(f.error("interpolate.tolerance", "expected a finite number > 0"));
        }
        let train = TrainPlan::new(f)?;
        if train.setup.problem.data.targets.is_none() {
            return Err(f.error("data.targets", "interpolation needs a target for every point"));
        }
        Ok(Box::new(InterpolatePlan {
            file: f,
            tolerance,
            train,
        }))
    }
}

struct InterpolatePlan<'a> {
    file: &'a ScenarioFile,
    tolerance: f64,
    train: TrainPlan<'a>,
}

impl Plan for InterpolatePlan<'_> {
    fn run(&mut self, ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        let f = self.file;
        let tolerance = self.tolerance;
        let setup = &self.train.setup;
        let data = &setup.problem.data;
        out.set("tolerance", tolerance);
        if data.m == 1 && setup.objective.readout == Readout::Identity {
            let (_, y) = data.targets.as_ref().expect("validated");
            let rep = check_order_1d(&data.x, y).map_err(|e| f.error("data.targets", e.to_string()))?;
            out.set("order_obstruction", !rep.preserved);
            if !rep.preserved {
                let (i, j) = rep.violations[0];
                out.set("offending_pair", [i, j]);
                out.set("order_violations", rep.n_violations);
                out.set(
                    "order_message",
                    format!(
                        "on the line a flow preserves order: x_{i} = {} < x_{j} = {} but the targets are {} ≥ {}; \
                         no control interpolates these targets, so no training was run",
                        data.x[i], data.x[j], y[i], y[j]
                    ),
                );
                out.set("interpolated", false);
                let fig = Figure {
                    title: format!("{}: points and targets on the line (order obstruction)", f.name()),
                    x_label: "x (points at 0, targets at 1)".into(),
                    y_label: "position on the line".into(),
                    series: (0..data.n())
                        .map(|k| Series {
                            label: None,
                            points: vec![(0.0, data.x[k]), (1.0, y[k])],
                            mark: Mark::LinePoints,
                            color: Some(if k == i || k == j { 3 } else { 0 }),
                        })
                        .collect(),
                    ..Figure::default()
                };
                out.figures.push(("order".into(), fig));
                return Ok(());
            }
        }
        self.train.run(ctx, out)?;
        let setup = &self.train.setup;
        let max_error = out
            .summary
            .get("max_target_error")
            .and_then(|v| v.as_f64())
            .unwrap_or(f64::NAN);
        out.set("max_error", max_error);
        out.set("interpolated", max_error <= tolerance);
        out.set(
            "trained_parameters",
            setup.problem.control.values().len() + setup.rho.len(),
        );
        Ok(())
    }
}
