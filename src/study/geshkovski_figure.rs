//! `geshkovski-figure`: the figure of seed 001 (slide after the theorem; SPEC §4 item 6) — T = 16, 36, 81 with
//! K = ⌊T^{3/2}⌋ layers (h = 1/√T), the trained trajectories of the data points approaching their targets, as
//! three small multiples (`trajectories`, one panel per T, the same axes).
//!
//! Each T is the training problem min Φ(X^T(T)) + λ∫‖u‖² of `horizon-sweep` (the same solver: time scaling where
//! the field scales with the control, L-BFGS from the previous T's solution resampled to the new K and from
//! seeded restarts, the best kept — [`super::horizon_sweep`]); the warm starts chain the horizons, so the chain
//! is one [`Units`] unit. With a one-output projection readout P the targets are the lines P x = y, drawn dashed;
//! with the identity readout they are points (crosses).
//!
//! Reported: the final error Φ(X^T(T)) and max_i |P X_i(T) − y_i| per T (`final-errors.csv`, summary.json), with
//! the comparison that the final error falls as T grows, and the trajectories (`trajectories.csv`: T, point, t,
//! x₁, x₂).

use super::horizon_sweep::{LayerRule, SweepPlan, SweepSpec};
use super::time_scaling::to_horizon;
use super::{push_trajectory, run_units, trajectory_key, Context, Plan, Study, StudyOutput, Units};
use crate::control::{PiecewiseView, TimeGrid};
use crate::integrate::{simulate, SaveAt, SchemeKind, Solver};
use crate::output::plot::{Color, Figure, Marker, Panels, RefLine, Series};
use crate::output::table::LongTable;
use crate::output::{Comparison, Tolerance};
use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use serde::Deserialize;
use serde_json::{json, Value};

/// `[geshkovski]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    /// Horizons (default 16, 36, 81).
    #[serde(default = "horizons")]
    pub horizons: Vec<f64>,
    #[serde(default = "four")]
    pub restarts: usize,
    #[serde(default = "one")]
    pub restart_scale: f64,
    #[serde(default = "iters")]
    pub max_iters: usize,
    #[serde(default = "tol")]
    pub tol_grad: f64,
    #[serde(default = "memory")]
    pub memory: usize,
}

fn horizons() -> Vec<f64> {
    vec![16.0, 36.0, 81.0]
}
fn four() -> usize {
    4
}
fn one() -> f64 {
    1.0
}
fn iters() -> usize {
    3000
}
fn tol() -> f64 {
    1e-10
}
fn memory() -> usize {
    20
}

/// The figure study.
pub struct GeshkovskiFigure;

impl Study for GeshkovskiFigure {
    fn name(&self) -> &'static str {
        "geshkovski-figure"
    }
    fn about(&self) -> &'static str {
        "seed 001's figure: T = 16, 36, 81 with K = ⌊T^{3/2}⌋; trained trajectories approach the targets (panels)"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["geshkovski"]
    }
    fn prepare<'a>(&self, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        let s: FigureSpec = file.table("geshkovski")?.unwrap_or(FigureSpec {
            horizons: horizons(),
            restarts: four(),
            restart_scale: one(),
            max_iters: iters(),
            tol_grad: tol(),
            memory: memory(),
        });
        let sweep = SweepPlan::with_spec(
            file,
            SweepSpec {
                horizons: s.horizons.clone(),
                layers: vec![LayerRule::ThreeHalves],
                restarts: s.restarts,
                restart_scale: s.restart_scale,
                max_iters: s.max_iters,
                tol_grad: s.tol_grad,
                memory: s.memory,
                fit_range: None,
            },
            "geshkovski",
            1,
        )?;
        if sweep.base.data.m != 2 {
            return Err(file.error(
                "model.dim",
                "the figure draws trajectories in the plane: expected dim = 2",
            ));
        }
        Ok(Box::new(FigurePlan { sweep }))
    }
}

/// A validated figure study.
pub struct FigurePlan {
    sweep: SweepPlan,
}

