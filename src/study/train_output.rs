//! What the `train` study writes besides the optimisation itself: the history with the split of J and the
//! study's error measure, the trained controls, final states, and the figures (loss with its parts, controls u(t),
//! trajectories over decision regions with start/end/target markers, and for a 1-D fit of a target trajectory the
//! learned against the target trajectory with the pointwise error).

use super::{controls_figure, controls_table, push_trajectory, trajectory_key, StudyOutput};
use crate::control::{Control, PiecewiseConstant};
use crate::integrate::{simulate, SaveAt, Trajectory};
use crate::objective::split::Split;
use crate::objective::{Loss, Objective, Readout, Targets};
use crate::output::plot::{Color, Figure, KeyEntry, KeyKind, Mark, Marker, Region, Series};
use crate::output::table::Table;
use crate::problem::Setup;
use crate::Result;

/// Which error the study reports beside J, by what the objective fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorMeasure {
    /// Running targets only (a trajectory fit): max over steps n and points i of ‖r(X_n^i) − target_n^i‖.
    MaxRunningError,
    /// Labelled data: the fraction of misclassified points.
    ErrorRate,
    /// Vector targets: max_i ‖r(X_T^i) − y_i‖.
    MaxTargetError,
}

impl ErrorMeasure {
    /// The measure the setup's objective calls for.
    pub fn of(setup: &Setup) -> Self {
        let obj = &setup.objective;
        if obj.running_targets.is_some() && obj.terminal_weight == 0.0 {
            ErrorMeasure::MaxRunningError
        } else if setup.problem.data.labels.is_some() || matches!(obj.targets, Targets::Classes(_)) {
            ErrorMeasure::ErrorRate
        } else {
            ErrorMeasure::MaxTargetError
        }
    }
    /// Column / summary name.
    pub fn name(self) -> &'static str {
        match self {
            ErrorMeasure::MaxRunningError => "max_running_error",
            ErrorMeasure::ErrorRate => "error_rate",
            ErrorMeasure::MaxTargetError => "max_target_error",
        }
    }
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The target vector of each class (the target of its first point), for nearest-target classification.
fn class_targets(setup: &Setup) -> Vec<Vec<f64>> {
    let p = &setup.problem;
    match (&p.data.labels, &setup.objective.targets) {
        (Some(labels), Targets::Vectors { q, data }) => (0..p.data.n_classes)
            .map(|c| {
                labels
                    .iter()
                    .position(|&l| l == c)
                    .map(|i| data[i * q..(i + 1) * q].to_vec())
                    .unwrap_or_else(|| vec![0.0; *q])
            })
            .collect(),
        _ => vec![],
    }
}

/// Predicted class of a readout value (classification data only).
pub fn classify(obj: &Objective, z: &[f64], class_targets: &[Vec<f64>]) -> usize {
    match obj.loss {
        Loss::CrossEntropy => z
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0),
        Loss::Logistic => usize::from(z[0] > 0.0),
        Loss::Squared | Loss::SmoothL1 { .. } => class_targets
            .iter()
            .enumerate()
            .min_by(|a, b| dist(a.1, z).total_cmp(&dist(b.1, z)))
            .map(|(i, _)| i)
            .unwrap_or(0),
    }
}

/// The error measure on a trajectory saved at every step.
pub fn error_of(setup: &Setup, traj: &Trajectory, rho: &[f64], measure: ErrorMeasure) -> f64 {
    let p = &setup.problem;
    let obj = &setup.objective;
    let (n, q) = (p.data.n(), obj.q());
    let last = traj.times.len() - 1;
    let mut z = vec![0.0; q];
    match measure {
        ErrorMeasure::MaxRunningError => {
            let rt = obj.running_targets.as_ref().expect("running targets");
            let mut e: f64 = 0.0;
            for i in 0..n {
                for s in 1..=last {
                    obj.readout.apply(traj.state(i, s), p.data.point(i), rho, &mut z);
                    let row = (s - 1) * n * q;
                    e = e.max(dist(&z, &rt[row + i * q..row + (i + 1) * q]).sqrt());
                }
            }
            e
        }
        ErrorMeasure::ErrorRate => {
            let ct = class_targets(setup);
            let labels: Vec<usize> = match (&p.data.labels, &obj.targets) {
                (Some(l), _) => l.clone(),
                (None, Targets::Classes(c)) => c.clone(),
                _ => return f64::NAN,
            };
            let wrong = (0..n)
                .filter(|&i| {
                    obj.readout.apply(traj.state(i, last), p.data.point(i), rho, &mut z);
                    classify(obj, &z, &ct) != labels[i]
                })
                .count();
            wrong as f64 / n as f64
        }
        ErrorMeasure::MaxTargetError => match &obj.targets {
            Targets::Vectors { q, data } => (0..n)
                .map(|i| {
                    obj.readout.apply(traj.state(i, last), p.data.point(i), rho, &mut z);
                    dist(&z, &data[i * q..(i + 1) * q]).sqrt()
                })
                .fold(0.0, f64::max),
            Targets::Classes(_) => f64::NAN,
        },
    }
}

