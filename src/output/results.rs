//! What a study returns — tables, figures, JSON and text files, a summary with its comparisons, solver settings
//! and timings — and the one function that writes all of it, with the manifest, into a run folder.

use super::comparison::Comparison;
use super::manifest::{input_files, sha256_hex, Manifest};
use super::plot::{render_figure, Figure, FigureOptions};
use super::run::RunDir;
use super::table::{LongTable, Table};
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
    /// Tidy tables with text columns (file name → table), written as CSV.
    pub long_tables: Vec<(String, LongTable)>,
    /// Figures (file stem → figure), written in the run's formats (PDF, SVG, PNG) at its preset.
    pub figures: Vec<(String, Figure)>,
    /// Multi-panel figures (small multiples; file stem → panels), written like `figures`.
    pub panels: Vec<(String, super::plot::Panels)>,
    /// Extra JSON files (file name → value).
    pub json: Vec<(String, Value)>,
    /// Text files (file name → content), e.g. Markdown and LaTeX tables.
    pub texts: Vec<(String, String)>,
    /// Published or theoretical numbers the run reproduces → the `comparisons` list of summary.json.
    pub comparisons: Vec<Comparison>,
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
    /// Figure preset and formats (`[output]` table, `--figures`).
    pub figures: FigureOptions,
}

fn json_bytes<T: serde::Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).expect("JSON values serialise");
    b.push(b'\n');
    b
}

/// Write every table, figure, JSON and text file of `out`, then `summary.json` (with `comparisons`) and
/// `manifest.json` (with the SHA-256 of every file written before it and of the inputs), into `dir`.
/// Returns the number of files written.
pub fn write_results(dir: &RunDir, out: &StudyOutput, info: RunInfo) -> Result<usize> {
    let mut hashes = BTreeMap::new();
    let mut put = |name: String, bytes: &[u8]| -> Result<()> {
        dir.write_bytes(&name, bytes)?;
        hashes.insert(name, sha256_hex(bytes));
        Ok(())
    };
    for (name, t) in &out.tables {
        put(name.clone(), &t.to_csv_bytes())?;
    }
    for (name, t) in &out.long_tables {
        put(name.clone(), &t.to_csv_bytes())?;
    }
    let t_fig = std::time::Instant::now();
    for (stem, f) in &out.figures {
        let r = render_figure(f, info.figures.preset, &info.figures.formats)?;
        for (fmt, bytes) in r.files {
            put(format!("{stem}.{}", fmt.ext()), &bytes)?;
        }
    }
    for (stem, p) in &out.panels {
        let r = super::plot::render_panels(p, info.figures.preset, &info.figures.formats)?;
        for (fmt, bytes) in r.files {
            put(format!("{stem}.{}", fmt.ext()), &bytes)?;
        }
    }
    let fig_s = t_fig.elapsed().as_secs_f64();
    for (name, v) in &out.json {
        put(name.clone(), &json_bytes(v))?;
    }
    for (name, text) in &out.texts {
        put(name.clone(), text.as_bytes())?;
    }
    let mut summary = out.summary.clone();
    if !out.comparisons.is_empty() {
        summary.insert(
            "comparisons".into(),
            serde_json::to_value(&out.comparisons).expect("comparisons serialise"),
        );
    }
    put("summary.json".into(), &json_bytes(&summary))?;
    let mut m = Manifest::new(
        info.scenario_path.clone(),
        info.scenario_name,
        info.scenario_text,
        info.study,
    );
    m.seed = info.seed;
    m.threads = info.threads;
    m.solver = out.solver.clone();
    m.timings_s = out.timings.clone();
    m.add_timing("figures", fig_s);
    m.extra = info.extra;
    m.figures = info.figures.clone();
    m.inputs = input_files(std::path::Path::new(&info.scenario_path), info.scenario_text);
    let n = hashes.len();
    m.outputs = hashes;
    m.wall_time_s = info.started.elapsed().as_secs_f64();
    dir.write_bytes("manifest.json", &json_bytes(&m))?;
    Ok(n + 1)
}
