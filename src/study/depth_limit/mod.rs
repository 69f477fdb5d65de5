//! `depth-limit`: the weight regularity of ResNets in the depth limit (seed 004, Susanna's thesis, chapter 4 on
//! the C10k data; SPEC §6). For every model of the scenario (a Table 4.2 class with an initialisation, see
//! [`catalogue`]), depth L and seed, the thesis' ResNet h_{k+1} = h_k + L^{−α} tanh(W_k h_k) with frozen embeddings
//! is trained by full-batch gradient descent on the discrete adjoint's exact gradient for T_L = ⌈Q ln L⌉ steps
//! ([`model`]), and the rescaled weight path 𝒲_k = L^β W_k is measured: its 1-variation at t = 0 and after
//! training, and the Theorem 3.3.3 invariants max_k |W_k|·L^β and max_k |W_{k+1} − W_k|·L^{1/γ+β}.
//!
//! Each (model, L, seed) is one unit ([`Units`]: ids `model=B12c,L=128,seed=0`), run in parallel (rayon, each
//! unit parallel inside over point blocks; thread-count independent results). Outputs ([`output`]): the thesis'
//! tables (Tables 4.3, 4.4, B.4: max over seeds, with the published value and the relative deviation beside each
//! measured one) as `table-<label>.csv|md|tex`, every run in `runs.csv`, figures of the weight paths against k/L
//! (`paths-<model>`) and of the 1-variation against L (`variation-<label>`, log–log, fitted slopes with 95 %
//! intervals, the t = 0 law dashed), and summary.json with the measured tables, slopes and `comparisons` (the
//! acceptance tolerances of issue 14; float32 round-off cells of the tables compared only as "below 1e−6").
//!
//! Scenario: `[data] kind = "c10k"` (n points; the first ⌊train_fraction·n⌋ are trained on) and
//! ```toml
//! [depth_limit]
//! depths = [128, 256, 512]        # L ≥ 2, increasing
//! seeds = 3                       # seed indices 0 … seeds−1 (data, embeddings, initial weights)
//! models = ["B11t", "B12c"]       # <class><c | t | t-sqrt>, classes of Table 4.2
//! u_in = 0.95                     # fixed embeddings (both or neither; neither: U[−1, 1] per seed)
//! u_out = 0.77
//! fixed_embeddings_for = "constant" # `all` (default) or only the constant-init models (the others: random)
//! q = 5.0                         # T_L = ⌈q ln L⌉
//! train_fraction = 0.9
//! path_depths = [128, 512]        # depths drawn in the weight-path figures (default: all)
//! ```

pub mod catalogue;
pub mod model;
pub mod output;

use super::{BenchKernel, Context, Plan, Study, StudyOutput, Units};
use crate::output::Progress;
use crate::scenario::budget::{Budget, Estimate};
use crate::scenario::schema::DataSpec;
use crate::scenario::sizes::threads;
use crate::scenario::ScenarioFile;
use crate::Result;
use catalogue::{parse_model, Class, Init};
use model::{Embeddings, FixedFor, RunResult, RunSpec, Settings};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Instant;

/// `[depth_limit]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthLimitSpec {
    /// Depths L.
    pub depths: Vec<usize>,
    /// Number of seeds.
    #[serde(default = "three")]
    pub seeds: usize,
    /// Model names.
    pub models: Vec<String>,
    /// Fixed input embedding.
    pub u_in: Option<f64>,
    /// Fixed output embedding.
    pub u_out: Option<f64>,
    /// Which models use the fixed embeddings: `all` (default) or `constant`.
    pub fixed_embeddings_for: Option<FixedFor>,
    /// T_L = ⌈q ln L⌉.
    #[serde(default = "five")]
    pub q: f64,
    /// Fraction of the data trained on.
    #[serde(default = "ninety")]
    pub train_fraction: f64,
    /// Depths drawn in the weight-path figures.
    pub path_depths: Option<Vec<usize>>,
}

fn three() -> usize {
    3
}
fn five() -> f64 {
    5.0
}
fn ninety() -> f64 {
    0.9
}

