//! `train`: optimal-control training of the controls (and readout parameters) by gradient descent, momentum,
//! RMSprop, Adam or L-BFGS on the exact discrete gradient (SPEC §3), full batch or minibatch, with learning-rate
//! schedules and stopping rules. Writes `history.csv` (iteration, loss, gradient norm, learning rate),
//! `controls.csv` (trained, loadable with `--controls`), `readout.csv` (if trainable), `summary.json`, and figures:
//! loss against iteration (log scale), trajectories in the phase plane and decision regions (2-D classification).
//! A diverging run (a non-finite loss or gradient, or the loss above 10³ × its start for 10 consecutive iterations:
//! [`crate::optim::executor`], configurable in `[train.divergence]`) stops with exit code 1 and keeps the history
//! written so far, with the rule that fired in summary.json and error.json.

use super::{push_trajectory, BenchKernel, Context, Plan, Study, StudyOutput};
use crate::adjoint::{GradProblem, LossGrad};
use crate::control::Control;
use crate::integrate::SaveAt;
use crate::objective::{Loss, Objective, Readout, Targets};
use crate::optim::runner::{IterInfo, RunConfig, RunReport};
use crate::optim::schedule::Schedule;
use crate::optim::{minimize_with, Divergence, Gd, Method, OptimizerSpec, Proximal};
use crate::output::plot::{Figure, Mark, Region, Series};
use crate::output::progress::Progress;
use crate::output::table::Table;
use crate::problem::Setup;
use crate::scenario::budget::Estimate;
use crate::scenario::sizes::Sizes;
use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Deserialize;
use std::time::Instant;

/// `[train]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    /// `[train.optimizer]` with `method` = `gd` | `momentum` | `rmsprop` | `adam` | `lbfgs`.
    pub optimizer: OptimizerSpec,
    /// Base learning rate (ignored by L-BFGS, which line-searches).
    #[serde(default = "lr")]
    pub lr: f64,
    /// `[train.schedule]` with `kind` = `constant` | `piecewise` | `exponential` | `cosine`.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// Iteration budget.
    pub max_iters: usize,
    /// Stop when ‖∇J‖∞ ≤ tol_grad.
    pub tol_grad: Option<f64>,
    /// Stop when J ≤ target_loss.
    pub target_loss: Option<f64>,
    /// Minibatch size (default: full batch); batches are drawn per iteration from the scenario seed.
    pub batch_size: Option<usize>,
    /// Train the readout parameters too (default true when the readout has any).
    #[serde(default = "yes")]
    pub train_readout: bool,
    /// Grid resolution of the decision-region figure (2-D classification).
    #[serde(default = "grid")]
    pub region_grid: usize,
    /// `[train.divergence]`: stop when J_k > factor · |J_0| for `window` consecutive iterations (default 10³, 10;
    /// a non-finite loss or gradient always stops the run).
    #[serde(default)]
    pub divergence: Divergence,
}

fn lr() -> f64 {
    1e-2
}
fn yes() -> bool {
    true
}
fn grid() -> usize {
    80
}

fn spec(file: &ScenarioFile) -> Result<TrainSpec> {
    let s: TrainSpec = file.required_table("train")?;
    if !(s.lr.is_finite() && s.lr > 0.0) {
        return Err(file.error(
            "train.lr",
            format!("expected a finite learning rate > 0, found {}", crate::error::num(s.lr)),
        ));
    }
    if s.max_iters == 0 {
        return Err(file.error("train.max_iters", "expected an integer ≥ 1"));
    }
    if let Some(sc) = &s.schedule {
        sc.validate().map_err(|e| file.error("train.schedule", e))?;
    }
    for (k, v) in [("train.tol_grad", s.tol_grad), ("train.target_loss", s.target_loss)] {
        if let Some(v) = v {
            if !v.is_finite() {
                return Err(file.error(k, "expected a finite number"));
            }
        }
    }
    if s.batch_size == Some(0) {
        return Err(file.error("train.batch_size", "expected an integer ≥ 1"));
    }
    if s.batch_size.is_some() && matches!(s.optimizer, OptimizerSpec::Lbfgs { .. }) {
        return Err(file.error(
            "train.batch_size",
            "L-BFGS needs full-batch gradients (its line search compares losses); drop batch_size or use adam/gd",
        ));
    }
    s.optimizer.validate().map_err(|e| file.error("train.optimizer", e))?;
    s.divergence.validate().map_err(|e| file.error("train.divergence", e))?;
    if s.region_grid == 0 {
        return Err(file.error("train.region_grid", "expected an integer ≥ 1"));
    }
    Ok(s)
}

