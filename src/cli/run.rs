//! `lieflow run` and `lieflow validate`: load → validate → decide where to write → run in a thread pool → write
//! atomically. Where a run may write, and where a failed run goes, is [`crate::output::target`]'s decision.

use super::args::RunArgs;
use crate::output::guard;
use crate::output::results::{write_results, RunInfo};
use crate::output::run::RunDir;
use crate::output::target::{self, Existing, Status};
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
    if crate::sweep::SweepSpec::parse(&file)?.is_some() {
        return super::sweep::validate(&file);
    }
    let (study, _) = study::prepare(&file)?;
    file.figure_options(None)?;
    outln!("{}: ok ({} study `{}`)", path.display(), study.name(), file.name());
    Ok(())
}

/// A rayon pool with `threads` workers (default: all cores). The count is bounded when parsed
/// ([`super::args::max_threads`]).
pub fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        if t == 0 || t > super::args::max_threads() {
            return Err(Error::arg(
                "--threads",
                format!("expected 1 to {} worker threads, found {t}", super::args::max_threads()),
            ));
        }
        b = b.num_threads(t);
    }
    b.build()
        .map_err(|e| Error::arg("--threads", format!("cannot start the worker threads: {e}")))
}

/// `lieflow run SCENARIO`.
pub fn run(a: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let file = load(&a.scenario, a.seed)?;
    if a.shard.is_some() || crate::sweep::SweepSpec::parse(&file)?.is_some() {
        return super::sweep::run(a, &file);
    }
    let pool = pool(a.threads)?;
    let quiet = a.quiet;
    let figures = file.figure_options(a.figures.as_deref().and_then(crate::output::plot::Preset::from_name))?;
    let ctx = Context { file: &file, quiet };
    // Everything is validated (and built) before an output folder exists: bad input leaves nothing behind.
    let (study, mut plan) = pool.install(|| study::prepare(&file))?;
    let given = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(file.name()));
    let out = target::plan(&given, &file.path, a.force)?;
    guard::install().map_err(|e| Error::io(&given, e))?;
    let dir = RunDir::create_named(&out.path, &given, &file.name())?;
    for n in dir.stale_notes() {
        eprintln!("note: {n}");
    }
    let mut output = StudyOutput::default();
    let result = pool.install(|| plan.run(&ctx, &mut output));
    if let Err(e @ Error::Input { .. }) = result {
        return Err(e); // `dir` is dropped: its temporary folder is removed.
    }
    if result.is_err() && output.tables.is_empty() {
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
    let written = pool.install(|| write_results(&dir, &output, info))?;
    match result {
        Ok(()) => {
            let final_path = dir.commit()?;
            // An earlier failure of this output is stale now that a result stands: remove it if it is lieflow's.
            if matches!(target::inspect(&out.failed), Existing::Run(Status::Failed))
                && std::fs::remove_dir_all(&out.failed).is_ok()
                && !quiet
            {
                eprintln!("removed {} (an earlier failed run)", out.failed.display());
            }
            if !quiet {
                eprintln!(
                    "wrote {} files to {}",
                    written,
                    shown(&given, &out.path, &final_path).display()
                );
            }
            Ok(())
        }
        Err(e) => {
            dir.write_json("error.json", &e.to_json())?;
            let went = dir.commit_to(out.failure_target(), Status::Failed)?;
            let beside = if out.existing.holds_result() {
                format!(" (beside the previous result, left as it was in {})", given.display())
            } else {
                String::new()
            };
            eprintln!(
                "partial results kept in {}{beside}",
                shown(&given, &out.path, &went).display()
            );
            Err(e)
        }
    }
}

/// `went` as the user would write it: relative to their `--out` when it is the planned path or beside it.
fn shown(given: &Path, planned: &Path, went: &Path) -> PathBuf {
    if went == planned {
        return given.to_path_buf();
    }
    match (went.file_name(), given.parent()) {
        (Some(n), Some(p)) if went.parent() == planned.parent() => p.join(n),
        _ => went.to_path_buf(),
    }
}
