//! Studies: what `lieflow run` does with a scenario. A study reads a validated scenario, computes, and fills a
//! [`StudyOutput`] (tables, figures, JSON, summary) — it never writes files itself; [`crate::output`] does.
//! Adding a study is one file plus one line in [`registry::STUDIES`].

pub mod convergence;
pub mod depth_limit;
pub mod genericity;
pub mod geshkovski_figure;
pub mod horizon_sweep;
pub mod interpolate;
pub mod l1_bangoff;
pub mod lie;
pub mod registry;
pub mod simulate;
pub mod time_scaling;
pub mod train;
pub mod train_output;
pub mod turnpike;
pub mod young;

pub use crate::output::StudyOutput;

use crate::output::plot::{Color, Figure, KeyEntry, KeyKind, Marker};
use crate::output::table::Table;
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
    /// The study's independent units of work, if it is made of them ([`Units`]); its `run` is then
    /// [`run_units`]. `None`: the study is one unit.
    fn units(&self) -> Option<&dyn Units> {
        None
    }
}

/// A study whose work splits into independent units — one per parameter set (a depth and a seed, a Hurst exponent
/// and a sample path, a horizon, a random draw) — so that sweeps can list, shard, resume and merge them
/// ([`Plan::units`]). A unit's result is a JSON value (numbers are written in shortest round-trip form, so results
/// read back are bit-identical), and aggregating the results of all units in id order gives the study's outputs:
/// running the units on one machine or on many, in any order, gives the same files.
pub trait Units: Sync {
    /// Stable, unique ids of the units in their canonical order, derived from their parameters (e.g.
    /// `"gamma=1,L=128,seed=2"`), never from a counter that depends on what else runs.
    fn ids(&self) -> Vec<String>;
    /// Relative cost of unit `i` (for `lieflow plan` and load balancing), e.g. L · ln L · N.
    fn cost(&self, i: usize) -> f64 {
        let _ = i;
        1.0
    }
    /// Run unit `i` (its own parallelism inside; thread-count independent).
    fn run_unit(&self, i: usize, ctx: &Context) -> Result<Value>;
    /// Combine the results of every unit, in the order of [`Units::ids`], into the study's outputs.
    fn aggregate(&self, results: &[Value], out: &mut StudyOutput) -> Result<()>;
}

/// Run every unit of `units` (one at a time, each parallel inside, with a progress bar over units) and aggregate.
pub fn run_units(units: &dyn Units, ctx: &Context, out: &mut StudyOutput) -> Result<()> {
    let ids = units.ids();
    let progress = crate::output::progress::Progress::new(ids.len() as u64, "units", ctx.quiet);
    let mut results = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        progress.set_message(id.clone());
        results.push(units.run_unit(i, ctx)?);
        progress.inc(1);
    }
    progress.finish();
    units.aggregate(&results, out)
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

/// Draw a trajectory as a line in `color`, with an open circle at its start x(0) and a filled circle at its end
/// X(T), both in the line's colour (see [`trajectory_key`] for the legend entries).
pub(crate) fn push_trajectory(fig: &mut Figure, points: Vec<(f64, f64)>, color: Color) {
    use crate::output::plot::{Mark, Marker, Series};
    let (first, last) = (
        *points.first().expect("a trajectory has at least one state"),
        *points.last().expect("a trajectory has at least one state"),
    );
    fig.series.push(Series::unlabelled(points, Mark::Line).color(color));
    fig.series.push(
        Series::unlabelled(vec![first], Mark::Points)
            .color(color)
            .marker(Marker::Circle, true),
    );
    fig.series.push(
        Series::unlabelled(vec![last], Mark::Points)
            .color(color)
            .marker(Marker::Circle, false),
    );
}