/// The setup's trajectory (every step) under controls `u`.
fn trajectory(setup: &Setup, u: &[f64]) -> Result<Trajectory> {
    let p = &setup.problem;
    let ctl = PiecewiseConstant::new(p.control.grid(), p.control.dim(), u.to_vec());
    simulate(p.field.as_ref(), &ctl, &p.solver, &p.data.x, &SaveAt::Steps)
}

/// J split into terminal, running and regulariser parts, and the error measure, at controls `u` and readout `rho`.
pub fn split_and_error(setup: &Setup, u: &[f64], rho: &[f64], measure: ErrorMeasure) -> Result<(Split, f64)> {
    let p = &setup.problem;
    let traj = trajectory(setup, u)?;
    let grid = p.control.grid();
    let split = setup.objective.split(
        &traj,
        &p.data.x,
        rho,
        u,
        p.control.dim(),
        grid.h(),
        grid.h() / p.solver.substeps as f64,
    );
    Ok((split, error_of(setup, &traj, rho, measure)))
}

/// history.csv: iteration, J, its split (terminal, running, regulariser) and the error measure (computed every
/// `stride` iterations and at the last; NaN in between), ‖∇J‖∞ and the learning rate.
pub struct History {
    pub table: Table,
    pub stride: usize,
    pub measure: ErrorMeasure,
}

impl History {
    /// An empty history; the split is evaluated at most about 1000 times over `max_iters`.
    pub fn new(measure: ErrorMeasure, max_iters: usize) -> Self {
        History {
            table: Table::new([
                "iteration",
                "J",
                "terminal",
                "running",
                "regularizer",
                measure.name(),
                "grad_norm",
                "lr",
            ]),
            stride: max_iters.div_ceil(1000).max(1),
            measure,
        }
    }

    /// Record iteration `iter` with J = `loss`; the split is evaluated at θ = (u, ρ) on the stride.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        setup: &Setup,
        iter: usize,
        last: bool,
        loss: f64,
        grad_norm: f64,
        lr: f64,
        u: &[f64],
        rho: &[f64],
    ) {
        let nan = f64::NAN;
        let (sp, e) = if iter.is_multiple_of(self.stride) || last {
            split_and_error(setup, u, rho, self.measure)
                .map(|(s, e)| ([s.terminal, s.running, s.regularizer], e))
                .unwrap_or(([nan; 3], nan))
        } else {
            ([nan; 3], nan)
        };
        self.table
            .push(vec![iter as f64, loss, sp[0], sp[1], sp[2], e, grad_norm, lr]);
    }
}

/// J against iteration (log y) with its nonzero parts.
pub fn loss_figure(hist: &Table, name: &str) -> Figure {
    let mut fig = Figure {
        title: format!("{name}: training objective"),
        x_label: "iteration".into(),
        y_label: "objective".into(),
        log_y: true,
        x_integer: true,
        ..Figure::default()
    };
    fig.series
        .push(Series::line("J", hist.rows.iter().map(|r| (r[0], r[1])).collect()).color(0usize));
    let parts = [(2, "terminal w_T Φ"), (3, "running w_R Σ h ℓ"), (4, "regulariser λR")];
    for (k, (col, label)) in parts.into_iter().enumerate() {
        let pts: Vec<(f64, f64)> = hist
            .rows
            .iter()
            .filter(|r| r[col].is_finite())
            .map(|r| (r[0], r[col]))
            .collect();
        let all = hist.rows.iter().filter(|r| r[col].is_finite()).count();
        if pts.iter().any(|p| p.1 > 0.0) && pts.iter().filter(|p| p.1 > 0.0).count() == all && pts.len() > 1 {
            let s = Series::line(label, pts)
                .color(k + 1)
                .stroke(crate::output::plot::Stroke::Dashed);
            // J itself when it is the only part: drawing it twice helps no one.
            if (0..hist.rows.len()).all(|i| hist.rows[i][col].is_nan() || hist.rows[i][col] == hist.rows[i][1]) {
                continue;
            }
            fig.series.push(s);
        }
    }
    fig
}

