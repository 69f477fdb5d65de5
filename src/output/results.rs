//! What a study returns — tables, figures, JSON files, a summary, solver settings and timings — and the one
//! function that writes all of it, with the manifest, into a run folder.

use super::manifest::Manifest;
use super::plot::Figure;
use super::run::RunDir;
use super::table::Table;
use crate::Result;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

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
    /// Record a headline number or value (see [`json_value`] for values JSON cannot hold).
    pub fn set(&mut self, key: &str, v: impl serde::Serialize) {
        self.summary.insert(key.to_string(), json_value(&v));
    }
}

/// `v` as JSON, never failing: non-finite floats become `null` (serde_json's rule), and a value JSON cannot hold
/// (an integer beyond 64 bits, a map with non-string keys) becomes a string saying so instead of a panic — the
/// types lieflow writes avoid both (counts beyond 2^64 are written as decimal strings), so this is a last resort.
pub fn json_value<T: serde::Serialize + ?Sized>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| Value::String(format!("(not representable in JSON: {e})")))
}

/// Who produced a run, for its manifest.
pub struct RunInfo<'a> {
    /// The scenario file as given.
    pub scenario_path: String,
    /// The scenario's name (output folder name).
    pub scenario_name: String,
    /// The full scenario text.
    pub scenario_text: &'a str,
    /// The study's name.
    pub study: &'a str,
    /// The seed used.
    pub seed: u64,
    /// Worker threads used.
    pub threads: usize,
    /// Extra run facts (e.g. the requested thread count).
    pub extra: Value,
    /// When the run started.
    pub started: std::time::Instant,
}

/// Write every table, figure and JSON file of `out`, then `summary.json` and `manifest.json`, into `dir`.
/// Returns the number of files written.
pub fn write_results(dir: &RunDir, out: &StudyOutput, info: RunInfo) -> Result<usize> {
    let mut n = 0;
    for (name, t) in &out.tables {
        dir.write_table(name, t)?;
        n += 1;
    }
    let t_fig = std::time::Instant::now();
    for (stem, f) in &out.figures {
        dir.write_figure(stem, f)?;
        n += 2;
    }
    for (name, v) in &out.json {
        dir.write_json(name, v)?;
        n += 1;
    }
    dir.write_json("summary.json", &out.summary)?;
    let mut m = Manifest::new(info.scenario_path, info.scenario_name, info.scenario_text, info.study);
    m.seed = info.seed;
    m.threads = info.threads;
    m.solver = out.solver.clone();
    m.timings_s = out.timings.clone();
    m.add_timing("figures", t_fig.elapsed().as_secs_f64());
    m.wall_time_s = info.started.elapsed().as_secs_f64();
    m.extra = info.extra;
    dir.write_json("manifest.json", &m)?;
    Ok(n + 2)
}