impl Plan for FigurePlan {
    fn run(&mut self, ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        run_units(&*self, ctx, out)
    }
    fn units(&self) -> Option<&dyn Units> {
        Some(self)
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

impl Units for FigurePlan {
    fn ids(&self) -> Vec<String> {
        vec!["layers=three_halves".into()]
    }
    fn run_unit(&self, _i: usize, _ctx: &Context) -> Result<Value> {
        self.sweep.chain(LayerRule::ThreeHalves)
    }
    fn aggregate(&self, results: &[Value], out: &mut StudyOutput) -> Result<()> {
        let base = &self.sweep.base;
        let res = results
            .first()
            .ok_or_else(|| Error::numerical("no results", 0.0, 0, None))?;
        let rows = res["rows"].as_array().cloned().unwrap_or_default();
        let f = base.field.as_ref();
        let d = f.control_dim();
        let n = base.data.n();
        let kind = SchemeKind::parse(base.scheme.name()).expect("a registered scheme");
        let p = base.readout_matrix();
        let (q, y) = base
            .targets()
            .ok_or_else(|| Error::numerical("regression targets expected", 0.0, 0, None))?;
        let y = y.to_vec();
        let mut errs = LongTable::new(["T", "K", "phi", "max_abs_residual", "start"]);
        let mut trajs = LongTable::new(["T", "point", "t", "x1", "x2"]);
        let mut panels = Vec::new();
        let (mut ts, mut phis) = (vec![], vec![]);
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        let mut all_states = Vec::new();
        for row in &rows {
            let t = row["T"].as_f64().unwrap_or(f64::NAN);
            let k = row["K"].as_u64().unwrap_or(1) as usize;
            let u1 = nums(&row["u1"]);
            let ut = to_horizon(&u1, t);
            let grid = TimeGrid {
                horizon: t,
                intervals: k,
            };
            let traj = simulate(
                f,
                &PiecewiseView::new(grid, d, &ut),
                &Solver::fixed(kind, base.substeps),
                &base.data.x,
                &SaveAt::Intervals,
            )?;
            let last = traj.times.len() - 1;
            let mut maxr: f64 = 0.0;
            for i in 0..n {
                let x = traj.state(i, last);
                for c in 0..q {
                    let z: f64 = (0..2).map(|l| p[(c, l)] * x[l]).sum();
                    maxr = maxr.max((z - y[i * q + c]).abs());
                }
                for s in 0..traj.times.len() {
                    let xs = traj.state(i, s);
                    trajs.push(vec![
                        t.into(),
                        i.into(),
                        traj.times[s].into(),
                        xs[0].into(),
                        xs[1].into(),
                    ]);
                    for c in 0..2 {
                        lo[c] = lo[c].min(xs[c]);
                        hi[c] = hi[c].max(xs[c]);
                    }
                }
            }
            let phi = row["phi"].as_f64().unwrap_or(f64::NAN);
            errs.push(vec![
                t.into(),
                k.into(),
                phi.into(),
                maxr.into(),
                row["start"].as_str().unwrap_or("").into(),
            ]);
            ts.push(t);
            phis.push((phi, maxr, k));
            all_states.push(traj);
        }
        let pad = |c: usize| 0.05 * (hi[c] - lo[c]).max(1e-9);
        for ((traj, &t), &(phi, maxr, k)) in all_states.iter().zip(&ts).zip(&phis) {
            let mut fig = Figure::new(format!("T = {t}, K = {k}"), "x₁", "x₂");
            fig.x_range = Some((lo[0] - pad(0), hi[0] + pad(0)));
            fig.y_range = Some((lo[1] - pad(1), hi[1] + pad(1)));
            fig.aspect = Some(1.0);
            for i in 0..n {
                let pts: Vec<(f64, f64)> = (0..traj.times.len())
                    .map(|s| (traj.state(i, s)[0], traj.state(i, s)[1]))
                    .collect();
                // Colour by target (the first readout component).
                let color = if y[i * q] >= 0.0 {
                    Color::Palette(0)
                } else {
                    Color::Palette(1)
                };
                push_trajectory(&mut fig, pts, color);
            }
            let is_projection = q == 1 && p.ncols() == 2;
            if is_projection && p[(0, 0)] == 0.0 && p[(0, 1)] != 0.0 {
                // P = c e₂ᵀ: the targets P x = y are the horizontal lines x₂ = y / c.
                let mut levels: Vec<f64> = (0..n).map(|i| y[i] / p[(0, 1)]).collect();
                levels.sort_by(f64::total_cmp);
                levels.dedup();
                for (j, v) in levels.iter().enumerate() {
                    let mut l = RefLine::new(*v, "target set P x = y");
                    if j > 0 || panels.len() + 1 < ts.len() {
                        l.label = None;
                    }
                    fig.hlines.push(l);
                }
            } else if q == 2 {
                let tp: Vec<(f64, f64)> = (0..n).map(|i| (y[2 * i], y[2 * i + 1])).collect();
                fig.series.push(
                    Series::points("target", tp)
                        .marker(Marker::Cross, false)
                        .color(Color::Gray(30)),
                );
            }
            fig.annotations
                .push(format!("Φ(X(T)) = {phi:.2e}, max |PX − y| = {maxr:.2e}"));
            if panels.len() + 1 == ts.len() {
                fig.key = trajectory_key(false);
            }
            panels.push(fig);
        }
        out.panels.push((
            "trajectories".into(),
            Panels {
                title: format!(
                    "trained trajectories approach the targets as T grows (K = ⌊T^1.5⌋ layers, λ = {})",
                    base.lambda
                ),
                columns: panels.len().clamp(1, 3),
                panels,
            },
        ));
        for w in 1..ts.len() {
            out.comparisons.push(
                Comparison::new(
                    format!("final error Φ(X^T(T)) at T = {} against T = {}", ts[w], ts[w - 1]),
                    phis[w - 1].0,
                    phis[w].0,
                    Tolerance::AtMost,
                    "SPEC §4 item 6 (001 figure: the trajectories approach the targets as T grows) and item 1",
                )
                .note(format!("K = {} and {}", phis[w - 1].2, phis[w].2)),
            );
        }
        out.set("horizons", &ts);
        out.set("layers", phis.iter().map(|p| p.2).collect::<Vec<_>>());
        out.set("final_error", phis.iter().map(|p| p.0).collect::<Vec<_>>());
        out.set("max_abs_residual", phis.iter().map(|p| p.1).collect::<Vec<_>>());
        out.set("lambda", base.lambda);
        out.set("time_scaling", json!({"used": base.scales.0, "reason": base.scales.1}));
        out.set("starts", rows.iter().map(|r| r["report"].clone()).collect::<Vec<_>>());
        out.long_tables.push(("final-errors.csv".into(), errs));
        out.long_tables.push(("trajectories.csv".into(), trajs));
        Ok(())
    }
}