/// Trained controls (table and figure), final states, the error measure, trajectories and decision regions, and
/// the learned-vs-target figure of a 1-D trajectory fit.
pub fn evaluate(setup: &Setup, region_grid: usize, name: &str, out: &mut StudyOutput) -> Result<()> {
    let p = &setup.problem;
    let obj = &setup.objective;
    let (m, n) = (p.data.m, p.data.n());
    let names = p.field.control_names();
    let h = p.control.grid().h();
    out.tables
        .push(("controls.csv".into(), controls_table(&names, p.control.values(), h)));
    if let Some(f) = controls_figure(format!("{name}: trained controls u(t)"), &names, p.control.values(), h) {
        out.figures.push(("controls".into(), f));
    }
    let traj = p.simulate(&p.data.x, &SaveAt::Steps)?;
    let last = traj.times.len() - 1;
    let q = obj.q();
    let mut z = vec![0.0; q];
    let readout = |x: &[f64], x0: &[f64], z: &mut [f64]| obj.readout.apply(x, x0, &setup.rho, z);
    if let Targets::Vectors { .. } = &obj.targets {
        out.set(
            "max_target_error",
            error_of(setup, &traj, &setup.rho, ErrorMeasure::MaxTargetError),
        );
    }
    let measure = ErrorMeasure::of(setup);
    out.set("error_measure", measure.name());
    out.set(measure.name(), error_of(setup, &traj, &setup.rho, measure));
    if measure == ErrorMeasure::ErrorRate {
        out.set("accuracy", 1.0 - error_of(setup, &traj, &setup.rho, measure));
    }
    // final.csv: index, label, start, end, target and readout of every point.
    let tq = match &obj.targets {
        Targets::Vectors { q, .. } => *q,
        Targets::Classes(_) => 0,
    };
    let cols: Vec<String> = ["point".to_string(), "label".into()]
        .into_iter()
        .chain((1..=m).map(|c| format!("start_x{c}")))
        .chain((1..=m).map(|c| format!("end_x{c}")))
        .chain((1..=tq).map(|c| format!("target_{c}")))
        .chain((1..=q).map(|c| format!("readout_{c}")))
        .collect();
    let mut ftab = Table::new(cols);
    for i in 0..n {
        readout(traj.state(i, last), p.data.point(i), &mut z);
        let mut row = vec![
            i as f64,
            p.data.labels.as_ref().map(|l| l[i] as f64).unwrap_or(f64::NAN),
        ];
        row.extend_from_slice(p.data.point(i));
        row.extend_from_slice(traj.state(i, last));
        if let Targets::Vectors { q, data } = &obj.targets {
            row.extend_from_slice(&data[i * q..(i + 1) * q]);
        }
        row.extend_from_slice(&z);
        ftab.push(row);
    }
    out.tables.push(("final.csv".into(), ftab));
    if m == 1 && measure == ErrorMeasure::MaxRunningError {
        fit_figures(setup, &traj, name, out);
    }
    if m != 2 {
        return Ok(());
    }
    trajectories_figure(setup, &traj, region_grid, name, out)
}

/// Learned trajectory v(t) against the running targets, and the pointwise error |v_n − target_n| (log scale).
fn fit_figures(setup: &Setup, traj: &Trajectory, name: &str, out: &mut StudyOutput) {
    let obj = &setup.objective;
    let rt = obj.running_targets.as_ref().expect("running targets");
    let (n, q) = (setup.problem.data.n(), obj.q());
    let mut z = vec![0.0; q];
    let mut fig = Figure::new(format!("{name}: learned and target trajectory"), "time t", "state");
    let mut err = Figure::new(
        format!("{name}: pointwise error of the learned trajectory"),
        "time t",
        "|v_n − target_n|",
    );
    err.log_y = true;
    for i in 0..n.min(5) {
        let learned: Vec<(f64, f64)> = (0..traj.times.len())
            .map(|s| {
                obj.readout
                    .apply(traj.state(i, s), setup.problem.data.point(i), &setup.rho, &mut z);
                (traj.times[s], z[0])
            })
            .collect();
        let target: Vec<(f64, f64)> = (1..traj.times.len())
            .map(|s| (traj.times[s], rt[(s - 1) * n * q + i * q]))
            .collect();
        let e: Vec<(f64, f64)> = learned[1..]
            .iter()
            .zip(&target)
            .map(|(a, b)| (a.0, (a.1 - b.1).abs()))
            .collect();
        fig.series
            .push(Series::line("learned v(t) (neural ODE)", learned).color(0usize));
        fig.series.push(
            Series::points("running target_n (scenario file)", target)
                .color(3usize)
                .marker(Marker::Circle, true),
        );
        err.series
            .push(Series::line("|v_n − target_n| (running targets of the objective)", e).color(0usize));
    }
    out.figures.push(("fit".into(), fig));
    out.figures.push(("fit-error".into(), err));
}