/// Largest depth (2^20 layers; the thesis goes to 2^15).
pub const MAX_DEPTH: usize = 1 << 20;
/// Most seeds.
pub const MAX_SEEDS: usize = 1000;
/// Most data points (the thesis' C10k has 10⁴).
pub const MAX_POINTS: usize = 10_000_000;

/// The depth-limit study.
pub struct DepthLimit;

/// A validated depth-limit study: every (model, L, seed) unit.
pub struct DepthPlan {
    pub settings: Settings,
    /// (name, class, init) in scenario order.
    pub models: Vec<(String, Class, Init)>,
    pub depths: Vec<usize>,
    pub seeds: usize,
    pub path_depths: Vec<usize>,
    pub units: Vec<RunSpec>,
}

fn spec(f: &ScenarioFile) -> Result<DepthPlan> {
    let s: DepthLimitSpec = f.required_table("depth_limit")?;
    for (present, name) in [
        (f.scenario.model.is_some(), "model"),
        (f.scenario.time.is_some(), "time"),
        (f.scenario.controls.is_some(), "controls"),
        (f.scenario.objective.is_some(), "objective"),
    ] {
        if present {
            return Err(f.error(
                name,
                format!(
                    "the depth-limit study builds its own model (resnet tanh, d = 1, Euler with h = L^−α on L \
                     layers, mean squared error; SPEC §6); remove [{name}]"
                ),
            ));
        }
    }
    let n = match &f.scenario.data {
        Some(DataSpec::C10k { n, seed }) => {
            if seed.is_some() {
                return Err(f.error(
                    "data.seed",
                    "the depth-limit study derives each seed's C10k points from the scenario seed and the seed \
                     index; remove data.seed",
                ));
            }
            if *n == 0 || *n > MAX_POINTS {
                return Err(f.error("data.n", format!("expected 1 ≤ n ≤ {MAX_POINTS}")));
            }
            *n
        }
        Some(_) => {
            return Err(f.error(
                "data.kind",
                "the depth-limit study trains on C10k: expected kind = \"c10k\"",
            ))
        }
        None => return Err(f.error("data", "missing table [data] (expected kind = \"c10k\", SPEC §6)")),
    };
    if s.depths.is_empty() {
        return Err(f.error("depth_limit.depths", "expected at least one depth"));
    }
    for (i, &l) in s.depths.iter().enumerate() {
        if !(2..=MAX_DEPTH).contains(&l) {
            return Err(f.error(
                &format!("depth_limit.depths[{i}]"),
                format!("depth {l}: expected 2 ≤ L ≤ {MAX_DEPTH}"),
            ));
        }
        if i > 0 && l <= s.depths[i - 1] {
            return Err(f.error(&format!("depth_limit.depths[{i}]"), "expected increasing depths"));
        }
    }
    if s.seeds == 0 || s.seeds > MAX_SEEDS {
        return Err(f.error("depth_limit.seeds", format!("expected 1 ≤ seeds ≤ {MAX_SEEDS}")));
    }
    if s.models.is_empty() {
        return Err(f.error("depth_limit.models", "expected at least one model, e.g. \"B12c\""));
    }
    let mut models = Vec::new();
    for (i, m) in s.models.iter().enumerate() {
        let field = format!("depth_limit.models[{i}]");
        let (c, init) = parse_model(m).ok_or_else(|| {
            f.error(
                &field,
                format!(
                    "unknown model `{m}`; expected a Table 4.2 class B11 B12 B13 B21 B22 B23 B31 B32 B33 C11 C12 \
                     C13 C21 C22 C23 followed by c (constant), t (truncated normal, σ = m_L at ±1σ) or t-sqrt \
                     (σ = √m_L at ±m_L)"
                ),
            )
        })?;
        if models.iter().any(|(n, _, _): &(String, Class, Init)| n == m) {
            return Err(f.error(&field, format!("model `{m}` is listed twice")));
        }
        models.push((m.clone(), *c, init));
    }
    if !(s.q.is_finite() && s.q > 0.0 && s.q <= 100.0) {
        return Err(f.error(
            "depth_limit.q",
            "expected 0 < q ≤ 100 (T_L = ⌈q ln L⌉; the thesis uses 5)",
        ));
    }
    if !(s.train_fraction > 0.0 && s.train_fraction <= 1.0) {
        return Err(f.error("depth_limit.train_fraction", "expected 0 < train_fraction ≤ 1"));
    }
    let embeddings = match (s.u_in, s.u_out) {
        (None, None) => Embeddings::Random,
        (Some(u_in), Some(u_out)) => {
            for (v, k) in [(u_in, "u_in"), (u_out, "u_out")] {
                if !v.is_finite() || v.abs() > 1e6 {
                    return Err(f.error(
                        &format!("depth_limit.{k}"),
                        "expected a finite number with |value| ≤ 10^6",
                    ));
                }
            }
            Embeddings::Fixed { u_in, u_out }
        }
        (Some(_), None) => return Err(f.error("depth_limit.u_in", "give u_out too (or neither: random embeddings)")),
        (None, Some(_)) => return Err(f.error("depth_limit.u_out", "give u_in too (or neither: random embeddings)")),
    };
    if s.fixed_embeddings_for.is_some() && embeddings == Embeddings::Random {
        return Err(f.error(
            "depth_limit.fixed_embeddings_for",
            "only with fixed embeddings: give u_in and u_out (or remove fixed_embeddings_for)",
        ));
    }
    let path_depths = match &s.path_depths {
        None => s.depths.clone(),
        Some(p) => {
            if let Some(i) = p.iter().position(|l| !s.depths.contains(l)) {
                return Err(f.error(
                    &format!("depth_limit.path_depths[{i}]"),
                    format!("depth {} is not among depth_limit.depths", p[i]),
                ));
            }
            p.clone()
        }
    };
    let l_max = *s.depths.last().expect("non-empty") as f64;
    let n_tr = model::n_train(n, s.train_fraction) as f64;
    let mut est = Estimate::new();
    est.add(
        "points, weights and gradients of the runs in flight (per thread)",
        &[("depth_limit.depths", l_max + n as f64), ("", threads())],
        48.0,
    );
    est.add(
        "gradient tapes of the runs in flight (per thread, at most the engine's tape budget)",
        &[("depth_limit.depths", l_max.min(1e6)), ("", threads() * threads())],
        2.0 * std::mem::size_of::<crate::simd::Lanes>() as f64,
    );
    let kept: f64 = path_depths.iter().map(|&l| l as f64).sum();
    est.add(
        "weight paths kept for the figures",
        &[
            ("depth_limit.path_depths", kept),
            ("depth_limit.models", models.len() as f64),
        ],
        40.0,
    );
    est.add(
        "per-run results",
        &[
            ("depth_limit.depths", s.depths.len() as f64),
            ("depth_limit.seeds", s.seeds as f64),
            ("depth_limit.models", models.len() as f64),
        ],
        512.0,
    );
    est.draws("C10k points per run", &[("data.n", n_tr)]);
    est.check(f, &Budget::current()?)?;
    let mut units = Vec::new();
    for (name, class, init) in &models {
        for &l in &s.depths {
            for seed in 0..s.seeds as u64 {
                units.push(RunSpec {
                    model: name.clone(),
                    class: *class,
                    init: *init,
                    l,
                    seed,
                    keep_path: seed == 0 && path_depths.contains(&l),
                });
            }
        }
    }
    Ok(DepthPlan {
        settings: Settings {
            q: s.q,
            n,
            train_fraction: s.train_fraction,
            master_seed: f.scenario.seed,
            embeddings,
            fixed_for: s.fixed_embeddings_for.unwrap_or(FixedFor::All),
        },
        models,
        depths: s.depths,
        seeds: s.seeds,
        path_depths,
        units,
    })
}

