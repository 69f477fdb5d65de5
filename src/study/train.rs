//! `train`: optimal-control training of the controls (and readout parameters) by gradient descent, momentum,
//! RMSprop, Adam or L-BFGS on the exact discrete gradient (SPEC §3), full batch or minibatch, with learning-rate
//! schedules and stopping rules. Writes `history.csv` (iteration, J, its split into terminal, running and
//! regulariser parts and the study's error measure — see [`super::train_output`] — gradient norm, learning rate),
//! `controls.csv` (interval, t_k and the field's named control values; loadable with `--controls`), `final.csv`
//! (point, label, start, end, target, readout), `readout.csv` (if trainable), `summary.json`, and figures: the
//! objective and its parts against iteration, the controls u(t) as a step plot, trajectories with start/end/target
//! markers over the decision regions (2-D classification), and for a 1-D trajectory fit the learned against the
//! target trajectory with the pointwise error.
//! A diverging run (a non-finite loss or gradient, or the loss above 10³ × its start for 10 consecutive iterations:
//! [`crate::optim::executor`], configurable in `[train.divergence]`) stops with exit code 1 and keeps the history
//! written so far, with the rule that fired in summary.json and error.json.

use super::train_output::{evaluate, loss_figure, split_and_error, ErrorMeasure, History};
use super::{BenchKernel, Context, Plan, Study, StudyOutput};
use crate::adjoint::{GradProblem, LossGrad};
use crate::control::Control;
use crate::objective::{Objective, Targets};
use crate::optim::runner::{IterInfo, RunConfig, RunReport};
use crate::optim::schedule::Schedule;
use crate::optim::{minimize_with, Divergence, Gd, Method, OptimizerSpec, Proximal};
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
    /// Published values this run reproduces (`[[train.published]]`): each names a summary number (`key`, e.g.
    /// `final_loss`), the published `value`, its `source` and the `tolerance` rule; reported in `comparisons`.
    #[serde(default)]
    pub published: Vec<Published>,
    /// More seeds to train from after the scenario's own (same settings, seeded initialisation): their final
    /// losses are reported as `seed_spread` (and in the comparisons' notes).
    #[serde(default)]
    pub spread_seeds: Vec<u64>,
    /// Grid resolution of the decision-region figure (2-D classification; default 240 × 240, drawn as merged
    /// rows so the boundaries look smooth at print size).
    #[serde(default = "grid")]
    pub region_grid: usize,
    /// `[train.divergence]`: stop when J_k > factor · |J_0| for `window` consecutive iterations (default 10³, 10;
    /// a non-finite loss or gradient always stops the run).
    #[serde(default)]
    pub divergence: Divergence,
}

/// A published number a training scenario reproduces.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    /// The summary.json number compared (e.g. `final_loss`).
    pub key: String,
    /// What it is, in words.
    pub quantity: String,
    /// The published value.
    pub value: f64,
    /// Seed file and equation/table/section.
    pub source: String,
    /// How the measured value is compared (`{ kind = "at_most" }`, `{ kind = "relative", value = 0.1 }`, …).
    pub tolerance: crate::output::Tolerance,
}

fn lr() -> f64 {
    1e-2
}
fn yes() -> bool {
    true
}
fn grid() -> usize {
    240
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

/// Train again from each of `seeds` (same scenario, other seed) and report the final losses beside the main
/// run's as `seed_spread`; returns a one-line description for comparison notes.
fn seed_spread(file: &ScenarioFile, seeds: &[u64], main_loss: f64, out: &mut StudyOutput) -> Result<Option<String>> {
    use rayon::prelude::*;
    if seeds.is_empty() {
        return Ok(None);
    }
    let losses: Vec<f64> = seeds
        .par_iter()
        .map(|&seed| -> Result<f64> {
            let mut f = file.clone();
            f.scenario.seed = seed;
            let mut plan = TrainPlan::new(&f)?;
            plan.spec.spread_seeds.clear();
            plan.spec.published.clear();
            let mut o = StudyOutput::default();
            plan.run(&Context { file: &f, quiet: true }, &mut o)?;
            Ok(o.summary.get("final_loss").and_then(|v| v.as_f64()).unwrap_or(f64::NAN))
        })
        .collect::<Result<Vec<f64>>>()?;
    let mut all: Vec<(u64, f64)> = vec![(file.scenario.seed, main_loss)];
    all.extend(seeds.iter().copied().zip(losses));
    let vals: Vec<f64> = all.iter().map(|p| p.1).collect();
    let (lo, hi) = vals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let mut sorted = vals.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    out.set(
        "seed_spread",
        serde_json::json!({
            "seeds": all.iter().map(|p| p.0).collect::<Vec<_>>(),
            "final_losses": vals,
            "min": lo, "median": median, "max": hi,
        }),
    );
    let list: Vec<String> = all.iter().map(|(s, l)| format!("seed {s}: {l:.2e}")).collect();
    Ok(Some(format!(
        "final loss over {} seeds: {} (min {lo:.2e}, median {median:.2e}, max {hi:.2e})",
        all.len(),
        list.join(", ")
    )))
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
        let mut hist = History::new(ErrorMeasure::of(setup), s.max_iters);
        // θ of the latest evaluation, for the history's split of J (observer calls follow the evaluation of θ_k).
        let last_theta = std::cell::RefCell::new(theta.clone());
        let progress = Progress::new(s.max_iters as u64, "training", ctx.quiet);
        let t0 = Instant::now();
        let mut evals = 0usize;
        let mut objective = |th: &[f64], g: &mut [f64]| -> Result<f64> {
            last_theta.borrow_mut().copy_from_slice(th);
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
            let th = last_theta.borrow();
            let (u, rho) = th.split_at(nu);
            let rho = if train_rho { rho } else { &fixed_rho[..] };
            let last = info.iter + 1 >= s.max_iters;
            hist.record(setup, info.iter, last, info.loss, info.grad_norm, info.lr, u, rho);
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
        let hist_stride = hist.stride;
        let hist = hist.table;
        out.set("iterations_recorded", hist.len());
        out.set("history_split_every", hist_stride);
        out.set("evaluations", evals);
        let last_loss = hist.rows.last().map(|r| r[1]);
        out.figures.push(("loss".into(), loss_figure(&hist, &file.name())));
        out.tables.push(("history.csv".into(), hist));
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
        if !setup.rho.is_empty() {
            let mut r = Table::new(["rho"]);
            setup.rho.iter().for_each(|v| r.push(vec![*v]));
            out.tables.push(("readout.csv".into(), r));
        }
        let (split, _) = split_and_error(
            setup,
            setup.problem.control.values(),
            &setup.rho,
            ErrorMeasure::of(setup),
        )?;
        out.set("final_objective_split", split);
        evaluate(setup, s.region_grid, &file.name(), out)?;
        let spread = seed_spread(file, &s.spread_seeds, final_eval.loss, out)?;
        for pb in &s.published {
            let measured = out.summary.get(&pb.key).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
            let mut c = crate::output::Comparison::new(
                format!("{} (`{}`)", pb.quantity, pb.key),
                pb.value,
                measured,
                pb.tolerance,
                pb.source.clone(),
            );
            if let (Some(sp), "final_loss") = (&spread, pb.key.as_str()) {
                c = c.note(sp.clone());
            }
            out.comparisons.push(c);
        }
        Ok(())
    }
}