/// What a training run holds besides the problem ([`crate::scenario::budget`]): gradients, optimiser state, the
/// history of `max_iters` iterations, minibatches, and the evaluation with the trained controls (all S + 1 states
/// of every point, the decision-region grid, the figures and tables).
fn cost(file: &ScenarioFile, s: &TrainSpec, z: &Sizes, est: &mut Estimate) {
    file.gradient_terms(z, est);
    let (k, d) = (("time.intervals", z.k), (z.d_field, z.d.max(1.0)));
    let rho = file.readout_params(z);
    let per_param = match s.optimizer {
        OptimizerSpec::Lbfgs { memory } => ("train.optimizer.memory", 2.0 * memory as f64 + 5.0),
        OptimizerSpec::Adam { .. } => ("", 4.0),
        _ => ("", 3.0),
    };
    est.add("optimiser state", &[per_param, k, d], 8.0);
    est.add(
        "optimiser state (readout)",
        &[per_param, ("objective.readout.outputs", rho)],
        8.0,
    );
    let iters = ("train.max_iters", s.max_iters as f64 + 1.0);
    est.table("history.csv", &[iters], ("", 4.0));
    est.add("loss figure and progress", &[iters], 48.0);
    if let Some(b) = s.batch_size {
        est.add(
            "minibatch",
            &[("train.batch_size", b as f64), ("model.dim", z.m + z.q)],
            16.0,
        );
    }
    let n = (z.n_field, z.n);
    est.add(
        "trained trajectories (all steps)",
        &[n, ("time.intervals", z.k), ("time.substeps", z.s), ("model.dim", z.m)],
        8.0,
    );
    est.add("one-hot targets", &[n, ("data.classes", z.classes)], 8.0);
    est.table("final.csv", &[n], ("model.dim", z.m + file.readout_outputs(z)));
    est.table("controls.csv", &[k], (z.d_field, z.d));
    let g = ("train.region_grid", s.region_grid as f64);
    est.add("decision-region grid", &[g, g], 96.0);
    est.add(
        "trajectory figure",
        &[("", z.n.min(300.0)), ("time.intervals", z.k), ("time.substeps", z.s)],
        48.0,
    );
}

/// Loss and exact gradient for the setup at (u, ρ): the block engine's discrete adjoint (the path `grad`,
/// `gradcheck` and `bench` use too).
pub fn loss_grad(setup: &Setup, u: &[f64], rho: &[f64]) -> Result<LossGrad> {
    setup.loss_grad(u, rho)
}

/// Objective restricted to the points `idx` (minibatch).
fn subset(setup: &Setup, idx: &[usize]) -> (Vec<f64>, Objective) {
    let x0: Vec<f64> = idx
        .iter()
        .flat_map(|&i| setup.problem.data.point(i).iter().copied())
        .collect();
    let mut obj = setup.objective.clone();
    obj.n = idx.len();
    obj.targets = match &setup.objective.targets {
        Targets::Vectors { q, data } => Targets::Vectors {
            q: *q,
            data: idx
                .iter()
                .flat_map(|&i| data[i * q..(i + 1) * q].iter().copied())
                .collect(),
        },
        Targets::Classes(c) => Targets::Classes(idx.iter().map(|&i| c[i]).collect()),
    };
    (x0, obj)
}

/// Optimal-control training study.
pub struct Train;

impl Study for Train {
    fn name(&self) -> &'static str {
        "train"
    }
    fn about(&self) -> &'static str {
        "train the controls by GD/Adam/RMSprop/L-BFGS on the exact discrete adjoint; loss history and figures"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["train"]
    }
    fn prepare<'a>(&self, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        Ok(Box::new(TrainPlan::new(file)?))
    }
}

/// A validated training run: settings and the differentiable problem, built once.
pub struct TrainPlan<'a> {
    file: &'a ScenarioFile,
    spec: TrainSpec,
    /// The differentiable problem (controls are replaced by the trained ones after [`Plan::run`]).
    pub setup: Setup,
}

