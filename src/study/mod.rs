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

pub use crate::output::StudyOutput;

use crate::output::plot::Figure;
use crate::scenario::ScenarioFile;
use crate::Result;
use serde_json::Value;

/// What a study gets to work with.
pub struct Context<'a> {
    /// The scenario (with any `--seed` override applied).
    pub file: &'a ScenarioFile,
    /// Silence progress bars.
    pub quiet: bool,
}

/// One kind of study. Adding a study is its file plus one line in [`registry::STUDIES`].
pub trait Study: Sync {
    /// The scenario's `study = "…"` name.
    fn name(&self) -> &'static str;
    /// One line for `lieflow list`.
    fn about(&self) -> &'static str;
    /// The top-level settings tables the study reads (e.g. `["train"]`); any other non-common table in the
    /// scenario is rejected as unknown.
    fn tables(&self) -> &'static [&'static str];
    /// Parse the study's settings and build everything it needs — every check of the input happens here, so
    /// `lieflow validate` is `prepare` and `lieflow run` runs what `prepare` returned (built once).
    fn prepare<'a>(&self, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>>;
}

/// A validated, ready-to-run study.
pub trait Plan: Send {
    /// Run the study, filling `out` as results become available.
    fn run(&mut self, ctx: &Context, out: &mut StudyOutput) -> Result<()>;
    /// The hot computation `lieflow bench` times (after a warm-up, median of N repetitions). Each call returns
    /// headline values to print beside the timing (e.g. `{"loss": …}`). `None`: nothing to time.
    fn bench_kernel(&mut self) -> Result<Option<BenchKernel<'_>>> {
        Ok(None)
    }
}

/// The study a scenario declares, with its plan: looks the study up, rejects tables it does not read and
/// prepares it.
pub fn prepare(file: &ScenarioFile) -> Result<(&'static dyn Study, Box<dyn Plan + '_>)> {
    let study = registry::lookup(&file.scenario.study).ok_or_else(|| {
        file.error(
            "study",
            format!(
                "unknown study `{}`; expected one of {:?}",
                file.scenario.study,
                registry::names()
            ),
        )
    })?;
    file.check_tables(study.tables())?;
    file.check_name()?;
    Ok((study, study.prepare(file)?))
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
