//! Studies: what `lieflow run` does with a scenario. A study reads a validated scenario, computes, and fills a
//! [`StudyOutput`] (tables, figures, JSON, summary) — it never writes files itself; [`crate::output`] does.
//! Adding a study is one file plus one line in [`registry::STUDIES`].

pub mod convergence;
pub mod genericity;
pub mod interpolate;
pub mod lie;
pub mod registry;
pub mod simulate;
pub mod train;

use crate::output::plot::Figure;
use crate::output::table::Table;
use crate::scenario::ScenarioFile;
use crate::Result;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What a study gets to work with.
pub struct Context<'a> {
    /// The scenario (with any `--seed` override applied).
    pub file: &'a ScenarioFile,
    /// Silence progress bars.
    pub quiet: bool,
}

/// What a study produces; the runner writes it atomically (also when the study fails part-way, so a diverging
/// training run keeps its history).
#[derive(Default)]
pub struct StudyOutput {
    /// Headline numbers → summary.json.
    pub summary: Map<String, Value>,
    /// CSV tables (file name → table).
    pub tables: Vec<(String, Table)>,
    /// Figures (file stem → figure), written as PNG and SVG.
    pub figures: Vec<(String, Figure)>,
    /// Extra JSON files (file name → value).
    pub json: Vec<(String, Value)>,
    /// Solver settings recorded in the manifest.
    pub solver: Value,
    /// Named phase timings in seconds (manifest only; never in CSV).
    pub timings: BTreeMap<String, f64>,
}

impl StudyOutput {
    /// Record a headline number or value.
    pub fn set(&mut self, key: &str, v: impl serde::Serialize) {
        self.summary.insert(
            key.to_string(),
            serde_json::to_value(v).expect("summary values serialise"),
        );
    }
}

/// One kind of study.
pub trait Study: Sync {
    /// The scenario's `study = "…"` name.
    fn name(&self) -> &'static str;
    /// One line for `lieflow list`.
    fn about(&self) -> &'static str;
    /// Check everything the study will need, without running it (`lieflow validate`).
    fn validate(&self, ctx: &Context) -> Result<()>;
    /// Run the study, filling `out` as results become available.
    fn run(&self, ctx: &Context, out: &mut StudyOutput) -> Result<()>;
    /// The hot computation `lieflow bench` times (after a warm-up, median of N repetitions), prepared once.
    /// Each call returns headline values to print beside the timing (e.g. `{"loss": …}`). `None`: nothing to time.
    fn bench_kernel<'a>(&self, ctx: &'a Context) -> Result<Option<BenchKernel<'a>>> {
        let _ = ctx;
        Ok(None)
    }
}

/// Draw a trajectory as a thin line with a dot at its end (`dot_at_end`) or at its start.
pub(crate) fn push_trajectory(fig: &mut Figure, points: Vec<(f64, f64)>, color: Option<usize>, dot_at_end: bool) {
    use crate::output::plot::{Mark, Series};
    let dot = if dot_at_end { points.last() } else { points.first() };
    let dot = vec![*dot.expect("a trajectory has at least one state")];
    fig.series.push(Series {
        label: None,
        points,
        mark: Mark::Line,
        color,
    });
    fig.series.push(Series {
        label: None,
        points: dot,
        mark: Mark::Points,
        color,
    });
}

/// A prepared computation for `lieflow bench`.
pub type BenchKernel<'a> = Box<dyn FnMut() -> Result<Value> + 'a>;