impl<'a> TrainPlan<'a> {
    /// Parse `[train]`, build the problem and check that the settings fit it.
    pub fn new(file: &'a ScenarioFile) -> Result<Self> {
        let s = spec(file)?;
        file.grid()?;
        file.check_budget(|z, est| cost(file, &s, z, est))?;
        let setup = file.setup()?;
        if let Some(b) = s.batch_size {
            if b > setup.problem.data.n() {
                return Err(file.error(
                    "train.batch_size",
                    format!("larger than the {} data points", setup.problem.data.n()),
                ));
            }
        }
        if setup.objective.regularizer.as_ref().is_some_and(|r| r.is_proximal())
            && !matches!(s.optimizer, OptimizerSpec::Gd)
        {
            return Err(file.error(
                "train.optimizer",
                "the l1 regulariser is trained by proximal gradient descent: use method = \"gd\"",
            ));
        }
        Ok(TrainPlan { file, spec: s, setup })
    }
}

impl Plan for TrainPlan<'_> {
    fn bench_kernel(&mut self) -> Result<Option<BenchKernel<'_>>> {
        let setup = &self.setup;
        Ok(Some(Box::new(move || {
            let g = loss_grad(setup, setup.problem.control.values(), &setup.rho)?;
            let norm = g.controls.iter().chain(&g.readout).map(|v| v * v).sum::<f64>().sqrt();
            Ok(serde_json::json!({ "loss": g.loss, "grad_norm": norm }))
        })))
    }
    fn run(&mut self, ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        let file = self.file;
        let s = &self.spec;
        let setup = &mut self.setup;
        let p = &setup.problem;
        out.solver = serde_json::json!({
            "scheme": p.solver.scheme.name(), "substeps": p.solver.substeps, "intervals": p.control.grid().intervals,
            "horizon": p.control.grid().horizon, "checkpoint": setup.checkpoint, "optimizer": s.optimizer,
            "lr": s.lr, "schedule": s.schedule, "batch_size": s.batch_size,
        });
        let nu = p.control.values().len();
        let d = p.control.dim();
        let h = p.control.grid().h();
        let train_rho = s.train_readout && !setup.rho.is_empty();
        let mut theta: Vec<f64> = p
            .control
            .values()
            .iter()
            .copied()
            .chain(if train_rho { setup.rho.clone() } else { vec![] })
            .collect();
        let fixed_rho = setup.rho.clone();
        let n = p.data.n();
        let seed = file.scenario.seed;
        let mut hist = Table::new(["iteration", "loss", "grad_norm", "lr"]);
        let progress = Progress::new(s.max_iters as u64, "training", ctx.quiet);
        let t0 = Instant::now();
        let mut evals = 0usize;
        let mut objective = |th: &[f64], g: &mut [f64]| -> Result<f64> {
            let (u, rho) = th.split_at(nu);
            let rho = if train_rho { rho } else { &fixed_rho[..] };
            let lg = match s.batch_size.filter(|&b| b < n) {
                None => loss_grad(setup, u, rho)?,
                Some(b) => {
                    let mut rng =
                        rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ (evals as u64).wrapping_mul(0x9E37_79B9));
                    let mut idx: Vec<usize> = (0..n).collect();
                    idx.shuffle(&mut rng);
                    idx.truncate(b);
                    idx.sort_unstable();
                    let (x0, obj) = subset(setup, &idx);
                    let mut gp: GradProblem = setup.grad_problem();
                    gp.x0 = &x0;
                    gp.objective = &obj;
                    gp.loss_grad(u, rho)?
                }
            };
            evals += 1;
            g[..nu].copy_from_slice(&lg.controls);
            if train_rho {
                g[nu..].copy_from_slice(&lg.readout);
            }
            Ok(lg.loss)
        };
        let mut initial = None;
        let mut observer = |info: &IterInfo| -> bool {
            initial.get_or_insert(info.loss);
            hist.push(vec![info.iter as f64, info.loss, info.grad_norm, info.lr]);
            progress.inc(1);
            progress.set_message(format!("loss {:.3e}", info.loss));
            true
        };
        // One loop for every method (crate::optim::executor): the l1 regulariser's proximal map wraps GD.
        let mut method: Box<dyn Method + Send> = match (&setup.objective.regularizer, &s.optimizer) {
            (Some(r), OptimizerSpec::Gd) if r.is_proximal() => {
                let reg = r.clone();
                Box::new(Proximal::new("proximal_gd", Gd, move |th: &mut [f64], lr: f64| {
                    reg.prox(&mut th[..nu], d, h, lr)
                }))
            }
            (_, spec) => spec.method(theta.len()),
        };
        let cfg = RunConfig {
            max_iters: s.max_iters,
            lr: s.lr,
            schedule: s.schedule.clone().unwrap_or(Schedule::Constant),
            tol_grad: s.tol_grad.unwrap_or(0.0),
            target_loss: s.target_loss,
            tol_rel_loss: None,
            divergence: s.divergence,
        };
        let result: Result<RunReport> = minimize_with(&mut objective, &mut theta, method.as_mut(), &cfg, &mut observer);
        progress.finish();
        out.timings.insert("train".into(), t0.elapsed().as_secs_f64());
        out.set("initial_loss", initial);
        out.set("iterations_recorded", hist.len());
        out.set("evaluations", evals);
        let last_loss = hist.rows.last().map(|r| r[1]);
        out.tables.push(("history.csv".into(), hist.clone()));
        out.figures.push(("loss".into(), loss_figure(&hist, &file.name())));
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                out.set("stop_reason", "diverged");
                out.set("last_finite_loss", last_loss);
                if let Error::Diverged { rule, iteration, .. } = &e {
                    out.set("divergence_rule", rule);
                    out.set("diverged_at_iteration", iteration);
                }
                out.set("error", e.to_string());
                return Err(e);
            }
        };
        // Install the trained parameters.
        setup.problem.control.values_mut().copy_from_slice(&theta[..nu]);
        if train_rho {
            setup.rho.copy_from_slice(&theta[nu..]);
        }
        let final_eval = loss_grad(setup, setup.problem.control.values(), &setup.rho)?;
        out.set("final_loss", final_eval.loss);
        out.set("iterations", report.iterations);
        out.set("stop_reason", format!("{:?}", report.stop));
        out.set(
            "grad_norm",
            final_eval
                .controls
                .iter()
                .chain(&final_eval.readout)
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt(),
        );
        let mut ctab = Table::new((1..=d).map(|j| format!("u{j}")));
        for row in setup.problem.control.values().chunks(d) {
            ctab.push(row.to_vec());
        }
        out.tables.push(("controls.csv".into(), ctab));
        if !setup.rho.is_empty() {
            let mut r = Table::new(["rho"]);
            setup.rho.iter().for_each(|v| r.push(vec![*v]));
            out.tables.push(("readout.csv".into(), r));
        }
        evaluate(setup, s, &file.name(), out)?;
        Ok(())
    }
}

