//! `young-convergence`: strong convergence rates of the Young schemes (SPEC §2; seed 004 §2.1.1) on rough and smooth
//! drivers.
//!
//! For each driver — fractional Brownian motion with Hurst H (several seeded sample paths per H), a smooth path given
//! by formulas, or a piecewise-linear path from a CSV — the path is built once at a fine resolution (`fine_steps`
//! uniform knots, or the data's own knots) and held as the piecewise-linear path through them
//! ([`crate::control::path`]). The **reference** solution is classical RK4 with one step per fine interval: on each
//! fine interval the path is linear, so the ODE there is smooth and RK4's local error is O(|ΔU|⁵) — far below the
//! coarse errors. Each scheme then solves on every coarser mesh K (dividing `fine_steps`) with the increments and
//! Lévy areas of the **same** path over the coarse intervals, and the strong error is
//!
//! ```text
//!   e(K) = max_{k ≤ K} ‖X^K_{t_k} − X^ref_{t_k}‖∞        (sup over the coarse grid, max-norm)
//! ```
//!
//! The rate of a path is the least-squares slope of log e(K) against log h (h = T/K); the reported rate per scheme
//! and driver is the mean over paths with a 95 % confidence interval mean ± t₀.₉₇₅(n−1)·sd/√n (for a single path:
//! the regression interval of its slope). Because least squares is linear in the data, the mean of the per-path
//! slopes is also the slope of the mean log error, which is what the figures draw (geometric mean error per mesh).
//!
//! Outputs: `errors.csv` (tidy: driver, H, path, seed, scheme, mesh, h, error), `rates.csv`, one figure per driver
//! (`young-fbm-H0.6`, …, `young-smooth`, `young-data`: error against h on log–log with the fitted slopes and the
//! theoretical slopes dashed), and in summary.json `"rates": {scheme: {H: {rate, ci95, theory, paths}}}` (H is
//! `"0.6"`, …, `"smooth"`, `"data"`) with `comparisons` for issue 14's acceptance thresholds and SPEC §2's measured
//! rates. Units: one per (driver, H) ([`Units`]); paths run in parallel, each path's arithmetic is independent of the
//! thread count and results are combined in path order.

mod report;

use super::{Context, Plan, Study, StudyOutput, Units};
use crate::control::fbm::{Fbm, FbmSampler};
use crate::control::{Formula, LinearPath, PathControl, Regularity};
use crate::field::VectorField;
use crate::integrate::young::require_control_affine;
use crate::integrate::{simulate, SaveAt, SchemeKind, Solver};
use crate::output::progress::Progress;
use crate::output::table::read_csv;
use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

/// Most fine steps of one path (memory: the coarse areas and the reference trajectory, ~100 bytes per step).
pub const MAX_FINE_STEPS: usize = 1 << 22;
/// Most sample paths per Hurst index.
pub const MAX_PATHS: usize = 10_000;
/// Most fine steps summed over every path of a scenario (bounds the run time to minutes).
pub const MAX_TOTAL_FINE_STEPS: u64 = 1 << 31;
/// Most numbers one path holds at its fine resolution: fine_steps × (2d + d²) for the increments, rates and
/// areas, and fine_steps × m for the reference trajectory (2^25 numbers = 256 MiB, per path running in parallel).
pub const MAX_PATH_NUMBERS: u64 = 1 << 25;

/// `[young]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YoungSpec {
    /// Initial state X_0 (m numbers).
    x0: Vec<f64>,
    /// Horizon T.
    #[serde(default = "one")]
    horizon: f64,
    /// Schemes to measure (fixed-step; Euler is Euler–Young with a path driver).
    #[serde(default = "default_schemes")]
    schemes: Vec<SchemeKind>,
    fbm: Option<FbmDriver>,
    smooth: Option<SmoothDriver>,
    data: Option<DataDriver>,
}

/// `[young.fbm]`: fBm sample paths.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FbmDriver {
    /// Hurst indices H ∈ (½, 1).
    hurst: Vec<f64>,
    /// Sample paths per H.
    paths: usize,
    /// Fine resolution of each path (and of the reference solution).
    fine_steps: usize,
    /// Coarse meshes K (each divides `fine_steps`).
    meshes: Vec<usize>,
}

