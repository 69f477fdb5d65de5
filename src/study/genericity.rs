//! `genericity`: how often random fields satisfy the N-point rank condition (SPEC §5 item 10,
//! [`crate::lie::genericity()`]). Each draw — d random polynomial fields of degree ≤ k (integer coefficients in
//! [−range, range], or standard Gaussian — a density, as SPEC §5 item 10 asks — when `range` is omitted; every f64
//! coefficient is an exact dyadic rational, so the exact rank is that of the drawn fields, without rounding), or the seven random features σ_i(C_i x + b_i) with
//! polynomial σ_i (linear for i ≤ 3, quadratic after), plus N points uniform in [−1, 1]^m — is seeded from
//! (seed, draw index) alone, so the result does not depend on the thread count. Full rank is decided by the exact
//! rank over Z_p at the drawn points. Outputs: summary.json (`probability_full_rank`, `ci95` (Wilson),
//! `draws`, `successes`, `depth_histogram`, `mean_depth`, `failed_draws`), `depth_histogram.csv` and a bar figure
//! `depth-histogram`.

use super::{BenchKernel, Context, Plan, Study, StudyOutput, Units};
use crate::lie::genericity::{draws, report};
use crate::lie::{genericity, GenericityConfig, RandomFamily};
use crate::output::plot::{Color, Figure, KeyEntry, KeyKind, Mark, Region, Series};
use crate::output::table::Table;
use crate::output::{Comparison, Tolerance};
use crate::scenario::budget::{binomial, Budget, Estimate};
use crate::scenario::sizes::threads;
use crate::scenario::ScenarioFile;
use crate::study::lie::cost::{FieldKind, RankCost};
use crate::Result;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Instant;

/// Which random fields a genericity study draws.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GenericFamily {
    /// d random polynomial fields of degree ≤ `degree`.
    Polynomial,
    /// The seven random features of SPEC §5 item 10.
    RandomFeatures,
}

/// `[genericity]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericitySpec {
    /// `polynomial` or `random_features`.
    pub family: GenericFamily,
    /// State dimension m.
    pub dim: usize,
    /// Points N per draw.
    pub points: usize,
    /// Number of draws.
    pub draws: usize,
    /// Deepest bracket depth examined per draw.
    #[serde(default = "six")]
    pub max_depth: usize,
    /// Number of polynomial fields d (default 5).
    pub fields: Option<usize>,
    /// Polynomial degree bound k (default 2).
    pub degree: Option<u32>,
    /// Integer coefficients uniform in [−range, range]; omitted: standard Gaussian coefficients.
    pub range: Option<i64>,
    /// Defaults to the scenario seed.
    pub seed: Option<u64>,
}

fn six() -> usize {
    6
}

