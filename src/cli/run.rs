//! `lieflow run` and `lieflow validate`: load → validate → run in a thread pool → write atomically.

use super::args::RunArgs;
use crate::output::results::{write_results, RunInfo};
use crate::output::run::RunDir;
use crate::scenario::ScenarioFile;
use crate::study::{self, Context, StudyOutput};
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(super) fn load(path: &Path, seed: Option<u64>) -> Result<ScenarioFile> {
    let mut file = ScenarioFile::load(path)?;
    if let Some(s) = seed {
        file.scenario.seed = s;
    }
    Ok(file)
}

/// `lieflow validate SCENARIO`.
pub fn validate(path: &Path) -> Result<()> {
    let file = load(path, None)?;
    let (study, _) = study::prepare(&file)?;
    file.figure_options(None)?;
    println!("{}: ok ({} study `{}`)", path.display(), study.name(), file.name());
    Ok(())
}

/// A rayon pool with `threads` workers (default: all cores).
pub fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        if t == 0 {
            return Err(Error::input("--threads", "--threads", "expected an integer ≥ 1"));
        }
        b = b.num_threads(t);
    }
    b.build()
        .map_err(|e| Error::input("--threads", "--threads", e.to_string()))
}

/// `lieflow run SCENARIO`.
pub fn run(a: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let file = load(&a.scenario, a.seed)?;
    let pool = pool(a.threads)?;
    let quiet = a.quiet;
    let figures = file.figure_options(a.figures.as_deref().and_then(crate::output::plot::Preset::from_name))?;
    let ctx = Context { file: &file, quiet };
    // Everything is validated (and built) before an output folder exists: bad input leaves nothing behind.
    let (study, mut plan) = pool.install(|| study::prepare(&file))?;
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(file.name()));
    let dir = RunDir::create(&out_dir)?;
    let mut out = StudyOutput::default();
    let result = pool.install(|| plan.run(&ctx, &mut out));
    if let Err(e @ Error::Input { .. }) = result {
        return Err(e); // `dir` is dropped: its temporary folder is removed.
    }
    if result.is_err() && out.tables.is_empty() {
        return result;
    }
    let info = RunInfo {
        scenario_path: file.path.display().to_string(),
        scenario_name: file.name(),
        scenario_text: &file.text,
        study: study.name(),
        seed: file.scenario.seed,
        threads: pool.current_num_threads(),
        extra: serde_json::json!({ "threads_requested": a.threads }),
        started,
        figures,
    };
    let written = pool.install(|| write_results(&dir, &out, info))?;
    if let Err(e) = &result {
        dir.write_json("error.json", &serde_json::json!({ "error": e.to_string() }))?;
    }
    let final_path = dir.commit()?;
    match result {
        Ok(()) => {
            if !quiet {
                eprintln!("wrote {} files to {}", written, final_path.display());
            }
            Ok(())
        }
        Err(e) => {
            eprintln!("partial results kept in {}", final_path.display());
            Err(e)
        }
    }
}
