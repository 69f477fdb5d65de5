//! `simulate`: forward simulation of the scenario's ensemble under its controls.
//! Writes `trajectories.csv` (point, label, t, x_1..x_m; `label` only for labelled data), `final.csv` (point,
//! label, start x(0), end X(T)), `controls.csv` (interval, t_k, named control values), and for m = 2 a phase-plane
//! figure (m = 1: x against t) with start and end markers in each trajectory's colour, plus the controls u(t) as a
//! step plot.

use super::{
    controls_figure, controls_table, push_trajectory, trajectory_key, BenchKernel, Context, Plan, Study, StudyOutput,
};
use crate::control::Control;
use crate::integrate::SaveAt;
use crate::output::plot::{Color, Figure, KeyEntry, KeyKind};
use crate::output::progress::Progress;
use crate::output::table::Table;
use crate::problem::Problem;
use crate::scenario::ScenarioFile;
use crate::Result;
use serde::Deserialize;
use std::time::Instant;

/// `[simulate]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateSpec {
    /// At most this many trajectories are drawn in the phase-plane figure (all are written to CSV).
    pub plot_max: Option<usize>,
}

/// Forward simulation study.
pub struct Simulate;

struct SimulatePlan<'a> {
    file: &'a ScenarioFile,
    spec: SimulateSpec,
    problem: Problem,
}

impl Study for Simulate {
    fn name(&self) -> &'static str {
        "simulate"
    }
    fn about(&self) -> &'static str {
        "forward simulation of the ensemble; trajectories CSV and a phase-plane figure"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["simulate"]
    }
    fn prepare<'a>(&self, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        let spec: SimulateSpec = file.table("simulate")?.unwrap_or_default();
        file.grid()?;
        file.check_budget(|z, est| {
            let n = (z.n_field, z.n);
            file.trajectory_terms(z, n, est);
            let mut rows = vec![n];
            rows.extend(z.saved_factors.iter().copied());
            est.table("trajectories.csv", &rows, ("model.dim", 3.0 + z.m));
            est.table("final.csv", &[n], ("model.dim", 2.0 + z.m));
            est.table("controls.csv", &[("time.intervals", z.k)], (z.d_field, z.d));
            let drawn = spec.plot_max.map_or(300.0, |p| p as f64).min(z.n);
            if z.m <= 2.0 {
                let mut f = vec![("simulate.plot_max", drawn)];
                f.extend(z.saved_factors.iter().copied());
                est.add("phase-plane figure", &f, 48.0);
            }
        })?;
        Ok(Box::new(SimulatePlan {
            file,
            spec,
            problem: file.problem()?,
        }))
    }
}