impl Study for DepthLimit {
    fn name(&self) -> &'static str {
        "depth-limit"
    }
    fn about(&self) -> &'static str {
        "ResNet weight paths in the depth limit (seed 004 Tables 4.3, 4.4, B.4): 1-variation and Theorem 3.3.3 invariants"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["depth_limit"]
    }
    fn prepare<'a>(&self, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        Ok(Box::new(spec(file)?))
    }
}

impl Units for DepthPlan {
    fn ids(&self) -> Vec<String> {
        self.units
            .iter()
            .map(|u| format!("model={},L={},seed={}", u.model, u.l, u.seed))
            .collect()
    }
    fn cost(&self, i: usize) -> f64 {
        let u = &self.units[i];
        let n = model::n_train(self.settings.n, self.settings.train_fraction) as f64;
        u.l as f64 * (model::train_steps(self.settings.q, u.l) as f64 + 1.0) * n
    }
    fn run_unit(&self, i: usize, _ctx: &Context) -> Result<Value> {
        let r = model::run(&self.settings, &self.units[i])?;
        Ok(crate::output::results::json_value(&r))
    }
    fn aggregate(&self, results: &[Value], out: &mut StudyOutput) -> Result<()> {
        let runs: Vec<RunResult> = results
            .iter()
            .zip(self.ids())
            .map(|(v, id)| {
                serde_json::from_value(v.clone()).map_err(|e| {
                    crate::Error::input(
                        "",
                        "units",
                        format!("result of unit `{id}` is not a depth-limit result: {e}"),
                    )
                })
            })
            .collect::<Result<_>>()?;
        output::write(self, &runs, out);
        Ok(())
    }
}