/// The trained flow in the phase plane: decision regions (classification) on a fine grid, each trajectory with
/// its start (open) and end (filled) marker in its colour, targets as crosses in the colour of their points.
fn trajectories_figure(
    setup: &Setup,
    traj: &Trajectory,
    region_grid: usize,
    name: &str,
    out: &mut StudyOutput,
) -> Result<()> {
    let p = &setup.problem;
    let obj = &setup.objective;
    let n = p.data.n();
    let q = obj.q();
    let mut z = vec![0.0; q];
    let mut fig = Figure {
        title: format!("{name}: trained trajectories"),
        x_label: "x₁".into(),
        y_label: "x₂".into(),
        equal_aspect: true,
        ..Figure::default()
    };
    let labels = p.data.labels.as_ref();
    if labels.is_some() {
        // Decision regions in input space: classify the trained flow of a grid of initial points.
        let ct = class_targets(setup);
        // The grid covers every drawn state (starts and trajectories), and the axes show exactly the grid.
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for i in 0..n {
            for st in 0..traj.times.len() {
                for c in 0..2 {
                    let v = traj.state(i, st)[c];
                    if v.is_finite() {
                        lo[c] = lo[c].min(v);
                        hi[c] = hi[c].max(v);
                    }
                }
            }
        }
        let g = region_grid.max(2);
        let pad: Vec<f64> = (0..2).map(|c| 0.04 * (hi[c] - lo[c]).max(1e-9)).collect();
        let (x0, x1) = (lo[0] - pad[0], hi[0] + pad[0]);
        let (y0, y1) = (lo[1] - pad[1], hi[1] + pad[1]);
        let (dx, dy) = ((x1 - x0) / g as f64, (y1 - y0) / g as f64);
        fig.x_range = Some((x0, x1));
        fig.y_range = Some((y0, y1));
        let grid: Vec<f64> = (0..g * g)
            .flat_map(|j| [x0 + (j % g) as f64 * dx + dx / 2.0, y0 + (j / g) as f64 * dy + dy / 2.0])
            .collect();
        let gt = p.simulate(&grid, &SaveAt::Final)?;
        for j in 0..g * g {
            obj.readout
                .apply(gt.state(j, 0), &grid[2 * j..2 * j + 2], &setup.rho, &mut z);
            let (cx, cy) = (x0 + (j % g) as f64 * dx, y0 + (j / g) as f64 * dy);
            fig.regions.push(Region {
                x0: cx,
                x1: cx + dx,
                y0: cy,
                y1: cy + dy,
                class: classify(obj, &z, &ct),
            });
        }
        fig.annotations.push(format!(
            "shading: class the trained flow assigns to each initial point ({g}×{g} grid)"
        ));
    }
    let per_point_targets = labels.is_none();
    let picks: Vec<usize> = (0..n.min(300)).map(|j| j * n / n.min(300)).collect();
    for &i in &picks {
        let color = Color::Palette(labels.map(|l| l[i]).unwrap_or(i));
        let pts: Vec<(f64, f64)> = (0..traj.times.len())
            .map(|s| (traj.state(i, s)[0], traj.state(i, s)[1]))
            .collect();
        push_trajectory(&mut fig, pts, color);
    }
    let mut has_targets = false;
    if matches!(obj.readout, Readout::Identity) {
        if let Targets::Vectors { data, .. } = &obj.targets {
            has_targets = true;
            let mut seen = std::collections::BTreeSet::new();
            for (i, t) in data.chunks(2).enumerate() {
                if !seen.insert((t[0].to_bits(), t[1].to_bits())) || seen.len() > 50 {
                    continue;
                }
                let color = Color::Palette(labels.map(|l| l[i]).unwrap_or(i));
                fig.series.push(
                    Series::unlabelled(vec![(t[0], t[1])], Mark::Points)
                        .color(color)
                        .marker(Marker::Cross, false),
                );
                if per_point_targets {
                    // Pair each end with its own target by a dotted line.
                    let end = traj.state(i, traj.times.len() - 1);
                    fig.series.push(
                        Series::unlabelled(vec![(end[0], end[1]), (t[0], t[1])], Mark::Line)
                            .color(color)
                            .stroke(crate::output::plot::Stroke::Dotted)
                            .width(0.7),
                    );
                }
            }
        }
    }
    fig.key = trajectory_key(has_targets);
    if let Some(l) = labels {
        let mut classes = l.clone();
        classes.sort_unstable();
        classes.dedup();
        for c in classes {
            fig.key.push(KeyEntry {
                label: format!("class {c}"),
                color: Color::Palette(c),
                kind: if fig.regions.is_empty() {
                    KeyKind::Line
                } else {
                    KeyKind::Patch
                },
            });
        }
    }
    out.figures.push(("trajectories".into(), fig));
    Ok(())
}