/// Legend entries for the start and end markers of [`push_trajectory`] and, with `targets`, the target cross.
pub(crate) fn trajectory_key(targets: bool) -> Vec<KeyEntry> {
    let g = Color::Gray(60);
    let mut k = vec![
        KeyEntry {
            label: "start x(0)".into(),
            color: g,
            kind: KeyKind::Marker(Marker::Circle, true),
        },
        KeyEntry {
            label: "end X(T)".into(),
            color: g,
            kind: KeyKind::Marker(Marker::Circle, false),
        },
    ];
    if targets {
        k.push(KeyEntry {
            label: "target".into(),
            color: g,
            kind: KeyKind::Marker(Marker::Cross, false),
        });
    }
    k
}

/// `controls.csv`: one row per interval k with its index, its left end t_k = k·h and the d control values under
/// the field's own names (`VectorField::control_names`). Reloadable with `--controls` (the index and time columns
/// are recognised by their header and skipped).
pub(crate) fn controls_table(names: &[String], values: &[f64], h: f64) -> Table {
    let d = names.len().max(1);
    let mut t = Table::new(
        ["interval".to_string(), "t_k".to_string()]
            .into_iter()
            .chain(names.iter().cloned()),
    );
    for (k, row) in values.chunks(d).enumerate() {
        let mut r = vec![k as f64, k as f64 * h];
        r.extend_from_slice(row);
        t.push(r);
    }
    t
}

/// Controls u(t) as step plots (piecewise constant on the K intervals), one series per component, when there are
/// at least two intervals and at most 12 components (an MLP's thousands of constant weights are not a figure).
pub(crate) fn controls_figure(title: String, names: &[String], values: &[f64], h: f64) -> Option<Figure> {
    use crate::output::plot::{Mark, Series};
    let d = names.len();
    let k = values.len().checked_div(d).unwrap_or(0);
    if k < 2 || d == 0 || d > 12 {
        return None;
    }
    let mut fig = Figure::new(title, "time t", "control u(t)");
    for (j, name) in names.iter().enumerate() {
        let mut pts: Vec<(f64, f64)> = (0..k).map(|i| (i as f64 * h, values[i * d + j])).collect();
        pts.push((k as f64 * h, values[(k - 1) * d + j]));
        fig.series.push(Series::line(name.clone(), pts).mark(Mark::Step));
    }
    Some(fig)
}

/// A prepared computation for `lieflow bench`.
pub type BenchKernel<'a> = Box<dyn FnMut() -> Result<Value> + 'a>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::plot::{Mark, Marker};

    /// Defect: the start dot of a trajectory was coloured unlike its line (`push_trajectory` without a colour took
    /// the next palette colour), and start and end looked the same.
    #[test]
    fn start_and_end_markers_have_their_lines_colour_and_differ() {
        let mut fig = Figure::default();
        push_trajectory(&mut fig, vec![(0.0, 0.0), (1.0, 0.5), (2.0, 1.0)], Color::Palette(4));
        assert_eq!(fig.series.len(), 3);
        let (line, start, end) = (&fig.series[0], &fig.series[1], &fig.series[2]);
        assert_eq!(line.mark, Mark::Line);
        for s in [start, end] {
            assert_eq!(s.color, line.color, "marker colour differs from its line");
            assert_eq!(s.mark, Mark::Points);
        }
        assert_eq!(start.points, vec![(0.0, 0.0)]);
        assert_eq!(end.points, vec![(2.0, 1.0)]);
        assert!(start.open && !end.open && start.marker == Marker::Circle);
    }

    #[test]
    fn controls_table_has_interval_time_and_names_and_the_figure_is_a_step_plot() {
        let names = vec!["u1".to_string(), "u2".to_string()];
        let t = controls_table(&names, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.5);
        assert_eq!(t.columns, ["interval", "t_k", "u1", "u2"]);
        assert_eq!(t.rows[2], vec![2.0, 1.0, 5.0, 6.0]);
        let f = controls_figure("c".into(), &names, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.5).unwrap();
        assert_eq!(f.series[0].mark, Mark::Step);
        assert_eq!(
            f.series[0].points.last(),
            Some(&(1.5, 5.0)),
            "the last interval ends at T"
        );
        assert!(
            controls_figure("c".into(), &names, &[1.0, 2.0], 0.5).is_none(),
            "one interval: no figure"
        );
    }
}