/// `[young.smooth]`: one smooth path, one formula per component.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmoothDriver {
    components: Vec<Formula>,
    fine_steps: usize,
    meshes: Vec<usize>,
}

/// `[young.data]`: a piecewise-linear path from a CSV with a header, a time column `t` (starting at 0) and one
/// column per component.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataDriver {
    file: String,
    fine_steps: usize,
    meshes: Vec<usize>,
}

fn one() -> f64 {
    1.0
}
fn default_schemes() -> Vec<SchemeKind> {
    ["euler", "young-step2", "young-step2-simplified"]
        .iter()
        .filter_map(|n| SchemeKind::parse(n))
        .collect()
}

/// The Young convergence study.
pub struct YoungConvergence;

impl Study for YoungConvergence {
    fn name(&self) -> &'static str {
        "young-convergence"
    }
    fn about(&self) -> &'static str {
        "strong rates of Euler-Young and step-2 Young schemes on fBm and smooth paths (fits with 95 % CI over paths)"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["young"]
    }
    fn prepare<'a>(&self, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        Ok(Box::new(YoungPlan::new(file)?))
    }
}

/// How one driver's paths are made.
pub(crate) enum Source {
    /// fBm with this Hurst index, sampled by this sampler.
    Fbm { hurst: f64, sampler: FbmSampler },
    /// One smooth path (already sampled).
    Smooth(LinearPath),
    /// One data path.
    Data(LinearPath),
}

/// One unit: a driver (and H) with its paths and meshes.
pub(crate) struct Unit {
    pub(crate) source: Source,
    pub(crate) paths: usize,
    pub(crate) fine_steps: usize,
    pub(crate) meshes: Vec<usize>,
}

impl Unit {
    /// `fbm`, `smooth` or `data`.
    pub(crate) fn driver(&self) -> &'static str {
        match self.source {
            Source::Fbm { .. } => "fbm",
            Source::Smooth(_) => "smooth",
            Source::Data(_) => "data",
        }
    }
    /// The key in `rates`: the Hurst index as written (`0.6`), `smooth` or `data`.
    pub(crate) fn key(&self) -> String {
        match self.source {
            Source::Fbm { hurst, .. } => format!("{hurst}"),
            _ => self.driver().to_string(),
        }
    }
    pub(crate) fn hurst(&self) -> Option<f64> {
        match self.source {
            Source::Fbm { hurst, .. } => Some(hurst),
            _ => None,
        }
    }
    /// The regularity the schemes' theoretical orders are taken at (none for data).
    pub(crate) fn regularity(&self) -> Option<Regularity> {
        match self.source {
            Source::Fbm { hurst, .. } => Some(Regularity::Holder(hurst)),
            Source::Smooth(_) => Some(Regularity::Smooth),
            Source::Data(_) => None,
        }
    }
}

/// The validated study.
pub(crate) struct YoungPlan {
    pub(crate) field: Box<dyn VectorField>,
    pub(crate) x0: Vec<f64>,
    pub(crate) horizon: f64,
    pub(crate) schemes: Vec<SchemeKind>,
    pub(crate) units: Vec<Unit>,
    pub(crate) seed: u64,
}

/// splitmix64 (Steele, Lea & Flood 2014): the seed of a path from (scenario seed, H, path index), so a path's seed
/// never depends on what else the scenario lists.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seed of fBm path `p` at Hurst index `hurst`.
pub fn path_seed(seed: u64, hurst: f64, p: usize) -> u64 {
    mix(seed ^ mix(hurst.to_bits() ^ mix(p as u64)))
}