/// Validates `[genericity]` into the library configuration.
pub fn config(f: &ScenarioFile) -> Result<GenericityConfig> {
    let s: GenericitySpec = f.required_table("genericity")?;
    if s.dim == 0 {
        return Err(f.error("genericity.dim", "expected dim ≥ 1"));
    }
    if s.points == 0 {
        return Err(f.error("genericity.points", "expected points ≥ 1"));
    }
    if s.draws == 0 {
        return Err(f.error("genericity.draws", "expected draws ≥ 1"));
    }
    if s.max_depth == 0 || s.max_depth > 40 {
        return Err(f.error("genericity.max_depth", "expected a depth between 1 and 40"));
    }
    let family = match s.family {
        GenericFamily::Polynomial => {
            let d = s.fields.unwrap_or(5);
            if d == 0 {
                return Err(f.error("genericity.fields", "expected fields ≥ 1"));
            }
            let degree = s.degree.unwrap_or(2);
            if degree > 12 {
                return Err(f.error("genericity.degree", "expected a degree ≤ 12"));
            }
            if let Some(r) = s.range {
                if !(1..=1_000_000).contains(&r) {
                    return Err(f.error("genericity.range", "expected 1 ≤ range ≤ 10^6"));
                }
            }
            RandomFamily::Polynomial {
                d,
                degree,
                range: s.range,
            }
        }
        GenericFamily::RandomFeatures => {
            if s.fields.is_some_and(|d| d != 7) {
                return Err(f.error("genericity.fields", "the random-feature family has d = 7 fields"));
            }
            if s.degree.is_some() || s.range.is_some() {
                let k = if s.degree.is_some() { "degree" } else { "range" };
                return Err(f.error(
                    &format!("genericity.{k}"),
                    "only for family = \"polynomial\" (random features: σ linear for i ≤ 3, quadratic after)",
                ));
            }
            RandomFamily::Features7
        }
    };
    let (d, degree) = match &family {
        RandomFamily::Polynomial { d, degree, .. } => (*d as f64, *degree as f64),
        RandomFamily::Features7 => (7.0, 2.0),
    };
    let (m, n) = (s.dim as f64, s.points as f64);
    let mut est = Estimate::new();
    est.add(
        "random polynomial fields of one draw, per thread",
        &[
            ("genericity.fields", d),
            ("genericity.dim", m),
            ("genericity.degree", binomial(m + degree, degree)),
            ("", threads()),
        ],
        4.0 * m + 96.0,
    );
    est.add("draw results", &[("genericity.draws", s.draws as f64)], 16.0);
    est.add(
        "random points of one draw, per thread",
        &[("genericity.points", n), ("genericity.dim", m)],
        8.0 * threads(),
    );
    RankCost {
        m: ("genericity.dim", m),
        n: ("genericity.points", n),
        d: ("genericity.fields", d),
        depth: ("genericity.max_depth", s.max_depth),
        kind: FieldKind::Poly {
            degree,
            field: "genericity.degree",
        },
        parallel: threads(),
    }
    .add_to(&mut est);
    est.table(
        "depth_histogram.csv",
        &[("genericity.max_depth", s.max_depth as f64)],
        ("", 3.0),
    );
    est.check(f, &Budget::current()?)?;
    Ok(GenericityConfig {
        m: s.dim,
        n_points: s.points,
        draws: s.draws,
        max_depth: s.max_depth,
        seed: s.seed.unwrap_or(f.scenario.seed),
        family,
    })
}

/// Genericity study.
pub struct Genericity;

impl Study for Genericity {
    fn name(&self) -> &'static str {
        "genericity"
    }
    fn about(&self) -> &'static str {
        "probability that random fields satisfy the N-point rank condition (Wilson 95 % CI, depth histogram)"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["genericity"]
    }
    fn prepare<'a>(&self, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        Ok(Box::new(config(file)?))
    }
}

impl Plan for GenericityConfig {
    fn bench_kernel(&mut self) -> Result<Option<BenchKernel<'_>>> {
        let cfg = &*self;
        Ok(Some(Box::new(move || {
            let r = genericity(cfg)?;
            Ok(json!({ "probability_full_rank": r.probability, "draws": r.draws }))
        })))
    }
    fn run(&mut self, ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        let t0 = Instant::now();
        super::run_units(&*self, ctx, out)?;
        out.timings.insert("draws".into(), t0.elapsed().as_secs_f64());
        Ok(())
    }
    fn units(&self) -> Option<&dyn Units> {
        Some(self)
    }
}

/// Draws per unit of work (sweeps shard a genericity study by blocks of draws).
pub const DRAWS_PER_UNIT: usize = 50;

/// The units of a genericity study: blocks of [`DRAWS_PER_UNIT`] draws, each draw seeded from (seed, index), so
/// the blocks' depths put together are those of one run over all draws.
impl Units for GenericityConfig {
    fn ids(&self) -> Vec<String> {
        (0..self.draws.div_ceil(DRAWS_PER_UNIT))
            .map(|b| {
                let (a, e) = (b * DRAWS_PER_UNIT, ((b + 1) * DRAWS_PER_UNIT).min(self.draws));
                format!("draws {a}-{}", e - 1)
            })
            .collect()
    }
    fn cost(&self, i: usize) -> f64 {
        let len = (self.draws - i * DRAWS_PER_UNIT).min(DRAWS_PER_UNIT);
        (len * self.n_points * self.m) as f64
    }
    fn run_unit(&self, i: usize, _ctx: &Context) -> Result<Value> {
        let range = i * DRAWS_PER_UNIT..((i + 1) * DRAWS_PER_UNIT).min(self.draws);
        Ok(json!(draws(self, range)?))
    }
    fn aggregate(&self, results: &[Value], out: &mut StudyOutput) -> Result<()> {
        let mut depths: Vec<Option<usize>> = Vec::with_capacity(self.draws);
        for v in results {
            let block: Vec<Option<usize>> = serde_json::from_value(v.clone()).map_err(|e| {
                crate::Error::io(
                    "result.json",
                    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not a genericity block: {e}")),
                )
            })?;
            depths.extend(block);
        }
        if depths.len() != self.draws {
            return Err(crate::Error::io(
                "result.json",
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the units hold {} draws, the study has {}", depths.len(), self.draws),
                ),
            ));
        }
        write_report(self, &report(&depths), out);
        Ok(())
    }
}

