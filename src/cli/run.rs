//! `lieflow run` and `lieflow validate`: load → validate → run in a thread pool → write atomically.

use super::args::RunArgs;
use crate::output::manifest::Manifest;
use crate::output::run::RunDir;
use crate::scenario::ScenarioFile;
use crate::study::{registry, Context, Study, StudyOutput};
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub(super) fn load(path: &Path, seed: Option<u64>) -> Result<(ScenarioFile, &'static dyn Study)> {
    let mut file = ScenarioFile::load(path)?;
    if let Some(s) = seed {
        file.scenario.seed = s;
    }
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
    Ok((file, study))
}

/// `lieflow validate SCENARIO`.
pub fn validate(path: &Path) -> Result<()> {
    let (file, study) = load(path, None)?;
    study.validate(&Context {
        file: &file,
        quiet: true,
    })?;
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
    let (file, study) = load(&a.scenario, a.seed)?;
    let pool = pool(a.threads)?;
    let quiet = a.quiet;
    let ctx = Context { file: &file, quiet };
    // Everything is validated before an output folder exists: bad input leaves nothing behind.
    pool.install(|| study.validate(&ctx))?;
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(file.name()));
    let dir = RunDir::create(&out_dir)?;
    let mut out = StudyOutput::default();
    let result = pool.install(|| study.run(&ctx, &mut out));
    if let Err(e @ Error::Input { .. }) = result {
        return Err(e); // `dir` is dropped: its temporary folder is removed.
    }
    if result.is_err() && out.tables.is_empty() {
        return result;
    }
    let written = pool.install(|| write_outputs(&dir, &file, study, a, &out, started))?;
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

fn write_outputs(
    dir: &RunDir,
    file: &ScenarioFile,
    study: &dyn Study,
    a: &RunArgs,
    out: &StudyOutput,
    started: Instant,
) -> Result<usize> {
    let mut n = 0;
    for (name, t) in &out.tables {
        dir.write_table(name, t)?;
        n += 1;
    }
    let t_fig = Instant::now();
    for (stem, f) in &out.figures {
        dir.write_figure(stem, f)?;
        n += 2;
    }
    for (name, v) in &out.json {
        dir.write_json(name, v)?;
        n += 1;
    }
    let mut timings = out.timings.clone();
    timings.insert("figures".into(), t_fig.elapsed().as_secs_f64());
    dir.write_json("summary.json", &out.summary)?;
    let manifest = Manifest {
        lieflow_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_path: file.path.display().to_string(),
        scenario_name: file.name(),
        scenario_text: file.text.clone(),
        study: study.name().to_string(),
        seed: file.scenario.seed,
        threads: rayon::current_num_threads(),
        solver: out.solver.clone(),
        timings_s: timings,
        wall_time_s: started.elapsed().as_secs_f64(),
        started_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        command: std::env::args().collect(),
        extra: serde_json::json!({ "threads_requested": a.threads }),
    };
    dir.write_json("manifest.json", &manifest)?;
    Ok(n + 2)
}