fn loss_figure(hist: &Table, name: &str) -> Figure {
    Figure {
        title: format!("{name}: training loss"),
        x_label: "iteration".into(),
        y_label: "J".into(),
        log_y: true,
        series: vec![Series {
            label: Some("J(u)".into()),
            points: hist.rows.iter().map(|r| (r[0], r[1])).collect(),
            mark: Mark::Line,
            color: Some(0),
        }],
        ..Figure::default()
    }
}

/// Predicted class of a readout value (classification data only).
fn classify(obj: &Objective, z: &[f64], class_targets: &[Vec<f64>]) -> usize {
    match obj.loss {
        Loss::CrossEntropy => z
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0),
        Loss::Logistic => usize::from(z[0] > 0.0),
        Loss::Squared => class_targets
            .iter()
            .enumerate()
            .min_by(|a, b| dist(a.1, z).total_cmp(&dist(b.1, z)))
            .map(|(i, _)| i)
            .unwrap_or(0),
    }
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Accuracy / interpolation error, trajectories and decision regions with the trained parameters.
fn evaluate(setup: &Setup, s: &TrainSpec, name: &str, out: &mut StudyOutput) -> Result<()> {
    let p = &setup.problem;
    let obj = &setup.objective;
    let (m, n) = (p.data.m, p.data.n());
    let traj = p.simulate(&p.data.x, &SaveAt::Steps)?;
    let last = traj.times.len() - 1;
    let q = obj.q();
    let mut z = vec![0.0; q];
    let readout = |x: &[f64], x0: &[f64], z: &mut [f64]| obj.readout.apply(x, x0, &setup.rho, z);
    // Readout error against vector targets (max over points), e.g. the interpolation error max_i ‖X_T − y_i‖.
    if let Targets::Vectors { q, data } = &obj.targets {
        let mut max_err: f64 = 0.0;
        for i in 0..n {
            readout(traj.state(i, last), p.data.point(i), &mut z);
            max_err = max_err.max(dist(&z, &data[i * q..(i + 1) * q]).sqrt());
        }
        out.set("max_target_error", max_err);
    }
    let mut class_targets = Vec::new();
    if let (Some(labels), Targets::Vectors { q, data }) = (&p.data.labels, &obj.targets) {
        class_targets = vec![vec![0.0; *q]; p.data.n_classes];
        for (c, t) in class_targets.iter_mut().enumerate() {
            if let Some(i) = labels.iter().position(|&l| l == c) {
                *t = data[i * q..(i + 1) * q].to_vec();
            }
        }
    }
    if let Some(labels) = &p.data.labels {
        let correct = (0..n)
            .filter(|&i| {
                readout(traj.state(i, last), p.data.point(i), &mut z);
                classify(obj, &z, &class_targets) == labels[i]
            })
            .count();
        out.set("accuracy", correct as f64 / n as f64);
    }
    let mut ftab = Table::new((1..=m).map(|c| format!("x{c}")).chain((1..=q).map(|c| format!("z{c}"))));
    for i in 0..n {
        readout(traj.state(i, last), p.data.point(i), &mut z);
        ftab.push(traj.state(i, last).iter().chain(z.iter()).copied().collect());
    }
    out.tables.push(("final.csv".into(), ftab));
    if m != 2 {
        return Ok(());
    }
    let mut fig = Figure {
        title: format!("{name}: trained trajectories"),
        x_label: "x1".into(),
        y_label: "x2".into(),
        equal_aspect: true,
        ..Figure::default()
    };
    // Decision regions in input space: classify the trained flow of a grid of initial points.
    if p.data.labels.is_some() {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for i in 0..n {
            for c in 0..2 {
                lo[c] = lo[c].min(p.data.point(i)[c]);
                hi[c] = hi[c].max(p.data.point(i)[c]);
            }
        }
        let g = s.region_grid.max(2);
        let pad: Vec<f64> = (0..2).map(|c| 0.05 * (hi[c] - lo[c]).max(1e-9)).collect();
        let (x0, x1) = (lo[0] - pad[0], hi[0] + pad[0]);
        let (y0, y1) = (lo[1] - pad[1], hi[1] + pad[1]);
        let (dx, dy) = ((x1 - x0) / g as f64, (y1 - y0) / g as f64);
        let grid: Vec<f64> = (0..g * g)
            .flat_map(|j| [x0 + (j % g) as f64 * dx + dx / 2.0, y0 + (j / g) as f64 * dy + dy / 2.0])
            .collect();
        let gt = p.simulate(&grid, &SaveAt::Final)?;
        for j in 0..g * g {
            readout(gt.state(j, 0), &grid[2 * j..2 * j + 2], &mut z);
            let class = classify(obj, &z, &class_targets);
            let (cx, cy) = (x0 + (j % g) as f64 * dx, y0 + (j / g) as f64 * dy);
            fig.regions.push(Region {
                x0: cx,
                x1: cx + dx,
                y0: cy,
                y1: cy + dy,
                class,
            });
        }
    }
    let picks: Vec<usize> = (0..n.min(300)).map(|j| j * n / n.min(300)).collect();
    for &i in &picks {
        let color = p.data.labels.as_ref().map(|l| l[i]);
        let pts: Vec<(f64, f64)> = (0..traj.times.len())
            .map(|s| (traj.state(i, s)[0], traj.state(i, s)[1]))
            .collect();
        push_trajectory(&mut fig, pts, color, false);
    }
    if matches!(obj.readout, Readout::Identity) {
        if let Targets::Vectors { data, .. } = &obj.targets {
            let mut seen = std::collections::BTreeSet::new();
            let pts: Vec<(f64, f64)> = data
                .chunks(2)
                .filter(|t| seen.insert((t[0].to_bits(), t[1].to_bits())))
                .map(|t| (t[0], t[1]))
                .take(50)
                .collect();
            fig.series.push(Series {
                label: Some("targets".into()),
                points: pts,
                mark: Mark::Points,
                color: Some(3),
            });
        }
    }
    fig.annotations
        .push("regions: class of the trained flow's readout".into());
    out.figures.push(("trajectories".into(), fig));
    Ok(())
}