/// summary.json, the comparison, depth_histogram.csv and the depth figure of report `r`.
fn write_report(cfg: &GenericityConfig, r: &crate::lie::GenericityReport, out: &mut StudyOutput) {
    out.solver = crate::output::results::json_value(cfg);
    out.set("probability_full_rank", r.probability);
    out.set("ci95", [r.wilson_low, r.wilson_high]);
    out.set("ci_method", "Wilson score interval, 95 %");
    out.set("draws", r.draws);
    out.set("successes", r.successes);
    out.set("depth_histogram", &r.depth_histogram);
    let reached: usize = r.depth_histogram.values().sum();
    let depth_sum: usize = r.depth_histogram.iter().map(|(k, c)| k * c).sum();
    // Mean bracket depth at which the draws that reach full rank reach it (a sweep's figure against N).
    out.set(
        "mean_depth",
        if reached > 0 {
            depth_sum as f64 / reached as f64
        } else {
            f64::NAN
        },
    );
    out.set("failed_draws", &r.failed_draws);
    out.set("family", &cfg.family);
    out.set("m", cfg.m);
    out.set("n_points", cfg.n_points);
    out.set("target_rank", cfg.m * cfg.n_points);
    out.set("max_depth", cfg.max_depth);
    out.set(
        "rank_rule",
        "full rank = exact rank mN over Z_p (p = 2^61 − 1) of the bracket evaluation matrix at the drawn points",
    );

    let family = match &cfg.family {
        RandomFamily::Polynomial { range: Some(r), .. } => format!("integer coefficients uniform in [−{r}, {r}]"),
        RandomFamily::Polynomial { range: None, .. } => "standard Gaussian coefficients (a density)".into(),
        RandomFamily::Features7 => "seven random polynomial-σ features".into(),
    };
    out.set("coefficients", &family);
    out.comparisons.push(
        Comparison::new(
            "probability that a draw satisfies the N-point rank condition",
            1.0,
            r.probability,
            Tolerance::Exact,
            "SPEC §5 item 10: random fields with coefficients from a density satisfy it with probability one",
        )
        .note(format!(
            "{} of {} draws ({family}); Wilson 95 % CI [{:.4}, {:.4}]",
            r.successes, r.draws, r.wilson_low, r.wilson_high
        )),
    );
    let mut tab = Table::new(["depth", "draws", "fraction"]);
    let mut fig = Figure {
        title: format!(
            "Depth needed for full rank mN = {} ({} draws, P = {:.3}, 95 % CI [{:.3}, {:.3}])",
            cfg.m * cfg.n_points,
            r.draws,
            r.probability,
            r.wilson_low,
            r.wilson_high
        ),
        x_label: "bracket depth k reaching full rank".into(),
        y_label: "draws".into(),
        x_integer: true,
        y_integer: true,
        x_range: Some((0.4, cfg.max_depth as f64 + 0.6)),
        ..Figure::default()
    };
    if !r.failed_draws.is_empty() {
        fig.annotations.push(format!(
            "{} draws not full rank by depth {}",
            r.failed_draws.len(),
            cfg.max_depth
        ));
    }
    for k in 1..=cfg.max_depth {
        let c = r.depth_histogram.get(&k).copied().unwrap_or(0);
        tab.push(vec![k as f64, c as f64, c as f64 / r.draws as f64]);
        let (x0, x1) = (k as f64 - 0.4, k as f64 + 0.4);
        if c > 0 {
            fig.regions.push(Region {
                x0,
                x1,
                y0: 0.0,
                y1: c as f64,
                class: 0,
            });
        }
        fig.series.push(
            Series::unlabelled(vec![(x0, 0.0), (x0, c as f64), (x1, c as f64), (x1, 0.0)], Mark::Line).color(0usize),
        );
    }
    fig.key.push(KeyEntry {
        label: "draws reaching full rank at depth k".into(),
        color: Color::Palette(0),
        kind: KeyKind::Patch,
    });
    out.tables.push(("depth_histogram.csv".into(), tab));
    out.figures.push(("depth-histogram".into(), fig));
}