impl Plan for DepthPlan {
    fn units(&self) -> Option<&dyn Units> {
        Some(self)
    }
    fn bench_kernel(&mut self) -> Result<Option<BenchKernel<'_>>> {
        // One loss + gradient of the first model at the largest depth, seed 0.
        let u = self
            .units
            .iter()
            .filter(|u| u.seed == 0)
            .max_by_key(|u| u.l)
            .expect("at least one unit")
            .clone();
        let s = &self.settings;
        let (train, _) = model::data(s, 0);
        let (u_in, u_out) = model::embeddings(s.embeddings_for(u.init), s.master_seed, 0);
        let w = model::initial_weights(&u.class, u.init, u.l, s.master_seed, 0);
        let st = model::setup(&u.class, u.l, &train, u_in, u_out);
        Ok(Some(Box::new(move || {
            let g = st.loss_grad(&w, &[])?;
            Ok(json!({ "loss": g.loss, "model": u.model, "L": u.l, "points": train.len() }))
        })))
    }
    fn run(&mut self, ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        let t0 = Instant::now();
        let ids = self.ids();
        let progress = Progress::new(ids.len() as u64, "runs", ctx.quiet);
        // Largest units first, so that the pool is not left with one long run at the end; results are stored
        // by unit index, so their order (and the output) does not depend on the schedule.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by(|&a, &b| self.cost(b).total_cmp(&self.cost(a)).then(a.cmp(&b)));
        let mut results: Vec<(usize, Result<Value>)> = order
            .par_iter()
            .map(|&i| {
                let r = self.run_unit(i, ctx);
                progress.set_message(ids[i].clone());
                progress.inc(1);
                (i, r)
            })
            .collect();
        progress.finish();
        results.sort_by_key(|(i, _)| *i);
        let values: Vec<Value> = results.into_iter().map(|(_, r)| r).collect::<Result<_>>()?;
        out.timings.insert("training".into(), t0.elapsed().as_secs_f64());
        out.solver = json!({
            "field": "resnet σ(Wx), σ = tanh, d = 1",
            "scheme": "euler",
            "step": "h = L^−α (K = L intervals of [0, L^β], one step each)",
            "gradient": "discrete adjoint (checkpoint auto)",
            "optimizer": "full-batch gradient descent, T_L = ⌈q ln L⌉ steps",
            "q": self.settings.q,
        });
        let t1 = Instant::now();
        self.aggregate(&values, out)?;
        out.timings.insert("aggregate".into(), t1.elapsed().as_secs_f64());
        Ok(())
    }
}