impl Plan for SimulatePlan<'_> {
    fn bench_kernel(&mut self) -> Result<Option<BenchKernel<'_>>> {
        let p = &self.problem;
        Ok(Some(Box::new(move || {
            let traj = p.simulate(&p.data.x, &SaveAt::Final)?;
            let s: f64 = traj.states.iter().sum();
            Ok(serde_json::json!({ "sum_final_states": s, "points": p.data.n() }))
        })))
    }
    fn run(&mut self, ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        let p = &self.problem;
        let (m, n) = (p.data.m, p.data.n());
        out.solver = crate::output::results::json_value(&p.solver);
        out.solver["kernel"] = serde_json::json!(if p.solver.scheme.fixed().is_some() {
            format!("block engine ({})", crate::simd::active_isa().name())
        } else {
            "adaptive reference solver (per point)".to_string()
        });
        let t0 = Instant::now();
        let progress = Progress::new(n as u64, "simulating", ctx.quiet);
        let traj = p.simulate_observed(&p.data.x, &p.save, &|k| progress.inc(k))?;
        progress.finish();
        out.timings.insert("simulate".into(), t0.elapsed().as_secs_f64());

        // Unlabelled data get no `label` column (no NaN stands in for a missing label).
        let labels = p.data.labels.as_ref();
        let head = |i: usize| -> Vec<f64> { std::iter::once(i as f64).chain(labels.map(|l| l[i] as f64)).collect() };
        let xcols: Vec<String> = (1..=m).map(|c| format!("x{c}")).collect();
        let mut cols = vec!["point".to_string()];
        if labels.is_some() {
            cols.push("label".into());
        }
        cols.push("t".into());
        cols.extend(xcols.iter().cloned());
        let mut tab = Table::new(cols.clone());
        for i in 0..n {
            for (s, &t) in traj.times.iter().enumerate() {
                let mut row = head(i);
                row.push(t);
                row.extend_from_slice(traj.state(i, s));
                tab.push(row);
            }
        }
        let fin_cols: Vec<String> = std::iter::once("point".to_string())
            .chain(labels.map(|_| "label".to_string()))
            .chain((1..=m).map(|c| format!("start_x{c}")))
            .chain((1..=m).map(|c| format!("end_x{c}")))
            .collect();
        let mut fin = Table::new(fin_cols);
        let last = traj.times.len() - 1;
        let mut max_norm: f64 = 0.0;
        let mut mean_disp = 0.0;
        for i in 0..n {
            let mut row = head(i);
            let xt = traj.state(i, last);
            row.extend_from_slice(p.data.point(i));
            row.extend_from_slice(xt);
            fin.push(row);
            max_norm = max_norm.max(xt.iter().map(|v| v * v).sum::<f64>().sqrt());
            mean_disp += xt
                .iter()
                .zip(p.data.point(i))
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
        }
        mean_disp /= n as f64;
        let names = p.field.control_names();
        let h = p.control.grid().h();
        let ctab = controls_table(&names, p.control.values(), h);
        if let Some(fig) = controls_figure(
            format!("{}: controls u(t)", self.file.name()),
            &names,
            p.control.values(),
            h,
        ) {
            out.figures.push(("controls".into(), fig));
        }
        out.tables.push(("trajectories.csv".into(), tab));
        out.tables.push(("final.csv".into(), fin));
        out.tables.push(("controls.csv".into(), ctab));

        out.set("points", n);
        out.set("dim", m);
        out.set("horizon", p.control.grid().horizon);
        out.set("intervals", p.control.grid().intervals);
        out.set("scheme", p.solver.scheme.name());
        out.set("saved_times", traj.times.len());
        out.set("rhs_evaluations", traj.f_evals);
        out.set("max_final_norm", max_norm);
        out.set("mean_displacement", mean_disp);
        out.set("field", p.field.describe());

        let plot_max = self.spec.plot_max.unwrap_or(300).min(n);
        // Evenly spread indices (a plain stride could alias with label patterns such as i mod 2).
        let picks: Vec<usize> = (0..plot_max).map(|j| j * n / plot_max).collect();
        if m <= 2 && plot_max > 0 {
            let mut fig = Figure {
                title: format!("{}: trajectories ({} scheme)", self.file.name(), p.solver.scheme.name()),
                x_label: if m == 2 { "x1".into() } else { "t".into() },
                y_label: if m == 2 { "x2".into() } else { "x".into() },
                equal_aspect: m == 2,
                ..Figure::default()
            };
            for &i in &picks {
                let pts: Vec<(f64, f64)> = (0..traj.times.len())
                    .map(|s| {
                        let x = traj.state(i, s);
                        if m == 2 {
                            (x[0], x[1])
                        } else {
                            (traj.times[s], x[0])
                        }
                    })
                    .collect();
                let color = Color::Palette(p.data.labels.as_ref().map(|l| l[i]).unwrap_or(0));
                push_trajectory(&mut fig, pts, color);
            }
            fig.key = trajectory_key(false);
            if let Some(labels) = &p.data.labels {
                let mut classes: Vec<usize> = labels.clone();
                classes.sort_unstable();
                classes.dedup();
                fig.key.extend(classes.into_iter().map(|c| KeyEntry {
                    label: format!("class {c}"),
                    color: Color::Palette(c),
                    kind: KeyKind::Line,
                }));
            }
            fig.annotations.push(format!(
                "{} of {n} points, T = {}, K = {}, {}",
                picks.len(),
                p.control.grid().horizon,
                p.control.grid().intervals,
                p.solver.scheme.name()
            ));
            out.figures.push(("trajectories".into(), fig));
        }
        Ok(())
    }
}