fn check_meshes(f: &ScenarioFile, at: &str, fine: usize, meshes: &[usize]) -> Result<()> {
    if fine == 0 || fine > MAX_FINE_STEPS {
        return Err(f.error(
            &format!("{at}.fine_steps"),
            format!("expected between 1 and {MAX_FINE_STEPS} fine steps, found {fine}"),
        ));
    }
    if meshes.len() < 3 || meshes.windows(2).any(|w| w[1] <= w[0]) || meshes[0] == 0 {
        return Err(f.error(
            &format!("{at}.meshes"),
            "expected at least 3 increasing mesh sizes K ≥ 1 (coarse step counts)",
        ));
    }
    if let Some(i) = meshes.iter().position(|&k| k >= fine || !fine.is_multiple_of(k)) {
        return Err(f.error_at(
            &format!("{at}.meshes"),
            &format!("{at}.meshes[{i}]"),
            format!(
                "mesh {} must divide fine_steps = {fine} and be smaller (the coarse grid subsamples the fine path)",
                meshes[i]
            ),
        ));
    }
    Ok(())
}

impl YoungPlan {
    fn new(f: &ScenarioFile) -> Result<Self> {
        let s: YoungSpec = f.required_table("young")?;
        let field = f.field()?;
        require_control_affine(field.as_ref()).map_err(|e| f.error("model.family", e))?;
        let (m, d) = (field.state_dim(), field.control_dim());
        if s.x0.len() != m || s.x0.iter().any(|v| !v.is_finite()) {
            return Err(f.error(
                "young.x0",
                format!("expected {m} finite numbers (model.dim = {m}), found {:?}", s.x0),
            ));
        }
        if !(s.horizon.is_finite() && s.horizon > 0.0) {
            return Err(f.error("young.horizon", format!("expected a finite T > 0, found {}", s.horizon)));
        }
        if s.schemes.is_empty() || s.schemes.contains(&SchemeKind::Dopri5) {
            return Err(f.error(
                "young.schemes",
                format!(
                    "expected one or more fixed-step schemes ({})",
                    SchemeKind::fixed_all()
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let per_step = (2 * d + d * d).max(m) as u64;
        let fits = |at: &str, fine: usize| -> Result<()> {
            if (fine as u64 + 1).saturating_mul(per_step) > MAX_PATH_NUMBERS {
                return Err(f.error(
                    &format!("{at}.fine_steps"),
                    format!(
                        "{fine} fine steps with d = {d} control components and m = {m} states hold {} numbers per \
                         path: expected at most {MAX_PATH_NUMBERS} (fewer fine steps)",
                        (fine as u64 + 1).saturating_mul(per_step)
                    ),
                ));
            }
            Ok(())
        };
        let mut units = Vec::new();
        let mut total: u64 = 0;
        if let Some(fb) = &s.fbm {
            check_meshes(f, "young.fbm", fb.fine_steps, &fb.meshes)?;
            fits("young.fbm", fb.fine_steps)?;
            if fb.paths == 0 || fb.paths > MAX_PATHS {
                return Err(f.error(
                    "young.fbm.paths",
                    format!(
                        "expected between 1 and {MAX_PATHS} paths per Hurst index, found {}",
                        fb.paths
                    ),
                ));
            }
            if fb.hurst.is_empty() {
                return Err(f.error("young.fbm.hurst", "expected at least one Hurst index"));
            }
            for (i, &h) in fb.hurst.iter().enumerate() {
                let at = format!("young.fbm.hurst[{i}]");
                if !(h.is_finite() && h > 0.5 && h < 1.0) {
                    return Err(f.error_at(
                        "young.fbm.hurst",
                        &at,
                        format!(
                            "Hurst index {h}: Young integration needs H ∈ (½, 1) (paths of finite p-variation, p < 2)"
                        ),
                    ));
                }
                if fb.hurst[..i].contains(&h) {
                    return Err(f.error_at("young.fbm.hurst", &at, format!("Hurst index {h} is listed twice")));
                }
                let fbm = Fbm {
                    hurst: h,
                    horizon: s.horizon,
                    steps: fb.fine_steps,
                };
                let sampler = FbmSampler::new(&fbm).map_err(|e| f.error_at("young.fbm.hurst", &at, e.to_string()))?;
                total += (fb.paths * fb.fine_steps) as u64;
                units.push(Unit {
                    source: Source::Fbm { hurst: h, sampler },
                    paths: fb.paths,
                    fine_steps: fb.fine_steps,
                    meshes: fb.meshes.clone(),
                });
            }
        }
        if let Some(sm) = &s.smooth {
            check_meshes(f, "young.smooth", sm.fine_steps, &sm.meshes)?;
            fits("young.smooth", sm.fine_steps)?;
            if sm.components.len() != d {
                return Err(f.error(
                    "young.smooth.components",
                    format!(
                        "expected one formula per control component: the field has d = {d}, found {}",
                        sm.components.len()
                    ),
                ));
            }
            for (i, c) in sm.components.iter().enumerate() {
                c.validate()
                    .map_err(|e| f.error_at("young.smooth.components", &format!("young.smooth.components[{i}]"), e))?;
            }
            let path = LinearPath::from_formulas(s.horizon, sm.fine_steps, &sm.components)
                .map_err(|e| f.error("young.smooth", e.to_string()))?;
            total += sm.fine_steps as u64;
            units.push(Unit {
                source: Source::Smooth(path),
                paths: 1,
                fine_steps: sm.fine_steps,
                meshes: sm.meshes.clone(),
            });
        }
        if let Some(dd) = &s.data {
            check_meshes(f, "young.data", dd.fine_steps, &dd.meshes)?;
            fits("young.data", dd.fine_steps)?;
            let path = data_path(f, &dd.file, d)?;
            if (path.horizon() - s.horizon).abs() > 1e-12 * s.horizon {
                return Err(f.error(
                    "young.data.file",
                    format!(
                        "the data path ends at t = {}, but young.horizon = {}: the last time must equal the horizon",
                        path.horizon(),
                        s.horizon
                    ),
                ));
            }
            total += dd.fine_steps as u64;
            units.push(Unit {
                source: Source::Data(path),
                paths: 1,
                fine_steps: dd.fine_steps,
                meshes: dd.meshes.clone(),
            });
        }
        if units.is_empty() {
            return Err(f.error(
                "young",
                "expected at least one driver: [young.fbm], [young.smooth] or [young.data]",
            ));
        }
        if total > MAX_TOTAL_FINE_STEPS {
            return Err(f.error(
                "young",
                format!(
                    "{total} fine steps over all paths: expected at most {MAX_TOTAL_FINE_STEPS} (fewer paths or a \
                     coarser fine_steps)"
                ),
            ));
        }
        Ok(YoungPlan {
            field,
            x0: s.x0,
            horizon: s.horizon,
            schemes: s.schemes,
            units,
            seed: f.scenario.seed,
        })
    }

    /// Errors of every scheme on every mesh of path `p` of unit `u`, as JSON `{seed, errors: {scheme: [..]}}`.
    fn run_path(&self, u: &Unit, p: usize) -> Result<Value> {
        let (path, seed, reg) = match &u.source {
            Source::Fbm { hurst, sampler } => {
                let seed = path_seed(self.seed, *hurst, p);
                let path = LinearPath::fbm_with(sampler, self.field.control_dim(), seed)
                    .map_err(|e| Error::numerical(e.to_string(), 0.0, 0, None))?;
                (std::borrow::Cow::Owned(path), Some(seed), Regularity::Holder(*hurst))
            }
            Source::Smooth(path) | Source::Data(path) => (std::borrow::Cow::Borrowed(path), None, Regularity::Smooth),
        };
        let m = self.x0.len();
        let which = match u.hurst() {
            Some(h) => format!("fBm H = {h}, path {} (seed {})", p + 1, seed.unwrap_or(0)),
            None => format!("{} path", u.driver()),
        };
        // Say which path, scheme and mesh failed (the solver's message names the time and step).
        let context = |what: String| {
            move |e: Error| match e {
                Error::Numerical { what: w, t, step, .. } => Error::numerical(format!("{w} ({what})"), t, step, None),
                e => e,
            }
        };
        let fine = PathControl::on_grid(&path, u.fine_steps, reg);
        let reference = simulate(
            self.field.as_ref(),
            &fine,
            &Solver::fixed(SchemeKind::Rk4, 1),
            &self.x0,
            &SaveAt::Intervals,
        )
        .map_err(context(format!("reference solution, {which}")))?;
        let mut errors = serde_json::Map::new();
        for &scheme in &self.schemes {
            let mut errs = Vec::with_capacity(u.meshes.len());
            for &k in &u.meshes {
                let ctrl = PathControl::on_grid(&path, k, reg);
                let tr = simulate(
                    self.field.as_ref(),
                    &ctrl,
                    &Solver::fixed(scheme, 1),
                    &self.x0,
                    &SaveAt::Intervals,
                )
                .map_err(context(format!("{} on {k} steps, {which}", scheme.name())))?;
                let stride = u.fine_steps / k;
                let mut e = 0.0f64;
                for i in 0..=k {
                    let (a, b) = (tr.state(0, i), reference.state(0, i * stride));
                    for c in 0..m {
                        e = e.max((a[c] - b[c]).abs());
                    }
                }
                errs.push(e);
            }
            errors.insert(scheme.name().into(), json!(errs));
        }
        Ok(json!({ "path": p, "seed": seed, "errors": errors }))
    }

    /// A unit's path results as its unit value.
    fn unit_value(paths: Vec<Value>) -> Value {
        json!({ "paths": paths })
    }
}

/// The data path of `[young.data].file` (CSV: header, a `t` column from 0, one column per control component).
fn data_path(f: &ScenarioFile, name: &str, d: usize) -> Result<LinearPath> {
    let field = "young.data.file";
    let file = f.base_dir().join(name);
    let csv = read_csv(&file).map_err(f.file_error(field))?;
    let Some(header) = csv.header.clone() else {
        return Err(f.error(
            field,
            format!(
                "{}: expected a header row naming a time column `t` and the components",
                file.display()
            ),
        ));
    };
    let tcol = header.iter().position(|h| h == "t").ok_or_else(|| {
        f.error(
            field,
            format!("{}: no column named `t` (the time column)", file.display()),
        )
    })?;
    let comps: Vec<usize> = (0..csv.cols).filter(|&c| c != tcol).collect();
    if comps.len() != d {
        return Err(f.error(
            field,
            format!(
                "{}: {} path columns besides `t`, but the field has d = {d} control components",
                file.display(),
                comps.len()
            ),
        ));
    }
    let rows = csv.rows();
    let times: Vec<f64> = (0..rows).map(|r| csv.values[r * csv.cols + tcol]).collect();
    let values: Vec<f64> = (0..rows)
        .flat_map(|r| comps.iter().map(move |&c| (r, c)))
        .map(|(r, c)| csv.values[r * csv.cols + c])
        .collect();
    LinearPath::new(d, times, values).map_err(|e| f.error(field, format!("{}: {e}", file.display())))
}

impl Units for YoungPlan {
    fn ids(&self) -> Vec<String> {
        self.units
            .iter()
            .map(|u| match u.hurst() {
                Some(h) => format!("driver=fbm,H={h}"),
                None => format!("driver={}", u.driver()),
            })
            .collect()
    }
    fn cost(&self, i: usize) -> f64 {
        let u = &self.units[i];
        (u.paths * u.fine_steps) as f64
    }
    fn run_unit(&self, i: usize, _ctx: &Context) -> Result<Value> {
        let u = &self.units[i];
        let paths = (0..u.paths)
            .into_par_iter()
            .map(|p| self.run_path(u, p))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::unit_value(paths))
    }
    fn aggregate(&self, results: &[Value], out: &mut StudyOutput) -> Result<()> {
        report::aggregate(self, results, out)
    }
}

impl Plan for YoungPlan {
    fn run(&mut self, ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        let jobs: Vec<(usize, usize)> = self
            .units
            .iter()
            .enumerate()
            .flat_map(|(i, u)| (0..u.paths).map(move |p| (i, p)))
            .collect();
        let progress = Progress::new(jobs.len() as u64, "paths", ctx.quiet);
        let this = &*self;
        let done: Vec<Value> = jobs
            .par_iter()
            .map(|&(i, p)| {
                let r = this.run_path(&this.units[i], p);
                progress.inc(1);
                r
            })
            .collect::<Result<Vec<_>>>()?;
        progress.finish();
        let mut it = done.into_iter();
        let results: Vec<Value> = self
            .units
            .iter()
            .map(|u| Self::unit_value(it.by_ref().take(u.paths).collect()))
            .collect();
        report::aggregate(self, &results, out)
    }
    fn units(&self) -> Option<&dyn Units> {
        Some(self)
    }
}
